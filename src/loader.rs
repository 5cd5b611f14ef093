//! The loader-throughput simulation: reads a Parquet dataset the way a training data loader
//! does and measures what the training loop would see.
//!
//! Row groups are fetched ahead through the object store (asynchronously, `prefetch` per
//! worker in flight), decoded and tokenized on a pool of `workers` threads, and cut into the
//! training loop's batches of `batch_size` rows — in decode order, or drawn from a seeded
//! shuffle buffer after a per-epoch shuffle of the row-group order. The training loop itself
//! takes each batch as soon as it is ready, so the rates are the loader's ceiling.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, UInt32Array};
use datafusion::arrow::compute::{BatchCoalescer, interleave_record_batch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::parquet::DecodeResult;
use datafusion::parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
};
use datafusion::parquet::arrow::push_decoder::ParquetPushDecoderBuilder;
use datafusion::parquet::arrow::{ProjectionMask, parquet_to_arrow_schema_by_columns};
use futures::StreamExt;
use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use tokio::sync::mpsc;

use crate::dataset::Dataset;
use crate::error::{Error, Result, clean};
use crate::resources;
use crate::scan::panic_message;
use crate::tokenizer::{self, Tokenizer};

/// The column of per-row token counts the workers add to each batch they decode.
const TOKENS_COLUMN: &str = "__prepcost_tokens";

/// How a loader run reads.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Rows per batch handed to the training loop.
    pub batch_size: usize,
    /// Row groups fetched ahead per worker.
    pub prefetch: usize,
    pub shuffle: Option<Shuffle>,
    pub epochs: u32,
    pub limit: Option<Limit>,
}

/// Shuffling: the row-group order of every epoch, then rows through a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shuffle {
    pub seed: u64,
    /// Rows held in the shuffle buffer; each batch is drawn at random from it.
    pub buffer_rows: usize,
}

/// What stops a run before its epochs are done.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    Rows(u64),
    Seconds(f64),
}

/// What a loader reads: every file's reader metadata and projection, the row groups, and the
/// schema of the batches.
#[derive(Debug)]
pub struct Plan {
    files: Vec<PlannedFile>,
    row_groups: Vec<RowGroup>,
    /// The projected columns, as every file must have them (all nullable).
    schema: SchemaRef,
    /// The column the tokenizer reads, when there is one.
    text_index: Option<usize>,
}

#[derive(Debug)]
struct PlannedFile {
    path: ObjectPath,
    display: String,
    metadata: ArrowReaderMetadata,
    mask: ProjectionMask,
}

#[derive(Debug, Clone, Copy)]
struct RowGroup {
    file: usize,
    index: usize,
}

