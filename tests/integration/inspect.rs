//! `prepcost inspect`: footer figures against an independent reader, errors, skipping,
//! projection, the what-if, and reading nothing but footers.

use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::parsers::CompressionTypeVariant;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use prepcost::config::{InspectConfig, InspectRequest};
use prepcost::source::OnError;
use serde_json::Value;

use crate::support::{assert_error, datasets, prepcost, repo_str};

fn inspect_json(args: &[&str]) -> Value {
    let mut all = vec!["inspect"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let run = prepcost(&all);
    assert_eq!(run.code, 0, "prepcost {all:?} failed: {}", run.stderr);
    serde_json::from_str(&run.stdout).expect("stdout is one JSON object")
}

/// Files whose footer's `num_rows` is not their rows: parquet-rs 0.3 wrote 0. pyarrow's footer
/// reference says 0; its full read (and DuckDB's) returns the row groups' rows, as prepcost does.
const ROWS_FROM_ROW_GROUPS: [(&str, u64); 1] = [("repeated_no_annotation.parquet", 6)];

/// Files whose footers arrow-rs refuses and prepcost reads tolerantly, with the warning's words.
const READ_TOLERANTLY: [(&str, &str); 1] = [(
    // Dremio wrote a list as ColumnMetaData field 15 (an i32): Thrift readers skip it.
    "dict-page-offset-zero.parquet",
    "ColumnMetaData field 15: a list where the format has an i32",
)];

/// The report of a file pyarrow cannot read, against what is known of it: a plaintext footer
/// (its column metadata encrypted, parquet-mr's test data: 50 rows, 8 columns) and the map
/// whose keys are not annotated required (DuckDB reads its 1 row).
fn assert_read_without_pyarrow(name: &str, file: &Value) {
    let columns: Vec<&str> = file["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    // The aes256 copy's int64_field is a list.
    const PLAINTEXT_FOOTER: [&str; 8] = [
        "boolean_field",
        "int32_field",
        "int64_field",
        "int96_field",
        "float_field",
        "double_field",
        "ba_field",
        "flba_field",
    ];
    const MAP: [&str; 2] = ["my_map.key_value.key", "my_map.key_value.value"];
    let mut plaintext = PLAINTEXT_FOOTER.map(String::from);
    if name.starts_with("aes256/") {
        plaintext[2] = "int64_field.list.element".into();
    }
    let plaintext: Vec<&str> = plaintext.iter().map(String::as_str).collect();
    let (rows, expected_columns): (u64, &[&str]) = if name.contains("plaintext_footer") {
        (50, &plaintext)
    } else if name == "incorrect_map_schema.parquet" {
        (1, &MAP)
    } else {
        panic!("{name}: read, though pyarrow cannot: nothing says what it holds");
    };
    assert_eq!(file["rows"], rows, "{name}: rows");
    assert_eq!(file["row_groups"], 1, "{name}: row groups");
    assert_eq!(columns, expected_columns, "{name}: columns");
}

#[test]
fn every_parquet_testing_file_matches_pyarrow_or_fails_clearly() {
    let Some(root) = datasets("every_parquet_testing_file_matches_pyarrow_or_fails_clearly") else {
        return;
    };
    let data = root.join("parquet-testing/data");
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_str("tests/reference/parquet_testing_footers.json")).unwrap(),
    )
    .unwrap();
    let files = reference["files"].as_object().unwrap();
    assert!(files.len() >= 80, "the reference covers the corpus");
    let mut matched = 0;
    let mut refused_names: Vec<&str> = Vec::new();
    for (name, expected) in files {
        let path = data.join(name);
        let path = path.to_str().unwrap();
        let run = prepcost(&["inspect", path, "--format", "json"]);
        if expected["encrypted"] == true || expected.get("error").is_some() {
            // Neither pyarrow nor (but for one) DuckDB reads these: encrypted footers are
            // refused in one line; what prepcost reads is checked against what is known.
            if run.code != 0 {
                assert_error(&run, &[name, "encrypted Parquet file"]);
                refused_names.push(name.as_str());
            } else {
                let report: Value = serde_json::from_str(&run.stdout).unwrap();
                assert_read_without_pyarrow(name, &report["files"][0]);
            }
            continue;
        }
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        let report: Value = serde_json::from_str(&run.stdout).unwrap();
        let file = &report["files"][0];
        let rows = match ROWS_FROM_ROW_GROUPS.iter().find(|(f, _)| f == name) {
            Some((_, rows)) => Value::from(*rows),
            None => expected["rows"].clone(),
        };
        if let Some((_, words)) = READ_TOLERANTLY.iter().find(|(f, _)| f == name) {
            let warning = report["warnings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|w| w["kind"] == "footer_repaired");
            let message = warning.expect("a footer_repaired warning")["message"].as_str();
            assert!(message.unwrap().contains(words), "{name}: {message:?}");
        }
        assert_eq!(file["rows"], rows, "{name}: rows");
        assert_eq!(
            file["row_groups"], expected["row_groups"],
            "{name}: row groups"
        );
        assert_eq!(report["totals"]["rows"], rows, "{name}: total rows");
        let columns = file["columns"].as_array().unwrap();
        let expected_columns = expected["columns"].as_object().unwrap();
        assert_eq!(
            columns.len(),
            expected_columns.len(),
            "{name}: leaf columns"
        );
        for column in columns {
            let path = column["path"].as_str().unwrap();
            let want = &expected_columns[path];
            for key in ["physical_type", "compressed_bytes", "uncompressed_bytes"] {
                assert_eq!(column[key], want[key], "{name}: {path}: {key}");
            }
        }
        let sum = |key: &str| -> u64 {
            expected_columns
                .values()
                .map(|c| c[key].as_u64().unwrap())
                .sum()
        };
        assert_eq!(file["compressed_bytes"], sum("compressed_bytes"), "{name}");
        assert_eq!(
            file["uncompressed_bytes"],
            sum("uncompressed_bytes"),
            "{name}"
        );
        matched += 1;
    }
    // Every encrypted file whose footer is encrypted, and nothing else.
    let mut expected_refused: Vec<&str> = files
        .iter()
        .filter(|(name, f)| f["encrypted"] == true && !name.contains("plaintext_footer"))
        .map(|(name, _)| name.as_str())
        .collect();
    expected_refused.sort();
    refused_names.sort();
    assert_eq!(refused_names, expected_refused, "the files refused");
    assert_eq!(refused_names.len(), 11);
    eprintln!(
        "parquet-testing: {matched} files match pyarrow, {} refused clearly",
        refused_names.len()
    );
    assert!(matched >= 70, "{matched} files matched");
}

#[test]
fn corrupt_files_fail_with_one_line_and_are_skipped_on_request() {
    // Footer corruption fails inspect itself; page corruption fails the what-if, which
    // decodes the data. Nothing panics.
    let fixtures = [
        ("PARQUET-1481.parquet", false),
        ("ARROW-GH-41321.parquet", true),
        ("ARROW-RS-GH-6229-DICTHEADER.parquet", false),
        ("rle_malicious_bitwidth.parquet", true),
        ("invalid_utf8_dlba.parquet", true),
    ];
    for (file, footer_is_fine) in fixtures {
        let path = repo_str(&format!("tests/fixtures/bad_data/{file}"));
        let run = prepcost(&["inspect", &path]);
        if footer_is_fine {
            assert_eq!(run.code, 0, "{file}: {}", run.stderr);
            let run = prepcost(&["inspect", &path, "--what-if", "--sample-row-groups", "64"]);
            if run.code != 0 {
                assert_error(&run, &[file]);
            }
        } else {
            assert_error(&run, &[file]);
        }
    }

    // A directory with good and bad files: fail by default, skip on request.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo_str("sample-data/fortunes_zh.parquet"),
        dir.path().join("a.parquet"),
    )
    .unwrap();
    std::fs::copy(
        repo_str("tests/fixtures/bad_data/PARQUET-1481.parquet"),
        dir.path().join("b.parquet"),
    )
    .unwrap();
    std::fs::write(dir.path().join("c.parquet"), b"not parquet at all").unwrap();
    let source = dir.path().to_str().unwrap();
    assert_error(&prepcost(&["inspect", source]), &["b.parquet"]);
    let report = inspect_json(&[source, "--on-error", "skip"]);
    assert_eq!(report["totals"]["files"], 1);
    let skipped = report["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 2);
    assert!(skipped[0]["path"].as_str().unwrap().ends_with("b.parquet"));
    assert!(skipped[1]["path"].as_str().unwrap().ends_with("c.parquet"));
    assert!(
        skipped[1]["reason"]
            .as_str()
            .unwrap()
            .contains("not a Parquet file")
    );
    // Nothing readable at all is still an error.
    std::fs::remove_file(dir.path().join("a.parquet")).unwrap();
    assert_error(
        &prepcost(&["inspect", source, "--on-error", "skip"]),
        &["none of its 2 files is readable"],
    );
}

#[test]
fn every_bad_data_file_gives_a_clear_error() {
    let Some(root) = datasets("every_bad_data_file_gives_a_clear_error") else {
        return;
    };
    for entry in std::fs::read_dir(root.join("parquet-testing/bad_data")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let path = path.to_str().unwrap();
        // Footers only: a clear error when the footer is corrupt, a report when only the
        // pages are; decoding the pages (the what-if) finds the rest.
        let run = prepcost(&["inspect", path]);
        if run.code != 0 {
            assert_error(&run, &[&name]);
            assert!(!run.stderr.contains("internal error"), "{}", run.stderr);
            continue;
        }
        let run = prepcost(&["inspect", path, "--what-if", "--sample-row-groups", "64"]);
        if name == DECODABLE_BAD_DATA {
            assert_eq!(run.code, 0, "{name}: {}", run.stderr);
            continue;
        }
        assert_error(&run, &[&name]);
    }
}

/// In bad_data/ for an old Arrow C++ bug (a dictionary-index page with RLE bit width 0), but
/// a valid file: arrow-rs and current pyarrow both decode its 21,186 rows.
const DECODABLE_BAD_DATA: &str = "ARROW-GH-43605.parquet";

#[test]
fn the_json_contract() {
    let report = inspect_json(&[&repo_str("sample-data/en_prose"), "--columns", "text,id"]);
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["command"], "inspect");
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    for file in files {
        for key in [
            "path",
            "rows",
            "row_groups",
            "compressed_bytes",
            "uncompressed_bytes",
        ] {
            assert!(!file[key].is_null(), "files[].{key}");
        }
        for column in file["columns"].as_array().unwrap() {
            for key in [
                "path",
                "physical_type",
                "compressed_bytes",
                "uncompressed_bytes",
                "codec",
                "encodings",
                "null_count",
            ] {
                assert!(column.get(key).is_some(), "files[].columns[].{key}");
            }
        }
    }
    let totals = &report["totals"];
    let sum = |key: &str| files.iter().map(|f| f[key].as_u64().unwrap()).sum::<u64>();
    for key in [
        "rows",
        "row_groups",
        "compressed_bytes",
        "uncompressed_bytes",
    ] {
        assert_eq!(totals[key], sum(key), "totals.{key}");
    }
    assert_eq!(totals["rows"], 30_000);
    assert!(report["skipped"].as_array().unwrap().is_empty());
    assert!(report.get("what_if").is_none(), "what_if only when asked");
    // The projection: text and id, a share of all column bytes.
    let projection = &report["projection"];
    let columns = report["columns"].as_array().unwrap();
    let bytes_of = |name: &str| {
        columns.iter().find(|c| c["path"] == name).unwrap()["compressed_bytes"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        projection["compressed_bytes"].as_u64().unwrap(),
        bytes_of("text") + bytes_of("id")
    );
    let share = projection["share"].as_f64().unwrap();
    assert!(share > 0.5 && share < 1.0, "{share}");
    // Columns come largest first, and the bill is priced.
    let sizes: Vec<u64> = columns
        .iter()
        .map(|c| c["compressed_bytes"].as_u64().unwrap())
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]));
    assert!(report["cost"]["storage_usd_per_month"].as_f64().unwrap() > 0.0);
}

