//! The command line: every bad input gets one line on stderr and exit code 2, and good runs
//! print their report and write their files.

use std::path::Path;

use crate::support::{
    assert_error, command, prepcost, profile_json, read_rows, repo_str, text_batch, write_parquet,
};

fn sample(name: &str) -> String {
    repo_str(&format!("sample-data/{name}"))
}

fn write(path: &Path, text: &str) -> String {
    std::fs::write(path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_path_that_does_not_exist() {
    let run = prepcost(&["profile", "/no/such/dataset.parquet"]);
    assert_error(
        &run,
        &["/no/such/dataset.parquet", "no such file or directory"],
    );
}

#[test]
fn a_directory_without_data_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not data").unwrap();
    std::fs::write(dir.path().join("_SUCCESS"), "").unwrap();
    let run = prepcost(&["profile", dir.path().to_str().unwrap()]);
    assert_error(&run, &["no data files found", "*.parquet"]);
}

#[test]
fn a_file_that_is_not_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir.path().join("data.parquet"), "id,text\n1,hello\n");
    let run = prepcost(&["profile", &path]);
    assert_error(&run, &["data.parquet", "not a Parquet file"]);
    let empty = write(&dir.path().join("empty.parquet"), "");
    assert_error(&prepcost(&["profile", &empty]), &["empty.parquet"]);
}

#[test]
fn corrupt_parquet_files_fail_cleanly() {
    let cases = [
        ("PARQUET-1481.parquet", "text", "unreadable Parquet footer"),
        ("ARROW-GH-41321.parquet", "string", "row group 0"),
        // Its column chunk claims more bytes than the file has.
        (
            "ARROW-RS-GH-6229-DICTHEADER.parquet",
            "name",
            "implausible Parquet footer",
        ),
        // Makes the Parquet decoder panic; the panic is caught and named.
        ("rle_malicious_bitwidth.parquet", "a", "malformed data"),
        ("invalid_utf8_dlba.parquet", "X1", "UTF-8"),
    ];
    for (file, column, what) in cases {
        let path = repo_str(&format!("tests/fixtures/bad_data/{file}"));
        let run = prepcost(&["profile", &path, "--text-column", column]);
        assert_error(&run, &[file, what]);
    }
}

#[test]
fn a_missing_or_non_string_text_column() {
    let path = sample("fortunes_zh.parquet");
    let run = prepcost(&["profile", &path, "--text-column", "body"]);
    assert_error(
        &run,
        &["text column 'body' not found", "its columns are: id,"],
    );
    let run = prepcost(&["profile", &path, "--text-column", "id"]);
    assert_error(&run, &["text column 'id'", "Int64", "not a string type"]);
}

#[test]
fn invalid_toml_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = write(
        &dir.path().join("p.toml"),
        "[source]\nuri = \"data/\"\ntext_column = = \"text\"\n",
    );
    let run = prepcost(&[
        "profile",
        &sample("fortunes_zh.parquet"),
        "--pipeline",
        &pipeline,
    ]);
    assert_error(&run, &["p.toml:3:"]);
}

#[test]
fn unknown_keys_and_kinds_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = write(
        &dir.path().join("p.toml"),
        "[[stages]]\nquery = \"clean\"\n\n[[stages]]\nquery = \"normalise\"\nparms = { form = \"NFC\" }\n",
    );
    let run = prepcost(&[
        "profile",
        &sample("fortunes_zh.parquet"),
        "--pipeline",
        &pipeline,
    ]);
    assert_error(&run, &["p.toml:6:", "parms"]);

    let pipeline = write(
        &dir.path().join("k.toml"),
        "[[stages]]\nquery = \"clean\"\n\n[[stages]]\nname = \"near\"\nkind = \"fuzzy_dedup\"\n",
    );
    let run = prepcost(&[
        "profile",
        &sample("fortunes_zh.parquet"),
        "--pipeline",
        &pipeline,
    ]);
    assert_error(&run, &["k.toml:4:", "unknown stage kind 'fuzzy_dedup'"]);
}

#[test]
fn a_sql_error_names_the_stage_file() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("flags.sql"),
        "SELECT *, word_count(${text_column}) AS words FROM input WHERE nonexistent_column > 1",
    );
    let pipeline = write(
        &dir.path().join("p.toml"),
        "[[stages]]\nquery = \"clean\"\n\n[[stages]]\nname = \"flags\"\nsql = \"flags.sql\"\n",
    );
    let run = prepcost(&[
        "profile",
        &sample("fortunes_zh.parquet"),
        "--pipeline",
        &pipeline,
    ]);
    assert_error(&run, &["stage 'flags'", "flags.sql", "nonexistent_column"]);

    write(&dir.path().join("flags.sql"), "SELEC * FROM input");
    let run = prepcost(&[
        "profile",
        &sample("fortunes_zh.parquet"),
        "--pipeline",
        &pipeline,
    ]);
    assert_error(&run, &["flags.sql", "SELEC"]);
}

