//! The session probes against real servers: openssl s_server with its
//! defaults, without tickets, without a session cache, with early data,
//! TLS 1.2 only and TLS 1.3 only; gnutls-serv; nginx with a shared cache
//! and tickets off; the lab's Envoy defaults. Each expectation is what
//! that server's configuration makes it do, and testssl.sh (`-S`) agrees
//! on ID and ticket resumption (`testssl_agrees_on_resumption`).

mod support;

use std::net::SocketAddr;

use tlsposture::lab::ListenerSpec;
use tlsposture::observe::{Answer, Resumption, SessionFacts};
use tlsposture::probe::ProbeTimeouts;
use tlsposture::scan::session::{probe_session, RESUME_ATTEMPTS};
use tlsposture::scan::Prober;
use tlsposture::wire::ProtocolVersion;

use support::gnutls_server::GnutlsServer;
use support::{Nginx, OpensslServer};

const BOTH: [ProtocolVersion; 2] = [ProtocolVersion::Tls12, ProtocolVersion::Tls13];

/// The facts, checked to have counted every connection the prober made.
fn facts(addr: SocketAddr, sni: Option<&str>, offered: &[ProtocolVersion]) -> SessionFacts {
    support::runtime().block_on(async {
        let prober = Prober::new(addr, ProbeTimeouts::default(), 8);
        let facts = probe_session(&prober, sni, offered).await;
        assert_eq!(facts.handshakes, prober.handshakes(), "{facts:#?}");
        facts
    })
}

/// Issued, and every attempt resumed.
fn resumes(r: &Resumption, what: &str, all: &SessionFacts) {
    assert_eq!(r.issued.answer, Answer::Yes, "{what}: {all:#?}");
    assert_eq!(r.accepted.answer, Answer::Yes, "{what}: {all:#?}");
    assert_eq!(
        (r.resumed, r.attempts),
        (RESUME_ATTEMPTS, RESUME_ATTEMPTS),
        "{what}: {all:#?}"
    );
    assert_eq!(r.ratio().as_deref(), Some("4/4 resumed"));
}

fn not_issued(r: &Resumption, what: &str, all: &SessionFacts) {
    assert_eq!(r.issued.answer, Answer::No, "{what}: {all:#?}");
    assert_eq!(r.accepted.answer, Answer::NotApplicable, "{what}: {all:#?}");
    assert_eq!(r.attempts, 0, "{what}: {all:#?}");
}

fn not_applicable(r: &Resumption, what: &str, all: &SessionFacts) {
    assert_eq!(r.issued.answer, Answer::NotApplicable, "{what}: {all:#?}");
    assert_eq!(r.accepted.answer, Answer::NotApplicable, "{what}: {all:#?}");
}

#[test]
fn openssl_defaults_resume_every_way() {
    let s = OpensslServer::start(&[]);
    let f = facts(s.addr(), Some("localhost"), &BOTH);
    resumes(&f.session_id, "session ID", &f);
    resumes(&f.session_ticket, "ticket", &f);
    resumes(&f.tls13_psk, "TLS 1.3 PSK", &f);
    assert_eq!(f.extended_master_secret.answer, Answer::Yes, "{f:#?}");
    // OpenSSL 3.0 has no RFC 8879 support.
    assert_eq!(f.certificate_compression.answer, Answer::No, "{f:#?}");
    assert_eq!(f.early_data.offered.answer, Answer::No, "{f:#?}");
    assert_eq!(f.early_data.max_early_data_size, Some(0), "{f:#?}");
    // OpenSSL 3.0 has no ML-KEM: the second hello is refused.
    assert_eq!(f.pq_preference.answer, Answer::NotApplicable, "{f:#?}");
    assert!(f.pq_preference.evidence.contains("not accepted"), "{f:#?}");
    // 1 raw TLS 1.2 hello, 1 + 4 by ID, 1 + 4 by ticket, 1 + 4 TLS 1.3,
    // 2 PQ hellos.
    assert_eq!(f.handshakes, 18, "{f:#?}");
}

