//! Remote stores built with object_store's own builders: credentials and settings from the
//! standard environment variables (and `~/.aws` profiles for S3), `--storage-option` pairs
//! parsed as object_store's config keys, retries with exponential backoff and jitter,
//! bounded concurrency, and every HTTP exchange counted on the wire.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use object_store::limit::LimitStore;
use object_store::{BackoffConfig, ClientConfigKey, ClientOptions, ObjectStore, RetryConfig};

use super::instrumented::RequestCounter;
use super::options::{ClientSettings, Provider, StorageOptions};
use super::wire::CountingConnector;
use crate::error::{Error, Result};

/// The longest wait between two attempts of a request.
const MAX_BACKOFF: Duration = Duration::from_secs(15);

/// Builds the store for `provider` rooted at `root` (`s3://bucket`, `https://host`, …).
/// `headers` go with every request (a Hugging Face token).
pub fn build(
    provider: Provider,
    root: &str,
    options: &StorageOptions,
    headers: http::HeaderMap,
    counter: Arc<RequestCounter>,
) -> Result<Arc<dyn ObjectStore>> {
    let settings = options.client_settings()?;
    let retry = retry_config(&settings);
    let connector = CountingConnector::new(counter);
    let store: Arc<dyn ObjectStore> = match provider {
        Provider::S3 => s3(root, options, retry, connector)?,
        Provider::Gcs => gcs(root, options, retry, connector)?,
        Provider::Azure => azure(root, options, retry, connector)?,
        Provider::Local => return Err(Error::Usage("local paths are not remote stores".into())),
        Provider::Http | Provider::HuggingFace => {
            http(provider, root, options, headers, retry, connector)?
        }
    };
    Ok(Arc::new(LimitStore::new(
        store,
        settings.max_concurrent_requests,
    )))
}

/// The store's own options, their keys parsed as `K` (prepcost's keys, which no store takes,
/// left out).
fn keyed<K: FromStr>(options: &StorageOptions) -> impl Iterator<Item = (K, &str)> {
    options
        .store_pairs()
        .filter_map(|(key, value)| K::from_str(key).ok().map(|key| (key, value)))
}

/// A store that cannot be built: a missing bucket, account or credential setting.
fn failed(root: &str, e: object_store::Error) -> Error {
    Error::Storage {
        uri: root.to_string(),
        message: crate::error::one_line(&e.to_string()),
    }
}

fn retry_config(settings: &ClientSettings) -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: settings.retry_init_backoff,
            max_backoff: MAX_BACKOFF.max(settings.retry_init_backoff),
            base: 2.0,
        },
        max_retries: settings.max_retries,
        retry_timeout: settings.retry_timeout,
    }
}

#[cfg(feature = "aws")]
fn s3(
    root: &str,
    options: &StorageOptions,
    retry: RetryConfig,
    connector: CountingConnector,
) -> Result<Arc<dyn ObjectStore>> {
    use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey as Key};
    options.check(Provider::S3, |k| Key::from_str(k).is_ok())?;
    let mut builder = AmazonS3Builder::from_env().with_url(root);
    let given = |key: Key| {
        options
            .store_pairs()
            .any(|(k, _)| Key::from_str(k).is_ok_and(|k| k == key))
    };
    // Without keys in the environment or the options, those of the AWS profile.
    if builder.get_config_value(&Key::AccessKeyId).is_none() && !given(Key::AccessKeyId) {
        for (key, value) in aws_profile::credentials() {
            builder = builder.with_config(key, value);
        }
    }
    for (key, value) in keyed::<Key>(options) {
        builder = builder.with_config(key, value);
    }
    if builder
        .get_config_value(&Key::Endpoint)
        .is_some_and(|e| e.starts_with("http://"))
    {
        builder = builder.with_allow_http(true);
    }
    let store = builder
        .with_retry(retry)
        .with_http_connector(connector)
        .build()
        .map_err(|e| failed(root, e))?;
    Ok(Arc::new(store))
}

#[cfg(feature = "gcp")]
fn gcs(
    root: &str,
    options: &StorageOptions,
    retry: RetryConfig,
    connector: CountingConnector,
) -> Result<Arc<dyn ObjectStore>> {
    use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey as Key};
    options.check(Provider::Gcs, |k| Key::from_str(k).is_ok())?;
    let mut builder = GoogleCloudStorageBuilder::from_env().with_url(root);
    for (key, value) in keyed::<Key>(options) {
        builder = builder.with_config(key, value);
    }
    let store = builder
        .with_retry(retry)
        .with_http_connector(connector)
        .build()
        .map_err(|e| failed(root, e))?;
    Ok(Arc::new(store))
}

#[cfg(feature = "azure")]
fn azure(
    root: &str,
    options: &StorageOptions,
    retry: RetryConfig,
    connector: CountingConnector,
) -> Result<Arc<dyn ObjectStore>> {
    use object_store::azure::{AzureConfigKey as Key, MicrosoftAzureBuilder};
    options.check(Provider::Azure, |k| Key::from_str(k).is_ok())?;
    let mut builder = MicrosoftAzureBuilder::from_env().with_url(root);
    for (key, value) in keyed::<Key>(options) {
        builder = builder.with_config(key, value);
    }
    let store = builder
        .with_retry(retry)
        .with_http_connector(connector)
        .build()
        .map_err(|e| failed(root, e))?;
    Ok(Arc::new(store))
}

