//! The shingles of a document for near-duplicate detection: the text is lower-cased, its
//! punctuation (Unicode category P) removed and its runs of white space (Unicode White_Space)
//! collapsed to one space; the shingles are its word n-grams, or its character n-grams for
//! text written without spaces between words (Chinese, Japanese, Thai, …). Each shingle is
//! hashed to 64 bits.

use std::str::FromStr;
use std::sync::OnceLock;

use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::util::unicode::{class_ranges, in_ranges};

/// What a shingle is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShingleUnit {
    /// Word n-grams, or character n-grams for a document mostly in a script written without
    /// spaces between words.
    Auto,
    Word,
    Char,
}

impl ShingleUnit {
    /// The name a pipeline file gives the unit.
    pub fn name(self) -> &'static str {
        match self {
            ShingleUnit::Auto => "auto",
            ShingleUnit::Word => "word",
            ShingleUnit::Char => "char",
        }
    }
}

impl FromStr for ShingleUnit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(ShingleUnit::Auto),
            "word" => Ok(ShingleUnit::Word),
            "char" => Ok(ShingleUnit::Char),
            other => Err(format!("unknown shingle unit '{other}' (auto, word, char)")),
        }
    }
}

/// How documents are cut into shingles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShingleSpec {
    pub unit: ShingleUnit,
    /// Words per shingle.
    pub word_ngram: usize,
    /// Characters per shingle.
    pub char_ngram: usize,
    /// Seeds the shingle hash.
    pub seed: u64,
}

/// Cuts documents into hashed shingles, reusing its buffers from one document to the next.
#[derive(Debug)]
pub struct Shingler {
    spec: ShingleSpec,
    /// The normalised text as UTF-8 bytes.
    normalised: Vec<u8>,
    /// Byte offsets of the starts of the words of `normalised`.
    words: Vec<usize>,
    /// Byte offsets of the starts of words (or characters) and an end sentinel.
    bounds: Vec<usize>,
}

/// What normalising does with an ASCII byte.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ascii {
    Keep(u8),
    Space,
    Drop,
}

const ASCII: [Ascii; 128] = {
    let mut table = [Ascii::Drop; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = if c.is_ascii_whitespace() || c == 0x0B {
            Ascii::Space
        } else if c.is_ascii_punctuation() && !is_ascii_symbol(c) {
            Ascii::Drop
        } else {
            Ascii::Keep(c.to_ascii_lowercase())
        };
        b += 1;
    }
    table
};

/// ASCII punctuation characters that Unicode puts in category S (symbols), not P.
const fn is_ascii_symbol(c: u8) -> bool {
    matches!(
        c,
        b'$' | b'+' | b'<' | b'=' | b'>' | b'^' | b'`' | b'|' | b'~'
    )
}

impl Shingler {
    pub fn new(spec: ShingleSpec) -> Self {
        Self {
            spec,
            normalised: Vec::new(),
            words: Vec::new(),
            bounds: Vec::new(),
        }
    }

    /// How it cuts documents.
    pub fn spec(&self) -> ShingleSpec {
        self.spec
    }

    /// The hashes of the shingles of `text`, in text order, in `out` (empty for a text with
    /// nothing left after normalising). A text shorter than one shingle is one shingle.
    pub fn hashes(&mut self, text: &str, out: &mut Vec<u64>) {
        out.clear();
        let by_char = self.normalise(text);
        let text = self.normalised.as_slice();
        if text.is_empty() {
            return;
        }
        let seed = self.spec.seed;
        self.bounds.clear();
        let (n, gap) = if by_char {
            let starts = (0..text.len()).filter(|&i| text[i] & 0xC0 != 0x80);
            self.bounds.extend(starts);
            self.bounds.push(text.len());
            (self.spec.char_ngram, 0)
        } else {
            // A word's shingle ends one byte (the space) before the start of the next word.
            self.bounds.extend_from_slice(&self.words);
            self.bounds.push(text.len() + 1);
            (self.spec.word_ngram, 1)
        };
        let units = self.bounds.len() - 1;
        if units <= n {
            out.push(xxh3_64_with_seed(text, seed));
            return;
        }
        let bounds = &self.bounds;
        out.extend(
            bounds
                .iter()
                .zip(&bounds[n..])
                .map(|(&start, &end)| xxh3_64_with_seed(&text[start..end - gap], seed)),
        );
    }

    /// The distinct shingle hashes of `text`, sorted: its shingle set, for exact similarity.
    pub fn set(&mut self, text: &str, out: &mut Vec<u64>) {
        self.hashes(text, out);
        out.sort_unstable();
        out.dedup();
    }

