//! Quality filters as datatrove applies them to FineWeb: `gopher_quality`,
//! `gopher_repetition`, `c4_quality` (with `c4_clean`) and `fineweb_quality`, one decision per
//! text (true: keep) with datatrove's defaults, and their `_stats` forms, which return what
//! each filter measured (a struct of Float64, NULL where a measure is undefined) so that SQL
//! can set its own thresholds. Each counts words as spaCy's blank English tokenizer does
//! ([`words`]) and characters as Python does (code points).

mod c4;
mod fineweb;
mod gopher;
mod repetition;
mod udf;
pub mod words;

use std::ops::ControlFlow;
use std::sync::OnceLock;

use crate::util::unicode::{class_ranges, in_ranges};

pub use c4::c4_rules;
pub use fineweb::fineweb_quality;
pub use gopher::gopher_quality;
pub use repetition::gopher_repetition;
pub use udf::{C4Clean, QualityFilter};

/// The bound a rule keeps a measure within (a NaN measure, undefined, passes).
#[derive(Debug, Clone, Copy)]
pub enum Bound {
    AtLeast(f64),
    AtMost(f64),
}

/// One rule of a filter: the measure it bounds, the bound, and the reason a failing text is
/// dropped for (datatrove's name for it).
#[derive(Debug)]
pub struct Rule {
    pub measure: usize,
    pub bound: Bound,
    pub name: &'static str,
}

const fn rule(measure: usize, bound: Bound, name: &'static str) -> Rule {
    Rule {
        measure,
        bound,
        name,
    }
}

/// Receives a filter's measures as it takes them. Judging, it stops at the first rule a
/// measure fails; recording, it keeps every measure and never stops.
pub struct Judge<'r> {
    rules: &'r [Rule],
    values: Vec<f64>,
    stop_at_failure: bool,
}

/// What measuring gave: `Break(rule)` when judging stopped at a failed rule.
pub type Verdict = ControlFlow<&'static str>;

impl<'r> Judge<'r> {
    /// A judge that stops at the first failed rule.
    pub fn judging(rules: &'r [Rule], measures: usize) -> Self {
        Self::new(rules, measures, true)
    }

    /// A judge that records every measure.
    pub fn recording(rules: &'r [Rule], measures: usize) -> Self {
        Self::new(rules, measures, false)
    }

    fn new(rules: &'r [Rule], measures: usize, stop_at_failure: bool) -> Self {
        Self {
            rules,
            values: vec![f64::NAN; measures],
            stop_at_failure,
        }
    }

    /// Records measure `measure`; breaks with the first rule on it that `value` fails, when
    /// judging.
    pub fn set(&mut self, measure: usize, value: f64) -> Verdict {
        self.values[measure] = value;
        if !self.stop_at_failure {
            return ControlFlow::Continue(());
        }
        let failed = self.rules.iter().find(|r| {
            r.measure == measure
                && match r.bound {
                    Bound::AtLeast(min) => value < min,
                    Bound::AtMost(max) => value > max,
                }
        });
        match failed {
            Some(r) => ControlFlow::Break(r.name),
            None => ControlFlow::Continue(()),
        }
    }

    /// The measures recorded (NaN where none was taken).
    pub fn values(&self) -> &[f64] {
        &self.values
    }
}

/// `part / whole`, NaN when `whole` is zero.
fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        f64::NAN
    } else {
        part as f64 / whole as f64
    }
}

/// datatrove's PUNCTUATION: ASCII and CJK punctuation, symbols and the control characters.
const PUNCTUATION: &str =
    "!/—”:％１〈&(、━\\【#%「」，】；+^]~“《„';’{|∶´[=-`*．（–？！：$～«〉,><》)?）。…@_.\"}►»";

/// A character of datatrove's PUNCTUATION_SET: PUNCTUATION, control characters (but tab and
/// newline), and its terminal punctuation.
fn is_punctuation(c: char) -> bool {
    let code = u32::from(c);
    matches!(code, 0..=8 | 11..=31 | 127..=159)
        || PUNCTUATION.contains(c)
        || is_terminal_punctuation(c)
}

/// datatrove's TERMINAL_PUNCTUATION: Unicode's Sentence_Terminal, and the Khmer signs
/// ៖ ៙ ៚ (it lacks the few sentence terminals Unicode added since it was written).
fn is_terminal_punctuation(c: char) -> bool {
    if matches!(c, '\u{17D6}' | '\u{17D9}' | '\u{17DA}') {
        return true;
    }
    static TERMINAL: OnceLock<Vec<(char, char)>> = OnceLock::new();
    in_ranges(class_ranges(&TERMINAL, r"\p{Sentence_Terminal}"), c)
}

