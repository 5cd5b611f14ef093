//! Sources: the files of a dataset and their footers, the scan that reads them in source
//! order, JSONL and CSV files, and decoded samples.

pub mod dataset;
pub mod footer;
pub mod footer_repair;
pub mod sample;
pub mod sampling;
pub mod scan;
pub mod spec;
pub mod textfiles;
pub mod textscan;

pub use dataset::{DataFile, Dataset};
pub use sample::Sample;
pub use sampling::{SampleBy, SamplePlan, SampleSpec, SampleUnits};
pub use spec::{DEFAULT_TEXT_COLUMN, OnError, SourceFormat, SourceSpec};
