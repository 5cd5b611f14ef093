//! A dataset's physical layout as its Parquet footers describe it — per file, per column and
//! per row group — and the warnings a data engineer acts on. Footers only, no data pages.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::ScalarValue;
use datafusion::parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use datafusion::parquet::arrow::{ARROW_SCHEMA_META_KEY, parquet_to_arrow_schema};
use datafusion::parquet::basic::{
    ConvertedType, Encoding, LogicalType, TimeUnit, Type as PhysicalType,
};
use datafusion::parquet::file::metadata::{ColumnChunkMetaData, KeyValue};
use datafusion::parquet::schema::types::{ColumnDescriptor, SchemaDescPtr};

use crate::cost::Pricing;
use crate::dataset::{DataFile, Dataset, codec_name};
use crate::error::{Error, Result};
use crate::memory::format_size;
use crate::report::inspect::{
    ColumnLayout, FileColumn, FileLayout, LayoutTotals, Projection, RowGroupDistribution, Spread,
    Warning,
};
use crate::report::{ColumnStorage, StorageReport, ratio};

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
/// Longest min or max value shown, in characters.
const STAT_VALUE_CHARS: usize = 40;
/// Files named in a warning message (the `files` list has them all).
const FILES_NAMED: usize = 3;

/// The layout of a dataset.
#[derive(Debug, Clone)]
pub struct Layout {
    pub totals: LayoutTotals,
    pub columns: Vec<ColumnLayout>,
    pub files: Vec<FileLayout>,
    pub row_groups: RowGroupDistribution,
    pub warnings: Vec<Warning>,
}

impl Layout {
    /// The storage figures `profile` reports, columns largest first.
    pub fn storage_report(&self) -> StorageReport {
        let totals = &self.totals;
        StorageReport {
            files: totals.files,
            rows: totals.rows,
            row_groups: totals.row_groups,
            file_bytes: totals.file_bytes,
            compressed_bytes: totals.compressed_bytes,
            uncompressed_bytes: totals.uncompressed_bytes,
            columns: self
                .columns
                .iter()
                .map(|c| ColumnStorage {
                    name: c.path.clone(),
                    physical_type: c.physical_type.to_string(),
                    compressed_bytes: c.compressed_bytes,
                    uncompressed_bytes: c.uncompressed_bytes,
                    codecs: c.codec.split(',').map(str::to_string).collect(),
                })
                .collect(),
        }
    }
}

/// Reads the layout of `dataset` from its footers and prices it.
pub fn analyse(dataset: &Dataset, pricing: &Pricing) -> Layout {
    let statistics = Statistics::decode(&dataset.files);
    let Sums {
        files,
        columns: dataset_columns,
        mut row_group_rows,
        mut row_group_bytes,
        ..
    } = parallel_chunks(&dataset.files, |first, part| {
        let mut sums = Sums::default();
        for (i, file) in part.iter().enumerate() {
            sums.add_file(first + i, file, &statistics);
        }
        sums
    })
    .into_iter()
    .reduce(Sums::append)
    .unwrap_or_default();

    let file_bytes = files.iter().map(|f| f.file_bytes).sum();
    let totals = LayoutTotals {
        files: files.len() as u64,
        rows: files.iter().map(|f| f.rows).sum(),
        row_groups: files.iter().map(|f| f.row_groups).sum(),
        file_bytes,
        compressed_bytes: files.iter().map(|f| f.compressed_bytes).sum(),
        uncompressed_bytes: files.iter().map(|f| f.uncompressed_bytes).sum(),
        storage_usd_per_month: pricing.storage_usd_per_month(file_bytes),
    };
    let mut columns: Vec<ColumnLayout> = dataset_columns
        .iter()
        .map(|c| c.to_layout(totals.compressed_bytes, pricing))
        .collect();
    // Largest first; ties in schema order (the sort is stable).
    columns.sort_by_key(|c| std::cmp::Reverse(c.compressed_bytes));

    let row_groups = RowGroupDistribution {
        count: row_group_rows.len() as u64,
        rows: spread(&mut row_group_rows),
        compressed_bytes: spread(&mut row_group_bytes),
    };
    let warnings = warnings(dataset, &files, &columns);
    Layout {
        totals,
        columns,
        files,
        row_groups,
        warnings,
    }
}

