//! Small helpers every layer uses: units for people, percentiles, redaction of secrets,
//! progress on stderr, readings of the process's resources, and Unicode classes.

pub mod cleanup;
pub mod json_log;
pub mod lock;
pub mod percentile;
pub mod progress;
pub mod redact;
pub mod resources;
pub mod unicode;
pub mod units;

/// The settings of every property test: 100,000 cases, and no files of failing cases (each
/// one found becomes a fixed case of the test beside it).
#[cfg(test)]
pub fn property_cases() -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases: 100_000,
        failure_persistence: None,
        ..Default::default()
    }
}
