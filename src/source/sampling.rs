//! Which part of a dataset a sampled run reads: a seeded choice of row groups, or of rows by
//! their position or by their text, and the sampling units the projections count by.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, AsArray, BooleanArray, BooleanBufferBuilder, RecordBatch, StringArrayType,
};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::{DataType, UInt64Type};
use datafusion::arrow::error::ArrowError;
use rand::SeedableRng;
use rand::rngs::StdRng;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Fewer sampled row groups than this and `row-group` sampling samples rows instead: a
/// projection from a handful of row groups has an interval too wide to use.
pub const MIN_SAMPLED_ROW_GROUPS: usize = 30;

/// How to sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SampleBy {
    /// A uniform choice of row groups; only those are read.
    #[default]
    RowGroup,
    /// Rows whose text hashes below the fraction: identical texts are kept or dropped together.
    Content,
    /// Rows whose MinHash value (the least hash of their shingles) hashes below the fraction:
    /// two texts of Jaccard similarity J are kept together with probability about J.
    MinHash,
}

/// The MinHash value of a text, given by the layer that knows how texts are cut into
/// shingles; `None` for a text with no shingles.
pub trait GroupKey: Send + Sync + Debug {
    fn key(&self, text: &[u8]) -> Option<u64>;
}

impl SampleBy {
    pub fn name(self) -> &'static str {
        match self {
            SampleBy::RowGroup => "row-group",
            SampleBy::Content => "content",
            SampleBy::MinHash => "minhash",
        }
    }
}

/// A sample to run on instead of the whole dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleSpec {
    /// In (0, 1].
    pub fraction: f64,
    pub by: SampleBy,
    pub seed: u64,
    /// Smaller fractions, ascending, run as samples nested in this one to fit each step's
    /// cost curve; empty: a nested quarter alone.
    pub smaller: Vec<f64>,
}

/// How the rows of a sample were chosen, which fixes the unit a projection counts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleMode {
    /// `sampled` of the dataset's `row_groups` row groups, chosen uniformly without replacement.
    RowGroups { sampled: usize, row_groups: usize },
    /// Each row kept on its own, by a hash of its position.
    Rows,
    /// Each group of identical texts kept or dropped whole, by a hash of the text.
    Content,
    /// Each group of texts of one MinHash value kept or dropped whole, by a hash of the value.
    MinHash,
}

impl SampleMode {
    pub fn name(self) -> &'static str {
        match self {
            SampleMode::RowGroups { .. } => "row-group",
            SampleMode::Rows => "row",
            SampleMode::Content => "content",
            SampleMode::MinHash => "minhash",
        }
    }
}

/// What the scan reads of a sampled dataset.
#[derive(Debug, Clone)]
pub struct SamplePlan {
    pub spec: SampleSpec,
    pub mode: SampleMode,
    /// Indexes of the row groups read (over all files, in source order), ascending.
    pub row_groups: Vec<usize>,
    /// The MinHash value of a text, for [`SampleMode::MinHash`].
    pub key: Option<Arc<dyn GroupKey>>,
}

impl SamplePlan {
    /// The plan for `spec` over a dataset of `row_groups` row groups.
    pub fn new(spec: SampleSpec, row_groups: usize) -> Self {
        let every = |mode| SamplePlan {
            spec: spec.clone(),
            mode,
            row_groups: (0..row_groups).collect(),
            key: None,
        };
        match spec.by {
            SampleBy::Content => return every(SampleMode::Content),
            SampleBy::MinHash => return every(SampleMode::MinHash),
            SampleBy::RowGroup => {}
        }
        let wanted = (spec.fraction * row_groups as f64).round() as usize;
        if wanted < MIN_SAMPLED_ROW_GROUPS && spec.fraction < 1.0 {
            return every(SampleMode::Rows);
        }
        let sampled = wanted.clamp(1, row_groups.max(1)).min(row_groups);
        let mut rng = StdRng::seed_from_u64(spec.seed);
        let mut chosen = rand::seq::index::sample(&mut rng, row_groups, sampled).into_vec();
        chosen.sort_unstable();
        SamplePlan {
            spec,
            mode: SampleMode::RowGroups {
                sampled,
                row_groups,
            },
            row_groups: chosen,
            key: None,
        }
    }

    /// The plan with `key` giving the MinHash values of texts (for `--sample-by minhash`).
    pub fn with_key(self, key: Arc<dyn GroupKey>) -> Self {
        SamplePlan {
            key: Some(key),
            ..self
        }
    }

    /// Whether the scan keeps the row at source position `row` whose text is `text`.
    pub fn keeps(&self, row: u64, text: Option<&[u8]>) -> bool {
        let seed = self.spec.seed;
        match (self.mode, text) {
            (SampleMode::RowGroups { .. }, _) => true,
            (SampleMode::Content, Some(text)) => self.below(xxh3_64_with_seed(text, seed)),
            (SampleMode::MinHash, Some(text)) => match self.minhash(text) {
                Some(value) => self.below(xxh3_64_with_seed(&value.to_le_bytes(), seed)),
                None => self.below(xxh3_64_with_seed(text, seed)),
            },
            // A NULL text has no content to group by: it is sampled as a row.
            (SampleMode::Rows | SampleMode::Content | SampleMode::MinHash, _) => {
                self.below(row_hash(row, seed))
            }
        }
    }

