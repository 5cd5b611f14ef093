//! Temporary directories of the run, known by path so that an interrupted run removes them
//! even when the work that owns them cannot be dropped in time.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A temporary directory on the list until this is dropped (its owner removes it then).
#[derive(Debug)]
pub struct Registered(PathBuf);

/// Puts `dir` on the list of directories an interrupted run removes.
pub fn register(dir: &Path) -> Registered {
    if let Ok(mut live) = LIVE.lock() {
        live.push(dir.to_path_buf());
    }
    Registered(dir.to_path_buf())
}

impl Drop for Registered {
    fn drop(&mut self) {
        if let Ok(mut live) = LIVE.lock()
            && let Some(i) = live.iter().position(|p| *p == self.0)
        {
            live.swap_remove(i);
        }
    }
}

/// Removes every directory still on the list, with what it holds.
pub fn remove_all() {
    let live = match LIVE.lock() {
        Ok(mut live) => std::mem::take(&mut *live),
        Err(_) => return,
    };
    for dir in live {
        if let Err(e) = std::fs::remove_dir_all(&dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("removing {}: {e}", dir.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_directories_are_removed_and_dropped_ones_forgotten() {
        let kept = tempfile::tempdir().unwrap();
        let removed = tempfile::tempdir().unwrap();
        std::fs::write(removed.path().join("spill.parquet"), b"x").unwrap();
        let forgotten = register(kept.path());
        drop(forgotten);
        let _listed = register(removed.path());
        remove_all();
        assert!(kept.path().exists());
        assert!(!removed.path().exists());
    }
}
