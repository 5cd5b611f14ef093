//! What a step's result holds per sampling unit: rows, text bytes and tokens, counted from
//! its `__source_row`, text and `__tokens` columns.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{UInt32Type, UInt64Type};
use datafusion::prelude::ident;
use futures::StreamExt;

use crate::engine::{Intermediate, ROW_TOKENS, SOURCE_ROW, Session};
use crate::error::{Error, Result};
use crate::source::SampleUnits;
use crate::source::sampling::for_each_text;

/// Per-unit sums over one result, indexed by unit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub rows: Vec<u64>,
    pub text_bytes: Vec<u64>,
    /// Absent when the result carries no counts.
    pub tokens: Option<Vec<u64>>,
}

impl Tally {
    fn new(units: usize, tokens: bool) -> Self {
        Tally {
            rows: vec![0; units],
            text_bytes: vec![0; units],
            tokens: tokens.then(|| vec![0; units]),
        }
    }
}

/// Counts `result` per unit of `units`; rows outside every unit (none, for a sample's own
/// results) are left out.
pub async fn tally(
    session: &Session,
    result: &Intermediate,
    text_column: &str,
    units: &SampleUnits,
) -> Result<Tally> {
    let fail = |e: datafusion::error::DataFusionError| Error::engine("counting the sample", &e);
    let has_tokens = result.schema().index_of(ROW_TOKENS).is_ok();
    let mut columns = vec![ident(SOURCE_ROW), ident(text_column)];
    if has_tokens {
        columns.push(ident(ROW_TOKENS));
    }
    let table = result
        .table(&session.ctx, session.threads)
        .await
        .map_err(fail)?;
    let frame = session
        .ctx
        .read_table(table)
        .map_err(fail)?
        .select(columns)
        .map_err(fail)?;
    let mut stream = frame.execute_stream().await.map_err(fail)?;
    let mut tally = Tally::new(units.len(), has_tokens);
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(fail)?;
        let rows = batch.column(0).as_primitive::<UInt64Type>();
        let unit_of: Vec<Option<usize>> = rows.values().iter().map(|&r| units.unit_of(r)).collect();
        for_each_text(batch.column(1), |i, text| {
            if let Some(u) = unit_of[i] {
                tally.rows[u] += 1;
                tally.text_bytes[u] += text.map_or(0, |t| t.len() as u64);
            }
        });
        if let Some(tokens) = &mut tally.tokens {
            let counts = batch.column(2).as_primitive::<UInt32Type>();
            for (i, unit) in unit_of.iter().enumerate() {
                if let Some(u) = unit
                    && counts.is_valid(i)
                {
                    tokens[*u] += u64::from(counts.value(i));
                }
            }
        }
    }
    Ok(tally)
}
