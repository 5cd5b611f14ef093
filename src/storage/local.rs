//! The local file system as an object store: object_store's own, except that GETs are
//! answered on the calling task — the file opened and, for a small range such as a Parquet
//! footer, read there too — instead of on tokio's blocking pool. From the page cache these
//! take microseconds, less than the two thread hand-offs per read they would otherwise cost
//! on datasets of many small files. Larger ranges are still read on the blocking pool.

use std::fmt;
use std::fs::{File, Metadata};
use std::io::ErrorKind;
use std::ops::Range;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path as FsPath;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, stream};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    Attributes, CopyOptions, Error, GetOptions, GetResult, GetResultPayload, ListResult,
    MultipartUpload, ObjectMeta, ObjectStore, PutMultipartOptions, PutOptions, PutPayload,
    PutResult, RenameOptions, Result,
};

/// Ranges up to this many bytes are read on the calling task.
pub const INLINE_READ_MAX: u64 = 64 << 10;

const STORE: &str = "LocalFileSystem";

/// [`LocalFileSystem`] with GETs answered on the calling task.
#[derive(Debug, Default)]
pub struct LocalStore {
    inner: Arc<LocalFileSystem>,
}

impl LocalStore {
    pub fn new() -> Self {
        Self::default()
    }
}

impl fmt::Display for LocalStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// What object_store's local store says of a file: the same ETag (inode, modification time
/// in microseconds and size, in hex, as Apache httpd does), so that either may answer.
fn object_meta(location: &Path, metadata: &Metadata) -> Result<ObjectMeta> {
    let modified = metadata.modified().map_err(|e| generic(location, e))?;
    let micros = modified
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros();
    let size = metadata.len();
    Ok(ObjectMeta {
        location: location.clone(),
        last_modified: modified.into(),
        size,
        e_tag: Some(format!("{:x}-{micros:x}-{size:x}", metadata.ino())),
        version: None,
    })
}

fn generic(location: &Path, source: std::io::Error) -> Error {
    Error::Generic {
        store: STORE,
        source: format!("{location}: {source}").into(),
    }
}

fn not_found(location: &Path, source: std::io::Error) -> Error {
    Error::NotFound {
        path: location.to_string(),
        source: source.into(),
    }
}

/// Opens the file behind `location`; a directory is not an object.
fn open(location: &Path, path: &FsPath) -> Result<(File, Metadata)> {
    let opened = File::open(path).and_then(|file| Ok((file.metadata()?, file)));
    match opened {
        Ok((metadata, _)) if metadata.is_dir() => Err(not_found(
            location,
            std::io::Error::new(ErrorKind::NotFound, "is a directory"),
        )),
        Ok((metadata, file)) => Ok((file, metadata)),
        Err(e) if e.kind() == ErrorKind::NotFound => Err(not_found(location, e)),
        Err(e) => Err(generic(location, e)),
    }
}

/// Reads `range` of `file`.
fn read_range(file: &File, location: &Path, range: Range<u64>) -> Result<Bytes> {
    let mut buffer = vec![0; (range.end - range.start) as usize];
    file.read_exact_at(&mut buffer, range.start)
        .map_err(|e| generic(location, e))?;
    Ok(buffer.into())
}

#[async_trait]
impl ObjectStore for LocalStore {
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
        let path = self.inner.path_to_filesystem(location)?;
        let (file, metadata) = open(location, &path)?;
        let meta = object_meta(location, &metadata)?;
        options.check_preconditions(&meta)?;
        let range = match &options.range {
            Some(range) => range.as_range(meta.size).map_err(|e| Error::Generic {
                store: STORE,
                source: format!("{location}: {e}").into(),
            })?,
            None => 0..meta.size,
        };
        let payload = if !options.head && range.end - range.start <= INLINE_READ_MAX {
            let bytes = read_range(&file, location, range.clone())?;
            GetResultPayload::Stream(stream::once(async { Ok(bytes) }).boxed())
        } else {
            GetResultPayload::File(file, path)
        };
        Ok(GetResult {
            payload,
            meta,
            range,
            attributes: Attributes::default(),
        })
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

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
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
    use object_store::{GetRange, ObjectStoreExt};

    #[tokio::test]
    async fn answers_as_object_stores_local_store_does() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(dir.path().join("f.bin"), &data).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let ours = LocalStore::new();
        let theirs = LocalFileSystem::new();
        let location = Path::from_filesystem_path(dir.path().join("f.bin")).unwrap();

        assert_eq!(
            ours.head(&location).await.unwrap(),
            theirs.head(&location).await.unwrap()
        );
        for range in [
            GetRange::Bounded(10..110),
            GetRange::Bounded(190_000..250_000),
            GetRange::Suffix(8),
            GetRange::Offset(50_000),
        ] {
            let options = || GetOptions {
                range: Some(range.clone()),
                ..Default::default()
            };
            let a = ours.get_opts(&location, options()).await.unwrap();
            let b = theirs.get_opts(&location, options()).await.unwrap();
            assert_eq!((&a.meta, &a.range), (&b.meta, &b.range), "{range}");
            assert_eq!(
                a.bytes().await.unwrap(),
                b.bytes().await.unwrap(),
                "{range}"
            );
        }
        let whole = ours.get(&location).await.unwrap().bytes().await.unwrap();
        assert_eq!(whole, data);

        let missing = Path::from_filesystem_path(dir.path()).unwrap().join("nope");
        assert!(matches!(
            ours.get(&missing).await,
            Err(Error::NotFound { .. })
        ));
        let directory = Path::from_filesystem_path(dir.path().join("sub")).unwrap();
        assert!(matches!(
            ours.get(&directory).await,
            Err(Error::NotFound { .. })
        ));
        assert!(ours.get_range(&location, 300_000..300_010).await.is_err());
        let stale = GetOptions {
            if_match: Some("not-the-etag".into()),
            ..Default::default()
        };
        assert!(ours.get_opts(&location, stale).await.is_err());
    }
}
