//! `profile` on the shared datasets (`../shared/datasets`): results against the independent
//! reference, storage against the Parquet footer facts, and clean failures on every corrupt
//! file. Skipped with a notice when the datasets are absent.

use serde_json::Value;

use crate::sample_data::check_against_reference;
use crate::support::{Run, assert_error, datasets, prepcost, profile_json, repo};

#[test]
fn every_text_dataset_matches_the_reference_and_its_facts() {
    let Some(root) = datasets("every_text_dataset_matches_the_reference_and_its_facts") else {
        return;
    };
    let text = std::fs::read_to_string(repo("tests/reference/text_datasets.json")).unwrap();
    let reference: Value = serde_json::from_str(&text).unwrap();
    for (name, expected) in reference["datasets"].as_object().unwrap() {
        let path = root.join("text").join(expected["path"].as_str().unwrap());
        let column = expected["text_column"].as_str().unwrap();
        let report = profile_json(&[path.to_str().unwrap(), "--text-column", column]);
        check_against_reference(&report, expected, "nfkc");

        // The footer figures as the dataset's own facts (computed with DuckDB and pyarrow) say.
        let facts: Value = serde_json::from_str(
            &std::fs::read_to_string(root.join("text").join(format!("{name}.facts.json"))).unwrap(),
        )
        .unwrap();
        let storage = &report["storage"];
        assert_eq!(storage["rows"], facts["rows"], "{name}");
        assert_eq!(storage["row_groups"], facts["total_row_groups"], "{name}");
        assert_eq!(storage["file_bytes"], facts["total_file_bytes"], "{name}");
        assert_eq!(
            storage["compressed_bytes"], facts["total_column_chunks_compressed_bytes"],
            "{name}"
        );
        assert_eq!(
            storage["uncompressed_bytes"], facts["total_column_chunks_uncompressed_bytes"],
            "{name}"
        );
        for column in storage["columns"].as_array().unwrap() {
            let fact = &facts["columns"][column["name"].as_str().unwrap()];
            assert_eq!(
                column["compressed_bytes"], fact["compressed_bytes"],
                "{name}"
            );
            assert_eq!(
                column["uncompressed_bytes"], fact["uncompressed_bytes"],
                "{name}"
            );
            assert_eq!(column["codecs"], fact["compression"], "{name}");
        }
    }
}

/// What reading a file of `bad_data/` must give.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    /// arrow-rs refuses its footer.
    Footer,
    /// Its footer claims what no file can hold.
    Implausible,
    /// A data page fails to decode: the error names the row group.
    Decode,
    /// The file is valid (pyarrow and DuckDB read it too).
    Reads,
}

/// Every file of `bad_data/`: its string column, when it has one (then `profile` reads it,
/// every column of every row group), and what reading its data gives. Files without a string
/// column are read by `inspect --what-if`, which decodes their row groups (all of them: none
/// has more than the eight it samples).
const BAD_DATA: [(&str, Option<&str>, Outcome); 8] = [
    ("ARROW-GH-41317.parquet", Some("string"), Outcome::Footer),
    ("ARROW-GH-41321.parquet", Some("string"), Outcome::Decode),
    ("ARROW-GH-43605.parquet", None, Outcome::Reads),
    ("ARROW-GH-45185.parquet", None, Outcome::Decode),
    ("ARROW-GH-47662.parquet", None, Outcome::Decode),
    (
        "ARROW-RS-GH-6229-DICTHEADER.parquet",
        None,
        Outcome::Implausible,
    ),
    ("ARROW-RS-GH-6229-LEVELS.parquet", None, Outcome::Decode),
    ("PARQUET-1481.parquet", None, Outcome::Footer),
];

#[test]
fn every_corrupt_file_fails_with_one_line() {
    let Some(root) = datasets("every_corrupt_file_fails_with_one_line") else {
        return;
    };
    let dir = root.join("parquet-testing/bad_data");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "parquet") {
            continue;
        }
        seen += 1;
        let name = path.file_name().unwrap().to_str().unwrap();
        let path = path.to_str().unwrap();
        let (_, column, outcome) = BAD_DATA
            .iter()
            .find(|(file, _, _)| *file == name)
            .unwrap_or_else(|| panic!("{name} is not in BAD_DATA"));
        let run = match column {
            Some(column) => prepcost(&[
                "profile",
                path,
                "--text-column",
                column,
                "--tokenizer",
                "none",
            ]),
            None => prepcost(&[
                "inspect",
                path,
                "--what-if",
                "--min-decode-mb-per-s",
                "0",
                "--format",
                "json",
            ]),
        };
        check(name, *outcome, &run, |report| {
            assert_eq!(report["totals"]["rows"], 21_186, "{name}");
            assert_eq!(report["recommendation"]["sample"]["rows"], 21_186, "{name}");
        });
        // The loader decodes every row group too, and loses no row quietly.
        let run = prepcost(&[
            "loader",
            path,
            "--tokenizer",
            "none",
            "--workers",
            "1",
            "--format",
            "json",
        ]);
        check(name, *outcome, &run, |report| {
            assert_eq!(report["loader"]["rows"], 21_186, "{name}");
        });
    }
    assert_eq!(seen, BAD_DATA.len(), "every bad_data file is covered");
}

