//! What a stage is as configured: its name, body (a SQL file, a built-in query or a built-in
//! Rust stage) and parameters; and the built-in queries and kinds there are.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// The built-in SQL queries, embedded in the binary. A pipeline names them with
/// `query = "…"`; a copy on disk can replace one with `sql = "…"`.
pub const BUILTIN_QUERIES: [(&str, &str); 5] = [
    ("clean", include_str!("../../queries/clean.sql")),
    ("normalise", include_str!("../../queries/normalise.sql")),
    ("quality", include_str!("../../queries/quality.sql")),
    ("pii", include_str!("../../queries/pii.sql")),
    ("dedup_exact", include_str!("../../queries/dedup_exact.sql")),
];

/// The built-in Rust stages a pipeline can name with `kind = "…"`.
pub const BUILTIN_KINDS: &[&str] = &[MINHASH];

/// The kind of the near-duplicate stage.
pub const MINHASH: &str = "minhash";

/// The text of a built-in query.
pub fn builtin_query(name: &str) -> Option<&'static str> {
    BUILTIN_QUERIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// One stage of the pipeline as configured.
#[derive(Debug, Clone, PartialEq)]
pub struct StageSpec {
    pub name: String,
    pub body: StageBody,
    pub params: BTreeMap<String, ParamValue>,
    /// Where the stage is defined: `pipeline.toml:12`, or `default pipeline`.
    pub defined_at: String,
}

/// What a stage runs.
#[derive(Debug, Clone, PartialEq)]
pub enum StageBody {
    /// A SQL file given by the user, read when the pipeline file was loaded.
    Sql { path: PathBuf, text: String },
    /// A built-in query from `queries/`.
    Query { name: String, text: &'static str },
    /// A built-in Rust stage.
    Kind(String),
}

/// A fingerprint of what `stages` compute (names, queries, kinds and parameters; not where
/// they are defined), as 16 hex digits: two runs with the same one ran the same pipeline.
pub fn pipeline_hash(stages: &[StageSpec]) -> String {
    let mut text = String::new();
    for stage in stages {
        let body = match &stage.body {
            StageBody::Sql { text, .. } => format!("sql\0{text}"),
            StageBody::Query { text, .. } => format!("sql\0{text}"),
            StageBody::Kind(kind) => format!("kind\0{kind}"),
        };
        text.push_str(&format!("{}\0{body}\0{:?}\0", stage.name, stage.params));
    }
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(text.as_bytes()))
}

impl StageBody {
    /// How the stage is named in messages: its SQL file, `query clean`, `kind minhash`.
    pub fn origin(&self) -> String {
        match self {
            StageBody::Sql { path, .. } => path.display().to_string(),
            StageBody::Query { name, .. } => format!("queries/{name}.sql"),
            StageBody::Kind(kind) => format!("kind {kind}"),
        }
    }
}

/// A stage parameter from the pipeline file.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
}

impl ParamValue {
    /// The value as a SQL literal.
    pub fn to_sql(&self) -> String {
        match self {
            ParamValue::Int(i) => i.to_string(),
            ParamValue::Float(f) => format!("{f:?}"),
            ParamValue::Str(s) => format!("'{}'", s.replace('\'', "''")),
            ParamValue::Bool(b) => b.to_string(),
        }
    }
}

impl ParamValue {
    /// A TOML value as a parameter; `None` for arrays, tables and dates.
    pub fn from_toml(value: toml::Value) -> Option<Self> {
        match value {
            toml::Value::Integer(i) => Some(ParamValue::Int(i)),
            toml::Value::Float(f) if f.is_finite() => Some(ParamValue::Float(f)),
            toml::Value::String(s) => Some(ParamValue::Str(s)),
            toml::Value::Boolean(b) => Some(ParamValue::Bool(b)),
            _ => None,
        }
    }

    /// The kind of value, for messages: `an integer`, `a string`.
    pub fn kind(&self) -> &'static str {
        match self {
            ParamValue::Int(_) => "an integer",
            ParamValue::Float(_) => "a number",
            ParamValue::Str(_) => "a string",
            ParamValue::Bool(_) => "a boolean",
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_sql())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_literals_are_quoted() {
        assert_eq!(ParamValue::Str("it's".into()).to_sql(), "'it''s'");
        assert_eq!(ParamValue::Float(0.5).to_sql(), "0.5");
        assert_eq!(ParamValue::Float(2.0).to_sql(), "2.0");
        assert_eq!(ParamValue::Int(-3).to_sql(), "-3");
        assert_eq!(ParamValue::Bool(true).to_sql(), "true");
    }

    #[test]
    fn every_built_in_kind_and_query_is_found() {
        assert!(BUILTIN_KINDS.contains(&MINHASH));
        for (name, text) in BUILTIN_QUERIES {
            assert_eq!(builtin_query(name), Some(text));
        }
        assert_eq!(builtin_query("nope"), None);
    }
}
