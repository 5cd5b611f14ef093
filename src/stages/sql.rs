//! SQL stages: a query over the table `input`, with `${name}` placeholders filled from the
//! stage's parameters.
//!
//! A SQL file declares the parameters it takes in comment lines, with TOML values:
//!
//! ```sql
//! -- @param min_chars = 1              (a parameter with a default)
//! -- @param language                   (a parameter without default: the stage must set it)
//! -- @allowed form = ["NFKC", "NFC"]   (the values a parameter may take)
//! ```
//!
//! `${text_column}` (and `${id_column}` when one is configured) are always available and are
//! replaced by the quoted column name; parameters are replaced by SQL literals. A placeholder
//! without a value and a parameter the query does not use are errors.

use std::collections::BTreeMap;

use async_trait::async_trait;
use datafusion::prelude::SessionContext;

use super::spec::ParamValue;
use super::stage::{Planned, Stage, StageError, StageInput};

/// A stage that runs one SQL query.
#[derive(Debug, Clone)]
pub struct SqlStage {
    name: String,
    origin: String,
    sql: String,
}

impl SqlStage {
    /// A stage running `sql` as written (no placeholders are filled).
    pub fn new(name: impl Into<String>, origin: impl Into<String>, sql: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            origin: origin.into(),
            sql: sql.into(),
        }
    }

    /// The query after placeholders were filled.
    pub fn sql(&self) -> &str {
        &self.sql
    }
}

#[async_trait]
impl Stage for SqlStage {
    fn name(&self) -> &str {
        &self.name
    }

    fn origin(&self) -> String {
        self.origin.clone()
    }

    fn sql(&self) -> Option<&str> {
        Some(&self.sql)
    }

    async fn plan(&self, ctx: &SessionContext, _: &StageInput<'_>) -> Result<Planned, StageError> {
        Ok(ctx.sql(&self.sql).await?.into())
    }
}

/// A parameter declared by a SQL file.
#[derive(Debug, Clone, PartialEq)]
struct Declared {
    default: Option<ParamValue>,
    allowed: Option<Vec<ParamValue>>,
}

/// Fills the placeholders of `template`. `columns` are the always-available identifiers
/// (`text_column`, …) with their column names; `params` come from the pipeline file.
/// Errors are plain messages; the caller adds the stage and file.
pub fn render(
    template: &str,
    params: &BTreeMap<String, ParamValue>,
    columns: &[(&str, Option<&str>)],
) -> Result<String, String> {
    let declared = declarations(template)?;
    let used = placeholders(template)?;

    for name in params.keys() {
        if !used.contains(&name.as_str()) {
            let takes: Vec<&str> = used
                .iter()
                .copied()
                .filter(|u| !columns.iter().any(|(c, _)| c == u))
                .collect();
            let takes = if takes.is_empty() {
                "none".to_string()
            } else {
                takes.join(", ")
            };
            return Err(format!(
                "parameter '{name}' is not used by the query (its parameters: {takes})"
            ));
        }
    }

    let mut values: BTreeMap<&str, String> = BTreeMap::new();
    for &name in &used {
        if let Some((_, column)) = columns.iter().find(|(c, _)| *c == name) {
            let column = column.ok_or_else(|| {
                format!("the query uses ${{{name}}}, but no {name} is configured in [source]")
            })?;
            values.insert(name, quote_identifier(column));
            continue;
        }
        let declaration = declared.get(name);
        let value = match (
            params.get(name),
            declaration.and_then(|d| d.default.as_ref()),
        ) {
            (Some(given), Some(default)) => {
                check_kind(name, given, default)?;
                given
            }
            (Some(given), None) => given,
            (None, Some(default)) => default,
            (None, None) => {
                return Err(format!(
                    "the query uses ${{{name}}}, which has no value: set params = {{ {name} = … }}"
                ));
            }
        };
        if let Some(allowed) = declaration.and_then(|d| d.allowed.as_ref())
            && !allowed.contains(value)
        {
            let allowed: Vec<String> = allowed.iter().map(ParamValue::to_sql).collect();
            return Err(format!(
                "parameter '{name}' is {value}, but must be one of {}",
                allowed.join(", ")
            ));
        }
        values.insert(name, value.to_sql());
    }

    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = start + rest[start..].find('}').expect("placeholders were checked");
        out.push_str(&values[&rest[start + 2..end]]);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// An integer default accepts integers; a float default accepts numbers; others their kind.
fn check_kind(name: &str, given: &ParamValue, default: &ParamValue) -> Result<(), String> {
    let fits = matches!(
        (given, default),
        (ParamValue::Int(_), ParamValue::Int(_))
            | (
                ParamValue::Int(_) | ParamValue::Float(_),
                ParamValue::Float(_)
            )
            | (ParamValue::Str(_), ParamValue::Str(_))
            | (ParamValue::Bool(_), ParamValue::Bool(_))
    );
    if fits {
        Ok(())
    } else {
        Err(format!(
            "parameter '{name}' is {}, but must be {} like its default {default}",
            given.kind(),
            default.kind()
        ))
    }
}

/// `"name"`, with inner quotes doubled.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The distinct placeholder names in order of first use.
fn placeholders(template: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| "a '${' placeholder is not closed with '}'".to_string())?;
        let name = &after[..end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "'${{{name}}}' is not a placeholder: names are letters, digits and '_'"
            ));
        }
        if !names.contains(&name) {
            names.push(name);
        }
        rest = &after[end + 1..];
    }
    Ok(names)
}

