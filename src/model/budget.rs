//! What a run's budgets allowed and what it measured: every limit checked, and the breaches
//! that make the command exit with code 1.

use serde::Serialize;

/// The budgets a run was given, each checked.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BudgetReport {
    pub checks: Vec<BudgetCheck>,
    /// The checks that failed, each with a sentence saying so.
    pub breaches: Vec<Breach>,
}

/// One limit and the figure it was held against.
#[derive(Debug, Clone, Serialize)]
pub struct BudgetCheck {
    /// `max_cost_usd`, `max_seconds`, `max_drop_rate`, `min_loader_tokens_per_s` or
    /// `max_growth` (with the figure that grew: `max_growth.rows`, …).
    pub budget: String,
    /// The stage a stage's budget is for; absent for the whole run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    pub limit: f64,
    pub actual: f64,
    /// `measured`, or `projected` when a sample ran and the figure is the whole dataset's.
    pub basis: &'static str,
    pub breached: bool,
}

/// A failed check, said in a sentence.
#[derive(Debug, Clone, Serialize)]
pub struct Breach {
    pub budget: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    pub limit: f64,
    pub actual: f64,
    pub message: String,
}

impl BudgetReport {
    pub fn is_empty(&self) -> bool {
        self.checks.is_empty()
    }
}
