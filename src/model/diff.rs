//! What `prepcost diff` finds between two reports of the same command: each main figure in
//! both, its relative change, and whether that change is beyond the tolerance.

use serde::Serialize;

/// Two reports compared.
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    pub schema_version: u32,
    pub command: &'static str,
    pub prepcost_version: &'static str,
    /// The earlier report's file, and the later one's.
    pub a: String,
    pub b: String,
    /// The command both reports are of.
    pub report_command: String,
    /// The relative change beyond which a figure is flagged (0.1: 10%).
    pub tolerance: f64,
    pub figures: Vec<FigureChange>,
    /// Figures flagged.
    pub flagged: usize,
}

/// One figure in the two reports.
#[derive(Debug, Clone, Serialize)]
pub struct FigureChange {
    /// Its path in the JSON report, stages by name: `stages[clean].wall_seconds`.
    pub figure: String,
    pub a: Option<f64>,
    pub b: Option<f64>,
    /// `(b - a) / |a|`; absent when either is missing or `a` is 0.
    pub change: Option<f64>,
    /// Beyond the tolerance, or in one report only, or grown from 0.
    pub flagged: bool,
}
