//! The HTML report: one self-contained page (no scripts, no fonts or styles from elsewhere)
//! with the report's charts as inline SVG above the same sections the table report prints.

use super::charts::{self, Bar, Chart};
use super::document::Doc;
use super::escape::escape;
use crate::model::inspect::InspectReport;
use crate::model::loader::LoaderReport;
use crate::model::profile::{Estimate, ProfileReport};
use crate::model::{EstimateReport, HistoryReport, Report};
use crate::util::units::{count, format_size, seconds, usd};

/// Columns the storage chart shows; the table lists them all.
const COLUMNS_CHARTED: usize = 12;
/// Datasets the history page draws trends for.
const HISTORY_CHARTS: usize = 6;

/// Readable on a laptop screen and on paper.
const STYLE: &str = "
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #222; margin: 0; background: #fff; }
main { max-width: 1320px; margin: 0 auto; padding: 16px 24px 40px; }
h1 { font-size: 20px; margin: 8px 0 12px; word-break: break-all; }
h2 { font-size: 15px; margin: 22px 0 6px; }
p { margin: 4px 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 12px 24px; margin: 12px 0 20px; }
figure { margin: 0; padding: 8px 10px; border: 1px solid #ddd; border-radius: 4px; break-inside: avoid; }
figcaption { font-weight: 600; margin-bottom: 6px; }
svg { width: 100%; height: auto; display: block; }
table { border-collapse: collapse; margin: 4px 0 10px; font-size: 13px; display: block; overflow-x: auto; max-width: 100%; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; white-space: nowrap; }
th { background: #f3f3f3; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
@media print { main { max-width: none; padding: 0; } .charts { grid-template-columns: 1fr; } table { display: table; font-size: 11px; } }
";

/// The page of `report`, whose sections are `doc`.
pub fn page(report: &Report, doc: &Doc) -> String {
    let charts = match report {
        Report::Profile(r) => profile_charts(r),
        Report::Inspect(r) => inspect_charts(r),
        Report::Loader(r) => loader_charts(r),
        Report::Estimate(r) => estimate_charts(r),
        Report::History(r) => history_charts(r),
        Report::Interrupted(_) | Report::Diff(_) => Vec::new(),
    };
    let mut figures = String::from("<section class=\"charts\">\n");
    for chart in &charts {
        figures.push_str(&format!(
            "<figure id=\"{}\"><figcaption>{}</figcaption>{}</figure>\n",
            chart.id,
            escape(&chart.caption),
            chart.svg
        ));
    }
    figures.push_str("</section>\n");
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{}</main>\n</body>\n</html>\n",
        escape(doc.title_text()),
        doc.html(&figures)
    )
}

fn profile_charts(r: &ProfileReport) -> Vec<Chart> {
    let mut out = vec![time_waterfall(r), rows_funnel(r)];
    if let Some(tokens) = &r.tokens {
        let mut bars = vec![Bar::new(
            "source",
            tokens.source.total as f64,
            count(tokens.source.total),
        )];
        for stage in &r.stages {
            if let Some(t) = &stage.tokens_out {
                bars.push(Bar::new(&stage.name, t.total as f64, count(t.total)));
            }
        }
        out.push(charts::bars(
            "tokens",
            format!("Tokens through the stages ({})", tokens.tokenizer),
            &bars,
        ));
    }
    let conditions: Vec<Bar> = r
        .stages
        .iter()
        .flat_map(|s| {
            s.conditions.iter().map(move |c| {
                let label = format!("{}: {}", s.name, c.name);
                Bar::new(label, c.rows_removed as f64, count(c.rows_removed))
            })
        })
        .collect();
    if !conditions.is_empty() {
        out.push(charts::bars(
            "conditions",
            "Rows removed by each condition (counted against the first it fails)",
            &conditions,
        ));
    }
    if !r.source.text_lengths.is_empty() {
        let bins: Vec<(String, u64)> = r
            .source
            .text_lengths
            .iter()
            .map(|b| (format_size(b.min_bytes), b.texts))
            .collect();
        out.push(charts::columns(
            "text_lengths",
            "Text length in the source (texts per bin; each bin twice as wide as the one before)",
            &bins,
            "bytes per text, at least",
        ));
    }
    out.push(storage_by_column(
        r.storage
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.compressed_bytes)),
        r.storage.columns.len(),
    ));
    out.push(cost_breakdown(r));
    out.extend(projection_charts(r));
    out
}

