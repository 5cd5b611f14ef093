//! The settings every property test shares.

/// 100,000 cases, and no files of failing cases (each one found becomes a fixed case of the
/// test beside it).
pub fn cases() -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases: 100_000,
        failure_persistence: None,
        ..Default::default()
    }
}
