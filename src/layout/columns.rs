//! The sums of each leaf column over its chunks — sizes, codecs, encodings, values, NULLs,
//! indexes — and the names the Parquet format gives its types and encodings.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeSet;

use datafusion::common::ScalarValue;
use datafusion::parquet::basic::{
    ConvertedType, Encoding, LogicalType, TimeUnit, Type as PhysicalType,
};
use datafusion::parquet::file::metadata::ColumnChunkMetaData;
use datafusion::parquet::schema::types::ColumnDescriptor;

use super::statistics::{extreme, show_value};
use crate::model::inspect::{ColumnLayout, FileColumn};
use crate::model::pricing::Pricing;
use crate::source::DataFile;
use crate::source::dataset::codec_name;
use crate::util::units::ratio;

/// Running sums for one leaf column.
#[derive(Debug, Clone)]
pub(super) struct ColumnSums {
    pub(super) path: String,
    physical_type: &'static str,
    logical_type: Option<String>,
    pub(super) compressed: u64,
    pub(super) uncompressed: u64,
    codecs: BTreeSet<&'static str>,
    /// The encodings of its chunks, as a bit mask of Parquet encoding numbers.
    encodings: i32,
    chunks: u64,
    dictionary_chunks: u64,
    values: u64,
    null_count: Option<u64>,
    pub(super) min: Option<ScalarValue>,
    pub(super) max: Option<ScalarValue>,
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
    pub(super) fn merge(&mut self, other: ColumnSums) {
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

    pub(super) fn to_file_column(&self, total_compressed: u64) -> FileColumn {
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

    pub(super) fn to_layout(&self, total_compressed: u64, pricing: &Pricing) -> ColumnLayout {
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

/// The leaf columns of one file, in schema order, summed over its row groups.
pub(super) fn file_columns(file: &DataFile) -> Vec<ColumnSums> {
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

/// The logical type of a leaf column, in the words of the Parquet format.
pub(super) fn logical_type_name(descr: &ColumnDescriptor) -> Option<String> {
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

pub(super) fn chunk_compressed(chunk: &ColumnChunkMetaData) -> u64 {
    u64::try_from(chunk.compressed_size()).unwrap_or(0)
}

pub(super) fn chunk_uncompressed(chunk: &ColumnChunkMetaData) -> u64 {
    u64::try_from(chunk.uncompressed_size()).unwrap_or(0)
}
