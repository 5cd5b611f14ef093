//! `nfc(text)`: Unicode Normalization Form C (canonical decomposition, then composition).

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use super::kernels::map_strings;

text_udf! {
    /// `nfc(text)`: canonically equivalent texts become identical; compatibility forms
    /// (full-width letters, ligatures) are kept.
    Nfc, "nfc",
    returns: super::same_type,
    invoke: |name, args| map_strings(name, args, nfc),
}

/// Writes the NFC form of `s` to `out`, or returns `false` when `s` is already in NFC.
pub fn nfc(s: &str, out: &mut String) -> bool {
    if s.is_ascii() || is_nfc_quick(s.chars()) == IsNormalized::Yes {
        return false;
    }
    out.extend(s.nfc());
    out != s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::udf::kernels::testing::strings;

    #[test]
    fn nfc_composes_but_keeps_compatibility_forms() {
        let got = strings(
            &Nfc::default(),
            &[
                Some("e\u{301}"),
                Some("A\u{30a}ngstro\u{308}m"),
                Some("ｆｕｌｌ"),
                Some("ﬁ"),
                Some("한국어"),
                Some("\u{1100}\u{1161}"),
                Some("😀 emoji"),
                Some(""),
                None,
            ],
        );
        let expected = [
            Some("é"),
            Some("Ångström"),
            Some("ｆｕｌｌ"),
            Some("ﬁ"),
            Some("한국어"),
            Some("가"),
            Some("😀 emoji"),
            Some(""),
            None,
        ];
        let expected: Vec<Option<String>> = expected.iter().map(|s| s.map(String::from)).collect();
        assert_eq!(got, expected);
    }
}
