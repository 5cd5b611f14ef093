//! `nfkc(text)`: Unicode Normalization Form KC (compatibility decomposition, then composition).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

use super::kernels::map_strings;

/// `nfkc(text)`: full-width forms, ligatures, superscripts and the like become their plain
/// equivalents, and combining sequences are composed.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Nfkc {
    signature: Signature,
}

impl Default for Nfkc {
    fn default() -> Self {
        Self {
            signature: Signature::string(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for Nfkc {
    fn name(&self) -> &str {
        "nfkc"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        super::same_string_type(self.name(), args)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        map_strings(self.name(), &args.args, nfkc)
    }
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
    use crate::udf::kernels::testing::strings;

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
