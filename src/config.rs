//! The pipeline file (TOML) and the validated configuration of a run.
//!
//! Settings come, in rising precedence, from defaults, the pipeline file, the environment and
//! the command line (clap merges the last two before they reach [`ProfileRequest`]).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::cost::Pricing;
use crate::dataset::OnError;
use crate::error::{Error, Result};
use crate::loader::{Limit, Settings, Shuffle};
use crate::report::ReportFormat;
use crate::report::loader::Target;
use crate::stages;
use crate::storage::StorageOptions;
use crate::tokenizer::TokenizerSpec;

/// The text column when none is configured.
pub const DEFAULT_TEXT_COLUMN: &str = "text";

/// The stages run when no pipeline file is given.
pub const DEFAULT_STAGES: [&str; 3] = ["clean", "normalise", "dedup_exact"];

/// The name of the stage `--near-dedup` adds.
pub const NEAR_DEDUP_STAGE: &str = "near_dedup";

/// What the command line asked of `profile`, already merged with the environment.
#[derive(Debug, Clone, Default)]
pub struct ProfileRequest {
    pub source: Option<String>,
    pub pipeline: Option<PathBuf>,
    pub text_column: Option<String>,
    pub output: Option<String>,
    /// Ends the pipeline with a default `minhash` stage unless it has one.
    pub near_dedup: bool,
    pub memory_limit: Option<u64>,
    pub format: ReportFormat,
    pub report: Option<PathBuf>,
    pub prices: PriceFlags,
    pub storage_options: Vec<(String, String)>,
    pub tokenizer: Option<String>,
    pub quiet: bool,
}

/// Prices given on the command line; each overrides the pipeline file and the defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PriceFlags {
    pub usd_per_vcpu_hour: Option<f64>,
    pub usd_per_gb_month: Option<f64>,
    pub usd_per_1000_get: Option<f64>,
    pub usd_per_1000_put: Option<f64>,
    pub usd_per_gb_egress: Option<f64>,
}

impl PriceFlags {
    /// These prices, falling back to `other`'s where not given.
    fn or(self, other: PriceFlags) -> PriceFlags {
        PriceFlags {
            usd_per_vcpu_hour: self.usd_per_vcpu_hour.or(other.usd_per_vcpu_hour),
            usd_per_gb_month: self.usd_per_gb_month.or(other.usd_per_gb_month),
            usd_per_1000_get: self.usd_per_1000_get.or(other.usd_per_1000_get),
            usd_per_1000_put: self.usd_per_1000_put.or(other.usd_per_1000_put),
            usd_per_gb_egress: self.usd_per_gb_egress.or(other.usd_per_gb_egress),
        }
    }
}

/// A fully resolved `profile` run.
#[derive(Debug, Clone)]
pub struct ProfileConfig {
    pub source: SourceSpec,
    pub stages: Vec<StageSpec>,
    pub output: Option<String>,
    pub memory_limit: u64,
    pub pricing: Pricing,
    pub storage_options: StorageOptions,
    /// Counts the tokens of the source and of every stage's result.
    pub tokenizer: TokenizerSpec,
    pub format: ReportFormat,
    pub report: Option<PathBuf>,
    pub quiet: bool,
}

/// Where the data is and which column holds the text.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSpec {
    pub uri: String,
    pub format: SourceFormat,
    pub text_column: String,
    pub id_column: Option<String>,
}

/// The file formats a source can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    #[default]
    Parquet,
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceFormat::Parquet => "parquet",
        })
    }
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

/// The pipeline file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineFile {
    source: Option<SourceSection>,
    stages: Option<Vec<Spanned<StageSection>>>,
    output: Option<OutputSection>,
    pricing: Option<PricingSection>,
}

