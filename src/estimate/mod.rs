//! Projections from a sample: every figure a sampled `profile` measured, taken to the whole
//! dataset with a 95% interval — rows, text and tokens by the ratio estimator over the
//! sampling units, time and memory in proportion to each step's input.

pub mod calibration;
pub mod fit;
pub mod plan;
pub mod ratio;
pub mod saved;
pub mod tally;

use std::time::Instant;

use crate::engine::{Intermediate, Session};
use crate::error::Result;
use crate::model::profile::{
    ByPart, Estimate, GrowthModel, ProfileReport, ProjectedReport, ProjectedTotals, SampleReport,
    StageProjection,
};
use crate::source::SampleUnits;
use crate::source::sampling::{SampleMode, SamplePlan};
use crate::util::resources;
use calibration::{Calibration, Point};
use fit::{Fit, Model};
use ratio::{Design, ratio_total};
pub use tally::{Tally, tally};

/// How time and memory are projected, as the report says it.
const COST_MODEL: &str = "with one sample size, each step's CPU time grows as a power of its \
input text bytes, the exponent fitted to the sample and a nested quarter of it (kept within \
0.85-1.1: a small sample's fixed costs and warm-up would otherwise pass for slow growth), and \
its own memory linearly; with several (--sample a,b,...), the smaller ones run nested in the \
largest and each step's CPU time and own memory take the model (linear, n log n, or a power \
within 0.85-1.1) that fits them best in log space, the power law's second parameter counted \
against it (Mallows's Cp at 15% noise); time_model and memory_model say which. The interval \
spans exponents from 0.15 below the model's or linear growth, whichever is lower, to 0.05 \
above the higher, at the ends of the input's interval: fixed costs and warm-up make small \
samples slow, and a shared machine's run-to-run noise is about 20%. Wall time is CPU time \
over the step's parallelism (the threads, unless the sampled step ran long enough to show \
its own); the scan grows with the bytes it reads. A step's peak memory is the step before's \
result, held whole (the scan's: what its row groups decode to; within 10%), plus its own \
memory, growing with its input (the interval as for time)";

/// Bounds of a fitted time exponent: a sample's noise must not make a step free or explode.
const EXPONENT_RANGE: (f64, f64) = (0.85, 1.1);
/// How far an interval's exponents reach below and above the fit (and linear growth).
const EXPONENT_MARGIN: (f64, f64) = (0.15, 0.05);
/// How far a held result's memory may be from its projection.
const HELD_MARGIN: f64 = 0.1;
/// A sampled step shorter than this shows fixed costs more than its parallelism.
const STEADY_WALL_SECONDS: f64 = 0.5;

/// Tallies a sampled run's results per unit as they are made — the scan's first, then each
/// stage's — and times itself: that work is the sample's own, not the full run's.
pub struct Tallier {
    units: SampleUnits,
    tallies: Vec<Tally>,
    /// Wall and CPU seconds spent tallying.
    seconds: (f64, f64),
}

impl Tallier {
    pub fn new(units: SampleUnits) -> Self {
        Tallier {
            units,
            tallies: Vec::new(),
            seconds: (0.0, 0.0),
        }
    }

    /// Tallies the next result.
    pub async fn add(
        &mut self,
        session: &Session,
        result: &Intermediate,
        text_column: &str,
    ) -> Result<()> {
        let (wall, cpu) = (Instant::now(), resources::cpu_time());
        let tallied = tally(session, result, text_column, &self.units).await?;
        self.tallies.push(tallied);
        self.seconds.0 += wall.elapsed().as_secs_f64();
        self.seconds.1 += resources::cpu_time().saturating_sub(cpu).as_secs_f64();
        Ok(())
    }
}

/// What a sampled run saw: its plan, and the per-unit tallies of the scan and of every
/// stage's result.
pub struct SampleRun {
    pub plan: SamplePlan,
    pub source: Tally,
    pub stages: Vec<Tally>,
    /// Bytes on storage of the row groups read, and of all of them (from the footers).
    pub bytes_read: u64,
    pub dataset_bytes: u64,
    pub dataset_rows: u64,
    /// Wall and CPU seconds spent tallying: the sample's own work, not projected.
    pub tally_seconds: (f64, f64),
    /// The nested sample's time per step.
    pub calibration: Calibration,
    /// Memory the row groups read held once decoded, before rows were sampled inside them.
    pub decoded_bytes: u64,
}

