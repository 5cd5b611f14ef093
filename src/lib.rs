#![doc = include_str!("../README.md")]

pub mod cli;
pub mod commands;
pub mod config;
pub mod cost;
pub mod engine;
pub mod error;
pub mod estimate;
pub mod layout;
pub mod loader;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod render;
pub mod source;
pub mod stages;
pub mod storage;
pub mod tokenizer;
pub mod tokens;
pub mod util;
pub mod whatif;

pub use error::{Error, Result};

use cli::Command;
use config::{EstimateConfig, InspectConfig, LoaderConfig, ProfileConfig};
use model::Report;
use util::progress::Progress;
use util::redact::redact;

/// What a command leaves for the process to do: print `stdout`, and exit with code 1 when a
/// threshold was missed.
#[derive(Debug)]
pub struct Outcome {
    /// The report as asked for, secrets redacted.
    pub stdout: String,
    /// False when the run missed a threshold it was given (its report is written anyway).
    pub within_thresholds: bool,
}

/// Runs `command` on `runtime` to the end: [`run`] for a caller without a runtime of its own.
/// (Blocking here, in the library, also compiles the command's async code once, with the
/// library, instead of again in every crate that awaits it.)
pub fn run_blocking(runtime: &tokio::runtime::Runtime, command: Command) -> Result<Outcome> {
    runtime.block_on(run(command))
}

/// Runs `command` unless Ctrl-C comes first ([`Error::Interrupted`]); writes the JSON report
/// to `--report`'s file when asked, and returns what goes to stdout.
pub async fn run(command: Command) -> Result<Outcome> {
    let reporting = command.reporting().clone();
    let progress = Progress::new(reporting.quiet);
    let report = until_interrupted(execute(command, &progress)).await?;
    if let Some(path) = &reporting.report {
        output::write_file(path, &redact(&render::render_json(&report)))?;
    }
    Ok(Outcome {
        stdout: redact(&render::render(&report, reporting.format.into())).into_owned(),
        within_thresholds: report.within_thresholds(),
    })
}

/// Resolves the command's settings and runs it.
async fn execute(command: Command, progress: &Progress) -> Result<Report> {
    Ok(match command {
        Command::Profile(args) => {
            let config = ProfileConfig::resolve(args.into())?;
            Report::Profile(Box::new(commands::profile::run(&config, progress).await?))
        }
        Command::Inspect(args) => {
            let config = InspectConfig::resolve(args.into())?;
            Report::Inspect(Box::new(commands::inspect::run(&config).await?))
        }
        Command::Loader(args) => {
            let config = LoaderConfig::resolve(args.into())?;
            Report::Loader(Box::new(commands::loader::run(&config, progress).await?))
        }
        Command::Estimate(args) => {
            let config = EstimateConfig::resolve(args.into())?;
            Report::Estimate(Box::new(commands::estimate::run(&config)?))
        }
    })
}

/// Runs `command` unless Ctrl-C comes first.
async fn until_interrupted<T>(command: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::select! {
        result = command => result,
        _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
    }
}