#[test]
fn parameters_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = write(
        &dir.path().join("p.toml"),
        "[[stages]]\nquery = \"clean\"\nparams = { min_char = 3 }\n",
    );
    let run = prepcost(&[
        "profile",
        &sample("fortunes_zh.parquet"),
        "--pipeline",
        &pipeline,
    ]);
    assert_error(&run, &["'min_char' is not used", "min_chars", "p.toml:1"]);

    write(
        &dir.path().join("s.sql"),
        "SELECT * FROM input WHERE char_count(${text_column}) > ${min}",
    );
    let pipeline = write(&dir.path().join("q.toml"), "[[stages]]\nsql = \"s.sql\"\n");
    let run = prepcost(&[
        "profile",
        &sample("fortunes_zh.parquet"),
        "--pipeline",
        &pipeline,
    ]);
    assert_error(&run, &["${min}", "has no value"]);

    let pipeline = write(
        &dir.path().join("n.toml"),
        "[[stages]]\nquery = \"normalise\"\nparams = { form = \"NFD\" }\n",
    );
    let run = prepcost(&[
        "profile",
        &sample("fortunes_zh.parquet"),
        "--pipeline",
        &pipeline,
    ]);
    assert_error(&run, &["must be one of 'NFKC', 'NFC'"]);
}

