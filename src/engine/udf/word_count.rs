//! `word_count(text)`: the number of words, where a word is a maximal run of characters that
//! are not Unicode whitespace.

use super::kernels::map_strings_to_i64;

text_udf! {
    /// `word_count(text)`: whitespace-separated words (Int64). Text without spaces, such as
    /// Chinese, counts as one word per run.
    WordCount, "word_count",
    returns: super::int64,
    invoke: |name, args| map_strings_to_i64(name, args, |s: &str| s.split_whitespace().count() as i64),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::udf::kernels::testing::run_all_types;
    use datafusion::arrow::array::{ArrayRef, AsArray};
    use datafusion::arrow::datatypes::Int64Type;

    #[test]
    fn counts_whitespace_separated_words() {
        let got = run_all_types(
            &WordCount::default(),
            &[
                Some("two words"),
                Some("  padded\tand\nsplit  "),
                Some("中文没有空格"),
                Some("ｆｕｌｌ\u{3000}width"),
                Some("😀 😀"),
                Some(" "),
                Some(""),
                None,
            ],
            |a: &ArrayRef, i| Some(a.as_primitive::<Int64Type>().value(i)),
        );
        assert_eq!(
            got,
            vec![
                Some(2),
                Some(3),
                Some(1),
                Some(2),
                Some(2),
                Some(0),
                Some(0),
                None
            ]
        );
    }
}
