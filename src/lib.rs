#![doc = include_str!("../README.md")]

pub mod budget;
pub mod cli;
pub mod commands;
pub mod config;
pub mod cost;
pub mod engine;
pub mod error;
pub mod estimate;
pub mod history;
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

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cli::{ClusterCommand, Command, LogFormatArg, ReportArgs};
use config::history::{DiffConfig, HistoryConfig};
use config::{EstimateConfig, InspectConfig, LoaderConfig, ProfileConfig};
use model::Report;
use model::interrupted::{FinishedStepReport, InterruptedReport};
use render::{Ending, Format};
use storage::StorageOptions;
use util::lock::JobLock;
use util::progress::Progress;
use util::redact::redact;

/// What a command leaves for the process to do: print `stdout`, name the budgets it broke on
/// stderr, and exit as `exit` says.
#[derive(Debug)]
pub struct Outcome {
    /// The report as asked for, secrets redacted.
    pub stdout: String,
    pub exit: Exit,
    /// One sentence per budget or threshold the run broke.
    pub breaches: Vec<String>,
}

/// How a run that produced a report ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success,
    /// A budget or threshold was broken (code 1); every report was written.
    Breached,
    /// A signal stopped the run (code 130 or 143); its partial report was written.
    Interrupted(Signal),
}

/// The signals that stop a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Ctrl-C.
    Interrupt,
    Terminate,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }

    /// 128 + the signal's number, as shells report it.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }
}

/// How long an interrupted run waits for its work to drop (and remove its files) before it
/// removes what is left itself.
const DROP_GRACE: Duration = Duration::from_millis(700);

/// Runs `command` on `runtime` to the end: [`run`] for a caller without a runtime of its own.
/// (Blocking here, in the library, also compiles the command's async code once, with the
/// library, instead of again in every crate that awaits it.)
pub fn run_blocking(runtime: &tokio::runtime::Runtime, command: Command) -> Result<Outcome> {
    runtime.block_on(run(command))
}

/// Serves a cluster node on `runtime` until it fails or the process is stopped.
pub fn serve_blocking(runtime: &tokio::runtime::Runtime, node: ClusterCommand) -> Result<()> {
    let node = node.try_into()?;
    runtime.block_on(commands::cluster::serve(&node))
}

/// Runs `command` under its lock until it ends or a signal stops it, then writes its reports,
/// metrics and history, and returns what goes to stdout. A failed run writes only its metrics
/// (`prepcost_run_success 0`) and returns the error.
pub async fn run(command: Command) -> Result<Outcome> {
    let reporting = command.reporting().clone();
    if let (Some(lock), Some(source)) = (&reporting.lock, command.source()) {
        output::guard::check_side_file("--lock", &lock.display().to_string(), source, None)?;
    }
    let _lock = reporting
        .lock
        .as_deref()
        .map(JobLock::acquire)
        .transpose()?;
    let (name, dataset) = (command.name(), command.dataset());
    let options = StorageOptions::new(command.storage_options());
    let json_logs = reporting.log_format == LogFormatArg::Json;
    let progress = Progress::new(reporting.progress.into(), reporting.quiet, json_logs);
    let progress = Arc::new(progress);
    let started = Instant::now();
    let mut task = tokio::spawn(execute(command, Arc::clone(&progress)));
    let ended = tokio::select! {
        joined = &mut task => Ok(joined),
        signal = next_signal() => Err(signal),
    };
    let report = match ended {
        Ok(Ok(Ok(report))) => report,
        // A refused file is not written, not even to say the run failed.
        Ok(Ok(Err(error @ Error::Refused { .. }))) => return Err(error),
        Ok(Ok(Err(error))) => {
            let failed = Ending::Failed {
                command: name,
                dataset: &dataset,
            };
            write_metrics(&reporting, failed);
            return Err(error);
        }
        Ok(Err(join)) => std::panic::resume_unwind(join.into_panic()),
        Err(signal) => {
            task.abort();
            let _ = tokio::time::timeout(DROP_GRACE, task).await;
            util::cleanup::remove_all();
            progress.done();
            let wall = started.elapsed().as_secs_f64();
            let report = interrupted(name, dataset, signal, wall, &progress);
            return finish(&reporting, report, Exit::Interrupted(signal));
        }
    };
    if let Some(uri) = &reporting.history {
        history::append(uri, &report, &options).await?;
    }
    let exit = match report.within_thresholds() {
        true => Exit::Success,
        false => Exit::Breached,
    };
    finish(&reporting, report, exit)
}

/// Writes the report files and metrics, and returns what goes to stdout.
fn finish(reporting: &ReportArgs, report: Report, exit: Exit) -> Result<Outcome> {
    for path in &reporting.report {
        let text = render::render(&report, Format::of_file(path));
        output::write_file(path, &redact(&text))?;
    }
    if let Some(path) = &reporting.prometheus {
        let text = render::render_prometheus(Ending::Finished(&report), unix_now());
        output::write_file(path, &redact(&text))?;
    }
    let breaches: Vec<String> = report
        .budget()
        .map(|b| b.breaches.iter().map(|b| b.message.clone()).collect())
        .unwrap_or_default();
    Ok(Outcome {
        stdout: redact(&render::render(&report, reporting.format.into())).into_owned(),
        exit,
        breaches: breaches.iter().map(|b| redact(b).into_owned()).collect(),
    })
}

