//! Ctrl-C / SIGTERM mid-scan end the run with the partial report written
//! and marked (`interrupted`), and an exit code that is neither 0 nor a
//! result: 130 for SIGINT, 143 for SIGTERM. The target accepts and never
//! answers, so the scan is still waiting on its first probes when the
//! signal comes.

use std::io::Read;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

fn silent_target() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().unwrap().to_string();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || {
                let mut stream = stream;
                let mut sink = [0u8; 4096];
                while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
            });
        }
    });
    addr
}

fn interrupted_by(signal: libc::c_int, name: &str, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tlsposture"))
        .args(["scan", &silent_target(), "--timeout", "20s", "--json"])
        .arg(&json)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tlsposture runs");
    thread::sleep(Duration::from_millis(700));
    let sent = Instant::now();
    // SAFETY: the pid is our own running child.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if sent.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("{name} did not end the run");
        }
        thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(code), "{stderr}");
    assert!(
        stderr.contains(&format!("interrupted by {name}")),
        "{stderr}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("report written"))
            .expect("JSON");
    assert_eq!(report["interrupted"]["signal"], name, "{report:#}");
    assert_eq!(report["summary"]["exit_code"], code);
    assert_eq!(
        report["interrupted"]["unscanned"].as_array().map(Vec::len),
        Some(1),
        "{report:#}"
    );
    assert!(report["targets"].as_array().unwrap().is_empty());
}

#[test]
fn ctrl_c_writes_the_partial_report_and_exits_130() {
    interrupted_by(libc::SIGINT, "SIGINT", 130);
}

#[test]
fn sigterm_writes_the_partial_report_and_exits_143() {
    interrupted_by(libc::SIGTERM, "SIGTERM", 143);
}
