//! The warnings of a layout: one rule per function, each a thing a data engineer would act
//! on — row groups too small or too large, many small files, uncompressed or mostly-NULL
//! columns, and files whose schema differs from the first file's.

use std::collections::BTreeMap;

use super::columns::{chunk_compressed, logical_type_name};
use crate::model::inspect::{ColumnLayout, FileLayout, Warning, WarningKind};
use crate::source::{DataFile, Dataset};
use crate::util::units::format_size;

/// Row groups smaller than this (compressed) and with fewer than [`SMALL_ROW_GROUP_ROWS`]
/// rows are "small": every one costs a request per column on object storage and a seek.
pub const SMALL_ROW_GROUP_BYTES: u64 = 1 << 20;
/// See [`SMALL_ROW_GROUP_BYTES`].
pub const SMALL_ROW_GROUP_ROWS: u64 = 10_000;
/// Row groups larger than this (compressed) must be buffered whole by a reader and give
/// parallel readers too few units of work.
pub const HUGE_ROW_GROUP_BYTES: u64 = 1 << 30;
/// Files smaller than this are "small" when there are many of them.
pub const SMALL_FILE_BYTES: u64 = 1 << 20;
/// Columns with more than this share of NULLs are "mostly NULL".
pub const MOSTLY_NULL_SHARE: f64 = 0.9;
/// Uncompressed columns smaller than this are not worth a warning.
pub const UNCOMPRESSED_WORTH_WARNING_BYTES: u64 = 64 << 10;
/// Files named in a warning message (the `files` list has them all).
const FILES_NAMED: usize = 3;

/// Every warning of the layout, in a fixed order of rules.
pub(super) fn all(
    dataset: &Dataset,
    files: &[FileLayout],
    columns: &[ColumnLayout],
) -> Vec<Warning> {
    let data_files = &dataset.files;
    let mut warnings: Vec<Warning> = [
        small_row_groups(data_files),
        huge_row_groups(data_files),
        small_files(files),
        uncompressed_columns(columns),
        mostly_null_columns(columns),
    ]
    .into_iter()
    .flatten()
    .collect();
    warnings.extend(schema_mismatches(data_files));
    warnings.extend(footer_repairs(data_files));
    warnings
}

/// Files whose footer was read only with fields left out that arrow-rs refused: their
/// figures are right, but some readers may refuse the file too.
fn footer_repairs(data_files: &[DataFile]) -> Option<Warning> {
    let repaired: Vec<&DataFile> = data_files
        .iter()
        .filter(|f| !f.footer_repairs.is_empty())
        .collect();
    let first = repaired.first()?;
    let files: Vec<String> = repaired.iter().map(|f| f.display.clone()).collect();
    Some(Warning {
        kind: WarningKind::FooterRepaired,
        message: format!(
            "{} footer fields that strict readers refuse, left out to read them ({}: {}): {}",
            match files.len() {
                1 => "1 file has".to_string(),
                n => format!("{n} files have"),
            },
            first.display,
            first.footer_repairs.join("; "),
            name_some(&files)
        ),
        files,
        columns: vec![],
    })
}

/// One row group as the row-group rules see it.
struct RowGroupFacts {
    compressed_bytes: u64,
    rows: u64,
    /// The last of several in its file: it may hold what was left over.
    remainder: bool,
}

/// The row groups of `data_files` that `matches`: how many, of how many, and the files
/// holding them, in source order.
fn row_groups_where(
    data_files: &[DataFile],
    matches: impl Fn(&RowGroupFacts) -> bool,
) -> (usize, usize, Vec<String>) {
    let (mut found, mut all, mut files) = (0, 0, Vec::new());
    for file in data_files {
        let groups = file.metadata.row_groups();
        let mut in_file = false;
        for (i, rg) in groups.iter().enumerate() {
            all += 1;
            let facts = RowGroupFacts {
                compressed_bytes: rg.columns().iter().map(chunk_compressed).sum(),
                rows: u64::try_from(rg.num_rows()).unwrap_or(0),
                remainder: i + 1 == groups.len() && groups.len() > 1,
            };
            if matches(&facts) {
                found += 1;
                in_file = true;
            }
        }
        if in_file {
            files.push(file.display.clone());
        }
    }
    (found, all, files)
}

