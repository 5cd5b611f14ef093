//! What a `minhash` stage reports: its parameters and their similarity threshold, the memory
//! it forecast and used, what it removed, and example pairs to judge the threshold by.

use serde::Serialize;

/// The near-duplicate figures of one `minhash` stage.
#[derive(Debug, Clone, Serialize)]
pub struct NearDedupReport {
    /// The column whose text is compared.
    pub column: String,
    pub shingle: Shingle,
    pub ngram: usize,
    pub char_ngram: usize,
    pub bands: usize,
    pub rows_per_band: usize,
    pub permutations: usize,
    pub seed: u64,
    /// `(1/bands)^(1/rows_per_band)`: where the S-curve rises most steeply (a pair this similar
    /// becomes a candidate with probability `1 − (1 − 1/bands)^bands`, 0.64 at 14 bands).
    pub threshold: f64,
    /// The probability that a pair of a given Jaccard similarity becomes a candidate.
    pub s_curve: Vec<CurvePoint>,
    /// With `verify = true`: candidates below this exact Jaccard similarity are not joined.
    pub verify_threshold: Option<f64>,
    pub memory: NearDedupMemory,
    /// Documents compared (the stage's input rows).
    pub documents: u64,
    /// Documents with nothing left after normalising (NULL, empty, only punctuation): never
    /// candidates, never removed.
    pub empty_documents: u64,
    /// Pairs sharing a bucket, counted once per band they share.
    pub candidate_pairs: u64,
    pub verified: Option<VerifiedPairs>,
    pub rows_removed: u64,
    /// Clusters of two or more documents; each keeps its first document in source order.
    pub clusters: u64,
    pub documents_in_clusters: u64,
    pub cluster_sizes: Vec<SizeBin>,
    pub largest_clusters: Vec<Cluster>,
    /// Exact similarity of a sample of removed documents to the document their cluster kept.
    pub similarity: Option<SimilaritySample>,
    pub example_pairs: Vec<Pair>,
    pub seconds: NearDedupSeconds,
}

/// What a document is cut into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shingle {
    /// Word n-grams, character n-grams for scripts written without spaces, per document.
    Auto,
    Word,
    Char,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct CurvePoint {
    pub similarity: f64,
    pub probability: f64,
}

/// Memory forecast before the stage ran, and what it held.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct NearDedupMemory {
    /// Forecast for the input's rows at the chosen bands per pass.
    pub forecast_bytes: u64,
    /// Forecast with every band in one pass.
    pub one_pass_bytes: u64,
    /// Highest memory the stage's structures held (reserved in the memory pool).
    pub peak_bytes: u64,
    /// Growth of the process's resident memory from the stage's start to its fullest point
    /// (band tables filled); `null` where the system does not say.
    pub rss_growth_bytes: Option<u64>,
    pub bands_per_pass: usize,
    pub passes: usize,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct VerifiedPairs {
    pub checked: u64,
    pub rejected: u64,
}

/// Clusters whose size is between `min_size` and `max_size` (inclusive; no maximum for the last).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SizeBin {
    pub min_size: u64,
    pub max_size: Option<u64>,
    pub clusters: u64,
    pub documents: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cluster {
    pub size: u64,
    /// The kept document's row in the source (0-based, files in path order).
    pub kept_row: u64,
    pub kept_text: String,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct SimilaritySample {
    pub pairs: u64,
    pub min: f64,
    pub p10: f64,
    pub median: f64,
    /// Sampled pairs whose exact similarity is below the threshold (joined through others,
    /// or by chance).
    pub below_threshold: u64,
}

/// A removed document and the one its cluster kept.
#[derive(Debug, Clone, Serialize)]
pub struct Pair {
    pub similarity: f64,
    pub kept_row: u64,
    pub removed_row: u64,
    pub kept_text: String,
    pub removed_text: String,
}

/// Where the stage's time went.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct NearDedupSeconds {
    /// Shingling and signatures, all passes.
    pub signatures: f64,
    /// Sorting band tables and joining candidates.
    pub clustering: f64,
    /// Sizes, samples and examples for this report.
    pub report: f64,
}
