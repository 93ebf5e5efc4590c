//! Benchmark: protocol scans of the lab's Envoy listeners (loopback only).
//! Prints, per listener, the handshakes a scan makes and the median and p95
//! wall time over repeated scans, and — when testssl.sh is installed — the
//! wall time of its `-p` check on the same listener, side by side.
//!
//! Run: `cargo bench --bench protocol_scan` (release build). Under `cargo
//! test --all-targets` it only checks that it builds.

use std::process::Command;
use std::time::{Duration, Instant};

use tlsposture::lab::{seed_listeners, Lab, LabOptions};
use tlsposture::scan::{scan_target, ScanOptions};
use tlsposture::target::TargetSpec;

const ROUNDS: usize = 50;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("protocol_scan: benchmark; run it with `cargo bench --bench protocol_scan`");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let lab = Lab::start(LabOptions {
            listeners: seed_listeners(),
            ..LabOptions::default()
        })
        .await
        .unwrap_or_else(|e| panic!("cannot start the lab: {e}"));
        println!(
            "{:<14} {:>10} {:>12} {:>12} {:>14} {:>8}",
            "listener", "handshakes", "median", "p95", "testssl -p", "ratio"
        );
        for listener in lab.listeners() {
            let spec = TargetSpec::parse(&listener.addr.to_string()).unwrap();
            let options = ScanOptions {
                sni: listener.sni.clone(),
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
            let median = times[ROUNDS / 2];
            let p95 = times[ROUNDS * 95 / 100];
            let testssl = time_testssl(&listener.addr.to_string());
            let (testssl_text, ratio) = match testssl {
                Some(t) => (
                    format!("{:.2} s", t.as_secs_f64()),
                    format!("{:.0}x", t.as_secs_f64() / median.as_secs_f64()),
                ),
                None => ("not installed".into(), "-".into()),
            };
            println!(
                "{:<14} {:>10} {:>9.2} ms {:>9.2} ms {:>14} {:>8}",
                listener.name,
                handshakes,
                median.as_secs_f64() * 1e3,
                p95.as_secs_f64() * 1e3,
                testssl_text,
                ratio
            );
        }
        let _ = lab.stop().await;
    });
}

fn time_testssl(addr: &str) -> Option<Duration> {
    let started = Instant::now();
    let status = Command::new("testssl")
        .args([
            "--quiet",
            "--color",
            "0",
            "--warnings",
            "off",
            "--nodns",
            "min",
            "-p",
            addr,
        ])
        .output()
        .ok()?;
    status.status.success().then(|| started.elapsed())
}
