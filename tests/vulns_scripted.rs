//! The vulnerability battery against scripted servers that answer the way
//! OpenSSL 1.0.1f did (April 2014): heartbeats echoed with memory beyond
//! the request (Heartbleed), an early ChangeCipherSpec taken (CCS
//! injection, fixed in 1.0.1h), DEFLATE chosen when offered (CRIME). No
//! real server still does these, so the misbehaviour is scripted; the
//! bytes around it are a real OpenSSL 3 TLS 1.2 flight
//! (`fixtures/flights/openssl_tls12_ecdhe_rsa.hex`). The same script with
//! the behaviour off answers as a patched OpenSSL does, so each check is
//! seen both ways.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use support::peers::{self, handshake, handshake_records, record, RANDOM};
use tlsposture::observe::VulnStatus;
use tlsposture::scan::{scan_target, Checks, ScanOptions};
use tlsposture::target::TargetSpec;

const SUITE: u16 = 0xc02f;

/// What the scripted server gets wrong.
#[derive(Debug, Clone, Copy)]
struct Bugs {
    heartbleed: bool,
    ccs: bool,
    deflate: bool,
}

/// Client version, suites, compression methods and extension types of a
/// ClientHello.
type Hello = (u16, Vec<u16>, Vec<u8>, Vec<u16>);

/// The [`Hello`] of a ClientHello record; `None` for anything else.
fn parse_hello(rec: &[u8]) -> Option<Hello> {
    let b = rec.get(5..)?;
    if rec.first() != Some(&0x16) || b.first() != Some(&1) {
        return None;
    }
    let version = u16::from_be_bytes([*b.get(4)?, *b.get(5)?]);
    let mut at = 4 + 2 + 32;
    at += 1 + usize::from(*b.get(at)?);
    let n = usize::from(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]));
    let suites = b
        .get(at + 2..at + 2 + n)?
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    at += 2 + n;
    let n = usize::from(*b.get(at)?);
    let comp = b.get(at + 1..at + 1 + n)?.to_vec();
    at += 1 + n;
    let mut exts = Vec::new();
    if b.len() >= at + 2 {
        at += 2;
        while at + 4 <= b.len() {
            exts.push(u16::from_be_bytes([b[at], b[at + 1]]));
            at += 4 + usize::from(u16::from_be_bytes([b[at + 2], b[at + 3]]));
        }
    }
    Some((version, suites, comp, exts))
}

fn alert(desc: u8) -> Vec<u8> {
    record(21, 0x0303, &[2, desc])
}

fn serve(bugs: Bugs) -> SocketAddr {
    peers::serve("127.0.0.1:0", move |mut s: TcpStream, _| {
        let Some(hello) = peers::read_client_hello(&mut s) else {
            return;
        };
        let Some((version, suites, comp, exts)) = parse_hello(&hello) else {
            return;
        };
        if version != 0x0303 {
            let _ = s.write_all(&alert(70));
            return;
        }
        if !suites.contains(&SUITE) {
            let _ = s.write_all(&alert(40));
            return;
        }
        let mut ext = peers::extension(0xff01, &[0]);
        if exts.contains(&0x000f) {
            ext.extend(peers::extension(0x000f, &[1]));
        }
        let deflate = bugs.deflate && comp.contains(&1);
        let mut body = peers::server_hello_body(RANDOM, &[], SUITE, &ext, None);
        // The compression byte sits right before the extensions block.
        let at = body.len() - ext.len() - 3;
        body[at] = u8::from(deflate);
        let mut flight = handshake_records(&handshake(2, &body));
        for m in peers::flight_messages("openssl_tls12_ecdhe_rsa")
            .into_iter()
            .skip(1)
        {
            flight.extend(handshake_records(&m));
        }
        if s.write_all(&flight).is_err() {
            return;
        }
        let mut ccs_seen = 0;
        loop {
            let mut header = [0u8; 5];
            if s.read_exact(&mut header).is_err() {
                return;
            }
            let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
            let mut payload = vec![0u8; len];
            if s.read_exact(&mut payload).is_err() {
                return;
            }
            match header[0] {
                24 if bugs.heartbleed && payload.first() == Some(&1) && payload.len() >= 3 => {
                    // Echo the claimed length, whatever was sent: memory.
                    let claimed = usize::from(u16::from_be_bytes([payload[1], payload[2]]));
                    let mut response = vec![2, payload[1], payload[2]];
                    response.extend((0..claimed + 16).map(|i| (i % 251) as u8));
                    for chunk in response.chunks(16384) {
                        let _ = s.write_all(&record(24, 0x0303, chunk));
                    }
                }
                // RFC 6520 4: a request longer than its record is dropped.
                24 => {}
                20 if bugs.ccs => {
                    ccs_seen += 1;
                    // The first is taken silently (keys switched to
                    // nothing); the next record fails to decrypt.
                    if ccs_seen > 1 {
                        let _ = s.write_all(&alert(21));
                        return;
                    }
                }
                20 => {
                    let _ = s.write_all(&alert(10));
                    return;
                }
                _ => {
                    let _ = s.write_all(&alert(10));
                    return;
                }
            }
        }
    })
}

