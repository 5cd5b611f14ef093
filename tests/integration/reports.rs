//! The JSON reports of `profile`, `inspect` and `loader` on `sample-data/`, field by field,
//! against reports kept in `tests/reference/reports/` — all but the figures that depend on
//! the machine and the moment: times, rates, memory, CPU and the money made of them.
//!
//! A change that alters a report on purpose is accepted by running this test with
//! `PREPCOST_UPDATE_REPORTS=1`, which writes the reports anew; review their diff.

use serde_json::Value;

use crate::support::{prepcost, repo};

/// Each run: the name of its reference report and the arguments (relative paths: the tests
/// run in the repository).
const RUNS: [(&str, &[&str]); 6] = [
    ("profile_en_prose", &["profile", "sample-data/en_prose"]),
    (
        "profile_fortunes_zh_near_dedup",
        &[
            "profile",
            "sample-data/fortunes_zh.parquet",
            "--near-dedup",
            "--tokenizer",
            "o200k_base",
        ],
    ),
    ("inspect_en_prose", &["inspect", "sample-data/en_prose"]),
    (
        "inspect_fortunes_intl_what_if",
        &[
            "inspect",
            "sample-data/fortunes_intl.parquet",
            "--what-if",
            "--min-decode-mb-per-s",
            "0",
            "--columns",
            "text,lang",
        ],
    ),
    (
        "loader_en_prose",
        &["loader", "sample-data/en_prose", "--workers", "1,2"],
    ),
    (
        "loader_fortunes_zh_shuffled",
        &[
            "loader",
            "sample-data/fortunes_zh.parquet",
            "--workers",
            "2",
            "--shuffle",
            "--seed",
            "7",
            "--batch-size",
            "100",
            "--target-tokens-per-s",
            "1",
        ],
    ),
];

/// Fields that measure the machine or the moment rather than the data.
const MEASURED: [&str; 19] = [
    "peak_memory_bytes",
    "peak_rss_bytes",
    "result_bytes",
    "memory_limit_bytes",
    "rss_growth_bytes",
    "peak_bytes",
    "threads",
    "cores",
    "core_hours",
    "compute_usd",
    "cpu_utilisation",
    "speedup",
    "efficiency",
    "seconds",
    "headroom",
    "summary",
    "fast_enough",
    "run_cpu_by_part",
    "run_wall_by_part",
];

#[test]
fn reports_on_the_sample_data_keep_every_figure() {
    let update = std::env::var("PREPCOST_UPDATE_REPORTS").is_ok_and(|v| v == "1");
    let mut differences = Vec::new();
    for (name, args) in RUNS {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        let run = prepcost(&all);
        assert!(run.code == 0, "prepcost {all:?}: {}", run.stderr);
        let mut report: Value = serde_json::from_str(&run.stdout).unwrap();
        mask(&mut report);
        let path = repo(&format!("tests/reference/reports/{name}.json"));
        if update {
            let text = serde_json::to_string_pretty(&report).unwrap() + "\n";
            std::fs::write(&path, text).unwrap();
            continue;
        }
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        compare(name, "", &expected, &report, &mut differences);
    }
    assert!(
        differences.is_empty(),
        "{} fields differ from tests/reference/reports (PREPCOST_UPDATE_REPORTS=1 rewrites \
         them):\n{}",
        differences.len(),
        differences.join("\n")
    );
}

/// Replaces every measured figure with `"measured"`: fields named in [`MEASURED`], times
/// (`*_seconds`, `*_s`), and rates (`*_per_s`, `*_per_second`).
fn mask(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                let measured = MEASURED.contains(&key.as_str())
                    || key.ends_with("_seconds")
                    || key.ends_with("_s")
                    || key.ends_with("_per_second");
                if measured {
                    *field = Value::from("measured");
                } else {
                    mask(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask),
        _ => {}
    }
}

/// Every field where `actual` differs from `expected`, with its path.
fn compare(name: &str, path: &str, expected: &Value, actual: &Value, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for key in e.keys().chain(a.keys().filter(|k| !e.contains_key(*k))) {
                let null = Value::Null;
                let (e, a) = (e.get(key).unwrap_or(&null), a.get(key).unwrap_or(&null));
                compare(name, &format!("{path}.{key}"), e, a, out);
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                compare(name, &format!("{path}[{i}]"), e, a, out);
            }
        }
        (e, a) if e != a => out.push(format!("{name}{path}: expected {e}, got {a}")),
        _ => {}
    }
}