/// Row groups under [`SMALL_ROW_GROUP_BYTES`] and [`SMALL_ROW_GROUP_ROWS`]. The last row
/// group of a file may be a remainder, so it counts only when it is the file's only one; a
/// dataset of one row group has nothing to gain from bigger ones.
fn small_row_groups(data_files: &[DataFile]) -> Option<Warning> {
    let (small, all, files) = row_groups_where(data_files, |rg| {
        !rg.remainder
            && rg.compressed_bytes < SMALL_ROW_GROUP_BYTES
            && rg.rows < SMALL_ROW_GROUP_ROWS
    });
    (small > 0 && all > 1).then(|| Warning {
        kind: WarningKind::SmallRowGroups,
        message: format!(
            "{small} of {all} row groups are small (under {} and {} rows) in {} files ({}): \
             each costs a request per column on object storage; write row groups of \
             64–512 MiB",
            format_size(SMALL_ROW_GROUP_BYTES),
            SMALL_ROW_GROUP_ROWS,
            files.len(),
            name_some(&files)
        ),
        files,
        columns: vec![],
    })
}

/// Row groups over [`HUGE_ROW_GROUP_BYTES`] compressed.
fn huge_row_groups(data_files: &[DataFile]) -> Option<Warning> {
    let (huge, _, files) =
        row_groups_where(data_files, |rg| rg.compressed_bytes > HUGE_ROW_GROUP_BYTES);
    (huge > 0).then(|| Warning {
        kind: WarningKind::HugeRowGroups,
        message: format!(
            "{huge} row groups are over {} compressed ({}): readers buffer a whole row \
             group and parallelise over row groups; write row groups of 64–512 MiB",
            format_size(HUGE_ROW_GROUP_BYTES),
            name_some(&files)
        ),
        files,
        columns: vec![],
    })
}

/// More than half of several files under [`SMALL_FILE_BYTES`].
fn small_files(files: &[FileLayout]) -> Option<Warning> {
    let small: Vec<String> = files
        .iter()
        .filter(|f| f.file_bytes < SMALL_FILE_BYTES)
        .map(|f| f.path.clone())
        .collect();
    (files.len() > 1 && small.len() * 2 > files.len()).then(|| Warning {
        kind: WarningKind::SmallFiles,
        message: format!(
            "{} of {} files are under {}: every file costs a LIST entry, a footer read \
             and an open; compact them into files of 128 MiB or more",
            small.len(),
            files.len(),
            format_size(SMALL_FILE_BYTES)
        ),
        files: small,
        columns: vec![],
    })
}

/// Columns stored uncompressed, of at least [`UNCOMPRESSED_WORTH_WARNING_BYTES`].
fn uncompressed_columns(columns: &[ColumnLayout]) -> Option<Warning> {
    let uncompressed: Vec<&ColumnLayout> = columns
        .iter()
        .filter(|c| {
            c.codec == "UNCOMPRESSED" && c.compressed_bytes >= UNCOMPRESSED_WORTH_WARNING_BYTES
        })
        .collect();
    if uncompressed.is_empty() {
        return None;
    }
    let bytes: u64 = uncompressed.iter().map(|c| c.compressed_bytes).sum();
    let names: Vec<String> = uncompressed.iter().map(|c| c.path.clone()).collect();
    Some(Warning {
        kind: WarningKind::UncompressedColumns,
        message: format!(
            "{} columns are stored uncompressed ({}, {}): zstd would shrink them; \
             --what-if measures by how much",
            uncompressed.len(),
            format_size(bytes),
            names.join(", ")
        ),
        files: vec![],
        columns: names,
    })
}

