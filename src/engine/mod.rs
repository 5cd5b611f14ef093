//! The query engine of a run: the DataFusion session with its memory budget, the results of
//! its steps held in memory or spilled, and prepcost's SQL functions.

pub mod intermediate;
pub mod memory;
pub mod session;
pub mod udf;

pub use intermediate::{
    HIDDEN_COLUMNS, Intermediate, ROW_TOKENS, ROW_TOKENS_TEXT_HASH, SOURCE_ROW, TextStats,
};
pub use session::{INPUT_TABLE, Session};
