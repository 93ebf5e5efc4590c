//! Benchmark: tlsposture's library scan beside the peer scanners (testssl.sh,
//! sslscan, sslyze) on every lab listener — seed and "everything offered"
//! scenarios — on loopback only.
//!
//! Per listener and tool it prints the wall time, the ratio to tlsposture's
//! median, and the connections the tool made, counted by Envoy itself
//! (`downstream_cx_total` delta on that listener), so every tool is counted
//! the same way whatever it reports. A peer that is not installed is shown as
//! `-`; `scripts/setup.sh` installs them. The peers do more or less than
//! tlsposture does today (see `PEERS`); the ratio is a yardstick, not a race
//! on equal terms.
//!
//! Run: `cargo bench --bench peers` (release build; several minutes, most of
//! it testssl.sh). Under `cargo test --all-targets` it only prints a line.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
#[path = "../tests/support/testssl.rs"]
mod testssl;

use tlsposture::lab::{Lab, RunningListener};
use tlsposture::scan::{scan_target, ScanOptions};
use tlsposture::target::TargetSpec;

/// tlsposture scans are fast enough to repeat; the median is reported.
const ROUNDS: usize = 5;
/// Bounds one peer run; a peer that hangs on one listener must not stall
/// the whole table.
const PEER_LIMIT: Duration = Duration::from_secs(300);

/// A peer scanner: name shown in the table and how to run it on a listener.
struct Peer {
    name: &'static str,
    /// Whether it can run here at all.
    probe: fn() -> bool,
    command: fn(addr: SocketAddr, sni: Option<&str>) -> Vec<String>,
}

const PEERS: &[Peer] = &[
    // Protocols and cipher suites per protocol: the closest to what
    // tlsposture's scan steps cover.
    Peer {
        name: "testssl -p -E",
        probe: || testssl::binary().is_some(),
        command: |addr, sni| {
            let mut cmd = vec![testssl::binary().unwrap_or("testssl").to_owned()];
            cmd.extend(testssl::protocols_and_suites_args(addr, sni, None));
            cmd
        },
    },
    // Its default run: protocols, suites, groups, signature algorithms,
    // certificate, renegotiation, compression, Heartbleed.
    Peer {
        name: "sslscan",
        probe: || runs(&["sslscan", "--version"]),
        command: |addr, sni| {
            let mut cmd = strings(&["sslscan", "--no-colour"]);
            if let Some(sni) = sni {
                cmd.push(format!("--sni-name={sni}"));
            }
            cmd.push(addr.to_string());
            cmd
        },
    },
    // Protocols and suites only (its default adds ROBOT, session resumption
    // rates and more, which would dwarf everything).
    Peer {
        name: "sslyze suites",
        probe: || runs(&["python3", "-m", "sslyze", "--help"]),
        command: |addr, sni| {
            let mut cmd = strings(&[
                "python3",
                "-m",
                "sslyze",
                "--quiet",
                "--sslv2",
                "--sslv3",
                "--tlsv1",
                "--tlsv1_1",
                "--tlsv1_2",
                "--tlsv1_3",
            ]);
            // `host:port{ip}`: the host is the SNI, the braces where to connect.
            cmd.push(match sni {
                Some(sni) => format!("{sni}:{}{{{}}}", addr.port(), addr.ip()),
                None => addr.to_string(),
            });
            cmd
        },
    },
];

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("peers: benchmark; run it with `cargo bench --bench peers`");
        return;
    }
    common::runtime().block_on(async {
        let lab = common::start_lab().await;

        let available: Vec<&Peer> = PEERS.iter().filter(|p| (p.probe)()).collect();
        for peer in PEERS.iter().filter(|p| !(p.probe)()) {
            println!(
                "peers: {} is not installed (scripts/setup.sh); skipped",
                peer.name
            );
        }
        println!(
            "Envoy {}; times are wall clock, conns = connections Envoy counted",
            lab.envoy_version()
        );
        println!(
            "{:<19} {:<14} {:>10} {:>6} {:>7}",
            "listener", "tool", "wall", "conns", "ratio"
        );
        for listener in lab.listeners() {
            let ours = time_tlsposture(&lab, listener).await;
            print_row(&listener.name, "tlsposture", &ours, None);
            for peer in &available {
                let command = (peer.command)(listener.addr, listener.sni.as_deref());
                let run = time_peer(&lab, listener, &command).await;
                print_row("", peer.name, &run, Some(ours.wall));
            }
        }
        let _ = lab.stop().await;
    });
}

/// One tool's run on one listener.
struct Run {
    wall: Duration,
    connections: Option<u64>,
    /// Why the run is not a clean measurement, if it is not.
    note: Option<String>,
}

fn print_row(listener: &str, tool: &str, run: &Run, baseline: Option<Duration>) {
    let conns = run
        .connections
        .map_or_else(|| "?".to_owned(), |c| c.to_string());
    let ratio = baseline.map_or_else(String::new, |b| {
        format!("{:.0}x", run.wall.as_secs_f64() / b.as_secs_f64())
    });
    let note = run
        .note
        .as_deref()
        .map_or_else(String::new, |n| format!("  ({n})"));
    println!(
        "{listener:<19} {tool:<14} {:>8.3} s {conns:>6} {ratio:>7}{note}",
        run.wall.as_secs_f64()
    );
}

async fn time_tlsposture(lab: &Lab, listener: &RunningListener) -> Run {
    let spec = TargetSpec::parse(&listener.addr.to_string()).expect("a lab address parses");
    let options = ScanOptions {
        sni: listener.sni.clone(),
        ..ScanOptions::default()
    };
    let mut times = Vec::with_capacity(ROUNDS);
    let mut connections = None;
    let mut note = None;
    for round in 0..ROUNDS {
        let before = lab.downstream_connections(&listener.name).await.ok();
        let started = Instant::now();
        let outcome = scan_target(&spec, &options).await;
        times.push(started.elapsed());
        let after = lab.downstream_connections(&listener.name).await.ok();
        if round == 0 {
            connections = before.zip(after).map(|(b, a)| a - b);
            note = match outcome {
                Ok(report) => Some(format!("reports {} handshakes", report.stats.handshakes)),
                Err((_, e)) => Some(format!("scan failed: {e}")),
            };
        }
    }
    times.sort();
    Run {
        wall: times[ROUNDS / 2],
        connections,
        note,
    }
}

async fn time_peer(lab: &Lab, listener: &RunningListener, command: &[String]) -> Run {
    let before = lab.downstream_connections(&listener.name).await.ok();
    let started = Instant::now();
    let limit = PEER_LIMIT.as_secs().to_string();
    let status = tokio::process::Command::new("timeout")
        .arg(&limit)
        .args(command)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
    let wall = started.elapsed();
    // Envoy counts a connection when it accepts it; a peer's last close may
    // still be in flight, so let the counter settle.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = lab.downstream_connections(&listener.name).await.ok();
    let note = match status {
        Ok(s) if s.code() == Some(124) => Some(format!("killed after {limit} s")),
        // testssl exits non-zero on findings; only "could not run" matters.
        Ok(s) if s.code() == Some(127) => Some("not found".to_owned()),
        Ok(_) => None,
        Err(e) => Some(format!("could not run: {e}")),
    };
    Run {
        wall,
        connections: before.zip(after).map(|(b, a)| a - b),
        note,
    }
}

fn runs(argv: &[&str]) -> bool {
    Command::new(argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}
