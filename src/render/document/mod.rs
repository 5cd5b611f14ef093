//! The report of each command as a document (a title, headed sections, prose and tables),
//! printed for a terminal, as Markdown, or inside the HTML page.

mod common;
pub mod diff;
mod doc;
pub mod estimate;
pub mod history;
pub mod inspect;
pub mod interrupted;
pub mod loader;
mod near_dedup;
pub mod profile;
mod projection;

pub use doc::Doc;