    /// Normalises `text` into `self.normalised` and its word starts into `self.words`;
    /// returns whether it is to be cut into characters.
    fn normalise(&mut self, text: &str) -> bool {
        let out = &mut self.normalised;
        let words = &mut self.words;
        out.clear();
        words.clear();
        let mut space = false;
        let mut push = |out: &mut Vec<u8>, bytes: &[u8], space: &mut bool| {
            if out.is_empty() {
                words.push(0);
            } else if *space {
                out.push(b' ');
                words.push(out.len());
            }
            *space = false;
            out.extend_from_slice(bytes);
        };
        if text.is_ascii() {
            for &b in text.as_bytes() {
                match ASCII[b as usize] {
                    Ascii::Keep(c) => push(out, &[c], &mut space),
                    Ascii::Space => space = true,
                    Ascii::Drop => {}
                }
            }
            return self.spec.unit == ShingleUnit::Char;
        }
        let (mut unspaced, mut all) = (0usize, 0usize);
        let mut utf8 = [0u8; 4];
        for c in text.to_lowercase().chars() {
            if c.is_whitespace() {
                space = true;
            } else if !is_punctuation(c) {
                all += 1;
                unspaced += usize::from(is_unspaced_script(c));
                push(out, c.encode_utf8(&mut utf8).as_bytes(), &mut space);
            }
        }
        match self.spec.unit {
            ShingleUnit::Word => false,
            ShingleUnit::Char => true,
            ShingleUnit::Auto => unspaced * 2 > all,
        }
    }

    /// The normalised form of `text`.
    #[cfg(test)]
    pub fn normalised(&mut self, text: &str) -> String {
        self.normalise(text);
        String::from_utf8(self.normalised.clone()).expect("normalising keeps UTF-8")
    }

    /// The shingles of `text` as strings, sorted: what [`Shingler::hashes`] hashes.
    #[cfg(test)]
    pub fn shingles(&mut self, text: &str) -> Vec<String> {
        let by_char = self.normalise(text);
        let normalised = self.normalised(text);
        if normalised.is_empty() {
            return Vec::new();
        }
        let (units, n, sep): (Vec<String>, _, _) = if by_char {
            let chars = normalised.chars().map(String::from).collect();
            (chars, self.spec.char_ngram, "")
        } else {
            let words = normalised.split(' ').map(String::from).collect();
            (words, self.spec.word_ngram, " ")
        };
        let mut all: Vec<String> = if units.len() <= n {
            vec![units.join(sep)]
        } else {
            units.windows(n).map(|w| w.join(sep)).collect()
        };
        all.sort();
        all.dedup();
        all
    }
}

/// True for characters of Unicode general category P (punctuation).
pub fn is_punctuation(c: char) -> bool {
    if c.is_ascii() {
        return ASCII[c as usize] == Ascii::Drop;
    }
    static P: OnceLock<Vec<(char, char)>> = OnceLock::new();
    in_ranges(class_ranges(&P, r"\p{P}"), c)
}

