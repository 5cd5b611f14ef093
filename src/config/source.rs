//! What every command checks of where it reads: a source that is not empty, and columns
//! that name something.

use crate::error::{Error, Result};

/// The source must name something; `--columns`, when given, one or more non-empty names.
pub fn check(source: &str, columns: Option<&[String]>) -> Result<()> {
    if source.is_empty() {
        return Err(Error::Usage("the source cannot be empty".into()));
    }
    if let Some(columns) = columns
        && (columns.is_empty() || columns.iter().any(|c| c.trim().is_empty()))
    {
        return Err(Error::Usage(
            "--columns takes a comma-separated list of column names".into(),
        ));
    }
    Ok(())
}
