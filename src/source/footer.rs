//! Reading one Parquet footer: arrow-rs's decoder first; for a footer it refuses, a tolerant
//! second reading ([`super::footer_repair`]); then checks that what the footer claims could be
//! true of the file (no negative counts, sizes within the file, row groups adding up).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use datafusion::datasource::physical_plan::parquet::metadata::{
    CachedParquetMetaData, DFParquetMetadata,
};
use datafusion::execution::cache::cache_manager::{CachedFileMetadataEntry, FileMetadataCache};
use datafusion::parquet::file::metadata::{
    PageIndexPolicy, ParquetMetaData, ParquetMetaDataReader,
};
use futures::FutureExt;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};

use super::footer_repair;
use crate::error::{Error, Result, describe, panic_message};

/// Bytes read from the end of a file in the first request for its footer. Footers that fit
/// are read with one request; larger ones take a second. Footers of datasets with a few
/// dozen columns and row groups fit in 16 KiB; reading more costs egress on remote stores,
/// which is dearer than a second request (16 KiB of egress costs about as much as 3 GETs).
pub const FOOTER_READ_HINT: usize = 16 << 10;

/// Parquet's magic bytes, at both ends of a file with a plain footer.
const MAGIC: &[u8; 4] = b"PAR1";

/// A footer read, with the fields left out to read it (almost always none).
pub struct Footer {
    pub metadata: Arc<ParquetMetaData>,
    pub repairs: Vec<String>,
}

/// Reads the footer of one file: one ranged GET of its last [`FOOTER_READ_HINT`] bytes, a
/// second when the footer is larger. The size comes from the listing, so no HEAD is needed.
/// The footer goes into `cache`, where the scan finds it. Errors name the file as `display`.
pub(super) async fn read(
    store: &dyn ObjectStore,
    object: &ObjectMeta,
    display: &str,
    cache: Option<Arc<FileMetadataCache>>,
) -> Result<Footer> {
    let reader = DFParquetMetadata::new(store, object)
        .with_metadata_size_hint(Some(FOOTER_READ_HINT))
        .with_file_metadata_cache(cache.clone())
        .with_page_index_policy(Some(PageIndexPolicy::Skip));
    let fetch = reader.fetch_metadata();
    // A panic while decoding corrupt metadata is that file's error, not the end of the run.
    let first = match AssertUnwindSafe(fetch).catch_unwind().await {
        Ok(Ok(metadata)) => Ok(metadata),
        Ok(Err(e)) => Err(explain(&describe(&e))),
        Err(panic) => Err(format!(
            "unreadable Parquet footer: {}",
            panic_message(&*panic)
        )),
    };
    let sound = first.as_ref().is_ok_and(|m| !misleads_readers(m));
    let (metadata, repairs) = match first {
        Ok(metadata) if sound => (metadata, Vec::new()),
        first => match (read_tolerantly(store, object).await, first) {
            (Some((metadata, repairs)), _) => {
                remember(cache.as_deref(), object, &metadata);
                (metadata, repairs)
            }
            (None, Ok(metadata)) => (metadata, Vec::new()),
            (None, Err(message)) => return Err(file_error(display, message)),
        },
    };
    if let Some(message) = implausible(&metadata, object.size) {
        return Err(file_error(display, message));
    }
    Ok(Footer { metadata, repairs })
}

/// Whether a footer arrow-rs decodes would still send its page reader astray: a dictionary
/// page "at" offset 0, which parquet-mr wrote for none (other readers ignore it).
fn misleads_readers(metadata: &ParquetMetaData) -> bool {
    let chunks = metadata.row_groups().iter().flat_map(|g| g.columns());
    chunks
        .filter_map(|c| c.dictionary_page_offset())
        .any(|offset| offset < MAGIC.len() as i64)
}

fn file_error(path: &str, message: String) -> Error {
    Error::SourceFile {
        path: path.to_string(),
        message,
    }
}

/// The footer read again with the fields arrow-rs refused left out, when that is all that
/// stopped it; with what was left out.
async fn read_tolerantly(
    store: &dyn ObjectStore,
    object: &ObjectMeta,
) -> Option<(Arc<ParquetMetaData>, Vec<String>)> {
    let footer = footer_bytes(store, object).await?;
    let repaired = footer_repair::repair(&footer)?;
    let decoded =
        std::panic::catch_unwind(|| ParquetMetaDataReader::decode_metadata(&repaired.bytes).ok());
    let metadata = decoded.ok().flatten()?;
    Some((Arc::new(metadata), repaired.ignored))
}