/// Columns with more than [`MOSTLY_NULL_SHARE`] of their values NULL.
fn mostly_null_columns(columns: &[ColumnLayout]) -> Option<Warning> {
    let null_share = |c: &ColumnLayout| {
        c.null_count
            .filter(|_| c.values > 0)
            .map(|n| n as f64 / c.values as f64)
    };
    let mostly_null: Vec<(&ColumnLayout, f64)> = columns
        .iter()
        .filter_map(|c| Some((c, null_share(c)?)))
        .filter(|(_, share)| *share > MOSTLY_NULL_SHARE)
        .collect();
    if mostly_null.is_empty() {
        return None;
    }
    let shares: Vec<String> = mostly_null
        .iter()
        .map(|(c, share)| format!("{} {:.1}%", c.path, share * 100.0))
        .collect();
    Some(Warning {
        kind: WarningKind::MostlyNullColumns,
        message: format!(
            "{} columns are over {:.0}% NULL ({}): drop them or move them to a side table",
            mostly_null.len(),
            MOSTLY_NULL_SHARE * 100.0,
            shares.join(", ")
        ),
        files: vec![],
        columns: mostly_null.iter().map(|(c, _)| c.path.clone()).collect(),
    })
}

/// One warning per distinct way a file's schema differs from the first file's.
fn schema_mismatches(data_files: &[DataFile]) -> Vec<Warning> {
    let Some(first) = data_files.first() else {
        return vec![];
    };
    let reference = leaf_types(first);
    let first_schema = first.metadata.file_metadata().schema_descr().root_schema();
    let mut by_difference: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut order = Vec::new();
    for file in &data_files[1..] {
        if file.metadata.file_metadata().schema_descr().root_schema() == first_schema {
            continue;
        }
        let this = leaf_types(file);
        if this == reference {
            continue;
        }
        let difference = schema_difference(&reference, &this);
        let files = by_difference.entry(difference.clone()).or_insert_with(|| {
            order.push(difference);
            Vec::new()
        });
        files.push(file.display.clone());
    }
    order
        .into_iter()
        .map(|difference| {
            let files = by_difference.remove(&difference).unwrap_or_default();
            Warning {
                kind: WarningKind::SchemaMismatch,
                message: format!(
                    "{} files differ in schema from {} ({difference}): {}",
                    files.len(),
                    first.display,
                    name_some(&files)
                ),
                files,
                columns: vec![],
            }
        })
        .collect()
}

/// Every leaf column's path and its physical and logical type.
fn leaf_types(file: &DataFile) -> BTreeMap<String, String> {
    file.metadata
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|d| {
            let logical = logical_type_name(d)
                .map(|l| format!(" {l}"))
                .unwrap_or_default();
            (d.path().string(), format!("{}{logical}", d.physical_type()))
        })
        .collect()
}

/// How the leaf columns of `this` differ from those of `reference`, in words.
fn schema_difference(
    reference: &BTreeMap<String, String>,
    this: &BTreeMap<String, String>,
) -> String {
    let mut parts = Vec::new();
    let missing: Vec<&str> = reference
        .keys()
        .filter(|k| !this.contains_key(*k))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        parts.push(format!("without {}", missing.join(", ")));
    }
    let extra: Vec<&str> = this
        .keys()
        .filter(|k| !reference.contains_key(*k))
        .map(String::as_str)
        .collect();
    if !extra.is_empty() {
        parts.push(format!("with extra {}", extra.join(", ")));
    }
    for (path, kind) in this {
        if let Some(expected) = reference.get(path).filter(|e| *e != kind) {
            parts.push(format!("{path} is {kind}, not {expected}"));
        }
    }
    if parts.is_empty() {
        parts.push("columns in another order".into());
    }
    parts.join("; ")
}

