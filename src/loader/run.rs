//! One loader run: fetch row groups ahead, decode and tokenize them on worker threads, and
//! hand batches to a training loop that times them.
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
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::parquet::DecodeResult;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReader;
use datafusion::parquet::arrow::push_decoder::ParquetPushDecoderBuilder;
use futures::{FutureExt, StreamExt};
use object_store::{ObjectStore, ObjectStoreExt};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use tokio::sync::mpsc;

use super::assemble::Assembler;
use super::plan::{FileKind, Plan, RowGroup};
use super::{Limit, Settings};
use crate::error::{Error, Result, panic_message};
use crate::source::textscan;
use crate::tokenizer::Tokenizer;
use crate::util::resources;

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

/// One unit fetched, ready to decode: a row group's reader, or a whole text file's bytes.
struct Work {
    data: Fetched,
    file: usize,
    row_group: usize,
}

enum Fetched {
    RowGroup(ParquetRecordBatchReader),
    File(bytes::Bytes),
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
    on_progress: &mut (dyn FnMut(Progress) + Send),
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
    let tokenizer = tokenizer.filter(|_| plan.text_index.is_some());
    let pool = start_workers(plan, work_queue, decoded_sender, tokenizer, workers)?;

    let mut training = TrainingLoop::new(started, settings.limit, tokenizer.is_some());
    let mut measured = Measured {
        workers,
        ..Measured::default()
    };
    let mut assembler = Assembler::new(plan.delivered_schema(), settings);
    let outcome = deliver(
        &mut decoded,
        &mut assembler,
        &mut training,
        &mut measured,
        on_progress,
    )
    .await;
    let wall = started.elapsed();
    // Stop the fetcher and the workers: closing the channels ends them.
    drop(decoded);
    fetcher.abort();
    let _ = fetcher.await;
    let stopped = tokio::task::spawn_blocking(move || {
        pool.into_iter()
            .map(std::thread::JoinHandle::join)
            .find_map(Result::err)
    })
    .await
    .map_err(|e| Error::Engine {
        context: "stopping the loader workers".into(),
        message: e.to_string(),
    })?;
    outcome?;
    // A worker that died would have lost its row group's rows.
    if let Some(panic) = stopped {
        return Err(Error::Engine {
            context: "a loader worker".into(),
            message: panic_message(&*panic),
        });
    }

    measured.rows = training.rows;
    measured.batches = training.batches;
    measured.tokens = training.tokens;
    measured.wall_seconds = wall.as_secs_f64();
    measured.cpu_seconds = resources::cpu_time()
        .saturating_sub(cpu_at_start)
        .as_secs_f64();
    measured.time_to_first_batch_seconds = training.first_batch.unwrap_or(wall).as_secs_f64();
    measured.batch_latencies = training.latencies;
    measured.limited = training.limited;
    Ok(measured)
}

/// Starts `workers` decode threads reading from `queue` and sending to `out`.
fn start_workers(
    plan: &Arc<Plan>,
    queue: mpsc::Receiver<Result<Work>>,
    out: mpsc::Sender<Result<Decoded>>,
    tokenizer: Option<&Arc<Tokenizer>>,
    workers: usize,
) -> Result<Vec<std::thread::JoinHandle<()>>> {
    let queue = Arc::new(Mutex::new(queue));
    (0..workers)
        .map(|i| {
            let worker = Worker {
                plan: Arc::clone(plan),
                queue: Arc::clone(&queue),
                out: out.clone(),
                tokenizer: tokenizer.cloned(),
                schema: plan.delivered_schema(),
            };
            std::thread::Builder::new()
                .name(format!("prepcost-loader-{i}"))
                .spawn(move || worker.run())
                .map_err(|e| Error::io("starting a loader worker thread", e))
        })
        .collect()
}

