//! Runs a pipeline: each stage as its own query over the previous stage's materialised
//! result, so that its time, CPU, memory, rows and bytes belong to it alone.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use datafusion::arrow::datatypes::DataType;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::DataFrame;

use crate::engine::cluster::rejected;
use crate::engine::memory::PeakMemoryPool;
use crate::engine::udf;
use crate::engine::{INPUT_TABLE, Intermediate, SOURCE_ROW, Session, TextStats};
use crate::error::{Error, Result, describe, is_out_of_memory};
use crate::estimate::Tallier;
use crate::model::near_dedup::NearDedupReport;
use crate::model::profile::{Redactions, StageReport, StepReport};
use crate::model::tokens::TokenStats;
use crate::stages::conditions::{self, Tally};
use crate::stages::{Stage, StageError, StageInput};
use crate::storage::instrumented::{Mark, RequestCounter};
use crate::tokens::TokenCounter;
use crate::util::progress::Progress;
use crate::util::resources;
use crate::util::units::{format_size, ratio};

/// Measures one step: wall time, CPU time (this process's, and the executors' compute time on
/// a remote cluster), and the pool's peak.
pub struct Meter {
    started: Instant,
    cpu_at_start: Duration,
    remote_at_start: Duration,
    pool: Arc<PeakMemoryPool>,
    requests: Arc<RequestCounter>,
    requests_at_start: Mark,
}

impl Meter {
    /// Starts measuring; the pool's peak restarts from what is reserved now.
    pub async fn start(session: &Session) -> Result<Self> {
        let remote_at_start = session.remote_compute().await?;
        session.pool.reset_peak();
        let requests = session.source_requests();
        Ok(Meter {
            started: Instant::now(),
            cpu_at_start: resources::cpu_time(),
            remote_at_start,
            pool: Arc::clone(&session.pool),
            requests_at_start: requests.mark(),
            requests,
        })
    }

    /// The measures of the step that produced `result`.
    pub async fn finish(self, session: &Session, result: &Intermediate) -> Result<StepReport> {
        let wall_seconds = self.started.elapsed().as_secs_f64();
        let local = resources::cpu_time().saturating_sub(self.cpu_at_start);
        let remote = session
            .remote_compute()
            .await?
            .saturating_sub(self.remote_at_start);
        Ok(StepReport {
            rows: result.stats().rows,
            wall_seconds,
            cpu_seconds: (local + remote).as_secs_f64(),
            peak_memory_bytes: self.pool.peak() as u64,
            result_bytes: result.bytes(),
            spilled: result.spilled(),
            requests: self.requests.since(&self.requests_at_start),
        })
    }
}

/// Runs `stages` in order over `input`; returns the last result and one report per stage.
/// Each stage is announced on `progress` as it starts. With `tokens` (a counter and the
/// input's tokens), each stage's result is counted after the stage is measured; with a
/// `tallier` (a sampled run), it is then tallied per sampling unit.
pub async fn run(
    session: &Session,
    stages: &[Box<dyn Stage>],
    input: Intermediate,
    text_column: &str,
    progress: &Progress,
    mut tokens: Option<(&mut TokenCounter, TokenStats)>,
    mut tallier: Option<&mut Tallier>,
) -> Result<(Intermediate, Vec<StageReport>)> {
    let mut current = input;
    let mut reports = Vec::with_capacity(stages.len());
    for stage in stages {
        progress.step(&format!("stage {} ({})", stage.name(), stage.origin()));
        let meter = Meter::start(session).await?;
        let redacted_before = session.redactions.totals();
        let (mut next, near_dedup, conditions) =
            run_stage(session, stage.as_ref(), &current, text_column, progress).await?;
        let input_stats = current.stats();
        // Part of the stage: it may copy what the result keeps of its input's pages.
        next.take_over(current).map_err(|e| Error::Stage {
            stage: stage.name().to_string(),
            origin: stage.origin(),
            message: describe(&e),
        })?;
        let step = meter.finish(session, &next).await?;
        let mut report = stage_report(stage.as_ref(), input_stats, next.stats(), &step);
        report.near_dedup = near_dedup;
        report.conditions = conditions.map_or_else(Vec::new, |tally| {
            let tally = tally.lock().map(|t| t.reports(tokens.is_some()));
            tally.unwrap_or_default()
        });
        let redacted = session.redactions.totals();
        report.redacted =
            Redactions::from_counts(std::array::from_fn(|i| redacted[i] - redacted_before[i]));
        current = match &mut tokens {
            Some((counter, previous)) => {
                let (counted, out) = counter
                    .count(session, next, text_column, stage.name())
                    .await?;
                report.tokens_removed = Some(previous.total as i64 - out.total as i64);
                report.tokens_out = Some(out);
                *previous = out;
                counted
            }
            None => next,
        };
        if let Some(tallier) = &mut tallier {
            tallier.add(session, &current, text_column).await?;
        }
        progress.finished(stage.name(), report.rows_out);
        reports.push(report);
    }
    Ok((current, reports))
}

/// What a stage gives: its result, what its near-dedup found, and what its conditions removed.
type StageResult = (
    Intermediate,
    Option<Box<NearDedupReport>>,
    Option<Arc<Mutex<Tally>>>,
);

