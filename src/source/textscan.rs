//! Reads JSONL and CSV sources for `profile` in source order — files in lexical path order,
//! rows in file order — through DataFusion's decompressors and arrow's JSON and CSV decoders,
//! and tags every row with its position in `__source_row`.
//!
//! Files are decoded concurrently, each by a task of its own, and numbered in order as they
//! come back. Without footers, the rows and the decompressed size are counted by the scan
//! itself. A JSONL line that does not decode fails the scan naming its file and line, or is
//! counted and left out with `--on-error skip`.

use std::io::Cursor;
use std::sync::Arc;

use bytes::Bytes;
use datafusion::arrow::array::{RecordBatch, UInt64Array};
use datafusion::arrow::compute::BatchCoalescer;
use datafusion::arrow::csv::reader::Format as CsvFormat;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::json::reader::infer_json_schema_from_iterator;
use datafusion::common::runtime::SpawnedTask;
use datafusion::error::DataFusionError;
use futures::StreamExt;
use object_store::ObjectMeta;

use super::sampling::{SamplePlan, UnitsBuilder, keep_rows};
use super::scan::{Scanned, check_columns, list_units};
use super::spec::{OnError, SourceSpec};
use super::textfiles::{self, Compression, TextFormat};
use crate::engine::{SOURCE_ROW, Session};
use crate::error::{Error, Result, clean, describe};
use crate::storage::Location;

/// Rows per decoded batch: DataFusion's default batch size.
const BATCH_ROWS: usize = 8192;
/// Decompressed bytes of the first file the columns are inferred from.
const INFER_BYTES: usize = 1 << 20;
/// Decompressed bytes handed to the JSON decoder at once (cut at a line end).
const JSON_CHUNK: usize = 4 << 20;

/// The JSONL or CSV files of a source, in lexical path order.
#[derive(Debug, Clone)]
pub struct TextFiles {
    pub location: Location,
    pub format: TextFormat,
    pub files: Vec<(ObjectMeta, Compression)>,
}

impl TextFiles {
    /// The JSONL or CSV files at `location`, or `None` when it has none.
    pub async fn find(location: &Location) -> Result<Option<Self>> {
        Ok(textfiles::find(location)
            .await?
            .map(|(format, files)| TextFiles {
                location: location.clone(),
                format,
                files,
            }))
    }

    /// True when `location` names one JSONL or CSV file (read as such, not tried as Parquet).
    pub fn names_one(location: &Location) -> bool {
        location.is_object
            && location
                .path
                .filename()
                .and_then(textfiles::classify)
                .is_some()
    }

    /// Bytes on storage, all files together.
    pub fn file_bytes(&self) -> u64 {
        self.files.iter().map(|(o, _)| o.size).sum()
    }
}

/// What a scan of text files read.
pub struct TextScanned {
    pub scanned: Scanned,
    /// Rows of the files (before a sample kept some of them).
    pub rows: u64,
    pub decompressed_bytes: u64,
    /// JSONL lines left out with `--on-error skip`.
    pub skipped_lines: u64,
}

/// One file decoded.
#[derive(Debug, Default)]
pub struct FileRead {
    pub batches: Vec<RecordBatch>,
    pub decompressed: u64,
    pub skipped_lines: u64,
}

/// Reads `files` — or the rows `sample` keeps of them — in source order.
pub async fn scan_text(
    session: &Session,
    files: &TextFiles,
    source: &SourceSpec,
    sample: Option<&SamplePlan>,
) -> Result<TextScanned> {
    let display = |o: &ObjectMeta| files.location.show(&o.location);
    let first = files.files.first().ok_or_else(|| Error::NoDataFiles {
        path: files.location.display.clone(),
        looked_for: "*.jsonl, *.ndjson, *.json, *.csv, *.tsv".into(),
    })?;
    let file_schema = infer(&files.location, first, files.format)
        .await
        .map_err(|message| Error::SourceFile {
            path: display(&first.0),
            message,
        })?;
    check_columns(&file_schema, source, &files.location.display)?;
    let mut fields = file_schema.fields().to_vec();
    fields.push(Arc::new(Field::new(SOURCE_ROW, DataType::UInt64, false)));
    let schema = Arc::new(Schema::new(fields));
    let mut reads = futures::stream::iter(files.files.iter().cloned())
        .map(|(object, compression)| {
            let (location, format) = (files.location.clone(), files.format);
            let (schema, on_error) = (Arc::clone(&file_schema), source.on_error);
            let path = display(&object);
            let task = SpawnedTask::spawn(async move {
                read_file(&location, &object, compression, (format, schema), on_error).await
            });
            async move { (path, task.join().await) }
        })
        .buffered(session.threads);
    let mut out = Numbering::new(session, schema, source, sample);
    let (mut decompressed, mut skipped_lines) = (0, 0);
    while let Some((path, outcome)) = reads.next().await {
        let read = match outcome {
            Ok(Ok(read)) => read,
            Ok(Err(message)) => return Err(Error::SourceFile { path, message }),
            Err(e) => {
                return Err(Error::Engine {
                    context: format!("reading {path}"),
                    message: e.to_string(),
                });
            }
        };
        decompressed += read.decompressed;
        skipped_lines += read.skipped_lines;
        for batch in read.batches {
            out.push(batch)?;
        }
    }
    let rows = out.next_row;
    Ok(TextScanned {
        scanned: out.finish()?,
        rows,
        decompressed_bytes: decompressed,
        skipped_lines,
    })
}

