//! `length_bin(text)`: the bin of the text-length histogram a text counts in — the histogram
//! every result keeps of its texts, counted by a query when executors wrote the result.

use super::kernels::map_strings_to_i64;

/// Bins of the text-length histogram.
pub const LENGTH_BINS: usize = 32;

/// The bin a text of `len` bytes counts in: 0 for the empty text, `i` for those of 2^(i-1) to
/// 2^i - 1 bytes (the last, those of 2^30 bytes or more).
pub fn length_bin(len: usize) -> usize {
    (usize::BITS - len.leading_zeros()).min(LENGTH_BINS as u32 - 1) as usize
}

text_udf! {
    /// `length_bin(text)`: the text-length bin of a text's UTF-8 bytes (Int64; NULL for NULL).
    TextLengthBin, "length_bin",
    returns: super::int64,
    invoke: |name, args| map_strings_to_i64(name, args, |s: &str| length_bin(s.len()) as i64),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::udf::kernels::testing::run_all_types;
    use datafusion::arrow::array::{ArrayRef, AsArray};
    use datafusion::arrow::datatypes::Int64Type;

    #[test]
    fn bins_double_in_width() {
        assert_eq!(
            [
                0,
                1,
                2,
                3,
                4,
                7,
                8,
                1 << 29,
                (1 << 30) - 1,
                1 << 30,
                usize::MAX
            ]
            .map(length_bin),
            [0, 1, 2, 2, 3, 3, 4, 30, 30, 31, 31]
        );
        let got = run_all_types(
            &TextLengthBin::default(),
            &[Some(""), Some("abc"), Some("中文"), None],
            |a: &ArrayRef, i| Some(a.as_primitive::<Int64Type>().value(i)),
        );
        assert_eq!(got, vec![Some(0), Some(2), Some(3), None]);
    }
}