impl SampleRun {
    /// The run of `plan` whose results `tallier` tallied, after the nested `calibration`;
    /// `bytes_read` of `dataset_bytes` on storage were read, decoded into `decoded_bytes`, and
    /// the dataset has `dataset_rows` rows.
    pub fn new(
        plan: SamplePlan,
        (tallier, calibration): (Tallier, Calibration),
        bytes: (u64, u64),
        dataset_rows: u64,
        decoded_bytes: u64,
    ) -> Self {
        let mut tallies = tallier.tallies.into_iter();
        let source = tallies.next().unwrap_or_default();
        SampleRun {
            plan,
            source,
            stages: tallies.collect(),
            bytes_read: bytes.0,
            dataset_bytes: bytes.1,
            dataset_rows,
            tally_seconds: tallier.seconds,
            calibration,
            decoded_bytes,
        }
    }
}

/// The sample's description, each stage's projection and the run's.
pub struct Projection {
    pub sample: SampleReport,
    pub stages: Vec<StageProjection>,
    pub projected: ProjectedReport,
}

/// Projects the figures of `report`, measured on the sample `run`, to the whole dataset.
pub fn project(run: &SampleRun, report: &ProfileReport) -> Projection {
    let p = Projector::new(run);
    let mut input = &run.source;
    let mut stages = Vec::with_capacity(run.stages.len());
    let threads = report.run.threads as f64;
    // What the step before held (its result), projected and as the sample measured it.
    let mut previous = p.scan_result();
    let mut previous_sampled = report.scan.result_bytes;
    for (i, (tally, measured)) in run.stages.iter().zip(&report.stages).enumerate() {
        let bytes_in = p.total(|u| input.text_bytes[u] as f64);
        // The stage's peak: its input, held whole, and its own memory, growing with it.
        let at = Point {
            input_bytes: measured.text_bytes_in as f64,
            wall_seconds: measured.wall_seconds,
            cpu_seconds: measured.cpu_seconds,
            working_bytes: measured.peak_memory_bytes.saturating_sub(previous_sampled) as f64,
        };
        let nested = run.calibration.points(|n| n.stages.get(i).copied());
        let curve = Curve::fit(&nested, at, threads, run.calibration.chosen_sizes);
        let text_bytes_out = p.total(|u| tally.text_bytes[u] as f64);
        stages.push(StageProjection {
            rows_out: p.total(|u| tally.rows[u] as f64),
            rows_dropped: p.total(|u| input.rows[u].saturating_sub(tally.rows[u]) as f64),
            text_bytes_out,
            wall_seconds: curve.wall(bytes_in),
            cpu_seconds: curve.cpu(bytes_in),
            time_exponent: curve.time.model.exponent(at.input_bytes, bytes_in.value),
            time_model: curve.report(curve.time, bytes_in),
            memory_model: curve.report(curve.memory, bytes_in),
            peak_memory_bytes: held(previous).plus(curve.memory(bytes_in)),
            tokens_out: tally.tokens.as_ref().map(|t| p.total(|u| t[u] as f64)),
        });
        previous = linear(
            measured.result_bytes as f64,
            text_bytes_out,
            measured.text_bytes_out as f64,
        );
        previous_sampled = measured.result_bytes;
        input = tally;
    }
    let tokens_shift = p.correct_near_duplicates(report, &mut stages);
    let mut projected = p.run(report, &stages);
    projected.tokens_removed = projected.tokens_removed.map(|t| t.plus(tokens_shift));
    Projection {
        sample: p.sample_report(report),
        stages,
        projected,
    }
}

/// The design of a sample, and the ratio estimator over its units.
struct Projector<'a> {
    run: &'a SampleRun,
    design: Design,
    /// The units that hold rows of the sample: each one's source rows.
    units: Vec<(usize, f64)>,
}