/// Numbers decoded rows in source order, keeps those a sample keeps, and collects them.
struct Numbering<'a> {
    schema: SchemaRef,
    next_row: u64,
    collector: crate::engine::intermediate::Collector<'a>,
    sample: Option<(&'a SamplePlan, usize)>,
    coalescer: Option<BatchCoalescer>,
    units: Option<UnitsBuilder>,
    text_index: Option<usize>,
    decoded_bytes: u64,
}

impl<'a> Numbering<'a> {
    fn new(
        session: &'a Session,
        schema: SchemaRef,
        source: &SourceSpec,
        sample: Option<&'a SamplePlan>,
    ) -> Self {
        let text_index = schema.index_of(&source.text_column).ok();
        Numbering {
            collector: session.collector(Arc::clone(&schema), &source.text_column, "scan"),
            coalescer: sample.map(|_| BatchCoalescer::new(Arc::clone(&schema), BATCH_ROWS)),
            units: sample.map(|_| UnitsBuilder::default()),
            sample: sample.zip(text_index),
            schema,
            next_row: 0,
            text_index,
            decoded_bytes: 0,
        }
    }

    fn push(&mut self, batch: RecordBatch) -> Result<()> {
        let failed = |e: DataFusionError| Error::engine("keeping the scanned source", &e);
        let rows = batch.num_rows() as u64;
        let positions = UInt64Array::from_iter_values(self.next_row..self.next_row + rows);
        self.next_row += rows;
        let mut columns = batch.columns().to_vec();
        columns.push(Arc::new(positions));
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), columns)
            .map_err(|e| failed(e.into()))?;
        let Some((plan, text)) = self.sample else {
            return self.collector.push(batch).map_err(failed);
        };
        self.decoded_bytes += batch.get_array_memory_size() as u64;
        let positions = batch.num_columns() - 1;
        let kept = keep_rows(&batch, positions, text, |row, value| plan.keeps(row, value))
            .map_err(|e| failed(e.into()))?;
        let mut completed = Vec::new();
        if let Some(coalescer) = &mut self.coalescer {
            coalescer.push_batch(kept).map_err(|e| failed(e.into()))?;
            while let Some(batch) = coalescer.next_completed_batch() {
                completed.push(batch);
            }
        }
        completed.into_iter().try_for_each(|batch| self.keep(batch))
    }

    fn keep(&mut self, batch: RecordBatch) -> Result<()> {
        if let (Some(builder), Some((plan, _))) = (&mut self.units, self.sample) {
            list_units(builder, plan, &batch, self.text_index);
        }
        self.collector
            .push(batch)
            .map_err(|e| Error::engine("keeping the scanned source", &e))
    }

    fn finish(mut self) -> Result<Scanned> {
        let failed = |e: DataFusionError| Error::engine("keeping the scanned source", &e);
        if let Some(mut coalescer) = self.coalescer.take() {
            coalescer
                .finish_buffered_batch()
                .map_err(|e| failed(e.into()))?;
            while let Some(batch) = coalescer.next_completed_batch() {
                self.keep(batch)?;
            }
        }
        let result = self.collector.finish().map_err(failed)?;
        let decoded_bytes = match self.sample {
            Some(_) => self.decoded_bytes,
            None => result.bytes(),
        };
        Ok(Scanned {
            result,
            units: self.units.map(UnitsBuilder::finish),
            decoded_bytes,
        })
    }
}

