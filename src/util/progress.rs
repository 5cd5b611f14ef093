//! Progress on stderr: one line per step, or one line rewritten in place while a run goes
//! on — only when stderr is a terminal and `--quiet` was not given.

use std::io::{IsTerminal, Write};

use crate::util::redact::redact;

/// Where progress goes.
pub struct Progress {
    enabled: bool,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        Progress {
            enabled: !quiet && std::io::stderr().is_terminal(),
        }
    }

    /// A step starts.
    pub fn step(&self, what: &str) {
        if self.enabled {
            eprintln!("prepcost: {}", redact(what));
        }
    }

    /// Rewrites the current line.
    pub fn update(&self, what: &str) {
        if self.enabled {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2Kprepcost: {}", redact(what));
            let _ = stderr.flush();
        }
    }

    /// Ends the line [`Progress::update`] was rewriting.
    pub fn done(&self) {
        if self.enabled {
            eprint!("\r\x1b[2K");
        }
    }
}
