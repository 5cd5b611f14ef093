//! Unattended runs: budgets and their exit code, the job lock, SIGTERM mid-run, Prometheus
//! metrics checked by promtool, the run history with `history` and `diff`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::servers::{ACCESS_KEY, Faults, SECRET_KEY, Server};
use crate::support::{Run, assert_error, command, prepcost, repo_str};

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A breach names itself on stderr and in the report, every report and metric is written,
/// and the exit code is 1.
#[test]
fn a_breached_budget_writes_every_report_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    std::fs::write(
        dir.path().join("pipeline.toml"),
        "[[stages]]\nquery = \"clean\"\n[[stages]]\nquery = \"dedup_exact\"\n\
         [budget]\nmax_drop_rate = 0.001\nmax_seconds = 3600\n\
         [budget.stages.clean]\nmax_drop_rate = \"0%\"\n",
    )
    .unwrap();
    let (json, html, md, prom, history) = (
        out("r.json"),
        out("r.html"),
        out("r.md"),
        out("m.prom"),
        out("history"),
    );
    let run = prepcost(&[
        "profile",
        &repo_str("sample-data"),
        "--pipeline",
        &out("pipeline.toml"),
        "--max-drop-rate",
        "0.5",
        "--max-cost-usd",
        "0",
        "--report",
        &json,
        "--report",
        &html,
        "--report",
        &md,
        "--prometheus",
        &prom,
        "--history",
        &history,
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("Stages"), "the table report is printed");
    let breaches: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(breaches.len(), 2, "{}", run.stderr);
    assert!(breaches[0].starts_with("prepcost: budget exceeded: measured $"));
    assert!(breaches[0].ends_with("is above the budget max_cost_usd = $0.00"));
    assert!(
        breaches[1]
            .contains("stage 'clean': measured 0.01% is above the budget max_drop_rate = 0.00%")
    );

    let report = read_json(Path::new(&json));
    let budget = &report["budget"];
    // The flag replaced the file's run-wide drop rate (0.78% dropped, under 50%).
    let checks: Vec<(&str, bool)> = budget["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["budget"].as_str().unwrap(),
                c["breached"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        checks,
        [
            ("max_cost_usd", true),
            ("max_seconds", false),
            ("max_drop_rate", false),
            ("max_drop_rate", true),
        ]
    );
    assert_eq!(budget["breaches"].as_array().unwrap().len(), 2);
    assert_eq!(budget["breaches"][1]["stage"], "clean");
    assert!(std::fs::read_to_string(&html).unwrap().contains("<svg"));
    assert!(std::fs::read_to_string(&md).unwrap().contains("### Stages"));
    let metrics = std::fs::read_to_string(&prom).unwrap();
    assert!(metrics.contains("prepcost_run_success{"), "{metrics}");
    assert!(metrics.contains("prepcost_budget_breaches{"));
    assert!(
        metrics.contains("budget=\"max_drop_rate\",stage=\"clean\"} 1\n"),
        "{metrics}"
    );
    assert_eq!(std::fs::read_dir(&history).unwrap().count(), 1);
}

#[test]
fn bad_budget_values_are_errors_before_the_run() {
    let data = repo_str("sample-data");
    for (args, said) in [
        (vec!["--max-cost-usd=-1"], "--max-cost-usd"),
        (vec!["--max-cost-usd", "lots"], "not a number"),
        (vec!["--max-drop-rate", "1.5"], "a drop rate is 0–1"),
        (vec!["--max-drop-rate=-10%"], "--max-drop-rate"),
        (vec!["--max-growth", "twenty"], "percentage such as 20%"),
        (vec!["--max-seconds", "5x"], "not a duration"),
        (
            vec!["--min-loader-tokens-per-s", "1"],
            "cannot be checked by profile",
        ),
    ] {
        let mut all = vec!["profile", data.as_str()];
        all.extend(args);
        assert_error(&prepcost(&all), &[said]);
    }
    let run = prepcost(&["loader", &data, "--max-drop-rate", "0.1"]);
    assert_error(&run, &["--max-drop-rate cannot be checked by loader"]);
    let run = prepcost(&[
        "loader",
        &data,
        "--tokenizer",
        "none",
        "--min-loader-tokens-per-s",
        "1e6",
    ]);
    assert_error(&run, &["needs a tokenizer"]);
}

#[test]
fn a_held_lock_makes_a_second_run_exit_1_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("job.lock");
    let held = prepcost::util::lock::JobLock::acquire(&lock).unwrap();
    let args = [
        "inspect",
        &repo_str("sample-data"),
        "--lock",
        path_str(&lock),
    ];
    let run = prepcost(&args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr.trim_end(),
        format!(
            "prepcost: lock {} is held by process {}: another run of this job is going on",
            lock.display(),
            std::process::id()
        )
    );
    drop(held);
    assert_eq!(prepcost(&args).code, 0);
}

