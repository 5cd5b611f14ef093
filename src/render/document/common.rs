//! What every report's document shares: the lines for storage requests and their cost, and
//! projected figures with their intervals.

use crate::model::pricing::RequestPricing;
use crate::model::profile::Estimate;
use crate::model::requests::RequestStats;
use crate::util::units::{count, format_size, usd};

/// `1 LIST, 2 GET, 2 of them ranged, 128 KiB read`.
pub(super) fn requests(r: &RequestStats) -> String {
    let mut parts = Vec::new();
    for (n, what) in [
        (r.list, "LIST"),
        (r.head, "HEAD"),
        (r.get, "GET"),
        (r.put, "PUT"),
        (r.multipart_parts, "part"),
        (r.delete, "DELETE"),
    ] {
        if n > 0 {
            parts.push(format!("{} {what}", count(n)));
        }
    }
    if r.ranged_get > 0 {
        parts.push(format!("{} of them ranged", count(r.ranged_get)));
    }
    parts.push(format!("{} read", format_size(r.bytes_in)));
    if r.bytes_out > 0 {
        parts.push(format!("{} written", format_size(r.bytes_out)));
    }
    if r.retries > 0 {
        parts.push(format!("{} retried", count(r.retries)));
    }
    parts.join(", ")
}

/// `$0.0000123 for requests, $0.0000456 egress (s3 prices: …)`.
pub(super) fn request_cost(requests_usd: f64, egress_usd: f64, pricing: &RequestPricing) -> String {
    format!(
        "{} for requests, {} egress ({} prices: ${}/1000 GET, ${}/1000 PUT, ${}/GB out)",
        usd(requests_usd),
        usd(egress_usd),
        pricing.provider,
        pricing.usd_per_1000_get,
        pricing.usd_per_1000_put,
        pricing.usd_per_gb_egress
    )
}

/// `12,345 (12,001–12,690)`; the figure alone when it is exact.
pub(super) fn range(e: Estimate, show: impl Fn(f64) -> String) -> String {
    if e.low == e.high {
        show(e.value)
    } else {
        format!("{} ({}–{})", show(e.value), show(e.low), show(e.high))
    }
}
