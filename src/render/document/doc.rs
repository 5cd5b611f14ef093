//! A report as a document: a title, headed sections, lines of prose and tables, written once
//! by each command's renderer and printed for a terminal, as GitHub-flavoured Markdown, or as
//! HTML.

use std::fmt;

use comfy_table::presets::UTF8_BORDERS_ONLY;
use comfy_table::{CellAlignment, Table};

use crate::render::escape::escape;

/// A report's sections, in order.
#[derive(Debug, Default)]
pub struct Doc {
    blocks: Vec<Block>,
}

#[derive(Debug)]
enum Block {
    /// The first line: what ran on what.
    Title(String),
    /// The name of the table below it.
    Heading(String),
    Line(String),
    /// A blank line between sections.
    Gap,
    Table(Grid),
}

impl Doc {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn title(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Title(text.into()));
    }

    /// A table under its heading, and a blank line after it.
    pub fn section(&mut self, heading: impl Into<String>, table: Grid) {
        self.blocks.push(Block::Heading(heading.into()));
        self.blocks.push(Block::Table(table));
        self.blocks.push(Block::Gap);
    }

    /// The name of what follows.
    pub fn heading(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Heading(text.into()));
    }

    /// A table without a heading.
    pub fn table(&mut self, table: Grid) {
        self.blocks.push(Block::Table(table));
    }

    /// Lines of prose: each line of `text` one line, an empty line a gap.
    pub fn push_str(&mut self, text: &str) {
        let text = text.strip_suffix('\n').unwrap_or(text);
        if text.is_empty() {
            self.blocks.push(Block::Gap);
            return;
        }
        for line in text.split('\n') {
            self.blocks.push(match line {
                "" => Block::Gap,
                _ => Block::Line(line.to_string()),
            });
        }
    }

    /// A blank line.
    pub fn gap(&mut self) {
        self.blocks.push(Block::Gap);
    }

    /// Appends another document's blocks.
    pub fn append(&mut self, mut other: Doc) {
        self.blocks.append(&mut other.blocks);
    }

    /// For a terminal: tables with box borders, numbers right-aligned.
    pub fn terminal(&self) -> String {
        let mut out = String::new();
        for block in &self.blocks {
            match block {
                Block::Title(text) | Block::Heading(text) | Block::Line(text) => {
                    out.push_str(text);
                    out.push('\n');
                }
                Block::Gap => out.push('\n'),
                Block::Table(grid) => out.push_str(&format!("{grid}\n")),
            }
        }
        out
    }

    /// GitHub-flavoured Markdown: `#` for the title, `###` for a section, each line of prose a
    /// paragraph, tables as pipe tables.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        for block in &self.blocks {
            match block {
                Block::Title(text) => out.push_str(&format!("# {text}\n\n")),
                Block::Heading(text) => out.push_str(&format!("### {text}\n\n")),
                Block::Line(text) => out.push_str(&format!("{}\n\n", text.trim_start())),
                Block::Gap => {}
                Block::Table(grid) => out.push_str(&format!("{}\n", grid.markdown())),
            }
        }
        out
    }

    /// The title, for a page's `<title>`.
    pub fn title_text(&self) -> &str {
        self.blocks
            .iter()
            .find_map(|b| match b {
                Block::Title(text) => Some(text.as_str()),
                _ => None,
            })
            .unwrap_or("prepcost report")
    }

    /// The body of an HTML page: `h1`, `h2`, paragraphs and tables, every text escaped;
    /// `before_sections` (HTML) comes after the title and the lines under it, before the
    /// first heading or table.
    pub fn html(&self, before_sections: &str) -> String {
        let mut out = String::new();
        let mut inserted = false;
        for block in &self.blocks {
            if !inserted && matches!(block, Block::Heading(_) | Block::Table(_)) {
                out.push_str(before_sections);
                inserted = true;
            }
            match block {
                Block::Title(text) => out.push_str(&format!("<h1>{}</h1>\n", escape(text))),
                Block::Heading(text) => out.push_str(&format!("<h2>{}</h2>\n", escape(text))),
                Block::Line(text) => out.push_str(&format!("<p>{}</p>\n", escape(text.trim()))),
                Block::Gap => {}
                Block::Table(grid) => out.push_str(&grid.html()),
            }
        }
        if !inserted {
            out.push_str(before_sections);
        }
        out
    }
}

