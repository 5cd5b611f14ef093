//! The terminal report of `profile`: the source, a table of stages, tokens, near duplicates,
//! storage by column, and the totals and money.

use super::common::{request_cost, requests};
use super::doc::{Doc, Grid, right_align_numbers, table};
use crate::model::profile::{ProfileReport, StageReport, TokensReport};
use crate::model::tokens::TokenStats;
use crate::util::units::{count, format_size, ratio, seconds, signed_count, usd};

/// The report as a document.
pub fn render(report: &ProfileReport) -> Doc {
    let mut out = header(report);
    out.section("Stages", stages_table(report));
    out.append(conditions(report));
    out.append(redactions(report));
    out.append(super::projection::render(report));
    if let Some(tokens) = &report.tokens {
        out.append(tokens_table(tokens, &report.stages));
    }
    for stage in &report.stages {
        if let Some(nd) = &stage.near_dedup {
            out.append(super::near_dedup::render(&stage.name, nd));
        }
    }
    out.section("Storage by column", columns_table(report));
    out.push_str(&summary(report));
    out
}

/// What each condition of the stages that apply several removed; nothing when none does.
fn conditions(report: &ProfileReport) -> Doc {
    let stages: Vec<&StageReport> = report
        .stages
        .iter()
        .filter(|s| !s.conditions.is_empty())
        .collect();
    let mut out = Doc::new();
    if stages.is_empty() {
        return out;
    }
    let mut rows = table(&[
        "stage",
        "condition (first failed)",
        "rows removed",
        "tokens removed",
    ]);
    for stage in stages {
        for c in &stage.conditions {
            rows.add_row(vec![
                stage.name.clone(),
                c.name.clone(),
                count(c.rows_removed),
                c.tokens_removed.map_or_else(String::new, count),
            ]);
        }
    }
    right_align_numbers(&mut rows, 2);
    out.section("Conditions", rows);
    out
}

/// What each stage that redacts personal data replaced, by kind; nothing when none did.
fn redactions(report: &ProfileReport) -> Doc {
    let mut rows = table(&["stage", "e-mails", "IPv4", "IPv6", "phones"]);
    let mut any = false;
    for stage in &report.stages {
        if let Some(r) = stage.redacted {
            any = true;
            rows.add_row(vec![
                stage.name.clone(),
                count(r.email),
                count(r.ipv4),
                count(r.ipv6),
                count(r.phone),
            ]);
        }
    }
    right_align_numbers(&mut rows, 1);
    let mut out = Doc::new();
    if any {
        out.section("Redacted", rows);
    }
    out
}

/// What was profiled: the source, its files, rows and bytes.
fn header(report: &ProfileReport) -> Doc {
    let source = &report.source;
    let storage = &report.storage;
    let mut out = Doc::new();
    out.title(format!(
        "prepcost profile · {} ({}, text column '{}')",
        source.uri, source.format, source.text_column,
    ));
    out.push_str(&format!(
        "{} files · {} rows · {} row groups · {} on storage · {} of text\n\n",
        count(storage.files),
        count(storage.rows),
        count(storage.row_groups),
        format_size(storage.file_bytes),
        format_size(source.text_bytes),
    ));
    out
}

/// One row for the scan, one per stage, and one for the output when one was written.
fn stages_table(report: &ProfileReport) -> Grid {
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
        format_size(report.source.text_bytes),
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
    stages
}

/// Tokens of the source and after every stage, with what each stage removed.
fn tokens_table(tokens: &TokensReport, stages: &[StageReport]) -> Doc {
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
    let heading = format!(
        "Tokens ({}, counted in {} s: {} texts tokenized, other rows kept their count)",
        tokens.tokenizer,
        seconds(tokens.wall_seconds),
        count(tokens.texts_tokenized),
    );
    let mut out = Doc::new();
    out.section(heading, table);
    out
}

/// The source's leaf columns, largest first, from the footers.
fn columns_table(report: &ProfileReport) -> Grid {
    let storage = &report.storage;
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
    columns
}

/// The totals, the money, the storage requests and the conditions of the run.
fn summary(report: &ProfileReport) -> String {
    let totals = &report.totals;
    let cost = &report.cost;
    let mut out = format!(
        "Total: {} → {} rows ({:.2}% dropped) in {} s wall, {} s CPU; peak {} reserved, {} resident\n",
        count(totals.rows_in),
        count(totals.rows_out),
        totals.drop_rate * 100.0,
        seconds(totals.wall_seconds),
        seconds(totals.cpu_seconds),
        format_size(totals.peak_memory_bytes),
        format_size(totals.peak_rss_bytes),
    );
    let part = &totals.run_cpu_by_part;
    out.push_str(&format!(
        "Whole run, counting tokens and reading footers included: {} s wall, {} s CPU \
         (scan {}, stages {}, tokens {}, output {}, listing, footers and the rest {})\n",
        seconds(totals.run_wall_seconds),
        seconds(totals.run_cpu_seconds),
        seconds(part.scan),
        seconds(part.stages),
        seconds(part.tokens),
        seconds(part.output),
        seconds(part.other),
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
        requests(&report.requests),
        request_cost(cost.requests_usd, cost.egress_usd, &cost.request_pricing)
    ));
    out.push_str(&format!(
        "Run: {} threads, memory limit {}, engine {} (CPU time counted: {})\n",
        report.run.threads,
        format_size(report.run.memory_limit_bytes),
        report.run.engine,
        report.run.cpu_counted
    ));
    out
}

fn result_size(bytes: u64, spilled: bool) -> String {
    if spilled {
        format!("{} (spilled)", format_size(bytes))
    } else {
        format_size(bytes)
    }
}