#[test]
fn bad_flags_are_one_line_too() {
    let run = prepcost(&[
        "profile",
        &sample("fortunes_zh.parquet"),
        "--memory-limit",
        "lots",
    ]);
    assert_error(&run, &["--memory-limit", "lots"]);
    let run = prepcost(&[
        "profile",
        &sample("fortunes_zh.parquet"),
        "--format",
        "yaml",
    ]);
    assert_error(&run, &["yaml"]);
    let run = prepcost(&["profile"]);
    assert_error(&run, &["no source"]);
    let run = prepcost(&[
        "profile",
        &sample("fortunes_zh.parquet"),
        "--usd-per-vcpu-hour",
        "-1",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn the_table_report_names_every_stage_and_column() {
    let run = prepcost(&["profile", &sample("en_prose")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for needle in [
        "scan",
        "clean",
        "normalise",
        "dedup_exact",
        "Storage by column",
        "title",
        "Cost:",
    ] {
        assert!(
            run.stdout.contains(needle),
            "{needle} missing from:\n{}",
            run.stdout
        );
    }
}

#[test]
fn the_report_file_holds_the_json_report() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let run = prepcost(&[
        "profile",
        &sample("fortunes_zh.parquet"),
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(written["schema_version"], 1);
    assert_eq!(written["stages"].as_array().unwrap().len(), 3);
    assert!(written["cost"]["compute_usd"].as_f64().unwrap() > 0.0);
    assert!(run.stdout.contains("dedup_exact"));
}

#[test]
fn the_json_contract_has_its_fields() {
    let report = profile_json(&[&sample("fortunes_zh.parquet")]);
    for pointer in [
        "/source/rows",
        "/storage/files",
        "/storage/row_groups",
        "/storage/compressed_bytes",
        "/storage/uncompressed_bytes",
        "/storage/columns/0/name",
        "/storage/columns/0/compressed_bytes",
        "/storage/columns/0/uncompressed_bytes",
        "/storage/columns/0/codecs",
        "/stages/0/name",
        "/stages/0/rows_in",
        "/stages/0/rows_out",
        "/stages/0/wall_seconds",
        "/stages/0/cpu_seconds",
        "/stages/0/peak_memory_bytes",
        "/stages/0/text_bytes_in",
        "/stages/0/text_bytes_out",
        "/stages/0/drop_rate",
        "/stages/0/result_bytes",
        "/cost/compute_usd",
        "/cost/core_hours",
    ] {
        assert!(report.pointer(pointer).is_some(), "{pointer} missing");
    }
    assert!(report["stages"][0]["peak_memory_bytes"].as_u64().unwrap() > 0);
}

#[test]
fn the_cost_counts_every_cpu_second_of_the_run() {
    let report = profile_json(&[&sample("fortunes_zh.parquet")]);
    let seconds = |pointer: &str| report.pointer(pointer).unwrap().as_f64().unwrap();
    // The steps and the counting of tokens are parts of the run, measured one after another.
    let parts = seconds("/totals/cpu_seconds") + seconds("/tokens/cpu_seconds");
    let run = seconds("/totals/run_cpu_seconds");
    assert!(
        run >= parts,
        "the run's {run} s of CPU hold its parts' {parts} s"
    );
    assert!(seconds("/totals/run_wall_seconds") >= seconds("/totals/wall_seconds"));
    let priced = seconds("/cost/core_hours") * 3600.0;
    assert!(
        (priced - run).abs() < 1e-9,
        "{priced} core-seconds priced, {run} spent"
    );
    let usd = seconds("/cost/core_hours") * seconds("/cost/pricing/usd_per_vcpu_hour");
    assert!((seconds("/cost/compute_usd") - usd).abs() < 1e-15);
}

#[test]
fn output_is_written_in_source_order_without_the_position_column() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    // Two files; lexical order a < b decides which duplicate is first.
    write_parquet(
        &data.join("b.parquet"),
        &[text_batch(
            "text",
            &[10, 11, 12],
            &[Some("one"), Some("ｔｗｏ"), Some("three")],
        )],
    );
    write_parquet(
        &data.join("a.parquet"),
        &[text_batch(
            "text",
            &[1, 2, 3],
            &[Some("two"), Some(" one "), None],
        )],
    );
    let out = dir.path().join("out");
    let report = profile_json(&[data.to_str().unwrap(), "--output", out.to_str().unwrap()]);
    assert_eq!(report["output"]["rows"], 3);
    assert_eq!(
        read_rows(&out),
        ["1\u{1f}two", "2\u{1f}one", "12\u{1f}three"],
        "the first of each group, in source order"
    );
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("part-") && n.ends_with(".parquet")
                || n == "_prepcost_manifest.json"),
        "{names:?}"
    );
    // Nothing but the output next to it.
    let beside: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(beside.len(), 2);
}

#[test]
fn a_failed_run_leaves_the_output_target_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("previous.parquet"), "the previous dataset").unwrap();
    // An earlier output of prepcost's, which a successful run would replace.
    std::fs::write(
        out.join("_prepcost_manifest.json"),
        r#"{"prepcost_version": "0.1.0", "run_id": "r", "source": "s", "rows": 1,
            "files": [{"name": "previous.parquet", "bytes": 20}]}"#,
    )
    .unwrap();
    write(
        &dir.path().join("bad.sql"),
        "SELECT * FROM input WHERE missing_column",
    );
    let pipeline = write(
        &dir.path().join("p.toml"),
        "[[stages]]\nquery = \"clean\"\n[[stages]]\nsql = \"bad.sql\"\n",
    );
    let run = prepcost(&[
        "profile",
        &sample("fortunes_zh.parquet"),
        "--pipeline",
        &pipeline,
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_error(&run, &["bad.sql"]);
    let mut kept: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    kept.sort();
    assert_eq!(kept, ["_prepcost_manifest.json", "previous.parquet"]);
    let beside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(beside.len(), 3, "no staging directory left: {beside:?}");

    // A successful run replaces it whole.
    let report = profile_json(&[
        &sample("fortunes_zh.parquet"),
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        report["output"]["files"].as_u64(),
        Some(std::fs::read_dir(&out).unwrap().count() as u64 - 1),
        "its files and the manifest"
    );
    assert!(!out.join("previous.parquet").exists());
}

#[test]
fn an_output_path_that_is_a_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir.path().join("taken"), "x");
    let run = prepcost(&["profile", &sample("fortunes_zh.parquet"), "--output", &file]);
    assert_error(&run, &["taken", "not a folder"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
}

#[test]
fn ctrl_c_stops_the_run_and_removes_its_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    // A stage that runs for minutes: every row a thousand times over (30,000,000 rows), spilled
    // under a small memory limit. It is interrupted long before it could end.
    write(
        &dir.path().join("grow.sql"),
        "SELECT i.* REPLACE (i.${text_column} || ' ' || CAST(n.value AS VARCHAR) AS ${text_column}) \
         FROM input i CROSS JOIN generate_series(1, 1000) AS n(value)",
    );
    let pipeline = write(
        &dir.path().join("p.toml"),
        "[[stages]]\nsql = \"grow.sql\"\n[[stages]]\nquery = \"normalise\"\n[[stages]]\nquery = \"dedup_exact\"\n",
    );
    let out = dir.path().join("out");
    let mut child = command(env!("CARGO_BIN_EXE_prepcost"))
        .args([
            "profile",
            &sample("en_prose"),
            "--pipeline",
            &pipeline,
            "--memory-limit",
            "32MiB",
            "--output",
            out.to_str().unwrap(),
        ])
        .env("TMPDIR", &tmp)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the run has files in its temporary directory (the slow stage spills there),
    // then interrupt it: the test checks their removal only when there were some.
    let holds_files = |dir: &std::path::Path| walk(dir).iter().any(|p| p.is_file());
    let made = (0..6000).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(10));
        holds_files(&tmp) || child.try_wait().unwrap().is_some()
    });
    assert!(
        made && holds_files(&tmp),
        "the run made no temporary files to remove (or ended first)"
    );
    // SAFETY: sends SIGINT to our own child process.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let stopped = (0..600).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        child.try_wait().unwrap().is_some()
    });
    if !stopped {
        let _ = child.kill();
    }
    let result = child.wait_with_output().unwrap();
    assert!(stopped, "the run went on for a minute after Ctrl-C");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(130), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "prepcost: interrupted by SIGINT; temporary files were removed, nothing was committed"
    );
    // The partial report, and nothing else.
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(stdout.contains("interrupted by SIGINT after"), "{stdout}");
    assert!(!out.exists(), "no output from an interrupted run");
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
    let beside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".prepcost"))
        .collect();
    assert!(beside.is_empty(), "staging left: {beside:?}");
}

/// Every path below `dir`, folders and files.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        }
        found.push(path);
    }
    found
}
