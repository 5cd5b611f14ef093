//! The `minhash` stage through the binary: what it removes and keeps, determinism across runs
//! and thread counts, bands in passes under a memory limit, the refusals, and bad parameters.

use std::path::Path;

use serde_json::Value;

use crate::support::{
    assert_error, command, prepcost, profile_json, read_rows, repo_str, skip, text_batch,
    write_parquet,
};

const LONG: &str = "The committee met on Tuesday to review the budget for the coming year and \
    agreed that the new library would open in the spring, after the contractors finish the roof, \
    the windows and the heating, provided that the council approves the final drawings at its \
    next meeting in March.";

fn pipeline(dir: &Path, params: &str) -> String {
    let path = dir.join("minhash.toml");
    let params = if params.is_empty() {
        String::new()
    } else {
        format!("params = {{ {params} }}\n")
    };
    std::fs::write(&path, format!("[[stages]]\nkind = \"minhash\"\n{params}")).unwrap();
    path.to_str().unwrap().to_string()
}

/// The near-dedup figures of the last stage, without the timings.
fn figures(report: &Value) -> Value {
    let mut nd = report["stages"].as_array().unwrap().last().unwrap()["near_dedup"].clone();
    let object = nd.as_object_mut().unwrap();
    object.remove("seconds");
    object["memory"]
        .as_object_mut()
        .unwrap()
        .remove("rss_growth_bytes");
    nd
}

#[test]
fn near_duplicates_are_removed_and_the_first_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("docs.parquet");
    let edited = LONG.replace("March.", "April.");
    let shouted = LONG.to_uppercase().replace(',', " ;");
    let texts = [
        Some("An unrelated note about the weather, which was cold and wet all week long."),
        Some(LONG),
        Some("我们明天在图书馆见面，讨论新的预算和施工计划，然后一起吃午饭。"),
        Some(edited.as_str()),
        None,
        Some("?!"),
        Some(shouted.as_str()),
        Some("我们明天在图书馆见面，讨论新的预算和施工计划，然后一起吃午餐。"),
        Some("short"),
        Some("short!"),
    ];
    let ids: Vec<i64> = (0..texts.len() as i64).collect();
    write_parquet(&data, &[text_batch("text", &ids, &texts)]);
    let out = dir.path().join("out");
    let report = profile_json(&[
        data.to_str().unwrap(),
        "--pipeline",
        &pipeline(dir.path(), ""),
        "--tokenizer",
        "none",
        "--output",
        out.to_str().unwrap(),
    ]);
    let nd = &report["stages"][0]["near_dedup"];
    assert_eq!(nd["documents"], 10);
    assert_eq!(nd["empty_documents"], 2, "NULL and punctuation only");
    assert_eq!(nd["rows_removed"], 4);
    assert_eq!(nd["clusters"], 3);
    assert_eq!(nd["documents_in_clusters"], 7);
    assert_eq!(nd["cluster_sizes"][0]["clusters"], 2);
    assert_eq!(nd["cluster_sizes"][1]["clusters"], 1);
    assert_eq!(nd["largest_clusters"][0]["size"], 3);
    assert_eq!(
        nd["largest_clusters"][0]["kept_row"], 1,
        "the first in source order"
    );
    assert_eq!(nd["shingle"], "auto");
    assert_eq!(nd["permutations"], 112);
    let threshold = nd["threshold"].as_f64().unwrap();
    assert!((threshold - 0.719).abs() < 1e-3);
    assert_eq!(nd["s_curve"].as_array().unwrap().len(), 11);
    let similarity = &nd["similarity"];
    assert_eq!(similarity["pairs"], 4);
    assert!(similarity["min"].as_f64().unwrap() > 0.8, "{similarity}");
    let ids: Vec<String> = read_rows(&out)
        .iter()
        .map(|row| row.split('\u{1f}').next().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["0", "1", "2", "4", "5", "8"]);
}

