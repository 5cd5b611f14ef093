//! Unicode character classes as sorted ranges, read once from regex-syntax's tables, and a
//! binary search over them.

use std::sync::OnceLock;

/// The ranges of the class `pattern` (such as `\p{P}`), kept in `cell`; empty when the
/// pattern is not a plain Unicode class (the callers' patterns are fixed and valid).
pub fn class_ranges(
    cell: &'static OnceLock<Vec<(char, char)>>,
    pattern: &str,
) -> &'static [(char, char)] {
    cell.get_or_init(|| {
        use regex_syntax::hir::{Class, HirKind};
        match regex_syntax::parse(pattern).map(|hir| hir.into_kind()) {
            Ok(HirKind::Class(Class::Unicode(class))) => class
                .ranges()
                .iter()
                .map(|r| (r.start(), r.end()))
                .collect(),
            _ => Vec::new(),
        }
    })
}

/// Whether `c` falls in one of the sorted `ranges`.
pub fn in_ranges(ranges: &[(char, char)], c: char) -> bool {
    let at = ranges.partition_point(|&(_, end)| end < c);
    ranges.get(at).is_some_and(|&(start, _)| start <= c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_read_and_searched() {
        static CELL: OnceLock<Vec<(char, char)>> = OnceLock::new();
        let ranges = class_ranges(&CELL, r"\p{Sentence_Terminal}");
        assert!(in_ranges(ranges, '.') && in_ranges(ranges, '。'));
        assert!(!in_ranges(ranges, ',') && !in_ranges(ranges, 'a'));
    }
}
