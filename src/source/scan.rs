//! Reads the source in source order — files in lexical path order, row groups and rows in file
//! order — and tags every row with its position in the column `__source_row`.
//!
//! Each row group is one partition of a DataFusion Parquet scan; row groups are decoded
//! concurrently, and each one's first row is known from the footers, so positions need no
//! coordination between them. A sampled scan reads only the sample's row groups, or keeps
//! only the sample's rows of each.

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use datafusion::arrow::array::{AsArray, RecordBatch, UInt64Array};
use datafusion::arrow::compute::BatchCoalescer;
use datafusion::arrow::datatypes::UInt64Type;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::common::ScalarValue;
use datafusion::common::runtime::SpawnedTask;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::parquet::ParquetAccessPlan;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use futures::{FutureExt, StreamExt};

use super::dataset::Dataset;
use super::sampling::{
    SampleMode, SamplePlan, SampleUnits, UnitsBuilder, for_each_text, keep_rows,
};
use super::spec::SourceSpec;
use crate::engine::intermediate::new_buffer_bytes;
use crate::engine::{HIDDEN_COLUMNS, Intermediate, SOURCE_ROW, Session};
use crate::error::{Error, Result, describe, panic_message};

/// Rows per batch a scan decodes at most: DataFusion's default batch size.
const BATCH_ROWS: usize = 8192;

/// One row group to read: which file, which row group, and the source position of its first row.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    file: usize,
    row_group: usize,
    first_row: u64,
}

/// What a scan read.
pub struct Scanned {
    /// The rows, with `__source_row` as the last column.
    pub result: Intermediate,
    /// With a sample, the sampling unit of every row read.
    pub units: Option<SampleUnits>,
    /// Memory the decoded row groups held before a sample kept some of their rows (the
    /// result's bytes when no rows were left out): what a full scan of them would hold.
    pub decoded_bytes: u64,
}

/// Reads the source — or the part `sample` picks — in source order.
pub async fn scan(
    session: &Session,
    dataset: &Dataset,
    source: &SourceSpec,
    sample: Option<&SamplePlan>,
) -> Result<Scanned> {
    let state = session.ctx.state();
    let format = ParquetFormat::default().with_options(state.table_options().parquet.clone());
    let objects: Vec<_> = dataset.files.iter().map(|f| f.object.clone()).collect();
    let file_schema = format
        .infer_schema(&state, &dataset.location.store, &objects)
        .await
        .map_err(|e| Error::SourceFile {
            path: dataset.location.display.clone(),
            message: describe(&e),
        })?;
    check_columns(&file_schema, source, &dataset.location.display)?;
    let partition_fields = partition_fields(dataset, &file_schema);
    let mut chunks = chunks(dataset);
    if let Some(plan) = sample {
        chunks = plan
            .row_groups
            .iter()
            .filter_map(|&i| chunks.get(i).copied())
            .collect();
    }
    let groups = file_groups(dataset, &chunks, !partition_fields.is_empty());
    let file_source = format.file_source(
        TableSchema::builder(Arc::clone(&file_schema))
            .with_table_partition_cols(partition_fields.clone())
            .build(),
    );
    let config = FileScanConfigBuilder::new(dataset.location.url.clone(), file_source)
        .with_file_groups(groups)
        .with_preserve_order(true)
        .build();
    let plan = format
        .create_physical_plan(&state, config)
        .await
        .map_err(|e| {
            Error::engine(
                format!("planning the scan of {}", dataset.location.display),
                &e,
            )
        })?;

    let mut fields = file_schema.fields().to_vec();
    fields.extend(partition_fields);
    fields.push(Arc::new(Field::new(SOURCE_ROW, DataType::UInt64, false)));
    let schema: SchemaRef = Arc::new(Schema::new_with_metadata(
        fields,
        file_schema.metadata().clone(),
    ));
    let text_index = schema.index_of(&source.text_column).ok();
    let sampler = sample
        .filter(|plan| plan.filters_rows())
        .cloned()
        .zip(text_index)
        .map(Arc::new);
    let units = sample.map(|plan| units_of(dataset, plan, &chunks));
    let reading = Reading {
        plan,
        chunks,
        schema,
        sampler,
    };
    read(session, dataset, reading, &source.text_column, units).await
}

/// Where the units of a sample come from: row groups are known from the footers; rows and
/// texts are listed as they are read.
enum Units {
    Known(SampleUnits),
    Listed(UnitsBuilder),
}

fn units_of(dataset: &Dataset, plan: &SamplePlan, chunks: &[Chunk]) -> Units {
    match plan.mode {
        SampleMode::RowGroups { .. } => Units::Known(SampleUnits::RowGroups {
            bounds: chunks
                .iter()
                .map(|c| (c.first_row, c.first_row + c.rows(dataset)))
                .collect(),
        }),
        SampleMode::Rows | SampleMode::Content | SampleMode::MinHash => {
            Units::Listed(UnitsBuilder::default())
        }
    }
}

