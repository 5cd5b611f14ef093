//! `profile`'s settings: the pipeline file (or the default pipeline) overridden by the
//! command line.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::pipeline_file::Pipeline;
use super::pricing::{PriceFlags, pricing};
use crate::budget::Budget;
use crate::engine::Engine;
use crate::engine::memory::default_limit;
use crate::error::{Error, Result};
use crate::model::pricing::Pricing;
use crate::output::OutputSpec;
use crate::source::{DEFAULT_TEXT_COLUMN, OnError, SampleBy, SampleSpec, SourceSpec};
use crate::stages::spec::{MINHASH, StageBody, StageSpec};
use crate::storage::StorageOptions;
use crate::tokenizer::TokenizerSpec;

/// The name of the stage `--near-dedup` adds.
pub const NEAR_DEDUP_STAGE: &str = "near_dedup";

/// What the command line asked of `profile`, already merged with the environment.
#[derive(Debug, Clone, Default)]
pub struct ProfileRequest {
    pub source: Option<String>,
    pub pipeline: Option<PathBuf>,
    pub text_column: Option<String>,
    pub output: Option<String>,
    /// `--overwrite`: the output may go into a folder of files prepcost did not write.
    pub overwrite: bool,
    /// Ends the pipeline with a default `minhash` stage unless it has one.
    pub near_dedup: bool,
    pub memory_limit: Option<u64>,
    pub prices: PriceFlags,
    pub storage_options: Vec<(String, String)>,
    pub tokenizer: Option<String>,
    /// `--sample`: the fraction as given.
    pub sample: Option<String>,
    pub sample_by: Option<SampleBy>,
    pub seed: Option<u64>,
    /// What to do with a JSONL line that cannot be read.
    pub on_error: OnError,
    /// Limits from the command line, over those of the pipeline file.
    pub budget: Budget,
    /// `--engine` and `--scheduler`, over the pipeline file's `[run]`.
    pub engine: Option<String>,
    pub scheduler: Option<String>,
}

/// A fully resolved `profile` run.
#[derive(Debug, Clone)]
pub struct ProfileConfig {
    pub source: SourceSpec,
    pub stages: Vec<StageSpec>,
    pub output: Option<OutputSpec>,
    pub memory_limit: u64,
    pub pricing: Pricing,
    pub storage_options: StorageOptions,
    /// Counts the tokens of the source and of every stage's result.
    pub tokenizer: TokenizerSpec,
    /// Runs on a sample and projects to the whole dataset.
    pub sample: Option<SampleSpec>,
    pub budget: Budget,
    /// Where the stages run.
    pub engine: Engine,
}

impl ProfileConfig {
    /// Resolves a `profile` request: the pipeline file (or the default pipeline), overridden
    /// by the command line.
    pub fn resolve(request: ProfileRequest) -> Result<Self> {
        let mut pipeline = match &request.pipeline {
            Some(path) => Pipeline::load(path)?,
            None => Pipeline::default_pipeline(),
        };
        if request.near_dedup {
            add_near_dedup(&mut pipeline.stages)?;
        }
        let uri = request.source.or(pipeline.source_uri).ok_or_else(|| {
            Error::Usage(
                "no source: give SOURCE on the command line or source.uri in the pipeline file"
                    .into(),
            )
        })?;
        let text_column = request
            .text_column
            .or(pipeline.text_column)
            .unwrap_or_else(|| DEFAULT_TEXT_COLUMN.to_string());
        if text_column.is_empty() {
            return Err(Error::Usage("the text column name cannot be empty".into()));
        }
        let pricing = pricing(request.prices.or(pipeline.prices))?;
        let budget = pipeline.budget.overridden_by(request.budget);
        let budget = budget.for_command("profile").map_err(Error::Usage)?;
        // Options on the command line come after, and so win over, those of the file.
        let run = (pipeline.engine, pipeline.scheduler);
        let engine = engine((request.engine, request.scheduler), run)?;
        let mut storage_options = pipeline.storage_options;
        storage_options.extend(request.storage_options);
        Ok(ProfileConfig {
            engine,
            source: SourceSpec {
                uri,
                format: pipeline.format,
                text_column,
                id_column: pipeline.id_column,
                on_error: request.on_error,
            },
            budget,
            stages: pipeline.stages,
            output: request.output.or(pipeline.output).map(|uri| OutputSpec {
                uri,
                overwrite: request.overwrite || pipeline.overwrite,
            }),
            memory_limit: request.memory_limit.unwrap_or_else(default_limit),
            pricing,
            storage_options: StorageOptions::new(storage_options),
            tokenizer: match &request.tokenizer {
                Some(name) => name.parse().map_err(Error::Usage)?,
                None => TokenizerSpec::Cl100kBase,
            },
            sample: match &request.sample {
                Some(fractions) => {
                    let mut fractions = parse_fractions(fractions)?;
                    let fraction = fractions.pop().unwrap_or(1.0);
                    Some(SampleSpec {
                        fraction,
                        by: request.sample_by.unwrap_or_default(),
                        seed: request.seed.unwrap_or(0),
                        smaller: fractions,
                    })
                }
                None => None,
            },
        })
    }
}

