//! `prepcost estimate`: a plan for preprocessing the dataset a `profile` report describes —
//! or one of another size — on a given fleet, with its cost and the return on cleaning.

use crate::budget;
use crate::config::EstimateConfig;
use crate::error::{Error, Result};
use crate::estimate::plan::plan;
use crate::estimate::saved::{SavedReport, parse};
use crate::model::SCHEMA_VERSION;
use crate::model::estimate::{BasisSample, EstimateReport, PlanBasis};

/// Reads the report and makes the plan the configuration asks for.
pub fn run(config: &EstimateConfig) -> Result<EstimateReport> {
    let path = config.report.display().to_string();
    let text = std::fs::read_to_string(&config.report)
        .map_err(|e| Error::io(format!("report {path}"), e))?;
    let saved = parse(&text).map_err(|message| Error::Usage(format!("{path}: {message}")))?;
    let plan = plan(&saved, &config.plan).map_err(|m| Error::Usage(format!("{path}: {m}")))?;
    let mut report = EstimateReport {
        schema_version: SCHEMA_VERSION,
        command: "estimate",
        prepcost_version: env!("CARGO_PKG_VERSION"),
        basis: basis(&saved, path),
        target: plan.target,
        fleet: plan.fleet,
        steps: plan.steps,
        totals: plan.totals,
        cost: plan.cost,
        training: plan.training,
        assumptions: plan.assumptions,
        budget: None,
    };
    report.budget = budget::check_estimate(&config.budget, &report);
    Ok(report)
}

fn basis(saved: &SavedReport, report: String) -> PlanBasis {
    PlanBasis {
        report,
        source_uri: saved.source.uri.clone(),
        rows: saved.storage.rows,
        file_bytes: saved.storage.file_bytes,
        sample: saved.sample.as_ref().map(|s| BasisSample {
            mode: s.mode.clone(),
            fraction: s.fraction,
            seed: s.seed,
        }),
        threads: saved.run.threads,
    }
}