#[test]
fn bad_inspect_arguments_are_one_line() {
    let source = repo_str("sample-data/fortunes_zh.parquet");
    assert_error(
        &prepcost(&["inspect", &source, "--columns", "text,nope"]),
        &["column 'nope' not found", "its columns are:"],
    );
    assert_error(
        &prepcost(&["inspect", &source, "--sample-size", "1MiB"]),
        &["need --what-if"],
    );
    assert_error(
        &prepcost(&["inspect", &source, "--what-if", "--sample-row-groups", "0"]),
        &["--sample-row-groups must be at least 1"],
    );
    assert_error(
        &prepcost(&["inspect", &source, "--what-if", "--min-decode-mb-per-s=-1"]),
        &["--min-decode-mb-per-s must be zero or more"],
    );
    assert_error(
        &prepcost(&["inspect", "/no/such/dir"]),
        &["no such file or directory"],
    );
}

#[test]
fn the_what_if_measures_every_layout_and_recommends_one() {
    // Any decode speed is fast enough: which layouts meet a speed depends on the machine's load.
    let source = repo_str("sample-data/fortunes_zh.parquet");
    let args = [source.as_str(), "--what-if", "--min-decode-mb-per-s=0"];
    let report = inspect_json(&args);
    let layouts = report["what_if"].as_array().unwrap();
    let codecs: Vec<&str> = layouts
        .iter()
        .map(|l| l["codec"].as_str().unwrap())
        .collect();
    for codec in [
        "none",
        "snappy",
        "lz4_raw",
        "gzip(6)",
        "brotli(1)",
        "zstd(1)",
        "zstd(3)",
        "zstd(9)",
        "zstd(19)",
    ] {
        assert_eq!(
            codecs.iter().filter(|c| **c == codec).count(),
            if codec == "zstd(3)" {
                codecs.len() - 16
            } else {
                2
            },
            "{codec}: dictionary on and off"
        );
    }
    let today = report["totals"]["storage_usd_per_month"].as_f64().unwrap();
    for l in layouts {
        let ratio = l["size_ratio"].as_f64().unwrap();
        let projected = l["projected_usd_per_month"].as_f64().unwrap();
        assert!((projected - today * ratio).abs() < 1e-12);
        assert!(l["bytes"].as_u64().unwrap() > 0);
        assert!(l["decode_mb_per_s"].as_f64().unwrap() > 0.0);
    }
    // Uncompressed is never smaller than zstd(19) on text.
    let bytes = |codec: &str| {
        layouts
            .iter()
            .filter(|l| l["codec"] == codec)
            .map(|l| l["bytes"].as_u64().unwrap())
            .min()
            .unwrap()
    };
    assert!(bytes("none") > bytes("zstd(19)"));
    // The recommendation is the smallest layout that decodes fast enough.
    let recommended = &report["recommendation"];
    assert!(layouts.iter().all(|l| l["fast_enough"] == true));
    let best = layouts
        .iter()
        .map(|l| l["bytes"].as_u64().unwrap())
        .min()
        .unwrap();
    let chosen = layouts
        .iter()
        .find(|l| l["name"] == recommended["layout"])
        .unwrap();
    assert_eq!(chosen["bytes"].as_u64().unwrap(), best);
    assert_eq!(recommended["sample"]["rows"], report["totals"]["rows"]);

    // The same sample every run.
    let again = inspect_json(&args);
    let sizes = |r: &Value| -> Vec<u64> {
        r["what_if"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["bytes"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(sizes(&report), sizes(&again));
}

#[tokio::test]
async fn a_thousand_files_are_inspected_from_their_footers_alone() {
    let dir = tempfile::tempdir().unwrap();
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("text", DataType::Utf8, false),
    ]));
    // Incompressible text, stored uncompressed: about 200 KiB per file.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let properties = WriterProperties::builder()
        .set_compression(Compression::UNCOMPRESSED)
        .set_dictionary_enabled(false)
        .build();
    for f in 0..1000 {
        let ids: Vec<i64> = (0..100).map(|i| f * 100 + i).collect();
        let texts: Vec<String> = (0..100)
            .map(|_| {
                (0..256)
                    .map(|_| format!("{:016x}", next()))
                    .collect::<String>()[..2000]
                    .to_string()
            })
            .collect();
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int64Array::from(ids)),
                Arc::new(StringArray::from(texts)),
            ],
        )
        .unwrap();
        let file = std::fs::File::create(dir.path().join(format!("part-{f:04}.parquet"))).unwrap();
        let mut writer =
            ArrowWriter::try_new(file, Arc::clone(&schema), Some(properties.clone())).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
    }
    let config = InspectConfig::resolve(InspectRequest {
        source: dir.path().to_str().unwrap().to_string(),
        on_error: OnError::Fail,
        ..InspectRequest::default()
    })
    .unwrap();
    let report = prepcost::commands::inspect::run(&config, None)
        .await
        .unwrap();
    assert_eq!(report.totals.files, 1000);
    assert_eq!(report.totals.rows, 100_000);
    let requests = &report.requests;
    let data_bytes = report.totals.file_bytes;
    eprintln!(
        "inspect of 1,000 files: {} GETs, {} LIST, {} of {} bytes read ({:.2}%)",
        requests.get,
        requests.list,
        requests.bytes_in,
        data_bytes,
        100.0 * requests.bytes_in as f64 / data_bytes as f64
    );
    assert_eq!(requests.list, 1);
    assert_eq!(requests.head, 0, "sizes come from the listing");
    assert_eq!(requests.get, 1000, "one read per footer");
    assert_eq!(requests.ranged_get, 1000);
    assert!(
        requests.bytes_in * 10 < data_bytes,
        "footers only: {} of {data_bytes} bytes",
        requests.bytes_in
    );
    assert_eq!(requests.put + requests.delete + requests.copy, 0);
}

