//! The one error type of prepcost: every failure a user can meet, worded for them.
//!
//! Each variant names what failed and where (file, stage, column, line of the pipeline file),
//! so that `main` can print it as a single line on stderr and exit with code 2.

use datafusion::error::DataFusionError;

/// Everything that can go wrong in a prepcost run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A command-line value that clap accepted but that makes no sense (e.g. a zero limit).
    #[error("{0}")]
    Usage(String),

    /// The source path or URI does not exist.
    #[error("{path}: no such file or directory")]
    SourceNotFound { path: String },

    /// The source exists but holds no file prepcost can read.
    #[error("{path}: no data files found (looked for {looked_for})")]
    NoDataFiles { path: String, looked_for: String },

    /// A source file that cannot be read: not Parquet, corrupt, encrypted, unsupported.
    #[error("{path}: {message}")]
    SourceFile { path: String, message: String },

    /// An object store that cannot be set up: a missing bucket, account or credential.
    #[error("{uri}: {message}")]
    Storage { uri: String, message: String },

    /// A configured column (text or id) is not in the source.
    #[error("{role} '{column}' not found in {dataset}; its columns are: {columns}")]
    MissingColumn {
        role: &'static str,
        column: String,
        dataset: String,
        columns: String,
    },

    /// The configured text column is not a string column.
    #[error("text column '{column}' of {dataset} has type {data_type}, not a string type")]
    NotAStringColumn {
        column: String,
        dataset: String,
        data_type: String,
    },

    /// The pipeline file is not valid TOML or not a valid pipeline; `line` and `column` are 1-based.
    #[error("{path}:{line}:{column}: {message}")]
    PipelineFile {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },

    /// A stage failed to plan or to run; `origin` is its SQL file or built-in name.
    #[error("stage '{stage}' ({origin}): {message}")]
    Stage {
        stage: String,
        origin: String,
        message: String,
    },

    /// A query needed more memory than `--memory-limit` allows.
    #[error("{context}: out of memory under the limit of {limit}: {message}; raise --memory-limit")]
    MemoryLimit {
        context: String,
        limit: String,
        message: String,
    },

    /// Writing the output dataset or the report failed; the target was left as it was.
    #[error("output {path}: {message}")]
    Output { path: String, message: String },

    /// A place the run was asked to write that would destroy or mix with data prepcost did
    /// not write (the source, or someone's files); nothing was written.
    #[error("{flag} {path}: {message}")]
    Refused {
        flag: &'static str,
        path: String,
        message: String,
    },

    /// Any other I/O failure, with what was being done.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    /// The query engine failed outside any stage or file we could name.
    #[error("{context}: {message}")]
    Engine { context: String, message: String },

    /// `--lock`'s file is held by another run of the job.
    #[error("lock {path} is held by {holder}: another run of this job is going on")]
    LockHeld { path: String, holder: String },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// An engine error seen while doing `context`.
    pub fn engine(context: impl Into<String>, e: &DataFusionError) -> Self {
        Error::Engine {
            context: context.into(),
            message: describe(e),
        }
    }
}

/// The message of a DataFusion error on one line, without the layers of wrapping that say
/// nothing to a user ("External error: Arrow error: …").
pub fn describe(e: &DataFusionError) -> String {
    if let Some(message) = missing_function(&e.to_string()) {
        return message;
    }
    let root = e.find_root();
    let text = match root {
        DataFusionError::Context(..) | DataFusionError::Shared(_) => root.to_string(),
        other => other.message().into_owned(),
    };
    one_line(strip_prefixes(&text))
}

/// What a cluster node that lacks one of prepcost's functions means, from the message its
/// registry or codec gives (`There is no UDF named "nfkc" in the TaskContext`,
/// `PhysicalExtensionCodec is not provided for scalar function nfkc`), quoted or not.
fn missing_function(text: &str) -> Option<String> {
    let text = text.replace(['\\', '"'], "");
    let (_, rest) = text
        .split_once("no UDF named ")
        .or_else(|| text.split_once("is not provided for scalar function "))?;
    let name = rest.split_whitespace().next()?;
    let name = name.trim_end_matches(|c: char| !(c.is_alphanumeric() || c == '_'));
    Some(format!(
        "the cluster does not know the function '{name}': a node is not a prepcost one; start the scheduler and every executor with `prepcost cluster`"
    ))
}

/// Any error message on one line, without the layer names wrapped errors repeat.
pub fn clean(text: &str) -> String {
    one_line(strip_prefixes(text))
}

/// Removes the layer names that wrapped errors repeat ("Parquet error: Parquet error: …").
fn strip_prefixes(mut text: &str) -> &str {
    const PREFIXES: [&str; 8] = [
        "External error: ",
        "Arrow error: ",
        "Arrow: ",
        "Parquet error: ",
        "Parquet argument error: ",
        "Execution error: ",
        "Object Store error: ",
        "External: ",
    ];
    while let Some(rest) = PREFIXES.iter().find_map(|p| text.strip_prefix(p)) {
        text = rest;
    }
    text
}

/// True when the root cause of `e` is the memory pool refusing a reservation.
pub fn is_out_of_memory(e: &DataFusionError) -> bool {
    matches!(e.find_root(), DataFusionError::ResourcesExhausted(_))
}

/// Joins the lines of a message so that it fits the one-line error contract.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        if i > 0 {
            out.push_str("; ");
        }
        out.push_str(line);
    }
    out
}

/// The message of a caught panic.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "no message".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_joins_lines() {
        assert_eq!(one_line("a\n  b\n\nc  "), "a; b; c");
        assert_eq!(one_line("single"), "single");
    }

    #[test]
    fn a_function_missing_on_a_node_is_named() {
        let e = DataFusionError::Execution(
            "Job abc failed: Task failed:\nError: Plan(\"There is no UDF named \\\"text_hash\\\" in the TaskContext\")".into(),
        );
        let message = describe(&e);
        assert!(message.contains("function 'text_hash'"), "{message}");
        assert!(!message.contains('\n'));
        let e = DataFusionError::NotImplemented(
            "PhysicalExtensionCodec is not provided for scalar function nfkc".into(),
        );
        assert!(describe(&e).contains("function 'nfkc'"));
    }

    #[test]
    fn describe_finds_the_root_cause() {
        let e = DataFusionError::ResourcesExhausted("no room".into()).context("while sorting");
        assert!(is_out_of_memory(&e));
        assert_eq!(describe(&e), "no room");
        let e = DataFusionError::External("Parquet error: Parquet error: broken".into());
        assert_eq!(describe(&e), "broken");
        let e = DataFusionError::Plan("bad\nplan".into());
        assert!(!is_out_of_memory(&e));
        assert_eq!(describe(&e), "bad; plan");
    }
}
