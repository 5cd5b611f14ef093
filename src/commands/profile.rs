//! `prepcost profile`: scan the source, run the pipeline's stages, optionally write the
//! result, and report what every step cost.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::budget::{self, Previous};
use crate::config::ProfileConfig;
use crate::cost::profile_cost;
use crate::engine::{Intermediate, Session, TextStats};
use crate::error::{Error, Result};
use crate::estimate::calibration::{self, Calibration, Nested, Point};
use crate::estimate::{self, SampleRun, Tallier};
use crate::model::SCHEMA_VERSION;
use crate::model::profile::{
    ByPart, LengthBin, OutputReport, ProfileReport, RunReport, SourceReport, StageReport,
    StepReport, StorageReport, TokensReport, Totals,
};
use crate::model::tokens::TokenStats;
use crate::pipeline::{self, Meter};
use crate::source::Dataset;
use crate::source::scan::{Scanned, scan};
use crate::source::textscan::{TextFiles, scan_text};
use crate::source::{SampleBy, SamplePlan, SampleSpec, SampleUnits};
use crate::stages::{self, Stage};
use crate::storage::instrumented::RequestCounter;
use crate::storage::{self, Location, Provider, StorageOptions};
use crate::tokenizer::Tokenizer;
use crate::tokenizer::openai::forget_pieces;
use crate::tokens::TokenCounter;
use crate::util::progress::Progress;
use crate::util::resources;
use crate::util::units::ratio;
use crate::{layout, output};

/// Runs `profile` and returns its report, held to the budgets (growth against `previous`,
/// the history's last run of the dataset).
pub async fn run(
    config: &ProfileConfig,
    progress: &Progress,
    previous: Option<Previous>,
) -> Result<ProfileReport> {
    let started = Started::now();
    let mut tokens = Tokenizer::load(&config.tokenizer)?.map(TokenCounter::new);
    let stages: Vec<Box<dyn Stage>> = config
        .stages
        .iter()
        .map(|spec| stages::build(spec, &config.source))
        .collect::<Result<_>>()?;
    // The output's requests: checking its target now, writing it at the end.
    let output_requests = Arc::new(RequestCounter::default());
    if let Some(output) = &config.output {
        // Before anything is read: a target the run may not write fails now, not at the end.
        let places = (config.source.uri.as_str(), output.uri.as_str());
        let options = &config.storage_options;
        output::guard::check_target(places, output.overwrite, options, &output_requests).await?;
    }
    let location = storage::resolve(&config.source.uri, &source_options(config)).await?;
    let session = Session::new(config.memory_limit, &config.engine).await?;
    session.register_store(&location);
    let mut source = Source::open(location, &session, config).await?;

    let plan = match &config.sample {
        Some(spec) => {
            let plan = SamplePlan::new(spec.clone(), source.storage.row_groups as usize);
            Some(match spec.by {
                SampleBy::MinHash => {
                    plan.with_key(stages::sample_key(&config.stages, &config.source)?)
                }
                _ => plan,
            })
        }
        None => None,
    };
    progress.step(&scan_message(config, &source, plan.as_ref()));
    let meter = Meter::start(&session).await?;
    let Scanned {
        result: scanned,
        units,
        decoded_bytes,
    } = source.scan(&session, config, plan.as_ref()).await?;
    let scan_step = meter.finish(&session, &scanned).await?;
    if let Some(plan) = &plan
        && scan_step.rows == 0
        && source.storage.rows > 0
    {
        return Err(Error::Usage(format!(
            "--sample {}: the sample drew none of the {} rows of {}, and a projection from no \
             rows would be a guess; raise the fraction",
            plan.spec.fraction, source.storage.rows, config.source.uri
        )));
    }
    progress.finished("scan", scan_step.rows);
    let source_stats = scanned.stats();
    let text_column = &config.source.text_column;
    let calibration = match (&plan, &units) {
        (Some(plan), Some(units)) => {
            progress.step(&nested_message(&plan.spec));
            Some(calibrate(config, &session, &stages, (plan, units), &scanned).await?)
        }
        _ => None,
    };
    let (scanned, source_tokens) = match &mut tokens {
        Some(counter) => {
            progress.step(&format!("counting tokens ({})", counter.tokenizer().name()));
            let (counted, stats) = counter
                .count(&session, scanned, text_column, "scan")
                .await?;
            progress.finished("counting tokens", scan_step.rows);
            (counted, Some(stats))
        }
        None => (scanned, None),
    };
    let mut tallier = units.map(Tallier::new);
    if let Some(tallier) = &mut tallier {
        tallier.add(&session, &scanned, text_column).await?;
    }
    let (result, stage_reports) = pipeline::run(
        &session,
        &stages,
        scanned,
        text_column,
        progress,
        tokens.as_mut().zip(source_tokens),
        tallier.as_mut(),
    )
    .await?;
    let tokens = tokens
        .zip(source_tokens)
        .map(|(counter, source)| tokens_report(&counter, source, &stage_reports));
    let written = write_output(config, &session, result, progress, &output_requests).await;
    // The run's requests are the source's and the output's.
    source.requests.absorb(&output_requests);
    let (output, result_stats) = written?;
    let tokens_time = tokens
        .as_ref()
        .map_or((0.0, 0.0), |t| (t.wall_seconds, t.cpu_seconds));
    let remote_cpu = session.remote_compute().await?;
    let totals = totals(
        &scan_step,
        &stage_reports,
        (output.as_ref(), tokens_time),
        (source_stats, result_stats),
        (&started, remote_cpu),
    );
    let steps = Steps {
        scan: scan_step,
        stages: stage_reports,
        tokens,
        output,
        totals,
        source_stats,
    };
    let sample = plan.zip(tallier.zip(calibration)).map(|(plan, measured)| {
        let bytes = source.bytes_read(&plan.row_groups);
        SampleRun::new(plan, measured, bytes, source.storage.rows, decoded_bytes)
    });
    let mut report = report(config, &session, source, steps);
    if let Some(sample) = sample {
        let projection = estimate::project(&sample, &report);
        for (stage, projected) in report.stages.iter_mut().zip(projection.stages) {
            stage.projected = Some(projected);
        }
        report.sample = Some(projection.sample);
        report.projected = Some(projection.projected);
    }
    report.budget = budget::check_profile(&config.budget, &report, previous);
    Ok(report)
}