/// Sums over some files of a dataset, in source order.
#[derive(Default)]
struct Sums {
    files: Vec<FileLayout>,
    /// The leaf columns, in the order they were first seen.
    columns: Vec<ColumnSums>,
    /// Where each column (by path) is in `columns`.
    position: HashMap<String, usize>,
    row_group_rows: Vec<u64>,
    row_group_bytes: Vec<u64>,
}

impl Sums {
    /// Adds `file`, the `index`th of the dataset.
    fn add_file(&mut self, index: usize, file: &DataFile, statistics: &Statistics) {
        for row_group in file.metadata.row_groups() {
            self.row_group_rows
                .push(u64::try_from(row_group.num_rows()).unwrap_or(0));
            self.row_group_bytes
                .push(row_group.columns().iter().map(chunk_compressed).sum());
        }
        let mut columns = file_columns(file);
        statistics.add_extremes(index, file, &mut columns);
        let compressed = columns.iter().map(|c| c.compressed).sum();
        self.files.push(FileLayout {
            path: file.display.clone(),
            rows: file.rows(),
            row_groups: file.metadata.num_row_groups() as u64,
            file_bytes: file.object.size,
            compressed_bytes: compressed,
            uncompressed_bytes: columns.iter().map(|c| c.uncompressed).sum(),
            created_by: file
                .metadata
                .file_metadata()
                .created_by()
                .map(str::to_string),
            columns: columns
                .iter()
                .map(|c| c.to_file_column(compressed))
                .collect(),
        });
        columns.into_iter().for_each(|c| self.add_column(c));
    }

    fn add_column(&mut self, column: ColumnSums) {
        match self.position.get(&column.path) {
            Some(&i) => self.columns[i].merge(column),
            None => {
                self.position
                    .insert(column.path.clone(), self.columns.len());
                self.columns.push(column);
            }
        }
    }

    /// These sums followed by `later`'s.
    fn append(mut self, later: Sums) -> Sums {
        self.files.extend(later.files);
        later.columns.into_iter().for_each(|c| self.add_column(c));
        self.row_group_rows.extend(later.row_group_rows);
        self.row_group_bytes.extend(later.row_group_bytes);
        self
    }
}

/// What a reader of only `wanted` (top-level names or dotted paths) fetches. Unknown names
/// are an error that lists the columns there are.
pub fn projection(layout: &Layout, wanted: &[String], dataset: &str) -> Result<Projection> {
    let mut leaves = BTreeSet::new();
    for name in wanted {
        let selected: Vec<&ColumnLayout> = layout
            .columns
            .iter()
            .filter(|c| c.path == *name || c.path.starts_with(&format!("{name}.")))
            .collect();
        if selected.is_empty() {
            let mut top: Vec<&str> = layout
                .columns
                .iter()
                .map(|c| c.path.split('.').next().unwrap_or(&c.path))
                .collect();
            top.sort_unstable();
            top.dedup();
            return Err(Error::MissingColumn {
                role: "column",
                column: name.clone(),
                dataset: dataset.to_string(),
                columns: top.join(", "),
            });
        }
        leaves.extend(selected.into_iter().map(|c| c.path.clone()));
    }
    let selected = || layout.columns.iter().filter(|c| leaves.contains(&c.path));
    let compressed = selected().map(|c| c.compressed_bytes).sum();
    Ok(Projection {
        columns: wanted.to_vec(),
        leaf_columns: selected().map(|c| c.path.clone()).collect(),
        compressed_bytes: compressed,
        uncompressed_bytes: selected().map(|c| c.uncompressed_bytes).sum(),
        share: ratio(compressed as f64, layout.totals.compressed_bytes as f64),
    })
}

/// Running sums for one leaf column.
#[derive(Debug, Clone)]
struct ColumnSums {
    path: String,
    physical_type: &'static str,
    logical_type: Option<String>,
    compressed: u64,
    uncompressed: u64,
    codecs: BTreeSet<&'static str>,
    /// The encodings of its chunks, as a bit mask of Parquet encoding numbers.
    encodings: i32,
    chunks: u64,
    dictionary_chunks: u64,
    values: u64,
    null_count: Option<u64>,
    min: Option<ScalarValue>,
    max: Option<ScalarValue>,
    column_index_chunks: u64,
    offset_index_chunks: u64,
    bloom_filter_chunks: u64,
}

