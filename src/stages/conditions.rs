//! Per-condition accounting of a SQL stage: how many rows — and tokens — each of its
//! conditions removed, a row counted against the first condition it fails in the order the
//! query applies them (its innermost `WHERE` first, each one's `AND`ed terms as written).
//!
//! The stage's plan is rewritten into one that keeps every row and carries, instead of each
//! filter, the number of the first condition the row failed; grouping on it gives the counts
//! in one pass over the input. Only a chain of projections and filters over `input` is
//! rewritten: a stage that aggregates, joins or sorts has no per-condition figures.

use datafusion::common::{Column, DFSchema};
use datafusion::error::Result as DfResult;
use datafusion::functions_aggregate::expr_fn::{count as count_rows, sum};
use datafusion::logical_expr::utils::split_conjunction;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, col, lit, when};

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};

use super::stage::Stage;
use crate::engine::{INPUT_TABLE, Intermediate, ROW_TOKENS, Session};
use crate::model::profile::ConditionReport;

/// The column holding the number of the first failed condition (0: none), while counting.
const FAILED: &str = "__prepcost_failed";

/// A stage's conditions, and the plan that counts the rows failing each first.
pub struct Counting {
    /// Each condition's SQL, in the order they apply.
    pub conditions: Vec<String>,
    /// Rows `(condition number, rows, tokens)` — tokens when the input counts them.
    pub plan: LogicalPlan,
    pub counts_tokens: bool,
}

/// What each condition of `stage` (a SQL stage of two conditions or more) removes from
/// `input`; empty for other stages, and when counting fails (the stage itself will say why).
pub async fn count(
    session: &Session,
    stage: &dyn Stage,
    input: &Intermediate,
) -> Vec<ConditionReport> {
    match try_count(session, stage, input).await {
        Ok(conditions) => conditions,
        Err(e) => {
            tracing::debug!("counting the conditions of stage {}: {e}", stage.name());
            Vec::new()
        }
    }
}

async fn try_count(
    session: &Session,
    stage: &dyn Stage,
    input: &Intermediate,
) -> DfResult<Vec<ConditionReport>> {
    let Some(sql) = stage.sql() else {
        return Ok(Vec::new());
    };
    session.register_input(input).await?;
    let plan = session.ctx.sql(sql).await?.logical_plan().clone();
    let Some(counting) = counting(&plan) else {
        return Ok(Vec::new());
    };
    let batches = session
        .ctx
        .execute_logical_plan(counting.plan.clone())
        .await?
        .collect()
        .await?;
    session.ctx.deregister_table(INPUT_TABLE)?;
    counting.reports(&batches)
}

/// Adds the counts of one result batch: condition number, rows, and tokens when counted.
fn add_counts(batch: &RecordBatch, reports: &mut [ConditionReport]) -> DfResult<()> {
    let columns = batch
        .columns()
        .iter()
        .map(|c| cast(c, &DataType::Int64))
        .collect::<Result<Vec<_>, _>>()?;
    let values = |i: usize| {
        columns
            .get(i)
            .and_then(|c| c.as_primitive_opt::<Int64Type>())
    };
    let (Some(number), Some(rows)) = (values(0), values(1)) else {
        return Ok(());
    };
    for i in 0..batch.num_rows() {
        let n = number.value(i);
        let Some(report) = usize::try_from(n - 1).ok().and_then(|k| reports.get_mut(k)) else {
            continue;
        };
        report.rows_removed += rows.value(i) as u64;
        if let Some(tokens) = values(2) {
            let t = if tokens.is_null(i) {
                0
            } else {
                tokens.value(i)
            };
            *report.tokens_removed.get_or_insert(0) += t as u64;
        }
    }
    Ok(())
}

impl Counting {
    /// Each condition's figures from the counting plan's result `batches`.
    fn reports(self, batches: &[RecordBatch]) -> DfResult<Vec<ConditionReport>> {
        let tokens = self.counts_tokens.then_some(0);
        let mut reports: Vec<ConditionReport> = self
            .conditions
            .into_iter()
            .map(|name| ConditionReport {
                name,
                rows_removed: 0,
                tokens_removed: tokens,
            })
            .collect();
        for batch in batches {
            add_counts(batch, &mut reports)?;
        }
        Ok(reports)
    }
}

/// The counting plan of a stage's `plan`, when it is a chain of projections and filters over
/// `input` with two conditions or more.
pub fn counting(plan: &LogicalPlan) -> Option<Counting> {
    let nodes = chain(plan);
    let bottom = nodes.last().and_then(|n| input_of(n)).unwrap_or(plan);
    match bottom {
        LogicalPlan::TableScan(scan) if scan.table_name.table() == INPUT_TABLE => {}
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
    let counts_tokens = bottom
        .schema()
        .index_of_column_by_name(None, ROW_TOKENS)
        .is_some();
    let plan = rewrite(bottom, &nodes).ok()?;
    Some(Counting {
        conditions,
        plan,
        counts_tokens,
    })
}

/// The projections, filters and aliases from `plan` down, top first.
fn chain(plan: &LogicalPlan) -> Vec<&LogicalPlan> {
    let mut nodes = Vec::new();
    let mut node = plan;
    while let Some(input) = input_of(node) {
        nodes.push(node);
        node = input;
    }
    nodes
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
/// [`FAILED`], then grouped on it.
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
                builder.project(p.expr.iter().cloned().chain([col(FAILED)]))?
            }
            LogicalPlan::SubqueryAlias(a) => builder.alias(a.alias.clone())?,
            _ => return builder.build(),
        };
    }
    let tokens = builder
        .schema()
        .columns()
        .iter()
        .any(|c| c.name == ROW_TOKENS);
    let mut measures = vec![count_rows(lit(1)).alias("rows")];
    if tokens {
        measures.push(sum(col(ROW_TOKENS)).alias("tokens"));
    }
    builder.aggregate([col(FAILED)], measures)?.build()
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
        ctx.register_batch("input", batch).unwrap();
        let plan = ctx.sql(sql).await.unwrap().logical_plan().clone();
        let counting = counting(&plan)?;
        let batches = ctx
            .execute_logical_plan(counting.plan.clone())
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        Some(
            counting
                .reports(&batches)
                .unwrap()
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
