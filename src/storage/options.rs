//! `--storage-option key=value`: checked against the configuration keys of the store a source
//! is in — object_store's own names and aliases — and prepcost's client keys (retries,
//! concurrency). An unknown key is an error that names the nearest valid ones.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::util::redact::is_secret_key;

/// The object stores prepcost reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Local,
    S3,
    Gcs,
    Azure,
    Http,
    HuggingFace,
}

impl Provider {
    /// How users call the provider in messages and reports.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Local => "local",
            Provider::S3 => "s3",
            Provider::Gcs => "gcs",
            Provider::Azure => "azure",
            Provider::Http => "http",
            Provider::HuggingFace => "huggingface",
        }
    }

    /// The store's own keys (object_store's names and aliases), which suggestions come from.
    fn keys(self) -> &'static [&'static str] {
        match self {
            Provider::Local => &[],
            Provider::S3 => S3_KEYS,
            Provider::Gcs => GCS_KEYS,
            Provider::Azure => AZURE_KEYS,
            Provider::Http | Provider::HuggingFace => &[],
        }
    }
}

/// object_store's S3 keys (`AmazonS3ConfigKey`), each with its short alias.
const S3_KEYS: &[&str] = &[
    "aws_access_key_id",
    "access_key_id",
    "aws_secret_access_key",
    "secret_access_key",
    "aws_default_region",
    "aws_region",
    "region",
    "aws_endpoint_url",
    "endpoint_url",
    "endpoint",
    "aws_session_token",
    "session_token",
    "token",
    "aws_virtual_hosted_style_request",
    "virtual_hosted_style_request",
    "aws_s3_express",
    "aws_imdsv1_fallback",
    "aws_metadata_endpoint",
    "aws_unsigned_payload",
    "aws_checksum_algorithm",
    "aws_role_arn",
    "aws_role_session_name",
    "aws_web_identity_token_file",
    "aws_skip_signature",
    "skip_signature",
    "aws_request_payer",
    "request_payer",
    "aws_allow_http",
    "aws_server_side_encryption",
    "aws_sse_kms_key_id",
];

/// object_store's Google Cloud Storage keys (`GoogleConfigKey`).
const GCS_KEYS: &[&str] = &[
    "google_service_account",
    "service_account",
    "google_service_account_key",
    "service_account_key",
    "google_application_credentials",
    "application_credentials",
    "google_base_url",
    "base_url",
    "google_skip_signature",
    "skip_signature",
];

/// object_store's Azure keys (`AzureConfigKey`).
const AZURE_KEYS: &[&str] = &[
    "azure_storage_account_name",
    "account_name",
    "azure_storage_account_key",
    "account_key",
    "access_key",
    "azure_storage_sas_token",
    "sas_token",
    "sas_key",
    "azure_storage_token",
    "bearer_token",
    "azure_client_id",
    "client_id",
    "azure_client_secret",
    "client_secret",
    "azure_tenant_id",
    "tenant_id",
    "azure_storage_use_emulator",
    "use_emulator",
    "azure_storage_endpoint",
    "endpoint",
    "azure_use_fabric_endpoint",
    "azure_use_azure_cli",
    "use_azure_cli",
    "azure_skip_signature",
    "skip_signature",
    "azure_allow_http",
];

/// object_store's HTTP client keys (`ClientConfigKey`), valid for every remote store.
const CLIENT_KEYS: &[&str] = &[
    "allow_http",
    "allow_invalid_certificates",
    "connect_timeout",
    "timeout",
    "http1_only",
    "http2_only",
    "pool_idle_timeout",
    "pool_max_idle_per_host",
    "proxy_url",
    "proxy_ca_certificate",
    "proxy_excludes",
    "user_agent",
];

/// prepcost's own client keys.
pub const MAX_RETRIES: &str = "max_retries";
pub const RETRY_TIMEOUT: &str = "retry_timeout";
pub const RETRY_INIT_BACKOFF: &str = "retry_init_backoff";
pub const MAX_CONCURRENT_REQUESTS: &str = "max_concurrent_requests";
const PREPCOST_KEYS: &[&str] = &[
    MAX_RETRIES,
    RETRY_TIMEOUT,
    RETRY_INIT_BACKOFF,
    MAX_CONCURRENT_REQUESTS,
];

