//! `strip_control(text)`: removes every character of Unicode general category Cc except `\n`
//! and `\t`.

use super::kernels::map_strings;

text_udf! {
    /// `strip_control(text)`: drops C0 and C1 control characters (NUL, ESC, `\r`, backspace,
    /// U+0080–U+009F …) but keeps newlines and tabs.
    StripControl, "strip_control",
    returns: super::same_type,
    invoke: |name, args| map_strings(name, args, strip_control),
}

/// True for the characters `strip_control` removes.
fn stripped(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// True when `s` may hold a stripped character: a C0 control or DEL byte, or the lead byte
/// 0xC2 that starts every C1 control (U+0080–U+009F) in UTF-8. A byte scan written so that
/// the compiler vectorises it: 64 bytes at a time, no branch per byte.
fn may_hold_control(s: &str) -> bool {
    s.as_bytes().chunks(64).any(|chunk| {
        chunk.iter().fold(false, |found, &b| {
            found | ((b < 0x20) & (b != b'\n') & (b != b'\t')) | (b == 0x7f) | (b == 0xc2)
        })
    })
}

/// Writes `s` without its control characters to `out`, or returns `false` when it has none.
pub fn strip_control(s: &str, out: &mut String) -> bool {
    if !may_hold_control(s) || !s.chars().any(stripped) {
        return false;
    }
    out.extend(s.chars().filter(|&c| !stripped(c)));
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::udf::kernels::testing::strings;

    #[test]
    fn controls_go_newlines_and_tabs_stay() {
        let got = strings(
            &StripControl::default(),
            &[
                Some("\u{1b}[33m黄色\u{1b}[m"),
                Some("a\tb\nc\r\n"),
                Some("bo\u{8}bold"),
                Some("nul\u{0}del\u{7f}c1\u{85}\u{9f}"),
                Some("Ä keeps ¢ and \u{a0}"),
                Some("e\u{301} combining stays"),
                Some("😀"),
                Some(""),
                None,
            ],
        );
        let expected = [
            Some("[33m黄色[m"),
            Some("a\tb\nc\n"),
            Some("bobold"),
            Some("nuldelc1"),
            Some("Ä keeps ¢ and \u{a0}"),
            Some("e\u{301} combining stays"),
            Some("😀"),
            Some(""),
            None,
        ];
        let expected: Vec<Option<String>> = expected.iter().map(|s| s.map(String::from)).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn the_byte_scan_never_misses_a_control() {
        for c in (0..=0x10ffff)
            .filter_map(char::from_u32)
            .filter(|&c| stripped(c))
        {
            assert!(may_hold_control(&c.to_string()), "{:?}", c);
        }
    }
}