/// The columns of the dataset, from the first `INFER_BYTES` of its first file: JSON types as
/// arrow infers them (text where every value read was null); every CSV column as text (a type guessed from the first records may
/// not hold for later ones).
pub async fn infer(
    location: &Location,
    (object, compression): &(ObjectMeta, Compression),
    format: TextFormat,
) -> std::result::Result<SchemaRef, String> {
    let mut stream = textfiles::decompressed(location, object, *compression).await?;
    let mut head = Vec::new();
    while head.len() < INFER_BYTES {
        match stream.next().await {
            Some(chunk) => head.extend_from_slice(&chunk.map_err(|e| describe(&e))?),
            None => break,
        }
    }
    if head.len() >= INFER_BYTES {
        let end = head.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        head.truncate(end);
    }
    let fail = |e: &dyn std::fmt::Display| format!("inferring its columns: {e}");
    let schema = match format {
        TextFormat::Jsonl => {
            // Lines that do not decode are left to the scan, which names them.
            let records = head
                .split(|&b| b == b'\n')
                .filter_map(|line| serde_json::from_slice::<serde_json::Value>(line).ok())
                .filter(serde_json::Value::is_object)
                .map(Ok);
            let schema = infer_json_schema_from_iterator(records).map_err(|e| fail(&e))?;
            // A field that was null in every row read is taken to hold text.
            let known = |f: &Arc<Field>| match f.data_type() {
                DataType::Null => Field::new(f.name(), DataType::Utf8, true),
                _ => f.as_ref().clone(),
            };
            Schema::new(schema.fields().iter().map(known).collect::<Vec<_>>())
        }
        TextFormat::Csv { delimiter } => {
            let (schema, _) = CsvFormat::default()
                .with_header(true)
                .with_delimiter(delimiter)
                .infer_schema(Cursor::new(&head), Some(1))
                .map_err(|e| fail(&e))?;
            let text = |f: &Arc<Field>| Field::new(f.name(), DataType::Utf8, true);
            Schema::new(schema.fields().iter().map(text).collect::<Vec<_>>())
        }
    };
    Ok(Arc::new(schema))
}

/// Decodes one file with `schema`.
async fn read_file(
    location: &Location,
    object: &ObjectMeta,
    compression: Compression,
    (format, schema): (TextFormat, SchemaRef),
    on_error: OnError,
) -> std::result::Result<FileRead, String> {
    let mut stream = textfiles::decompressed(location, object, compression).await?;
    let mut decoder = Decoding::new(format, schema, on_error);
    let mut read = FileRead::default();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            format!(
                "reading it as {} {}: {}",
                compression.name(),
                format.name(),
                describe(&e)
            )
        })?;
        read.decompressed += chunk.len() as u64;
        decoder.feed(&chunk, &mut read)?;
    }
    decoder.finish(&mut read)?;
    Ok(read)
}

/// Decodes a whole file held in memory, as fetched (`compression` undone here): what a
/// loader's worker does with a JSONL or CSV file.
pub fn decode_file(
    data: Bytes,
    compression: Compression,
    (format, schema): (TextFormat, SchemaRef),
    on_error: OnError,
) -> std::result::Result<FileRead, String> {
    use std::io::Read;
    let failed = |e: &dyn std::fmt::Display| {
        format!(
            "reading it as {} {}: {e}",
            compression.name(),
            format.name()
        )
    };
    let mut reader = compression
        .file_compression_type()
        .convert_read(Cursor::new(data))
        .map_err(|e| failed(&describe(&e)))?;
    let mut decoder = Decoding::new(format, schema, on_error);
    let mut read = FileRead::default();
    let mut chunk = vec![0; 1 << 20];
    loop {
        let n = reader.read(&mut chunk).map_err(|e| failed(&e))?;
        if n == 0 {
            break;
        }
        read.decompressed += n as u64;
        decoder.feed(&chunk[..n], &mut read)?;
    }
    decoder.finish(&mut read)?;
    Ok(read)
}

/// A file's decoder.
enum Decoding {
    Json(JsonLines),
    Csv(Box<datafusion::arrow::csv::reader::Decoder>),
}

impl Decoding {
    fn new(format: TextFormat, schema: SchemaRef, on_error: OnError) -> Self {
        match format {
            TextFormat::Jsonl => Decoding::Json(JsonLines::new(schema, on_error)),
            TextFormat::Csv { delimiter } => Decoding::Csv(Box::new(
                datafusion::arrow::csv::ReaderBuilder::new(schema)
                    .with_header(true)
                    .with_delimiter(delimiter)
                    .with_batch_size(BATCH_ROWS)
                    .build_decoder(),
            )),
        }
    }

