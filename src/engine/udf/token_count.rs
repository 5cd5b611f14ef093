//! `token_count(text, tokenizer)` and `text_hash64(text)`: a text's tokens and the 64-bit hash
//! a counted result keeps beside them, computed inside a plan so that a cluster's executors
//! count the tokens of the rows they hold. Each process loads a tokenizer once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use datafusion::arrow::array::{ArrayRef, UInt32Builder, UInt64Builder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use xxhash_rust::xxh3::xxh3_64;

use super::kernels::{for_each_text, shape_like_input, single_argument};
use crate::tokenizer::{Tokenizer, TokenizerSpec};

/// `token_count(text, tokenizer)`: UInt32, the tokens of the text encoded as ordinary text by
/// `tokenizer` (`'cl100k_base'`, `'o200k_base'` or a `tokenizer.json` path, a literal); NULL
/// for NULL.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TokenCount {
    signature: Signature,
}

impl Default for TokenCount {
    fn default() -> Self {
        Self {
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

impl TokenCount {
    pub const NAME: &str = "token_count";
}

impl ScalarUDFImpl for TokenCount {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match args {
            [
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null,
                _,
            ] => Ok(DataType::UInt32),
            [other, _] => plan_err!("{} expects a string, got {other}", Self::NAME),
            _ => plan_err!("{} takes 2 arguments, got {}", Self::NAME, args.len()),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let name = Self::NAME;
        let tokenizer = match &args.args[1] {
            ColumnarValue::Scalar(ScalarValue::Utf8(Some(spec))) => loaded(spec)?,
            _ => return exec_err!("{name}: the tokenizer must be a string literal"),
        };
        let (texts, scalar) = single_argument(name, &args.args[..1])?;
        let mut out = UInt32Builder::with_capacity(texts.len());
        let mut failed = None;
        for_each_text(&texts, name, |text| {
            match text.map(|t| tokenizer.count(t)) {
                None => out.append_null(),
                Some(Ok(tokens)) => out.append_value(tokens),
                Some(Err(e)) => {
                    failed.get_or_insert(e);
                    out.append_null();
                }
            }
        })?;
        if let Some(e) = failed {
            return exec_err!("{name} with {}: {e}", tokenizer.name());
        }
        shape_like_input(Arc::new(out.finish()) as ArrayRef, scalar)
    }
}

/// The tokenizer `spec` names, loaded once per process.
fn loaded(spec: &str) -> Result<Arc<Tokenizer>> {
    static LOADED: OnceLock<Mutex<HashMap<String, Arc<Tokenizer>>>> = OnceLock::new();
    let cache = LOADED.get_or_init(Default::default);
    let mut cache = match cache.lock() {
        Ok(cache) => cache,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(tokenizer) = cache.get(spec) {
        return Ok(Arc::clone(tokenizer));
    }
    let parsed = spec.parse::<TokenizerSpec>();
    let tokenizer = match parsed.map(|s| Tokenizer::load(&s).map_err(|e| e.to_string())) {
        Ok(Ok(Some(tokenizer))) => Arc::new(tokenizer),
        Ok(Ok(None)) => return exec_err!("{}: no tokenizer named '{spec}'", TokenCount::NAME),
        Ok(Err(e)) | Err(e) => return exec_err!("{}: {e}", TokenCount::NAME),
    };
    cache.insert(spec.to_string(), Arc::clone(&tokenizer));
    Ok(tokenizer)
}

impl TextHash64 {
    pub const NAME: &str = "text_hash64";
}

text_udf! {
    /// `text_hash64(text)`: UInt64, the 64-bit xxh3 hash of the UTF-8 bytes (NULL for NULL):
    /// what a counted result keeps beside each row's tokens.
    TextHash64, "text_hash64",
    returns: |_, _| Ok(DataType::UInt64),
    invoke: |name, args| {
        let (texts, scalar) = single_argument(name, args)?;
        let mut out = UInt64Builder::with_capacity(texts.len());
        for_each_text(&texts, name, |text| {
            out.append_option(text.map(|t| xxh3_64(t.as_bytes())))
        })?;
        shape_like_input(Arc::new(out.finish()) as ArrayRef, scalar)
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray, StringArray};
    use datafusion::arrow::datatypes::{Field, UInt32Type, UInt64Type};

    fn invoke(udf: &dyn ScalarUDFImpl, args: Vec<ColumnarValue>) -> Result<ArrayRef> {
        let rows = 3;
        let arg_fields = args
            .iter()
            .map(|a| Arc::new(Field::new("a", a.data_type(), true)))
            .collect();
        let out = udf.invoke_with_args(ScalarFunctionArgs {
            args,
            arg_fields,
            number_rows: rows,
            return_field: Arc::new(Field::new("out", DataType::UInt32, true)),
            config_options: Arc::default(),
        })?;
        out.into_array(rows)
    }

    fn texts() -> ColumnarValue {
        ColumnarValue::Array(Arc::new(StringArray::from(vec![
            Some("hello world"),
            None,
            Some(""),
        ])))
    }

    #[test]
    fn tokens_are_the_tokenizers_count() {
        let tokenizer = ColumnarValue::Scalar(ScalarValue::from("cl100k_base"));
        let out = invoke(&TokenCount::default(), vec![texts(), tokenizer]).unwrap();
        let out = out.as_primitive::<UInt32Type>();
        assert_eq!((out.value(0), out.is_null(1), out.value(2)), (2, true, 0));
    }

    #[test]
    fn an_unknown_tokenizer_is_an_error() {
        for spec in ["gpt2", "/nonexistent/tokenizer.json", "none"] {
            let tokenizer = ColumnarValue::Scalar(ScalarValue::from(spec));
            let error = invoke(&TokenCount::default(), vec![texts(), tokenizer]).unwrap_err();
            assert!(error.to_string().contains("token_count"), "{error}");
        }
    }

    #[test]
    fn hashes_are_xxh3_64() {
        let out = invoke(&TextHash64::default(), vec![texts()]).unwrap();
        let out = out.as_primitive::<UInt64Type>();
        assert_eq!(out.value(0), xxh3_64(b"hello world"));
        assert!(out.is_null(1));
        assert_eq!(out.value(2), xxh3_64(b""));
    }
}
