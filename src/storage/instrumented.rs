//! The instrumenting object-store decorator: wraps every store prepcost reads or writes (the
//! local one too) and the counters it and the wire counter ([`super::wire`]) share: requests
//! by kind, bytes in and out, request latency and retries, per command and per stage.
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

use crate::model::requests::{LatencySummary, RequestStats};
use crate::util::percentile::nearest_rank;

/// The kinds of request a store is asked, as providers bill them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    Get,
    RangedGet,
    Head,
    List,
    /// A single PUT, or the creation or completion of a multipart upload.
    Put,
    MultipartPart,
    Delete,
    Copy,
}

/// The counters of a [`RequestCounter`], by index.
const GET: usize = 0;
const RANGED_GET: usize = 1;
const HEAD: usize = 2;
const LIST: usize = 3;
const PUT: usize = 4;
const MULTIPART_PARTS: usize = 5;
const DELETE: usize = 6;
const COPY: usize = 7;
const BYTES_IN: usize = 8;
const BYTES_OUT: usize = 9;
const RETRIES: usize = 10;
const COUNTERS: usize = 11;

/// Counters shared by a store and everything that reads through it.
#[derive(Debug, Default)]
pub struct RequestCounter {
    counts: [AtomicU64; COUNTERS],
    /// Latency of every timed request, in microseconds, in the order they ended.
    latencies_us: Mutex<Vec<u32>>,
}

/// The counters at one moment, to count what happened since (a stage's share).
#[derive(Debug, Clone, Default)]
pub struct Mark {
    counts: [u64; COUNTERS],
    latencies: usize,
}

impl RequestCounter {
    /// The counts so far.
    pub fn snapshot(&self) -> RequestStats {
        self.since(&Mark::default())
    }

    /// The counters now.
    pub fn mark(&self) -> Mark {
        Mark {
            counts: std::array::from_fn(|i| self.counts[i].load(Ordering::Relaxed)),
            latencies: self.latencies_us.lock().map(|l| l.len()).unwrap_or(0),
        }
    }

    /// What was counted since `mark`.
    pub fn since(&self, mark: &Mark) -> RequestStats {
        let now = self.mark();
        let n = |i: usize| now.counts[i].saturating_sub(mark.counts[i]);
        let mut latencies = self
            .latencies_us
            .lock()
            .map(|l| l.get(mark.latencies..).unwrap_or_default().to_vec())
            .unwrap_or_default();
        latencies.sort_unstable();
        let percentile = |p: f64| nearest_rank(&latencies, p).map_or(0.0, |us| f64::from(us) / 1e6);
        RequestStats {
            get: n(GET),
            ranged_get: n(RANGED_GET),
            head: n(HEAD),
            list: n(LIST),
            put: n(PUT),
            multipart_parts: n(MULTIPART_PARTS),
            delete: n(DELETE),
            copy: n(COPY),
            bytes_in: n(BYTES_IN),
            bytes_out: n(BYTES_OUT),
            retries: n(RETRIES),
            latency_s: LatencySummary {
                p50: percentile(0.50),
                p95: percentile(0.95),
                p99: percentile(0.99),
                max: percentile(1.0),
            },
        }
    }

    /// Adds everything `other` counted to these counters (a run's total, from the counters
    /// of one of its parts).
    pub fn absorb(&self, other: &RequestCounter) {
        for (mine, theirs) in self.counts.iter().zip(&other.counts) {
            mine.fetch_add(theirs.load(Ordering::Relaxed), Ordering::Relaxed);
        }
        let theirs = other
            .latencies_us
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default();
        if let Ok(mut mine) = self.latencies_us.lock() {
            mine.extend(theirs);
        }
    }

    fn add(&self, counter: usize, n: u64) {
        self.counts[counter].fetch_add(n, Ordering::Relaxed);
    }