/// The serialized `FileMetaData` of a plain (unencrypted) footer: two ranged GETs.
async fn footer_bytes(store: &dyn ObjectStore, object: &ObjectMeta) -> Option<Vec<u8>> {
    let size = object.size;
    let tail = size.checked_sub(8)?;
    let end = store.get_range(&object.location, tail..size).await.ok()?;
    if end.len() != 8 || &end[4..] != MAGIC {
        return None;
    }
    let length = u64::from(u32::from_le_bytes(end[..4].try_into().ok()?));
    let start = tail.checked_sub(length)?;
    let bytes = store.get_range(&object.location, start..tail).await.ok()?;
    (bytes.len() as u64 == length).then(|| bytes.to_vec())
}

/// Puts a footer read tolerantly where DataFusion's scan looks for it, so that the scan does
/// not read the file's footer again (and refuse it).
fn remember(
    cache: Option<&FileMetadataCache>,
    object: &ObjectMeta,
    metadata: &Arc<ParquetMetaData>,
) {
    if let Some(cache) = cache {
        let entry = CachedFileMetadataEntry::new(
            object.clone(),
            Arc::new(CachedParquetMetaData::new(Arc::clone(metadata))),
        );
        cache.put(&object.location, entry);
    }
}

/// What no real file can be: a negative count, a column chunk larger than the file, chunks
/// that together are, or row groups whose rows do not add up to the file's (but for a
/// `num_rows` of 0, which old writers left); naming the field.
pub fn implausible(metadata: &ParquetMetaData, file_size: u64) -> Option<String> {
    let rows = metadata.file_metadata().num_rows();
    if rows < 0 {
        return Some(format!("implausible Parquet footer: num_rows is {rows}"));
    }
    let (mut group_rows, mut compressed) = (0i64, 0u64);
    for (i, group) in metadata.row_groups().iter().enumerate() {
        if group.num_rows() < 0 {
            return Some(format!(
                "implausible Parquet footer: num_rows of row group {i} is {}",
                group.num_rows()
            ));
        }
        group_rows = group_rows.saturating_add(group.num_rows());
        for chunk in group.columns() {
            let size = chunk.compressed_size();
            if u64::try_from(size).map_or(true, |size| size > file_size) {
                return Some(format!(
                    "implausible Parquet footer: total_compressed_size of column '{}' in row \
                     group {i} is {size} bytes, in a file of {file_size} bytes",
                    chunk.column_path().string()
                ));
            }
            compressed = compressed.saturating_add(size as u64);
        }
    }
    // parquet-rs 0.3 wrote 0 whatever the row groups held; readers count the row groups'.
    if group_rows != rows && rows != 0 {
        return Some(format!(
            "implausible Parquet footer: its row groups hold {group_rows} rows but num_rows \
             is {rows}"
        ));
    }
    (compressed > file_size).then(|| {
        format!(
            "implausible Parquet footer: its column chunks' total_compressed_size add up to \
             {compressed} bytes, in a file of {file_size} bytes"
        )
    })
}

/// Says what a footer error means for the common cases.
fn explain(message: &str) -> String {
    if message.contains("Invalid Parquet file. Corrupt footer") {
        "not a Parquet file (it does not end with the PAR1 magic bytes)".to_string()
    } else if message.contains("encrypted") || message.contains("PARE") {
        format!("encrypted Parquet file, which prepcost cannot read ({message})")
    } else {
        format!("unreadable Parquet footer: {message}")
    }
}

#[cfg(test)]
mod tests {
    use datafusion::parquet::basic::Type as PhysicalType;
    use datafusion::parquet::file::metadata::{
        ColumnChunkMetaData, FileMetaData, RowGroupMetaData,
    };
    use datafusion::parquet::schema::types::{SchemaDescriptor, Type};

    use super::*;

    /// A footer claiming `rows` rows in row groups of `groups` (rows, compressed bytes).
    fn footer(rows: i64, groups: &[(i64, i64)]) -> ParquetMetaData {
        let leaf = Type::primitive_type_builder("x", PhysicalType::INT64)
            .build()
            .unwrap();
        let root = Type::group_type_builder("schema")
            .with_fields(vec![Arc::new(leaf)])
            .build()
            .unwrap();
        let schema = Arc::new(SchemaDescriptor::new(Arc::new(root)));
        let row_groups = groups
            .iter()
            .map(|&(rows, bytes)| {
                let chunk = ColumnChunkMetaData::builder(schema.column(0))
                    .set_total_compressed_size(bytes)
                    .build()
                    .unwrap();
                RowGroupMetaData::builder(Arc::clone(&schema))
                    .set_num_rows(rows)
                    .set_column_metadata(vec![chunk])
                    .build()
                    .unwrap()
            })
            .collect();
        ParquetMetaData::new(
            FileMetaData::new(1, rows, None, None, schema, None),
            row_groups,
        )
    }

    #[test]
    fn a_plausible_footer_passes() {
        assert_eq!(
            implausible(&footer(30, &[(10, 100), (20, 200)]), 1_000),
            None
        );
        assert_eq!(implausible(&footer(0, &[]), 12), None);
        // Old parquet-rs wrote num_rows 0 whatever the row groups held.
        assert_eq!(implausible(&footer(0, &[(6, 100)]), 1_000), None);
    }

