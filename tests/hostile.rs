//! Issue 15 item 2: the hostile-server suite. Each behaviour is a scripted
//! server on loopback (a raw socket, or a real rustls session followed by a
//! hostile HTTP answer) scanned by the real binary with a tight `--checks`
//! selection and `--timeout 1s`. Every run must:
//! - not panic (exit 101, "panicked" on stderr) nor be killed;
//! - exit with the code the result deserves: 2 when nothing could be
//!   scanned, never 0 when a declared check could not be completed;
//! - end within the deadline its probes were given plus a margin for a
//!   2-core machine running several scans at once;
//! - peak at ≤ 64 MiB RSS (the kernel's `ru_maxrss` for the child, an
//!   upper bound: see `support::measure`);
//! - say in its JSON report what was cut short (a budget, a deadline, an
//!   unverified finding), never a cut dressed as an answer.
//!
//! All behaviours run concurrently (the scans mostly wait on deadlines), and
//! a table line per behaviour — name, exit code, wall ms, peak RSS MiB — goes
//! to stderr: `cargo test --test hostile -- --nocapture` shows the measured
//! worst case.

mod support;

use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::Value;

use support::measure::{run_measured, Run};
use support::peers::{
    accept_https, drain, drip, extension, first_record_len, flight_messages, flight_records, flood,
    handshake, handshake_records, parse_offer, read_client_hello, record, request_path,
    rustls_first_flight, serve, server_hello_body, HRR_RANDOM, RANDOM,
};

/// The per-probe timeout every scan is given.
const TIMEOUT: &str = "1s";
const TIMEOUT_MS: u64 = 1000;
/// Peak RSS allowed for one scan.
const RSS_LIMIT_KIB: i64 = 64 * 1024;
/// Scheduling slack: process start-up, and up to this many scans sharing
/// two cores.
const MARGIN: Duration = Duration::from_millis(2500);
const CONCURRENT_SCANS: usize = 6;
/// A run still going after this is killed: it was not bounded.
const KILL_AFTER: Duration = Duration::from_secs(40);
/// A drip slower than nothing but faster than the per-read timeout: only
/// a deadline on the whole exchange cuts it.
const DRIP_EVERY: Duration = Duration::from_millis(300);

type Check = Box<dyn Fn(&Value) -> Result<(), String> + Send + Sync>;

/// One hostile behaviour: where its server listens, the scan arguments
/// after the address, the deadline those arguments give the scan, the
/// exit code it deserves and what its report must say.
struct Case {
    name: &'static str,
    target: String,
    args: Vec<String>,
    /// Sequential rounds of the per-probe timeout the selection can spend
    /// (e.g. the protocol probes, then the full handshakes).
    rounds: u32,
    /// The exit codes the result deserves (one, unless the outcome is
    /// open, e.g. 1 or 2 for a check that could not be completed).
    exit: &'static [i32],
    check: Check,
}

impl Case {
    fn deadline(&self) -> Duration {
        Duration::from_millis(TIMEOUT_MS * u64::from(self.rounds)) + MARGIN
    }
}

struct Outcome {
    name: &'static str,
    run: Run,
    failures: Vec<String>,
}

/// The scan says some probes could not be completed (`scan.incomplete`):
/// an answer cut by a budget is a hole in the results, not a result.
fn incomplete(t: &Value) -> Result<(), String> {
    let ids = t["findings"].to_string();
    ensure(ids.contains("\"scan.incomplete\""), || {
        format!("no scan.incomplete finding: {ids}")
    })
}

fn case(
    name: &'static str,
    addr: SocketAddr,
    args: &[&str],
    rounds: u32,
    exit: &'static [i32],
    check: impl Fn(&Value) -> Result<(), String> + Send + Sync + 'static,
) -> Case {
    Case {
        name,
        target: addr.to_string(),
        args: args.iter().map(|s| (*s).to_owned()).collect(),
        rounds,
        exit,
        check: Box::new(check),
    }
}

fn run_case(c: &Case, dir: &Path) -> Outcome {
    let mut args = vec![
        "scan",
        c.target.as_str(),
        "--timeout",
        TIMEOUT,
        "--no-color",
    ];
    args.extend(c.args.iter().map(String::as_str));
    let run = run_measured(&args, &dir.join(format!("{}.json", c.name)), KILL_AFTER);
    let mut failures = Vec::new();
    if run.killed {
        failures.push(format!("killed after {KILL_AFTER:?}: not bounded"));
    }
    match run.code {
        Some(101) => failures.push("exit 101 (panic)".to_owned()),
        Some(code) if !c.exit.contains(&code) => {
            failures.push(format!("exit {code}, expected one of {:?}", c.exit));
        }
        Some(_) => {}
        None => failures.push("ended by a signal".to_owned()),
    }
    if run.stderr.contains("panicked") {
        failures.push("\"panicked\" on stderr".to_owned());
    }
    if run.wall > c.deadline() {
        failures.push(format!(
            "took {} ms, deadline {} ms ({} rounds of {TIMEOUT} + margin)",
            run.wall.as_millis(),
            c.deadline().as_millis(),
            c.rounds
        ));
    }
    if run.max_rss_kib > RSS_LIMIT_KIB {
        failures.push(format!("peak RSS {:.1} MiB > 64 MiB", run.max_rss_mib()));
    }
    let target = &run.json["targets"][0];
    if target.is_null() {
        failures.push("no JSON report with a target".to_owned());
    } else if let Err(e) = (c.check)(target) {
        failures.push(e);
    }
    if !failures.is_empty() {
        failures.push(format!(
            "stderr:\n{}\nreport target:\n{target:#}",
            run.stderr
        ));
    }
    Outcome {
        name: c.name,
        run,
        failures,
    }
}

// ---------------------------------------------------------------------
// Report predicates. Each returns what it did not find.