/// Python's `str.splitlines()`: lines split at \n, \r, \r\n, \v, \f, \x1c–\x1e, \x85,
/// \u2028 and \u2029, without their ends.
fn python_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let is_break = matches!(
            c,
            '\n' | '\r'
                | '\u{0B}'
                | '\u{0C}'
                | '\u{1C}'
                | '\u{1D}'
                | '\u{1E}'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if !is_break {
            continue;
        }
        lines.push(&text[start..i]);
        start = i + c.len_utf8();
        if c == '\r' && chars.peek().is_some_and(|&(_, n)| n == '\n') {
            chars.next();
            start += 1;
        }
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// Python's `str.strip()` without arguments: white space as `str.isspace()` sees it.
fn python_strip(s: &str) -> &str {
    s.trim_matches(is_python_space)
}

/// Python's `str.lstrip()` without arguments.
fn python_lstrip(s: &str) -> &str {
    s.trim_start_matches(is_python_space)
}

/// Python's `str.rstrip()` without arguments.
fn python_rstrip(s: &str) -> &str {
    s.trim_end_matches(is_python_space)
}

/// Python's `str.isalpha()` for one character: a letter (general category L: Lu, Ll, Lt, Lm,
/// Lo) — not the letter numbers (Nl) and combining marks (Other_Alphabetic) that Rust's
/// `char::is_alphabetic` also accepts.
fn is_python_alpha(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    static LETTERS: OnceLock<Vec<(char, char)>> = OnceLock::new();
    in_ranges(class_ranges(&LETTERS, r"\p{L}"), c)
}

/// Python's `str.isspace()` for one character: Unicode white space and the separators
/// \x1c–\x1f.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{1C}'..='\u{1F}')
}

/// Characters (code points), as Python's `len`.
fn chars(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rule of every filter keeps a measure exactly at its default bound and fails one
    /// just beyond it, with datatrove's name for the failure.
    #[test]
    fn each_default_bound_is_inclusive_and_named() {
        let filters = [
            (gopher::RULES, gopher::MEASURES.len()),
            (repetition::RULES, repetition::MEASURES.len()),
            (c4::RULES, c4::MEASURES.len()),
            (fineweb::RULES, fineweb::MEASURES.len()),
        ];
        for (rules, measures) in filters {
            for rule in rules {
                let (at, beyond) = match rule.bound {
                    Bound::AtLeast(min) => (min, min - 1e-9),
                    Bound::AtMost(max) => (max, max + 1e-9),
                };
                let mut judge = Judge::judging(rules, measures);
                assert!(judge.set(rule.measure, at).is_continue(), "{}", rule.name);
                let mut judge = Judge::judging(rules, measures);
                let failed = judge.set(rule.measure, beyond).break_value();
                assert_eq!(failed, Some(rule.name));
            }
        }
        // The defaults, as datatrove sets them.
        let bound = |rules: &[Rule], name: &str| {
            rules
                .iter()
                .find(|r| r.name == name)
                .map(|r| match r.bound {
                    Bound::AtLeast(v) | Bound::AtMost(v) => v,
                })
        };
        assert_eq!(bound(gopher::RULES, "gopher_short_doc"), Some(50.0));
        assert_eq!(bound(gopher::RULES, "gopher_long_doc"), Some(100_000.0));
        assert_eq!(
            bound(gopher::RULES, "gopher_below_alpha_threshold"),
            Some(0.8)
        );
        assert_eq!(bound(repetition::RULES, "top_4_gram"), Some(0.16));
        assert_eq!(
            bound(repetition::RULES, "duplicated_10_n_grams"),
            Some(0.10)
        );
        assert_eq!(bound(c4::RULES, "too_few_sentences"), Some(5.0));
        assert_eq!(bound(fineweb::RULES, "short_line_ratio"), Some(0.67));
        // A NaN measure (a ratio over nothing) fails no rule.
        let mut judge = Judge::judging(fineweb::RULES, fineweb::MEASURES.len());
        assert!(judge.set(1, f64::NAN).is_continue());
    }

    #[test]
    fn lines_and_punctuation_as_python_and_datatrove_see_them() {
        assert_eq!(python_lines("a\nb\r\nc\rd\n"), ["a", "b", "c", "d"]);
        assert_eq!(python_lines("a\n\nb"), ["a", "", "b"]);
        assert!(python_lines("").is_empty());
        for c in ['.', '!', '?', '。', '؟', '#', '…', '\u{1}'] {
            assert!(is_punctuation(c), "{c:?}");
        }
        for c in ['a', '7', ' ', 'é'] {
            assert!(!is_punctuation(c), "{c:?}");
        }
        for c in ['.', '!', '?', '。', '؟', '៙'] {
            assert!(is_terminal_punctuation(c), "{c:?}");
        }
        for c in [',', ':', ';', '、'] {
            assert!(!is_terminal_punctuation(c), "{c:?}");
        }
        assert!(!is_punctuation('z'));
    }

    #[test]
    fn strip_and_isalpha_as_python() {
        // str.strip() removes the separators \x1c–\x1f; Rust's trim does not.
        assert_eq!(python_strip("\u{1f} a \u{1c}"), "a");
        assert_eq!(python_lstrip("\u{1f}- x "), "- x ");
        assert_eq!(python_rstrip(" x...\u{1d}"), " x...");
        // isalpha: letters of every script, not letter numbers or combining marks.
        for c in ['a', 'Z', 'é', 'ß', 'я', '中', 'ǅ', 'ʰ'] {
            assert!(is_python_alpha(c), "{c:?}");
        }
        for c in ['Ⅻ', '\u{0903}', '\u{0301}', '1', '_', ' ', '\u{24B6}'] {
            assert!(!is_python_alpha(c), "{c:?}");
        }
        assert!('Ⅻ'.is_alphabetic() && '\u{0903}'.is_alphabetic());
    }
}