/// `a.parquet, b.parquet, c.parquet and 4 more`.
fn name_some(files: &[String]) -> String {
    let named = files[..files.len().min(FILES_NAMED)].join(", ");
    match files.len().saturating_sub(FILES_NAMED) {
        0 => named,
        more => format!("{named} and {more} more"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::parquet::basic::Type as PhysicalType;
    use datafusion::parquet::file::metadata::{
        ColumnChunkMetaData, FileMetaData, ParquetMetaData, RowGroupMetaData,
    };
    use datafusion::parquet::schema::types::{SchemaDescriptor, Type};
    use object_store::ObjectMeta;

    use super::*;

    /// A file whose footer says it holds row groups of `sizes` compressed bytes, 1,000 rows
    /// each.
    fn file_of(name: &str, sizes: &[i64]) -> DataFile {
        let leaf = Type::primitive_type_builder("x", PhysicalType::INT64)
            .build()
            .unwrap();
        let root = Type::group_type_builder("schema")
            .with_fields(vec![Arc::new(leaf)])
            .build()
            .unwrap();
        let schema = Arc::new(SchemaDescriptor::new(Arc::new(root)));
        let row_groups = sizes
            .iter()
            .map(|&bytes| {
                let chunk = ColumnChunkMetaData::builder(schema.column(0))
                    .set_total_compressed_size(bytes)
                    .build()
                    .unwrap();
                RowGroupMetaData::builder(Arc::clone(&schema))
                    .set_num_rows(1_000)
                    .set_column_metadata(vec![chunk])
                    .build()
                    .unwrap()
            })
            .collect();
        let rows = 1_000 * sizes.len() as i64;
        let file_metadata = FileMetaData::new(1, rows, None, None, schema, None);
        DataFile {
            object: ObjectMeta {
                location: name.into(),
                last_modified: Default::default(),
                size: sizes.iter().sum::<i64>() as u64,
                e_tag: None,
                version: None,
            },
            display: name.to_string(),
            metadata: Arc::new(ParquetMetaData::new(file_metadata, row_groups)),
            partition_values: vec![],
            footer_repairs: vec![],
        }
    }

    #[test]
    fn row_groups_over_a_gib_are_huge_and_small_ones_small() {
        let files = [
            file_of("a.parquet", &[2 << 30, 1 << 10]),
            file_of("b.parquet", &[1 << 30, 1 << 10]),
            file_of("c.parquet", &[3 << 30]),
        ];
        let huge = huge_row_groups(&files).unwrap();
        assert_eq!(huge.kind, WarningKind::HugeRowGroups);
        assert_eq!(huge.files, ["a.parquet", "c.parquet"]);
        assert!(
            huge.message
                .starts_with("2 row groups are over 1.0 GiB compressed"),
            "{}",
            huge.message
        );
        // None is small: the large ones are not, and the last of a file may be a remainder.
        assert!(small_row_groups(&files).is_none());
        let small =
            small_row_groups(&[file_of("d.parquet", &[1 << 10, 1 << 10, 1 << 10])]).unwrap();
        assert!(small.message.starts_with("2 of 3 row groups are small"));
    }

    #[test]
    fn names_are_shortened() {
        let files: Vec<String> = (1..=5).map(|i| format!("f{i}")).collect();
        assert_eq!(name_some(&files), "f1, f2, f3 and 2 more");
        assert_eq!(name_some(&files[..2]), "f1, f2");
    }

    #[test]
    fn schema_differences_are_named() {
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let reference = map(&[("a", "INT64"), ("b", "BYTE_ARRAY STRING")]);
        assert_eq!(
            schema_difference(&reference, &map(&[("a", "INT32"), ("c", "INT64")])),
            "without b; with extra c; a is INT32, not INT64"
        );
        assert_eq!(
            schema_difference(&reference, &reference),
            "columns in another order"
        );
    }
}
