//! What `prepcost profile` reports: the source and its storage, each step's time, CPU,
//! memory, rows and tokens, the output, the totals and the money.

use serde::{Deserialize, Serialize};

use super::budget::BudgetReport;

use super::near_dedup::NearDedupReport;
use super::pricing::{Pricing, RequestPricing};
use super::requests::RequestStats;
use super::tokens::TokenStats;

/// What `prepcost profile` found.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileReport {
    pub schema_version: u32,
    pub command: &'static str,
    pub prepcost_version: &'static str,
    pub source: SourceReport,
    pub storage: StorageReport,
    /// Reading and decoding the source.
    pub scan: StepReport,
    pub stages: Vec<StageReport>,
    /// Tokens of the source and of the result; `null` with `--tokenizer none`.
    pub tokens: Option<TokensReport>,
    pub output: Option<OutputReport>,
    pub totals: Totals,
    pub cost: CostReport,
    /// Every request of the run: the source's and the output's together.
    pub requests: RequestStats,
    pub run: RunReport,
    /// The budgets the run was held to, and their breaches; absent without budgets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<BudgetReport>,
    /// How the sample was drawn; absent when the whole dataset ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<SampleReport>,
    /// The whole dataset's figures projected from the sample; absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projected: Option<ProjectedReport>,
}

/// The sample a run measured instead of the whole dataset.
#[derive(Debug, Clone, Serialize)]
pub struct SampleReport {
    /// `row-group`, `row` (rows inside row groups, when too few row groups would be sampled)
    /// or `content`.
    pub mode: &'static str,
    pub fraction: f64,
    pub seed: u64,
    /// Rows the sample holds.
    pub rows: u64,
    /// Row groups read, and their bytes on storage (from the footers).
    pub row_groups: u64,
    pub bytes_read: u64,
    /// Sampling units (row groups, rows, or groups of identical texts) the intervals count.
    pub units: u64,
    /// How the intervals are computed.
    pub interval: String,
    /// What the projections cannot see, and why a mode was changed.
    pub notes: Vec<String>,
}

/// A projected figure and its 95% interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

impl Estimate {
    /// A figure known exactly.
    pub fn exact(value: f64) -> Self {
        Estimate {
            value,
            low: value,
            high: value,
        }
    }

    /// `self` times `factor`, interval and all.
    pub fn scaled(self, factor: f64) -> Self {
        Estimate {
            value: self.value * factor,
            low: self.low * factor,
            high: self.high * factor,
        }
    }

    /// The sum of two figures; the interval adds the ends (the figures rise and fall together).
    pub fn plus(self, other: Estimate) -> Self {
        Estimate {
            value: self.value + other.value,
            low: self.low + other.low,
            high: self.high + other.high,
        }
    }
}

/// One stage's figures for the whole dataset.
#[derive(Debug, Clone, Serialize)]
pub struct StageProjection {
    pub rows_out: Estimate,
    pub rows_dropped: Estimate,
    pub text_bytes_out: Estimate,
    pub wall_seconds: Estimate,
    pub cpu_seconds: Estimate,
    /// The exponent of the stage's CPU time in its input bytes (1: linear), over the
    /// projection from the sample to the whole dataset.
    pub time_exponent: f64,
    /// How the stage's CPU time grows with its input.
    pub time_model: GrowthModel,
    /// How the stage's own memory (beyond its input, held whole) grows with its input.
    pub memory_model: GrowthModel,
    pub peak_memory_bytes: Estimate,
    /// Total tokens of the stage's result; absent without a tokenizer.
    pub tokens_out: Option<Estimate>,
}

/// A cost curve: how a figure grows with a step's input.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct GrowthModel {
    /// `linear`, `n_log_n` or `power`.
    pub model: &'static str,
    /// The power of the input it grows as, over the projection.
    pub exponent: f64,
    /// Sample sizes it was fitted to (1: assumed).
    pub sizes: u32,
    /// Root mean square distance of the sizes' measurements from the curve, in natural log
    /// units (0.1: about 10%); absent when two sizes or fewer leave nothing to judge it by.
    pub rms_log_error: Option<f64>,
}

/// The run's figures for the whole dataset.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectedReport {
    /// What a full run would report as `totals`.
    pub totals: ProjectedTotals,
    /// Tokens of the pipeline's result.
    pub tokens_out: Option<Estimate>,
    /// Tokens of the source minus those of the result.
    pub tokens_removed: Option<Estimate>,
    /// Rows the `dedup_exact` stages would drop.
    pub exact_duplicates: Option<Estimate>,
    /// Rows the `minhash` stages would drop.
    pub near_duplicates: Option<Estimate>,
    /// Compute, requests and egress of the full run.
    pub cost_usd: Estimate,
    /// The full run's storage requests, priced.
    pub requests_usd: Estimate,
    /// The bytes the full run reads out of the source's store, priced.
    pub egress_usd: Estimate,
    /// How time and memory are projected.
    pub cost_model: String,
}