impl<'a> Projector<'a> {
    fn new(run: &'a SampleRun) -> Self {
        let design = match run.plan.mode {
            SampleMode::RowGroups {
                sampled,
                row_groups,
            } => Design::WithoutReplacement {
                sampled,
                units: row_groups,
            },
            SampleMode::Rows | SampleMode::Content | SampleMode::MinHash => Design::Bernoulli {
                fraction: run.plan.spec.fraction,
            },
        };
        let units = (0..run.source.rows.len())
            .map(|u| (u, run.source.rows[u] as f64))
            .collect();
        Projector { run, design, units }
    }

    /// The whole dataset's total of the per-unit figure `y`.
    fn total(&self, y: impl Fn(usize) -> f64) -> Estimate {
        let pairs: Vec<(f64, f64)> = self.units.iter().map(|&(u, x)| (x, y(u))).collect();
        ratio_total(&pairs, self.run.dataset_rows as f64, self.design)
    }

    /// What the full scan holds: what the sample's row groups held once decoded, for every
    /// row group.
    fn scan_result(&self) -> Estimate {
        Estimate::exact(self.run.decoded_bytes as f64 * self.read_factor())
    }

    /// How much more the full scan reads than the sample's.
    fn read_factor(&self) -> f64 {
        match self.run.plan.mode {
            SampleMode::RowGroups { .. } if self.run.bytes_read > 0 => {
                self.run.dataset_bytes as f64 / self.run.bytes_read as f64
            }
            _ => 1.0,
        }
    }

    fn run(&self, report: &ProfileReport, stages: &[StageProjection]) -> ProjectedReport {
        let source_bytes = self.total(|u| self.run.source.text_bytes[u] as f64);
        let result_bytes = stages.last().map_or(source_bytes, |s| s.text_bytes_out);
        let times = self.times(report, stages, (source_bytes, result_bytes));
        let peak =
            stages
                .iter()
                .map(|s| s.peak_memory_bytes)
                .fold(held(self.scan_result()), |a, b| Estimate {
                    value: a.value.max(b.value),
                    low: a.low.max(b.low),
                    high: a.high.max(b.high),
                });
        let requests_usd = Estimate::exact(report.cost.requests_usd * self.read_factor());
        let egress_usd = Estimate::exact(report.cost.egress_usd * self.read_factor());
        let pricing = &report.cost.pricing;
        let run_cpu = whole(&times.cpu_by_part);
        ProjectedReport {
            totals: ProjectedTotals {
                rows_in: Estimate::exact(self.run.dataset_rows as f64),
                rows_out: stages.last().map_or_else(
                    || Estimate::exact(self.run.dataset_rows as f64),
                    |s| s.rows_out,
                ),
                text_bytes_in: source_bytes,
                text_bytes_out: result_bytes,
                wall_seconds: steps(&times.wall_by_part),
                cpu_seconds: steps(&times.cpu_by_part),
                run_wall_seconds: whole(&times.wall_by_part),
                run_cpu_seconds: run_cpu,
                run_cpu_by_part: times.cpu_by_part,
                run_wall_by_part: times.wall_by_part,
                peak_memory_bytes: peak,
            },
            tokens_out: stages.last().and_then(|s| s.tokens_out).or_else(|| {
                self.run
                    .source
                    .tokens
                    .as_ref()
                    .map(|t| self.total(|u| t[u] as f64))
            }),
            tokens_removed: self.tokens_removed(),
            exact_duplicates: self.dropped_by(report, |s| s.origin == "queries/dedup_exact.sql"),
            near_duplicates: self
                .dropped_by(report, |s| s.near_dedup.is_some())
                .map(|e| self.near_duplicates(e, report)),
            cost_usd: Estimate {
                value: pricing.compute_usd(run_cpu.value),
                low: pricing.compute_usd(run_cpu.low),
                high: pricing.compute_usd(run_cpu.high),
            }
            .plus(requests_usd)
            .plus(egress_usd),
            requests_usd,
            egress_usd,
            cost_model: COST_MODEL.to_string(),
        }
    }