/// What [`read`] reads: the plan and its row groups, the schema of the rows it returns, and
/// the rows a sample keeps of them (the plan, and the text column's index).
struct Reading {
    plan: Arc<dyn ExecutionPlan>,
    chunks: Vec<Chunk>,
    schema: SchemaRef,
    sampler: Option<Arc<(SamplePlan, usize)>>,
}

/// Hive partition keys become Utf8 columns after the file's, unless a file column has the
/// name already (then the file's column is what the data says); none when not partitioned.
fn partition_fields(dataset: &Dataset, file_schema: &Schema) -> Vec<FieldRef> {
    let partitioned = !dataset.partition_columns.is_empty()
        && dataset
            .partition_columns
            .iter()
            .all(|c| file_schema.index_of(c).is_err());
    if !partitioned {
        return Vec::new();
    }
    dataset
        .partition_columns
        .iter()
        .map(|c| Arc::new(Field::new(c, DataType::Utf8, true)))
        .collect()
}

/// One file group per row group, so that each is a partition of the scan; with the file's
/// partition values when `partitioned`.
fn file_groups(dataset: &Dataset, chunks: &[Chunk], partitioned: bool) -> Vec<FileGroup> {
    chunks
        .iter()
        .map(|chunk| {
            let file = &dataset.files[chunk.file];
            let mut plan = ParquetAccessPlan::new_none(file.metadata.num_row_groups());
            plan.scan(chunk.row_group);
            let mut partitioned_file =
                PartitionedFile::from(file.object.clone()).with_extension(plan);
            if partitioned {
                partitioned_file.partition_values = file
                    .partition_values
                    .iter()
                    .map(|v| ScalarValue::Utf8(v.clone()))
                    .collect();
            }
            FileGroup::new(vec![partitioned_file])
        })
        .collect()
}

/// Decodes the row groups, as many at once as the session has threads, and keeps their rows
/// in source order; a row group that fails fails the scan, naming its file.
async fn read(
    session: &Session,
    dataset: &Dataset,
    reading: Reading,
    text_column: &str,
    mut units: Option<Units>,
) -> Result<Scanned> {
    let Reading {
        plan,
        chunks,
        schema,
        sampler,
    } = reading;
    let mut collector = session.collector(Arc::clone(&schema), text_column, "scan");
    let keep_failed = |e: ArrowError| Error::engine("keeping the scanned source", &e.into());
    // A sample's few rows of many row groups together, in batches as large as a full scan's
    // (a row group's, up to DataFusion's batch size): a stage's cost per row depends on them.
    let full_scan_batch = median_rows(dataset, &chunks).clamp(1, BATCH_ROWS as u64) as usize;
    let mut coalescer = sampler
        .is_some()
        .then(|| BatchCoalescer::new(Arc::clone(&schema), full_scan_batch));
    let text_index = schema.index_of(text_column).ok();
    let listing = sampler.clone();
    let mut keep = |batch: RecordBatch| {
        if let (Some(Units::Listed(builder)), Some(sampler)) = (&mut units, &listing) {
            list_units(builder, &sampler.0, &batch, text_index);
        }
        collector
            .push(batch)
            .map_err(|e| Error::engine("keeping the scanned source", &e))
    };
    let mut decoded_bytes = 0;
    let task = session.ctx.task_ctx();
    let mut reads = futures::stream::iter(chunks.into_iter().enumerate())
        .map(|(partition, chunk)| {
            let read = read_chunk(
                Arc::clone(&plan),
                partition,
                Arc::clone(&task),
                chunk.first_row,
                Arc::clone(&schema),
                sampler.clone(),
            );
            let task = SpawnedTask::spawn(AssertUnwindSafe(read).catch_unwind());
            async move { (chunk, task.join().await) }
        })
        .buffered(session.threads);
    while let Some((chunk, outcome)) = reads.next().await {
        let path = &dataset.files[chunk.file].display;
        let batches = match outcome {
            Ok(Ok(Ok((batches, decoded)))) => {
                decoded_bytes += decoded;
                batches
            }
            Ok(Ok(Err(e))) => {
                return Err(Error::SourceFile {
                    path: path.clone(),
                    message: format!("row group {}: {}", chunk.row_group, describe(&e)),
                });
            }
            Ok(Err(panic)) => {
                return Err(Error::SourceFile {
                    path: path.clone(),
                    message: format!(
                        "row group {}: the Parquet reader failed on malformed data ({})",
                        chunk.row_group,
                        panic_message(&*panic)
                    ),
                });
            }
            Err(e) => {
                return Err(Error::Engine {
                    context: format!("reading {path}"),
                    message: e.to_string(),
                });
            }
        };
        for batch in batches {
            let Some(coalescer) = &mut coalescer else {
                keep(batch)?;
                continue;
            };
            coalescer.push_batch(batch).map_err(keep_failed)?;
            while let Some(batch) = coalescer.next_completed_batch() {
                keep(batch)?;
            }
        }
    }
    drop(reads);
    if let Some(mut coalescer) = coalescer {
        coalescer.finish_buffered_batch().map_err(keep_failed)?;
        while let Some(batch) = coalescer.next_completed_batch() {
            keep(batch)?;
        }
    }
    let result = collector
        .finish()
        .map_err(|e| Error::engine("keeping the scanned source", &e))?;
    let units = units.map(|units| match units {
        Units::Known(units) => units,
        Units::Listed(builder) => builder.finish(),
    });
    if sampler.is_none() {
        decoded_bytes = result.bytes();
    }
    Ok(Scanned {
        result,
        units,
        decoded_bytes,
    })
}