/// Metrics of a run that failed: written when asked, a failure to write them only logged
/// (the run's own error is the one to report).
fn write_metrics(reporting: &ReportArgs, ending: Ending<'_>) {
    if let Some(path) = &reporting.prometheus {
        let text = render::render_prometheus(ending, unix_now());
        if let Err(e) = output::write_file(path, &redact(&text)) {
            tracing::warn!("{e}");
        }
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The partial report of a run `signal` stopped after `wall_seconds`.
fn interrupted(
    command: &'static str,
    dataset: String,
    signal: Signal,
    wall_seconds: f64,
    progress: &Progress,
) -> Report {
    let (finished, running) = progress.journal();
    Report::Interrupted(Box::new(InterruptedReport {
        schema_version: model::SCHEMA_VERSION,
        command,
        prepcost_version: env!("CARGO_PKG_VERSION"),
        interrupted: true,
        signal: signal.name(),
        dataset,
        wall_seconds,
        steps_finished: finished
            .into_iter()
            .map(|s| FinishedStepReport {
                name: s.name,
                rows: s.rows,
                wall_seconds: s.wall_seconds,
            })
            .collect(),
        step_running: running,
        note: "temporary and spill files were removed; no output was committed",
    }))
}

/// Resolves the command's settings and runs it.
async fn execute(command: Command, progress: Arc<Progress>) -> Result<Report> {
    let reporting = command.reporting().clone();
    let history = reporting.history.clone();
    let options = StorageOptions::new(command.storage_options());
    // The history is read only when a growth budget needs its previous run.
    let previous = |command, dataset, growth: Option<f64>| {
        previous(growth.and(history.as_deref()), command, dataset, &options)
    };
    Ok(match command {
        Command::Profile(args) => {
            let config = ProfileConfig::resolve(args.into())?;
            let output = config.output.as_ref().map(|o| o.uri.as_str());
            check_side_files(&reporting, &config.source.uri, output)?;
            let growth = config.budget.max_growth;
            let previous = previous("profile", &config.source.uri, growth).await?;
            Report::Profile(Box::new(
                commands::profile::run(&config, &progress, previous).await?,
            ))
        }
        Command::Inspect(args) => {
            let config = InspectConfig::resolve(args.into())?;
            check_side_files(&reporting, &config.source, None)?;
            let growth = config.budget.max_growth;
            let previous = previous("inspect", &config.source, growth).await?;
            Report::Inspect(Box::new(commands::inspect::run(&config, previous).await?))
        }
        Command::Loader(args) => {
            let config = LoaderConfig::resolve(args.into())?;
            check_side_files(&reporting, &config.source, None)?;
            let growth = config.budget.max_growth;
            let previous = previous("loader", &config.source, growth).await?;
            Report::Loader(Box::new(
                commands::loader::run(&config, &progress, previous).await?,
            ))
        }
        Command::Estimate(args) => {
            let config = EstimateConfig::resolve(args.into())?;
            Report::Estimate(Box::new(commands::estimate::run(&config)?))
        }
        Command::History(args) => {
            let config = HistoryConfig {
                uri: args.uri,
                dataset: args.dataset,
                storage_options: options.clone(),
            };
            Report::History(Box::new(commands::history::run(&config).await?))
        }
        Command::Diff(args) => {
            let config = DiffConfig::resolve(args.a, args.b, args.tolerance.as_deref())?;
            Report::Diff(Box::new(commands::diff::run(&config)?))
        }
    })
}

/// Refuses report, metrics, history and lock files that would land in the source (adding to
/// or replacing its files) or in the output (mixing with prepcost's dataset).
fn check_side_files(reporting: &ReportArgs, source: &str, output: Option<&str>) -> Result<()> {
    let shown = |p: &std::path::PathBuf| p.display().to_string();
    let files = (reporting.report.iter().map(|p| ("--report", shown(p))))
        .chain(
            reporting
                .prometheus
                .iter()
                .map(|p| ("--prometheus", shown(p))),
        )
        .chain(reporting.lock.iter().map(|p| ("--lock", shown(p))))
        .chain(reporting.history.iter().map(|u| ("--history", u.clone())));
    for (flag, path) in files {
        output::guard::check_side_file(flag, &path, source, output)?;
    }
    Ok(())
}

/// The figures of the last run of `command` on `dataset` in the history, when one is kept.
async fn previous(
    history: Option<&str>,
    command: &str,
    dataset: &str,
    options: &StorageOptions,
) -> Result<Option<budget::Previous>> {
    match history {
        Some(uri) => history::previous(uri, command, dataset, options).await,
        None => Ok(None),
    }
}

/// The first SIGINT or SIGTERM.
async fn next_signal() -> Signal {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        // Without signal handling, the default actions stop the process.
        return std::future::pending().await;
    };
    tokio::select! {
        _ = interrupt.recv() => Signal::Interrupt,
        _ = terminate.recv() => Signal::Terminate,
    }
}
