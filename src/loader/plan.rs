//! What a loader reads: every file's reader metadata and projection (Parquet) or format and
//! compression (JSONL, CSV), the units of work — row groups with rows, or whole text files —
//! and the one schema of the batches.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use datafusion::parquet::arrow::{ProjectionMask, parquet_to_arrow_schema_by_columns};
use object_store::path::Path as ObjectPath;

use crate::error::{Error, Result, clean};
use crate::source::textfiles::{Compression, TextFormat};
use crate::source::textscan::{self, TextFiles};
use crate::source::{DataFile, Dataset, OnError};
use crate::tokenizer;

/// The column of per-row token counts the workers add to each batch they decode.
const TOKENS_COLUMN: &str = "__prepcost_tokens";

/// What a loader reads: every file's reader metadata and projection, the row groups, and the
/// schema of the batches.
#[derive(Debug)]
pub struct Plan {
    pub(super) files: Vec<PlannedFile>,
    pub(super) row_groups: Vec<RowGroup>,
    /// The projected columns, as every file must have them (all nullable).
    pub(super) schema: SchemaRef,
    /// The column the tokenizer reads, when there is one.
    pub(super) text_index: Option<usize>,
    /// What to do with a JSONL line that cannot be read.
    pub(super) on_error: OnError,
    /// Lines left out of each text file, as its last decoding found them.
    pub(super) skipped_lines: std::sync::Mutex<Vec<u64>>,
}

#[derive(Debug)]
pub(super) struct PlannedFile {
    pub(super) path: ObjectPath,
    pub(super) display: String,
    pub(super) kind: FileKind,
}

/// How a file is read.
#[derive(Debug)]
pub(super) enum FileKind {
    /// By row group: its footer's metadata and the projection.
    Parquet {
        metadata: ArrowReaderMetadata,
        mask: ProjectionMask,
    },
    /// Whole, decompressed and decoded by a worker, then projected to `columns` (indexes of
    /// `schema`, the file's columns).
    Text {
        compression: Compression,
        size: u64,
        format: TextFormat,
        schema: SchemaRef,
        columns: Vec<usize>,
    },
}

