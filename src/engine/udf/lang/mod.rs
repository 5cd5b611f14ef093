//! Language identification with fastText's `lid.176` model (embedded in the binary, see
//! `models/README.md`): `lang_id(text)` → `{lang, score}`, the most likely language and its
//! probability, and `lang_filter(text, 'en' [, 0.65])` → true when that language is one of the
//! given ones with a probability above the threshold (datatrove's LanguageFilter). Line breaks
//! count as spaces, as datatrove replaces them before predicting.

pub mod fasttext;

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Builder, StringBuilder, StructArray,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::kernels::{for_each_text, shape_like_input, single_argument};
use fasttext::Model;

/// fastText's `lid.176.ftz`, read once.
static LID_176: LazyLock<Model> = LazyLock::new(|| {
    Model::read(include_bytes!("../../../../models/lid.176.ftz"))
        .expect("the embedded lid.176.ftz is a valid model (a unit test reads it)")
});

/// The language of `text` (an ISO 639 code such as `en`) and its probability; `None` when the
/// text gives the model nothing to go on.
pub fn identify(text: &str) -> Option<(&'static str, f64)> {
    let (label, p) = LID_176.predict(text)?;
    Some((label.trim_start_matches("__label__"), f64::from(p)))
}

/// Whether `code` is one of the 176 languages the model knows.
pub fn is_known_language(code: &str) -> bool {
    LID_176
        .labels()
        .iter()
        .any(|l| l.trim_start_matches("__label__") == code)
}

fn lang_fields() -> Fields {
    Fields::from(vec![
        Field::new("lang", DataType::Utf8, true),
        Field::new("score", DataType::Float64, true),
    ])
}

/// `lang_id(text)`: the most likely language and its probability, as a struct.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct LangId {
    signature: Signature,
}

impl Default for LangId {
    fn default() -> Self {
        Self {
            signature: Signature::string(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for LangId {
    fn name(&self) -> &str {
        "lang_id"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(lang_fields()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (array, scalar) = single_argument("lang_id", &args.args)?;
        let mut langs = StringBuilder::new();
        let mut scores = Float64Builder::new();
        for_each_text(&array, "lang_id", |text| match text.and_then(identify) {
            Some((lang, score)) => {
                langs.append_value(lang);
                scores.append_value(score);
            }
            None => {
                langs.append_null();
                scores.append_null();
            }
        })?;
        let nulls = NullBuffer::from_iter((0..array.len()).map(|i| array.is_valid(i)));
        let columns: Vec<ArrayRef> = vec![Arc::new(langs.finish()), Arc::new(scores.finish())];
        let out = StructArray::try_new(lang_fields(), columns, Some(nulls))?;
        shape_like_input(Arc::new(out), scalar)
    }
}

/// `lang_filter(text, languages [, threshold])`: true when the most likely language of `text`
/// is one of `languages` (`'en'` or `'en,fr'`) with a probability above `threshold`
/// (default 0.65).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct LangFilter {
    signature: Signature,
}

impl Default for LangFilter {
    fn default() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

/// The settings of a `lang_filter` call, checked.
struct LanguageRule {
    languages: Vec<String>,
    threshold: f64,
}

impl LanguageRule {
    fn from_literals(
        languages: Option<&ScalarValue>,
        threshold: Option<&ScalarValue>,
    ) -> Result<Self> {
        let Some(
            ScalarValue::Utf8(Some(list))
            | ScalarValue::Utf8View(Some(list))
            | ScalarValue::LargeUtf8(Some(list)),
        ) = languages
        else {
            return plan_err!(
                "lang_filter: its second argument must be a string of language codes, such as 'en' or 'en,fr'"
            );
        };
        let languages: Vec<String> = list.split(',').map(|l| l.trim().to_string()).collect();
        if let Some(unknown) = languages.iter().find(|l| !is_known_language(l)) {
            return plan_err!(
                "lang_filter: unknown language code '{unknown}' (lid.176 knows ISO 639 codes such as en, fr, zh)"
            );
        }
        let threshold = match threshold {
            None => 0.65,
            Some(value) => match value.cast_to(&DataType::Float64) {
                Ok(ScalarValue::Float64(Some(t))) if (0.0..=1.0).contains(&t) => t,
                _ => {
                    return plan_err!(
                        "lang_filter: the threshold must be a number from 0 to 1, got {value}"
                    );
                }
            },
        };
        Ok(Self {
            languages,
            threshold,
        })
    }

    fn keeps(&self, text: &str) -> bool {
        identify(text)
            .is_some_and(|(lang, p)| p > self.threshold && self.languages.iter().any(|l| l == lang))
    }
}

impl ScalarUDFImpl for LangFilter {
    fn name(&self) -> &str {
        "lang_filter"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        match args.arg_fields {
            [text, _] | [text, _, _] if is_text(text.data_type()) => {}
            [text, ..] if !is_text(text.data_type()) => {
                return plan_err!("lang_filter expects a string, got {}", text.data_type());
            }
            _ => {
                return plan_err!(
                    "lang_filter takes a text, language codes and an optional threshold"
                );
            }
        }
        let literal = |i: usize| args.scalar_arguments.get(i).copied().flatten();
        LanguageRule::from_literals(literal(1), literal(2))?;
        Ok(Field::new("lang_filter", DataType::Boolean, true).into())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let literal = |i: usize| match args.args.get(i) {
            Some(ColumnarValue::Scalar(s)) => Some(s),
            _ => None,
        };
        let rule = LanguageRule::from_literals(literal(1), literal(2))?;
        let (array, scalar) = single_argument("lang_filter", &args.args[..1])?;
        let mut out = Vec::with_capacity(array.len());
        for_each_text(&array, "lang_filter", |text| {
            out.push(text.map(|t| rule.keeps(t)))
        })?;
        shape_like_input(Arc::new(BooleanArray::from(out)), scalar)
    }
}

fn is_text(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_model_names_languages() {
        let (lang, p) = identify("Hello world, this is an English sentence.").unwrap();
        assert_eq!(lang, "en");
        // Python fastText 0.9.2 with lid.176.ftz says 0.92284632.
        assert!((p - 0.922_846_32).abs() < 1e-4, "{p}");
        let (lang, p) = identify("Bonjour tout le monde").unwrap();
        assert_eq!(lang, "fr");
        assert!((p - 0.989_549_4).abs() < 1e-4, "{p}");
        assert!(is_known_language("zh") && !is_known_language("klingon"));
    }

    #[test]
    fn the_filter_checks_its_settings() {
        let en = ScalarValue::Utf8(Some("en".into()));
        assert!(LanguageRule::from_literals(Some(&en), None).is_ok());
        let bad = ScalarValue::Utf8(Some("en,xx".into()));
        let err = LanguageRule::from_literals(Some(&bad), None).err().unwrap();
        assert!(err.to_string().contains("'xx'"), "{err}");
        let high = ScalarValue::Float64(Some(1.5));
        assert!(LanguageRule::from_literals(Some(&en), Some(&high)).is_err());
        let rule = LanguageRule::from_literals(Some(&en), None).unwrap();
        assert!(rule.keeps("Hello world, this is an English sentence."));
        assert!(!rule.keeps("Bonjour tout le monde"));
    }
}
