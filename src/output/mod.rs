//! Writes the pipeline's result as a zstd Parquet dataset, atomically: the files are written
//! into a hidden staging directory beside a local target and renamed into place only when all
//! of them are complete, so a reader never sees a half-written dataset and a failed run leaves
//! the target as it was. A remote target gets the files by multipart upload, committed only
//! once every part of every file is in (see [`upload`]).

use std::path::{Path, PathBuf};
use std::time::Instant;

use datafusion::common::Column;
use datafusion::common::config::TableParquetOptions;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{Expr, cast};
use datafusion::prelude::{DataFrame, col};

use crate::engine::intermediate::without_views;
use crate::engine::{HIDDEN_COLUMNS, INPUT_TABLE, Intermediate, SOURCE_ROW, Session};
use crate::error::{Error, Result, describe, is_out_of_memory};
use crate::model::profile::OutputReport;
use crate::storage::{self, StorageOptions};
use crate::util::resources;
use crate::util::units::format_size;

mod upload;

/// The codec of output files.
pub const OUTPUT_COMPRESSION: &str = "zstd(3)";

/// Writes `result`, in source order and without `__source_row`, to the directory or object
/// store prefix `target`; `options` configure a remote target's store.
pub async fn write(
    session: &Session,
    result: &Intermediate,
    target: &str,
    options: &StorageOptions,
) -> Result<OutputReport> {
    let started = Instant::now();
    let cpu_at_start = resources::cpu_time();
    let requests = session.source_requests();
    let requests_at_start = requests.mark();
    let remote = storage::output_location(target, options, &requests)?;
    let display = remote
        .as_ref()
        .map_or_else(|| target.to_string(), |r| r.display.clone());
    let fail = |message: String| Error::Output {
        path: display.clone(),
        message,
    };
    let local = target.strip_prefix("file://").unwrap_or(target);
    let target_path = PathBuf::from(local);
    // Files are written to a staging directory: beside a local target, so that they are
    // renamed into place; in the run's temporary directory for a remote one.
    let staging_parent = match &remote {
        Some(_) => session.temp_dir().to_path_buf(),
        None => {
            if target_path.exists() && !target_path.is_dir() {
                return Err(fail("exists and is not a directory".into()));
            }
            let parent = match target_path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            std::fs::create_dir_all(&parent)
                .map_err(|e| fail(format!("creating {}: {e}", parent.display())))?;
            parent
        }
    };
    let staging = tempfile::Builder::new()
        .prefix(".prepcost-staging-")
        .tempdir_in(&staging_parent)
        .map_err(|e| {
            fail(format!(
                "creating a staging directory in {}: {e}",
                staging_parent.display()
            ))
        })?;
    let _listed = crate::util::cleanup::register(staging.path());
    write_parquet(session, result, staging.path(), &display).await?;
    let (files, bytes) = name_parts(staging.path()).map_err(|e| fail(e.to_string()))?;
    match &remote {
        Some(remote) => upload::commit(remote, staging.path(), files)
            .await
            .map_err(fail)?,
        None => commit(staging.keep(), &target_path).map_err(fail)?,
    }
    Ok(OutputReport {
        uri: display,
        files,
        rows: result.stats().rows,
        bytes,
        wall_seconds: started.elapsed().as_secs_f64(),
        cpu_seconds: resources::cpu_time()
            .saturating_sub(cpu_at_start)
            .as_secs_f64(),
        requests: requests.since(&requests_at_start),
    })
}

/// Writes `result` as zstd Parquet files into the directory `staging`.
async fn write_parquet(
    session: &Session,
    result: &Intermediate,
    staging: &Path,
    target: &str,
) -> Result<()> {
    let engine_error = |e: DataFusionError| {
        if is_out_of_memory(&e) {
            Error::MemoryLimit {
                context: format!("writing {target}"),
                limit: format_size(session.pool.limit() as u64),
                message: describe(&e),
            }
        } else {
            Error::Output {
                path: target.to_string(),
                message: describe(&e),
            }
        }
    };
    // One sort over all of the result, not one per partition plus a merge: under a small
    // memory limit a single sorter spills and merges within its budget; parallel sorters
    // and their merge each reserve memory of their own. This is the run's last query.
    session
        .ctx
        .sql("SET datafusion.execution.target_partitions = 1")
        .await
        .map_err(engine_error)?;
    session.register_input(result).await.map_err(engine_error)?;
    let frame = session
        .ctx
        .table(INPUT_TABLE)
        .await
        .and_then(|f| f.sort(vec![col(SOURCE_ROW).sort(true, false)]))
        .and_then(|f| f.drop_columns(&HIDDEN_COLUMNS))
        .and_then(plain_columns)
        .map_err(engine_error)?;
    let mut options = TableParquetOptions::default();
    options.global.compression = Some(OUTPUT_COMPRESSION.to_string());
    let directory = format!("{}/", staging.display());
    frame
        .write_parquet(&directory, DataFrameWriteOptions::new(), Some(options))
        .await
        .map_err(engine_error)?;
    session
        .ctx
        .deregister_table(INPUT_TABLE)
        .map_err(engine_error)?;
    Ok(())
}