/// Writes sample-data/fortunes_zh.parquet as JSONL or CSV, compressed or not, with
/// DataFusion's writers; returns the bytes written and the file's rows.
pub(crate) async fn fortunes_zh_as(
    path: &std::path::Path,
    compression: CompressionTypeVariant,
) -> u64 {
    use datafusion::config::{CsvOptions, JsonOptions};
    use datafusion::dataframe::DataFrameWriteOptions;
    use datafusion::prelude::{ParquetReadOptions, SessionContext};
    let ctx = SessionContext::new();
    let df = ctx
        .read_parquet(
            repo_str("sample-data/fortunes_zh.parquet"),
            ParquetReadOptions::default(),
        )
        .await
        .unwrap();
    let rows = df.clone().count().await.unwrap() as u64;
    let target = path.to_str().unwrap();
    let single = DataFrameWriteOptions::new().with_single_file_output(true);
    if target.contains(".jsonl") {
        let options = JsonOptions {
            compression,
            ..JsonOptions::default()
        };
        df.write_json(target, single, Some(options)).await.unwrap();
    } else {
        let options = CsvOptions::default()
            .with_compression(compression)
            .with_has_header(true);
        df.write_csv(target, single, Some(options)).await.unwrap();
    }
    assert!(path.is_file(), "{target} written as one file");
    rows
}

