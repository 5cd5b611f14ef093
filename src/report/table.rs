//! The terminal renderer: a few compact tables, sizes in IEC units, times in seconds.

use comfy_table::presets::UTF8_BORDERS_ONLY;
use comfy_table::{CellAlignment, Table};

use super::{ProfileReport, StageReport, TokensReport, ratio};
use crate::memory::format_size;
use crate::tokens::TokenStats;

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
        count(storage.files),
        count(storage.rows),
        count(storage.row_groups),
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
        count(scan.rows),
        "".into(),
        "".into(),
        format_size(source.text_bytes),
        seconds(scan.wall_seconds),
        seconds(scan.cpu_seconds),
        format_size(scan.peak_memory_bytes),
        result_size(scan.result_bytes, scan.spilled),
        count(ratio(scan.rows as f64, scan.wall_seconds) as u64),
    ]);
    for s in &report.stages {
        stages.add_row(vec![
            s.name.clone(),
            count(s.rows_in),
            count(s.rows_out),
            format!("{:.2}%", s.drop_rate * 100.0),
            format_size(s.text_bytes_in),
            format_size(s.text_bytes_out),
            seconds(s.wall_seconds),
            seconds(s.cpu_seconds),
            format_size(s.peak_memory_bytes),
            result_size(s.result_bytes, s.spilled),
            count(s.rows_per_second as u64),
        ]);
    }
    if let Some(o) = &report.output {
        stages.add_row(vec![
            format!("write {}", o.uri),
            count(o.rows),
            count(o.rows),
            "".into(),
            "".into(),
            "".into(),
            seconds(o.wall_seconds),
            seconds(o.cpu_seconds),
            "".into(),
            format!("{} in {} files", format_size(o.bytes), o.files),
            "".into(),
        ]);
    }
    right_align_numbers(&mut stages, 1);
    out.push_str(&format!("Stages\n{stages}\n\n"));
    if let Some(tokens) = &report.tokens {
        out.push_str(&tokens_table(tokens, &report.stages));
    }
    for stage in &report.stages {
        if let Some(nd) = &stage.near_dedup {
            out.push_str(&super::table_near_dedup::render(&stage.name, nd));
        }
    }

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
        "Total: {} → {} rows ({:.2}% dropped) in {} s wall, {} s CPU; peak {} reserved, {} resident\n",
        count(totals.rows_in),
        count(totals.rows_out),
        totals.drop_rate * 100.0,
        seconds(totals.wall_seconds),
        seconds(totals.cpu_seconds),
        format_size(totals.peak_memory_bytes),
        format_size(totals.peak_rss_bytes),
    ));
    out.push_str(&format!(
        "Cost: {} compute ({:.3e} core-hours at ${}/vCPU-hour); storage {}/month for the source",
        usd(cost.compute_usd),
        cost.core_hours,
        cost.pricing.usd_per_vcpu_hour,
        usd(cost.source_storage_usd_per_month),
    ));
    if let Some(output) = cost.output_storage_usd_per_month {
        out.push_str(&format!(", {}/month for the output", usd(output)));
    }
    out.push_str(&format!(
        " (at ${}/GB-month)\n",
        cost.pricing.usd_per_gb_month
    ));
    out.push_str(&format!(
        "Storage requests: {}; {}\n",
        super::table_inspect::requests(&report.requests),
        super::table_inspect::request_cost(
            cost.requests_usd,
            cost.egress_usd,
            &cost.request_pricing
        )
    ));
    out.push_str(&format!(
        "Run: {} threads, memory limit {}, engine {}\n",
        report.run.threads,
        format_size(report.run.memory_limit_bytes),
        report.run.engine
    ));
    out
}

pub(super) fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_BORDERS_ONLY)
        .set_header(header.to_vec());
    table
}

/// Right-aligns every column from `first` on.
pub(super) fn right_align_numbers(table: &mut Table, first: usize) {
    let count = table.column_count();
    for i in first..count {
        if let Some(column) = table.column_mut(i) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
}

/// Tokens of the source and after every stage, with what each stage removed.
fn tokens_table(tokens: &TokensReport, stages: &[StageReport]) -> String {
    let mut table = table(&[
        "after",
        "tokens",
        "removed",
        "per row: min",
        "median",
        "p99",
        "max",
        "mean",
    ]);
    let mut row = |step: &str, stats: &TokenStats, removed: Option<i64>| {
        let p = &stats.per_row;
        table.add_row(vec![
            step.to_string(),
            count(stats.total),
            removed.map_or_else(String::new, signed_count),
            count(u64::from(p.min)),
            count(u64::from(p.median)),
            count(u64::from(p.p99)),
            count(u64::from(p.max)),
            format!("{:.1}", p.mean),
        ]);
    };
    row("source", &tokens.source, None);
    for stage in stages {
        if let Some(out) = &stage.tokens_out {
            row(&stage.name, out, stage.tokens_removed);
        }
    }
    right_align_numbers(&mut table, 1);
    format!(
        "Tokens ({}, counted in {} s)\n{table}\n\n",
        tokens.tokenizer,
        seconds(tokens.wall_seconds)
    )
}

/// `-1234` as `-1,234`.
fn signed_count(n: i64) -> String {
    if n < 0 {
        format!("-{}", count(n.unsigned_abs()))
    } else {
        count(n as u64)
    }
}

fn result_size(bytes: u64, spilled: bool) -> String {
    if spilled {
        format!("{} (spilled)", format_size(bytes))
    } else {
        format_size(bytes)
    }
}

/// `1234567` as `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Seconds with three significant digits, at most three decimals: `12.3`, `0.042`.
pub(super) fn seconds(s: f64) -> String {
    match s {
        s if s >= 100.0 => format!("{s:.0}"),
        s if s >= 10.0 => format!("{s:.1}"),
        s if s >= 1.0 => format!("{s:.2}"),
        s => format!("{s:.3}"),
    }
}

/// Dollars: cents for amounts of a dollar or more, three significant digits below;
/// negative amounts with a leading minus.
pub fn usd(amount: f64) -> String {
    if amount < 0.0 {
        return format!("-{}", usd(-amount));
    }
    if amount >= 1.0 || amount == 0.0 {
        format!("${amount:.2}")
    } else {
        let decimals = (2 - amount.log10().floor() as i32).clamp(2, 12) as usize;
        format!("${amount:.decimals$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(seconds(0.0421), "0.042");
        assert_eq!(seconds(4.256), "4.26");
        assert_eq!(seconds(123.4), "123");
        assert_eq!(usd(12.345), "$12.35");
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(0.5), "$0.500");
        assert_eq!(usd(0.0000438), "$0.0000438");
        assert_eq!(usd(-0.5), "-$0.500");
    }
}
