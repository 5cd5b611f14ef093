//! Where data lives: a source URI or path — local, `file://`, `s3://`, `gs://`, `az://` /
//! `abfs[s]://`, `http(s)://` or `hf://datasets/…`, with globs or as a prefix — resolved to an
//! object store and a location in it, and the listing of the objects there. Every store is
//! wrapped in the instrumenting decorator, so that each command can say what it asked of
//! storage.

#[cfg(feature = "http")]
mod huggingface;
pub mod instrumented;
pub mod local;
pub mod options;
pub mod place;
#[cfg(feature = "remote")]
mod remote;
#[cfg(feature = "remote")]
pub mod wire;

use std::sync::Arc;

use datafusion::execution::object_store::ObjectStoreUrl;
use futures::TryStreamExt;
use glob::{MatchOptions, Pattern};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};

use crate::error::{Error, Result};
use crate::util::redact;
use instrumented::{Counting, InstrumentedStore, RequestCounter};
pub use options::{Provider, StorageOptions};

/// The characters that make a path component a glob pattern.
const GLOB_CHARS: [char; 3] = ['*', '?', '['];

/// `*` and `?` stay within one path component; `**` crosses them.
const GLOB_OPTIONS: MatchOptions = MatchOptions {
    case_sensitive: true,
    require_literal_separator: true,
    require_literal_leading_dot: false,
};

/// A resolved source: the store, its URL as registered in the session, and the path in it.
#[derive(Debug, Clone)]
pub struct Location {
    /// The URI as the user gave it (secrets redacted), for messages and reports.
    pub display: String,
    /// The part of `display` that names `path` (without a glob), which object names follow.
    root_display: String,
    /// Who keeps the data, for the price list.
    pub provider: Provider,
    /// The store's URL (scheme and authority), as DataFusion knows it.
    pub url: ObjectStoreUrl,
    /// The store, instrumented.
    pub store: Arc<dyn ObjectStore>,
    /// What has been asked of the store so far.
    pub requests: Arc<RequestCounter>,
    /// The object or prefix inside the store.
    pub path: ObjectPath,
    /// True when the location names a single object rather than a prefix.
    pub is_object: bool,
    /// Objects below the prefix must match this pattern (relative to `path`).
    glob: Option<Pattern>,
}

impl Location {
    /// How an object at this location is shown to users: as they named the location, followed
    /// by the object's path below it.
    pub fn show(&self, object: &ObjectPath) -> String {
        if self.is_object {
            return self.display.clone();
        }
        match self.relative(object) {
            Some(rest) => format!("{}/{rest}", self.root_display.trim_end_matches('/')),
            None => object.to_string(),
        }
    }

    /// The object's path below the location's prefix.
    fn relative(&self, object: &ObjectPath) -> Option<String> {
        let rest: Vec<_> = object
            .prefix_match(&self.path)?
            .map(|p| p.as_ref().to_string())
            .collect();
        Some(rest.join("/"))
    }

    /// True for objects below a prefix whose path under it has a part starting with `.` or
    /// `_` (hidden files, `_SUCCESS` markers, staging folders): they are not data.
    pub fn is_hidden(&self, object: &ObjectPath) -> bool {
        !self.is_object
            && object
                .parts()
                .skip(self.path.parts().count())
                .any(|p| p.as_ref().starts_with('.') || p.as_ref().starts_with('_'))
    }

    /// True when the object is below the prefix and matches the glob, if there is one.
    fn selects(&self, object: &ObjectPath) -> bool {
        let Some(pattern) = &self.glob else {
            return true;
        };
        self.relative(object)
            .is_some_and(|rest| pattern.matches_with(&rest, GLOB_OPTIONS))
    }
}

/// The URL local sources are registered under in a session. It is not `file://`, so that
/// only reads of the source go through the instrumented store, not those of temporary files.
fn local_source_url() -> ObjectStoreUrl {
    ObjectStoreUrl::parse("local://source").expect("a valid URL")
}

/// Splits a `/`-separated path before its first component with a glob character: the prefix
/// and the pattern of the rest. No glob: the whole path and `None`.
fn split_glob(path: &str) -> (&str, Option<&str>) {
    let mut offset = 0;
    for component in path.split('/') {
        if component.contains(GLOB_CHARS) {
            let prefix = path[..offset].trim_end_matches('/');
            return (prefix, Some(&path[offset..]));
        }
        offset += component.len() + 1;
    }
    (path, None)
}

