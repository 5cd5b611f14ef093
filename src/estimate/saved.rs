//! A `profile` report read back from its JSON: the figures a plan is made from, each for the
//! whole dataset — projected with its interval when a sample ran, measured (and exact) when
//! the whole dataset did.

use serde::Deserialize;

use crate::model::SCHEMA_VERSION;
use crate::model::profile::{ByPart, Estimate};

/// The fields of a saved `profile` report that a plan uses.
#[derive(Debug, Clone, Deserialize)]
pub struct SavedReport {
    pub source: SavedSource,
    pub storage: SavedStorage,
    pub stages: Vec<SavedStage>,
    pub tokens: Option<SavedTokens>,
    pub output: Option<SavedOutput>,
    pub totals: SavedTotals,
    pub cost: SavedCost,
    pub run: SavedRun,
    pub sample: Option<SavedSample>,
    pub projected: Option<SavedProjected>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedSource {
    pub uri: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedStorage {
    pub rows: u64,
    pub file_bytes: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedStage {
    pub name: String,
    pub rows_in: u64,
    pub rows_out: u64,
    pub wall_seconds: f64,
    pub cpu_seconds: f64,
    pub peak_memory_bytes: u64,
    pub near_dedup: Option<SavedNearDedup>,
    pub projected: Option<SavedStageProjection>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedNearDedup {
    pub bands: usize,
    pub verify_threshold: Option<f64>,
    pub memory: SavedNearDedupMemory,
    pub seconds: SavedNearDedupSeconds,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedNearDedupMemory {
    pub passes: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedNearDedupSeconds {
    pub signatures: f64,
    pub clustering: f64,
    pub report: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedStageProjection {
    pub rows_out: Estimate,
    pub wall_seconds: Estimate,
    pub cpu_seconds: Estimate,
    pub time_exponent: f64,
    pub peak_memory_bytes: Estimate,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedTokens {
    pub removed: i64,
    pub result: SavedTokenStats,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedTokenStats {
    pub total: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedOutput {
    pub rows: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedTotals {
    pub rows_out: u64,
    pub text_bytes_in: u64,
    pub text_bytes_out: u64,
    pub run_cpu_by_part: ByPart<f64>,
    pub run_wall_by_part: ByPart<f64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedCost {
    pub requests_usd: f64,
    pub egress_usd: f64,
    pub pricing: SavedPricing,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedPricing {
    pub usd_per_vcpu_hour: f64,
    pub usd_per_gb_month: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedRun {
    pub threads: usize,
    pub memory_limit_bytes: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedSample {
    pub mode: String,
    pub fraction: f64,
    pub seed: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedProjected {
    pub totals: SavedProjectedTotals,
    pub tokens_out: Option<Estimate>,
    pub tokens_removed: Option<Estimate>,
    pub requests_usd: Estimate,
    pub egress_usd: Estimate,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedProjectedTotals {
    pub rows_out: Estimate,
    pub text_bytes_in: Estimate,
    pub text_bytes_out: Estimate,
    pub run_cpu_by_part: ByPart<Estimate>,
    pub run_wall_by_part: ByPart<Estimate>,
}

/// Reads a `profile` report from its JSON text; refuses another command's report, or one of
/// another schema version, before looking at anything else.
pub fn parse(json: &str) -> Result<SavedReport, String> {
    #[derive(Deserialize)]
    struct Header {
        schema_version: Option<u32>,
        command: Option<String>,
    }
    let header: Header =
        serde_json::from_str(json).map_err(|e| format!("not a prepcost JSON report ({e})"))?;
    match header.schema_version {
        Some(SCHEMA_VERSION) => {}
        Some(other) => {
            return Err(format!(
                "a report of schema version {other}; this prepcost reads version {SCHEMA_VERSION}: profile the dataset again with it"
            ));
        }
        None => return Err("not a prepcost JSON report (no schema_version)".to_string()),
    }
    match header.command.as_deref() {
        Some("profile") => {}
        Some(other) => {
            return Err(format!(
                "a report of `prepcost {other}`; a plan is made from a `prepcost profile` report"
            ));
        }
        None => return Err("not a prepcost JSON report (no command)".to_string()),
    }
    serde_json::from_str(json).map_err(|e| {
        format!("a profile report without the figures a plan needs ({e}); profile the dataset again with this prepcost")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_commands_and_versions_are_refused_first() {
        let version = parse(r#"{"schema_version": 99, "command": "profile"}"#).unwrap_err();
        assert!(version.contains("schema version 99"), "{version}");
        let command = parse(r#"{"schema_version": 1, "command": "loader"}"#).unwrap_err();
        assert!(command.contains("prepcost loader"), "{command}");
        let missing = parse(r#"{"schema_version": 1, "command": "profile"}"#).unwrap_err();
        assert!(missing.contains("missing field"), "{missing}");
        assert!(
            parse("[1, 2")
                .unwrap_err()
                .starts_with("not a prepcost JSON report")
        );
    }
}
