//! The projection of a sampled `profile`: how the sample was drawn, what it cannot see, and
//! each stage's figures for the whole dataset beside the sample's own.

use super::common::range;
use super::doc::{Doc, Grid, right_align_numbers, table};
use crate::model::profile::{GrowthModel, ProfileReport, ProjectedReport, SampleReport};
use crate::util::units::{count, format_size, seconds, usd};

/// The section, or nothing for a run of the whole dataset.
pub fn render(report: &ProfileReport) -> Doc {
    let mut out = Doc::new();
    let (Some(sample), Some(projected)) = (&report.sample, &report.projected) else {
        return out;
    };
    out.push_str(&sample_line(sample, report.storage.row_groups));
    out.heading("Projected to the whole dataset (95% intervals)");
    out.table(stages_table(report));
    out.push_str(&totals_lines(projected));
    out.gap();
    out
}

fn sample_line(sample: &SampleReport, row_groups: u64) -> String {
    let mut out = format!(
        "Sample: {} of the dataset by {} (seed {}): {} rows from {} of {} row groups, {} read; {}\n",
        sample.fraction,
        sample.mode,
        sample.seed,
        count(sample.rows),
        count(sample.row_groups),
        count(row_groups),
        format_size(sample.bytes_read),
        sample.interval,
    );
    for note in &sample.notes {
        out.push_str(&format!("Note: {note}\n"));
    }
    out.push('\n');
    out
}

fn stages_table(report: &ProfileReport) -> Grid {
    let mut rows = table(&[
        "stage",
        "rows out",
        "dropped",
        "text out",
        "tokens out",
        "wall s",
        "cpu s",
        "peak mem",
        "time grows as",
    ]);
    for stage in &report.stages {
        let Some(p) = &stage.projected else { continue };
        rows.add_row(vec![
            stage.name.clone(),
            range(p.rows_out, |x| count(x as u64)),
            range(p.rows_dropped, |x| count(x as u64)),
            range(p.text_bytes_out, |x| format_size(x as u64)),
            p.tokens_out
                .map_or_else(String::new, |t| range(t, |x| count(x as u64))),
            range(p.wall_seconds, seconds),
            range(p.cpu_seconds, seconds),
            range(p.peak_memory_bytes, |x| format_size(x as u64)),
            growth(&p.time_model),
        ]);
    }
    right_align_numbers(&mut rows, 1);
    rows
}

/// `n^0.93`, `n log n`, with the fit's error when several sizes judged it: `n (±12%)`.
fn growth(model: &GrowthModel) -> String {
    let shape = match model.model {
        "linear" => "n".to_string(),
        "n_log_n" => "n log n".to_string(),
        _ => format!("n^{:.2}", model.exponent),
    };
    match model.rms_log_error {
        Some(e) => format!("{shape} (±{:.0}%)", (e.exp() - 1.0) * 100.0),
        None => shape,
    }
}

fn totals_lines(p: &ProjectedReport) -> String {
    let t = &p.totals;
    let mut out = format!(
        "Projected total: {} → {} rows in {} s wall, {} s CPU (whole run {} s wall, {} s CPU); peak {} reserved\n",
        count(t.rows_in.value as u64),
        range(t.rows_out, |x| count(x as u64)),
        range(t.wall_seconds, seconds),
        range(t.cpu_seconds, seconds),
        range(t.run_wall_seconds, seconds),
        range(t.run_cpu_seconds, seconds),
        range(t.peak_memory_bytes, |x| format_size(x as u64)),
    );
    let mut figures = Vec::new();
    if let Some(tokens) = p.tokens_out {
        figures.push(format!("tokens out {}", range(tokens, |x| count(x as u64))));
    }
    if let Some(d) = p.exact_duplicates {
        figures.push(format!(
            "exact duplicates {}",
            range(d, |x| count(x as u64))
        ));
    }
    if let Some(d) = p.near_duplicates {
        figures.push(format!("near duplicates {}", range(d, |x| count(x as u64))));
    }
    figures.push(format!("cost {}", range(p.cost_usd, usd)));
    out.push_str(&format!("Projected {}\n", figures.join("; ")));
    out.push_str(&format!("Cost model: {}\n", p.cost_model));
    out
}