fn compile_glob(uri: &str, pattern: Option<&str>) -> Result<Option<Pattern>> {
    pattern
        .map(|p| Pattern::new(p).map_err(|e| Error::Usage(format!("{uri}: not a valid glob: {e}"))))
        .transpose()
}

/// Resolves a source URI or path, with the `--storage-option` pairs for its store.
pub async fn resolve(uri: &str, options: &StorageOptions) -> Result<Location> {
    redact::register_environment();
    for secret in options.secret_values() {
        redact::register(secret);
    }
    match uri.split_once("://") {
        Some((scheme, _)) if scheme != "file" => resolve_remote(uri, options).await,
        _ => {
            options.check(Provider::Local, |_| false)?;
            resolve_local(uri)
        }
    }
}

/// Resolves a local path or `file://` URI.
fn resolve_local(uri: &str) -> Result<Location> {
    let local = uri.strip_prefix("file://").unwrap_or(uri);
    let (base, pattern) = split_glob(local);
    let base = match (base, pattern) {
        ("", Some(_)) if local.starts_with('/') => "/",
        ("", Some(_)) => ".",
        (base, _) => base,
    };
    let glob = compile_glob(uri, pattern)?;
    let metadata = std::fs::metadata(base).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::SourceNotFound {
            path: uri.to_string(),
        },
        _ => Error::io(uri.to_string(), e),
    })?;
    let canonical = std::fs::canonicalize(base).map_err(|e| Error::io(uri.to_string(), e))?;
    let path = ObjectPath::from_filesystem_path(&canonical).map_err(|e| Error::SourceFile {
        path: uri.to_string(),
        message: e.to_string(),
    })?;
    let requests = Arc::new(RequestCounter::default());
    Ok(Location {
        display: uri.to_string(),
        root_display: root_display(uri, pattern),
        provider: Provider::Local,
        url: local_source_url(),
        store: Arc::new(InstrumentedStore::new(
            Arc::new(local::LocalStore::new()),
            Arc::clone(&requests),
            Counting::Operations,
        )),
        requests,
        path,
        is_object: glob.is_none() && metadata.is_file(),
        glob,
    })
}

/// `uri` without its glob part.
fn root_display(uri: &str, pattern: Option<&str>) -> String {
    match pattern {
        Some(p) => uri[..uri.len() - p.len()].trim_end_matches('/').to_string(),
        None => uri.to_string(),
    }
}

/// A remote URI taken apart: whose store, the store's root URL, and the key in it.
#[derive(Debug, PartialEq)]
struct RemoteUri {
    provider: Provider,
    /// The store's URL: `s3://bucket`, `https://host:port`, …
    root: String,
    /// The object or prefix in the store, without a leading `/`.
    key: String,
}

/// Where `hf://` URIs are fetched from: `HF_ENDPOINT`, as the Hugging Face tools read it.
fn huggingface_endpoint() -> String {
    std::env::var("HF_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| "https://huggingface.co".to_string())
        .trim_end_matches('/')
        .to_string()
}

fn parse_remote(uri: &str) -> Result<RemoteUri> {
    let unsupported = |why: &str| Error::Usage(format!("{}: {why}", redact::redact(uri)));
    let (scheme, rest) = uri
        .split_once("://")
        .ok_or_else(|| unsupported("not a URI"))?;
    if rest.contains('?') || rest.contains('#') {
        return Err(unsupported(
            "query strings are not supported in sources; give credentials with --storage-option",
        ));
    }
    let (authority, key) = rest.split_once('/').unwrap_or((rest, ""));
    if authority.is_empty() {
        return Err(unsupported("the URI names no bucket, container or host"));
    }
    let provider = match scheme.to_ascii_lowercase().as_str() {
        "s3" | "s3a" => Provider::S3,
        "gs" | "gcs" => Provider::Gcs,
        "az" | "azure" | "abfs" | "abfss" | "adl" => Provider::Azure,
        "http" | "https" => Provider::Http,
        "hf" => return parse_huggingface(uri, rest),
        other => {
            return Err(unsupported(&format!(
                "'{other}://' is not a store prepcost reads (s3, gs, az, abfs, http, https, hf, file)"
            )));
        }
    };
    Ok(RemoteUri {
        provider,
        root: format!("{scheme}://{authority}"),
        key: key.to_string(),
    })
}

/// `hf://datasets/ORG/NAME[@REVISION]/PATH` → the dataset's `resolve/REVISION/PATH` URLs.
fn parse_huggingface(uri: &str, rest: &str) -> Result<RemoteUri> {
    let mut parts = rest.splitn(4, '/');
    let (kind, org, name, path) = (parts.next(), parts.next(), parts.next(), parts.next());
    let (Some("datasets"), Some(org), Some(name)) = (kind, org, name) else {
        return Err(Error::Usage(format!(
            "{uri}: Hugging Face URIs are hf://datasets/ORG/NAME[@REVISION]/PATH"
        )));
    };
    let (name, revision) = name.split_once('@').unwrap_or((name, "main"));
    let revision = revision.replace('/', "%2F");
    Ok(RemoteUri {
        provider: Provider::HuggingFace,
        root: huggingface_endpoint(),
        key: format!(
            "datasets/{org}/{name}/resolve/{revision}/{}",
            path.unwrap_or("")
        ),
    })
}

/// The headers that go with every request to the store: a Hugging Face token.
fn headers(provider: Provider) -> Result<http_headers::HeaderMap> {
    http_headers::for_provider(provider)
}

#[cfg(feature = "remote")]
mod http_headers {
    pub use http::HeaderMap;

    use super::Provider;
    use crate::error::{Error, Result};
    use crate::util::redact;

    /// `HF_TOKEN` (or `HUGGING_FACE_HUB_TOKEN`) as a bearer token for Hugging Face.
    pub fn for_provider(provider: Provider) -> Result<HeaderMap> {
        let mut headers = HeaderMap::new();
        if provider != Provider::HuggingFace {
            return Ok(headers);
        }
        let token = std::env::var("HF_TOKEN")
            .or_else(|_| std::env::var("HUGGING_FACE_HUB_TOKEN"))
            .ok()
            .filter(|t| !t.is_empty());
        if let Some(token) = token {
            redact::register(&token);
            let mut value = http::HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| Error::Usage("HF_TOKEN is not a valid token".into()))?;
            value.set_sensitive(true);
            headers.insert(http::header::AUTHORIZATION, value);
        }
        Ok(headers)
    }
}

