//! The raw Parquet decode limit the loader is measured against: a bare arrow-rs
//! `ParquetRecordBatchReader` loop over the same files and columns, no tokenization, on 1..N
//! threads (row groups dealt round-robin). Footers are read before the clock starts, as the
//! loader's rate excludes them too. Prints one JSON object per run.
//!
//! cargo build --release --bench decode_limit
//! target/release/deps/decode_limit-* DATASET --columns text --threads 1 --batch-size 1024

use std::fs::File;
use std::path::PathBuf;
use std::time::Instant;

use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut source = None;
    let mut columns: Option<Vec<String>> = None;
    let mut threads = 1usize;
    let mut batch_size = 1024usize;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--columns" => {
                columns = args
                    .next()
                    .map(|c| c.split(',').map(str::to_string).collect())
            }
            "--threads" => threads = args.next().and_then(|n| n.parse().ok()).unwrap_or(1),
            "--batch-size" => batch_size = args.next().and_then(|n| n.parse().ok()).unwrap_or(1024),
            "--bench" => {}
            other => source = Some(PathBuf::from(other)),
        }
    }
    let Some(source) = source else {
        eprintln!("usage: decode_limit DATASET [--columns a,b] [--threads N] [--batch-size N]");
        std::process::exit(2);
    };
    let mut files: Vec<PathBuf> = if source.is_dir() {
        std::fs::read_dir(&source)
            .expect("a readable directory")
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .collect()
    } else {
        vec![source]
    };
    files.sort();

    // Footers first, off the clock.
    let opened: Vec<(PathBuf, ArrowReaderMetadata)> = files
        .into_iter()
        .map(|path| {
            let file = File::open(&path).expect("a readable file");
            let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
                .expect("a Parquet footer");
            (path, metadata)
        })
        .collect();
    let units: Vec<(usize, usize)> = opened
        .iter()
        .enumerate()
        .flat_map(|(f, (_, m))| (0..m.metadata().num_row_groups()).map(move |rg| (f, rg)))
        .collect();

    let started = Instant::now();
    let totals: Vec<(u64, u64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let mine: Vec<(usize, usize)> =
                    units.iter().copied().skip(t).step_by(threads).collect();
                let opened = &opened;
                let columns = &columns;
                scope.spawn(move || {
                    let (mut rows, mut bytes) = (0u64, 0u64);
                    for (f, rg) in mine {
                        let (path, metadata) = &opened[f];
                        let file = File::open(path).expect("a readable file");
                        let mask = match columns {
                            Some(c) => ProjectionMask::columns(
                                metadata.parquet_schema(),
                                c.iter().map(String::as_str),
                            ),
                            None => ProjectionMask::all(),
                        };
                        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(
                            file,
                            metadata.clone(),
                        )
                        .with_projection(mask)
                        .with_row_groups(vec![rg])
                        .with_batch_size(batch_size)
                        .build()
                        .expect("a reader");
                        for batch in reader {
                            let batch = batch.expect("a decoded batch");
                            rows += batch.num_rows() as u64;
                            bytes += prepcost::loader::run::decoded_bytes(&batch);
                        }
                    }
                    (rows, bytes)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a thread"))
            .collect()
    });
    let seconds = started.elapsed().as_secs_f64();
    let rows: u64 = totals.iter().map(|t| t.0).sum();
    let bytes: u64 = totals.iter().map(|t| t.1).sum();
    println!(
        "{{\"threads\": {threads}, \"rows\": {rows}, \"decoded_bytes\": {bytes}, \"seconds\": {seconds}, \"decoded_bytes_per_s\": {}}}",
        bytes as f64 / seconds
    );
}
