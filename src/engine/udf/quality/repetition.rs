//! `gopher_repetition(text)`: Gopher's repetition rules (Rae et al. 2021, table A1, as
//! datatrove's GopherRepetitionFilter applies them): duplicate paragraphs at most 30% by count
//! and 20% of the characters, the same for lines; the most frequent 2-, 3- and 4-gram of words
//! at most 20%, 18% and 16% of the characters; the characters in repeated 5- to 10-grams at most
//! 15%, 14%, 13%, 12%, 11% and 10%.

use std::collections::{HashMap, HashSet};

use super::words::split_words;
use super::{Bound, Judge, Rule, Verdict, chars, python_strip, rule, share};

/// What Gopher's repetition rules measure, in the order they are taken (datatrove's names).
pub const MEASURES: &[&str] = &[
    "dup_para_frac",
    "dup_para_char_frac",
    "dup_line_frac",
    "dup_line_char_frac",
    "top_2_gram",
    "top_3_gram",
    "top_4_gram",
    "duplicated_5_n_grams",
    "duplicated_6_n_grams",
    "duplicated_7_n_grams",
    "duplicated_8_n_grams",
    "duplicated_9_n_grams",
    "duplicated_10_n_grams",
];

/// datatrove's GopherRepetitionFilter defaults: each measure at most its bound.
pub const RULES: &[Rule] = &[
    rule(0, Bound::AtMost(0.3), "dup_para_frac"),
    rule(1, Bound::AtMost(0.2), "dup_para_char_frac"),
    rule(2, Bound::AtMost(0.3), "dup_line_frac"),
    rule(3, Bound::AtMost(0.2), "dup_line_char_frac"),
    rule(4, Bound::AtMost(0.20), "top_2_gram"),
    rule(5, Bound::AtMost(0.18), "top_3_gram"),
    rule(6, Bound::AtMost(0.16), "top_4_gram"),
    rule(7, Bound::AtMost(0.15), "duplicated_5_n_grams"),
    rule(8, Bound::AtMost(0.14), "duplicated_6_n_grams"),
    rule(9, Bound::AtMost(0.13), "duplicated_7_n_grams"),
    rule(10, Bound::AtMost(0.12), "duplicated_8_n_grams"),
    rule(11, Bound::AtMost(0.11), "duplicated_9_n_grams"),
    rule(12, Bound::AtMost(0.10), "duplicated_10_n_grams"),
];

/// Takes Gopher's repetition measures of `text`: repeated paragraphs and lines (by count and
/// by characters), the most frequent 2- to 4-gram, and the repeated 5- to 10-grams.
pub fn measure(text: &str, judge: &mut Judge) -> Verdict {
    let length = chars(text);
    let paragraphs = split_runs(python_strip(text), 2);
    let (count, repeated) = duplicates(&paragraphs);
    judge.set(0, share(count, paragraphs.len()))?;
    judge.set(1, share(repeated, length))?;
    let lines = split_runs(text, 1);
    let (count, repeated) = duplicates(&lines);
    judge.set(2, share(count, lines.len()))?;
    judge.set(3, share(repeated, length))?;
    let mut words = Vec::new();
    split_words(text, &mut words);
    for (i, n) in (2..=4).enumerate() {
        judge.set(4 + i, share(top_n_gram_chars(&words, n), length))?;
    }
    for (i, n) in (5..=10).enumerate() {
        judge.set(7 + i, share(repeated_n_gram_chars(&words, n), length))?;
    }
    Verdict::Continue(())
}

/// The first of Gopher's repetition rules `text` fails, or `None` when it passes them all.
pub fn gopher_repetition(text: &str) -> Option<&'static str> {
    measure(text, &mut Judge::judging(RULES, MEASURES.len())).break_value()
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
/// skipping past each repeat, as datatrove's `find_all_duplicate`. An n-gram is known by the
/// 128-bit hash of its joined bytes, computed without joining them.
fn repeated_n_gram_chars(words: &[&str], n: usize) -> usize {
    let mut seen: HashSet<u128> = HashSet::new();
    let (mut repeated, mut i) = (0, 0);
    while i + n <= words.len() {
        let gram = &words[i..i + n];
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        gram.iter().for_each(|w| hasher.update(w.as_bytes()));
        if seen.insert(hasher.digest128()) {
            i += 1;
        } else {
            repeated += gram.iter().map(|w| chars(w)).sum::<usize>();
            i += n;
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

    /// Unique text of `n` characters: letters that never repeat a word.
    fn unique(seed: usize, n: usize) -> String {
        let letters: Vec<char> = ('a'..='z').collect();
        (0..n)
            .map(|i| letters[(i * 7 + seed * 11 + i / 26) % 26])
            .collect()
    }

    /// The paragraph and line rules on texts exactly at their default bounds (kept) and just
    /// beyond (dropped with the rule's name).
    #[test]
    fn paragraph_and_line_rules_at_their_exact_bounds() {
        for (separator, count_rule, chars_rule) in [
            ("\n\n", "dup_para_frac", "dup_para_char_frac"),
            ("\n", "dup_line_frac", "dup_line_char_frac"),
        ] {
            // 3 repeats in 10 parts is 0.3; 4 in 11 is beyond.
            let parts = |repeats: usize| {
                let mut all: Vec<String> = (0..6).map(|i| unique(i, 40)).collect();
                all.extend(vec!["xy".to_string(); repeats + 1]);
                all.join(separator)
            };
            assert_ne!(gopher_repetition(&parts(3)), Some(count_rule));
            assert_eq!(gopher_repetition(&parts(4)), Some(count_rule));
            // P P Q R: the 10 characters of the repeated P are 0.2 of 50, and beyond it of 49.
            let chars = |total: usize| {
                let r = total - 20 - 12 - 3 * separator.len();
                let p = unique(1, 10);
                let text = [p.clone(), p, unique(2, 12), unique(3, r)].join(separator);
                assert_eq!(text.chars().count(), total);
                text
            };
            assert_ne!(gopher_repetition(&chars(50)), Some(chars_rule));
            assert_eq!(gopher_repetition(&chars(49)), Some(chars_rule));
        }
        // Paragraphs are taken from the text stripped as str.strip() strips it.
        assert_eq!(
            split_runs(python_strip("\u{1f}a\n\nb\u{1c}"), 2),
            ["a", "b"]
        );
    }
}
