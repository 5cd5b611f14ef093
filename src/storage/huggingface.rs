//! Hugging Face dataset repositories: files are read from their `resolve` URLs by the HTTP
//! store; folders, which the Hub does not list over WebDAV, are listed with its tree API
//! (`/api/datasets/ORG/NAME/tree/REVISION/PATH`), one request per folder.

use std::collections::VecDeque;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{self, BoxStream};
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{
    CopyOptions, Error, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, ObjectStoreExt, PutMultipartOptions, PutOptions, PutPayload, PutResult,
    RenameOptions, Result,
};
use serde::Deserialize;

const STORE: &str = "HuggingFace";

/// The most entries the Hub returns for one folder without paging.
const HUB_PAGE: usize = 1000;

/// The HTTP store of a Hub endpoint, listing one dataset repository's folders.
#[derive(Debug, Clone)]
pub struct HubStore {
    inner: Arc<dyn ObjectStore>,
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
    pub fn new(inner: Arc<dyn ObjectStore>, key: &str) -> Self {
        let parts: Vec<&str> = key.splitn(6, '/').collect();
        let (repo, revision) = match parts.as_slice() {
            [kind, org, name, _resolve, revision, ..] => {
                (format!("{kind}/{org}/{name}"), *revision)
            }
            _ => (String::new(), "main"),
        };
        HubStore {
            inner,
            resolve: format!("{repo}/resolve/{revision}"),
            tree: format!("api/{repo}/tree/{revision}"),
        }
    }

    /// The files below the folder `folder` of the repository, walking its subfolders.
    async fn walk(&self, folder: String) -> Result<Vec<ObjectMeta>> {
        let mut files = Vec::new();
        let mut folders = VecDeque::from([folder]);
        while let Some(folder) = folders.pop_front() {
            let url = match folder.as_str() {
                "" => self.tree.clone(),
                f => format!("{}/{f}", self.tree),
            };
            let body = match self.inner.get(&Path::from(url.as_str())).await {
                Ok(r) => r.bytes().await?,
                Err(Error::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            };
            let entries: Vec<Entry> =
                serde_json::from_slice(&body).map_err(|e| generic(&url, e))?;
            if entries.len() >= HUB_PAGE {
                return Err(generic(
                    &url,
                    format!(
                        "a folder of {HUB_PAGE} entries or more, which prepcost cannot list yet; name its files with a glob one level down"
                    ),
                ));
            }
            for entry in entries {
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
