//! Plans: from a saved `profile` report, what preprocessing the whole dataset (or one of
//! another size) takes on a fleet — each step's time at the parallel efficiency the profiled
//! run showed, each stage's memory on a machine and whether it fits, core-hours and dollars —
//! and what training on the tokens it removes would have cost.

use super::extend;
use super::saved::{SavedNearDedup, SavedReport, SavedStage};
use crate::cost::BYTES_PER_GB;
use crate::model::estimate::{
    Fit, Fleet, Part, PlanCost, PlanStep, PlanTarget, PlanTotals, StepMemory, TrainingReport,
};
use crate::model::profile::{ByPart, Estimate};
use crate::stages::lsh::MemoryNeed;
use crate::util::units::{count, format_size};

/// A machine type of the pricing table.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    pub name: String,
    pub vcpus: u32,
    pub memory_bytes: u64,
    pub usd_per_hour: f64,
    /// The page and date the price comes from.
    pub source: String,
}

/// The machines a plan runs on.
#[derive(Debug, Clone, PartialEq)]
pub enum FleetSpec {
    /// `machines` of a machine type.
    Machine { machine: Machine, machines: u32 },
    /// `machines` machines of `cores` vCPUs and `memory` bytes, priced per vCPU-hour; the
    /// profiled run's threads and memory limit, and the report's price, when not given.
    Cores {
        cores: Option<u32>,
        memory: Option<u64>,
        machines: u32,
        usd_per_vcpu_hour: Option<f64>,
    },
}

/// A dataset size other than the profiled one's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TargetSize {
    Rows(u64),
    /// Bytes on storage.
    Bytes(u64),
}

/// The model a team would train on the data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainingModel {
    pub params: f64,
    /// Peak FLOP/s of one GPU.
    pub gpu_flops: f64,
    /// Model FLOP/s utilisation.
    pub mfu: f64,
    pub gpu_hour_usd: f64,
}

/// What a plan is asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRequest {
    pub fleet: FleetSpec,
    /// The engine's memory per machine [default: half the machine's memory].
    pub memory_limit: Option<u64>,
    pub target: Option<TargetSize>,
    pub training: Option<TrainingModel>,
}

/// A plan: everything of the `estimate` report but where it came from.
#[derive(Debug, Clone)]
pub struct Plan {
    pub target: PlanTarget,
    pub fleet: Fleet,
    pub steps: Vec<PlanStep>,
    pub totals: PlanTotals,
    pub cost: PlanCost,
    pub training: Option<TrainingReport>,
    pub assumptions: Vec<String>,
}

/// Makes the plan `request` asks for from `saved`; an error says why it cannot (a training
/// budget from a report that counted no tokens).
pub fn plan(saved: &SavedReport, request: &PlanRequest) -> Result<Plan, String> {
    let target = target(saved, request.target);
    let fleet = fleet(saved, request);
    let steps: Vec<PlanStep> = bases(saved)
        .iter()
        .map(|b| step(b, saved.run.threads, target.scale, &fleet))
        .collect();
    let totals = totals(saved, &steps, target.scale, &fleet);
    let cost = cost(saved, &totals, target.scale, &fleet);
    let training = match request.training {
        Some(model) => Some(training(saved, model, target.scale, cost.total_usd)?),
        None => None,
    };
    let mut assumptions = assumptions(saved, request, &target, &fleet);
    if steps
        .iter()
        .any(|s| s.memory.is_some_and(|m| m.fit == Fit::DoesNotFit))
    {
        assumptions.push(format!(
            "a minhash stage that does not fit cannot run: it needs its row index, union-find and one band table in memory at once (and handles fewer than {} rows); give each machine more memory, or more machines",
            count(u64::from(u32::MAX))
        ));
    }
    Ok(Plan {
        target,
        fleet,
        steps,
        totals,
        cost,
        training,
        assumptions,
    })
}

fn target(saved: &SavedReport, size: Option<TargetSize>) -> PlanTarget {
    let (rows, bytes) = (saved.storage.rows as f64, saved.storage.file_bytes as f64);
    let scale = match size {
        None => 1.0,
        Some(TargetSize::Rows(r)) if rows > 0.0 => r as f64 / rows,
        Some(TargetSize::Bytes(b)) if bytes > 0.0 => b as f64 / bytes,
        Some(_) => 1.0,
    };
    PlanTarget {
        rows: rows * scale,
        file_bytes: bytes * scale,
        scale,
    }
}

