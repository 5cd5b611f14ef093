//! `profile` on the repository's sample-data/ against the independent Python reference in
//! tests/reference/sample_data.json (always runs).

use serde_json::Value;

use crate::support::{profile_json, repo, repo_str};

fn reference() -> Value {
    let text = std::fs::read_to_string(repo("tests/reference/sample_data.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Checks a profile report against one dataset's reference figures for `form`.
pub fn check_against_reference(report: &Value, expected: &Value, form: &str) {
    let source = &report["source"];
    assert_eq!(source["rows"], expected["rows"]);
    assert_eq!(source["text_bytes"], expected["text_bytes"]);
    assert_eq!(source["text_nulls"], expected["text_nulls"]);
    let stage = |name: &str| {
        report["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no stage {name}"))
            .clone()
    };
    let clean = stage("clean");
    assert_eq!(clean["rows_in"], expected["rows"]);
    assert_eq!(clean["rows_out"], expected["clean"]["rows"]);
    assert_eq!(clean["text_bytes_out"], expected["clean"]["text_bytes"]);
    for name in ["normalise", "dedup_exact"] {
        let s = stage(name);
        assert_eq!(s["rows_out"], expected[form][name]["rows"], "{name} rows");
        assert_eq!(
            s["text_bytes_out"], expected[form][name]["text_bytes"],
            "{name} bytes"
        );
    }
    assert_eq!(
        report["totals"]["rows_out"],
        expected[form]["dedup_exact"]["rows"]
    );

    let storage = &report["storage"];
    let facts = &expected["storage"];
    for key in ["files", "rows", "row_groups", "file_bytes"] {
        assert_eq!(storage[key], facts[key], "storage.{key}");
    }
    let columns = storage["columns"].as_array().unwrap();
    let fact_columns = facts["columns"].as_object().unwrap();
    assert_eq!(columns.len(), fact_columns.len());
    for column in columns {
        let fact = &fact_columns[column["name"].as_str().unwrap()];
        assert_eq!(
            column["compressed_bytes"], fact["compressed_bytes"],
            "{column}"
        );
        assert_eq!(
            column["uncompressed_bytes"], fact["uncompressed_bytes"],
            "{column}"
        );
    }
    let sum = |key: &str| -> u64 { columns.iter().map(|c| c[key].as_u64().unwrap()).sum() };
    assert_eq!(
        storage["compressed_bytes"].as_u64().unwrap(),
        sum("compressed_bytes")
    );
    assert_eq!(
        storage["uncompressed_bytes"].as_u64().unwrap(),
        sum("uncompressed_bytes")
    );
}

#[test]
fn every_sample_dataset_matches_the_reference_with_nfkc() {
    let reference = reference();
    let tokens = crate::loader::token_reference();
    for (name, expected) in reference["datasets"].as_object().unwrap() {
        let path = repo_str(&format!(
            "sample-data/{}",
            expected["path"].as_str().unwrap()
        ));
        let report = profile_json(&[&path]);
        check_against_reference(&report, expected, "nfkc");
        assert_eq!(report["schema_version"], 1, "{name}");
        check_tokens(&report, &tokens["datasets"][name]["cl100k_base"]);
    }
}

/// Checks `profile`'s token counts against Python tiktoken's: the source's total and per-row
/// distribution, and the total after every stage.
fn check_tokens(report: &Value, expected: &Value) {
    let tokens = &report["tokens"];
    assert_eq!(tokens["tokenizer"], "cl100k_base");
    assert_eq!(tokens["source"]["total"], expected["source"]["total"]);
    for key in ["min", "median", "p99", "max"] {
        assert_eq!(
            tokens["source"]["per_row"][key], expected["source"]["per_row"][key],
            "per_row.{key}"
        );
    }
    let mut previous = expected["source"]["total"].as_i64().unwrap();
    for stage in report["stages"].as_array().unwrap() {
        let name = stage["name"].as_str().unwrap();
        assert_eq!(stage["tokens_out"]["total"], expected[name], "{name}");
        let out = expected[name].as_i64().unwrap();
        assert_eq!(stage["tokens_removed"], previous - out, "{name}");
        previous = out;
    }
    assert_eq!(tokens["result"]["total"], expected["dedup_exact"]);
}

#[test]
fn the_nfc_form_matches_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = dir.path().join("nfc.toml");
    std::fs::write(
        &pipeline,
        "[[stages]]\nquery = \"clean\"\n\n[[stages]]\nquery = \"normalise\"\nparams = { form = \"NFC\" }\n\n[[stages]]\nquery = \"dedup_exact\"\n",
    )
    .unwrap();
    let reference = reference();
    let expected = &reference["datasets"]["fortunes_intl"];
    let report = profile_json(&[
        &repo_str("sample-data/fortunes_intl.parquet"),
        "--pipeline",
        pipeline.to_str().unwrap(),
    ]);
    check_against_reference(&report, expected, "nfc");
}

#[test]
fn profile_counts_tokens_with_the_named_tokenizer_or_none() {
    let path = repo_str("sample-data/fortunes_zh.parquet");
    let tokens = crate::loader::token_reference();
    let expected = &tokens["datasets"]["fortunes_zh"]["o200k_base"];
    let report = profile_json(&[&path, "--tokenizer", "o200k_base"]);
    assert_eq!(report["tokens"]["tokenizer"], "o200k_base");
    assert_eq!(
        report["tokens"]["source"]["total"],
        expected["source"]["total"]
    );
    assert_eq!(report["tokens"]["result"]["total"], expected["dedup_exact"]);

    let report = profile_json(&[&path, "--tokenizer", "none"]);
    assert_eq!(report["tokens"], Value::Null);
    for stage in report["stages"].as_array().unwrap() {
        assert_eq!(stage["tokens_out"], Value::Null);
    }
    crate::support::assert_error(
        &crate::support::prepcost(&["profile", &path, "--tokenizer", "bert"]),
        &["unknown tokenizer 'bert'"],
    );
}
