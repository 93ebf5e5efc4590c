//! Benchmark: how fast tlsposture scans the lab's Envoy listeners (loopback
//! only), per scan depth — protocols only, protocols + cipher suites (with
//! server order), and the full "what is offered" scan (groups, signature
//! schemes, ALPN, certificates per SNI too), plus protocols + the client
//! simulation alone (every profile in `clients/`), and the vulnerability
//! battery, session and header checks each on their own, with the issue-12
//! budget for the full scan (< 200 handshakes, < 250 ms median). Prints the handshakes
//! each scan makes and the median and p95 wall time over repeated scans.
//! Last, a silent peer (accepts, never answers) at a 300 ms deadline: the
//! version probes run side by side, so it should cost about one deadline,
//! not six. Peers (testssl.sh, sslscan, sslyze) are compared in
//! `benches/peers.rs`.
//!
//! Run: `cargo bench --bench scan_speed` (release build). Under `cargo test
//! --all-targets` it only prints a line.

mod common;

use std::time::{Duration, Instant};

use tlsposture::probe::ProbeTimeouts;
use tlsposture::scan::{scan_target, Checks, ScanOptions};
use tlsposture::target::TargetSpec;

const ROUNDS: usize = 30;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("scan_speed: benchmark; run it with `cargo bench --bench scan_speed`");
        return;
    }
    common::runtime().block_on(async {
        let lab = common::start_lab().await;
        let depths = [
            ("protocols", Checks::PROTOCOLS_ONLY),
            (
                "+suites",
                Checks {
                    suites: true,
                    ..Checks::PROTOCOLS_ONLY
                },
            ),
            (
                "clients",
                Checks {
                    clients: true,
                    ..Checks::PROTOCOLS_ONLY
                },
            ),
            (
                "vulns",
                Checks {
                    vulns: true,
                    suites: true,
                    ..Checks::PROTOCOLS_ONLY
                },
            ),
            (
                "session",
                Checks {
                    session: true,
                    ..Checks::PROTOCOLS_ONLY
                },
            ),
            (
                "headers",
                Checks {
                    headers: true,
                    ..Checks::PROTOCOLS_ONLY
                },
            ),
            ("full", Checks::ALL),
        ];
        println!(
            "{:<20} {:<10} {:>10} {:>10} {:>10}",
            "listener", "depth", "handshakes", "median", "p95"
        );
        for listener in lab.listeners() {
            let spec = TargetSpec::parse(&listener.addr.to_string()).unwrap();
            for (depth, checks) in depths {
                let options = ScanOptions {
                    sni: listener.sni.clone(),
                    cert_names: listener.sni.iter().cloned().collect(),
                    checks,
                    ..ScanOptions::default()
                };
                let mut times = Vec::with_capacity(ROUNDS);
                let mut handshakes = 0;
                for _ in 0..ROUNDS {
                    let started = Instant::now();
                    let report = scan_target(&spec, &options)
                        .await
                        .unwrap_or_else(|(_, e)| panic!("{}: {e}", listener.name));
                    times.push(started.elapsed());
                    handshakes = report.stats.handshakes;
                }
                if depth == "full" {
                    budget(&listener.name, handshakes, &times);
                }
                print_row(&listener.name, depth, handshakes, times);
            }
        }
        let _ = lab.stop().await;
        silent_peer().await;
    });
}

/// Issue 12's cost budget for a full scan (every check) of one listener:
/// under 200 handshakes and 0.25 s median wall time on loopback.
const FULL_SCAN_HANDSHAKES: u32 = 200;
const FULL_SCAN_MEDIAN: Duration = Duration::from_millis(250);

fn budget(name: &str, handshakes: u32, times: &[Duration]) {
    let mut sorted = times.to_vec();
    sorted.sort();
    let median = sorted[sorted.len() / 2];
    let within = handshakes < FULL_SCAN_HANDSHAKES && median < FULL_SCAN_MEDIAN;
    println!(
        "budget {name}: full scan {handshakes} handshakes (< {FULL_SCAN_HANDSHAKES}), median {:.1} ms (< {} ms): {}",
        median.as_secs_f64() * 1e3,
        FULL_SCAN_MEDIAN.as_millis(),
        if within { "within" } else { "OVER" }
    );
}

fn print_row(name: &str, depth: &str, handshakes: u32, mut times: Vec<Duration>) {
    times.sort();
    println!(
        "{:<20} {:<10} {:>10} {:>7.1} ms {:>7.1} ms",
        name,
        depth,
        handshakes,
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[times.len() * 95 / 100].as_secs_f64() * 1e3,
    );
}

/// A loopback peer that accepts and never answers, scanned with a 300 ms
/// read deadline until the scan gives up (an error: nothing to report).
async fn silent_peer() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local address");
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let spec = TargetSpec::parse(&addr.to_string()).unwrap();
    let options = ScanOptions {
        timeouts: ProbeTimeouts {
            read: Duration::from_millis(300),
            ..ProbeTimeouts::default()
        },
        ..ScanOptions::default()
    };
    let mut times = Vec::with_capacity(ROUNDS);
    let mut handshakes = 0;
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let outcome = scan_target(&spec, &options).await;
        times.push(started.elapsed());
        handshakes = match outcome {
            Ok(report) => report.stats.handshakes,
            Err((report, _)) => report.stats.handshakes,
        };
    }
    print_row("silent peer", "300 ms", handshakes, times);
    holder.abort();
}
