//! The `estimate` report for a terminal: what the plan is for, the fleet, each step's time
//! and memory, the totals, the money and the return on cleaning, and what it assumes.

use super::common::range;
use super::doc::{Doc, Grid, right_align_numbers, table};
use crate::model::estimate::{EstimateReport, Fit, Part, PlanStep, TrainingReport};
use crate::util::units::{count, format_size, seconds, usd};

pub fn render(report: &EstimateReport) -> Doc {
    let mut out = header(report);
    out.table(steps_table(&report.steps));
    out.push_str(&totals(report));
    if let Some(training) = &report.training {
        out.push_str(&training_line(training, report));
    }
    out.push_str("Assumptions:\n");
    for said in &report.assumptions {
        out.push_str(&format!("  - {said}\n"));
    }
    out
}

fn header(report: &EstimateReport) -> Doc {
    let b = &report.basis;
    let from = match &b.sample {
        Some(s) => format!("a {} sample of {} (seed {})", s.mode, s.fraction, s.seed),
        None => "a run of the whole dataset".to_string(),
    };
    let t = &report.target;
    let f = &report.fleet;
    let machine = f.machine.clone().unwrap_or_else(|| "machine".to_string());
    let mut out = Doc::new();
    out.title(format!(
        "Plan for {} (from {}: {from})",
        b.source_uri, b.report
    ));
    out.push_str(&format!(
        "Dataset: {} rows, {} on storage ({:.3}× the profiled one)\n\
         Fleet: {} × {machine} ({} vCPUs, {} memory, engine limit {} each) at {}/hour each ({})\n\n",
        count(t.rows.round() as u64),
        format_size(t.file_bytes.round() as u64),
        t.scale,
        f.machines,
        f.vcpus_per_machine,
        format_size(f.memory_bytes_per_machine),
        format_size(f.memory_limit_bytes),
        usd(f.usd_per_machine_hour),
        f.price_source,
    ));
    out
}

fn steps_table(steps: &[PlanStep]) -> Grid {
    let mut rows = table(&[
        "step",
        "cpu s",
        "wall s",
        "efficiency",
        "memory per machine",
        "memory",
    ]);
    for step in steps {
        let (memory, fit) = step.memory.map_or((String::new(), String::new()), |m| {
            let fit = match m.fit {
                Fit::Fits => "fits".to_string(),
                Fit::MaySpill => "may spill".to_string(),
                Fit::Spills => "spills to disk".to_string(),
                Fit::Passes => format!("{} passes", m.passes.unwrap_or(0)),
                Fit::DoesNotFit => format!(
                    "does not fit: needs {}",
                    format_size(m.needs_bytes.unwrap_or(0))
                ),
            };
            (range(m.peak_bytes, |x| format_size(x.round() as u64)), fit)
        });
        let efficiency = match step.part {
            Part::Other => "serial".to_string(),
            _ => format!("{:.0}%", step.parallel_efficiency * 100.0),
        };
        rows.add_row(vec![
            step.name.clone(),
            range(step.cpu_seconds, seconds),
            range(step.wall_seconds, seconds),
            efficiency,
            memory,
            fit,
        ]);
    }
    right_align_numbers(&mut rows, 1);
    rows
}

fn totals(report: &EstimateReport) -> String {
    let t = &report.totals;
    let c = &report.cost;
    let mut out = format!(
        "Total: {} s wall ({} hours), {} core-hours used, {} machine-hours billed; peak {} per machine; {} rows out",
        range(t.wall_seconds, seconds),
        range(t.wall_seconds, |s| seconds(s / 3600.0)),
        range(t.core_hours, seconds),
        range(t.machine_hours, seconds),
        range(t.peak_memory_bytes, |x| format_size(x.round() as u64)),
        range(t.rows_out, |x| count(x.round() as u64)),
    );
    if let Some(tokens) = t.tokens_out {
        out.push_str(&format!(
            ", {} tokens",
            range(tokens, |x| count(x.round() as u64))
        ));
    }
    out.push_str(&format!(
        "\nCost: {} = {} compute + {} requests + {} egress; the output ({}) costs {}/month to keep at ${}/GB-month\n",
        range(c.total_usd, usd),
        range(c.compute_usd, usd),
        range(c.requests_usd, usd),
        range(c.egress_usd, usd),
        range(c.output_bytes, |x| format_size(x.round() as u64)),
        range(c.output_storage_usd_per_month, usd),
        c.usd_per_gb_month,
    ));
    out
}

fn training_line(t: &TrainingReport, report: &EstimateReport) -> String {
    format!(
        "Return on cleaning: the {} tokens removed would take {} GPU-hours to train a {:e}-parameter model on \
         (6·N·D at {}% MFU of {:e} FLOP/s), {} at {}/GPU-hour: {}× the preprocessing's {}\n",
        range(t.tokens_removed, |x| format!("{x:.3e}")),
        range(t.gpu_hours, seconds),
        t.model_params,
        t.mfu * 100.0,
        t.gpu_flops,
        range(t.usd, usd),
        usd(t.gpu_hour_usd),
        range(t.return_on_cleaning, |x| format!("{x:.0}")),
        range(report.cost.total_usd, usd),
    )
}
