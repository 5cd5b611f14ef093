//! Readings of the process's own resources: CPU time used, peak resident memory, and the
//! machine's physical memory and cores.

use std::time::Duration;

/// CPU time (user + system) used by every thread of this process so far.
pub fn cpu_time() -> Duration {
    let usage = rusage();
    timeval(usage.ru_utime) + timeval(usage.ru_stime)
}

/// The highest resident set size of this process so far, in bytes. On Linux this is the
/// high-water mark of its own memory (`VmHWM`): `ru_maxrss` starts from the peak of the
/// process that spawned it (the kernel carries the parent's mark over a vfork and exec), so a
/// run started by a large process — a test harness, a Python orchestrator — would report that
/// process's peak as its own.
pub fn peak_rss() -> u64 {
    if let Some(kib) = proc_status_kib("VmHWM:") {
        return kib * 1024;
    }
    // Linux reports ru_maxrss in KiB, macOS in bytes.
    let max = u64::try_from(rusage().ru_maxrss).unwrap_or(0);
    if cfg!(target_os = "macos") {
        max
    } else {
        max * 1024
    }
}

/// A `KEY: N kB` line of `/proc/self/status` (`None` where `/proc` is absent).
fn proc_status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix(key))?;
    line.trim().strip_suffix("kB")?.trim().parse().ok()
}

/// The resident set size of this process now, in bytes (`None` where `/proc` is absent).
pub fn current_rss() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf only reads a system configuration value.
    let page_size = u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).ok()?;
    Some(pages * page_size)
}

/// Physical memory of the machine in bytes (8 GiB when the system will not say).
pub fn physical_memory() -> u64 {
    // SAFETY: sysconf only reads system configuration values.
    let (pages, page_size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    match (u64::try_from(pages), u64::try_from(page_size)) {
        (Ok(p), Ok(s)) if p > 0 && s > 0 => p * s,
        _ => 8 << 30,
    }
}

/// The number of cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn rusage() -> libc::rusage {
    // SAFETY: getrusage writes into the zeroed struct we own; RUSAGE_SELF is always valid.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    }
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_are_plausible() {
        let before = cpu_time();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(cpu_time() >= before);
        assert!(peak_rss() > 0);
        assert!(peak_rss() >= current_rss().unwrap_or(0));
        assert!(physical_memory() > 64 << 20);
        assert!(cores() >= 1);
    }
}
