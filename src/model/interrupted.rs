//! What an interrupted run reports: which signal stopped it, the steps it finished and the
//! one it was in. Nothing of its output was committed.

use serde::Serialize;

/// The partial report of a run stopped by SIGINT or SIGTERM.
#[derive(Debug, Clone, Serialize)]
pub struct InterruptedReport {
    pub schema_version: u32,
    pub command: &'static str,
    pub prepcost_version: &'static str,
    pub interrupted: bool,
    /// `SIGINT` or `SIGTERM`.
    pub signal: &'static str,
    /// The dataset as given.
    pub dataset: String,
    /// From the start to the signal.
    pub wall_seconds: f64,
    pub steps_finished: Vec<FinishedStepReport>,
    /// The step the signal stopped.
    pub step_running: Option<String>,
    /// Temporary and spill files were removed; the output, if any, was not committed.
    pub note: &'static str,
}

/// A step that ended before the signal.
#[derive(Debug, Clone, Serialize)]
pub struct FinishedStepReport {
    pub name: String,
    pub rows: u64,
    pub wall_seconds: f64,
}
