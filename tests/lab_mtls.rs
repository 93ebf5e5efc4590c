//! Client-certificate validation in the lab, against `openssl s_client`:
//! a `Required` (Istio MUTUAL) listener refuses a client without a
//! certificate — during the handshake on TLS 1.2, with alert 116
//! `certificate_required` on the first read on TLS 1.3 — and one whose
//! certificate another CA signed, and serves a client with a lab-CA
//! certificate; an `Optional` (OPTIONAL_MUTUAL) listener serves both; SAN
//! matching (`subjectAltNames`) refuses a lab-CA certificate with another
//! identity; a plain `httpsRedirect` listener answers 301.

mod support;

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};

use support::start_lab;
use tlsposture::lab::{
    config::RESPONSE_BODY, issue_client_cert, ClientAuth, LabCa, ListenerSpec, PlainHttp,
};
use tlsposture::wire::ProtocolVersion::{Tls12, Tls13};

/// What one HTTP request over `openssl s_client` got back.
struct Exchange {
    /// The HTTP response (empty when the server refused).
    response: String,
    /// s_client's diagnostics: alerts, verify errors.
    diagnostics: String,
}

impl Exchange {
    fn served(&self) -> bool {
        self.response.starts_with("HTTP/1.1 200") && self.response.contains(RESPONSE_BODY)
    }
}

