//! prepcost's integration tests: one test binary, one module per area.

mod cli;
#[cfg(feature = "ballista")]
mod cluster;
mod curation;
mod datasets;
mod emulators;
mod estimate;
mod html;
mod inspect;
mod jobs;
mod layers;
mod loader;
mod memory;
mod near_dedup;
mod output;
mod pipeline;
mod reports;
mod sample_data;
mod sampling;
mod servers;
mod storage;
mod support;
mod text_sources;
