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
    ("ARROW-RS-GH-6229-DICTHEADER.parquet", None, Outcome::Decode),
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
