//! Quality filters as datatrove applies them to FineWeb, one decision per text (true: keep):
//! `gopher_quality`, `gopher_repetition` and `fineweb_quality`, with datatrove's defaults. Each counts words as
//! spaCy's blank English tokenizer does ([`words`]) and characters as Python does (code
//! points).

mod fineweb;
mod gopher;
mod repetition;
pub mod words;

use std::sync::OnceLock;

use crate::util::unicode::{class_ranges, in_ranges};

pub use fineweb::{FinewebQuality, fineweb_quality};
pub use gopher::{GopherQuality, gopher_quality};
pub use repetition::{GopherRepetition, gopher_repetition};

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

/// Python's `str.strip()` without arguments: Unicode white space.
fn python_strip(s: &str) -> &str {
    s.trim_matches(char::is_whitespace)
}

/// Characters (code points), as Python's `len`.
fn chars(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
