//! A `minhash` stage's parameters, checked against what the stage takes, with their
//! defaults.

use std::collections::BTreeMap;

use crate::engine::udf::minhash::{MAX_PERMUTATIONS, MAX_ROWS_PER_BAND, ShingleSpec, ShingleUnit};
use crate::stages::lsh;
use crate::stages::spec::ParamValue;

/// The parameters a `minhash` stage takes, with their defaults.
pub const PARAMS: [(&str, &str); 10] = [
    ("column", "the source's text column"),
    ("shingle", "\"auto\""),
    ("ngram", "5"),
    ("char_ngram", "5"),
    ("bands", "14"),
    ("rows", "8"),
    ("seed", "42"),
    ("verify", "false"),
    ("verify_threshold", "the LSH threshold"),
    ("bands_per_pass", "as many as the memory limit allows"),
];
/// A `minhash` stage's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct MinhashParams {
    pub column: String,
    pub shingles: ShingleSpec,
    pub bands: usize,
    pub rows: usize,
    pub seed: u64,
    pub verify_threshold: Option<f64>,
    pub bands_per_pass: Option<usize>,
}

impl MinhashParams {
    /// Validates a stage's parameters; `text_column` is the default column.
    pub fn parse(params: &BTreeMap<String, ParamValue>, text_column: &str) -> Result<Self, String> {
        if let Some(key) = params
            .keys()
            .find(|k| !PARAMS.iter().any(|(name, _)| name == *k))
        {
            let known: Vec<&str> = PARAMS.iter().map(|(name, _)| *name).collect();
            return Err(format!(
                "unknown parameter '{key}' (a minhash stage takes: {})",
                known.join(", ")
            ));
        }
        let bands = int(params, "bands", 14, MAX_PERMUTATIONS)?;
        let rows = int(params, "rows", 8, MAX_ROWS_PER_BAND)?;
        if bands * rows > MAX_PERMUTATIONS {
            return Err(format!(
                "bands × rows is {bands} × {rows} = {} hash functions; at most {MAX_PERMUTATIONS} are allowed",
                bands * rows
            ));
        }
        let seed = seed(params)?;
        let verify = verify(params)?;
        let verify_threshold = verify_threshold(params, verify)?;
        let bands_per_pass = match params.get("bands_per_pass") {
            None => None,
            Some(_) => Some(int(params, "bands_per_pass", bands, bands)?),
        };
        let column = string(params, "column")?.unwrap_or(text_column).to_string();
        if column.is_empty() {
            return Err("parameter 'column' cannot be empty".to_string());
        }
        Ok(MinhashParams {
            column,
            shingles: ShingleSpec {
                unit: string(params, "shingle")?
                    .unwrap_or("auto")
                    .parse::<ShingleUnit>()
                    .map_err(|e| format!("parameter 'shingle': {e}"))?,
                word_ngram: int(params, "ngram", 5, 1000)?,
                char_ngram: int(params, "char_ngram", 5, 1000)?,
                seed,
            },
            bands,
            rows,
            seed,
            verify_threshold: verify_threshold
                .or_else(|| verify.then(|| lsh::threshold(bands, rows))),
            bands_per_pass,
        })
    }

    pub fn permutations(&self) -> usize {
        self.bands * self.rows
    }
}

/// An integer parameter between 1 and `max`.
fn int(
    params: &BTreeMap<String, ParamValue>,
    name: &str,
    default: usize,
    max: usize,
) -> Result<usize, String> {
    match params.get(name) {
        None => Ok(default),
        Some(ParamValue::Int(v)) if *v >= 1 && (*v as u64) <= max as u64 => Ok(*v as usize),
        Some(ParamValue::Int(v)) => Err(format!(
            "parameter '{name}' is {v}; it must be between 1 and {max}"
        )),
        Some(other) => Err(format!(
            "parameter '{name}' is {}; it must be an integer",
            other.kind()
        )),
    }
}

