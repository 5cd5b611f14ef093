//! `prepcost inspect`: a dataset's layout and storage bill from its footers (or, for JSONL
//! and CSV, from reading it), what a reader of some columns fetches, and what other layouts
//! would cost.

use std::time::Instant;

use object_store::ObjectMeta;

use crate::budget::{self, Previous};
use crate::config::InspectConfig;
use crate::cost::storage_cost;
use crate::error::{Error, Result};
use crate::layout::{self, Layout};
use crate::model::SCHEMA_VERSION;
use crate::model::inspect::{
    FileLayout, InspectReport, InspectRun, InspectSource, LayoutTotals, Projection, Recommendation,
    RowGroupDistribution, SkippedFile, TextFilesSummary, Warning, WarningKind, WhatIfLayout,
};
use crate::source::Dataset;
use crate::source::sample::sample_parquet;
use crate::source::textfiles::{self, Compression, TextDataset, TextFileFacts, TextFormat};
use crate::storage::{self, Location};
use crate::util::units::usd;
use crate::whatif::{self, Grid, Outcome};

/// What was found at the source.
enum Found {
    Parquet(Box<Dataset>),
    Text(TextFormat, Vec<(ObjectMeta, Compression)>),
}

/// What inspecting the files found, before the run's requests are counted and priced.
struct Inspected {
    format: &'static str,
    layout: Layout,
    text_files: Option<TextFilesSummary>,
    projection: Option<Projection>,
    skipped: Vec<SkippedFile>,
    /// The layouts measured, when the table of them is reported.
    what_if: Option<Vec<WhatIfLayout>>,
    recommendation: Option<Recommendation>,
}

/// Runs `inspect` and returns its report, held to the budgets (growth against `previous`,
/// the history's last run of the dataset).
pub async fn run(config: &InspectConfig, previous: Option<Previous>) -> Result<InspectReport> {
    let started = Instant::now();
    let location = storage::resolve(&config.source, &config.storage_options).await?;
    let inspected = match find(config, &location).await? {
        Found::Parquet(dataset) => inspect_parquet(config, *dataset).await?,
        Found::Text(format, files) => inspect_text(config, &location, format, files).await?,
    };
    let requests = location.requests.snapshot();
    let Inspected {
        format,
        layout,
        text_files,
        projection,
        skipped,
        what_if,
        recommendation,
    } = inspected;
    let mut report = InspectReport {
        schema_version: SCHEMA_VERSION,
        command: "inspect",
        prepcost_version: env!("CARGO_PKG_VERSION"),
        source: InspectSource {
            uri: location.display.clone(),
            format,
            text_files,
        },
        cost: storage_cost(
            &config.pricing,
            location.provider,
            layout.totals.file_bytes,
            &requests,
        ),
        totals: layout.totals,
        columns: layout.columns,
        files: layout.files,
        row_groups: layout.row_groups,
        projection,
        warnings: layout.warnings,
        skipped,
        what_if,
        recommendation,
        requests,
        run: InspectRun {
            wall_seconds: started.elapsed().as_secs_f64(),
        },
        budget: None,
    };
    report.budget = budget::check_inspect(&config.budget, &report, previous);
    Ok(report)
}