#[tokio::test]
async fn jsonl_and_csv_sources_report_rows_columns_and_the_parquet_estimate() {
    use CompressionTypeVariant::{GZIP, UNCOMPRESSED, ZSTD};
    let dir = tempfile::tempdir().unwrap();
    let plain_size = |name: &str| std::fs::metadata(dir.path().join(name)).unwrap().len();
    let files = [
        ("zh.jsonl", UNCOMPRESSED, "jsonl", "none", "zh.jsonl"),
        ("zh.jsonl.zst", ZSTD, "jsonl", "zstd", "zh.jsonl"),
        ("zh.csv", UNCOMPRESSED, "csv", "none", "zh.csv"),
        ("zh.csv.gz", GZIP, "csv", "gzip", "zh.csv"),
    ];
    for (name, compression, format, compression_name, plain) in files {
        let path = dir.path().join(name);
        let rows = fortunes_zh_as(&path, compression).await;
        let report = inspect_json(&[path.to_str().unwrap()]);
        assert_eq!(report["source"]["format"], format, "{name}");
        let text = &report["source"]["text_files"];
        assert_eq!(text["compression"], compression_name, "{name}");
        assert_eq!(text["rows"], rows, "{name}");
        assert_eq!(report["totals"]["rows"], rows, "{name}");
        assert_eq!(report["totals"]["file_bytes"], plain_size(name), "{name}");
        assert_eq!(text["decompressed_bytes"], plain_size(plain), "{name}");
        let columns: Vec<&str> = text["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert!(
            columns.contains(&"text") && columns.contains(&"id"),
            "{name}: {columns:?}"
        );
        // What Parquet would take, measured without --what-if; the table only with it.
        let estimate = &report["recommendation"];
        assert!(
            estimate["layout"].as_str().unwrap().starts_with("zstd(3)"),
            "{name}"
        );
        assert_eq!(estimate["sample"]["rows"], rows, "{name}");
        assert!(report.get("what_if").is_none());
        if compression == UNCOMPRESSED {
            assert!(estimate["size_ratio"].as_f64().unwrap() < 0.5, "{name}");
        }
        let warnings = report["warnings"].as_array().unwrap();
        assert!(warnings.iter().any(|w| w["kind"] == "row_format"));
    }
    let rows = fortunes_zh_as(&dir.path().join("again.jsonl"), UNCOMPRESSED).await;
    std::fs::remove_file(dir.path().join("again.jsonl")).unwrap();
    let with_grid = inspect_json(&[dir.path().join("zh.csv").to_str().unwrap(), "--what-if"]);
    assert_eq!(with_grid["what_if"].as_array().unwrap().len(), 18);

    // A directory of them; a corrupt one fails the run, or is skipped on request.
    assert_error(
        &prepcost(&["inspect", dir.path().to_str().unwrap(), "--columns", "text"]),
        &["--columns needs a Parquet source"],
    );
    std::fs::write(dir.path().join("broken.csv.gz"), b"\x1f\x8b\x08\x00garbage").unwrap();
    assert_error(
        &prepcost(&["inspect", dir.path().to_str().unwrap()]),
        &["broken.csv.gz", "reading it as gzip csv"],
    );
    let report = inspect_json(&[dir.path().to_str().unwrap(), "--on-error", "skip"]);
    assert_eq!(report["totals"]["files"], 2, "the two CSV files");
    assert_eq!(report["totals"]["rows"], 2 * rows);
    assert!(
        report["skipped"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with("broken.csv.gz")
    );
    // An unterminated quote is an error, not a miscount.
    let bad = dir.path().join("open.csv");
    std::fs::write(&bad, b"a,b\n1,\"never closed\n").unwrap();
    assert_error(
        &prepcost(&["inspect", bad.to_str().unwrap()]),
        &["open.csv", "ends inside a quoted CSV field"],
    );
}

/// Writes one Parquet file of `batch` with `properties` to `path`.
fn write_with(path: &std::path::Path, batch: &RecordBatch, properties: WriterProperties) {
    let file = std::fs::File::create(path).unwrap();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(properties)).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
}

