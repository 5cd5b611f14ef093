//! The run's figures as Prometheus metrics, in the classic text exposition format that
//! node_exporter's textfile collector reads: base units, a `prepcost_` prefix, labelled by
//! `dataset` and `stage`.

use std::fmt::Write;

use crate::model::budget::BudgetReport;
use crate::model::profile::{Estimate, ProfileReport};
use crate::model::requests::RequestStats;
use crate::model::{EstimateReport, InspectReport, LoaderReport, Report};

/// How a run ended, for its metrics.
#[derive(Debug, Clone, Copy)]
pub enum Ending<'a> {
    /// It finished and wrote this report (budgets breached or not).
    Finished(&'a Report),
    /// It failed or was interrupted before its report was whole.
    Failed { command: &'a str, dataset: &'a str },
}

/// The metrics of a run that ended `ending` at `unix_seconds`.
pub fn render(ending: Ending<'_>, unix_seconds: f64) -> String {
    let (command, dataset, report) = match ending {
        Ending::Finished(report @ Report::Interrupted(_)) => {
            (report.command(), report.dataset(), None)
        }
        Ending::Finished(report) => (report.command(), report.dataset(), Some(report)),
        Ending::Failed { command, dataset } => (command, dataset, None),
    };
    let mut m = Metrics::new(dataset, command);
    m.gauge(
        "prepcost_run_success",
        "1 when the run finished and wrote its report, 0 when it failed or was interrupted.",
        &[],
        if report.is_some() { 1.0 } else { 0.0 },
    );
    m.gauge(
        "prepcost_last_run_timestamp_seconds",
        "When the run ended, in seconds since the Unix epoch.",
        &[],
        unix_seconds,
    );
    match report {
        Some(Report::Profile(r)) => profile(&mut m, r),
        Some(Report::Inspect(r)) => inspect(&mut m, r),
        Some(Report::Loader(r)) => loader(&mut m, r),
        Some(Report::Estimate(r)) => estimate(&mut m, r),
        Some(Report::Interrupted(_) | Report::History(_) | Report::Diff(_)) | None => {}
    }
    if let Some(budget) = report.and_then(Report::budget) {
        budgets(&mut m, budget);
    }
    m.finish()
}

