//! A step's materialised result: record batches held in memory under the memory budget, and
//! spilled to a local Parquet file beyond it, with the figures the report needs.

use std::collections::HashSet;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArrayType};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::TableProvider;
use datafusion::common::Column;
use datafusion::datasource::MemTable;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryPool, MemoryReservation};
use datafusion::functions::expr_fn::coalesce;
use datafusion::logical_expr::{Expr, lit};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use futures::StreamExt;
use rayon::iter::{IntoParallelIterator, ParallelIterator};
use tempfile::{TempDir, TempPath};

pub use super::udf::length_bin::{LENGTH_BINS, length_bin};

/// The column every intermediate carries: the row's position in the source (files in lexical
/// path order, rows in file order). Stages that keep "the first" row of a group use it.
pub const SOURCE_ROW: &str = "__source_row";

/// The columns a result carries once its tokens are counted: each row's tokens, and the
/// 64-bit xxh3 hash of the text they were counted on — a later step whose text hashes the
/// same (the row survived a filter, or a rewrite left it as it was) reuses the count.
pub const ROW_TOKENS: &str = "__tokens";
pub const ROW_TOKENS_TEXT_HASH: &str = "__tokens_text_hash";
/// In a result executors counted: whether the row's text was tokenized (not reused).
pub const ROW_TOKENS_FRESH: &str = "__tokens_fresh";

/// The columns prepcost adds to results and takes out of its output.
pub const HIDDEN_COLUMNS: [&str; 4] = [
    SOURCE_ROW,
    ROW_TOKENS,
    ROW_TOKENS_TEXT_HASH,
    ROW_TOKENS_FRESH,
];

/// Rows per row group in spill files: small enough for the next stage to read in parallel.
const SPILL_ROW_GROUP_ROWS: usize = 65_536;

/// Row and text counts of a result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextStats {
    pub rows: u64,
    /// UTF-8 bytes of the non-NULL values of the text column.
    pub text_bytes: u64,
    pub text_nulls: u64,
    /// How long the non-NULL texts are: entry 0 counts the empty ones, entry `i` those of
    /// 2^(i-1) to 2^i - 1 bytes (the last, those of 2^30 bytes or more).
    pub length_bins: [u64; LENGTH_BINS],
}

/// A materialised result, readable as a table by the next stage.
#[derive(Debug)]
pub struct Intermediate {
    schema: SchemaRef,
    storage: Storage,
    stats: TextStats,
    bytes: u64,
}

#[derive(Debug)]
enum Storage {
    /// Held in memory; the reservation keeps the pool's account of it until it is dropped.
    Memory {
        batches: Vec<RecordBatch>,
        reservation: MemoryReservation,
        /// Bytes of buffers it shares with the input it was collected against, which that
        /// input's reservation accounts for until [`Intermediate::take_over`].
        borrowed: usize,
    },
    /// Written to a temporary Parquet file, deleted when the result is dropped.
    Spilled { path: TempPath },
    /// Written as Parquet files into a temporary directory by a cluster's executors, with the
    /// schema `files`; with a `marker` column, the result is the rows whose marker is 0,
    /// without it.
    Written {
        dir: TempDir,
        files: SchemaRef,
        marker: Option<String>,
    },
}

impl Intermediate {
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    pub fn stats(&self) -> TextStats {
        self.stats
    }

