//! OpenAI's `cl100k_base` and `o200k_base` encodings, counted: tiktoken's pre-tokenization, then
//! each piece's tokens by the byte-pair encoder of the `bpe-openai` crate.
//!
//! bpe-openai's own `count` takes its regex's scratch space from a shared pool for every piece
//! (a lock per word on all but one thread) and allocates its encoder twice per piece. Here the
//! pre-tokenizer keeps its scratch space per thread, and each thread remembers the counts of the
//! short pieces it has seen — a piece's tokens depend on its bytes alone, and most pieces of a
//! corpus are frequent words. The counts are the same, row by row (`benches/token_count.rs`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use regex_automata::meta::{Cache, Regex};
use regex_automata::{Anchored, Input};

/// The two encodings, by their index in the per-thread state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Cl100kBase = 0,
    O200kBase = 1,
}

/// tiktoken's patterns. Its `\s+(?!\S)` (whitespace not followed by a non-space) has no
/// look-ahead in a linear-time regex; as bpe-openai does, it is `\s+$` in the first pattern and a
/// second pattern `\s+\s` whose match gives back its last character, before a plain `\s+`.
const CL100K_PIECES: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+$";
const O200K_PIECES: &str = concat!(
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+$",
);
const SPACES_BEFORE_ONE_MORE: &str = r"\s+\s";
const SPACES: &str = r"\s+";

/// Pieces up to this many bytes have their counts remembered.
const MEMO_PIECE_BYTES: usize = 24;
/// Counts each thread remembers per encoding; beyond it, new pieces are counted every time.
const MEMO_PIECES: usize = 1 << 17;

static SPLITTERS: LazyLock<[Regex; 2]> = LazyLock::new(|| {
    let splitter = |pieces| {
        Regex::new_many(&[pieces, SPACES_BEFORE_ONE_MORE, SPACES])
            .expect("tiktoken's patterns compile")
    };
    [splitter(CL100K_PIECES), splitter(O200K_PIECES)]
});

/// Counts of pieces by their bytes (foldhash: fast on keys of a few bytes).
type PieceCounts = HashMap<Box<[u8]>, u32, foldhash::fast::FixedState>;

/// What a thread keeps between texts, per encoding: the regex's scratch space and the counts
/// of the pieces it has met.
#[derive(Default)]
struct ThreadState {
    caches: [Option<Cache>; 2],
    memo: [PieceCounts; 2],
    /// The [`GENERATION`] the memo belongs to.
    generation: u64,
}

/// Bumped by [`forget_pieces`]: a thread whose memo is of an older generation clears it.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Every thread forgets the piece counts it remembers before it next counts: a run measured
/// after another starts as cold as a fresh process would.
pub fn forget_pieces() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

thread_local! {
    static STATE: RefCell<ThreadState> = RefCell::default();
}

impl Encoding {
    fn bpe(self) -> &'static bpe_openai::byte_pair_encoding::BytePairEncoding {
        match self {
            Encoding::Cl100kBase => &bpe_openai::cl100k_base().bpe,
            Encoding::O200kBase => &bpe_openai::o200k_base().bpe,
        }
    }

    /// Tokens of `text` as ordinary text (no special tokens).
    pub fn count(self, text: &str) -> usize {
        let splitter = &SPLITTERS[self as usize];
        let bpe = self.bpe();
        STATE.with_borrow_mut(|state| {
            let generation = GENERATION.load(Ordering::Relaxed);
            if state.generation != generation {
                state.memo.iter_mut().for_each(PieceCounts::clear);
                state.generation = generation;
            }
            let ThreadState { caches, memo, .. } = state;
            let cache = caches[self as usize].get_or_insert_with(|| splitter.create_cache());
            let memo = &mut memo[self as usize];
            let mut tokens = 0;
            let mut start = 0;
            while let Some(end) = next_piece(splitter, cache, text, start) {
                tokens += piece_tokens(bpe, memo, &text.as_bytes()[start..end]);
                start = end;
            }
            tokens
        })
    }
}

/// The end of the piece that starts at `start`, or `None` at the end of `text`.
fn next_piece(splitter: &Regex, cache: &mut Cache, text: &str, start: usize) -> Option<usize> {
    let input = Input::new(&text[start..]).anchored(Anchored::Yes);
    let found = splitter.search_with(cache, &input)?;
    let mut end = start + found.end();
    if found.pattern().as_usize() == 1 {
        // `\s+\s`: the last whitespace character is left for the next piece.
        let last = text[start..end].chars().next_back()?;
        end -= last.len_utf8();
    }
    (end > start).then_some(end)
}

/// Tokens of one piece, remembered when it is short.
fn piece_tokens(
    bpe: &bpe_openai::byte_pair_encoding::BytePairEncoding,
    memo: &mut PieceCounts,
    piece: &[u8],
) -> usize {
    if piece.len() > MEMO_PIECE_BYTES {
        return bpe.count(piece);
    }
    if let Some(&n) = memo.get(piece) {
        return n as usize;
    }
    let n = bpe.count(piece);
    if memo.len() < MEMO_PIECES {
        memo.insert(piece.into(), n as u32);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_agree_with_bpe_openai() {
        let texts = [
            "",
            "hello world",
            "  leading and trailing spaces   ",
            "tabs\tand\nnew lines\r\n\n  indented\n",
            "numbers 1234567 and 3.14159, emoji 🎉🎉 and CJK 你好，世界",
            "contractions: they're, I'LL, we've; punctuation!!! ... --- ///",
            "trailing spaces before newline   \n   next",
        ];
        for text in texts {
            for _ in 0..2 {
                assert_eq!(
                    Encoding::Cl100kBase.count(text),
                    bpe_openai::cl100k_base().count(text),
                    "cl100k {text:?}"
                );
                assert_eq!(
                    Encoding::O200kBase.count(text),
                    bpe_openai::o200k_base().count(text),
                    "o200k {text:?}"
                );
            }
        }
    }
}
