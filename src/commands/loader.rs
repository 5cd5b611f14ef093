//! `prepcost loader`: plan the read, run the loader once per worker count, and report the
//! rates, the scaling table and whether the loader keeps up with the training job.

use std::sync::Arc;
use std::time::Instant;

use crate::budget::{self, Previous};
use crate::config::LoaderConfig;
use crate::cost::request_cost;
use crate::error::{Error, Result};
use crate::loader::verdict::{percentiles, relate_to_fewest, scaling_row, verdict};
use crate::loader::{self, Limit, Measured, Plan, Settings};
use crate::model::SCHEMA_VERSION;
use crate::model::loader::{
    LoaderFigures, LoaderReport, LoaderRun, LoaderSettings, LoaderSource, ScalingRow, Verdict,
};
use crate::source::textscan::TextFiles;
use crate::source::{Dataset, OnError};
use crate::storage::{self, Location};
use crate::tokenizer::Tokenizer;
use crate::util::progress::Progress;
use crate::util::resources;
use crate::util::units::{count, ratio};

/// Runs `loader` and returns its report, held to the budgets (growth against `previous`,
/// the history's last run of the dataset).
pub async fn run(
    config: &LoaderConfig,
    progress: &Progress,
    previous: Option<Previous>,
) -> Result<LoaderReport> {
    let started = Instant::now();
    let location = storage::resolve(&config.source, &config.storage_options).await?;
    let tokenizer = Tokenizer::load(&config.tokenizer)?.map(Arc::new);
    let cores = resources::cores();

    let mut runs = Vec::with_capacity(config.workers.len());
    let mut fetched = Vec::with_capacity(config.workers.len());
    let mut first: Option<Opened> = None;
    for &workers in &config.workers {
        let bytes_before = location.requests.snapshot().bytes_in;
        let (measured, opened) =
            measure(config, &location, tokenizer.as_ref(), workers, progress).await?;
        fetched.push(location.requests.snapshot().bytes_in - bytes_before);
        // Without footers, the rows are those one whole epoch delivered.
        let counted =
            (!measured.limited).then(|| measured.rows / u64::from(config.settings.epochs.max(1)));
        runs.push(measured);
        first.get_or_insert(Opened {
            rows: opened.rows.or(counted),
            ..opened
        });
    }
    let Some(opened) = first else {
        return Err(Error::Usage("--workers names no worker count".into()));
    };
    let plan = Arc::clone(&opened.plan);

    let counts_tokens = plan.tokenizes();
    let mut scaling: Vec<_> = runs
        .iter()
        .zip(&fetched)
        .map(|(run, &bytes)| scaling_row(run, bytes, counts_tokens, cores))
        .collect();
    relate_to_fewest(&mut scaling);
    let verdict = config
        .target
        .as_ref()
        .and_then(|target| verdict(&scaling, target));
    let (headline, headline_fetched) = runs
        .iter()
        .zip(&fetched)
        .max_by_key(|(run, _)| run.workers)
        .map(|(run, &bytes)| (run.clone(), bytes))
        .unwrap_or_default();
    let loader = figures(&headline, headline_fetched, counts_tokens, scaling, verdict);

    let requests = location.requests.snapshot();
    let mut report = LoaderReport {
        schema_version: SCHEMA_VERSION,
        command: "loader",
        prepcost_version: env!("CARGO_PKG_VERSION"),
        source: source(config, &location, &opened, tokenizer.as_deref()),
        settings: settings(config),
        loader,
        cost: request_cost(&config.pricing, location.provider, &requests),
        requests,
        run: LoaderRun {
            cores,
            wall_seconds: started.elapsed().as_secs_f64(),
            peak_rss_bytes: resources::peak_rss(),
        },
        budget: None,
    };
    report.budget = budget::check_loader(&config.budget, &report, previous);
    Ok(report)
}