#[derive(Debug, Deserialize)]
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PricingSection {
    usd_per_vcpu_hour: Option<Spanned<f64>>,
    usd_per_gb_month: Option<Spanned<f64>>,
    usd_per_1000_get: Option<Spanned<f64>>,
    usd_per_1000_put: Option<Spanned<f64>>,
    usd_per_gb_egress: Option<Spanned<f64>>,
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
    pub prices: PriceFlags,
    pub storage_options: Vec<(String, String)>,
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
                    text: stages::builtin_query(name).expect("default stages are built in"),
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
            prices: PriceFlags::default(),
            storage_options: Vec::new(),
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
        let base = path.parent().unwrap_or(Path::new("."));
        let source = parsed.source;
        let format = match source.as_ref().and_then(|s| s.format.as_ref()) {
            None => SourceFormat::Parquet,
            Some(f) => match f.get_ref().as_str() {
                "parquet" => SourceFormat::Parquet,
                other => {
                    return Err(file.error(
                        f.span().start,
                        &format!("unknown source format '{other}' (supported: parquet)"),
                    ));
                }
            },
        };
        let spanned_stages = parsed.stages.unwrap_or_default();
        if spanned_stages.is_empty() {
            return Err(file.error(text.len(), "the pipeline has no [[stages]]"));
        }
        let mut stages = Vec::with_capacity(spanned_stages.len());
        for (i, spanned) in spanned_stages.into_iter().enumerate() {
            let at = spanned.span().start;
            let stage = file.stage(i, at, spanned.into_inner(), base)?;
            if let Some(previous) = stages.iter().find(|s: &&StageSpec| s.name == stage.name) {
                return Err(file.error(
                    at,
                    &format!(
                        "stage name '{}' is used twice (first at {})",
                        stage.name, previous.defined_at
                    ),
                ));
            }
            stages.push(stage);
        }
        let pricing = parsed.pricing;
        let price = |p: Option<&Spanned<f64>>| -> Result<Option<f64>> {
            match p {
                Some(v) if !(v.get_ref().is_finite() && *v.get_ref() >= 0.0) => Err(file.error(
                    v.span().start,
                    "a price must be a number of dollars, zero or more",
                )),
                other => Ok(other.map(|v| *v.get_ref())),
            }
        };
        Ok(Pipeline {
            prices: PriceFlags {
                usd_per_vcpu_hour: price(
                    pricing.as_ref().and_then(|p| p.usd_per_vcpu_hour.as_ref()),
                )?,
                usd_per_gb_month: price(
                    pricing.as_ref().and_then(|p| p.usd_per_gb_month.as_ref()),
                )?,
                usd_per_1000_get: price(
                    pricing.as_ref().and_then(|p| p.usd_per_1000_get.as_ref()),
                )?,
                usd_per_1000_put: price(
                    pricing.as_ref().and_then(|p| p.usd_per_1000_put.as_ref()),
                )?,
                usd_per_gb_egress: price(
                    pricing.as_ref().and_then(|p| p.usd_per_gb_egress.as_ref()),
                )?,
            },
            storage_options: source
                .as_ref()
                .and_then(|s| s.storage_options.clone())
                .map(|o| o.into_iter().collect())
                .unwrap_or_default(),
            source_uri: source.as_ref().and_then(|s| s.uri.clone()),
            text_column: source.as_ref().and_then(|s| s.text_column.clone()),
            id_column: source.as_ref().and_then(|s| s.id_column.clone()),
            format,
            stages,
            output: parsed.output.map(|o| o.uri),
        })
    }
}

/// The pipeline file's text, for locating errors.
struct FileText<'a> {
    text: &'a str,
    path: &'a Path,
}

impl FileText<'_> {
    fn line_column(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    fn error(&self, offset: usize, message: &str) -> Error {
        let (line, column) = self.line_column(offset);
        Error::PipelineFile {
            path: self.path.display().to_string(),
            line,
            column,
            message: crate::error::one_line(message),
        }
    }

    fn stage(&self, index: usize, at: usize, s: StageSection, base: &Path) -> Result<StageSpec> {
        let (line, _) = self.line_column(at);
        let defined_at = format!("{}:{line}", self.path.display());
        let body = match (s.sql, s.query, s.kind) {
            (Some(sql), None, None) => {
                let path = base.join(&sql);
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    self.error(at, &format!("stage SQL file {}: {e}", path.display()))
                })?;
                StageBody::Sql { path, text }
            }
            (None, Some(query), None) => match stages::builtin_query(&query) {
                Some(text) => StageBody::Query { name: query, text },
                None => {
                    let known = stages::BUILTIN_QUERIES.map(|(n, _)| n).join(", ");
                    return Err(self.error(
                        at,
                        &format!("unknown built-in query '{query}' (built-in queries: {known})"),
                    ));
                }
            },
            (None, None, Some(kind)) => {
                if !stages::BUILTIN_KINDS.contains(&kind.as_str()) {
                    let known = if stages::BUILTIN_KINDS.is_empty() {
                        "none in this version; use query = or sql =".to_string()
                    } else {
                        stages::BUILTIN_KINDS.join(", ")
                    };
                    return Err(self.error(
                        at,
                        &format!("unknown stage kind '{kind}' (built-in kinds: {known})"),
                    ));
                }
                StageBody::Kind(kind)
            }
            _ => {
                return Err(self.error(
                    at,
                    "a stage needs exactly one of sql = \"file.sql\", query = \"name\" or kind = \"name\"",
                ));
            }
        };
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
}

