//! The `prepcost` binary: parse the command line, run the command on a tokio runtime, print
//! the report on stdout, and map failures to one line on stderr and an exit code.

use std::panic::AssertUnwindSafe;
use std::process::ExitCode;
use std::sync::Mutex;

use clap::Parser;
use prepcost::cli::LogFormatArg;
use prepcost::cli::{Cli, ClusterCommand, Invocation};
use prepcost::util::json_log::JsonLines;
use prepcost::util::redact::{RedactingStderr, redact};
use prepcost::{Error, Exit};

/// Exit codes: 0 success, 1 a budget or threshold was exceeded (or the job's lock is held),
/// 2 an error, 130 / 143 interrupted by SIGINT / SIGTERM.
const EXIT_THRESHOLD: u8 = 1;
const EXIT_ERROR: u8 = 2;

/// The message of the last panic, kept by the panic hook instead of printed.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

fn main() -> ExitCode {
    let cli = match parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let command = match cli.command {
        Invocation::Run(command) => command,
        Invocation::Cluster(node) => return serve(node),
    };
    let json_logs = command.reporting().log_format == LogFormatArg::Json;
    init_tracing(json_logs);
    return_large_blocks_to_the_kernel();
    std::panic::set_hook(Box::new(|info| {
        tracing::debug!("panic: {info}");
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(info.to_string());
        }
    }));
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        prepcost::run_blocking(&runtime, command)
    }));
    // Do not wait for tasks still running after an error or interrupt.
    runtime.shutdown_background();
    match outcome {
        Ok(result) => finish(result, json_logs),
        Err(_) => {
            let message = LAST_PANIC
                .lock()
                .ok()
                .and_then(|m| m.clone())
                .unwrap_or_else(|| "unknown".to_string());
            let message = prepcost::error::one_line(&message);
            say(
                json_logs,
                "ERROR",
                &format!("error: internal error, please report it: {message}"),
            );
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// The multi-threaded runtime commands run on.
fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("prepcost: error: starting the async runtime: {e}");
            ExitCode::from(EXIT_ERROR)
        })
}

/// Serves a cluster node until it fails (one line, exit code 2) or the process is stopped.
fn serve(node: ClusterCommand) -> ExitCode {
    init_tracing(false);
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    match prepcost::serve_blocking(&runtime, node) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let message = prepcost::error::one_line(&e.to_string());
            say(false, "ERROR", &format!("error: {message}"));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Has glibc map every block of 128 KiB or more on its own and unmap it when freed. By default
/// glibc raises that threshold each time such a block is freed, after which decoded pages and
/// string buffers come from its heaps and stay there once freed: a stage that drops its input
/// and copies what it keeps grew the process by the input's size again (pipeline only on the
/// 1M-row bench corpus: 560 MB peak RSS with the default, 470 MB with this).
fn return_large_blocks_to_the_kernel() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tuning parameter; it is called before any other thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 << 10);
    }
}

/// The command line, or the exit code of `--help`, `--version` or a line saying what is wrong.
fn parse() -> Result<Cli, ExitCode> {
    match Cli::try_parse() {
        Ok(cli) => Ok(cli),
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            Err(ExitCode::SUCCESS)
        }
        Err(e) => {
            let rendered = e.to_string();
            let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
            let first = lines.next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            // "the following required arguments were not provided:" names them below.
            let named = match first.ends_with(':') {
                true => format!("{first} {}", lines.next().unwrap_or_default()),
                false => first.to_string(),
            };
            eprintln!("prepcost: error: {named} (see prepcost --help)");
            Err(ExitCode::from(EXIT_ERROR))
        }
    }
}

/// Prints the report or the error, and the exit code that goes with it.
fn finish(result: prepcost::Result<prepcost::Outcome>, json_logs: bool) -> ExitCode {
    match result {
        Ok(outcome) => {
            print!("{}", outcome.stdout);
            for breach in &outcome.breaches {
                say(json_logs, "WARN", &format!("budget exceeded: {breach}"));
            }
            match outcome.exit {
                Exit::Success => ExitCode::SUCCESS,
                Exit::Breached => ExitCode::from(EXIT_THRESHOLD),
                Exit::Interrupted(signal) => {
                    let said = format!(
                        "interrupted by {}; temporary files were removed, nothing was committed",
                        signal.name()
                    );
                    say(json_logs, "WARN", &said);
                    ExitCode::from(signal.exit_code())
                }
            }
        }
        Err(e @ Error::LockHeld { .. }) => {
            say(json_logs, "WARN", &e.to_string());
            ExitCode::from(EXIT_THRESHOLD)
        }
        Err(e) => {
            let message = prepcost::error::one_line(&e.to_string());
            say(json_logs, "ERROR", &format!("error: {message}"));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// One line on stderr, secrets redacted: `prepcost: TEXT`, or with `json_logs` a JSON object
/// shaped as the log events are.
fn say(json_logs: bool, level: &str, text: &str) {
    let text = redact(text);
    if json_logs {
        eprintln!("{}", prepcost::util::json_log::message(level, &text));
    } else {
        eprintln!("prepcost: {text}");
    }
}

/// Logs as `RUST_LOG` asks (none by default; with `json`, prepcost's own at info level, one
/// JSON object per line).
fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let default = if json { "prepcost=info" } else { "off" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| RedactingStderr);
    if json {
        builder.event_format(JsonLines).init();
    } else {
        builder.init();
    }
}
