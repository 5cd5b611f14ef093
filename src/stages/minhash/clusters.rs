//! Clustering: the documents of each bucket joined with union-find (checked by their exact
//! similarity when asked), the clusters that makes, and the rows it removes.

use std::collections::HashMap;

use datafusion::arrow::array::{ArrayRef, BooleanBufferBuilder};
use datafusion::arrow::buffer::BooleanBuffer;

use super::budget::Budget;
use super::params::MinhashParams;
use super::sign::string_value;
use crate::engine::udf::minhash::{Shingler, jaccard};
use crate::model::near_dedup::{SizeBin, VerifiedPairs};
use crate::stages::lsh::UnionFind;
use crate::stages::stage::StageError;

/// With `verify`, the most earlier bucket members one document is compared with.
const MAX_CHECKS_PER_DOCUMENT: usize = 64;

/// The text of each document by rank, for verification: the arrays read in the first pass
/// (shared with the input when it is in memory) and where each rank's text is.
pub(super) struct TextIndex {
    arrays: Vec<ArrayRef>,
    at: Vec<(u32, u32)>,
}

impl TextIndex {
    pub(super) fn new(kept: Vec<(ArrayRef, Vec<u32>)>, rows: usize) -> Self {
        let mut at = vec![(u32::MAX, 0); rows];
        let mut arrays = Vec::with_capacity(kept.len());
        for (i, (array, ranks)) in kept.into_iter().enumerate() {
            for (row, rank) in ranks.into_iter().enumerate() {
                at[rank as usize] = (i as u32, row as u32);
            }
            arrays.push(array);
        }
        Self { arrays, at }
    }

    fn text(&self, rank: u32) -> Option<&str> {
        let (array, row) = self.at[rank as usize];
        string_value(self.arrays.get(array as usize)?.as_ref(), row as usize)
    }
}

/// Joins the documents of each bucket, checking their exact similarity when asked.
pub(super) struct Joiner<'a> {
    sets: &'a mut UnionFind,
    threshold: Option<f64>,
    texts: Option<&'a TextIndex>,
    shingler: Shingler,
    /// Shingles of the current bucket's documents.
    cache: HashMap<u32, Vec<u64>>,
    verified: Option<&'a mut VerifiedPairs>,
}

impl<'a> Joiner<'a> {
    /// Joins into `sets`, checking similarity with `texts` when `params` ask for it.
    pub(super) fn new(
        params: &MinhashParams,
        sets: &'a mut UnionFind,
        texts: Option<&'a TextIndex>,
        verified: Option<&'a mut VerifiedPairs>,
    ) -> Self {
        Joiner {
            sets,
            threshold: params.verify_threshold,
            texts,
            shingler: Shingler::new(params.shingles),
            cache: HashMap::new(),
            verified,
        }
    }

    /// `members` share a bucket and are in source order.
    pub(super) fn bucket(&mut self, members: &[u32]) {
        let (Some(threshold), Some(texts)) = (self.threshold, self.texts) else {
            for &doc in &members[1..] {
                self.sets.union(members[0], doc);
            }
            return;
        };
        self.cache.clear();
        for (i, &doc) in members.iter().enumerate().skip(1) {
            let mut checks = 0;
            for &earlier in &members[..i] {
                if checks == MAX_CHECKS_PER_DOCUMENT {
                    break;
                }
                if self.sets.find(earlier) == self.sets.find(doc) {
                    continue;
                }
                checks += 1;
                self.load_shingles(texts, earlier);
                self.load_shingles(texts, doc);
                let similarity = jaccard(&self.cache[&earlier], &self.cache[&doc]);
                if let Some(v) = self.verified.as_deref_mut() {
                    v.checked += 1;
                    v.rejected += u64::from(similarity < threshold);
                }
                if similarity >= threshold {
                    self.sets.union(earlier, doc);
                }
            }
        }
    }

    /// Puts the shingle set of document `rank` in the bucket's cache.
    fn load_shingles(&mut self, texts: &TextIndex, rank: u32) {
        let shingler = &mut self.shingler;
        self.cache.entry(rank).or_insert_with(|| {
            let mut hashes = Vec::new();
            if let Some(text) = texts.text(rank) {
                shingler.set(text, &mut hashes);
            }
            hashes
        });
    }
}

/// The clusters union-find found.
pub(super) struct Clusters {
    /// Size and root (first document) of every cluster of two or more documents.
    pub(super) sizes: Vec<(u32, u32)>,
    /// Ranks of the documents that are not their cluster's first, in source order.
    pub(super) removed: Vec<u32>,
}

impl Clusters {
    pub(super) fn of(sets: &mut UnionFind, budget: &mut Budget) -> Result<Self, StageError> {
        let n = sets.documents();
        budget.grow(n * 4, "cluster sizes")?;
        let mut size = vec![0u32; n];
        let mut removed = Vec::new();
        for doc in 0..n as u32 {
            let root = sets.find(doc);
            size[root as usize] += 1;
            if root != doc {
                removed.push(doc);
            }
        }
        let sizes = size
            .iter()
            .enumerate()
            .filter(|&(_, &s)| s > 1)
            .map(|(root, &s)| (s, root as u32))
            .collect();
        drop(size);
        budget.shrink(n * 4);
        Ok(Self { sizes, removed })
    }

    /// Cluster counts by size: 2, 3–5, 6–10, 11–100, 101–1,000, more.
    pub(super) fn bins(&self) -> Vec<SizeBin> {
        const BOUNDS: [(u64, Option<u64>); 6] = [
            (2, Some(2)),
            (3, Some(5)),
            (6, Some(10)),
            (11, Some(100)),
            (101, Some(1000)),
            (1001, None),
        ];
        BOUNDS
            .iter()
            .map(|&(min_size, max_size)| {
                let within = |s: u64| s >= min_size && max_size.is_none_or(|m| s <= m);
                let sizes = self
                    .sizes
                    .iter()
                    .map(|&(s, _)| u64::from(s))
                    .filter(|&s| within(s));
                SizeBin {
                    min_size,
                    max_size,
                    clusters: sizes.clone().count() as u64,
                    documents: sizes.sum(),
                }
            })
            .collect()
    }
}

/// A bitmap over source rows with the removed documents set.
pub(super) fn removed_bitmap(ranks: &[u64], removed: &[u32]) -> BooleanBuffer {
    let len = ranks.last().map_or(0, |&last| last as usize + 1);
    let mut bits = BooleanBufferBuilder::new(len);
    bits.append_n(len, false);
    for &rank in removed {
        bits.set_bit(ranks[rank as usize] as usize, true);
    }
    bits.finish()
}
