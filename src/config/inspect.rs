//! `inspect`'s settings: the source, the columns a reader would fetch, and the what-if.

use super::pricing::{PriceFlags, pricing};
use super::source;
use crate::budget::Budget;
use crate::error::{Error, Result};
use crate::model::pricing::Pricing;
use crate::source::OnError;
use crate::storage::StorageOptions;
use crate::whatif::WhatIfSettings;

/// What the command line asked of `inspect`, already merged with the environment.
#[derive(Debug, Clone, Default)]
pub struct InspectRequest {
    pub source: String,
    pub columns: Option<Vec<String>>,
    pub what_if: bool,
    pub sample_row_groups: Option<u64>,
    pub sample_size: Option<u64>,
    pub min_decode_mb_per_s: Option<f64>,
    pub on_error: OnError,
    pub prices: PriceFlags,
    pub storage_options: Vec<(String, String)>,
    pub budget: Budget,
}

/// A fully resolved `inspect` run.
#[derive(Debug, Clone)]
pub struct InspectConfig {
    pub source: String,
    /// Columns a loader would read, for the projection figures.
    pub columns: Option<Vec<String>>,
    /// Settings of the what-if, when asked for.
    pub what_if: Option<WhatIfSettings>,
    pub on_error: OnError,
    pub pricing: Pricing,
    pub storage_options: StorageOptions,
    pub budget: Budget,
}

impl InspectConfig {
    /// Resolves an `inspect` request, checking every number.
    pub fn resolve(request: InspectRequest) -> Result<Self> {
        source::check(&request.source, request.columns.as_deref())?;
        let what_if = what_if(&request)?;
        Ok(InspectConfig {
            source: request.source,
            columns: request.columns,
            what_if,
            on_error: request.on_error,
            pricing: pricing(request.prices)?,
            storage_options: StorageOptions::new(request.storage_options),
            budget: request
                .budget
                .for_command("inspect")
                .map_err(Error::Usage)?,
        })
    }
}

/// The what-if's settings when `--what-if` was given; its flags without it are an error.
fn what_if(request: &InspectRequest) -> Result<Option<WhatIfSettings>> {
    let defaults = WhatIfSettings::default();
    let settings = WhatIfSettings {
        sample_row_groups: request
            .sample_row_groups
            .unwrap_or(defaults.sample_row_groups),
        sample_size: request.sample_size.unwrap_or(defaults.sample_size),
        min_decode_mb_per_s: request
            .min_decode_mb_per_s
            .unwrap_or(defaults.min_decode_mb_per_s),
    };
    if settings.sample_row_groups == 0 {
        return Err(Error::Usage(
            "--sample-row-groups must be at least 1".into(),
        ));
    }
    if settings.sample_size == 0 {
        return Err(Error::Usage("--sample-size must be more than zero".into()));
    }
    let min_decode = settings.min_decode_mb_per_s;
    if !(min_decode.is_finite() && min_decode >= 0.0) {
        return Err(Error::Usage(format!(
            "--min-decode-mb-per-s must be zero or more, got {min_decode}"
        )));
    }
    let asked_for_what_if = request.sample_row_groups.is_some()
        || request.sample_size.is_some()
        || request.min_decode_mb_per_s.is_some();
    if asked_for_what_if && !request.what_if {
        return Err(Error::Usage(
            "--sample-row-groups, --sample-size and --min-decode-mb-per-s need --what-if".into(),
        ));
    }
    Ok(request.what_if.then_some(settings))
}
