//! `trim_whitespace(text)`: removes leading and trailing Unicode whitespace.

use super::kernels::map_strings;

text_udf! {
    /// `trim_whitespace(text)`: like SQL `trim`, but for every Unicode `White_Space` character
    /// (tabs, newlines, no-break and ideographic spaces), not only the ASCII space.
    TrimWhitespace, "trim_whitespace",
    returns: super::same_type,
    invoke: |name, args| map_strings(name, args, trim_whitespace),
}

/// Writes `s` without leading and trailing whitespace to `out`, or returns `false` when it
/// has none.
pub fn trim_whitespace(s: &str, out: &mut String) -> bool {
    let trimmed = s.trim();
    out.push_str(trimmed);
    trimmed.len() != s.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::udf::kernels::testing::strings;

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