    /// Counts one request of `kind` that sends `bytes_out` bytes.
    pub fn record(&self, kind: RequestKind, bytes_out: u64) {
        let counter = match kind {
            RequestKind::Get => GET,
            RequestKind::RangedGet => {
                self.add(GET, 1);
                RANGED_GET
            }
            RequestKind::Head => HEAD,
            RequestKind::List => LIST,
            RequestKind::Put => PUT,
            RequestKind::MultipartPart => MULTIPART_PARTS,
            RequestKind::Delete => DELETE,
            RequestKind::Copy => COPY,
        };
        self.add(counter, 1);
        self.add(BYTES_OUT, bytes_out);
    }

    /// Counts bytes received.
    pub fn received(&self, bytes: u64) {
        self.add(BYTES_IN, bytes);
    }

    /// Counts a request that failed in a way that is retried.
    pub fn failed(&self) {
        self.add(RETRIES, 1);
    }

    /// Records the latency of a request that started at `started`.
    pub fn time(&self, started: Instant) {
        let micros = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
        if let Ok(mut latencies) = self.latencies_us.lock() {
            latencies.push(micros);
        }
    }
}

/// Where a store's requests are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// By the decorator, one per operation (local files, which have no wire).
    Operations,
    /// By the store's HTTP client, one per exchange (see [`super::wire`]); the decorator
    /// passes requests through.
    Wire,
}

/// An object store that counts what is asked of the store it wraps.
#[derive(Debug)]
pub struct InstrumentedStore {
    inner: Arc<dyn ObjectStore>,
    counter: Arc<RequestCounter>,
    counting: Counting,
}

impl InstrumentedStore {
    /// Wraps `inner`; the counts go to `counter`.
    pub fn new(
        inner: Arc<dyn ObjectStore>,
        counter: Arc<RequestCounter>,
        counting: Counting,
    ) -> Self {
        InstrumentedStore {
            inner,
            counter,
            counting,
        }
    }

    /// Counts one operation of `kind`, unless the wire counts it.
    fn record(&self, kind: RequestKind, bytes_out: u64) {
        if self.counting == Counting::Operations {
            self.counter.record(kind, bytes_out);
        }
    }

    /// Runs `request`, timing it when the wire does not.
    async fn timed<T>(&self, request: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let result = request.await;
        if self.counting == Counting::Operations {
            self.counter.time(started);
        }
        result
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
        self.record(RequestKind::Put, payload.content_length() as u64);
        self.timed(self.inner.put_opts(location, payload, opts))
            .await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        let upload = self.inner.put_multipart_opts(location, opts).await?;
        if self.counting == Counting::Wire {
            return Ok(upload);
        }
        Ok(Box::new(InstrumentedUpload {
            inner: upload,
            counter: Arc::clone(&self.counter),
        }))
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        let kind = match (options.head, &options.range) {
            (true, _) => RequestKind::Head,
            (false, Some(_)) => RequestKind::RangedGet,
            (false, None) => RequestKind::Get,
        };
        self.record(kind, 0);
        let result = self.timed(self.inner.get_opts(location, options)).await;
        if let (Ok(r), Counting::Operations, false) =
            (&result, self.counting, kind == RequestKind::Head)
        {
            self.counter.received(r.range.end - r.range.start);
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
        if self.counting == Counting::Wire {
            return self.inner.delete_stream(locations);
        }
        let counter = Arc::clone(&self.counter);
        let counted = locations
            .inspect(move |_| counter.record(RequestKind::Delete, 0))
            .boxed();
        self.inner.delete_stream(counted)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.record(RequestKind::List, 0);
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        self.record(RequestKind::List, 0);
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.record(RequestKind::List, 0);
        self.timed(self.inner.list_with_delimiter(prefix)).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.record(RequestKind::Copy, 0);
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        // A rename is a copy and a delete on object stores (local files rename in place).
        self.record(RequestKind::Copy, 0);
        self.record(RequestKind::Delete, 0);
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
        self.counter
            .record(RequestKind::MultipartPart, data.content_length() as u64);
        self.inner.put_part(data)
    }

    async fn complete(&mut self) -> Result<PutResult> {
        self.counter.record(RequestKind::Put, 0);
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
        let store = InstrumentedStore::new(
            Arc::new(InMemory::new()),
            Arc::clone(&counter),
            Counting::Operations,
        );
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
