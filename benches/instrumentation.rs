//! What prepcost's measuring costs: the default pipeline's stages over the same in-memory input,
//! run two ways, alternating, on one session configuration:
//!
//! - instrumented: `prepcost::pipeline::run`, as `profile` runs it — every stage metered (wall
//!   and CPU time, the memory pool's peak, requests), its result collected with its row and
//!   text-byte counts and its memory accounted;
//! - bare: DataFusion alone — each stage's SQL, the same text, collected into a `MemTable` for the
//!   next stage, on a plain memory pool; only the total is timed.
//!
//! Both must give the same number of rows. Prints one Markdown row per pipeline run.
//!
//! cargo build --release --bench instrumentation
//! target/release/deps/instrumentation-* CORPUS [--repeat 7]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{RecordBatch, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use prepcost::config::Pipeline;
use prepcost::engine::{SOURCE_ROW, Session};
use prepcost::source::{SourceFormat, SourceSpec};
use prepcost::stages::{self, StageBody};
use prepcost::util::progress::Progress;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (mut corpus, mut repeat) = (None, 7);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--repeat" => repeat = args.next().and_then(|n| n.parse().ok()).unwrap_or(7),
            "--bench" => {}
            other => corpus = Some(other.to_string()),
        }
    }
    let Some(corpus) = corpus else {
        eprintln!("usage: instrumentation CORPUS [--repeat N]");
        std::process::exit(2);
    };
    let session = Session::new(8 << 30, &prepcost::engine::Engine::Local)
        .await
        .expect("session");
    let bare = SessionContext::new_with_config(session.ctx.copied_config());
    prepcost::engine::udf::register_all(&bare);
    let input = read(&bare, &corpus).await;
    let rows: usize = input.iter().map(RecordBatch::num_rows).sum();
    println!("corpus: {corpus}, {rows} rows; {repeat} runs each, alternating\n");
    println!("| run | instrumented s | bare s | instrumented / bare |");
    println!("| --- | ---: | ---: | ---: |");
    // One of each first, off the record: the first run of either pays for page faults.
    instrumented(&session, &input).await;
    bare_run(&bare, &input).await;
    let mut ratios = Vec::new();
    for run in 1..=repeat {
        let (on, on_rows) = instrumented(&session, &input).await;
        let (off, off_rows) = bare_run(&bare, &input).await;
        assert_eq!(on_rows, off_rows, "both ways must keep the same rows");
        ratios.push(on / off);
        println!("| {run} | {on:.3} | {off:.3} | {:.3} |", on / off);
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "\nmedian ratio {:.3} (min {:.3}, max {:.3})",
        ratios[ratios.len() / 2],
        ratios[0],
        ratios[ratios.len() - 1]
    );
}

/// The corpus with its `__source_row` column, as the scan gives it.
async fn read(ctx: &SessionContext, corpus: &str) -> Vec<RecordBatch> {
    let batches = ctx
        .read_parquet(corpus, ParquetReadOptions::default())
        .await
        .expect("corpus")
        .collect()
        .await
        .expect("corpus");
    let schema = with_source_row(&batches[0].schema());
    let mut next = 0u64;
    batches
        .into_iter()
        .map(|batch| {
            let n = batch.num_rows() as u64;
            let mut columns = batch.columns().to_vec();
            columns.push(Arc::new(UInt64Array::from_iter_values(next..next + n)));
            next += n;
            RecordBatch::try_new(Arc::clone(&schema), columns).expect("batch")
        })
        .collect()
}

fn with_source_row(schema: &SchemaRef) -> SchemaRef {
    let mut fields = schema.fields().to_vec();
    fields.push(Arc::new(Field::new(SOURCE_ROW, DataType::UInt64, false)));
    Arc::new(Schema::new(fields))
}

fn source() -> SourceSpec {
    SourceSpec {
        uri: String::new(),
        format: SourceFormat::Parquet,
        text_column: "text".to_string(),
        id_column: None,
        on_error: Default::default(),
    }
}

/// The default pipeline through `pipeline::run`: seconds and rows kept.
async fn instrumented(session: &Session, input: &[RecordBatch]) -> (f64, u64) {
    let stages: Vec<_> = Pipeline::default_pipeline()
        .stages
        .iter()
        .map(|spec| stages::build(spec, &source()).expect("stage"))
        .collect();
    let mut collector = session.collector(input[0].schema(), "text", "input");
    for batch in input {
        collector.push(batch.clone()).expect("input");
    }
    let input = collector.finish().expect("input");
    let quiet = Progress::silent();
    let started = Instant::now();
    let (result, _) = prepcost::pipeline::run(session, &stages, input, "text", &quiet, None, None)
        .await
        .expect("pipeline");
    (started.elapsed().as_secs_f64(), result.stats().rows)
}

/// The same stages' SQL, each collected into a `MemTable` for the next: seconds and rows kept.
async fn bare_run(ctx: &SessionContext, input: &[RecordBatch]) -> (f64, u64) {
    let queries: Vec<String> = Pipeline::default_pipeline()
        .stages
        .iter()
        .map(|spec| match &spec.body {
            StageBody::Query { text, .. } => {
                let columns = [("text_column", Some("text")), ("id_column", None)];
                stages::sql::render(text, &BTreeMap::new(), &columns).expect("query")
            }
            _ => unreachable!("the default pipeline is made of built-in queries"),
        })
        .collect();
    let partitions = ctx.copied_config().target_partitions();
    let started = Instant::now();
    let mut batches = input.to_vec();
    for sql in &queries {
        let table =
            MemTable::try_new(batches[0].schema(), deal(batches, partitions)).expect("table");
        ctx.deregister_table("input").expect("deregister");
        ctx.register_table("input", Arc::new(table))
            .expect("register");
        batches = ctx
            .sql(sql)
            .await
            .expect("plan")
            .collect()
            .await
            .expect("run");
    }
    let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
    (started.elapsed().as_secs_f64(), rows)
}

/// Batches dealt round-robin into `partitions`, as an in-memory result is read.
fn deal(batches: Vec<RecordBatch>, partitions: usize) -> Vec<Vec<RecordBatch>> {
    let mut split = vec![Vec::new(); partitions.clamp(1, batches.len().max(1))];
    let n = split.len();
    for (i, batch) in batches.into_iter().enumerate() {
        split[i % n].push(batch);
    }
    split
}