impl Plan {
    /// Plans reading `columns` (all when `None`; top-level names or dotted paths) of
    /// `dataset`, tokenizing `text_column` when given. Every file must yield the same columns
    /// with the same types; a missing column or a text column that is not text is an error.
    pub fn new(
        dataset: &Dataset,
        columns: Option<&[String]>,
        text_column: Option<&str>,
    ) -> Result<Plan> {
        let mut files = Vec::with_capacity(dataset.files.len());
        let mut row_groups = Vec::new();
        let mut schema: Option<(Schema, &str)> = None;
        for (index, file) in dataset.files.iter().enumerate() {
            let fail = |message: String| Error::SourceFile {
                path: file.display.clone(),
                message,
            };
            let metadata =
                ArrowReaderMetadata::try_new(Arc::clone(&file.metadata), ArrowReaderOptions::new())
                    .map_err(|e| fail(clean(&e.to_string())))?;
            let descriptor = metadata.parquet_schema();
            let mask = match columns {
                None => ProjectionMask::all(),
                Some(names) => {
                    for name in names {
                        let matches =
                            |path: String| path == *name || path.starts_with(&format!("{name}."));
                        if !descriptor
                            .columns()
                            .iter()
                            .any(|c| matches(c.path().string()))
                        {
                            return Err(missing_column(
                                "column",
                                name,
                                &file.display,
                                metadata.schema(),
                            ));
                        }
                    }
                    ProjectionMask::columns(descriptor, names.iter().map(String::as_str))
                }
            };
            let projected = parquet_to_arrow_schema_by_columns(
                descriptor,
                mask.clone(),
                file.metadata.file_metadata().key_value_metadata(),
            )
            .map_err(|e| fail(clean(&e.to_string())))?;
            let projected = nullable(&projected);
            match &schema {
                None => schema = Some((projected, &file.display)),
                Some((first, first_file)) if !same_columns(first, &projected) => {
                    return Err(fail(format!(
                        "its columns ({}) differ from those of {first_file} ({}); a loader reads one schema",
                        describe_columns(&projected),
                        describe_columns(first)
                    )));
                }
                Some(_) => {}
            }
            row_groups.extend(
                (0..file.metadata.num_row_groups())
                    .filter(|&rg| file.metadata.row_group(rg).num_rows() > 0)
                    .map(|rg| RowGroup {
                        file: index,
                        index: rg,
                    }),
            );
            files.push(PlannedFile {
                path: file.object.location.clone(),
                display: file.display.clone(),
                metadata,
                mask,
            });
        }
        let schema = schema.map(|(s, _)| s).unwrap_or_else(Schema::empty);
        let text_index = match text_column {
            None => None,
            Some(name) => {
                let Ok(index) = schema.index_of(name) else {
                    return Err(missing_column(
                        "text column",
                        name,
                        &dataset.location.display,
                        &schema,
                    ));
                };
                let data_type = schema.field(index).data_type();
                if !tokenizer::is_text(data_type) {
                    return Err(Error::NotAStringColumn {
                        column: name.to_string(),
                        dataset: dataset.location.display.clone(),
                        data_type: data_type.to_string(),
                    });
                }
                Some(index)
            }
        };
        Ok(Plan {
            files,
            row_groups,
            schema: Arc::new(schema),
            text_index,
        })
    }

    /// The batches' columns.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Row groups holding rows.
    pub fn row_groups(&self) -> usize {
        self.row_groups.len()
    }

    /// True when the workers count tokens.
    pub fn tokenizes(&self) -> bool {
        self.text_index.is_some()
    }

    /// Compressed bytes of the column chunks one epoch reads.
    pub fn compressed_bytes(&self) -> u64 {
        self.row_groups
            .iter()
            .map(|rg| {
                let file = &self.files[rg.file];
                file.metadata
                    .metadata()
                    .row_group(rg.index)
                    .columns()
                    .iter()
                    .enumerate()
                    .filter(|(leaf, _)| file.mask.leaf_included(*leaf))
                    .map(|(_, chunk)| u64::try_from(chunk.compressed_size()).unwrap_or(0))
                    .sum::<u64>()
            })
            .sum()
    }

    /// The batches' schema with the token counts the workers add.
    fn delivered_schema(&self) -> SchemaRef {
        let mut fields: Vec<Field> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        if self.text_index.is_some() {
            fields.push(Field::new(TOKENS_COLUMN, DataType::UInt32, false));
        }
        Arc::new(Schema::new(fields))
    }
}

fn missing_column(role: &'static str, name: &str, dataset: &str, schema: &Schema) -> Error {
    Error::MissingColumn {
        role,
        column: name.to_string(),
        dataset: dataset.to_string(),
        columns: schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// `schema` with every field nullable and no metadata, so that files which differ only there
/// feed one stream of batches.
fn nullable(schema: &Schema) -> Schema {
    Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| Field::new(f.name(), f.data_type().clone(), true))
            .collect::<Vec<_>>(),
    )
}

fn same_columns(a: &Schema, b: &Schema) -> bool {
    a.fields().len() == b.fields().len()
        && a.fields()
            .iter()
            .zip(b.fields())
            .all(|(a, b)| a.name() == b.name() && a.data_type().equals_datatype(b.data_type()))
}