    #[test]
    fn each_implausible_claim_is_named() {
        let cases = [
            (footer(-1, &[(1, 10)]), "num_rows is -1"),
            (
                footer(1, &[(-1, 10), (2, 10)]),
                "num_rows of row group 0 is -1",
            ),
            (
                footer(1, &[(1, 2_000)]),
                "total_compressed_size of column 'x' in row group 0 is 2000 bytes, in a file of 1000 bytes",
            ),
            (footer(1, &[(1, -5)]), "is -5 bytes"),
            (
                footer(2, &[(1, 600), (1, 600)]),
                "add up to 1200 bytes, in a file of 1000 bytes",
            ),
            (
                footer(5, &[(1, 10), (2, 10)]),
                "its row groups hold 3 rows but num_rows is 5",
            ),
        ];
        for (metadata, words) in cases {
            let message = implausible(&metadata, 1_000).expect(words);
            assert!(
                message.starts_with("implausible Parquet footer: "),
                "{message}"
            );
            assert!(message.contains(words), "{message}");
        }
    }

    /// Parquet files from parquet-testing and DuckDB's corpus, valid and corrupt.
    const FILES: [&[u8]; 8] = [
        include_bytes!("../../tests/fixtures/footers/dict-page-offset-zero.parquet"),
        include_bytes!("../../tests/fixtures/footers/empty.parquet"),
        include_bytes!("../../tests/fixtures/footers/fuzzer4362.parquet"),
        include_bytes!("../../tests/fixtures/bad_data/ARROW-GH-41321.parquet"),
        include_bytes!("../../tests/fixtures/bad_data/ARROW-RS-GH-6229-DICTHEADER.parquet"),
        include_bytes!("../../tests/fixtures/bad_data/PARQUET-1481.parquet"),
        include_bytes!("../../tests/fixtures/bad_data/invalid_utf8_dlba.parquet"),
        include_bytes!("../../tests/fixtures/bad_data/rle_malicious_bitwidth.parquet"),
    ];

    /// `file` with `changes` (offset back from the end of its footer's region, new byte)
    /// applied, and cut to `keep` of its length when given.
    fn mutated(file: &[u8], changes: &[(usize, u8)], keep: Option<f64>) -> Vec<u8> {
        let mut bytes = file.to_vec();
        let footer = bytes.len().min(2048);
        for &(back, value) in changes {
            let at = bytes.len() - 1 - back % footer;
            bytes[at] = value;
        }
        if let Some(keep) = keep {
            bytes.truncate((bytes.len() as f64 * keep) as usize);
        }
        bytes
    }

    /// Reads `bytes` as a file of an in-memory store, as `Dataset::open` reads footers.
    fn read_bytes(runtime: &tokio::runtime::Runtime, bytes: Vec<u8>) -> Result<Footer> {
        use object_store::memory::InMemory;
        let store = InMemory::new();
        let path = object_store::path::Path::from("f.parquet");
        runtime.block_on(async {
            store.put(&path, bytes.into()).await.unwrap();
            let object = store.head(&path).await.unwrap();
            read(&store, &object, "f.parquet", None).await
        })
    }

    #[test]
    fn the_fixtures_read_as_their_readers_say() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let rows: Vec<Option<u64>> = FILES
            .iter()
            .map(|f| read_bytes(&runtime, f.to_vec()).ok())
            .map(|f| {
                f.map(|f| {
                    f.metadata
                        .row_groups()
                        .iter()
                        .map(|g| g.num_rows() as u64)
                        .sum()
                })
            })
            .collect();
        assert_eq!(rows[..3], [Some(39), Some(0), None]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            cases: 100_000,
            failure_persistence: None,
            ..Default::default()
        })]

        /// Mutated footers are read or refused with a message; never a panic, never a footer
        /// that claims the impossible.
        #[test]
        fn mutated_footers_are_read_or_refused(
            file in 0..FILES.len(),
            changes in proptest::collection::vec((0usize..2048, proptest::num::u8::ANY), 1..6),
            keep in proptest::option::weighted(0.1, 0.0f64..1.0),
        ) {
            thread_local! {
                static RUNTIME: tokio::runtime::Runtime =
                    tokio::runtime::Builder::new_current_thread().build().unwrap();
            }
            let bytes = mutated(FILES[file], &changes, keep);
            let size = bytes.len() as u64;
            match RUNTIME.with(|runtime| read_bytes(runtime, bytes)) {
                Ok(read) => proptest::prop_assert_eq!(implausible(&read.metadata, size), None),
                Err(Error::SourceFile { message, .. }) => {
                    proptest::prop_assert!(!message.trim().is_empty());
                }
                Err(e) => proptest::prop_assert!(false, "not a file error: {e}"),
            }
        }
    }
}
