//! Budgets: limits on a run's cost, time, drop rate, loader rate and growth, held against
//! its report (the projected figures when a sample ran). A breach does not stop the run: the
//! report is written whole and the command exits with code 1.

use std::collections::BTreeMap;

use crate::model::budget::{Breach, BudgetCheck, BudgetReport};
use crate::model::profile::Estimate;
use crate::model::{EstimateReport, InspectReport, LoaderReport, ProfileReport};
use crate::util::units::{count, seconds, usd};

use Limit::{AtLeast, AtMost};

/// The limits a run is held to; every one optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Budget {
    /// Compute, requests and egress of the run, in USD.
    pub max_cost_usd: Option<f64>,
    /// Wall time of the whole run.
    pub max_seconds: Option<f64>,
    /// Share of the source's rows the pipeline drops, 0–1.
    pub max_drop_rate: Option<f64>,
    /// Tokens per second the loader must deliver.
    pub min_loader_tokens_per_s: Option<f64>,
    /// Growth over the previous run of the same dataset in the history, as a fraction
    /// (0.2: 20%), of the source's rows and of its bytes on storage.
    pub max_growth: Option<f64>,
    /// Limits on single stages, by stage name.
    pub stages: BTreeMap<String, StageBudget>,
}

/// The limits on one stage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageBudget {
    pub max_seconds: Option<f64>,
    pub max_drop_rate: Option<f64>,
}

/// The previous run's figures that growth is measured against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Previous {
    pub rows: f64,
    pub file_bytes: f64,
}

/// What growth is measured on, for the figures of the current run.
pub type Current = Previous;

impl Budget {
    pub fn is_empty(&self) -> bool {
        *self == Budget::default()
    }

    /// `self` with every limit `over` sets replacing its own.
    pub fn overridden_by(mut self, over: Budget) -> Budget {
        self.max_cost_usd = over.max_cost_usd.or(self.max_cost_usd);
        self.max_seconds = over.max_seconds.or(self.max_seconds);
        self.max_drop_rate = over.max_drop_rate.or(self.max_drop_rate);
        self.min_loader_tokens_per_s = over
            .min_loader_tokens_per_s
            .or(self.min_loader_tokens_per_s);
        self.max_growth = over.max_growth.or(self.max_growth);
        self.stages.extend(over.stages);
        self
    }

    /// `self` when `command` can check every limit it sets; otherwise an error naming those
    /// it cannot.
    pub fn for_command(self, command: &str) -> Result<Budget, String> {
        match self.unsupported(command).as_slice() {
            [] => Ok(self),
            names => Err(format!(
                "{} cannot be checked by {command}",
                names.join(", ")
            )),
        }
    }

    /// The names of the limits set that `command` cannot check, for an error before it runs.
    pub fn unsupported(&self, command: &str) -> Vec<&'static str> {
        let set = [
            (
                "--max-cost-usd",
                self.max_cost_usd.is_some(),
                ["profile", "loader", "estimate"].as_slice(),
            ),
            (
                "--max-seconds",
                self.max_seconds.is_some(),
                &["profile", "loader", "inspect", "estimate"],
            ),
            (
                "--max-drop-rate",
                self.max_drop_rate.is_some(),
                &["profile"],
            ),
            (
                "--min-loader-tokens-per-s",
                self.min_loader_tokens_per_s.is_some(),
                &["loader"],
            ),
            (
                "--max-growth",
                self.max_growth.is_some(),
                &["profile", "loader", "inspect"],
            ),
            ("[budget.stages]", !self.stages.is_empty(), &["profile"]),
        ];
        set.into_iter()
            .filter(|(_, given, commands)| *given && !commands.contains(&command))
            .map(|(name, _, _)| name)
            .collect()
    }
}

/// A limit: the most or the fewest a figure may be; `None` when not set.
#[derive(Debug, Clone, Copy)]
enum Limit {
    AtMost(Option<f64>),
    AtLeast(Option<f64>),
}