/// The prices given, over the defaults; each must be a finite amount of zero or more.
fn pricing(prices: PriceFlags) -> Result<Pricing> {
    let defaults = Pricing::default();
    let pricing = Pricing {
        usd_per_vcpu_hour: prices
            .usd_per_vcpu_hour
            .unwrap_or(defaults.usd_per_vcpu_hour),
        usd_per_gb_month: prices.usd_per_gb_month.unwrap_or(defaults.usd_per_gb_month),
        usd_per_1000_get: prices.usd_per_1000_get,
        usd_per_1000_put: prices.usd_per_1000_put,
        usd_per_gb_egress: prices.usd_per_gb_egress,
    };
    for (flag, price) in [
        ("--usd-per-vcpu-hour", Some(pricing.usd_per_vcpu_hour)),
        ("--usd-per-gb-month", Some(pricing.usd_per_gb_month)),
        ("--usd-per-1000-get", pricing.usd_per_1000_get),
        ("--usd-per-1000-put", pricing.usd_per_1000_put),
        ("--usd-per-gb-egress", pricing.usd_per_gb_egress),
    ] {
        let Some(price) = price else { continue };
        if !(price.is_finite() && price >= 0.0) {
            return Err(Error::Usage(format!(
                "{flag} must be zero or more, got {price}"
            )));
        }
    }
    Ok(pricing)
}

/// What the command line asked of `loader`, already merged with the environment.
#[derive(Debug, Clone, Default)]
pub struct LoaderRequest {
    pub source: String,
    pub columns: Option<Vec<String>>,
    pub text_column: Option<String>,
    pub tokenizer: Option<String>,
    pub batch_size: Option<usize>,
    pub workers: Option<Vec<usize>>,
    pub prefetch: Option<usize>,
    pub shuffle: bool,
    pub shuffle_buffer: Option<usize>,
    pub seed: Option<u64>,
    pub epochs: Option<u32>,
    pub limit: Option<String>,
    pub target_tokens_per_s: Option<f64>,
    pub gpus: Option<f64>,
    pub model_params: Option<f64>,
    pub mfu: Option<f64>,
    pub gpu_flops: Option<f64>,
    pub prices: PriceFlags,
    pub storage_options: Vec<(String, String)>,
    pub format: ReportFormat,
    pub report: Option<PathBuf>,
    pub quiet: bool,
}

/// A fully resolved `loader` run.
#[derive(Debug, Clone)]
pub struct LoaderConfig {
    pub source: String,
    /// Columns read; all when `None`.
    pub columns: Option<Vec<String>>,
    /// The column the tokenizer reads.
    pub text_column: String,
    pub tokenizer: TokenizerSpec,
    /// True when the tokenizer was named rather than defaulted: a dataset without the text
    /// column is then an error rather than a run without tokens.
    pub tokenizer_named: bool,
    /// Worker counts to run, increasing, one run each.
    pub workers: Vec<usize>,
    pub settings: Settings,
    pub target: Option<Target>,
    pub pricing: Pricing,
    pub storage_options: StorageOptions,
    pub format: ReportFormat,
    pub report: Option<PathBuf>,
    pub quiet: bool,
}

impl LoaderConfig {
    pub const DEFAULT_BATCH_SIZE: usize = 1024;
    pub const DEFAULT_PREFETCH: usize = 2;
    pub const DEFAULT_SHUFFLE_BUFFER: usize = 10_000;