fn battery(addr: SocketAddr) -> Vec<tlsposture::observe::Vulnerability> {
    let spec = TargetSpec::parse(&addr.to_string()).unwrap();
    let options = ScanOptions {
        checks: Checks {
            vulns: true,
            suites: true,
            ..Checks::PROTOCOLS_ONLY
        },
        ..ScanOptions::default()
    };
    let observed = support::runtime()
        .block_on(scan_target(&spec, &options))
        .unwrap_or_else(|(_, e)| panic!("{e}"));
    tlsposture::verdict::judge(&observed, &Default::default()).vulnerabilities
}

fn status(v: &[tlsposture::observe::Vulnerability], id: &str) -> (VulnStatus, String) {
    let v = v.iter().find(|v| v.id.name() == id).unwrap();
    (v.status, v.evidence.clone())
}

#[test]
fn an_openssl_1_0_1f_lookalike_is_heartbleed_ccs_and_crime_vulnerable() {
    let v = battery(serve(Bugs {
        heartbleed: true,
        ccs: true,
        deflate: true,
    }));
    let (s, e) = status(&v, "heartbleed");
    assert_eq!(s, VulnStatus::Vulnerable, "{e}");
    assert!(e.contains("16384") && e.contains("bytes back"), "{e}");
    let (s, e) = status(&v, "ccs_injection");
    assert_eq!(s, VulnStatus::Vulnerable, "{e}");
    assert!(e.contains("decryption_failed"), "{e}");
    let (s, e) = status(&v, "crime");
    assert_eq!(s, VulnStatus::Vulnerable, "{e}");
    let (s, e) = status(&v, "secure_renegotiation");
    assert_eq!(s, VulnStatus::NotVulnerable, "{e}");
    let judged: Vec<String> = tlsposture::verdict::vulns::findings(&v)
        .into_iter()
        .map(|f| format!("{} {}", f.id, f.severity))
        .collect();
    assert!(
        judged.contains(&"vuln.heartbleed critical".to_owned()),
        "{judged:?}"
    );
    assert!(
        judged.contains(&"vuln.ccs_injection high".to_owned()),
        "{judged:?}"
    );
}

#[test]
fn the_same_script_patched_is_clean() {
    let v = battery(serve(Bugs {
        heartbleed: false,
        ccs: false,
        deflate: false,
    }));
    // Heartbeat still echoed: the oversized request must be dropped.
    let (s, e) = status(&v, "heartbleed");
    assert_eq!(s, VulnStatus::NotVulnerable, "{e}");
    assert!(
        e.contains("heartbeat echoed") && e.contains("no answer"),
        "{e}"
    );
    let (s, e) = status(&v, "ccs_injection");
    assert_eq!(s, VulnStatus::NotVulnerable, "{e}");
    assert!(e.contains("unexpected_message"), "{e}");
    let (s, e) = status(&v, "crime");
    assert_eq!(s, VulnStatus::NotVulnerable, "{e}");
}

