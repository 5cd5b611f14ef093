//! Token counting: OpenAI's `cl100k_base` and `o200k_base` encodings, a HuggingFace
//! `tokenizer.json`, or none — counted over Arrow string arrays.
//!
//! OpenAI's encodings are counted with the byte-pair encoder of the `bpe-openai` crate
//! (github/rust-gems) behind tiktoken's pre-tokenization ([`openai`]): the same counts as
//! tiktoken, in time linear in the text and without materialising the tokens; the vocabularies
//! ship inside the binary.
//!
//! Text is encoded as ordinary text: a special-token string inside it (`<|endoftext|>`) is
//! tokenized like any other text, never as the special token. NULL rows count zero tokens.

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use datafusion::arrow::array::{Array, AsArray, StringArrayType};
use datafusion::arrow::datatypes::DataType;

use crate::error::{Error, Result};

pub mod openai;

/// The tokenizer a user asked for, before it is loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenizerSpec {
    /// Count no tokens.
    None,
    /// tiktoken's `cl100k_base` (GPT-4, GPT-3.5).
    Cl100kBase,
    /// tiktoken's `o200k_base` (GPT-4o and later).
    O200kBase,
    /// A HuggingFace `tokenizer.json`.
    HuggingFace(PathBuf),
}

impl FromStr for TokenizerSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "none" => Ok(TokenizerSpec::None),
            "cl100k_base" => Ok(TokenizerSpec::Cl100kBase),
            "o200k_base" => Ok(TokenizerSpec::O200kBase),
            path if path.ends_with(".json") => Ok(TokenizerSpec::HuggingFace(path.into())),
            other => Err(format!(
                "unknown tokenizer '{other}' (tokenizers: cl100k_base, o200k_base, a path to a HuggingFace tokenizer.json, none)"
            )),
        }
    }
}

impl fmt::Display for TokenizerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenizerSpec::None => f.write_str("none"),
            TokenizerSpec::Cl100kBase => f.write_str("cl100k_base"),
            TokenizerSpec::O200kBase => f.write_str("o200k_base"),
            TokenizerSpec::HuggingFace(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A loaded tokenizer; cheap to share between threads by reference.
pub struct Tokenizer {
    name: String,
    encoder: Encoder,
}

enum Encoder {
    OpenAi(openai::Encoding),
    HuggingFace(Box<tokenizers::Tokenizer>),
}

impl fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokenizer")
            .field("name", &self.name)
            .finish()
    }
}

impl Tokenizer {
    /// Loads the tokenizer `spec` names; `None` for [`TokenizerSpec::None`].
    pub fn load(spec: &TokenizerSpec) -> Result<Option<Self>> {
        let encoder = match spec {
            TokenizerSpec::None => return Ok(None),
            TokenizerSpec::Cl100kBase => Encoder::OpenAi(openai::Encoding::Cl100kBase),
            TokenizerSpec::O200kBase => Encoder::OpenAi(openai::Encoding::O200kBase),
            TokenizerSpec::HuggingFace(path) => Encoder::HuggingFace(Box::new(load_json(path)?)),
        };
        Ok(Some(Tokenizer {
            name: spec.to_string(),
            encoder,
        }))
    }

    /// The name the user gave: `cl100k_base`, `o200k_base` or the `tokenizer.json` path.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Tokens in `text`, encoded as ordinary text.
    pub fn count(&self, text: &str) -> Result<u32, String> {
        let tokens = match &self.encoder {
            // A panic on a pathological text would be one row's failure, not the process's.
            Encoder::OpenAi(encoding) => {
                std::panic::catch_unwind(AssertUnwindSafe(|| encoding.count(text)))
                    .map_err(|payload| crate::error::panic_message(payload.as_ref()))?
            }
            Encoder::HuggingFace(tokenizer) => tokenizer
                .encode_fast(text, false)
                .map_err(|e| e.to_string())?
                .len(),
        };
        Ok(u32::try_from(tokens).unwrap_or(u32::MAX))
    }

    /// Tokens of every row of a string array, NULL rows 0; an error names the failing row
    /// (0-based within the array).
    pub fn count_rows(&self, array: &dyn Array) -> Result<Vec<u32>, String> {
        map_texts(array, |text| text.map_or(Ok(0), |text| self.count(text)))
    }
}