fn profile(m: &mut Metrics, r: &ProfileReport) {
    let t = &r.totals;
    m.gauge(
        "prepcost_run_duration_seconds",
        "Wall time of the whole run.",
        &[],
        t.run_wall_seconds,
    );
    m.gauge(
        "prepcost_run_cpu_seconds",
        "CPU time the process spent on the run, on every core.",
        &[],
        t.run_cpu_seconds,
    );
    m.gauge(
        "prepcost_peak_resident_memory_bytes",
        "Highest resident memory of the process.",
        &[],
        t.peak_rss_bytes as f64,
    );
    m.gauge(
        "prepcost_dataset_rows",
        "Rows of the dataset, from its footers.",
        &[],
        r.storage.rows as f64,
    );
    m.gauge(
        "prepcost_dataset_files",
        "Files of the dataset.",
        &[],
        r.storage.files as f64,
    );
    m.gauge(
        "prepcost_storage_bytes",
        "Bytes of the dataset's files on storage.",
        &[],
        r.storage.file_bytes as f64,
    );
    let scan = &r.scan;
    let steps = std::iter::once((
        "scan",
        scan.rows,
        scan.rows,
        0.0,
        scan.wall_seconds,
        scan.cpu_seconds,
        scan.peak_memory_bytes,
    ))
    .chain(r.stages.iter().map(|s| {
        (
            s.name.as_str(),
            s.rows_in,
            s.rows_out,
            s.drop_rate,
            s.wall_seconds,
            s.cpu_seconds,
            s.peak_memory_bytes,
        )
    }));
    for (stage, rows_in, rows_out, drop, wall, cpu, memory) in steps {
        let labels = [("stage", stage)];
        m.counter(
            "prepcost_stage_rows_in_total",
            "Rows into the stage (the scan: rows read).",
            &labels,
            rows_in as f64,
        );
        m.counter(
            "prepcost_stage_rows_out_total",
            "Rows out of the stage.",
            &labels,
            rows_out as f64,
        );
        m.gauge(
            "prepcost_stage_drop_ratio",
            "Share of the stage's input rows it dropped, 0-1.",
            &labels,
            drop,
        );
        m.gauge(
            "prepcost_stage_duration_seconds",
            "Wall time of the stage.",
            &labels,
            wall,
        );
        m.gauge(
            "prepcost_stage_cpu_seconds",
            "CPU time of the stage.",
            &labels,
            cpu,
        );
        m.gauge(
            "prepcost_stage_peak_memory_bytes",
            "Peak memory reserved while the stage ran.",
            &labels,
            memory as f64,
        );
    }
    for s in &r.stages {
        if let Some(tokens) = &s.tokens_out {
            m.counter(
                "prepcost_stage_tokens_out_total",
                "Tokens of the stage's result.",
                &[("stage", &s.name)],
                tokens.total as f64,
            );
        }
        for c in &s.conditions {
            let labels = [("stage", s.name.as_str()), ("condition", c.name.as_str())];
            m.counter(
                "prepcost_condition_rows_removed_total",
                "Rows a condition of a stage removed (counted against the first it fails).",
                &labels,
                c.rows_removed as f64,
            );
        }
    }
    if let Some(tokens) = &r.tokens {
        m.counter(
            "prepcost_stage_tokens_out_total",
            "Tokens of the stage's result.",
            &[("stage", "scan")],
            tokens.source.total as f64,
        );
    }
    let c = &r.cost;
    cost(
        m,
        &[
            ("compute", c.compute_usd),
            ("requests", c.requests_usd),
            ("egress", c.egress_usd),
        ],
    );
    m.gauge(
        "prepcost_storage_monthly_usd",
        "What keeping the data in object storage costs a month.",
        &[("of", "source")],
        c.source_storage_usd_per_month,
    );
    if let Some(output) = c.output_storage_usd_per_month {
        m.gauge(
            "prepcost_storage_monthly_usd",
            "What keeping the data in object storage costs a month.",
            &[("of", "output")],
            output,
        );
    }
    requests(m, &r.requests);
    if let Some(p) = &r.projected {
        let t = &p.totals;
        projected(
            m,
            "prepcost_projected_cost_usd",
            "Projected cost of a full run (compute, requests, egress).",
            p.cost_usd,
        );
        projected(
            m,
            "prepcost_projected_run_duration_seconds",
            "Projected wall time of a full run.",
            t.run_wall_seconds,
        );
        projected(
            m,
            "prepcost_projected_run_cpu_seconds",
            "Projected CPU time of a full run.",
            t.run_cpu_seconds,
        );
        projected(
            m,
            "prepcost_projected_rows_out",
            "Projected rows of a full run's result.",
            t.rows_out,
        );
    }
}

fn inspect(m: &mut Metrics, r: &InspectReport) {
    let t = &r.totals;
    m.gauge(
        "prepcost_run_duration_seconds",
        "Wall time of the whole run.",
        &[],
        r.run.wall_seconds,
    );
    m.gauge(
        "prepcost_dataset_rows",
        "Rows of the dataset, from its footers.",
        &[],
        t.rows as f64,
    );
    m.gauge(
        "prepcost_dataset_files",
        "Files of the dataset.",
        &[],
        t.files as f64,
    );
    m.gauge(
        "prepcost_storage_bytes",
        "Bytes of the dataset's files on storage.",
        &[],
        t.file_bytes as f64,
    );
    m.gauge(
        "prepcost_storage_uncompressed_bytes",
        "Bytes of the dataset's column chunks before compression.",
        &[],
        t.uncompressed_bytes as f64,
    );
    m.gauge(
        "prepcost_storage_monthly_usd",
        "What keeping the data in object storage costs a month.",
        &[("of", "source")],
        t.storage_usd_per_month,
    );
    for c in &r.columns {
        m.gauge(
            "prepcost_column_compressed_bytes",
            "Bytes of a column's chunks as stored.",
            &[("column", &c.path)],
            c.compressed_bytes as f64,
        );
    }
    cost(
        m,
        &[
            ("requests", r.cost.requests_usd),
            ("egress", r.cost.egress_usd),
        ],
    );
    requests(m, &r.requests);
}

