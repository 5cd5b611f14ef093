//! `collapse_whitespace(text)`: every run of Unicode whitespace other than `\n` becomes one
//! space, then leading and trailing whitespace (newlines included) is removed.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::kernels::map_strings;

/// `collapse_whitespace(text)`: keeps line structure (`\n`) and turns every other run of
/// whitespace — tabs, `\r`, no-break and ideographic spaces — into a single ASCII space.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CollapseWhitespace {
    signature: Signature,
}

impl Default for CollapseWhitespace {
    fn default() -> Self {
        Self {
            signature: Signature::string(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for CollapseWhitespace {
    fn name(&self) -> &str {
        "collapse_whitespace"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        super::same_string_type(self.name(), args)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        map_strings(self.name(), &args.args, collapse_whitespace)
    }
}

/// Whitespace that collapses: Unicode `White_Space` except the newline.
fn collapses(c: char) -> bool {
    c != '\n' && c.is_whitespace()
}

/// Writes the collapsed and trimmed form of `s` to `out`, or returns `false` when `s` is
/// already in that form.
pub fn collapse_whitespace(s: &str, out: &mut String) -> bool {
    let trimmed = s.trim();
    let mut in_run = false;
    let already_collapsed = trimmed.len() == s.len()
        && trimmed.chars().all(|c| {
            let ok = if collapses(c) {
                !in_run && c == ' '
            } else {
                true
            };
            in_run = collapses(c);
            ok
        });
    if already_collapsed {
        return false;
    }
    in_run = false;
    for c in trimmed.chars() {
        if collapses(c) {
            if !in_run {
                out.push(' ');
            }
            in_run = true;
        } else {
            out.push(c);
            in_run = false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udf::kernels::testing::strings;

    #[test]
    fn runs_collapse_newlines_stay_edges_are_trimmed() {
        let got = strings(
            &CollapseWhitespace::default(),
            &[
                Some("  a \t b  "),
                Some("line one\r\nline two"),
                Some("a \n b"),
                Some("\n\n text \n\n"),
                Some("no\u{a0}break\u{3000}ideographic\u{2003}em"),
                Some("already clean"),
                Some("中文\t\t中文"),
                Some(" \t\n "),
                Some(""),
                None,
            ],
        );
        let expected = [
            Some("a b"),
            Some("line one \nline two"),
            Some("a \n b"),
            Some("text"),
            Some("no break ideographic em"),
            Some("already clean"),
            Some("中文 中文"),
            Some(""),
            Some(""),
            None,
        ];
        let expected: Vec<Option<String>> = expected.iter().map(|s| s.map(String::from)).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn clean_text_is_not_copied() {
        let mut out = String::new();
        assert!(!collapse_whitespace("a b\nc d", &mut out));
        assert!(collapse_whitespace("a  b", &mut out));
        assert_eq!(out, "a b");
    }
}