#[test]
fn openssl_without_tickets_resumes_by_id_only() {
    let s = OpensslServer::start(&["-no_ticket"]);
    let f = facts(s.addr(), Some("localhost"), &[ProtocolVersion::Tls12]);
    resumes(&f.session_id, "session ID", &f);
    not_issued(&f.session_ticket, "ticket", &f);
    not_applicable(&f.tls13_psk, "TLS 1.3 not offered", &f);
    assert_eq!(f.pq_preference.answer, Answer::NotApplicable, "{f:#?}");
    assert_eq!(f.early_data.offered.answer, Answer::NotApplicable, "{f:#?}");
    // Raw hello, 1 + 4 by ID; no ticket series, nothing for TLS 1.3.
    assert_eq!(f.handshakes, 6, "{f:#?}");
}

#[test]
fn openssl_without_a_cache_resumes_by_ticket_only() {
    let s = OpensslServer::start(&["-no_cache", "-tls1_2"]);
    let f = facts(s.addr(), Some("localhost"), &[ProtocolVersion::Tls12]);
    not_issued(&f.session_id, "session ID", &f);
    resumes(&f.session_ticket, "ticket", &f);
}

#[test]
fn openssl_tls13_only() {
    let s = OpensslServer::start(&["-tls1_3"]);
    let f = facts(s.addr(), Some("localhost"), &[ProtocolVersion::Tls13]);
    not_applicable(&f.session_id, "no TLS 1.2", &f);
    not_applicable(&f.session_ticket, "no TLS 1.2", &f);
    assert_eq!(f.extended_master_secret.answer, Answer::NotApplicable);
    resumes(&f.tls13_psk, "TLS 1.3 PSK", &f);
}

#[test]
fn nginx_accepts_early_data() {
    // s_server cannot read early data with -www; nginx can.
    let x = Nginx::start("ssl_protocols TLSv1.3; ssl_early_data on;");
    let f = facts(x.addr(), Some("localhost"), &[ProtocolVersion::Tls13]);
    resumes(&f.tls13_psk, "TLS 1.3 PSK", &f);
    assert_eq!(f.early_data.offered.answer, Answer::Yes, "{f:#?}");
    assert_eq!(f.early_data.max_early_data_size, Some(16384), "{f:#?}");
    assert_eq!(f.early_data.accepted.answer, Answer::Yes, "{f:#?}");
}

#[test]
fn openssl_early_data_allowed_but_not_read_is_rejected() {
    // -max_early_data without -early_data: tickets allow it, s_server
    // does not read it, and OpenSSL rejects it.
    let s = OpensslServer::start(&["-tls1_3", "-max_early_data", "16384"]);
    let f = facts(s.addr(), Some("localhost"), &[ProtocolVersion::Tls13]);
    assert_eq!(f.early_data.offered.answer, Answer::Yes, "{f:#?}");
    assert_eq!(f.early_data.accepted.answer, Answer::No, "{f:#?}");
}

#[test]
fn gnutls_resumes_every_way() {
    let g = GnutlsServer::start("NORMAL");
    let f = facts(g.addr(), Some("localhost"), &BOTH);
    resumes(&f.session_id, "session ID", &f);
    resumes(&f.session_ticket, "ticket", &f);
    resumes(&f.tls13_psk, "TLS 1.3 PSK", &f);
    assert_eq!(f.extended_master_secret.answer, Answer::Yes, "{f:#?}");
}

#[test]
fn nginx_shared_cache_without_tickets() {
    let x = Nginx::start(
        "ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache shared:SSL:1m; ssl_session_tickets off;",
    );
    let f = facts(x.addr(), Some("localhost"), &BOTH);
    resumes(&f.session_id, "session ID", &f);
    not_issued(&f.session_ticket, "ticket", &f);
    // nginx's `ssl_session_tickets off` also stops TLS 1.3 tickets, but
    // OpenSSL then issues stateful ones from the shared cache.
    resumes(&f.tls13_psk, "TLS 1.3 PSK", &f);
}

