//! `--lock FILE`: one run of a job at a time. The lock is an advisory `flock` on the file,
//! which holds the holder's process id; the kernel releases it when the process ends, however
//! it ends.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::Path;

use crate::error::{Error, Result};

/// A held lock, released when dropped or when the process exits.
#[derive(Debug)]
pub struct JobLock {
    _file: File,
}

impl JobLock {
    /// Takes the lock on `path` (created if missing) without waiting; when another process
    /// holds it, [`Error::LockHeld`] names that process.
    pub fn acquire(path: &Path) -> Result<JobLock> {
        let shown = path.display().to_string();
        let io = |e: std::io::Error| Error::io(format!("lock file {shown}"), e);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io)?;
        // SAFETY: flock on a descriptor this function owns; it touches no memory.
        let taken = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
        if !taken {
            let error = std::io::Error::last_os_error();
            if error.kind() != std::io::ErrorKind::WouldBlock {
                return Err(io(error));
            }
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            return Err(Error::LockHeld {
                path: shown,
                holder: match holder.trim() {
                    "" => "another process".to_string(),
                    pid => format!("process {pid}"),
                },
            });
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(JobLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_pid_until_it_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.lock");
        let held = JobLock::acquire(&path).unwrap();
        // flock locks belong to the open file: a second open in this process conflicts too.
        let refused = JobLock::acquire(&path).unwrap_err().to_string();
        assert!(
            refused.contains(&format!("held by process {}", std::process::id())),
            "{refused}"
        );
        drop(held);
        JobLock::acquire(&path).unwrap();
    }
}
