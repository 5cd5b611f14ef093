//! What `prepcost history` shows: the runs kept in a history, oldest first, each with its
//! change from the run before it of the same command on the same dataset.

use serde::Serialize;

/// The runs of a history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryReport {
    pub schema_version: u32,
    pub command: &'static str,
    pub prepcost_version: &'static str,
    /// The history's directory or prefix.
    pub uri: String,
    /// The dataset the runs were chosen for; absent for every dataset.
    pub dataset: Option<String>,
    pub runs: Vec<HistoryRun>,
}

/// One run.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryRun {
    /// When it ended, RFC 3339 in UTC.
    pub recorded_at: String,
    pub run_id: String,
    pub command: String,
    pub dataset: String,
    pub pipeline_hash: String,
    pub prepcost_version: String,
    pub dataset_rows: Option<u64>,
    pub rows_out: Option<u64>,
    pub drop_rate: Option<f64>,
    pub wall_seconds: Option<f64>,
    pub cpu_seconds: Option<f64>,
    pub cost_usd: Option<f64>,
    pub projected_cost_usd: Option<f64>,
    pub storage_bytes: Option<u64>,
    pub tokens_out: Option<u64>,
    pub rows_per_second: Option<f64>,
    pub tokens_per_second: Option<f64>,
    pub budget_breaches: Option<u64>,
    pub sampled: bool,
    /// Relative change from the previous run of the same command on the same dataset;
    /// absent for the first.
    pub change: Option<RunChange>,
    pub stages: Vec<HistoryStage>,
}

/// Relative changes (0.1: 10% more), each absent when the earlier figure is missing or 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct RunChange {
    pub dataset_rows: Option<f64>,
    pub cost_usd: Option<f64>,
    pub wall_seconds: Option<f64>,
    /// True when the pipeline (or loader settings) differ from the previous run's.
    pub pipeline_changed: bool,
}

/// One stage of a run.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryStage {
    pub name: String,
    pub rows_in: Option<u64>,
    pub rows_out: Option<u64>,
    pub drop_rate: Option<f64>,
    pub wall_seconds: Option<f64>,
    pub cpu_seconds: Option<f64>,
}