/// Checks built up one by one, on measured figures or on projected ones.
struct Checks {
    report: BudgetReport,
    projected: bool,
}

impl Checks {
    fn new(projected: bool) -> Self {
        Checks {
            report: BudgetReport::default(),
            projected,
        }
    }

    /// Holds `actual` to `limit`, the budget `budget` (of `stage`), shown by `show`.
    fn check(
        &mut self,
        (budget, stage): (&str, Option<&str>),
        limit: Limit,
        actual: Estimate,
        show: fn(f64) -> String,
    ) {
        let (limit, at_most) = match limit {
            Limit::AtMost(Some(limit)) => (limit, true),
            Limit::AtLeast(Some(limit)) => (limit, false),
            Limit::AtMost(None) | Limit::AtLeast(None) => return,
        };
        let value = actual.value;
        let breached = if at_most {
            value > limit
        } else {
            value < limit
        };
        let basis = if self.projected {
            "projected"
        } else {
            "measured"
        };
        if breached {
            let what = stage.map_or_else(String::new, |s| format!("stage '{s}': "));
            let interval = match self.projected && actual.low != actual.high {
                true => format!(" (95% interval {}–{})", show(actual.low), show(actual.high)),
                false => String::new(),
            };
            let relation = if at_most { "above" } else { "below" };
            let (shown, allowed) = (show(value), show(limit));
            self.report.breaches.push(Breach {
                budget: budget.to_string(),
                stage: stage.map(str::to_string),
                limit,
                actual: value,
                message: format!(
                    "{what}{basis} {shown}{interval} is {relation} the budget {budget} = {allowed}"
                ),
            });
        }
        self.report.checks.push(BudgetCheck {
            budget: budget.to_string(),
            stage: stage.map(str::to_string),
            limit,
            actual: value,
            basis,
            breached,
        });
    }

    /// Holds each figure's growth over the previous run to `max_growth` (always measured).
    fn growth(&mut self, max_growth: Option<f64>, now: Current, previous: Option<Previous>) {
        let (Some(limit), Some(previous)) = (max_growth, previous) else {
            return;
        };
        let projected = std::mem::replace(&mut self.projected, false);
        for (name, was, is) in [
            ("rows", previous.rows, now.rows),
            ("file_bytes", previous.file_bytes, now.file_bytes),
        ] {
            if was > 0.0 {
                let grown = Estimate::exact(is / was - 1.0);
                let budget = format!("max_growth.{name}");
                self.check((&budget, None), Limit::AtMost(Some(limit)), grown, percent);
            }
        }
        self.projected = projected;
    }

    fn done(self) -> Option<BudgetReport> {
        (!self.report.is_empty()).then_some(self.report)
    }
}

