//! What a command asked of storage: requests by the kinds providers bill, bytes each way,
//! retries and latency.

use serde::Serialize;

/// What a store was asked to do, as counted by the instrumented store.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RequestStats {
    /// GET requests, ranged ones included.
    pub get: u64,
    /// GET requests for a byte range.
    pub ranged_get: u64,
    pub head: u64,
    /// LIST requests (each page of a listing on remote stores).
    pub list: u64,
    /// Single PUTs, and the creations and completions of multipart uploads.
    pub put: u64,
    pub multipart_parts: u64,
    pub delete: u64,
    pub copy: u64,
    /// Bytes received from the store.
    pub bytes_in: u64,
    /// Bytes sent to the store.
    pub bytes_out: u64,
    /// Requests that failed in a way the client retries (transport errors, timeouts, 408,
    /// 429, 5xx, bodies cut short); each is one more request in the counts above.
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
