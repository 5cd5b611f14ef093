//! `prepcost inspect`: a dataset's layout and storage bill from its footers (or, for JSONL
//! and CSV, from reading it), what a reader of some columns fetches, and what other layouts
//! would cost.

use std::sync::Arc;
use std::time::Instant;

use crate::config::{InspectConfig, WhatIfSettings};
use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::layout::{self, Layout};
use crate::report::inspect::{
    FileLayout, InspectReport, InspectRun, InspectSource, LayoutTotals, RowGroupDistribution,
    StorageCost, Warning,
};
use crate::report::{SCHEMA_VERSION, usd};
use crate::storage::{self, Location};
use crate::textfiles::{self, Compression, TextDataset, TextFormat};
use crate::whatif::{self, Grid, Outcome};
use object_store::ObjectMeta;

/// Runs `inspect` and returns its report.
pub async fn run(config: &InspectConfig) -> Result<InspectReport> {
    let started = Instant::now();
    let location = storage::resolve(&config.source, &config.storage_options).await?;
    let requests = Arc::clone(&location.requests);
    let (provider, display) = (location.provider, location.display.clone());
    let text_object = location.is_object
        && location
            .path
            .filename()
            .and_then(textfiles::classify)
            .is_some();
    let parquet = if text_object {
        None
    } else {
        match Dataset::open_with(location.clone(), None, config.on_error).await {
            Ok(dataset) => Some(dataset),
            Err(Error::NoDataFiles { .. }) => None,
            Err(e) => return Err(e),
        }
    };
    let mut report = match parquet {
        Some(dataset) => inspect_parquet(config, dataset).await?,
        None => match textfiles::find(&location).await? {
            Some(found) => inspect_text(config, &location, found).await?,
            None => {
                return Err(Error::NoDataFiles {
                    path: location.display.clone(),
                    looked_for: "*.parquet, *.jsonl, *.ndjson, *.json, *.csv, *.tsv, \
                                 optionally .gz, .zst, .bz2 or .xz"
                        .into(),
                });
            }
        },
    };
    report.requests = requests.snapshot();
    let prices = config.pricing.requests_for(provider);
    report.cost.requests_usd = prices.requests_usd(&report.requests);
    report.cost.egress_usd = prices.egress_usd(&report.requests);
    report.cost.request_pricing = prices;
    report.source.uri = display;
    report.run.wall_seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

async fn inspect_parquet(config: &InspectConfig, dataset: Dataset) -> Result<InspectReport> {
    let layout = layout::analyse(&dataset, &config.pricing);
    let projection = config
        .columns
        .as_ref()
        .map(|wanted| layout::projection(&layout, wanted, &config.source))
        .transpose()?;
    let what_if = match &config.what_if {
        Some(settings) => {
            let sample = whatif::sample_parquet(&dataset, settings).await?;
            let today = layout.totals.storage_usd_per_month;
            Some(whatif::measure(sample, Grid::Full, settings.min_decode_mb_per_s, today).await?)
        }
        None => None,
    };
    let mut report = report(config, "parquet", layout, what_if);
    report.projection = projection;
    report.skipped = dataset.skipped;
    Ok(report)
}

async fn inspect_text(
    config: &InspectConfig,
    location: &Location,
    (format, files): (TextFormat, Vec<(ObjectMeta, Compression)>),
) -> Result<InspectReport> {
    if config.columns.is_some() {
        return Err(Error::Usage(format!(
            "{}: --columns needs a Parquet source; JSONL and CSV store whole rows, so a \
             reader fetches every byte",
            config.source
        )));
    }
    let settings = config.what_if.unwrap_or(WhatIfSettings {
        sample_row_groups: WhatIfSettings::DEFAULT_SAMPLE_ROW_GROUPS,
        sample_size: WhatIfSettings::DEFAULT_SAMPLE_SIZE,
        min_decode_mb_per_s: WhatIfSettings::DEFAULT_MIN_DECODE_MB_PER_S,
    });
    let text = textfiles::read(
        location,
        format,
        files,
        settings.sample_size,
        config.on_error,
    )
    .await?;
    let TextDataset {
        format,
        files,
        skipped,
        summary,
        sample,
    } = text;
    let file_bytes: u64 = files.iter().map(|f| f.bytes).sum();
    let totals = LayoutTotals {
        files: files.len() as u64,
        rows: summary.rows,
        row_groups: 0,
        file_bytes,
        compressed_bytes: file_bytes,
        uncompressed_bytes: summary.decompressed_bytes,
        storage_usd_per_month: config.pricing.storage_usd_per_month(file_bytes),
    };
    // Converting to Parquet is always estimated; --what-if measures every layout.
    let grid = if config.what_if.is_some() {
        Grid::Full
    } else {
        Grid::Default
    };
    // The estimate alone is one layout, nothing to choose between: it is reported however
    // fast it decoded on this (possibly busy) machine.
    let min_decode_mb_per_s = match grid {
        Grid::Full => settings.min_decode_mb_per_s,
        Grid::Default => 0.0,
    };
    let outcome = whatif::measure(
        sample,
        grid,
        min_decode_mb_per_s,
        totals.storage_usd_per_month,
    )
    .await?;
    let mut warnings = Vec::new();
    if let Some(best) = &outcome.recommendation {
        warnings.push(Warning {
            kind: "row_format",
            message: format!(
                "stored as {} ({} compression): as Parquet ({}) it would take {:.0}% of the \
                 space ({}/month {}), and loaders could read single columns",
                format.name(),
                summary.compression,
                best.layout,
                best.size_ratio * 100.0,
                usd(best.saves_usd_per_month.abs()),
                if best.saves_usd_per_month >= 0.0 {
                    "less"
                } else {
                    "more"
                }
            ),
            files: vec![],
            columns: vec![],
        });
    }
    let layout = Layout {
        totals,
        columns: vec![],
        files: files
            .into_iter()
            .map(|f| FileLayout {
                path: f.display,
                rows: f.rows,
                row_groups: 0,
                file_bytes: f.bytes,
                compressed_bytes: f.bytes,
                uncompressed_bytes: f.decompressed_bytes,
                created_by: None,
                columns: vec![],
            })
            .collect(),
        row_groups: RowGroupDistribution::default(),
        warnings,
    };
    let what_if = Some(outcome);
    let mut report = report(config, format.name(), layout, what_if);
    report.source.text_files = Some(summary);
    report.skipped = skipped;
    if config.what_if.is_none() {
        // Only the estimate was measured: it is the recommendation, not a what-if table.
        report.what_if = None;
    }
    Ok(report)
}

fn report(
    config: &InspectConfig,
    format: &'static str,
    layout: Layout,
    what_if: Option<Outcome>,
) -> InspectReport {
    InspectReport {
        schema_version: SCHEMA_VERSION,
        command: "inspect",
        prepcost_version: env!("CARGO_PKG_VERSION"),
        source: InspectSource {
            uri: config.source.clone(),
            format,
            text_files: None,
        },
        cost: StorageCost {
            storage_usd_per_month: layout.totals.storage_usd_per_month,
            requests_usd: 0.0,
            egress_usd: 0.0,
            pricing: config.pricing,
            request_pricing: config.pricing.requests_for(crate::storage::Provider::Local),
        },
        totals: layout.totals,
        columns: layout.columns,
        files: layout.files,
        row_groups: layout.row_groups,
        projection: None,
        warnings: layout.warnings,
        skipped: vec![],
        recommendation: what_if.as_ref().and_then(|w| w.recommendation.clone()),
        what_if: what_if.map(|w| w.layouts),
        requests: Default::default(),
        run: InspectRun { wall_seconds: 0.0 },
    }
}