/// Each step's wall time, one after another, as the run spent it.
fn time_waterfall(r: &ProfileReport) -> Chart {
    let mut steps = vec![("scan".to_string(), r.scan.wall_seconds)];
    steps.extend(r.stages.iter().map(|s| (s.name.clone(), s.wall_seconds)));
    if let Some(t) = &r.tokens {
        steps.push(("counting tokens".into(), t.wall_seconds));
    }
    if let Some(o) = &r.output {
        steps.push(("write output".into(), o.wall_seconds));
    }
    steps.push((
        "listing, footers, the rest".into(),
        r.totals.run_wall_by_part.other,
    ));
    let mut start = 0.0;
    let bars: Vec<Bar> = steps
        .into_iter()
        .map(|(label, s)| {
            let mut bar = Bar::new(label, s, format!("{} s", seconds(s)));
            bar.start = start;
            start += bar.value;
            bar
        })
        .collect();
    charts::bars(
        "time",
        format!(
            "Where the time went: {} s wall, {} s CPU",
            seconds(r.totals.run_wall_seconds),
            seconds(r.totals.run_cpu_seconds)
        ),
        &bars,
    )
}

/// Rows of the source and after each stage.
fn rows_funnel(r: &ProfileReport) -> Chart {
    let mut bars = vec![Bar::new("source", r.scan.rows as f64, count(r.scan.rows))];
    for s in &r.stages {
        let text = format!("{} (−{:.2}%)", count(s.rows_out), s.drop_rate * 100.0);
        bars.push(Bar::new(&s.name, s.rows_out as f64, text));
    }
    charts::bars("rows", "Rows through the stages", &bars)
}

/// The largest columns' compressed bytes.
fn storage_by_column<'a>(columns: impl Iterator<Item = (&'a str, u64)>, all: usize) -> Chart {
    let bars: Vec<Bar> = columns
        .take(COLUMNS_CHARTED)
        .map(|(name, bytes)| Bar::new(name, bytes as f64, format_size(bytes)))
        .collect();
    let caption = match all > COLUMNS_CHARTED {
        true => format!("Storage by column, compressed (the largest {COLUMNS_CHARTED} of {all})"),
        false => "Storage by column, compressed".to_string(),
    };
    charts::bars("storage", caption, &bars)
}

fn cost_breakdown(r: &ProfileReport) -> Chart {
    let c = &r.cost;
    let mut parts = vec![
        ("compute (this run)", c.compute_usd),
        ("requests (this run)", c.requests_usd),
        ("egress (this run)", c.egress_usd),
        ("source storage, per month", c.source_storage_usd_per_month),
    ];
    if let Some(output) = c.output_storage_usd_per_month {
        parts.push(("output storage, per month", output));
    }
    let bars: Vec<Bar> = parts
        .into_iter()
        .map(|(label, amount)| Bar::new(label, amount, usd(amount)))
        .collect();
    charts::bars("cost", "Cost", &bars)
}

/// The stages' projected time and rows with their 95% intervals, when a sample ran.
fn projection_charts(r: &ProfileReport) -> Vec<Chart> {
    let Some(projected) = &r.projected else {
        return Vec::new();
    };
    let interval = |label: &str, e: Estimate, text: String| {
        let mut bar = Bar::new(label, e.value, text);
        bar.interval = Some((e.low, e.high));
        bar
    };
    let stages = r
        .stages
        .iter()
        .filter_map(|s| Some((s, s.projected.as_ref()?)));
    let time: Vec<Bar> = stages
        .clone()
        .map(|(s, p)| {
            interval(
                &s.name,
                p.cpu_seconds,
                format!("{} s", seconds(p.cpu_seconds.value)),
            )
        })
        .collect();
    let mut rows = vec![interval(
        "source",
        projected.totals.rows_in,
        count(projected.totals.rows_in.value as u64),
    )];
    rows.extend(stages.map(|(s, p)| interval(&s.name, p.rows_out, count(p.rows_out.value as u64))));
    let t = &projected.totals;
    vec![
        charts::bars(
            "projected_time",
            format!(
                "Projected CPU seconds per stage for the whole dataset (95% intervals); whole run {} s",
                seconds(t.run_cpu_seconds.value)
            ),
            &time,
        ),
        charts::bars(
            "projected_rows",
            format!(
                "Projected rows for the whole dataset (95% intervals); cost {}",
                usd(projected.cost_usd.value)
            ),
            &rows,
        ),
    ]
}

