//! Pricing and money: what the measured CPU time, stored bytes, storage requests and egress
//! cost.
//!
//! The defaults are public on-demand list prices (AWS us-east-1 for compute; each provider's
//! own for requests and egress, sources below); every team should put its own negotiated
//! prices in the pipeline file or on the command line.

use crate::model::inspect::StorageCost;
use crate::model::loader::RequestCost;
use crate::model::pricing::{Pricing, RequestPricing};
use crate::model::profile::{CostReport, OutputReport, Totals};
use crate::model::requests::RequestStats;
use crate::storage::Provider;

/// Bytes in the GB of cloud storage price lists (AWS bills a GB-month as 2^30 bytes).
pub const BYTES_PER_GB: f64 = (1u64 << 30) as f64;

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
    /// Compute at $0.0504 per vCPU-hour: EC2 on-demand m7i.xlarge (4 vCPU, $0.2016/hour,
    /// Linux, us-east-1) divided by its 4 vCPUs. Storage at $0.023 per GB-month: S3
    /// Standard, first 50 TB/month, us-east-1. Request and egress prices are the provider's
    /// own ([`RequestPricing::list_prices`]).
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

/// What a `profile` run cost: compute, storage, and the requests and egress of the source's
/// store and the output's, each at its provider's prices. `requests` are the run's, the
/// output's among them.
pub fn profile_cost(
    pricing: &Pricing,
    totals: &Totals,
    source_bytes: u64,
    requests: &RequestStats,
    source_provider: Provider,
    output: Option<(&OutputReport, Provider)>,
) -> CostReport {
    let source_prices = pricing.requests_for(source_provider);
    let output_prices = output.map(|(o, provider)| (o, pricing.requests_for(provider)));
    let (requests_usd, egress_usd) = match &output_prices {
        // The output's requests are in the run's counts too: priced at its own provider's.
        Some((o, prices)) => (
            source_prices.requests_usd(requests) - source_prices.requests_usd(&o.requests)
                + prices.requests_usd(&o.requests),
            source_prices.egress_usd(requests) - source_prices.egress_usd(&o.requests)
                + prices.egress_usd(&o.requests),
        ),
        None => (
            source_prices.requests_usd(requests),
            source_prices.egress_usd(requests),
        ),
    };
    let output = output.map(|(o, _)| o);
    CostReport {
        requests_usd: requests_usd.max(0.0),
        egress_usd: egress_usd.max(0.0),
        request_pricing: source_prices,
        output_request_pricing: output_prices
            .map(|(_, p)| p)
            .filter(|p| p.provider != source_prices.provider),
        core_hours: totals.run_cpu_seconds / 3600.0,
        compute_usd: pricing.compute_usd(totals.run_cpu_seconds),
        source_storage_usd_per_month: pricing.storage_usd_per_month(source_bytes),
        output_storage_usd_per_month: output.map(|o| pricing.storage_usd_per_month(o.bytes)),
        pricing: *pricing,
    }
}

/// What `requests` to a store of `provider` cost.
pub fn request_cost(pricing: &Pricing, provider: Provider, requests: &RequestStats) -> RequestCost {
    let prices = pricing.requests_for(provider);
    RequestCost {
        requests_usd: prices.requests_usd(requests),
        egress_usd: prices.egress_usd(requests),
        request_pricing: prices,
    }
}

/// What keeping `file_bytes` in a store of `provider` costs a month, and what `requests` to
/// it cost.
pub fn storage_cost(
    pricing: &Pricing,
    provider: Provider,
    file_bytes: u64,
    requests: &RequestStats,
) -> StorageCost {
    let RequestCost {
        requests_usd,
        egress_usd,
        request_pricing,
    } = request_cost(pricing, provider, requests);
    StorageCost {
        storage_usd_per_month: pricing.storage_usd_per_month(file_bytes),
        requests_usd,
        egress_usd,
        pricing: *pricing,
        request_pricing,
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