fn fleet(saved: &SavedReport, request: &PlanRequest) -> Fleet {
    let (machine, machines, vcpus, memory, usd_per_hour, price_source) = match &request.fleet {
        FleetSpec::Machine { machine, machines } => (
            Some(machine.name.clone()),
            *machines,
            machine.vcpus,
            machine.memory_bytes,
            machine.usd_per_hour,
            machine.source.clone(),
        ),
        FleetSpec::Cores {
            cores,
            memory,
            machines,
            usd_per_vcpu_hour,
        } => {
            let vcpus = cores.unwrap_or(saved.run.threads as u32).max(1);
            let price = usd_per_vcpu_hour.unwrap_or(saved.cost.pricing.usd_per_vcpu_hour);
            let source = match usd_per_vcpu_hour {
                Some(_) => format!("{vcpus} vCPUs at ${price}/vCPU-hour (--usd-per-vcpu-hour)"),
                None => format!("{vcpus} vCPUs at the report's ${price}/vCPU-hour"),
            };
            let memory = memory.unwrap_or(2 * saved.run.memory_limit_bytes);
            (None, *machines, vcpus, memory, price * vcpus as f64, source)
        }
    };
    Fleet {
        machine,
        machines: machines.max(1),
        vcpus_per_machine: vcpus,
        memory_bytes_per_machine: memory,
        memory_limit_bytes: request.memory_limit.unwrap_or(memory / 2),
        usd_per_machine_hour: usd_per_hour,
        price_source,
    }
}

/// A step's figures for the profiled dataset, as the report gives them.
struct Basis<'a> {
    name: String,
    part: Part,
    cpu: Estimate,
    wall: Estimate,
    /// How its time grows with its input.
    exponent: f64,
    /// A stage's peak memory.
    memory: Option<Estimate>,
    /// A `minhash` stage's input rows, and what its memory and time depend on.
    near_dedup: Option<(Estimate, &'a SavedNearDedup)>,
}

/// The steps of the profiled run, whole-dataset figures: projected when it was a sample.
fn bases(saved: &SavedReport) -> Vec<Basis<'_>> {
    let (cpu, wall) = parts(saved);
    let part = |name: &str, part: Part, pick: fn(&ByPart<Estimate>) -> Estimate| Basis::<'_> {
        name: name.to_string(),
        part,
        cpu: pick(&cpu),
        wall: pick(&wall),
        exponent: 1.0,
        memory: None,
        near_dedup: None,
    };
    let mut steps = vec![part("scan", Part::Scan, |p| p.scan)];
    let mut rows_in = Estimate::exact(saved.storage.rows as f64);
    for stage in &saved.stages {
        let (basis, rows_out) = stage_basis(stage, rows_in);
        steps.push(basis);
        rows_in = rows_out;
    }
    if saved.tokens.is_some() {
        steps.push(part("counting tokens", Part::Tokens, |p| p.tokens));
    }
    if saved.output.is_some() {
        steps.push(part("output", Part::Output, |p| p.output));
    }
    steps.push(part("listing, footers and the rest", Part::Other, |p| {
        p.other
    }));
    steps
}

/// The run's CPU and wall seconds by part, for the whole dataset.
fn parts(saved: &SavedReport) -> (ByPart<Estimate>, ByPart<Estimate>) {
    match &saved.projected {
        Some(p) => (p.totals.run_cpu_by_part, p.totals.run_wall_by_part),
        None => {
            let exact = |p: &ByPart<f64>| ByPart {
                scan: Estimate::exact(p.scan),
                stages: Estimate::exact(p.stages),
                tokens: Estimate::exact(p.tokens),
                output: Estimate::exact(p.output),
                other: Estimate::exact(p.other),
            };
            (
                exact(&saved.totals.run_cpu_by_part),
                exact(&saved.totals.run_wall_by_part),
            )
        }
    }
}

/// A stage's basis given its input rows, and its output rows.
fn stage_basis(stage: &SavedStage, rows_in: Estimate) -> (Basis<'_>, Estimate) {
    let (cpu, wall, exponent, memory, rows_out) = match &stage.projected {
        Some(p) => (
            p.cpu_seconds,
            p.wall_seconds,
            p.time_exponent,
            p.peak_memory_bytes,
            p.rows_out,
        ),
        None => (
            Estimate::exact(stage.cpu_seconds),
            Estimate::exact(stage.wall_seconds),
            1.0,
            Estimate::exact(stage.peak_memory_bytes as f64),
            Estimate::exact(stage.rows_out as f64),
        ),
    };
    let basis = Basis {
        name: stage.name.clone(),
        part: Part::Stage,
        cpu,
        wall,
        exponent,
        memory: Some(memory),
        near_dedup: stage.near_dedup.as_ref().map(|n| (rows_in, n)),
    };
    (basis, rows_out)
}

