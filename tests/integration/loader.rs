//! `prepcost loader`: token totals against Python's tiktoken and tokenizers
//! (tests/reference/sample_tokens.json), the read path's row counts under every setting, the
//! scaling table, the verdict and its exit code, and bad input.

use serde_json::Value;

use crate::support::{assert_error, prepcost, repo, repo_str, text_batch, write_parquet};

pub fn token_reference() -> Value {
    let text = std::fs::read_to_string(repo("tests/reference/sample_tokens.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Runs `prepcost loader … --format json` and returns its exit code and report.
fn loader(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["loader"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let run = prepcost(&all);
    assert!(
        run.code == 0 || run.code == 1,
        "prepcost {all:?} failed: {}",
        run.stderr
    );
    assert_eq!(run.stderr, "", "nothing on stderr when not a terminal");
    (
        run.code,
        serde_json::from_str(&run.stdout).expect("one JSON object"),
    )
}

fn sample(name: &str, reference: &Value) -> String {
    let path = reference["datasets"][name]["path"].as_str().unwrap();
    repo_str(&format!("sample-data/{path}"))
}

#[test]
fn token_totals_equal_python_tiktoken_and_tokenizers() {
    let reference = token_reference();
    let tokenizer_json = repo_str("tests/fixtures/tokenizer/tokenizer.json");
    for (name, expected) in reference["datasets"].as_object().unwrap() {
        let path = sample(name, &reference);
        for (tokenizer, key) in [
            ("cl100k_base", "cl100k_base"),
            ("o200k_base", "o200k_base"),
            (tokenizer_json.as_str(), "tokenizer.json"),
        ] {
            let (code, report) = loader(&[&path, "--tokenizer", tokenizer, "--workers", "2"]);
            assert_eq!(code, 0);
            let figures = &report["loader"];
            assert_eq!(
                figures["tokens_total"], expected[key]["source"]["total"],
                "{name} with {key}"
            );
            assert_eq!(figures["rows"], report["source"]["rows"], "{name}");
            assert_eq!(report["source"]["tokenizer"], tokenizer);
        }
    }
}

#[test]
fn every_setting_delivers_every_row_and_token() {
    let reference = token_reference();
    let path = sample("en_prose", &reference);
    let expected = &reference["datasets"]["en_prose"]["cl100k_base"]["source"]["total"];
    let settings: [&[&str]; 4] = [
        &["--workers", "1", "--batch-size", "1"],
        &["--workers", "3", "--batch-size", "777", "--prefetch", "1"],
        &[
            "--shuffle",
            "--seed",
            "42",
            "--shuffle-buffer",
            "5000",
            "--workers",
            "2",
        ],
        &["--shuffle", "--batch-size", "30000", "--columns", "text,id"],
    ];
    for args in settings {
        let mut all = vec![path.as_str()];
        all.extend_from_slice(args);
        let (_, report) = loader(&all);
        let figures = &report["loader"];
        assert_eq!(figures["rows"], 30_000, "{args:?}");
        assert_eq!(&figures["tokens_total"], expected, "{args:?}");
        assert_eq!(figures["limited"], false);
        let batch_size: u64 = report["settings"]["batch_size"].as_u64().unwrap();
        assert_eq!(
            figures["batches"].as_u64().unwrap(),
            30_000u64.div_ceil(batch_size),
            "{args:?}: every batch but the last is full"
        );
    }
}

#[test]
fn limits_and_epochs_bound_the_run() {
    let path = repo_str("sample-data/fortunes_zh.parquet");
    let (_, report) = loader(&[&path, "--limit", "1000", "--batch-size", "300"]);
    assert_eq!(report["loader"]["rows"], 1000);
    assert_eq!(report["loader"]["batches"], 4);
    assert_eq!(report["loader"]["limited"], true);
    assert_eq!(report["settings"]["limit_rows"], 1000);
    let (_, report) = loader(&[&path, "--epochs", "3", "--shuffle", "--tokenizer", "none"]);
    assert_eq!(report["loader"]["rows"], 3 * 5671);
    assert_eq!(report["loader"]["tokens_total"], Value::Null);
    assert_eq!(report["loader"]["tokens_per_s"], Value::Null);
    assert_eq!(report["source"]["tokenizer"], "none");
}

#[test]
fn the_report_keeps_the_json_contract_and_a_scaling_table() {
    let path = repo_str("sample-data/en_prose");
    let (code, report) = loader(&[&path, "--workers", "2,1", "--columns", "text"]);
    assert_eq!(code, 0);
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["command"], "loader");
    let figures = &report["loader"];
    for key in [
        "rows_per_s",
        "bytes_per_s",
        "decoded_bytes_per_s",
        "tokens_per_s",
        "tokens_total",
        "time_to_first_batch_s",
        "cpu_utilisation",
    ] {
        assert!(
            figures[key].as_f64().unwrap() > 0.0,
            "loader.{key}: {figures}"
        );
    }
    for p in ["p50", "p95", "p99"] {
        assert!(figures["batch_latency_s"][p].as_f64().is_some(), "{p}");
    }
    assert_eq!(figures["verdict"], Value::Null);
    assert_eq!(figures["workers"], 2, "the headline is the most workers");
    let scaling = figures["scaling"].as_array().unwrap();
    let workers: Vec<u64> = scaling
        .iter()
        .map(|r| r["workers"].as_u64().unwrap())
        .collect();
    assert_eq!(workers, [1, 2]);
    assert_eq!(scaling[0]["speedup"], 1.0);
    assert_eq!(scaling[0]["efficiency"], 1.0);
    for row in scaling {
        assert_eq!(row["rows"], 30_000);
    }
    // Only the text column's chunks are fetched: at most its compressed bytes per run plus
    // the footers.
    let fetched = figures["bytes_fetched"].as_u64().unwrap();
    let projected = report["source"]["projected_compressed_bytes"]
        .as_u64()
        .unwrap();
    assert!(fetched >= projected, "{fetched} < {projected}");
    assert!(
        fetched < projected + 2 * 64 * 1024,
        "{fetched} vs {projected}"
    );
    assert_eq!(report["source"]["columns"], serde_json::json!(["text"]));
    assert!(report["requests"]["get"].as_u64().unwrap() > 0);

    let table = prepcost(&["loader", &path, "--workers", "1,2"]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(table.stdout.contains("speed-up"), "{}", table.stdout);
    assert!(
        table.stdout.contains("first batch after"),
        "{}",
        table.stdout
    );
}

#[test]
fn the_verdict_says_whether_the_loader_keeps_up_and_sets_the_exit_code() {
    let path = repo_str("sample-data/fortunes_intl.parquet");
    let (code, report) = loader(&[&path, "--target-tokens-per-s", "1", "--workers", "1"]);
    assert_eq!(code, 0);
    let verdict = &report["loader"]["verdict"];
    assert_eq!(verdict["keeps_up"], true);
    assert_eq!(verdict["workers_needed"], 1);
    assert_eq!(verdict["workers_needed_basis"], "measured");
    assert!(verdict["headroom"].as_f64().unwrap() > 1.0);
    assert_eq!(verdict["formula"], Value::Null);

    // 64 GPUs at 40% of 989 TFLOP/s on a 7B model: 602,819 tokens/s; then a target no
    // machine meets, which fails the threshold (exit 1) with the report written.
    let (code, report) = loader(&[
        &path,
        "--gpus",
        "64",
        "--model-params",
        "7e9",
        "--mfu",
        "0.4",
        "--gpu-flops",
        "989e12",
    ]);
    let verdict = &report["loader"]["verdict"];
    assert_eq!(
        verdict["target_tokens_per_s"].as_f64().unwrap().round(),
        602_819.0
    );
    assert!(
        verdict["formula"]
            .as_str()
            .unwrap()
            .contains("6 × parameters")
    );
    assert_eq!(code, if verdict["keeps_up"] == true { 0 } else { 1 });
    let (code, report) = loader(&[&path, "--target-tokens-per-s", "1e15", "--workers", "1"]);
    assert_eq!(code, 1);
    let verdict = &report["loader"]["verdict"];
    assert_eq!(verdict["keeps_up"], false);
    assert_eq!(verdict["workers_needed_basis"], "extrapolated");
    assert!(verdict["headroom"].as_f64().unwrap() < 1.0);
    assert!(verdict["workers_needed"].as_u64().unwrap() > 1);
}

#[test]
fn bad_loader_input_is_one_line_and_exit_2() {
    let path = repo_str("sample-data/fortunes_zh.parquet");
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("tokenizer.json");
    std::fs::write(&broken, "{ not json").unwrap();
    let missing = dir.path().join("missing/tokenizer.json");
    let cases: [(&[&str], &[&str]); 16] = [
        (
            &["--tokenizer", "gpt2"],
            &["unknown tokenizer 'gpt2'", "cl100k_base"],
        ),
        (
            &["--tokenizer", broken.to_str().unwrap()],
            &["tokenizer.json", "not a valid"],
        ),
        (
            &["--tokenizer", missing.to_str().unwrap()],
            &["missing/tokenizer.json"],
        ),
        (
            &["--text-column", "entry_index"],
            &["entry_index", "not a string type"],
        ),
        (
            &["--text-column", "nope", "--tokenizer", "o200k_base"],
            &["'nope' not found"],
        ),
        (
            &["--columns", "id", "--tokenizer", "cl100k_base"],
            &["--columns", "'text'"],
        ),
        (&["--columns", "nope"], &["'nope' not found", "text"]),
        (&["--batch-size", "0"], &["--batch-size", "at least 1"]),
        (&["--workers", "2,0"], &["--workers"]),
        (&["--workers", "-1"], &["--workers"]),
        (&["--epochs", "0"], &["--epochs"]),
        (&["--limit", "0"], &["--limit"]),
        (&["--limit=-5s"], &["--limit", "more than zero"]),
        (&["--seed", "3"], &["need --shuffle"]),
        (
            &["--mfu", "0.4", "--gpus", "8"],
            &["missing --model-params, --gpu-flops"],
        ),
        (
            &["--target-tokens-per-s", "-2"],
            &["--target-tokens-per-s", "more than zero"],
        ),
    ];
    for (args, needles) in cases {
        let mut all = vec!["loader", path.as_str()];
        all.extend_from_slice(args);
        assert_error(&prepcost(&all), needles);
    }
    assert_error(
        &prepcost(&[
            "loader",
            &path,
            "--tokenizer",
            "none",
            "--target-tokens-per-s",
            "5",
        ]),
        &["needs a tokenizer"],
    );
    assert_error(
        &prepcost(&["loader", &path, "--mfu", "1.5"]),
        &["--mfu", "at most 1"],
    );
}

#[test]
fn files_with_different_columns_are_refused_and_no_text_column_means_no_tokens() {
    let dir = tempfile::tempdir().unwrap();
    write_parquet(
        &dir.path().join("a.parquet"),
        &[text_batch("text", &[1, 2], &[Some("hello world"), None])],
    );
    write_parquet(
        &dir.path().join("b.parquet"),
        &[text_batch("body", &[3], &[Some("x")])],
    );
    let run = prepcost(&["loader", dir.path().to_str().unwrap()]);
    assert_error(&run, &["b.parquet", "differ", "a.parquet"]);

    std::fs::remove_file(dir.path().join("a.parquet")).unwrap();
    let (_, report) = loader(&[dir.path().to_str().unwrap()]);
    assert_eq!(report["loader"]["rows"], 1);
    assert_eq!(report["loader"]["tokens_total"], Value::Null);
    assert!(
        report["source"]["tokenizer"]
            .as_str()
            .unwrap()
            .starts_with("none")
    );
    let (_, report) = loader(&[dir.path().to_str().unwrap(), "--text-column", "body"]);
    assert_eq!(report["loader"]["tokens_total"], 1);
}
