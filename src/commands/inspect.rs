//! `prepcost inspect`: a dataset's layout and storage bill from its footers, what a reader of
//! some columns fetches, and (with `--what-if`) what other layouts would cost.

use std::time::Instant;

use crate::config::InspectConfig;
use crate::dataset::Dataset;
use crate::error::Result;
use crate::layout;
use crate::report::SCHEMA_VERSION;
use crate::report::inspect::{InspectReport, InspectRun, InspectSource, StorageCost};
use crate::{storage, whatif};

/// Runs `inspect` and returns its report.
pub async fn run(config: &InspectConfig) -> Result<InspectReport> {
    let started = Instant::now();
    let location = storage::resolve(&config.source)?;
    let requests = std::sync::Arc::clone(&location.requests);
    let dataset = Dataset::open_with(location, None, config.on_error).await?;
    let layout = layout::analyse(&dataset, &config.pricing);
    let projection = config
        .columns
        .as_ref()
        .map(|wanted| layout::projection(&layout, wanted, &config.source))
        .transpose()?;
    let what_if = match &config.what_if {
        Some(settings) => {
            Some(whatif::measure(&dataset, settings, layout.totals.storage_usd_per_month).await?)
        }
        None => None,
    };
    Ok(InspectReport {
        schema_version: SCHEMA_VERSION,
        command: "inspect",
        prepcost_version: env!("CARGO_PKG_VERSION"),
        source: InspectSource {
            uri: config.source.clone(),
            format: "parquet",
            text_files: None,
        },
        cost: StorageCost {
            storage_usd_per_month: layout.totals.storage_usd_per_month,
            pricing: config.pricing,
        },
        totals: layout.totals,
        columns: layout.columns,
        files: layout.files,
        row_groups: layout.row_groups,
        projection,
        warnings: layout.warnings,
        skipped: dataset.skipped,
        recommendation: what_if.as_ref().and_then(|w| w.recommendation.clone()),
        what_if: what_if.map(|w| w.layouts),
        requests: requests.snapshot(),
        run: InspectRun {
            wall_seconds: started.elapsed().as_secs_f64(),
        },
    })
}