    /// The run's time: its steps', counting tokens, and the rest (listing, footers), which
    /// does not grow; the sample's own work (the nested run, the tallies) is left out.
    fn times(
        &self,
        report: &ProfileReport,
        stages: &[StageProjection],
        (source_bytes, result_bytes): (Estimate, Estimate),
    ) -> Times {
        let factor = self.read_factor();
        let scan = (
            report.scan.wall_seconds * factor,
            report.scan.cpu_seconds * factor,
        );
        let output =
            report
                .output
                .as_ref()
                .map_or((Estimate::exact(0.0), Estimate::exact(0.0)), |o| {
                    let measured = report.totals.text_bytes_out as f64;
                    let scale = |x| linear(x, result_bytes, measured);
                    (scale(o.wall_seconds), scale(o.cpu_seconds))
                });
        let tokens = report.tokens.as_ref().map_or(Default::default(), |t| {
            let at = Point {
                input_bytes: report.source.text_bytes as f64,
                wall_seconds: t.wall_seconds,
                cpu_seconds: t.cpu_seconds,
                working_bytes: 0.0,
            };
            let calibration = &self.run.calibration;
            let nested = calibration.points(|n| n.tokens);
            let threads = report.run.threads as f64;
            let curve = Curve::fit(&nested, at, threads, calibration.chosen_sizes);
            (
                (t.wall_seconds, t.cpu_seconds),
                (curve.wall(source_bytes), curve.cpu(source_bytes)),
            )
        });
        let sum = |pick: fn(&StageProjection) -> Estimate| {
            stages
                .iter()
                .map(pick)
                .fold(Estimate::exact(0.0), Estimate::plus)
        };
        let (stages_wall, stages_cpu) = (sum(|s| s.wall_seconds), sum(|s| s.cpu_seconds));
        let totals = &report.totals;
        let own = self.run.tally_seconds;
        let nested = self.run.calibration.seconds;
        let other = |run: f64, steps: f64, own: f64, counting: f64| {
            Estimate::exact((run - steps - own - counting).max(0.0))
        };
        let wall_by_part = ByPart {
            scan: Estimate::exact(scan.0),
            stages: stages_wall,
            tokens: tokens.1.0,
            output: output.0,
            other: other(
                totals.run_wall_seconds,
                totals.wall_seconds,
                own.0 + nested.0,
                tokens.0.0,
            ),
        };
        let cpu_by_part = ByPart {
            scan: Estimate::exact(scan.1),
            stages: stages_cpu,
            tokens: tokens.1.1,
            output: output.1,
            other: other(
                totals.run_cpu_seconds,
                totals.cpu_seconds,
                own.1 + nested.1,
                tokens.0.1,
            ),
        };
        Times {
            wall_by_part,
            cpu_by_part,
        }
    }

    /// The near duplicates of a MinHash sample, corrected for the pairs it split: a removed
    /// text of similarity J to its cluster's kept one is in the sample with it with
    /// probability about J (exactly J + (1 − J)·f), so the sample sees about J of each.
    fn near_duplicates(&self, sampled: Estimate, report: &ProfileReport) -> Estimate {
        match (self.run.plan.mode, similarity(report)) {
            (SampleMode::MinHash, Some((median, p10))) if median > 0.0 && p10 > 0.0 => Estimate {
                value: sampled.value / median,
                low: sampled.low,
                high: sampled.high / p10,
            },
            _ => sampled,
        }
    }

    /// In a MinHash sample, each near-dedup stage's dropped rows corrected as
    /// [`Self::near_duplicates`] corrects them, and the rows, text and tokens of its result
    /// and every later one's lowered to match; returns how many more tokens the pipeline
    /// removes then.
    fn correct_near_duplicates(
        &self,
        report: &ProfileReport,
        stages: &mut [StageProjection],
    ) -> Estimate {
        let mut tokens_shift = Estimate::exact(0.0);
        if self.run.plan.mode != SampleMode::MinHash {
            return tokens_shift;
        }
        for i in 0..stages.len() {
            let rows = stages[i].rows_out.value;
            if report.stages[i].near_dedup.is_none() || rows <= 0.0 {
                continue;
            }
            let dropped = stages[i].rows_dropped;
            let corrected = self.near_duplicates(dropped, report);
            // The share of the stage's sampled result that a full run removes as well.
            let share = Estimate {
                value: (corrected.value - dropped.value) / rows,
                low: 0.0,
                high: (corrected.high - dropped.value).max(0.0) / rows,
            };
            stages[i].rows_dropped = corrected;
            let before = stages.last().and_then(|s| s.tokens_out);
            for later in &mut stages[i..] {
                later.rows_out = without(later.rows_out, share);
                later.text_bytes_out = without(later.text_bytes_out, share);
                later.tokens_out = later.tokens_out.map(|t| without(t, share));
            }
            let after = stages.last().and_then(|s| s.tokens_out);
            if let (Some(b), Some(a)) = (before, after) {
                tokens_shift = tokens_shift.plus(Estimate {
                    value: b.value - a.value,
                    low: b.high - a.high,
                    high: b.low - a.low,
                });
            }
        }
        tokens_shift
    }

