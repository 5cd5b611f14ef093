//! A tolerant second reading of a Parquet footer that arrow-rs's decoder refuses: its Thrift
//! compact bytes are rewritten without the optional fields a Thrift reader may pass over — a
//! field whose wire type is not the one the format gives it (Thrift readers skip those; Dremio
//! wrote a list where the format has `bloom_filter_length`) and a `converted_type` beyond the
//! known ones (parquet-cpp 1.5 wrote 24 for its NULL type). Everything else is copied byte for
//! byte, so what is really corrupt stays corrupt.

/// The footer's bytes without the fields that stopped the decoder, and what was left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Repaired {
    pub bytes: Vec<u8>,
    /// One entry per field left out, e.g. `ColumnMetaData field 15: a list where the format
    /// has an i32`.
    pub ignored: Vec<String>,
}

/// Rewrites a serialized `FileMetaData`. `None` when there is nothing to leave out or the
/// bytes are not a well-formed Thrift struct.
pub fn repair(footer: &[u8]) -> Option<Repaired> {
    let mut rewrite = Rewrite {
        input: Cursor {
            bytes: footer,
            pos: 0,
        },
        output: Vec::with_capacity(footer.len()),
        ignored: Vec::new(),
    };
    rewrite.structure(Kind::FileMetaData, 0)?;
    (!rewrite.ignored.is_empty()).then_some(Repaired {
        bytes: rewrite.output,
        ignored: rewrite.ignored,
    })
}

/// Compact-protocol wire types.
mod wire {
    pub const STOP: u8 = 0;
    pub const TRUE: u8 = 1;
    pub const FALSE: u8 = 2;
    pub const BYTE: u8 = 3;
    pub const I16: u8 = 4;
    pub const I32: u8 = 5;
    pub const I64: u8 = 6;
    pub const DOUBLE: u8 = 7;
    pub const BINARY: u8 = 8;
    pub const LIST: u8 = 9;
    pub const SET: u8 = 10;
    pub const MAP: u8 = 11;
    pub const STRUCT: u8 = 12;

    pub fn name(wire: u8) -> &'static str {
        match wire {
            TRUE | FALSE => "a bool",
            BYTE => "a byte",
            I16 => "an i16",
            I32 => "an i32",
            I64 => "an i64",
            DOUBLE => "a double",
            BINARY => "a binary",
            LIST | SET => "a list",
            MAP => "a map",
            STRUCT => "a struct",
            _ => "an unknown type",
        }
    }
}

/// The `PAR1` at the start of a file: no page starts inside it.
const MAGIC_BYTES: i64 = 4;

/// Nesting deeper than this is not a footer.
const MAX_DEPTH: usize = 64;

/// The footer structs whose fields are checked; others are copied whole.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    FileMetaData,
    SchemaElement,
    RowGroup,
    ColumnChunk,
    ColumnMetaData,
}

/// What the format gives a field.
#[derive(Debug, Clone, Copy)]
enum Field {
    /// A value of this wire type, copied as it is.
    Plain(u8),
    /// An optional enum whose known values are `0..=max`; others are left out.
    Enum { max: i64 },
    /// An optional file offset of a page; one inside the leading magic bytes (parquet-mr
    /// wrote a `dictionary_page_offset` of 0 for none) is left out, as other readers do.
    PageOffset,
    /// A struct, checked when its kind is known.
    Struct(Option<Kind>),
    /// A list, its elements checked when they are structs of a known kind.
    List(Option<Kind>),
}

impl Field {
    fn wire(self) -> u8 {
        match self {
            Field::Plain(wire) => wire,
            Field::Enum { .. } => wire::I32,
            Field::PageOffset => wire::I64,
            Field::Struct(_) => wire::STRUCT,
            Field::List(_) => wire::LIST,
        }
    }
}

/// The format's fields of each checked struct (parquet.thrift); `None` for ids it does not
/// define, which are copied (arrow-rs skips them).
fn field(kind: Kind, id: i16) -> Option<Field> {
    use Field::*;
    use wire::*;
    Some(match (kind, id) {
        (Kind::FileMetaData, 1) => Plain(I32),
        (Kind::FileMetaData, 2) => List(Some(Kind::SchemaElement)),
        (Kind::FileMetaData, 3) => Plain(I64),
        (Kind::FileMetaData, 4) => List(Some(Kind::RowGroup)),
        (Kind::FileMetaData, 5 | 7) => List(None),
        (Kind::FileMetaData, 6 | 9) => Plain(BINARY),
        (Kind::FileMetaData, 8) => Struct(None),
        (Kind::SchemaElement, 1 | 2 | 3 | 5 | 7 | 8 | 9) => Plain(I32),
        (Kind::SchemaElement, 4) => Plain(BINARY),
        (Kind::SchemaElement, 6) => Enum { max: 21 },
        (Kind::SchemaElement, 10) => Struct(None),
        (Kind::RowGroup, 1) => List(Some(Kind::ColumnChunk)),
        (Kind::RowGroup, 2 | 3 | 5 | 6) => Plain(I64),
        (Kind::RowGroup, 4) => List(None),
        (Kind::RowGroup, 7) => Plain(I16),
        (Kind::ColumnChunk, 1 | 9) => Plain(BINARY),
        (Kind::ColumnChunk, 2 | 4 | 6) => Plain(I64),
        (Kind::ColumnChunk, 3) => Struct(Some(Kind::ColumnMetaData)),
        (Kind::ColumnChunk, 5 | 7) => Plain(I32),
        (Kind::ColumnChunk, 8) => Struct(None),
        (Kind::ColumnMetaData, 1 | 4 | 15) => Plain(I32),
        (Kind::ColumnMetaData, 2 | 3 | 8 | 13) => List(None),
        (Kind::ColumnMetaData, 5 | 6 | 7 | 9 | 10 | 14) => Plain(I64),
        (Kind::ColumnMetaData, 11) => PageOffset,
        (Kind::ColumnMetaData, 12 | 16 | 17) => Struct(None),
        _ => return None,
    })
}

