//! Bad input and hostile or non-TLS servers: one clear line on stderr, the
//! right exit code, never a panic. Servers here are real sockets on loopback:
//! a closed port, Python's http.server, and two deliberately broken peers
//! (garbage, silence) that no real TLS server would imitate.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use support::tlsposture;

fn assert_no_panic(stderr: &str) {
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "panic on stderr:\n{stderr}"
    );
}

/// A loopback server that answers every connection with `answer` (then
/// closes), or with nothing when `answer` is None (holds the socket open).
fn broken_server(answer: Option<&'static [u8]>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || {
                let mut stream = stream;
                let mut hello = [0u8; 4096];
                let _ = stream.read(&mut hello);
                match answer {
                    Some(bytes) => {
                        let _ = stream.write_all(bytes);
                    }
                    None => thread::sleep(Duration::from_secs(10)),
                }
            });
        }
    });
    addr
}

#[test]
fn closed_port_exits_2_with_one_line() {
    let (code, stdout, stderr) = tlsposture(&["scan", "127.0.0.1:1"]);
    assert_eq!(code, 2, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line expected:\n{stderr}");
    assert!(stderr.contains("refused"), "{stderr}");
    assert_no_panic(&stderr);
}

#[test]
fn closed_port_json_report_says_unreachable() {
    let (code, stdout, _) = tlsposture(&["scan", "127.0.0.1:1", "--json", "-"]);
    assert_eq!(code, 2);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(report["targets"][0]["reachable"], false);
    assert_eq!(report["summary"]["exit_code"], 2);
    assert!(report["targets"][0]["error"]
        .as_str()
        .unwrap()
        .contains("refused"));
}

struct HttpServer(Child, SocketAddr);

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Python's http.server on an ephemeral loopback port: a real plain-HTTP peer.
fn python_http_server() -> HttpServer {
    let mut child = std::process::Command::new("python3")
        .args(["-u", "-m", "http.server", "--bind", "127.0.0.1", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 is needed for this test: apt-get install python3");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("http.server prints its port");
    // "Serving HTTP on 127.0.0.1 port 39831 (http://127.0.0.1:39831/) ..."
    let port: u16 = line
        .split_whitespace()
        .skip_while(|w| *w != "port")
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected http.server banner: {line}"));
    HttpServer(child, SocketAddr::from(([127, 0, 0, 1], port)))
}

#[test]
fn plain_http_port_is_named_as_such() {
    let server = python_http_server();
    let (code, _, stderr) = tlsposture(&["scan", &server.1.to_string()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("does not speak TLS"), "{stderr}");
    assert!(stderr.contains("HTTP"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn garbage_answer_is_an_error_not_a_panic() {
    let addr = broken_server(Some(b"\x00\x01\x02garbage\xff\xfe not tls at all"));
    let (code, _, stderr) = tlsposture(&["scan", &addr.to_string()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("does not speak TLS"), "{stderr}");
    assert_no_panic(&stderr);
}

#[test]
fn hostile_truncated_server_hello_is_not_a_panic() {
    // A handshake record that claims a ServerHello longer than what follows,
    // then closes.
    let addr = broken_server(Some(b"\x16\x03\x03\x00\x30\x02\x00\xff\xff\x03\x03"));
    let (code, _, stderr) = tlsposture(&["scan", &addr.to_string()]);
    assert_eq!(code, 2, "{stderr}");
    assert_no_panic(&stderr);
}

/// What a silent peer saw: connections in all, and the most open at once.
#[derive(Default)]
struct Seen {
    open: usize,
    total: usize,
    most_open: usize,
}

/// A loopback server that reads and never answers, holding each connection
/// until the client gives up, and counts what it saw (independently of the
/// scanner's own statistics).
fn counting_silent_server() -> (SocketAddr, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let shared = Arc::clone(&seen);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            {
                let mut s = shared.lock().unwrap();
                s.open += 1;
                s.total += 1;
                s.most_open = s.most_open.max(s.open);
            }
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 4096];
                // Until the client closes or resets.
                while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
                shared.lock().unwrap().open -= 1;
            });
        }
    });
    (addr, seen)
}

/// A server that accepts and never answers is unscannable (exit 2) with the
/// deadline as the reason, after one hello per protocol version that the
/// server itself counted, sent side by side rather than one after another
/// (so a silent server costs one deadline, not one per version). How long
/// it takes is measured in `benches/scan_speed.rs` ("silent peer").
#[test]
fn silent_server_is_unscannable_after_side_by_side_hellos() {
    let (addr, seen) = counting_silent_server();
    let (code, stdout, stderr) = tlsposture(&[
        "scan",
        &addr.to_string(),
        "--timeout",
        "300ms",
        "--json",
        "-",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert_no_panic(&stderr);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    let target = &report["targets"][0];
    assert_eq!(report["summary"]["exit_code"], 2);
    let error = target["error"].as_str().expect("an error");
    assert!(error.contains("no answer before the deadline"), "{error}");
    let handshakes = target["stats"]["handshakes"].as_u64().expect("stats");
    // The scanner has exited; give the accept thread a moment to take the
    // last connections off the backlog before comparing counts.
    for _ in 0..100 {
        if seen.lock().unwrap().total as u64 >= handshakes {
            break;
        }
        thread::sleep(Duration::from_millis(50));
    }
    let seen = seen.lock().unwrap();
    assert_eq!(
        handshakes, seen.total as u64,
        "the scanner's count against the connections the server accepted"
    );
    assert!(seen.total >= 2, "{} connections", seen.total);
    assert!(
        seen.most_open >= 2,
        "the hellos came one after another ({} open at most of {})",
        seen.most_open,
        seen.total
    );
}

#[test]
fn usage_errors_exit_64() {
    for args in [
        vec!["scan", "bad host name"],
        vec!["scan", "127.0.0.1:99999"],
        vec!["scan", "127.0.0.1", "--fail-on", "severe"],
        vec!["scan", "127.0.0.1", "--timeout", "-3s"],
        vec!["scan"],
        vec!["frobnicate"],
    ] {
        let (code, _, stderr) = tlsposture(&args);
        assert_eq!(code, 64, "{args:?}: {stderr}");
        assert_no_panic(&stderr);
    }
}

#[test]
fn help_exits_0() {
    let (code, stdout, _) = tlsposture(&["--help"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("Exit codes"));
}