/// Runs each nested sample of the sample `plan` drew (its `units`, the rows `scanned`)
/// through the tokens and the stages, smallest first, and measures each step.
async fn calibrate(
    config: &ProfileConfig,
    session: &Session,
    stages: &[Box<dyn Stage>],
    (plan, units): (&SamplePlan, &SampleUnits),
    scanned: &Intermediate,
) -> Result<Calibration> {
    let started = Started::now();
    let mut runs = Vec::new();
    for share in calibration::shares(&plan.spec) {
        let keep = calibration::nested_rows(plan, units, share);
        runs.push(run_nested(config, session, stages, scanned, keep).await?);
    }
    Ok(Calibration {
        runs,
        seconds: (
            started.at.elapsed().as_secs_f64(),
            resources::cpu_time()
                .saturating_sub(started.cpu)
                .as_secs_f64(),
        ),
        chosen_sizes: !plan.spec.smaller.is_empty(),
    })
}

/// Runs the rows of `scanned` that `keep` keeps through the tokens and the stages, as the
/// sample runs, and measures each step; then every thread forgets what counting taught it.
async fn run_nested(
    config: &ProfileConfig,
    session: &Session,
    stages: &[Box<dyn Stage>],
    scanned: &Intermediate,
    keep: impl Fn(u64, Option<&[u8]>) -> bool,
) -> Result<Nested> {
    let text_column = &config.source.text_column;
    let nested = calibration::nested(session, scanned, text_column, keep).await?;
    let source_bytes = nested.stats().text_bytes as f64;
    let mut held = nested.bytes();
    let mut tokens = Tokenizer::load(&config.tokenizer)?.map(TokenCounter::new);
    let (nested, source_tokens) = match &mut tokens {
        Some(counter) => {
            let (counted, stats) = counter.count(session, nested, text_column, "scan").await?;
            (counted, Some(stats))
        }
        None => (nested, None),
    };
    let quiet = Progress::silent();
    let counting = tokens.as_mut().zip(source_tokens);
    let (_, reports) =
        pipeline::run(session, stages, nested, text_column, &quiet, counting, None).await?;
    forget_pieces();
    let mut point = |r: &StageReport| {
        let working = r.peak_memory_bytes.saturating_sub(held) as f64;
        held = r.result_bytes;
        Point {
            input_bytes: r.text_bytes_in as f64,
            wall_seconds: r.wall_seconds,
            cpu_seconds: r.cpu_seconds,
            working_bytes: working,
        }
    };
    Ok(Nested {
        stages: reports.iter().map(&mut point).collect(),
        tokens: tokens.map(|t| Point {
            input_bytes: source_bytes,
            wall_seconds: t.wall_seconds,
            cpu_seconds: t.cpu_seconds,
            working_bytes: 0.0,
        }),
    })
}

