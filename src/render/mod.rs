//! Renderers: a report as terminal tables or as JSON. They format what the report holds and
//! compute nothing.

mod json;
mod table;

use crate::model::Report;

/// The formats a report can be rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Tables for a terminal.
    #[default]
    Table,
    /// One JSON object.
    Json,
}

/// Renders `report` in `format`.
pub fn render(report: &Report, format: Format) -> String {
    match (format, report) {
        (Format::Table, Report::Profile(r)) => table::profile::render(r),
        (Format::Table, Report::Inspect(r)) => table::inspect::render(r),
        (Format::Table, Report::Loader(r)) => table::loader::render(r),
        (Format::Table, Report::Estimate(r)) => table::estimate::render(r),
        (Format::Json, _) => render_json(report),
    }
}

/// Renders `report` as JSON, for `--format json` and `--report FILE`.
pub fn render_json(report: &Report) -> String {
    match report {
        Report::Profile(r) => json::render(r.as_ref()),
        Report::Inspect(r) => json::render(r.as_ref()),
        Report::Loader(r) => json::render(r.as_ref()),
        Report::Estimate(r) => json::render(r.as_ref()),
    }
}
