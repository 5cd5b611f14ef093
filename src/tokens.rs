//! Token counts of `profile`'s steps: the total and the per-row distribution of the text
//! column of the source and of every stage's result, counted on all cores. A text counted in
//! an earlier step (most rows survive a filter unchanged) is looked up, not tokenized again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use xxhash_rust::xxh3::xxh3_128;

use crate::engine::{Intermediate, Session};
use crate::error::{Error, Result, describe};
use crate::model::tokens::{PerRow, TokenStats};
use crate::tokenizer::{Tokenizer, map_texts};
use crate::util::percentile::nearest_rank;
use crate::util::resources;

/// The figures of per-row counts (in any order; reordered here).
pub fn token_stats(counts: &mut [u32]) -> TokenStats {
    counts.sort_unstable();
    let total: u64 = counts.iter().map(|&n| u64::from(n)).sum();
    let at = |p| nearest_rank(counts, p).unwrap_or(0);
    TokenStats {
        total,
        per_row: PerRow {
            min: counts.first().copied().unwrap_or(0),
            median: at(0.5),
            p99: at(0.99),
            max: at(1.0),
            mean: if counts.is_empty() {
                0.0
            } else {
                total as f64 / counts.len() as f64
            },
        },
    }
}

/// Counts the tokens of step results, remembering the texts it has counted.
pub struct TokenCounter {
    tokenizer: Arc<Tokenizer>,
    /// Tokens of every text counted so far, by its 128-bit hash.
    known: Arc<HashMap<u128, u32>>,
    /// Time spent counting, over all steps.
    pub wall_seconds: f64,
    pub cpu_seconds: f64,
}

impl TokenCounter {
    pub fn new(tokenizer: Tokenizer) -> Self {
        TokenCounter {
            tokenizer: Arc::new(tokenizer),
            known: Arc::default(),
            wall_seconds: 0.0,
            cpu_seconds: 0.0,
        }
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Tokens of `result`'s `text_column`; `step` names it in errors.
    pub async fn count(
        &mut self,
        session: &Session,
        result: &Intermediate,
        text_column: &str,
        step: &str,
    ) -> Result<TokenStats> {
        let started = Instant::now();
        let cpu_at_start = resources::cpu_time();
        let fail = |message: String| Error::Stage {
            stage: step.to_string(),
            origin: format!("counting tokens with {}", self.tokenizer.name()),
            message,
        };
        let table = result
            .table(&session.ctx, session.threads)
            .await
            .map_err(|e| fail(describe(&e)))?;
        let streams = session
            .ctx
            .read_table(table)
            .and_then(|frame| frame.select_columns(&[text_column]))
            .map_err(|e| fail(describe(&e)))?
            .execute_stream_partitioned()
            .await
            .map_err(|e| fail(describe(&e)))?;
        let tasks: Vec<_> = streams
            .into_iter()
            .map(|stream| {
                let tokenizer = Arc::clone(&self.tokenizer);
                let known = Arc::clone(&self.known);
                tokio::spawn(count_partition(stream, tokenizer, known))
            })
            .collect();
        let mut counts = Vec::with_capacity(result.stats().rows as usize);
        let mut learned = Vec::new();
        for task in tasks {
            let (partition, new) = task.await.map_err(|e| fail(e.to_string()))?.map_err(fail)?;
            counts.extend(partition);
            learned.extend(new);
        }
        Arc::make_mut(&mut self.known).extend(learned);
        self.wall_seconds += started.elapsed().as_secs_f64();
        self.cpu_seconds += resources::cpu_time()
            .saturating_sub(cpu_at_start)
            .as_secs_f64();
        Ok(token_stats(&mut counts))
    }
}

/// Counts one partition: its per-row counts and the texts it tokenized, by hash.
async fn count_partition(
    mut stream: datafusion::execution::SendableRecordBatchStream,
    tokenizer: Arc<Tokenizer>,
    known: Arc<HashMap<u128, u32>>,
) -> Result<(Vec<u32>, Vec<(u128, u32)>), String> {
    use futures::StreamExt;
    let mut counts = Vec::new();
    let mut learned = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(|e| describe(&e))?;
        let rows = map_texts(batch.column(0).as_ref(), |text| {
            let Some(text) = text else { return Ok(0) };
            let hash = xxh3_128(text.as_bytes());
            if let Some(&n) = known.get(&hash) {
                return Ok(n);
            }
            let n = tokenizer.count(text)?;
            learned.push((hash, n));
            Ok(n)
        })?;
        counts.extend(rows);
    }
    Ok((counts, learned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_row_figures_are_nearest_rank() {
        let mut counts: Vec<u32> = (1..=100).rev().collect();
        let stats = token_stats(&mut counts);
        assert_eq!(stats.total, 5050);
        assert_eq!(
            (
                stats.per_row.min,
                stats.per_row.median,
                stats.per_row.p99,
                stats.per_row.max
            ),
            (1, 50, 99, 100)
        );
        assert_eq!(stats.per_row.mean, 50.5);
        assert_eq!(token_stats(&mut []), TokenStats::default());
    }
}
