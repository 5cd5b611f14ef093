//! Pricing and money: what the measured CPU time, stored bytes, storage requests and egress
//! cost.
//!
//! The defaults are public on-demand list prices (AWS us-east-1 for compute; each provider's
//! own for requests and egress, sources below); every team should put its own negotiated
//! prices in the pipeline file or on the command line.

use serde::Serialize;

use crate::storage::Provider;
use crate::storage::instrumented::RequestStats;

/// Bytes in the GB of cloud storage price lists (AWS bills a GB-month as 2^30 bytes).
pub const BYTES_PER_GB: f64 = (1u64 << 30) as f64;

/// Prices used to turn measures into dollars.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pricing {
    /// USD per vCPU-hour of compute. Default 0.0504: EC2 on-demand m7i.xlarge (4 vCPU,
    /// $0.2016/hour, Linux, us-east-1) divided by its 4 vCPUs.
    pub usd_per_vcpu_hour: f64,
    /// USD per GB-month of object storage. Default 0.023: S3 Standard, first 50 TB/month,
    /// us-east-1.
    pub usd_per_gb_month: f64,
    /// Overrides of the provider's request and egress prices ([`RequestPricing`]).
    #[serde(skip)]
    pub usd_per_1000_get: Option<f64>,
    #[serde(skip)]
    pub usd_per_1000_put: Option<f64>,
    #[serde(skip)]
    pub usd_per_gb_egress: Option<f64>,
}

/// What a provider charges for requests and for bytes read out of it.
///
/// GET-class requests are GET and HEAD; PUT-class are PUT, POST, LIST, COPY and multipart
/// parts (LIST is billed with the writes by AWS, Google and Azure alike); DELETE is free.
/// Egress is the internet data-transfer price: reads from a machine in the bucket's own
/// region cost nothing, so set `usd_per_gb_egress = 0` for those.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RequestPricing {
    /// The provider whose list prices are the defaults.
    pub provider: &'static str,
    pub usd_per_1000_get: f64,
    pub usd_per_1000_put: f64,
    pub usd_per_gb_egress: f64,
}

impl RequestPricing {
    /// The provider's list prices:
    /// - s3: S3 Standard, us-east-1 — GET $0.0004 and PUT/LIST $0.005 per 1,000 requests;
    ///   data transfer out to the internet $0.09/GB (first 10 TB/month), from
    ///   <https://aws.amazon.com/s3/pricing/>.
    /// - gcs: Standard storage — Class B (GET, HEAD) $0.0004 and Class A (insert, list)
    ///   $0.005 per 1,000; internet egress $0.12/GB (Premium tier, first TB), from
    ///   <https://cloud.google.com/storage/pricing>.
    /// - azure: Blob Storage Hot, LRS — read $0.0044 and write/list $0.055 per 10,000;
    ///   internet egress $0.087/GB (first 10 TB from North America), from
    ///   <https://azure.microsoft.com/pricing/details/storage/blobs/>.
    /// - http, huggingface, local: nothing is charged by the server's owner to the reader.
    pub fn list_prices(provider: Provider) -> Self {
        let (get, put, egress) = match provider {
            Provider::S3 => (0.0004, 0.005, 0.09),
            Provider::Gcs => (0.0004, 0.005, 0.12),
            Provider::Azure => (0.00044, 0.0055, 0.087),
            Provider::Http | Provider::HuggingFace | Provider::Local => (0.0, 0.0, 0.0),
        };
        RequestPricing {
            provider: provider.name(),
            usd_per_1000_get: get,
            usd_per_1000_put: put,
            usd_per_gb_egress: egress,
        }
    }

    /// The price of the requests in `stats`.
    pub fn requests_usd(&self, stats: &RequestStats) -> f64 {
        let get_class = stats.get + stats.head;
        let put_class = stats.put + stats.multipart_parts + stats.list + stats.copy;
        get_class as f64 / 1000.0 * self.usd_per_1000_get
            + put_class as f64 / 1000.0 * self.usd_per_1000_put
    }

    /// The price of the bytes read out of the store in `stats`.
    pub fn egress_usd(&self, stats: &RequestStats) -> f64 {
        stats.bytes_in as f64 / BYTES_PER_GB * self.usd_per_gb_egress
    }
}

impl Default for Pricing {
    fn default() -> Self {
        Pricing {
            usd_per_vcpu_hour: 0.0504,
            usd_per_gb_month: 0.023,
            usd_per_1000_get: None,
            usd_per_1000_put: None,
            usd_per_gb_egress: None,
        }
    }
}

impl Pricing {
    /// The request and egress prices for data kept by `provider`: its list prices, with the
    /// overrides given.
    pub fn requests_for(&self, provider: Provider) -> RequestPricing {
        let list = RequestPricing::list_prices(provider);
        RequestPricing {
            provider: list.provider,
            usd_per_1000_get: self.usd_per_1000_get.unwrap_or(list.usd_per_1000_get),
            usd_per_1000_put: self.usd_per_1000_put.unwrap_or(list.usd_per_1000_put),
            usd_per_gb_egress: self.usd_per_gb_egress.unwrap_or(list.usd_per_gb_egress),
        }
    }

    /// The cost of `cpu_seconds` of CPU time: one vCPU busy for that long.
    pub fn compute_usd(&self, cpu_seconds: f64) -> f64 {
        cpu_seconds / 3600.0 * self.usd_per_vcpu_hour
    }

    /// The monthly cost of keeping `bytes` in object storage.
    pub fn storage_usd_per_month(&self, bytes: u64) -> f64 {
        bytes as f64 / BYTES_PER_GB * self.usd_per_gb_month
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_scale_linearly() {
        let p = Pricing::default();
        assert!((p.compute_usd(3600.0) - 0.0504).abs() < 1e-12);
        assert!((p.storage_usd_per_month(1 << 30) - 0.023).abs() < 1e-12);
        assert_eq!(p.compute_usd(0.0), 0.0);
    }

    #[test]
    fn requests_and_egress_are_priced_by_class() {
        let stats = RequestStats {
            get: 2000,
            head: 1000,
            list: 10,
            put: 990,
            bytes_in: 1 << 30,
            ..Default::default()
        };
        let s3 = Pricing::default().requests_for(Provider::S3);
        assert!((s3.requests_usd(&stats) - (3.0 * 0.0004 + 1.0 * 0.005)).abs() < 1e-12);
        assert!((s3.egress_usd(&stats) - 0.09).abs() < 1e-12);
        let free = Pricing::default().requests_for(Provider::HuggingFace);
        assert_eq!(free.requests_usd(&stats) + free.egress_usd(&stats), 0.0);
        let own = Pricing {
            usd_per_gb_egress: Some(0.0),
            ..Pricing::default()
        };
        assert_eq!(own.requests_for(Provider::S3).egress_usd(&stats), 0.0);
    }
}
