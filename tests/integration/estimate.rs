//! `prepcost estimate`: plans made from saved `profile` reports, full and sampled, and the
//! refusals of bad input in one line.

use std::path::Path;

use serde_json::Value;

use crate::support::{assert_error, prepcost, repo_str};

/// Profiles `sample-data/` with `extra` arguments into `dir/NAME.json`; returns its path.
fn saved_report(dir: &Path, name: &str, extra: &[&str]) -> String {
    let path = dir
        .join(format!("{name}.json"))
        .to_str()
        .unwrap()
        .to_string();
    let mut args = vec!["profile", "--quiet", "--report", &path];
    let sample = repo_str("sample-data");
    args.push(&sample);
    args.extend_from_slice(extra);
    let run = prepcost(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    path
}

fn estimate(args: &[&str]) -> Value {
    let mut all = vec!["estimate"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let run = prepcost(&all);
    assert_eq!(run.code, 0, "prepcost {all:?}: {}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

fn value(v: &Value) -> f64 {
    v["value"].as_f64().unwrap()
}

#[test]
fn a_plan_from_a_full_run_on_its_own_machine_is_that_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = saved_report(dir.path(), "full", &[]);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let plan = estimate(&[&path]);
    assert_eq!(plan["command"], "estimate");
    assert_eq!(plan["basis"]["sample"], Value::Null);
    let totals = &report["totals"];
    let run_cpu = totals["run_cpu_by_part"].as_object().unwrap();
    let cpu: f64 = run_cpu.values().map(|v| v.as_f64().unwrap()).sum();
    assert!((value(&plan["totals"]["cpu_seconds"]) - cpu).abs() < 1e-6);
    let run_wall = totals["run_wall_by_part"].as_object().unwrap();
    let wall: f64 = run_wall.values().map(|v| v.as_f64().unwrap()).sum();
    assert!((value(&plan["totals"]["wall_seconds"]) - wall).abs() < 1e-6);
    assert_eq!(
        value(&plan["totals"]["rows_out"]),
        totals["rows_out"].as_f64().unwrap()
    );
    let stages = plan["steps"].as_array().unwrap();
    assert_eq!(stages.len(), 6, "scan, three stages, tokens, the rest");
    assert!(stages[1..4].iter().all(|s| s["memory"]["fit"] == "fits"));
}

#[test]
fn a_plan_from_a_sample_on_a_fleet_projects_the_whole_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let path = saved_report(
        dir.path(),
        "sampled",
        &["--sample", "0.3", "--sample-by", "content", "--near-dedup"],
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let projected = &report["projected"];
    let plan = estimate(&[
        &path,
        "--machine",
        "c7i.16xlarge",
        "--machines",
        "2",
        "--model-params",
        "7e9",
        "--gpu-flops",
        "989e12",
        "--mfu",
        "0.4",
        "--gpu-hour-usd",
        "2.5",
    ]);
    assert_eq!(plan["basis"]["sample"]["mode"], "content");
    assert_eq!(plan["fleet"]["vcpus_per_machine"], 64);
    assert_eq!(plan["totals"]["rows_out"], projected["totals"]["rows_out"]);
    let near = &plan["steps"][4];
    assert_eq!(near["name"], "near_dedup");
    assert_eq!(near["memory"]["passes"], 1);
    let removed = value(&projected["tokens_removed"]);
    let training = &plan["training"];
    assert_eq!(value(&training["tokens_removed"]), removed);
    let gpu_hours = 6.0 * 7e9 * removed / (989e12 * 0.4) / 3600.0;
    assert!((value(&training["gpu_hours"]) / gpu_hours - 1.0).abs() < 1e-9);
    let cost = &plan["cost"];
    let hours = value(&plan["totals"]["machine_hours"]);
    assert!((value(&cost["compute_usd"]) / (hours * 2.856) - 1.0).abs() < 1e-9);
    // Twice the bytes: twice the rows and the requests, time by each stage's exponent.
    let bytes = (report["storage"]["file_bytes"].as_u64().unwrap() * 2).to_string();
    let doubled = estimate(&[&path, "--target-bytes", &bytes]);
    assert_eq!(doubled["target"]["scale"], 2.0);
    let rows = value(&doubled["totals"]["rows_out"]);
    assert!((rows / value(&projected["totals"]["rows_out"]) - 2.0).abs() < 1e-9);
    let table = prepcost(&["estimate", &path, "--machine", "m7i.xlarge"]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table.stdout.contains("Fleet: 1 × m7i.xlarge (4 vCPUs"),
        "{}",
        table.stdout
    );
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = saved_report(dir.path(), "full", &["--tokenizer", "none"]);
    let unknown = prepcost(&["estimate", &path, "--machine", "c7i.16xlarg"]);
    assert_error(
        &unknown,
        &["unknown machine type 'c7i.16xlarg'", "c7i.16xlarge?"],
    );
    for arg in [
        "--target-rows=0",
        "--target-rows=-5",
        "--target-bytes=0",
        "--target-bytes=-5TB",
    ] {
        let run = prepcost(&["estimate", &path, arg]);
        assert_error(&run, &[arg.split('=').next().unwrap()]);
    }
    let untokenized = prepcost(&[
        "estimate",
        &path,
        "--model-params",
        "7e9",
        "--gpu-flops",
        "1e15",
        "--mfu",
        "0.4",
        "--gpu-hour-usd",
        "2",
    ]);
    assert_error(&untokenized, &["counted no tokens"]);
    let partial = prepcost(&["estimate", &path, "--model-params", "7e9"]);
    assert_error(&partial, &["--gpu-flops"]);
    let text = std::fs::read_to_string(&path).unwrap();
    let other = dir.path().join("v2.json");
    std::fs::write(
        &other,
        text.replacen("\"schema_version\": 1", "\"schema_version\": 2", 1),
    )
    .unwrap();
    let run = prepcost(&["estimate", other.to_str().unwrap()]);
    assert_error(&run, &["v2.json", "schema version 2"]);
    let loader = dir.path().join("loader.json");
    let run = prepcost(&[
        "loader",
        &repo_str("sample-data"),
        "--quiet",
        "--report",
        loader.to_str().unwrap(),
        "--limit",
        "100",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_error(
        &prepcost(&["estimate", loader.to_str().unwrap()]),
        &["prepcost loader"],
    );
    assert_error(
        &prepcost(&["estimate", "no/such/report.json"]),
        &["no/such/report.json"],
    );
    let pricing = dir.path().join("machines.toml");
    std::fs::write(
        &pricing,
        "[[machine]]\nname = \"x\"\nvcpus = 0\nmemory = \"1GiB\"\nusd_per_hour = 1\n",
    )
    .unwrap();
    let run = prepcost(&[
        "estimate",
        &path,
        "--machine",
        "x",
        "--pricing",
        pricing.to_str().unwrap(),
    ]);
    assert_error(&run, &["machines.toml:1:1", "vcpus"]);
}
