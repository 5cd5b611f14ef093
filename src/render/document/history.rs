//! `history` as a document: one row per run, oldest first, with its change from the run
//! before it on the same dataset.

use super::doc::{Doc, right_align_numbers, table};
use crate::model::HistoryReport;
use crate::util::units::{count, format_size, seconds, usd};

pub fn render(report: &HistoryReport) -> Doc {
    let mut out = Doc::new();
    let which = match &report.dataset {
        Some(d) => format!(" · dataset {d}"),
        None => String::new(),
    };
    out.title(format!("prepcost history · {}{which}", report.uri));
    out.push_str(&format!("{} runs\n\n", report.runs.len()));
    if report.runs.is_empty() {
        return out;
    }
    let several = report
        .runs
        .iter()
        .any(|r| r.dataset != report.runs[0].dataset);
    let mut header = vec!["recorded (UTC)", "command"];
    if several {
        header.push("dataset");
    }
    header.extend([
        "rows", "rows out", "dropped", "wall s", "cpu s", "cost", "storage", "Δ rows", "Δ cost",
        "Δ wall", "breaches",
    ]);
    let mut runs = table(&header);
    for run in &report.runs {
        let change = run.change.unwrap_or_default();
        let mut row = vec![
            run.recorded_at.replace('T', " ").replace('Z', ""),
            run.command.clone(),
        ];
        if several {
            row.push(run.dataset.clone());
        }
        let pipeline = if change.pipeline_changed {
            " (new pipeline)"
        } else {
            ""
        };
        row.extend([
            run.dataset_rows.map_or_else(String::new, count),
            run.rows_out.map_or_else(String::new, count),
            run.drop_rate
                .map_or_else(String::new, |d| format!("{:.2}%", d * 100.0)),
            run.wall_seconds.map_or_else(String::new, seconds),
            run.cpu_seconds.map_or_else(String::new, seconds),
            run.projected_cost_usd
                .or(run.cost_usd)
                .map_or_else(String::new, usd),
            run.storage_bytes.map_or_else(String::new, format_size),
            percent(change.dataset_rows),
            format!("{}{pipeline}", percent(change.cost_usd)),
            percent(change.wall_seconds),
            run.budget_breaches.map_or_else(String::new, count),
        ]);
        runs.add_row(row);
    }
    right_align_numbers(&mut runs, if several { 3 } else { 2 });
    out.section(
        "Runs (oldest first; Δ against the run before on the same dataset)",
        runs,
    );
    if report.runs.iter().any(|r| r.projected_cost_usd.is_some()) {
        out.push_str("Costs of sampled runs are the projected full run's.\n");
    }
    out
}

fn percent(change: Option<f64>) -> String {
    change.map_or_else(String::new, |c| format!("{:+.1}%", c * 100.0))
}