/// `GET /` through `openssl s_client -quiet` with `args` (e.g. `-cert`),
/// sending `sni`; the request asks the server to close, which ends s_client.
fn request(addr: SocketAddr, sni: &str, args: &[&str]) -> Exchange {
    assert!(addr.ip().is_loopback(), "tests only connect to loopback");
    let connect = addr.to_string();
    let mut child = Command::new("timeout")
        .args(["5", "openssl", "s_client", "-quiet", "-connect", &connect])
        .args(["-servername", sni])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run openssl s_client ({e}): apt-get install openssl"));
    let request = format!("GET / HTTP/1.1\r\nHost: {sni}\r\nConnection: close\r\n\r\n");
    // A refused handshake may close stdin before we write: not an error here.
    let _ = child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(request.as_bytes());
    let out = child.wait_with_output().expect("waiting for s_client");
    eprintln!(
        "{addr} {args:?}: exit {:?}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    Exchange {
        response: String::from_utf8_lossy(&out.stdout).into_owned(),
        diagnostics: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn identity_args<'a>(cert: &'a Path, key: &'a Path) -> Vec<&'a str> {
    vec![
        "-cert",
        cert.to_str().unwrap(),
        "-key",
        key.to_str().unwrap(),
    ]
}

const HOST: &str = "test.com";

fn mtls(name: &str, auth: ClientAuth) -> ListenerSpec {
    ListenerSpec {
        client_auth: auth,
        hosts: vec![HOST.to_owned()],
        ..ListenerSpec::new(name, "")
    }
}

#[test]
fn client_certificates_are_validated_as_istio_configures_envoy() {
    let lab = start_lab(vec![
        ListenerSpec {
            max_version: Some(Tls12),
            ..mtls("required-tls12", ClientAuth::Required)
        },
        ListenerSpec {
            min_version: Some(Tls13),
            ..mtls("required-tls13", ClientAuth::Required)
        },
        mtls("optional", ClientAuth::Optional),
        ListenerSpec {
            client_san_match: vec!["spiffe://test.client".to_owned()],
            ..mtls("required-san", ClientAuth::Required)
        },
        ListenerSpec {
            plaintext: Some(PlainHttp::RedirectToHttps),
            ..ListenerSpec::new("redirect", "")
        },
    ]);
    let good = lab
        .write_client_identity("spiffe://test.client", "test.client")
        .unwrap();
    assert!(good.cert.starts_with(lab.workdir()) && good.key.starts_with(lab.workdir()));
    let other = lab
        .write_client_identity("spiffe://someone.else", "someone.else")
        .unwrap();
    let foreign_dir = tempfile::tempdir().unwrap();
    let foreign_ca = LabCa::generate().unwrap();
    let foreign = issue_client_cert(&foreign_ca, "spiffe://test.client")
        .unwrap()
        .write(foreign_dir.path(), "foreign")
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(lab.ca_path()).unwrap(),
        lab.ca_pem()
    );

    let good_args = identity_args(&good.cert, &good.key);
    let foreign_args = identity_args(&foreign.cert, &foreign.key);
    let other_args = identity_args(&other.cert, &other.key);
    let addr = |n: &str| lab.listener(n).unwrap().addr;

    // TLS 1.2: no certificate, no handshake.
    let tls12 = addr("required-tls12");
    let none = request(tls12, HOST, &[]);
    assert!(!none.served(), "{}\n{}", none.response, none.diagnostics);
    // BoringSSL's alert 40 handshake_failure.
    assert!(
        none.diagnostics.contains("alert number 40"),
        "{}",
        none.diagnostics
    );
    let ok = request(tls12, HOST, &good_args);
    assert!(ok.served(), "{}\n{}", ok.response, ok.diagnostics);
    let bad = request(tls12, HOST, &foreign_args);
    assert!(!bad.served(), "{}\n{}", bad.response, bad.diagnostics);
    assert!(
        bad.diagnostics.contains("unknown ca"),
        "{}",
        bad.diagnostics
    );

    // TLS 1.3: the client's handshake completes; the refusal is the alert.
    let tls13 = addr("required-tls13");
    let none = request(tls13, HOST, &[]);
    assert!(!none.served(), "{}\n{}", none.response, none.diagnostics);
    assert!(
        none.diagnostics.contains("certificate required")
            && none.diagnostics.contains("alert number 116"),
        "{}",
        none.diagnostics
    );
    assert!(request(tls13, HOST, &good_args).served());
    let bad = request(tls13, HOST, &foreign_args);
    assert!(!bad.served(), "{}\n{}", bad.response, bad.diagnostics);
    assert!(
        bad.diagnostics.contains("unknown ca"),
        "{}",
        bad.diagnostics
    );

    // OPTIONAL_MUTUAL: with or without, but never with a foreign CA's.
    let optional = addr("optional");
    assert!(request(optional, HOST, &[]).served());
    assert!(request(optional, HOST, &good_args).served());
    assert!(!request(optional, HOST, &foreign_args).served());

    // subjectAltNames: the lab CA signed both, only one has the identity.
    let san = addr("required-san");
    assert!(request(san, HOST, &good_args).served());
    let wrong = request(san, HOST, &other_args);
    assert!(!wrong.served(), "{}\n{}", wrong.response, wrong.diagnostics);
    // Envoy's SAN check fails the handshake with certificate_unknown (46).
    assert!(
        wrong.diagnostics.contains("alert number 46"),
        "{}",
        wrong.diagnostics
    );

    // The certificate request is visible to a client without a certificate.
    let hs = support::s_client(optional, Some(HOST), &["-tls1_2"]);
    assert_eq!(hs.protocol.as_deref(), Some("TLSv1.2"), "{}", hs.output);
    assert!(
        lab.listener("optional").unwrap().certificates().len() == 1
            && lab.listener("redirect").unwrap().certificates().is_empty()
    );

    // httpsRedirect: plain HTTP, 301 to https on the same host and path.
    let redirect = addr("redirect");
    let get = |host: &str| {
        let mut stream = std::net::TcpStream::connect(redirect).unwrap();
        let head =
            format!("GET /some/path?q=1 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        let mut answer = String::new();
        std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
        answer.to_ascii_lowercase()
    };
    let answer = get("test.com");
    assert!(answer.starts_with("http/1.1 301"), "{answer}");
    assert!(
        answer.contains("location: https://test.com/some/path?q=1"),
        "{answer}"
    );
    // Envoy keeps a non-default port from the Host header as it is.
    let answer = get("test.com:8080");
    assert!(
        answer.contains("location: https://test.com:8080/some/path?q=1"),
        "{answer}"
    );
}