/// `rows` rows: `id`, a `text` of 16 characters a row, and `sparse`, NULL but in every
/// twentieth row; with `extra`, a fourth column.
fn layout_batch(rows: i64, extra: bool) -> RecordBatch {
    let mut fields = vec![
        Field::new("id", DataType::Int64, false),
        Field::new("text", DataType::Utf8, false),
        Field::new("sparse", DataType::Utf8, true),
    ];
    let mut columns: Vec<datafusion::arrow::array::ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(0..rows)),
        Arc::new(StringArray::from_iter_values(
            (0..rows).map(|i| format!("text number {i:04}")),
        )),
        Arc::new(
            (0..rows)
                .map(|i| (i % 20 == 0).then(|| format!("s{i}")))
                .collect::<StringArray>(),
        ),
    ];
    if extra {
        fields.push(Field::new("extra", DataType::Int64, false));
        columns.push(Arc::new(Int64Array::from_iter_values(0..rows)));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
}

#[test]
fn every_kind_of_layout_warning_names_its_files_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    // Three small files of small, uncompressed row groups; the third with an extra column.
    let properties = || {
        WriterProperties::builder()
            .set_compression(Compression::UNCOMPRESSED)
            .set_dictionary_enabled(false)
            .set_max_row_group_row_count(Some(1_000))
            .build()
    };
    for (name, extra) in [("a", false), ("b", false), ("c", true)] {
        let path = dir.path().join(format!("{name}.parquet"));
        write_with(&path, &layout_batch(8_000, extra), properties());
    }
    let report = inspect_json(&[dir.path().to_str().unwrap()]);
    let warnings = report["warnings"].as_array().unwrap();
    let kinds: Vec<&str> = warnings
        .iter()
        .map(|w| w["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "small_row_groups",
            "small_files",
            "uncompressed_columns",
            "mostly_null_columns",
            "schema_mismatch"
        ]
    );
    let of = |kind: &str| warnings.iter().find(|w| w["kind"] == kind).unwrap();
    let names = |w: &Value, key: &str| -> Vec<String> {
        w[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().rsplit('/').next().unwrap().to_string())
            .collect()
    };
    let all = ["a.parquet", "b.parquet", "c.parquet"];
    // Eight row groups a file; the last of each may be a remainder and is not counted.
    assert!(
        of("small_row_groups")["message"]
            .as_str()
            .unwrap()
            .starts_with("21 of 24 row groups are small"),
        "{}",
        of("small_row_groups")["message"]
    );
    assert_eq!(names(of("small_row_groups"), "files"), all);
    assert_eq!(names(of("small_files"), "files"), all);
    // `sparse` and `extra` are uncompressed too, but under 64 KiB: not worth a warning.
    assert_eq!(names(of("uncompressed_columns"), "columns"), ["text", "id"]);
    assert_eq!(names(of("mostly_null_columns"), "columns"), ["sparse"]);
    assert!(
        of("mostly_null_columns")["message"]
            .as_str()
            .unwrap()
            .contains("sparse 95.0%")
    );
    assert_eq!(names(of("schema_mismatch"), "files"), ["c.parquet"]);
    assert!(
        of("schema_mismatch")["message"]
            .as_str()
            .unwrap()
            .contains("with extra extra")
    );
    // The table names each kind too.
    let table = prepcost(&["inspect", dir.path().to_str().unwrap()]);
    for kind in kinds {
        assert!(
            table.stdout.contains(&format!("warning [{kind}]")),
            "{kind}"
        );
    }
}

