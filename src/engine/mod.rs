//! The query engine of a run: the DataFusion session with its memory budget, on this process
//! or a Ballista cluster, the results of its steps held in memory or spilled, and prepcost's
//! SQL functions.

pub mod cluster;
pub mod intermediate;
pub mod memory;
pub mod session;
pub mod udf;
pub mod written;

pub use cluster::Engine;
pub use intermediate::{
    HIDDEN_COLUMNS, Intermediate, ROW_TOKENS, ROW_TOKENS_FRESH, ROW_TOKENS_TEXT_HASH, SOURCE_ROW,
    TextStats,
};
pub use session::{INPUT_TABLE, Session};