    /// Resolves a `loader` request, checking every number.
    pub fn resolve(request: LoaderRequest) -> Result<Self> {
        if request.source.is_empty() {
            return Err(Error::Usage("the source cannot be empty".into()));
        }
        if let Some(columns) = &request.columns
            && (columns.is_empty() || columns.iter().any(|c| c.trim().is_empty()))
        {
            return Err(Error::Usage(
                "--columns takes a comma-separated list of column names".into(),
            ));
        }
        let at_least_one = |flag: &str, value: Option<usize>, default: usize| match value {
            Some(0) => Err(Error::Usage(format!("{flag} must be at least 1, got 0"))),
            Some(n) => Ok(n),
            None => Ok(default),
        };
        let batch_size =
            at_least_one("--batch-size", request.batch_size, Self::DEFAULT_BATCH_SIZE)?;
        let prefetch = at_least_one("--prefetch", request.prefetch, Self::DEFAULT_PREFETCH)?;
        let shuffle_buffer = at_least_one(
            "--shuffle-buffer",
            request.shuffle_buffer,
            Self::DEFAULT_SHUFFLE_BUFFER,
        )?;
        let epochs = match request.epochs {
            Some(0) => return Err(Error::Usage("--epochs must be at least 1, got 0".into())),
            Some(n) => n,
            None => 1,
        };
        let mut workers = request
            .workers
            .clone()
            .unwrap_or_else(|| vec![crate::resources::cores()]);
        if workers.is_empty() || workers.contains(&0) {
            return Err(Error::Usage(
                "--workers takes worker counts of at least 1, e.g. 4 or 1,2,4,8".into(),
            ));
        }
        workers.sort_unstable();
        workers.dedup();
        if !request.shuffle && (request.shuffle_buffer.is_some() || request.seed.is_some()) {
            return Err(Error::Usage(
                "--shuffle-buffer and --seed need --shuffle".into(),
            ));
        }
        let limit = request
            .limit
            .as_deref()
            .map(parse_limit)
            .transpose()
            .map_err(Error::Usage)?;
        let tokenizer: TokenizerSpec = match &request.tokenizer {
            Some(name) => name.parse().map_err(Error::Usage)?,
            None => TokenizerSpec::Cl100kBase,
        };
        let target = target(&request)?;
        if target.is_some() && tokenizer == TokenizerSpec::None {
            return Err(Error::Usage(
                "a target rate is in tokens/s and needs a tokenizer; drop --tokenizer none".into(),
            ));
        }
        Ok(LoaderConfig {
            source: request.source,
            columns: request
                .columns
                .map(|c| c.into_iter().map(|s| s.trim().to_string()).collect()),
            text_column: request
                .text_column
                .unwrap_or_else(|| DEFAULT_TEXT_COLUMN.to_string()),
            tokenizer,
            tokenizer_named: request.tokenizer.is_some(),
            workers,
            settings: Settings {
                batch_size,
                prefetch,
                shuffle: request.shuffle.then_some(Shuffle {
                    seed: request.seed.unwrap_or(0),
                    buffer_rows: shuffle_buffer,
                }),
                epochs,
                limit,
            },
            target,
            pricing: pricing(request.prices)?,
            storage_options: StorageOptions::new(request.storage_options),
            format: request.format,
            report: request.report,
            quiet: request.quiet,
        })
    }
}

/// `--limit`: a row count (`100000`, `1e6`) or a duration (`30s`, `5m`, `1h`).
fn parse_limit(text: &str) -> std::result::Result<Limit, String> {
    let text = text.trim();
    let bad = || {
        format!(
            "--limit takes a number of rows (100000) or of seconds, minutes or hours (30s, 5m, 1h), got '{text}'"
        )
    };
    let unit = match text.chars().last() {
        Some('s') => Some(1.0),
        Some('m') => Some(60.0),
        Some('h') => Some(3600.0),
        _ => None,
    };
    match unit {
        Some(unit) => {
            let n: f64 = text[..text.len() - 1].trim().parse().map_err(|_| bad())?;
            if !(n.is_finite() && n > 0.0) {
                return Err(format!("--limit must be more than zero, got '{text}'"));
            }
            Ok(Limit::Seconds(n * unit))
        }
        None => {
            let n: f64 = text.parse().map_err(|_| bad())?;
            if !(n.is_finite() && n >= 1.0 && n.fract() == 0.0 && n < u64::MAX as f64) {
                return Err(format!(
                    "--limit in rows must be a whole number of at least 1, got '{text}'"
                ));
            }
            Ok(Limit::Rows(n as u64))
        }
    }
}

