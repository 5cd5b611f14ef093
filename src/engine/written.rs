//! Results a cluster's executors write: a step's plan runs as a distributed `COPY` into a
//! directory of the session's, and one aggregate over the written files counts its figures —
//! rows, text bytes and lengths, and, for a stage whose rows carry the number of the first
//! condition they failed, what each condition left out.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Int64Type, SchemaRef};
use datafusion::common::Column;
use datafusion::common::config::TableParquetOptions;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::error::{DataFusionError, Result};
use datafusion::functions::expr_fn::{coalesce, octet_length};
use datafusion::functions_aggregate::expr_fn::{count, sum};
use datafusion::logical_expr::{Expr, ScalarUDF, cast, lit};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionContext};
use tempfile::TempDir;

use super::intermediate::{
    Intermediate, LENGTH_BINS, ROW_TOKENS, ROW_TOKENS_FRESH, TextStats, without_views,
};
use super::udf::TextLengthBin;

/// A written result, and the rows its marker left out.
pub struct Written {
    pub result: Intermediate,
    /// For each nonzero marker value: the rows left out and, when the rows carry their
    /// token counts, their tokens.
    pub left_out: Vec<(i64, u64, Option<u64>)>,
    /// When the executors counted the rows' tokens ([`ROW_TOKENS_FRESH`] is written).
    pub tokens: Option<CountedTokens>,
}

/// The tokens of a result whose rows executors counted.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CountedTokens {
    /// Rows by their token count, in increasing order of it.
    pub rows_by_tokens: Vec<(u32, u64)>,
    /// Rows whose text was tokenized; the others reused the count they carried.
    pub tokenized: u64,
}

/// Runs `frame` on the cluster, its result written as Parquet into `dir`; the result is the
/// rows whose `marker` column is 0 (all of them without one), counted over `text_column`.
pub async fn write(
    ctx: &SessionContext,
    frame: DataFrame,
    dir: TempDir,
    text_column: &str,
    marker: Option<&str>,
) -> Result<Written> {
    let files: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
    let path = format!("{}/", dir.path().display());
    let mut options = TableParquetOptions::default();
    options.global.compression = Some("lz4_raw".to_string());
    frame
        .write_parquet(&path, DataFrameWriteOptions::new(), Some(options))
        .await?;
    if std::fs::read_dir(dir.path())?.next().is_none() {
        // No rows, no file: an empty one keeps the result readable.
        let file = std::fs::File::create(dir.path().join("empty.parquet"))?;
        let schema = Arc::new(without_views(&files));
        ArrowWriter::try_new(file, schema, None)?.close()?;
    }
    let plain = without_views(&files);
    let written = ctx
        .read_parquet(path, ParquetReadOptions::default().schema(&plain))
        .await?;
    let counts = counts(written, &files, text_column, marker)?
        .collect()
        .await?;
    let (stats, left_out, tokens) = tally(&counts, files.index_of(ROW_TOKENS).is_ok())?;
    Ok(Written {
        result: Intermediate::written(dir, files, marker, stats),
        left_out,
        tokens,
    })
}

/// Rows, text bytes and token counts by marker and text-length bin, and by token count and
/// whether it was made anew when the executors counted the tokens.
fn counts(
    written: DataFrame,
    files: &SchemaRef,
    text_column: &str,
    marker: Option<&str>,
) -> Result<DataFrame> {
    let column = |name: &str| Expr::Column(Column::new_unqualified(name));
    let int64 = |e: Expr| cast(e, DataType::Int64);
    let text = column(text_column);
    let marker = marker.map_or(lit(0_i64), |m| int64(coalesce(vec![column(m), lit(0)])));
    let tokens = match files.index_of(ROW_TOKENS) {
        Ok(_) => int64(column(ROW_TOKENS)),
        Err(_) => lit(0_i64),
    };
    let bin = ScalarUDF::from(TextLengthBin::default()).call(vec![text.clone()]);
    let mut groups = vec![marker.alias("marker"), bin.alias("bin")];
    if files.index_of(ROW_TOKENS_FRESH).is_ok() {
        groups.push(tokens.clone().alias("row_tokens"));
        groups.push(int64(column(ROW_TOKENS_FRESH)).alias("fresh"));
    }
    written.aggregate(
        groups,
        vec![
            count(lit(1)).alias("rows"),
            int64(sum(int64(octet_length(text)))).alias("bytes"),
            int64(sum(tokens)).alias("tokens"),
        ],
    )
}

/// What the counts say: the kept rows' figures, the rows (and tokens, when `has_tokens`) each
/// nonzero marker left out, in marker order, and the kept rows' tokens when they were counted.
type Tally = (
    TextStats,
    Vec<(i64, u64, Option<u64>)>,
    Option<CountedTokens>,
);

fn tally(batches: &[RecordBatch], has_tokens: bool) -> Result<Tally> {
    let mut stats = TextStats::default();
    let mut left_out: Vec<(i64, u64, Option<u64>)> = Vec::new();
    // Rows by token count, and rows tokenized; present when the counts have them.
    let mut counted: Option<(BTreeMap<u32, u64>, u64)> = None;
    for batch in batches {
        let value = |name: &str| {
            let column = batch.column_by_name(name).ok_or_else(|| {
                DataFusionError::Internal(format!("the counts have no column {name}"))
            })?;
            Ok::<_, DataFusionError>(column.as_primitive::<Int64Type>())
        };
        let (markers, bins) = (value("marker")?, value("bin")?);
        let (rows, bytes, tokens) = (value("rows")?, value("bytes")?, value("tokens")?);
        let row_tokens = value("row_tokens").ok().zip(value("fresh").ok());
        for row in 0..batch.num_rows() {
            let n = rows.value(row) as u64;
            let marker = markers.value(row);
            if marker != 0 {
                let tokens = has_tokens
                    .then(|| (!tokens.is_null(row)).then(|| tokens.value(row).max(0) as u64))
                    .map(Option::unwrap_or_default);
                match left_out.iter_mut().find(|(m, ..)| *m == marker) {
                    Some((_, r, t)) => {
                        *r += n;
                        *t = t.zip(tokens).map(|(a, b)| a + b).or(tokens);
                    }
                    None => left_out.push((marker, n, tokens)),
                }
                continue;
            }
            if let Some((row_tokens, fresh)) = row_tokens {
                let (by_tokens, tokenized) = counted.get_or_insert_default();
                let t = u32::try_from(row_tokens.value(row).max(0)).unwrap_or(u32::MAX);
                *by_tokens.entry(t).or_default() += n;
                *tokenized += if fresh.value(row) != 0 { n } else { 0 };
            }
            stats.rows += n;
            if bins.is_null(row) {
                stats.text_nulls += n;
                continue;
            }
            let bin = (bins.value(row).max(0) as usize).min(LENGTH_BINS - 1);
            stats.length_bins[bin] += n;
            stats.text_bytes += bytes.value(row).max(0) as u64;
        }
    }
    left_out.sort_by_key(|(m, ..)| *m);
    let counted = counted.map(|(by_tokens, tokenized)| CountedTokens {
        rows_by_tokens: by_tokens.into_iter().collect(),
        tokenized,
    });
    Ok((stats, left_out, counted))
}
