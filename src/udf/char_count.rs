//! `char_count(text)`: the number of Unicode code points.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::kernels::map_strings_to_i64;

/// `char_count(text)`: code points, not bytes and not grapheme clusters (Int64).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CharCount {
    signature: Signature,
}

impl Default for CharCount {
    fn default() -> Self {
        Self {
            signature: Signature::string(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for CharCount {
    fn name(&self) -> &str {
        "char_count"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match args {
            [_] => Ok(DataType::Int64),
            _ => plan_err!("char_count takes exactly one argument, got {}", args.len()),
        }
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        map_strings_to_i64(self.name(), &args.args, |s| s.chars().count() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udf::kernels::testing::run_all_types;
    use datafusion::arrow::array::{ArrayRef, AsArray};
    use datafusion::arrow::datatypes::Int64Type;

    #[test]
    fn counts_code_points() {
        let got = run_all_types(
            &CharCount::default(),
            &[
                Some("abc"),
                Some("e\u{301}"),
                Some("中文"),
                Some("😀"),
                Some("👨‍👩‍👧"),
                Some("ﬁ"),
                Some(""),
                None,
            ],
            |a: &ArrayRef, i| Some(a.as_primitive::<Int64Type>().value(i)),
        );
        assert_eq!(
            got,
            vec![
                Some(3),
                Some(2),
                Some(2),
                Some(1),
                Some(5),
                Some(1),
                Some(0),
                None
            ]
        );
    }
}
