//! `prepcost profile`: scan the source, run the pipeline's stages, optionally write the
//! result, and report what every step cost.

use crate::config::ProfileConfig;
use crate::cost::Pricing;
use crate::dataset::Dataset;
use crate::error::Result;
use crate::intermediate::TextStats;
use crate::pipeline::{self, Meter};
use crate::progress::Progress;
use crate::report::{
    CostReport, OutputReport, ProfileReport, RunReport, SCHEMA_VERSION, SourceReport, StageReport,
    StepReport, TokensReport, Totals, ratio,
};
use crate::session::Session;
use crate::stages::{self, Stage};
use crate::storage::Provider;
use crate::storage::instrumented::RequestStats;
use crate::tokenizer::Tokenizer;
use crate::tokens::TokenCounter;
use crate::{layout, output, resources, scan, storage};

/// Runs `profile` and returns its report.
pub async fn run(config: &ProfileConfig) -> Result<ProfileReport> {
    let progress = Progress::new(config.quiet);
    let mut tokens = Tokenizer::load(&config.tokenizer)?.map(TokenCounter::new);
    let stages: Vec<Box<dyn Stage>> = config
        .stages
        .iter()
        .map(|spec| stages::build(spec, &config.source))
        .collect::<Result<_>>()?;
    // Storage options are for the remote stores: the source's, or else the output's.
    let remote_source = storage::provider_of(&config.source.uri) != Provider::Local;
    let remote_output = config
        .output
        .as_deref()
        .is_some_and(|o| storage::provider_of(o) != Provider::Local);
    let no_options = Default::default();
    let source_options = match (remote_source, remote_output) {
        (false, true) => &no_options,
        _ => &config.storage_options,
    };
    let location = storage::resolve(&config.source.uri, source_options).await?;
    let session = Session::new(config.memory_limit)?;
    session.register_store(&location);
    let location_requests = std::sync::Arc::clone(&location.requests);
    let (source_provider, source_display) = (location.provider, location.display.clone());
    let output_provider = config
        .output
        .as_deref()
        .map_or(Provider::Local, storage::provider_of);
    let cache = session
        .ctx
        .runtime_env()
        .cache_manager
        .get_file_metadata_cache();
    let dataset = Dataset::open(location, cache).await?;
    let storage = layout::analyse(&dataset, &config.pricing).storage_report();

    progress.step(&format!(
        "scanning {} ({} rows)",
        config.source.uri, storage.rows
    ));
    let meter = Meter::start(&session);
    let source = scan::scan(&session, &dataset, &config.source).await?;
    let scan_step = meter.finish(&source);
    let source_stats = source.stats();

    let text_column = &config.source.text_column;
    let source_tokens = match &mut tokens {
        Some(counter) => {
            progress.step(&format!("counting tokens ({})", counter.tokenizer().name()));
            Some(
                counter
                    .count(&session, &source, text_column, "scan")
                    .await?,
            )
        }
        None => None,
    };

    let (result, stage_reports) = pipeline::run(
        &session,
        &stages,
        source,
        text_column,
        &progress,
        tokens.as_mut().zip(source_tokens),
    )
    .await?;
    let tokens = tokens.zip(source_tokens).map(|(counter, source)| {
        let result = stage_reports
            .last()
            .and_then(|s| s.tokens_out)
            .unwrap_or(source);
        TokensReport {
            tokenizer: counter.tokenizer().name().to_string(),
            source,
            result,
            removed: source.total as i64 - result.total as i64,
            wall_seconds: counter.wall_seconds,
            cpu_seconds: counter.cpu_seconds,
        }
    });

    let output = match &config.output {
        Some(target) => {
            progress.step(&format!("writing {target}"));
            Some(output::write(&session, &result, target, &config.storage_options).await?)
        }
        None => None,
    };
    let result_stats = result.stats();
    drop(result);

    let totals = totals(
        &scan_step,
        &stage_reports,
        output.as_ref(),
        source_stats,
        result_stats,
    );
    let requests = location_requests.snapshot();
    let cost = cost(
        &config.pricing,
        &totals,
        storage.file_bytes,
        &requests,
        (
            source_provider,
            output.as_ref().map(|o| (o, output_provider)),
        ),
    );
    Ok(ProfileReport {
        schema_version: SCHEMA_VERSION,
        command: "profile",
        prepcost_version: env!("CARGO_PKG_VERSION"),
        source: SourceReport {
            uri: source_display,
            format: config.source.format,
            text_column: config.source.text_column.clone(),
            id_column: config.source.id_column.clone(),
            files: storage.files,
            rows: source_stats.rows,
            text_bytes: source_stats.text_bytes,
            text_nulls: source_stats.text_nulls,
        },
        storage,
        scan: scan_step,
        stages: stage_reports,
        tokens,
        output,
        totals,
        cost,
        requests,
        run: RunReport {
            memory_limit_bytes: config.memory_limit,
            threads: session.threads,
            engine: "datafusion (local)",
        },
    })
}

fn totals(
    scan: &StepReport,
    stages: &[StageReport],
    output: Option<&OutputReport>,
    source: TextStats,
    result: TextStats,
) -> Totals {
    let wall = scan.wall_seconds
        + stages.iter().map(|s| s.wall_seconds).sum::<f64>()
        + output.map_or(0.0, |o| o.wall_seconds);
    let cpu = scan.cpu_seconds
        + stages.iter().map(|s| s.cpu_seconds).sum::<f64>()
        + output.map_or(0.0, |o| o.cpu_seconds);
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
        wall_seconds: wall,
        cpu_seconds: cpu,
        peak_memory_bytes: peak,
        peak_rss_bytes: resources::peak_rss(),
    }
}

/// Money: compute, storage, and the requests and egress of the source's store and the
/// output's, each at its provider's prices.
fn cost(
    pricing: &Pricing,
    totals: &Totals,
    source_bytes: u64,
    requests: &RequestStats,
    (source_provider, output): (Provider, Option<(&OutputReport, Provider)>),
) -> CostReport {
    let source_prices = pricing.requests_for(source_provider);
    let output_prices = output.map(|(o, provider)| (o, pricing.requests_for(provider)));
    let (requests_usd, egress_usd) = match &output_prices {
        // The output's requests are in the run's counts too: priced at its own provider's.
        Some((o, prices)) => (
            source_prices.requests_usd(requests) - source_prices.requests_usd(&o.requests)
                + prices.requests_usd(&o.requests),
            source_prices.egress_usd(requests) - source_prices.egress_usd(&o.requests)
                + prices.egress_usd(&o.requests),
        ),
        None => (
            source_prices.requests_usd(requests),
            source_prices.egress_usd(requests),
        ),
    };
    let output = output.map(|(o, _)| o);
    CostReport {
        requests_usd: requests_usd.max(0.0),
        egress_usd: egress_usd.max(0.0),
        request_pricing: source_prices,
        output_request_pricing: output_prices
            .map(|(_, p)| p)
            .filter(|p| p.provider != source_prices.provider),
        core_hours: totals.cpu_seconds / 3600.0,
        compute_usd: pricing.compute_usd(totals.cpu_seconds),
        source_storage_usd_per_month: pricing.storage_usd_per_month(source_bytes),
        output_storage_usd_per_month: output.map(|o| pricing.storage_usd_per_month(o.bytes)),
        pricing: *pricing,
    }
}
