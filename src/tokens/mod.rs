//! Token counts of `profile`'s steps: the total and the per-row distribution of the text
//! column of the source and of every stage's result, counted on all cores. Each counted result
//! carries its rows' counts in hidden columns ([`ROW_TOKENS`], with the hash of the text they
//! were counted on), so a row a later stage passes through unchanged is not tokenized again:
//! only the texts a stage rewrote are. Where a cluster's executors hold the results, they
//! count them ([`on_executors`]).

mod on_executors;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt32Array, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, UInt32Type, UInt64Type};
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchReceiverStream;
use futures::StreamExt;
use xxhash_rust::xxh3::xxh3_64;

use crate::engine::cluster::rejected;
use crate::engine::{Intermediate, ROW_TOKENS, ROW_TOKENS_FRESH, ROW_TOKENS_TEXT_HASH, Session};
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

/// Counts the tokens of step results.
pub struct TokenCounter {
    tokenizer: Arc<Tokenizer>,
    /// Time spent counting, over all steps.
    pub wall_seconds: f64,
    pub cpu_seconds: f64,
    /// Texts tokenized, over all steps; the other rows reused a count they carried.
    pub texts_tokenized: u64,
}

impl TokenCounter {
    pub fn new(tokenizer: Tokenizer) -> Self {
        TokenCounter {
            tokenizer: Arc::new(tokenizer),
            wall_seconds: 0.0,
            cpu_seconds: 0.0,
            texts_tokenized: 0,
        }
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Tokens of `result`'s `text_column`, and `result` with its rows' counts in its hidden
    /// columns; `step` names it in errors.
    pub async fn count(
        &mut self,
        session: &Session,
        result: Intermediate,
        text_column: &str,
        step: &str,
    ) -> Result<(Intermediate, TokenStats)> {
        let started = Instant::now();
        let cpu_at_start = resources::cpu_time();
        let fail = |message: String| Error::Stage {
            stage: step.to_string(),
            origin: format!("counting tokens with {}", self.tokenizer.name()),
            message,
        };
        let remote_at_start = session.remote_compute().await?;
        let (counted, stats, tokenized) = match session.executors_write() {
            true => on_executors::count(session, &self.tokenizer, result, text_column, step).await,
            false => self.here(session, result, text_column, step).await,
        }
        .map_err(|e| {
            fail(rejected(&e, &on_executors::FUNCTIONS).unwrap_or_else(|| describe(&e)))
        })?;
        self.texts_tokenized += tokenized;
        self.wall_seconds += started.elapsed().as_secs_f64();
        let remote = session.remote_compute().await? - remote_at_start;
        self.cpu_seconds +=
            (resources::cpu_time().saturating_sub(cpu_at_start) + remote).as_secs_f64();
        Ok((counted, stats))
    }

    /// Counts `result` in this process, on all cores.
    async fn here(
        &self,
        session: &Session,
        result: Intermediate,
        text_column: &str,
        step: &str,
    ) -> datafusion::error::Result<(Intermediate, TokenStats, u64)> {
        let tokenized = Arc::new(AtomicU64::new(0));
        let stream = self
            .annotated(session, &result, text_column, &tokenized)
            .await?;
        let (mut counted, mut counts) =
            collect(session, stream, &result, text_column, step).await?;
        // Only now: a spilled result's file is deleted when it is dropped.
        counted.take_over(result)?;
        let tokenized = tokenized.load(Ordering::Relaxed);
        Ok((counted, token_stats(&mut counts), tokenized))
    }

    /// The rows of `result` with their counts, from one task per partition; adds the texts it
    /// tokenized to `tokenized`.
    async fn annotated(
        &self,
        session: &Session,
        result: &Intermediate,
        text_column: &str,
        tokenized: &Arc<AtomicU64>,
    ) -> datafusion::error::Result<SendableRecordBatchStream> {
        let table = result.table(&session.ctx, session.threads).await?;
        let frame = session.ctx.read_table(table)?;
        let schema = counted_schema(frame.schema().as_arrow());
        let streams = frame.execute_stream_partitioned().await?;
        let mut builder =
            RecordBatchReceiverStream::builder(Arc::clone(&schema), 2 * streams.len());
        for mut stream in streams {
            let tx = builder.tx();
            let (tokenizer, schema) = (Arc::clone(&self.tokenizer), Arc::clone(&schema));
            let (text_column, tokenized) = (text_column.to_string(), Arc::clone(tokenized));
            builder.spawn(async move {
                while let Some(batch) = stream.next().await {
                    let (batch, fresh) = annotate(&batch?, &text_column, &tokenizer, &schema)
                        .map_err(DataFusionError::Execution)?;
                    tokenized.fetch_add(fresh, Ordering::Relaxed);
                    if tx.send(Ok(batch)).await.is_err() {
                        break;
                    }
                }
                Ok(())
            });
        }
        Ok(builder.build())
    }
}

/// Collects the counted rows of `result` into a result, and their counts.
async fn collect(
    session: &Session,
    mut stream: SendableRecordBatchStream,
    result: &Intermediate,
    text_column: &str,
    step: &str,
) -> datafusion::error::Result<(Intermediate, Vec<u32>)> {
    let mut collector = session
        .collector(stream.schema(), text_column, step)
        .sharing(result);
    let mut counts = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let column = batch
            .column_by_name(ROW_TOKENS)
            .expect("counted batches have counts");
        counts.extend_from_slice(column.as_primitive::<UInt32Type>().values());
        collector.push(batch)?;
    }
    Ok((collector.finish()?, counts))
}

