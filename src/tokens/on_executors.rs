//! Token counting where a cluster's executors hold the result: one plan counts each row's
//! tokens with `token_count` (or reuses the count it carries when `text_hash64` of its text
//! is the hash it was counted on) and writes the counted result on the executors; the
//! aggregate over the written files gives the rows by token count, from which the per-row
//! figures are exact.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Column;
use datafusion::error::Result;
use datafusion::functions::expr_fn::coalesce;
use datafusion::logical_expr::{Expr, ScalarUDF, cast, lit, not, when};

use super::is_count_column;
use crate::engine::udf::{TextHash64, TokenCount};
use crate::engine::{Intermediate, ROW_TOKENS, ROW_TOKENS_FRESH, ROW_TOKENS_TEXT_HASH, Session};
use crate::model::tokens::{PerRow, TokenStats};
use crate::tokenizer::Tokenizer;

/// The prepcost functions the counting plan calls.
pub(super) const FUNCTIONS: [&str; 2] = [TokenCount::NAME, TextHash64::NAME];

/// `result` counted by the executors with `tokenizer`: the counted result, its figures, and
/// the texts tokenized.
pub(super) async fn count(
    session: &Session,
    tokenizer: &Tokenizer,
    result: Intermediate,
    text_column: &str,
    step: &str,
) -> Result<(Intermediate, TokenStats, u64)> {
    let table = result.table(&session.ctx, session.threads).await?;
    let frame = session.ctx.read_table(table)?;
    let schema = frame.schema().as_arrow().clone();
    let column = |name: &str| Expr::Column(Column::new_unqualified(name));
    let text = column(text_column);
    let hash = coalesce(vec![
        ScalarUDF::from(TextHash64::default()).call(vec![text.clone()]),
        lit(0_u64),
    ]);
    let tokenized = coalesce(vec![
        ScalarUDF::from(TokenCount::default()).call(vec![text.clone(), lit(spec(tokenizer))]),
        lit(0_u32),
    ]);
    let carries =
        schema.index_of(ROW_TOKENS).is_ok() && schema.index_of(ROW_TOKENS_TEXT_HASH).is_ok();
    let (tokens, reused) = match carries {
        true => {
            let reused = coalesce(vec![
                column(ROW_TOKENS_TEXT_HASH).eq(hash.clone()),
                lit(false),
            ])
            .and(column(ROW_TOKENS).is_not_null());
            let tokens = when(reused.clone(), column(ROW_TOKENS)).otherwise(tokenized)?;
            (tokens, reused)
        }
        false => (tokenized, lit(false)),
    };
    let mut columns: Vec<Expr> = schema
        .fields()
        .iter()
        .filter(|f| !is_count_column(f.name()))
        .map(|f| column(f.name()))
        .collect();
    columns.push(cast(tokens, DataType::UInt32).alias(ROW_TOKENS));
    columns.push(hash.alias(ROW_TOKENS_TEXT_HASH));
    columns.push(not(reused).and(text.is_not_null()).alias(ROW_TOKENS_FRESH));
    let written = session
        .write_result(frame.select(columns)?, text_column, step, None)
        .await?;
    let mut counted = written.result;
    counted.take_over(result)?;
    let tokens = written.tokens.unwrap_or_default();
    Ok((counted, stats_of(&tokens.rows_by_tokens), tokens.tokenized))
}

/// How executors name the tokenizer: its name, a `tokenizer.json` by its absolute path.
fn spec(tokenizer: &Tokenizer) -> String {
    let name = tokenizer.name();
    match name.ends_with(".json") {
        true => std::fs::canonicalize(name).map_or(name.to_string(), |p| p.display().to_string()),
        false => name.to_string(),
    }
}

/// The figures of rows by token count (increasing): the same nearest ranks
/// [`super::token_stats`] takes of the counts themselves.
fn stats_of(rows_by_tokens: &[(u32, u64)]) -> TokenStats {
    let rows: u64 = rows_by_tokens.iter().map(|&(_, n)| n).sum();
    let total: u64 = rows_by_tokens.iter().map(|&(t, n)| u64::from(t) * n).sum();
    let at = |p: f64| {
        let rank = ((p * rows as f64).ceil() as u64).clamp(1, rows.max(1));
        let mut seen = 0;
        for &(tokens, n) in rows_by_tokens {
            seen += n;
            if seen >= rank {
                return tokens;
            }
        }
        0
    };
    TokenStats {
        total,
        per_row: PerRow {
            min: rows_by_tokens.first().map_or(0, |&(t, _)| t),
            median: at(0.5),
            p99: at(0.99),
            max: rows_by_tokens.last().map_or(0, |&(t, _)| t),
            mean: if rows == 0 {
                0.0
            } else {
                total as f64 / rows as f64
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::token_stats;

    #[test]
    fn figures_by_token_count_are_those_of_the_counts() {
        for counts in [
            vec![],
            vec![5],
            vec![1, 1, 2, 9, 9, 9, 40],
            (1..=100).collect(),
        ] {
            let mut by_value: Vec<(u32, u64)> = Vec::new();
            for &c in &counts {
                match by_value.iter_mut().find(|(t, _)| *t == c) {
                    Some((_, n)) => *n += 1,
                    None => by_value.push((c, 1)),
                }
            }
            by_value.sort_unstable();
            let mut counts = counts;
            assert_eq!(stats_of(&by_value), token_stats(&mut counts), "{counts:?}");
        }
    }
}
