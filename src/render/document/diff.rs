//! `diff` as a document: each figure in the two reports, its change, and the flag.

use super::doc::{Doc, right_align_numbers, table};
use crate::model::DiffReport;

pub fn render(report: &DiffReport) -> Doc {
    let mut out = Doc::new();
    out.title(format!(
        "prepcost diff · {} → {} ({} reports)",
        report.a, report.b, report.report_command
    ));
    out.push_str(&format!(
        "{} of {} figures changed by more than {:.1}%\n\n",
        report.flagged,
        report.figures.len(),
        report.tolerance * 100.0
    ));
    let mut figures = table(&["figure", "A", "B", "change", "flag"]);
    for f in &report.figures {
        let change = match (f.change, f.a, f.b) {
            (Some(c), _, _) => format!("{:+.1}%", c * 100.0),
            (None, Some(_), None) => "only in A".to_string(),
            (None, None, Some(_)) => "only in B".to_string(),
            _ => String::new(),
        };
        figures.add_row(vec![
            f.figure.clone(),
            f.a.map_or_else(String::new, number),
            f.b.map_or_else(String::new, number),
            change,
            if f.flagged {
                "CHANGED".into()
            } else {
                String::new()
            },
        ]);
    }
    right_align_numbers(&mut figures, 1);
    out.section("Figures", figures);
    out
}

/// A figure as JSON holds it: integers without decimals, others with six significant digits.
fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{x:.0}");
    }
    let decimals = (5 - x.abs().log10().floor() as i32).clamp(0, 15) as usize;
    let text = format!("{x:.decimals$}");
    match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => text,
    }
}