/// One run with `workers` workers, from a cold start as a training job's loader makes one:
/// listing the files and reading their footers (their time is in the time to first batch).
async fn measure(
    config: &LoaderConfig,
    location: &Location,
    tokenizer: Option<&Arc<Tokenizer>>,
    workers: usize,
    progress: &Progress,
) -> Result<(Measured, Opened)> {
    let run_started = Instant::now();
    let opened = open(config, location, tokenizer.is_some()).await?;
    let plan = Arc::clone(&opened.plan);
    let opening = run_started.elapsed().as_secs_f64();
    let tokens = tokenizer.filter(|_| plan.tokenizes());
    let step = format!("loader, {workers} workers");
    progress.step(&step);
    let total_rows = expected_rows(&opened, &config.settings);
    let mut measured = loader::run(
        &plan,
        &location.store,
        tokens,
        &config.settings,
        workers,
        &mut |p| {
            let seconds = p.elapsed.as_secs_f64();
            let tokens = if tokens.is_some() {
                format!(
                    " · {} tokens/s",
                    count(ratio(p.tokens as f64, seconds) as u64)
                )
            } else {
                String::new()
            };
            progress.update(&format!(
                "{} rows · {:.1} MB/s decoded{tokens}",
                count(p.rows),
                ratio(p.decoded_bytes as f64 / 1e6, seconds)
            ));
            if let Some(total) = total_rows {
                progress.advance(p.rows, total);
            }
        },
    )
    .await?;
    progress.finished(&step, measured.rows);
    measured.time_to_first_batch_seconds += opening;
    Ok((measured, opened))
}

/// The source as opened: its files, its rows when footers give them, and the read's plan.
struct Opened {
    files: u64,
    rows: Option<u64>,
    plan: Arc<Plan>,
}

/// Rows a run will deliver, when the footers tell and no time limit may stop it first.
fn expected_rows(opened: &Opened, settings: &Settings) -> Option<u64> {
    let all = opened.rows? * u64::from(settings.epochs);
    match settings.limit {
        None => Some(all),
        Some(Limit::Rows(rows)) => Some(rows.min(all)),
        Some(Limit::Seconds(_)) => None,
    }
}

/// The dataset as the loader reads it.
fn source(
    config: &LoaderConfig,
    location: &Location,
    opened: &Opened,
    tokenizer: Option<&Tokenizer>,
) -> LoaderSource {
    let plan = &opened.plan;
    let counts_tokens = plan.tokenizes();
    LoaderSource {
        uri: location.display.clone(),
        files: opened.files,
        row_groups: plan.row_groups() as u64,
        rows: opened.rows.unwrap_or(0),
        columns: plan
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect(),
        text_column: counts_tokens.then(|| config.text_column.clone()),
        tokenizer: match (tokenizer, counts_tokens) {
            (Some(t), true) => t.name().to_string(),
            (Some(_), false) => format!("none (no text column '{}' read)", config.text_column),
            (None, _) => "none".to_string(),
        },
        projected_compressed_bytes: plan.compressed_bytes(),
        skipped_lines: plan.skipped_lines(),
    }
}

/// How the loader read.
fn settings(config: &LoaderConfig) -> LoaderSettings {
    let settings = &config.settings;
    LoaderSettings {
        batch_size: settings.batch_size,
        workers: config.workers.clone(),
        prefetch: settings.prefetch,
        shuffle: settings.shuffle.is_some(),
        shuffle_buffer_rows: settings.shuffle.map(|s| s.buffer_rows),
        seed: settings.shuffle.map(|s| s.seed),
        epochs: settings.epochs,
        limit_rows: match settings.limit {
            Some(Limit::Rows(rows)) => Some(rows),
            _ => None,
        },
        limit_seconds: match settings.limit {
            Some(Limit::Seconds(seconds)) => Some(seconds),
            _ => None,
        },
    }
}