/// The engine `--engine` / `--scheduler` name, or else the pipeline file's `[run]`; a
/// scheduler alone means `ballista`, and the file's scheduler serves only its engine.
fn engine(
    (name, scheduler): (Option<String>, Option<String>),
    (file_engine, file_scheduler): (Option<String>, Option<String>),
) -> Result<Engine> {
    let name = name.or(file_engine);
    let file_scheduler = match name.as_deref() {
        None | Some("ballista") => file_scheduler,
        Some(_) => None,
    };
    match (name, scheduler.or(file_scheduler)) {
        (Some(name), scheduler) => Engine::parse(&name, scheduler.as_deref()),
        (None, None) => Ok(Engine::Local),
        (None, Some(scheduler)) => Engine::parse("ballista", Some(&scheduler)),
    }
}

/// Most fractions `--sample` takes: each smaller one is a run of its own.
const MAX_FRACTIONS: usize = 4;

/// `--sample`'s fractions: numbers in (0, 1], comma-separated, ascending and distinct.
fn parse_fractions(text: &str) -> Result<Vec<f64>> {
    let mut fractions = Vec::new();
    for part in text.split(',') {
        match part.trim().parse::<f64>() {
            Ok(f) if f > 0.0 && f <= 1.0 => fractions.push(f),
            _ => {
                return Err(Error::Usage(format!(
                    "--sample {text}: '{}' is not a fraction above 0 and at most 1",
                    part.trim()
                )));
            }
        }
    }
    fractions.sort_by(f64::total_cmp);
    fractions.dedup();
    if fractions.len() > MAX_FRACTIONS {
        return Err(Error::Usage(format!(
            "--sample {text}: at most {MAX_FRACTIONS} fractions"
        )));
    }
    Ok(fractions)
}

/// Ends `stages` with a `minhash` stage at its defaults, unless they have one.
fn add_near_dedup(stages: &mut Vec<StageSpec>) -> Result<()> {
    let minhash = StageBody::Kind(MINHASH.into());
    if stages.iter().any(|s| s.body == minhash) {
        return Ok(());
    }
    let name = NEAR_DEDUP_STAGE.to_string();
    if stages.iter().any(|s| s.name == name) {
        return Err(Error::Usage(format!(
            "--near-dedup adds a stage named {name}, and the pipeline has a stage of that name already"
        )));
    }
    stages.push(StageSpec {
        name,
        body: minhash,
        params: BTreeMap::new(),
        defined_at: "--near-dedup".to_string(),
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            "[source]\nuri = \"a/\"\ntext_column = \"body\"\n[[stages]]\nquery = \"clean\"\n[pricing]\nusd_per_gb_month = 0.5\n",
        )
        .unwrap();
        let from_file = ProfileConfig::resolve(ProfileRequest {
            pipeline: Some(path.clone()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(from_file.source.uri, "a/");
        assert_eq!(from_file.source.text_column, "body");
        assert_eq!(from_file.pricing.usd_per_gb_month, 0.5);
        let overridden = ProfileConfig::resolve(ProfileRequest {
            pipeline: Some(path),
            source: Some("b/".into()),
            text_column: Some("content".into()),
            prices: PriceFlags {
                usd_per_gb_month: Some(0.1),
                ..Default::default()
            },
            ..Default::default()
        })
        .unwrap();
        assert_eq!(overridden.source.uri, "b/");
        assert_eq!(overridden.source.text_column, "content");
        assert_eq!(overridden.pricing.usd_per_gb_month, 0.1);
    }
}
