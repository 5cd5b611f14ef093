//! Small helpers every layer uses: units for people, percentiles, redaction of secrets,
//! progress on stderr, readings of the process's resources, and Unicode classes.

pub mod cleanup;
pub mod json_log;
pub mod lock;
pub mod percentile;
pub mod progress;
#[cfg(test)]
pub mod property;
pub mod redact;
pub mod resources;
pub mod unicode;
pub mod units;