    /// Tokens of the source minus those of the pipeline's result.
    fn tokens_removed(&self) -> Option<Estimate> {
        let source = self.run.source.tokens.as_ref()?;
        let result = match self.run.stages.last() {
            Some(last) => last.tokens.as_ref()?,
            None => source,
        };
        Some(self.total(|u| source[u] as f64 - result[u] as f64))
    }

    /// Rows dropped by the stages `which` picks, together; absent when it picks none.
    fn dropped_by(
        &self,
        report: &ProfileReport,
        which: impl Fn(&crate::model::profile::StageReport) -> bool,
    ) -> Option<Estimate> {
        let picked: Vec<usize> = (0..report.stages.len())
            .filter(|&i| which(&report.stages[i]))
            .collect();
        if picked.is_empty() {
            return None;
        }
        let rows_in = |i: usize, u: usize| match i {
            0 => self.run.source.rows[u],
            _ => self.run.stages[i - 1].rows[u],
        };
        Some(self.total(|u| {
            picked
                .iter()
                .map(|&i| rows_in(i, u).saturating_sub(self.run.stages[i].rows[u]) as f64)
                .sum()
        }))
    }

    fn sample_report(&self, report: &ProfileReport) -> SampleReport {
        let plan = &self.run.plan;
        let units = self.units.len();
        let interval = match plan.mode {
            SampleMode::RowGroups { row_groups, .. } => format!(
                "ratio estimator over {units} row groups drawn without replacement from \
                 {row_groups}; 95% normal interval"
            ),
            SampleMode::Rows => format!(
                "ratio estimator over {units} rows each kept with probability {}; 95% normal interval",
                plan.spec.fraction
            ),
            SampleMode::Content => format!(
                "ratio estimator over {units} groups of identical texts each kept with \
                 probability {}; 95% normal interval",
                plan.spec.fraction
            ),
            SampleMode::MinHash => format!(
                "ratio estimator over {units} groups of texts of one MinHash value each kept \
                 with probability {}; 95% normal interval",
                plan.spec.fraction
            ),
        };
        SampleReport {
            mode: plan.mode.name(),
            fraction: plan.spec.fraction,
            seed: plan.spec.seed,
            rows: report.source.rows,
            row_groups: plan.row_groups.len() as u64,
            bytes_read: self.run.bytes_read,
            units: units as u64,
            interval,
            notes: notes(plan, report),
        }
    }
}

/// A projected run's wall and CPU time by part.
struct Times {
    wall_by_part: ByPart<Estimate>,
    cpu_by_part: ByPart<Estimate>,
}

/// The steps' time (scan, stages, output), summed.
fn steps(p: &ByPart<Estimate>) -> Estimate {
    p.scan.plus(p.stages).plus(p.output)
}

/// The whole run's time.
fn whole(p: &ByPart<Estimate>) -> Estimate {
    steps(p).plus(p.tokens).plus(p.other)
}

/// How a step's CPU time and memory grow with its input, through the sample's point: with
/// sizes the user chose, the model that fits the nested samples' points and the sample's
/// best; otherwise CPU time as a power of the input through the nested quarter's point and
/// the sample's, memory linearly.
struct Curve {
    at: Point,
    time: Fit,
    memory: Fit,
    parallelism: f64,
}