#[test]
fn results_are_the_same_across_runs_thread_counts_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    let data = repo_str("sample-data/en_prose");
    let args = |extra: &[&'static str]| -> Vec<String> {
        let mut args = vec![
            data.clone(),
            "--near-dedup".into(),
            "--tokenizer".into(),
            "none".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    let json = |extra: &[&'static str]| {
        let args = args(extra);
        profile_json(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let first = json(&[]);
    let second = json(&[]);
    assert_eq!(figures(&first), figures(&second));
    let removed = figures(&first)["rows_removed"].as_u64().unwrap();
    assert!(removed > 100, "{removed}");

    // One thread.
    let one = command("taskset")
        .args(["-c", "0", env!("CARGO_BIN_EXE_prepcost"), "profile"])
        .args(args(&["--format", "json"]))
        .output();
    match one {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => skip(
            "results_are_the_same_across_runs_thread_counts_and_passes (one thread)",
            "taskset is not installed",
        ),
        Err(e) => panic!("running taskset: {e}"),
        Ok(out) => {
            assert!(
                out.status.success(),
                "prepcost on one core failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let report: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(report["run"]["threads"], 1);
            assert_eq!(figures(&report), figures(&first));
        }
    }

    // Bands in passes under a small memory limit: the same clusters.
    let minhash_only = pipeline(dir.path(), "");
    let whole = profile_json(&[&data, "--pipeline", &minhash_only, "--tokenizer", "none"]);
    let passes = profile_json(&[
        &data,
        "--pipeline",
        &minhash_only,
        "--tokenizer",
        "none",
        "--memory-limit",
        "3MiB",
    ]);
    let (mut a, mut b) = (figures(&whole), figures(&passes));
    assert_eq!(a["memory"]["passes"], 1);
    assert!(
        b["memory"]["passes"].as_u64().unwrap() > 1,
        "{}",
        b["memory"]
    );
    let forecast = b["memory"]["forecast_bytes"].as_u64().unwrap();
    assert!(forecast <= 3 << 20);
    assert_eq!(b["memory"]["peak_bytes"].as_u64().unwrap(), forecast);
    a.as_object_mut().unwrap().remove("memory");
    b.as_object_mut().unwrap().remove("memory");
    assert_eq!(a, b);
}

#[test]
fn verification_rejects_dissimilar_candidates() {
    let dir = tempfile::tempdir().unwrap();
    let data = repo_str("sample-data/en_prose");
    let plain = profile_json(&[
        &data,
        "--pipeline",
        &pipeline(dir.path(), ""),
        "--tokenizer",
        "none",
    ]);
    let verified = profile_json(&[
        &data,
        "--pipeline",
        &pipeline(dir.path(), "verify = true, verify_threshold = 0.8"),
        "--tokenizer",
        "none",
    ]);
    let (plain, verified) = (figures(&plain), figures(&verified));
    let checks = &verified["verified"];
    assert!(checks["checked"].as_u64().unwrap() > 0);
    assert!(checks["rejected"].as_u64().unwrap() > 0, "{checks}");
    assert!(verified["rows_removed"].as_u64() < plain["rows_removed"].as_u64());
    assert_eq!(verified["verify_threshold"], 0.8);
    assert_eq!(plain["verified"], Value::Null);
}

#[test]
fn chinese_text_is_compared_by_characters() {
    let report = profile_json(&[
        &repo_str("sample-data/fortunes_zh.parquet"),
        "--near-dedup",
        "--tokenizer",
        "none",
    ]);
    let stage = report["stages"].as_array().unwrap().last().unwrap();
    assert_eq!(stage["name"], "near_dedup");
    assert_eq!(stage["origin"], "kind minhash");
    let nd = &stage["near_dedup"];
    assert!(nd["rows_removed"].as_u64().unwrap() > 0, "{nd}");
    assert_eq!(stage["rows_dropped"], nd["rows_removed"]);
}

#[test]
fn memory_refusals_name_what_would_fit() {
    let dir = tempfile::tempdir().unwrap();
    let data = repo_str("sample-data/en_prose");
    let run = prepcost(&[
        "profile",
        &data,
        "--pipeline",
        &pipeline(dir.path(), "bands_per_pass = 14"),
        "--memory-limit",
        "3MiB",
        "--tokenizer",
        "none",
    ]);
    assert_error(
        &run,
        &[
            "stage 'minhash'",
            "30,000 rows with 14 band(s) per pass",
            "set bands_per_pass = 5",
            "raise --memory-limit to at least",
        ],
    );
    let run = prepcost(&[
        "profile",
        &data,
        "--pipeline",
        &pipeline(dir.path(), ""),
        "--memory-limit",
        "256KiB",
        "--tokenizer",
        "none",
    ]);
    assert_error(
        &run,
        &[
            "stage 'minhash'",
            "needs 824.0 KiB for 30,000 rows with 1 band(s) per pass",
            "raise --memory-limit to at least",
        ],
    );
}

#[test]
fn bad_parameters_are_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let data = repo_str("sample-data/en_prose");
    let cases: [(&str, &[&str]); 7] = [
        ("bands = 0", &["'bands' is 0", "minhash.toml:1"]),
        ("rows = 0", &["'rows' is 0"]),
        ("ngram = 0", &["'ngram' is 0"]),
        (
            "bands = 200, rows = 8",
            &["1600 hash functions", "at most 1024"],
        ),
        (
            "column = \"id\"",
            &["column 'id' has type Int64, not a string type"],
        ),
        (
            "column = \"body\"",
            &["column 'body' is not in its input", "text"],
        ),
        (
            "shingle = \"sentence\"",
            &["unknown shingle unit 'sentence'"],
        ),
    ];
    for (params, needles) in cases {
        let run = prepcost(&[
            "profile",
            &data,
            "--pipeline",
            &pipeline(dir.path(), params),
            "--tokenizer",
            "none",
        ]);
        assert_error(&run, needles);
    }
}

/// The near-dedup figures of the reference report against an independent MinHash LSH
/// (`tests/reference/near_dedup_check.py`: the stage's shingling re-implemented in Python,
/// signatures from random hashes, 100 seeded runs): the documents removed lie within the
/// runs' range. Needs a Python with pyarrow and numpy (`PREPCOST_PYTHON`; `.ci/run` makes one).
#[test]
fn reference_near_dedup_figures_agree_with_an_independent_lsh() {
    let args = [
        "--binary",
        env!("CARGO_BIN_EXE_prepcost"),
        "--report",
        "tests/reference/reports/profile_fortunes_zh_near_dedup.json",
        "--source",
        "sample-data/fortunes_zh.parquet",
    ];
    let test = "reference_near_dedup_figures_agree_with_an_independent_lsh";
    let Some(said) = crate::support::reference_check(test, "near_dedup_check.py", &args) else {
        return;
    };
    assert!(said.contains("rows_removed: 40 (independent:"), "{said}");
}
