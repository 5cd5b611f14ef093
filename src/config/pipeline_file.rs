//! The pipeline file (TOML): its source, stages, output and prices, validated, with every
//! error naming the file, line and column.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::pricing::PriceFlags;
use crate::budget::{Budget, StageBudget, non_negative, parse_fraction};
use crate::engine::Engine;
use crate::error::{Error, Result, one_line};
use crate::source::SourceFormat;
use crate::stages::spec::{
    BUILTIN_KINDS, BUILTIN_QUERIES, ParamValue, StageBody, StageSpec, builtin_query,
};

/// The stages run when no pipeline file is given.
pub const DEFAULT_STAGES: [&str; 3] = ["clean", "normalise", "dedup_exact"];

/// The pipeline file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineFile {
    source: Option<SourceSection>,
    stages: Option<Vec<Spanned<StageSection>>>,
    output: Option<OutputSection>,
    pricing: Option<PricingSection>,
    budget: Option<BudgetSection>,
    run: Option<RunSection>,
}

/// `[run]`: where the pipeline runs.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunSection {
    engine: Option<Spanned<String>>,
    scheduler: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceSection {
    uri: Option<String>,
    storage_options: Option<BTreeMap<String, String>>,
    format: Option<Spanned<String>>,
    text_column: Option<String>,
    id_column: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StageSection {
    name: Option<String>,
    sql: Option<String>,
    query: Option<String>,
    kind: Option<String>,
    params: Option<toml::Table>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutputSection {
    uri: String,
    #[serde(default)]
    overwrite: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PricingSection {
    usd_per_vcpu_hour: Option<Spanned<f64>>,
    usd_per_gb_month: Option<Spanned<f64>>,
    usd_per_1000_get: Option<Spanned<f64>>,
    usd_per_1000_put: Option<Spanned<f64>>,
    usd_per_gb_egress: Option<Spanned<f64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetSection {
    max_cost_usd: Option<Spanned<f64>>,
    max_seconds: Option<Spanned<f64>>,
    /// A fraction (0.2) or a percentage ("20%").
    max_drop_rate: Option<Spanned<toml::Value>>,
    min_loader_tokens_per_s: Option<Spanned<f64>>,
    max_growth: Option<Spanned<toml::Value>>,
    stages: Option<BTreeMap<String, Spanned<StageBudgetSection>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StageBudgetSection {
    max_seconds: Option<Spanned<f64>>,
    max_drop_rate: Option<Spanned<toml::Value>>,
}

/// A pipeline file after validation, before the command line is applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub source_uri: Option<String>,
    pub format: SourceFormat,
    pub text_column: Option<String>,
    pub id_column: Option<String>,
    pub stages: Vec<StageSpec>,
    pub output: Option<String>,
    /// `[output] overwrite`: the output may go into a folder of files prepcost did not write.
    pub overwrite: bool,
    pub prices: PriceFlags,
    pub storage_options: Vec<(String, String)>,
    pub budget: Budget,
    /// `[run] engine` and `scheduler`: where the stages run, unless the command line says.
    pub engine: Option<String>,
    pub scheduler: Option<String>,
}

impl Pipeline {
    /// The pipeline used when no file is given: `clean` → `normalise` → `dedup_exact`.
    pub fn default_pipeline() -> Self {
        let stages = DEFAULT_STAGES
            .iter()
            .map(|&name| StageSpec {
                name: name.to_string(),
                body: StageBody::Query {
                    name: name.to_string(),
                    text: builtin_query(name).expect("default stages are built in"),
                },
                params: BTreeMap::new(),
                defined_at: "default pipeline".to_string(),
            })
            .collect();
        Pipeline {
            source_uri: None,
            format: SourceFormat::Parquet,
            text_column: None,
            id_column: None,
            stages,
            output: None,
            overwrite: false,
            prices: PriceFlags::default(),
            storage_options: Vec::new(),
            budget: Budget::default(),
            engine: None,
            scheduler: None,
        }
    }

    /// Reads and validates a pipeline file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("pipeline file {}", path.display()), e))?;
        Self::parse(&text, path)
    }

    /// Validates the text of a pipeline file; SQL files are resolved next to `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let file = FileText { text, path };
        let parsed: PipelineFile = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            file.error(offset, e.message().trim())
        })?;
        let source = parsed.source.unwrap_or_default();
        let format = file.format(source.format.as_ref())?;
        let stages = file.stages(parsed.stages.unwrap_or_default())?;
        let prices = file.prices(&parsed.pricing.unwrap_or_default())?;
        let budget = file.budget(parsed.budget.unwrap_or_default(), &stages)?;
        let (engine, scheduler) = file.run(parsed.run.unwrap_or_default())?;
        Ok(Pipeline {
            engine,
            scheduler,
            budget,
            prices,
            storage_options: source
                .storage_options
                .map(|o| o.into_iter().collect())
                .unwrap_or_default(),
            source_uri: source.uri,
            text_column: source.text_column,
            id_column: source.id_column,
            format,
            stages,
            overwrite: parsed.output.as_ref().is_some_and(|o| o.overwrite),
            output: parsed.output.map(|o| o.uri),
        })
    }
}

