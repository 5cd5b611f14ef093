//! Pipeline stages: the [`Stage`] trait, the built-in SQL queries of `queries/`, the built-in
//! Rust stages, and the construction of a stage from its configuration.

pub mod lsh;
pub mod minhash;
pub mod shingles;
pub mod sql;

use async_trait::async_trait;
use datafusion::dataframe::DataFrame;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;

use crate::config::{SourceSpec, StageBody, StageSpec};
use crate::error::{Error, Result};
use crate::intermediate::TextStats;
use crate::progress::Progress;
use crate::report::near_dedup::NearDedupReport;
pub use minhash::MinhashStage;
pub use sql::SqlStage;

/// The column every intermediate carries: the row's position in the source (files in lexical
/// path order, rows in file order). Stages that keep "the first" row of a group use it.
pub const SOURCE_ROW: &str = "__source_row";

/// The built-in SQL queries, embedded in the binary. A pipeline names them with
/// `query = "…"`; a copy on disk can replace one with `sql = "…"`.
pub const BUILTIN_QUERIES: [(&str, &str); 3] = [
    ("clean", include_str!("../../queries/clean.sql")),
    ("normalise", include_str!("../../queries/normalise.sql")),
    ("dedup_exact", include_str!("../../queries/dedup_exact.sql")),
];

/// The built-in Rust stages a pipeline can name with `kind = "…"`.
pub const BUILTIN_KINDS: &[&str] = &["minhash"];

/// The text of a built-in query.
pub fn builtin_query(name: &str) -> Option<&'static str> {
    BUILTIN_QUERIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// One step of a pipeline. It reads the previous step's result as the table `input` and
/// returns the plan of its own result; the runner executes and measures it.
#[async_trait]
pub trait Stage: Send + Sync {
    /// The stage's name in the pipeline.
    fn name(&self) -> &str;

    /// Where it comes from, for messages: a SQL file, `queries/clean.sql`, `kind minhash`.
    fn origin(&self) -> String;

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

/// Builds the stage a configuration describes.
pub fn build(spec: &StageSpec, source: &SourceSpec) -> Result<Box<dyn Stage>> {
    let origin = spec.body.origin();
    let stage_error = |message: String| Error::Stage {
        stage: spec.name.clone(),
        origin: origin.clone(),
        message,
    };
    let template = match &spec.body {
        StageBody::Sql { text, .. } => text.as_str(),
        StageBody::Query { text, .. } => text,
        StageBody::Kind(kind) if kind == "minhash" => {
            let params = minhash::MinhashParams::parse(&spec.params, &source.text_column)
                .map_err(|e| stage_error(format!("{e} (stage defined at {})", spec.defined_at)))?;
            return Ok(Box::new(MinhashStage::new(&spec.name, params)));
        }
        StageBody::Kind(kind) => return Err(stage_error(format!("unknown stage kind '{kind}'"))),
    };
    let columns = [
        ("text_column", Some(source.text_column.as_str())),
        ("id_column", source.id_column.as_deref()),
    ];
    let sql = sql::render(template, &spec.params, &columns)
        .map_err(|e| stage_error(format!("{e} (stage defined at {})", spec.defined_at)))?;
    Ok(Box::new(SqlStage::new(&spec.name, origin.clone(), sql)))
}
