//! Per-condition accounting of a SQL stage: how many rows — and tokens — each of its
//! conditions removed, a row counted against the first condition it fails in the order the
//! query applies them (its innermost `WHERE` first, each one's `AND`ed terms as written).
//!
//! The stage's plan is rewritten into one that keeps every row and carries, instead of each
//! filter, the number of the first condition the row failed (later conditions and the
//! projections above a filter are evaluated only on the rows still kept, as `CASE` evaluates
//! its branches). The stage runs that plan: a [`Tally`] counts each batch's failures and
//! passes its kept rows on, so counting costs no second pass. Only a chain of projections and
//! filters over `input` is rewritten: a stage that aggregates, joins or sorts has no
//! per-condition figures.

use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use datafusion::arrow::compute::{cast, filter_record_batch};
use datafusion::arrow::datatypes::{DataType, Int64Type, SchemaRef};
use datafusion::common::{Column, DFSchema};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, col, lit, when};
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::DataFrame;
use futures::StreamExt;

use crate::engine::{INPUT_TABLE, ROW_TOKENS};
use crate::model::profile::ConditionReport;

/// The column holding the number of the first failed condition (0: none), while counting.
pub const FAILED: &str = "__prepcost_failed";

/// A stage's conditions, and its plan rewritten to carry each row's first failed one.
pub struct Counting {
    /// Each condition's SQL, in the order they apply.
    pub conditions: Vec<String>,
    /// Every input row, with the stage's columns and [`FAILED`].
    pub plan: LogicalPlan,
}

/// `frame` (a SQL stage's) rewritten to count its conditions as it runs, with the tally that
/// will count them; `frame` itself when it is not a chain of two conditions or more.
pub fn annotate(frame: DataFrame) -> DfResult<(DataFrame, Option<Arc<Mutex<Tally>>>)> {
    let Some(counting) = counting(frame.logical_plan()) else {
        return Ok((frame, None));
    };
    let (state, _) = frame.into_parts();
    let tally = Tally::new(counting.conditions);
    Ok((
        DataFrame::new(state, counting.plan),
        Some(Arc::new(Mutex::new(tally))),
    ))
}

/// The kept rows of an annotated stage's `stream`, without [`FAILED`]; its failures go to
/// `tally`.
pub fn kept_rows(
    stream: SendableRecordBatchStream,
    tally: Arc<Mutex<Tally>>,
) -> DfResult<SendableRecordBatchStream> {
    let schema = stream.schema();
    let failed = schema.index_of(FAILED)?;
    let kept: Vec<usize> = (0..schema.fields().len())
        .filter(|&i| i != failed)
        .collect();
    let out_schema: SchemaRef = Arc::new(schema.project(&kept)?);
    let rows = stream.map(move |batch| {
        let batch = batch?;
        let mut tally = tally.lock().map_err(|_| {
            datafusion::error::DataFusionError::Internal("condition tally poisoned".into())
        })?;
        tally.split(&batch, failed, &kept)
    });
    Ok(Box::pin(RecordBatchStreamAdapter::new(out_schema, rows)))
}

/// What each condition removed so far.
pub struct Tally {
    reports: Vec<ConditionReport>,
}

impl Tally {
    fn new(conditions: Vec<String>) -> Self {
        let reports = conditions
            .into_iter()
            .map(|name| ConditionReport {
                name,
                rows_removed: 0,
                tokens_removed: None,
            })
            .collect();
        Tally { reports }
    }

    /// Counts the failed rows of `batch` against their conditions (with their tokens, when
    /// the batch carries them); returns its kept rows, columns `kept`.
    fn split(
        &mut self,
        batch: &RecordBatch,
        failed: usize,
        kept: &[usize],
    ) -> DfResult<RecordBatch> {
        let numbers = cast(batch.column(failed), &DataType::Int64)?;
        let numbers = numbers.as_primitive::<Int64Type>();
        let tokens = match batch.schema().index_of(ROW_TOKENS) {
            Ok(i) => Some(cast(batch.column(i), &DataType::Int64)?),
            Err(_) => None,
        };
        let tokens = tokens.as_ref().map(|t| t.as_primitive::<Int64Type>());
        for i in 0..batch.num_rows() {
            let n = if numbers.is_null(i) {
                0
            } else {
                numbers.value(i)
            };
            let row_tokens = tokens.map(|t| if t.is_null(i) { 0 } else { t.value(i) as u64 });
            self.count(n, 1, row_tokens);
        }
        let keep: BooleanArray = numbers.iter().map(|n| Some(n.unwrap_or(0) == 0)).collect();
        Ok(filter_record_batch(&batch.project(kept)?, &keep)?)
    }

