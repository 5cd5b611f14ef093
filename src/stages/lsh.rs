//! The LSH side of near-duplicate detection: band tables that are sorted to find the
//! documents sharing a bucket, union-find over the candidates, and the memory all of it
//! needs. The signatures themselves are in [`crate::engine::udf::minhash`].
//!
//! Documents are numbered by rank: their position in source order among the stage's input.
//! Every structure is indexed by rank, so results do not depend on which thread saw which
//! document, and the root of a cluster is its first document in source order.

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::slice::ParallelSliceMut;

/// One band's bucket key for every document, by rank, written concurrently by the threads
/// that compute signatures, then sorted to bring each bucket's documents together.
#[derive(Debug)]
pub struct BandTable {
    entries: Vec<(AtomicU64, u32)>,
}

impl BandTable {
    /// Bytes one table holds per document.
    pub const BYTES_PER_ROW: usize = std::mem::size_of::<(AtomicU64, u32)>();

    pub fn new(rows: usize) -> Self {
        Self {
            entries: (0..rows as u32).map(|r| (AtomicU64::new(0), r)).collect(),
        }
    }

    pub fn bytes(&self) -> usize {
        self.entries.capacity() * Self::BYTES_PER_ROW
    }

    pub fn set(&self, rank: u32, key: u64) {
        self.entries[rank as usize].0.store(key, Ordering::Relaxed);
    }

    /// Sorts by key (then rank, so each bucket lists its documents in source order) and calls
    /// `bucket` with the ranks of every bucket of two or more documents, skipping `ignored` ones.
    pub fn buckets(mut self, ignored: &RankSet, mut bucket: impl FnMut(&[u32])) {
        self.entries
            .par_sort_unstable_by_key(|(key, rank)| (key.load(Ordering::Relaxed), *rank));
        let mut members = Vec::new();
        let mut start = 0;
        let entries = &self.entries;
        while start < entries.len() {
            let key = entries[start].0.load(Ordering::Relaxed);
            let end = start
                + entries[start..]
                    .iter()
                    .take_while(|(k, _)| k.load(Ordering::Relaxed) == key)
                    .count();
            if end - start > 1 {
                members.clear();
                members.extend(
                    entries[start..end]
                        .iter()
                        .map(|&(_, rank)| rank)
                        .filter(|&rank| !ignored.contains(rank)),
                );
                if members.len() > 1 {
                    bucket(&members);
                }
            }
            start = end;
        }
    }
}

/// A set of ranks, filled concurrently.
#[derive(Debug)]
pub struct RankSet {
    words: Vec<AtomicU64>,
}

impl RankSet {
    pub fn new(rows: usize) -> Self {
        Self {
            words: (0..rows.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    pub fn bytes(&self) -> usize {
        self.words.capacity() * 8
    }

    pub fn insert(&self, rank: u32) {
        self.words[rank as usize / 64].fetch_or(1 << (rank % 64), Ordering::Relaxed);
    }

    /// The number of ranks in the set.
    pub fn count(&self) -> usize {
        self.words
            .iter()
            .map(|w| w.load(Ordering::Relaxed).count_ones() as usize)
            .sum()
    }

    pub fn contains(&self, rank: u32) -> bool {
        self.words[rank as usize / 64].load(Ordering::Relaxed) & (1 << (rank % 64)) != 0
    }
}

/// Disjoint sets of ranks whose root is always the smallest rank of its set: the first
/// document of a cluster in source order.
#[derive(Debug)]
pub struct UnionFind {
    parent: Vec<u32>,
}

impl UnionFind {
    pub fn new(rows: usize) -> Self {
        Self {
            parent: (0..rows as u32).collect(),
        }
    }

    pub fn bytes(&self) -> usize {
        self.parent.capacity() * 4
    }

    /// The number of documents (ranks) it holds.
    pub fn documents(&self) -> usize {
        self.parent.len()
    }

    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grandparent = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grandparent;
            x = grandparent;
        }
        x
    }

    /// Joins the sets of `a` and `b`; false when they were one set already.
    pub fn union(&mut self, a: u32, b: u32) -> bool {
        let (a, b) = (self.find(a), self.find(b));
        if a == b {
            return false;
        }
        let (root, child) = (a.min(b), a.max(b));
        self.parent[child as usize] = root;
        true
    }
}

/// The memory a stage needs, by structure, for `rows` documents.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryNeed {
    /// Every pass: ranks' source rows, union-find, the set of empty documents, and the
    /// verification's texts.
    pub fixed: u64,
    /// With `verify`: where each document's text is, and the texts held beyond the input.
    pub verify: u64,
    /// One band table.
    pub per_band: u64,
}