#[cfg(not(feature = "remote"))]
mod http_headers {
    use super::Provider;
    use crate::error::Result;

    #[derive(Debug, Default)]
    pub struct HeaderMap;

    pub fn for_provider(_: Provider) -> Result<HeaderMap> {
        Ok(HeaderMap)
    }
}

#[cfg(feature = "remote")]
fn remote_store(
    remote: &RemoteUri,
    options: &StorageOptions,
    requests: &Arc<RequestCounter>,
) -> Result<Arc<dyn ObjectStore>> {
    let store = remote::build(
        remote.provider,
        &remote.root,
        options,
        headers(remote.provider)?,
        Arc::clone(requests),
    )?;
    #[cfg(feature = "http")]
    if remote.provider == Provider::HuggingFace {
        let headers = headers(remote.provider)?;
        let (client, retry) =
            remote::http_client(&remote.root, options, headers, Arc::clone(requests))?;
        let lister = huggingface::TreeLister::new(client, retry, &remote.root);
        return Ok(Arc::new(huggingface::HubStore::new(
            store,
            lister,
            &remote.key,
        )));
    }
    Ok(store)
}

#[cfg(not(feature = "remote"))]
fn remote_store(
    remote: &RemoteUri,
    _: &StorageOptions,
    _: &Arc<RequestCounter>,
) -> Result<Arc<dyn ObjectStore>> {
    let _ = headers(remote.provider)?;
    Err(Error::Usage(format!(
        "{}: this build of prepcost reads local files only (build it with the default features)",
        remote.root
    )))
}

/// Resolves a remote URI: builds its store and finds out whether it names one object (a HEAD)
/// or a prefix. A trailing `/` or a glob says prefix without asking.
async fn resolve_remote(uri: &str, options: &StorageOptions) -> Result<Location> {
    let display = redact::redact(uri).into_owned();
    let remote = parse_remote(uri)?;
    let (prefix, pattern) = split_glob(&remote.key);
    let glob = compile_glob(&display, pattern)?;
    let path = ObjectPath::parse(prefix).map_err(|e| Error::Usage(format!("{display}: {e}")))?;
    let requests = Arc::new(RequestCounter::default());
    let inner = remote_store(&remote, options, &requests)?;
    let store: Arc<dyn ObjectStore> = Arc::new(InstrumentedStore::new(
        inner,
        Arc::clone(&requests),
        Counting::Wire,
    ));
    let url = ObjectStoreUrl::parse(&remote.root).map_err(|e| Error::Storage {
        uri: display.clone(),
        message: crate::error::describe(&e),
    })?;
    let is_object = glob.is_none()
        && !remote.key.is_empty()
        && !remote.key.ends_with('/')
        && match store.head(&path).await {
            Ok(_) => true,
            Err(object_store::Error::NotFound { .. }) => false,
            Err(e) => {
                return Err(Error::SourceFile {
                    path: display,
                    message: crate::error::one_line(&e.to_string()),
                });
            }
        };
    Ok(Location {
        root_display: root_display(&display, pattern),
        display,
        provider: remote.provider,
        url,
        store,
        requests,
        path,
        is_object,
        glob,
    })
}