    fn feed(&mut self, chunk: &[u8], read: &mut FileRead) -> std::result::Result<(), String> {
        match self {
            Decoding::Json(lines) => lines.feed(chunk, read),
            Decoding::Csv(decoder) => {
                let mut rest = chunk;
                while !rest.is_empty() {
                    let used = decoder.decode(rest).map_err(|e| clean(&e.to_string()))?;
                    rest = &rest[used..];
                    if used == 0 || decoder.capacity() == 0 {
                        read.batches
                            .extend(decoder.flush().map_err(|e| clean(&e.to_string()))?);
                    }
                }
                Ok(())
            }
        }
    }

    fn finish(&mut self, read: &mut FileRead) -> std::result::Result<(), String> {
        match self {
            Decoding::Json(lines) => lines.finish(read),
            Decoding::Csv(decoder) => {
                decoder.decode(&[]).map_err(|e| clean(&e.to_string()))?;
                read.batches
                    .extend(decoder.flush().map_err(|e| clean(&e.to_string()))?);
                Ok(())
            }
        }
    }
}

/// JSONL decoding in chunks of whole lines: each chunk at once, and line by line only when
/// it holds a line that does not decode — to name it, or to leave it out.
struct JsonLines {
    schema: SchemaRef,
    on_error: OnError,
    /// Bytes after the last complete line.
    pending: Vec<u8>,
    /// Lines before `pending`.
    lines: u64,
}

impl JsonLines {
    fn new(schema: SchemaRef, on_error: OnError) -> Self {
        JsonLines {
            schema,
            on_error,
            pending: Vec::new(),
            lines: 0,
        }
    }

    fn feed(&mut self, chunk: &[u8], read: &mut FileRead) -> std::result::Result<(), String> {
        self.pending.extend_from_slice(chunk);
        if self.pending.len() < JSON_CHUNK {
            return Ok(());
        }
        let Some(end) = self.pending.iter().rposition(|&b| b == b'\n') else {
            return Ok(());
        };
        let rest = self.pending.split_off(end + 1);
        let whole = std::mem::replace(&mut self.pending, rest);
        self.decode(&whole, read)
    }

    fn finish(&mut self, read: &mut FileRead) -> std::result::Result<(), String> {
        let last = std::mem::take(&mut self.pending);
        self.decode(&last, read)
    }

    /// Decodes whole lines; on a failure, again line by line.
    fn decode(&mut self, lines: &[u8], read: &mut FileRead) -> std::result::Result<(), String> {
        match decode_json(&self.schema, lines) {
            Ok(batches) => read.batches.extend(batches),
            Err(_) => {
                for (i, line) in lines.split(|&b| b == b'\n').enumerate() {
                    match decode_json(&self.schema, line) {
                        Ok(batches) => read.batches.extend(batches),
                        Err(_) if self.on_error == OnError::Skip => read.skipped_lines += 1,
                        Err(e) => {
                            return Err(format!(
                                "line {}: {}",
                                self.lines + i as u64 + 1,
                                clean(&e)
                            ));
                        }
                    }
                }
            }
        }
        self.lines += lines.iter().filter(|&&b| b == b'\n').count() as u64;
        Ok(())
    }
}

/// The rows of `bytes` (JSON objects, one per line).
fn decode_json(schema: &SchemaRef, bytes: &[u8]) -> std::result::Result<Vec<RecordBatch>, String> {
    let fail = |e: datafusion::arrow::error::ArrowError| e.to_string();
    // Numbers and booleans in a text field are read as their text.
    let mut decoder = datafusion::arrow::json::ReaderBuilder::new(Arc::clone(schema))
        .with_batch_size(BATCH_ROWS)
        .with_coerce_primitive(true)
        .build_decoder()
        .map_err(fail)?;
    let mut batches = Vec::new();
    let mut rest = bytes;
    loop {
        let used = decoder.decode(rest).map_err(fail)?;
        rest = &rest[used..];
        let flushed = decoder.flush().map_err(fail)?;
        if rest.is_empty() || (used == 0 && flushed.is_none()) {
            batches.extend(flushed);
            return match rest.is_empty() {
                true => Ok(batches),
                false => Err("the JSON decoder stopped before the end".to_string()),
            };
        }
        batches.extend(flushed);
    }
}