    /// The sampling unit's key of a kept row's text: its hash (content), or its MinHash value
    /// (the text's hash when it has no shingles); `None` when each row is its own unit.
    pub fn group(&self, text: Option<&[u8]>) -> Option<u64> {
        let text = text?;
        match self.mode {
            SampleMode::Content => Some(xxh3_64_with_seed(text, 0)),
            SampleMode::MinHash => self
                .minhash(text)
                .or_else(|| Some(xxh3_64_with_seed(text, 0))),
            SampleMode::RowGroups { .. } | SampleMode::Rows => None,
        }
    }

    fn minhash(&self, text: &[u8]) -> Option<u64> {
        self.key.as_ref()?.key(text)
    }

    fn below(&self, hash: u64) -> bool {
        self.spec.fraction >= 1.0 || (hash as f64) < self.spec.fraction * 2f64.powi(64)
    }

    /// Whether the scan must look at every row (and its text) to apply the sample.
    pub fn filters_rows(&self) -> bool {
        !matches!(self.mode, SampleMode::RowGroups { .. }) && self.spec.fraction < 1.0
    }
}

/// Calls `f` with the index and UTF-8 bytes (or NULL) of each value of a string column.
pub fn for_each_text(array: &dyn Array, mut f: impl FnMut(usize, Option<&[u8]>)) {
    fn each<'a>(values: impl StringArrayType<'a>, f: &mut impl FnMut(usize, Option<&[u8]>)) {
        for (i, value) in values.iter().enumerate() {
            f(i, value.map(str::as_bytes));
        }
    }
    match array.data_type() {
        DataType::Utf8 => each(array.as_string::<i32>(), &mut f),
        DataType::LargeUtf8 => each(array.as_string::<i64>(), &mut f),
        DataType::Utf8View => each(array.as_string_view(), &mut f),
        _ => (0..array.len()).for_each(|i| f(i, None)),
    }
}

/// The rows of `batch` that `keep` keeps, given each one's source position (the UInt64 column
/// `rows`) and text (the string column `text`).
pub fn keep_rows(
    batch: &RecordBatch,
    rows: usize,
    text: usize,
    keep: impl Fn(u64, Option<&[u8]>) -> bool,
) -> Result<RecordBatch, ArrowError> {
    let positions = batch.column(rows).as_primitive::<UInt64Type>();
    let mut mask = BooleanBufferBuilder::new(batch.num_rows());
    for_each_text(batch.column(text), |i, value| {
        mask.append(keep(positions.value(i), value));
    });
    filter_record_batch(batch, &BooleanArray::new(mask.finish(), None))
}

fn row_hash(row: u64, seed: u64) -> u64 {
    xxh3_64_with_seed(&row.to_le_bytes(), seed)
}

/// Maps a sampled row's source position to its sampling unit: its row group, its own row,
/// or its group of identical texts. Units are numbered from 0 in the order first seen.
#[derive(Debug, Clone)]
pub enum SampleUnits {
    /// Units are row groups: the source position of each sampled row group's first row and
    /// the position after its last, ascending.
    RowGroups { bounds: Vec<(u64, u64)> },
    /// Units are rows or groups of rows: each sampled row's unit, and how many there are.
    Listed {
        units: HashMap<u64, u32>,
        count: usize,
    },
}

impl SampleUnits {
    pub fn unit_of(&self, row: u64) -> Option<usize> {
        match self {
            SampleUnits::RowGroups { bounds } => {
                let i = bounds.partition_point(|&(first, _)| first <= row);
                let (first, end) = *bounds.get(i.checked_sub(1)?)?;
                (first..end).contains(&row).then_some(i - 1)
            }
            SampleUnits::Listed { units, .. } => units.get(&row).map(|&u| u as usize),
        }
    }