/// A step on `fleet`, for a dataset `scale` times the profiled one that ran on `threads`.
fn step(basis: &Basis<'_>, threads: usize, scale: f64, fleet: &Fleet) -> PlanStep {
    // Listing, footers and loading the tokenizer grow with the files, not their size.
    let grow = |e: Estimate| match basis.part {
        Part::Other => e,
        _ => extend(e, scale, basis.exponent),
    };
    let (mut cpu, wall) = (grow(basis.cpu), grow(basis.wall));
    let efficiency = if basis.wall.value > 0.0 && basis.cpu.value > 0.0 {
        (basis.cpu.value / (basis.wall.value * threads.max(1) as f64)).clamp(0.0, 1.0)
    } else {
        1.0
    };
    let memory = basis.memory.map(|m| {
        let per_machine = extend(m, scale, 1.0).scaled(1.0 / fleet.machines as f64);
        let (memory, time) = fit(per_machine, basis, scale, fleet);
        cpu = cpu.scaled(time);
        memory
    });
    let wall = match basis.part {
        // Listing and footers run once, on one machine.
        Part::Other => wall,
        _ if efficiency > 0.0 => {
            cpu.scaled(1.0 / (fleet.machines as f64 * fleet.vcpus_per_machine as f64 * efficiency))
        }
        _ => wall,
    };
    PlanStep {
        name: basis.name.clone(),
        part: basis.part,
        cpu_seconds: cpu,
        wall_seconds: wall,
        parallel_efficiency: efficiency,
        memory,
    }
}

/// Whether a stage's memory on one machine fits the engine's limit there, and the factor its
/// time grows by (a `minhash` stage that needs more passes than it ran repeats its
/// signatures).
fn fit(peak: Estimate, basis: &Basis<'_>, scale: f64, fleet: &Fleet) -> (StepMemory, f64) {
    let limit = fleet.memory_limit_bytes as f64;
    let generic = StepMemory {
        peak_bytes: peak,
        fit: if peak.high <= limit {
            Fit::Fits
        } else if peak.value <= limit {
            Fit::MaySpill
        } else {
            Fit::Spills
        },
        passes: None,
        needs_bytes: None,
    };
    let Some((rows_in, near)) = basis.near_dedup else {
        return (generic, 1.0);
    };
    let rows = (rows_in.high * scale / fleet.machines as f64).ceil() as u64;
    let need = MemoryNeed::new(rows, near.verify_threshold.map(|_| 0));
    let fitting = match rows < u64::from(u32::MAX) {
        true => need.bands_fitting(fleet.memory_limit_bytes, near.bands),
        false => 0,
    };
    if fitting == 0 {
        let memory = StepMemory {
            fit: Fit::DoesNotFit,
            needs_bytes: Some(need.with_bands(1)),
            ..generic
        };
        return (memory, 1.0);
    }
    let passes = near.bands.div_ceil(fitting);
    let s = &near.seconds;
    let spent = s.signatures + s.clustering + s.report;
    let signatures = if spent > 0.0 {
        s.signatures / spent
    } else {
        0.0
    };
    let ran = near.memory.passes.max(1) as f64;
    let time = 1.0 - signatures + signatures * passes as f64 / ran;
    let memory = StepMemory {
        fit: if passes > 1 { Fit::Passes } else { generic.fit },
        passes: Some(passes as u64),
        ..generic
    };
    (memory, time)
}

