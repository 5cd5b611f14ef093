//! What `prepcost loader` found: the loader's rates at each worker count, and whether it
//! keeps up with the training job's token rate.

use serde::Serialize;

use super::{nearest_rank, ratio};
use crate::cost::RequestPricing;
use crate::loader::Measured;
use crate::storage::instrumented::RequestStats;

/// The `loader` report.
#[derive(Debug, Clone, Serialize)]
pub struct LoaderReport {
    pub schema_version: u32,
    pub command: &'static str,
    pub prepcost_version: &'static str,
    pub source: LoaderSource,
    pub settings: LoaderSettings,
    pub loader: LoaderFigures,
    /// Requests of every run together, listing and footers included.
    pub requests: RequestStats,
    pub cost: RequestCost,
    pub run: LoaderRun,
}

/// What the runs' requests and egress cost.
#[derive(Debug, Clone, Serialize)]
pub struct RequestCost {
    pub requests_usd: f64,
    pub egress_usd: f64,
    pub request_pricing: RequestPricing,
}

impl RequestCost {
    pub fn of(requests: &RequestStats, prices: RequestPricing) -> Self {
        RequestCost {
            requests_usd: prices.requests_usd(requests),
            egress_usd: prices.egress_usd(requests),
            request_pricing: prices,
        }
    }
}

/// The conditions of the whole command.
#[derive(Debug, Clone, Serialize)]
pub struct LoaderRun {
    pub cores: usize,
    /// Every run together, listing and footers included.
    pub wall_seconds: f64,
}

/// The dataset as the loader reads it.
#[derive(Debug, Clone, Serialize)]
pub struct LoaderSource {
    pub uri: String,
    pub files: u64,
    pub row_groups: u64,
    pub rows: u64,
    /// The columns read (top-level).
    pub columns: Vec<String>,
    /// The column the tokenizer reads, when tokens are counted.
    pub text_column: Option<String>,
    /// `cl100k_base`, `o200k_base`, a `tokenizer.json` path, or `none`.
    pub tokenizer: String,
    /// Compressed bytes of the column chunks read in one epoch.
    pub projected_compressed_bytes: u64,
}

/// How the loader read.
#[derive(Debug, Clone, Serialize)]
pub struct LoaderSettings {
    pub batch_size: usize,
    /// The worker counts run, one run each.
    pub workers: Vec<usize>,
    /// Row groups fetched ahead per worker.
    pub prefetch: usize,
    pub shuffle: bool,
    pub shuffle_buffer_rows: Option<usize>,
    pub seed: Option<u64>,
    pub epochs: u32,
    pub limit_rows: Option<u64>,
    pub limit_seconds: Option<f64>,
}

/// The run at the largest worker count, with the scaling table and the verdict.
#[derive(Debug, Clone, Serialize)]
pub struct LoaderFigures {
    pub workers: usize,
    pub rows: u64,
    pub batches: u64,
    /// Tokens of the rows delivered; `null` without a tokenizer.
    pub tokens_total: Option<u64>,
    /// Bytes fetched from storage (compressed column chunks, footers included).
    pub bytes_fetched: u64,
    /// Bytes of the decoded Arrow arrays.
    pub decoded_bytes: u64,
    pub wall_seconds: f64,
    pub cpu_seconds: f64,
    pub rows_per_s: f64,
    /// `bytes_fetched / wall_seconds`.
    pub bytes_per_s: f64,
    pub decoded_bytes_per_s: f64,
    pub tokens_per_s: Option<f64>,
    /// From the start (listing and footers included) to the first batch.
    pub time_to_first_batch_s: f64,
    /// Time the training loop waited for each batch after the first.
    pub batch_latency_s: Percentiles,
    /// CPU time over wall time × the machine's cores.
    pub cpu_utilisation: f64,
    /// True when `--limit` stopped the run before its epochs were done.
    pub limited: bool,
    /// One row per worker count, in increasing order.
    pub scaling: Vec<ScalingRow>,
    /// Present when a target rate was given.
    pub verdict: Option<Verdict>,
}

/// Nearest-rank percentiles, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

/// One run of a scaling table.
#[derive(Debug, Clone, Serialize)]
pub struct ScalingRow {
    pub workers: usize,
    pub rows: u64,
    pub wall_seconds: f64,
    pub rows_per_s: f64,
    pub bytes_per_s: f64,
    pub decoded_bytes_per_s: f64,
    pub tokens_per_s: Option<f64>,
    pub time_to_first_batch_s: f64,
    pub batch_latency_p50_s: f64,
    pub cpu_utilisation: f64,
    /// rows/s over that of the fewest workers.
    pub speedup: f64,
    /// `speedup / (workers / fewest workers)`.
    pub efficiency: f64,
}

/// Whether the loader feeds the training job.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub target_tokens_per_s: f64,
    /// How the target was derived, when it was: the 6·N·D rule with the numbers put in.
    pub formula: Option<String>,
    pub measured_tokens_per_s: f64,
    pub keeps_up: bool,
    /// Measured over target: above 1 is headroom, below 1 a shortfall.
    pub headroom: f64,
    /// The fewest workers that reach the target.
    pub workers_needed: u64,
    /// `measured` when a run with that many workers reached the target; `extrapolated` when
    /// the number comes from a run's rate per worker, assuming linear scaling (upward from the
    /// best run when none reached the target, downward from the fewest workers run when even
    /// that one had room to spare).
    pub workers_needed_basis: &'static str,
    /// The verdict in one sentence.
    pub summary: String,
}

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

impl Percentiles {
    /// Percentiles of `values` (any order); zeros when there are none.
    pub fn of(values: &[f64]) -> Self {
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
        batch_latency_p50_s: Percentiles::of(&run.batch_latencies).p50,
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
            (workers_for(fewest), "extrapolated")
        }
        Some(row) => (row.workers as u64, "measured"),
        None => (workers_for(best_row), "extrapolated"),
    };
    let keeps_up = measured >= needed;
    let headroom = ratio(measured, needed);
    let how = if basis == "measured" {
        "measured".to_string()
    } else {
        "extrapolated linearly from the rate per worker".to_string()
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
            (2, "measured")
        );
        assert_eq!(met.headroom, 2.0);
        let short = verdict(&rows, &target(1000.0)).unwrap();
        assert!(!short.keeps_up);
        // 300 tokens/s from 4 workers is 75 per worker: 1000 needs 14.
        assert_eq!(
            (short.workers_needed, short.workers_needed_basis),
            (14, "extrapolated")
        );
        let mut untokenized = rows.clone();
        untokenized.iter_mut().for_each(|r| r.tokens_per_s = None);
        assert!(verdict(&untokenized, &target(1.0)).is_none());
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let p = Percentiles::of(&values);
        assert_eq!((p.p50, p.p95, p.p99, p.max), (50.0, 95.0, 99.0, 100.0));
        assert_eq!(Percentiles::of(&[]), Percentiles::default());
    }
}