fn loader(m: &mut Metrics, r: &LoaderReport) {
    m.gauge(
        "prepcost_run_duration_seconds",
        "Wall time of the whole run.",
        &[],
        r.run.wall_seconds,
    );
    m.gauge(
        "prepcost_dataset_rows",
        "Rows of the dataset, from its footers.",
        &[],
        r.source.rows as f64,
    );
    for s in &r.loader.scaling {
        let workers = s.workers.to_string();
        let labels = [("workers", workers.as_str())];
        m.gauge(
            "prepcost_loader_rows_per_second",
            "Rows per second the loader delivered.",
            &labels,
            s.rows_per_s,
        );
        m.gauge(
            "prepcost_loader_fetched_bytes_per_second",
            "Bytes per second fetched from storage.",
            &labels,
            s.bytes_per_s,
        );
        m.gauge(
            "prepcost_loader_decoded_bytes_per_second",
            "Bytes per second of decoded Arrow arrays.",
            &labels,
            s.decoded_bytes_per_s,
        );
        if let Some(tokens) = s.tokens_per_s {
            m.gauge(
                "prepcost_loader_tokens_per_second",
                "Tokens per second the loader delivered.",
                &labels,
                tokens,
            );
        }
        m.gauge(
            "prepcost_loader_time_to_first_batch_seconds",
            "From the start to the first batch.",
            &labels,
            s.time_to_first_batch_s,
        );
        m.gauge(
            "prepcost_loader_cpu_utilisation_ratio",
            "CPU time over wall time times the machine's cores, 0-1.",
            &labels,
            s.cpu_utilisation,
        );
    }
    let l = &r.loader.batch_latency_s;
    for (percentile, value) in [("50", l.p50), ("95", l.p95), ("99", l.p99), ("100", l.max)] {
        m.gauge(
            "prepcost_loader_batch_latency_seconds",
            "Time the training loop waited for a batch, by percentile, with the most workers.",
            &[("percentile", percentile)],
            value,
        );
    }
    if let Some(v) = &r.loader.verdict {
        m.gauge(
            "prepcost_loader_target_tokens_per_second",
            "The token rate the training job consumes.",
            &[],
            v.target_tokens_per_s,
        );
        m.gauge(
            "prepcost_loader_keeps_up",
            "1 when the loader reaches the target token rate.",
            &[],
            if v.keeps_up { 1.0 } else { 0.0 },
        );
    }
    cost(
        m,
        &[
            ("requests", r.cost.requests_usd),
            ("egress", r.cost.egress_usd),
        ],
    );
    requests(m, &r.requests);
}

fn estimate(m: &mut Metrics, r: &EstimateReport) {
    projected(
        m,
        "prepcost_plan_cost_usd",
        "Planned cost of the run on the fleet.",
        r.cost.total_usd,
    );
    projected(
        m,
        "prepcost_plan_duration_seconds",
        "Planned wall time of the run on the fleet.",
        r.totals.wall_seconds,
    );
    projected(
        m,
        "prepcost_plan_cpu_seconds",
        "Planned CPU time of the run.",
        r.totals.cpu_seconds,
    );
}

fn cost(m: &mut Metrics, parts: &[(&str, f64)]) {
    for (part, usd) in parts {
        m.gauge(
            "prepcost_cost_usd",
            "What the run cost, by part.",
            &[("part", part)],
            *usd,
        );
    }
}

fn requests(m: &mut Metrics, r: &RequestStats) {
    let help = "Requests the run made to storage, by kind.";
    for (kind, n) in [
        ("get", r.get),
        ("head", r.head),
        ("list", r.list),
        ("put", r.put),
        ("multipart_part", r.multipart_parts),
        ("delete", r.delete),
        ("copy", r.copy),
    ] {
        m.counter(
            "prepcost_storage_requests_total",
            help,
            &[("kind", kind)],
            n as f64,
        );
    }
    m.counter(
        "prepcost_storage_retries_total",
        "Requests to storage that failed and were retried.",
        &[],
        r.retries as f64,
    );
    m.counter(
        "prepcost_storage_read_bytes_total",
        "Bytes received from storage.",
        &[],
        r.bytes_in as f64,
    );
    m.counter(
        "prepcost_storage_written_bytes_total",
        "Bytes sent to storage.",
        &[],
        r.bytes_out as f64,
    );
}

/// A projected figure and the ends of its 95% interval, as `bound="estimate|low|high"`.
fn projected(m: &mut Metrics, name: &'static str, help: &'static str, e: Estimate) {
    for (bound, value) in [("estimate", e.value), ("low", e.low), ("high", e.high)] {
        m.gauge(name, help, &[("bound", bound)], value);
    }
}