impl Curve {
    fn fit(nested: &[Point], at: Point, threads: f64, chosen_sizes: bool) -> Self {
        let (time, memory) = if chosen_sizes {
            let points = |pick: fn(&Point) -> f64| -> Vec<(f64, f64)> {
                nested
                    .iter()
                    .chain([&at])
                    .map(|p| (p.input_bytes, pick(p)))
                    .collect()
            };
            (
                fit::choose(&points(|p| p.cpu_seconds), EXPONENT_RANGE),
                fit::choose(&points(|p| p.working_bytes), EXPONENT_RANGE),
            )
        } else {
            let linear = Fit {
                model: Model::Linear,
                rms_log_error: 0.0,
                points: 1,
            };
            (two_point_power(nested.first(), &at), linear)
        };
        let parallelism = if at.wall_seconds >= STEADY_WALL_SECONDS {
            (at.cpu_seconds / at.wall_seconds).clamp(1.0, threads.max(1.0))
        } else {
            threads.max(1.0)
        };
        Curve {
            at,
            time,
            memory,
            parallelism,
        }
    }

    /// CPU seconds for an input of `input` bytes (see [`grow`]).
    fn cpu(&self, input: Estimate) -> Estimate {
        let exponent = self.time.model.exponent(self.at.input_bytes, input.value);
        grow(self.at.cpu_seconds, self.at.input_bytes, exponent, input)
    }

    fn wall(&self, input: Estimate) -> Estimate {
        self.cpu(input).scaled(1.0 / self.parallelism)
    }

    /// The step's own memory (beyond its input) for an input of `input` bytes.
    fn memory(&self, input: Estimate) -> Estimate {
        let exponent = self.memory.model.exponent(self.at.input_bytes, input.value);
        grow(self.at.working_bytes, self.at.input_bytes, exponent, input)
    }

    /// `fit` as the report gives it, for a projection to `input` bytes.
    fn report(&self, fit: Fit, input: Estimate) -> GrowthModel {
        GrowthModel {
            model: fit.model.name(),
            exponent: fit.model.exponent(self.at.input_bytes, input.value),
            sizes: fit.points as u32,
            rms_log_error: (fit.points > 2).then_some(fit.rms_log_error),
        }
    }
}

/// CPU time as a power of the input through the nested sample's point and the sample's, the
/// exponent within [`EXPONENT_RANGE`]; linear without a nested point.
fn two_point_power(nested: Option<&Point>, at: &Point) -> Fit {
    let exponent = nested
        .filter(|n| n.input_bytes > 0.0 && at.input_bytes > n.input_bytes)
        .filter(|n| n.cpu_seconds > 0.0 && at.cpu_seconds > 0.0)
        .map(|n| (at.cpu_seconds / n.cpu_seconds).ln() / (at.input_bytes / n.input_bytes).ln())
        .filter(|b| b.is_finite());
    Fit {
        model: exponent.map_or(Model::Linear, |b| {
            Model::Power(b.clamp(EXPONENT_RANGE.0, EXPONENT_RANGE.1))
        }),
        rms_log_error: 0.0,
        points: 1 + usize::from(exponent.is_some()),
    }
}

/// `measured` on a sample whose input was `sampled_input` bytes, for an input of `input`
/// bytes, growing as `input^exponent`; the interval spans that curve and linear growth,
/// widened by [`EXPONENT_MARGIN`], at the ends of the input's interval.
fn grow(measured: f64, sampled_input: f64, exponent: f64, input: Estimate) -> Estimate {
    if sampled_input <= 0.0 {
        return Estimate::exact(measured);
    }
    let at = |bytes: f64, exponent: f64| measured * (bytes.max(0.0) / sampled_input).powf(exponent);
    let flattest = exponent.min(1.0) - EXPONENT_MARGIN.0;
    let steepest = exponent.max(1.0) + EXPONENT_MARGIN.1;
    let value = at(input.value, exponent);
    // Below the sample's size a flatter curve is the higher one.
    let ends = [
        at(input.low, flattest),
        at(input.low, steepest),
        at(input.high, flattest),
        at(input.high, steepest),
    ];
    Estimate {
        value,
        low: ends.iter().copied().fold(value, f64::min),
        high: ends.iter().copied().fold(value, f64::max),
    }
}

/// A whole-dataset figure `e` for a dataset `scale` times as large, growing as
/// `scale^exponent`; the interval's ends move with the flattest and steepest curves of
/// [`grow`].
pub fn extend(e: Estimate, scale: f64, exponent: f64) -> Estimate {
    let flattest = exponent.min(1.0) - EXPONENT_MARGIN.0;
    let steepest = exponent.max(1.0) + EXPONENT_MARGIN.1;
    let factors = [
        scale.powf(flattest),
        scale.powf(exponent),
        scale.powf(steepest),
    ];
    let (low, high) = factors
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), &f| (l.min(f), h.max(f)));
    Estimate {
        value: e.value * factors[1],
        low: (e.low * low).min(e.low * high),
        high: (e.high * high).max(e.high * low),
    }
}

