//! Small helpers every layer uses: units for people, percentiles, redaction of secrets,
//! progress on stderr, and readings of the process's resources.

pub mod percentile;
pub mod progress;
pub mod redact;
pub mod resources;
pub mod units;
