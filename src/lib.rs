#![doc = include_str!("../README.md")]

pub mod cli;
pub mod commands;
pub mod config;
pub mod cost;
pub mod dataset;
pub mod error;
pub mod intermediate;
pub mod layout;
pub mod loader;
pub mod memory;
pub mod output;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod resources;
pub mod scan;
pub mod session;
pub mod stages;
pub mod storage;
pub mod textfiles;
pub mod tokenizer;
pub mod tokens;
pub mod udf;
pub mod whatif;

pub use error::{Error, Result};