/// [`Totals`] projected.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectedTotals {
    pub rows_in: Estimate,
    pub rows_out: Estimate,
    pub text_bytes_in: Estimate,
    pub text_bytes_out: Estimate,
    pub wall_seconds: Estimate,
    pub cpu_seconds: Estimate,
    pub run_wall_seconds: Estimate,
    pub run_cpu_seconds: Estimate,
    pub run_cpu_by_part: ByPart<Estimate>,
    pub run_wall_by_part: ByPart<Estimate>,
    pub peak_memory_bytes: Estimate,
}

/// The source as configured, with what its footers say.
#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    pub uri: String,
    /// `parquet`, `jsonl` or `csv`.
    pub format: &'static str,
    pub text_column: String,
    pub id_column: Option<String>,
    pub files: u64,
    pub rows: u64,
    /// UTF-8 bytes of the non-NULL texts.
    pub text_bytes: u64,
    pub text_nulls: u64,
    /// JSONL lines that could not be read, left out with `--on-error skip`.
    pub skipped_lines: u64,
    /// How long the non-NULL texts are, in bins that double in width, from the shortest
    /// text's bin to the longest's.
    pub text_lengths: Vec<LengthBin>,
}

/// Texts of `min_bytes` to `max_bytes` bytes (UTF-8), both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LengthBin {
    pub min_bytes: u64,
    pub max_bytes: u64,
    pub texts: u64,
}

impl LengthBin {
    /// The bins of counts by length where entry 0 counts empty texts and entry `i` those of
    /// 2^(i-1) to 2^i - 1 bytes (the last open-ended, its `max_bytes` `u64::MAX`), from the
    /// first entry that counts a text to the last.
    pub fn from_counts(counts: &[u64]) -> Vec<LengthBin> {
        let first = counts.iter().position(|&n| n > 0);
        let last = counts.iter().rposition(|&n| n > 0);
        let (Some(first), Some(last)) = (first, last) else {
            return Vec::new();
        };
        (first..=last)
            .map(|i| LengthBin {
                min_bytes: if i == 0 { 0 } else { 1 << (i - 1) },
                max_bytes: match i {
                    0 => 0,
                    _ if i + 1 == counts.len() => u64::MAX,
                    _ => (1 << i) - 1,
                },
                texts: counts[i],
            })
            .collect()
    }
}

/// Tokens before and after the pipeline. Counting them is prepcost's own work: its time is
/// here, not in the stages' or the totals'.
#[derive(Debug, Clone, Serialize)]
pub struct TokensReport {
    pub tokenizer: String,
    pub source: TokenStats,
    /// Tokens of the pipeline's result.
    pub result: TokenStats,
    /// `source.total - result.total`.
    pub removed: i64,
    /// Texts tokenized over all steps: the source's, then only those a stage changed (the
    /// other rows carry their count from the step before).
    pub texts_tokenized: u64,
    pub wall_seconds: f64,
    pub cpu_seconds: f64,
}

/// Storage figures from the Parquet footers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StorageReport {
    pub files: u64,
    pub rows: u64,
    pub row_groups: u64,
    /// Sizes of the files on storage.
    pub file_bytes: u64,
    /// Column chunk bytes as stored (after compression), summed over all columns.
    pub compressed_bytes: u64,
    /// Column chunk bytes before compression (Parquet's `total_uncompressed_size`).
    pub uncompressed_bytes: u64,
    pub columns: Vec<ColumnStorage>,
}

/// One leaf column, summed over files and row groups.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnStorage {
    /// Dotted column path, e.g. `meta.url`.
    pub name: String,
    pub physical_type: String,
    pub compressed_bytes: u64,
    pub uncompressed_bytes: u64,
    pub codecs: Vec<String>,
}

/// Time, CPU and memory of one step of the run.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub rows: u64,
    pub wall_seconds: f64,
    pub cpu_seconds: f64,
    /// Peak of memory reserved in the pool while the step ran (its input, its operators and
    /// its result).
    pub peak_memory_bytes: u64,
    /// Memory held by the step's result, or its size on disk when spilled.
    pub result_bytes: u64,
    pub spilled: bool,
    /// What the step asked of the source's store.
    pub requests: RequestStats,
}