/// What the nested samples' step says it runs.
fn nested_message(spec: &SampleSpec) -> String {
    if spec.smaller.is_empty() {
        return "running a nested quarter of the sample, for the cost curves".to_string();
    }
    let sizes: Vec<String> = spec.smaller.iter().map(f64::to_string).collect();
    format!(
        "running nested samples of {} of the dataset, for the cost curves",
        sizes.join(", ")
    )
}

/// What the scan step says it reads.
fn scan_message(config: &ProfileConfig, source: &Source, plan: Option<&SamplePlan>) -> String {
    let uri = &config.source.uri;
    let rows = source.storage.rows;
    match plan {
        None => format!("scanning {uri} ({rows} rows)"),
        Some(plan) => format!(
            "scanning a {} sample of {uri} by {}: {} of {} row groups, {rows} rows",
            plan.spec.fraction,
            plan.mode.name(),
            plan.row_groups.len(),
            source.storage.row_groups
        ),
    }
}

/// The source of the run: its files and footers, its storage figures, and its store.
struct Source {
    files: SourceFiles,
    storage: StorageReport,
    requests: Arc<RequestCounter>,
    provider: Provider,
    display: String,
    /// JSONL lines left out with `--on-error skip`.
    skipped_lines: u64,
}

/// The source's files: Parquet with its footers, or JSONL or CSV.
enum SourceFiles {
    Parquet(Dataset),
    Text(TextFiles),
}

impl Source {
    /// Lists the files at `location` and reads the footers of Parquet files into the
    /// session's cache; without Parquet files, finds JSONL or CSV files.
    async fn open(location: Location, session: &Session, config: &ProfileConfig) -> Result<Self> {
        let requests = Arc::clone(&location.requests);
        let (provider, display) = (location.provider, location.display.clone());
        let cache = session
            .ctx
            .runtime_env()
            .cache_manager
            .get_file_metadata_cache();
        let parquet = match TextFiles::names_one(&location) {
            true => Err(Error::NoDataFiles {
                path: display.clone(),
                looked_for: String::new(),
            }),
            false => Dataset::open(location.clone(), cache).await,
        };
        let (files, storage) = match parquet {
            Ok(dataset) => {
                let storage = layout::analyse(&dataset, &config.pricing).storage_report();
                (SourceFiles::Parquet(dataset), storage)
            }
            Err(Error::NoDataFiles { path, .. }) => match TextFiles::find(&location).await? {
                Some(text) => {
                    let storage = text_storage(&text);
                    (SourceFiles::Text(text), storage)
                }
                None => {
                    return Err(Error::NoDataFiles {
                        path,
                        looked_for: "*.parquet, *.jsonl, *.ndjson, *.json, *.csv, *.tsv, \
                                     optionally .gz, .zst, .bz2 or .xz"
                            .into(),
                    });
                }
            },
            Err(e) => return Err(e),
        };
        Ok(Source {
            files,
            storage,
            requests,
            provider,
            display,
            skipped_lines: 0,
        })
    }

