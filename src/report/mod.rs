//! The report: plain serde data produced by the commands, and one renderer per format.
//! Renderers only format; every number is computed before it reaches them.

pub mod inspect;
mod json;
pub mod loader;
pub mod near_dedup;
mod table;
pub use table::{count, usd};
mod table_inspect;
mod table_loader;
mod table_near_dedup;

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::config::SourceFormat;
use crate::cost::{Pricing, RequestPricing};
use crate::storage::instrumented::RequestStats;
use crate::tokens::TokenStats;

/// Bumped when a field changes meaning or disappears; new fields do not bump it.
pub const SCHEMA_VERSION: u32 = 1;

/// The formats a report can be rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportFormat {
    /// Tables for a terminal.
    #[default]
    Table,
    /// One JSON object.
    Json,
}

impl FromStr for ReportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "table" => Ok(ReportFormat::Table),
            "json" => Ok(ReportFormat::Json),
            other => Err(format!("unknown format '{other}' (formats: table, json)")),
        }
    }
}

/// The report of any command.
#[derive(Debug, Clone)]
pub enum Report {
    Profile(Box<ProfileReport>),
    Inspect(Box<inspect::InspectReport>),
    Loader(Box<loader::LoaderReport>),
}

impl Report {
    /// False when the run missed a threshold it was given (a loader that cannot keep up with
    /// its target rate): the command then exits with code 1, its report written all the same.
    pub fn within_thresholds(&self) -> bool {
        match self {
            Report::Loader(r) => r.loader.verdict.as_ref().is_none_or(|v| v.keeps_up),
            Report::Profile(_) | Report::Inspect(_) => true,
        }
    }
}

/// Renders `report` in `format`.
pub fn render(report: &Report, format: ReportFormat) -> String {
    match (format, report) {
        (ReportFormat::Table, Report::Profile(r)) => table::render(r),
        (ReportFormat::Table, Report::Inspect(r)) => table_inspect::render(r),
        (ReportFormat::Table, Report::Loader(r)) => table_loader::render(r),
        (ReportFormat::Json, _) => render_json(report),
    }
}

/// Renders `report` as JSON, for `--format json` and `--report FILE`.
pub fn render_json(report: &Report) -> String {
    match report {
        Report::Profile(r) => json::render(r.as_ref()),
        Report::Inspect(r) => json::render(r.as_ref()),
        Report::Loader(r) => json::render(r.as_ref()),
    }
}

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
}

/// The source as configured, with what its footers say.
#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    pub uri: String,
    pub format: SourceFormat,
    pub text_column: String,
    pub id_column: Option<String>,
    pub files: u64,
    pub rows: u64,
    /// UTF-8 bytes of the non-NULL texts.
    pub text_bytes: u64,
    pub text_nulls: u64,
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
    /// What a `minhash` stage found; absent for other stages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub near_dedup: Option<Box<near_dedup::NearDedupReport>>,
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
    pub wall_seconds: f64,
    pub cpu_seconds: f64,
    /// Highest pool reservation of any step.
    pub peak_memory_bytes: u64,
    /// Highest resident memory of the process.
    pub peak_rss_bytes: u64,
}

/// Money.
#[derive(Debug, Clone, Serialize)]
pub struct CostReport {
    /// CPU time of the whole run in core-hours.
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
    pub memory_limit_bytes: u64,
    pub threads: usize,
    pub engine: &'static str,
}

impl StageReport {
    /// Derives the rates and drop figures from the measured ones.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: String,
        origin: String,
        rows_in: u64,
        rows_out: u64,
        text_bytes_in: u64,
        text_bytes_out: u64,
        step: &StepReport,
    ) -> Self {
        let rows_dropped = rows_in.saturating_sub(rows_out);
        StageReport {
            name,
            origin,
            rows_in,
            rows_out,
            rows_dropped,
            drop_rate: ratio(rows_dropped as f64, rows_in as f64),
            text_bytes_in,
            text_bytes_out,
            wall_seconds: step.wall_seconds,
            cpu_seconds: step.cpu_seconds,
            peak_memory_bytes: step.peak_memory_bytes,
            result_bytes: step.result_bytes,
            spilled: step.spilled,
            rows_per_second: ratio(rows_in as f64, step.wall_seconds),
            text_mb_per_second: ratio(text_bytes_in as f64 / 1e6, step.wall_seconds),
            tokens_out: None,
            tokens_removed: None,
            requests: step.requests.clone(),
            near_dedup: None,
        }
    }
}

/// The nearest-rank `p` percentile (0 < p ≤ 1) of `sorted`, which is in increasing order.
pub fn nearest_rank<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// `a / b`, or 0 when `b` is 0.
pub fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

impl fmt::Display for ReportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReportFormat::Table => "table",
            ReportFormat::Json => "json",
        })
    }
}
