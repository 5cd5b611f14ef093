//! Signing: every document of the input cut into shingles and signed with the pass's bands
//! on all partitions, its band hashes written into the band tables by rank.

use std::ops::Range;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanBufferBuilder, RecordBatch};
use datafusion::arrow::datatypes::{DataType, UInt64Type};
use datafusion::common::{Result as DfResult, exec_err};
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::{SessionContext, col, not};
use futures::StreamExt;

use crate::engine::udf::KeepRows;
use crate::engine::udf::minhash::{Permutations, ShingleSpec, Shingler, band_hash};
use crate::engine::{INPUT_TABLE, SOURCE_ROW};
use crate::stages::lsh::{BandTable, RankSet};
use crate::stages::stage::StageError;

/// What the signature tasks of one pass share.
pub(super) struct PassState {
    pub(super) ranks: Arc<Vec<u64>>,
    pub(super) empty: Arc<RankSet>,
    pub(super) permutations: Arc<Permutations>,
    pub(super) shingles: ShingleSpec,
    pub(super) rows_per_band: usize,
    pub(super) bands: Range<usize>,
    pub(super) tables: Vec<BandTable>,
}

/// The rank of the document at `source_row` among `ranks` (the input's sorted source rows).
pub(super) fn rank_of(ranks: &[u64], source_row: u64) -> DfResult<u32> {
    match ranks.binary_search(&source_row) {
        Ok(rank) => Ok(rank as u32),
        Err(_) => exec_err!("{SOURCE_ROW} {source_row} changed between two reads of the input"),
    }
}

impl PassState {
    /// Signs the documents of one batch into the band tables.
    fn sign(&self, batch: &RecordBatch, work: &mut SignWork) -> DfResult<Vec<u32>> {
        let source_rows = batch.column(0).as_primitive::<UInt64Type>();
        let mut ranks = Vec::with_capacity(batch.num_rows());
        let r = self.rows_per_band;
        let permutations = self.bands.start * r..self.bands.end * r;
        for (row, text) in string_values(batch.column(1).as_ref())?.enumerate() {
            let rank = rank_of(&self.ranks, source_rows.value(row))?;
            ranks.push(rank);
            match text {
                Some(text) => work.shingler.hashes(text, &mut work.hashes),
                None => work.hashes.clear(),
            }
            if work.hashes.is_empty() {
                self.empty.insert(rank);
                continue;
            }
            self.permutations
                .signature(&work.hashes, permutations.clone(), &mut work.signature);
            for (k, table) in self.tables.iter().enumerate() {
                let band = &work.signature[k * r..(k + 1) * r];
                table.set(rank, band_hash(band, self.bands.start + k));
            }
        }
        Ok(ranks)
    }
}

/// A signature task's buffers.
struct SignWork {
    shingler: Shingler,
    hashes: Vec<u64>,
    signature: Vec<u64>,
}

/// Signs every document of the input on all partitions; with `keep_texts`, returns the text
/// arrays read and the ranks of their rows.
pub(super) async fn sign_all(
    ctx: &SessionContext,
    column: &str,
    state: &Arc<PassState>,
    keep_texts: bool,
) -> Result<Vec<(ArrayRef, Vec<u32>)>, StageError> {
    let streams = ctx
        .table(INPUT_TABLE)
        .await?
        .select_columns(&[SOURCE_ROW, column])?
        .execute_stream_partitioned()
        .await?;
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|stream| tokio::spawn(sign_partition(stream, Arc::clone(state), keep_texts)))
        .collect();
    let mut kept = Vec::new();
    for task in tasks {
        let partition = task
            .await
            .map_err(|e| internal(&format!("a signature task failed: {e}")))??;
        kept.extend(partition);
    }
    Ok(kept)
}

async fn sign_partition(
    mut stream: SendableRecordBatchStream,
    state: Arc<PassState>,
    keep_texts: bool,
) -> DfResult<Vec<(ArrayRef, Vec<u32>)>> {
    let mut work = SignWork {
        shingler: Shingler::new(state.shingles),
        hashes: Vec::new(),
        signature: vec![0; state.bands.len() * state.rows_per_band],
    };
    let mut kept = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let ranks = state.sign(&batch, &mut work)?;
        if keep_texts {
            kept.push((Arc::clone(batch.column(1)), ranks));
        }
    }
    Ok(kept)
}

/// The source rows and texts of the documents whose source rows are among `rows`.
pub(super) async fn documents(
    ctx: &SessionContext,
    column: &str,
    rows: &[u64],
) -> Result<SendableRecordBatchStream, StageError> {
    let len = rows.iter().max().map_or(0, |&last| last as usize + 1);
    let mut wanted = BooleanBufferBuilder::new(len);
    wanted.append_n(len, false);
    for &row in rows {
        wanted.set_bit(row as usize, true);
    }
    // `minhash_keep` keeps the rows it is not given: the wanted ones are those it drops.
    let keep = ScalarUDF::new_from_impl(KeepRows::new(wanted.finish()));
    Ok(ctx
        .table(INPUT_TABLE)
        .await?
        .select_columns(&[SOURCE_ROW, column])?
        .filter(not(keep.call(vec![col(SOURCE_ROW)])))?
        .execute_stream()
        .await?)
}

/// The sorted `__source_row` values of the input: a document's rank is its position here.
pub(super) async fn source_rows(ctx: &SessionContext) -> Result<Vec<u64>, StageError> {
    let batches = ctx
        .table(INPUT_TABLE)
        .await?
        .select_columns(&[SOURCE_ROW])?
        .collect()
        .await?;
    let mut rows = Vec::with_capacity(batches.iter().map(RecordBatch::num_rows).sum());
    for batch in &batches {
        rows.extend_from_slice(batch.column(0).as_primitive::<UInt64Type>().values());
    }
    drop(batches);
    rows.sort_unstable();
    Ok(rows)
}

/// The values of a string array of any string type.
pub(super) fn string_values(
    array: &dyn Array,
) -> DfResult<Box<dyn Iterator<Item = Option<&str>> + '_>> {
    Ok(match array.data_type() {
        DataType::Utf8 => Box::new(array.as_string::<i32>().iter()),
        DataType::LargeUtf8 => Box::new(array.as_string::<i64>().iter()),
        DataType::Utf8View => Box::new(array.as_string_view().iter()),
        other => return exec_err!("expected a string column, found {other}"),
    })
}

pub(super) fn string_value(array: &dyn Array, row: usize) -> Option<&str> {
    if array.is_null(row) {
        return None;
    }
    match array.data_type() {
        DataType::Utf8 => Some(array.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => Some(array.as_string::<i64>().value(row)),
        DataType::Utf8View => Some(array.as_string_view().value(row)),
        _ => None,
    }
}

pub(super) fn internal(message: &str) -> StageError {
    StageError::Engine(DataFusionError::Internal(message.to_string()))
}
