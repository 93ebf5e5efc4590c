//! Runs the real binary and measures it the way the kernel sees it: wall
//! time from spawn to reap, and peak RSS from `wait4`'s `ru_maxrss` — the
//! kernel's own high-water mark for the child, not a sample, so a short
//! spike cannot be missed. Used by the hostile-server suites, whose claims
//! are about time and memory as much as about the report.
//!
//! `ru_maxrss` is an upper bound: Linux folds the spawning process's
//! high-water mark into the child's at `execve` (`exec_mmap` records the
//! old mm's, which for a `posix_spawn`ed child is the parent's), so a test
//! process that has grown makes every later child look as large. A limit
//! asserted on it therefore holds for the child too. The child's own
//! figure, `VmHWM` of its new mm, is sampled every poll as
//! [`Run::own_peak_kib`] (it can miss growth in the last poll interval
//! before exit), to show which of the two a high reading is.

use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// One measured run of `tlsposture`.
#[derive(Debug)]
pub struct Run {
    /// The exit code; `None` when a signal ended it (a panic abort, the
    /// kill after `kill_after`).
    pub code: Option<i32>,
    pub wall: Duration,
    /// Peak resident set size in KiB (Linux reports `ru_maxrss` in KiB):
    /// an upper bound, see the module doc.
    pub max_rss_kib: i64,
    /// The child's own `VmHWM` in KiB, last sampled before it exited.
    pub own_peak_kib: i64,
    pub stderr: String,
    /// The `--json` report, `Null` when none was written or it did not parse.
    pub json: serde_json::Value,
    /// Killed by us after `kill_after`: the run was not bounded.
    pub killed: bool,
}

impl Run {
    pub fn max_rss_mib(&self) -> f64 {
        self.max_rss_kib as f64 / 1024.0
    }
}

/// Runs the binary with `args` plus `--json JSON_PATH` (stdout discarded,
/// stderr kept next to the report) and reaps it with `wait4`. A run still
/// going after `kill_after` is killed and marked `killed`, so a hang is a
/// failed assertion, not a hung test.
pub fn run_measured(args: &[&str], json_path: &Path, kill_after: Duration) -> Run {
    let dir = json_path.parent().expect("the report path has a directory");
    let stderr_path = dir.join(format!(
        "{}.stderr",
        json_path.file_name().unwrap().to_string_lossy()
    ));
    let started = Instant::now();
    #[expect(
        clippy::zombie_processes,
        reason = "reaped by wait4 below, the call that also reports ru_maxrss"
    )]
    let child = Command::new(env!("CARGO_BIN_EXE_tlsposture"))
        .args(args)
        .arg("--json")
        .arg(json_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("tlsposture runs");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data; zeroed is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut killed = false;
    let mut own_peak_kib = 0;
    loop {
        if let Some(hwm) = vm_hwm_kib(pid) {
            own_peak_kib = own_peak_kib.max(hwm);
        }
        // SAFETY: pid is our own child; status and usage are valid pointers.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        assert!(r >= 0, "wait4: {}", std::io::Error::last_os_error());
        if r == pid {
            break;
        }
        if !killed && started.elapsed() > kill_after {
            // SAFETY: pid is our own unreaped child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            killed = true;
        }
        thread::sleep(Duration::from_millis(10));
    }
    let wall = started.elapsed();
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let json = std::fs::read_to_string(json_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    Run {
        code,
        wall,
        max_rss_kib: usage.ru_maxrss,
        own_peak_kib,
        stderr,
        json,
        killed,
    }
}

/// `VmHWM` of a live process, from `/proc/PID/status`; `None` once it has
/// exited (a zombie has no memory left to report).
fn vm_hwm_kib(pid: libc::pid_t) -> Option<i64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
