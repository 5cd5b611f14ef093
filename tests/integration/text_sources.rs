//! `profile` on JSONL and CSV sources: the same figures as the Parquet they were written
//! from, bad lines named or skipped, quoted line ends kept inside their record.

use datafusion::common::parsers::CompressionTypeVariant::{GZIP, UNCOMPRESSED, ZSTD};
use prepcost::config::ProfileRequest;
use prepcost::model::ProfileReport;

use crate::inspect::fortunes_zh_as;
use crate::support::{assert_error, prepcost, profile, repo_str};

async fn run(source: &str) -> ProfileReport {
    profile(ProfileRequest {
        source: Some(source.to_string()),
        near_dedup: true,
        ..Default::default()
    })
    .await
    .unwrap()
}

/// Rows, text and tokens of the source and of every stage.
fn figures(report: &ProfileReport) -> Vec<(String, u64, u64, Option<u64>)> {
    let source = &report.source;
    let mut out = vec![("source".to_string(), source.rows, source.text_bytes, None)];
    out.extend(report.stages.iter().map(|s| {
        let tokens = s.tokens_out.map(|t| t.total);
        (s.name.clone(), s.rows_out, s.text_bytes_out, tokens)
    }));
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn jsonl_and_csv_copies_profile_like_the_parquet() {
    let parquet = run(&repo_str("sample-data/fortunes_zh.parquet")).await;
    let dir = tempfile::tempdir().unwrap();
    for (name, compression, format) in [
        ("zh.jsonl.gz", GZIP, "jsonl"),
        ("zh.jsonl", UNCOMPRESSED, "jsonl"),
        ("zh.csv.zst", ZSTD, "csv"),
    ] {
        let path = dir.path().join(name);
        let rows = fortunes_zh_as(&path, compression).await;
        let text = run(path.to_str().unwrap()).await;
        assert_eq!(text.source.format, format);
        assert_eq!(text.storage.rows, rows, "{name}: rows counted by the scan");
        assert_eq!(text.storage.row_groups, 0);
        assert_eq!(
            text.storage.file_bytes,
            std::fs::metadata(&path).unwrap().len()
        );
        assert!(text.storage.uncompressed_bytes > 0);
        assert_eq!(figures(&text), figures(&parquet), "{name}");
        assert_eq!(
            text.tokens.as_ref().unwrap().source.total,
            parquet.tokens.as_ref().unwrap().source.total
        );
    }
}

#[test]
fn a_bad_jsonl_line_is_named_or_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    let lines = "{\"text\": \"first text\"}\n{\"text\": 5}\nnot json\n{\"text\": \"last\"}\n";
    std::fs::write(&path, lines).unwrap();
    let path = path.to_str().unwrap();
    let failed = prepcost(&["profile", path, "--tokenizer", "none"]);
    assert_error(&failed, &["bad.jsonl", "line 3"]);
    let run = prepcost(&[
        "profile",
        path,
        "--tokenizer",
        "none",
        "--on-error",
        "skip",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["source"]["skipped_lines"], 1);
    assert_eq!(
        report["source"]["rows"], 3,
        "a number in a text field is read as text"
    );
    // The loader too: the bad line named, or left out and counted once over two epochs.
    let failed = prepcost(&["loader", path, "--tokenizer", "none", "--quiet"]);
    assert_error(&failed, &["bad.jsonl", "line 3"]);
    let skipped = loader_json(path, &["--on-error", "skip", "--epochs", "2"]);
    assert_eq!(skipped["source"]["skipped_lines"], 1);
    assert_eq!(skipped["source"]["rows"], 3);
}

#[test]
fn a_quoted_line_end_stays_inside_its_csv_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.tsv");
    std::fs::write(&path, "id\ttext\n1\t\"two\nlines\"\n2\tplain\n").unwrap();
    let run = prepcost(&[
        "profile",
        path.to_str().unwrap(),
        "--tokenizer",
        "none",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["source"]["rows"], 2);
    assert_eq!(report["source"]["text_bytes"], 14);
}

/// `loader … --format json` on `source`, with `extra` arguments.
fn loader_json(source: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "loader",
        source,
        "--quiet",
        "--format",
        "json",
        "--workers",
        "2",
    ];
    args.extend_from_slice(extra);
    let run = prepcost(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_loader_reads_jsonl_and_csv_like_the_parquet() {
    let parquet = loader_json(&repo_str("sample-data/fortunes_zh.parquet"), &[]);
    let dir = tempfile::tempdir().unwrap();
    for (name, compression) in [("zh.jsonl.zst", ZSTD), ("zh.csv.gz", GZIP)] {
        let path = dir.path().join(name);
        let rows = fortunes_zh_as(&path, compression).await;
        let path = path.to_str().unwrap();
        for extra in [&[][..], &["--shuffle", "--columns", "text"][..]] {
            let text = loader_json(path, extra);
            assert_eq!(
                text["source"]["rows"], rows,
                "{name} {extra:?}: rows counted by reading"
            );
            assert_eq!(text["loader"]["rows"], parquet["loader"]["rows"], "{name}");
            assert_eq!(
                text["loader"]["tokens_total"], parquet["loader"]["tokens_total"],
                "{name}"
            );
        }
    }
    let path = dir.path().join("zh.jsonl.zst");
    let missing = prepcost(&["loader", path.to_str().unwrap(), "--columns", "nope"]);
    assert_error(&missing, &["nope"]);
}