fn ensure(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

fn protocols(t: &Value) -> &[Value] {
    t["protocols"].as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// No protocol version is credited: the server never answered a hello as
/// a TLS server would.
fn none_offered(t: &Value) -> Result<(), String> {
    let offered: Vec<&Value> = protocols(t)
        .iter()
        .filter(|p| p["offered"] == true)
        .map(|p| &p["version"])
        .collect();
    ensure(offered.is_empty(), || format!("credited with {offered:?}"))
}

fn offered(t: &Value, version: &str) -> Result<(), String> {
    ensure(
        protocols(t)
            .iter()
            .any(|p| p["version"] == version && p["offered"] == true),
        || format!("{version} not reported offered"),
    )
}

/// The report says why nothing could be scanned, in words containing one
/// of `words`.
fn error_says(t: &Value, words: &[&str]) -> Result<(), String> {
    let error = t["error"].as_str().unwrap_or_default();
    ensure(
        !error.is_empty() && words.iter().any(|w| error.contains(w)),
        || format!("target error {error:?} names none of {words:?}"),
    )
}

fn finding<'a>(t: &'a Value, id: &str) -> Option<&'a Value> {
    t["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["id"] == id))
}

fn has_finding(t: &Value, id: &str) -> Result<(), String> {
    ensure(finding(t, id).is_some(), || format!("no {id} finding"))
}

/// Every simulated client failed, and its reason names one of `words`.
fn clients_cut(t: &Value, words: &[&str]) -> Result<(), String> {
    let sims = t["client_simulations"].as_array().map(Vec::as_slice);
    let sims = sims.unwrap_or(&[]);
    ensure(!sims.is_empty(), || "no client simulations".to_owned())?;
    for sim in sims {
        let reason = sim["reason"].as_str().unwrap_or_default();
        ensure(
            sim["connected"] == false && words.iter().any(|w| reason.contains(w)),
            || format!("client {sim} is not cut with any of {words:?}"),
        )?;
    }
    Ok(())
}

/// The authorization probes: at least one, and each with its verdict.
fn authz_verdicts(t: &Value) -> Vec<(String, String)> {
    t["authorization"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    (
                        p["path"].as_str().unwrap_or_default().to_owned(),
                        p["verdict"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every authorization probe ended `error` (no conclusive answer) and the
/// declaration is reported unverified.
fn authz_unverified(t: &Value) -> Result<(), String> {
    let verdicts = authz_verdicts(t);
    ensure(!verdicts.is_empty(), || {
        "no authorization probes".to_owned()
    })?;
    ensure(verdicts.iter().all(|(_, v)| v == "error"), || {
        format!("verdicts {verdicts:?}, expected all error")
    })?;
    has_finding(t, "authz.unverified")
}

/// Every redirect request got no answer and the declaration is reported
/// unverified.
fn redirect_unverified(t: &Value) -> Result<(), String> {
    let probes = t["redirects"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    ensure(!probes.is_empty(), || "no redirect probes".to_owned())?;
    for p in probes {
        ensure(p["verdict"] == "error" && p["status"].is_null(), || {
            format!("redirect probe {p} is not an unanswered error")
        })?;
    }
    has_finding(t, "policy.https_redirect_unverified")
}

// ---------------------------------------------------------------------
// Raw TLS peers.

/// Reads the hello, then runs `answer` on the connection; afterwards waits
/// for the scanner to hang up.
fn raw(answer: impl Fn(&mut TcpStream, &[u8]) + Send + Sync + 'static) -> SocketAddr {
    serve("127.0.0.1:0", move |mut stream, _| {
        let Some(hello) = read_client_hello(&mut stream) else {
            return;
        };
        answer(&mut stream, &hello);
        drain(&mut stream);
    })
}

/// Answers every hello with fixed bytes.
fn raw_bytes(bytes: Vec<u8>) -> SocketAddr {
    raw(move |s, _| {
        let _ = s.write_all(&bytes);
    })
}

fn tls12_records() -> Vec<Vec<u8>> {
    flight_records("openssl_tls12_ecdhe_rsa")
}

/// The captured TLS 1.2 ServerHello record (real OpenSSL bytes).
fn tls12_server_hello() -> Vec<u8> {
    tls12_records().remove(0)
}

/// The captured TLS 1.2 Certificate message (one real certificate).
fn tls12_certificate_message() -> Vec<u8> {
    let messages = flight_messages("openssl_tls12_ecdhe_rsa");
    messages
        .into_iter()
        .find(|m| m[0] == 11)
        .expect("a Certificate message in the flight")
}

/// The DER of the captured certificate.
fn tls12_certificate_der() -> Vec<u8> {
    let m = tls12_certificate_message();
    // type(1) len(3) list_len(3) cert_len(3) cert
    m[10..].to_vec()
}

fn cert_entry(der: &[u8]) -> Vec<u8> {
    let len = u32::try_from(der.len()).unwrap().to_be_bytes();
    [&len[1..], der].concat()
}

fn certificate_message(entries: &[u8], stated: Option<u32>) -> Vec<u8> {
    let len = stated
        .unwrap_or(u32::try_from(entries.len()).unwrap())
        .to_be_bytes();
    handshake(11, &[&len[1..], entries].concat())
}

/// A HelloRetryRequest asking for `group`.
fn hello_retry_request(hello: &[u8], group: u16) -> Vec<u8> {
    let sid = parse_offer(hello).map(|o| o.session_id).unwrap_or_default();
    let exts = [extension(43, &[3, 4]), extension(51, &group.to_be_bytes())].concat();
    record(
        0x16,
        0x0303,
        &handshake(2, &server_hello_body(HRR_RANDOM, &sid, 0x1301, &exts, None)),
    )
}

/// A TLS 1.2 ServerHello answering `hello` with its first suite and
/// `extensions`, stated length `ext_len` (a lie when given).
fn tls12_server_hello_with(hello: &[u8], extensions: &[u8], ext_len: Option<u16>) -> Vec<u8> {
    let offer = parse_offer(hello).unwrap_or_default();
    let suite = offer.suites.first().copied().unwrap_or(0xc02f);
    handshake_records(&handshake(
        2,
        &server_hello_body(RANDOM, &offer.session_id, suite, extensions, ext_len),
    ))
}

/// A TLS 1.2 ServerHello with no extensions and an ECDHE suite the client
/// offered, which rustls accepts and follows to the Certificate.
fn tls12_ecdhe_server_hello(hello: &[u8]) -> Vec<u8> {
    let offer = parse_offer(hello).unwrap_or_default();
    let suite = first_in(
        &[0xc02f, 0xc030, 0xc02b, 0xc02c, 0xcca8, 0xcca9],
        &offer.suites,
    )
    .unwrap_or(0xc02f);
    handshake_records(&handshake(
        2,
        &server_hello_body(RANDOM, &offer.session_id, suite, &[], None),
    ))
}

fn first_in(candidates: &[u16], offered: &[u16]) -> Option<u16> {
    candidates.iter().copied().find(|c| offered.contains(c))
}

// ---------------------------------------------------------------------
// HTTPS peers: a real rustls handshake, then a hostile HTTP answer.

const AUTHZ_POLICY: &str = "\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: gw
  namespace: default
spec:
  selector:
    istio: ingressgateway
  servers:
  - hosts:
    - test.com
    port:
      number: 443
      name: https
      protocol: HTTPS
    tls:
      mode: SIMPLE
      credentialName: test.com
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: deny-admin
  namespace: istio-system
spec:
  selector:
    matchLabels:
      istio: ingressgateway
  action: DENY
  rules:
  - to:
    - operation:
        paths: [\"/admin/*\"]
";

const REDIRECT_POLICY: &str = "\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: redirect
  namespace: default
spec:
  selector:
    istio: ingressgateway
  servers:
  - hosts:
    - test.com
    port:
      number: 80
      name: http
      protocol: HTTP
    tls:
      httpsRedirect: true
";

/// Serves HTTPS with a real rustls session; `answer` writes the HTTP
/// answer to the request head it is given (a raw probe that never
/// completes a handshake gets nothing more).
fn https(answer: impl Fn(&mut support::peers::Tls, &str) + Send + Sync + 'static) -> SocketAddr {
    serve("127.0.0.1:0", move |tcp, _| {
        let Some((mut tls, head)) = accept_https(tcp) else {
            return;
        };
        answer(&mut tls, &head);
        let _ = tls.flush();
        tls.conn.send_close_notify();
        let _ = tls.flush();
        drain(&mut tls.sock);
    })
}

/// Plain HTTP: reads a request head, then `answer`.
fn plain(answer: impl Fn(&mut TcpStream) + Send + Sync + 'static) -> SocketAddr {
    serve("127.0.0.1:0", move |mut tcp, _| {
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match std::io::Read::read(&mut tcp, &mut buf) {
                Ok(n) if n > 0 && head.len() < 64 * 1024 => head.extend_from_slice(&buf[..n]),
                _ => return,
            }
        }
        answer(&mut tcp);
        drain(&mut tcp);
    })
}

/// The well-behaved answer: 403 `RBAC: access denied` for the denied
/// paths, 200 for the rest.
fn rbac_answer(head: &str) -> &'static [u8] {
    if request_path(head).starts_with("/admin/") {
        b"HTTP/1.1 403 Forbidden\r\ncontent-length: 19\r\nconnection: close\r\n\r\nRBAC: access denied"
    } else {
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
    }
}

fn http_headers(n: usize) -> Vec<u8> {
    let mut out = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..n {
        out.extend_from_slice(format!("x-h{i}: v\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

const GARBAGE: &[u8] = b"\x00\xff\x13\x37 not a protocol \xde\xad\xbe\xef\r\n\r\n";

// ---------------------------------------------------------------------

#[allow(clippy::too_many_lines)]
/// Every certificate request ended without a chain and says why, or got
/// its chain from the raw TLS 1.2 read after the full handshake failed on
/// our side (`read_via`): never a chain-less result passed off as clean.
fn no_certificate(t: &Value) -> Result<(), String> {
    let certs = t["certificates"].as_array().map(Vec::as_slice);
    let certs = certs.unwrap_or(&[]);
    ensure(!certs.is_empty(), || "no certificate results".to_owned())?;
    for c in certs {
        let explained = c["chain"].as_array().is_none_or(Vec::is_empty)
            && (!c["refused"].is_null() || !c["unknown"].is_null());
        let read_raw = c["read_via"].is_string();
        ensure(explained || read_raw, || {
            format!("certificate result {c} is not an explained failure")
        })?;
    }
    Ok(())
}

/// A TLS 1.3 ServerHello record answering `hello` with `suite` and a key
/// share for `group` (32 bytes of share).
fn tls13_server_hello(hello: &[u8], suite: u16, group: u16) -> Vec<u8> {
    let sid = parse_offer(hello).map(|o| o.session_id).unwrap_or_default();
    let share = [&group.to_be_bytes()[..], &[0, 32], &[0x42; 32]].concat();
    let exts = [extension(43, &[3, 4]), extension(51, &share)].concat();
    record(
        0x16,
        0x0303,
        &handshake(2, &server_hello_body(RANDOM, &sid, suite, &exts, None)),
    )
}

fn first_not_in(candidates: &[u16], offered: &[u16], fallback: u16) -> u16 {
    candidates
        .iter()
        .copied()
        .find(|c| !offered.contains(c))
        .unwrap_or(fallback)
}

fn cases(dir: &Path) -> Vec<Case> {
    let authz_policy = dir.join("authz.yaml");
    std::fs::write(&authz_policy, AUTHZ_POLICY).unwrap();
    let redirect_policy = dir.join("redirect.yaml");
    std::fs::write(&redirect_policy, REDIRECT_POLICY).unwrap();
    let authz_policy = authz_policy.to_str().unwrap().to_owned();
    let redirect_policy = redirect_policy.to_str().unwrap().to_owned();
    let authz_args = |extra: &'static [&'static str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "--policy",
            &authz_policy,
            "--declared-port",
            "443",
            "--checks",
            "alpn",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        v.extend(extra.iter().map(|s| (*s).to_owned()));
        v
    };
    let redirect_args = || -> Vec<String> {
        ["--policy", &redirect_policy, "--declared-port", "80"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    };
    let protocols = &["--checks", "protocols"][..];
    // One simulated client reads the whole flight (StopAt::FlightEnd).
    let one_client = &["--checks", "clients", "--clients", "Chrome 120"][..];

    let mut v = Vec::new();
    let certificates = &["--checks", "certificates"][..];

    v.push(case(
        "TLS 1.3 ServerHello with a group never offered",
        raw(|s, hello| {
            let offer = parse_offer(hello).unwrap_or_default();
            let group = first_not_in(
                &[0x001d, 0x0017, 0x0018, 0x0019, 0x001e],
                &offer.groups,
                0x4242,
            );
            let _ = s.write_all(&tls13_server_hello(hello, 0x1301, group));
        }),
        protocols,
        1,
        &[2],
        none_offered,
    ));

    v.push(case(
        "TLS 1.3 ServerHello with a suite never offered",
        raw(|s, hello| {
            let offer = parse_offer(hello).unwrap_or_default();
            let suite = first_not_in(
                &[0x1301, 0x1302, 0x1303, 0x1304, 0x1305],
                &offer.suites,
                0x13ff,
            );
            let group = offer.groups.first().copied().unwrap_or(0x001d);
            let _ = s.write_all(&tls13_server_hello(hello, suite, group));
        }),
        protocols,
        1,
        &[2],
        none_offered,
    ));

    // RFC 8446 §4.2.8 allows an empty key_share, and the protocol scan
    // sends one; a stack that refuses it with an alert must still be seen
    // offering TLS 1.3 (through the compact hello, which has shares).
    v.push(case(
        "TLS 1.3 only with a key share sent, alert to an empty key_share",
        raw(|s, hello| {
            let offer = parse_offer(hello).unwrap_or_default();
            let tls13 = offer.suites.contains(&0x1301);
            match offer.key_shares.iter().find(|g| **g == 0x001d) {
                Some(group) if tls13 => {
                    let _ = s.write_all(&tls13_server_hello(hello, 0x1301, *group));
                }
                // missing_extension (109), fatal.
                _ => {
                    let _ = s.write_all(&record(0x15, 0x0303, &[2, 109]));
                }
            }
        }),
        protocols,
        2,
        &[0, 1],
        |t| {
            offered(t, "TLS1.3")?;
            let tls13 = t["protocols"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["version"] == "TLS1.3")
                .cloned()
                .unwrap_or_default();
            ensure(tls13["fallback"].is_string(), || {
                format!("no fallback recorded: {tls13}")
            })
        },
    ));

    v.push(case(
        "close right after the ServerHello",
        raw(|s, _| {
            let _ = s.write_all(&tls12_server_hello());
            let _ = s.shutdown(Shutdown::Both);
        }),
        one_client,
        2,
        &[0],
        |t| {
            offered(t, "TLS1.2")?;
            clients_cut(t, &["clos", "reset", "ended"])
        },
    ));

    v.push(case(
        "Certificate message claiming 16 MB",
        raw(|s, _| {
            let claim = [11u8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfc];
            let _ = s.write_all(&[tls12_server_hello(), record(0x16, 0x0303, &claim)].concat());
            flood(s, &[], &record(0x16, 0x0303, &[0x30; 16384]));
        }),
        one_client,
        2,
        &[0],
        |t| {
            offered(t, "TLS1.2")?;
            clients_cut(
                t,
                &[
                    "cut off",
                    "budget",
                    "too large",
                    "KiB",
                    "malformed",
                    "Malformed",
                ],
            )
        },
    ));

    v.push(case(
        "chain of 500 certificates",
        raw(|s, _| {
            let entries = cert_entry(&tls12_certificate_der()).repeat(500);
            let chain = certificate_message(&entries, None);
            let _ = s.write_all(&[tls12_server_hello(), handshake_records(&chain)].concat());
        }),
        one_client,
        2,
        &[0],
        |t| {
            offered(t, "TLS1.2")?;
            clients_cut(
                t,
                &[
                    "cut off",
                    "budget",
                    "too large",
                    "KiB",
                    "malformed",
                    "Malformed",
                ],
            )
        },
    ));

    v.push(case(
        "certificates: stall after the ServerHello",
        serve("127.0.0.1:0", |mut tcp, _| {
            if let Some(flight) = rustls_first_flight(&mut tcp) {
                let _ = tcp.write_all(&flight[..first_record_len(&flight)]);
            }
            drain(&mut tcp);
        }),
        certificates,
        3,
        &[1, 2],
        |t| {
            offered(t, "TLS1.3")?;
            no_certificate(t)
        },
    ));

    v.push(case(
        "certificates: close after the ServerHello",
        serve("127.0.0.1:0", |mut tcp, _| {
            if let Some(flight) = rustls_first_flight(&mut tcp) {
                let _ = tcp.write_all(&flight[..first_record_len(&flight)]);
            }
        }),
        certificates,
        3,
        &[1, 2],
        |t| {
            offered(t, "TLS1.3")?;
            no_certificate(t)
        },
    ));

    v.push(case(
        "certificates: drip of the flight past the timeout",
        serve("127.0.0.1:0", |mut tcp, _| {
            if let Some(flight) = rustls_first_flight(&mut tcp) {
                let sh = first_record_len(&flight);
                if tcp.write_all(&flight[..sh]).is_ok() {
                    let _ = drip(&mut tcp, &flight[sh..], DRIP_EVERY);
                }
            }
            drain(&mut tcp);
        }),
        certificates,
        3,
        &[1, 2],
        |t| {
            offered(t, "TLS1.3")?;
            no_certificate(t)
        },
    ));

    v.push(case(
        "ALPN: stall after the ServerHello",
        serve("127.0.0.1:0", |mut tcp, _| {
            if let Some(flight) = rustls_first_flight(&mut tcp) {
                let _ = tcp.write_all(&flight[..first_record_len(&flight)]);
            }
            drain(&mut tcp);
        }),
        &["--checks", "alpn"],
        2,
        &[1, 2],
        // http/1.1 could not be established: reported unknown, and the
        // run must not pass.
        |t| {
            ensure(t["alpn"]["http11"].is_null(), || {
                format!("alpn {}", t["alpn"])
            })
        },
    ));
    v.push(case(
        "mTLS: stall after the ServerHello",
        serve("127.0.0.1:0", |mut tcp, _| {
            if let Some(flight) = rustls_first_flight(&mut tcp) {
                let _ = tcp.write_all(&flight[..first_record_len(&flight)]);
            }
            drain(&mut tcp);
        }),
        &["--checks", "mtls"],
        3,
        &[1, 2],
        |t| {
            ensure(t["mtls"]["client_cert_required"].is_null(), || {
                format!("mtls {}", t["mtls"])
            })
        },
    ));
    v.push(case(
        "certificates: HRR then HRR",
        raw(|s, hello| {
            let offer = parse_offer(hello).unwrap_or_default();
            let group = first_in(&[0x0018, 0x0017, 0x0019], &offer.groups)
                .or(offer.groups.first().copied())
                .unwrap_or(0x0018);
            let _ = s.write_all(&hello_retry_request(hello, group));
            while let Some(again) = read_client_hello(s) {
                if again.first() == Some(&0x14) {
                    continue;
                }
                if s.write_all(&hello_retry_request(&again, group)).is_err() {
                    return;
                }
            }
        }),
        certificates,
        3,
        &[1, 2],
        no_certificate,
    ));

    // --- Before any answer ----------------------------------------------
    v.push(case(
        "stall after accept",
        serve("127.0.0.1:0", |mut s, _| drain(&mut s)),
        protocols,
        1,
        &[2],
        |t| {
            none_offered(t)?;
            error_says(t, &["deadline"])
        },
    ));
    v.push(case(
        "accept, never read",
        serve("127.0.0.1:0", |s, _| {
            thread::sleep(Duration::from_secs(60));
            drop(s);
        }),
        protocols,
        1,
        &[2],
        |t| {
            none_offered(t)?;
            error_says(t, &["deadline"])
        },
    ));
    v.push(case(
        "close after accept",
        serve("127.0.0.1:0", |s, _| drop(s)),
        protocols,
        1,
        &[2],
        |t| {
            none_offered(t)?;
            error_says(t, &["clos", "reset"])
        },
    ));
    v.push(case(
        "close mid record header",
        raw(|s, _| {
            let _ = s.write_all(&[0x16, 0x03]);
            let _ = s.shutdown(Shutdown::Write);
        }),
        protocols,
        1,
        &[2],
        none_offered,
    ));
    v.push(case(
        "close after half a record",
        raw(|s, _| {
            let sh = tls12_server_hello();
            let _ = s.write_all(&sh[..sh.len() / 2]);
            let _ = s.shutdown(Shutdown::Write);
        }),
        protocols,
        1,
        &[2],
        none_offered,
    ));
    v.push(case(
        "drip 1 byte per 300 ms past the timeout",
        raw(|s, _| {
            let _ = drip(s, &tls12_server_hello(), DRIP_EVERY);
        }),
        protocols,
        1,
        &[2],
        |t| {
            none_offered(t)?;
            error_says(t, &["deadline"])
        },
    ));
    v.push(case(
        "garbage",
        raw_bytes(GARBAGE.repeat(10)),
        protocols,
        1,
        &[2],
        none_offered,
    ));
    v.push(case(
        "plain HTTP answer to a hello",
        raw_bytes(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n".to_vec()),
        protocols,
        1,
        &[2],
        none_offered,
    ));
    v.push(case(
        "record of an unknown type",
        raw_bytes({
            let mut r = tls12_server_hello();
            r[0] = 0x42;
            r
        }),
        protocols,
        1,
        &[2],
        none_offered,
    ));
    v.push(case(
        "record version 0x0000",
        raw_bytes({
            let mut r = tls12_server_hello();
            r[1] = 0;
            r[2] = 0;
            r
        }),
        protocols,
        1,
        &[2],
        none_offered,
    ));
    v.push(case(
        "alert of unknown level",
        raw_bytes(record(21, 0x0303, &[9, 40])),
        protocols,
        1,
        &[2],
        none_offered,
    ));
    v.push(case(
        "fatal alert of unknown description",
        raw_bytes(record(21, 0x0303, &[2, 0xee])),
        protocols,
        1,
        &[2],
        none_offered,
    ));
    v.push(case(
        "warning alert flood before the ServerHello",
        raw(|s, _| flood(s, &[], &record(21, 0x0303, &[1, 112]).repeat(500))),
        protocols,
        1,
        &[2],
        |t| {
            none_offered(t)?;
            error_says(t, &["cut off", "budget", "messages"])
        },
    ));

    // --- The ServerHello itself -----------------------------------------
    v.push(case(
        "1 MB ServerHello extension",
        raw(|s, hello| {
            // The extension states 0xffff bytes, the message 1 MiB: the
            // extension block cannot hold it, so it is sent as it claims.
            let mut exts = extension(0x7777, &vec![0x61; 0xffff]);
            exts.resize(1 << 20, 0x61);
            let _ = s.write_all(&tls12_server_hello_with(hello, &exts, Some(0xffff)));
        }),
        protocols,
        1,
        &[2],
        none_offered,
    ));
    v.push(case(
        "extension length past the end of its block",
        raw(|s, hello| {
            let exts = [&0xff01u16.to_be_bytes()[..], &[0x40, 0x00], &[0]].concat();
            let _ = s.write_all(&tls12_server_hello_with(hello, &exts, None));
        }),
        protocols,
        1,
        &[2],
        none_offered,
    ));

    v.push(case(
        "5000 unknown ServerHello extensions",
        raw(|s, hello| {
            let exts: Vec<u8> = (0..5000u16)
                .flat_map(|i| extension(0x7000 + i, &[]))
                .collect();
            let _ = s.write_all(&tls12_server_hello_with(hello, &exts, None));
        }),
        protocols,
        1,
        &[0],
        |t| {
            // Extensions are observations, not decode failures: the version
            // and suite the server picked stand, and nothing more.
            offered(t, "TLS1.2")?;
            ensure(offered(t, "TLS1.3").is_err(), || {
                "TLS1.3 credited".to_owned()
            })
        },
    ));
    v.push(case(
        "duplicate supported_versions (TLS 1.3, then 1.2)",
        raw(|s, hello| {
            let offer = parse_offer(hello).unwrap_or_default();
            let group = offer.groups.first().copied().unwrap_or(0x001d);
            let share = [&group.to_be_bytes()[..], &[0, 32], &[0x42; 32]].concat();
            let exts = [
                extension(43, &[3, 4]),
                extension(51, &share),
                extension(43, &[3, 3]),
            ]
            .concat();
            let body = server_hello_body(RANDOM, &offer.session_id, 0x1301, &exts, None);
            let _ = s.write_all(&record(0x16, 0x0303, &handshake(2, &body)));
        }),
        protocols,
        1,
        &[2],
        none_offered,
    ));

    // --- After the ServerHello (a flight read to its end) ----------------
    v.push(case(
        "endless Certificate messages",
        raw(|s, _| {
            let chain = certificate_message(&cert_entry(&tls12_certificate_der()), None);
            flood(s, &tls12_server_hello(), &handshake_records(&chain));
        }),
        one_client,
        2,
        &[1],
        |t| {
            offered(t, "TLS1.2")?;
            incomplete(t)?;
            clients_cut(t, &["cut off"])
        },
    ));
    v.push(case(
        "ChangeCipherSpec flood after the ServerHello",
        raw(|s, _| {
            flood(
                s,
                &tls12_server_hello(),
                &record(20, 0x0303, &[1]).repeat(1000),
            )
        }),
        one_client,
        2,
        &[1],
        |t| {
            offered(t, "TLS1.2")?;
            incomplete(t)?;
            clients_cut(
                t,
                &[
                    "cut off",
                    "unexpected",
                    "ChangeCipherSpec",
                    "change_cipher_spec",
                ],
            )
        },
    ));
    v.push(case(
        "heartbeat flood after the ServerHello",
        raw(|s, _| {
            flood(
                s,
                &tls12_server_hello(),
                &record(24, 0x0303, &[1, 0, 1, 0]).repeat(1000),
            )
        }),
        one_client,
        2,
        &[1],
        |t| {
            offered(t, "TLS1.2")?;
            incomplete(t)?;
            clients_cut(t, &["cut off", "unexpected", "heartbeat", "record"])
        },
    ));
    v.push(case(
        "1-byte records after the ServerHello, without end",
        raw(|s, _| {
            let cert = tls12_certificate_message();
            let bytes: Vec<u8> = cert
                .iter()
                .flat_map(|b| record(0x16, 0x0303, &[*b]))
                .collect();
            flood(s, &tls12_server_hello(), &bytes);
        }),
        one_client,
        2,
        &[1],
        |t| {
            offered(t, "TLS1.2")?;
            incomplete(t)?;
            clients_cut(t, &["cut off"])
        },
    ));
    v.push(case(
        "drip of the flight after the ServerHello",
        raw(|s, _| {
            let rest: Vec<u8> = tls12_records()[1..].concat();
            if s.write_all(&tls12_server_hello()).is_ok() {
                let _ = drip(s, &rest, DRIP_EVERY);
            }
        }),
        one_client,
        2,
        &[1],
        |t| {
            offered(t, "TLS1.2")?;
            incomplete(t)?;
            clients_cut(t, &["deadline"])
        },
    ));

    v.push(case(
        "full handshake: ALPN probe against a stall after accept",
        serve("127.0.0.1:0", |mut s, _| drain(&mut s)),
        &["--checks", "alpn"],
        2,
        &[2],
        none_offered,
    ));

    // --- HTTP answers over a real TLS session (authorization probes) -----
    v.push(Case {
        args: authz_args(&[]),
        ..case(
            "authz control: a gateway that enforces the policy",
            https(|tls, head| {
                let _ = tls.write_all(rbac_answer(head));
            }),
            &[],
            3,
            &[0],
            |t| {
                let verdicts = authz_verdicts(t);
                ensure(
                    verdicts.len() >= 2 && verdicts.iter().all(|(_, v)| v == "pass"),
                    || format!("verdicts {verdicts:?}"),
                )
            },
        )
    });
    v.push(Case {
        args: authz_args(&[]),
        ..case(
            "HTTP: no answer at all",
            https(|tls, _| drain(&mut tls.sock)),
            &[],
            4,
            &[1],
            authz_unverified,
        )
    });
    v.push(Case {
        args: authz_args(&[]),
        ..case(
            "HTTP: garbage",
            https(|tls, _| {
                let _ = tls.write_all(GARBAGE);
            }),
            &[],
            4,
            &[1],
            authz_unverified,
        )
    });
    v.push(Case {
        args: authz_args(&[]),
        ..case(
            "HTTP: 100,000 headers",
            https(|tls, _| {
                let _ = tls.write_all(&http_headers(100_000));
            }),
            &[],
            4,
            &[1],
            authz_unverified,
        )
    });
    v.push(Case {
        args: authz_args(&[]),
        ..case(
            "HTTP: a 1 MB header line",
            https(|tls, _| {
                let line = [b"HTTP/1.1 200 OK\r\nx-big: ".as_slice(), &[b'a'; 1 << 20]].concat();
                let _ = tls.write_all(&line);
            }),
            &[],
            4,
            &[1],
            authz_unverified,
        )
    });
    v.push(Case {
        args: authz_args(&[]),
        ..case(
            "HTTP: headers dripped past the timeout",
            https(|tls, head| {
                let _ = drip(tls, rbac_answer(head), DRIP_EVERY);
            }),
            &[],
            4,
            &[1],
            authz_unverified,
        )
    });
    v.push(Case {
        args: authz_args(&[]),
        ..case(
            "HTTP: infinite chunked body",
            https(|tls, head| {
                let status = if request_path(head).starts_with("/admin/") {
                    "403 Forbidden"
                } else {
                    "200 OK"
                };
                let start = format!("HTTP/1.1 {status}\r\ntransfer-encoding: chunked\r\n\r\n");
                flood(
                    tls,
                    start.as_bytes(),
                    &b"10\r\nRBAC: access den\r\n".repeat(64),
                );
            }),
            &[],
            4,
            &[0],
            |t| {
                // The status and the first bytes arrived: an answer, judged.
                let verdicts = authz_verdicts(t);
                ensure(
                    verdicts.len() >= 2 && verdicts.iter().all(|(_, v)| v == "pass"),
                    || format!("verdicts {verdicts:?}"),
                )
            },
        )
    });
    v.push(Case {
        args: authz_args(&[]),
        ..case(
            "HTTP: 10 GB Content-Length, then silence",
            https(|tls, head| {
                let status = if request_path(head).starts_with("/admin/") {
                    "403 Forbidden"
                } else {
                    "200 OK"
                };
                let start = format!("HTTP/1.1 {status}\r\ncontent-length: 10000000000\r\n\r\nRBAC");
                let _ = tls.write_all(start.as_bytes());
                let _ = tls.flush();
                drain(&mut tls.sock);
            }),
            &[],
            4,
            // The body never ends within the deadline: the exchange is
            // cut, and a cut exchange is not judged.
            &[1],
            authz_unverified,
        )
    });
    v.push(Case {
        args: authz_args(&[]),
        ..case(
            "HTTP: 10 GB Content-Length, body without end",
            https(|tls, head| {
                let status = if request_path(head).starts_with("/admin/") {
                    "403 Forbidden"
                } else {
                    "200 OK"
                };
                let start = format!("HTTP/1.1 {status}\r\ncontent-length: 10000000000\r\n\r\n");
                flood(tls, start.as_bytes(), &[b'x'; 16384]);
            }),
            &[],
            4,
            &[0],
            |t| {
                let verdicts = authz_verdicts(t);
                ensure(
                    verdicts.len() >= 2 && verdicts.iter().all(|(_, v)| v == "pass"),
                    || format!("verdicts {verdicts:?}"),
                )
            },
        )
    });

    // --- Full (rustls) handshakes of the authorization probes ------------
    v.push(Case {
        args: authz_args(&[]),
        ..case(
            "full handshake: stall after the ServerHello",
            serve("127.0.0.1:0", |mut tcp, _| {
                if let Some(flight) = rustls_first_flight(&mut tcp) {
                    let _ = tcp.write_all(&flight[..first_record_len(&flight)]);
                }
                drain(&mut tcp);
            }),
            &[],
            4,
            &[1],
            authz_unverified,
        )
    });
    v.push(Case {
        args: authz_args(&[]),
        ..case(
            "full handshake: close after the ServerHello",
            serve("127.0.0.1:0", |mut tcp, _| {
                if let Some(flight) = rustls_first_flight(&mut tcp) {
                    let _ = tcp.write_all(&flight[..first_record_len(&flight)]);
                }
            }),
            &[],
            4,
            &[1],
            authz_unverified,
        )
    });
    v.push(Case {
        args: authz_args(&[]),
        ..case(
            "full handshake: drip of the flight past the timeout",
            serve("127.0.0.1:0", |mut tcp, _| {
                if let Some(flight) = rustls_first_flight(&mut tcp) {
                    let sh = first_record_len(&flight);
                    if tcp.write_all(&flight[..sh]).is_ok() {
                        let _ = drip(&mut tcp, &flight[sh..], DRIP_EVERY);
                    }
                }
                drain(&mut tcp);
            }),
            &[],
            4,
            &[1],
            authz_unverified,
        )
    });
    v.push(Case {
        args: authz_args(&[]),
        ..case(
            "full handshake: Certificate message claiming 16 MB",
            raw(|s, hello| {
                let claim = [11u8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfc];
                let sh = tls12_ecdhe_server_hello(hello);
                let _ = s.write_all(&[sh, record(0x16, 0x0303, &claim)].concat());
                flood(s, &[], &record(0x16, 0x0303, &[0x30; 16384]));
            }),
            &[],
            4,
            &[1],
            authz_unverified,
        )
    });
    v.push(Case {
        args: authz_args(&[]),
        ..case(
            "full handshake: chain of 500 certificates",
            raw(|s, hello| {
                let entries = cert_entry(&tls12_certificate_der()).repeat(500);
                let chain = certificate_message(&entries, None);
                let sh = tls12_ecdhe_server_hello(hello);
                let _ = s.write_all(&[sh, handshake_records(&chain)].concat());
            }),
            &[],
            4,
            &[1],
            authz_unverified,
        )
    });
    v.push(Case {
        args: authz_args(&[]),
        ..case(
            "full handshake: HelloRetryRequest, then HelloRetryRequest again",
            raw(|s, hello| {
                // A group the client offers, asked for once (legal), then
                // again after the second hello (RFC 8446 4.1.4 forbids it).
                let offer = parse_offer(hello).unwrap_or_default();
                let group = first_in(&[0x0018, 0x0017, 0x0019], &offer.groups)
                    .or(offer.groups.first().copied())
                    .unwrap_or(0x0018);
                let _ = s.write_all(&hello_retry_request(hello, group));
                while let Some(again) = read_client_hello(s) {
                    if again.first() == Some(&0x14) {
                        continue;
                    }
                    if s.write_all(&hello_retry_request(&again, group)).is_err() {
                        return;
                    }
                }
            }),
            &[],
            4,
            &[1],
            |t| {
                // The HelloRetryRequest itself is TLS 1.3 chosen.
                offered(t, "TLS1.3")?;
                authz_unverified(t)
            },
        )
    });
    v.push(Case {
        args: authz_args(&[]),
        ..case(
            "HTTP: the denied path's answer cut mid header",
            https(|tls, head| {
                if request_path(head).starts_with("/admin/") {
                    let _ = tls.write_all(b"HTTP/1.1 200 OK\r\nserver: x\r\ncontent-le");
                } else {
                    let _ = tls.write_all(rbac_answer(head));
                }
            }),
            &[],
            4,
            &[1],
            |t| {
                // The control path is answered; the cut one is no deny.
                let verdicts = authz_verdicts(t);
                ensure(
                    verdicts
                        .iter()
                        .any(|(p, v)| p.starts_with("/admin/") && v == "error")
                        && verdicts
                            .iter()
                            .any(|(p, v)| !p.starts_with("/admin/") && v == "pass"),
                    || format!("verdicts {verdicts:?}"),
                )?;
                has_finding(t, "authz.unverified")
            },
        )
    });

    // --- Plain HTTP (the declared https redirect) ------------------------
    v.push(Case {
        args: redirect_args(),
        ..case(
            "redirect: no answer at all",
            plain(drain),
            &[],
            1,
            &[1],
            redirect_unverified,
        )
    });
    v.push(Case {
        args: redirect_args(),
        ..case(
            "redirect: garbage",
            plain(|s| {
                let _ = s.write_all(GARBAGE);
            }),
            &[],
            1,
            &[1],
            redirect_unverified,
        )
    });
    v.push(Case {
        args: redirect_args(),
        ..case(
            "redirect: 100,000 headers",
            plain(|s| {
                let _ = s.write_all(&http_headers(100_000));
            }),
            &[],
            1,
            &[1],
            redirect_unverified,
        )
    });
    v.push(Case {
        args: redirect_args(),
        ..case(
            "redirect: close mid header",
            plain(|s| {
                let _ = s.write_all(b"HTTP/1.1 301 Moved Permanently\r\nlocat");
                let _ = s.shutdown(Shutdown::Both);
            }),
            &[],
            1,
            &[1],
            redirect_unverified,
        )
    });
    v.push(Case {
        args: redirect_args(),
        ..case(
            "redirect: 301 headers dripped past the timeout",
            plain(|s| {
                let answer = b"HTTP/1.1 301 Moved Permanently\r\nlocation: https://test.com/\r\ncontent-length: 0\r\n\r\n";
                let _ = drip(s, answer, DRIP_EVERY);
            }),
            &[],
            1,
            &[1],
            redirect_unverified,
        )
    });
    v.push(Case {
        args: redirect_args(),
        ..case(
            "redirect: 10 GB Content-Length, then silence",
            plain(|s| {
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10000000000\r\n\r\nhello");
                drain(s);
            }),
            &[],
            1,
            &[1],
            redirect_unverified,
        )
    });
    v.push(Case {
        args: redirect_args(),
        ..case(
            "redirect: connection refused",
            SocketAddr::from(([127, 0, 0, 1], support::ports::closed_port())),
            &[],
            1,
            &[2],
            |t| {
                ensure(t["reachable"] == false, || "reported reachable".to_owned())?;
                error_says(t, &["cannot connect", "refused"])
            },
        )
    });
    v.push(Case {
        args: redirect_args(),
        ..case(
            "redirect: 301 with an infinite chunked body",
            plain(|s| {
                let start = b"HTTP/1.1 301 Moved Permanently\r\nlocation: https://test.com/\r\ntransfer-encoding: chunked\r\n\r\n";
                flood(s, start, &b"4\r\nmove\r\n".repeat(256));
            }),
            &[],
            1,
            &[0],
            |t| {
                let p = &t["redirects"][0];
                ensure(p["status"] == 301 && p["verdict"] == "pass", || {
                    format!("redirect probe {p}")
                })
            },
        )
    });

    // --- Who answers ------------------------------------------------------
    let count = Arc::new(AtomicUsize::new(0));
    v.push(case(
        "answers one connection in ten",
        serve("127.0.0.1:0", move |mut s, _| {
            if count.fetch_add(1, Ordering::SeqCst) % 10 != 9 {
                return;
            }
            if read_client_hello(&mut s).is_some() {
                let _ = s.write_all(&support::fixture_flight("openssl_tls12_ecdhe_rsa"));
            }
            drain(&mut s);
        }),
        protocols,
        1,
        &[2],
        |t| {
            // Six hellos, six connections: none is the tenth.
            none_offered(t)
        },
    ));
    v.push(case(
        "a real TLS server on ::1",
        serve("[::1]:0", |tcp, _| {
            if let Some((mut tls, head)) = accept_https(tcp) {
                let _ = tls.write_all(rbac_answer(&head));
            }
        }),
        &["--checks", "alpn"],
        2,
        &[0],
        |t| {
            offered(t, "TLS1.3")?;
            offered(t, "TLS1.2")?;
            ensure(t["ip"] == "::1", || format!("ip {}", t["ip"]))
        },
    ));
    v
}

#[test]
fn hostile_servers_end_bounded_honest_and_small() {
    let dir = tempfile::tempdir().unwrap();
    let cases = cases(dir.path());
    assert!(cases.len() >= 30, "{} behaviours", cases.len());
    // Names are report file names too.
    let names: std::collections::HashSet<_> = cases.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), cases.len(), "two behaviours share a name");
    let queue = Arc::new(Mutex::new(
        cases.into_iter().enumerate().collect::<Vec<_>>(),
    ));
    let results = Arc::new(Mutex::new(Vec::new()));
    let started = std::time::Instant::now();
    let workers: Vec<_> = (0..CONCURRENT_SCANS)
        .map(|_| {
            let (queue, results) = (queue.clone(), results.clone());
            let dir = dir.path().to_owned();
            thread::spawn(move || loop {
                let Some((i, c)) = queue.lock().unwrap().pop() else {
                    return;
                };
                let outcome = run_case(&c, &dir);
                eprintln!(
                    "{:<66} exit {:>4} {:>6} ms {:>6.1} MiB (own {:>5.1}){}",
                    outcome.name,
                    outcome
                        .run
                        .code
                        .map_or_else(|| "sig".to_owned(), |c| c.to_string()),
                    outcome.run.wall.as_millis(),
                    outcome.run.max_rss_mib(),
                    outcome.run.own_peak_kib as f64 / 1024.0,
                    if outcome.failures.is_empty() {
                        ""
                    } else {
                        "  FAILED"
                    }
                );
                results.lock().unwrap().push((i, outcome));
            })
        })
        .collect();
    for w in workers {
        w.join().expect("a worker thread");
    }
    let mut results = std::mem::take(&mut *results.lock().unwrap());
    results.sort_by_key(|(i, _)| *i);
    let worst_wall = results.iter().map(|(_, o)| o.run.wall).max().unwrap();
    let worst_rss = results
        .iter()
        .map(|(_, o)| o.run.max_rss_kib)
        .max()
        .unwrap();
    eprintln!(
        "{} behaviours in {} ms; worst wall {} ms, worst peak RSS {:.1} MiB",
        results.len(),
        started.elapsed().as_millis(),
        worst_wall.as_millis(),
        worst_rss as f64 / 1024.0
    );
    let failed: Vec<String> = results
        .iter()
        .filter(|(_, o)| !o.failures.is_empty())
        .map(|(_, o)| format!("== {}\n{}", o.name, o.failures.join("\n")))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}