/// The target rate: given directly, or derived from the GPUs it must feed.
fn target(request: &LoaderRequest) -> Result<Option<Target>> {
    let positive = |flag: &str, value: Option<f64>| -> Result<Option<f64>> {
        match value {
            Some(v) if !(v.is_finite() && v > 0.0) => Err(Error::Usage(format!(
                "{flag} must be more than zero, got {v}"
            ))),
            other => Ok(other),
        }
    };
    let direct = positive("--target-tokens-per-s", request.target_tokens_per_s)?;
    let gpus = positive("--gpus", request.gpus)?;
    let params = positive("--model-params", request.model_params)?;
    let mfu = positive("--mfu", request.mfu)?;
    let flops = positive("--gpu-flops", request.gpu_flops)?;
    if let Some(mfu) = mfu
        && mfu > 1.0
    {
        return Err(Error::Usage(format!(
            "--mfu is a fraction of peak FLOP/s, at most 1, got {mfu}"
        )));
    }
    let derived = [
        ("--gpus", gpus),
        ("--model-params", params),
        ("--mfu", mfu),
        ("--gpu-flops", flops),
    ];
    let given: Vec<&str> = derived
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(f, _)| *f)
        .collect();
    match (direct, given.len()) {
        (Some(_), n) if n > 0 => Err(Error::Usage(format!(
            "give either --target-tokens-per-s or {}, not both",
            given.join(", ")
        ))),
        (Some(tokens_per_s), _) => Ok(Some(Target {
            tokens_per_s,
            formula: None,
        })),
        (None, 0) => Ok(None),
        (None, 4) => Ok(Some(Target::from_gpus(
            gpus.unwrap_or_default(),
            params.unwrap_or_default(),
            mfu.unwrap_or_default(),
            flops.unwrap_or_default(),
        ))),
        (None, _) => {
            let missing: Vec<&str> = derived
                .iter()
                .filter(|(_, v)| v.is_none())
                .map(|(f, _)| *f)
                .collect();
            Err(Error::Usage(format!(
                "deriving the target rate needs --gpus, --model-params, --mfu and --gpu-flops; missing {}",
                missing.join(", ")
            )))
        }
    }
}

/// What the command line asked of `inspect`, already merged with the environment.
#[derive(Debug, Clone, Default)]
pub struct InspectRequest {
    pub source: String,
    pub columns: Option<Vec<String>>,
    pub what_if: bool,
    pub sample_row_groups: Option<u64>,
    pub sample_size: Option<u64>,
    pub min_decode_mb_per_s: Option<f64>,
    pub on_error: OnError,
    pub format: ReportFormat,
    pub report: Option<PathBuf>,
    pub prices: PriceFlags,
    pub storage_options: Vec<(String, String)>,
    pub quiet: bool,
}

/// A fully resolved `inspect` run.
#[derive(Debug, Clone)]
pub struct InspectConfig {
    pub source: String,
    /// Columns a loader would read, for the projection figures.
    pub columns: Option<Vec<String>>,
    /// Settings of the what-if, when asked for.
    pub what_if: Option<WhatIfSettings>,
    pub on_error: OnError,
    pub pricing: Pricing,
    pub storage_options: StorageOptions,
    pub format: ReportFormat,
    pub report: Option<PathBuf>,
    pub quiet: bool,
}

/// How the what-if samples and judges layouts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WhatIfSettings {
    /// Row groups sampled, spread evenly over the dataset.
    pub sample_row_groups: u64,
    /// Decoded (Arrow) bytes at which sampling stops.
    pub sample_size: u64,
    /// Layouts that decode slower than this (MB/s, one thread) are not recommended.
    pub min_decode_mb_per_s: f64,
}

impl WhatIfSettings {
    pub const DEFAULT_SAMPLE_ROW_GROUPS: u64 = 8;
    pub const DEFAULT_SAMPLE_SIZE: u64 = 32 << 20;
    pub const DEFAULT_MIN_DECODE_MB_PER_S: f64 = 200.0;
}