fn totals(saved: &SavedReport, steps: &[PlanStep], scale: f64, fleet: &Fleet) -> PlanTotals {
    let sum = |pick: fn(&PlanStep) -> Estimate| {
        steps
            .iter()
            .map(pick)
            .fold(Estimate::exact(0.0), Estimate::plus)
    };
    let wall = sum(|s| s.wall_seconds);
    let cpu = sum(|s| s.cpu_seconds);
    let peak = steps
        .iter()
        .filter_map(|s| s.memory.map(|m| m.peak_bytes))
        .fold(Estimate::exact(0.0), |a, b| Estimate {
            value: a.value.max(b.value),
            low: a.low.max(b.low),
            high: a.high.max(b.high),
        });
    let (rows_out, tokens_out) = match &saved.projected {
        Some(p) => (p.totals.rows_out, p.tokens_out),
        None => (
            Estimate::exact(saved.totals.rows_out as f64),
            saved
                .tokens
                .as_ref()
                .map(|t| Estimate::exact(t.result.total as f64)),
        ),
    };
    PlanTotals {
        wall_seconds: wall,
        cpu_seconds: cpu,
        core_hours: cpu.scaled(1.0 / 3600.0),
        machine_hours: wall.scaled(fleet.machines as f64 / 3600.0),
        peak_memory_bytes: peak,
        rows_out: rows_out.scaled(scale),
        tokens_out: tokens_out.map(|t| t.scaled(scale)),
    }
}

fn cost(saved: &SavedReport, totals: &PlanTotals, scale: f64, fleet: &Fleet) -> PlanCost {
    let (requests, egress, text_in, text_out) = match &saved.projected {
        Some(p) => (
            p.requests_usd,
            p.egress_usd,
            p.totals.text_bytes_in.value,
            p.totals.text_bytes_out,
        ),
        None => (
            Estimate::exact(saved.cost.requests_usd),
            Estimate::exact(saved.cost.egress_usd),
            saved.totals.text_bytes_in as f64,
            Estimate::exact(saved.totals.text_bytes_out as f64),
        ),
    };
    let compute = totals.machine_hours.scaled(fleet.usd_per_machine_hour);
    let (requests, egress) = (requests.scaled(scale), egress.scaled(scale));
    let output_bytes = match &saved.output {
        Some(o) if o.rows > 0 => totals.rows_out.scaled(o.bytes as f64 / o.rows as f64),
        _ if text_in > 0.0 => text_out.scaled(saved.storage.file_bytes as f64 * scale / text_in),
        _ => Estimate::exact(0.0),
    };
    let usd_per_gb_month = saved.cost.pricing.usd_per_gb_month;
    PlanCost {
        compute_usd: compute,
        requests_usd: requests,
        egress_usd: egress,
        total_usd: compute.plus(requests).plus(egress),
        output_bytes,
        output_storage_usd_per_month: output_bytes.scaled(usd_per_gb_month / BYTES_PER_GB),
        usd_per_gb_month,
    }
}

/// What training `model` on the tokens the pipeline removes would cost, beside what the
/// preprocessing costs.
fn training(
    saved: &SavedReport,
    model: TrainingModel,
    scale: f64,
    preprocessing: Estimate,
) -> Result<TrainingReport, String> {
    let removed = match (&saved.projected, &saved.tokens) {
        (Some(p), _) => p.tokens_removed,
        (None, Some(t)) => Some(Estimate::exact(t.removed as f64)),
        (None, None) => None,
    }
    .ok_or("the report counted no tokens (profiled with --tokenizer none): a training budget needs them")?
    .scaled(scale);
    let flops = removed.scaled(6.0 * model.params);
    let gpu_hours = flops.scaled(1.0 / (model.gpu_flops * model.mfu * 3600.0));
    let usd = gpu_hours.scaled(model.gpu_hour_usd);
    let over = |x: f64, y: f64| if y > 0.0 { x / y } else { 0.0 };
    Ok(TrainingReport {
        model_params: model.params,
        gpu_flops: model.gpu_flops,
        mfu: model.mfu,
        gpu_hour_usd: model.gpu_hour_usd,
        tokens_removed: removed,
        flops,
        gpu_hours,
        usd,
        return_on_cleaning: Estimate {
            value: over(usd.value, preprocessing.value),
            low: over(usd.low, preprocessing.high),
            high: over(usd.high, preprocessing.low),
        },
    })
}

