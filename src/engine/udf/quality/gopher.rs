//! `gopher_quality(text)`: Gopher's quality rules (Rae et al. 2021, as datatrove's
//! GopherQualityFilter applies them): 50–100,000 words that are not only punctuation, of mean
//! length 3–10; `#` and ellipses at most 0.1 per word; at most 90% of lines starting with a
//! bullet and 30% ending with an ellipsis; at least 80% of words with a letter; at least two of
//! the stop words `the be to of and that have with`.

use super::words::split_words;
use super::{chars, is_punctuation, python_lines};
use crate::engine::udf::kernels::map_strings_to_bool;

const STOP_WORDS: [&str; 8] = ["the", "be", "to", "of", "and", "that", "have", "with"];

text_udf! {
    /// `gopher_quality(text)`: true when the text passes Gopher's quality rules (NULL for
    /// NULL).
    GopherQuality, "gopher_quality",
    returns: |name, args| super::super::exactly_one(name, args, datafusion::arrow::datatypes::DataType::Boolean),
    invoke: |name, args| map_strings_to_bool(name, args, |s: &str| gopher_quality(s).is_none()),
}

/// The first of Gopher's quality rules `text` fails, or `None` when it passes them all.
pub fn gopher_quality(text: &str) -> Option<&'static str> {
    let mut words = Vec::new();
    split_words(text, &mut words);
    let n_words = words.len() as f64;
    let lengths: Vec<usize> = words
        .iter()
        .filter(|w| w.chars().any(|c| !is_punctuation(c)))
        .map(|w| chars(w))
        .collect();
    let non_symbol = lengths.len();
    if non_symbol < 50 {
        return Some("gopher_short_doc");
    }
    if non_symbol > 100_000 {
        return Some("gopher_long_doc");
    }
    let mean = lengths.iter().sum::<usize>() as f64 / non_symbol as f64;
    if mean < 3.0 {
        return Some("gopher_below_avg_threshold");
    }
    if mean > 10.0 {
        return Some("gopher_above_avg_threshold");
    }
    if text.matches('#').count() as f64 / n_words > 0.1 {
        return Some("gopher_too_many_hashes");
    }
    let ellipses = text.matches("...").count() + text.matches('…').count();
    if ellipses as f64 / n_words > 0.1 {
        return Some("gopher_too_many_ellipsis");
    }
    let lines = python_lines(text);
    let share = |test: fn(&str) -> bool| {
        lines.iter().filter(|l| test(l)).count() as f64 / lines.len() as f64
    };
    if share(|l| l.trim_start().starts_with(['•', '-'])) > 0.9 {
        return Some("gopher_too_many_bullets");
    }
    if share(|l| l.trim_end().ends_with("...") || l.trim_end().ends_with('…')) > 0.3 {
        return Some("gopher_too_many_end_ellipsis");
    }
    let alphabetic = words
        .iter()
        .filter(|w| w.chars().any(char::is_alphabetic))
        .count();
    if (alphabetic as f64) / n_words < 0.8 {
        return Some("gopher_below_alpha_threshold");
    }
    let stop_words = STOP_WORDS.iter().filter(|s| words.contains(s)).count();
    if stop_words < 2 {
        return Some("gopher_enough_stop_words");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` words of prose: stop words, mean length about 3.2.
    fn prose(n: usize) -> String {
        let words = [
            "the", "cat", "sat", "upon", "big", "mat", "and", "ate", "of", "that", "fish",
        ];
        (0..n)
            .map(|i| words[i % words.len()])
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn each_rule_at_its_boundary() {
        assert_eq!(gopher_quality(&prose(50)), None);
        assert_eq!(gopher_quality(&prose(49)), Some("gopher_short_doc"));
        // 50 words of one letter: mean length 1.
        assert_eq!(
            gopher_quality(&"a ".repeat(60)),
            Some("gopher_below_avg_threshold")
        );
        // Hashes (`#xyz` is two words): 5 in 65 words is allowed, 12 in 72 is not.
        let hashes = |n: usize| format!("{} {}", prose(60 - n), "#xyz ".repeat(n));
        assert_eq!(gopher_quality(&hashes(5)), None);
        assert_eq!(gopher_quality(&hashes(12)), Some("gopher_too_many_hashes"));
        let bullets = (0..60)
            .map(|_| "- the cat and the dog")
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(gopher_quality(&bullets), Some("gopher_too_many_bullets"));
        let no_stop = "cat dog bird fish ".repeat(20);
        assert_eq!(gopher_quality(&no_stop), Some("gopher_enough_stop_words"));
        let numbers = format!("{} {}", prose(50), "123 456 789 ".repeat(10));
        assert_eq!(
            gopher_quality(&numbers),
            Some("gopher_below_alpha_threshold")
        );
    }
}
