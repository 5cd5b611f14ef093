//! `trim_whitespace(text)`: removes leading and trailing Unicode whitespace.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::kernels::map_strings;

/// `trim_whitespace(text)`: like SQL `trim`, but for every Unicode `White_Space` character
/// (tabs, newlines, no-break and ideographic spaces), not only the ASCII space.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TrimWhitespace {
    signature: Signature,
}

impl Default for TrimWhitespace {
    fn default() -> Self {
        Self {
            signature: Signature::string(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for TrimWhitespace {
    fn name(&self) -> &str {
        "trim_whitespace"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        super::same_string_type(self.name(), args)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        map_strings(self.name(), &args.args, |s, out| {
            let trimmed = s.trim();
            out.push_str(trimmed);
            trimmed.len() != s.len()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udf::kernels::testing::strings;

    #[test]
    fn trims_unicode_whitespace_only_at_the_edges() {
        let got = strings(
            &TrimWhitespace::default(),
            &[
                Some(" \t a  b \n"),
                Some("\u{3000}全角\u{3000}"),
                Some("\u{a0}x\u{a0}"),
                Some("\u{200b}zero width is not whitespace\u{200b}"),
                Some(" \n\t "),
                Some(""),
                None,
            ],
        );
        let expected = [
            Some("a  b"),
            Some("全角"),
            Some("x"),
            Some("\u{200b}zero width is not whitespace\u{200b}"),
            Some(""),
            Some(""),
            None,
        ];
        let expected: Vec<Option<String>> = expected.iter().map(|s| s.map(String::from)).collect();
        assert_eq!(got, expected);
    }
}
