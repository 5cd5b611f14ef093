//! The `minhash` stage: near-duplicate removal with MinHash LSH. Documents are cut into
//! shingles, signed with `bands × rows` hash functions on all cores, grouped by band, and
//! joined into clusters with union-find; each cluster keeps its first document in source
//! order. The memory it needs is forecast from the input's row count before anything is
//! allocated: bands are processed in passes when they do not fit at once, and the stage
//! refuses, naming what would fit, when not even one band does.

mod budget;
mod clusters;
mod distributed;
mod examples;
mod params;
mod run;
mod sign;

use std::cell::RefCell;

use async_trait::async_trait;
use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::{SessionContext, col};

pub use params::{MinhashParams, PARAMS};
use run::Run;

use crate::engine::udf::minhash::{ShingleSpec, Shingler};
use crate::engine::udf::{self, KeepRows};
use crate::engine::{HIDDEN_COLUMNS, INPUT_TABLE, SOURCE_ROW};
use crate::source::sampling::GroupKey;
use crate::stages::stage::{Planned, Stage, StageError, StageInput};
use crate::tokenizer::is_text;

/// The `minhash` stage.
#[derive(Debug)]
pub struct MinhashStage {
    name: String,
    params: MinhashParams,
}

impl MinhashStage {
    pub fn new(name: impl Into<String>, params: MinhashParams) -> Self {
        Self {
            name: name.into(),
            params,
        }
    }
}

#[async_trait]
impl Stage for MinhashStage {
    fn name(&self) -> &str {
        &self.name
    }

    fn origin(&self) -> String {
        "kind minhash".to_string()
    }

    fn functions(&self) -> &'static [&'static str] {
        &[udf::minhash::NAME, KeepRows::NAME]
    }

    async fn plan(
        &self,
        ctx: &SessionContext,
        input: &StageInput<'_>,
    ) -> Result<Planned, StageError> {
        let table = ctx.table(INPUT_TABLE).await?;
        let column = &self.params.column;
        match table.schema().as_arrow().field_with_name(column) {
            Ok(field) if is_text(field.data_type()) => {}
            Ok(field) => {
                return Err(StageError::Refused(format!(
                    "column '{column}' has type {}, not a string type",
                    field.data_type()
                )));
            }
            Err(_) => {
                let columns: Vec<String> = table
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .filter(|n| !HIDDEN_COLUMNS.contains(&n.as_str()))
                    .collect();
                return Err(StageError::Refused(format!(
                    "column '{column}' is not in its input; its columns are: {}",
                    columns.join(", ")
                )));
            }
        }
        let run = Run::start(ctx, &self.params, input)?;
        let outcome = run.execute(ctx).await?;
        let keep = ScalarUDF::new_from_impl(KeepRows::new(outcome.removed));
        let frame = table.filter(keep.call(vec![col(SOURCE_ROW)]))?;
        Ok(Planned {
            frame,
            near_dedup: Some(Box::new(outcome.report)),
        })
    }
}

/// A text's MinHash value under one hash function: the least hash of its shingles, as a
/// minhash stage of the same shingles computes it (`--sample-by minhash` keeps the texts of
/// a value together).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinHashKey(pub ShingleSpec);

impl GroupKey for MinHashKey {
    fn key(&self, text: &[u8]) -> Option<u64> {
        thread_local! {
            static SHINGLER: RefCell<Option<(Shingler, Vec<u64>)>> = const { RefCell::new(None) };
        }
        let text = std::str::from_utf8(text).ok()?;
        SHINGLER.with_borrow_mut(|cell| {
            let (shingler, hashes) = match cell {
                Some((shingler, _)) if shingler.spec() == self.0 => cell.as_mut()?,
                _ => cell.insert((Shingler::new(self.0), Vec::new())),
            };
            shingler.hashes(text, hashes);
            hashes.iter().copied().min()
        })
    }
}