impl InspectConfig {
    /// Resolves an `inspect` request, checking every number.
    pub fn resolve(request: InspectRequest) -> Result<Self> {
        if request.source.is_empty() {
            return Err(Error::Usage("the source cannot be empty".into()));
        }
        if let Some(columns) = &request.columns
            && (columns.is_empty() || columns.iter().any(|c| c.trim().is_empty()))
        {
            return Err(Error::Usage(
                "--columns takes a comma-separated list of column names".into(),
            ));
        }
        let sample_row_groups = request
            .sample_row_groups
            .unwrap_or(WhatIfSettings::DEFAULT_SAMPLE_ROW_GROUPS);
        let sample_size = request
            .sample_size
            .unwrap_or(WhatIfSettings::DEFAULT_SAMPLE_SIZE);
        let min_decode = request
            .min_decode_mb_per_s
            .unwrap_or(WhatIfSettings::DEFAULT_MIN_DECODE_MB_PER_S);
        if sample_row_groups == 0 {
            return Err(Error::Usage(
                "--sample-row-groups must be at least 1".into(),
            ));
        }
        if sample_size == 0 {
            return Err(Error::Usage("--sample-size must be more than zero".into()));
        }
        if !(min_decode.is_finite() && min_decode >= 0.0) {
            return Err(Error::Usage(format!(
                "--min-decode-mb-per-s must be zero or more, got {min_decode}"
            )));
        }
        let asked_for_what_if = request.sample_row_groups.is_some()
            || request.sample_size.is_some()
            || request.min_decode_mb_per_s.is_some();
        if asked_for_what_if && !request.what_if {
            return Err(Error::Usage(
                "--sample-row-groups, --sample-size and --min-decode-mb-per-s need --what-if"
                    .into(),
            ));
        }
        Ok(InspectConfig {
            source: request.source,
            columns: request.columns,
            what_if: request.what_if.then_some(WhatIfSettings {
                sample_row_groups,
                sample_size,
                min_decode_mb_per_s: min_decode,
            }),
            on_error: request.on_error,
            pricing: pricing(request.prices)?,
            storage_options: StorageOptions::new(request.storage_options),
            format: request.format,
            report: request.report,
            quiet: request.quiet,
        })
    }
}