/// SIGTERM while the output is being uploaded (to an S3 server that answers writes only after
/// a minute): exit 143, a partial report, no temporary file left, nothing committed.
#[test]
fn sigterm_mid_run_stops_it_cleanly_with_a_partial_report() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("out")).unwrap();
    let s3 = Server::s3(root.path(), Faults::SlowWrites(Duration::from_secs(60)));
    let temp = tempfile::tempdir().unwrap();
    let report = temp.path().join("partial.json");
    let scratch = temp.path().join("tmp");
    std::fs::create_dir(&scratch).unwrap();
    let mut child = command(env!("CARGO_BIN_EXE_prepcost"))
        .args([
            "profile",
            &repo_str("sample-data"),
            "--output",
            "s3://out/result/",
            "--progress",
            "plain",
            "--report",
            path_str(&report),
        ])
        .env("TMPDIR", &scratch)
        .env("AWS_ENDPOINT_URL", s3.url())
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_REGION", "us-east-1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            panic!("prepcost ended before writing its output: {said}");
        }
        said.push_str(&line);
        if line.contains("writing s3://out/result/") {
            break;
        }
    }
    // SAFETY: kill sends a signal to the child this test started; it touches no memory.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let output = child.wait_with_output().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert_eq!(output.status.code(), Some(143), "{said}{rest}");
    assert!(rest.contains("interrupted by SIGTERM"), "{rest}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("interrupted by SIGTERM"), "{stdout}");

    let partial = read_json(&report);
    assert_eq!(partial["interrupted"], true);
    assert_eq!(partial["signal"], "SIGTERM");
    let finished: Vec<&str> = partial["steps_finished"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        finished,
        [
            "scan",
            "counting tokens",
            "clean",
            "normalise",
            "dedup_exact"
        ]
    );
    assert!(
        partial["step_running"]
            .as_str()
            .unwrap()
            .starts_with("writing s3://out/result/")
    );
    let left: Vec<_> = std::fs::read_dir(&scratch).unwrap().collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
    assert!(
        !root.path().join("out/result").exists(),
        "nothing committed"
    );
}

/// The metrics of every command, and of a failed run, pass `promtool check metrics`.
#[test]
fn prometheus_metrics_pass_promtool() {
    let Some(promtool) = tool("promtool", "PREPCOST_REQUIRE_PROMTOOL") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = repo_str("sample-data");
    let report = dir.path().join("profile.json");
    let runs: Vec<(&str, Vec<&str>, i32)> = vec![
        (
            "profile",
            vec!["profile", &data, "--sample", "0.5", "--max-cost-usd", "1"],
            0,
        ),
        ("inspect", vec!["inspect", &data], 0),
        (
            "loader",
            vec![
                "loader",
                &data,
                "--workers",
                "1,2",
                "--target-tokens-per-s",
                "1",
            ],
            0,
        ),
        ("failed", vec!["profile", "/no/such/dataset"], 2),
    ];
    for (name, args, code) in runs {
        let metrics = dir.path().join(format!("{name}.prom"));
        let mut all = args.clone();
        all.extend(["--quiet", "--prometheus", path_str(&metrics)]);
        if name == "profile" {
            all.extend(["--report", path_str(&report)]);
        }
        let run = prepcost(&all);
        assert_eq!(run.code, code, "{name}: {}", run.stderr);
        let text = std::fs::read_to_string(&metrics).unwrap();
        let success = if code == 0 { "} 1\n" } else { "} 0\n" };
        assert!(
            text.lines()
                .any(|l| l.starts_with("prepcost_run_success{")
                    && format!("{l}\n").ends_with(success)),
            "{name}: {text}"
        );
        let checked = command(&promtool)
            .args(["check", "metrics"])
            .stdin(std::fs::File::open(&metrics).unwrap())
            .output()
            .unwrap();
        assert!(
            checked.status.success(),
            "{name}: promtool says {}{}",
            String::from_utf8_lossy(&checked.stdout),
            String::from_utf8_lossy(&checked.stderr)
        );
    }
    let metrics = dir.path().join("estimate.prom");
    let run = prepcost(&[
        "estimate",
        path_str(&report),
        "--prometheus",
        path_str(&metrics),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let checked = command(&promtool)
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&metrics).unwrap())
        .status()
        .unwrap();
    assert!(checked.success());
}