/// Adds the rows of `batch` (with `__source_row` last) to the units `plan` lists.
pub(super) fn list_units(
    builder: &mut UnitsBuilder,
    plan: &SamplePlan,
    batch: &RecordBatch,
    text_index: Option<usize>,
) {
    let rows = batch
        .column(batch.num_columns() - 1)
        .as_primitive::<UInt64Type>();
    match text_index {
        Some(i) => for_each_text(batch.column(i), |row, text| {
            builder.add(rows.value(row), plan.group(text))
        }),
        None => rows.values().iter().for_each(|&row| builder.add(row, None)),
    }
}

impl Chunk {
    fn rows(&self, dataset: &Dataset) -> u64 {
        let metadata = dataset.files[self.file].metadata.row_group(self.row_group);
        u64::try_from(metadata.num_rows()).unwrap_or(0)
    }
}

/// The median rows of the row groups `chunks`.
fn median_rows(dataset: &Dataset, chunks: &[Chunk]) -> u64 {
    let mut rows: Vec<u64> = chunks.iter().map(|c| c.rows(dataset)).collect();
    rows.sort_unstable();
    rows.get(rows.len() / 2).copied().unwrap_or(0)
}

/// Every row group of every file, with the source position of its first row.
fn chunks(dataset: &Dataset) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut first_row = 0u64;
    for (file, data_file) in dataset.files.iter().enumerate() {
        for (row_group, metadata) in data_file.metadata.row_groups().iter().enumerate() {
            chunks.push(Chunk {
                file,
                row_group,
                first_row,
            });
            first_row += u64::try_from(metadata.num_rows()).unwrap_or(0);
        }
    }
    chunks
}

/// Decodes one partition of the scan, appends the source positions and keeps the rows
/// `sampler` (a sample and the text column's index) keeps; with one, also the bytes the
/// decoded batches held before.
async fn read_chunk(
    plan: Arc<dyn ExecutionPlan>,
    partition: usize,
    task: Arc<TaskContext>,
    first_row: u64,
    schema: SchemaRef,
    sampler: Option<Arc<(SamplePlan, usize)>>,
) -> Result<(Vec<RecordBatch>, u64), DataFusionError> {
    let mut stream = plan.execute(partition, task)?;
    let mut next_row = first_row;
    let mut batches = Vec::new();
    let (mut decoded, mut buffers) = (0, HashSet::new());
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let rows = batch.num_rows() as u64;
        let positions = Arc::new(UInt64Array::from_iter_values(next_row..next_row + rows));
        next_row += rows;
        let mut columns = batch.columns().to_vec();
        columns.push(positions);
        let batch = RecordBatch::try_new(Arc::clone(&schema), columns)?;
        let batch = match &sampler {
            Some(sampler) => {
                decoded += new_buffer_bytes(&mut buffers, &batch) as u64;
                let (plan, text) = sampler.as_ref();
                let positions = batch.num_columns() - 1;
                keep_rows(&batch, positions, *text, |row, value| {
                    plan.keeps(row, value)
                })?
            }
            None => batch,
        };
        if batch.num_rows() > 0 {
            batches.push(batch);
        }
    }
    Ok((batches, decoded))
}

/// The text column must exist and hold strings, and no column may have a name prepcost
/// reserves.
pub(super) fn check_columns(schema: &Schema, source: &SourceSpec, dataset: &str) -> Result<()> {
    check_text_column(schema, source, dataset)?;
    match HIDDEN_COLUMNS
        .into_iter()
        .find(|c| schema.index_of(c).is_ok())
    {
        Some(hidden) => Err(Error::SourceFile {
            path: dataset.to_string(),
            message: format!("has a column named {hidden}, which prepcost reserves"),
        }),
        None => Ok(()),
    }
}

/// The text column must exist and hold strings.
fn check_text_column(schema: &Schema, source: &SourceSpec, dataset: &str) -> Result<()> {
    let columns = || {
        const SHOWN: usize = 12;
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let mut list = names
            .iter()
            .take(SHOWN)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        if names.len() > SHOWN {
            list.push_str(&format!(" and {} more", names.len() - SHOWN));
        }
        list
    };
    let field = schema
        .field_with_name(&source.text_column)
        .map_err(|_| Error::MissingColumn {
            role: "text column",
            column: source.text_column.clone(),
            dataset: dataset.to_string(),
            columns: columns(),
        })?;
    match field.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {}
        other => {
            return Err(Error::NotAStringColumn {
                column: source.text_column.clone(),
                dataset: dataset.to_string(),
                data_type: other.to_string(),
            });
        }
    }
    if let Some(id) = &source.id_column
        && schema.field_with_name(id).is_err()
    {
        return Err(Error::MissingColumn {
            role: "id column",
            column: id.clone(),
            dataset: dataset.to_string(),
            columns: columns(),
        });
    }
    Ok(())
}
