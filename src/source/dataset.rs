//! A dataset: its data files in source order and what their Parquet footers say — rows, row
//! groups, per-column sizes and codecs — read from the footers alone, never from data pages.

use std::sync::Arc;

use datafusion::execution::cache::cache_manager::FileMetadataCache;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::metadata::ParquetMetaData;
use futures::StreamExt;
use object_store::ObjectMeta;

use super::footer;
use super::spec::OnError;
use crate::error::{Error, Result};
use crate::model::inspect::SkippedFile;
use crate::storage::{self, Location};

/// File name endings read as Parquet when a directory is given (compared case-insensitively).
pub const PARQUET_EXTENSIONS: [&str; 3] = ["parquet", "parq", "pq"];

/// How many footers are read at once.
const FOOTER_CONCURRENCY: usize = 32;

/// The files of a dataset, in source order (lexical path order), with their footers.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub location: Location,
    pub files: Vec<DataFile>,
    /// Hive-style partition keys (`key=value` folders below the location), in folder order;
    /// each file's values are in [`DataFile::partition_values`].
    pub partition_columns: Vec<String>,
    /// Files left out under [`OnError::Skip`], in source order.
    pub skipped: Vec<SkippedFile>,
}

/// One data file and its footer.
#[derive(Debug, Clone)]
pub struct DataFile {
    /// The object in the store.
    pub object: ObjectMeta,
    /// Its path as shown to users.
    pub display: String,
    /// Its footer.
    pub metadata: Arc<ParquetMetaData>,
    /// The values of the dataset's partition columns for this file (`None`: Hive's default
    /// partition, NULL).
    pub partition_values: Vec<Option<String>>,
    /// Footer fields left out to read a footer arrow-rs refused (see
    /// [`super::footer_repair`]); empty for almost every file.
    pub footer_repairs: Vec<String>,
}

impl DataFile {
    /// Rows in the file: those of its row groups (old parquet-rs left the footer's
    /// `num_rows` 0; [`super::footer::implausible`] refuses any other difference).
    pub fn rows(&self) -> u64 {
        let groups = self.metadata.row_groups().iter();
        groups
            .map(|g| u64::try_from(g.num_rows()).unwrap_or(0))
            .sum()
    }
}

impl Dataset {
    /// Finds the data files at `location` and reads their footers, concurrently. A footer that
    /// cannot be read fails the whole dataset with the file's name. Footers go into `cache`,
    /// so that the scan does not read them again.
    pub async fn open(location: Location, cache: Arc<FileMetadataCache>) -> Result<Self> {
        Self::open_with(location, Some(cache), OnError::Fail).await
    }

    /// Like [`Dataset::open`], with a choice of what to do with unreadable files; under
    /// [`OnError::Skip`] the run fails only when no file is readable.
    pub async fn open_with(
        location: Location,
        cache: Option<Arc<FileMetadataCache>>,
        on_error: OnError,
    ) -> Result<Self> {
        let objects = data_files(&location).await?;
        // Each footer is read and decoded on its own task, so that decoding spreads over the
        // runtime's threads rather than running on the one that awaits them all.
        let shared = Arc::new(location);
        let outcomes: Vec<Result<DataFile>> = futures::stream::iter(objects)
            .map(|object| {
                let location = Arc::clone(&shared);
                let cache = cache.clone();
                let display = location.show(&object.location);
                async move {
                    let failed = display.clone();
                    tokio::spawn(async move { read_file(&location, object, display, cache).await })
                        .await
                        .unwrap_or_else(|e| {
                            Err(Error::SourceFile {
                                path: failed,
                                message: format!("reading its footer failed: {e}"),
                            })
                        })
                }
            })
            .buffered(FOOTER_CONCURRENCY)
            .collect()
            .await;
        let location = Arc::unwrap_or_clone(shared);
        let mut files = Vec::with_capacity(outcomes.len());
        let mut skipped = Vec::new();
        for outcome in outcomes {
            match (outcome, on_error) {
                (Ok(file), _) => files.push(file),
                (Err(e), OnError::Fail) => return Err(e),
                (Err(Error::SourceFile { path, message }), OnError::Skip) => {
                    skipped.push(SkippedFile {
                        path,
                        reason: message,
                    })
                }
                (Err(e), OnError::Skip) => return Err(e),
            }
        }
        if files.is_empty() {
            return Err(none_readable(&location, &skipped));
        }
        let partition_columns = hive_partitions(&location, &mut files);
        Ok(Dataset {
            location,
            files,
            partition_columns,
            skipped,
        })
    }

