//! `--log-format json`: log events as one JSON object per line (`timestamp`, `level`,
//! `target`, `fields`), for log collectors.

use std::fmt;

use serde_json::{Map, Value, json};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Formats each event as a JSON line.
pub struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Map::new();
        event.record(&mut Fields(&mut fields));
        let meta = event.metadata();
        let line = line(&meta.level().to_string(), meta.target(), fields);
        writeln!(writer, "{line}")
    }
}

/// One log line: the time now, `level`, `target` and `fields`.
pub fn line(level: &str, target: &str, fields: Map<String, Value>) -> Value {
    json!({
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "level": level,
        "target": target,
        "fields": fields,
    })
}

/// A line of prepcost's own with just a message.
pub fn message(level: &str, text: &str) -> Value {
    let mut fields = Map::new();
    fields.insert("message".into(), Value::String(text.to_string()));
    line(level, "prepcost", fields)
}

/// Collects an event's fields as JSON values.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), Value::String(format!("{value:?}")));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().into(), Value::String(value.into()));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), json!(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), json!(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), json!(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), json!(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_line_has_the_fields_collectors_expect() {
        let line = message("WARN", "budget exceeded: x");
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["target"], "prepcost");
        assert_eq!(line["fields"]["message"], "budget exceeded: x");
        assert!(line["timestamp"].as_str().unwrap().ends_with('Z'));
    }
}