/// A table: a header and rows of cells, numbers right-aligned.
#[derive(Debug, Clone, Default)]
pub struct Grid {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    /// Columns from this one on hold numbers.
    numbers_from: Option<usize>,
}

/// A table with `header`.
pub fn table(header: &[&str]) -> Grid {
    Grid {
        header: header.iter().map(|h| h.to_string()).collect(),
        ..Grid::default()
    }
}

/// Right-aligns every column from `first` on.
pub fn right_align_numbers(grid: &mut Grid, first: usize) {
    grid.numbers_from = Some(first);
}

impl Grid {
    pub fn add_row(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    fn is_number(&self, column: usize) -> bool {
        self.numbers_from.is_some_and(|first| column >= first)
    }

    /// A pipe table; a `|` in a cell is escaped, a line break becomes a space.
    fn markdown(&self) -> String {
        let cell = |text: &str| text.replace('|', "\\|").replace('\n', " ");
        let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
        let mut out = line(self.header.iter().map(|h| cell(h)).collect());
        out.push_str(&line(
            (0..self.header.len())
                .map(|i| match self.is_number(i) {
                    true => "---:".to_string(),
                    false => "---".to_string(),
                })
                .collect(),
        ));
        for row in &self.rows {
            out.push_str(&line(row.iter().map(|c| cell(c)).collect()));
        }
        out
    }

    fn html(&self) -> String {
        let cells = |row: &[String], tag: &str| -> String {
            row.iter()
                .enumerate()
                .map(|(i, text)| {
                    let class = if self.is_number(i) {
                        " class=\"n\""
                    } else {
                        ""
                    };
                    format!("<{tag}{class}>{}</{tag}>", escape(text))
                })
                .collect()
        };
        let mut out = format!(
            "<table>\n<thead><tr>{}</tr></thead>\n<tbody>\n",
            cells(&self.header, "th")
        );
        for row in &self.rows {
            out.push_str(&format!("<tr>{}</tr>\n", cells(row, "td")));
        }
        out.push_str("</tbody>\n</table>\n");
        out
    }
}

/// The terminal form: box borders, as every prepcost table.
impl fmt::Display for Grid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut table = Table::new();
        table
            .load_preset(UTF8_BORDERS_ONLY)
            .set_header(self.header.clone());
        for row in &self.rows {
            table.add_row(row.clone());
        }
        if let Some(first) = self.numbers_from {
            for i in first..table.column_count() {
                if let Some(column) = table.column_mut(i) {
                    column.set_cell_alignment(CellAlignment::Right);
                }
            }
        }
        write!(f, "{table}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Doc {
        let mut doc = Doc::new();
        doc.title("prepcost profile · data/");
        let mut grid = table(&["stage", "rows"]);
        grid.add_row(vec!["a|b <c>".into(), "1,024".into()]);
        right_align_numbers(&mut grid, 1);
        doc.section("Stages", grid);
        doc.push_str("Total: 1 → 2\nCost: $0\n");
        doc
    }

    #[test]
    fn markdown_escapes_pipes_and_aligns_numbers() {
        let md = sample().markdown();
        assert_eq!(
            md,
            "# prepcost profile · data/\n\n### Stages\n\n| stage | rows |\n| --- | ---: |\n\
             | a\\|b <c> | 1,024 |\n\nTotal: 1 → 2\n\nCost: $0\n\n"
        );
    }

    #[test]
    fn html_escapes_every_text() {
        let html = sample().html("<figure></figure>");
        assert!(html.starts_with("<h1>prepcost profile · data/</h1>\n<figure></figure><h2>"));
        assert!(html.contains("<td>a|b &lt;c&gt;</td><td class=\"n\">1,024</td>"));
        assert!(html.contains("<h2>Stages</h2>"));
        assert!(html.contains("<p>Total: 1 → 2</p>"));
        assert!(!html.contains("<c>"));
    }

    #[test]
    fn terminal_puts_a_gap_after_a_section() {
        let text = sample().terminal();
        assert!(text.starts_with("prepcost profile · data/\nStages\n"));
        assert!(
            text.contains("│\n\nTotal: 1 → 2\nCost: $0\n")
                || text.contains("\n\nTotal: 1 → 2\nCost: $0\n")
        );
    }
}