    /// Rows in the dataset, from the footers.
    pub fn rows(&self) -> u64 {
        self.files.iter().map(DataFile::rows).sum()
    }
}

/// One data file of `location` with its footer.
async fn read_file(
    location: &Location,
    object: ObjectMeta,
    display: String,
    cache: Option<Arc<FileMetadataCache>>,
) -> Result<DataFile> {
    let footer = footer::read(location.store.as_ref(), &object, &display, cache).await?;
    Ok(DataFile {
        object,
        display,
        metadata: footer.metadata,
        partition_values: Vec::new(),
        footer_repairs: footer.repairs,
    })
}

/// The error when every file of a dataset was skipped: how many, and the first reason.
pub fn none_readable(location: &Location, skipped: &[SkippedFile]) -> Error {
    let first = skipped
        .first()
        .map(|s| format!("{}: {}", s.path, s.reason))
        .unwrap_or_else(|| "no data files".into());
    Error::SourceFile {
        path: location.display.clone(),
        message: format!(
            "none of its {} files is readable (first: {first})",
            skipped.len()
        ),
    }
}

/// The data files at a location: the object itself, or the Parquet files under the prefix
/// (hidden files and folders, starting with `.` or `_`, are left out).
async fn data_files(location: &Location) -> Result<Vec<ObjectMeta>> {
    let objects = storage::list(location).await?;
    if location.is_object {
        return Ok(objects);
    }
    let files: Vec<ObjectMeta> = objects
        .into_iter()
        .filter(|o| {
            let parquet = o
                .location
                .extension()
                .is_some_and(|e| PARQUET_EXTENSIONS.iter().any(|p| p.eq_ignore_ascii_case(e)));
            parquet && !location.is_hidden(&o.location)
        })
        .collect();
    if files.is_empty() {
        return Err(Error::NoDataFiles {
            path: location.display.clone(),
            looked_for: PARQUET_EXTENSIONS.map(|e| format!("*.{e}")).join(", "),
        });
    }
    Ok(files)
}

/// The value Hive writes for a NULL partition value.
const HIVE_NULL: &str = "__HIVE_DEFAULT_PARTITION__";

/// Finds Hive-style partitioning: when every file lies below the location in folders that are
/// all `key=value`, with the same keys in the same order, those keys are the partition
/// columns and each file gets its values (percent-decoded). Otherwise there are none.
fn hive_partitions(location: &Location, files: &mut [DataFile]) -> Vec<String> {
    let depth = location.path.parts().count();
    let mut keys: Option<Vec<String>> = None;
    let mut values = Vec::with_capacity(files.len());
    for file in files.iter() {
        let parts: Vec<_> = file.object.location.parts().skip(depth).collect();
        let folders = &parts[..parts.len().saturating_sub(1)];
        let mut file_keys = Vec::with_capacity(folders.len());
        let mut file_values = Vec::with_capacity(folders.len());
        for folder in folders {
            let Some((key, value)) = folder.as_ref().split_once('=') else {
                return Vec::new();
            };
            let value = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
            file_keys.push(key.to_string());
            file_values.push((value != HIVE_NULL).then(|| value.into_owned()));
        }
        if file_keys.is_empty() || keys.as_ref().is_some_and(|k| *k != file_keys) {
            return Vec::new();
        }
        keys.get_or_insert(file_keys);
        values.push(file_values);
    }
    for (file, values) in files.iter_mut().zip(values) {
        file.partition_values = values;
    }
    keys.unwrap_or_default()
}

/// The codec's name without its level (footers do not record levels).
pub fn codec_name(codec: Compression) -> &'static str {
    match codec {
        Compression::UNCOMPRESSED => "UNCOMPRESSED",
        Compression::SNAPPY => "SNAPPY",
        Compression::GZIP(_) => "GZIP",
        Compression::LZO => "LZO",
        Compression::BROTLI(_) => "BROTLI",
        Compression::LZ4 => "LZ4",
        Compression::ZSTD(_) => "ZSTD",
        Compression::LZ4_RAW => "LZ4_RAW",
    }
}