/// How a remote store's client retries and how many requests it keeps in flight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClientSettings {
    /// Retries of a failed request (5xx, 429, timeouts, resets, truncated bodies).
    pub max_retries: usize,
    /// No retry starts later than this after the first attempt.
    pub retry_timeout: Duration,
    /// The first backoff; later ones grow exponentially (base 2, up to 15 s) with jitter.
    pub retry_init_backoff: Duration,
    /// Requests in flight to the store at once.
    pub max_concurrent_requests: usize,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            max_retries: 10,
            retry_timeout: Duration::from_secs(180),
            retry_init_backoff: Duration::from_millis(100),
            max_concurrent_requests: 64,
        }
    }
}

/// The `--storage-option` pairs of a command, keys lower-cased, in the order given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StorageOptions {
    pairs: Vec<(String, String)>,
}

impl StorageOptions {
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        let pairs = pairs
            .into_iter()
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v))
            .collect();
        StorageOptions { pairs }
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The values that must never be shown: those of keys naming keys, secrets, tokens,
    /// signatures or credentials.
    pub fn secret_values(&self) -> impl Iterator<Item = &str> {
        self.pairs
            .iter()
            .filter(|(k, _)| is_secret_key(k))
            .map(|(_, v)| v.as_str())
    }

    /// The pairs meant for the store itself (prepcost's own keys taken out).
    pub fn store_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs
            .iter()
            .filter(|(k, _)| !PREPCOST_KEYS.contains(&k.as_str()))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// prepcost's client settings, defaults where not given.
    pub fn client_settings(&self) -> Result<ClientSettings> {
        let mut settings = ClientSettings::default();
        for (key, value) in &self.pairs {
            let invalid = |what: &str| {
                Error::Usage(format!("--storage-option {key}={value}: expected {what}"))
            };
            match key.as_str() {
                MAX_RETRIES => {
                    settings.max_retries = value.parse().map_err(|_| invalid("a count"))?
                }
                RETRY_TIMEOUT => {
                    settings.retry_timeout =
                        parse_duration(value).ok_or_else(|| invalid("a duration such as 30s"))?
                }
                RETRY_INIT_BACKOFF => {
                    settings.retry_init_backoff =
                        parse_duration(value).ok_or_else(|| invalid("a duration such as 100ms"))?
                }
                MAX_CONCURRENT_REQUESTS => {
                    settings.max_concurrent_requests = value
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| invalid("a count of at least 1"))?
                }
                _ => {}
            }
        }
        Ok(settings)
    }

    /// Checks every key against what `provider` stores take: `accepts` is the store's own
    /// parser of key names (object_store's `FromStr` of its config keys).
    pub fn check(&self, provider: Provider, accepts: impl Fn(&str) -> bool) -> Result<()> {
        for (key, _) in &self.pairs {
            if provider == Provider::Local {
                return Err(Error::Usage(format!(
                    "--storage-option {key}: local paths take no storage options"
                )));
            }
            if PREPCOST_KEYS.contains(&key.as_str()) || accepts(key) {
                continue;
            }
            let known = provider
                .keys()
                .iter()
                .chain(CLIENT_KEYS)
                .chain(PREPCOST_KEYS);
            let mut near: Vec<(f64, &str)> = known
                .map(|k| (strsim::jaro_winkler(key, k), *k))
                .filter(|(score, _)| *score >= 0.8)
                .collect();
            near.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
            near.dedup_by_key(|(_, k)| *k);
            let hint = match near.len() {
                0 => String::new(),
                _ => format!(
                    "; did you mean {}?",
                    near.iter()
                        .take(3)
                        .map(|(_, k)| *k)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            return Err(Error::Usage(format!(
                "--storage-option {key}: not a setting of {} stores{hint}",
                provider.name()
            )));
        }
        Ok(())
    }
}

/// Parses `key=value` as given on the command line.
pub fn parse_pair(text: &str) -> std::result::Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.to_string()))
        }
        _ => Err("expected KEY=VALUE".to_string()),
    }
}

