//! `nfkc(text)`: Unicode Normalization Form KC (compatibility decomposition, then composition).

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

use super::kernels::map_strings;

text_udf! {
    /// `nfkc(text)`: full-width forms, ligatures, superscripts and the like become their plain
    /// equivalents, and combining sequences are composed.
    Nfkc, "nfkc",
    returns: super::same_type,
    invoke: |name, args| map_strings(name, args, nfkc),
}

/// Writes the NFKC form of `s` to `out`, or returns `false` when `s` is already in NFKC.
pub fn nfkc(s: &str, out: &mut String) -> bool {
    if s.is_ascii() || is_nfkc_quick(s.chars()) == IsNormalized::Yes {
        return false;
    }
    out.extend(s.nfkc());
    out != s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::udf::kernels::testing::strings;

    #[test]
    fn nfkc_folds_compatibility_forms() {
        let got = strings(
            &Nfkc::default(),
            &[
                Some("ｆｕｌｌ－ｗｉｄｔｈ　ＡＢＣ１２３"),
                Some("ﬁne ﬂour"),
                Some("e\u{301}"),
                Some("x²"),
                Some("ｶﾀｶﾅ"),
                Some("中文 😀"),
                Some(""),
                None,
                Some("plain ascii"),
            ],
        );
        let expected = [
            Some("full-width ABC123"),
            Some("fine flour"),
            Some("é"),
            Some("x2"),
            Some("カタカナ"),
            Some("中文 😀"),
            Some(""),
            None,
            Some("plain ascii"),
        ];
        let expected: Vec<Option<String>> = expected.iter().map(|s| s.map(String::from)).collect();
        assert_eq!(got, expected);
    }
}
