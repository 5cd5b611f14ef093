//! The terminal renderer: a few compact tables, sizes in IEC units, times in seconds.

use comfy_table::presets::UTF8_BORDERS_ONLY;
use comfy_table::{CellAlignment, Table};

use super::{ProfileReport, ratio};
use crate::memory::format_size;

/// The report as tables for a terminal.
pub fn render(report: &ProfileReport) -> String {
    let mut out = String::new();
    let source = &report.source;
    let storage = &report.storage;
    out.push_str(&format!(
        "prepcost profile · {} ({}, text column '{}')\n",
        source.uri, source.format, source.text_column
    ));
    out.push_str(&format!(
        "{} files · {} rows · {} row groups · {} on storage · {} of text\n\n",
        storage.files,
        storage.rows,
        storage.row_groups,
        format_size(storage.file_bytes),
        format_size(source.text_bytes),
    ));

    let mut stages = table(&[
        "stage", "rows in", "rows out", "dropped", "text in", "text out", "wall s", "cpu s",
        "peak mem", "result", "rows/s",
    ]);
    let scan = &report.scan;
    stages.add_row(vec![
        "scan (read + decode)".to_string(),
        "".into(),
        scan.rows.to_string(),
        "".into(),
        "".into(),
        format_size(source.text_bytes),
        format!("{:.2}", scan.wall_seconds),
        format!("{:.2}", scan.cpu_seconds),
        format_size(scan.peak_memory_bytes),
        result_size(scan.result_bytes, scan.spilled),
        format!("{:.0}", ratio(scan.rows as f64, scan.wall_seconds)),
    ]);
    for s in &report.stages {
        stages.add_row(vec![
            s.name.clone(),
            s.rows_in.to_string(),
            s.rows_out.to_string(),
            format!("{:.2}%", s.drop_rate * 100.0),
            format_size(s.text_bytes_in),
            format_size(s.text_bytes_out),
            format!("{:.2}", s.wall_seconds),
            format!("{:.2}", s.cpu_seconds),
            format_size(s.peak_memory_bytes),
            result_size(s.result_bytes, s.spilled),
            format!("{:.0}", s.rows_per_second),
        ]);
    }
    if let Some(o) = &report.output {
        stages.add_row(vec![
            format!("write {}", o.uri),
            o.rows.to_string(),
            o.rows.to_string(),
            "".into(),
            "".into(),
            "".into(),
            format!("{:.2}", o.wall_seconds),
            format!("{:.2}", o.cpu_seconds),
            "".into(),
            format!("{} in {} files", format_size(o.bytes), o.files),
            "".into(),
        ]);
    }
    right_align_numbers(&mut stages, 1);
    out.push_str(&format!("Stages\n{stages}\n\n"));

    let mut columns = table(&[
        "column",
        "type",
        "compressed",
        "uncompressed",
        "ratio",
        "share",
        "codecs",
    ]);
    for c in &storage.columns {
        columns.add_row(vec![
            c.name.clone(),
            c.physical_type.clone(),
            format_size(c.compressed_bytes),
            format_size(c.uncompressed_bytes),
            format!(
                "{:.2}",
                ratio(c.uncompressed_bytes as f64, c.compressed_bytes as f64)
            ),
            format!(
                "{:.1}%",
                100.0 * ratio(c.compressed_bytes as f64, storage.compressed_bytes as f64)
            ),
            c.codecs.join(","),
        ]);
    }
    right_align_numbers(&mut columns, 2);
    out.push_str(&format!("Storage by column\n{columns}\n\n"));

    let totals = &report.totals;
    let cost = &report.cost;
    out.push_str(&format!(
        "Total: {} → {} rows ({:.2}% dropped) in {:.2} s wall, {:.2} s CPU, peak {} reserved, {} resident\n",
        totals.rows_in,
        totals.rows_out,
        totals.drop_rate * 100.0,
        totals.wall_seconds,
        totals.cpu_seconds,
        format_size(totals.peak_memory_bytes),
        format_size(totals.peak_rss_bytes),
    ));
    out.push_str(&format!(
        "Cost: {:.6} core-hours = ${:.6} compute (at ${}/vCPU-hour); storage ${:.4}/month for the source",
        cost.core_hours, cost.compute_usd, cost.pricing.usd_per_vcpu_hour, cost.source_storage_usd_per_month,
    ));
    if let Some(output) = cost.output_storage_usd_per_month {
        out.push_str(&format!(", ${output:.4}/month for the output"));
    }
    out.push_str(&format!(
        " (at ${}/GB-month)\n",
        cost.pricing.usd_per_gb_month
    ));
    out.push_str(&format!(
        "Run: {} threads, memory limit {}, engine {}\n",
        report.run.threads,
        format_size(report.run.memory_limit_bytes),
        report.run.engine
    ));
    out
}

fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_BORDERS_ONLY)
        .set_header(header.to_vec());
    table
}

/// Right-aligns every column from `first` on.
fn right_align_numbers(table: &mut Table, first: usize) {
    let count = table.column_count();
    for i in first..count {
        if let Some(column) = table.column_mut(i) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
}

fn result_size(bytes: u64, spilled: bool) -> String {
    if spilled {
        format!("{} (spilled)", format_size(bytes))
    } else {
        format_size(bytes)
    }
}