/// Parquet files at the location, or else JSONL or CSV files; an error when there are none.
async fn find(config: &InspectConfig, location: &Location) -> Result<Found> {
    let text_object = location.is_object
        && location
            .path
            .filename()
            .and_then(textfiles::classify)
            .is_some();
    if !text_object {
        match Dataset::open_with(location.clone(), None, config.on_error).await {
            Ok(dataset) => return Ok(Found::Parquet(Box::new(dataset))),
            Err(Error::NoDataFiles { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    match textfiles::find(location).await? {
        Some((format, files)) => Ok(Found::Text(format, files)),
        None => Err(Error::NoDataFiles {
            path: location.display.clone(),
            looked_for: "*.parquet, *.jsonl, *.ndjson, *.json, *.csv, *.tsv, \
                         optionally .gz, .zst, .bz2 or .xz"
                .into(),
        }),
    }
}

/// A Parquet dataset: its footers, the columns asked for, and the what-if when asked.
async fn inspect_parquet(config: &InspectConfig, dataset: Dataset) -> Result<Inspected> {
    let layout = layout::analyse(&dataset, &config.pricing);
    let projection = config
        .columns
        .as_ref()
        .map(|wanted| layout::projection(&layout, wanted, &config.source))
        .transpose()?;
    let outcome = match &config.what_if {
        Some(settings) => {
            let sample =
                sample_parquet(&dataset, settings.sample_row_groups, settings.sample_size).await?;
            let today = layout.totals.storage_usd_per_month;
            Some(whatif::measure(sample, Grid::Full, settings.min_decode_mb_per_s, today).await?)
        }
        None => None,
    };
    Ok(Inspected {
        format: "parquet",
        layout,
        text_files: None,
        projection,
        skipped: dataset.skipped,
        recommendation: outcome.as_ref().and_then(|o| o.recommendation.clone()),
        what_if: outcome.map(|o| o.layouts),
    })
}

/// JSONL or CSV files, read in full; converting them to Parquet is always estimated, and
/// `--what-if` measures every layout.
async fn inspect_text(
    config: &InspectConfig,
    location: &Location,
    format: TextFormat,
    files: Vec<(ObjectMeta, Compression)>,
) -> Result<Inspected> {
    if config.columns.is_some() {
        return Err(Error::Usage(format!(
            "{}: --columns needs a Parquet source; JSONL and CSV store whole rows, so a \
             reader fetches every byte",
            config.source
        )));
    }
    let settings = config.what_if.unwrap_or_default();
    let TextDataset {
        format,
        files,
        skipped,
        summary,
        sample,
    } = textfiles::read(
        location,
        format,
        files,
        settings.sample_size,
        config.on_error,
    )
    .await?;
    let totals = text_totals(&files, &summary, config);
    // The estimate alone is one layout, nothing to choose between: it is reported however
    // fast it decoded on this (possibly busy) machine.
    let (grid, min_decode_mb_per_s) = match config.what_if {
        Some(_) => (Grid::Full, settings.min_decode_mb_per_s),
        None => (Grid::Default, 0.0),
    };
    let outcome = whatif::measure(
        sample,
        grid,
        min_decode_mb_per_s,
        totals.storage_usd_per_month,
    )
    .await?;
    let warnings = outcome
        .recommendation
        .as_ref()
        .map(|best| row_format_warning(format, &summary, best))
        .into_iter()
        .collect();
    let Outcome {
        layouts,
        recommendation,
    } = outcome;
    Ok(Inspected {
        format: format.name(),
        layout: Layout {
            totals,
            columns: vec![],
            files: files.into_iter().map(text_file_layout).collect(),
            row_groups: RowGroupDistribution::default(),
            warnings,
        },
        text_files: Some(summary),
        projection: None,
        skipped,
        // Only the estimate was measured: it is the recommendation, not a what-if table.
        what_if: config.what_if.map(|_| layouts),
        recommendation,
    })
}

/// The sums of text files: their bytes are their "compressed" bytes, decompressed their
/// "uncompressed" ones.
fn text_totals(
    files: &[TextFileFacts],
    summary: &TextFilesSummary,
    config: &InspectConfig,
) -> LayoutTotals {
    let file_bytes: u64 = files.iter().map(|f| f.bytes).sum();
    LayoutTotals {
        files: files.len() as u64,
        rows: summary.rows,
        row_groups: 0,
        file_bytes,
        compressed_bytes: file_bytes,
        uncompressed_bytes: summary.decompressed_bytes,
        storage_usd_per_month: config.pricing.storage_usd_per_month(file_bytes),
    }
}

fn text_file_layout(file: TextFileFacts) -> FileLayout {
    FileLayout {
        path: file.display,
        rows: file.rows,
        row_groups: 0,
        file_bytes: file.bytes,
        compressed_bytes: file.bytes,
        uncompressed_bytes: file.decompressed_bytes,
        created_by: None,
        columns: vec![],
    }
}

/// What storing the rows as Parquet would save.
fn row_format_warning(
    format: TextFormat,
    summary: &TextFilesSummary,
    best: &Recommendation,
) -> Warning {
    Warning {
        kind: WarningKind::RowFormat,
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
    }
}