/// Reads compact-protocol values.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn byte(&mut self) -> Option<u8> {
        let byte = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(byte)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn zigzag(&mut self) -> Option<i64> {
        let v = self.varint()?;
        Some((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    fn advance(&mut self, n: usize) -> Option<()> {
        let end = self.pos.checked_add(n)?;
        (end <= self.bytes.len()).then(|| self.pos = end)
    }

    /// A list or set header: element wire type and count.
    fn list_header(&mut self) -> Option<(u8, usize)> {
        let header = self.byte()?;
        let count = match header >> 4 {
            15 => usize::try_from(self.varint()?).ok()?,
            short => usize::from(short),
        };
        // Every element takes at least one byte (bools in lists included).
        (count <= self.bytes.len() - self.pos).then_some((header & 0x0f, count))
    }

    /// Passes over one value of `wire` type; in a struct field, a bool has no bytes of its own.
    fn skip(&mut self, wire: u8, in_field: bool, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match wire {
            wire::TRUE | wire::FALSE if in_field => Some(()),
            wire::TRUE | wire::FALSE | wire::BYTE => self.advance(1),
            wire::I16 | wire::I32 | wire::I64 => self.varint().map(drop),
            wire::DOUBLE => self.advance(8),
            wire::BINARY => {
                let len = usize::try_from(self.varint()?).ok()?;
                self.advance(len)
            }
            wire::LIST | wire::SET => {
                let (element, count) = self.list_header()?;
                (0..count).try_for_each(|_| self.skip(element, false, depth + 1))
            }
            wire::MAP => self.skip_map(depth),
            wire::STRUCT => loop {
                let header = self.byte()?;
                if header == wire::STOP {
                    return Some(());
                }
                if header >> 4 == 0 {
                    self.zigzag()?;
                }
                self.skip(header & 0x0f, true, depth + 1)?;
            },
            _ => None,
        }
    }

    fn skip_map(&mut self, depth: usize) -> Option<()> {
        let count = usize::try_from(self.varint()?).ok()?;
        if count == 0 {
            return Some(());
        }
        let types = self.byte()?;
        (0..count).try_for_each(|_| {
            self.skip(types >> 4, false, depth + 1)?;
            self.skip(types & 0x0f, false, depth + 1)
        })
    }
}

/// The rewrite: input read once, output written as it goes.
struct Rewrite<'a> {
    input: Cursor<'a>,
    output: Vec<u8>,
    ignored: Vec<String>,
}

impl Rewrite<'_> {
    /// Rewrites one struct of a checked kind, up to and including its stop byte.
    fn structure(&mut self, kind: Kind, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let (mut last_read, mut last_written) = (0i16, 0i16);
        loop {
            let header = self.input.byte()?;
            if header == wire::STOP {
                self.output.push(wire::STOP);
                return Some(());
            }
            let wire = header & 0x0f;
            let id = match header >> 4 {
                0 => i16::try_from(self.input.zigzag()?).ok()?,
                delta => last_read.checked_add(i16::from(delta))?,
            };
            last_read = id;
            let start = self.input.pos;
            let expected = field(kind, id);
            if let Some(expected) = expected
                && !accepts(expected.wire(), wire)
            {
                self.input.skip(wire, true, depth + 1)?;
                self.ignore(format!(
                    "{kind:?} field {id}: {} where the format has {}",
                    wire::name(wire),
                    wire::name(expected.wire())
                ));
                continue;
            }
            match expected {
                Some(Field::Enum { max }) => {
                    let value = self.input.zigzag()?;
                    if !(0..=max).contains(&value) {
                        self.ignore(format!("{kind:?} field {id}: unknown enum value {value}"));
                        continue;
                    }
                    self.header(wire, id, &mut last_written);
                }
                Some(Field::PageOffset) => {
                    let offset = self.input.zigzag()?;
                    if offset < MAGIC_BYTES {
                        self.ignore(format!(
                            "{kind:?} field {id}: page offset {offset}, inside the magic bytes"
                        ));
                        continue;
                    }
                    self.header(wire, id, &mut last_written);
                }
                Some(Field::Struct(Some(inner))) => {
                    self.header(wire, id, &mut last_written);
                    self.structure(inner, depth + 1)?;
                    continue;
                }
                Some(Field::List(Some(inner))) => {
                    self.header(wire, id, &mut last_written);
                    self.list(inner, depth + 1)?;
                    continue;
                }
                _ => {
                    self.input.skip(wire, true, depth + 1)?;
                    self.header(wire, id, &mut last_written);
                }
            }
            self.output
                .extend_from_slice(&self.input.bytes[start..self.input.pos]);
        }
    }

    /// Notes a field left out, once however many structs had it.
    fn ignore(&mut self, what: String) {
        if !self.ignored.contains(&what) {
            self.ignored.push(what);
        }
    }

    /// Rewrites a list whose elements are structs of `kind`.
    fn list(&mut self, kind: Kind, depth: usize) -> Option<()> {
        let start = self.input.pos;
        let (element, count) = self.input.list_header()?;
        self.output
            .extend_from_slice(&self.input.bytes[start..self.input.pos]);
        if element != wire::STRUCT {
            // Not the format's list: copied, for the decoder to judge.
            let from = self.input.pos;
            (0..count).try_for_each(|_| self.input.skip(element, false, depth))?;
            self.output
                .extend_from_slice(&self.input.bytes[from..self.input.pos]);
            return Some(());
        }
        (0..count).try_for_each(|_| self.structure(kind, depth))
    }

    /// Writes a field header, short form when the id follows the last one closely.
    fn header(&mut self, wire: u8, id: i16, last_written: &mut i16) {
        match id.checked_sub(*last_written) {
            Some(delta @ 1..=15) => self.output.push(((delta as u8) << 4) | wire),
            _ => {
                self.output.push(wire);
                let zigzag = ((i64::from(id) << 1) ^ (i64::from(id) >> 63)) as u64;
                write_varint(&mut self.output, zigzag);
            }
        }
        *last_written = id;
    }
}

