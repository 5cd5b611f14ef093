//! The Ballista side of a cluster run: the client's context, and the scheduler and executor
//! of `prepcost cluster`, each knowing every prepcost function and codec.

use std::sync::Arc;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use ballista_core::planner::BallistaQueryPlanner;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::utils::default_session_builder;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::ScalarUDF;
use datafusion::logical_expr::registry::FunctionRegistry;
use datafusion::prelude::{SessionConfig, SessionContext};

use super::codec::{LogicalCodec, PhysicalCodec};
use super::metrics::{JobLog, RecordingPlanner};
use super::{Engine, ExecutorSettings, RemoteCompute, SchedulerSettings};
use crate::engine::udf;
use crate::error::{Error, Result};

/// The client's context on a cluster: queries are planned here and sent to the scheduler.
/// A standalone engine first starts a scheduler and an executor in this process, on the
/// session's runtime (its memory pool and spill directory).
pub async fn client_context(
    engine: &Engine,
    config: SessionConfig,
    runtime: Arc<RuntimeEnv>,
) -> Result<(SessionContext, Option<Arc<dyn RemoteCompute>>)> {
    let threads = config.target_partitions();
    let mut config = with_codecs(config).with_ballista_standalone_parallelism(threads);
    let mut jobs = None;
    if let Engine::Ballista { scheduler } = engine {
        reachable(scheduler).await?;
        let (planner, log) = recording_planner(scheduler, &config);
        config = config.with_ballista_query_planner(planner);
        jobs = Some(log as Arc<dyn RemoteCompute>);
    }
    let state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(config)
        .with_runtime_env(runtime)
        .build();
    let state =
        with_functions(state).map_err(|e| Error::engine("registering prepcost's functions", &e))?;
    let ctx = match engine {
        Engine::Ballista { scheduler } => SessionContext::remote_with_state(scheduler, state)
            .await
            .map_err(|e| Error::engine(format!("connecting to the scheduler {scheduler}"), &e))?,
        _ => SessionContext::standalone_with_state(state)
            .await
            .map_err(|e| Error::engine("starting the in-process Ballista cluster", &e))?,
    };
    // Ballista's client state keeps only DataFusion's own functions: add prepcost's again.
    udf::register_all(&ctx);
    Ok((ctx, jobs))
}

/// Fails, saying so, when no scheduler answers at `scheduler` (`df://HOST:PORT`): better before
/// the scan than at the first stage.
async fn reachable(scheduler: &str) -> Result<()> {
    let url = format!("http://{}", scheduler.trim_start_matches("df://"));
    let connecting = SchedulerGrpcClient::connect(url);
    let failed = |reason: String| Error::Engine {
        context: format!("connecting to the scheduler {scheduler}"),
        message: format!("{reason}; is `prepcost cluster scheduler` running there?"),
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, connecting).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(failed(crate::error::clean(&error_chain(&e)))),
        Err(_) => Err(failed(format!(
            "no answer in {} s",
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

/// How long a client waits for the scheduler to accept its connection.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// An error and its sources, innermost last: tonic's own message says only "transport error".
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Ballista's planner for the scheduler at `scheduler` (`df://HOST:PORT`), recording the jobs
/// it sends.
fn recording_planner(
    scheduler: &str,
    config: &SessionConfig,
) -> (Arc<RecordingPlanner>, Arc<JobLog>) {
    let url = format!("http://{}", scheduler.trim_start_matches("df://"));
    let log = JobLog::new(url.clone());
    let ballista = BallistaQueryPlanner::with_extension(
        url,
        config.clone().upgrade_for_ballista().ballista_config(),
        config.ballista_logical_extension_codec(),
    );
    let planner = RecordingPlanner {
        ballista,
        log: Arc::clone(&log),
    };
    (Arc::new(planner), log)
}

/// `config` with prepcost's plan codecs.
fn with_codecs(config: SessionConfig) -> SessionConfig {
    config
        .with_ballista_logical_extension_codec(Arc::new(LogicalCodec::default()))
        .with_ballista_physical_extension_codec(Arc::new(PhysicalCodec::default()))
}

/// `state` with every prepcost function registered; an error when one cannot be, or when
/// one would replace a function of the same name.
fn with_functions(mut state: SessionState) -> datafusion::error::Result<SessionState> {
    for function in udf::all() {
        let name = function.name().to_string();
        if state.register_udf(Arc::new(function))?.is_some() {
            return datafusion::common::internal_err!("two functions are named {name}");
        }
    }
    Ok(state)
}

/// Every function an executor must know: DataFusion's and prepcost's.
fn function_registry() -> BallistaFunctionRegistry {
    let mut registry = BallistaFunctionRegistry::default();
    for function in udf::all() {
        let function: Arc<ScalarUDF> = Arc::new(function);
        registry
            .scalar_functions
            .insert(function.name().to_string(), function);
    }
    registry
}

/// Runs a scheduler on `settings.bind` until the process is stopped.
pub async fn run_scheduler(settings: &SchedulerSettings) -> Result<()> {
    let bind = settings.bind;
    let mut config = SchedulerConfig {
        bind_host: bind.ip().to_string(),
        bind_port: bind.port(),
        external_host: settings.external_host(),
        ..SchedulerConfig::default()
    }
    .with_override_session_builder(Arc::new(|config| {
        default_session_builder(config).and_then(with_functions)
    }));
    config.override_logical_codec = Some(Arc::new(LogicalCodec::default()));
    config.override_physical_codec = Some(Arc::new(PhysicalCodec::default()));
    let failed = |e: &dyn std::fmt::Display| Error::Engine {
        context: format!("the scheduler on {bind}"),
        message: crate::error::clean(&e.to_string()),
    };
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| failed(&e))?;
    start_server(cluster, bind, Arc::new(config))
        .await
        .map_err(|e| failed(&e))
}

/// Runs an executor that serves `settings.scheduler` until the process is stopped.
pub async fn run_executor(settings: &ExecutorSettings) -> Result<()> {
    let (scheduler_host, scheduler_port) = settings.scheduler.clone();
    let config = ExecutorProcessConfig {
        bind_host: settings.bind_host.clone(),
        external_host: settings.external_host.clone(),
        port: settings.port,
        grpc_port: settings.grpc_port,
        scheduler_host,
        scheduler_port,
        vcores: settings.concurrency,
        work_dir: settings
            .work_dir
            .as_ref()
            .map(|dir| dir.display().to_string()),
        memory_pool_size: settings.memory_limit,
        override_function_registry: Some(Arc::new(function_registry())),
        override_logical_codec: Some(Arc::new(LogicalCodec::default())),
        override_physical_codec: Some(Arc::new(PhysicalCodec::default())),
        ..ExecutorProcessConfig::default()
    };
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| Error::Engine {
            context: format!("the executor on {}:{}", settings.bind_host, settings.port),
            message: crate::error::clean(&e.to_string()),
        })
}
