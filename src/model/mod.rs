//! The reports: plain serde data that the commands build whole and the renderers only format.
//! Field names are the JSON contract: snake_case, bytes as integers, seconds and dollars as
//! floats.

pub mod budget;
pub mod diff;
pub mod estimate;
pub mod history;
pub mod inspect;
pub mod interrupted;
pub mod loader;
pub mod near_dedup;
pub mod pricing;
pub mod profile;
pub mod requests;
pub mod tokens;

pub use budget::BudgetReport;
pub use diff::DiffReport;
pub use estimate::EstimateReport;
pub use history::HistoryReport;
pub use inspect::InspectReport;
pub use interrupted::InterruptedReport;
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
    History(Box<HistoryReport>),
    Diff(Box<DiffReport>),
    /// What a run stopped by a signal had done.
    Interrupted(Box<InterruptedReport>),
}

impl Report {
    /// False when the run missed a threshold it was given (a budget, or a loader's target
    /// rate): the command then exits with code 1, its report written all the same.
    pub fn within_thresholds(&self) -> bool {
        let keeps_up = match self {
            Report::Loader(r) => r.loader.verdict.as_ref().is_none_or(|v| v.keeps_up),
            Report::Profile(_) | Report::Inspect(_) | Report::Estimate(_) => true,
            Report::Interrupted(_) => false,
            Report::History(_) => true,
            Report::Diff(r) => r.flagged == 0,
        };
        keeps_up && self.budget().is_none_or(|b| b.breaches.is_empty())
    }

    /// The budgets the run was held to.
    pub fn budget(&self) -> Option<&BudgetReport> {
        match self {
            Report::Profile(r) => r.budget.as_ref(),
            Report::Inspect(r) => r.budget.as_ref(),
            Report::Loader(r) => r.budget.as_ref(),
            Report::Estimate(r) => r.budget.as_ref(),
            Report::Interrupted(_) | Report::History(_) | Report::Diff(_) => None,
        }
    }

    /// The dataset the report is about, as its URI.
    pub fn dataset(&self) -> &str {
        match self {
            Report::Profile(r) => &r.source.uri,
            Report::Inspect(r) => &r.source.uri,
            Report::Loader(r) => &r.source.uri,
            Report::Estimate(r) => &r.basis.source_uri,
            Report::Interrupted(r) => &r.dataset,
            Report::History(r) => r.dataset.as_deref().unwrap_or(&r.uri),
            Report::Diff(r) => &r.b,
        }
    }

    /// `profile`, `inspect`, `loader` or `estimate`.
    pub fn command(&self) -> &'static str {
        match self {
            Report::Profile(r) => r.command,
            Report::Inspect(r) => r.command,
            Report::Loader(r) => r.command,
            Report::Estimate(r) => r.command,
            Report::Interrupted(r) => r.command,
            Report::History(r) => r.command,
            Report::Diff(r) => r.command,
        }
    }
}
