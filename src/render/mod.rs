//! Renderers: a report as terminal tables, Markdown, a self-contained HTML page, JSON or
//! Prometheus metrics. They format what the report holds and compute nothing.

mod charts;
mod document;
mod escape;
mod html;
mod json;
mod prometheus;

pub use prometheus::{Ending, render as render_prometheus};

use crate::model::Report;

/// The formats a report can be rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Tables for a terminal.
    #[default]
    Table,
    /// One JSON object.
    Json,
    /// GitHub-flavoured Markdown: the table report's sections, pipe tables.
    Markdown,
    /// One self-contained HTML page with charts as inline SVG.
    Html,
}

impl Format {
    /// The format a report file's name asks for: `.html`/`.htm`, `.md`/`.markdown`, `.txt`;
    /// JSON for any other name.
    pub fn of_file(path: &std::path::Path) -> Format {
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        match extension.to_ascii_lowercase().as_str() {
            "html" | "htm" => Format::Html,
            "md" | "markdown" => Format::Markdown,
            "txt" => Format::Table,
            _ => Format::Json,
        }
    }
}

/// Renders `report` in `format`.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Table => document(report).terminal(),
        Format::Markdown => document(report).markdown(),
        Format::Html => html::page(report, &document(report)),
        Format::Json => render_json(report),
    }
}

/// The report's sections.
fn document(report: &Report) -> document::Doc {
    match report {
        Report::Profile(r) => document::profile::render(r),
        Report::Inspect(r) => document::inspect::render(r),
        Report::Loader(r) => document::loader::render(r),
        Report::Estimate(r) => document::estimate::render(r),
        Report::Interrupted(r) => document::interrupted::render(r),
        Report::History(r) => document::history::render(r),
        Report::Diff(r) => document::diff::render(r),
    }
}

/// Renders `report` as JSON, for `--format json` and `--report FILE`.
pub fn render_json(report: &Report) -> String {
    match report {
        Report::Profile(r) => json::render(r.as_ref()),
        Report::Inspect(r) => json::render(r.as_ref()),
        Report::Loader(r) => json::render(r.as_ref()),
        Report::Estimate(r) => json::render(r.as_ref()),
        Report::Interrupted(r) => json::render(r.as_ref()),
        Report::History(r) => json::render(r.as_ref()),
        Report::Diff(r) => json::render(r.as_ref()),
    }
}
