//! The JSON renderer: one pretty-printed object, snake_case fields, bytes as integers,
//! seconds and dollars as floats.

use serde::Serialize;

/// The report as one JSON object followed by a newline.
pub fn render(report: &impl Serialize) -> String {
    let mut text =
        serde_json::to_string_pretty(report).expect("report types serialise without fail");
    text.push('\n');
    text
}
