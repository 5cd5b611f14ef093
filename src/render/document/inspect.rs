//! The terminal report of `inspect`: totals, columns, files, row groups, warnings and the
//! what-if, as compact tables.

use super::common::{request_cost, requests};
use super::doc::{Doc, Grid, right_align_numbers, table};
use crate::model::inspect::{ColumnLayout, InspectReport};
use crate::util::units::{count, format_size, ratio, seconds, usd};

/// Files listed in the table; JSON lists them all.
const FILES_SHOWN: usize = 20;

/// The report as a document.
pub fn render(report: &InspectReport) -> Doc {
    let mut out = header(report);
    if !report.columns.is_empty() {
        out.section("Columns (largest first)", columns_table(&report.columns));
        out.section("Column statistics", statistics_table(&report.columns));
    }
    if report.source.text_files.is_some() {
        out.append(text_files(report));
    } else if !report.files.is_empty() {
        out.append(parquet_files(report));
    }
    if let Some(p) = &report.projection {
        out.push_str(&format!(
            "Reading only {}: {} of {} compressed ({:.1}%), {} uncompressed; {} leaf columns\n\n",
            p.columns.join(", "),
            format_size(p.compressed_bytes),
            format_size(report.totals.compressed_bytes),
            p.share * 100.0,
            format_size(p.uncompressed_bytes),
            p.leaf_columns.len(),
        ));
    }
    out.append(what_if(report));
    for w in &report.warnings {
        out.push_str(&format!("warning [{}]: {}\n", w.kind.name(), w.message));
    }
    for s in &report.skipped {
        out.push_str(&format!("skipped: {}: {}\n", s.path, s.reason));
    }
    if !report.warnings.is_empty() || !report.skipped.is_empty() {
        out.gap();
    }
    out.push_str(&format!(
        "Storage requests: {} in {} s; {}\n",
        requests(&report.requests),
        seconds(report.run.wall_seconds),
        request_cost(
            report.cost.requests_usd,
            report.cost.egress_usd,
            &report.cost.request_pricing
        )
    ));
    out
}

