//! Reviews H4, H5, H6: a target that stops answering part-way must not
//! look like a target that refuses. Each test puts a small gate on
//! loopback in front of a real `openssl s_server`: the gate forwards some
//! connections and, for the others, closes at once (a rate limiter),
//! keeps them waiting (a serial server's queue), or accepts and never
//! answers (a stall). The scan must either recover (back off, retry with
//! fewer connections, and find what a direct scan finds) or say that it
//! is incomplete, and never exit 0 with results missing.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::openssl_server::OpensslServer;

/// What the gate does with one accepted connection.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Gate {
    Forward,
    /// Close at once without reading (what a connection rate limiter does).
    Close,
    /// Read what the client sends and never answer.
    Stall,
}

/// A gate on loopback: `rule(n, since_start)` decides for the n-th
/// connection (from 0). Forwarded connections are piped to `upstream`;
/// with `serial = Some(work)`, one connection is served at a time, each
/// taking at least `work` (the rest wait in the listen queue, as behind a
/// slow single-threaded server).
fn gate(
    upstream: SocketAddr,
    serial: Option<Duration>,
    rule: impl Fn(usize, Duration) -> Gate + Send + 'static,
) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().unwrap();
    let started = Instant::now();
    let count = AtomicUsize::new(0);
    thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let n = count.fetch_add(1, Ordering::Relaxed);
            match rule(n, started.elapsed()) {
                Gate::Close => drop(client),
                Gate::Stall => {
                    thread::spawn(move || {
                        let mut client = client;
                        let mut sink = [0u8; 4096];
                        while matches!(client.read(&mut sink), Ok(n) if n > 0) {}
                    });
                }
                Gate::Forward if serial.is_some() => {
                    let began = Instant::now();
                    pipe(client, upstream);
                    if let Some(rest) = serial.and_then(|w| w.checked_sub(began.elapsed())) {
                        thread::sleep(rest);
                    }
                }
                Gate::Forward => {
                    thread::spawn(move || pipe(client, upstream));
                }
            }
        }
    });
    addr
}

/// Copies bytes both ways until either side closes.
fn pipe(client: TcpStream, upstream: SocketAddr) {
    let Ok(server) = TcpStream::connect(upstream) else {
        return;
    };
    let (mut c_read, mut s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let up = thread::spawn(move || {
        let _ = std::io::copy(&mut c_read, &mut s_write);
        let _ = s_write.shutdown(Shutdown::Write);
    });
    let (mut s_read, mut c_write) = (server, client);
    let mut buf = [0u8; 16 * 1024];
    loop {
        match s_read.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if c_write.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = c_write.shutdown(Shutdown::Both);
    let _ = up.join();
}

struct Scan {
    code: i32,
    wall: Duration,
    report: Value,
}

fn scan(addr: SocketAddr, extra: &[&str]) -> Scan {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let target = addr.to_string();
    let mut args = vec![
        "scan",
        target.as_str(),
        "--no-sni",
        "--json",
        json.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let started = Instant::now();
    let (code, _out, err) = support::tlsposture(&args);
    let wall = started.elapsed();
    assert!(!err.contains("panicked"), "no panic: {err}");
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| panic!("report: {e}; {err}"));
    Scan {
        code,
        wall,
        report: serde_json::from_str(&text).unwrap(),
    }
}

fn target(report: &Value) -> &Value {
    &report["targets"][0]
}

fn suites(report: &Value) -> Vec<String> {
    let mut codes: Vec<String> = target(report)["cipher_suites"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| format!("{} {}", s["protocol"], s["code"]))
                .collect()
        })
        .unwrap_or_default();
    codes.sort();
    codes
}

