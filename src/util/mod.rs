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

/// A run's id: when it began (UTC, to the microsecond) and the process, as in
/// `20261207T235455.123456Z-4242`. It names a run's history file and its output's manifest.
pub fn run_id(now: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "{}-{}",
        now.format("%Y%m%dT%H%M%S%.6fZ"),
        std::process::id()
    )
}