/// Parses `250ms`, `30s`, `2m`, `1h` or a plain number of seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "ms" => number / 1000.0,
        "" | "s" => number,
        "m" | "min" => number * 60.0,
        "h" => number * 3600.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(pairs: &[(&str, &str)]) -> StorageOptions {
        StorageOptions::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn unknown_keys_name_their_near_matches() {
        let accepts = |k: &str| S3_KEYS.contains(&k) || CLIENT_KEYS.contains(&k);
        assert!(
            options(&[("Region", "eu-west-1")])
                .check(Provider::S3, accepts)
                .is_ok()
        );
        let e = options(&[("regoin", "eu-west-1")])
            .check(Provider::S3, accepts)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "--storage-option regoin: not a setting of s3 stores; did you mean region"
            ),
            "{e}"
        );
        let e = options(&[("max_retry", "3")])
            .check(Provider::Http, |_| false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean max_retries"), "{e}");
        let e = options(&[("zzz", "1")])
            .check(Provider::Gcs, |_| false)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "--storage-option zzz: not a setting of gcs stores");
        assert!(
            options(&[("max_retries", "1")])
                .check(Provider::Local, |_| false)
                .is_err()
        );
    }

    #[test]
    fn client_settings_parse_with_defaults() {
        let s = options(&[
            ("max_retries", "3"),
            ("retry_timeout", "2s"),
            ("retry_init_backoff", "10ms"),
        ])
        .client_settings()
        .unwrap();
        assert_eq!(s.max_retries, 3);
        assert_eq!(s.retry_timeout, Duration::from_secs(2));
        assert_eq!(s.retry_init_backoff, Duration::from_millis(10));
        assert_eq!(s.max_concurrent_requests, 64);
        assert!(
            options(&[("max_concurrent_requests", "0")])
                .client_settings()
                .is_err()
        );
        assert!(
            options(&[("retry_timeout", "soon")])
                .client_settings()
                .is_err()
        );
    }

    #[test]
    fn secrets_are_recognised_by_key() {
        let o = options(&[
            ("aws_secret_access_key", "s3cr3t"),
            ("region", "us-east-1"),
            ("sas_token", "sv=x&sig=y"),
        ]);
        assert_eq!(
            o.secret_values().collect::<Vec<_>>(),
            ["s3cr3t", "sv=x&sig=y"]
        );
        assert_eq!(parse_pair("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert!(parse_pair("novalue").is_err());
        assert_eq!(parse_duration("1.5m"), Some(Duration::from_secs(90)));
    }

    proptest::proptest! {
        #![proptest_config(crate::util::property::cases())]

        /// `--storage-option` text: a pair or a message; the pairs' settings and the keys'
        /// check give settings or one message, whatever the keys and values.
        #[test]
        fn any_storage_option_parses_or_says_why(
            pairs in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::arbitrary::any::<String>(),
                    "(max_retries|retry_timeout|retry_init_backoff|max_concurrent_requests|timeout|aws_region|region|x)=[0-9a-z. ]{0,8}",
                ],
                0..4,
            )
        ) {
            let mut parsed = Vec::new();
            for text in &pairs {
                match parse_pair(text) {
                    Ok(pair) => parsed.push(pair),
                    Err(message) => proptest::prop_assert_eq!(message, "expected KEY=VALUE"),
                }
                let _ = parse_duration(text);
            }
            let options = StorageOptions::new(parsed);
            if let Err(e) = options.client_settings() {
                proptest::prop_assert!(!e.to_string().is_empty());
            }
            let accepts = |k: &str| S3_KEYS.contains(&k) || CLIENT_KEYS.contains(&k);
            if let Err(e) = options.check(Provider::S3, accepts) {
                proptest::prop_assert!(!e.to_string().is_empty());
            }
        }
    }
}