    /// Memory held, or bytes on disk when spilled.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn spilled(&self) -> bool {
        !matches!(self.storage, Storage::Memory { .. })
    }

    /// The result a cluster's executors wrote into `dir` as files of the schema `files` (its
    /// rows whose `marker` column is 0, when one is named), whose own figures are `stats`.
    pub fn written(dir: TempDir, files: SchemaRef, marker: Option<&str>, stats: TextStats) -> Self {
        let bytes = std::fs::read_dir(dir.path())
            .into_iter()
            .flatten()
            .filter_map(|entry| entry.ok()?.metadata().ok())
            .map(|metadata| metadata.len())
            .sum();
        let schema = match marker {
            Some(marker) => {
                let kept = files.fields().iter().filter(|f| f.name() != marker);
                Arc::new(datafusion::arrow::datatypes::Schema::new_with_metadata(
                    kept.cloned().collect::<Vec<_>>(),
                    files.metadata().clone(),
                ))
            }
            None => Arc::clone(&files),
        };
        Intermediate {
            schema,
            storage: Storage::Written {
                dir,
                files,
                marker: marker.map(str::to_string),
            },
            stats,
            bytes,
        }
    }

    /// Drops `input`, the result this one was collected against ([`Collector::sharing`]),
    /// taking over the pool's account of the buffers they share, which stay held. Then, if
    /// much of the text those buffers hold is no longer shown by any row (rows a filter
    /// dropped, values a rewrite replaced), copies what is shown into buffers of its own.
    pub fn take_over(&mut self, input: Intermediate) -> Result<()> {
        let Storage::Memory {
            reservation,
            borrowed,
            ..
        } = &mut self.storage
        else {
            return Ok(());
        };
        if let Storage::Memory {
            reservation: theirs,
            ..
        } = &input.storage
        {
            let moved = (*borrowed).min(theirs.size());
            theirs.shrink(moved);
            reservation.grow(moved);
        }
        *borrowed = 0;
        drop(input);
        self.release_dead_text()
    }

    /// Copies the string view columns into fresh buffers when more than an eighth of the
    /// bytes their buffers hold is shown by no row — batch by batch, in parallel, so the old
    /// buffers are freed as it goes. Reading the input's pages in place is what keeps a stage
    /// fast; keeping them once the input is gone would hold every dropped or rewritten text.
    fn release_dead_text(&mut self) -> Result<()> {
        let Storage::Memory {
            batches,
            reservation,
            ..
        } = &mut self.storage
        else {
            return Ok(());
        };
        let (held, shown) = view_buffer_use(batches);
        if held - shown <= held / 8 + (1 << 20) {
            return Ok(());
        }
        *batches = std::mem::take(batches)
            .into_par_iter()
            .map(|batch| gc_views(batch, |_| true))
            .collect::<Result<_>>()?;
        let mut seen = HashSet::new();
        let bytes: usize = batches
            .iter()
            .map(|batch| new_buffer_bytes(&mut seen, batch))
            .sum();
        reservation.resize(bytes);
        self.bytes = bytes as u64;
        Ok(())
    }

    /// The result as a table, split into `partitions` for parallel reading.
    pub async fn table(
        &self,
        ctx: &SessionContext,
        partitions: usize,
    ) -> Result<Arc<dyn TableProvider>> {
        match &self.storage {
            Storage::Memory { batches, .. } => {
                let partitions = partitions.clamp(1, batches.len().max(1));
                let mut split = vec![Vec::new(); partitions];
                for (i, batch) in batches.iter().enumerate() {
                    split[i % partitions].push(batch.clone());
                }
                Ok(Arc::new(MemTable::try_new(
                    Arc::clone(&self.schema),
                    split,
                )?))
            }
            Storage::Spilled { path } => {
                let path = path.to_str().ok_or_else(|| {
                    DataFusionError::Execution(format!("spill path {path:?} is not UTF-8"))
                })?;
                // Plain string arrays: views into whole decoded pages would make every batch
                // look as large as its pages to the operators that reserve memory per batch.
                let schema = without_views(&self.schema);
                let options = ParquetReadOptions::default().schema(&schema);
                Ok(ctx.read_parquet(path, options).await?.into_view())
            }
            Storage::Written { dir, files, marker } => {
                let path = dir.path().to_str().ok_or_else(|| {
                    DataFusionError::Execution(format!("result directory {dir:?} is not UTF-8"))
                })?;
                let schema = without_views(files);
                let options = ParquetReadOptions::default().schema(&schema);
                let frame = ctx.read_parquet(format!("{path}/"), options).await?;
                let frame = match marker {
                    Some(marker) => {
                        let column = Expr::Column(Column::new_unqualified(marker));
                        frame
                            .filter(coalesce(vec![column, lit(0)]).eq(lit(0)))?
                            .drop_columns(&[marker.as_str()])?
                    }
                    None => frame,
                };
                Ok(frame.into_view())
            }
        }
    }
}

