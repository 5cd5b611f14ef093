//! Hugging Face dataset repositories: files are read from their `resolve` URLs by the HTTP
//! store; folders, which the Hub does not list over WebDAV, are listed with its tree API
//! (`/api/datasets/ORG/NAME/tree/REVISION/PATH`), one request per folder and page (the Hub
//! returns 1,000 entries a page and the next page's URL in a `Link` header).

use std::collections::VecDeque;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};
use object_store::client::{HttpClient, HttpRequestBody};
use object_store::path::Path;
use object_store::{
    CopyOptions, Error, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result,
    RetryConfig,
};
use serde::Deserialize;

const STORE: &str = "HuggingFace";

/// The HTTP store of a Hub endpoint, listing one dataset repository's folders.
#[derive(Debug, Clone)]
pub struct HubStore {
    inner: Arc<dyn ObjectStore>,
    lister: TreeLister,
    /// `datasets/ORG/NAME/resolve/REVISION`: where files are read.
    resolve: String,
    /// `api/datasets/ORG/NAME/tree/REVISION`: where folders are listed.
    tree: String,
}

/// An entry of a tree listing.
#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(rename = "type")]
    kind: String,
    path: String,
    #[serde(default)]
    size: u64,
    oid: Option<String>,
}

impl HubStore {
    /// The store for the repository that `key` (`datasets/ORG/NAME/resolve/REVISION/…`) is in.
    pub fn new(inner: Arc<dyn ObjectStore>, lister: TreeLister, key: &str) -> Self {
        let parts: Vec<&str> = key.splitn(6, '/').collect();
        let (repo, revision) = match parts.as_slice() {
            [kind, org, name, _resolve, revision, ..] => {
                (format!("{kind}/{org}/{name}"), *revision)
            }
            _ => (String::new(), "main"),
        };
        HubStore {
            inner,
            lister,
            resolve: format!("{repo}/resolve/{revision}"),
            tree: format!("api/{repo}/tree/{revision}"),
        }
    }

    /// The files below the folder `folder` of the repository, walking its subfolders.
    async fn walk(&self, folder: String) -> Result<Vec<ObjectMeta>> {
        let mut files = Vec::new();
        let mut folders = VecDeque::from([folder]);
        while let Some(folder) = folders.pop_front() {
            let path = match folder.as_str() {
                "" => self.tree.clone(),
                f => format!("{}/{f}", self.tree),
            };
            for entry in self.lister.entries(&path).await? {
                match entry.kind.as_str() {
                    "directory" => folders.push_back(entry.path),
                    _ => files.push(ObjectMeta {
                        location: Path::from(format!("{}/{}", self.resolve, entry.path)),
                        last_modified: Default::default(),
                        size: entry.size,
                        e_tag: entry.oid,
                        version: None,
                    }),
                }
            }
        }
        Ok(files)
    }
}

/// Reads the tree API's listings page by page, retrying as the stores do.
#[derive(Debug, Clone)]
pub struct TreeLister {
    client: HttpClient,
    retry: RetryConfig,
    /// The Hub's endpoint, e.g. `https://huggingface.co`.
    endpoint: String,
}

impl TreeLister {
    pub fn new(client: HttpClient, retry: RetryConfig, endpoint: &str) -> Self {
        TreeLister {
            client,
            retry,
            endpoint: endpoint.trim_end_matches('/').to_string(),
        }
    }

    /// Every entry of the folder listed at `path` (below the endpoint), following the
    /// `Link: <…>; rel="next"` of each page; none when the folder does not exist.
    async fn entries(&self, path: &str) -> Result<Vec<Entry>> {
        let mut entries = Vec::new();
        let mut next = Some(format!("{}/{path}", self.endpoint));
        while let Some(url) = next.take() {
            let Some((body, link)) = self.page(&url).await? else {
                break;
            };
            let page: Vec<Entry> = serde_json::from_slice(&body).map_err(|e| generic(&url, e))?;
            entries.extend(page);
            next = link;
        }
        Ok(entries)
    }

    /// One page and the next one's URL; `None` for a 404.
    async fn page(&self, url: &str) -> Result<Option<(Bytes, Option<String>)>> {
        let mut attempt = 0;
        loop {
            let request = http::Request::get(url)
                .body(HttpRequestBody::empty())
                .map_err(|e| generic(url, e))?;
            let failure = match self.client.execute(request).await {
                Ok(response) if response.status() == http::StatusCode::NOT_FOUND => {
                    return Ok(None);
                }
                Ok(response) if response.status().is_success() => {
                    let link = next_page(response.headers());
                    match response.into_body().bytes().await {
                        Ok(body) => return Ok(Some((body, link))),
                        Err(e) => e.to_string(),
                    }
                }
                Ok(response) if retried(response.status()) => response.status().to_string(),
                Ok(response) => return Err(generic(url, response.status())),
                Err(e) => e.to_string(),
            };
            if attempt >= self.retry.max_retries {
                return Err(generic(url, format!("{failure}, after {attempt} retries")));
            }
            let backoff = &self.retry.backoff;
            let wait = backoff
                .init_backoff
                .mul_f64(backoff.base.powi(attempt as i32));
            tokio::time::sleep(wait.min(backoff.max_backoff)).await;
            attempt += 1;
        }
    }
}

/// Statuses a store's client retries: timeouts, throttling and server errors.
fn retried(status: http::StatusCode) -> bool {
    status.is_server_error()
        || status == http::StatusCode::TOO_MANY_REQUESTS
        || status == http::StatusCode::REQUEST_TIMEOUT
}

/// The URL of the `rel="next"` link of a `Link` header.
fn next_page(headers: &http::HeaderMap) -> Option<String> {
    let links = headers.get(http::header::LINK)?.to_str().ok()?;
    links.split(',').find_map(|link| {
        let (target, params) = link.split_once(';')?;
        let next = params
            .split(';')
            .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"));
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        next.then(|| target.to_string())
    })
}

fn generic(url: &str, e: impl fmt::Display) -> Error {
    Error::Generic {
        store: STORE,
        source: format!("{url}: {e}").into(),
    }
}

impl fmt::Display for HubStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HuggingFace({}, {})", self.inner, self.resolve)
    }
}

#[async_trait]
impl ObjectStore for HubStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    /// Lists the files below `prefix` (a `resolve` path) with the tree API.
    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        let prefix = prefix.map(|p| p.as_ref().to_string()).unwrap_or_default();
        let folder = prefix
            .strip_prefix(&self.resolve)
            .map(|rest| rest.trim_start_matches('/').to_string());
        let store = self.clone();
        stream::once(async move {
            let files = match folder {
                Some(folder) => store.walk(folder).await?,
                None => Vec::new(),
            };
            Ok::<_, Error>(stream::iter(files.into_iter().map(Ok)))
        })
        .try_flatten()
        .boxed()
    }

    /// All files below `prefix`, as objects (the tree is walked; no common prefixes).
    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        let objects: Vec<ObjectMeta> = self.list(prefix).try_collect().await?;
        Ok(ListResult {
            common_prefixes: Vec::new(),
            objects,
        })
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_is_the_link_marked_next() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(next_page(&headers), None);
        let link = "<https://hf.co/api/x?cursor=a>; rel=\"prev\", <https://hf.co/api/x?cursor=b>; rel=\"next\"";
        headers.insert(http::header::LINK, link.parse().unwrap());
        assert_eq!(
            next_page(&headers).as_deref(),
            Some("https://hf.co/api/x?cursor=b")
        );
        headers.insert(http::header::LINK, "garbage; rel=next".parse().unwrap());
        assert_eq!(next_page(&headers), None);
    }
}