/// Whose store a URI or path names (`Local` for paths and for URIs prepcost cannot read).
pub fn provider_of(uri: &str) -> Provider {
    match uri.split_once("://") {
        Some((scheme, _)) if scheme != "file" => {
            parse_remote(uri).map_or(Provider::Local, |r| r.provider)
        }
        _ => Provider::Local,
    }
}

/// An object-store prefix that output is written below.
#[derive(Debug)]
pub struct OutputLocation {
    /// The URI as the user gave it (secrets redacted).
    pub display: String,
    pub provider: Provider,
    /// The store, instrumented; its requests go to the counter it was built with.
    pub store: Arc<dyn ObjectStore>,
    /// The prefix the dataset's files are written below.
    pub path: ObjectPath,
}

/// The remote store an output URI names, its requests counted in `requests`; `None` for
/// local paths and `file://` URIs.
pub fn output_location(
    uri: &str,
    options: &StorageOptions,
    requests: &Arc<RequestCounter>,
) -> Result<Option<OutputLocation>> {
    match uri.split_once("://") {
        Some((scheme, _)) if scheme != "file" => {}
        _ => return Ok(None),
    }
    let display = redact::redact(uri).into_owned();
    let remote = parse_remote(uri)?;
    if matches!(remote.provider, Provider::Http | Provider::HuggingFace) {
        return Err(Error::Output {
            path: display,
            message: "output goes to a local directory or to s3://, gs:// or az:// storage".into(),
        });
    }
    if remote.key.contains(GLOB_CHARS) {
        return Err(Error::Output {
            path: display,
            message: "an output prefix cannot be a glob".into(),
        });
    }
    let path = ObjectPath::parse(remote.key.trim_end_matches('/'))
        .map_err(|e| Error::Usage(format!("{display}: {e}")))?;
    let inner = remote_store(&remote, options, requests)?;
    Ok(Some(OutputLocation {
        display,
        provider: remote.provider,
        store: Arc::new(InstrumentedStore::new(
            inner,
            Arc::clone(requests),
            Counting::Wire,
        )),
        path,
    }))
}