/// A settings file's text, for locating errors.
pub(super) struct FileText<'a> {
    pub(super) text: &'a str,
    pub(super) path: &'a Path,
}

impl FileText<'_> {
    fn line_column(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    /// An error at byte `offset` of the file, naming its line and column.
    pub(super) fn error(&self, offset: usize, message: &str) -> Error {
        let (line, column) = self.line_column(offset);
        Error::PipelineFile {
            path: self.path.display().to_string(),
            line,
            column,
            message: one_line(message),
        }
    }

    /// `source.format`: optional, and `parquet` when given (JSONL and CSV files are known by
    /// their names).
    fn format(&self, format: Option<&Spanned<String>>) -> Result<SourceFormat> {
        match format {
            None => Ok(SourceFormat::Parquet),
            Some(f) if f.get_ref() == SourceFormat::Parquet.name() => Ok(SourceFormat::Parquet),
            Some(f) => Err(self.error(
                f.span().start,
                &format!(
                    "unknown source format '{}' (supported: parquet)",
                    f.get_ref()
                ),
            )),
        }
    }

    /// `[run]`: an engine prepcost knows, with the scheduler `ballista` needs.
    fn run(&self, run: RunSection) -> Result<(Option<String>, Option<String>)> {
        let scheduler = run.scheduler.map(|s| (s.span().start, s.into_inner()));
        let Some(engine) = run.engine else {
            return Ok((None, scheduler.map(|(_, s)| s)));
        };
        let at = engine.span().start;
        let engine = engine.into_inner();
        let scheduler_text = scheduler.as_ref().map(|(_, s)| s.as_str());
        if let Err(e) = Engine::parse(&engine, scheduler_text) {
            let at = scheduler.as_ref().map_or(at, |(at, _)| *at);
            return Err(self.error(at, &format!("[run]: {e}")));
        }
        Ok((Some(engine), scheduler.map(|(_, s)| s)))
    }

    /// The `[[stages]]`: at least one, with distinct names.
    fn stages(&self, sections: Vec<Spanned<StageSection>>) -> Result<Vec<StageSpec>> {
        if sections.is_empty() {
            return Err(self.error(self.text.len(), "the pipeline has no [[stages]]"));
        }
        let mut stages: Vec<StageSpec> = Vec::with_capacity(sections.len());
        for (i, spanned) in sections.into_iter().enumerate() {
            let at = spanned.span().start;
            let stage = self.stage(i, at, spanned.into_inner())?;
            if let Some(previous) = stages.iter().find(|s| s.name == stage.name) {
                return Err(self.error(
                    at,
                    &format!(
                        "stage name '{}' is used twice (first at {})",
                        stage.name, previous.defined_at
                    ),
                ));
            }
            stages.push(stage);
        }
        Ok(stages)
    }

    /// One `[[stages]]` entry, the `index`th, at byte `at` of the file.
    fn stage(&self, index: usize, at: usize, s: StageSection) -> Result<StageSpec> {
        let (line, _) = self.line_column(at);
        let defined_at = format!("{}:{line}", self.path.display());
        let body = self.body(at, s.sql, s.query, s.kind)?;
        let name = s.name.unwrap_or_else(|| match &body {
            StageBody::Query { name, .. } | StageBody::Kind(name) => name.clone(),
            StageBody::Sql { path, .. } => path.file_stem().map_or_else(
                || format!("stage{}", index + 1),
                |s| s.to_string_lossy().into(),
            ),
        });
        if name.trim().is_empty() {
            return Err(self.error(at, "a stage name cannot be empty"));
        }
        let mut params = BTreeMap::new();
        for (key, value) in s.params.unwrap_or_default() {
            let kind = value.type_str();
            let Some(value) = ParamValue::from_toml(value) else {
                return Err(self.error(
                    at,
                    &format!(
                        "stage '{name}': parameter '{key}' is a {kind}; parameters are numbers, strings or booleans"
                    ),
                ));
            };
            params.insert(key, value);
        }
        Ok(StageSpec {
            name,
            body,
            params,
            defined_at,
        })
    }

    /// What a stage runs: exactly one of a SQL file (relative to the pipeline file), a
    /// built-in query or a built-in kind.
    fn body(
        &self,
        at: usize,
        sql: Option<String>,
        query: Option<String>,
        kind: Option<String>,
    ) -> Result<StageBody> {
        match (sql, query, kind) {
            (Some(sql), None, None) => {
                let base = self.path.parent().unwrap_or(Path::new("."));
                let path = base.join(&sql);
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    self.error(at, &format!("stage SQL file {}: {e}", path.display()))
                })?;
                Ok(StageBody::Sql { path, text })
            }
            (None, Some(query), None) => match builtin_query(&query) {
                Some(text) => Ok(StageBody::Query { name: query, text }),
                None => {
                    let known = BUILTIN_QUERIES.map(|(n, _)| n).join(", ");
                    Err(self.error(
                        at,
                        &format!("unknown built-in query '{query}' (built-in queries: {known})"),
                    ))
                }
            },
            (None, None, Some(kind)) if BUILTIN_KINDS.contains(&kind.as_str()) => {
                Ok(StageBody::Kind(kind))
            }
            (None, None, Some(kind)) => Err(self.error(
                at,
                &format!(
                    "unknown stage kind '{kind}' (built-in kinds: {})",
                    BUILTIN_KINDS.join(", ")
                ),
            )),
            _ => Err(self.error(
                at,
                "a stage needs exactly one of sql = \"file.sql\", query = \"name\" or kind = \"name\"",
            )),
        }
    }

    /// The `[pricing]` section: each price a number of dollars, zero or more.
    fn prices(&self, pricing: &PricingSection) -> Result<PriceFlags> {
        let price = |p: &Option<Spanned<f64>>| -> Result<Option<f64>> {
            match p {
                Some(v) if !(v.get_ref().is_finite() && *v.get_ref() >= 0.0) => Err(self.error(
                    v.span().start,
                    "a price must be a number of dollars, zero or more",
                )),
                other => Ok(other.as_ref().map(|v| *v.get_ref())),
            }
        };
        Ok(PriceFlags {
            usd_per_vcpu_hour: price(&pricing.usd_per_vcpu_hour)?,
            usd_per_gb_month: price(&pricing.usd_per_gb_month)?,
            usd_per_1000_get: price(&pricing.usd_per_1000_get)?,
            usd_per_1000_put: price(&pricing.usd_per_1000_put)?,
            usd_per_gb_egress: price(&pricing.usd_per_gb_egress)?,
        })
    }
}

