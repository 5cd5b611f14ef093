//! The reports: plain serde data that the commands build whole and the renderers only format.
//! Field names are the JSON contract: snake_case, bytes as integers, seconds and dollars as
//! floats.

pub mod estimate;
pub mod inspect;
pub mod loader;
pub mod near_dedup;
pub mod pricing;
pub mod profile;
pub mod requests;
pub mod tokens;

pub use estimate::EstimateReport;
pub use inspect::InspectReport;
pub use loader::LoaderReport;
pub use profile::ProfileReport;

/// Bumped when a field changes meaning or disappears; new fields do not bump it.
pub const SCHEMA_VERSION: u32 = 1;

/// The report of any command.
#[derive(Debug, Clone)]
pub enum Report {
    Profile(Box<ProfileReport>),
    Inspect(Box<InspectReport>),
    Loader(Box<LoaderReport>),
    Estimate(Box<EstimateReport>),
}

impl Report {
    /// False when the run missed a threshold it was given (a loader that cannot keep up with
    /// its target rate): the command then exits with code 1, its report written all the same.
    pub fn within_thresholds(&self) -> bool {
        match self {
            Report::Loader(r) => r.loader.verdict.as_ref().is_none_or(|v| v.keeps_up),
            Report::Profile(_) | Report::Inspect(_) | Report::Estimate(_) => true,
        }
    }
}
