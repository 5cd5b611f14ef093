//! `gopher_quality(text)`: Gopher's quality rules (Rae et al. 2021, as datatrove's
//! GopherQualityFilter applies them): 50–100,000 words that are not only punctuation, of mean
//! length 3–10; `#` and ellipses at most 0.1 per word; at most 90% of lines starting with a
//! bullet and 30% ending with an ellipsis; at least 80% of words with a letter; at least two of
//! the stop words `the be to of and that have with`.

use super::words::split_words;
use super::{
    Bound, Judge, Rule, Verdict, chars, is_punctuation, is_python_alpha, python_lines,
    python_lstrip, python_rstrip, rule, share,
};

const STOP_WORDS: [&str; 8] = ["the", "be", "to", "of", "and", "that", "have", "with"];

/// What Gopher's quality rules measure, in the order they are taken.
pub const MEASURES: &[&str] = &[
    "words",
    "mean_word_length",
    "hash_ratio",
    "ellipsis_ratio",
    "bullet_lines_ratio",
    "end_ellipsis_lines_ratio",
    "alpha_words_ratio",
    "stop_words",
];

/// datatrove's GopherQualityFilter defaults.
pub const RULES: &[Rule] = &[
    rule(0, Bound::AtLeast(50.0), "gopher_short_doc"),
    rule(0, Bound::AtMost(100_000.0), "gopher_long_doc"),
    rule(1, Bound::AtLeast(3.0), "gopher_below_avg_threshold"),
    rule(1, Bound::AtMost(10.0), "gopher_above_avg_threshold"),
    rule(2, Bound::AtMost(0.1), "gopher_too_many_hashes"),
    rule(3, Bound::AtMost(0.1), "gopher_too_many_ellipsis"),
    rule(4, Bound::AtMost(0.9), "gopher_too_many_bullets"),
    rule(5, Bound::AtMost(0.3), "gopher_too_many_end_ellipsis"),
    rule(6, Bound::AtLeast(0.8), "gopher_below_alpha_threshold"),
    rule(7, Bound::AtLeast(2.0), "gopher_enough_stop_words"),
];

/// Takes Gopher's quality measures of `text`: words that are not only punctuation and their
/// mean length; `#` and ellipses per word; lines starting with a bullet and ending with an
/// ellipsis; words with a letter; stop words present.
pub fn measure(text: &str, judge: &mut Judge) -> Verdict {
    let mut words = Vec::new();
    split_words(text, &mut words);
    let lengths: Vec<usize> = words
        .iter()
        .filter(|w| w.chars().any(|c| !is_punctuation(c)))
        .map(|w| chars(w))
        .collect();
    judge.set(0, lengths.len() as f64)?;
    judge.set(1, share(lengths.iter().sum(), lengths.len()))?;
    judge.set(2, share(text.matches('#').count(), words.len()))?;
    let ellipses = text.matches("...").count() + text.matches('…').count();
    judge.set(3, share(ellipses, words.len()))?;
    let lines = python_lines(text);
    let lines_where =
        |test: fn(&str) -> bool| share(lines.iter().filter(|l| test(l)).count(), lines.len());
    judge.set(4, lines_where(|l| python_lstrip(l).starts_with(['•', '-'])))?;
    judge.set(
        5,
        lines_where(|l| python_rstrip(l).ends_with("...") || python_rstrip(l).ends_with('…')),
    )?;
    let alphabetic = words
        .iter()
        .filter(|w| w.chars().any(is_python_alpha))
        .count();
    judge.set(6, share(alphabetic, words.len()))?;
    let mut present = [false; STOP_WORDS.len()];
    for word in &words {
        if let Some(i) = STOP_WORDS.iter().position(|s| s == word) {
            present[i] = true;
        }
    }
    judge.set(7, present.iter().filter(|&&p| p).count() as f64)
}

