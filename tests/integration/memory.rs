//! `--memory-limit` holds: on text five times larger than the limit, `profile` with exact
//! and near dedup keeps the rows an unlimited run keeps, spills, and the process's peak
//! resident memory (its own `VmHWM`, which the report gives) stays within the limit plus
//! prepcost's fixed overhead; the loader's shuffle stays within that overhead.
//!
//! The overhead grows with the threads and partitions, which follow the cores prepcost may
//! run on; it was measured on 2 cores, so the runs here are pinned to 2 (their CPU affinity,
//! which the engine, tokio and rayon all size themselves by), whatever the machine has.

use std::fs::File;

use serde_json::Value;

use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::file::properties::WriterProperties;

use crate::support::{Run, command, run_to_end, text_batch};

/// The cores the measured runs may use: those the overhead was measured with.
const CORES: usize = 2;

/// What prepcost holds besides the memory pool: its code and runtime (about 90 MiB on a
/// small file), Parquet readers' buffers and decoded batches in flight. Measured at 74–151
/// MiB (benches/README.md).
pub const FIXED_OVERHEAD: u64 = 160 << 20;

/// Runs prepcost with `args`; its JSON report and its peak resident memory in bytes, as the
/// child read it from its own `/proc/self/status` (the kernel's `ru_maxrss` of a child starts
/// from this test process's peak).
fn run_measured(args: &[&str]) -> (Value, u64) {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--format", "json"]);
    let run = on_cores(&all);
    assert_eq!(run.code, 0, "prepcost {all:?}: {}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let seen = match report["command"].as_str() {
        Some("loader") => &report["run"]["cores"],
        _ => &report["run"]["threads"],
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    assert_eq!(
        seen,
        &Value::from(CORES.min(cores)),
        "the run is pinned to {CORES} cores"
    );
    let peak = match report["command"].as_str() {
        Some("loader") => &report["run"]["peak_rss_bytes"],
        _ => &report["totals"]["peak_rss_bytes"],
    };
    let peak = peak
        .as_u64()
        .unwrap_or_else(|| panic!("peak RSS in {all:?}"));
    (report, peak)
}

/// Runs prepcost with `args` on the first [`CORES`] cores the test may use.
fn on_cores(args: &[&str]) -> Run {
    use std::os::unix::process::CommandExt;
    let mut command = command(env!("CARGO_BIN_EXE_prepcost"));
    command.args(args);
    // SAFETY: the closure runs in the child between fork and exec and only calls
    // sched_getaffinity and sched_setaffinity, which are async-signal-safe system calls.
    unsafe {
        command.pre_exec(|| {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            let size = std::mem::size_of::<libc::cpu_set_t>();
            if libc::sched_getaffinity(0, size, &mut set) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let mut kept: libc::cpu_set_t = std::mem::zeroed();
            let mut n = 0;
            for cpu in 0..libc::CPU_SETSIZE as usize {
                if n < CORES && libc::CPU_ISSET(cpu, &set) {
                    libc::CPU_SET(cpu, &mut kept);
                    n += 1;
                }
            }
            if libc::sched_setaffinity(0, size, &kept) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    run_to_end(command)
}

/// A Parquet file of `rows` English-like texts of about 40 words, one in ten an exact copy
/// of an earlier one and one in twenty a copy with one word changed.
fn corpus(path: &std::path::Path, rows: usize) {
    const WORDS: [&str; 32] = [
        "data", "model", "token", "corpus", "river", "stone", "quiet", "lantern", "orbit",
        "garden", "signal", "copper", "meadow", "vector", "harbor", "ember", "willow", "cipher",
        "summit", "marble", "falcon", "thread", "prism", "canyon", "velvet", "anchor", "breeze",
        "ledger", "nimbus", "quartz", "saddle", "tundra",
    ];
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut texts: Vec<String> = Vec::with_capacity(rows);
    for i in 0..rows {
        let text = match next() % 20 {
            0 | 1 if i > 0 => texts[(next() % i as u64) as usize].clone(),
            2 if i > 0 => {
                let original = &texts[(next() % i as u64) as usize];
                format!("{original} {}", WORDS[(next() % 32) as usize])
            }
            _ => {
                let words = (0..40).map(|_| WORDS[(next() % 32) as usize]);
                format!("{} {i}", words.collect::<Vec<_>>().join(" "))
            }
        };
        texts.push(text);
    }
    let batches: Vec<_> = texts
        .chunks(50_000)
        .enumerate()
        .map(|(c, chunk)| {
            let ids: Vec<i64> = (0..chunk.len()).map(|i| (c * 50_000 + i) as i64).collect();
            let texts: Vec<Option<&str>> = chunk.iter().map(|t| Some(t.as_str())).collect();
            text_batch("text", &ids, &texts)
        })
        .collect();
    // Row groups of 20,000 rows (about 5 MB of text), as writers of training data write them.
    let properties = WriterProperties::builder()
        .set_max_row_group_row_count(Some(20_000))
        .build();
    let file = File::create(path).unwrap();
    let mut writer = ArrowWriter::try_new(file, batches[0].schema(), Some(properties)).unwrap();
    for batch in &batches {
        writer.write(batch).unwrap();
    }
    writer.close().unwrap();
}

fn stage_rows(report: &Value) -> Vec<(Value, Value)> {
    let stages = report["stages"].as_array().unwrap();
    stages
        .iter()
        .map(|s| (s["name"].clone(), s["rows_out"].clone()))
        .collect()
}

#[test]
fn a_memory_limit_holds_on_text_larger_than_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corpus.parquet");
    corpus(&path, 300_000);
    let source = path.to_str().unwrap();
    let pipeline = ["profile", source, "--near-dedup", "--tokenizer", "none"];
    let (unlimited, _) = run_measured(&pipeline);
    let limit: u64 = 16 << 20;
    let text_bytes = unlimited["totals"]["text_bytes_in"].as_u64().unwrap();
    assert!(
        text_bytes > 4 * limit,
        "the text ({text_bytes} B) is 4 times the limit"
    );

    let mut limited = pipeline.to_vec();
    limited.extend_from_slice(&["--memory-limit", "16MiB"]);
    let (report, peak_rss) = run_measured(&limited);
    assert_eq!(stage_rows(&report), stage_rows(&unlimited));
    assert_eq!(
        report["totals"]["rows_out"],
        unlimited["totals"]["rows_out"]
    );
    for stage in report["stages"].as_array().unwrap() {
        assert_eq!(stage["spilled"], true, "{} spilled", stage["name"]);
        let pool = stage["peak_memory_bytes"].as_u64().unwrap();
        assert!(pool <= limit, "{}: {pool} B of pool", stage["name"]);
    }
    assert!(
        peak_rss <= limit + FIXED_OVERHEAD,
        "peak RSS {} MiB over the limit and the fixed overhead",
        peak_rss >> 20
    );

    // The loader's shuffle buffer holds rows, not the dataset.
    let (report, peak_rss) = run_measured(&["loader", source, "--shuffle", "--tokenizer", "none"]);
    assert_eq!(report["loader"]["rows"], 300_000);
    assert!(
        peak_rss <= FIXED_OVERHEAD,
        "loader peak RSS {} MiB",
        peak_rss >> 20
    );
}