/// Lists the dataset, reads its footers (or, for JSONL and CSV, infers its columns) and plans
/// the read. Tokens are counted when a tokenizer is loaded and the text column is read; a
/// named tokenizer without its text column is an error.
async fn open(config: &LoaderConfig, location: &Location, tokenizer: bool) -> Result<Opened> {
    let parquet = match TextFiles::names_one(location) {
        true => Err(Error::NoDataFiles {
            path: location.display.clone(),
            looked_for: "*.parquet, *.jsonl, *.ndjson, *.json, *.csv, *.tsv, optionally .gz, \
                         .zst, .bz2 or .xz"
                .into(),
        }),
        false => Dataset::open_with(location.clone(), None, OnError::Fail).await,
    };
    let dataset = match parquet {
        Err(Error::NoDataFiles { path, looked_for }) => match TextFiles::find(location).await? {
            Some(files) => return open_text(config, &files, tokenizer).await,
            None => return Err(Error::NoDataFiles { path, looked_for }),
        },
        opened => opened?,
    };
    let has_text = dataset.files.iter().all(|f| {
        f.metadata
            .file_metadata()
            .schema_descr()
            .root_schema()
            .get_fields()
            .iter()
            .any(|field| field.name() == config.text_column)
    });
    let text_column = text_column(config, tokenizer, has_text)?;
    let plan = Plan::new(&dataset, config.columns.as_deref(), text_column)?;
    Ok(Opened {
        files: dataset.files.len() as u64,
        rows: Some(dataset.rows()),
        plan: Arc::new(plan),
    })
}

/// Plans reading JSONL or CSV files, each file a unit of work.
async fn open_text(config: &LoaderConfig, files: &TextFiles, tokenizer: bool) -> Result<Opened> {
    let plan = Plan::for_text(files, config.columns.as_deref(), config.on_error).await?;
    let has_text = plan.schema().index_of(&config.text_column).is_ok();
    let text_column = text_column(config, tokenizer, has_text)?;
    let plan = plan.tokenizing(text_column, &files.location.display)?;
    Ok(Opened {
        files: files.files.len() as u64,
        rows: None,
        plan: Arc::new(plan),
    })
}

/// The column the tokenizer reads: the text column when it is read (among `--columns`, or
/// in every file); an error when a named tokenizer would have nothing to read.
fn text_column(config: &LoaderConfig, tokenizer: bool, in_files: bool) -> Result<Option<&str>> {
    let text = &config.text_column;
    let read = match &config.columns {
        Some(columns) => columns.iter().any(|c| c == text),
        None => in_files,
    };
    if tokenizer && config.tokenizer_named && !read && config.columns.is_some() {
        return Err(Error::Usage(format!(
            "the tokenizer reads the text column '{text}', which is not among --columns; add it, name another with --text-column, or pass --tokenizer none"
        )));
    }
    Ok((tokenizer && (read || config.tokenizer_named)).then_some(text.as_str()))
}

/// The headline run's figures: its row of the scaling table, with the rest of its measures.
fn figures(
    run: &Measured,
    fetched: u64,
    counts_tokens: bool,
    scaling: Vec<ScalingRow>,
    verdict: Option<Verdict>,
) -> LoaderFigures {
    let rates = scaling
        .iter()
        .find(|row| row.workers == run.workers)
        .cloned()
        .unwrap_or_else(|| scaling_row(run, fetched, counts_tokens, resources::cores()));
    LoaderFigures {
        workers: run.workers,
        rows: run.rows,
        batches: run.batches,
        tokens_total: counts_tokens.then_some(run.tokens),
        bytes_fetched: fetched,
        decoded_bytes: run.decoded_bytes,
        wall_seconds: run.wall_seconds,
        cpu_seconds: run.cpu_seconds,
        rows_per_s: rates.rows_per_s,
        bytes_per_s: rates.bytes_per_s,
        decoded_bytes_per_s: rates.decoded_bytes_per_s,
        tokens_per_s: rates.tokens_per_s,
        time_to_first_batch_s: run.time_to_first_batch_seconds,
        batch_latency_s: percentiles(&run.batch_latencies),
        cpu_utilisation: rates.cpu_utilisation,
        limited: run.limited,
        scaling,
        verdict,
    }
}