#[test]
fn envoy_defaults() {
    let lab = support::start_lab(vec![ListenerSpec::new("defaults", "Envoy's defaults")]);
    let l = lab.listener("defaults").unwrap();
    let f = facts(l.addr, l.sni.as_deref(), &BOTH);
    // BoringSSL: a session cache and tickets, EMS, no certificate
    // compression on a TCP/TLS listener, no 0-RTT, and an HRR for
    // X25519MLKEM768 (Envoy lists it first).
    resumes(&f.session_id, "session ID", &f);
    resumes(&f.session_ticket, "ticket", &f);
    resumes(&f.tls13_psk, "TLS 1.3 PSK", &f);
    assert_eq!(f.extended_master_secret.answer, Answer::Yes, "{f:#?}");
    assert_eq!(f.certificate_compression.answer, Answer::No, "{f:#?}");
    assert_eq!(f.early_data.offered.answer, Answer::No, "{f:#?}");
    assert_eq!(f.pq_preference.answer, Answer::Yes, "{f:#?}");
    // 1 raw TLS 1.2 hello, 5 by ID, 5 by ticket, 5 TLS 1.3, 1 PQ hello.
    assert_eq!(f.handshakes, 17, "{f:#?}");
}

#[test]
fn testssl_agrees_on_resumption() {
    let bin = support::testssl::binary().expect("testssl.sh not found: apt-get install testssl.sh");
    // Ticket only and ID only: each mechanism seen on and off. Both
    // testssl runs at once (about 25 s each).
    let no_ticket = OpensslServer::start(&["-no_ticket", "-tls1_2"]);
    let no_cache = OpensslServer::start(&["-no_cache", "-tls1_2"]);
    let runs: Vec<_> = [no_ticket.addr(), no_cache.addr()]
        .into_iter()
        .map(|addr| std::thread::spawn(move || testssl_session(bin, addr)))
        .collect();
    let verdicts: Vec<_> = runs.into_iter().map(|r| r.join().unwrap()).collect();
    for (server, testssl) in [&no_ticket, &no_cache].into_iter().zip(verdicts) {
        let f = facts(server.addr(), Some("localhost"), &[ProtocolVersion::Tls12]);
        let ours_id = f.session_id.accepted.answer == Answer::Yes;
        let ours_ticket = f.session_ticket.accepted.answer == Answer::Yes;
        assert_eq!(
            (ours_id, ours_ticket),
            (testssl.id, testssl.ticket),
            "ours {f:#?}\ntestssl {testssl:?}"
        );
        // testssl's "TLS_session_ticket" is the ticket hint: "no" when
        // none was issued.
        assert_eq!(
            f.session_ticket.issued.answer == Answer::Yes,
            !testssl.ticket_hint.starts_with("no"),
            "{f:#?}\n{testssl:?}"
        );
    }
}

#[derive(Debug)]
struct TestsslSession {
    id: bool,
    ticket: bool,
    ticket_hint: String,
}

