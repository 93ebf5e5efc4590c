//! Review H8: a server that sends a warning alert before its ServerHello.
//! OpenSSL clients read past a warning (RFC 5246 7.2: only fatal alerts end
//! the connection) and connect, so the scan must too; an alert of a level no
//! RFC defines must end the handshake without a panic and without crediting
//! the server with a version. The peers are scripted TCP sockets on
//! loopback, because no real server misbehaves this way on demand; the
//! flight they send is real OpenSSL bytes from `fixtures/flights`.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener};
use std::process::Command;
use std::thread;

use serde_json::Value;

/// The whole captured TLS 1.2 flight (ServerHello to ServerHelloDone).
fn tls12_flight() -> Vec<u8> {
    support::fixture_flight("openssl_tls12_ecdhe_rsa")
}

fn alert_record(level: u8, description: u8) -> Vec<u8> {
    vec![21, 3, 3, 0, 2, level, description]
}

/// Answers every ClientHello, whatever it offers, with `answer`, then closes
/// its side and waits for the scanner to hang up.
fn scripted_server(answer: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let answer = answer.clone();
            thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(&answer);
                let _ = stream.shutdown(Shutdown::Write);
                while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    addr
}

/// Runs `tlsposture scan ADDR --checks protocols --timeout 2s --json -`.
fn scan(addr: SocketAddr) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tlsposture"))
        .args(["scan", &addr.to_string()])
        .args(["--checks", "protocols", "--timeout", "2s", "--json", "-"])
        .output()
        .expect("tlsposture runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON report ({e}):\n{stdout}\n{stderr}"));
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal\n{stderr}"));
    (code, report, stderr)
}

fn protocol<'a>(report: &'a Value, version: &str) -> &'a Value {
    report["targets"][0]["protocols"]
        .as_array()
        .unwrap_or_else(|| panic!("no protocol table in {report:#}"))
        .iter()
        .find(|p| p["version"] == version)
        .unwrap_or_else(|| panic!("no {version} row in {report:#}"))
}

#[test]
fn a_warning_unrecognized_name_before_the_server_hello_is_read_past() {
    let answer = [alert_record(1, 112), tls12_flight()].concat();
    let (code, report, stderr) = scan(scripted_server(answer));
    assert_ne!(
        code, 2,
        "the server answered; stderr:\n{stderr}\n{report:#}"
    );
    let tls12 = protocol(&report, "TLS1.2");
    assert_eq!(tls12["offered"], true, "{tls12:#}");
}

#[test]
fn an_alert_of_unknown_level_ends_the_handshake() {
    // The real flight follows the alert: reading past it would report
    // TLS 1.2 offered, which no client would see (OpenSSL aborts on an
    // unknown alert level).
    let answer = [alert_record(7, 112), tls12_flight()].concat();
    let (code, report, stderr) = scan(scripted_server(answer));
    let target = &report["targets"][0];
    for row in target["protocols"].as_array().expect("protocol table") {
        assert_ne!(row["offered"], true, "{row:#}");
    }
    // Every version was answered by that alert alone: the target could not
    // be scanned, and the report names what the server said.
    assert_eq!(code, 2, "{stderr}\n{report:#}");
    assert!(
        target.to_string().contains("unrecognized_name"),
        "{target:#}"
    );
}
