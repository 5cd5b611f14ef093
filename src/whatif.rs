//! The what-if of other layouts: a deterministic sample of row groups, re-encoded in memory
//! under a grid of codecs, dictionary settings and row-group sizes, each measured for size,
//! encode time and decode speed, and priced for the whole dataset.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;

use crate::error::{Error, Result};
use crate::model::inspect::{Recommendation, WhatIfLayout};
use crate::source::Sample;
use crate::util::units::{count, ratio};

/// Rows per batch when reading the sample and decoding a layout.
const BATCH_ROWS: usize = 8192;
/// Decodes of each layout; the median time is kept.
const DECODE_RUNS: usize = 3;
/// Row-group sizes (rows) tried besides today's: DuckDB's default and arrow-rs's default.
const OTHER_ROW_GROUP_ROWS: [u64; 2] = [122_880, 1_048_576];

/// How the what-if samples and judges layouts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WhatIfSettings {
    /// Row groups sampled, spread evenly over the dataset.
    pub sample_row_groups: u64,
    /// Decoded (Arrow) bytes at which sampling stops.
    pub sample_size: u64,
    /// Layouts that decode slower than this (MB/s, one thread) are not recommended.
    pub min_decode_mb_per_s: f64,
}

impl Default for WhatIfSettings {
    fn default() -> Self {
        WhatIfSettings {
            sample_row_groups: 8,
            sample_size: 32 << 20,
            min_decode_mb_per_s: 200.0,
        }
    }
}

/// The measured layouts, and the one recommended (none when no layout decodes fast enough).
#[derive(Debug, Clone)]
pub struct Outcome {
    pub layouts: Vec<WhatIfLayout>,
    pub recommendation: Option<Recommendation>,
}

/// Which layouts to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grid {
    /// Every codec, dictionary on and off, and other row-group sizes.
    Full,
    /// Only the layout prepcost writes: zstd(3) with dictionaries.
    Default,
}

/// Re-encodes `sample` under the layouts of `grid` and prices each against
/// `today_usd_per_month`, the bill of the dataset as it is stored.
pub async fn measure(
    sample: Sample,
    grid: Grid,
    min_decode_mb_per_s: f64,
    today_usd_per_month: f64,
) -> Result<Outcome> {
    let summary = sample.summary.clone();
    let layouts = tokio::task::spawn_blocking(move || {
        layouts(&sample, grid)
            .into_iter()
            .map(|layout| layout.measure(&sample))
            .collect::<Result<Vec<_>>>()
    })
    .await
    .map_err(|e| Error::Engine {
        context: "measuring layouts".into(),
        message: e.to_string(),
    })??;
    let layouts: Vec<WhatIfLayout> = layouts
        .into_iter()
        .map(|m| {
            let size_ratio = ratio(m.bytes as f64, summary.bytes as f64);
            let projected = today_usd_per_month * size_ratio;
            let decode_mb_per_s = ratio(summary.decoded_bytes as f64 / 1e6, m.decode.as_secs_f64());
            WhatIfLayout {
                name: m.layout.name(),
                codec: m.layout.codec_name(),
                dictionary: m.layout.dictionary,
                row_group_rows: m.layout.row_group_rows,
                bytes: m.bytes,
                size_ratio,
                encode_seconds: m.encode.as_secs_f64(),
                decode_mb_per_s,
                projected_usd_per_month: projected,
                saves_usd_per_month: today_usd_per_month - projected,
                fast_enough: decode_mb_per_s >= min_decode_mb_per_s,
            }
        })
        .collect();
    let recommendation = layouts
        .iter()
        .filter(|l| l.fast_enough)
        .min_by(|a, b| {
            a.bytes
                .cmp(&b.bytes)
                .then(b.decode_mb_per_s.total_cmp(&a.decode_mb_per_s))
        })
        .map(|best| Recommendation {
            layout: best.name.clone(),
            projected_usd_per_month: best.projected_usd_per_month,
            saves_usd_per_month: best.saves_usd_per_month,
            size_ratio: best.size_ratio,
            decode_mb_per_s: best.decode_mb_per_s,
            min_decode_mb_per_s,
            sample: summary.clone(),
        });
    Ok(Outcome {
        layouts,
        recommendation,
    })
}

/// One layout of the grid.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Layout {
    codec: Compression,
    dictionary: bool,
    row_group_rows: u64,
}