/// One pipeline stage.
#[derive(Debug, Clone, Serialize)]
pub struct StageReport {
    pub name: String,
    /// The SQL file, built-in query or kind the stage runs.
    pub origin: String,
    pub rows_in: u64,
    pub rows_out: u64,
    pub rows_dropped: u64,
    /// `rows_dropped / rows_in` (0 for empty input).
    pub drop_rate: f64,
    pub text_bytes_in: u64,
    pub text_bytes_out: u64,
    pub wall_seconds: f64,
    pub cpu_seconds: f64,
    pub peak_memory_bytes: u64,
    pub result_bytes: u64,
    pub spilled: bool,
    /// `rows_in / wall_seconds`.
    pub rows_per_second: f64,
    /// `text_bytes_in / wall_seconds`, in MB (10^6 bytes) per second.
    pub text_mb_per_second: f64,
    /// Tokens of the stage's result; `null` without a tokenizer.
    pub tokens_out: Option<TokenStats>,
    /// Tokens of its input minus those of its result (negative when it added tokens).
    pub tokens_removed: Option<i64>,
    /// What the stage asked of the source's store.
    pub requests: RequestStats,
    /// What each condition of a SQL stage of several removed (a row counted against the
    /// first it fails, in the order the query applies them); absent for other stages.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<ConditionReport>,
    /// What `pii_redact` replaced in the stage, by kind; absent when it replaced nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redacted: Option<Redactions>,
    /// What a `minhash` stage found; absent for other stages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub near_dedup: Option<Box<NearDedupReport>>,
    /// The stage's figures for the whole dataset, when a sample ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projected: Option<StageProjection>,
}

/// One condition of a stage, and what it removed.
#[derive(Debug, Clone, Serialize)]
pub struct ConditionReport {
    /// The condition as the engine reads it.
    pub name: String,
    pub rows_removed: u64,
    /// Tokens of those rows, when tokens are counted.
    pub tokens_removed: Option<u64>,
}

/// Personal data replaced by a stage, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Redactions {
    pub email: u64,
    pub ipv4: u64,
    pub ipv6: u64,
    pub phone: u64,
}

impl Redactions {
    /// From counts in the order e-mail, IPv4, IPv6, phone; `None` when all are zero.
    pub fn from_counts([email, ipv4, ipv6, phone]: [u64; 4]) -> Option<Self> {
        let counts = Self {
            email,
            ipv4,
            ipv6,
            phone,
        };
        (counts != Self::default()).then_some(counts)
    }
}

/// The written output dataset.
#[derive(Debug, Clone, Serialize)]
pub struct OutputReport {
    pub uri: String,
    pub files: u64,
    pub rows: u64,
    pub bytes: u64,
    pub wall_seconds: f64,
    pub cpu_seconds: f64,
    /// What writing asked of the output's store.
    pub requests: RequestStats,
}

/// Sums over the whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    pub rows_in: u64,
    pub rows_out: u64,
    pub drop_rate: f64,
    pub text_bytes_in: u64,
    pub text_bytes_out: u64,
    /// Wall time of the steps (scan, stages, output), summed.
    pub wall_seconds: f64,
    /// CPU time of the steps, summed.
    pub cpu_seconds: f64,
    /// Wall time of the whole run: the steps, counting tokens, listing the source and
    /// reading its footers.
    pub run_wall_seconds: f64,
    /// CPU time the process spent on the whole run, on every core: what the run costs.
    pub run_cpu_seconds: f64,
    /// `run_cpu_seconds` by part.
    pub run_cpu_by_part: ByPart<f64>,
    /// `run_wall_seconds` by part.
    pub run_wall_by_part: ByPart<f64>,
    /// Highest pool reservation of any step.
    pub peak_memory_bytes: u64,
    /// Highest resident memory of the process.
    pub peak_rss_bytes: u64,
}

/// CPU or wall seconds of a run by part: what its `run_cpu_seconds` or `run_wall_seconds` is
/// made of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ByPart<T> {
    /// Reading and decoding the source.
    pub scan: T,
    /// The pipeline's stages, together.
    pub stages: T,
    /// Counting tokens, over all steps.
    pub tokens: T,
    /// Writing the output.
    pub output: T,
    /// The rest: listing the source, reading its footers, loading the tokenizer, building
    /// the report (and, in a sampled run, the sample's own work).
    pub other: T,
}

/// Money.
#[derive(Debug, Clone, Serialize)]
pub struct CostReport {
    /// CPU time of the whole run (`totals.run_cpu_seconds`) in core-hours.
    pub core_hours: f64,
    /// `core_hours × usd_per_vcpu_hour`.
    pub compute_usd: f64,
    /// Keeping the source's files in object storage for a month.
    pub source_storage_usd_per_month: f64,
    /// Keeping the output for a month, when one was written.
    pub output_storage_usd_per_month: Option<f64>,
    /// The run's storage requests (source and output), priced.
    pub requests_usd: f64,
    /// The bytes the run read out of the source's store, priced.
    pub egress_usd: f64,
    pub pricing: Pricing,
    /// The request and egress prices of the source's provider.
    pub request_pricing: RequestPricing,
    /// Those of the output's provider, when it is elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_request_pricing: Option<RequestPricing>,
}

/// The conditions of the run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// A fingerprint of the pipeline's stages (queries, kinds, parameters): equal in two
    /// reports when they ran the same pipeline.
    pub pipeline_hash: String,
    pub memory_limit_bytes: u64,
    pub threads: usize,
    /// `local`, `ballista` or `ballista-standalone`.
    pub engine: &'static str,
    /// Whose CPU time the CPU figures and the compute cost count: on a cluster, executors'
    /// CPU time is not measured.
    pub cpu_counted: &'static str,
}
