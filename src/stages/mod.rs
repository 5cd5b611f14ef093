//! Pipeline stages: the [`Stage`] trait, the built-in SQL queries of `queries/`, and the
//! construction of a stage from its configuration.

pub mod sql;

use async_trait::async_trait;
use datafusion::dataframe::DataFrame;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;

use crate::config::{SourceSpec, StageBody, StageSpec};
use crate::error::{Error, Result};
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
pub const BUILTIN_KINDS: &[&str] = &[];

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

    /// Plans the stage over the table `input` registered in `ctx`.
    async fn plan(&self, ctx: &SessionContext) -> Result<DataFrame, DataFusionError>;
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
