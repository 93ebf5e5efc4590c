//! Benchmark: what `tlsposture scan --checks protocols` spends before its
//! first hello (issue 13: < 15 ms on loopback), release binary.
//!
//! Each run starts the binary with `-vv` against a loopback peer of our own
//! that answers every hello with an alert; the first hello's start is read
//! from the debug log (each exchange logs its end time and its duration)
//! and compared with the wall-clock instant just before the process was
//! spawned. Prints the median and the worst over the runs. The peer's
//! answer does not matter: only our side's start-up is measured.
//!
//! Run: `cargo bench --bench startup`. Under `cargo test --all-targets` it
//! only prints a line.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const RUNS: usize = 30;
const BUDGET: Duration = Duration::from_millis(15);

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("startup: benchmark; run it with `cargo bench --bench startup`");
        return;
    }
    let peer = TcpListener::bind("127.0.0.1:0").expect("bind a loopback peer");
    let addr = peer.local_addr().expect("peer address");
    std::thread::spawn(move || {
        for stream in peer.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                // handshake_failure
                let _ = stream.write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
            });
        }
    });
    let binary = common::release_binary();
    let mut before_first_hello = Vec::new();
    for _ in 0..RUNS {
        let spawned = SystemTime::now();
        let out = Command::new(&binary)
            .args([
                "-vv",
                "--no-color",
                "scan",
                &addr.to_string(),
                "--checks",
                "protocols",
            ])
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .expect("run tlsposture");
        let log = String::from_utf8_lossy(&out.stderr);
        let first = log
            .lines()
            .filter_map(exchange_start)
            .min()
            .expect("the debug log names the hellos' exchanges");
        before_first_hello.push(first.duration_since(spawned).unwrap_or_default());
    }
    before_first_hello.sort();
    let median = before_first_hello[RUNS / 2];
    let worst = before_first_hello[RUNS - 1];
    println!(
        "startup: scan --checks protocols, spawn → first hello: median {:.1} ms, worst {:.1} ms over {RUNS} runs (budget < {} ms: {})",
        median.as_secs_f64() * 1e3,
        worst.as_secs_f64() * 1e3,
        BUDGET.as_millis(),
        if median < BUDGET { "met" } else { "NOT met" }
    );
}

/// When a logged exchange started: its log time minus its `elapsed_us`.
fn exchange_start(line: &str) -> Option<SystemTime> {
    let elapsed: u64 = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("elapsed_us="))?
        .parse()
        .ok()?;
    let stamp = line.split_whitespace().next()?;
    let at = OffsetDateTime::parse(stamp, &Rfc3339).ok()?;
    let at = SystemTime::UNIX_EPOCH
        + Duration::from_nanos(u64::try_from(at.unix_timestamp_nanos()).ok()?);
    Some(at - Duration::from_micros(elapsed))
}