/// `frame` with its string and binary view columns as plain strings and binaries, as they
/// are stored: the output's schema depends neither on the engine nor on whether a step's
/// result was spilled.
fn plain_columns(frame: DataFrame) -> datafusion::error::Result<DataFrame> {
    let plain = without_views(frame.schema().inner());
    let columns = plain.fields().iter().map(|field| {
        let column = Expr::Column(Column::new_unqualified(field.name()));
        cast(column, field.data_type().clone()).alias(field.name())
    });
    frame.select(columns.collect::<Vec<_>>())
}

/// Writes `text` to the file `path` atomically: into a temporary file beside it, then renamed.
pub fn write_file(path: &Path, text: &str) -> Result<()> {
    write_bytes(path, text.as_bytes())
}

/// Writes `bytes` to the file `path` atomically: into a temporary file beside it, then
/// renamed.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    let fail = |message: String| Error::Output {
        path: path.display().to_string(),
        message,
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".prepcost-")
        .tempfile_in(parent)
        .map_err(|e| fail(e.to_string()))?;
    std::io::Write::write_all(&mut file, bytes).map_err(|e| fail(e.to_string()))?;
    file.persist(path).map_err(|e| fail(e.error.to_string()))?;
    Ok(())
}

/// Renames the written files to `part-00000.parquet`, … in the order the writer numbered
/// them; returns how many there are and their total size.
fn name_parts(dir: &Path) -> std::io::Result<(u64, u64)> {
    let mut written: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    // The writer names files `<id>_<n>.parquet`: order by the number.
    written.sort_by_key(|p| {
        let stem = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let n = stem.rsplit('_').next().and_then(|n| n.parse::<u64>().ok());
        (n, stem)
    });
    let mut bytes = 0;
    for (i, path) in written.iter().enumerate() {
        bytes += std::fs::metadata(path)?.len();
        std::fs::rename(path, dir.join(format!("part-{i:05}.parquet")))?;
    }
    Ok((written.len() as u64, bytes))
}

/// Puts the staging directory in the target's place; an existing target is replaced only
/// once the new one is complete, and restored if the swap fails.
fn commit(staging: PathBuf, target: &Path) -> Result<(), String> {
    let cleanup = |message: String| {
        let _ = std::fs::remove_dir_all(&staging);
        message
    };
    if !target.exists() {
        return std::fs::rename(&staging, target)
            .map_err(|e| cleanup(format!("moving the written files into place: {e}")));
    }
    let parent = staging.parent().unwrap_or(Path::new("."));
    let replaced = parent.join(format!(
        ".prepcost-replaced-{}",
        staging
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    std::fs::rename(target, &replaced)
        .map_err(|e| cleanup(format!("moving the old dataset aside: {e}")))?;
    if let Err(e) = std::fs::rename(&staging, target) {
        let _ = std::fs::rename(&replaced, target);
        return Err(cleanup(format!("moving the written files into place: {e}")));
    }
    std::fs::remove_dir_all(&replaced)
        .map_err(|e| format!("removing the replaced dataset {}: {e}", replaced.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_replaces_an_existing_target_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("old.parquet"), b"old").unwrap();
        let staging = dir.path().join(".prepcost-staging-x");
        std::fs::create_dir(&staging).unwrap();
        std::fs::write(staging.join("part-00000.parquet"), b"new").unwrap();
        commit(staging, &target).unwrap();
        let names: Vec<_> = std::fs::read_dir(&target)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["part-00000.parquet"]);
        // Nothing else is left beside the target.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