    /// Counts `rows` (holding `tokens`, when counted) against the condition numbered
    /// `condition` (1 for the first).
    pub fn count(&mut self, condition: i64, rows: u64, tokens: Option<u64>) {
        let Some(report) = usize::try_from(condition - 1)
            .ok()
            .and_then(|k| self.reports.get_mut(k))
        else {
            return;
        };
        report.rows_removed += rows;
        if let Some(tokens) = tokens {
            *report.tokens_removed.get_or_insert(0) += tokens;
        }
    }

    /// Each condition's figures; `tokens_removed` when `counts_tokens`.
    pub fn reports(&self, counts_tokens: bool) -> Vec<ConditionReport> {
        let mut reports = self.reports.clone();
        for r in &mut reports {
            r.tokens_removed = counts_tokens.then(|| r.tokens_removed.unwrap_or(0));
        }
        reports
    }
}

/// The counting plan of a stage's `plan`, when it is a chain of projections and filters over
/// `input` with two conditions or more.
pub fn counting(plan: &LogicalPlan) -> Option<Counting> {
    let nodes = chain(plan);
    let bottom = nodes.last().and_then(|n| input_of(n)).unwrap_or(plan);
    match bottom {
        LogicalPlan::TableScan(scan) if scan.table_name.table() == INPUT_TABLE => {}
        inlined if is_inlined_input(inlined) => {}
        _ => return None,
    }
    let conditions: Vec<String> = nodes
        .iter()
        .rev()
        .filter_map(|n| match n {
            LogicalPlan::Filter(f) => Some(split_conjunction(&f.predicate)),
            _ => None,
        })
        .flatten()
        .map(|e| e.human_display().to_string())
        .collect();
    if conditions.len() < 2 {
        return None;
    }
    let plan = rewrite(bottom, &nodes).ok()?;
    Some(Counting { conditions, plan })
}

/// The projections, filters and aliases from `plan` down, top first.
fn chain(plan: &LogicalPlan) -> Vec<&LogicalPlan> {
    let mut nodes = Vec::new();
    let mut node = plan;
    while let Some(input) = input_of(node).filter(|_| !is_inlined_input(node)) {
        nodes.push(node);
        node = input;
    }
    nodes
}

/// Whether `node` is the table `input` inlined: a result read from files is a view, and the
/// plan of a query over a view holds the view's own plan under the view's name.
fn is_inlined_input(node: &LogicalPlan) -> bool {
    matches!(node, LogicalPlan::SubqueryAlias(a) if a.alias.table() == INPUT_TABLE)
}

/// The input of a projection, filter or alias.
fn input_of(node: &LogicalPlan) -> Option<&LogicalPlan> {
    match node {
        LogicalPlan::Projection(p) => Some(&p.input),
        LogicalPlan::Filter(f) => Some(&f.input),
        LogicalPlan::SubqueryAlias(a) => Some(&a.input),
        _ => None,
    }
}

/// `nodes` (top first) rebuilt over `scan` bottom up, each filter turned into the update of
/// [`FAILED`] and each computed column of a projection evaluated only on rows still kept.
fn rewrite(scan: &LogicalPlan, nodes: &[&LogicalPlan]) -> DfResult<LogicalPlan> {
    let start = columns(scan.schema()).collect::<Vec<_>>();
    let mut builder = LogicalPlanBuilder::from(scan.clone())
        .project(start.into_iter().chain([lit(0i64).alias(FAILED)]))?;
    let mut next_condition = 1i64;
    for node in nodes.iter().rev() {
        builder = match node {
            LogicalPlan::Filter(f) => {
                let mut failed = when(col(FAILED).not_eq(lit(0i64)), col(FAILED));
                for condition in split_conjunction(&f.predicate) {
                    failed = failed.when(condition.clone().is_not_true(), lit(next_condition));
                    next_condition += 1;
                }
                let failed = failed.otherwise(lit(0i64))?.alias(FAILED);
                let kept = columns(builder.schema()).collect::<Vec<_>>();
                builder.project(kept.into_iter().chain([failed]))?
            }
            LogicalPlan::Projection(p) => {
                let guarded = p
                    .expr
                    .iter()
                    .zip(p.schema.fields())
                    .map(|(e, field)| only_if_kept(e, field.name()))
                    .collect::<DfResult<Vec<_>>>()?;
                builder.project(guarded.into_iter().chain([col(FAILED)]))?
            }
            LogicalPlan::SubqueryAlias(a) => builder.alias(a.alias.clone())?,
            _ => return builder.build(),
        };
    }
    builder.build()
}

