//! `profile` on the shared datasets (`../shared/datasets`): results against the independent
//! reference, storage against the Parquet footer facts, and clean failures on every corrupt
//! file. Skipped with a notice when the datasets are absent.

use serde_json::Value;

use crate::sample_data::check_against_reference;
use crate::support::{assert_error, datasets, prepcost, profile_json, repo};

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

#[test]
fn every_corrupt_file_fails_with_one_line() {
    let Some(root) = datasets("every_corrupt_file_fails_with_one_line") else {
        return;
    };
    // The string column of each file where it has one, so that the scan reaches the data.
    let columns = [
        ("ARROW-GH-41317.parquet", "string"),
        ("ARROW-GH-41321.parquet", "string"),
        ("ARROW-GH-43605.parquet", "min_fl"),
        ("ARROW-GH-45185.parquet", "x"),
        ("ARROW-GH-47662.parquet", "flba_field"),
        ("ARROW-RS-GH-6229-DICTHEADER.parquet", "name"),
        ("ARROW-RS-GH-6229-LEVELS.parquet", "outer"),
        ("PARQUET-1481.parquet", "text"),
    ];
    let dir = root.join("parquet-testing/bad_data");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "parquet") {
            continue;
        }
        seen += 1;
        let name = path.file_name().unwrap().to_str().unwrap();
        let column = columns
            .iter()
            .find(|(f, _)| *f == name)
            .map_or("text", |(_, c)| c);
        for column in [column, "text"] {
            let run = prepcost(&["profile", path.to_str().unwrap(), "--text-column", column]);
            assert_error(&run, &[name]);
        }
    }
    assert_eq!(seen, columns.len(), "every bad_data file is covered");
}