impl ColumnSums {
    fn new(descr: &ColumnDescriptor) -> Self {
        ColumnSums {
            path: descr.path().string(),
            physical_type: physical_type_name(descr.physical_type()),
            logical_type: logical_type_name(descr),
            compressed: 0,
            uncompressed: 0,
            codecs: BTreeSet::new(),
            encodings: 0,
            chunks: 0,
            dictionary_chunks: 0,
            values: 0,
            null_count: Some(0),
            min: None,
            max: None,
            column_index_chunks: 0,
            offset_index_chunks: 0,
            bloom_filter_chunks: 0,
        }
    }

    fn add_chunk(&mut self, chunk: &ColumnChunkMetaData) {
        self.compressed += chunk_compressed(chunk);
        self.uncompressed += chunk_uncompressed(chunk);
        self.codecs.insert(codec_name(chunk.compression()));
        let encodings = chunk.encodings_mask();
        self.encodings |= encodings.as_i32();
        self.chunks += 1;
        let dictionary = chunk.dictionary_page_offset().is_some()
            || encodings.is_set(Encoding::PLAIN_DICTIONARY)
            || encodings.is_set(Encoding::RLE_DICTIONARY);
        self.dictionary_chunks += u64::from(dictionary);
        self.values += u64::try_from(chunk.num_values()).unwrap_or(0);
        let nulls = chunk.statistics().and_then(|s| s.null_count_opt());
        self.null_count = self.null_count.zip(nulls).map(|(a, b)| a + b);
        self.column_index_chunks += u64::from(chunk.column_index_offset().is_some());
        self.offset_index_chunks += u64::from(chunk.offset_index_offset().is_some());
        self.bloom_filter_chunks += u64::from(chunk.bloom_filter_offset().is_some());
    }

    /// Adds the sums of the same column in another file.
    fn merge(&mut self, other: ColumnSums) {
        self.compressed += other.compressed;
        self.uncompressed += other.uncompressed;
        self.codecs.extend(other.codecs);
        self.encodings |= other.encodings;
        self.chunks += other.chunks;
        self.dictionary_chunks += other.dictionary_chunks;
        self.values += other.values;
        self.null_count = self.null_count.zip(other.null_count).map(|(a, b)| a + b);
        self.min = extreme(self.min.take(), other.min, Ordering::Less);
        self.max = extreme(self.max.take(), other.max, Ordering::Greater);
        self.column_index_chunks += other.column_index_chunks;
        self.offset_index_chunks += other.offset_index_chunks;
        self.bloom_filter_chunks += other.bloom_filter_chunks;
    }

    /// The codec, or the codecs separated by commas.
    fn codec(&self) -> Cow<'static, str> {
        match self.codecs.len() {
            1 => Cow::Borrowed(*self.codecs.first().unwrap_or(&"")),
            _ => Cow::Owned(self.codecs.iter().copied().collect::<Vec<_>>().join(",")),
        }
    }

    fn to_file_column(&self, total_compressed: u64) -> FileColumn {
        FileColumn {
            path: self.path.clone(),
            physical_type: self.physical_type,
            logical_type: self.logical_type.clone(),
            compressed_bytes: self.compressed,
            uncompressed_bytes: self.uncompressed,
            share: ratio(self.compressed as f64, total_compressed as f64),
            codec: self.codec(),
            encodings: encoding_names(self.encodings),
            null_count: self.null_count,
            min: self.min.as_ref().map(show_value),
            max: self.max.as_ref().map(show_value),
        }
    }

    fn to_layout(&self, total_compressed: u64, pricing: &Pricing) -> ColumnLayout {
        let every = |n: u64| self.chunks > 0 && n == self.chunks;
        ColumnLayout {
            path: self.path.clone(),
            physical_type: self.physical_type,
            logical_type: self.logical_type.clone(),
            compressed_bytes: self.compressed,
            uncompressed_bytes: self.uncompressed,
            share: ratio(self.compressed as f64, total_compressed as f64),
            codec: self.codec(),
            encodings: encoding_names(self.encodings),
            chunks: self.chunks,
            dictionary_chunks: self.dictionary_chunks,
            values: self.values,
            null_count: self.null_count,
            min: self.min.as_ref().map(show_value),
            max: self.max.as_ref().map(show_value),
            column_index: every(self.column_index_chunks),
            offset_index: every(self.offset_index_chunks),
            bloom_filter: every(self.bloom_filter_chunks),
            storage_usd_per_month: pricing.storage_usd_per_month(self.compressed),
        }
    }
}