/// A projection's expression, evaluated only on the rows no condition has failed (NULL on
/// the others, which the stage drops): a column stays as it is.
fn only_if_kept(e: &Expr, name: &str) -> DfResult<Expr> {
    let inner = match e {
        Expr::Alias(a) => a.expr.as_ref(),
        e => e,
    };
    if matches!(inner, Expr::Column(_)) {
        return Ok(e.clone());
    }
    Ok(when(col(FAILED).eq(lit(0i64)), inner.clone())
        .end()?
        .alias(name))
}

/// Every column of `schema` but [`FAILED`], as expressions.
fn columns(schema: &DFSchema) -> impl Iterator<Item = Expr> + use<> {
    schema
        .columns()
        .into_iter()
        .filter(|c: &Column| c.name != FAILED)
        .map(Expr::Column)
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
    use datafusion::prelude::SessionContext;

    /// Each condition's SQL and rows removed, over four rows: ("a", 1), (NULL, 2),
    /// ("long text", 3), ("xx", 4).
    async fn counts(sql: &str) -> Option<Vec<(String, u64)>> {
        let over_a_table = counts_over(sql, false).await;
        assert_eq!(counts_over(sql, true).await, over_a_table, "over a view");
        over_a_table
    }

    /// [`counts`] with `input` a table or a view (as a result read from files is).
    async fn counts_over(sql: &str, view: bool) -> Option<Vec<(String, u64)>> {
        let ctx = SessionContext::new();
        let texts = StringArray::from(vec![Some("a"), None, Some("long text"), Some("xx")]);
        let batch = RecordBatch::try_from_iter([
            ("text", Arc::new(texts) as ArrayRef),
            (
                "n",
                Arc::new(Int64Array::from(vec![1, 2, 3, 4])) as ArrayRef,
            ),
        ])
        .unwrap();
        match view {
            true => {
                let view = ctx.read_batch(batch).unwrap().into_view();
                ctx.register_table("input", view).unwrap();
            }
            false => {
                ctx.register_batch("input", batch).unwrap();
            }
        }
        let frame = ctx.sql(sql).await.unwrap();
        let (frame, tally) = annotate(frame).unwrap();
        let tally = tally?;
        let stream = kept_rows(frame.execute_stream().await.unwrap(), Arc::clone(&tally)).unwrap();
        let kept: Vec<RecordBatch> = stream.map(|b| b.unwrap()).collect().await;
        // The kept rows are the stage's own.
        let expected = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let rows = |b: &[RecordBatch]| b.iter().map(|b| b.num_rows()).sum::<usize>();
        assert_eq!(rows(&kept), rows(&expected));
        let reports = tally.lock().unwrap().reports(false);
        Some(
            reports
                .into_iter()
                .map(|r| (r.name, r.rows_removed))
                .collect(),
        )
    }

    #[tokio::test]
    async fn each_row_counts_against_the_first_condition_it_fails() {
        let sql = "SELECT * FROM input WHERE text IS NOT NULL AND length(text) > 1 AND n < 4";
        let removed: Vec<u64> = counts(sql).await.unwrap().iter().map(|c| c.1).collect();
        assert_eq!(removed, [1, 1, 1]);
        // The inner query's condition applies first.
        let nested = "SELECT * FROM (SELECT * FROM input WHERE n > 1) AS i WHERE text IS NOT NULL";
        let conditions = counts(nested).await.unwrap();
        assert!(conditions[0].0.contains("n > "), "{conditions:?}");
        assert_eq!(conditions.iter().map(|c| c.1).collect::<Vec<_>>(), [1, 1]);
        // A projection between the filters is evaluated as the stage evaluates it; a NULL
        // fails the first condition that meets it.
        let projected = "SELECT * FROM (SELECT upper(text) AS text, n FROM input \
                         WHERE n <> 3) WHERE text <> 'XX' AND text IS NOT NULL";
        let removed: Vec<u64> = counts(projected)
            .await
            .unwrap()
            .iter()
            .map(|c| c.1)
            .collect();
        assert_eq!(removed, [1, 2, 0]);
    }

    #[tokio::test]
    async fn stages_that_are_not_a_chain_of_filters_have_no_conditions() {
        assert!(
            counts("SELECT text, count(*) AS c FROM input GROUP BY text")
                .await
                .is_none()
        );
        assert!(counts("SELECT * FROM input WHERE n > 1").await.is_none());
        assert!(counts("SELECT * FROM input ORDER BY n").await.is_none());
    }
}