impl ProfileConfig {
    /// Resolves a `profile` request: the pipeline file (or the default pipeline), overridden
    /// by the command line.
    pub fn resolve(request: ProfileRequest) -> Result<Self> {
        let mut pipeline = match &request.pipeline {
            Some(path) => Pipeline::load(path)?,
            None => Pipeline::default_pipeline(),
        };
        let has_minhash = pipeline
            .stages
            .iter()
            .any(|s| s.body == StageBody::Kind("minhash".into()));
        if request.near_dedup && !has_minhash {
            let name = NEAR_DEDUP_STAGE.to_string();
            if pipeline.stages.iter().any(|s| s.name == name) {
                return Err(Error::Usage(format!(
                    "--near-dedup adds a stage named {name}, and the pipeline has a stage of that name already"
                )));
            }
            pipeline.stages.push(StageSpec {
                name,
                body: StageBody::Kind("minhash".into()),
                params: BTreeMap::new(),
                defined_at: "--near-dedup".to_string(),
            });
        }
        let uri = request.source.or(pipeline.source_uri).ok_or_else(|| {
            Error::Usage(
                "no source: give SOURCE on the command line or source.uri in the pipeline file"
                    .into(),
            )
        })?;
        let text_column = request
            .text_column
            .or(pipeline.text_column)
            .unwrap_or_else(|| DEFAULT_TEXT_COLUMN.to_string());
        if text_column.is_empty() {
            return Err(Error::Usage("the text column name cannot be empty".into()));
        }
        let pricing = pricing(request.prices.or(pipeline.prices))?;
        // Options on the command line come after, and so win over, those of the file.
        let mut storage_options = pipeline.storage_options;
        storage_options.extend(request.storage_options);
        Ok(ProfileConfig {
            source: SourceSpec {
                uri,
                format: pipeline.format,
                text_column,
                id_column: pipeline.id_column,
            },
            stages: pipeline.stages,
            output: request.output.or(pipeline.output),
            memory_limit: request
                .memory_limit
                .unwrap_or_else(crate::memory::default_limit),
            pricing,
            storage_options: StorageOptions::new(storage_options),
            tokenizer: match &request.tokenizer {
                Some(name) => name.parse().map_err(Error::Usage)?,
                None => TokenizerSpec::Cl100kBase,
            },
            format: request.format,
            report: request.report,
            quiet: request.quiet,
        })
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
    fn the_command_line_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(
            &path,
            "[source]\nuri = \"a/\"\ntext_column = \"body\"\n[[stages]]\nquery = \"clean\"\n[pricing]\nusd_per_gb_month = 0.5\n",
        )
        .unwrap();
        let from_file = ProfileConfig::resolve(ProfileRequest {
            pipeline: Some(path.clone()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(from_file.source.uri, "a/");
        assert_eq!(from_file.source.text_column, "body");
        assert_eq!(from_file.pricing.usd_per_gb_month, 0.5);
        let overridden = ProfileConfig::resolve(ProfileRequest {
            pipeline: Some(path),
            source: Some("b/".into()),
            text_column: Some("content".into()),
            prices: PriceFlags {
                usd_per_gb_month: Some(0.1),
                ..Default::default()
            },
            ..Default::default()
        })
        .unwrap();
        assert_eq!(overridden.source.uri, "b/");
        assert_eq!(overridden.source.text_column, "content");
        assert_eq!(overridden.pricing.usd_per_gb_month, 0.1);
    }

    #[test]
    fn sql_literals_are_quoted() {
        assert_eq!(ParamValue::Str("it's".into()).to_sql(), "'it''s'");
        assert_eq!(ParamValue::Float(0.5).to_sql(), "0.5");
        assert_eq!(ParamValue::Float(2.0).to_sql(), "2.0");
        assert_eq!(ParamValue::Int(-3).to_sql(), "-3");
        assert_eq!(ParamValue::Bool(true).to_sql(), "true");
    }

    #[test]
    fn loader_limits_are_rows_or_durations() {
        assert_eq!(parse_limit("100000"), Ok(Limit::Rows(100_000)));
        assert_eq!(parse_limit("1e6"), Ok(Limit::Rows(1_000_000)));
        assert_eq!(parse_limit("30s"), Ok(Limit::Seconds(30.0)));
        assert_eq!(parse_limit("1.5m"), Ok(Limit::Seconds(90.0)));
        assert_eq!(parse_limit("2h"), Ok(Limit::Seconds(7200.0)));
        for bad in ["0", "-3", "2.5", "0s", "-1s", "ten", "s", ""] {
            assert!(parse_limit(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loader_requests_resolve_with_defaults_and_sorted_workers() {
        let config = LoaderConfig::resolve(LoaderRequest {
            source: "data".into(),
            workers: Some(vec![4, 1, 2, 4]),
            shuffle: true,
            ..LoaderRequest::default()
        })
        .unwrap();
        assert_eq!(config.workers, [1, 2, 4]);
        assert_eq!(config.settings.batch_size, LoaderConfig::DEFAULT_BATCH_SIZE);
        assert_eq!(
            config.settings.shuffle,
            Some(Shuffle {
                seed: 0,
                buffer_rows: LoaderConfig::DEFAULT_SHUFFLE_BUFFER
            })
        );
        assert_eq!(config.tokenizer, TokenizerSpec::Cl100kBase);
        assert!(!config.tokenizer_named);
        assert!(config.target.is_none());
    }

    #[test]
    fn loader_targets_are_direct_or_derived_never_both() {
        let request = |f: fn(&mut LoaderRequest)| {
            let mut r = LoaderRequest {
                source: "data".into(),
                ..LoaderRequest::default()
            };
            f(&mut r);
            LoaderConfig::resolve(r)
        };
        let direct = request(|r| r.target_tokens_per_s = Some(2e6)).unwrap();
        assert_eq!(direct.target.unwrap().tokens_per_s, 2e6);
        let derived = request(|r| {
            r.gpus = Some(8.0);
            r.model_params = Some(1e9);
            r.mfu = Some(0.5);
            r.gpu_flops = Some(1e15);
        })
        .unwrap();
        let target = derived.target.unwrap();
        assert!((target.tokens_per_s - 8.0 * 1e15 * 0.5 / 6e9).abs() < 1e-6);
        let both = request(|r| {
            r.target_tokens_per_s = Some(1.0);
            r.gpus = Some(8.0);
        })
        .unwrap_err();
        assert!(both.to_string().contains("not both"), "{both}");
        let zero = request(|r| r.gpus = Some(0.0)).unwrap_err();
        assert!(
            zero.to_string().contains("--gpus must be more than zero"),
            "{zero}"
        );
    }
}
