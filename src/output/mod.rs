//! Writes the pipeline's result as a zstd Parquet dataset, atomically: the files are written
//! into a hidden staging directory beside a local target and renamed into place only when all
//! of them are complete, so a reader never sees a half-written dataset and a failed run leaves
//! the target as it was. A remote target gets the files by multipart upload, committed only
//! once every part of every file is in (see [`upload`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
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
use crate::storage::instrumented::RequestCounter;
use crate::storage::{self, StorageOptions};
use crate::util::units::format_size;
use crate::util::{redact, resources};
use guard::Existing;
use manifest::{MANIFEST, Manifest, ManifestFile};

pub mod guard;
pub mod manifest;
mod upload;

/// The codec of output files.
pub const OUTPUT_COMPRESSION: &str = "zstd(3)";

/// Where a run writes its result, and whether it may write beside files it did not write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSpec {
    /// A local folder or an object-store prefix.
    pub uri: String,
    /// Write into a folder that holds files prepcost did not write, keeping them.
    pub overwrite: bool,
}

/// Writes `result`, in source order and without `__source_row`, to the folder or object
/// store prefix `spec` names, with a manifest of what was written from `source`; `options`
/// configure a remote target's store, whose requests go to `requests` (the output's own,
/// with those of [`guard::check_target`]). What is at the target is checked again here, at
/// commit: an earlier output of prepcost's is replaced; files it did not write are kept.
pub async fn write(
    session: &Session,
    result: &Intermediate,
    (spec, source): (&OutputSpec, &str),
    options: &StorageOptions,
    requests: &Arc<RequestCounter>,
) -> Result<OutputReport> {
    let started = Instant::now();
    let cpu_at_start = resources::cpu_time();
    let target = spec.uri.as_str();
    let remote = storage::output_location(target, options, requests)?;
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
    let rows = result.stats().rows;
    let files = name_parts(staging.path()).map_err(|e| fail(e.to_string()))?;
    let bytes = files.iter().map(|f| f.bytes).sum();
    let manifest = Manifest {
        prepcost_version: env!("CARGO_PKG_VERSION").to_string(),
        run_id: crate::util::run_id(chrono::Utc::now()),
        source: redact::redact(source).into_owned(),
        rows,
        files,
    };
    match &remote {
        Some(remote) => upload::commit(remote, staging.path(), &manifest, spec.overwrite)
            .await
            .map_err(fail)?,
        None => {
            std::fs::write(staging.path().join(MANIFEST), manifest.to_json())
                .map_err(|e| fail(format!("writing {MANIFEST}: {e}")))?;
            commit(staging.keep(), &target_path, &manifest, spec.overwrite).map_err(fail)?
        }
    }
    Ok(OutputReport {
        uri: display,
        files: manifest.files.len() as u64,
        rows,
        bytes,
        wall_seconds: started.elapsed().as_secs_f64(),
        cpu_seconds: resources::cpu_time()
            .saturating_sub(cpu_at_start)
            .as_secs_f64(),
        requests: requests.snapshot(),
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
/// them; returns their names and sizes.
fn name_parts(dir: &Path) -> std::io::Result<Vec<ManifestFile>> {
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
    let mut files = Vec::with_capacity(written.len());
    for (i, path) in written.iter().enumerate() {
        let name = format!("part-{i:05}.parquet");
        let bytes = std::fs::metadata(path)?.len();
        std::fs::rename(path, dir.join(&name))?;
        files.push(ManifestFile { name, bytes });
    }
    Ok(files)
}

/// Puts the files of the staging directory (with their manifest) at `target`, removing only
/// files an earlier manifest there lists. A new or empty target, or one holding only an
/// earlier output, is swapped whole, so a reader sees the old dataset or the new one; with
/// `overwrite`, a folder of others' files gets the new files beside them.
fn commit(
    staging: PathBuf,
    target: &Path,
    manifest: &Manifest,
    overwrite: bool,
) -> Result<(), String> {
    let cleanup = |message: String| {
        let _ = std::fs::remove_dir_all(&staging);
        message
    };
    let existing = guard::local_existing(target).map_err(cleanup)?;
    existing.check(overwrite).map_err(cleanup)?;
    match existing {
        Existing::Nothing => {
            if target.exists() {
                // An empty folder: removed only while it is still empty.
                std::fs::remove_dir(target)
                    .map_err(|e| cleanup(format!("replacing the empty folder: {e}")))?;
            }
            std::fs::rename(&staging, target)
                .map_err(|e| cleanup(format!("moving the written files into place: {e}")))
        }
        Existing::Ours(earlier) => swap(&staging, target, &earlier).map_err(cleanup),
        Existing::Others { ours, .. } => {
            beside_others(&staging, target, manifest, ours.as_ref()).map_err(cleanup)
        }
    }
}

/// Swaps the staging folder and a target holding an earlier output, then removes the earlier
/// output's files; anything else found in it then is kept, and named.
fn swap(staging: &Path, target: &Path, earlier: &Manifest) -> Result<(), String> {
    let parent = staging.parent().unwrap_or(Path::new("."));
    let replaced = parent.join(format!(
        ".prepcost-replaced-{}",
        staging
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    std::fs::rename(target, &replaced)
        .map_err(|e| format!("moving the earlier output aside: {e}"))?;
    if let Err(e) = std::fs::rename(staging, target) {
        let _ = std::fs::rename(&replaced, target);
        return Err(format!("moving the written files into place: {e}"));
    }
    let names = earlier.files.iter().map(|f| f.name.as_str());
    for name in names.chain([MANIFEST]) {
        let _ = std::fs::remove_file(replaced.join(name));
    }
    std::fs::remove_dir(&replaced).map_err(|_| {
        format!(
            "the new dataset is in place; files that appeared in the earlier one during the \
             run were kept in {}",
            replaced.display()
        )
    })
}

/// Moves the new files into a folder of files prepcost did not write, none of them with a
/// name it writes (checked before); removes the files of an earlier output there that the
/// new one does not replace; the manifest goes in last.
fn beside_others(
    staging: &Path,
    target: &Path,
    manifest: &Manifest,
    earlier: Option<&Manifest>,
) -> Result<(), String> {
    for file in &manifest.files {
        std::fs::rename(staging.join(&file.name), target.join(&file.name))
            .map_err(|e| format!("moving {} into place: {e}", file.name))?;
    }
    for stale in earlier.into_iter().flat_map(|m| &m.files) {
        if !manifest.files.iter().any(|f| f.name == stale.name) {
            let _ = std::fs::remove_file(target.join(&stale.name));
        }
    }
    std::fs::rename(staging.join(MANIFEST), target.join(MANIFEST))
        .map_err(|e| format!("moving {MANIFEST} into place: {e}"))?;
    std::fs::remove_dir(staging).map_err(|e| format!("removing the staging folder: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A staging folder beside `dir/out` holding `part-00000.parquet` and its manifest.
    fn staged(dir: &Path, content: &[u8]) -> (PathBuf, Manifest) {
        let staging = dir.join(".prepcost-staging-x");
        std::fs::create_dir(&staging).unwrap();
        std::fs::write(staging.join("part-00000.parquet"), content).unwrap();
        let manifest = Manifest {
            prepcost_version: "0".into(),
            run_id: "r".into(),
            source: "s".into(),
            rows: 1,
            files: vec![ManifestFile {
                name: "part-00000.parquet".into(),
                bytes: content.len() as u64,
            }],
        };
        std::fs::write(staging.join(MANIFEST), manifest.to_json()).unwrap();
        (staging, manifest)
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn an_earlier_output_is_replaced_whole_and_nothing_is_left_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        let (staging, manifest) = staged(dir.path(), b"old data");
        commit(staging, &target, &manifest, false).unwrap();
        let (staging, manifest) = staged(dir.path(), b"new");
        commit(staging, &target, &manifest, false).unwrap();
        assert_eq!(names(&target), [MANIFEST, "part-00000.parquet"]);
        assert_eq!(
            std::fs::read(target.join("part-00000.parquet")).unwrap(),
            b"new"
        );
        assert_eq!(names(dir.path()), ["out"]);
    }

    #[test]
    fn others_files_are_refused_or_kept_beside_the_output() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("important.txt"), b"keep me").unwrap();
        let (staging, manifest) = staged(dir.path(), b"new");
        let refused = commit(staging, &target, &manifest, false).unwrap_err();
        assert!(refused.contains("important.txt"), "{refused}");
        assert_eq!(names(&target), ["important.txt"]);
        assert_eq!(names(dir.path()), ["out"], "the staging folder is removed");
        // With --overwrite the output goes beside them, twice, and they are kept.
        for content in [&b"first"[..], b"second"] {
            let (staging, manifest) = staged(dir.path(), content);
            commit(staging, &target, &manifest, true).unwrap();
        }
        assert_eq!(
            names(&target),
            [MANIFEST, "important.txt", "part-00000.parquet"]
        );
        assert_eq!(
            std::fs::read(target.join("important.txt")).unwrap(),
            b"keep me"
        );
        assert_eq!(
            std::fs::read(target.join("part-00000.parquet")).unwrap(),
            b"second"
        );
    }
}
