//! What `prepcost loader` found: the loader's rates at each worker count, and whether it
//! keeps up with the training job's token rate.

use serde::Serialize;

use super::budget::BudgetReport;

use super::pricing::RequestPricing;
use super::requests::RequestStats;

/// The `loader` report.
#[derive(Debug, Clone, Serialize)]
pub struct LoaderReport {
    pub schema_version: u32,
    pub command: &'static str,
    pub prepcost_version: &'static str,
    pub source: LoaderSource,
    pub settings: LoaderSettings,
    pub loader: LoaderFigures,
    /// Requests of every run together, listing and footers included.
    pub requests: RequestStats,
    pub cost: RequestCost,
    pub run: LoaderRun,
    /// The budgets the run was held to, and their breaches; absent without budgets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<BudgetReport>,
}

/// What the runs' requests and egress cost.
#[derive(Debug, Clone, Serialize)]
pub struct RequestCost {
    pub requests_usd: f64,
    pub egress_usd: f64,
    pub request_pricing: RequestPricing,
}

/// The conditions of the whole command.
#[derive(Debug, Clone, Serialize)]
pub struct LoaderRun {
    pub cores: usize,
    /// Every run together, listing and footers included.
    pub wall_seconds: f64,
    /// The highest resident memory of the process over every run.
    pub peak_rss_bytes: u64,
}

/// The dataset as the loader reads it.
#[derive(Debug, Clone, Serialize)]
pub struct LoaderSource {
    pub uri: String,
    pub files: u64,
    pub row_groups: u64,
    pub rows: u64,
    /// The columns read (top-level).
    pub columns: Vec<String>,
    /// The column the tokenizer reads, when tokens are counted.
    pub text_column: Option<String>,
    /// `cl100k_base`, `o200k_base`, a `tokenizer.json` path, or `none`.
    pub tokenizer: String,
    /// Compressed bytes of the column chunks read in one epoch.
    pub projected_compressed_bytes: u64,
    /// JSONL lines left out with `--on-error skip` (each file counted once).
    pub skipped_lines: u64,
}

/// How the loader read.
#[derive(Debug, Clone, Serialize)]
pub struct LoaderSettings {
    pub batch_size: usize,
    /// The worker counts run, one run each.
    pub workers: Vec<usize>,
    /// Row groups fetched ahead per worker.
    pub prefetch: usize,
    pub shuffle: bool,
    pub shuffle_buffer_rows: Option<usize>,
    pub seed: Option<u64>,
    pub epochs: u32,
    pub limit_rows: Option<u64>,
    pub limit_seconds: Option<f64>,
}

/// The run at the largest worker count, with the scaling table and the verdict.
#[derive(Debug, Clone, Serialize)]
pub struct LoaderFigures {
    pub workers: usize,
    pub rows: u64,
    pub batches: u64,
    /// Tokens of the rows delivered; `null` without a tokenizer.
    pub tokens_total: Option<u64>,
    /// Bytes fetched from storage (compressed column chunks, footers included).
    pub bytes_fetched: u64,
    /// Bytes of the decoded Arrow arrays.
    pub decoded_bytes: u64,
    pub wall_seconds: f64,
    pub cpu_seconds: f64,
    pub rows_per_s: f64,
    /// `bytes_fetched / wall_seconds`.
    pub bytes_per_s: f64,
    pub decoded_bytes_per_s: f64,
    pub tokens_per_s: Option<f64>,
    /// From the start (listing and footers included) to the first batch.
    pub time_to_first_batch_s: f64,
    /// Time the training loop waited for each batch after the first.
    pub batch_latency_s: Percentiles,
    /// CPU time over wall time × the machine's cores.
    pub cpu_utilisation: f64,
    /// True when `--limit` stopped the run before its epochs were done.
    pub limited: bool,
    /// One row per worker count, in increasing order.
    pub scaling: Vec<ScalingRow>,
    /// Present when a target rate was given.
    pub verdict: Option<Verdict>,
}

/// Nearest-rank percentiles, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

/// One run of a scaling table.
#[derive(Debug, Clone, Serialize)]
pub struct ScalingRow {
    pub workers: usize,
    pub rows: u64,
    pub wall_seconds: f64,
    pub rows_per_s: f64,
    pub bytes_per_s: f64,
    pub decoded_bytes_per_s: f64,
    pub tokens_per_s: Option<f64>,
    pub time_to_first_batch_s: f64,
    pub batch_latency_p50_s: f64,
    pub cpu_utilisation: f64,
    /// rows/s over that of the fewest workers.
    pub speedup: f64,
    /// `speedup / (workers / fewest workers)`.
    pub efficiency: f64,
}

/// Whether the loader feeds the training job.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub target_tokens_per_s: f64,
    /// How the target was derived, when it was: the 6·N·D rule with the numbers put in.
    pub formula: Option<String>,
    pub measured_tokens_per_s: f64,
    pub keeps_up: bool,
    /// Measured over target: above 1 is headroom, below 1 a shortfall.
    pub headroom: f64,
    /// The fewest workers that reach the target.
    pub workers_needed: u64,
    /// How `workers_needed` was found.
    pub workers_needed_basis: Basis,
    /// The verdict in one sentence.
    pub summary: String,
}

/// How a number of workers was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// A run with that many workers reached the target.
    Measured,
    /// From a run's rate per worker, assuming linear scaling: upward from the best run when
    /// none reached the target, downward from the run with the fewest workers when even that
    /// one had room to spare.
    Extrapolated,
}