/// The names of the encodings in a mask of Parquet encoding numbers, in that order.
fn encoding_names(mask: i32) -> Vec<&'static str> {
    (0..i32::BITS as i32)
        .filter(|bit| mask & (1 << bit) != 0)
        .map(|bit| match bit {
            0 => "PLAIN",
            2 => "PLAIN_DICTIONARY",
            3 => "RLE",
            4 => "BIT_PACKED",
            5 => "DELTA_BINARY_PACKED",
            6 => "DELTA_LENGTH_BYTE_ARRAY",
            7 => "DELTA_BYTE_ARRAY",
            8 => "RLE_DICTIONARY",
            9 => "BYTE_STREAM_SPLIT",
            _ => "UNKNOWN",
        })
        .collect()
}

fn physical_type_name(physical: PhysicalType) -> &'static str {
    match physical {
        PhysicalType::BOOLEAN => "BOOLEAN",
        PhysicalType::INT32 => "INT32",
        PhysicalType::INT64 => "INT64",
        PhysicalType::INT96 => "INT96",
        PhysicalType::FLOAT => "FLOAT",
        PhysicalType::DOUBLE => "DOUBLE",
        PhysicalType::BYTE_ARRAY => "BYTE_ARRAY",
        PhysicalType::FIXED_LEN_BYTE_ARRAY => "FIXED_LEN_BYTE_ARRAY",
    }
}

/// The min and max statistics of every row group of the top-level columns, decoded to Arrow
/// values with their logical types, so that they compare as the values do (signed, unsigned,
/// decimal, string). The row groups of all files with one schema are decoded together, one
/// array per column: most datasets have one schema, and converting a schema and building
/// arrays costs more per file than the rest of its analysis.
struct Statistics {
    /// Per schema, per leaf column (`None` for nested ones and where there is no Arrow type):
    /// the mins and maxes of its files' row groups, file after file.
    groups: Vec<Vec<Option<(ArrayRef, ArrayRef)>>>,
    /// Per file, its schema group and its first row group's place in the group's arrays.
    placement: Vec<(usize, usize)>,
}

impl Statistics {
    fn decode(files: &[DataFile]) -> Self {
        let mut placement = vec![(0, 0); files.len()];
        let groups = schema_groups(files)
            .into_iter()
            .enumerate()
            .map(|(g, group)| {
                let mut offset = 0;
                for &i in &group.files {
                    placement[i] = (g, offset);
                    offset += files[i].metadata.num_row_groups();
                }
                group.decode(files)
            })
            .collect();
        Statistics { groups, placement }
    }

    /// Sets the min and max of the top-level columns of `file`, the `index`th.
    fn add_extremes(&self, index: usize, file: &DataFile, sums: &mut [ColumnSums]) {
        let Some((group, offset)) = self.placement.get(index) else {
            return;
        };
        let n = file.metadata.num_row_groups();
        for (sum, arrays) in sums.iter_mut().zip(&self.groups[*group]) {
            if let Some((mins, maxes)) = arrays {
                sum.min = fold_extreme(&mins.slice(*offset, n), Ordering::Less);
                sum.max = fold_extreme(&maxes.slice(*offset, n), Ordering::Greater);
            }
        }
    }
}

/// Files that share a schema, and its Arrow equivalent (`None` when it has none).
struct SchemaGroup {
    schema: SchemaDescPtr,
    /// The `ARROW:schema` hint stored with the schema, which decides some Arrow types.
    hint: Option<String>,
    arrow: Option<SchemaRef>,
    files: Vec<usize>,
}

impl SchemaGroup {
    /// Per leaf column, the mins and maxes of the group's row groups.
    fn decode(&self, files: &[DataFile]) -> Vec<Option<(ArrayRef, ArrayRef)>> {
        let row_groups = || {
            self.files
                .iter()
                .flat_map(|&i| files[i].metadata.row_groups())
        };
        self.schema
            .columns()
            .iter()
            .map(|descr| {
                let arrow = self.arrow.as_ref()?;
                if descr.path().parts().len() != 1 {
                    return None;
                }
                let converter =
                    StatisticsConverter::try_new(descr.name(), arrow, &self.schema).ok()?;
                let mins = converter.row_group_mins(row_groups()).ok()?;
                let maxes = converter.row_group_maxes(row_groups()).ok()?;
                Some((mins, maxes))
            })
            .collect()
    }
}

