//! What `prepcost inspect` reports: a dataset's layout and storage bill from its footers, and
//! the what-if of other layouts.

use std::borrow::Cow;

use serde::Serialize;

use super::budget::BudgetReport;

use super::pricing::{Pricing, RequestPricing};
use super::requests::RequestStats;

/// What `prepcost inspect` found.
#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    pub schema_version: u32,
    pub command: &'static str,
    pub prepcost_version: &'static str,
    pub source: InspectSource,
    pub totals: LayoutTotals,
    /// Every leaf column over the whole dataset, largest (compressed) first.
    pub columns: Vec<ColumnLayout>,
    /// Every file, in source order.
    pub files: Vec<FileLayout>,
    pub row_groups: RowGroupDistribution,
    /// What a reader of only some columns fetches (`--columns`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projection: Option<Projection>,
    pub warnings: Vec<Warning>,
    /// Files left out under `--on-error skip`.
    pub skipped: Vec<SkippedFile>,
    /// Other layouts measured on a sample (`--what-if`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub what_if: Option<Vec<WhatIfLayout>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<Recommendation>,
    /// What inspecting asked of storage.
    pub requests: RequestStats,
    pub cost: StorageCost,
    pub run: InspectRun,
    /// The budgets the run was held to, and their breaches; absent without budgets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<BudgetReport>,
}

/// The inspected source.
#[derive(Debug, Clone, Serialize)]
pub struct InspectSource {
    pub uri: String,
    /// `parquet`, `jsonl` or `csv`.
    pub format: &'static str,
    /// Rows, columns and sizes of a JSONL or CSV source (read in full: they have no footers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_files: Option<TextFilesSummary>,
}

/// Sums over the dataset (or one file).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LayoutTotals {
    pub files: u64,
    pub rows: u64,
    pub row_groups: u64,
    /// Sizes of the files on storage.
    pub file_bytes: u64,
    /// Column chunk bytes as stored, over all columns.
    pub compressed_bytes: u64,
    /// Column chunk bytes before compression.
    pub uncompressed_bytes: u64,
    /// Keeping the files in object storage for a month.
    pub storage_usd_per_month: f64,
}

/// One file of the dataset.
#[derive(Debug, Clone, Serialize)]
pub struct FileLayout {
    pub path: String,
    pub rows: u64,
    pub row_groups: u64,
    pub file_bytes: u64,
    pub compressed_bytes: u64,
    pub uncompressed_bytes: u64,
    /// The writer, as the footer names it.
    pub created_by: Option<String>,
    pub columns: Vec<FileColumn>,
}

/// One leaf column of one file, summed over its row groups.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileColumn {
    /// Dotted column path, e.g. `meta.url`.
    pub path: String,
    pub physical_type: &'static str,
    pub logical_type: Option<String>,
    pub compressed_bytes: u64,
    pub uncompressed_bytes: u64,
    /// Share of the file's compressed column bytes.
    pub share: f64,
    pub codec: Cow<'static, str>,
    pub encodings: Vec<&'static str>,
    pub null_count: Option<u64>,
    /// Smallest and largest value in the file, as for [`ColumnLayout`].
    pub min: Option<String>,
    pub max: Option<String>,
}

/// One leaf column, summed over the row groups of a file or of the dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnLayout {
    /// Dotted column path, e.g. `meta.url`.
    pub path: String,
    pub physical_type: &'static str,
    /// The logical (or converted) type, when the schema gives one.
    pub logical_type: Option<String>,
    pub compressed_bytes: u64,
    pub uncompressed_bytes: u64,
    /// Share of all compressed bytes (of the file, or of the dataset).
    pub share: f64,
    /// The codec, or the codecs separated by commas when chunks differ.
    pub codec: Cow<'static, str>,
    pub encodings: Vec<&'static str>,
    /// Column chunks.
    pub chunks: u64,
    /// Column chunks that start with a dictionary page.
    pub dictionary_chunks: u64,
    /// Values, NULLs included (more than the rows for repeated columns).
    pub values: u64,
    /// NULLs, when every chunk's statistics give them.
    pub null_count: Option<u64>,
    /// Smallest and largest value from the statistics (top-level columns only; long values
    /// are shortened).
    pub min: Option<String>,
    pub max: Option<String>,
    /// Every chunk has a column index (page statistics).
    pub column_index: bool,
    /// Every chunk has an offset index (page locations).
    pub offset_index: bool,
    /// Every chunk has a bloom filter.
    pub bloom_filter: bool,
    pub storage_usd_per_month: f64,
}

/// Sizes of the row groups of the dataset.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RowGroupDistribution {
    pub count: u64,
    pub rows: Spread,
    /// Compressed bytes of the row group's column chunks.
    pub compressed_bytes: Spread,
}

