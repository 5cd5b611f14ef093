//! `gopher_repetition(text)`: Gopher's repetition rules (Rae et al. 2021, table A1, as
//! datatrove's GopherRepetitionFilter applies them): duplicate paragraphs at most 30% by count
//! and 20% of the characters, the same for lines; the most frequent 2-, 3- and 4-gram of words
//! at most 20%, 18% and 16% of the characters; the characters in repeated 5- to 10-grams at most
//! 15%, 14%, 13%, 12%, 11% and 10%.

use std::collections::{HashMap, HashSet};

use super::chars;
use super::words::split_words;
use crate::engine::udf::kernels::map_strings_to_bool;

text_udf! {
    /// `gopher_repetition(text)`: true when the text passes Gopher's repetition rules (NULL
    /// for NULL).
    GopherRepetition, "gopher_repetition",
    returns: |name, args| super::super::exactly_one(name, args, datafusion::arrow::datatypes::DataType::Boolean),
    invoke: |name, args| map_strings_to_bool(name, args, |s: &str| gopher_repetition(s).is_none()),
}

const TOP_N_GRAMS: [(usize, f64, &str); 3] = [
    (2, 0.20, "top_2_gram"),
    (3, 0.18, "top_3_gram"),
    (4, 0.16, "top_4_gram"),
];

const DUP_N_GRAMS: [(usize, f64, &str); 6] = [
    (5, 0.15, "duplicated_5_n_grams"),
    (6, 0.14, "duplicated_6_n_grams"),
    (7, 0.13, "duplicated_7_n_grams"),
    (8, 0.12, "duplicated_8_n_grams"),
    (9, 0.11, "duplicated_9_n_grams"),
    (10, 0.10, "duplicated_10_n_grams"),
];

/// The first of Gopher's repetition rules `text` fails, or `None` when it passes them all.
pub fn gopher_repetition(text: &str) -> Option<&'static str> {
    let length = chars(text) as f64;
    let paragraphs = split_runs(text.trim(), 2);
    let (count, repeated) = duplicates(&paragraphs);
    if count as f64 / paragraphs.len() as f64 > 0.3 {
        return Some("dup_para_frac");
    }
    if repeated as f64 / length > 0.2 {
        return Some("dup_para_char_frac");
    }
    let lines = split_runs(text, 1);
    let (count, repeated) = duplicates(&lines);
    if count as f64 / lines.len() as f64 > 0.3 {
        return Some("dup_line_frac");
    }
    if repeated as f64 / length > 0.2 {
        return Some("dup_line_char_frac");
    }
    let mut words = Vec::new();
    split_words(text, &mut words);
    for (n, limit, rule) in TOP_N_GRAMS {
        if top_n_gram_chars(&words, n) as f64 / length > limit {
            return Some(rule);
        }
    }
    for (n, limit, rule) in DUP_N_GRAMS {
        if repeated_n_gram_chars(&words, n) as f64 / length > limit {
            return Some(rule);
        }
    }
    None
}

/// `text` split at runs of at least `min` newlines, as Python's `re.split(r"\n{min,}")`.
fn split_runs(text: &str, min: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut i) = (0, 0);
    let bytes = text.as_bytes();
    while i < bytes.len() {
        if bytes[i] != b'\n' {
            i += 1;
            continue;
        }
        let run = bytes[i..].iter().take_while(|&&b| b == b'\n').count();
        if run >= min {
            parts.push(&text[start..i]);
            start = i + run;
        }
        i += run;
    }
    parts.push(&text[start..]);
    parts
}

/// How many elements repeat an earlier one, and their characters.
fn duplicates(elements: &[&str]) -> (usize, usize) {
    let mut seen = HashSet::with_capacity(elements.len());
    let (mut count, mut repeated) = (0, 0);
    for element in elements {
        if !seen.insert(*element) {
            count += 1;
            repeated += chars(element);
        }
    }
    (count, repeated)
}

/// Characters of the most frequent `n`-gram (its words joined by spaces) times its count; 0
/// without `n` words. Ties go to the n-gram seen first, as Python's `Counter.most_common`.
fn top_n_gram_chars(words: &[&str], n: usize) -> usize {
    if words.len() < n {
        return 0;
    }
    let mut counts: HashMap<&[&str], (usize, usize)> = HashMap::new();
    for (first, gram) in words.windows(n).enumerate() {
        counts.entry(gram).or_insert((0, first)).0 += 1;
    }
    let best = counts
        .iter()
        .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.1.1.cmp(&a.1.1)));
    best.map_or(0, |(gram, (count, _))| {
        let length: usize = gram.iter().map(|w| chars(w)).sum::<usize>() + n - 1;
        length * count
    })
}

/// Characters of the `n`-grams (words joined without spaces) that repeat an earlier one,
/// skipping past each repeat, as datatrove's `find_all_duplicate`.
fn repeated_n_gram_chars(words: &[&str], n: usize) -> usize {
    let mut seen: HashSet<String> = HashSet::new();
    let (mut repeated, mut i) = (0, 0);
    while i + n <= words.len() {
        let gram: String = words[i..i + n].concat();
        if seen.contains(&gram) {
            repeated += chars(&gram);
            i += n;
        } else {
            seen.insert(gram);
            i += 1;
        }
    }
    repeated
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_on_a_text_that_fails_it() {
        // Even a text without repeats fails when one n-gram is a large share of it.
        let short = "The quick brown fox jumps over the lazy dog near a river bank today.";
        assert_eq!(gopher_repetition(short), Some("top_3_gram"));
        let prose = "Early in the morning the fishermen pushed their boats into the grey \
                     water, checked the nets they had mended by lamplight, and rowed out past \
                     the harbour wall while gulls circled above the market stalls, where \
                     traders were already arranging baskets of bread, cheese and apples.";
        assert_eq!(gopher_repetition(prose), None);
        let paragraphs = format!("{prose}\n\n{prose}\n\nsomething else entirely here");
        assert_eq!(gopher_repetition(&paragraphs), Some("dup_para_frac"));
        let lines = format!("{prose}\nline two is here\n{prose}\nline four is also here\nfive");
        assert_eq!(gopher_repetition(&lines), Some("dup_line_char_frac"));
        let bigram = "buy now ".repeat(3) + "and look at the other things we sell in the shop";
        assert_eq!(gopher_repetition(&bigram), Some("top_2_gram"));
    }

    #[test]
    fn splitting_and_counting_as_python() {
        assert_eq!(split_runs("a\n\nb\n\n\nc\nd", 2), ["a", "b", "c\nd"]);
        assert_eq!(split_runs("a\nb\n", 1), ["a", "b", ""]);
        assert_eq!(duplicates(&["x", "y", "x", "x"]), (2, 2));
        assert_eq!(top_n_gram_chars(&["a", "b", "a", "b", "a"], 2), 6);
        // "ab" "ba" "ab"(repeat, skip 2) → 2 characters.
        assert_eq!(repeated_n_gram_chars(&["a", "b", "a", "b", "a"], 2), 2);
    }
}
