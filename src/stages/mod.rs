//! Pipeline stages: the [`Stage`] trait, their specs and the built-in queries of `queries/`,
//! SQL stages, the built-in Rust stages, and the construction of a stage from its spec.

pub mod conditions;
pub mod lsh;
pub mod minhash;
pub mod spec;
pub mod sql;
pub mod stage;

pub use minhash::MinhashStage;
pub use spec::{ParamValue, StageBody, StageSpec};
pub use sql::SqlStage;
pub use stage::{Planned, Stage, StageError, StageInput};

use crate::error::{Error, Result};
use crate::source::SourceSpec;
use crate::source::sampling::GroupKey;

/// Builds the stage a spec describes, reading `source` for the columns its SQL may name.
pub fn build(spec: &StageSpec, source: &SourceSpec) -> Result<Box<dyn Stage>> {
    let origin = spec.body.origin();
    let stage_error = |message: String| Error::Stage {
        stage: spec.name.clone(),
        origin: origin.clone(),
        message: format!("{message} (stage defined at {})", spec.defined_at),
    };
    let template = match &spec.body {
        StageBody::Sql { text, .. } => text.as_str(),
        StageBody::Query { text, .. } => text,
        StageBody::Kind(kind) if kind == spec::MINHASH => {
            let params = minhash::MinhashParams::parse(&spec.params, &source.text_column)
                .map_err(stage_error)?;
            return Ok(Box::new(MinhashStage::new(&spec.name, params)));
        }
        StageBody::Kind(kind) => return Err(stage_error(format!("unknown stage kind '{kind}'"))),
    };
    let columns = [
        ("text_column", Some(source.text_column.as_str())),
        ("id_column", source.id_column.as_deref()),
    ];
    let sql = sql::render(template, &spec.params, &columns).map_err(stage_error)?;
    Ok(Box::new(SqlStage::new(&spec.name, origin.clone(), sql)))
}

/// The MinHash value `--sample-by minhash` groups texts by: that of the pipeline's first
/// `minhash` stage's shingles, or of the default parameters' when it has none.
pub fn sample_key(
    specs: &[StageSpec],
    source: &SourceSpec,
) -> Result<std::sync::Arc<dyn GroupKey>> {
    let minhash = specs
        .iter()
        .find(|s| matches!(&s.body, StageBody::Kind(kind) if kind == spec::MINHASH));
    let empty = Default::default();
    let params = minhash.map_or(&empty, |s| &s.params);
    let params =
        minhash::MinhashParams::parse(params, &source.text_column).map_err(Error::Usage)?;
    Ok(std::sync::Arc::new(minhash::MinHashKey(params.shingles)))
}