/// Collects a stream of batches into an [`Intermediate`]: in memory while it stays under its
/// cap and the pool grants room, then — at the first refusal — everything goes to a spill file.
pub struct Collector<'a> {
    schema: SchemaRef,
    text_index: Option<usize>,
    reservation: MemoryReservation,
    cap: usize,
    seen_buffers: HashSet<usize>,
    /// Buffers of the input this result is collected against, accounted there.
    input_buffers: HashSet<usize>,
    /// Bytes of `input_buffers` this result holds.
    borrowed: usize,
    batches: Vec<RecordBatch>,
    bytes: u64,
    stats: TextStats,
    spill: Option<(ArrowWriter<File>, TempPath)>,
    spill_dir: &'a Path,
    name: String,
}

impl<'a> Collector<'a> {
    /// A collector for `schema`, counting text in `text_column`, holding at most `cap` bytes
    /// reserved from `pool` as `name`, and spilling into `spill_dir`.
    pub fn new(
        schema: SchemaRef,
        text_column: &str,
        pool: &Arc<dyn MemoryPool>,
        cap: usize,
        name: &str,
        spill_dir: &'a Path,
    ) -> Self {
        Collector {
            text_index: schema.index_of(text_column).ok(),
            schema,
            reservation: MemoryConsumer::new(format!("result of {name}")).register(pool),
            cap,
            seen_buffers: HashSet::new(),
            input_buffers: HashSet::new(),
            borrowed: 0,
            batches: Vec::new(),
            bytes: 0,
            stats: TextStats::default(),
            spill: None,
            spill_dir,
            name: name.to_string(),
        }
    }

    /// Does not count again the buffers this result shares with `input` (string views into
    /// the same pages, columns passed through), which `input` accounts for; the result takes
    /// them over when `input` is dropped ([`Intermediate::take_over`]).
    pub fn sharing(mut self, input: &Intermediate) -> Self {
        if let Storage::Memory { batches, .. } = &input.storage {
            for batch in batches {
                for_new_buffers(&mut self.input_buffers, batch, |_, _| {});
            }
        }
        self
    }

    /// Collects every batch of `stream`.
    pub async fn drain(mut self, mut stream: SendableRecordBatchStream) -> Result<Intermediate> {
        while let Some(batch) = stream.next().await {
            self.push(batch?)?;
        }
        self.finish()
    }

    /// Adds one batch.
    pub fn push(&mut self, batch: RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.stats.rows += batch.num_rows() as u64;
        if let Some(i) = self.text_index {
            measure_texts(batch.column(i), &mut self.stats);
        }
        if let Some((writer, _)) = &mut self.spill {
            return Ok(writer.write(&batch)?);
        }
        let batch = compact(batch, &self.seen_buffers, &self.input_buffers)?;
        let (additional, borrowed) = new_bytes(&mut self.seen_buffers, &self.input_buffers, &batch);
        // The cap is on all the result holds, borrowed or not: it becomes the next input.
        let fits = self.bytes as usize + additional + borrowed <= self.cap;
        if fits && self.reservation.try_grow(additional).is_ok() {
            self.bytes += (additional + borrowed) as u64;
            self.borrowed += borrowed;
            self.batches.push(batch);
            return Ok(());
        }
        self.start_spilling()?;
        let (writer, _) = self.spill.as_mut().expect("spilling has started");
        Ok(writer.write(&batch)?)
    }

    fn start_spilling(&mut self) -> Result<()> {
        let file = tempfile::Builder::new()
            .prefix(&format!("{}-", sanitize(&self.name)))
            .suffix(".parquet")
            .tempfile_in(self.spill_dir)?;
        let (file, path) = file.into_parts();
        let properties = WriterProperties::builder()
            .set_compression(Compression::LZ4_RAW)
            .set_max_row_group_row_count(Some(SPILL_ROW_GROUP_ROWS))
            .build();
        let mut writer = ArrowWriter::try_new(file, Arc::clone(&self.schema), Some(properties))?;
        for batch in self.batches.drain(..) {
            writer.write(&batch)?;
        }
        self.reservation.free();
        self.seen_buffers.clear();
        self.borrowed = 0;
        self.spill = Some((writer, path));
        Ok(())
    }

    /// The collected result. With a cap of 0 (a cluster's session) it is a file even when
    /// it is empty.
    pub fn finish(mut self) -> Result<Intermediate> {
        if self.cap == 0 && self.spill.is_none() {
            self.start_spilling()?;
        }
        let storage;
        let bytes;
        match self.spill {
            Some((writer, path)) => {
                writer.close()?;
                bytes = std::fs::metadata(&path)?.len();
                storage = Storage::Spilled { path };
            }
            None => {
                bytes = self.bytes;
                storage = Storage::Memory {
                    batches: self.batches,
                    reservation: self.reservation,
                    borrowed: self.borrowed,
                };
            }
        }
        Ok(Intermediate {
            schema: self.schema,
            storage,
            stats: self.stats,
            bytes,
        })
    }
}