fn budgets(m: &mut Metrics, budget: &BudgetReport) {
    for check in &budget.checks {
        let stage = check.stage.as_deref().unwrap_or("");
        let labels = [("budget", check.budget.as_str()), ("stage", stage)];
        m.gauge(
            "prepcost_budget_limit",
            "A budget's limit, in the unit of its figure.",
            &labels,
            check.limit,
        );
        m.gauge(
            "prepcost_budget_actual",
            "The figure a budget was held to.",
            &labels,
            check.actual,
        );
        m.gauge(
            "prepcost_budget_breached",
            "1 when the figure broke the budget.",
            &labels,
            if check.breached { 1.0 } else { 0.0 },
        );
    }
    m.gauge(
        "prepcost_budget_breaches",
        "Budgets the run broke.",
        &[],
        budget.breaches.len() as f64,
    );
}

/// Metric families in the order first written, each with its samples together (as the
/// format requires).
struct Metrics {
    /// Labels on every sample.
    common: Vec<(&'static str, String)>,
    families: Vec<Family>,
}

struct Family {
    name: &'static str,
    help: &'static str,
    kind: &'static str,
    samples: Vec<String>,
}

impl Metrics {
    fn new(dataset: &str, command: &str) -> Self {
        Metrics {
            common: vec![
                ("dataset", dataset.to_string()),
                ("command", command.to_string()),
            ],
            families: Vec::new(),
        }
    }

    fn gauge(
        &mut self,
        name: &'static str,
        help: &'static str,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        self.sample(name, help, "gauge", labels, value);
    }

    fn counter(
        &mut self,
        name: &'static str,
        help: &'static str,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        self.sample(name, help, "counter", labels, value);
    }

    fn sample(
        &mut self,
        name: &'static str,
        help: &'static str,
        kind: &'static str,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        let mut line = format!("{name}{{");
        let common = self.common.iter().map(|(k, v)| (*k, v.as_str()));
        for (i, (key, value)) in common.chain(labels.iter().copied()).enumerate() {
            let comma = if i > 0 { "," } else { "" };
            let _ = write!(line, "{comma}{key}=\"{}\"", escape_label(value));
        }
        let _ = write!(line, "}} {}", number(value));
        match self.families.iter_mut().find(|f| f.name == name) {
            Some(family) => family.samples.push(line),
            None => self.families.push(Family {
                name,
                help,
                kind,
                samples: vec![line],
            }),
        }
    }

    fn finish(self) -> String {
        let mut out = String::new();
        for f in self.families {
            let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
            let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind);
            for sample in f.samples {
                out.push_str(&sample);
                out.push('\n');
            }
        }
        out
    }
}

/// A label value with `\`, `"` and line feeds escaped.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A sample value as the format spells it.
fn number(value: f64) -> String {
    match value {
        v if v.is_nan() => "NaN".to_string(),
        v if v == f64::INFINITY => "+Inf".to_string(),
        v if v == f64::NEG_INFINITY => "-Inf".to_string(),
        v => format!("{v}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_run_says_so_with_its_dataset_escaped() {
        let text = render(
            Ending::Failed {
                command: "profile",
                dataset: "s3://b/\"x\"\\y",
            },
            1.5e9,
        );
        assert_eq!(
            text,
            "# HELP prepcost_run_success 1 when the run finished and wrote its report, 0 when it failed or was interrupted.\n\
             # TYPE prepcost_run_success gauge\n\
             prepcost_run_success{dataset=\"s3://b/\\\"x\\\"\\\\y\",command=\"profile\"} 0\n\
             # HELP prepcost_last_run_timestamp_seconds When the run ended, in seconds since the Unix epoch.\n\
             # TYPE prepcost_last_run_timestamp_seconds gauge\n\
             prepcost_last_run_timestamp_seconds{dataset=\"s3://b/\\\"x\\\"\\\\y\",command=\"profile\"} 1500000000\n"
        );
    }

    #[test]
    fn samples_of_a_family_stay_together() {
        let mut m = Metrics::new("d", "profile");
        m.gauge("a", "A.", &[("stage", "x")], 1.0);
        m.gauge("b", "B.", &[], f64::NAN);
        m.gauge("a", "A.", &[("stage", "y")], 0.25);
        let text = m.finish();
        let names: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| &l[..1])
            .collect();
        assert_eq!(names, ["a", "a", "b"]);
        assert!(text.contains("} NaN\n"));
        assert!(text.contains("stage=\"y\"} 0.25\n"));
    }
}
