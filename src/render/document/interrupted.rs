//! The partial report of an interrupted run: the signal, the steps finished and the one
//! stopped.

use super::doc::{Doc, right_align_numbers, table};
use crate::model::InterruptedReport;
use crate::util::units::{count, seconds};

pub fn render(report: &InterruptedReport) -> Doc {
    let mut out = Doc::new();
    out.title(format!(
        "prepcost {} · {} · interrupted by {} after {} s",
        report.command,
        report.dataset,
        report.signal,
        seconds(report.wall_seconds)
    ));
    out.push_str(&format!("{}\n\n", report.note));
    let mut steps = table(&["step finished", "rows", "wall s"]);
    for step in &report.steps_finished {
        steps.add_row(vec![
            step.name.clone(),
            count(step.rows),
            seconds(step.wall_seconds),
        ]);
    }
    right_align_numbers(&mut steps, 1);
    out.section("Steps finished", steps);
    if let Some(running) = &report.step_running {
        out.push_str(&format!("Stopped during: {running}\n"));
    }
    out
}