fn finding_ids(report: &Value) -> Vec<String> {
    target(report)["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A TLS 1.2 server with a few suites, so enumeration needs several
/// handshakes per version.
fn upstream() -> OpensslServer {
    OpensslServer::start(&[
        "-no_tls1_3",
        "-cipher",
        "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:AES128-SHA:AES256-SHA",
    ])
}

/// H4 as the review ran it: after 8 connections every new one is closed
/// at once, for good. What the first 8 saw is reported, and the scan says
/// it is incomplete (exit 1, not 0).
#[test]
fn a_target_that_stops_answering_for_good_is_an_incomplete_scan_not_a_clean_one() {
    let server = upstream();
    let addr = gate(server.addr(), None, |n, _| {
        if n < 8 {
            Gate::Forward
        } else {
            Gate::Close
        }
    });
    let run = scan(addr, &["--checks", "suites", "--timeout", "1s"]);
    let ids = finding_ids(&run.report);
    assert!(ids.contains(&"scan.incomplete".to_owned()), "{ids:?}");
    assert_eq!(
        run.code,
        1,
        "an incomplete scan fails CI: {:#}",
        target(&run.report)
    );
    let holes = &target(&run.report)["stats"]["incomplete"];
    assert!(holes["unanswered"].as_u64().unwrap() > 0, "{holes}");
    assert!(
        run.wall < Duration::from_secs(25),
        "bounded: {:?}",
        run.wall
    );
}

/// A rate limiter that lets a burst through, then closes everything for
/// a second: backing off gets past it, and the scan finds what a direct
/// scan finds, saying how many probes it had to repeat.
#[test]
fn a_rate_limited_target_is_scanned_completely_after_backing_off() {
    let server = upstream();
    let direct = scan(server.addr(), &["--checks", "suites", "--timeout", "2s"]);
    assert_eq!(direct.code, 0, "{:#}", target(&direct.report));
    assert!(
        suites(&direct.report).len() >= 4,
        "{:?}",
        suites(&direct.report)
    );

    // Windows of 1 s: the first 6 connections of each window pass.
    let windows: Arc<Mutex<(u64, usize)>> = Arc::default();
    let addr = gate(server.addr(), None, move |_, since| {
        let mut w = windows.lock().unwrap();
        let window = since.as_secs();
        if w.0 != window {
            *w = (window, 0);
        }
        w.1 += 1;
        if w.1 <= 6 {
            Gate::Forward
        } else {
            Gate::Close
        }
    });
    let limited = scan(addr, &["--checks", "suites", "--timeout", "2s"]);
    let stats = &target(&limited.report)["stats"];
    assert_eq!(
        suites(&limited.report),
        suites(&direct.report),
        "the same suites as the direct scan; stats {stats}"
    );
    assert!(stats["retries"].as_u64().unwrap_or(0) > 0, "{stats}");
    // Either complete and clean, or honest about what it could not redo.
    let ids = finding_ids(&limited.report);
    match limited.code {
        0 => assert!(stats.get("incomplete").is_none(), "{stats}"),
        1 => assert!(ids.contains(&"scan.incomplete".to_owned()), "{ids:?}"),
        other => panic!("exit {other}: {stats}"),
    }
}

/// H5: a serial server (one connection at a time, the rest queued) scanned
/// with 64 connections at once: the queued probes wait past their timeout.
/// The scan must not read those waits as refusals: it finds every suite,
/// or says it is incomplete.
#[test]
fn a_serial_server_under_many_connections_loses_no_suite_silently() {
    let server = OpensslServer::start(&[]);
    let direct = scan(server.addr(), &["--checks", "all", "--timeout", "2s"]);
    let addr = gate(server.addr(), Some(Duration::from_millis(60)), |_, _| {
        Gate::Forward
    });
    let run = scan(
        addr,
        &[
            "--checks",
            "all",
            "--timeout",
            "1s",
            "--max-connections",
            "64",
        ],
    );
    let ids = finding_ids(&run.report);
    let found = suites(&run.report);
    eprintln!(
        "serial: exit {}, {:?}, {} of {} suites, stats {}",
        run.code,
        run.wall,
        found.len(),
        suites(&direct.report).len(),
        target(&run.report)["stats"]
    );
    if found != suites(&direct.report) {
        assert!(
            ids.contains(&"scan.incomplete".to_owned()) && run.code != 0,
            "lost suites {found:?} vs {:?} without saying so: {ids:?}",
            suites(&direct.report)
        );
    }
}

/// H6: after the protocol scan every connection is accepted and never
/// answered. `--target-deadline 4s` ends the scan by then, whatever is
/// left, and the report says what the deadline left undone.
#[test]
fn the_target_deadline_bounds_a_scan_whose_every_probe_stalls() {
    let server = upstream();
    let addr = gate(server.addr(), None, |n, _| {
        if n < 8 {
            Gate::Forward
        } else {
            Gate::Stall
        }
    });
    let run = scan(
        addr,
        &[
            "--checks",
            "all",
            "--timeout",
            "2s",
            "--target-deadline",
            "4s",
        ],
    );
    assert!(
        run.wall < Duration::from_secs(4) + Duration::from_millis(1500),
        "the deadline holds: {:?}",
        run.wall
    );
    let holes = &target(&run.report)["stats"]["incomplete"];
    assert_eq!(holes["deadline_ms"], 4000, "{holes}");
    assert!(
        holes["skipped"].as_u64().unwrap_or(0) + holes["unanswered"].as_u64().unwrap_or(0) > 0,
        "{holes}"
    );
    assert_eq!(run.code, 1, "{:?}", finding_ids(&run.report));
}