async fn run_stage(
    session: &Session,
    stage: &dyn Stage,
    input: &Intermediate,
    text_column: &str,
    progress: &Progress,
) -> Result<StageResult> {
    let fail = |message: String| Error::Stage {
        stage: stage.name().to_string(),
        origin: stage.origin(),
        message,
    };
    let engine_error = |e: DataFusionError| {
        if is_out_of_memory(&e) {
            Error::MemoryLimit {
                context: format!("stage '{}'", stage.name()),
                limit: format_size(session.pool.limit() as u64),
                message: describe(&e),
            }
        } else {
            fail(describe(&e))
        }
    };
    // A failed run: an executor's refusal names the prepcost functions the plan calls.
    let run_error = |e: DataFusionError, functions: &[&str]| match rejected(&e, functions) {
        Some(message) => fail(message),
        None => engine_error(e),
    };
    session.register_input(input).await.map_err(engine_error)?;
    let stage_input = StageInput {
        stats: input.stats(),
        spilled: input.spilled(),
        distributed: session.executors_write(),
        progress,
    };
    let planned = match stage.plan(&session.ctx, &stage_input).await {
        Ok(planned) => planned,
        Err(StageError::Engine(e)) => {
            return Err(run_error(e, stage.functions()));
        }
        Err(StageError::Refused(message)) => return Err(fail(message)),
    };
    let (frame, tally) = match stage.sql() {
        Some(_) => conditions::annotate(planned.frame).map_err(engine_error)?,
        None => (planned.frame, None),
    };

    let schema = frame.schema().as_arrow().clone();
    match schema.field_with_name(text_column).map(|f| f.data_type()) {
        Ok(DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => {}
        Ok(other) => {
            return Err(fail(format!(
                "its result's text column '{text_column}' has type {other}, not a string type"
            )));
        }
        Err(_) => {
            return Err(fail(format!(
                "its result has no text column '{text_column}'; keep it (SELECT * keeps every column)"
            )));
        }
    }
    if schema.index_of(SOURCE_ROW).is_err() {
        return Err(fail(format!(
            "its result has no {SOURCE_ROW} column, which later stages and the output need; keep it (SELECT * keeps every column)"
        )));
    }

    let functions = prepcost_functions(frame.logical_plan());
    let result = match session.executors_write() {
        true => written(session, frame, text_column, stage.name(), tally.as_ref()).await,
        false => {
            collected(
                session,
                frame,
                text_column,
                stage.name(),
                input,
                tally.as_ref(),
            )
            .await
        }
    }
    .map_err(|e| {
        let functions: Vec<&str> = functions.iter().map(String::as_str).collect();
        run_error(e, &functions)
    })?;
    session
        .ctx
        .deregister_table(INPUT_TABLE)
        .map_err(engine_error)?;
    Ok((result, planned.near_dedup, tally))
}

/// The prepcost functions `plan` calls.
fn prepcost_functions(plan: &LogicalPlan) -> Vec<String> {
    let text = plan.display_indent().to_string();
    udf::all()
        .iter()
        .map(|f| f.name().to_string())
        .filter(|name| text.contains(&format!("{name}(")))
        .collect()
}

/// Runs a stage's `frame` and collects its result in this process, counting what each of its
/// conditions removes as its rows go by.
async fn collected(
    session: &Session,
    frame: DataFrame,
    text_column: &str,
    name: &str,
    input: &Intermediate,
    tally: Option<&Arc<Mutex<Tally>>>,
) -> datafusion::error::Result<Intermediate> {
    let mut stream = frame.execute_stream().await?;
    if let Some(tally) = tally {
        stream = conditions::kept_rows(stream, Arc::clone(tally))?;
    }
    let collector = session
        .collector(stream.schema(), text_column, name)
        .sharing(input);
    collector.drain(stream).await
}

/// Runs a stage's `frame` on the executors, which write its result; what each of its
/// conditions removed is counted over the written rows.
async fn written(
    session: &Session,
    frame: DataFrame,
    text_column: &str,
    name: &str,
    tally: Option<&Arc<Mutex<Tally>>>,
) -> datafusion::error::Result<Intermediate> {
    let marker = tally.map(|_| conditions::FAILED);
    let written = session
        .write_result(frame, text_column, name, marker)
        .await?;
    if let Some(tally) = tally {
        let mut tally = tally
            .lock()
            .map_err(|_| DataFusionError::Internal("condition tally poisoned".into()))?;
        for &(condition, rows, tokens) in &written.left_out {
            tally.count(condition, rows, tokens);
        }
    }
    Ok(written.result)
}

/// A stage's figures: what went in and out, and the rates and drops they give.
fn stage_report(
    stage: &dyn Stage,
    input: TextStats,
    output: TextStats,
    step: &StepReport,
) -> StageReport {
    let rows_dropped = input.rows.saturating_sub(output.rows);
    StageReport {
        name: stage.name().to_string(),
        origin: stage.origin(),
        rows_in: input.rows,
        rows_out: output.rows,
        rows_dropped,
        drop_rate: ratio(rows_dropped as f64, input.rows as f64),
        text_bytes_in: input.text_bytes,
        text_bytes_out: output.text_bytes,
        wall_seconds: step.wall_seconds,
        cpu_seconds: step.cpu_seconds,
        peak_memory_bytes: step.peak_memory_bytes,
        result_bytes: step.result_bytes,
        spilled: step.spilled,
        rows_per_second: ratio(input.rows as f64, step.wall_seconds),
        text_mb_per_second: ratio(input.text_bytes as f64 / 1e6, step.wall_seconds),
        tokens_out: None,
        tokens_removed: None,
        projected: None,
        requests: step.requests.clone(),
        conditions: Vec::new(),
        redacted: None,
        near_dedup: None,
    }
}
