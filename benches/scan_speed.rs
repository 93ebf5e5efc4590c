//! Benchmark: how fast tlsposture scans the lab's Envoy listeners (loopback
//! only), per scan depth — protocols only, protocols + cipher suites (with
//! server order), and the full "what is offered" scan (groups, signature
//! schemes, ALPN, certificates per SNI too). Prints the handshakes each scan
//! makes and the median and p95 wall time over repeated scans. Peers
//! (testssl.sh, sslscan, sslyze) are compared in `benches/peers.rs`.
//!
//! Run: `cargo bench --bench scan_speed` (release build). Under `cargo test
//! --all-targets` it only prints a line.

use std::time::Instant;

use tlsposture::lab::{offered_listeners, seed_listeners, Lab, LabOptions};
use tlsposture::scan::{scan_target, Checks, ScanOptions};
use tlsposture::target::TargetSpec;

const ROUNDS: usize = 30;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("scan_speed: benchmark; run it with `cargo bench --bench scan_speed`");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut listeners = seed_listeners();
        listeners.extend(offered_listeners());
        let lab = Lab::start(LabOptions {
            listeners,
            ..LabOptions::default()
        })
        .await
        .unwrap_or_else(|e| panic!("cannot start the lab: {e}"));
        let depths = [
            ("protocols", Checks::PROTOCOLS_ONLY),
            (
                "+suites",
                Checks {
                    suites: true,
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
                times.sort();
                println!(
                    "{:<20} {:<10} {:>10} {:>7.1} ms {:>7.1} ms",
                    listener.name,
                    depth,
                    handshakes,
                    times[ROUNDS / 2].as_secs_f64() * 1e3,
                    times[ROUNDS * 95 / 100].as_secs_f64() * 1e3,
                );
            }
        }
        let _ = lab.stop().await;
    });
}