/// A real rustls TLS 1.2/1.3 server issuing tickets, and, with `bleed`, a
/// front end answering ticket resumptions the way F5 BIG-IP did before
/// 2017 (K05121675): the session ID echoed at 32 bytes whatever its length,
/// the rest being memory. Without `bleed` rustls itself resumes.
fn ticket_server(bleed: bool) -> SocketAddr {
    let mut config = (*peers::rustls_server_config()).clone();
    config.ticketer = rustls::crypto::aws_lc_rs::Ticketer::new().expect("a ticketer");
    let config = std::sync::Arc::new(config);
    peers::serve("127.0.0.1:0", move |mut s: TcpStream, _| {
        let mut peeked = vec![0u8; 16 * 1024];
        let n = loop {
            let Ok(n) = s.peek(&mut peeked) else { return };
            if n == 0 {
                return;
            }
            let want = if n >= 5 {
                5 + usize::from(u16::from_be_bytes([peeked[3], peeked[4]]))
            } else {
                usize::MAX
            };
            if n >= want || n == peeked.len() {
                break n;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        let hello = &peeked[..n];
        let sid_len = hello.get(5 + 4 + 2 + 32).copied();
        let resuming = sid_len == Some(1) && hello.len() > 200;
        if bleed && resuming {
            let _ = peers::read_client_hello(&mut s);
            let sid = hello[5 + 4 + 2 + 32 + 1];
            let mut echoed = vec![sid];
            echoed.extend((1..32u8).map(|i| i.wrapping_mul(37)));
            let ext = [peers::extension(0xff01, &[0]), peers::extension(35, &[])].concat();
            let body = peers::server_hello_body(RANDOM, &echoed, SUITE, &ext, None);
            let _ = s.write_all(&handshake_records(&handshake(2, &body)));
            peers::drain(&mut s);
            return;
        }
        let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
            return;
        };
        let mut tls = rustls::StreamOwned::new(conn, s);
        while tls.conn.is_handshaking() {
            if tls.conn.complete_io(&mut tls.sock).is_err() {
                return;
            }
        }
        let _ = tls.flush();
        let mut buf = [0u8; 1024];
        let _ = tls.read(&mut buf);
    })
}

#[test]
fn ticketbleed_both_ways_on_a_ticket_issuing_server() {
    let v = battery(ticket_server(true));
    let (s, e) = status(&v, "ticketbleed");
    assert_eq!(s, VulnStatus::Vulnerable, "{e}");
    assert!(e.contains("32-byte session ID"), "{e}");
    let v = battery(ticket_server(false));
    let (s, e) = status(&v, "ticketbleed");
    assert_eq!(s, VulnStatus::NotVulnerable, "{e}");
    assert!(e.contains("echoed exactly"), "{e}");
}

/// An RSA key and a self-signed certificate for it, from the `openssl`
/// command line: (modulus, private exponent, certificate DER).
fn rsa_key_and_cert(dir: &std::path::Path) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let key = dir.join("k.pem");
    let cert = dir.join("c.der");
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl on the PATH (apt-get install openssl)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let k = key.to_str().unwrap();
    run(&["genrsa", "-out", k, "2048"]);
    run(&[
        "req",
        "-x509",
        "-key",
        k,
        "-subj",
        "/CN=localhost",
        "-days",
        "2",
        "-outform",
        "DER",
        "-out",
        cert.to_str().unwrap(),
    ]);
    let text = String::from_utf8(run(&["rsa", "-in", k, "-noout", "-text"])).unwrap();
    let field = |name: &str| -> Vec<u8> {
        let start = text
            .find(&format!("{name}:"))
            .unwrap_or_else(|| panic!("{name} in {text}"));
        let hex: String = text[start + name.len() + 1..]
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with(' '))
            .flat_map(|l| l.trim().split(':').map(str::to_owned).collect::<Vec<_>>())
            .collect();
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    };
    (
        field("modulus"),
        field("privateExponent"),
        std::fs::read(cert).unwrap(),
    )
}