/// `e` without `share` of it: the interval's low end without its high share, and its high end
/// without its low one.
fn without(e: Estimate, share: Estimate) -> Estimate {
    Estimate {
        value: e.value * (1.0 - share.value),
        low: e.low * (1.0 - share.high),
        high: e.high * (1.0 - share.low),
    }
}

/// A result's memory as projected, widened by [`HELD_MARGIN`]: how decoded pages and batches
/// fall, and which buffers are shared, move it by a few percent.
fn held(result: Estimate) -> Estimate {
    Estimate {
        low: result.low * (1.0 - HELD_MARGIN),
        high: result.high * (1.0 + HELD_MARGIN),
        ..result
    }
}

/// `measured` on a sample whose input was `sampled_input`, for an input of `input`.
fn linear(measured: f64, input: Estimate, sampled_input: f64) -> Estimate {
    if sampled_input > 0.0 {
        input.scaled(measured / sampled_input)
    } else {
        Estimate::exact(measured)
    }
}

/// The median and 10th percentile of the removed texts' similarity to their cluster's kept
/// one, over the `minhash` stages' samples of them.
fn similarity(report: &ProfileReport) -> Option<(f64, f64)> {
    let samples: Vec<_> = report
        .stages
        .iter()
        .filter_map(|s| s.near_dedup.as_ref()?.similarity)
        .filter(|s| s.pairs > 0)
        .collect();
    if samples.is_empty() {
        return None;
    }
    let lowest = |pick: fn(&crate::model::near_dedup::SimilaritySample) -> f64| {
        samples.iter().map(pick).fold(f64::MAX, f64::min)
    };
    Some((lowest(|s| s.median), lowest(|s| s.p10)))
}

/// What the projections of this sample cannot see.
fn notes(plan: &SamplePlan, report: &ProfileReport) -> Vec<String> {
    let mut notes = Vec::new();
    let requested = plan.spec.by.name();
    match plan.mode {
        SampleMode::Rows if report.storage.row_groups == 0 => notes.push(format!(
            "a {} source has no row groups: rows are sampled instead, which reads every file",
            report.source.format
        )),
        SampleMode::Rows => notes.push(format!(
            "{requested} sampling would draw fewer than {} row groups: rows are sampled inside \
             every row group instead, which reads them all",
            crate::source::sampling::MIN_SAMPLED_ROW_GROUPS
        )),
        SampleMode::Content | SampleMode::MinHash => notes.push(format!(
            "{} sampling reads the text of every row group: the scan's time and requests \
             are a full scan's",
            plan.mode.name()
        )),
        SampleMode::RowGroups { .. } => {}
    }
    let dedup = report
        .stages
        .iter()
        .any(|s| s.origin == "queries/dedup_exact.sql");
    if dedup && !matches!(plan.mode, SampleMode::Content | SampleMode::MinHash) {
        notes.push(
            "copies of a text in different sampling units are not seen together: the \
             projected exact duplicates are biased low, and rows and tokens after the dedup \
             stage high (--sample-by content keeps every copy of a text together)"
                .to_string(),
        );
    }
    if plan.mode == SampleMode::MinHash {
        if let Some((median, p10)) = similarity(report) {
            notes.push(format!(
                "a near duplicate of similarity J to its cluster's kept text is in the sample \
                 with it with probability about J: the projected near duplicates are the \
                 sample's divided by the median similarity of the removed texts ({median:.3}); \
                 the interval runs from no correction to dividing by their 10th percentile \
                 ({p10:.3})"
            ));
        }
    } else if report.stages.iter().any(|s| s.near_dedup.is_some()) {
        notes.push(
            "near duplicates (similar, not identical texts) are split by the sample: the \
             projected near duplicates are a lower bound, and rows and tokens after the \
             near-dedup stage an upper bound"
                .to_string(),
        );
    }
    notes
}
