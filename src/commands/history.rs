//! `prepcost history`: the runs a history keeps, oldest first, each with its change from the
//! run before it of the same command on the same dataset.

use chrono::DateTime;

use crate::config::history::HistoryConfig;
use crate::error::Result;
use crate::history::{self, HistoryRow};
use crate::model::SCHEMA_VERSION;
use crate::model::history::{HistoryReport, HistoryRun, HistoryStage, RunChange};

/// Reads the history and returns its runs.
pub async fn run(config: &HistoryConfig) -> Result<HistoryReport> {
    let rows = history::read(
        &config.uri,
        config.dataset.as_deref(),
        &config.storage_options,
    )
    .await?;
    let mut runs: Vec<HistoryRun> = Vec::new();
    for row in rows {
        match row.stage.clone() {
            Some(name) => {
                if let Some(run) = runs.iter_mut().rev().find(|r| r.run_id == row.run_id) {
                    run.stages.push(stage(name, &row));
                }
            }
            None => {
                let before = runs
                    .iter()
                    .rev()
                    .find(|r| r.command == row.command && r.dataset == row.dataset);
                let change = before.map(|b| change(b, &row));
                runs.push(run_of(row, change));
            }
        }
    }
    Ok(HistoryReport {
        schema_version: SCHEMA_VERSION,
        command: "history",
        prepcost_version: env!("CARGO_PKG_VERSION"),
        uri: config.uri.clone(),
        dataset: config.dataset.clone(),
        runs,
    })
}

fn stage(name: String, row: &HistoryRow) -> HistoryStage {
    HistoryStage {
        name,
        rows_in: row.rows_in,
        rows_out: row.rows_out,
        drop_rate: row.drop_rate,
        wall_seconds: row.wall_seconds,
        cpu_seconds: row.cpu_seconds,
    }
}

/// How `now` differs from the run `before`.
fn change(before: &HistoryRun, now: &HistoryRow) -> RunChange {
    let relative = |was: Option<f64>, is: Option<f64>| match (was, is) {
        (Some(was), Some(is)) if was != 0.0 => Some(is / was - 1.0),
        _ => None,
    };
    let cost = |projected: Option<f64>, measured: Option<f64>| projected.or(measured);
    RunChange {
        dataset_rows: relative(
            before.dataset_rows.map(|n| n as f64),
            now.dataset_rows.map(|n| n as f64),
        ),
        cost_usd: relative(
            cost(before.projected_cost_usd, before.cost_usd),
            cost(now.projected_cost_usd, now.cost_usd),
        ),
        wall_seconds: relative(before.wall_seconds, now.wall_seconds),
        pipeline_changed: before.pipeline_hash != now.pipeline_hash,
    }
}

fn run_of(row: HistoryRow, change: Option<RunChange>) -> HistoryRun {
    let recorded_at = DateTime::from_timestamp_micros(row.recorded_at_us)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    HistoryRun {
        recorded_at,
        run_id: row.run_id,
        command: row.command,
        dataset: row.dataset,
        pipeline_hash: row.pipeline_hash,
        prepcost_version: row.prepcost_version,
        dataset_rows: row.dataset_rows,
        rows_out: row.rows_out,
        drop_rate: row.drop_rate,
        wall_seconds: row.wall_seconds,
        cpu_seconds: row.cpu_seconds,
        cost_usd: row.cost_usd,
        projected_cost_usd: row.projected_cost_usd,
        storage_bytes: row.storage_bytes,
        tokens_out: row.tokens_out,
        rows_per_second: row.rows_per_second,
        tokens_per_second: row.tokens_per_second,
        budget_breaches: row.budget_breaches,
        sampled: row.sampled,
        change,
        stages: Vec::new(),
    }
}