#[test]
fn statistics_give_each_columns_min_max_and_nulls() {
    let dir = tempfile::tempdir().unwrap();
    let schema = Arc::new(Schema::new(vec![
        Field::new("n", DataType::Int64, true),
        Field::new("s", DataType::Utf8, true),
    ]));
    let files = [
        (
            vec![Some(3), Some(-5), None, Some(7), None],
            vec![Some("b"), None, Some("apple"), Some("c"), Some("b")],
        ),
        (
            vec![Some(10), Some(-9), Some(0)],
            vec![Some("zebra"), Some("b"), None],
        ),
    ];
    for (i, (numbers, strings)) in files.iter().enumerate() {
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int64Array::from(numbers.clone())),
                Arc::new(StringArray::from(strings.clone())),
            ],
        )
        .unwrap();
        let path = dir.path().join(format!("part-{i}.parquet"));
        write_with(&path, &batch, WriterProperties::builder().build());
    }
    let report = inspect_json(&[dir.path().to_str().unwrap()]);
    let column = |columns: &Value, name: &str| -> Value {
        let c = columns
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["path"] == name)
            .unwrap();
        serde_json::json!([c["min"], c["max"], c["null_count"]])
    };
    // The dataset: extremes over both files, NULLs summed.
    let columns = &report["columns"];
    assert_eq!(column(columns, "n"), serde_json::json!(["-9", "10", 2]));
    assert_eq!(
        column(columns, "s"),
        serde_json::json!(["apple", "zebra", 2])
    );
    // Each file: its own.
    let first = &report["files"][0]["columns"];
    assert_eq!(column(first, "n"), serde_json::json!(["-5", "7", 2]));
    assert_eq!(column(first, "s"), serde_json::json!(["apple", "c", 1]));
    let second = &report["files"][1]["columns"];
    assert_eq!(column(second, "n"), serde_json::json!(["-9", "10", 0]));
    assert_eq!(column(second, "s"), serde_json::json!(["b", "zebra", 1]));
    // The statistics table shows them.
    let table = prepcost(&["inspect", dir.path().to_str().unwrap()]).stdout;
    assert!(
        table.contains("apple") && table.contains("zebra"),
        "{table}"
    );
}