/// Every object at the location: the object itself, or all objects under the prefix that
/// match its glob, in lexical path order.
pub async fn list(location: &Location) -> Result<Vec<ObjectMeta>> {
    let failed = |e: object_store::Error| Error::SourceFile {
        path: location.display.clone(),
        message: crate::error::one_line(&e.to_string()),
    };
    let mut objects = if location.is_object {
        vec![location.store.head(&location.path).await.map_err(failed)?]
    } else {
        let prefix = (!location.path.as_ref().is_empty()).then_some(&location.path);
        location
            .store
            .list(prefix)
            .try_filter(|o| std::future::ready(location.selects(&o.location)))
            .try_collect::<Vec<_>>()
            .await
            .map_err(failed)?
    };
    if objects.is_empty() && location.provider != Provider::Local && location.glob.is_none() {
        return Err(Error::SourceNotFound {
            path: location.display.clone(),
        });
    }
    objects.sort_by(|a, b| a.location.as_ref().cmp(b.location.as_ref()));
    Ok(objects)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> StorageOptions {
        StorageOptions::default()
    }

    #[tokio::test]
    async fn directories_list_in_lexical_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.parquet", "a.parquet", "sub/c.parquet", "sub/d.csv"] {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"x").unwrap();
        }
        let location = resolve(dir.path().to_str().unwrap(), &none())
            .await
            .unwrap();
        assert!(!location.is_object);
        let names = |objects: Vec<ObjectMeta>| -> Vec<String> {
            objects
                .iter()
                .map(|o| o.location.filename().unwrap().to_string())
                .collect()
        };
        assert_eq!(
            names(list(&location).await.unwrap()),
            ["a.parquet", "b.parquet", "c.parquet", "d.csv"]
        );
        let shown = location.show(&list(&location).await.unwrap()[2].location);
        assert_eq!(shown, format!("{}/sub/c.parquet", dir.path().display()));

        // Globs: `*` stays within a folder, `**` does not.
        let root = dir.path().display();
        let glob = resolve(&format!("{root}/*.parquet"), &none())
            .await
            .unwrap();
        assert_eq!(
            names(list(&glob).await.unwrap()),
            ["a.parquet", "b.parquet"]
        );
        let deep = resolve(&format!("{root}/**/*.parquet"), &none())
            .await
            .unwrap();
        assert_eq!(
            names(list(&deep).await.unwrap()),
            ["a.parquet", "b.parquet", "c.parquet"]
        );
        let objects = list(&deep).await.unwrap();
        assert_eq!(
            deep.show(&objects[2].location),
            format!("{root}/sub/c.parquet")
        );
    }

    #[tokio::test]
    async fn missing_paths_and_unknown_schemes_are_errors() {
        let e = resolve("/definitely/not/here", &none()).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "/definitely/not/here: no such file or directory"
        );
        let e = resolve("ftp://host/x", &none())
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("'ftp://' is not a store prepcost reads"), "{e}");
        let options = StorageOptions::new(vec![("region".into(), "x".into())]);
        let e = resolve(".", &options).await.unwrap_err().to_string();
        assert_eq!(
            e,
            "--storage-option region: local paths take no storage options"
        );
    }

    #[tokio::test]
    async fn file_uris_are_local_paths() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.parquet");
        std::fs::write(&file, b"x").unwrap();
        let uri = format!("file://{}", file.display());
        let location = resolve(&uri, &none()).await.unwrap();
        assert!(location.is_object);
        assert_eq!(location.show(&location.path), uri);
    }

    #[test]
    fn remote_uris_name_their_store_and_key() {
        let parsed = |uri: &str| parse_remote(uri).unwrap();
        assert_eq!(
            parsed("s3://bucket/a/b/*.parquet"),
            RemoteUri {
                provider: Provider::S3,
                root: "s3://bucket".into(),
                key: "a/b/*.parquet".into()
            }
        );
        assert_eq!(parsed("gs://b").provider, Provider::Gcs);
        assert_eq!(parsed("gs://b").key, "");
        let abfs = parsed("abfss://c@acct.dfs.core.windows.net/x/");
        assert_eq!(
            (abfs.provider, abfs.root.as_str()),
            (Provider::Azure, "abfss://c@acct.dfs.core.windows.net")
        );
        assert_eq!(parsed("https://h:8080/d/f.parquet").root, "https://h:8080");
        let hf = parsed("hf://datasets/org/name@v1.0/data/*.parquet");
        assert_eq!(hf.provider, Provider::HuggingFace);
        assert_eq!(hf.key, "datasets/org/name/resolve/v1.0/data/*.parquet");
        assert!(parse_remote("hf://models/org/name/x").is_err());
        assert!(parse_remote("s3:///key").is_err());
        let e = parse_remote("https://h/f.parquet?sig=SECRET")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("SECRET"), "{e}");
    }

    #[test]
    fn globs_split_at_their_first_wild_component() {
        assert_eq!(split_glob("a/b/*.parquet"), ("a/b", Some("*.parquet")));
        assert_eq!(split_glob("a/**/x?.pq"), ("a", Some("**/x?.pq")));
        assert_eq!(split_glob("*.parquet"), ("", Some("*.parquet")));
        assert_eq!(split_glob("a/b/"), ("a/b/", None));
        assert_eq!(
            root_display("s3://b/a/*.parquet", Some("*.parquet")),
            "s3://b/a"
        );
    }

    proptest::proptest! {
        #![proptest_config(crate::util::property::cases())]

        /// Any URI is taken apart or refused with a message, and any path's glob compiles or
        /// is refused with one.
        #[test]
        fn any_uri_or_glob_parses_or_says_why(
            uri in proptest::prop_oneof![
                proptest::arbitrary::any::<String>(),
                "(s3|S3|gs|az|abfss|hf|http|https|file|ftp)?(:|://|:///)[a-z@.:]{0,8}(/[a-z0-9@%*?{}!.^-]{0,6}|/\\[[a-z!^-]{0,4}\\]?|/\\*\\*){0,5}/?",
            ]
        ) {
            if let Err(e) = parse_remote(&uri) {
                proptest::prop_assert!(!e.to_string().is_empty());
            }
            let (base, pattern) = split_glob(&uri);
            proptest::prop_assert!(uri.starts_with(base));
            if let Err(e) = compile_glob(&uri, pattern) {
                proptest::prop_assert!(e.to_string().contains("not a valid glob"));
            }
            let _ = root_display(&uri, pattern);
        }
    }
}
