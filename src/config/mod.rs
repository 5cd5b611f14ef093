//! Settings of each command, resolved in rising precedence from defaults, the pipeline file,
//! the environment and the command line (clap merges the last two before they reach a
//! request). The settings types themselves live beside what they configure; this module
//! only builds them.

pub mod estimate;
pub mod history;
pub mod inspect;
pub mod loader;
pub mod pipeline_file;
pub mod pricing;
pub mod profile;
pub mod source;

pub use estimate::{EstimateConfig, EstimateRequest};
pub use inspect::{InspectConfig, InspectRequest};
pub use loader::{LoaderConfig, LoaderRequest};
pub use pipeline_file::Pipeline;
pub use pricing::PriceFlags;
pub use profile::{ProfileConfig, ProfileRequest};
