//! Token counts of a step's text: the total and the distribution per row.

use serde::Serialize;

/// Tokens of one step's result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct TokenStats {
    pub total: u64,
    /// Tokens per row, NULL rows counting zero.
    pub per_row: PerRow,
}

/// The distribution of tokens per row (nearest-rank percentiles).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct PerRow {
    pub min: u32,
    pub median: u32,
    pub p99: u32,
    pub max: u32,
    pub mean: f64,
}
