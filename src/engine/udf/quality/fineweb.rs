//! `fineweb_quality(text)`: FineWeb's own filters (as datatrove's FineWebQualityFilter
//! applies them): at least 12% of non-blank lines ending in terminal punctuation, at most 67%
//! of them 30 characters or shorter, at most 1% of the characters in repeated lines, and at
//! most 0.3 line breaks per word.

use std::collections::HashSet;

use super::words::split_words;
use super::{
    Bound, Judge, Rule, Verdict, chars, is_terminal_punctuation, python_strip, rule, share,
};

/// What FineWeb's filters measure, in the order they are taken.
pub const MEASURES: &[&str] = &[
    "lines",
    "line_punct_ratio",
    "short_line_ratio",
    "char_dup_ratio",
    "list_ratio",
];

/// datatrove's FineWebQualityFilter defaults.
pub const RULES: &[Rule] = &[
    rule(0, Bound::AtLeast(1.0), "empty"),
    rule(1, Bound::AtLeast(0.12), "line_punct_ratio"),
    rule(2, Bound::AtMost(0.67), "short_line_ratio"),
    rule(3, Bound::AtMost(0.01), "char_dup_ratio"),
    rule(4, Bound::AtMost(0.3), "list_ratio"),
];

/// Takes FineWeb's measures of `text`: its non-blank lines, the share ending in terminal
/// punctuation and the share of 30 characters or fewer, the characters in repeated lines,
/// and line breaks per word.
pub fn measure(text: &str, judge: &mut Judge) -> Verdict {
    let lines: Vec<&str> = text
        .split('\n')
        .filter(|l| !python_strip(l).is_empty())
        .collect();
    judge.set(0, lines.len() as f64)?;
    let punctuated = lines
        .iter()
        .filter(|l| l.chars().last().is_some_and(is_terminal_punctuation))
        .count();
    judge.set(1, share(punctuated, lines.len()))?;
    let short = lines.iter().filter(|l| chars(l) <= 30).count();
    judge.set(2, share(short, lines.len()))?;
    let mut seen = HashSet::with_capacity(lines.len());
    let repeated: usize = lines
        .iter()
        .filter(|l| !seen.insert(**l))
        .map(|l| chars(l))
        .sum();
    let text_chars = text.chars().filter(|&c| c != '\n').count();
    judge.set(3, share(repeated, text_chars))?;
    let mut words = Vec::new();
    split_words(text, &mut words);
    judge.set(4, share(text.matches('\n').count(), words.len()))
}

/// The first of FineWeb's filters `text` fails, or `None` when it passes them all.
pub fn fineweb_quality(text: &str) -> Option<&'static str> {
    measure(text, &mut Judge::judging(RULES, MEASURES.len())).break_value()
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