/// `f` of every row of a string array (`None` for NULL rows), in row order; an error names
/// the failing row (0-based within the array).
pub fn map_texts(
    array: &dyn Array,
    mut f: impl FnMut(Option<&str>) -> Result<u32, String>,
) -> Result<Vec<u32>, String> {
    fn each<'a>(
        values: impl StringArrayType<'a>,
        f: &mut impl FnMut(Option<&str>) -> Result<u32, String>,
    ) -> Result<Vec<u32>, String> {
        values
            .iter()
            .enumerate()
            .map(|(row, text)| f(text).map_err(|e| format!("row {row}: {e}")))
            .collect()
    }
    match array.data_type() {
        DataType::Utf8 => each(array.as_string::<i32>(), &mut f),
        DataType::LargeUtf8 => each(array.as_string::<i64>(), &mut f),
        DataType::Utf8View => each(array.as_string_view(), &mut f),
        other => Err(format!("cannot tokenize a column of type {other}")),
    }
}

/// True for the Arrow types a tokenizer reads.
pub fn is_text(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

/// Loads a HuggingFace `tokenizer.json` for counting: no truncation, no padding, and added
/// special tokens in the text encoded as ordinary text.
fn load_json(path: &Path) -> Result<tokenizers::Tokenizer> {
    let mut tokenizer = tokenizers::Tokenizer::from_file(path).map_err(|e| {
        let message = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io.to_string(),
            None => format!(
                "not a valid tokenizer.json: {}",
                crate::error::clean(&e.to_string())
            ),
        };
        Error::Usage(format!("tokenizer {}: {message}", path.display()))
    })?;
    tokenizer
        .with_truncation(None)
        .map_err(|e| Error::Usage(format!("tokenizer {}: {e}", path.display())))?;
    tokenizer.with_padding(None);
    tokenizer.set_encode_special_tokens(true);
    Ok(tokenizer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{StringArray, StringViewArray};

    fn load(name: &str) -> Tokenizer {
        Tokenizer::load(&name.parse().unwrap()).unwrap().unwrap()
    }

    #[test]
    fn names_parse_and_unknown_ones_are_refused() {
        assert_eq!("none".parse(), Ok(TokenizerSpec::None));
        assert_eq!("o200k_base".parse(), Ok(TokenizerSpec::O200kBase));
        assert_eq!(
            "dir/tokenizer.json".parse(),
            Ok(TokenizerSpec::HuggingFace("dir/tokenizer.json".into()))
        );
        let e = "gpt2".parse::<TokenizerSpec>().unwrap_err();
        assert!(e.contains("unknown tokenizer 'gpt2'"), "{e}");
        assert!(Tokenizer::load(&TokenizerSpec::None).unwrap().is_none());
    }

    #[test]
    fn special_token_strings_are_ordinary_text() {
        let cl100k = load("cl100k_base");
        // "hello world" is two tokens; "<|endoftext|>" as text is several, not one.
        assert_eq!(cl100k.count("hello world").unwrap(), 2);
        assert!(cl100k.count("<|endoftext|>").unwrap() > 1);
        assert_eq!(cl100k.count("").unwrap(), 0);
    }

    #[test]
    fn null_rows_count_zero_in_every_string_layout() {
        let o200k = load("o200k_base");
        let texts = [Some("hello world"), None, Some("")];
        let plain = o200k
            .count_rows(&StringArray::from(texts.to_vec()))
            .unwrap();
        let views = o200k
            .count_rows(&StringViewArray::from(texts.to_vec()))
            .unwrap();
        assert_eq!(plain, vec![2, 0, 0]);
        assert_eq!(plain, views);
        let numbers = datafusion::arrow::array::Int32Array::from(vec![1]);
        assert!(o200k.count_rows(&numbers).is_err());
    }

    #[test]
    fn an_unreadable_tokenizer_json_is_a_usage_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.json");
        let e = Tokenizer::load(&TokenizerSpec::HuggingFace(missing)).unwrap_err();
        assert!(e.to_string().contains("missing.json"), "{e}");
        let broken = dir.path().join("tokenizer.json");
        std::fs::write(&broken, "{\"not\": \"a tokenizer\"}").unwrap();
        let e = Tokenizer::load(&TokenizerSpec::HuggingFace(broken)).unwrap_err();
        assert!(e.to_string().contains("not a valid tokenizer.json"), "{e}");
    }
}
