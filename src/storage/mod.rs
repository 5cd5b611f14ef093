//! Where data lives: a source URI or path resolved to an object store and a location in it,
//! and the listing of the objects under that location. Every store is wrapped in the
//! instrumenting decorator, so that each command can say what it asked of storage.

pub mod instrumented;
pub mod local;

use std::sync::Arc;

use datafusion::execution::object_store::ObjectStoreUrl;
use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt};

use crate::error::{Error, Result};
use instrumented::{InstrumentedStore, RequestCounter};

/// A resolved source: the store, its URL as registered in the session, and the path in it.
#[derive(Debug, Clone)]
pub struct Location {
    /// The URI as the user gave it, for messages and reports.
    pub display: String,
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
}

impl Location {
    /// How an object at this location is shown to users: as they named the location, followed
    /// by the object's path below it.
    pub fn show(&self, object: &ObjectPath) -> String {
        if self.is_object {
            return self.display.clone();
        }
        match object.prefix_match(&self.path) {
            Some(rest) => {
                let rest: Vec<_> = rest.map(|p| p.as_ref().to_string()).collect();
                format!("{}/{}", self.display.trim_end_matches('/'), rest.join("/"))
            }
            None => object.to_string(),
        }
    }
}

impl Location {
    /// True for objects below a prefix whose path under it has a part starting with `.` or
    /// `_` (hidden files, `_SUCCESS` markers, staging folders): they are not data.
    pub fn is_hidden(&self, object: &ObjectPath) -> bool {
        !self.is_object
            && object
                .parts()
                .skip(self.path.parts().count())
                .any(|p| p.as_ref().starts_with('.') || p.as_ref().starts_with('_'))
    }
}

/// The URL local sources are registered under in a session. It is not `file://`, so that
/// only reads of the source go through the instrumented store, not those of temporary files.
fn local_source_url() -> ObjectStoreUrl {
    ObjectStoreUrl::parse("local://source").expect("a valid URL")
}

/// Resolves a local path or `file://` URI.
pub fn resolve(uri: &str) -> Result<Location> {
    let local = uri.strip_prefix("file://").unwrap_or(uri);
    if let Some((scheme, _)) = local.split_once("://") {
        return Err(Error::Usage(format!(
            "{uri}: '{scheme}://' sources are not supported in this version; give a local path"
        )));
    }
    let metadata = std::fs::metadata(local).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::SourceNotFound {
            path: uri.to_string(),
        },
        _ => Error::io(uri.to_string(), e),
    })?;
    let canonical = std::fs::canonicalize(local).map_err(|e| Error::io(uri.to_string(), e))?;
    let path = ObjectPath::from_filesystem_path(&canonical).map_err(|e| Error::SourceFile {
        path: uri.to_string(),
        message: e.to_string(),
    })?;
    let requests = Arc::new(RequestCounter::default());
    Ok(Location {
        display: uri.to_string(),
        url: local_source_url(),
        store: Arc::new(InstrumentedStore::new(
            Arc::new(local::LocalStore::new()),
            Arc::clone(&requests),
        )),
        requests,
        path,
        is_object: metadata.is_file(),
    })
}

/// Every object at the location: the object itself, or all objects under the prefix, in
/// lexical path order.
pub async fn list(location: &Location) -> Result<Vec<ObjectMeta>> {
    let mut objects = if location.is_object {
        vec![
            location
                .store
                .head(&location.path)
                .await
                .map_err(|e| Error::SourceFile {
                    path: location.display.clone(),
                    message: e.to_string(),
                })?,
        ]
    } else {
        location
            .store
            .list(Some(&location.path))
            .try_collect::<Vec<_>>()
            .await
            .map_err(|e| Error::SourceFile {
                path: location.display.clone(),
                message: crate::error::one_line(&e.to_string()),
            })?
    };
    objects.sort_by(|a, b| a.location.as_ref().cmp(b.location.as_ref()));
    Ok(objects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn directories_list_in_lexical_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.parquet", "a.parquet", "sub/c.parquet"] {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"x").unwrap();
        }
        let location = resolve(dir.path().to_str().unwrap()).unwrap();
        assert!(!location.is_object);
        let names: Vec<String> = list(&location)
            .await
            .unwrap()
            .iter()
            .map(|o| o.location.filename().unwrap().to_string())
            .collect();
        assert_eq!(names, ["a.parquet", "b.parquet", "c.parquet"]);
        let shown = location.show(&list(&location).await.unwrap()[2].location);
        assert_eq!(shown, format!("{}/sub/c.parquet", dir.path().display()));
    }

    #[test]
    fn missing_paths_and_remote_schemes_are_errors() {
        let e = resolve("/definitely/not/here").unwrap_err();
        assert_eq!(
            e.to_string(),
            "/definitely/not/here: no such file or directory"
        );
        assert!(resolve("s3://bucket/x").is_err());
    }

    #[test]
    fn file_uris_are_local_paths() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.parquet");
        std::fs::write(&file, b"x").unwrap();
        let uri = format!("file://{}", file.display());
        let location = resolve(&uri).unwrap();
        assert!(location.is_object);
        assert_eq!(location.show(&location.path), uri);
    }
}
