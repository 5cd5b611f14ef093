//! The loader-throughput simulation: reads a Parquet dataset the way a training data loader
//! does and measures what the training loop would see.
//!
//! Row groups are fetched ahead through the object store (asynchronously, `prefetch` per
//! worker in flight), decoded and tokenized on a pool of `workers` threads, and cut into the
//! training loop's batches of `batch_size` rows — in decode order, or drawn from a seeded
//! shuffle buffer after a per-epoch shuffle of the row-group order. The training loop itself
//! takes each batch as soon as it is ready, so the rates are the loader's ceiling.

mod assemble;
pub mod plan;
pub mod run;
pub mod verdict;

pub use plan::Plan;
pub use run::{Measured, Progress, run};
pub use verdict::Target;

/// How a loader run reads.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Rows per batch handed to the training loop.
    pub batch_size: usize,
    /// Row groups fetched ahead per worker.
    pub prefetch: usize,
    pub shuffle: Option<Shuffle>,
    pub epochs: u32,
    pub limit: Option<Limit>,
}

/// Shuffling: the row-group order of every epoch, then rows through a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shuffle {
    pub seed: u64,
    /// Rows held in the shuffle buffer; each batch is drawn at random from it.
    pub buffer_rows: usize,
}

/// What stops a run before its epochs are done.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    Rows(u64),
    Seconds(f64),
}

/// Batches and settings for the loader's unit tests.
#[cfg(test)]
mod testing {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int64Array, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::{Settings, Shuffle};

    /// One Int64 column `n` holding `range`.
    pub fn numbers(range: std::ops::Range<i64>) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from_iter_values(range))]).unwrap()
    }

    /// Batches of 4 rows, one epoch, no limit.
    pub fn settings(shuffle: Option<Shuffle>) -> Settings {
        Settings {
            batch_size: 4,
            prefetch: 1,
            shuffle,
            epochs: 1,
            limit: None,
        }
    }
}