/// Copies a string view column into fresh buffers when keeping it would retain much more new
/// data than it shows — typically after a filter kept few rows of a decoded page. Buffers the
/// result already holds (`seen`) or shares with its input (`shared`: the batches of the input
/// together show them whole) cost nothing more and are kept as they are.
fn compact(
    batch: RecordBatch,
    seen: &HashSet<usize>,
    shared: &HashSet<usize>,
) -> Result<RecordBatch> {
    let sparse = |a: &ArrayRef| {
        let Some(views) = a.as_string_view_opt() else {
            return false;
        };
        let new: usize = views
            .data_buffers()
            .iter()
            .filter(|b| {
                let address = b.data_ptr().as_ptr() as usize;
                !seen.contains(&address) && !shared.contains(&address)
            })
            .map(|b| b.capacity())
            .sum();
        new > 2 * views.total_buffer_bytes_used() + (64 << 10)
    };
    gc_views(batch, sparse)
}

/// `batch` with the string view columns `which` picks copied into buffers of their own.
fn gc_views(batch: RecordBatch, which: impl Fn(&ArrayRef) -> bool) -> Result<RecordBatch> {
    if !batch.columns().iter().any(&which) {
        return Ok(batch);
    }
    let columns = batch
        .columns()
        .iter()
        .map(|c| match c.as_string_view_opt() {
            Some(views) if which(c) => Arc::new(views.gc()) as ArrayRef,
            _ => Arc::clone(c),
        })
        .collect();
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}

/// `schema` with string and binary views as plain string and binary arrays.
pub fn without_views(schema: &SchemaRef) -> datafusion::arrow::datatypes::Schema {
    use datafusion::arrow::datatypes::{Field, Schema};
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8View => f.as_ref().clone().with_data_type(DataType::Utf8),
            DataType::BinaryView => f.as_ref().clone().with_data_type(DataType::Binary),
            _ => f.as_ref().clone(),
        })
        .collect();
    Schema::new_with_metadata(fields, schema.metadata().clone())
}

/// Bytes held by the distinct data buffers of the string view columns of `batches`, and bytes
/// of those buffers that some row's value is (values of 12 bytes or less live in the view).
fn view_buffer_use(batches: &[RecordBatch]) -> (usize, usize) {
    let mut seen = HashSet::new();
    let (mut held, mut shown) = (0, 0);
    for views in batches
        .iter()
        .flat_map(|b| b.columns())
        .filter_map(|c| c.as_string_view_opt())
    {
        for buffer in views.data_buffers() {
            if seen.insert(buffer.data_ptr().as_ptr() as usize) {
                held += buffer.capacity();
            }
        }
        shown += views.total_buffer_bytes_used();
    }
    (held, shown.min(held))
}

/// A name usable in a file name.
pub fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Bytes of the buffers of `batch` not yet in `seen` (added to it): its own, and those `input`
/// holds.
fn new_bytes(
    seen: &mut HashSet<usize>,
    input: &HashSet<usize>,
    batch: &RecordBatch,
) -> (usize, usize) {
    let (mut own, mut shared) = (0, 0);
    for_new_buffers(seen, batch, |buffer, bytes| {
        if input.contains(&buffer) {
            shared += bytes;
        } else {
            own += bytes;
        }
    });
    (own, shared)
}

/// Bytes of the buffers of `batch` not yet in `seen` (added to it).
pub fn new_buffer_bytes(seen: &mut HashSet<usize>, batch: &RecordBatch) -> usize {
    let mut bytes = 0;
    for_new_buffers(seen, batch, |_, capacity| bytes += capacity);
    bytes
}