/// Hands the decoded batches, cut to size, to the training loop until the data or a limit
/// ends, reporting progress about once a second.
async fn deliver(
    decoded: &mut mpsc::Receiver<Result<Decoded>>,
    assembler: &mut Assembler,
    training: &mut TrainingLoop,
    measured: &mut Measured,
    on_progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<()> {
    let mut last_progress = Instant::now();
    while let Some(item) = decoded.recv().await {
        let item = item?;
        measured.decoded_bytes += item.bytes;
        measured.row_groups += u64::from(item.starts_row_group);
        for batch in assembler.push(item.batch)? {
            if !training.take(batch) {
                return Ok(());
            }
        }
        if last_progress.elapsed() >= Duration::from_secs(1) {
            last_progress = Instant::now();
            on_progress(Progress {
                rows: training.rows,
                tokens: training.tokens,
                decoded_bytes: measured.decoded_bytes,
                elapsed: training.started.elapsed(),
            });
        }
    }
    for batch in assembler.finish()? {
        if !training.take(batch) {
            break;
        }
    }
    Ok(())
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
        .map(|row_group| {
            fetch_guarded(Arc::clone(&plan), Arc::clone(&store), row_group, batch_size)
        })
        .buffered(depth.max(1));
    while let Some(work) = fetched.next().await {
        let failed = work.is_err();
        if queue.send(work).await.is_err() || failed {
            return;
        }
    }
}

/// [`fetch`], with a panic of the decoder (on a corrupt footer or page header) turned into
/// this row group's error rather than a run that quietly ends early.
async fn fetch_guarded(
    plan: Arc<Plan>,
    store: Arc<dyn ObjectStore>,
    unit: RowGroup,
    batch_size: usize,
) -> Result<Work> {
    let fetched = fetch(Arc::clone(&plan), store, unit, batch_size);
    match AssertUnwindSafe(fetched).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => Err(plan.row_group_error(
            unit.file,
            unit.index,
            &format!(
                "the Parquet reader failed on malformed data ({})",
                panic_message(&*panic)
            ),
        )),
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
    let fail = |message: String| plan.row_group_error(unit.file, unit.index, &message);
    let (metadata, mask) = match &file.kind {
        FileKind::Parquet { metadata, mask } => (metadata, mask),
        FileKind::Text { .. } => {
            let got = store
                .get(&file.path)
                .await
                .map_err(|e| fail(e.to_string()))?;
            let bytes = got.bytes().await.map_err(|e| fail(e.to_string()))?;
            return Ok(Work {
                data: Fetched::File(bytes),
                file: unit.file,
                row_group: unit.index,
            });
        }
    };
    let mut decoder = ParquetPushDecoderBuilder::new_with_metadata(metadata.clone())
        .with_projection(mask.clone())
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
                    data: Fetched::RowGroup(reader),
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
            let go_on = match work {
                None => false,
                Some(Err(e)) => {
                    let _ = self.out.blocking_send(Err(e));
                    false
                }
                Some(Ok(work)) => self.decode(work),
            };
            if !go_on {
                return;
            }
        }
    }

    /// Decodes one row group and passes its batches on; false when the run is over (an
    /// error, or the training loop gone). A row group that yields fewer rows than its footer
    /// gives is an error: a loader must not lose rows quietly.
    fn decode(&self, work: Work) -> bool {
        let fail = |message: String| {
            self.plan
                .row_group_error(work.file, work.row_group, &message)
        };
        let mut reader = match work.data {
            Fetched::RowGroup(reader) => reader,
            Fetched::File(bytes) => return self.decode_text(work.file, bytes),
        };
        let mut rows = 0u64;
        for i in 0.. {
            // Corrupt data can make the decoder panic: that is this row group's error.
            let next = std::panic::catch_unwind(AssertUnwindSafe(|| reader.next())).unwrap_or_else(
                |panic| {
                    Some(Err(ArrowError::ExternalError(
                        panic_message(panic.as_ref()).into(),
                    )))
                },
            );
            let Some(batch) = next else { break };
            match self.pass_on(batch.map_err(|e| e.to_string()), i == 0, &fail) {
                Some(n) => rows += n,
                None => return false,
            }
        }
        let FileKind::Parquet { metadata, .. } = &self.plan.files[work.file].kind else {
            return true;
        };
        let expected = metadata.metadata().row_group(work.row_group).num_rows();
        if rows < u64::try_from(expected).unwrap_or(0) {
            let lost = fail(format!(
                "{rows} of the {expected} rows its footer gives were decoded; its data is cut short or corrupt"
            ));
            let _ = self.out.blocking_send(Err(lost));
            return false;
        }
        true
    }

    /// Decompresses and decodes a whole JSONL or CSV file, keeps the plan's columns and
    /// passes its batches on; false when the run is over.
    fn decode_text(&self, file: usize, bytes: bytes::Bytes) -> bool {
        let fail = |message: String| self.plan.row_group_error(file, 0, &message);
        let FileKind::Text {
            compression,
            format,
            schema,
            columns,
            ..
        } = &self.plan.files[file].kind
        else {
            return false;
        };
        let read = textscan::decode_file(
            bytes,
            *compression,
            (*format, Arc::clone(schema)),
            self.plan.on_error,
        );
        let batches = match read {
            Ok(read) => {
                self.plan.record_skipped(file, read.skipped_lines);
                read.batches
            }
            Err(message) => {
                let _ = self.out.blocking_send(Err(fail(message)));
                return false;
            }
        };
        batches.into_iter().enumerate().all(|(i, batch)| {
            let batch = batch.project(columns).map_err(|e| e.to_string());
            self.pass_on(batch, i == 0, &fail).is_some()
        })
    }

    /// Finishes a decoded batch (the first of its unit when `first`) and passes it on, or
    /// its error; its rows, or `None` when the run is over (an error, or the training loop
    /// gone).
    fn pass_on(
        &self,
        batch: Result<RecordBatch, String>,
        first: bool,
        fail: &impl Fn(String) -> Error,
    ) -> Option<u64> {
        let decoded = batch
            .and_then(|batch| self.finish(batch))
            .map_err(fail)
            .map(|(batch, bytes)| Decoded {
                batch,
                bytes,
                starts_row_group: first,
            });
        let rows = decoded.as_ref().map_or(0, |d| d.batch.num_rows() as u64);
        let failed = decoded.is_err();
        if self.out.blocking_send(decoded).is_err() || failed {
            return None;
        }
        Some(rows)
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
    use datafusion::arrow::datatypes::Schema;

    use super::*;
    use crate::loader::Shuffle;
    use crate::loader::testing::{numbers, settings};
    use crate::source::OnError;

    #[test]
    fn the_row_group_order_is_shuffled_per_epoch_and_seeded() {
        let plan = Plan {
            files: Vec::new(),
            row_groups: (0..20).map(|index| RowGroup { file: 0, index }).collect(),
            schema: Arc::new(Schema::empty()),
            text_index: None,
            on_error: OnError::Fail,
            skipped_lines: Default::default(),
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
