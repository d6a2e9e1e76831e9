//! Helpers for the hostile-client tests: what the kernel says about the server process
//! (`/proc/<pid>/status`, `/stat`, `/fd`), file-descriptor limits via util-linux `prlimit`,
//! bounded polling, and small statistics for printed figures.
#![allow(dead_code)]

use std::fs;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

/// `VmRSS` of `pid` in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/status: {e}"));
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS line in /proc/{pid}/status"))
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 when that fails).
fn clock_ticks() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .stderr(Stdio::null())
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100)
    })
}

/// CPU time (user + system) `pid` has used so far.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/stat: {e}"));
    // The command name (field 2) is in parentheses and may contain spaces: split after it.
    let after = &stat[stat.rfind(')').expect("comm field") + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    // Fields 14 and 15 of stat(5) are utime and stime; `after` starts at field 3.
    let utime: u64 = fields[11].parse().expect("utime");
    let stime: u64 = fields[12].parse().expect("stime");
    Duration::from_secs_f64((utime + stime) as f64 / clock_ticks() as f64)
}

/// How many file descriptors `pid` has open.
pub fn fd_count(pid: u32) -> usize {
    fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/fd: {e}"))
        .count()
}

/// The soft `RLIMIT_NOFILE` of `pid` (from `/proc/<pid>/limits`).
pub fn nofile_soft(pid: u32) -> u64 {
    let limits = fs::read_to_string(format!("/proc/{pid}/limits"))
        .unwrap_or_else(|e| panic!("read /proc/{pid}/limits: {e}"));
    limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap_or(u64::MAX)
}

/// Is util-linux `prlimit` available?
pub fn have_prlimit() -> bool {
    Command::new("prlimit")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Set `pid`'s `RLIMIT_NOFILE` to `soft:hard` with `prlimit`.
pub fn set_nofile(pid: u32, soft: u64, hard: u64) -> Result<(), String> {
    prlimit_nofile(pid, &format!("{soft}:{hard}"))
}

/// Set `pid`'s soft `RLIMIT_NOFILE` to `soft`, leaving the hard limit alone.
pub fn set_nofile_soft(pid: u32, soft: u64) -> Result<(), String> {
    prlimit_nofile(pid, &format!("{soft}:"))
}

/// `prlimit --pid PID --nofile=SPEC` (util-linux).
fn prlimit_nofile(pid: u32, spec: &str) -> Result<(), String> {
    let out = Command::new("prlimit")
        .arg("--pid")
        .arg(pid.to_string())
        .arg(format!("--nofile={spec}"))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("prlimit: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "prlimit --pid {pid} --nofile={spec}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Make sure `pid` may open at least `want` files: raise its soft limit (up to its hard limit)
/// with `prlimit` when needed. `Err` when even the hard limit is too low.
pub fn ensure_nofile(pid: u32, want: u64) -> Result<(), String> {
    if nofile_soft(pid) >= want {
        return Ok(());
    }
    let limits = fs::read_to_string(format!("/proc/{pid}/limits")).map_err(|e| e.to_string())?;
    let hard: u64 = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(4))
        .and_then(|v| v.parse().ok())
        .unwrap_or(u64::MAX);
    if hard < want {
        return Err(format!("hard RLIMIT_NOFILE of {pid} is {hard} < {want}"));
    }
    set_nofile(pid, want, hard)
}

/// Poll `check` every 20 ms until it returns `Some`, or `None` after `within`.
pub fn poll_until<T>(within: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// (min, median, max) of a non-empty list of durations.
pub fn min_median_max(values: &[Duration]) -> (Duration, Duration, Duration) {
    assert!(!values.is_empty(), "no values");
    let mut sorted = values.to_vec();
    sorted.sort();
    (
        sorted[0],
        sorted[sorted.len() / 2],
        sorted[sorted.len() - 1],
    )
}

/// Milliseconds with one decimal, for printed figures.
pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
