//! Helpers shared by the integration tests: running the binary, locating data, writing
//! small Parquet files.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use prepcost::config::{ProfileConfig, ProfileRequest};
use prepcost::model::ProfileReport;
use prepcost::util::progress::Progress;
use serde_json::Value;

/// What a run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `prepcost` with `args`, with no PREPCOST_* settings from the environment.
pub fn prepcost(args: &[&str]) -> Run {
    prepcost_env(args, &[])
}

/// Runs `prepcost` with `args` and the environment variables `env`, in a [`command`].
pub fn prepcost_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = command(env!("CARGO_BIN_EXE_prepcost"));
    command.args(args);
    command.envs(env.iter().copied());
    run_to_end(command)
}

/// Runs `command` to its end; what it did.
pub fn run_to_end(mut command: Command) -> Run {
    let out = command.output().expect("the prepcost binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A command for `program` without the PREPCOST_*, object-store (AWS_*, AZURE_*, GOOGLE_*,
/// HF_*) and RUST_LOG settings of the test's environment: prepcost's stderr then holds only
/// what it says itself.
pub fn command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    for (key, _) in std::env::vars() {
        if ["PREPCOST_", "AWS_", "AZURE_", "GOOGLE_", "HF_"]
            .iter()
            .any(|p| key.starts_with(p))
            || key == "RUST_LOG"
        {
            command.env_remove(key);
        }
    }
    command
}

/// Runs `prepcost profile … --format json`, asserts success, returns the report.
pub fn profile_json(args: &[&str]) -> Value {
    let mut all = vec!["profile"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let run = prepcost(&all);
    assert_eq!(run.code, 0, "prepcost {all:?} failed: {}", run.stderr);
    assert_eq!(run.stderr, "", "nothing on stderr when not a terminal");
    serde_json::from_str(&run.stdout).expect("stdout is one JSON object")
}

/// Asserts that a run failed with exit code 2 and exactly one line on stderr that contains
/// every one of `needles`, and nothing on stdout.
pub fn assert_error(run: &Run, needles: &[&str]) {
    assert_eq!(run.code, 2, "exit code; stderr: {}", run.stderr);
    assert_eq!(run.stdout, "", "no partial output on stdout");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got: {}", run.stderr);
    assert!(lines[0].starts_with("prepcost: error: "), "{}", lines[0]);
    for needle in needles {
        assert!(lines[0].contains(needle), "'{needle}' not in: {}", lines[0]);
    }
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

/// A path inside the repository.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A path inside the repository, as a string.
pub fn repo_str(path: &str) -> String {
    repo(path).to_str().expect("UTF-8 path").to_string()
}

/// The shared datasets (`PREPCOST_DATASETS`, default `../shared/datasets`), or `None` with a
/// printed notice when they are absent. With `PREPCOST_REQUIRE_DATASETS=1` (set by `.ci/run`)
/// their absence fails the test instead.
pub fn datasets(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("PREPCOST_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo("../shared/datasets"));
    if dir.join("text").is_dir() {
        return Some(dir);
    }
    if std::env::var("PREPCOST_REQUIRE_DATASETS").is_ok_and(|v| v == "1") {
        panic!("{test}: shared datasets not found at {}", dir.display());
    }
    eprintln!(
        "SKIPPED {test}: shared datasets not found at {} (set PREPCOST_DATASETS)",
        dir.display()
    );
    None
}

/// Says why a test skips a check, or fails it instead when `.ci/run` requires every check to
/// run (`PREPCOST_REQUIRE_DATASETS=1`).
pub fn skip(test: &str, why: &str) {
    if std::env::var("PREPCOST_REQUIRE_DATASETS").is_ok_and(|v| v == "1") {
        panic!("{test}: {why}, and .ci/run requires it");
    }
    eprintln!("SKIPPED {test}: {why}");
}

/// Writes `batches` to a Parquet file at `path`.
pub fn write_parquet(path: &Path, batches: &[RecordBatch]) {
    let file = std::fs::File::create(path).unwrap();
    let mut writer = ArrowWriter::try_new(file, batches[0].schema(), None).unwrap();
    for batch in batches {
        writer.write(batch).unwrap();
    }
    writer.close().unwrap();
}

/// A batch with an Int64 `id` column and a nullable Utf8 column `text_column`.
pub fn text_batch(text_column: &str, ids: &[i64], texts: &[Option<&str>]) -> RecordBatch {
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new(text_column, DataType::Utf8, true),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(ids.to_vec())),
            Arc::new(texts.iter().copied().collect::<StringArray>()),
        ],
    )
    .unwrap()
}

/// Runs `profile` through the library.
pub async fn profile(request: ProfileRequest) -> prepcost::Result<ProfileReport> {
    let config = ProfileConfig::resolve(request)?;
    prepcost::commands::profile::run(&config, &Progress::silent(), None).await
}

/// The `(name, rows_out, text_bytes_out)` of every stage.
pub fn stage_rows(report: &ProfileReport) -> Vec<(String, u64, u64)> {
    report
        .stages
        .iter()
        .map(|s| (s.name.clone(), s.rows_out, s.text_bytes_out))
        .collect()
}

/// Every row of a Parquet dataset directory (its `.parquet` files in name order) rendered as
/// text lines.
pub fn read_rows(dir: &Path) -> Vec<String> {
    use datafusion::arrow::util::display::array_value_to_string;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    files.sort();
    let mut rows = Vec::new();
    for file in files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(file).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            for row in 0..batch.num_rows() {
                let cells: Vec<String> = batch
                    .columns()
                    .iter()
                    .map(|c| array_value_to_string(c, row).unwrap())
                    .collect();
                rows.push(cells.join("\u{1f}"));
            }
        }
    }
    rows
}

/// A port nothing listens on now; another test may take it before the caller binds it, so a
/// server started on it goes through [`on_free_ports`]. (The cluster tests use it for a port
/// no scheduler listens on.)
#[cfg(feature = "ballista")]
pub fn free_port() -> u16 {
    free_ports(1)[0]
}

/// `n` distinct ports nothing listens on now.
fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<_> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

/// Starts a server with `n` ports that were free: `start` returns `Err` when the server
/// could not listen (a port was taken in between, by another test), and is tried again with
/// other ports, up to five times.
pub fn on_free_ports<T>(n: usize, mut start: impl FnMut(&[u16]) -> Result<T, String>) -> T {
    let mut failures = Vec::new();
    for _ in 0..5 {
        match start(&free_ports(n)) {
            Ok(started) => return started,
            Err(e) => failures.push(e),
        }
    }
    panic!("no server started on free ports in five tries: {failures:#?}");
}

/// Runs a Python check of `tests/reference/` with `args`, in the repository, and returns what it
/// printed; `None` (with a notice, or a failure when `.ci/run` requires it) without a Python
/// that has pyarrow and numpy (`PREPCOST_PYTHON`). The check failing fails the test.
pub fn reference_check(test: &str, script: &str, args: &[&str]) -> Option<String> {
    let Some(python) = std::env::var_os("PREPCOST_PYTHON") else {
        skip(
            test,
            "PREPCOST_PYTHON (a Python with pyarrow and numpy) is not set",
        );
        return None;
    };
    let out = command(python)
        .current_dir(repo(""))
        .arg(format!("tests/reference/{script}"))
        .args(args)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script}: {said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(said)
}
