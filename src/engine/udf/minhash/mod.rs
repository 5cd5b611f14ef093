//! MinHash for near-duplicate detection: shingles, signatures, and the `minhash_bands`
//! function that computes a document's band keys inside a plan, so that executors of a
//! cluster sign the documents they hold. Its settings are literal arguments, so the plan
//! carries them to every executor.

mod shingles;
mod signature;

pub use shingles::{ShingleSpec, ShingleUnit, Shingler};
pub use signature::{MAX_PERMUTATIONS, MAX_ROWS_PER_BAND, Permutations, band_hash, jaccard};

use std::ops::Range;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StructBuilder, UInt16Builder, UInt64Builder};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::lit;

use super::kernels::{for_each_text, shape_like_input, single_argument};

/// The function's SQL name.
pub const NAME: &str = "minhash_bands";
/// The fields of each band key: the band's index and its bucket key.
pub const BAND: &str = "band";
pub const KEY: &str = "key";

/// What the band keys of a document are computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct BandSpec {
    pub shingles: ShingleSpec,
    pub rows_per_band: usize,
    /// The bands computed, of a signature of `bands.end × rows_per_band` hash functions drawn
    /// from `shingles.seed`.
    pub bands: Range<usize>,
}

impl BandSpec {
    /// `minhash_bands(text, unit, word_ngram, char_ngram, seed, rows_per_band, first_band,
    /// bands)` over `text`.
    pub fn call(&self, text: Expr) -> Expr {
        let spec = &self.shingles;
        let int = |v: usize| lit(v as i64);
        ScalarUDF::from(MinhashBands::default()).call(vec![
            text,
            lit(spec.unit.name()),
            int(spec.word_ngram),
            int(spec.char_ngram),
            lit(spec.seed),
            int(self.rows_per_band),
            int(self.bands.start),
            int(self.bands.len()),
        ])
    }

    /// The spec in the literal arguments of a call.
    fn from_args(args: &[ColumnarValue]) -> Result<Self> {
        let [_, unit, word, chars, seed, rows, first, bands] = args else {
            return exec_err!("{NAME} takes 8 arguments, got {}", args.len());
        };
        let unit = match unit {
            ColumnarValue::Scalar(ScalarValue::Utf8(Some(u))) => u.parse::<ShingleUnit>(),
            _ => Err("the shingle unit must be a string literal".to_string()),
        };
        let unit = match unit {
            Ok(unit) => unit,
            Err(e) => return exec_err!("{NAME}: {e}"),
        };
        let (first, bands) = (small(first, "first_band", 0)?, small(bands, "bands", 1)?);
        let rows_per_band = small(rows, "rows_per_band", 1)?;
        if rows_per_band > MAX_ROWS_PER_BAND || (first + bands) * rows_per_band > MAX_PERMUTATIONS {
            return exec_err!(
                "{NAME}: {} bands of {rows_per_band} rows exceed {MAX_PERMUTATIONS} hash functions",
                first + bands
            );
        }
        Ok(Self {
            shingles: ShingleSpec {
                unit,
                word_ngram: small(word, "word_ngram", 1)?,
                char_ngram: small(chars, "char_ngram", 1)?,
                seed: match seed {
                    ColumnarValue::Scalar(ScalarValue::UInt64(Some(s))) => *s,
                    ColumnarValue::Scalar(ScalarValue::Int64(Some(s))) => *s as u64,
                    _ => return exec_err!("{NAME}: the seed must be an integer literal"),
                },
            },
            rows_per_band,
            bands: first..first + bands,
        })
    }
}

/// An integer literal argument from `min` to 1,024.
fn small(arg: &ColumnarValue, what: &str, min: i64) -> Result<usize> {
    match arg {
        ColumnarValue::Scalar(ScalarValue::Int64(Some(v))) if (min..=1024).contains(v) => {
            Ok(*v as usize)
        }
        _ => exec_err!("{NAME}: {what} must be an integer literal from {min} to 1024"),
    }
}

/// `minhash_bands(text, …)`: a list of one `{band, key}` per band of the text's MinHash
/// signature, in band order; for a text with no shingles (or NULL), one `{NULL, NULL}`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MinhashBands {
    signature: Signature,
}

impl Default for MinhashBands {
    fn default() -> Self {
        Self {
            signature: Signature::any(8, Volatility::Immutable),
        }
    }
}

/// The fields of a band key.
fn band_fields() -> Fields {
    Fields::from(vec![
        Field::new(BAND, DataType::UInt16, true),
        Field::new(KEY, DataType::UInt64, true),
    ])
}

impl ScalarUDFImpl for MinhashBands {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match args.first() {
            Some(DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null) => {
                Ok(DataType::new_list(DataType::Struct(band_fields()), true))
            }
            Some(other) => plan_err!("{NAME} expects a string, got {other}"),
            None => plan_err!("{NAME} takes 8 arguments, got none"),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let spec = BandSpec::from_args(&args.args)?;
        let (texts, scalar) = single_argument(NAME, &args.args[..1])?;
        shape_like_input(band_keys(&texts, &spec)?, scalar)
    }
}

