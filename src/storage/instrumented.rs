//! The instrumenting object-store decorator: wraps every store prepcost reads or writes (the
//! local one too) and counts requests by kind, bytes in and out, and request latency.
//!
//! A GET's bytes are the length of the range the store returned, which is what a cloud store
//! bills as egress. Latency is the time until the store answered (the first byte of a GET),
//! not until the body was consumed.

use std::fmt;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, OBJECT_STORE_COALESCE_DEFAULT,
    ObjectMeta, ObjectStore, ObjectStoreExt, PutMultipartOptions, PutOptions, PutPayload,
    PutResult, RenameOptions, Result, UploadPart, coalesce_ranges,
};
use serde::Serialize;

/// Counters shared by a store and everything that reads through it.
#[derive(Debug, Default)]
pub struct RequestCounter {
    get: AtomicU64,
    ranged_get: AtomicU64,
    head: AtomicU64,
    list: AtomicU64,
    put: AtomicU64,
    multipart_parts: AtomicU64,
    delete: AtomicU64,
    copy: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    /// Latency of every timed request, in microseconds.
    latencies_us: Mutex<Vec<u32>>,
}

/// What a store was asked to do, as counted by [`RequestCounter`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RequestStats {
    /// GET requests, ranged ones included.
    pub get: u64,
    /// GET requests for a byte range.
    pub ranged_get: u64,
    pub head: u64,
    /// LIST calls (one per listing, however many pages the store returns).
    pub list: u64,
    /// Single PUTs and completed multipart uploads.
    pub put: u64,
    pub multipart_parts: u64,
    pub delete: u64,
    pub copy: u64,
    /// Bytes received from the store.
    pub bytes_in: u64,
    /// Bytes sent to the store.
    pub bytes_out: u64,
    /// Requests retried by the store client (none for local files).
    pub retries: u64,
    pub latency_s: LatencySummary,
}

/// Latency percentiles of the timed requests, in seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl RequestStats {
    /// All requests of every kind.
    pub fn requests(&self) -> u64 {
        self.get + self.head + self.list + self.put + self.multipart_parts + self.delete + self.copy
    }
}

impl RequestCounter {
    /// The counts so far.
    pub fn snapshot(&self) -> RequestStats {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut latencies = self
            .latencies_us
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default();
        latencies.sort_unstable();
        let percentile = |p: f64| {
            crate::report::nearest_rank(&latencies, p).map_or(0.0, |us| f64::from(us) / 1e6)
        };
        RequestStats {
            get: load(&self.get),
            ranged_get: load(&self.ranged_get),
            head: load(&self.head),
            list: load(&self.list),
            put: load(&self.put),
            multipart_parts: load(&self.multipart_parts),
            delete: load(&self.delete),
            copy: load(&self.copy),
            bytes_in: load(&self.bytes_in),
            bytes_out: load(&self.bytes_out),
            retries: 0,
            latency_s: LatencySummary {
                p50: percentile(0.50),
                p95: percentile(0.95),
                p99: percentile(0.99),
                max: percentile(1.0),
            },
        }
    }

