//! What the loader's runs mean: each run's row of the scaling table, speed-up against the
//! fewest workers, and whether the loader keeps up with the training job's token rate.

use super::run::Measured;
use crate::model::loader::{Basis, Percentiles, ScalingRow, Verdict};
use crate::util::percentile::nearest_rank;
use crate::util::units::ratio;

/// A target token rate and, when it was derived, how.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub tokens_per_s: f64,
    pub formula: Option<String>,
}

impl Target {
    /// The token rate that keeps `gpus` GPUs busy training a model of `params` parameters at
    /// `mfu` of `flops` peak FLOP/s each: training costs 6 FLOPs per parameter per token.
    pub fn from_gpus(gpus: f64, params: f64, mfu: f64, flops: f64) -> Self {
        let tokens_per_s = gpus * flops * mfu / (6.0 * params);
        Target {
            tokens_per_s,
            formula: Some(format!(
                "tokens/s = GPUs × peak FLOP/s × MFU / (6 × parameters) = {gpus} × {flops:e} × {mfu} / (6 × {params:e}) = {tokens_per_s:.0}"
            )),
        }
    }
}

/// Percentiles of `values` (any order); zeros when there are none.
pub fn percentiles(values: &[f64]) -> Percentiles {
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let at = |p| nearest_rank(&sorted, p).unwrap_or(0.0);
    Percentiles {
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
        max: at(1.0),
    }
}

/// Rates of one run; `fetched` is what the store served during it.
pub fn scaling_row(run: &Measured, fetched: u64, counts_tokens: bool, cores: usize) -> ScalingRow {
    let per_s = |n: u64| ratio(n as f64, run.wall_seconds);
    ScalingRow {
        workers: run.workers,
        rows: run.rows,
        wall_seconds: run.wall_seconds,
        rows_per_s: per_s(run.rows),
        bytes_per_s: per_s(fetched),
        decoded_bytes_per_s: per_s(run.decoded_bytes),
        tokens_per_s: counts_tokens.then(|| per_s(run.tokens)),
        time_to_first_batch_s: run.time_to_first_batch_seconds,
        batch_latency_p50_s: percentiles(&run.batch_latencies).p50,
        cpu_utilisation: ratio(run.cpu_seconds, run.wall_seconds * cores as f64),
        speedup: 1.0,
        efficiency: 1.0,
    }
}

/// Fills in speed-up and efficiency against the row with the fewest workers.
pub fn relate_to_fewest(rows: &mut [ScalingRow]) {
    let Some(base) = rows.iter().min_by_key(|r| r.workers).cloned() else {
        return;
    };
    for row in rows {
        row.speedup = ratio(row.rows_per_s, base.rows_per_s);
        row.efficiency = ratio(row.speedup, row.workers as f64 / base.workers as f64);
    }
}