/// The files grouped by schema, each schema converted to Arrow once.
fn schema_groups(files: &[DataFile]) -> Vec<SchemaGroup> {
    /// Groups a file is compared with before it starts a group of its own.
    const COMPARED: usize = 16;
    let mut groups: Vec<SchemaGroup> = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let metadata = file.metadata.file_metadata();
        let schema = metadata.schema_descr_ptr();
        let hint = metadata
            .key_value_metadata()
            .and_then(|kv| kv.iter().find(|kv| kv.key == ARROW_SCHEMA_META_KEY))
            .and_then(|kv| kv.value.clone());
        let same = groups
            .iter_mut()
            .rev()
            .take(COMPARED)
            .find(|g| g.hint == hint && g.schema.root_schema() == schema.root_schema());
        if let Some(group) = same {
            group.files.push(i);
            continue;
        }
        let hint_only = hint.clone().map(|value| {
            vec![KeyValue {
                key: ARROW_SCHEMA_META_KEY.into(),
                value: Some(value),
            }]
        });
        let arrow = parquet_to_arrow_schema(&schema, hint_only.as_ref())
            .ok()
            .map(Arc::new);
        groups.push(SchemaGroup {
            schema,
            hint,
            arrow,
            files: vec![i],
        });
    }
    groups
}

/// `f` of consecutive parts of `items`, one per core, with the index of each part's first
/// item; the results in order.
fn parallel_chunks<T: Sync, R: Send>(items: &[T], f: impl Fn(usize, &[T]) -> R + Sync) -> Vec<R> {
    let threads = crate::resources::cores().clamp(1, items.len().max(1));
    let chunk = items.len().div_ceil(threads).max(1);
    let f = &f;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .enumerate()
            .map(|(c, part)| scope.spawn(move || f(c * chunk, part)))
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// The leaf columns of one file, in schema order, summed over its row groups.
fn file_columns(file: &DataFile) -> Vec<ColumnSums> {
    let mut sums: Vec<ColumnSums> = file
        .metadata
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|d| ColumnSums::new(d))
        .collect();
    for row_group in file.metadata.row_groups() {
        for (sum, chunk) in sums.iter_mut().zip(row_group.columns()) {
            sum.add_chunk(chunk);
        }
    }
    sums
}

/// The smallest (`Less`) or largest (`Greater`) non-NULL value of an array.
fn fold_extreme(values: &ArrayRef, want: Ordering) -> Option<ScalarValue> {
    (0..values.len())
        .filter(|&i| values.is_valid(i))
        .filter_map(|i| ScalarValue::try_from_array(values, i).ok())
        .fold(None, |best, v| extreme(best, Some(v), want))
}

/// The one of `a` and `b` that is further in the `want` direction; values that do not
/// compare (different types across files, NaN) leave the first.
fn extreme(a: Option<ScalarValue>, b: Option<ScalarValue>, want: Ordering) -> Option<ScalarValue> {
    match (a, b) {
        (Some(a), Some(b)) => match b.partial_cmp(&a) {
            Some(o) if o == want => Some(b),
            _ => Some(a),
        },
        (a, b) => a.or(b),
    }
}

