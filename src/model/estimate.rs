//! What `prepcost estimate` reports: a plan for preprocessing the whole dataset (or one of
//! another size) on a given fleet — time, memory per stage and whether it fits, core-hours and
//! dollars — and, given a model, what training on the removed tokens would have cost.

use serde::Serialize;

use super::budget::BudgetReport;

use super::profile::Estimate;

/// A plan made from a `profile` report.
#[derive(Debug, Clone, Serialize)]
pub struct EstimateReport {
    pub schema_version: u32,
    pub command: &'static str,
    pub prepcost_version: &'static str,
    pub basis: PlanBasis,
    pub target: PlanTarget,
    pub fleet: Fleet,
    /// The run's steps in order: the scan, each stage, counting tokens, the output, the rest.
    pub steps: Vec<PlanStep>,
    pub totals: PlanTotals,
    pub cost: PlanCost,
    /// What training on the tokens the pipeline removes would have cost; absent without a
    /// model.
    pub training: Option<TrainingReport>,
    /// What the plan takes for granted.
    pub assumptions: Vec<String>,
    /// The budgets the run was held to, and their breaches; absent without budgets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<BudgetReport>,
}

/// The report the plan was made from.
#[derive(Debug, Clone, Serialize)]
pub struct PlanBasis {
    /// The report file.
    pub report: String,
    pub source_uri: String,
    pub rows: u64,
    pub file_bytes: u64,
    /// How the report's run was sampled; absent when it ran on the whole dataset.
    pub sample: Option<BasisSample>,
    /// Threads of the run the report measured.
    pub threads: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct BasisSample {
    pub mode: String,
    pub fraction: f64,
    pub seed: u64,
}

/// The dataset the plan is for.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PlanTarget {
    pub rows: f64,
    pub file_bytes: f64,
    /// Its size over the profiled dataset's.
    pub scale: f64,
}

/// The machines the plan runs on.
#[derive(Debug, Clone, Serialize)]
pub struct Fleet {
    /// The machine type, when one was named.
    pub machine: Option<String>,
    pub machines: u32,
    pub vcpus_per_machine: u32,
    pub memory_bytes_per_machine: u64,
    /// What the query engine may hold on each machine (prepcost's `--memory-limit`).
    pub memory_limit_bytes: u64,
    pub usd_per_machine_hour: f64,
    /// Where the price comes from.
    pub price_source: String,
}

/// What part of a run a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Scan,
    Stage,
    Tokens,
    Output,
    /// Listing the source, reading its footers, loading the tokenizer: not parallel.
    Other,
}

/// One step of the planned run.
#[derive(Debug, Clone, Serialize)]
pub struct PlanStep {
    pub name: String,
    pub part: Part,
    /// CPU seconds over all machines.
    pub cpu_seconds: Estimate,
    pub wall_seconds: Estimate,
    /// The share of the threads the step kept busy in the profiled run, kept on the fleet.
    pub parallel_efficiency: f64,
    /// A stage's peak memory on each machine, and whether it fits.
    pub memory: Option<StepMemory>,
}

/// A stage's memory on each machine.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct StepMemory {
    pub peak_bytes: Estimate,
    pub fit: Fit,
    /// A `minhash` stage's passes over its input (band tables built a few bands at a time).
    pub passes: Option<u64>,
    /// What the stage needs at least, when it does not fit at all.
    pub needs_bytes: Option<u64>,
}

/// Whether a stage's memory fits the engine's memory limit on each machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fit {
    /// Even the high end of its interval fits.
    Fits,
    /// The projection fits, the high end of its interval does not.
    MaySpill,
    /// It does not fit: intermediates and operators spill to local disk (slower than planned).
    Spills,
    /// A `minhash` stage that fits only in several passes (time planned for them).
    Passes,
    /// A `minhash` stage that cannot run: not even one band table fits.
    DoesNotFit,
}

/// The planned run's sums.
#[derive(Debug, Clone, Serialize)]
pub struct PlanTotals {
    pub wall_seconds: Estimate,
    pub cpu_seconds: Estimate,
    /// CPU time used, in core-hours.
    pub core_hours: Estimate,
    /// Machines × wall time: what is billed.
    pub machine_hours: Estimate,
    /// Highest stage memory on a machine.
    pub peak_memory_bytes: Estimate,
    pub rows_out: Estimate,
    pub tokens_out: Option<Estimate>,
}

/// The planned run's money.
#[derive(Debug, Clone, Serialize)]
pub struct PlanCost {
    /// `machine_hours × usd_per_machine_hour`.
    pub compute_usd: Estimate,
    pub requests_usd: Estimate,
    pub egress_usd: Estimate,
    /// Compute, requests and egress.
    pub total_usd: Estimate,
    /// The result as zstd Parquet: from the report's output, or the source's bytes in the
    /// proportion of text kept.
    pub output_bytes: Estimate,
    pub output_storage_usd_per_month: Estimate,
    pub usd_per_gb_month: f64,
}

/// The return on cleaning: what training on the removed tokens would have cost.
#[derive(Debug, Clone, Serialize)]
pub struct TrainingReport {
    pub model_params: f64,
    pub gpu_flops: f64,
    pub mfu: f64,
    pub gpu_hour_usd: f64,
    pub tokens_removed: Estimate,
    /// `6 × model_params × tokens_removed`.
    pub flops: Estimate,
    /// `flops / (gpu_flops × mfu)` in hours.
    pub gpu_hours: Estimate,
    pub usd: Estimate,
    /// `usd` over the preprocessing's `cost.total_usd`.
    pub return_on_cleaning: Estimate,
}
