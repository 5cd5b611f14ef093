//! `history`'s and `diff`'s settings: where the history is and which dataset to show; which
//! two reports to compare and how much change is flagged.

use std::path::PathBuf;

use crate::budget::parse_fraction;
use crate::error::{Error, Result};
use crate::storage::StorageOptions;

/// A resolved `history` run.
#[derive(Debug, Clone)]
pub struct HistoryConfig {
    pub uri: String,
    pub dataset: Option<String>,
    pub storage_options: StorageOptions,
}

/// A resolved `diff` run.
#[derive(Debug, Clone)]
pub struct DiffConfig {
    pub a: PathBuf,
    pub b: PathBuf,
    /// Relative change beyond which a figure is flagged.
    pub tolerance: f64,
}

impl DiffConfig {
    /// The tolerance defaults to 10%.
    pub fn resolve(a: PathBuf, b: PathBuf, tolerance: Option<&str>) -> Result<Self> {
        let tolerance = match tolerance {
            Some(text) => {
                parse_fraction(text).map_err(|e| Error::Usage(format!("--tolerance: {e}")))?
            }
            None => 0.1,
        };
        Ok(DiffConfig { a, b, tolerance })
    }
}