/// A statistics value as shown: strings without quotes, long values cut with `…`.
fn show_value(value: &ScalarValue) -> String {
    let text = match value {
        ScalarValue::Binary(Some(b))
        | ScalarValue::LargeBinary(Some(b))
        | ScalarValue::BinaryView(Some(b))
        | ScalarValue::FixedSizeBinary(_, Some(b)) => match std::str::from_utf8(b) {
            Ok(s) => s.to_string(),
            Err(_) => b.iter().map(|x| format!("{x:02x}")).collect(),
        },
        other => other.to_string(),
    };
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > STAT_VALUE_CHARS {
        let cut: String = text.chars().take(STAT_VALUE_CHARS - 1).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// The logical type of a leaf column, in the words of the Parquet format.
fn logical_type_name(descr: &ColumnDescriptor) -> Option<String> {
    if let Some(logical) = descr.logical_type_ref() {
        let unit = |u: &TimeUnit| match u {
            TimeUnit::MILLIS => "MILLIS",
            TimeUnit::MICROS => "MICROS",
            TimeUnit::NANOS => "NANOS",
        };
        return Some(match logical {
            LogicalType::String => "STRING".into(),
            LogicalType::Integer(int) => {
                format!(
                    "{}INT{}",
                    if int.is_signed { "" } else { "U" },
                    int.bit_width
                )
            }
            LogicalType::Decimal(d) => format!("DECIMAL({},{})", d.precision, d.scale),
            LogicalType::Timestamp(t) => {
                format!(
                    "TIMESTAMP({}, utc={})",
                    unit(&t.unit),
                    t.is_adjusted_to_u_t_c
                )
            }
            LogicalType::Time(t) => {
                format!("TIME({}, utc={})", unit(&t.unit), t.is_adjusted_to_u_t_c)
            }
            other => format!("{other:?}").to_uppercase(),
        });
    }
    match descr.converted_type() {
        ConvertedType::NONE => None,
        other => Some(other.to_string()),
    }
}

fn chunk_compressed(chunk: &ColumnChunkMetaData) -> u64 {
    u64::try_from(chunk.compressed_size()).unwrap_or(0)
}

fn chunk_uncompressed(chunk: &ColumnChunkMetaData) -> u64 {
    u64::try_from(chunk.uncompressed_size()).unwrap_or(0)
}

/// Min, median (lower) and max of `values`.
fn spread(values: &mut [u64]) -> Spread {
    if values.is_empty() {
        return Spread::default();
    }
    values.sort_unstable();
    Spread {
        min: values[0],
        median: values[(values.len() - 1) / 2],
        max: values[values.len() - 1],
    }
}

/// `a.parquet, b.parquet, c.parquet and 4 more`.
fn name_some(files: &[String]) -> String {
    let named = files[..files.len().min(FILES_NAMED)].join(", ");
    match files.len().saturating_sub(FILES_NAMED) {
        0 => named,
        more => format!("{named} and {more} more"),
    }
}

fn warnings(dataset: &Dataset, files: &[FileLayout], columns: &[ColumnLayout]) -> Vec<Warning> {
    let mut warnings = Vec::new();

    // Row groups: the last row group of a file may be a remainder, so it does not count as
    // small unless it is the file's only one.
    let mut small = 0;
    let mut small_files = Vec::new();
    let mut huge = 0;
    let mut huge_files = Vec::new();
    let mut all = 0;
    for file in &dataset.files {
        let groups = file.metadata.row_groups();
        let mut file_small = false;
        let mut file_huge = false;
        for (i, rg) in groups.iter().enumerate() {
            all += 1;
            let bytes: u64 = rg.columns().iter().map(chunk_compressed).sum();
            let rows = u64::try_from(rg.num_rows()).unwrap_or(0);
            let remainder = i + 1 == groups.len() && groups.len() > 1;
            if !remainder && bytes < SMALL_ROW_GROUP_BYTES && rows < SMALL_ROW_GROUP_ROWS {
                small += 1;
                file_small = true;
            }
            if bytes > HUGE_ROW_GROUP_BYTES {
                huge += 1;
                file_huge = true;
            }
        }
        if file_small {
            small_files.push(file.display.clone());
        }
        if file_huge {
            huge_files.push(file.display.clone());
        }
    }
    // A dataset of one small file has nothing to gain from bigger row groups.
    if small > 0 && (all > 1) {
        warnings.push(Warning {
            kind: "small_row_groups",
            message: format!(
                "{small} of {all} row groups are small (under {} and {} rows) in {} files ({}): \
                 each costs a request per column on object storage; write row groups of \
                 64–512 MiB",
                format_size(SMALL_ROW_GROUP_BYTES),
                SMALL_ROW_GROUP_ROWS,
                small_files.len(),
                name_some(&small_files)
            ),
            files: small_files,
            columns: vec![],
        });
    }
    if huge > 0 {
        warnings.push(Warning {
            kind: "huge_row_groups",
            message: format!(
                "{huge} row groups are over {} compressed ({}): readers buffer a whole row \
                 group and parallelise over row groups; write row groups of 64–512 MiB",
                format_size(HUGE_ROW_GROUP_BYTES),
                name_some(&huge_files)
            ),
            files: huge_files,
            columns: vec![],
        });
    }

    let small_file_names: Vec<String> = files
        .iter()
        .filter(|f| f.file_bytes < SMALL_FILE_BYTES)
        .map(|f| f.path.clone())
        .collect();
    if files.len() > 1 && small_file_names.len() * 2 > files.len() {
        warnings.push(Warning {
            kind: "small_files",
            message: format!(
                "{} of {} files are under {}: every file costs a LIST entry, a footer read \
                 and an open; compact them into files of 128 MiB or more",
                small_file_names.len(),
                files.len(),
                format_size(SMALL_FILE_BYTES)
            ),
            files: small_file_names,
            columns: vec![],
        });
    }

    let uncompressed: Vec<&ColumnLayout> = columns
        .iter()
        .filter(|c| {
            c.codec == "UNCOMPRESSED" && c.compressed_bytes >= UNCOMPRESSED_WORTH_WARNING_BYTES
        })
        .collect();
    if !uncompressed.is_empty() {
        let bytes: u64 = uncompressed.iter().map(|c| c.compressed_bytes).sum();
        warnings.push(Warning {
            kind: "uncompressed_columns",
            message: format!(
                "{} columns are stored uncompressed ({}, {}): zstd would shrink them; \
                 --what-if measures by how much",
                uncompressed.len(),
                format_size(bytes),
                uncompressed
                    .iter()
                    .map(|c| c.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            files: vec![],
            columns: uncompressed.iter().map(|c| c.path.clone()).collect(),
        });
    }

    let mostly_null: Vec<&ColumnLayout> = columns
        .iter()
        .filter(|c| {
            c.null_count
                .is_some_and(|n| c.values > 0 && n as f64 / c.values as f64 > MOSTLY_NULL_SHARE)
        })
        .collect();
    if !mostly_null.is_empty() {
        warnings.push(Warning {
            kind: "mostly_null_columns",
            message: format!(
                "{} columns are over {:.0}% NULL ({}): drop them or move them to a side table",
                mostly_null.len(),
                MOSTLY_NULL_SHARE * 100.0,
                mostly_null
                    .iter()
                    .map(|c| {
                        let share = c.null_count.unwrap_or(0) as f64 / c.values as f64;
                        format!("{} {:.1}%", c.path, share * 100.0)
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            files: vec![],
            columns: mostly_null.iter().map(|c| c.path.clone()).collect(),
        });
    }

    warnings.extend(schema_mismatches(dataset));
    warnings
}

/// One warning per distinct way a file's schema differs from the first file's.
fn schema_mismatches(dataset: &Dataset) -> Vec<Warning> {
    let Some(first) = dataset.files.first() else {
        return vec![];
    };
    let leaves = |file: &DataFile| -> BTreeMap<String, String> {
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
    };
    let reference = leaves(first);
    let mut by_difference: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut order = Vec::new();
    let first_schema = first.metadata.file_metadata().schema_descr().root_schema();
    for file in &dataset.files[1..] {
        if file.metadata.file_metadata().schema_descr().root_schema() == first_schema {
            continue;
        }
        let this = leaves(file);
        if this == reference {
            continue;
        }
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
        for (path, kind) in &this {
            if let Some(expected) = reference.get(path).filter(|e| *e != kind) {
                parts.push(format!("{path} is {kind}, not {expected}"));
            }
        }
        if parts.is_empty() {
            parts.push("columns in another order".into());
        }
        let difference = parts.join("; ");
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
                kind: "schema_mismatch",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_and_names() {
        assert_eq!(
            spread(&mut [5, 1, 9, 3]),
            Spread {
                min: 1,
                median: 3,
                max: 9
            }
        );
        assert_eq!(spread(&mut []), Spread::default());
        let files: Vec<String> = (1..=5).map(|i| format!("f{i}")).collect();
        assert_eq!(name_some(&files), "f1, f2, f3 and 2 more");
        assert_eq!(name_some(&files[..2]), "f1, f2");
    }

    #[test]
    fn extremes_compare_as_values() {
        let v = |i: i64| Some(ScalarValue::Int64(Some(i)));
        assert_eq!(extreme(v(-5), v(3), Ordering::Less), v(-5));
        assert_eq!(extreme(v(-5), v(3), Ordering::Greater), v(3));
        assert_eq!(extreme(None, v(3), Ordering::Less), v(3));
        // Values of different types do not compare: the first stays.
        let s = Some(ScalarValue::Utf8(Some("a".into())));
        assert_eq!(extreme(v(1), s, Ordering::Less), v(1));
    }

    #[test]
    fn long_and_binary_values_are_shortened() {
        let long = ScalarValue::Utf8(Some("x".repeat(100)));
        assert_eq!(show_value(&long).chars().count(), STAT_VALUE_CHARS);
        let binary = ScalarValue::Binary(Some(vec![0xff, 0x00]));
        assert_eq!(show_value(&binary), "ff00");
    }
}
