//! One file per subcommand: each builds its inputs, calls the library and returns a report.

pub mod estimate;
pub mod inspect;
pub mod loader;
pub mod profile;