#[cfg(feature = "http")]
fn http(
    provider: Provider,
    root: &str,
    options: &StorageOptions,
    headers: http::HeaderMap,
    retry: RetryConfig,
    connector: CountingConnector,
) -> Result<Arc<dyn ObjectStore>> {
    options.check(provider, |k| ClientConfigKey::from_str(k).is_ok())?;
    let store = object_store::http::HttpBuilder::new()
        .with_url(root)
        .with_client_options(client_options(root, options, headers))
        .with_retry(retry)
        .with_http_connector(connector)
        .build()
        .map_err(|e| failed(root, e))?;
    Ok(Arc::new(store))
}

/// The HTTP client settings of a plain HTTP store: `--storage-option` pairs and `headers`.
#[cfg(feature = "http")]
fn client_options(root: &str, options: &StorageOptions, headers: http::HeaderMap) -> ClientOptions {
    let mut client = ClientOptions::new().with_default_headers(headers);
    for (key, value) in keyed::<ClientConfigKey>(options) {
        client = client.with_config(key, value);
    }
    if root.starts_with("http://") {
        client = client.with_allow_http(true);
    }
    client
}

/// An HTTP client for the requests no store makes (the Hub's paged tree listings, whose next
/// page is in a response header): the HTTP store's settings and headers, counted on the wire
/// like the stores' own; with the retry settings to apply.
#[cfg(feature = "http")]
pub fn http_client(
    root: &str,
    options: &StorageOptions,
    headers: http::HeaderMap,
    counter: Arc<RequestCounter>,
) -> Result<(object_store::client::HttpClient, RetryConfig)> {
    use object_store::client::HttpConnector;
    let retry = retry_config(&options.client_settings()?);
    let client = CountingConnector::new(counter)
        .connect(&client_options(root, options, headers))
        .map_err(|e| failed(root, e))?;
    Ok((client, retry))
}

#[cfg(not(feature = "http"))]
fn http(
    _: Provider,
    _: &str,
    _: &StorageOptions,
    _: http::HeaderMap,
    _: RetryConfig,
    _: CountingConnector,
) -> Result<Arc<dyn ObjectStore>> {
    Err(Error::Usage(
        "http(s):// and hf:// sources need prepcost built with the 'http' feature (on by default)"
            .into(),
    ))
}

/// Stores this build of prepcost leaves out: the URI is an error naming the feature.
macro_rules! not_built {
    ($name:ident, $feature:literal, $scheme:literal) => {
        #[cfg(not(feature = $feature))]
        fn $name(
            _: &str,
            _: &StorageOptions,
            _: RetryConfig,
            _: CountingConnector,
        ) -> Result<Arc<dyn ObjectStore>> {
            Err(Error::Usage(format!(
                "{} sources need prepcost built with the '{}' feature (on by default)",
                $scheme, $feature
            )))
        }
    };
}
not_built!(s3, "aws", "s3://");
not_built!(gcs, "gcp", "gs://");
not_built!(azure, "azure", "az://");

/// Credentials from the shared AWS files, for the profile `AWS_PROFILE` names (or `default`):
/// `aws_access_key_id`, `aws_secret_access_key` and `aws_session_token` from
/// `~/.aws/credentials` (or `AWS_SHARED_CREDENTIALS_FILE`), `region` from `~/.aws/config`
/// (or `AWS_CONFIG_FILE`) unless the environment sets one.
#[cfg(feature = "aws")]
mod aws_profile {
    use object_store::aws::AmazonS3ConfigKey as Key;
    use std::path::PathBuf;

    pub fn credentials() -> Vec<(Key, String)> {
        let profile = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "default".into());
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let file = |var: &str, name: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|h| h.join(".aws").join(name)))
                .and_then(|p| std::fs::read_to_string(p).ok())
        };
        let mut found = Vec::new();
        if let Some(text) = file("AWS_SHARED_CREDENTIALS_FILE", "credentials") {
            for (key, value) in section(&text, &profile) {
                let key = match key.as_str() {
                    "aws_access_key_id" => Key::AccessKeyId,
                    "aws_secret_access_key" => Key::SecretAccessKey,
                    "aws_session_token" => Key::Token,
                    _ => continue,
                };
                crate::util::redact::register(&value);
                found.push((key, value));
            }
        }
        let region_set = std::env::var_os("AWS_REGION").is_some()
            || std::env::var_os("AWS_DEFAULT_REGION").is_some();
        if !found.is_empty()
            && !region_set
            && let Some(text) = file("AWS_CONFIG_FILE", "config")
        {
            let name = match profile.as_str() {
                "default" => "default".to_string(),
                other => format!("profile {other}"),
            };
            if let Some((_, region)) = section(&text, &name)
                .into_iter()
                .find(|(k, _)| k == "region")
            {
                found.push((Key::Region, region));
            }
        }
        found
    }

    /// The `key = value` lines of the INI section `[name]`.
    pub fn section(text: &str, name: &str) -> Vec<(String, String)> {
        let mut inside = false;
        let mut pairs = Vec::new();
        for line in text.lines().map(str::trim) {
            if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                inside = header.trim() == name;
            } else if inside && let Some((k, v)) = line.split_once('=') {
                pairs.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        pairs
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn sections_of_the_shared_files_are_read() {
            let text = "[default]\naws_access_key_id = A\n# c\n[profile dev]\nregion=eu-west-1\n";
            assert_eq!(
                super::section(text, "default"),
                [("aws_access_key_id".to_string(), "A".to_string())]
            );
            assert_eq!(
                super::section(text, "profile dev"),
                [("region".to_string(), "eu-west-1".to_string())]
            );
            assert!(super::section(text, "nope").is_empty());
        }
    }
}
