//! Decoded samples of a dataset: row groups spread evenly over a Parquet dataset, or the
//! first rows of JSONL and CSV files, with what the sampled part takes on storage today.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::parquet::{
    DefaultParquetFileReaderFactory, ParquetFileReaderFactory,
};
use datafusion::parquet::arrow::ParquetRecordBatchStreamBuilder;
use datafusion::parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use datafusion::parquet::arrow::async_reader::AsyncFileReader;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use futures::{FutureExt, StreamExt};

use super::dataset::{DataFile, Dataset};
use crate::error::{Error, Result, clean, describe, panic_message};
use crate::model::inspect::SampleSummary;
use crate::util::units::ratio;

/// Rows per decoded batch.
const BATCH_ROWS: usize = 8192;

/// Rows per row group for sources that have none (JSONL, CSV): DuckDB's default.
pub const TEXT_ROW_GROUP_ROWS: u64 = 122_880;

/// The sampled rows and what they take today.
pub struct Sample {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    /// Rows per row group today (median of the sampled row groups); the base size of other
    /// layouts.
    pub today_row_group_rows: u64,
    pub summary: SampleSummary,
}

/// Reads up to `row_groups` row groups spread evenly over the dataset (files with the first
/// file's schema only, so that one writer takes them all), stopping once the decoded sample
/// reaches `max_decoded_bytes`.
pub async fn sample_parquet(
    dataset: &Dataset,
    row_groups: u64,
    max_decoded_bytes: u64,
) -> Result<Sample> {
    let schema = Arc::clone(reader_metadata(&dataset.files[0])?.schema());
    let mut sample = Sample {
        schema,
        batches: Vec::new(),
        today_row_group_rows: 0,
        summary: SampleSummary {
            row_groups: 0,
            rows: 0,
            bytes: 0,
            decoded_bytes: 0,
        },
    };
    let mut row_group_rows = Vec::new();
    for (file, row_group) in spread_row_groups(dataset, &sample.schema, row_groups) {
        if sample.summary.decoded_bytes >= max_decoded_bytes {
            break;
        }
        let read = read_row_group(dataset, file, row_group, max_decoded_bytes, &mut sample);
        row_group_rows.push(read.await?);
    }
    row_group_rows.sort_unstable();
    sample.today_row_group_rows = row_group_rows
        .get(row_group_rows.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(BATCH_ROWS as u64)
        .max(1);
    Ok(sample)
}

/// The file's schema and footer as the Arrow reader takes them.
fn reader_metadata(file: &DataFile) -> Result<ArrowReaderMetadata> {
    ArrowReaderMetadata::try_new(Arc::clone(&file.metadata), ArrowReaderOptions::new()).map_err(
        |e| Error::SourceFile {
            path: file.display.clone(),
            message: format!("reading its schema: {e}"),
        },
    )
}

/// Up to `n` row groups, evenly spaced over those of the files with `schema`.
fn spread_row_groups<'a>(
    dataset: &'a Dataset,
    schema: &SchemaRef,
    n: u64,
) -> Vec<(&'a DataFile, usize)> {
    let mut candidates = Vec::new();
    for file in &dataset.files {
        if reader_metadata(file).is_ok_and(|m| m.schema() == schema) {
            candidates.extend((0..file.metadata.num_row_groups()).map(|rg| (file, rg)));
        }
    }
    let n = (n as usize).min(candidates.len());
    (0..n)
        .map(|k| candidates[k * candidates.len() / n])
        .collect()
}

/// Decodes one row group into `sample`, stopping at `max_decoded_bytes`; returns the rows the
/// row group holds.
async fn read_row_group(
    dataset: &Dataset,
    file: &DataFile,
    row_group: usize,
    max_decoded_bytes: u64,
    sample: &mut Sample,
) -> Result<u64> {
    let meta = file.metadata.row_group(row_group);
    let rows_in_group = u64::try_from(meta.num_rows()).unwrap_or(0);
    let group_bytes: u64 = meta
        .columns()
        .iter()
        .map(|c| u64::try_from(c.compressed_size()).unwrap_or(0))
        .sum();
    let fail = |message: String| Error::SourceFile {
        path: file.display.clone(),
        message: format!("row group {row_group}, read for the what-if: {message}"),
    };
    let reader: Box<dyn AsyncFileReader> =
        DefaultParquetFileReaderFactory::new(Arc::clone(&dataset.location.store))
            .create_reader(
                0,
                PartitionedFile::from(file.object.clone()),
                None,
                &ExecutionPlanMetricsSet::new(),
            )
            .map_err(|e| fail(describe(&e)))?;
    let mut stream =
        ParquetRecordBatchStreamBuilder::new_with_metadata(reader, reader_metadata(file)?)
            .with_row_groups(vec![row_group])
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(|e| fail(clean(&e.to_string())))?;
    let mut rows_read = 0u64;
    let summary = &mut sample.summary;
    let batches = &mut sample.batches;
    // A decoder may panic on corrupt pages: that is this file's error.
    let read = AssertUnwindSafe(async {
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(|e| fail(clean(&e.to_string())))?;
            rows_read += batch.num_rows() as u64;
            summary.decoded_bytes += batch.get_array_memory_size() as u64;
            batches.push(batch);
            if summary.decoded_bytes >= max_decoded_bytes {
                break;
            }
        }
        Ok::<_, Error>(())
    })
    .catch_unwind()
    .await;
    match read {
        Ok(result) => result?,
        Err(panic) => return Err(fail(panic_message(&*panic))),
    }
    summary.row_groups += 1;
    summary.rows += rows_read;
    summary.bytes += (group_bytes as f64 * ratio(rows_read as f64, rows_in_group as f64)) as u64;
    Ok(rows_in_group)
}