/// A string parameter, when given.
fn string<'a>(
    params: &'a BTreeMap<String, ParamValue>,
    name: &str,
) -> Result<Option<&'a str>, String> {
    match params.get(name) {
        None => Ok(None),
        Some(ParamValue::Str(s)) => Ok(Some(s)),
        Some(other) => Err(format!(
            "parameter '{name}' is {}; it must be a string",
            other.kind()
        )),
    }
}

fn seed(params: &BTreeMap<String, ParamValue>) -> Result<u64, String> {
    match params.get("seed") {
        None => Ok(42),
        Some(ParamValue::Int(v)) if *v >= 0 => Ok(*v as u64),
        Some(other) => Err(format!(
            "parameter 'seed' is {other}; it must be an integer of 0 or more"
        )),
    }
}

fn verify(params: &BTreeMap<String, ParamValue>) -> Result<bool, String> {
    match params.get("verify") {
        None => Ok(false),
        Some(ParamValue::Bool(b)) => Ok(*b),
        Some(other) => Err(format!(
            "parameter 'verify' is {}; it must be true or false",
            other.kind()
        )),
    }
}

/// The similarity verification requires, when given; only with `verify`.
fn verify_threshold(
    params: &BTreeMap<String, ParamValue>,
    verify: bool,
) -> Result<Option<f64>, String> {
    match params.get("verify_threshold") {
        None => Ok(None),
        Some(_) if !verify => Err("parameter 'verify_threshold' needs verify = true".to_string()),
        Some(ParamValue::Float(t)) if *t > 0.0 && *t <= 1.0 => Ok(Some(*t)),
        Some(ParamValue::Int(1)) => Ok(Some(1.0)),
        Some(other) => Err(format!(
            "parameter 'verify_threshold' is {other}; it must be a similarity above 0 and at most 1"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, ParamValue)]) -> Result<MinhashParams, String> {
        let map = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        MinhashParams::parse(&map, "text")
    }

    #[test]
    fn defaults_follow_common_practice() {
        let p = params(&[]).unwrap();
        assert_eq!((p.bands, p.rows, p.permutations()), (14, 8, 112));
        assert_eq!(p.shingles.word_ngram, 5);
        assert_eq!(p.shingles.unit, ShingleUnit::Auto);
        assert_eq!(p.column, "text");
        assert_eq!(p.verify_threshold, None);
        let v = params(&[("verify", ParamValue::Bool(true))]).unwrap();
        assert!((v.verify_threshold.unwrap() - 0.7190).abs() < 1e-4);
    }

    #[test]
    fn bad_parameters_are_refused_with_the_reason() {
        let cases: [(&[(&str, ParamValue)], &str); 9] = [
            (&[("bands", ParamValue::Int(0))], "'bands' is 0"),
            (&[("rows", ParamValue::Int(0))], "'rows' is 0"),
            (&[("ngram", ParamValue::Int(0))], "'ngram' is 0"),
            (
                &[
                    ("bands", ParamValue::Int(100)),
                    ("rows", ParamValue::Int(20)),
                ],
                "at most 1024",
            ),
            (&[("band", ParamValue::Int(3))], "unknown parameter 'band'"),
            (
                &[("shingle", ParamValue::Str("token".into()))],
                "unknown shingle unit",
            ),
            (
                &[("verify_threshold", ParamValue::Float(0.8))],
                "needs verify = true",
            ),
            (
                &[
                    ("verify", ParamValue::Bool(true)),
                    ("verify_threshold", ParamValue::Float(1.5)),
                ],
                "at most 1",
            ),
            (
                &[("bands_per_pass", ParamValue::Int(15))],
                "between 1 and 14",
            ),
        ];
        for (given, expected) in cases {
            let e = params(given).unwrap_err();
            assert!(e.contains(expected), "{given:?}: {e}");
        }
    }
}