#[test]
fn footers_other_readers_accept_are_read_and_implausible_ones_refused() {
    let fixture = |name: &str| repo_str(&format!("tests/fixtures/footers/{name}"));
    // parquet-cpp 1.5.1's converted_type 24 (NULL), refused by arrow-rs, read by pyarrow.
    let report = inspect_json(&[&fixture("empty.parquet")]);
    assert_eq!(report["totals"]["rows"], 0);
    assert_eq!(report["columns"].as_array().unwrap().len(), 2);
    let warning = &report["warnings"].as_array().unwrap()[0];
    assert_eq!(warning["kind"], "footer_repaired");
    let message = warning["message"].as_str().unwrap();
    assert!(
        message.contains("SchemaElement field 6: unknown enum value 24"),
        "{message}"
    );
    // Its pages are read too: the what-if decodes them, the loader streams its 39 rows.
    let zero = fixture("dict-page-offset-zero.parquet");
    let report = inspect_json(&[&zero, "--what-if", "--min-decode-mb-per-s", "0"]);
    assert_eq!(report["totals"]["rows"], 39);
    let run = prepcost(&["loader", &zero, "--tokenizer", "none", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["loader"]["rows"], 39);

    // A footer claiming -1 rows is an error naming the file and the field, or skipped.
    let broken = fixture("fuzzer4362.parquet");
    assert_error(
        &prepcost(&["inspect", &broken]),
        &[
            "fuzzer4362.parquet",
            "implausible Parquet footer: num_rows is -1",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(&broken, dir.path().join("a.parquet")).unwrap();
    std::fs::copy(&zero, dir.path().join("b.parquet")).unwrap();
    let source = dir.path().to_str().unwrap();
    assert_error(
        &prepcost(&["inspect", source]),
        &["a.parquet", "num_rows is -1"],
    );
    let report = inspect_json(&[source, "--on-error", "skip"]);
    assert_eq!(report["totals"]["rows"], 39);
    let skipped = &report["skipped"][0];
    assert!(skipped["path"].as_str().unwrap().ends_with("a.parquet"));
    assert_eq!(
        skipped["reason"],
        "implausible Parquet footer: num_rows is -1"
    );
}

/// The what-if sizes of the reference report against pyarrow writing the same layouts
/// (`tests/reference/whatif_check.py`): each within 3% (they differ in what the two writers
/// add besides the data: statistics, page indexes, metadata; measured within 1%).
#[test]
fn reference_what_if_sizes_agree_with_pyarrow() {
    let args = [
        "--report",
        "tests/reference/reports/inspect_fortunes_intl_what_if.json",
        "--source",
        "sample-data/fortunes_intl.parquet",
    ];
    let test = "reference_what_if_sizes_agree_with_pyarrow";
    if let Some(said) = crate::support::reference_check(test, "whatif_check.py", &args) {
        assert_eq!(said.matches(" ok").count(), 19, "{said}");
    }
}