/// A TLS 1.2 server with AES128-GCM-SHA256 (RSA key transport) that is a
/// Bleichenbacher oracle, as the ROBOT paper's vulnerable stacks were
/// (e.g. Cisco ACE, Citrix NetScaler): it decrypts the premaster and
/// answers a wrong PKCS#1 header with handshake_failure at once, anything
/// else with bad_record_mac after the Finished. `oracle: false` answers
/// bad_record_mac always, as a patched stack does.
fn robot_server(oracle: bool) -> (SocketAddr, tempfile::TempDir) {
    const RSA_GCM: u16 = 0x009c;
    let dir = tempfile::tempdir().unwrap();
    let (n, d, cert) = rsa_key_and_cert(dir.path());
    let addr = peers::serve("127.0.0.1:0", move |mut s: TcpStream, _| {
        let Some(hello) = peers::read_client_hello(&mut s) else {
            return;
        };
        let Some((version, suites, _, _)) = parse_hello(&hello) else {
            return;
        };
        if version != 0x0303 || !suites.contains(&RSA_GCM) {
            let _ = s.write_all(&alert(if version != 0x0303 { 70 } else { 40 }));
            return;
        }
        let ext = peers::extension(0xff01, &[0]);
        let body = peers::server_hello_body(RANDOM, &[], RSA_GCM, &ext, None);
        let mut certs = Vec::new();
        certs.extend_from_slice(&(cert.len() as u32).to_be_bytes()[1..]);
        certs.extend_from_slice(&cert);
        let mut cert_body = (certs.len() as u32).to_be_bytes()[1..].to_vec();
        cert_body.extend(certs);
        let flight = [
            handshake(2, &body),
            handshake(11, &cert_body),
            handshake(14, &[]),
        ]
        .concat();
        if s.write_all(&handshake_records(&flight)).is_err() {
            return;
        }
        let mut header = [0u8; 5];
        if s.read_exact(&mut header).is_err() {
            return;
        }
        let mut cke = vec![0u8; usize::from(u16::from_be_bytes([header[3], header[4]]))];
        if s.read_exact(&mut cke).is_err() || cke.len() < 6 {
            return;
        }
        let c = num_bigint::BigUint::from_bytes_be(&cke[6..]);
        let m = c.modpow(
            &num_bigint::BigUint::from_bytes_be(&d),
            &num_bigint::BigUint::from_bytes_be(&n),
        );
        let mut m = m.to_bytes_be();
        // to_bytes_be drops the leading 00: put it back to k bytes.
        while m.len() < n.len() - usize::from(n[0] == 0) {
            m.insert(0, 0);
        }
        let header_ok = m.starts_with(&[0, 2]);
        if oracle && !header_ok {
            let _ = s.write_all(&alert(40));
            return;
        }
        // Read CCS and Finished, then refuse the Finished.
        let mut rest = [0u8; 4096];
        let _ = s.read(&mut rest);
        let _ = s.write_all(&alert(20));
    });
    (addr, dir)
}

#[test]
fn robot_both_ways_on_an_rsa_key_transport_server() {
    let (addr, _dir) = robot_server(true);
    let v = battery(addr);
    let (s, e) = status(&v, "robot");
    assert_eq!(s, VulnStatus::Vulnerable, "{e}");
    assert!(
        e.contains("wrong first bytes: alert handshake_failure")
            && e.contains("correct padding: alert bad_record_mac"),
        "{e}"
    );
    let (addr, _dir) = robot_server(false);
    let v = battery(addr);
    let (s, e) = status(&v, "robot");
    assert_eq!(s, VulnStatus::NotVulnerable, "{e}");
    assert!(e.contains("bad_record_mac"), "{e}");
}
