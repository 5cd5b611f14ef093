//! The terminal renderers: a few compact tables per command, sizes in IEC units, times in
//! seconds.

mod common;
pub mod estimate;
pub mod inspect;
pub mod loader;
mod near_dedup;
pub mod profile;
mod projection;