fn inspect_charts(r: &InspectReport) -> Vec<Chart> {
    let mut out = vec![storage_by_column(
        r.columns
            .iter()
            .map(|c| (c.path.as_str(), c.compressed_bytes)),
        r.columns.len(),
    )];
    let bill: Vec<Bar> = r
        .columns
        .iter()
        .take(COLUMNS_CHARTED)
        .map(|c| {
            Bar::new(
                &c.path,
                c.storage_usd_per_month,
                usd(c.storage_usd_per_month),
            )
        })
        .collect();
    if !bill.is_empty() {
        out.push(charts::bars(
            "bill",
            "Monthly storage bill by column",
            &bill,
        ));
    }
    if let Some(layouts) = &r.what_if {
        let bars: Vec<Bar> = layouts
            .iter()
            .map(|l| {
                Bar::new(
                    &l.name,
                    l.projected_usd_per_month,
                    usd(l.projected_usd_per_month),
                )
            })
            .collect();
        out.push(charts::bars(
            "what_if",
            "Monthly bill under each layout",
            &bars,
        ));
    }
    out
}

fn loader_charts(r: &LoaderReport) -> Vec<Chart> {
    let scaling = &r.loader.scaling;
    let xs: Vec<f64> = scaling.iter().map(|s| s.workers as f64).collect();
    let mut series = vec![(
        "rows/s",
        scaling.iter().map(|s| s.rows_per_s).collect::<Vec<_>>(),
        scaling.iter().map(|s| count(s.rows_per_s as u64)).collect(),
    )];
    if scaling.iter().all(|s| s.tokens_per_s.is_some()) {
        series.push((
            "tokens/s",
            scaling
                .iter()
                .map(|s| s.tokens_per_s.unwrap_or(0.0))
                .collect(),
            scaling
                .iter()
                .map(|s| count(s.tokens_per_s.unwrap_or(0.0) as u64))
                .collect(),
        ));
    }
    series.push((
        "MB/s decoded",
        scaling.iter().map(|s| s.decoded_bytes_per_s).collect(),
        scaling
            .iter()
            .map(|s| format!("{:.1}", s.decoded_bytes_per_s / 1e6))
            .collect(),
    ));
    let latency = &r.loader.batch_latency_s;
    let latencies: Vec<Bar> = [
        ("p50", latency.p50),
        ("p95", latency.p95),
        ("p99", latency.p99),
        ("max", latency.max),
    ]
    .into_iter()
    .map(|(label, s)| Bar::new(label, s, format!("{:.2} ms", s * 1e3)))
    .collect();
    vec![
        charts::lines(
            "scaling",
            "Loader scaling: rates by worker count (each line scaled to its own largest value)",
            &xs,
            &series,
            "workers",
        ),
        charts::bars(
            "latency",
            format!("Batch latency with {} workers", r.loader.workers),
            &latencies,
        ),
    ]
}

/// Cost, wall time and the dataset's rows over the runs, one chart per dataset and command
/// (the first few of them).
fn history_charts(r: &HistoryReport) -> Vec<Chart> {
    let mut keys: Vec<(&str, &str)> = Vec::new();
    for run in &r.runs {
        let key = (run.command.as_str(), run.dataset.as_str());
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.into_iter()
        .take(HISTORY_CHARTS)
        .enumerate()
        .map(|(i, (command, dataset))| {
            let runs: Vec<_> = r
                .runs
                .iter()
                .filter(|run| run.command == command && run.dataset == dataset)
                .collect();
            let xs: Vec<f64> = (1..=runs.len()).map(|i| i as f64).collect();
            let cost: Vec<f64> = runs
                .iter()
                .map(|run| run.projected_cost_usd.or(run.cost_usd).unwrap_or(0.0))
                .collect();
            let wall: Vec<f64> = runs
                .iter()
                .map(|run| run.wall_seconds.unwrap_or(0.0))
                .collect();
            let rows: Vec<f64> = runs
                .iter()
                .map(|run| run.dataset_rows.unwrap_or(0) as f64)
                .collect();
            let series = [
                ("cost", cost.clone(), cost.iter().map(|&c| usd(c)).collect()),
                (
                    "wall s",
                    wall.clone(),
                    wall.iter().map(|&s| seconds(s)).collect(),
                ),
                (
                    "dataset rows",
                    rows.clone(),
                    rows.iter().map(|&n| count(n as u64)).collect(),
                ),
            ];
            charts::lines(
                format!("trend-{}", i + 1),
                format!("{command} on {dataset}: each line scaled to its own largest value"),
                &xs,
                &series,
                "run",
            )
        })
        .collect()
}

fn estimate_charts(r: &EstimateReport) -> Vec<Chart> {
    let interval = |label: &str, e: Estimate| {
        let mut bar = Bar::new(label, e.value, format!("{} s", seconds(e.value)));
        bar.interval = Some((e.low, e.high));
        bar
    };
    let bars: Vec<Bar> = r
        .steps
        .iter()
        .map(|s| interval(&s.name, s.wall_seconds))
        .collect();
    vec![charts::bars(
        "plan_time",
        "Planned wall seconds per step (95% intervals)",
        &bars,
    )]
}
