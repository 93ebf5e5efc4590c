//! Review P3 / H1: a server that sends one valid ServerHello and then floods
//! empty application_data records. Before flight budgets one scan at
//! `--timeout 2s` held 1.5 GB and ran past a minute. The peer is a scripted
//! TCP socket on loopback, because no real TLS server misbehaves this way;
//! the ServerHello it sends is real OpenSSL bytes from `fixtures/flights`.
//!
//! Peak RSS is the kernel's own figure for the child (`ru_maxrss` from
//! `wait4`), not a sample, so it cannot miss a short spike.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::thread;
use std::time::Duration;

use support::measure::run_measured;

fn tls12_server_hello_record() -> Vec<u8> {
    let bytes = support::fixture_flight("openssl_tls12_ecdhe_rsa");
    assert_eq!(bytes[0], 0x16, "first record is a handshake record");
    let len = usize::from(u16::from_be_bytes([bytes[3], bytes[4]]));
    bytes[..5 + len].to_vec()
}

/// Answers every connection with the ServerHello, then empty
/// application_data records until the scanner hangs up.
fn flooding_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().unwrap();
    let hello = tls12_server_hello_record();
    let flood = [0x17u8, 0x03, 0x03, 0x00, 0x00].repeat(2000);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (hello, flood) = (hello.clone(), flood.clone());
            thread::spawn(move || {
                let mut stream = stream;
                let mut client_hello = [0u8; 4096];
                let _ = stream.read(&mut client_hello);
                if stream.write_all(&hello).is_err() {
                    return;
                }
                while stream.write_all(&flood).is_ok() {}
            });
        }
    });
    addr
}

#[test]
fn empty_record_flood_after_server_hello_is_cut_small_and_fast() {
    let addr = flooding_server().to_string();
    let dir = tempfile::tempdir().unwrap();
    let run = run_measured(
        &["scan", &addr, "--checks", "clients", "--timeout", "2s"],
        &dir.path().join("report.json"),
        // The old deadline-driven minute: past it the run was not bounded.
        Duration::from_secs(60),
    );
    assert!(!run.killed, "scan still running after 60 s");
    let code = run
        .code
        .unwrap_or_else(|| panic!("killed by a signal\n{}", run.stderr));
    // H1: every client cut off is an incomplete scan, never a clean one.
    assert_eq!(code, 1, "exit {code}\nstderr:\n{}", run.stderr);
    let ids = run.json["targets"][0]["findings"].to_string();
    assert!(ids.contains("\"scan.incomplete\""), "{ids}");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    // Each of the 79 probes ends at its budget, not at the 2 s deadline.
    assert!(run.wall < Duration::from_secs(20), "took {:?}", run.wall);
    assert!(
        run.max_rss_kib <= 100 * 1024,
        "peak RSS {} MiB",
        run.max_rss_kib / 1024
    );

    // The flood was really exercised: every simulated client is reported
    // as cut off by the message budget, none as connected.
    let sims = run.json["targets"][0]["client_simulations"]
        .as_array()
        .unwrap_or_else(|| panic!("no client simulations in {}", run.json));
    assert!(sims.len() >= 50, "{} simulations", sims.len());
    for sim in sims {
        assert_eq!(sim["connected"], false, "{sim}");
        let reason = sim["reason"].as_str().unwrap_or_default();
        assert!(
            reason.contains("cut off") && reason.contains("64 messages"),
            "{sim}"
        );
    }
    eprintln!(
        "flood scan: exit {code}, {:?}, peak RSS {} KiB",
        run.wall, run.max_rss_kib
    );
}
