//! A smaller sample nested in the sample — a seeded part of its units — run through the same
//! steps first: its time per step beside the sample's gives each step's cost curve (fixed
//! costs, and token counting's warm-up, do not grow with the data).

use std::sync::Arc;

use futures::StreamExt;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::engine::{Intermediate, SOURCE_ROW, Session};
use crate::error::{Error, Result};
use crate::source::SampleUnits;
use crate::source::sampling::{SampleMode, SamplePlan, keep_rows};

/// The share of the sample's units the nested sample keeps.
pub const NESTED_SHARE: f64 = 0.25;

/// One step measured at one size: its input's text bytes, and its time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub input_bytes: f64,
    pub wall_seconds: f64,
    pub cpu_seconds: f64,
}

/// The nested sample's steps: counting the source's tokens, then each stage.
#[derive(Debug, Clone, Default)]
pub struct Calibration {
    pub tokens: Option<Point>,
    pub stages: Vec<Point>,
    /// Wall and CPU seconds the nested run took, all told: the sample's own work.
    pub seconds: (f64, f64),
}

/// Which rows of the sample the nested sample keeps: for row and content samples, those a
/// sample of `NESTED_SHARE` of the fraction keeps (the same hashes below a lower bar); for
/// row-group samples, a seeded `NESTED_SHARE` of its row groups.
pub fn nested_rows(plan: &SamplePlan, units: &SampleUnits) -> impl Fn(u64, Option<&[u8]>) -> bool {
    let mut nested = plan.clone();
    nested.spec.fraction *= NESTED_SHARE;
    let chosen = match (plan.mode, units) {
        (SampleMode::RowGroups { sampled, .. }, SampleUnits::RowGroups { .. }) => {
            let keep = ((sampled as f64 * NESTED_SHARE).round() as usize).clamp(1, sampled);
            let mut rng = StdRng::seed_from_u64(plan.spec.seed.wrapping_add(1));
            let mut chosen = vec![false; sampled];
            for i in rand::seq::index::sample(&mut rng, sampled, keep) {
                chosen[i] = true;
            }
            Some((chosen, units.clone()))
        }
        _ => None,
    };
    move |row, text| match &chosen {
        Some((chosen, units)) => units.unit_of(row).is_some_and(|u| chosen[u]),
        None => nested.keeps(row, text),
    }
}

/// The rows of `sample` that `keep` keeps, as a result of their own.
pub async fn nested(
    session: &Session,
    sample: &Intermediate,
    text_column: &str,
    keep: impl Fn(u64, Option<&[u8]>) -> bool,
) -> Result<Intermediate> {
    let fail =
        |e: datafusion::error::DataFusionError| Error::engine("taking the nested sample", &e);
    let schema = Arc::clone(sample.schema());
    let (rows, text) = (schema.index_of(SOURCE_ROW), schema.index_of(text_column));
    let (Ok(rows), Ok(text)) = (rows, text) else {
        return Err(Error::engine(
            "taking the nested sample",
            &datafusion::error::DataFusionError::Internal("no source rows or text".into()),
        ));
    };
    let table = sample
        .table(&session.ctx, session.threads)
        .await
        .map_err(fail)?;
    let mut stream = session
        .ctx
        .read_table(table)
        .map_err(fail)?
        .execute_stream()
        .await
        .map_err(fail)?;
    let mut collector = session
        .collector(schema, text_column, "nested sample")
        .sharing(sample);
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(fail)?;
        collector
            .push(keep_rows(&batch, rows, text, &keep).map_err(|e| fail(e.into()))?)
            .map_err(fail)?;
    }
    collector.finish().map_err(fail)
}
