//! Band grouping measured both ways on the same band keys: the sorted band tables the minhash
//! stage uses, against DataFusion's hash aggregation (`GROUP BY band, key` collecting the ranks
//! with `array_agg`), each followed by the same union-find. The keys come from real text: the
//! stage's own shingling and signatures (14 bands × 8 rows) over DATASET's `text` column,
//! computed once before the clock starts. Prints one JSON object per run.
//!
//! cargo build --release --bench band_grouping
//! target/release/deps/band_grouping-* DATASET [--repeat 5]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{Array, AsArray, RecordBatch, UInt32Array, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, UInt32Type};
use datafusion::datasource::MemTable;
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use prepcost::engine::udf::minhash::{Permutations, ShingleSpec, ShingleUnit, Shingler, band_hash};
use prepcost::stages::lsh::{BandTable, RankSet, UnionFind};
use rayon::prelude::*;

const BANDS: usize = 14;
const ROWS: usize = 8;

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut source, mut repeat) = (None, 5usize);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--repeat" => repeat = args.next().and_then(|n| n.parse().ok()).unwrap_or(5),
            "--bench" => {}
            other => source = Some(PathBuf::from(other)),
        }
    }
    let Some(source) = source else {
        eprintln!("usage: band_grouping DATASET [--repeat N]");
        std::process::exit(2);
    };
    let texts = read_texts(&source);
    let n = texts.len();
    let keys = band_keys(&texts);
    drop(texts);
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    for run in 0..repeat {
        let started = Instant::now();
        let sorted = with_sorted_tables(&keys, n);
        let sort_seconds = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let aggregated = runtime.block_on(with_datafusion(&keys, n));
        let datafusion_seconds = started.elapsed().as_secs_f64();
        assert_eq!(sorted, aggregated, "both ways find the same clusters");
        println!(
            "{{\"run\": {run}, \"rows\": {n}, \"removed\": {sorted}, \"sorted_tables_s\": {sort_seconds:.3}, \"datafusion_s\": {datafusion_seconds:.3}}}"
        );
    }
}

fn read_texts(source: &PathBuf) -> Vec<String> {
    let mut files: Vec<PathBuf> = if source.is_dir() {
        std::fs::read_dir(source)
            .expect("a readable directory")
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .collect()
    } else {
        vec![source.clone()]
    };
    files.sort();
    let mut texts = Vec::new();
    for path in files {
        let file = std::fs::File::open(&path).expect("a readable file");
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("a Parquet file");
        let index = builder.schema().index_of("text").expect("a text column");
        let mask = ProjectionMask::roots(builder.parquet_schema(), [index]);
        for batch in builder.with_projection(mask).build().expect("a reader") {
            let batch = batch.expect("a batch");
            let column = datafusion::arrow::compute::cast(batch.column(0), &DataType::Utf8)
                .expect("text as Utf8");
            texts.extend(
                column
                    .as_string::<i32>()
                    .iter()
                    .map(|t| t.unwrap_or_default().to_string()),
            );
        }
    }
    texts
}

/// Band keys by band, then rank; `u64::MAX` marks a document without shingles.
fn band_keys(texts: &[String]) -> Vec<Vec<u64>> {
    let spec = ShingleSpec {
        unit: ShingleUnit::Auto,
        word_ngram: 5,
        char_ngram: 5,
        seed: 42,
    };
    let permutations = Permutations::new(BANDS * ROWS, 42);
    let per_doc: Vec<Option<[u64; BANDS]>> = texts
        .par_iter()
        .map_init(
            || (Shingler::new(spec), Vec::new(), vec![0u64; BANDS * ROWS]),
            |(shingler, hashes, signature), text| {
                shingler.hashes(text, hashes);
                if hashes.is_empty() {
                    return None;
                }
                permutations.signature(hashes, 0..BANDS * ROWS, signature);
                let mut keys = [0u64; BANDS];
                for (band, key) in keys.iter_mut().enumerate() {
                    *key = band_hash(&signature[band * ROWS..(band + 1) * ROWS], band);
                }
                Some(keys)
            },
        )
        .collect();
    (0..BANDS)
        .map(|band| {
            per_doc
                .iter()
                .map(|keys| keys.map_or(u64::MAX, |k| k[band]))
                .collect()
        })
        .collect()
}

fn removed(sets: &mut UnionFind) -> usize {
    (0..sets.documents() as u32)
        .filter(|&d| sets.find(d) != d)
        .count()
}

/// What the stage does: a table of (key, rank) per band, sorted, buckets joined.
fn with_sorted_tables(keys: &[Vec<u64>], n: usize) -> usize {
    let mut sets = UnionFind::new(n);
    let empty = RankSet::new(n);
    for (rank, &key) in keys[0].iter().enumerate() {
        if key == u64::MAX {
            empty.insert(rank as u32);
        }
    }
    for band in keys {
        let table = BandTable::new(n);
        band.par_iter()
            .enumerate()
            .for_each(|(rank, &key)| table.set(rank as u32, key));
        table.buckets(&empty, |members| {
            for &doc in &members[1..] {
                sets.union(members[0], doc);
            }
        });
    }
    removed(&mut sets)
}

/// The same grouping as a DataFusion hash aggregation over all bands at once.
async fn with_datafusion(keys: &[Vec<u64>], n: usize) -> usize {
    let schema = Arc::new(Schema::new(vec![
        Field::new("band", DataType::UInt32, false),
        Field::new("key", DataType::UInt64, false),
        Field::new("rank", DataType::UInt32, false),
    ]));
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let mut partitions = vec![Vec::new(); threads];
    let mut next = 0;
    for (band, band_keys) in keys.iter().enumerate() {
        for start in (0..n).step_by(8192) {
            let end = (start + 8192).min(n);
            let (ranks, chunk): (Vec<u32>, Vec<u64>) = (start..end)
                .filter(|&r| band_keys[r] != u64::MAX)
                .map(|r| (r as u32, band_keys[r]))
                .unzip();
            let batch = RecordBatch::try_new(
                Arc::clone(&schema),
                vec![
                    Arc::new(UInt32Array::from(vec![band as u32; ranks.len()])),
                    Arc::new(UInt64Array::from(chunk)),
                    Arc::new(UInt32Array::from(ranks)),
                ],
            )
            .expect("a batch");
            partitions[next % threads].push(batch);
            next += 1;
        }
    }
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(threads));
    let table = MemTable::try_new(schema, partitions).expect("a table");
    ctx.register_table("bands", Arc::new(table))
        .expect("registered");
    let groups = ctx
        .sql("SELECT array_agg(rank) AS members FROM bands GROUP BY band, key HAVING count(*) > 1")
        .await
        .expect("a plan")
        .collect()
        .await
        .expect("results");
    let mut sets = UnionFind::new(n);
    for batch in &groups {
        let lists = batch.column(0).as_list::<i32>();
        for i in 0..lists.len() {
            let members = lists.value(i);
            let members = members.as_primitive::<UInt32Type>().values();
            let first = *members.iter().min().expect("two or more");
            for &doc in members {
                sets.union(first, doc);
            }
        }
    }
    removed(&mut sets)
}
