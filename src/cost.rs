//! Pricing and money: what the measured CPU time and stored bytes cost.
//!
//! The defaults are public on-demand list prices (AWS, us-east-1, checked 2026-11); every
//! team should put its own negotiated prices in the pipeline file or on the command line.

use serde::Serialize;

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
}

impl Default for Pricing {
    fn default() -> Self {
        Pricing {
            usd_per_vcpu_hour: 0.0504,
            usd_per_gb_month: 0.023,
        }
    }
}

impl Pricing {
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
}
