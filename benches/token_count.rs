//! Token counting on one thread: prepcost's counter (`prepcost::tokenizer`: bpe-openai's
//! byte-pair encoder behind prepcost's pre-tokenizer, with per-thread scratch space and piece
//! counts) against tiktoken-rs (`encode_ordinary`) and bpe-openai's own `count`, on the text of
//! the shared datasets, with cl100k_base and o200k_base. Every row's count must be the same with
//! all three; the rates are tokens per second of CPU on one core, the median of the runs,
//! counters alternating run by run (prepcost's per-thread piece counts start empty in the first
//! run, which is in the min–max). Prints a Markdown table.
//!
//! cargo build --release --bench token_count
//! target/release/deps/token_count-* [DATASETS_DIR] [--runs N]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Instant;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use prepcost::tokenizer::Tokenizer;

/// The datasets: name, path below the datasets folder, text column.
const DATASETS: [(&str, &str, &str); 4] = [
    ("en_prose (English)", "text/en_prose.parquet", "text"),
    ("fortunes_zh (Chinese)", "text/fortunes_zh.parquet", "text"),
    ("rust_code (source code)", "text/rust_code", "content"),
    ("llm_mix (web, math, instructions)", "text/llm_mix", "text"),
];

fn main() {
    let mut args = std::env::args().skip(1);
    let mut root = PathBuf::from("../shared/datasets");
    let mut runs = 3usize;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = args.next().and_then(|n| n.parse().ok()).unwrap_or(3),
            "--bench" => {}
            other => root = PathBuf::from(other),
        }
    }
    let load = |name: &str| Tokenizer::load(&name.parse().unwrap()).unwrap().unwrap();
    let encodings: [(
        &str,
        Tokenizer,
        &bpe_openai::Tokenizer,
        &tiktoken_rs::CoreBPE,
    ); 2] = [
        (
            "cl100k_base",
            load("cl100k_base"),
            bpe_openai::cl100k_base(),
            tiktoken_rs::cl100k_base_singleton(),
        ),
        (
            "o200k_base",
            load("o200k_base"),
            bpe_openai::o200k_base(),
            tiktoken_rs::o200k_base_singleton(),
        ),
    ];
    println!(
        "| dataset | encoding | rows | tokens | tiktoken-rs tokens/s | bpe-openai count | prepcost tokens/s (min–max) | × tiktoken-rs | × bpe-openai |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (name, path, column) in DATASETS {
        let texts = read_texts(&root.join(path), column);
        for (encoding, fast, plain, reference) in &encodings {
            let expected: Vec<usize> = texts
                .iter()
                .map(|t| reference.encode_ordinary(t).len())
                .collect();
            let count = |t: &String| fast.count(t).unwrap() as usize;
            for counted in [
                texts.iter().map(count).collect::<Vec<_>>(),
                texts.iter().map(|t| plain.count(t.as_str())).collect(),
            ] {
                let differing = expected
                    .iter()
                    .zip(&counted)
                    .filter(|(a, b)| a != b)
                    .count();
                assert_eq!(differing, 0, "{name} {encoding}: {differing} rows differ");
            }
            let tokens: usize = expected.iter().sum();
            let (mut slow_times, mut plain_times, mut fast_times) = (vec![], vec![], vec![]);
            for _ in 0..runs {
                slow_times.push(time(|| {
                    texts
                        .iter()
                        .map(|t| reference.encode_ordinary(t).len())
                        .sum()
                }));
                plain_times.push(time(|| texts.iter().map(|t| plain.count(t.as_str())).sum()));
                fast_times.push(time(|| texts.iter().map(count).sum()));
            }
            let rate = |seconds: f64| tokens as f64 / seconds;
            let slow = median(&mut slow_times);
            let plain = median(&mut plain_times);
            let fast = median(&mut fast_times);
            let (fastest, slowest) = (fast_times[0], fast_times[fast_times.len() - 1]);
            println!(
                "| {name} | {encoding} | {} | {tokens} | {:.2} M | {:.2} M | {:.2} M ({:.2}–{:.2}) | {:.2}× | {:.2}× |",
                texts.len(),
                rate(slow) / 1e6,
                rate(plain) / 1e6,
                rate(fast) / 1e6,
                rate(slowest) / 1e6,
                rate(fastest) / 1e6,
                slow / fast,
                plain / fast
            );
        }
    }
}

/// Seconds of one run of `count`, whose total is kept from being optimised away.
fn time(count: impl Fn() -> usize) -> f64 {
    let started = Instant::now();
    std::hint::black_box(count());
    started.elapsed().as_secs_f64()
}

/// The median of `values`, which are left sorted.
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Every non-NULL text of `column` in the Parquet file or folder at `path`.
fn read_texts(path: &Path, column: &str) -> Vec<String> {
    let mut files: Vec<PathBuf> = if path.is_dir() {
        std::fs::read_dir(path)
            .expect("a readable folder")
            .map(|e| e.expect("an entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .collect()
    } else {
        vec![path.to_path_buf()]
    };
    files.sort();
    let mut texts = Vec::new();
    for file in files {
        let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(&file).expect("a file"))
            .expect("a Parquet file");
        let index = builder
            .schema()
            .index_of(column)
            .unwrap_or_else(|_| panic!("{}: no column {column}", file.display()));
        let mask = ProjectionMask::roots(builder.parquet_schema(), [index]);
        for batch in builder.with_projection(mask).build().expect("a reader") {
            let array = batch.expect("a batch").column(0).clone();
            let strings: Vec<Option<&str>> = match array.data_type() {
                DataType::Utf8 => array.as_string::<i32>().iter().collect(),
                DataType::LargeUtf8 => array.as_string::<i64>().iter().collect(),
                DataType::Utf8View => array.as_string_view().iter().collect(),
                other => panic!("{}: {column} is {other}", file.display()),
            };
            texts.extend(strings.into_iter().flatten().map(str::to_string));
        }
    }
    texts
}