/// Minimum, median and maximum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Spread {
    pub min: u64,
    pub median: u64,
    pub max: u64,
}

/// A reader that fetches only some columns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Projection {
    /// The columns asked for, as given.
    pub columns: Vec<String>,
    /// The leaf columns they select.
    pub leaf_columns: Vec<String>,
    pub compressed_bytes: u64,
    pub uncompressed_bytes: u64,
    /// `compressed_bytes` as a share of all column bytes.
    pub share: f64,
}

/// A file that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
}

/// Something about the layout a data engineer would act on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    pub kind: WarningKind,
    pub message: String,
    /// The files concerned, when it is about some files.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// The columns concerned, when it is about some columns.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
}

/// What a warning is about; a stable name in the JSON report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// Row groups under 1 MiB and 10,000 rows.
    SmallRowGroups,
    /// Row groups over 1 GiB compressed.
    HugeRowGroups,
    /// Most files under 1 MiB.
    SmallFiles,
    /// Columns stored without compression.
    UncompressedColumns,
    /// Columns over 90% NULL.
    MostlyNullColumns,
    /// Files whose schema differs from the first file's.
    SchemaMismatch,
    /// Files whose footer has fields strict readers refuse (left out to read it).
    FooterRepaired,
    /// JSONL or CSV that would be smaller and column-readable as Parquet.
    RowFormat,
}

impl WarningKind {
    /// The stable name, as in the JSON report.
    pub fn name(self) -> &'static str {
        match self {
            WarningKind::SmallRowGroups => "small_row_groups",
            WarningKind::HugeRowGroups => "huge_row_groups",
            WarningKind::SmallFiles => "small_files",
            WarningKind::UncompressedColumns => "uncompressed_columns",
            WarningKind::MostlyNullColumns => "mostly_null_columns",
            WarningKind::SchemaMismatch => "schema_mismatch",
            WarningKind::FooterRepaired => "footer_repaired",
            WarningKind::RowFormat => "row_format",
        }
    }
}

/// One layout measured on the sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhatIfLayout {
    /// E.g. `zstd(3), dictionary, 128 MiB row groups`.
    pub name: String,
    /// The codec with its level, e.g. `zstd(3)`.
    pub codec: String,
    pub dictionary: bool,
    pub row_group_rows: u64,
    /// Bytes of the sample in this layout.
    pub bytes: u64,
    /// `bytes` over the sample's bytes today.
    pub size_ratio: f64,
    pub encode_seconds: f64,
    /// Decoded (Arrow) MB (10^6 bytes) per second, one thread.
    pub decode_mb_per_s: f64,
    /// The whole dataset's monthly bill in this layout.
    pub projected_usd_per_month: f64,
    /// Today's bill minus the projected one.
    pub saves_usd_per_month: f64,
    /// Decoding stays at or above `--min-decode-mb-per-s`.
    pub fast_enough: bool,
}

/// The cheapest layout to store that still decodes fast enough.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    pub layout: String,
    pub projected_usd_per_month: f64,
    pub saves_usd_per_month: f64,
    pub size_ratio: f64,
    pub decode_mb_per_s: f64,
    pub min_decode_mb_per_s: f64,
    /// How the sample was taken.
    pub sample: SampleSummary,
}

/// The sample the what-if re-encoded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleSummary {
    pub row_groups: u64,
    pub rows: u64,
    /// Bytes the sampled row groups take today.
    pub bytes: u64,
    /// Decoded (Arrow) bytes of the sample.
    pub decoded_bytes: u64,
}

/// A JSONL or CSV source, read in full.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextFilesSummary {
    /// `none`, `gzip`, `zstd`, `bzip2` or `xz`, per the file names (comma-separated when
    /// files differ).
    pub compression: String,
    pub rows: u64,
    /// Top-level columns with their Arrow types, as inferred.
    pub columns: Vec<TextColumn>,
    /// Bytes after decompression.
    pub decompressed_bytes: u64,
}

/// A column of a JSONL or CSV source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TextColumn {
    pub name: String,
    pub data_type: String,
}

/// The storage bill.
#[derive(Debug, Clone, Serialize)]
pub struct StorageCost {
    /// Keeping the dataset's files in object storage for a month.
    pub storage_usd_per_month: f64,
    /// The requests this run made of the store, priced.
    pub requests_usd: f64,
    /// The bytes this run read out of the store, priced.
    pub egress_usd: f64,
    pub pricing: Pricing,
    pub request_pricing: RequestPricing,
}

/// The conditions of the run.
#[derive(Debug, Clone, Serialize)]
pub struct InspectRun {
    pub wall_seconds: f64,
}