fn testssl_session(bin: &str, addr: SocketAddr) -> TestsslSession {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let out = std::process::Command::new(bin)
        .args([
            "--quiet",
            "--color",
            "0",
            "--warnings",
            "off",
            "--nodns",
            "min",
            "-S",
        ])
        .arg("--jsonfile")
        .arg(&json)
        .arg(addr.to_string())
        .output()
        .expect("testssl runs");
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| {
        panic!(
            "no testssl JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let findings: serde_json::Value = serde_json::from_str(&text).unwrap();
    let get = |id: &str| -> String {
        findings
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .and_then(|f| f["finding"].as_str())
            .unwrap_or_else(|| panic!("testssl reported no {id}: {text}"))
            .to_owned()
    };
    TestsslSession {
        id: get("sessionresumption_ID") == "supported",
        ticket: get("sessionresumption_ticket") == "supported",
        ticket_hint: get("TLS_session_ticket"),
    }
}

/// "Compresses" with the algorithm it names by passing the bytes through:
/// our probe records the algorithm and never decompresses, so what the
/// bytes are does not matter. No server installed here compresses its
/// certificate (OpenSSL 3.0 cannot; Debian's GnuTLS 3.7 is built without
/// zlib, brotli and zstd), so a real rustls server with this stand-in
/// answers the way a compressing stack does.
#[derive(Debug)]
struct PassThrough(rustls::CertificateCompressionAlgorithm);

impl rustls::compress::CertCompressor for PassThrough {
    fn compress(
        &self,
        input: Vec<u8>,
        _level: rustls::compress::CompressionLevel,
    ) -> Result<Vec<u8>, rustls::compress::CompressionFailed> {
        Ok(input)
    }

    fn algorithm(&self) -> rustls::CertificateCompressionAlgorithm {
        self.0
    }
}

static BROTLI: PassThrough = PassThrough(rustls::CertificateCompressionAlgorithm::Brotli);

#[test]
fn a_compressing_server_is_seen_and_the_handshake_made_again() {
    use std::io::Read;
    let mut config = (*support::peers::rustls_server_config()).clone();
    config.cert_compressors = vec![&BROTLI];
    let config = std::sync::Arc::new(config);
    let addr = support::peers::serve("127.0.0.1:0", move |tcp, _| {
        let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
            return;
        };
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let mut buf = [0u8; 4096];
        while matches!(tls.read(&mut buf), Ok(n) if n > 0) {}
        tls.conn.send_close_notify();
        let _ = tls.conn.complete_io(&mut tls.sock);
    });
    let f = facts(addr, Some("test.com"), &[ProtocolVersion::Tls13]);
    assert_eq!(f.certificate_compression.answer, Answer::Yes, "{f:#?}");
    assert_eq!(
        f.certificate_compression_algorithm.as_deref(),
        Some("brotli")
    );
    // The compressing handshake, the full one again, four resumptions, and
    // the PQ hello(s).
    resumes(&f.tls13_psk, "TLS 1.3 PSK", &f);
}

#[test]
fn a_server_requiring_a_client_certificate_leaves_tls13_resumption_unknown() {
    // TLS 1.3: the handshake completes on our side, then the server sends
    // certificate_required instead of tickets. No ticket then is no answer.
    let s = OpensslServer::start_with_client_auth(support::ClientVerify::Required, &["-tls1_3"]);
    let f = facts(s.addr(), Some("localhost"), &[ProtocolVersion::Tls13]);
    assert_eq!(f.tls13_psk.issued.answer, Answer::Unknown, "{f:#?}");
    assert!(
        f.tls13_psk
            .issued
            .evidence
            .contains("after the TLS 1.3 handshake"),
        "{f:#?}"
    );
    assert_eq!(f.early_data.offered.answer, Answer::Unknown, "{f:#?}");
}

/// A TCP front that hands connections to `backends` in turn: a gateway of
/// several replicas behind one address.
fn round_robin(backends: Vec<SocketAddr>) -> SocketAddr {
    use std::net::{Shutdown, TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for (i, client) in listener.incoming().enumerate() {
            let Ok(client) = client else { continue };
            let Ok(server) = TcpStream::connect(backends[i % backends.len()]) else {
                continue;
            };
            let pipe = |mut from: TcpStream, mut to: TcpStream| {
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from, &mut to);
                    let _ = to.shutdown(Shutdown::Write);
                });
            };
            pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
            pipe(server, client);
        }
    });
    addr
}

#[test]
fn replicas_without_a_shared_cache_resume_half_the_time() {
    // Two s_servers, each with its own session cache, in turn behind one
    // address. The raw hello and the full handshake take the first two
    // connections, the four attempts the next four: two of them land on
    // the replica that issued the ID.
    let a = OpensslServer::start(&["-no_ticket", "-tls1_2"]);
    let b = OpensslServer::start(&["-no_ticket", "-tls1_2"]);
    let front = round_robin(vec![a.addr(), b.addr()]);
    let f = facts(front, Some("localhost"), &[ProtocolVersion::Tls12]);
    assert_eq!(f.session_id.issued.answer, Answer::Yes, "{f:#?}");
    assert_eq!(f.session_id.accepted.answer, Answer::Yes, "{f:#?}");
    assert_eq!(
        f.session_id.ratio().as_deref(),
        Some("2/4 resumed"),
        "{f:#?}"
    );
    assert_eq!(f.handshakes, 6, "{f:#?}");
}