    /// Reads the source, or the part `plan` picks; a text source's rows and decompressed
    /// bytes are counted as it is read.
    async fn scan(
        &mut self,
        session: &Session,
        config: &ProfileConfig,
        plan: Option<&SamplePlan>,
    ) -> Result<Scanned> {
        match &self.files {
            SourceFiles::Parquet(dataset) => scan(session, dataset, &config.source, plan).await,
            SourceFiles::Text(files) => {
                let read = scan_text(session, files, &config.source, plan).await?;
                self.storage.rows = read.rows;
                self.storage.uncompressed_bytes = read.decompressed_bytes;
                self.skipped_lines = read.skipped_lines;
                Ok(read.scanned)
            }
        }
    }

    fn format(&self) -> &'static str {
        match &self.files {
            SourceFiles::Parquet(_) => "parquet",
            SourceFiles::Text(files) => files.format.name(),
        }
    }

    /// Bytes on storage of the row groups `row_groups` (indexes over all files, in source
    /// order) and of all of them, from the footers; a text source is read whole.
    fn bytes_read(&self, row_groups: &[usize]) -> (u64, u64) {
        let SourceFiles::Parquet(dataset) = &self.files else {
            return (self.storage.file_bytes, self.storage.file_bytes);
        };
        let sizes: Vec<u64> = dataset
            .files
            .iter()
            .flat_map(|f| f.metadata.row_groups())
            .map(|rg| u64::try_from(rg.compressed_size()).unwrap_or(0))
            .collect();
        let read = row_groups.iter().filter_map(|&i| sizes.get(i)).sum();
        (read, sizes.iter().sum())
    }
}

/// What a text source's listing says of its storage: files and bytes; its rows and
/// decompressed bytes come from the scan, and it has no row groups or per-column sizes.
fn text_storage(text: &TextFiles) -> StorageReport {
    StorageReport {
        files: text.files.len() as u64,
        rows: 0,
        row_groups: 0,
        file_bytes: text.file_bytes(),
        compressed_bytes: text.file_bytes(),
        uncompressed_bytes: 0,
        columns: Vec::new(),
    }
}

/// What the run's steps measured.
struct Steps {
    scan: StepReport,
    stages: Vec<StageReport>,
    tokens: Option<TokensReport>,
    output: Option<OutputReport>,
    totals: Totals,
    source_stats: TextStats,
}

/// The report: the steps' figures, the run's requests and what it all cost.
fn report(
    config: &ProfileConfig,
    session: &Session,
    source: Source,
    steps: Steps,
) -> ProfileReport {
    let requests = source.requests.snapshot();
    let output_provider = config
        .output
        .as_ref()
        .map_or(Provider::Local, |o| storage::provider_of(&o.uri));
    let cost = profile_cost(
        &config.pricing,
        &steps.totals,
        source.storage.file_bytes,
        &requests,
        source.provider,
        steps.output.as_ref().map(|o| (o, output_provider)),
    );
    let stats = steps.source_stats;
    let format = source.format();
    ProfileReport {
        schema_version: SCHEMA_VERSION,
        command: "profile",
        prepcost_version: env!("CARGO_PKG_VERSION"),
        source: SourceReport {
            uri: source.display,
            format,
            text_column: config.source.text_column.clone(),
            id_column: config.source.id_column.clone(),
            files: source.storage.files,
            rows: stats.rows,
            text_bytes: stats.text_bytes,
            text_nulls: stats.text_nulls,
            skipped_lines: source.skipped_lines,
            text_lengths: LengthBin::from_counts(&stats.length_bins),
        },
        storage: source.storage,
        scan: steps.scan,
        stages: steps.stages,
        tokens: steps.tokens,
        output: steps.output,
        totals: steps.totals,
        cost,
        requests,
        run: RunReport {
            pipeline_hash: stages::spec::pipeline_hash(&config.stages),
            memory_limit_bytes: config.memory_limit,
            threads: session.threads,
            engine: config.engine.name(),
            cpu_counted: config.engine.cpu_counted(),
        },
        sample: None,
        projected: None,
        budget: None,
    }
}