/// Asserts that `run` gave what reading `name` must give; `valid` checks a report.
fn check(name: &str, outcome: Outcome, run: &Run, valid: impl Fn(&Value)) {
    match outcome {
        Outcome::Footer => assert_error(run, &[name, "unreadable Parquet footer"]),
        Outcome::Implausible => assert_error(run, &[name, "implausible Parquet footer"]),
        Outcome::Decode => {
            assert_error(run, &[name, "row group 0"]);
            assert!(!run.stderr.contains("column '"), "{name}: {}", run.stderr);
        }
        Outcome::Reads => {
            assert_eq!(run.code, 0, "{name}: {}", run.stderr);
            valid(&serde_json::from_str(&run.stdout).unwrap());
        }
    }
}

/// Files no reader reads — not even pyarrow their footer — whose footer prepcost reads, and
/// why that is right: `inspect` reports footers, and these footers are sound.
const FOOTER_READ_WHERE_PYARROW_FAILS: [(&str, &str); 3] = [
    (
        "parquet-testing/data/encrypt_columns_plaintext_footer.parquet.encrypted",
        "a plaintext footer; pyarrow aborts without the column keys",
    ),
    (
        "parquet-testing/data/aes256/encrypt_columns_plaintext_footer.parquet.encrypted",
        "a plaintext footer; pyarrow aborts without the column keys",
    ),
    (
        "parquet-realworld/encryption/encrypted_column.parquet",
        "a plaintext footer; pyarrow aborts without the column keys",
    ),
];

#[test]
fn inspect_agrees_with_pyarrow_on_every_footer_and_fails_cleanly_on_the_rest() {
    let test = "inspect_agrees_with_pyarrow_on_every_footer_and_fails_cleanly_on_the_rest";
    let Some(root) = datasets(test) else {
        return;
    };
    let (mut agreed, mut refused) = (0, 0);
    for corpus in ["parquet-testing", "parquet-realworld"] {
        let facts = std::fs::read_to_string(root.join(format!("{corpus}.facts.json"))).unwrap();
        let facts: Value = serde_json::from_str(&facts).unwrap();
        for file in facts["files"].as_array().unwrap() {
            let name = file["path"].as_str().unwrap();
            if name.starts_with("parquet-testing/bad_data/") {
                continue; // covered file by file above
            }
            let run = prepcost(&[
                "inspect",
                root.join(name).to_str().unwrap(),
                "--format",
                "json",
            ]);
            let meta = &file["pyarrow_metadata"];
            let rows = fully_read_rows(file);
            if rows.is_none() && run.code != 0 {
                assert_error(&run, &[name]);
                refused += 1;
                continue;
            }
            assert_eq!(run.code, 0, "{name}: {}", run.stderr);
            let report: Value = serde_json::from_str(&run.stdout).unwrap();
            let totals = &report["totals"];
            assert_eq!(totals["file_bytes"], file["size_bytes"], "{name}");
            if let Some(rows) = rows {
                assert_eq!(totals["rows"], rows, "{name}");
            }
            if meta["ok"] == true {
                assert!(
                    rows.is_some() || totals["rows"] == meta["num_rows"],
                    "{name}"
                );
                assert_eq!(totals["row_groups"], meta["num_row_groups"], "{name}");
                let columns = report["columns"].as_array().unwrap().len();
                assert_eq!(columns, meta["num_leaf_columns"], "{name}");
            } else {
                let known = FOOTER_READ_WHERE_PYARROW_FAILS
                    .iter()
                    .any(|(f, _)| *f == name);
                assert!(
                    known || rows.is_some(),
                    "{name}: read, though pyarrow fails"
                );
            }
            agreed += 1;
        }
    }
    eprintln!("{test}: {agreed} files read and agreeing, {refused} refused with one line");
}

/// The rows pyarrow's or DuckDB's full read of a file gives; `None` when neither reads it.
fn fully_read_rows(file: &Value) -> Option<u64> {
    [&file["pyarrow_full_read"], &file["duckdb_full_read"]]
        .into_iter()
        .find(|read| read["ok"] == true)
        .and_then(|read| read["rows_read"].as_u64())
}
