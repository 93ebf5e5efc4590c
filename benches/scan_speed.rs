//! Benchmark: how fast tlsposture scans the lab's Envoy listeners (loopback
//! only), per scan depth — protocols only, protocols + cipher suites (with
//! server order), and the full "what is offered" scan (groups, signature
//! schemes, ALPN, certificates per SNI too), plus protocols + the client
//! simulation alone (every profile in `clients/`). Prints the handshakes
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
                print_row(&listener.name, depth, handshakes, times);
            }
        }
        let _ = lab.stop().await;
        silent_peer().await;
    });
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
