//! `collapse_whitespace(text)`: every run of Unicode whitespace other than `\n` becomes one
//! space, then leading and trailing whitespace (newlines included) is removed.

use super::kernels::map_strings;

text_udf! {
    /// `collapse_whitespace(text)`: keeps line structure (`\n`) and turns every other run of
    /// whitespace — tabs, `\r`, no-break and ideographic spaces — into a single ASCII space.
    CollapseWhitespace, "collapse_whitespace",
    returns: super::same_type,
    invoke: |name, args| map_strings(name, args, collapse_whitespace),
}

/// Whitespace that collapses: Unicode `White_Space` except the newline.
fn collapses(c: char) -> bool {
    c != '\n' && c.is_whitespace()
}

/// True when `s` may need collapsing or trimming. A byte scan the compiler vectorises: ASCII
/// whitespace that collapses, two spaces in a row, or a lead byte of a non-ASCII whitespace
/// character (U+0085, U+00A0: 0xC2; U+1680: 0xE1; U+2000–U+205F: 0xE2; U+3000: 0xE3).
fn may_need_collapsing(s: &str) -> bool {
    if s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return true;
    }
    // Every byte but the last, beside its successor (the last byte of a string that does not
    // end in whitespace is neither whitespace nor a lead byte).
    let bytes = s.as_bytes();
    let (this, next) = match bytes.len() {
        0 | 1 => return false,
        n => (&bytes[..n - 1], &bytes[1..]),
    };
    const CHUNK: usize = 64;
    (0..this.len()).step_by(CHUNK).any(|start| {
        let end = (start + CHUNK).min(this.len());
        this[start..end]
            .iter()
            .zip(&next[start..end])
            .fold(false, |found, (&b, &n)| {
                let collapsing_ascii = (b.wrapping_sub(0x09) < 5) & (b != b'\n');
                let lead = (b == 0xc2) | (b.wrapping_sub(0xe1) < 3);
                found | collapsing_ascii | lead | ((b == b' ') & (n == b' '))
            })
    })
}

/// The length in bytes of the collapsing whitespace character at byte `i` of `s`, or `None`.
/// `i` need not be a character boundary: continuation bytes are never whitespace.
fn whitespace_at(s: &str, i: usize) -> Option<usize> {
    match s.as_bytes()[i] {
        b'\t' | 0x0b | 0x0c | b'\r' | b' ' => Some(1),
        0xc2 | 0xe1..=0xe3 => s[i..]
            .chars()
            .next()
            .filter(|&c| collapses(c))
            .map(char::len_utf8),
        _ => None,
    }
}

/// Writes the collapsed and trimmed form of `s` to `out`, or returns `false` when `s` is
/// already in that form.
pub fn collapse_whitespace(s: &str, out: &mut String) -> bool {
    if !may_need_collapsing(s) {
        return false;
    }
    let t = s.trim();
    let (mut i, mut copied) = (0, 0);
    while i < t.len() {
        match whitespace_at(t, i) {
            None => i += 1,
            Some(len) => {
                out.push_str(&t[copied..i]);
                out.push(' ');
                i += len;
                while let Some(len) = (i < t.len()).then(|| whitespace_at(t, i)).flatten() {
                    i += len;
                }
                copied = i;
            }
        }
    }
    out.push_str(&t[copied..]);
    out != s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::udf::kernels::testing::strings;

    #[test]
    fn runs_collapse_newlines_stay_edges_are_trimmed() {
        let got = strings(
            &CollapseWhitespace::default(),
            &[
                Some("  a \t b  "),
                Some("line one\r\nline two"),
                Some("a \n b"),
                Some("\n\n text \n\n"),
                Some("no\u{a0}break\u{3000}ideographic\u{2003}em"),
                Some("already clean"),
                Some("中文\t\t中文"),
                Some(" \t\n "),
                Some(""),
                None,
            ],
        );
        let expected = [
            Some("a b"),
            Some("line one \nline two"),
            Some("a \n b"),
            Some("text"),
            Some("no break ideographic em"),
            Some("already clean"),
            Some("中文 中文"),
            Some(""),
            Some(""),
            None,
        ];
        let expected: Vec<Option<String>> = expected.iter().map(|s| s.map(String::from)).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn the_byte_scan_never_misses_work() {
        let samples = [
            "a b",
            "a  b",
            "a\u{a0}b",
            "a \u{3000}b",
            "日本語テキスト",
            "x\u{2003}y",
            "tab\tx",
            "é è",
            "a \n b",
            "a\n\nb",
            "a \u{85}b",
            "\u{1680}",
            "end ",
            " start",
            "",
        ];
        for s in samples {
            let mut out = String::new();
            if !may_need_collapsing(s) {
                assert!(!collapse_whitespace(s, &mut out), "{s:?}");
            }
        }
        for c in (0..=0x10ffff)
            .filter_map(char::from_u32)
            .filter(|&c| collapses(c) && c != ' ')
        {
            assert!(may_need_collapsing(&format!("a{c}b")), "{c:?}");
        }
        // Long inputs cross the 64-byte chunks of the scan.
        let long = format!("{} {}", "x".repeat(63), "y".repeat(70));
        assert!(!may_need_collapsing(&long));
        assert!(may_need_collapsing(&format!("{}  {}", "x".repeat(63), "y")));
    }

    #[test]
    fn clean_text_is_not_copied() {
        let mut out = String::new();
        assert!(!collapse_whitespace("a b\nc d", &mut out));
        assert!(collapse_whitespace("a  b", &mut out));
        assert_eq!(out, "a b");
    }
}