    fn count(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    fn time(&self, started: Instant) {
        let micros = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
        if let Ok(mut latencies) = self.latencies_us.lock() {
            latencies.push(micros);
        }
    }
}

/// An object store that counts what is asked of the store it wraps.
#[derive(Debug)]
pub struct InstrumentedStore {
    inner: Arc<dyn ObjectStore>,
    counter: Arc<RequestCounter>,
}

impl InstrumentedStore {
    /// Wraps `inner`; the counts go to `counter`.
    pub fn new(inner: Arc<dyn ObjectStore>, counter: Arc<RequestCounter>) -> Self {
        InstrumentedStore { inner, counter }
    }
}

impl fmt::Display for InstrumentedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Instrumented({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for InstrumentedStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        let c = &self.counter;
        RequestCounter::count(&c.put, 1);
        RequestCounter::count(&c.bytes_out, payload.content_length() as u64);
        let started = Instant::now();
        let result = self.inner.put_opts(location, payload, opts).await;
        c.time(started);
        result
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        let upload = self.inner.put_multipart_opts(location, opts).await?;
        Ok(Box::new(InstrumentedUpload {
            inner: upload,
            counter: Arc::clone(&self.counter),
        }))
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        let c = &self.counter;
        if options.head {
            RequestCounter::count(&c.head, 1);
        } else {
            RequestCounter::count(&c.get, 1);
            if options.range.is_some() {
                RequestCounter::count(&c.ranged_get, 1);
            }
        }
        let head = options.head;
        let started = Instant::now();
        let result = self.inner.get_opts(location, options).await;
        c.time(started);
        if let (Ok(r), false) = (&result, head) {
            RequestCounter::count(&c.bytes_in, r.range.end - r.range.start);
        }
        result
    }

    /// Coalesces the ranges as object_store's remote stores do, so that every GET a remote
    /// store would send is counted here, for local files too.
    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        coalesce_ranges(
            ranges,
            |range| self.get_range(location, range),
            OBJECT_STORE_COALESCE_DEFAULT,
        )
        .await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        let counter = Arc::clone(&self.counter);
        let counted = locations
            .inspect(move |_| RequestCounter::count(&counter.delete, 1))
            .boxed();
        self.inner.delete_stream(counted)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        RequestCounter::count(&self.counter.list, 1);
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        RequestCounter::count(&self.counter.list, 1);
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        RequestCounter::count(&self.counter.list, 1);
        let started = Instant::now();
        let result = self.inner.list_with_delimiter(prefix).await;
        self.counter.time(started);
        result
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        RequestCounter::count(&self.counter.copy, 1);
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        // A rename is a copy and a delete on object stores (local files rename in place).
        RequestCounter::count(&self.counter.copy, 1);
        RequestCounter::count(&self.counter.delete, 1);
        self.inner.rename_opts(from, to, options).await
    }
}

/// A multipart upload whose parts are counted.
#[derive(Debug)]
struct InstrumentedUpload {
    inner: Box<dyn MultipartUpload>,
    counter: Arc<RequestCounter>,
}

#[async_trait]
impl MultipartUpload for InstrumentedUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        RequestCounter::count(&self.counter.multipart_parts, 1);
        RequestCounter::count(&self.counter.bytes_out, data.content_length() as u64);
        self.inner.put_part(data)
    }

    async fn complete(&mut self) -> Result<PutResult> {
        RequestCounter::count(&self.counter.put, 1);
        self.inner.complete().await
    }

    async fn abort(&mut self) -> Result<()> {
        self.inner.abort().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    #[tokio::test]
    async fn every_request_and_byte_is_counted() {
        let counter = Arc::new(RequestCounter::default());
        let store = InstrumentedStore::new(Arc::new(InMemory::new()), Arc::clone(&counter));
        let path = Path::from("a/b.bin");
        store.put(&path, vec![7u8; 1000].into()).await.unwrap();
        assert_eq!(store.head(&path).await.unwrap().size, 1000);
        assert_eq!(
            store.get(&path).await.unwrap().bytes().await.unwrap().len(),
            1000
        );
        assert_eq!(store.get_range(&path, 10..110).await.unwrap().len(), 100);
        // Ranges less than 1 MiB apart are fetched with one request, as remote stores do.
        let parts = store
            .get_ranges(&path, &[0..10, 20..30, 900..1000])
            .await
            .unwrap();
        assert_eq!(
            parts.iter().map(Bytes::len).collect::<Vec<_>>(),
            [10, 10, 100]
        );
        let listed: Vec<_> = store.list(None).collect().await;
        assert_eq!(listed.len(), 1);

        let stats = counter.snapshot();
        assert_eq!(stats.put, 1);
        assert_eq!(stats.bytes_out, 1000);
        assert_eq!(stats.head, 1);
        assert_eq!(stats.list, 1);
        // One whole GET, one ranged GET, and one coalesced ranged GET.
        assert_eq!(stats.get, 3);
        assert_eq!(stats.ranged_get, 2);
        assert_eq!(stats.bytes_in, 1000 + 100 + 1000);
        assert_eq!(stats.requests(), 6);
        assert!(stats.latency_s.max >= stats.latency_s.p50);
    }
}
