//! The prices a report was costed at: plain data, filled in by the cost model (its defaults
//! and the arithmetic that turns measures into dollars live with it).

use serde::Serialize;

/// Prices used to turn measures into dollars.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pricing {
    /// USD per vCPU-hour of compute.
    pub usd_per_vcpu_hour: f64,
    /// USD per GB-month of object storage.
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
