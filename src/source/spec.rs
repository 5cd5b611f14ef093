//! What a source is as configured: where it is, its format, its text column, and what to do
//! with a file that cannot be read.

use std::fmt;

/// The text column when none is configured.
pub const DEFAULT_TEXT_COLUMN: &str = "text";

/// Where the data is and which column holds the text.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSpec {
    pub uri: String,
    pub format: SourceFormat,
    pub text_column: String,
    pub id_column: Option<String>,
    /// What to do with a JSONL line that cannot be read.
    pub on_error: OnError,
}

/// The file formats a source can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceFormat {
    #[default]
    Parquet,
}

impl SourceFormat {
    /// The format's name in the pipeline file and the report.
    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::Parquet => "parquet",
        }
    }
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What to do with a file that cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Fail the run, naming the file.
    #[default]
    Fail,
    /// List the file as skipped, with its reason, and go on with the rest.
    Skip,
}
