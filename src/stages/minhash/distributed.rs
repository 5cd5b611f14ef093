//! The `minhash` stage where executors run the plans: they sign the documents they hold with
//! `minhash_bands`, bring the documents that share a bucket together with a windowed count,
//! and send back only those. This process sorts them as the band tables would list them and
//! joins the buckets with union-find, as on one machine.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{UInt16Type, UInt64Type};
use datafusion::functions::core::expr_fn::get_field;
use datafusion::functions_aggregate::count::count_udaf;
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{Expr, ExprFunctionExt};
use datafusion::prelude::{SessionContext, col, ident, lit};
use futures::StreamExt;
use rayon::slice::ParallelSliceMut;

use super::budget::Budget;
use super::clusters::TextIndex;
use super::params::MinhashParams;
use super::sign::{documents, rank_of};
use crate::engine::udf::minhash::{BAND, BandSpec, KEY};
use crate::engine::{INPUT_TABLE, SOURCE_ROW};
use crate::stages::lsh::RankSet;
use crate::stages::stage::StageError;

const ROW: &str = "row";
const KEYS: &str = "keys";
const MEMBERS: &str = "members";

/// The documents that share a bucket with another: one entry per document and band.
pub(super) struct Buckets {
    /// (band, key, rank), sorted: bucket after bucket, each in source order.
    entries: Vec<(u16, u64, u32)>,
}

impl Buckets {
    /// Calls `bucket` with the ranks of each bucket's members, in source order; the buckets
    /// in band order, and by key within a band, as the band tables of one machine list them.
    pub(super) fn each(&self, mut bucket: impl FnMut(&[u32])) {
        let mut members = Vec::new();
        for group in self.entries.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
            members.clear();
            members.extend(group.iter().map(|&(_, _, rank)| rank));
            bucket(&members);
        }
    }

    /// Every rank that is in some bucket (with repeats).
    fn members(&self) -> impl Iterator<Item = u32> + '_ {
        self.entries.iter().map(|&(_, _, rank)| rank)
    }
}

/// Runs the signing and bucketing plan; documents with nothing to shingle go into `empty`.
/// `ranks` are the input's source rows, sorted. The plan's rows come in any order (no
/// engine promises one across executors), so they are sorted here.
pub(super) async fn buckets(
    ctx: &SessionContext,
    params: &MinhashParams,
    ranks: &[u64],
    empty: &RankSet,
    budget: &mut Budget,
) -> Result<Buckets, StageError> {
    let spec = BandSpec {
        shingles: params.shingles,
        rows_per_band: params.rows,
        bands: 0..params.bands,
    };
    let members = Expr::from(WindowFunction::new(count_udaf(), vec![lit(1)]))
        .partition_by(vec![col(BAND), col(KEY)])
        .build()?
        .alias(MEMBERS);
    let mut stream = ctx
        .table(INPUT_TABLE)
        .await?
        .select(vec![
            col(SOURCE_ROW).alias(ROW),
            spec.call(ident(&params.column)).alias(KEYS),
        ])?
        .unnest_columns(&[KEYS])?
        .select(vec![
            col(ROW),
            get_field(col(KEYS), BAND).alias(BAND),
            get_field(col(KEYS), KEY).alias(KEY),
        ])?
        .window(vec![members])?
        .filter(col(MEMBERS).gt(lit(1)).or(col(KEY).is_null()))?
        .select_columns(&[ROW, BAND, KEY])?
        .execute_stream()
        .await?;
    let mut entries = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let before = entries.capacity();
        gather(&batch, ranks, empty, &mut entries)?;
        let grown = (entries.capacity() - before) * size_of::<(u16, u64, u32)>();
        budget.grow(grown, "the candidate documents")?;
    }
    entries.par_sort_unstable();
    Ok(Buckets { entries })
}

/// Adds the (band, key, rank) of each row of `batch`, or puts its rank into `empty`.
fn gather(
    batch: &RecordBatch,
    ranks: &[u64],
    empty: &RankSet,
    entries: &mut Vec<(u16, u64, u32)>,
) -> Result<(), StageError> {
    let rows = batch.column(0).as_primitive::<UInt64Type>();
    let bands = batch.column(1).as_primitive::<UInt16Type>();
    let keys = batch.column(2).as_primitive::<UInt64Type>();
    for i in 0..batch.num_rows() {
        let rank = rank_of(ranks, rows.value(i))?;
        if keys.is_null(i) {
            empty.insert(rank);
        } else {
            entries.push((bands.value(i), keys.value(i), rank));
        }
    }
    Ok(())
}

/// The texts of the documents in some bucket, for verification.
pub(super) async fn texts(
    ctx: &SessionContext,
    column: &str,
    ranks: &[u64],
    buckets: &Buckets,
    budget: &mut Budget,
) -> Result<TextIndex, StageError> {
    let rows: Vec<u64> = buckets.members().map(|rank| ranks[rank as usize]).collect();
    let mut stream = documents(ctx, column, &rows).await?;
    drop(rows);
    let mut kept = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let source_rows = batch.column(0).as_primitive::<UInt64Type>();
        let ranks: Vec<u32> = source_rows
            .values()
            .iter()
            .map(|&row| rank_of(ranks, row))
            .collect::<Result<_, _>>()?;
        budget.grow(
            batch.column(1).get_array_memory_size() + ranks.len() * 4,
            "the texts of the candidate documents",
        )?;
        kept.push((std::sync::Arc::clone(batch.column(1)), ranks));
    }
    Ok(TextIndex::new(kept, ranks.len()))
}