/// Calls `f` with the address and capacity of each buffer of `batch` not yet in `seen`, and
/// adds it: batches that share buffers (string views into one decoded page, slices of one
/// allocation) are counted once.
fn for_new_buffers(
    seen: &mut HashSet<usize>,
    batch: &RecordBatch,
    mut f: impl FnMut(usize, usize),
) {
    fn walk(
        seen: &mut HashSet<usize>,
        data: &datafusion::arrow::array::ArrayData,
        f: &mut impl FnMut(usize, usize),
    ) {
        let nulls = data.nulls().map(|n| n.buffer());
        for buffer in data.buffers().iter().chain(nulls) {
            let address = buffer.data_ptr().as_ptr() as usize;
            if seen.insert(address) {
                f(address, buffer.capacity());
            }
        }
        for child in data.child_data() {
            walk(seen, child, f);
        }
    }
    for column in batch.columns() {
        walk(seen, &column.to_data(), &mut f);
    }
}

/// UTF-8 bytes of the non-NULL values of a string column, and its NULL count.
fn measure_texts(array: &ArrayRef, stats: &mut TextStats) {
    fn add<'a>(values: impl StringArrayType<'a>, stats: &mut TextStats) {
        for text in values.iter().flatten() {
            stats.text_bytes += text.len() as u64;
            stats.length_bins[length_bin(text.len())] += 1;
        }
    }
    match array.data_type() {
        DataType::Utf8 => add(array.as_string::<i32>(), stats),
        DataType::LargeUtf8 => add(array.as_string::<i64>(), stats),
        DataType::Utf8View => add(array.as_string_view(), stats),
        _ => {}
    }
    stats.text_nulls += array.null_count() as u64;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::memory::new_pool;
    use datafusion::arrow::array::{StringViewArray, UInt64Array};
    use datafusion::arrow::datatypes::{Field, Schema};

    fn batch(texts: &[Option<&str>], first: u64) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("text", DataType::Utf8View, true),
            Field::new("n", DataType::UInt64, false),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(texts.iter().copied().collect::<StringViewArray>()),
                Arc::new(UInt64Array::from_iter_values(
                    first..first + texts.len() as u64,
                )),
            ],
        )
        .unwrap()
    }

    async fn collect(limit: usize, batches: &[RecordBatch]) -> (Intermediate, usize) {
        let (pool, shared) = new_pool(limit);
        let dir = tempfile::tempdir().unwrap();
        let mut collector =
            Collector::new(batches[0].schema(), "text", &shared, limit, "t", dir.path());
        for b in batches {
            collector.push(b.clone()).unwrap();
        }
        let result = collector.finish().unwrap();
        // Keep the spill directory alive while the test reads the result.
        std::mem::forget(dir);
        (result, pool.peak())
    }

    #[tokio::test]
    async fn small_results_stay_in_memory_and_are_counted_once() {
        let b = batch(
            &[
                Some("a long enough string to be out of line"),
                None,
                Some("é"),
            ],
            0,
        );
        let (result, peak) = collect(1 << 20, &[b.clone(), b.slice(0, 1)]).await;
        assert!(!result.spilled());
        assert_eq!(
            result.stats(),
            TextStats {
                rows: 4,
                text_bytes: 38 + 2 + 38,
                text_nulls: 1,
                length_bins: {
                    let mut bins = [0; LENGTH_BINS];
                    bins[length_bin(2)] = 1;
                    bins[length_bin(38)] = 2;
                    bins
                },
            }
        );
        // The slice shares the first batch's buffers: no extra bytes.
        let alone = collect(1 << 20, &[b]).await.0.bytes();
        assert_eq!(result.bytes(), alone);
        assert_eq!(peak as u64, alone);
    }

    #[tokio::test]
    async fn buffers_a_result_shares_with_its_input_are_accounted_once() {
        let (_, pool) = new_pool(1 << 30);
        let dir = tempfile::tempdir().unwrap();
        let collector = |name| {
            Collector::new(
                batch(&[], 0).schema(),
                "text",
                &pool,
                1 << 30,
                name,
                dir.path(),
            )
        };
        let long = "a long enough string to be out of line";
        let old = batch(&[Some(long), Some("é"), Some(long)], 0);
        let new = batch(&[Some("another string, long enough to be out of line")], 3);
        let mut c = collector("input");
        c.push(old.clone()).unwrap();
        let input = c.finish().unwrap();
        let mut c = collector("new");
        c.push(new.clone()).unwrap();
        let new_alone = c.finish().unwrap().bytes() as usize;
        let input_bytes = input.bytes() as usize;
        assert_eq!(pool.reserved(), input_bytes);

        // A filter kept one old row (sharing all of its batch's buffers) and made one new row.
        let mut c = collector("result").sharing(&input);
        c.push(old.slice(0, 1)).unwrap();
        c.push(new).unwrap();
        let mut result = c.finish().unwrap();
        assert_eq!(result.bytes() as usize, input_bytes + new_alone);
        assert_eq!(pool.reserved(), input_bytes + new_alone);
        result.take_over(input).unwrap();
        assert_eq!(
            pool.reserved(),
            input_bytes + new_alone,
            "the old buffers are still held"
        );
        drop(result);
        assert_eq!(pool.reserved(), 0);
    }

    #[tokio::test]
    async fn a_result_keeping_few_rows_of_its_inputs_pages_copies_them() {
        let (_, pool) = new_pool(1 << 30);
        let dir = tempfile::tempdir().unwrap();
        let long = "x".repeat(4 << 20);
        let kept = "a row of more than twelve bytes";
        let old = batch(&[Some(&long), Some(kept)], 0);
        let mut c = Collector::new(old.schema(), "text", &pool, 1 << 30, "in", dir.path());
        c.push(old.clone()).unwrap();
        let input = c.finish().unwrap();
        let mut c =
            Collector::new(old.schema(), "text", &pool, 1 << 30, "out", dir.path()).sharing(&input);
        c.push(old.slice(1, 1)).unwrap();
        let mut result = c.finish().unwrap();
        result.take_over(input).unwrap();
        assert!(result.bytes() < 64 << 10, "{} bytes", result.bytes());
        assert_eq!(pool.reserved() as u64, result.bytes());
    }

    #[tokio::test]
    async fn a_result_showing_most_of_its_inputs_text_keeps_the_pages() {
        let (_, pool) = new_pool(1 << 30);
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<String> = (0..16).map(|i| format!("{i:x}").repeat(1 << 20)).collect();
        let old = batch(
            &rows.iter().map(|r| Some(r.as_str())).collect::<Vec<_>>(),
            0,
        );
        let page = |b: &RecordBatch| b.column(0).as_string_view().data_buffers()[0].as_ptr();
        let collect = |keep: usize, input: &Intermediate| {
            let mut c = Collector::new(old.schema(), "text", &pool, 1 << 30, "out", dir.path())
                .sharing(input);
            c.push(old.slice(0, keep)).unwrap();
            c.finish().unwrap()
        };
        // 1 MiB of 16 shown by no row is kept, 8 MiB are not.
        for (keep, copied) in [(15, false), (8, true)] {
            let mut c = Collector::new(old.schema(), "text", &pool, 1 << 30, "in", dir.path());
            c.push(old.clone()).unwrap();
            let input = c.finish().unwrap();
            let mut result = collect(keep, &input);
            result.take_over(input).unwrap();
            let Storage::Memory { batches, .. } = &result.storage else {
                panic!("spilled")
            };
            assert_eq!(page(&batches[0]) != page(&old), copied, "{keep} of 16 kept");
            assert_eq!(pool.reserved() as u64, result.bytes());
        }
    }

    #[tokio::test]
    async fn results_beyond_the_budget_spill_and_read_back_the_same() {
        let batches: Vec<RecordBatch> = (0..20)
            .map(|i| batch(&[Some(&"x".repeat(1000)), Some("y"), None], i * 3))
            .collect();
        let (in_memory, _) = collect(1 << 30, &batches).await;
        let (spilled, _) = collect(4096, &batches).await;
        assert!(!in_memory.spilled());
        assert!(spilled.spilled());
        assert_eq!(in_memory.stats(), spilled.stats());
        let ctx = SessionContext::new();
        for result in [in_memory, spilled] {
            ctx.register_table("r", result.table(&ctx, 4).await.unwrap())
                .unwrap();
            let rows = ctx
                .sql("SELECT count(*), sum(n), sum(length(text)) FROM r")
                .await
                .unwrap()
                .collect()
                .await
                .unwrap();
            let line = datafusion::arrow::util::pretty::pretty_format_batches(&rows)
                .unwrap()
                .to_string();
            let cells: Vec<&str> = line
                .lines()
                .nth(3)
                .unwrap()
                .split('|')
                .map(str::trim)
                .collect();
            assert_eq!(cells, ["", "60", "1770", "20020", ""], "{line}");
            ctx.deregister_table("r").unwrap();
        }
    }
}
