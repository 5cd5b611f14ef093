//! Cuts decoded batches into the training loop's batches: in decode order (full batches
//! pass through, row-group remainders are joined) or drawn at random from a shuffle buffer.

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::{BatchCoalescer, interleave_record_batch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{Settings, Shuffle};
use crate::error::{Error, Result};

/// Cuts decoded batches into the training loop's batches.
pub(super) enum Assembler {
    /// Decode order: full batches pass through, the remainders of row groups are joined.
    InOrder {
        coalescer: BatchCoalescer,
        batch_size: usize,
    },
    Shuffled(Box<ShuffleBuffer>),
}

impl Assembler {
    pub(super) fn new(schema: SchemaRef, settings: &Settings) -> Self {
        match settings.shuffle {
            None => Assembler::InOrder {
                coalescer: BatchCoalescer::new(schema, settings.batch_size),
                batch_size: settings.batch_size,
            },
            Some(shuffle) => {
                Assembler::Shuffled(Box::new(ShuffleBuffer::new(shuffle, settings.batch_size)))
            }
        }
    }

    /// Takes a decoded batch; returns the batches now complete.
    pub(super) fn push(&mut self, batch: RecordBatch) -> Result<Vec<RecordBatch>> {
        match self {
            Assembler::InOrder {
                coalescer,
                batch_size,
            } => {
                // A full batch goes straight to the training loop, ahead of any rows still
                // waiting to be joined: copying it behind them would cost a copy of every
                // batch once one row group's remainder were waiting.
                if batch.num_rows() == *batch_size {
                    return Ok(vec![batch]);
                }
                coalescer.push_batch(batch).map_err(assembling)?;
                Ok(std::iter::from_fn(|| coalescer.next_completed_batch()).collect())
            }
            Assembler::Shuffled(buffer) => buffer.push(batch),
        }
    }

    /// The remaining rows, as batches.
    pub(super) fn finish(&mut self) -> Result<Vec<RecordBatch>> {
        match self {
            Assembler::InOrder { coalescer, .. } => {
                coalescer.finish_buffered_batch().map_err(assembling)?;
                Ok(std::iter::from_fn(|| coalescer.next_completed_batch()).collect())
            }
            Assembler::Shuffled(buffer) => buffer.finish(),
        }
    }
}

fn assembling(e: ArrowError) -> Error {
    Error::Engine {
        context: "assembling loader batches".into(),
        message: e.to_string(),
    }
}

/// A shuffle buffer: holds up to `capacity` rows; each batch is `batch_size` rows drawn from
/// it uniformly at random, as a streaming loader's shuffle buffer does.
pub(super) struct ShuffleBuffer {
    rng: StdRng,
    capacity: usize,
    batch_size: usize,
    /// Decoded batches with rows still in the buffer.
    batches: Vec<RecordBatch>,
    /// Rows of `batches` still in the buffer.
    live: Vec<usize>,
    /// The buffered rows: (batch, row).
    rows: Vec<(usize, usize)>,
}

impl ShuffleBuffer {
    fn new(shuffle: Shuffle, batch_size: usize) -> Self {
        ShuffleBuffer {
            rng: StdRng::seed_from_u64(shuffle.seed),
            capacity: shuffle.buffer_rows.max(batch_size),
            batch_size,
            batches: Vec::new(),
            live: Vec::new(),
            rows: Vec::new(),
        }
    }

    fn push(&mut self, batch: RecordBatch) -> Result<Vec<RecordBatch>> {
        let index = self.batches.len();
        self.rows
            .extend((0..batch.num_rows()).map(|row| (index, row)));
        self.live.push(batch.num_rows());
        self.batches.push(batch);
        let mut out = Vec::new();
        while self.rows.len() >= self.capacity {
            out.push(self.draw(self.batch_size)?);
        }
        Ok(out)
    }

    fn finish(&mut self) -> Result<Vec<RecordBatch>> {
        let mut out = Vec::new();
        while !self.rows.is_empty() {
            out.push(self.draw(self.batch_size.min(self.rows.len()))?);
        }
        Ok(out)
    }

    /// Takes `n` random rows out of the buffer as one batch.
    fn draw(&mut self, n: usize) -> Result<RecordBatch> {
        let mut picked = Vec::with_capacity(n);
        for _ in 0..n {
            let at = self.rng.random_range(0..self.rows.len());
            let (batch, row) = self.rows.swap_remove(at);
            self.live[batch] -= 1;
            picked.push((batch, row));
        }
        let sources: Vec<&RecordBatch> = self.batches.iter().collect();
        let batch = interleave_record_batch(&sources, &picked).map_err(assembling)?;
        self.compact();
        Ok(batch)
    }

    /// Drops the batches whose rows have all been drawn, once they are half of those held.
    fn compact(&mut self) {
        let empty = self.live.iter().filter(|&&n| n == 0).count();
        if empty * 2 < self.batches.len() {
            return;
        }
        let mut renumber = vec![usize::MAX; self.batches.len()];
        let mut kept = 0;
        for (i, &live) in self.live.iter().enumerate() {
            if live > 0 {
                renumber[i] = kept;
                kept += 1;
            }
        }
        let batches = std::mem::take(&mut self.batches);
        self.batches = batches
            .into_iter()
            .zip(&self.live)
            .filter(|(_, live)| **live > 0)
            .map(|(b, _)| b)
            .collect();
        self.live.retain(|&n| n > 0);
        for (batch, _) in &mut self.rows {
            *batch = renumber[*batch];
        }
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::Int64Type;

    use super::*;
    use crate::loader::testing::{numbers, settings};

    fn values(batches: &[RecordBatch]) -> Vec<i64> {
        batches
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
            .collect()
    }

    fn assemble(settings: &Settings, input: &[RecordBatch]) -> Vec<RecordBatch> {
        let mut assembler = Assembler::new(input[0].schema(), settings);
        let mut out = Vec::new();
        for batch in input {
            out.extend(assembler.push(batch.clone()).unwrap());
        }
        out.extend(assembler.finish().unwrap());
        out
    }

    #[test]
    fn in_order_batches_are_full_and_keep_every_row_once() {
        let input = [
            numbers(0..4),
            numbers(4..7),
            numbers(7..11),
            numbers(11..13),
        ];
        let out = assemble(&settings(None), &input);
        let sizes: Vec<usize> = out.iter().map(RecordBatch::num_rows).collect();
        assert_eq!(sizes, [4, 4, 4, 1]);
        // Full batches pass through as they come; remainders are joined in order.
        assert_eq!(values(&out), [0, 1, 2, 3, 7, 8, 9, 10, 4, 5, 6, 11, 12]);
    }

    #[test]
    fn the_shuffle_buffer_keeps_every_row_once_and_is_seeded() {
        let shuffle = Shuffle {
            seed: 7,
            buffer_rows: 6,
        };
        let input: Vec<RecordBatch> = (0..10).map(|i| numbers(i * 5..i * 5 + 5)).collect();
        let out = assemble(&settings(Some(shuffle)), &input);
        assert!(out[..out.len() - 1].iter().all(|b| b.num_rows() == 4));
        let mut seen = values(&out);
        assert_ne!(seen, (0..50).collect::<Vec<_>>(), "not shuffled");
        assert_eq!(values(&assemble(&settings(Some(shuffle)), &input)), seen);
        seen.sort_unstable();
        assert_eq!(seen, (0..50).collect::<Vec<_>>());
    }
}
