//! `prepcost diff A.json B.json`: the main figures of two reports of the same command, side
//! by side, with the changes beyond the tolerance flagged.

use serde_json::Value;

use crate::config::history::DiffConfig;
use crate::error::{Error, Result};
use crate::model::SCHEMA_VERSION;
use crate::model::diff::{DiffReport, FigureChange};

/// The figures compared for each command, as paths into its JSON report.
const PROFILE: &[&str] = &[
    "storage.rows",
    "storage.file_bytes",
    "totals.rows_in",
    "totals.rows_out",
    "totals.drop_rate",
    "totals.run_wall_seconds",
    "totals.run_cpu_seconds",
    "totals.peak_rss_bytes",
    "tokens.result.total",
    "cost.compute_usd",
    "cost.requests_usd",
    "cost.egress_usd",
    "cost.source_storage_usd_per_month",
    "projected.cost_usd.value",
    "projected.totals.run_cpu_seconds.value",
];
const STAGE: &[&str] = &[
    "rows_out",
    "drop_rate",
    "wall_seconds",
    "cpu_seconds",
    "peak_memory_bytes",
    "tokens_out.total",
];
const LOADER: &[&str] = &[
    "source.rows",
    "loader.rows_per_s",
    "loader.tokens_per_s",
    "loader.bytes_per_s",
    "loader.decoded_bytes_per_s",
    "loader.time_to_first_batch_s",
    "loader.batch_latency_s.p50",
    "loader.batch_latency_s.p99",
    "run.wall_seconds",
    "cost.requests_usd",
];
const INSPECT: &[&str] = &[
    "totals.files",
    "totals.rows",
    "totals.row_groups",
    "totals.file_bytes",
    "totals.uncompressed_bytes",
    "totals.storage_usd_per_month",
    "run.wall_seconds",
];
const ESTIMATE: &[&str] = &[
    "totals.wall_seconds.value",
    "totals.core_hours.value",
    "totals.peak_memory_bytes.value",
    "cost.total_usd.value",
];

/// Reads the two reports and compares them.
pub fn run(config: &DiffConfig) -> Result<DiffReport> {
    let (a, b) = (read(&config.a)?, read(&config.b)?);
    let command = |v: &Value| v["command"].as_str().unwrap_or("").to_string();
    let report_command = command(&a);
    if report_command != command(&b) {
        return Err(Error::Usage(format!(
            "{} is a {} report and {} a {} report; diff compares two reports of one command",
            config.a.display(),
            report_command,
            config.b.display(),
            command(&b)
        )));
    }
    let paths = match report_command.as_str() {
        "profile" => PROFILE,
        "loader" => LOADER,
        "inspect" => INSPECT,
        "estimate" => ESTIMATE,
        other => {
            return Err(Error::Usage(format!(
                "{}: a report of '{other}' has no figures diff compares",
                config.a.display()
            )));
        }
    };
    let mut figures: Vec<FigureChange> = paths
        .iter()
        .map(|path| compare(path, number(&a, path), number(&b, path), config.tolerance))
        .collect();
    if report_command == "profile" {
        figures.extend(stages(&a, &b, config.tolerance));
    }
    figures.retain(|f| f.a.is_some() || f.b.is_some());
    Ok(DiffReport {
        schema_version: SCHEMA_VERSION,
        command: "diff",
        prepcost_version: env!("CARGO_PKG_VERSION"),
        a: config.a.display().to_string(),
        b: config.b.display().to_string(),
        report_command,
        tolerance: config.tolerance,
        flagged: figures.iter().filter(|f| f.flagged).count(),
        figures,
    })
}

/// A report written by prepcost (`--format json` or `--report`).
fn read(path: &std::path::Path) -> Result<Value> {
    let shown = path.display().to_string();
    let text = std::fs::read(path).map_err(|e| Error::io(format!("report {shown}"), e))?;
    let value: Value = serde_json::from_slice(&text)
        .map_err(|e| Error::Usage(format!("{shown}: not a JSON report: {e}")))?;
    if value.get("schema_version").is_none() || value.get("command").is_none() {
        return Err(Error::Usage(format!(
            "{shown}: not a prepcost report (no schema_version and command)"
        )));
    }
    Ok(value)
}

/// The number at a dotted `path`, if there is one.
fn number(value: &Value, path: &str) -> Option<f64> {
    path.split('.')
        .try_fold(value, |v, key| v.get(key))
        .and_then(Value::as_f64)
}

/// Each stage's figures, stages matched by name (a stage in one report only is flagged).
fn stages(a: &Value, b: &Value, tolerance: f64) -> Vec<FigureChange> {
    let list = |v: &Value| v["stages"].as_array().cloned().unwrap_or_default();
    let (in_a, in_b) = (list(a), list(b));
    let name = |s: &Value| s["name"].as_str().unwrap_or("").to_string();
    let mut names: Vec<String> = in_a.iter().map(name).collect();
    names.extend(
        in_b.iter()
            .map(name)
            .filter(|n| !in_a.iter().any(|s| name(s) == *n)),
    );
    let find = |list: &[Value], n: &str| list.iter().find(|s| name(s) == n).cloned();
    let mut out = Vec::new();
    for n in names {
        let (sa, sb) = (find(&in_a, &n), find(&in_b, &n));
        for path in STAGE {
            let fa = sa.as_ref().and_then(|s| number(s, path));
            let fb = sb.as_ref().and_then(|s| number(s, path));
            out.push(compare(&format!("stages[{n}].{path}"), fa, fb, tolerance));
        }
    }
    out
}

fn compare(figure: &str, a: Option<f64>, b: Option<f64>, tolerance: f64) -> FigureChange {
    let change = match (a, b) {
        (Some(a), Some(b)) if a != 0.0 => Some((b - a) / a.abs()),
        _ => None,
    };
    let flagged = match (a, b, change) {
        (_, _, Some(change)) => change.abs() > tolerance,
        (Some(a), Some(b), None) => a != b,
        (Some(_), None, _) | (None, Some(_), _) => true,
        (None, None, _) => false,
    };
    FigureChange {
        figure: figure.to_string(),
        a,
        b,
        change,
        flagged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_beyond_the_tolerance_and_figures_in_one_report_are_flagged() {
        assert!(!compare("x", Some(100.0), Some(109.0), 0.1).flagged);
        assert!(compare("x", Some(100.0), Some(111.0), 0.1).flagged);
        assert!(compare("x", Some(100.0), Some(80.0), 0.1).flagged);
        assert!(compare("x", Some(0.0), Some(1.0), 0.1).flagged);
        assert!(!compare("x", Some(0.0), Some(0.0), 0.1).flagged);
        assert!(compare("x", None, Some(1.0), 0.1).flagged);
        assert_eq!(
            compare("x", Some(200.0), Some(250.0), 0.1).change,
            Some(0.25)
        );
    }

    #[test]
    fn stages_are_matched_by_name() {
        let a = json!({"stages": [{"name": "clean", "rows_out": 10.0}, {"name": "old", "rows_out": 5}]});
        let b =
            json!({"stages": [{"name": "new", "rows_out": 1}, {"name": "clean", "rows_out": 10}]});
        let found: Vec<(String, bool)> = stages(&a, &b, 0.1)
            .into_iter()
            .filter(|f| f.a.is_some() || f.b.is_some())
            .map(|f| (f.figure, f.flagged))
            .collect();
        assert_eq!(
            found,
            [
                ("stages[clean].rows_out".to_string(), false),
                ("stages[old].rows_out".to_string(), true),
                ("stages[new].rows_out".to_string(), true),
            ]
        );
    }
}