/// Storage options are for the remote stores: the source's, or else the output's.
fn source_options(config: &ProfileConfig) -> StorageOptions {
    let remote = |uri: &str| storage::provider_of(uri) != Provider::Local;
    let remote_output = config.output.as_ref().is_some_and(|o| remote(&o.uri));
    if !remote(&config.source.uri) && remote_output {
        StorageOptions::default()
    } else {
        config.storage_options.clone()
    }
}

/// Writes the result when an output was asked for; the result's figures either way.
async fn write_output(
    config: &ProfileConfig,
    session: &Session,
    result: Intermediate,
    progress: &Progress,
    requests: &Arc<RequestCounter>,
) -> Result<(Option<OutputReport>, TextStats)> {
    let output = match &config.output {
        Some(spec) => {
            progress.step(&format!("writing {}", spec.uri));
            let source = config.source.uri.as_str();
            let options = &config.storage_options;
            Some(output::write(session, &result, (spec, source), options, requests).await?)
        }
        None => None,
    };
    Ok((output, result.stats()))
}

/// Tokens of the source and of the pipeline's result, and what counting them took.
fn tokens_report(
    counter: &TokenCounter,
    source: TokenStats,
    stages: &[StageReport],
) -> TokensReport {
    let result = stages.last().and_then(|s| s.tokens_out).unwrap_or(source);
    TokensReport {
        tokenizer: counter.tokenizer().name().to_string(),
        source,
        result,
        removed: source.total as i64 - result.total as i64,
        texts_tokenized: counter.texts_tokenized,
        wall_seconds: counter.wall_seconds,
        cpu_seconds: counter.cpu_seconds,
    }
}

/// When the run started, by the clock and by the process's CPU time.
struct Started {
    at: Instant,
    cpu: Duration,
}

impl Started {
    fn now() -> Self {
        Started {
            at: Instant::now(),
            cpu: resources::cpu_time(),
        }
    }
}

/// Sums over the scan, the stages and the output, and the whole run since `started` (with the
/// executors' compute time on a remote cluster, `remote_cpu`).
fn totals(
    scan: &StepReport,
    stages: &[StageReport],
    (output, tokens): (Option<&OutputReport>, (f64, f64)),
    (source, result): (TextStats, TextStats),
    (started, remote_cpu): (&Started, Duration),
) -> Totals {
    let run_cpu = (resources::cpu_time().saturating_sub(started.cpu) + remote_cpu).as_secs_f64();
    let run_wall = started.at.elapsed().as_secs_f64();
    let part = |step: fn(&StepReport) -> f64,
                stage: fn(&StageReport) -> f64,
                out: f64,
                tokens: f64,
                run: f64| {
        let steps = step(scan) + stages.iter().map(stage).sum::<f64>() + out;
        ByPart {
            scan: step(scan),
            stages: stages.iter().map(stage).sum(),
            tokens,
            output: out,
            other: (run - steps - tokens).max(0.0),
        }
    };
    let cpu_by_part = part(
        |s| s.cpu_seconds,
        |s| s.cpu_seconds,
        output.map_or(0.0, |o| o.cpu_seconds),
        tokens.1,
        run_cpu,
    );
    let wall_by_part = part(
        |s| s.wall_seconds,
        |s| s.wall_seconds,
        output.map_or(0.0, |o| o.wall_seconds),
        tokens.0,
        run_wall,
    );
    let steps = |p: &ByPart<f64>| p.scan + p.stages + p.output;
    let peak = stages
        .iter()
        .map(|s| s.peak_memory_bytes)
        .chain([scan.peak_memory_bytes])
        .max()
        .unwrap_or(0);
    Totals {
        rows_in: source.rows,
        rows_out: result.rows,
        drop_rate: ratio(
            source.rows.saturating_sub(result.rows) as f64,
            source.rows as f64,
        ),
        text_bytes_in: source.text_bytes,
        text_bytes_out: result.text_bytes,
        wall_seconds: steps(&wall_by_part),
        cpu_seconds: steps(&cpu_by_part),
        run_wall_seconds: run_wall,
        run_cpu_seconds: run_cpu,
        run_cpu_by_part: cpu_by_part,
        run_wall_by_part: wall_by_part,
        peak_memory_bytes: peak,
        peak_rss_bytes: resources::peak_rss(),
    }
}