/// True for the hidden columns a counted result carries.
fn is_count_column(name: &str) -> bool {
    [ROW_TOKENS, ROW_TOKENS_TEXT_HASH, ROW_TOKENS_FRESH].contains(&name)
}

/// `schema` without earlier counts, and with the hidden count columns last.
fn counted_schema(schema: &Schema) -> SchemaRef {
    let mut fields: Vec<Field> = schema
        .fields()
        .iter()
        .filter(|f| !is_count_column(f.name()))
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new(ROW_TOKENS, DataType::UInt32, false));
    fields.push(Field::new(ROW_TOKENS_TEXT_HASH, DataType::UInt64, false));
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// `batch` with each row's tokens and text hash in the hidden columns of `schema`, and how
/// many texts were tokenized: a row whose text hashes as the text its carried count was made
/// from keeps that count; others are tokenized.
fn annotate(
    batch: &RecordBatch,
    text_column: &str,
    tokenizer: &Tokenizer,
    schema: &SchemaRef,
) -> Result<(RecordBatch, u64), String> {
    let text = batch
        .column_by_name(text_column)
        .ok_or_else(|| format!("no text column '{text_column}'"))?;
    let carried = carried_counts(batch);
    let mut hashes = Vec::with_capacity(batch.num_rows());
    let (mut row, mut tokenized) = (0, 0);
    let counts = map_texts(text.as_ref(), |text| {
        let hash = text.map_or(0, |t| xxh3_64(t.as_bytes()));
        hashes.push(hash);
        let carried = carried.and_then(|(counts, hashes)| {
            (counts.is_valid(row) && hashes.is_valid(row) && hashes.value(row) == hash)
                .then(|| counts.value(row))
        });
        row += 1;
        match (text, carried) {
            (None, _) => Ok(0),
            (Some(_), Some(n)) => Ok(n),
            (Some(text), None) => {
                tokenized += 1;
                tokenizer.count(text)
            }
        }
    })?;
    let mut columns: Vec<ArrayRef> = batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .filter(|(f, _)| !is_count_column(f.name()))
        .map(|(_, c)| Arc::clone(c))
        .collect();
    columns.push(Arc::new(UInt32Array::from(counts)));
    columns.push(Arc::new(UInt64Array::from(hashes)));
    let batch = RecordBatch::try_new(Arc::clone(schema), columns).map_err(|e| e.to_string())?;
    Ok((batch, tokenized))
}

/// The counts a batch carries from an earlier step, with the text hashes they belong to.
fn carried_counts(batch: &RecordBatch) -> Option<(&UInt32Array, &UInt64Array)> {
    let counts = batch
        .column_by_name(ROW_TOKENS)?
        .as_primitive_opt::<UInt32Type>()?;
    let hashes = batch
        .column_by_name(ROW_TOKENS_TEXT_HASH)?
        .as_primitive_opt::<UInt64Type>()?;
    Some((counts, hashes))
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

    fn source(texts: &[Option<&str>]) -> RecordBatch {
        use datafusion::arrow::array::StringViewArray;
        let schema = Arc::new(Schema::new(vec![Field::new(
            "text",
            DataType::Utf8View,
            true,
        )]));
        let texts: StringViewArray = texts.iter().copied().collect();
        RecordBatch::try_new(schema, vec![Arc::new(texts)]).unwrap()
    }

    fn counts_of(batch: &RecordBatch) -> Vec<u32> {
        let column = batch.column_by_name(ROW_TOKENS).unwrap();
        column.as_primitive::<UInt32Type>().values().to_vec()
    }

    #[test]
    fn rows_keep_their_count_until_their_text_changes() {
        use crate::tokenizer::TokenizerSpec;
        let tokenizer = Tokenizer::load(&TokenizerSpec::Cl100kBase)
            .unwrap()
            .unwrap();
        let first = source(&[Some("hello world"), None, Some("a b c")]);
        let schema = counted_schema(&first.schema());
        let (counted, tokenized) = annotate(&first, "text", &tokenizer, &schema).unwrap();
        assert_eq!((counts_of(&counted), tokenized), (vec![2, 0, 3], 2));

        // A later step: row 0 unchanged (its carried count, made wrong here, is kept, which
        // shows it was not tokenized again), row 2 rewritten (tokenized again).
        let mut columns = counted.columns().to_vec();
        columns[0] = Arc::new(
            [Some("hello world"), None, Some("a b c d")]
                .into_iter()
                .collect::<datafusion::arrow::array::StringViewArray>(),
        );
        columns[1] = Arc::new(UInt32Array::from(vec![7, 0, 3]));
        let later = RecordBatch::try_new(Arc::clone(&schema), columns).unwrap();
        let (recounted, tokenized) = annotate(&later, "text", &tokenizer, &schema).unwrap();
        assert_eq!((counts_of(&recounted), tokenized), (vec![7, 0, 4], 1));
        assert_eq!(recounted.schema(), schema);
    }
}
