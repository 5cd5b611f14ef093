//! Smaller samples nested in the sample — seeded parts of its units — run through the same
//! steps first: their time and memory per step beside the sample's give each step's cost
//! curve (fixed costs, and token counting's warm-up, do not grow with the data).

use std::sync::Arc;

use futures::StreamExt;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::engine::{Intermediate, SOURCE_ROW, Session};
use crate::error::{Error, Result};
use crate::source::sampling::{SampleMode, SamplePlan, keep_rows};
use crate::source::{SampleSpec, SampleUnits};

/// The share of the sample's units the nested sample keeps.
pub const NESTED_SHARE: f64 = 0.25;

/// One step measured at one size: its input's text bytes, its time, and the memory it held
/// beyond its input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub input_bytes: f64,
    pub wall_seconds: f64,
    pub cpu_seconds: f64,
    pub working_bytes: f64,
}

/// One nested sample's steps: counting the source's tokens, then each stage.
#[derive(Debug, Clone, Default)]
pub struct Nested {
    pub tokens: Option<Point>,
    pub stages: Vec<Point>,
}

/// The nested samples' steps, smallest first.
#[derive(Debug, Clone, Default)]
pub struct Calibration {
    pub runs: Vec<Nested>,
    /// Wall and CPU seconds the nested runs took, all told: the sample's own work.
    pub seconds: (f64, f64),
    /// True when the user gave the sizes (`--sample` with several fractions): each step's
    /// model is then chosen from its fit.
    pub chosen_sizes: bool,
}

impl Calibration {
    /// Each nested run's point for a step (`pick` returns it from a run).
    pub fn points(&self, pick: impl Fn(&Nested) -> Option<Point>) -> Vec<Point> {
        self.runs.iter().filter_map(pick).collect()
    }
}

/// The shares of the sample's units the nested samples keep, smallest first: each smaller
/// fraction given over the sample's, or [`NESTED_SHARE`].
pub fn shares(spec: &SampleSpec) -> Vec<f64> {
    if spec.smaller.is_empty() {
        return vec![NESTED_SHARE];
    }
    spec.smaller.iter().map(|f| f / spec.fraction).collect()
}

/// Which rows of the sample a nested sample of `share` keeps: for row, content and minhash
/// samples, those a sample of `share` of the fraction keeps (the same hashes below a lower
/// bar); for row-group samples, a seeded `share` of its row groups.
pub fn nested_rows(
    plan: &SamplePlan,
    units: &SampleUnits,
    share: f64,
) -> impl Fn(u64, Option<&[u8]>) -> bool {
    let mut nested = plan.clone();
    nested.spec.fraction *= share;
    let chosen = match (plan.mode, units) {
        (SampleMode::RowGroups { sampled, .. }, SampleUnits::RowGroups { .. }) => {
            let keep = ((sampled as f64 * share).round() as usize).clamp(1, sampled);
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
