//! `loader`'s settings: what to read, how (batches, workers, prefetch, shuffle, epochs,
//! limits), and the token rate the training job needs.

use super::pricing::{PriceFlags, pricing};
use super::source;
use crate::budget::Budget;
use crate::error::{Error, Result};
use crate::loader::{Limit, Settings, Shuffle, Target};
use crate::model::pricing::Pricing;
use crate::source::{DEFAULT_TEXT_COLUMN, OnError};
use crate::storage::StorageOptions;
use crate::tokenizer::TokenizerSpec;
use crate::util::resources;

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
    /// What to do with a JSONL line that cannot be read.
    pub on_error: OnError,
    pub budget: Budget,
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
    pub on_error: OnError,
    pub budget: Budget,
}

impl LoaderConfig {
    pub const DEFAULT_BATCH_SIZE: usize = 1024;
    pub const DEFAULT_PREFETCH: usize = 2;
    pub const DEFAULT_SHUFFLE_BUFFER: usize = 10_000;

    /// Resolves a `loader` request, checking every number.
    pub fn resolve(request: LoaderRequest) -> Result<Self> {
        source::check(&request.source, request.columns.as_deref())?;
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
        let workers = workers(request.workers.as_deref())?;
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
        let (tokenizer, target) = tokenizer_and_target(&request)?;
        let budget = request.budget.for_command("loader").map_err(Error::Usage)?;
        if budget.min_loader_tokens_per_s.is_some() && tokenizer == TokenizerSpec::None {
            return Err(Error::Usage(
                "--min-loader-tokens-per-s needs a tokenizer; drop --tokenizer none".into(),
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
            on_error: request.on_error,
            budget,
        })
    }
}

/// The worker counts, increasing, each at least 1; the machine's cores by default.
fn workers(given: Option<&[usize]>) -> Result<Vec<usize>> {
    let mut workers = given.map_or_else(|| vec![resources::cores()], <[usize]>::to_vec);
    if workers.is_empty() || workers.contains(&0) {
        return Err(Error::Usage(
            "--workers takes worker counts of at least 1, e.g. 4 or 1,2,4,8".into(),
        ));
    }
    workers.sort_unstable();
    workers.dedup();
    Ok(workers)
}

/// The tokenizer, and the target token rate, which needs one.
fn tokenizer_and_target(request: &LoaderRequest) -> Result<(TokenizerSpec, Option<Target>)> {
    let tokenizer: TokenizerSpec = match &request.tokenizer {
        Some(name) => name.parse().map_err(Error::Usage)?,
        None => TokenizerSpec::Cl100kBase,
    };
    let target = target(request)?;
    if target.is_some() && tokenizer == TokenizerSpec::None {
        return Err(Error::Usage(
            "a target rate is in tokens/s and needs a tokenizer; drop --tokenizer none".into(),
        ));
    }
    Ok((tokenizer, target))
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

#[cfg(test)]
mod tests {
    use super::*;

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