/// Han, Hiragana, Katakana, Thai, Lao, Tibetan, Myanmar and Khmer.
fn is_unspaced_script(c: char) -> bool {
    matches!(u32::from(c),
        0x0E00..=0x0FFF
        | 0x1000..=0x109F
        | 0x1780..=0x17FF
        | 0x2E80..=0x2FDF
        | 0x3005..=0x3007
        | 0x3021..=0x3029
        | 0x3040..=0x30FF
        | 0x31F0..=0x31FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xF900..=0xFAFF
        | 0xFF66..=0xFF9F
        | 0x20000..=0x3FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(unit: ShingleUnit) -> ShingleSpec {
        ShingleSpec {
            unit,
            word_ngram: 3,
            char_ngram: 2,
            seed: 7,
        }
    }

    fn normalised(text: &str) -> String {
        Shingler::new(spec(ShingleUnit::Auto)).normalised(text)
    }

    fn strings(items: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = items.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    }

    #[test]
    fn normalising_lowercases_drops_punctuation_and_collapses_space() {
        assert_eq!(
            normalised("  Hello,\tWORLD!!  It's\n\n  fine. "),
            "hello world its fine"
        );
        assert_eq!(normalised("«Ça va?» — Ünïcode…"), "ça va ünïcode");
        assert_eq!(normalised("ΣΊΣΥΦΟΣ"), "σίσυφος");
        assert_eq!(normalised("你好，世界。「測試」"), "你好世界測試");
        assert_eq!(normalised("a\u{3000}b\u{a0}c\u{b}d"), "a b c d");
        assert_eq!(normalised("x = $5 + 3 ^ 2 | y"), "x = $5 + 3 ^ 2 | y");
        assert_eq!(normalised("...!!!"), "");
        assert_eq!(normalised(""), "");
    }

    #[test]
    fn punctuation_is_unicode_category_p() {
        for c in ['.', '_', '¡', '§', '«', '‐', '。', '、', '「', '·', '؟'] {
            assert!(is_punctuation(c), "{c:?}");
        }
        for c in ['$', '+', '©', '€', 'a', '中', '0', ' ', '\u{1b}'] {
            assert!(!is_punctuation(c), "{c:?}");
        }
    }

    #[test]
    fn word_shingles_are_n_word_windows() {
        let mut s = Shingler::new(spec(ShingleUnit::Word));
        assert_eq!(
            s.shingles("The cat, the CAT sat on."),
            strings(&["the cat the", "cat the cat", "the cat sat", "cat sat on"])
        );
        let mut hashes = Vec::new();
        s.hashes("The cat, the CAT sat on.", &mut hashes);
        assert_eq!(hashes.len(), 4);
        s.set("The cat, the cat, the cat.", &mut hashes);
        assert_eq!(hashes.len(), 2, "a set: 'the cat the' and 'cat the cat'");
        assert!(hashes.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn short_and_empty_texts() {
        let mut s = Shingler::new(spec(ShingleUnit::Word));
        let (mut a, mut b) = (Vec::new(), Vec::new());
        s.hashes("Two words", &mut a);
        assert_eq!(a.len(), 1, "fewer words than n is one shingle");
        s.hashes("two   WORDS!", &mut b);
        assert_eq!(a, b, "the same after normalising");
        s.hashes("exactly three words", &mut a);
        assert_eq!(a.len(), 1);
        s.hashes(" ?! ", &mut a);
        assert!(a.is_empty(), "nothing left after normalising");
        let mut chars = Shingler::new(spec(ShingleUnit::Char));
        assert_eq!(chars.shingles("字"), ["字"]);
        assert!(chars.shingles("。").is_empty());
    }

    #[test]
    fn cjk_text_is_cut_into_characters_automatically() {
        let mut s = Shingler::new(spec(ShingleUnit::Auto));
        assert_eq!(s.shingles("你好，世界"), strings(&["你好", "好世", "世界"]));
        assert_eq!(
            s.shingles("日本語のテキスト"),
            strings(&["日本", "本語", "語の", "のテ", "テキ", "キス", "スト"])
        );
        assert_eq!(
            s.shingles("ภาษาไทย"),
            strings(&["ภา", "าษ", "ษา", "าไ", "ไท", "ทย"])
        );
        // Mostly Latin with a Han character, and Korean (written with spaces): words.
        assert_eq!(
            s.shingles("see 中 the docs now"),
            strings(&["see 中 the", "中 the docs", "the docs now"])
        );
        assert_eq!(
            s.shingles("한국어 문장 입니다 네"),
            strings(&["한국어 문장 입니다", "문장 입니다 네"])
        );
        let mut chars = Shingler::new(spec(ShingleUnit::Char));
        assert_eq!(chars.shingles("Ab c"), strings(&["ab", "b ", " c"]));
        let mut words = Shingler::new(spec(ShingleUnit::Word));
        assert_eq!(words.shingles("你好，世界"), ["你好世界"]);
    }

    #[test]
    fn the_hashes_are_the_hashes_of_the_shingles() {
        let mut s = Shingler::new(spec(ShingleUnit::Auto));
        for text in [
            "The cat, the CAT sat on.",
            "你好，世界",
            "Ça  va, très bien!",
            "a",
        ] {
            let mut hashes = Vec::new();
            s.set(text, &mut hashes);
            let mut expected: Vec<u64> = s
                .shingles(text)
                .iter()
                .map(|shingle| xxh3_64_with_seed(shingle.as_bytes(), 7))
                .collect();
            expected.sort_unstable();
            assert_eq!(hashes, expected, "{text}");
        }
    }

    #[test]
    fn the_seed_changes_the_hashes() {
        let mut a = Shingler::new(spec(ShingleUnit::Word));
        let mut b = Shingler::new(ShingleSpec {
            seed: 8,
            ..spec(ShingleUnit::Word)
        });
        let (mut x, mut y) = (Vec::new(), Vec::new());
        a.hashes("one two three four", &mut x);
        b.hashes("one two three four", &mut y);
        assert_ne!(x, y);
    }
}