/// Runs appended to one history, the dataset growing beyond --max-growth, and what
/// `history` and `diff` make of them.
#[test]
fn history_records_runs_and_diff_flags_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let history = dir.path().join("history");
    let en = repo_str("sample-data/en_prose");
    std::fs::copy(format!("{en}/part-0.parquet"), data.join("part-0.parquet")).unwrap();
    let profile = |report: &str, growth: &str| -> Run {
        prepcost(&[
            "profile",
            path_str(&data),
            "--quiet",
            "--tokenizer",
            "none",
            "--history",
            path_str(&history),
            "--max-growth",
            growth,
            "--report",
            path_str(&dir.path().join(report)),
        ])
    };
    assert_eq!(
        profile("a.json", "20%").code,
        0,
        "no previous run: nothing to grow from"
    );
    assert_eq!(profile("b.json", "20%").code, 0, "the same dataset again");
    std::fs::copy(format!("{en}/part-1.parquet"), data.join("part-1.parquet")).unwrap();
    let grown = profile("c.json", "20%");
    assert_eq!(grown.code, 1, "{}", grown.stderr);
    assert!(
        grown
            .stderr
            .contains("above the budget max_growth.rows = +20.0%"),
        "{}",
        grown.stderr
    );

    let shown = prepcost(&["history", path_str(&history), "--format", "json"]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let shown: Value = serde_json::from_str(&shown.stdout).unwrap();
    let runs = shown["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[0]["change"], Value::Null);
    assert_eq!(runs[1]["change"]["dataset_rows"], 0.0);
    assert!(runs[2]["change"]["dataset_rows"].as_f64().unwrap() > 0.2);
    // The rows and the bytes grew.
    assert_eq!(runs[2]["budget_breaches"], 2);
    let stages: Vec<&str> = runs[2]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(stages, ["clean", "normalise", "dedup_exact"]);
    let table = prepcost(&["history", path_str(&history), "--dataset", "elsewhere"]);
    assert!(table.stdout.contains("0 runs"), "{}", table.stdout);

    let (a, b, c) = (
        dir.path().join("a.json"),
        dir.path().join("b.json"),
        dir.path().join("c.json"),
    );
    let same = prepcost(&["diff", path_str(&a), path_str(&b), "--tolerance", "1000%"]);
    assert_eq!(same.code, 0, "{}", same.stdout);
    assert!(same.stdout.contains("0 of "), "{}", same.stdout);
    let changed = prepcost(&["diff", path_str(&a), path_str(&c), "--format", "json"]);
    assert_eq!(changed.code, 1, "{}", changed.stderr);
    let diff: Value = serde_json::from_str(&changed.stdout).unwrap();
    let rows = diff["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["figure"] == "storage.rows")
        .unwrap();
    assert_eq!(rows["flagged"], true);
    assert!(diff["flagged"].as_u64().unwrap() >= 1);
    let bad = prepcost(&["diff", path_str(&a), path_str(&data.join("part-0.parquet"))]);
    assert_error(&bad, &["part-0.parquet", "not a JSON report"]);
}

/// The path of `name` on the PATH, or `None` with a notice; with `require` set to 1 (as
/// `.ci/run` sets it), its absence fails the test.
pub fn tool(name: &str, require: &str) -> Option<std::path::PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    });
    if found.is_none() {
        if std::env::var(require).is_ok_and(|v| v == "1") {
            panic!("{name} not found on PATH, and {require}=1 requires it");
        }
        eprintln!("SKIPPED: {name} not found on PATH (set {require}=1 to require it)");
    }
    found
}

/// A history kept in object storage (the S3 test server): appended to, read back.
#[test]
fn a_history_in_object_storage_is_appended_to_and_read_back() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("reports")).unwrap();
    let s3 = Server::s3(root.path(), Faults::None);
    let env = [
        ("AWS_ENDPOINT_URL", s3.url()),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_string()),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let data = repo_str("sample-data/en_prose");
    let history = "s3://reports/history/";
    for _ in 0..2 {
        let args = [
            "inspect",
            &data,
            "--quiet",
            "--history",
            history,
            "--max-growth",
            "0%",
        ];
        let run = crate::support::prepcost_env(&args, &env);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let files = std::fs::read_dir(root.path().join("reports/history")).unwrap();
    assert_eq!(files.count(), 2, "one file per run");
    let shown = crate::support::prepcost_env(&["history", history, "--format", "json"], &env);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let shown: Value = serde_json::from_str(&shown.stdout).unwrap();
    let runs = shown["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1]["command"], "inspect");
    assert_eq!(runs[1]["dataset_rows"], 30_000);
    assert_eq!(runs[1]["change"]["dataset_rows"], 0.0);
}
