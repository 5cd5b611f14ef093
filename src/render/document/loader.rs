//! The terminal report of `loader`: the settings, a scaling table (one row per worker
//! count), the headline run's latencies and the verdict.

use super::common::{request_cost, requests};
use super::doc::{Doc, Grid, right_align_numbers, table};
use crate::model::loader::LoaderReport;
use crate::util::units::{count, format_size, seconds};

/// The report as a document.
pub fn render(report: &LoaderReport) -> Doc {
    let source = &report.source;
    let settings = &report.settings;
    let figures = &report.loader;
    let mut out = Doc::new();
    out.title(format!(
        "prepcost loader · {} · columns {} · tokenizer {}",
        source.uri,
        source.columns.join(", "),
        source.tokenizer
    ));
    let shuffle = match (settings.shuffle_buffer_rows, settings.seed) {
        (Some(buffer), Some(seed)) => {
            format!(
                "shuffled (buffer {} rows, seed {seed})",
                count(buffer as u64)
            )
        }
        _ => "in order".to_string(),
    };
    let mut limit = match (settings.limit_rows, settings.limit_seconds) {
        (Some(rows), _) => format!(" · limit {} rows", count(rows)),
        (_, Some(s)) => format!(" · limit {s} s"),
        _ => String::new(),
    };
    if source.skipped_lines > 0 {
        limit.push_str(&format!(
            " · {} bad lines skipped",
            count(source.skipped_lines)
        ));
    }
    out.push_str(&format!(
        "{} files · {} rows · {} row groups · {} of column chunks per epoch · batches of {} rows · prefetch {} per worker · {shuffle} · {} epoch(s){limit}\n\n",
        count(source.files),
        count(source.rows),
        count(source.row_groups),
        format_size(source.projected_compressed_bytes),
        count(settings.batch_size as u64),
        settings.prefetch,
        settings.epochs,
    ));

    out.table(scaling_table(report));

    let tokens = figures
        .tokens_total
        .map(|t| format!(" · {} tokens", count(t)))
        .unwrap_or_default();
    let latency = &figures.batch_latency_s;
    out.push_str(&format!(
        "{} workers: {} rows in {} batches{tokens} in {} s{} · first batch after {} s · batch latency p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms\n",
        figures.workers,
        count(figures.rows),
        count(figures.batches),
        seconds(figures.wall_seconds),
        if figures.limited { " (stopped by --limit)" } else { "" },
        seconds(figures.time_to_first_batch_s),
        latency.p50 * 1e3,
        latency.p95 * 1e3,
        latency.p99 * 1e3,
    ));
    out.push_str(&format!(
        "storage (all runs): {}; {}\n",
        requests(&report.requests),
        request_cost(
            report.cost.requests_usd,
            report.cost.egress_usd,
            &report.cost.request_pricing
        )
    ));
    if let Some(verdict) = &figures.verdict {
        if let Some(formula) = &verdict.formula {
            out.push_str(&format!("target: {formula}\n"));
        }
        out.push_str(&format!("verdict: {}\n", verdict.summary));
    }
    out
}

/// One row per worker count.
fn scaling_table(report: &LoaderReport) -> Grid {
    let mut scaling = table(&[
        "workers",
        "rows/s",
        "MB/s fetched",
        "MB/s decoded",
        "tokens/s",
        "first batch s",
        "batch p50 ms",
        "CPU",
        "speed-up",
        "efficiency",
    ]);
    for row in &report.loader.scaling {
        scaling.add_row(vec![
            row.workers.to_string(),
            count(row.rows_per_s as u64),
            format!("{:.1}", row.bytes_per_s / 1e6),
            format!("{:.1}", row.decoded_bytes_per_s / 1e6),
            row.tokens_per_s
                .map_or_else(|| "-".to_string(), |t| count(t as u64)),
            seconds(row.time_to_first_batch_s),
            format!("{:.2}", row.batch_latency_p50_s * 1e3),
            format!("{:.0}%", row.cpu_utilisation * 100.0),
            format!("{:.2}×", row.speedup),
            format!("{:.0}%", row.efficiency * 100.0),
        ]);
    }
    right_align_numbers(&mut scaling, 0);
    scaling
}