/// What the plan takes for granted, in words.
fn assumptions(
    saved: &SavedReport,
    request: &PlanRequest,
    target: &PlanTarget,
    fleet: &Fleet,
) -> Vec<String> {
    let mut said = vec![match &saved.sample {
        Some(s) => format!(
            "the whole dataset's figures are the report's projections from a {} sample of {} (seed {}), with their 95% intervals",
            s.mode, s.fraction, s.seed
        ),
        None => "the report measured a run of the whole dataset: its figures are exact for it"
            .to_string(),
    }];
    if target.scale != 1.0 {
        said.push(format!(
            "a dataset of {} rows ({}), {:.3}× the profiled one, of alike data: each stage's time grows as its input to the power the report fitted ({}), memory, requests and tokens in proportion; duplicates across a larger crawl usually grow faster than that",
            count(target.rows.round() as u64),
            format_size(target.file_bytes.round() as u64),
            target.scale,
            if saved.sample.is_some() { "its time_exponent" } else { "1, linear, for a full run's report" },
        ));
    }
    let cores = fleet.machines as usize * fleet.vcpus_per_machine as usize;
    if cores > saved.run.threads {
        said.push(format!(
            "each step keeps the parallel efficiency it showed on the profiled run's {} threads; on {cores} vCPUs a step may scale worse, so its wall time is a lower bound",
            saved.run.threads
        ));
    }
    if fleet.machines > 1 {
        said.push(format!(
            "over {} machines each holds and works on 1/{} of the data, as a distributed engine (Ballista) runs it; prepcost's local engine runs on one machine",
            fleet.machines, fleet.machines
        ));
    }
    if target.scale != 1.0 {
        said.push("listing the files, reading their footers and loading the tokenizer take as long as in the profiled run: they grow with the number of files, not their size".to_string());
    }
    said.push(format!(
        "the query engine may hold {} on each machine ({}); beyond it intermediates spill to local disk, and a minhash stage builds its band tables in more passes",
        format_size(fleet.memory_limit_bytes),
        if request.memory_limit.is_some() { "--memory-limit" } else { "half its memory, prepcost's default" }
    ));
    if saved.output.is_none() {
        said.push(
            "the output, not written by the profiled run, compresses like the source: its bytes are the source's in the proportion of text kept"
                .to_string(),
        );
    }
    said.push("machines are billed for the whole wall time; requests and egress as the profiled run made them, in proportion to the data".to_string());
    said
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A full run on 4 threads: scan 4 s CPU in 1.25 s, one stage 8 s in 2 s holding 1 GiB,
    /// a minhash stage of 14 bands, tokens 40 s in 10 s, 0.5 s of the rest.
    fn saved() -> SavedReport {
        let parts = |scan: f64, stages: f64, tokens: f64| json!({"scan": scan, "stages": stages, "tokens": tokens, "output": 0.0, "other": 0.5});
        let report = json!({
            "schema_version": 1, "command": "profile",
            "source": {"uri": "data/"},
            "storage": {"rows": 1_000_000, "file_bytes": 1_000_000_000u64},
            "stages": [
                {"name": "clean", "rows_in": 1_000_000, "rows_out": 900_000, "wall_seconds": 2.0,
                 "cpu_seconds": 8.0, "peak_memory_bytes": 1u64 << 30},
                {"name": "near_dedup", "rows_in": 900_000, "rows_out": 800_000, "wall_seconds": 2.0,
                 "cpu_seconds": 8.0, "peak_memory_bytes": 1u64 << 30,
                 "near_dedup": {"bands": 14, "verify_threshold": null, "memory": {"passes": 1},
                                "seconds": {"signatures": 1.5, "clustering": 0.5, "report": 0.0}}}
            ],
            "tokens": {"removed": 1_000_000_000, "result": {"total": 4_000_000_000u64}},
            "output": null,
            "totals": {"rows_out": 800_000, "text_bytes_in": 2_000_000_000u64,
                       "text_bytes_out": 1_500_000_000u64,
                       "run_cpu_by_part": parts(4.0, 16.0, 40.0),
                       "run_wall_by_part": parts(1.25, 4.0, 10.0)},
            "cost": {"requests_usd": 0.01, "egress_usd": 0.02,
                     "pricing": {"usd_per_vcpu_hour": 0.05, "usd_per_gb_month": 0.023}},
            "run": {"threads": 4, "memory_limit_bytes": 8u64 << 30},
            "sample": null, "projected": null
        });
        serde_json::from_value(report).unwrap()
    }

    fn request(fleet: FleetSpec) -> PlanRequest {
        PlanRequest {
            fleet,
            memory_limit: None,
            target: None,
            training: None,
        }
    }

    fn same_machine() -> FleetSpec {
        FleetSpec::Cores {
            cores: None,
            memory: None,
            machines: 1,
            usd_per_vcpu_hour: None,
        }
    }

    #[test]
    fn on_the_profiled_machine_the_plan_is_the_measured_run() {
        let plan = plan(&saved(), &request(same_machine())).unwrap();
        let names: Vec<&str> = plan.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "scan",
                "clean",
                "near_dedup",
                "counting tokens",
                "listing, footers and the rest"
            ]
        );
        assert_eq!(plan.totals.cpu_seconds, Estimate::exact(60.5));
        assert!((plan.totals.wall_seconds.value - 15.75).abs() < 1e-9);
        assert_eq!(plan.steps[0].parallel_efficiency, 0.8);
        assert_eq!(plan.fleet.memory_limit_bytes, 8 << 30);
        // 4 vCPUs at $0.05 for the wall time; requests and egress as measured.
        let compute = 15.75 / 3600.0 * 4.0 * 0.05;
        assert!((plan.cost.total_usd.value - compute - 0.03).abs() < 1e-12);
        let memory = plan.steps[1].memory.unwrap();
        assert_eq!(memory.fit, Fit::Fits);
        assert_eq!(plan.steps[2].memory.unwrap().passes, Some(1));
    }

    #[test]
    fn a_fleet_divides_the_parallel_steps_and_the_memory() {
        let machine = Machine {
            name: "big".into(),
            vcpus: 8,
            memory_bytes: 64 << 30,
            usd_per_hour: 2.0,
            source: "test".into(),
        };
        let plan = plan(
            &saved(),
            &request(FleetSpec::Machine {
                machine,
                machines: 2,
            }),
        )
        .unwrap();
        // 16 vCPUs instead of 4: a quarter of the wall, but for the serial rest.
        let parallel = (15.75 - 0.5) / 4.0;
        assert!((plan.totals.wall_seconds.value - parallel - 0.5).abs() < 1e-9);
        assert_eq!(plan.totals.cpu_seconds.value, 60.5);
        let memory = plan.steps[1].memory.unwrap().peak_bytes;
        assert_eq!(memory, Estimate::exact((1u64 << 29) as f64));
        let hours = plan.totals.machine_hours.value;
        assert!((hours - plan.totals.wall_seconds.value * 2.0 / 3600.0).abs() < 1e-12);
        assert!((plan.cost.compute_usd.value - hours * 2.0).abs() < 1e-12);
    }

    #[test]
    fn a_larger_target_grows_time_and_minhash_passes() {
        let mut asked = request(same_machine());
        asked.target = Some(TargetSize::Rows(200_000_000));
        asked.memory_limit = Some(6 << 30);
        let plan = plan(&saved(), &asked).unwrap();
        assert_eq!(plan.target.scale, 200.0);
        let clean = &plan.steps[1];
        assert!((clean.cpu_seconds.value - 1600.0).abs() < 1e-6);
        assert!(clean.cpu_seconds.low < 1600.0 && clean.cpu_seconds.high > 1600.0);
        assert_eq!(clean.memory.unwrap().fit, Fit::Spills);
        // 180M rows: 2.18 GB of row index and union-find, band tables of 2.88 GB each: one
        // band per pass fits 6 GiB.
        let near = plan.steps[2].memory.unwrap();
        assert_eq!((near.fit, near.passes), (Fit::Passes, Some(14)));
        // Signatures (3/4 of the stage) are made once per pass.
        let grown = 1600.0 * (0.25 + 0.75 * 14.0);
        assert!((plan.steps[2].cpu_seconds.value - grown).abs() < 1e-6);
        assert_eq!(
            plan.steps[4].cpu_seconds,
            Estimate::exact(0.5),
            "the rest stays"
        );
        assert_eq!(plan.totals.rows_out, Estimate::exact(160_000_000.0));
    }

    #[test]
    fn the_training_budget_is_six_n_d() {
        let mut asked = request(same_machine());
        asked.training = Some(TrainingModel {
            params: 7e9,
            gpu_flops: 1e15,
            mfu: 0.5,
            gpu_hour_usd: 2.0,
        });
        let training = plan(&saved(), &asked).unwrap().training.unwrap();
        assert_eq!(training.flops.value, 6.0 * 7e9 * 1e9);
        let gpu_hours = 6.0 * 7e9 * 1e9 / 5e14 / 3600.0;
        assert!((training.gpu_hours.value - gpu_hours).abs() < 1e-9);
        assert!((training.usd.value - 2.0 * gpu_hours).abs() < 1e-9);
        let mut untokenized = saved();
        untokenized.tokens = None;
        let error = plan(&untokenized, &asked).unwrap_err();
        assert!(error.contains("--tokenizer none"), "{error}");
    }
}