/// The band keys of every text of `texts`.
fn band_keys(texts: &ArrayRef, spec: &BandSpec) -> Result<ArrayRef> {
    let r = spec.rows_per_band;
    let permutations = Permutations::new(spec.bands.end * r, spec.shingles.seed);
    let hash_functions = spec.bands.start * r..spec.bands.end * r;
    let mut shingler = Shingler::new(spec.shingles);
    let (mut hashes, mut signature) = (Vec::new(), vec![0; hash_functions.len()]);
    let keys = StructBuilder::new(
        band_fields(),
        vec![
            Box::new(UInt16Builder::new()),
            Box::new(UInt64Builder::new()),
        ],
    );
    let mut out = datafusion::arrow::array::ListBuilder::new(keys).with_field(Arc::new(
        Field::new_list_field(DataType::Struct(band_fields()), true),
    ));
    for_each_text(texts, NAME, |text| {
        match text {
            Some(text) => shingler.hashes(text, &mut hashes),
            None => hashes.clear(),
        }
        let keys = out.values();
        if hashes.is_empty() {
            append_key(keys, None);
        } else {
            permutations.signature(&hashes, hash_functions.clone(), &mut signature);
            for (k, band) in signature.chunks_exact(r).enumerate() {
                let index = spec.bands.start + k;
                append_key(keys, Some((index as u16, band_hash(band, index))));
            }
        }
        out.append(true);
    })?;
    Ok(Arc::new(out.finish()))
}

fn append_key(keys: &mut StructBuilder, key: Option<(u16, u64)>) {
    let (band, value) = key.unzip();
    keys.field_builder::<UInt16Builder>(0)
        .expect("the band field")
        .append_option(band);
    keys.field_builder::<UInt64Builder>(1)
        .expect("the key field")
        .append_option(value);
    keys.append(true);
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray, StringArray};
    use datafusion::arrow::datatypes::{UInt16Type, UInt64Type};

    fn spec(bands: Range<usize>) -> BandSpec {
        BandSpec {
            shingles: ShingleSpec {
                unit: ShingleUnit::Auto,
                word_ngram: 3,
                char_ngram: 5,
                seed: 42,
            },
            rows_per_band: 4,
            bands,
        }
    }

    /// The (band, key) pairs of each row.
    fn keys(texts: &[Option<&str>], spec: &BandSpec) -> Vec<Vec<(Option<u16>, Option<u64>)>> {
        let array: ArrayRef = Arc::new(StringArray::from(texts.to_vec()));
        let out = band_keys(&array, spec).unwrap();
        let list = out.as_list::<i32>();
        (0..list.len())
            .map(|row| {
                let item = list.value(row);
                let item = item.as_struct();
                let band = item.column(0).as_primitive::<UInt16Type>();
                let key = item.column(1).as_primitive::<UInt64Type>();
                (0..item.len())
                    .map(|i| {
                        (
                            band.is_valid(i).then(|| band.value(i)),
                            key.is_valid(i).then(|| key.value(i)),
                        )
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn keys_are_the_band_hashes_of_the_signature() {
        let text = "the quick brown fox jumps over the lazy dog";
        let spec = spec(0..5);
        let mut shingler = Shingler::new(spec.shingles);
        let mut hashes = Vec::new();
        shingler.hashes(text, &mut hashes);
        let mut signature = vec![0; 20];
        Permutations::new(20, 42).signature(&hashes, 0..20, &mut signature);
        let expected: Vec<_> = (0..5)
            .map(|k| {
                (
                    Some(k as u16),
                    Some(band_hash(&signature[k * 4..k * 4 + 4], k)),
                )
            })
            .collect();
        assert_eq!(keys(&[Some(text)], &spec), vec![expected.clone()]);
        // Bands computed in two calls are the same bands.
        let later = keys(&[Some(text)], &self::spec(2..5));
        assert_eq!(later[0], expected[2..]);
    }

    #[test]
    fn texts_without_shingles_have_one_null_key() {
        let got = keys(&[Some(""), None, Some("…!")], &spec(0..3));
        assert!(got.iter().all(|row| row == &vec![(None, None)]));
    }

    #[test]
    fn settings_must_be_literals_in_range() {
        let text = ColumnarValue::Array(Arc::new(StringArray::from(vec!["a b c"])));
        let call = |rows: i64| {
            let mut args = vec![text.clone(), ColumnarValue::from(ScalarValue::from("word"))];
            for v in [3, 5, 42, rows, 0, 3] {
                args.push(ColumnarValue::from(ScalarValue::Int64(Some(v))));
            }
            BandSpec::from_args(&args)
        };
        assert_eq!(call(4).unwrap().bands, 0..3);
        assert!(call(0).is_err());
        assert!(call(65).is_err());
        assert!(BandSpec::from_args(&[text]).is_err());
    }
}
