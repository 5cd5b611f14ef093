//! `char_count(text)`: the number of Unicode code points.

use super::kernels::map_strings_to_i64;

text_udf! {
    /// `char_count(text)`: code points, not bytes and not grapheme clusters (Int64).
    CharCount, "char_count",
    returns: super::int64,
    invoke: |name, args| map_strings_to_i64(name, args, |s: &str| s.chars().count() as i64),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::udf::kernels::testing::run_all_types;
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