impl MemoryNeed {
    /// `verify_texts`: with `verify`, the bytes of text the stage holds beyond its input (0 when
    /// it shares the input's arrays in memory).
    pub fn new(rows: u64, verify_texts: Option<u64>) -> Self {
        let verify = verify_texts.map_or(0, |texts| rows * 8 + texts);
        Self {
            fixed: rows * 8 + rows * 4 + rows.div_ceil(64) * 8 + verify,
            verify,
            per_band: rows * BandTable::BYTES_PER_ROW as u64,
        }
    }

    /// What a pass over `bands` bands needs.
    pub fn with_bands(&self, bands: usize) -> u64 {
        self.fixed + self.per_band * bands as u64
    }

    /// The most bands per pass that fit in `free` bytes, up to `bands`.
    pub fn bands_fitting(&self, free: u64, bands: usize) -> usize {
        if free < self.fixed {
            return 0;
        }
        let fit = (free - self.fixed)
            .checked_div(self.per_band)
            .unwrap_or(u64::MAX);
        fit.min(bands as u64) as usize
    }
}

/// The usual LSH threshold `(1/b)^(1/r)`, where the S-curve rises most steeply: a pair this
/// similar becomes a candidate with probability `1 − (1 − 1/b)^b` (0.64 at 14 bands).
pub fn threshold(bands: usize, rows: usize) -> f64 {
    (1.0 / bands as f64).powf(1.0 / rows as f64)
}

/// The probability that a pair of similarity `s` shares at least one band: `1 − (1 − s^r)^b`.
pub fn candidate_probability(s: f64, bands: usize, rows: usize) -> f64 {
    1.0 - (1.0 - s.powi(rows as i32)).powi(bands as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_find_roots_are_the_smallest_rank() {
        let mut sets = UnionFind::new(6);
        assert!(sets.union(4, 2));
        assert!(sets.union(5, 4));
        assert!(!sets.union(2, 5));
        assert!(sets.union(3, 1));
        assert_eq!(
            (0..6).map(|i| sets.find(i)).collect::<Vec<_>>(),
            [0, 1, 2, 1, 2, 2]
        );
    }

    #[test]
    fn band_tables_list_buckets_in_source_order() {
        let table = BandTable::new(6);
        for (rank, key) in [(0, 9), (1, 5), (2, 9), (3, 7), (4, 5), (5, 9)] {
            table.set(rank, key);
        }
        let ignored = RankSet::new(6);
        ignored.insert(2);
        let mut buckets = Vec::new();
        table.buckets(&ignored, |members| buckets.push(members.to_vec()));
        assert_eq!(buckets, [vec![1, 4], vec![0, 5]]);
    }

    #[test]
    fn the_threshold_and_s_curve() {
        assert!((threshold(14, 8) - 0.7190).abs() < 1e-4);
        let p = |s| candidate_probability(s, 14, 8);
        assert!(p(0.5) < 0.06 && p(0.9) > 0.99);
        let at_threshold = 1.0 - (13.0f64 / 14.0).powi(14);
        assert!((p(threshold(14, 8)) - at_threshold).abs() < 1e-9);
    }

    #[test]
    fn memory_need_and_bands_that_fit() {
        let need = MemoryNeed::new(1_000_000, None);
        assert_eq!(need.per_band, 16_000_000);
        assert_eq!(need.fixed, 12_000_000 + 125_000);
        let verify = MemoryNeed::new(1_000_000, Some(5_000_000));
        assert_eq!(verify.verify, 8_000_000 + 5_000_000);
        assert_eq!(verify.fixed, need.fixed + verify.verify);
        assert_eq!(need.bands_fitting(need.with_bands(14), 14), 14);
        assert_eq!(need.bands_fitting(need.with_bands(3) + 1, 14), 3);
        assert_eq!(need.bands_fitting(need.fixed - 1, 14), 0);
        assert_eq!(need.bands_fitting(u64::MAX, 14), 14);
    }
}