/// Judges the scaling table against `target`; `None` without token rates.
pub fn verdict(rows: &[ScalingRow], target: &Target) -> Option<Verdict> {
    let best = rows
        .iter()
        .filter_map(|r| Some((r, r.tokens_per_s?)))
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let (best_row, measured) = best;
    let needed = target.tokens_per_s;
    let fewest = rows.iter().min_by_key(|r| r.workers)?;
    let workers_for = |row: &ScalingRow| {
        let per_worker = row.tokens_per_s.unwrap_or(0.0) / row.workers as f64;
        if per_worker > 0.0 {
            ((needed / per_worker).ceil().max(1.0)).min(u64::MAX as f64) as u64
        } else {
            u64::MAX
        }
    };
    let reached = rows
        .iter()
        .filter(|r| r.tokens_per_s.is_some_and(|t| t >= needed))
        .min_by_key(|r| r.workers);
    let (workers_needed, basis) = match reached {
        // Fewer workers than any run had may do: scale the fewest's rate down.
        Some(row) if row.workers == fewest.workers && workers_for(fewest) < row.workers as u64 => {
            (workers_for(fewest), Basis::Extrapolated)
        }
        Some(row) => (row.workers as u64, Basis::Measured),
        None => (workers_for(best_row), Basis::Extrapolated),
    };
    let keeps_up = measured >= needed;
    let headroom = ratio(measured, needed);
    let how = match basis {
        Basis::Measured => "measured",
        Basis::Extrapolated => "extrapolated linearly from the rate per worker",
    };
    let summary = if keeps_up {
        format!(
            "keeps up: {measured:.0} tokens/s with {} workers is {headroom:.2}× the {needed:.0} tokens/s needed; {workers_needed} worker(s) suffice ({how})",
            best_row.workers
        )
    } else {
        format!(
            "falls short: {measured:.0} tokens/s with {} workers is {headroom:.2}× the {needed:.0} tokens/s needed; about {workers_needed} workers would keep up ({how}: {:.0} tokens/s per worker)",
            best_row.workers,
            measured / best_row.workers as f64
        )
    };
    Some(Verdict {
        target_tokens_per_s: needed,
        formula: target.formula.clone(),
        measured_tokens_per_s: measured,
        keeps_up,
        headroom,
        workers_needed,
        workers_needed_basis: basis,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(workers: usize, tokens_per_s: f64) -> ScalingRow {
        ScalingRow {
            workers,
            rows: 0,
            wall_seconds: 1.0,
            rows_per_s: tokens_per_s / 100.0,
            bytes_per_s: 0.0,
            decoded_bytes_per_s: 0.0,
            tokens_per_s: Some(tokens_per_s),
            time_to_first_batch_s: 0.0,
            batch_latency_p50_s: 0.0,
            cpu_utilisation: 0.0,
            speedup: 1.0,
            efficiency: 1.0,
        }
    }

    #[test]
    fn the_six_n_d_rule_gives_the_target() {
        // 64 H100s (989 TFLOP/s dense BF16) at 40% MFU training a 7B model.
        let target = Target::from_gpus(64.0, 7e9, 0.4, 989e12);
        let expected = 64.0 * 989e12 * 0.4 / (6.0 * 7e9);
        assert!((target.tokens_per_s - expected).abs() < 1e-6);
        assert!(target.formula.unwrap().ends_with("= 602819"));
    }

    #[test]
    fn speedup_and_efficiency_are_against_the_fewest_workers() {
        let mut rows = vec![row(1, 100.0), row(2, 180.0), row(4, 200.0)];
        relate_to_fewest(&mut rows);
        assert_eq!(rows[1].speedup, 1.8);
        assert_eq!(rows[1].efficiency, 0.9);
        assert_eq!(rows[2].efficiency, 0.5);
    }

    #[test]
    fn the_verdict_names_measured_or_extrapolated_workers() {
        let rows = vec![row(1, 100.0), row(2, 180.0), row(4, 300.0)];
        let target = |t| Target {
            tokens_per_s: t,
            formula: None,
        };
        let met = verdict(&rows, &target(150.0)).unwrap();
        assert!(met.keeps_up);
        assert_eq!(
            (met.workers_needed, met.workers_needed_basis),
            (2, Basis::Measured)
        );
        assert_eq!(met.headroom, 2.0);
        let short = verdict(&rows, &target(1000.0)).unwrap();
        assert!(!short.keeps_up);
        // 300 tokens/s from 4 workers is 75 per worker: 1000 needs 14.
        assert_eq!(
            (short.workers_needed, short.workers_needed_basis),
            (14, Basis::Extrapolated)
        );
        let mut untokenized = rows.clone();
        untokenized.iter_mut().for_each(|r| r.tokens_per_s = None);
        assert!(verdict(&untokenized, &target(1.0)).is_none());
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let p = percentiles(&values);
        assert_eq!((p.p50, p.p95, p.p99, p.max), (50.0, 95.0, 99.0, 100.0));
        assert_eq!(percentiles(&[]), Percentiles::default());
    }
}