    /// Number of units.
    pub fn len(&self) -> usize {
        match self {
            SampleUnits::RowGroups { bounds } => bounds.len(),
            SampleUnits::Listed { count, .. } => *count,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Builds [`SampleUnits::Listed`] as the sampled rows are seen: each row its own unit, or
/// the rows of one group key (see [`SamplePlan::group`]) one unit.
#[derive(Debug, Default)]
pub struct UnitsBuilder {
    rows: HashMap<u64, u32>,
    groups: HashMap<u64, u32>,
    next: u32,
}

impl UnitsBuilder {
    /// Adds the row at `row` of group `group` (`None`: a unit of its own).
    pub fn add(&mut self, row: u64, group: Option<u64>) {
        let unit = match group {
            Some(key) => *self
                .groups
                .entry(key)
                .or_insert_with(|| bump(&mut self.next)),
            None => bump(&mut self.next),
        };
        self.rows.insert(row, unit);
    }

    pub fn finish(self) -> SampleUnits {
        SampleUnits::Listed {
            units: self.rows,
            count: self.next as usize,
        }
    }
}

fn bump(next: &mut u32) -> u32 {
    *next += 1;
    *next - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(fraction: f64, by: SampleBy, seed: u64) -> SampleSpec {
        SampleSpec {
            fraction,
            by,
            seed,
            smaller: Vec::new(),
        }
    }

    #[test]
    fn row_groups_are_chosen_the_same_way_for_a_seed() {
        let a = SamplePlan::new(spec(0.1, SampleBy::RowGroup, 7), 1000);
        let b = SamplePlan::new(spec(0.1, SampleBy::RowGroup, 7), 1000);
        let c = SamplePlan::new(spec(0.1, SampleBy::RowGroup, 8), 1000);
        assert_eq!(a.row_groups, b.row_groups);
        assert_ne!(a.row_groups, c.row_groups);
        assert_eq!(a.row_groups.len(), 100);
        assert!(a.row_groups.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(
            a.mode,
            SampleMode::RowGroups {
                sampled: 100,
                row_groups: 1000
            }
        );
    }

    #[test]
    fn too_few_row_groups_sample_rows_and_one_row_group_still_samples() {
        for row_groups in [1, 10, 289] {
            let plan = SamplePlan::new(spec(0.1, SampleBy::RowGroup, 1), row_groups);
            assert_eq!(plan.mode, SampleMode::Rows);
            assert_eq!(plan.row_groups.len(), row_groups);
            let kept = (0..100_000).filter(|&r| plan.keeps(r, None)).count();
            assert!((9_000..11_000).contains(&kept), "{kept}");
        }
        let all = SamplePlan::new(spec(1.0, SampleBy::RowGroup, 1), 1);
        assert_eq!(all.row_groups, [0]);
        assert!(!all.filters_rows());
    }

    #[test]
    fn content_sampling_keeps_every_copy_of_a_text_together() {
        let plan = SamplePlan::new(spec(0.5, SampleBy::Content, 3), 4);
        let texts: Vec<String> = (0..200).map(|i| format!("text {}", i % 50)).collect();
        for (row, text) in texts.iter().enumerate() {
            let first = texts.iter().position(|t| t == text).unwrap();
            assert_eq!(
                plan.keeps(row as u64, Some(text.as_bytes())),
                plan.keeps(first as u64, Some(text.as_bytes()))
            );
        }
        let kept = (0..50)
            .filter(|i| plan.keeps(0, Some(format!("text {i}").as_bytes())))
            .count();
        assert!((10..40).contains(&kept), "{kept}");
    }

    #[test]
    fn units_are_row_groups_rows_or_texts() {
        let groups = SampleUnits::RowGroups {
            bounds: vec![(0, 10), (30, 35)],
        };
        let units: Vec<_> = [0, 9, 10, 29, 30, 34, 35].map(|r| groups.unit_of(r)).into();
        assert_eq!(
            units,
            [Some(0), Some(0), None, None, Some(1), Some(1), None]
        );
        let content = SamplePlan::new(spec(0.5, SampleBy::Content, 3), 4);
        let mut builder = UnitsBuilder::default();
        builder.add(4, content.group(Some(b"a")));
        builder.add(7, content.group(Some(b"b")));
        builder.add(9, content.group(Some(b"a")));
        builder.add(11, content.group(None));
        let units = builder.finish();
        assert_eq!(units.unit_of(9), units.unit_of(4));
        assert_ne!(units.unit_of(7), units.unit_of(4));
        assert_eq!(units.len(), 3);
    }

    /// Texts' first bytes as their MinHash values: texts that share one are similar.
    #[derive(Debug)]
    struct FirstByte;

    impl GroupKey for FirstByte {
        fn key(&self, text: &[u8]) -> Option<u64> {
            text.first().map(|&b| u64::from(b))
        }
    }

    #[test]
    fn minhash_sampling_keeps_texts_of_one_value_together() {
        let plan =
            SamplePlan::new(spec(0.3, SampleBy::MinHash, 5), 4).with_key(Arc::new(FirstByte));
        assert_eq!(plan.mode, SampleMode::MinHash);
        let texts: Vec<String> = (0..2000)
            .map(|i| format!("{}{i}", (b'A' + (i % 50) as u8) as char))
            .collect();
        let kept: Vec<&String> = texts
            .iter()
            .enumerate()
            .filter(|(row, t)| plan.keeps(*row as u64, Some(t.as_bytes())))
            .map(|(_, t)| t)
            .collect();
        let letters: std::collections::BTreeSet<u8> =
            kept.iter().map(|t| t.as_bytes()[0]).collect();
        assert_eq!(
            kept.len(),
            letters.len() * 40,
            "every text of a kept value is kept"
        );
        assert!((5..30).contains(&letters.len()), "{}", letters.len());
        assert_eq!(plan.group(Some(b"Ab")), plan.group(Some(b"Ac")));
        assert_ne!(plan.group(Some(b"Ab")), plan.group(Some(b"Bb")));
        assert_eq!(
            plan.group(Some(b"")),
            Some(xxh3_64_with_seed(b"", 0)),
            "no shingles: by text"
        );
    }
}
