//! The [`Stage`] trait: one step of a pipeline, planned over the table `input` that holds the
//! previous step's result.

use async_trait::async_trait;
use datafusion::dataframe::DataFrame;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;

use crate::engine::TextStats;
use crate::model::near_dedup::NearDedupReport;
use crate::util::progress::Progress;

/// One step of a pipeline. It reads the previous step's result as the table `input` and
/// returns the plan of its own result; the runner executes and measures it.
#[async_trait]
pub trait Stage: Send + Sync {
    /// The stage's name in the pipeline.
    fn name(&self) -> &str;

    /// Where it comes from, for messages: a SQL file, `queries/clean.sql`, `kind minhash`.
    fn origin(&self) -> String;

    /// The query of a SQL stage; `None` for a built-in Rust stage.
    fn sql(&self) -> Option<&str> {
        None
    }

    /// The prepcost functions of the plans a built-in stage runs while it is planned (those
    /// of the plan it returns are found in that plan).
    fn functions(&self) -> &'static [&'static str] {
        &[]
    }

    /// Plans the stage over the table `input` registered in `ctx`. A Rust stage may do its
    /// work here and return the plan that applies its decision.
    async fn plan(
        &self,
        ctx: &SessionContext,
        input: &StageInput<'_>,
    ) -> Result<Planned, StageError>;
}

/// What a stage knows of its input before it runs, and where it may say what it is doing.
#[derive(Clone, Copy)]
pub struct StageInput<'a> {
    pub stats: TextStats,
    /// The input was spilled to disk: what a stage reads of it is new memory.
    pub spilled: bool,
    /// Executors of a cluster run the stage's plans: work the stage would do in this process
    /// belongs in plans too.
    pub distributed: bool,
    pub progress: &'a Progress,
}

/// A planned stage: the plan of its result, and what a built-in stage has to report.
pub struct Planned {
    pub frame: DataFrame,
    pub near_dedup: Option<Box<NearDedupReport>>,
}

impl From<DataFrame> for Planned {
    fn from(frame: DataFrame) -> Self {
        Planned {
            frame,
            near_dedup: None,
        }
    }
}

/// Why a stage could not be planned.
#[derive(Debug)]
pub enum StageError {
    /// The engine failed (out of memory among others).
    Engine(DataFusionError),
    /// The stage refuses its input or its budget; the message says why and what to change.
    Refused(String),
}

impl From<DataFusionError> for StageError {
    fn from(e: DataFusionError) -> Self {
        StageError::Engine(e)
    }
}
