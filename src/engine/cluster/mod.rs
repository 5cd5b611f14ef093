//! The engine a session's queries run on — this process, or an Apache DataFusion Ballista
//! cluster — chosen once, when the session's context is built. Every prepcost function is
//! registered on the client, the scheduler and the executors alike, and the functions that
//! carry settings of their own travel inside the plan through prepcost's codecs.

#[cfg(feature = "ballista")]
pub mod codec;
#[cfg(feature = "ballista")]
pub mod metrics;
#[cfg(feature = "ballista")]
pub mod node;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::error::DataFusionError;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::{Error, Result};

/// The port a Ballista scheduler listens on unless told otherwise.
pub const DEFAULT_SCHEDULER_PORT: u16 = 50050;

/// Where a run's queries execute.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Engine {
    /// In this process, on all its cores.
    #[default]
    Local,
    /// On the Ballista cluster whose scheduler is at `scheduler` (`df://HOST:PORT`).
    Ballista { scheduler: String },
    /// On a Ballista scheduler and executor started inside this process.
    BallistaStandalone,
}

impl Engine {
    /// The engine `name` (`local`, `ballista`, `ballista-standalone`) names; `ballista` needs
    /// the scheduler's address.
    pub fn parse(name: &str, scheduler: Option<&str>) -> Result<Engine> {
        let engine = match (name, scheduler) {
            ("local", None) => Engine::Local,
            ("ballista-standalone", None) => Engine::BallistaStandalone,
            ("ballista", Some(scheduler)) => Engine::Ballista {
                scheduler: scheduler_url(scheduler)?,
            },
            ("ballista", None) => {
                return Err(Error::Usage(
                    "--engine ballista needs --scheduler df://HOST:PORT, the address of a `prepcost cluster scheduler`".into(),
                ));
            }
            ("local" | "ballista-standalone", Some(_)) => {
                return Err(Error::Usage(format!(
                    "--scheduler is for --engine ballista, not --engine {name}"
                )));
            }
            (other, _) => {
                return Err(Error::Usage(format!(
                    "unknown engine '{other}': expected local, ballista or ballista-standalone"
                )));
            }
        };
        Ok(engine)
    }

    /// Its name in reports: `local`, `ballista` or `ballista-standalone`.
    pub fn name(&self) -> &'static str {
        match self {
            Engine::Local => "local",
            Engine::Ballista { .. } => "ballista",
            Engine::BallistaStandalone => "ballista-standalone",
        }
    }

    /// Whose CPU time a run's figures count.
    pub fn cpu_counted(&self) -> &'static str {
        match self {
            Engine::Local => "this process",
            Engine::BallistaStandalone => "this process, with its scheduler and executor",
            Engine::Ballista { .. } => {
                "this process, and the executors' compute time from Ballista's task metrics"
            }
        }
    }

    /// Whether results must live where executors can read them (files), not in this
    /// process's memory.
    pub fn is_distributed(&self) -> bool {
        !matches!(self, Engine::Local)
    }
}

/// `df://HOST:PORT`, `HOST:PORT` or `HOST` as the scheduler URL Ballista's client takes.
fn scheduler_url(address: &str) -> Result<String> {
    let (host, port) = scheduler_address(address)?;
    Ok(format!("df://{host}:{port}"))
}

/// The host and port of `df://HOST:PORT`, `HOST:PORT` or `HOST` (port 50050).
pub fn scheduler_address(address: &str) -> Result<(String, u16)> {
    let rest = address.strip_prefix("df://").unwrap_or(address);
    let bad = || {
        Error::Usage(format!(
            "scheduler '{address}' is not an address: expected df://HOST:PORT"
        ))
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, port.parse::<u16>().map_err(|_| bad())?),
        None => (rest, DEFAULT_SCHEDULER_PORT),
    };
    if host.is_empty() || host.contains('/') {
        return Err(bad());
    }
    Ok((host.to_string(), port))
}

/// Compute time spent outside this process on a session's queries.
#[async_trait::async_trait]
pub trait RemoteCompute: Send + Sync + std::fmt::Debug {
    /// The compute time of every query sent so far.
    async fn total(&self) -> Result<std::time::Duration>;
}

