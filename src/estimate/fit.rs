//! Cost curves: how a step's time (or memory) grows with its input — linearly, as n·log n, or
//! as a power of it — chosen from measurements at several sample sizes by their fit in log
//! space, with a penalty for the power law's extra parameter.

/// How a figure grows with its input `n`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Model {
    /// `a·n`.
    Linear,
    /// `a·n·ln n`.
    NLogN,
    /// `a·n^b`.
    Power(f64),
}

impl Model {
    pub fn name(self) -> &'static str {
        match self {
            Model::Linear => "linear",
            Model::NLogN => "n_log_n",
            Model::Power(_) => "power",
        }
    }

    /// The figure at input `to` over the figure at input `from`.
    pub fn factor(self, from: f64, to: f64) -> f64 {
        match self {
            Model::Linear => to / from,
            Model::NLogN => to * to.max(2.0).ln() / (from * from.max(2.0).ln()),
            Model::Power(b) => (to / from).powf(b),
        }
    }

    /// The power of the input the model grows as between `from` and `to`.
    pub fn exponent(self, from: f64, to: f64) -> f64 {
        match self {
            Model::Linear => 1.0,
            Model::Power(b) => b,
            Model::NLogN if from > 0.0 && to > 0.0 && from != to => {
                self.factor(from, to).ln() / (to / from).ln()
            }
            Model::NLogN => 1.0 + 1.0 / from.max(2.0).ln(),
        }
    }
}

/// The model chosen for a set of measurements, and how well it fits them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    pub model: Model,
    /// Root mean square of the measurements' distances from the curve, in natural log units
    /// (0.1: about 10%).
    pub rms_log_error: f64,
    pub points: usize,
}

/// How far a measured time strays from its curve on a shared machine, in log units: the
/// scale of the penalty the power law's extra parameter pays.
const NOISE: f64 = 0.15;

/// The model of `points` (input, figure) that fits best, counting the power law's second
/// parameter against it (Mallows's Cp with [`NOISE`]); its exponent is kept within
/// `exponents`. Points with no input or no figure are left out; with fewer than two, linear.
pub fn choose(points: &[(f64, f64)], exponents: (f64, f64)) -> Fit {
    let logs: Vec<(f64, f64)> = points
        .iter()
        .filter(|(n, y)| *n > 1.0 && *y > 0.0)
        .map(|&(n, y)| (n.ln(), y.ln()))
        .collect();
    if logs.len() < 2 {
        return Fit {
            model: Model::Linear,
            rms_log_error: 0.0,
            points: logs.len(),
        };
    }
    let candidates = [
        (Model::Linear, 1.0),
        (Model::NLogN, 1.0),
        (
            Model::Power(slope(&logs).clamp(exponents.0, exponents.1)),
            2.0,
        ),
    ];
    let (model, rss) = candidates
        .iter()
        .map(|&(model, parameters)| {
            let rss = residuals(&logs, model);
            (model, rss, rss + 2.0 * parameters * NOISE * NOISE)
        })
        .min_by(|a, b| a.2.total_cmp(&b.2))
        .map(|(model, rss, _)| (model, rss))
        .unwrap_or((Model::Linear, 0.0));
    Fit {
        model,
        rms_log_error: (rss / logs.len() as f64).sqrt(),
        points: logs.len(),
    }
}

/// The least-squares slope of `logs`.
fn slope(logs: &[(f64, f64)]) -> f64 {
    let n = logs.len() as f64;
    let (mx, my) = logs
        .iter()
        .fold((0.0, 0.0), |(x, y), p| (x + p.0 / n, y + p.1 / n));
    let (sxy, sxx) = logs.iter().fold((0.0, 0.0), |(sxy, sxx), p| {
        (sxy + (p.0 - mx) * (p.1 - my), sxx + (p.0 - mx) * (p.0 - mx))
    });
    if sxx > 0.0 { sxy / sxx } else { 1.0 }
}

/// The sum of squared log residuals of `logs` from `model` through their best scale.
fn residuals(logs: &[(f64, f64)], model: Model) -> f64 {
    let shape = |x: f64| match model {
        Model::Linear => x,
        Model::NLogN => x + x.max(std::f64::consts::LN_2).ln(),
        Model::Power(b) => b * x,
    };
    let offset = logs.iter().map(|&(x, y)| y - shape(x)).sum::<f64>() / logs.len() as f64;
    logs.iter()
        .map(|&(x, y)| (y - shape(x) - offset).powi(2))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(f: impl Fn(f64) -> f64) -> Vec<(f64, f64)> {
        [1e5, 1e6, 1e7, 1e8].iter().map(|&n| (n, f(n))).collect()
    }

    #[test]
    fn each_model_is_found_where_it_holds() {
        let linear = choose(&curve(|n| 3e-8 * n), (0.5, 2.0));
        assert_eq!(linear.model, Model::Linear);
        assert!(linear.rms_log_error < 1e-9);
        let nlogn = choose(&curve(|n| 1e-9 * n * n.ln()), (0.5, 2.0));
        assert_eq!(nlogn.model, Model::NLogN);
        let power = choose(&curve(|n| 1e-10 * n.powf(1.4)), (0.5, 2.0));
        assert!(matches!(power.model, Model::Power(b) if (b - 1.4).abs() < 1e-9));
        assert_eq!(power.points, 4);
    }

    #[test]
    fn noise_does_not_buy_a_power_law_and_exponents_stay_in_range() {
        // ±10% around linear: the power law's extra parameter does not pay for itself.
        let noisy: Vec<(f64, f64)> = curve(|n| n)
            .into_iter()
            .zip([1.1, 0.9, 1.1, 0.9])
            .map(|((n, y), e)| (n, y * e))
            .collect();
        assert_eq!(choose(&noisy, (0.85, 1.1)).model, Model::Linear);
        let steep = choose(&curve(|n| n * n), (0.85, 1.1));
        assert_eq!(steep.model, Model::Power(1.1));
        assert_eq!(choose(&[(1e6, 2.0)], (0.85, 1.1)).model, Model::Linear);
    }

    #[test]
    fn factors_and_exponents_agree() {
        for model in [Model::Linear, Model::NLogN, Model::Power(0.9)] {
            let factor = model.factor(1e6, 1e8);
            let exponent = model.exponent(1e6, 1e8);
            assert!(
                (100f64.powf(exponent) / factor - 1.0).abs() < 1e-9,
                "{model:?}"
            );
        }
        assert!(Model::NLogN.exponent(1e6, 1e8) > 1.0);
    }
}
