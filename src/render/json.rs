//! The JSON renderer: one object, snake_case fields, bytes as integers, seconds and dollars
//! as floats. Indented to [`INDENTED_LEVELS`] levels of nesting; anything deeper (a file's
//! columns, say) is written on one line, so that large reports stay readable and small.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

/// Objects and arrays nested this deep or less are indented, one member per line.
pub const INDENTED_LEVELS: usize = 4;

/// The report as one JSON object followed by a newline.
pub fn render(report: &impl Serialize) -> String {
    let mut out = Vec::with_capacity(64 << 10);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, Indented::default());
    report
        .serialize(&mut serializer)
        .expect("report types serialise without fail");
    out.push(b'\n');
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// serde_json's pretty formatter down to [`INDENTED_LEVELS`], its compact one below.
#[derive(Default)]
struct Indented {
    pretty: PrettyFormatter<'static>,
    /// Objects and arrays open.
    depth: usize,
}

impl Indented {
    /// True inside an object or array that is indented.
    fn indenting(&self) -> bool {
        self.depth <= INDENTED_LEVELS
    }
}

impl Formatter for Indented {
    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.depth += 1;
        if self.indenting() {
            self.pretty.begin_array(writer)
        } else {
            CompactFormatter.begin_array(writer)
        }
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        let indenting = self.indenting();
        self.depth -= 1;
        if indenting {
            self.pretty.end_array(writer)
        } else {
            CompactFormatter.end_array(writer)
        }
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if self.indenting() {
            self.pretty.begin_array_value(writer, first)
        } else {
            CompactFormatter.begin_array_value(writer, first)
        }
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.depth += 1;
        if self.indenting() {
            self.pretty.begin_object(writer)
        } else {
            CompactFormatter.begin_object(writer)
        }
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        let indenting = self.indenting();
        self.depth -= 1;
        if indenting {
            self.pretty.end_object(writer)
        } else {
            CompactFormatter.end_object(writer)
        }
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if self.indenting() {
            self.pretty.begin_object_key(writer, first)
        } else {
            CompactFormatter.begin_object_key(writer, first)
        }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        if self.indenting() {
            self.pretty.begin_object_value(writer)
        } else {
            CompactFormatter.begin_object_value(writer)
        }
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.end_object_value(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn indents_the_outer_levels_and_writes_deeper_ones_on_one_line() {
        let report = json!({
            "files": [
                {"path": "a", "columns": [{"path": "x", "encodings": ["PLAIN", "RLE"]}]},
                {"path": "b", "columns": []}
            ],
            "empty": {},
            "n": 1
        });
        let text = render(&report);
        let expected = r#"{
  "empty": {},
  "files": [
    {
      "columns": [
        {"encodings":["PLAIN","RLE"],"path":"x"}
      ],
      "path": "a"
    },
    {
      "columns": [],
      "path": "b"
    }
  ],
  "n": 1
}
"#;
        assert_eq!(text, expected);
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed, report);
    }
}