impl FileText<'_> {
    /// The `[budget]` section: limits of zero or more, drop rates at most 1, and stage
    /// budgets only for stages of the pipeline.
    fn budget(&self, section: BudgetSection, stages: &[StageSpec]) -> Result<Budget> {
        let mut budget = Budget {
            max_cost_usd: self.limit(section.max_cost_usd)?,
            max_seconds: self.limit(section.max_seconds)?,
            max_drop_rate: self.rate(section.max_drop_rate)?,
            min_loader_tokens_per_s: self.limit(section.min_loader_tokens_per_s)?,
            max_growth: self.fraction(section.max_growth)?,
            stages: BTreeMap::new(),
        };
        for (name, stage) in section.stages.unwrap_or_default() {
            let at = stage.span().start;
            if !stages.iter().any(|s| s.name == name) {
                let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
                let message = format!(
                    "[budget.stages.{name}]: the pipeline has no stage '{name}' (its stages: {})",
                    names.join(", ")
                );
                return Err(self.error(at, &message));
            }
            let stage = stage.into_inner();
            let limits = StageBudget {
                max_seconds: self.limit(stage.max_seconds)?,
                max_drop_rate: self.rate(stage.max_drop_rate)?,
            };
            budget.stages.insert(name, limits);
        }
        Ok(budget)
    }

    fn limit(&self, value: Option<Spanned<f64>>) -> Result<Option<f64>> {
        value
            .map(|v| non_negative(*v.get_ref()).map_err(|e| self.error(v.span().start, &e)))
            .transpose()
    }

    /// A fraction or percentage of zero or more.
    fn fraction(&self, value: Option<Spanned<toml::Value>>) -> Result<Option<f64>> {
        let Some(value) = value else { return Ok(None) };
        let at = value.span().start;
        let parsed = match value.get_ref() {
            toml::Value::Float(x) => non_negative(*x),
            toml::Value::Integer(n) => non_negative(*n as f64),
            toml::Value::String(text) => parse_fraction(text),
            other => Err(format!(
                "a {} is not a fraction such as 0.2 or a percentage such as \"20%\"",
                other.type_str()
            )),
        };
        parsed.map(Some).map_err(|e| self.error(at, &e))
    }

    /// A fraction or percentage of zero to one.
    fn rate(&self, value: Option<Spanned<toml::Value>>) -> Result<Option<f64>> {
        let at = value.as_ref().map_or(0, |v| v.span().start);
        match self.fraction(value)? {
            Some(rate) if rate > 1.0 => Err(self.error(at, "a drop rate is at most 1 (100%)")),
            rate => Ok(rate),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Pipeline> {
        Pipeline::parse(text, Path::new("p.toml"))
    }

    fn error_of(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn the_contract_example_parses() {
        let p = parse(
            r#"
[source]
uri = "data/"
text_column = "text"

[[stages]]
name = "clean"
query = "clean"
params = { min_chars = 1 }

[[stages]]
name = "norm"
query = "normalise"
params = { form = "NFC" }
"#,
        )
        .unwrap();
        assert_eq!(p.source_uri.as_deref(), Some("data/"));
        assert_eq!(p.stages.len(), 2);
        assert_eq!(p.stages[0].params["min_chars"], ParamValue::Int(1));
        assert_eq!(p.stages[1].params["form"], ParamValue::Str("NFC".into()));
        assert_eq!(p.stages[1].defined_at, "p.toml:11");
    }

    #[test]
    fn unknown_keys_name_the_key_and_line() {
        let e = error_of("[source]\nuri = \"x\"\ntext_colum = \"t\"\n");
        assert!(e.starts_with("p.toml:3:"), "{e}");
        assert!(e.contains("text_colum"), "{e}");
        let e = error_of("[[stages]]\nquery = \"clean\"\nparam = {}\n");
        assert!(e.starts_with("p.toml:3:"), "{e}");
        assert!(e.contains("param"), "{e}");
    }

    #[test]
    fn invalid_toml_names_line_and_column() {
        let e = error_of("[source]\nuri = \"unterminated\n");
        assert!(e.starts_with("p.toml:2:"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn stages_need_exactly_one_body() {
        let e = error_of("[[stages]]\nname = \"x\"\n");
        assert!(e.contains("exactly one of"), "{e}");
        let e = error_of("[[stages]]\nquery = \"clean\"\nkind = \"minhash\"\n");
        assert!(e.contains("exactly one of"), "{e}");
    }

    #[test]
    fn unknown_kinds_and_queries_are_named() {
        let e = error_of("[[stages]]\nkind = \"teleport\"\n");
        assert!(e.contains("unknown stage kind 'teleport'"), "{e}");
        let e = error_of("[[stages]]\nquery = \"cleen\"\n");
        assert!(e.contains("unknown built-in query 'cleen'"), "{e}");
        assert!(e.contains("clean"), "{e}");
    }

    #[test]
    fn missing_sql_files_and_bad_params_are_errors() {
        let e = error_of("[[stages]]\nsql = \"does-not-exist.sql\"\n");
        assert!(e.contains("does-not-exist.sql"), "{e}");
        let e = error_of("[[stages]]\nquery = \"clean\"\nparams = { min_chars = [1] }\n");
        assert!(e.contains("parameter 'min_chars' is a array"), "{e}");
    }

    #[test]
    fn duplicate_stage_names_and_bad_prices_are_errors() {
        let e = error_of("[[stages]]\nquery = \"clean\"\n[[stages]]\nquery = \"clean\"\n");
        assert!(e.contains("used twice"), "{e}");
        let e = error_of("[[stages]]\nquery = \"clean\"\n[pricing]\nusd_per_vcpu_hour = -1.0\n");
        assert!(e.starts_with("p.toml:4:"), "{e}");
    }

    #[test]
    fn budgets_are_read_and_checked() {
        let p = parse(
            "[[stages]]\nquery = \"clean\"\n[budget]\nmax_cost_usd = 5\nmax_drop_rate = \"20%\"\n\
             max_growth = 0.5\n[budget.stages.clean]\nmax_seconds = 60\nmax_drop_rate = 0.1\n",
        )
        .unwrap();
        assert_eq!(p.budget.max_cost_usd, Some(5.0));
        assert_eq!(p.budget.max_drop_rate, Some(0.2));
        assert_eq!(p.budget.max_growth, Some(0.5));
        assert_eq!(
            p.budget.stages["clean"],
            StageBudget {
                max_seconds: Some(60.0),
                max_drop_rate: Some(0.1)
            }
        );
        let stages = "[[stages]]\nquery = \"clean\"\n[budget]\n";
        for (bad, said) in [
            ("max_cost_usd = -1", "p.toml:4:"),
            ("max_drop_rate = 1.5", "at most 1"),
            ("max_drop_rate = \"lots\"", "not a fraction"),
            ("max_growth = true", "a boolean is not a fraction"),
            ("max_secs = 1", "unknown field"),
            (
                "[budget.stages.dedup]\nmax_seconds = 1",
                "no stage 'dedup' (its stages: clean)",
            ),
        ] {
            let e = error_of(&format!("{stages}{bad}\n"));
            assert!(e.contains(said), "{bad}: {e}");
        }
    }

    /// Lines pipeline files are made of, right and wrong.
    fn pipeline_line() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let key = prop_oneof![
            Just("uri"),
            Just("format"),
            Just("text_column"),
            Just("id_column"),
            Just("name"),
            Just("query"),
            Just("kind"),
            Just("sql"),
            Just("params"),
            Just("usd_per_vcpu_hour"),
            Just("usd_per_gb_month"),
            Just("max_usd"),
            Just("engine"),
            Just("scheduler"),
            Just("storage_options"),
            Just("min_chars"),
        ];
        let value = prop_oneof![
            Just("\"clean\"".to_string()),
            Just("\"minhash\"".to_string()),
            Just("\"parquet\"".to_string()),
            Just("\"dedup_exact\"".to_string()),
            "-?[0-9]{1,20}(\\.[0-9]{1,3})?".prop_map(String::from),
            Just("{ min_chars = 1, form = \"NFC\" }".to_string()),
            Just("[1, \"a\", true]".to_string()),
            Just("true".to_string()),
            Just("nan".to_string()),
            Just("-inf".to_string()),
            any::<String>().prop_map(|s| format!("{s:?}")),
        ];
        prop_oneof![
            3 => (key, value).prop_map(|(k, v)| format!("{k} = {v}")),
            1 => prop_oneof![
                Just("[source]"), Just("[[stages]]"), Just("[output]"), Just("[pricing]"),
                Just("[budget]"), Just("[run]"), Just("[stages.params]"), Just("[[budget.stages]]"),
            ].prop_map(String::from),
            1 => any::<String>(),
        ]
    }

    proptest::proptest! {
        #![proptest_config(crate::util::property::cases())]

        /// Any pipeline file is a pipeline or an error naming the file.
        #[test]
        fn any_pipeline_file_parses_or_names_where_it_is_wrong(
            lines in proptest::collection::vec(pipeline_line(), 0..12)
        ) {
            let text = lines.join("\n");
            if let Err(e) = parse(&text) {
                let message = e.to_string();
                proptest::prop_assert!(message.contains("p.toml"), "{}", message);
            }
        }
    }
}