/// The first of Gopher's quality rules `text` fails, or `None` when it passes them all.
pub fn gopher_quality(text: &str) -> Option<&'static str> {
    measure(text, &mut Judge::judging(RULES, MEASURES.len())).break_value()
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

    /// The verdict on `text`, which must not be `rule` (the text sits at its bound).
    fn passes(text: &str, rule: &str) {
        assert_ne!(gopher_quality(text), Some(rule), "{text:?}");
    }

    /// Every rule on a text whose measure is exactly its default bound (kept, as datatrove's
    /// strict comparisons keep it) and one just beyond it (dropped, with the rule's name).
    #[test]
    fn each_rule_at_its_exact_default_bound() {
        let lines = |texts: &[String]| texts.join("\n");
        // Words: 50 and 100,000 kept; 49 and 100,001 not.
        passes(&prose(50), "gopher_short_doc");
        assert_eq!(gopher_quality(&prose(49)), Some("gopher_short_doc"));
        passes(&prose(100_000), "gopher_long_doc");
        assert_eq!(gopher_quality(&prose(100_001)), Some("gopher_long_doc"));
        // Mean word length 3 and 10 exactly.
        let three = "the cat and dog ".repeat(13);
        passes(&three, "gopher_below_avg_threshold");
        let below = format!("{three}of");
        assert_eq!(gopher_quality(&below), Some("gopher_below_avg_threshold"));
        let ten = "wonderland ".repeat(50);
        passes(&ten, "gopher_above_avg_threshold");
        let above = format!("{ten}wonderlands");
        assert_eq!(gopher_quality(&above), Some("gopher_above_avg_threshold"));
        // `#` per word: 7 in 70 words (`#xyz` is two) and 7 in 69.
        let hashes = |k: usize| format!("{} {}", prose(k), "#xyz ".repeat(7));
        passes(&hashes(56), "gopher_too_many_hashes");
        assert_eq!(gopher_quality(&hashes(55)), Some("gopher_too_many_hashes"));
        // Ellipses per word: 6 in 60 words and 6 in 59.
        let ellipses = |k: usize| format!("{}{}", "... ".repeat(6), prose(k));
        passes(&ellipses(54), "gopher_too_many_ellipsis");
        assert_eq!(
            gopher_quality(&ellipses(53)),
            Some("gopher_too_many_ellipsis")
        );
        // Bullet lines: 9 of 10, and 19 of 20.
        let bulleted = |bullets: usize, plain: usize| {
            let mut all = vec!["- the cat sat upon big mat and".to_string(); bullets];
            all.extend(vec![prose(7); plain]);
            lines(&all)
        };
        passes(&bulleted(9, 1), "gopher_too_many_bullets");
        assert_eq!(
            gopher_quality(&bulleted(19, 1)),
            Some("gopher_too_many_bullets")
        );
        // Lines ending in an ellipsis: 3 of 10, and 4 of 10.
        let trailing = |n: usize| {
            let mut all: Vec<String> = (0..n).map(|_| format!("{} ...", prose(6))).collect();
            all.extend((n..10).map(|_| prose(6)));
            lines(&all)
        };
        passes(&trailing(3), "gopher_too_many_end_ellipsis");
        assert_eq!(
            gopher_quality(&trailing(4)),
            Some("gopher_too_many_end_ellipsis")
        );
        // Words with a letter: 60 of 75, and 60 of 76.
        let numbers = |m: usize| format!("{} {}", prose(60), "123 ".repeat(m));
        passes(&numbers(15), "gopher_below_alpha_threshold");
        assert_eq!(
            gopher_quality(&numbers(16)),
            Some("gopher_below_alpha_threshold")
        );
        // A letter as Python's isalpha sees it: Ⅻ (a letter number) is none.
        let roman = format!("{} Ⅻ", numbers(15));
        assert_eq!(gopher_quality(&roman), Some("gopher_below_alpha_threshold"));
        // Stop words: two kinds (each any number of times), and one.
        let two = "the cat and fish sat upon big mats ".repeat(7);
        assert_eq!(gopher_quality(&two), None);
        let one = "the cat from fish sat upon big mats ".repeat(7);
        assert_eq!(gopher_quality(&one), Some("gopher_enough_stop_words"));
    }

    #[test]
    fn lines_are_stripped_as_python_strips_them() {
        // \x1f is white space to str.lstrip(): a bullet after it starts the line.
        let bulleted = (0..10)
            .map(|_| "\u{1f}- the cat sat upon big mat and")
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(gopher_quality(&bulleted), Some("gopher_too_many_bullets"));
    }
}
