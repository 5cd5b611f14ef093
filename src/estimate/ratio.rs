//! The ratio estimator of a population total from a sample of units, with its 95% interval
//! from the linearised (Taylor) variance of the sampling design (Cochran, *Sampling
//! Techniques*, 3rd ed., §6.3 and §2.8; Särndal et al., *Model Assisted Survey Sampling*, §5.6).

use crate::model::profile::Estimate;

/// The two-sided 95% point of the normal distribution.
const Z95: f64 = 1.959_963_984_540_054;

/// How the units of a sample were drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Design {
    /// `sampled` of `units` units, uniformly without replacement.
    WithoutReplacement { sampled: usize, units: usize },
    /// Each unit kept on its own with probability `fraction`.
    Bernoulli { fraction: f64 },
}

/// The population total of `y` from the sampled units' `(x, y)`, where the population total
/// of `x` is `total_x`, known exactly: `total_x · Σy / Σx`. The interval is the estimate ±
/// 1.96 standard errors, and never below what the sample itself holds when `y ≥ 0`.
pub fn ratio_total(units: &[(f64, f64)], total_x: f64, design: Design) -> Estimate {
    let (sum_x, sum_y) = units
        .iter()
        .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x, sy + y));
    if sum_x <= 0.0 {
        // Nothing of a population of nothing is known exactly; a sample that saw none of a
        // population says nothing of it.
        return match total_x > 0.0 {
            true => Estimate {
                value: f64::NAN,
                low: f64::NEG_INFINITY,
                high: f64::INFINITY,
            },
            false => Estimate::exact(0.0),
        };
    }
    let ratio = sum_y / sum_x;
    let value = total_x * ratio;
    let residuals = units.iter().map(|(x, y)| y - ratio * x);
    // The variance of the expansion (Horvitz–Thompson) estimator of the residuals' total,
    // and the expansion estimate of total_x it is scaled by.
    let (variance, expanded_x) = match design {
        Design::WithoutReplacement { sampled, units } => {
            let (n, big_n) = (sampled as f64, units as f64);
            let s2 = residuals.map(|z| z * z).sum::<f64>() / (n - 1.0).max(1.0);
            (
                big_n * big_n * (1.0 - n / big_n) * s2 / n,
                big_n / n * sum_x,
            )
        }
        Design::Bernoulli { fraction } => {
            let sum_z2 = residuals.map(|z| z * z).sum::<f64>();
            (
                (1.0 - fraction) / (fraction * fraction) * sum_z2,
                sum_x / fraction,
            )
        }
    };
    let scale = total_x / expanded_x;
    let half = Z95 * (scale * scale * variance.max(0.0)).sqrt();
    let floor = if units.iter().all(|&(_, y)| y >= 0.0) {
        sum_y
    } else {
        f64::NEG_INFINITY
    };
    Estimate {
        value,
        low: (value - half).max(floor.min(value)),
        high: value + half,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// Units of 50–150 rows whose rows pass with a probability of their own (units differ,
    /// as row groups of different files do); the total passing is known.
    fn population(units: usize, rng: &mut StdRng) -> Vec<(f64, f64)> {
        (0..units)
            .map(|_| {
                let rows = rng.random_range(50..150);
                let p: f64 = rng.random_range(0.5..0.95);
                let kept = (0..rows).filter(|_| rng.random_bool(p)).count();
                (rows as f64, kept as f64)
            })
            .collect()
    }

    fn coverage(draws: usize, mut sample: impl FnMut(&mut StdRng) -> Estimate, truth: f64) -> f64 {
        let mut rng = StdRng::seed_from_u64(11);
        let inside = (0..draws)
            .filter(|_| {
                let e = sample(&mut rng);
                e.low <= truth && truth <= e.high
            })
            .count();
        inside as f64 / draws as f64
    }

    #[test]
    fn intervals_cover_the_truth_at_their_rate_without_replacement() {
        let units = population(3000, &mut StdRng::seed_from_u64(1));
        let total_x: f64 = units.iter().map(|u| u.0).sum();
        let truth: f64 = units.iter().map(|u| u.1).sum();
        let sampled = 60;
        let rate = coverage(
            1000,
            |rng| {
                let picked: Vec<_> = rand::seq::index::sample(rng, units.len(), sampled)
                    .into_iter()
                    .map(|i| units[i])
                    .collect();
                let design = Design::WithoutReplacement {
                    sampled,
                    units: units.len(),
                };
                ratio_total(&picked, total_x, design)
            },
            truth,
        );
        assert!((0.92..=0.98).contains(&rate), "covered {rate}");
    }

    #[test]
    fn intervals_cover_the_truth_at_their_rate_for_bernoulli_samples() {
        // Units of one row each, kept with probability 2%: a row sample.
        let mut rng = StdRng::seed_from_u64(2);
        let rows: Vec<(f64, f64)> = (0..50_000)
            .map(|i| {
                (
                    1.0,
                    if rng.random_bool(if i % 3 == 0 { 0.2 } else { 0.9 }) {
                        1.0
                    } else {
                        0.0
                    },
                )
            })
            .collect();
        let truth: f64 = rows.iter().map(|u| u.1).sum();
        let fraction = 0.02;
        let rate = coverage(
            400,
            |rng| {
                let picked: Vec<_> = rows
                    .iter()
                    .copied()
                    .filter(|_| rng.random_bool(fraction))
                    .collect();
                ratio_total(&picked, rows.len() as f64, Design::Bernoulli { fraction })
            },
            truth,
        );
        assert!((0.92..=0.98).contains(&rate), "covered {rate}");
    }

    #[test]
    fn a_census_is_exact_and_an_empty_sample_is_zero() {
        let units = [(10.0, 4.0), (20.0, 20.0)];
        let design = Design::WithoutReplacement {
            sampled: 2,
            units: 2,
        };
        assert_eq!(ratio_total(&units, 30.0, design), Estimate::exact(24.0));
        let all = ratio_total(&units, 30.0, Design::Bernoulli { fraction: 1.0 });
        assert_eq!(all, Estimate::exact(24.0));
        assert_eq!(ratio_total(&[], 0.0, design), Estimate::exact(0.0));
        let unknown = ratio_total(&[], 100.0, design);
        assert!(unknown.value.is_nan() && unknown.low.is_infinite() && unknown.high.is_infinite());
    }

    #[test]
    fn the_interval_never_falls_below_what_the_sample_holds() {
        let units = [(1.0, 5.0)];
        let e = ratio_total(&units, 1000.0, Design::Bernoulli { fraction: 0.001 });
        assert!(e.low >= 5.0);
    }
}