/// The context queries run in on `engine`, with every prepcost function registered; on a
/// remote cluster, with what counts the executors' compute time.
pub async fn context(
    engine: &Engine,
    config: SessionConfig,
    runtime: Arc<RuntimeEnv>,
) -> Result<(SessionContext, Option<Arc<dyn RemoteCompute>>)> {
    match engine {
        Engine::Local => {
            let ctx = SessionContext::new_with_config_rt(config, runtime);
            super::udf::register_all(&ctx);
            Ok((ctx, None))
        }
        #[cfg(feature = "ballista")]
        distributed => node::client_context(distributed, config, runtime).await,
        #[cfg(not(feature = "ballista"))]
        distributed => Err(not_built(&format!("--engine {}", distributed.name()))),
    }
}

/// A node of a cluster, as `prepcost cluster` starts it.
#[derive(Debug, Clone)]
pub enum Node {
    Scheduler(SchedulerSettings),
    Executor(ExecutorSettings),
}

/// What a cluster's refusal of a step's tasks means: Ballista's scheduler says only that an
/// executor rejected them, which an executor without prepcost's functions does; `functions`
/// are those the step's plan calls.
pub fn rejected(e: &DataFusionError, functions: &[&str]) -> Option<String> {
    if !e.to_string().contains("rejected by executor") {
        return None;
    }
    let uses = match functions {
        [] => String::new(),
        names => format!(" it uses ({})", names.join(", ")),
    };
    Some(format!(
        "an executor rejected its tasks: the cluster does not know the prepcost functions{uses}; start the scheduler and every executor with `prepcost cluster`"
    ))
}

/// A scheduler of `prepcost cluster scheduler`.
#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    /// Where it listens for clients and executors.
    pub bind: SocketAddr,
    /// The host name it gives executors for itself; the bind address unless that is a
    /// wildcard, then `localhost`.
    pub external_host: Option<String>,
}

impl SchedulerSettings {
    #[cfg(feature = "ballista")]
    fn external_host(&self) -> String {
        match &self.external_host {
            Some(host) => host.clone(),
            None if self.bind.ip().is_unspecified() => "localhost".to_string(),
            None => self.bind.ip().to_string(),
        }
    }
}

/// An executor of `prepcost cluster executor`.
#[derive(Debug, Clone)]
pub struct ExecutorSettings {
    /// The scheduler's host and port.
    pub scheduler: (String, u16),
    /// Where its services listen.
    pub bind_host: String,
    /// The host name it gives the scheduler and clients for itself.
    pub external_host: Option<String>,
    /// Its Arrow Flight port (results and shuffle data).
    pub port: u16,
    /// Its gRPC port (tasks).
    pub grpc_port: u16,
    /// Tasks it runs at once.
    pub concurrency: usize,
    /// Where it keeps shuffle files.
    pub work_dir: Option<PathBuf>,
    /// Memory its tasks may hold together (Ballista's default: a share of the machine's).
    pub memory_limit: Option<u64>,
}

/// Runs a scheduler until the process is stopped.
pub async fn serve_scheduler(settings: &SchedulerSettings) -> Result<()> {
    #[cfg(feature = "ballista")]
    return node::run_scheduler(settings).await;
    #[cfg(not(feature = "ballista"))]
    return Err(not_built(&format!("a scheduler on {}", settings.bind)));
}

/// Runs an executor until the process is stopped.
pub async fn serve_executor(settings: &ExecutorSettings) -> Result<()> {
    #[cfg(feature = "ballista")]
    return node::run_executor(settings).await;
    #[cfg(not(feature = "ballista"))]
    return Err(not_built(&format!("an executor on port {}", settings.port)));
}

#[cfg(not(feature = "ballista"))]
fn not_built(what: &str) -> Error {
    Error::Usage(format!(
        "{what} needs a prepcost built with the `ballista` feature"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_parse_with_their_scheduler() {
        assert_eq!(Engine::parse("local", None).unwrap(), Engine::Local);
        assert_eq!(
            Engine::parse("ballista", Some("df://10.0.0.1:7000")).unwrap(),
            Engine::Ballista {
                scheduler: "df://10.0.0.1:7000".into()
            }
        );
        assert_eq!(
            Engine::parse("ballista", Some("sched")).unwrap(),
            Engine::Ballista {
                scheduler: "df://sched:50050".into()
            }
        );
        for (name, scheduler) in [
            ("ballista", None),
            ("ballista", Some("df://host:port")),
            ("local", Some("df://h:1")),
            ("spark", None),
        ] {
            let error = Engine::parse(name, scheduler).unwrap_err().to_string();
            assert!(!error.contains('\n'), "{error}");
        }
        assert!(Engine::BallistaStandalone.is_distributed());
        assert!(!Engine::Local.is_distributed());
    }
}
