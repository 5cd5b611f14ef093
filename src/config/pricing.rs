//! Prices as given on the command line or in the pipeline file, and the prices a run uses:
//! those given, over the defaults.

use crate::error::{Error, Result};
use crate::model::pricing::Pricing;

/// Prices given on the command line; each overrides the pipeline file and the defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PriceFlags {
    pub usd_per_vcpu_hour: Option<f64>,
    pub usd_per_gb_month: Option<f64>,
    pub usd_per_1000_get: Option<f64>,
    pub usd_per_1000_put: Option<f64>,
    pub usd_per_gb_egress: Option<f64>,
}

impl PriceFlags {
    /// These prices, falling back to `other`'s where not given.
    pub fn or(self, other: PriceFlags) -> PriceFlags {
        PriceFlags {
            usd_per_vcpu_hour: self.usd_per_vcpu_hour.or(other.usd_per_vcpu_hour),
            usd_per_gb_month: self.usd_per_gb_month.or(other.usd_per_gb_month),
            usd_per_1000_get: self.usd_per_1000_get.or(other.usd_per_1000_get),
            usd_per_1000_put: self.usd_per_1000_put.or(other.usd_per_1000_put),
            usd_per_gb_egress: self.usd_per_gb_egress.or(other.usd_per_gb_egress),
        }
    }
}

/// The prices given, over the defaults; each must be a finite amount of zero or more.
pub fn pricing(prices: PriceFlags) -> Result<Pricing> {
    let defaults = Pricing::default();
    let pricing = Pricing {
        usd_per_vcpu_hour: prices
            .usd_per_vcpu_hour
            .unwrap_or(defaults.usd_per_vcpu_hour),
        usd_per_gb_month: prices.usd_per_gb_month.unwrap_or(defaults.usd_per_gb_month),
        usd_per_1000_get: prices.usd_per_1000_get,
        usd_per_1000_put: prices.usd_per_1000_put,
        usd_per_gb_egress: prices.usd_per_gb_egress,
    };
    for (flag, price) in [
        ("--usd-per-vcpu-hour", Some(pricing.usd_per_vcpu_hour)),
        ("--usd-per-gb-month", Some(pricing.usd_per_gb_month)),
        ("--usd-per-1000-get", pricing.usd_per_1000_get),
        ("--usd-per-1000-put", pricing.usd_per_1000_put),
        ("--usd-per-gb-egress", pricing.usd_per_gb_egress),
    ] {
        let Some(price) = price else { continue };
        if !(price.is_finite() && price >= 0.0) {
            return Err(Error::Usage(format!(
                "{flag} must be zero or more, got {price}"
            )));
        }
    }
    Ok(pricing)
}