/// The `-- @param` and `-- @allowed` declarations of a SQL file.
fn declarations(template: &str) -> Result<BTreeMap<String, Declared>, String> {
    let mut declared: BTreeMap<String, Declared> = BTreeMap::new();
    for (number, line) in template.lines().enumerate() {
        let Some(comment) = line.trim_start().strip_prefix("--") else {
            continue;
        };
        let comment = comment.trim();
        let (directive, rest) = if let Some(rest) = comment.strip_prefix("@param") {
            ("@param", rest)
        } else if let Some(rest) = comment.strip_prefix("@allowed") {
            ("@allowed", rest)
        } else {
            continue;
        };
        let at = |message: String| format!("line {}: {directive}: {message}", number + 1);
        let (name, value) = match rest.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.trim())),
            None => (rest.trim(), None),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(at(format!("'{name}' is not a parameter name")));
        }
        let entry = declared.entry(name.to_string()).or_insert(Declared {
            default: None,
            allowed: None,
        });
        match (directive, value) {
            ("@param", None) => {}
            ("@param", Some(value)) => {
                entry.default = Some(parse_value(value).map_err(at)?);
            }
            (_, Some(value)) => {
                let toml::Value::Array(items) = parse_toml(value).map_err(at)? else {
                    return Err(at("expected a list such as [\"a\", \"b\"]".into()));
                };
                let items: Option<Vec<ParamValue>> =
                    items.into_iter().map(ParamValue::from_toml).collect();
                entry.allowed =
                    Some(items.ok_or_else(|| at("list items must be plain values".into()))?);
            }
            (_, None) => return Err(at("expected a list such as [\"a\", \"b\"]".into())),
        }
    }
    Ok(declared)
}

fn parse_toml(value: &str) -> Result<toml::Value, String> {
    let table: toml::Table = toml::from_str(&format!("v = {value}"))
        .map_err(|_| format!("'{value}' is not a TOML value"))?;
    table
        .get("v")
        .cloned()
        .ok_or_else(|| format!("'{value}' is not a TOML value"))
}

fn parse_value(value: &str) -> Result<ParamValue, String> {
    ParamValue::from_toml(parse_toml(value)?)
        .ok_or_else(|| format!("'{value}' is not a number, string or boolean"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &[(&str, Option<&str>)] = &[("text_column", Some("content")), ("id_column", None)];

    fn params(pairs: &[(&str, ParamValue)]) -> BTreeMap<String, ParamValue> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn placeholders_are_filled_with_literals_and_identifiers() {
        let sql = "-- @param n = 1\nSELECT ${text_column} FROM input WHERE x >= ${n} AND y = ${s}";
        let out = render(sql, &params(&[("s", ParamValue::Str("it's".into()))]), TEXT).unwrap();
        assert_eq!(
            out,
            "-- @param n = 1\nSELECT \"content\" FROM input WHERE x >= 1 AND y = 'it''s'"
        );
        let out = render(
            sql,
            &params(&[("n", ParamValue::Int(5)), ("s", ParamValue::Bool(true))]),
            TEXT,
        )
        .unwrap();
        assert!(out.ends_with("x >= 5 AND y = true"));
    }

    #[test]
    fn missing_and_unused_parameters_are_errors() {
        let e = render("SELECT ${missing}", &BTreeMap::new(), TEXT).unwrap_err();
        assert!(e.contains("${missing}"), "{e}");
        let e = render(
            "-- @param n = 1\nSELECT ${n}",
            &params(&[("typo", ParamValue::Int(1))]),
            TEXT,
        )
        .unwrap_err();
        assert!(e.contains("'typo' is not used"), "{e}");
        assert!(e.contains("its parameters: n"), "{e}");
        let e = render("SELECT ${id_column}", &BTreeMap::new(), TEXT).unwrap_err();
        assert!(e.contains("no id_column is configured"), "{e}");
    }

    #[test]
    fn kinds_and_allowed_values_are_checked() {
        let sql =
            "-- @param form = \"NFKC\"\n-- @allowed form = [\"NFKC\", \"NFC\"]\nSELECT ${form}";
        assert!(
            render(
                sql,
                &params(&[("form", ParamValue::Str("NFC".into()))]),
                TEXT
            )
            .is_ok()
        );
        let e = render(
            sql,
            &params(&[("form", ParamValue::Str("NFD".into()))]),
            TEXT,
        )
        .unwrap_err();
        assert!(e.contains("must be one of 'NFKC', 'NFC'"), "{e}");
        let e = render(sql, &params(&[("form", ParamValue::Int(1))]), TEXT).unwrap_err();
        assert!(e.contains("must be a string"), "{e}");
        let sql = "-- @param ratio = 0.5\nSELECT ${ratio}";
        assert_eq!(
            render(sql, &params(&[("ratio", ParamValue::Int(1))]), TEXT).unwrap(),
            "-- @param ratio = 0.5\nSELECT 1"
        );
    }

    #[test]
    fn malformed_templates_are_errors() {
        assert!(render("SELECT ${oops", &BTreeMap::new(), TEXT).is_err());
        assert!(render("SELECT ${a b}", &BTreeMap::new(), TEXT).is_err());
        assert!(render("-- @param n = [\nSELECT 1", &BTreeMap::new(), TEXT).is_err());
        assert!(render("-- @allowed n = 3\nSELECT 1", &BTreeMap::new(), TEXT).is_err());
    }

    #[test]
    fn the_built_in_queries_render_with_defaults() {
        for (name, text) in super::super::spec::BUILTIN_QUERIES {
            let out = render(text, &BTreeMap::new(), TEXT).unwrap();
            assert!(!out.contains("${"), "{name}");
            assert!(out.contains("\"content\""), "{name}");
        }
    }
}