fn rate(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

fn percent(x: f64) -> String {
    format!("{:+.1}%", x * 100.0)
}

fn secs(x: f64) -> String {
    format!("{} s", seconds(x))
}

fn tokens_per_s(x: f64) -> String {
    format!("{} tokens/s", count(x as u64))
}

/// Holds a `profile` report to `budget`: the projected figures when a sample ran.
pub fn check_profile(
    budget: &Budget,
    report: &ProfileReport,
    previous: Option<Previous>,
) -> Option<BudgetReport> {
    let cost = &report.cost;
    let measured_cost = cost.compute_usd + cost.requests_usd + cost.egress_usd;
    let (cost_usd, wall, drop) = match &report.projected {
        Some(p) => {
            let t = &p.totals;
            let kept = t.rows_out.scaled(1.0 / t.rows_in.value.max(1.0));
            let drop = Estimate {
                value: 1.0 - kept.value,
                low: 1.0 - kept.high,
                high: 1.0 - kept.low,
            };
            (p.cost_usd, t.run_wall_seconds, drop)
        }
        None => (
            Estimate::exact(measured_cost),
            Estimate::exact(report.totals.run_wall_seconds),
            Estimate::exact(report.totals.drop_rate),
        ),
    };
    let mut checks = Checks::new(report.projected.is_some());
    checks.check(
        ("max_cost_usd", None),
        AtMost(budget.max_cost_usd),
        cost_usd,
        usd,
    );
    checks.check(
        ("max_seconds", None),
        AtMost(budget.max_seconds),
        wall,
        secs,
    );
    checks.check(
        ("max_drop_rate", None),
        AtMost(budget.max_drop_rate),
        drop,
        rate,
    );
    for stage in &report.stages {
        let Some(limits) = budget.stages.get(&stage.name) else {
            continue;
        };
        let (wall, drop) = match &stage.projected {
            Some(p) => {
                let rows_in = p.rows_out.value + p.rows_dropped.value;
                (
                    p.wall_seconds,
                    p.rows_dropped.scaled(1.0 / rows_in.max(1.0)),
                )
            }
            None => (
                Estimate::exact(stage.wall_seconds),
                Estimate::exact(stage.drop_rate),
            ),
        };
        let named = Some(stage.name.as_str());
        checks.check(
            ("max_seconds", named),
            AtMost(limits.max_seconds),
            wall,
            secs,
        );
        checks.check(
            ("max_drop_rate", named),
            AtMost(limits.max_drop_rate),
            drop,
            rate,
        );
    }
    let now = Current {
        rows: report.storage.rows as f64,
        file_bytes: report.storage.file_bytes as f64,
    };
    checks.growth(budget.max_growth, now, previous);
    checks.done()
}

/// Holds a `loader` report to `budget`.
pub fn check_loader(
    budget: &Budget,
    report: &LoaderReport,
    previous: Option<Previous>,
) -> Option<BudgetReport> {
    let mut checks = Checks::new(false);
    let cost = Estimate::exact(report.cost.requests_usd + report.cost.egress_usd);
    let wall = Estimate::exact(report.run.wall_seconds);
    let tokens = Estimate::exact(report.loader.tokens_per_s.unwrap_or(0.0));
    let fewest = AtLeast(budget.min_loader_tokens_per_s);
    checks.check(
        ("max_cost_usd", None),
        AtMost(budget.max_cost_usd),
        cost,
        usd,
    );
    checks.check(
        ("max_seconds", None),
        AtMost(budget.max_seconds),
        wall,
        secs,
    );
    checks.check(
        ("min_loader_tokens_per_s", None),
        fewest,
        tokens,
        tokens_per_s,
    );
    let now = Current {
        rows: report.source.rows as f64,
        file_bytes: report.source.projected_compressed_bytes as f64,
    };
    checks.growth(budget.max_growth, now, previous);
    checks.done()
}

/// Holds an `inspect` report to `budget`.
pub fn check_inspect(
    budget: &Budget,
    report: &InspectReport,
    previous: Option<Previous>,
) -> Option<BudgetReport> {
    let mut checks = Checks::new(false);
    let wall = Estimate::exact(report.run.wall_seconds);
    checks.check(
        ("max_seconds", None),
        AtMost(budget.max_seconds),
        wall,
        secs,
    );
    let now = Current {
        rows: report.totals.rows as f64,
        file_bytes: report.totals.file_bytes as f64,
    };
    checks.growth(budget.max_growth, now, previous);
    checks.done()
}

/// Holds an `estimate` plan to `budget`: its cost and wall time.
pub fn check_estimate(budget: &Budget, report: &EstimateReport) -> Option<BudgetReport> {
    let mut checks = Checks::new(true);
    let (cost, wall) = (report.cost.total_usd, report.totals.wall_seconds);
    checks.check(
        ("max_cost_usd", None),
        AtMost(budget.max_cost_usd),
        cost,
        usd,
    );
    checks.check(
        ("max_seconds", None),
        AtMost(budget.max_seconds),
        wall,
        secs,
    );
    checks.done()
}

/// A budget value as written: a fraction (`0.2`) or a percentage (`20%`).
pub fn parse_fraction(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let value = match trimmed.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map(|p| p / 100.0),
        None => trimmed.parse::<f64>(),
    }
    .map_err(|_| format!("'{text}' is not a fraction such as 0.2 or a percentage such as 20%"))?;
    non_negative(value).map_err(|_| format!("'{text}' is not a fraction of zero or more"))
}

