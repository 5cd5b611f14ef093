//! Progress on stderr, and the journal of steps a partial report is made from.
//!
//! On a terminal each step is a spinner with its elapsed time (a bar with rate and ETA when
//! its total is known), replaced by a line when it ends; `--progress plain` writes one line
//! per step for logs; `--quiet` writes nothing. The journal keeps every finished step either
//! way.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::util::redact::redact;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProgressMode {
    /// Bars when stderr is a terminal, nothing otherwise.
    #[default]
    Auto,
    /// One line per step, terminal or not.
    Plain,
    /// Nothing.
    Off,
}

/// A step that ended, for the partial report of an interrupted run.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedStep {
    pub name: String,
    pub rows: u64,
    pub wall_seconds: f64,
}

/// Where progress goes, and what has been done so far.
pub struct Progress {
    mode: Shown,
    started: Instant,
    state: Mutex<State>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    Bars,
    Lines,
    /// Lines as log events (`--log-format json`).
    Events,
    Nothing,
}

#[derive(Default)]
struct State {
    bar: Option<ProgressBar>,
    /// The step running, and when it started.
    current: Option<(String, Instant)>,
    finished: Vec<FinishedStep>,
}

impl Progress {
    /// Progress shown as `mode` says unless `quiet`; with `log_events`, lines go out as log
    /// events instead of text.
    pub fn new(mode: ProgressMode, quiet: bool, log_events: bool) -> Self {
        let mode = match (mode, quiet) {
            (_, true) | (ProgressMode::Off, _) => Shown::Nothing,
            (ProgressMode::Plain, _) if log_events => Shown::Events,
            (ProgressMode::Plain, _) => Shown::Lines,
            (ProgressMode::Auto, _) if std::io::stderr().is_terminal() => Shown::Bars,
            (ProgressMode::Auto, _) => Shown::Nothing,
        };
        Progress {
            mode,
            started: Instant::now(),
            state: Mutex::new(State::default()),
        }
    }

    /// Progress that shows nothing and only keeps the journal.
    pub fn silent() -> Self {
        Self::new(ProgressMode::Off, true, false)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A step starts; the one before, if still shown, ends.
    pub fn step(&self, what: &str) {
        let what = redact(what).into_owned();
        let mut state = self.state();
        if let Some(bar) = state.bar.take() {
            bar.finish_and_clear();
        }
        match self.mode {
            Shown::Bars => {
                let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                bar.set_style(spinner_style());
                bar.set_message(what.clone());
                bar.enable_steady_tick(Duration::from_millis(200));
                state.bar = Some(bar);
            }
            Shown::Lines => eprintln!(
                "prepcost: [{:.1} s] {what}",
                self.started.elapsed().as_secs_f64()
            ),
            Shown::Events => {
                let elapsed_s = self.started.elapsed().as_secs_f64();
                tracing::info!(target: "prepcost", elapsed_s, step = %what, "step started");
            }
            Shown::Nothing => {}
        }
        state.current = Some((what, Instant::now()));
    }

    /// Replaces what the running step says (its rates so far).
    pub fn update(&self, what: &str) {
        let state = self.state();
        if let Some(bar) = &state.bar {
            bar.set_message(redact(what).into_owned());
        }
    }

    /// The running step has done `done` of `total` units: a bar with rate and ETA.
    pub fn advance(&self, done: u64, total: u64) {
        let state = self.state();
        if let Some(bar) = &state.bar {
            if bar.length() != Some(total) {
                bar.set_length(total);
                bar.set_style(bar_style());
            }
            bar.set_position(done.min(total));
        }
    }

    /// The running step ended with `rows` rows; it goes into the journal.
    pub fn finished(&self, name: &str, rows: u64) {
        let mut state = self.state();
        let seconds = state
            .current
            .take()
            .map_or(0.0, |(_, at)| at.elapsed().as_secs_f64());
        if let Some(bar) = state.bar.take() {
            bar.finish_and_clear();
        }
        match self.mode {
            Shown::Bars => {
                eprintln!(
                    "prepcost: {} done: {rows} rows in {seconds:.2} s",
                    redact(name)
                )
            }
            Shown::Events => {
                let step = redact(name);
                tracing::info!(target: "prepcost", step = %step, rows, wall_s = seconds, "step finished");
            }
            Shown::Lines | Shown::Nothing => {}
        }
        state.finished.push(FinishedStep {
            name: name.to_string(),
            rows,
            wall_seconds: seconds,
        });
    }

    /// Clears the bar of a step that ends without a journal entry.
    pub fn done(&self) {
        if let Some(bar) = self.state().bar.take() {
            bar.finish_and_clear();
        }
    }

    /// The steps finished so far, and the one running.
    pub fn journal(&self) -> (Vec<FinishedStep>, Option<String>) {
        let state = self.state();
        let running = state.current.as_ref().map(|(what, _)| what.clone());
        (state.finished.clone(), running)
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("prepcost: {spinner} [{elapsed}] {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "prepcost: [{elapsed}] {bar:24} {percent}% · {per_sec} · ETA {eta} · {wide_msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_keeps_finished_steps_and_the_running_one() {
        let progress = Progress::silent();
        progress.step("scan");
        progress.finished("scan", 10);
        progress.step("stage clean (clean)");
        let (finished, running) = progress.journal();
        assert_eq!(finished.len(), 1);
        assert_eq!(finished[0].name, "scan");
        assert_eq!(finished[0].rows, 10);
        assert_eq!(running.as_deref(), Some("stage clean (clean)"));
    }
}