/// A layout with what it measured.
struct Measured {
    layout: Layout,
    bytes: u64,
    encode: Duration,
    decode: Duration,
}

/// Every codec with dictionary encoding on and off at today's row-group size, then zstd(3)
/// with dictionaries at other row-group sizes the sample is big enough to show; or only the
/// default layout.
fn layouts(sample: &Sample, grid: Grid) -> Vec<Layout> {
    let level = |l| ZstdLevel::try_new(l).expect("a valid zstd level");
    if grid == Grid::Default {
        return vec![Layout {
            codec: Compression::ZSTD(level(3)),
            dictionary: true,
            row_group_rows: sample.today_row_group_rows,
        }];
    }
    let codecs = [
        Compression::UNCOMPRESSED,
        Compression::SNAPPY,
        Compression::LZ4_RAW,
        Compression::GZIP(GzipLevel::default()),
        Compression::BROTLI(BrotliLevel::default()),
        Compression::ZSTD(level(1)),
        Compression::ZSTD(level(3)),
        Compression::ZSTD(level(9)),
        Compression::ZSTD(level(19)),
    ];
    let today = sample.today_row_group_rows;
    let mut layouts = Vec::new();
    for codec in codecs {
        for dictionary in [true, false] {
            layouts.push(Layout {
                codec,
                dictionary,
                row_group_rows: today,
            });
        }
    }
    for rows in OTHER_ROW_GROUP_ROWS {
        // Above the sample's rows every size gives one row group: nothing new to measure.
        if rows != today && (rows < sample.summary.rows || today < sample.summary.rows) {
            layouts.push(Layout {
                codec: Compression::ZSTD(level(3)),
                dictionary: true,
                row_group_rows: rows.min(sample.summary.rows.max(1)),
            });
        }
    }
    layouts.dedup();
    layouts
}

impl Layout {
    fn codec_name(&self) -> String {
        match self.codec {
            Compression::UNCOMPRESSED => "none".into(),
            Compression::SNAPPY => "snappy".into(),
            Compression::LZ4_RAW => "lz4_raw".into(),
            Compression::GZIP(l) => format!("gzip({})", l.compression_level()),
            Compression::BROTLI(l) => format!("brotli({})", l.compression_level()),
            Compression::ZSTD(l) => format!("zstd({})", l.compression_level()),
            other => other.to_string().to_lowercase(),
        }
    }

    fn name(&self) -> String {
        format!(
            "{}, {}, {}-row groups",
            self.codec_name(),
            if self.dictionary {
                "dictionary"
            } else {
                "no dictionary"
            },
            count(self.row_group_rows)
        )
    }

    /// Encodes the sample in this layout, then decodes it [`DECODE_RUNS`] times.
    fn measure(self, sample: &Sample) -> Result<Measured> {
        let fail = |e: &dyn std::fmt::Display| Error::Engine {
            context: format!("re-encoding the sample as {}", self.name()),
            message: e.to_string(),
        };
        let properties = WriterProperties::builder()
            .set_compression(self.codec)
            .set_dictionary_enabled(self.dictionary)
            .set_max_row_group_row_count(usize::try_from(self.row_group_rows).ok())
            .build();
        let started = Instant::now();
        let mut writer =
            ArrowWriter::try_new(Vec::new(), Arc::clone(&sample.schema), Some(properties))
                .map_err(|e| fail(&e))?;
        for batch in &sample.batches {
            writer.write(batch).map_err(|e| fail(&e))?;
        }
        let encoded = Bytes::from(writer.into_inner().map_err(|e| fail(&e))?);
        let encode = started.elapsed();

        let mut decodes = Vec::with_capacity(DECODE_RUNS);
        for _ in 0..DECODE_RUNS {
            let started = Instant::now();
            let reader = ParquetRecordBatchReaderBuilder::try_new(encoded.clone())
                .and_then(|b| b.with_batch_size(BATCH_ROWS).build())
                .map_err(|e| fail(&e))?;
            for batch in reader {
                batch.map_err(|e| fail(&e))?;
            }
            decodes.push(started.elapsed());
        }
        decodes.sort_unstable();
        Ok(Measured {
            layout: self,
            bytes: encoded.len() as u64,
            encode,
            decode: decodes[DECODE_RUNS / 2],
        })
    }
}