/// A budget value that cannot be negative, infinite or not a number.
pub fn non_negative(value: f64) -> Result<f64, String> {
    match value.is_finite() && value >= 0.0 {
        true => Ok(value),
        false => Err(format!(
            "{value} is not a limit: give a finite number of zero or more"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_read_as_fractions_or_percentages() {
        assert_eq!(parse_fraction("20%"), Ok(0.2));
        assert_eq!(parse_fraction(" 0.25 "), Ok(0.25));
        assert_eq!(parse_fraction("150%"), Ok(1.5));
        for bad in ["-5%", "abc", "", "%", "NaN", "inf"] {
            assert!(parse_fraction(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_breach_is_named_with_its_interval_when_projected() {
        let mut checks = Checks::new(true);
        let cost = Estimate {
            value: 12.0,
            low: 10.0,
            high: 15.0,
        };
        let within = Estimate::exact(99.0);
        checks.check(("max_cost_usd", None), AtMost(Some(11.0)), cost, usd);
        checks.check(("max_seconds", None), AtMost(Some(100.0)), within, secs);
        checks.check(
            ("max_seconds", None),
            AtMost(None),
            Estimate::exact(1e9),
            secs,
        );
        let report = checks.done().expect("two limits were set");
        assert_eq!(report.checks.len(), 2);
        assert_eq!(report.breaches.len(), 1);
        assert_eq!(
            report.breaches[0].message,
            "projected $12.00 (95% interval $10.00–$15.00) is above the budget max_cost_usd = $11.00"
        );
    }

    #[test]
    fn a_minimum_is_breached_below_it_and_growth_against_the_previous_run() {
        let mut checks = Checks::new(true);
        let rate = Estimate::exact(900.0);
        let fewest = AtLeast(Some(1000.0));
        checks.check(
            ("min_loader_tokens_per_s", None),
            fewest,
            rate,
            tokens_per_s,
        );
        let previous = Previous {
            rows: 100.0,
            file_bytes: 1000.0,
        };
        let now = Current {
            rows: 130.0,
            file_bytes: 1100.0,
        };
        checks.growth(Some(0.2), now, Some(previous));
        let report = checks.done().expect("limits were set");
        let breached: Vec<&str> = report.breaches.iter().map(|b| b.budget.as_str()).collect();
        // Rows grew 30%, bytes 10%; growth is measured, not projected.
        assert_eq!(breached, ["min_loader_tokens_per_s", "max_growth.rows"]);
        assert_eq!(report.checks.len(), 3);
        assert_eq!(report.checks[1].basis, "measured");
        assert!(report.breaches[1].message.contains("+30.0%"));
    }

    #[test]
    fn limits_a_command_cannot_check_are_named() {
        let budget = Budget {
            max_drop_rate: Some(0.5),
            min_loader_tokens_per_s: Some(1.0),
            ..Budget::default()
        };
        assert_eq!(budget.unsupported("profile"), ["--min-loader-tokens-per-s"]);
        assert_eq!(budget.unsupported("loader"), ["--max-drop-rate"]);
    }

    proptest::proptest! {
        #![proptest_config(crate::util::property::cases())]

        /// Any text is a fraction of zero or more, or a message.
        #[test]
        fn any_text_is_a_fraction_or_says_why(
            text in proptest::prop_oneof![
                proptest::arbitrary::any::<String>(),
                "[ +-]?([0-9]{0,6}|inf|NaN|infinity)(\\.[0-9]{0,4})?([eE][+-]?[0-9]{1,4})? ?%?",
            ]
        ) {
            match parse_fraction(&text) {
                Ok(value) => proptest::prop_assert!(value.is_finite() && value >= 0.0),
                Err(message) => proptest::prop_assert!(!message.is_empty()),
            }
        }
    }
}