/// Whether a field the format gives `expected` may be read from `actual`.
fn accepts(expected: u8, actual: u8) -> bool {
    let is_bool = |w| w == wire::TRUE || w == wire::FALSE;
    expected == actual
        || (is_bool(expected) && is_bool(actual))
        || (expected == wire::LIST && actual == wire::SET)
}

fn write_varint(output: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        output.push((value as u8) | 0x80);
        value >>= 7;
    }
    output.push(value as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `FileMetaData` with a schema element whose `converted_type` is `converted`, and a
    /// row-group field 15 of the wrong type.
    fn footer(converted: u8) -> Vec<u8> {
        vec![
            0x15, 0x02, // 1: version = 1 (i32, zigzag 2)
            0x19, 0x1c, // 2: list of 1 struct
            0x48, 0x04, b'r', b'o', b'o', b't', // 4: name "root"
            0x25, converted, // 6: converted_type
            0x15, 0x02, // 7: scale = 1
            0x00, // end of SchemaElement
            0x16, 0x0a, // 3: num_rows = 5
            0x00,
        ]
    }

    #[test]
    fn an_unknown_converted_type_is_left_out_and_the_next_header_rewritten() {
        // converted_type 24 (zigzag 48), then a field that followed it by delta.
        let repaired = repair(&footer(48)).unwrap();
        assert_eq!(
            repaired.ignored,
            ["SchemaElement field 6: unknown enum value 24"]
        );
        let expected = [
            0x15, 0x02, 0x19, 0x1c, 0x48, 0x04, b'r', b'o', b'o', b't', 0x35, 0x02, 0x00, 0x16,
            0x0a, 0x00,
        ];
        assert_eq!(repaired.bytes, expected);
    }

    #[test]
    fn a_known_footer_needs_no_repair() {
        assert_eq!(repair(&footer(0)), None);
    }

    #[test]
    fn a_field_of_the_wrong_type_is_skipped_whole() {
        // FileMetaData field 3 (num_rows) written as a list of two i16, then created_by.
        let bytes = [0x15, 0x02, 0x29, 0x24, 0x02, 0x04, 0x38, 0x01, b'x', 0x00];
        let repaired = repair(&bytes).unwrap();
        assert_eq!(
            repaired.ignored,
            ["FileMetaData field 3: a list where the format has an i64"]
        );
        // Field 6 was written by delta from 3; it is now a delta from 1.
        assert_eq!(repaired.bytes, [0x15, 0x02, 0x58, 0x01, b'x', 0x00]);
    }

    #[test]
    fn truncated_or_endless_bytes_are_not_repaired() {
        let whole = footer(48);
        for end in 0..whole.len() {
            assert_eq!(repair(&whole[..end]), None, "{end}");
        }
        let deep = [0x1c; 200];
        assert_eq!(repair(&deep), None);
    }
}
