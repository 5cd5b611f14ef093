//! `fineweb_quality(text)`: FineWeb's own filters (as datatrove's FineWebQualityFilter
//! applies them): at least 12% of non-blank lines ending in terminal punctuation, at most 67%
//! of them 30 characters or shorter, at most 1% of the characters in repeated lines, and at
//! most 0.3 line breaks per word.

use std::collections::HashSet;

use super::words::split_words;
use super::{chars, is_terminal_punctuation, python_strip};
use crate::engine::udf::kernels::map_strings_to_bool;

text_udf! {
    /// `fineweb_quality(text)`: true when the text passes FineWeb's quality filters (NULL for
    /// NULL).
    FinewebQuality, "fineweb_quality",
    returns: |name, args| super::super::exactly_one(name, args, datafusion::arrow::datatypes::DataType::Boolean),
    invoke: |name, args| map_strings_to_bool(name, args, |s: &str| fineweb_quality(s).is_none()),
}

/// The first of FineWeb's filters `text` fails, or `None` when it passes them all.
pub fn fineweb_quality(text: &str) -> Option<&'static str> {
    let lines: Vec<&str> = text
        .split('\n')
        .filter(|l| !python_strip(l).is_empty())
        .collect();
    if lines.is_empty() {
        return Some("empty");
    }
    let n = lines.len() as f64;
    let punctuated = lines
        .iter()
        .filter(|l| l.chars().last().is_some_and(is_terminal_punctuation))
        .count();
    if (punctuated as f64) / n < 0.12 {
        return Some("line_punct_ratio");
    }
    let short = lines.iter().filter(|l| chars(l) <= 30).count();
    if short as f64 / n > 0.67 {
        return Some("short_line_ratio");
    }
    let mut seen = HashSet::with_capacity(lines.len());
    let repeated: usize = lines
        .iter()
        .filter(|l| !seen.insert(**l))
        .map(|l| chars(l))
        .sum();
    let text_chars = text.chars().filter(|&c| c != '\n').count();
    if repeated as f64 / text_chars as f64 > 0.01 {
        return Some("char_dup_ratio");
    }
    let mut words = Vec::new();
    split_words(text, &mut words);
    let breaks = text.matches('\n').count();
    if breaks as f64 / words.len() as f64 > 0.3 {
        return Some("list_ratio");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_filter_at_its_boundary() {
        let sentence = "This line is long enough to pass the short line test.";
        assert_eq!(fineweb_quality(sentence), None);
        assert_eq!(fineweb_quality("  \n \n"), Some("empty"));
        assert_eq!(
            fineweb_quality("no punctuation at the end of this line"),
            Some("line_punct_ratio")
        );
        let short = format!("{sentence}\nshort.\nshort too.\nand this.");
        assert_eq!(fineweb_quality(&short), Some("short_line_ratio"));
        let repeated = format!("{sentence}\n{sentence}");
        assert_eq!(fineweb_quality(&repeated), Some("char_dup_ratio"));
        let list = "A long enough first line, of the list that follows here:\nit.\nis.\na.\nlist.";
        assert_eq!(fineweb_quality(list), Some("short_line_ratio"));
    }
}