/// A unit of work: one row group of a Parquet file (`index`), or a whole text file (0).
#[derive(Debug, Clone, Copy)]
pub(super) struct RowGroup {
    pub(super) file: usize,
    pub(super) index: usize,
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
            let (planned, projected) = plan_file(file, columns)?;
            match &schema {
                None => schema = Some((projected, &file.display)),
                Some((first, first_file)) if !same_columns(first, &projected) => {
                    return Err(Error::SourceFile {
                        path: file.display.clone(),
                        message: format!(
                            "its columns ({}) differ from those of {first_file} ({}); a loader reads one schema",
                            describe_columns(&projected),
                            describe_columns(first)
                        ),
                    });
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
            files.push(planned);
        }
        let schema = schema.map(|(s, _)| s).unwrap_or_else(Schema::empty);
        let text_index = text_column
            .map(|name| text_index(&schema, name, &dataset.location.display))
            .transpose()?;
        Ok(Plan {
            files,
            row_groups,
            schema: Arc::new(schema),
            text_index,
            on_error: OnError::Fail,
            skipped_lines: Default::default(),
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

    /// Compressed bytes of the column chunks one epoch reads (of the whole files, for
    /// JSONL and CSV).
    pub fn compressed_bytes(&self) -> u64 {
        self.row_groups
            .iter()
            .map(|rg| match &self.files[rg.file].kind {
                FileKind::Parquet { metadata, mask } => metadata
                    .metadata()
                    .row_group(rg.index)
                    .columns()
                    .iter()
                    .enumerate()
                    .filter(|(leaf, _)| mask.leaf_included(*leaf))
                    .map(|(_, chunk)| u64::try_from(chunk.compressed_size()).unwrap_or(0))
                    .sum::<u64>(),
                FileKind::Text { size, .. } => *size,
            })
            .sum()
    }

    /// Plans reading `columns` (all when `None`; top-level names) of the JSONL or CSV
    /// `files`, each file one unit of work; nothing is tokenized until [`Plan::tokenizing`].
    pub async fn for_text(
        files: &TextFiles,
        columns: Option<&[String]>,
        on_error: OnError,
    ) -> Result<Plan> {
        let dataset = &files.location.display;
        let first = files.files.first().ok_or_else(|| Error::NoDataFiles {
            path: dataset.clone(),
            looked_for: "*.jsonl, *.csv".into(),
        })?;
        let file_schema = textscan::infer(&files.location, first, files.format)
            .await
            .map_err(|message| Error::SourceFile {
                path: files.location.show(&first.0.location),
                message,
            })?;
        let indexes: Vec<usize> = match columns {
            None => (0..file_schema.fields().len()).collect(),
            Some(names) => names
                .iter()
                .map(|name| {
                    file_schema
                        .index_of(name)
                        .map_err(|_| missing_column("column", name, dataset, &file_schema))
                })
                .collect::<Result<_>>()?,
        };
        let schema =
            Arc::new(nullable(&file_schema.project(&indexes).map_err(|e| {
                Error::engine("projecting the loader's columns", &e.into())
            })?));
        let planned = files.files.iter().map(|(object, compression)| PlannedFile {
            path: object.location.clone(),
            display: files.location.show(&object.location),
            kind: FileKind::Text {
                compression: *compression,
                size: object.size,
                format: files.format,
                schema: Arc::clone(&file_schema),
                columns: indexes.clone(),
            },
        });
        let files: Vec<PlannedFile> = planned.collect();
        Ok(Plan {
            row_groups: (0..files.len())
                .map(|file| RowGroup { file, index: 0 })
                .collect(),
            skipped_lines: std::sync::Mutex::new(vec![0; files.len()]),
            files,
            schema,
            text_index: None,
            on_error,
        })
    }

    /// The plan, tokenizing `text_column` of `dataset` when given.
    pub fn tokenizing(self, text_column: Option<&str>, dataset: &str) -> Result<Plan> {
        let text_index = text_column
            .map(|name| text_index(&self.schema, name, dataset))
            .transpose()?;
        Ok(Plan { text_index, ..self })
    }

    /// Records the lines decoding the `file`th file left out (the same each time it is read).
    pub(super) fn record_skipped(&self, file: usize, lines: u64) {
        if let Ok(mut skipped) = self.skipped_lines.lock()
            && let Some(slot) = skipped.get_mut(file)
        {
            *slot = lines;
        }
    }

    /// JSONL lines left out of the files read so far (each file counted once).
    pub fn skipped_lines(&self) -> u64 {
        self.skipped_lines.lock().map_or(0, |s| s.iter().sum())
    }

    /// The error of row group `row_group` of the `file`th file: `message` naming both.
    pub(super) fn row_group_error(&self, file: usize, row_group: usize, message: &str) -> Error {
        let planned = &self.files[file];
        let message = match planned.kind {
            FileKind::Parquet { .. } => format!("row group {row_group}: {}", clean(message)),
            FileKind::Text { .. } => clean(message),
        };
        Error::SourceFile {
            path: planned.display.clone(),
            message,
        }
    }

    /// The batches' schema with the token counts the workers add.
    pub(super) fn delivered_schema(&self) -> SchemaRef {
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

/// One file's reader metadata and projection, and the columns it yields.
fn plan_file(file: &DataFile, columns: Option<&[String]>) -> Result<(PlannedFile, Schema)> {
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
                let matches = |path: String| path == *name || path.starts_with(&format!("{name}."));
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
    let planned = PlannedFile {
        path: file.object.location.clone(),
        display: file.display.clone(),
        kind: FileKind::Parquet { metadata, mask },
    };
    Ok((planned, nullable(&projected)))
}

/// Where the text column is in `schema`; it must exist and hold text.
fn text_index(schema: &Schema, name: &str, dataset: &str) -> Result<usize> {
    let Ok(index) = schema.index_of(name) else {
        return Err(missing_column("text column", name, dataset, schema));
    };
    let data_type = schema.field(index).data_type();
    if !tokenizer::is_text(data_type) {
        return Err(Error::NotAStringColumn {
            column: name.to_string(),
            dataset: dataset.to_string(),
            data_type: data_type.to_string(),
        });
    }
    Ok(index)
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
