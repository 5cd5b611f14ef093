//! One file per subcommand: each builds its inputs, calls the library and returns a report.

pub mod cluster;
pub mod diff;
pub mod estimate;
pub mod history;
pub mod inspect;
pub mod loader;
pub mod profile;