/// The source, its totals and its bill; for JSONL and CSV, their compression and columns.
fn header(report: &InspectReport) -> Doc {
    let totals = &report.totals;
    let mut out = Doc::new();
    out.title(format!(
        "prepcost inspect · {} ({})",
        report.source.uri, report.source.format
    ));
    let row_groups = if report.source.text_files.is_some() {
        String::new()
    } else {
        format!(" · {} row groups", count(totals.row_groups))
    };
    out.push_str(&format!(
        "{} files · {} rows{row_groups} · {} on storage ({} uncompressed) · {}/month at ${}/GB-month\n",
        count(totals.files),
        count(totals.rows),
        format_size(totals.file_bytes),
        format_size(totals.uncompressed_bytes),
        usd(totals.storage_usd_per_month),
        report.cost.pricing.usd_per_gb_month,
    ));
    if let Some(text) = &report.source.text_files {
        out.push_str(&format!(
            "{} compression · {} decompressed · columns: {}\n",
            text.compression,
            format_size(text.decompressed_bytes),
            text.columns
                .iter()
                .map(|c| format!("{} {}", c.name, c.data_type))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out.gap();
    out
}

/// The files of a JSONL or CSV source.
fn text_files(report: &InspectReport) -> Doc {
    let mut files = table(&["file", "rows", "size", "decompressed"]);
    for f in report.files.iter().take(FILES_SHOWN) {
        files.add_row(vec![
            f.path.clone(),
            count(f.rows),
            format_size(f.file_bytes),
            format_size(f.uncompressed_bytes),
        ]);
    }
    right_align_numbers(&mut files, 1);
    let mut out = Doc::new();
    out.heading("Files");
    out.table(files);
    more_files(&mut out, report.files.len());
    out.gap();
    out
}

/// The files of a Parquet source and the spread of their row groups.
fn parquet_files(report: &InspectReport) -> Doc {
    let mut files = table(&[
        "file",
        "rows",
        "row groups",
        "size",
        "uncompressed",
        "created by",
    ]);
    for f in report.files.iter().take(FILES_SHOWN) {
        files.add_row(vec![
            f.path.clone(),
            count(f.rows),
            count(f.row_groups),
            format_size(f.file_bytes),
            format_size(f.uncompressed_bytes),
            f.created_by.clone().unwrap_or_default(),
        ]);
    }
    right_align_numbers(&mut files, 1);
    let mut out = Doc::new();
    out.heading("Files");
    out.table(files);
    more_files(&mut out, report.files.len());
    let rg = &report.row_groups;
    out.push_str(&format!(
        "Row groups: {} · rows min {} / median {} / max {} · compressed min {} / median {} / max {}\n\n",
        count(rg.count),
        count(rg.rows.min),
        count(rg.rows.median),
        count(rg.rows.max),
        format_size(rg.compressed_bytes.min),
        format_size(rg.compressed_bytes.median),
        format_size(rg.compressed_bytes.max),
    ));
    out
}

/// The layouts measured and the one recommended, when the what-if ran.
fn what_if(report: &InspectReport) -> Doc {
    let mut out = Doc::new();
    let Some(layouts) = &report.what_if else {
        return out;
    };
    let mut what_if = table(&[
        "layout",
        "size",
        "vs today",
        "encode s",
        "decode MB/s",
        "$/month",
        "saves/month",
    ]);
    for l in layouts {
        what_if.add_row(vec![
            format!("{}{}", l.name, if l.fast_enough { "" } else { " (slow)" }),
            format_size(l.bytes),
            format!("{:.3}", l.size_ratio),
            seconds(l.encode_seconds),
            format!("{:.0}", l.decode_mb_per_s),
            usd(l.projected_usd_per_month),
            usd(l.saves_usd_per_month),
        ]);
    }
    right_align_numbers(&mut what_if, 1);
    out.heading("What if (re-encoded sample)");
    out.table(what_if);
    if let Some(r) = &report.recommendation {
        let from = if r.sample.row_groups > 0 {
            format!("{} row groups", count(r.sample.row_groups))
        } else {
            "the start of the dataset".to_string()
        };
        out.push_str(&format!(
            "Sample: {} rows from {from}, {} today, {} decoded\n",
            count(r.sample.rows),
            format_size(r.sample.bytes),
            format_size(r.sample.decoded_bytes),
        ));
        out.push_str(&format!(
            "Recommended: {} — {}/month ({} less), {:.0}% of today's size, decodes at {:.0} MB/s (threshold {:.0})\n",
            r.layout,
            usd(r.projected_usd_per_month),
            usd(r.saves_usd_per_month),
            r.size_ratio * 100.0,
            r.decode_mb_per_s,
            r.min_decode_mb_per_s,
        ));
    }
    out.gap();
    out
}

fn more_files(out: &mut Doc, files: usize) {
    if files > FILES_SHOWN {
        out.push_str(&format!(
            "… and {} more files (--format json lists them all)\n",
            files - FILES_SHOWN
        ));
    }
}

fn columns_table(columns: &[ColumnLayout]) -> Grid {
    let mut t = table(&[
        "column",
        "type",
        "compressed",
        "uncompressed",
        "ratio",
        "share",
        "codec",
        "nulls",
        "$/month",
    ]);
    for c in columns {
        let kind = match &c.logical_type {
            Some(l) => format!("{} {}", c.physical_type, l),
            None => c.physical_type.to_string(),
        };
        t.add_row(vec![
            c.path.clone(),
            kind,
            format_size(c.compressed_bytes),
            format_size(c.uncompressed_bytes),
            format!(
                "{:.2}",
                ratio(c.uncompressed_bytes as f64, c.compressed_bytes as f64)
            ),
            format!("{:.1}%", c.share * 100.0),
            c.codec.to_string(),
            c.null_count.map(count).unwrap_or_else(|| "?".into()),
            usd(c.storage_usd_per_month),
        ]);
    }
    right_align_numbers(&mut t, 2);
    t
}

fn statistics_table(columns: &[ColumnLayout]) -> Grid {
    let mut t = table(&["column", "encodings", "dictionary", "indexes", "min", "max"]);
    for c in columns {
        let mut indexes = Vec::new();
        if c.column_index {
            indexes.push("column");
        }
        if c.offset_index {
            indexes.push("offset");
        }
        if c.bloom_filter {
            indexes.push("bloom");
        }
        t.add_row(vec![
            c.path.clone(),
            c.encodings.join(","),
            format!("{}/{} chunks", c.dictionary_chunks, c.chunks),
            if indexes.is_empty() {
                "none".into()
            } else {
                indexes.join(",")
            },
            c.min.clone().unwrap_or_default(),
            c.max.clone().unwrap_or_default(),
        ]);
    }
    t
}
