//! The DataFusion session of a run: runtime with the memory budget and a private spill
//! directory, the prepcost UDFs, and the engine settings.

use std::path::Path;
use std::sync::Arc;

use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use tempfile::TempDir;

use crate::error::{Error, Result};
use crate::memory::{self, PeakMemoryPool};
use crate::resources;

/// Rows per batch in every plan.
const BATCH_SIZE: usize = 8192;

/// A session: the context queries run in, its memory pool, and the directory that holds
/// every temporary file of the run (removed when the session is dropped, also on error and
/// Ctrl-C).
pub struct Session {
    pub ctx: SessionContext,
    pub pool: Arc<PeakMemoryPool>,
    pub threads: usize,
    temp_dir: TempDir,
}

impl Session {
    /// A local session limited to `memory_limit` bytes of pooled memory.
    pub fn new(memory_limit: u64) -> Result<Self> {
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
        let config = SessionConfig::new()
            .with_target_partitions(threads)
            .with_batch_size(BATCH_SIZE)
            .with_information_schema(true);
        let ctx = SessionContext::new_with_config_rt(config, runtime);
        crate::udf::register_all(&ctx);
        Ok(Session {
            ctx,
            pool,
            threads,
            temp_dir,
        })
    }

    /// The run's private directory for temporary files.
    pub fn temp_dir(&self) -> &Path {
        self.temp_dir.path()
    }
}
