//! The DataFusion session of a run: runtime with the memory budget and a private spill
//! directory, the prepcost UDFs, the engine settings, and the engine its queries run on.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use datafusion::common::Result as DfResult;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use tempfile::TempDir;

use super::cluster::{self, Engine, RemoteCompute};
use super::intermediate::{Collector, Intermediate, sanitize};
use super::memory::{self, PeakMemoryPool};
use super::udf::pii::{PiiRedact, PiiTally};
use super::written::{self, Written};
use crate::error::{Error, Result};
use crate::storage::Location;
use crate::storage::instrumented::RequestCounter;
use crate::util::{cleanup, resources};

/// The share of the memory limit one intermediate result may hold before it spills. A stage
/// holds its input and its result at once; the last third is left to the query's operators.
pub const INTERMEDIATE_SHARE: usize = 3;

/// The name the previous step's result has in a stage's query.
pub const INPUT_TABLE: &str = "input";

/// Rows per batch in every plan.
const BATCH_SIZE: usize = 8192;

/// A session: the context queries run in, its memory pool, and the directory that holds
/// every temporary file of the run (removed when the session is dropped, also on error and
/// Ctrl-C).
pub struct Session {
    pub ctx: SessionContext,
    pub pool: Arc<PeakMemoryPool>,
    pub threads: usize,
    /// Results are held in memory up to their share of the limit; 0 on a cluster, whose
    /// executors read every result from a file.
    result_cap: usize,
    /// Steps' results are written by the engine's executors ([`Session::write_result`]).
    executors_write: bool,
    temp_dir: TempDir,
    /// Keeps `temp_dir` on the list an interrupted run removes.
    _listed: cleanup::Registered,
    /// The counters of the source's store, once it is registered.
    source_requests: OnceLock<Arc<RequestCounter>>,
    /// What `pii_redact` has replaced in this session, by kind.
    pub redactions: Arc<PiiTally>,
    /// On a remote cluster, the executors' compute time.
    remote_compute: Option<Arc<dyn RemoteCompute>>,
}

impl Session {
    /// A session on `engine`, limited to `memory_limit` bytes of pooled memory in this
    /// process. On a cluster, its temporary directory must be one the executors can read.
    pub async fn new(memory_limit: u64, engine: &Engine) -> Result<Self> {
        let temp_dir = tempfile::Builder::new()
            .prefix("prepcost-")
            .tempdir()
            .map_err(|e| Error::io("creating a temporary directory", e))?;
        let limit = usize::try_from(memory_limit).unwrap_or(usize::MAX);
        let (pool, shared) = memory::new_pool(limit);
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(shared)
            .with_temp_file_path(temp_dir.path())
            .build_arc()
            .map_err(|e| Error::engine("starting the query engine", &e))?;
        let threads = resources::cores();
        let mut config = SessionConfig::new()
            .with_target_partitions(threads)
            .with_batch_size(BATCH_SIZE)
            .with_information_schema(true);
        // Sorts set memory aside for merging their spill files (10 MiB by default); keep that
        // to a sixteenth of the budget so that small budgets still sort.
        config.options_mut().execution.sort_spill_reservation_bytes =
            (limit / 16).clamp(64 << 10, 10 << 20);
        // A join whose smaller side holds up to an eighth of the budget builds one hash table
        // from it and streams the larger side through unsplit (DataFusion's CollectLeft), rather
        // than hash-partitioning both: `dedup_exact`'s semi-join against its first rows would
        // otherwise scatter every input batch over all partitions, and the result would hold
        // each decoded page from as many batches.
        let optimizer = &mut config.options_mut().optimizer;
        optimizer.hash_join_single_partition_threshold = limit / 8;
        optimizer.hash_join_single_partition_threshold_rows = usize::MAX;
        let (ctx, remote_compute) = cluster::context(engine, config, runtime).await?;
        let redactions = Arc::new(PiiTally::default());
        ctx.register_udf(ScalarUDF::from(PiiRedact::tallying(Arc::clone(
            &redactions,
        ))));
        let result_cap = match engine.is_distributed() {
            true => 0,
            false => limit / INTERMEDIATE_SHARE,
        };
        Ok(Session {
            executors_write: engine.is_distributed(),
            remote_compute,
            result_cap,
            redactions,
            ctx,
            pool,
            threads,
            _listed: cleanup::register(temp_dir.path()),
            temp_dir,
            source_requests: OnceLock::new(),
        })
    }

    /// A collector for a step's result: in memory up to a third of the limit, spilled beyond
    /// (on a cluster, always written to a file).
    pub fn collector(
        &self,
        schema: datafusion::arrow::datatypes::SchemaRef,
        text_column: &str,
        name: &str,
    ) -> Collector<'_> {
        Collector::new(
            schema,
            text_column,
            &self.ctx.runtime_env().memory_pool,
            self.result_cap,
            name,
            self.temp_dir(),
        )
    }

    /// Whether a step's result is written by the engine's executors ([`Session::write_result`])
    /// rather than collected by this process ([`Session::collector`]).
    pub fn executors_write(&self) -> bool {
        self.executors_write
    }

    /// Runs `frame` on the executors, which write its result into a new directory of the
    /// session's; the result is the rows whose `marker` column is 0 (all, without one).
    pub async fn write_result(
        &self,
        frame: DataFrame,
        text_column: &str,
        name: &str,
        marker: Option<&str>,
    ) -> DfResult<Written> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("{}-", sanitize(name)))
            .tempdir_in(self.temp_dir())?;
        written::write(&self.ctx, frame, dir, text_column, marker).await
    }

    /// Makes the location's (instrumented) store the one queries read it through.
    pub fn register_store(&self, location: &Location) {
        self.ctx
            .register_object_store(location.url.as_ref(), Arc::clone(&location.store));
        let _ = self.source_requests.set(Arc::clone(&location.requests));
    }

    /// What has been asked of the source's store (nothing before it is registered).
    pub fn source_requests(&self) -> Arc<RequestCounter> {
        self.source_requests.get().cloned().unwrap_or_default()
    }

    /// Compute time spent outside this process on the session's queries so far: the
    /// executors' on a remote cluster, none otherwise (an in-process executor's is this
    /// process's CPU time).
    pub async fn remote_compute(&self) -> Result<Duration> {
        match &self.remote_compute {
            Some(remote) => remote.total().await,
            None => Ok(Duration::ZERO),
        }
    }

    /// The run's private directory for temporary files.
    pub fn temp_dir(&self) -> &Path {
        self.temp_dir.path()
    }

    /// Registers `input` as the table `input` (replacing the previous one).
    pub async fn register_input(&self, input: &Intermediate) -> DfResult<()> {
        self.ctx.deregister_table(INPUT_TABLE)?;
        let table = input.table(&self.ctx, self.threads).await?;
        self.ctx.register_table(INPUT_TABLE, table)?;
        Ok(())
    }
}