fn describe_columns(schema: &Schema) -> String {
    schema
        .fields()
        .iter()
        .map(|f| format!("{}: {}", f.name(), f.data_type()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What one run measured.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    pub workers: usize,
    /// Rows handed to the training loop.
    pub rows: u64,
    pub batches: u64,
    /// Tokens of the rows handed to the training loop.
    pub tokens: u64,
    /// Bytes of the Arrow arrays the workers decoded.
    pub decoded_bytes: u64,
    /// Row groups the workers decoded (a row group cut short by a limit included).
    pub row_groups: u64,
    /// From the start of reading to the last batch.
    pub wall_seconds: f64,
    /// CPU time of the whole process over the run.
    pub cpu_seconds: f64,
    /// From the start of reading to the first batch.
    pub time_to_first_batch_seconds: f64,
    /// Time the training loop waited for each batch after the first, in seconds.
    pub batch_latencies: Vec<f64>,
    /// True when a limit stopped the run before its epochs were done.
    pub limited: bool,
}

/// A point of progress of a run, for a progress line.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub rows: u64,
    pub tokens: u64,
    pub decoded_bytes: u64,
    pub elapsed: Duration,
}

/// One row group fetched, ready to decode.
struct Work {
    reader: ParquetRecordBatchReader,
    file: usize,
    row_group: usize,
}

/// One batch decoded (and tokenized) by a worker.
struct Decoded {
    batch: RecordBatch,
    bytes: u64,
    /// The first batch of its row group.
    starts_row_group: bool,
}

/// Reads the planned dataset with `workers` decode threads and reports what the training
/// loop saw. `on_progress` is called about once a second.
pub async fn run(
    plan: &Arc<Plan>,
    store: &Arc<dyn ObjectStore>,
    tokenizer: Option<&Arc<Tokenizer>>,
    settings: &Settings,
    workers: usize,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<Measured> {
    let started = Instant::now();
    let cpu_at_start = resources::cpu_time();
    let (work_sender, work_queue) = mpsc::channel::<Result<Work>>(workers);
    let (decoded_sender, mut decoded) = mpsc::channel::<Result<Decoded>>(2 * workers);

    let fetcher = tokio::spawn(fetch_all(
        Arc::clone(plan),
        Arc::clone(store),
        settings.clone(),
        workers * settings.prefetch,
        work_sender,
    ));
    let work_queue = Arc::new(Mutex::new(work_queue));
    let tokenizer = tokenizer.filter(|_| plan.text_index.is_some());
    let pool: Vec<_> = (0..workers)
        .map(|i| {
            let worker = Worker {
                plan: Arc::clone(plan),
                queue: Arc::clone(&work_queue),
                out: decoded_sender.clone(),
                tokenizer: tokenizer.cloned(),
                schema: plan.delivered_schema(),
            };
            std::thread::Builder::new()
                .name(format!("prepcost-loader-{i}"))
                .spawn(move || worker.run())
                .map_err(|e| Error::io("starting a loader worker thread", e))
        })
        .collect::<Result<_>>()?;
    drop(decoded_sender);

    let mut assembler = Assembler::new(plan.delivered_schema(), settings);
    let mut loop_ = TrainingLoop::new(started, settings.limit, tokenizer.is_some());
    let mut measured = Measured {
        workers,
        ..Measured::default()
    };
    let mut last_progress = Instant::now();
    let outcome: Result<()> = async {
        while let Some(item) = decoded.recv().await {
            let item = item?;
            measured.decoded_bytes += item.bytes;
            measured.row_groups += u64::from(item.starts_row_group);
            for batch in assembler.push(item.batch)? {
                if !loop_.take(batch) {
                    return Ok(());
                }
            }
            if last_progress.elapsed() >= Duration::from_secs(1) {
                last_progress = Instant::now();
                on_progress(Progress {
                    rows: loop_.rows,
                    tokens: loop_.tokens,
                    decoded_bytes: measured.decoded_bytes,
                    elapsed: started.elapsed(),
                });
            }
        }
        for batch in assembler.finish()? {
            if !loop_.take(batch) {
                break;
            }
        }
        Ok(())
    }
    .await;
    let wall = started.elapsed();
    // Stop the fetcher and the workers: closing the channels ends them.
    drop(decoded);
    fetcher.abort();
    let _ = fetcher.await;
    tokio::task::spawn_blocking(move || pool.into_iter().for_each(|t| drop(t.join())))
        .await
        .map_err(|e| Error::Engine {
            context: "stopping the loader workers".into(),
            message: e.to_string(),
        })?;
    outcome?;

    measured.rows = loop_.rows;
    measured.batches = loop_.batches;
    measured.tokens = loop_.tokens;
    measured.wall_seconds = wall.as_secs_f64();
    measured.cpu_seconds = resources::cpu_time()
        .saturating_sub(cpu_at_start)
        .as_secs_f64();
    measured.time_to_first_batch_seconds = loop_.first_batch.unwrap_or(wall).as_secs_f64();
    measured.batch_latencies = loop_.latencies;
    measured.limited = loop_.limited;
    Ok(measured)
}

/// The row groups of every epoch in reading order: source order, or shuffled anew each epoch.
fn reading_order(plan: &Plan, settings: &Settings) -> impl Iterator<Item = RowGroup> + use<> {
    let row_groups = plan.row_groups.clone();
    let shuffle = settings.shuffle;
    (0..settings.epochs).flat_map(move |epoch| {
        let mut order = row_groups.clone();
        if let Some(shuffle) = shuffle {
            let mut rng = StdRng::seed_from_u64(shuffle.seed ^ u64::from(epoch).rotate_left(32));
            order.shuffle(&mut rng);
        }
        order
    })
}

/// Fetches the row groups in reading order, `depth` at a time, and queues them for the
/// workers; stops at the first failure or when the workers are gone.
async fn fetch_all(
    plan: Arc<Plan>,
    store: Arc<dyn ObjectStore>,
    settings: Settings,
    depth: usize,
    queue: mpsc::Sender<Result<Work>>,
) {
    let batch_size = settings.batch_size;
    let mut fetched = futures::stream::iter(reading_order(&plan, &settings))
        .map(|row_group| fetch(Arc::clone(&plan), Arc::clone(&store), row_group, batch_size))
        .buffered(depth.max(1));
    while let Some(work) = fetched.next().await {
        let failed = work.is_err();
        if queue.send(work).await.is_err() || failed {
            return;
        }
    }
}

/// Fetches the projected column chunks of one row group and returns a reader over them.
async fn fetch(
    plan: Arc<Plan>,
    store: Arc<dyn ObjectStore>,
    unit: RowGroup,
    batch_size: usize,
) -> Result<Work> {
    let file = &plan.files[unit.file];
    let fail = |message: String| Error::SourceFile {
        path: file.display.clone(),
        message: format!("row group {}: {}", unit.index, clean(&message)),
    };
    let mut decoder = ParquetPushDecoderBuilder::new_with_metadata(file.metadata.clone())
        .with_projection(file.mask.clone())
        .with_row_groups(vec![unit.index])
        .with_batch_size(batch_size)
        .build()
        .map_err(|e| fail(e.to_string()))?;
    loop {
        match decoder.try_next_reader().map_err(|e| fail(e.to_string()))? {
            DecodeResult::NeedsData(ranges) => {
                let data = store
                    .get_ranges(&file.path, &ranges)
                    .await
                    .map_err(|e| fail(e.to_string()))?;
                decoder
                    .push_ranges(ranges, data)
                    .map_err(|e| fail(e.to_string()))?;
            }
            DecodeResult::Data(reader) => {
                return Ok(Work {
                    reader,
                    file: unit.file,
                    row_group: unit.index,
                });
            }
            DecodeResult::Finished => return Err(fail("it holds no rows".into())),
        }
    }
}

/// A decode thread: takes fetched row groups from the queue, decodes their batches, counts
/// their tokens, and passes them on.
struct Worker {
    plan: Arc<Plan>,
    queue: Arc<Mutex<mpsc::Receiver<Result<Work>>>>,
    out: mpsc::Sender<Result<Decoded>>,
    tokenizer: Option<Arc<Tokenizer>>,
    schema: SchemaRef,
}

impl Worker {
    fn run(self) {
        loop {
            let work = self
                .queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .blocking_recv();
            let work = match work {
                None => return,
                Some(Err(e)) => {
                    let _ = self.out.blocking_send(Err(e));
                    return;
                }
                Some(Ok(work)) => work,
            };
            let file = &self.plan.files[work.file].display;
            let fail = |message: String| Error::SourceFile {
                path: file.clone(),
                message: format!("row group {}: {}", work.row_group, clean(&message)),
            };
            let mut reader = work.reader;
            for i in 0.. {
                // Corrupt data can make the decoder panic: that is this row group's error.
                let next = std::panic::catch_unwind(AssertUnwindSafe(|| reader.next()))
                    .unwrap_or_else(|panic| {
                        Some(Err(ArrowError::ExternalError(
                            panic_message(panic.as_ref()).into(),
                        )))
                    });
                let Some(batch) = next else { break };
                let decoded = batch
                    .map_err(|e| fail(e.to_string()))
                    .and_then(|batch| self.finish(batch).map_err(fail))
                    .map(|(batch, bytes)| Decoded {
                        batch,
                        bytes,
                        starts_row_group: i == 0,
                    });
                let failed = decoded.is_err();
                if self.out.blocking_send(decoded).is_err() || failed {
                    return;
                }
            }
        }
    }

    /// Measures a decoded batch, adds its token counts, and gives it the plan's schema.
    fn finish(&self, batch: RecordBatch) -> Result<(RecordBatch, u64), String> {
        let bytes = decoded_bytes(&batch);
        let mut columns = batch.columns().to_vec();
        if let (Some(tokenizer), Some(index)) = (&self.tokenizer, self.plan.text_index) {
            let counts = tokenizer.count_rows(batch.column(index).as_ref())?;
            columns.push(Arc::new(UInt32Array::from(counts)) as ArrayRef);
        }
        let batch =
            RecordBatch::try_new(Arc::clone(&self.schema), columns).map_err(|e| e.to_string())?;
        Ok((batch, bytes))
    }
}

/// Bytes of a decoded batch: of the Arrow buffers its rows use.
pub fn decoded_bytes(batch: &RecordBatch) -> u64 {
    batch
        .columns()
        .iter()
        .map(|array| {
            array
                .to_data()
                .get_slice_memory_size()
                .unwrap_or_else(|_| array.get_array_memory_size()) as u64
        })
        .sum()
}

/// Cuts decoded batches into the training loop's batches.
enum Assembler {
    /// Decode order: full batches pass through, the remainders of row groups are joined.
    InOrder {
        coalescer: BatchCoalescer,
        batch_size: usize,
    },
    Shuffled(Box<ShuffleBuffer>),
}

impl Assembler {
    fn new(schema: SchemaRef, settings: &Settings) -> Self {
        match settings.shuffle {
            None => Assembler::InOrder {
                coalescer: BatchCoalescer::new(schema, settings.batch_size),
                batch_size: settings.batch_size,
            },
            Some(shuffle) => {
                Assembler::Shuffled(Box::new(ShuffleBuffer::new(shuffle, settings.batch_size)))
            }
        }
    }

    /// Takes a decoded batch; returns the batches now complete.
    fn push(&mut self, batch: RecordBatch) -> Result<Vec<RecordBatch>> {
        match self {
            Assembler::InOrder {
                coalescer,
                batch_size,
            } => {
                // A full batch goes straight to the training loop, ahead of any rows still
                // waiting to be joined: copying it behind them would cost a copy of every
                // batch once one row group's remainder were waiting.
                if batch.num_rows() == *batch_size {
                    return Ok(vec![batch]);
                }
                coalescer.push_batch(batch).map_err(assembling)?;
                Ok(std::iter::from_fn(|| coalescer.next_completed_batch()).collect())
            }
            Assembler::Shuffled(buffer) => buffer.push(batch),
        }
    }

    /// The remaining rows, as batches.
    fn finish(&mut self) -> Result<Vec<RecordBatch>> {
        match self {
            Assembler::InOrder { coalescer, .. } => {
                coalescer.finish_buffered_batch().map_err(assembling)?;
                Ok(std::iter::from_fn(|| coalescer.next_completed_batch()).collect())
            }
            Assembler::Shuffled(buffer) => buffer.finish(),
        }
    }
}

fn assembling(e: ArrowError) -> Error {
    Error::Engine {
        context: "assembling loader batches".into(),
        message: e.to_string(),
    }
}

/// A shuffle buffer: holds up to `capacity` rows; each batch is `batch_size` rows drawn from
/// it uniformly at random, as a streaming loader's shuffle buffer does.
struct ShuffleBuffer {
    rng: StdRng,
    capacity: usize,
    batch_size: usize,
    /// Decoded batches with rows still in the buffer.
    batches: Vec<RecordBatch>,
    /// Rows of `batches` still in the buffer.
    live: Vec<usize>,
    /// The buffered rows: (batch, row).
    rows: Vec<(usize, usize)>,
}

impl ShuffleBuffer {
    fn new(shuffle: Shuffle, batch_size: usize) -> Self {
        ShuffleBuffer {
            rng: StdRng::seed_from_u64(shuffle.seed),
            capacity: shuffle.buffer_rows.max(batch_size),
            batch_size,
            batches: Vec::new(),
            live: Vec::new(),
            rows: Vec::new(),
        }
    }

    fn push(&mut self, batch: RecordBatch) -> Result<Vec<RecordBatch>> {
        let index = self.batches.len();
        self.rows
            .extend((0..batch.num_rows()).map(|row| (index, row)));
        self.live.push(batch.num_rows());
        self.batches.push(batch);
        let mut out = Vec::new();
        while self.rows.len() >= self.capacity {
            out.push(self.draw(self.batch_size)?);
        }
        Ok(out)
    }

    fn finish(&mut self) -> Result<Vec<RecordBatch>> {
        let mut out = Vec::new();
        while !self.rows.is_empty() {
            out.push(self.draw(self.batch_size.min(self.rows.len()))?);
        }
        Ok(out)
    }

    /// Takes `n` random rows out of the buffer as one batch.
    fn draw(&mut self, n: usize) -> Result<RecordBatch> {
        let mut picked = Vec::with_capacity(n);
        for _ in 0..n {
            let at = self.rng.random_range(0..self.rows.len());
            let (batch, row) = self.rows.swap_remove(at);
            self.live[batch] -= 1;
            picked.push((batch, row));
        }
        let sources: Vec<&RecordBatch> = self.batches.iter().collect();
        let batch = interleave_record_batch(&sources, &picked).map_err(assembling)?;
        self.compact();
        Ok(batch)
    }

    /// Drops the batches whose rows have all been drawn, once they are half of those held.
    fn compact(&mut self) {
        let empty = self.live.iter().filter(|&&n| n == 0).count();
        if empty * 2 < self.batches.len() {
            return;
        }
        let mut renumber = vec![usize::MAX; self.batches.len()];
        let mut kept = 0;
        for (i, &live) in self.live.iter().enumerate() {
            if live > 0 {
                renumber[i] = kept;
                kept += 1;
            }
        }
        let batches = std::mem::take(&mut self.batches);
        self.batches = batches
            .into_iter()
            .zip(&self.live)
            .filter(|(_, live)| **live > 0)
            .map(|(b, _)| b)
            .collect();
        self.live.retain(|&n| n > 0);
        for (batch, _) in &mut self.rows {
            *batch = renumber[*batch];
        }
    }
}

/// The training loop's side: takes each batch as it comes and times it.
struct TrainingLoop {
    started: Instant,
    last: Instant,
    limit: Option<Limit>,
    counts_tokens: bool,
    rows: u64,
    batches: u64,
    tokens: u64,
    first_batch: Option<Duration>,
    latencies: Vec<f64>,
    limited: bool,
}

impl TrainingLoop {
    fn new(started: Instant, limit: Option<Limit>, counts_tokens: bool) -> Self {
        TrainingLoop {
            started,
            last: started,
            limit,
            counts_tokens,
            rows: 0,
            batches: 0,
            tokens: 0,
            first_batch: None,
            latencies: Vec::new(),
            limited: false,
        }
    }

    /// Takes one batch; false when a limit says to stop.
    fn take(&mut self, mut batch: RecordBatch) -> bool {
        let now = Instant::now();
        if let Some(Limit::Rows(limit)) = self.limit {
            let left = limit.saturating_sub(self.rows);
            if (batch.num_rows() as u64) >= left {
                batch = batch.slice(0, left as usize);
                self.limited = true;
            }
        }
        if batch.num_rows() == 0 {
            return !self.limited;
        }
        match self.first_batch {
            None => self.first_batch = Some(now - self.started),
            Some(_) => self.latencies.push((now - self.last).as_secs_f64()),
        }
        self.last = now;
        self.batches += 1;
        self.rows += batch.num_rows() as u64;
        if self.counts_tokens
            && let Some(counts) = batch
                .column(batch.num_columns() - 1)
                .as_any()
                .downcast_ref::<UInt32Array>()
        {
            self.tokens += counts.values().iter().map(|&n| u64::from(n)).sum::<u64>();
        }
        if let Some(Limit::Seconds(seconds)) = self.limit
            && (now - self.started).as_secs_f64() >= seconds
        {
            self.limited = true;
        }
        !self.limited
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{AsArray, Int64Array};
    use datafusion::arrow::datatypes::Int64Type;

    fn numbers(range: std::ops::Range<i64>) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from_iter_values(range))]).unwrap()
    }

    fn values(batches: &[RecordBatch]) -> Vec<i64> {
        batches
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
            .collect()
    }

    fn settings(shuffle: Option<Shuffle>) -> Settings {
        Settings {
            batch_size: 4,
            prefetch: 1,
            shuffle,
            epochs: 1,
            limit: None,
        }
    }

    fn assemble(settings: &Settings, input: &[RecordBatch]) -> Vec<RecordBatch> {
        let mut assembler = Assembler::new(input[0].schema(), settings);
        let mut out = Vec::new();
        for batch in input {
            out.extend(assembler.push(batch.clone()).unwrap());
        }
        out.extend(assembler.finish().unwrap());
        out
    }

    #[test]
    fn in_order_batches_are_full_and_keep_every_row_once() {
        let input = [
            numbers(0..4),
            numbers(4..7),
            numbers(7..11),
            numbers(11..13),
        ];
        let out = assemble(&settings(None), &input);
        let sizes: Vec<usize> = out.iter().map(RecordBatch::num_rows).collect();
        assert_eq!(sizes, [4, 4, 4, 1]);
        // Full batches pass through as they come; remainders are joined in order.
        assert_eq!(values(&out), [0, 1, 2, 3, 7, 8, 9, 10, 4, 5, 6, 11, 12]);
    }

    #[test]
    fn the_shuffle_buffer_keeps_every_row_once_and_is_seeded() {
        let shuffle = Shuffle {
            seed: 7,
            buffer_rows: 6,
        };
        let input: Vec<RecordBatch> = (0..10).map(|i| numbers(i * 5..i * 5 + 5)).collect();
        let out = assemble(&settings(Some(shuffle)), &input);
        assert!(out[..out.len() - 1].iter().all(|b| b.num_rows() == 4));
        let mut seen = values(&out);
        assert_ne!(seen, (0..50).collect::<Vec<_>>(), "not shuffled");
        assert_eq!(values(&assemble(&settings(Some(shuffle)), &input)), seen);
        seen.sort_unstable();
        assert_eq!(seen, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn the_row_group_order_is_shuffled_per_epoch_and_seeded() {
        let plan = Plan {
            files: Vec::new(),
            row_groups: (0..20).map(|index| RowGroup { file: 0, index }).collect(),
            schema: Arc::new(Schema::empty()),
            text_index: None,
        };
        let mut shuffled = settings(Some(Shuffle {
            seed: 1,
            buffer_rows: 1,
        }));
        shuffled.epochs = 2;
        let order: Vec<usize> = reading_order(&plan, &shuffled).map(|r| r.index).collect();
        let again: Vec<usize> = reading_order(&plan, &shuffled).map(|r| r.index).collect();
        assert_eq!(order, again);
        assert_eq!(order.len(), 40);
        assert_ne!(order[..20], order[20..], "each epoch has its own order");
        let mut first = order[..20].to_vec();
        first.sort_unstable();
        assert_eq!(first, (0..20).collect::<Vec<_>>());
        let in_order: Vec<usize> = reading_order(&plan, &settings(None))
            .map(|r| r.index)
            .collect();
        assert_eq!(in_order, (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn a_row_limit_cuts_the_last_batch() {
        let mut training = TrainingLoop::new(Instant::now(), Some(Limit::Rows(6)), false);
        assert!(training.take(numbers(0..4)));
        assert!(!training.take(numbers(4..8)));
        assert_eq!(training.rows, 6);
        assert!(training.limited);
        assert_eq!(training.latencies.len(), 1);
    }
}
