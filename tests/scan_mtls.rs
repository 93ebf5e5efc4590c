//! Client-certificate (mTLS) probes against real `openssl s_server`s on
//! loopback: required (`-Verify 1`), optional (`-verify 1`) and no client
//! auth, each in TLS 1.2 only and TLS 1.3; the other checks (raw-hello
//! protocols and suites, certificates, ALPN, TLS 1.3 signatures) against a
//! server that requires a certificate; and the CLI's JSON.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use assert_cmd::Command;
use tlsposture::observe::{MtlsOutcome, MtlsProbe, MtlsResult, TargetObservation};
use tlsposture::probe::ProbeTimeouts;
use tlsposture::scan::http::{tls_http_exchange, HttpOutcome, HttpRequest};
use tlsposture::scan::{self, Checks, Prober, ScanOptions};
use tlsposture::target::TargetSpec;
use tlsposture::tls_client::HandshakeOptions;
use tlsposture::wire::ProtocolVersion::{self, Tls10, Tls12, Tls13};

use support::{runtime, ClientVerify, OpensslServer};

/// The subject of every `OpensslServer`'s lab CA, as the
/// CertificateRequest names it.
const LAB_CA: &str = "O=tlsposture lab, CN=tlsposture lab CA";
const BOTH: &[ProtocolVersion] = &[Tls12, Tls13];

fn timeouts() -> ProbeTimeouts {
    ProbeTimeouts {
        connect: Duration::from_secs(2),
        read: Duration::from_secs(3),
    }
}

fn prober(addr: SocketAddr) -> Prober {
    Prober::new(addr, timeouts(), 8)
}

/// The mtls check alone, and the handshakes it took.
fn mtls(server: &OpensslServer, offered: &[ProtocolVersion]) -> (MtlsResult, u32) {
    let prober = prober(server.addr());
    let result = runtime().block_on(scan::scan_client_auth(&prober, None, offered));
    (result, prober.handshakes())
}

fn probe<'a>(result: &'a MtlsResult, identity: &str) -> &'a MtlsProbe {
    result
        .probes
        .iter()
        .find(|p| p.identity.name() == identity)
        .unwrap_or_else(|| panic!("no {identity} probe: {result:#?}"))
}

fn required(version_flag: &str) -> OpensslServer {
    OpensslServer::start_with_client_auth(ClientVerify::Required, &[version_flag])
}

fn optional(version_flag: &str) -> OpensslServer {
    OpensslServer::start_with_client_auth(ClientVerify::Optional, &[version_flag])
}

fn assert_unknown_ca_refused(result: &MtlsResult, version: ProtocolVersion) {
    let p = probe(result, "unknown-ca");
    assert_eq!(p.outcome, MtlsOutcome::Refused, "{result:#?}");
    assert_eq!(p.protocol, Some(version), "{result:#?}");
    assert!(p.evidence.contains("certificate sent"), "{result:#?}");
    // OpenSSL 3 with -verify_return_error: unknown_ca (48).
    assert!(p.evidence.contains("alert unknown_ca"), "{result:#?}");
}

#[test]
fn required_tls12_refuses_during_the_handshake() {
    let server = required("-tls1_2");
    let (result, handshakes) = mtls(&server, BOTH);
    assert_eq!(result.client_cert_required, Some(true), "{result:#?}");
    assert_eq!(result.client_cert_requested, Some(true));
    assert_eq!(result.acceptable_ca_names, vec![LAB_CA.to_owned()]);
    let none = probe(&result, "none");
    assert_eq!(none.outcome, MtlsOutcome::Refused);
    assert_eq!(none.protocol, Some(Tls12));
    assert_eq!(none.http_status, None);
    assert!(
        none.evidence
            .ends_with("alert handshake_failure during handshake (TLS1.2)"),
        "{none:#?}"
    );
    assert_unknown_ca_refused(&result, Tls12);
    assert_eq!(handshakes, 2);
}

#[test]
fn required_tls13_refuses_after_the_handshake() {
    let server = required("-tls1_3");
    let (result, handshakes) = mtls(&server, BOTH);
    assert_eq!(result.client_cert_required, Some(true), "{result:#?}");
    assert_eq!(result.client_cert_requested, Some(true));
    assert!(result.acceptable_ca_names.iter().any(|n| n == LAB_CA));
    let none = probe(&result, "none");
    assert_eq!(none.outcome, MtlsOutcome::Refused);
    assert_eq!(none.protocol, Some(Tls13));
    assert!(
        none.evidence
            .ends_with("alert certificate_required after handshake (TLS1.3)"),
        "{none:#?}"
    );
    assert_unknown_ca_refused(&result, Tls13);
    assert!(probe(&result, "unknown-ca")
        .evidence
        .contains("after handshake"));
    assert_eq!(handshakes, 2);
}

/// The TLS 1.3 refusal comes only once the request is sent: the client's
/// handshake completes, the first read gets alert 116.
#[test]
fn tls13_refusal_is_seen_only_after_sending_the_request() {
    let server = required("-tls1_3");
    let addr = server.addr();
    let exchange = runtime().block_on(async move {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let opts = HandshakeOptions {
            versions: vec![Tls13],
            ..HandshakeOptions::default()
        };
        let request = HttpRequest {
            method: "GET".into(),
            path: "/".into(),
            host: "127.0.0.1".into(),
            headers: Vec::new(),
        };
        tls_http_exchange(stream, &opts, None, &request, Duration::from_secs(3))
            .await
            .expect("client builds")
    });
    assert!(exchange.handshake_complete, "{exchange:#?}");
    assert!(exchange.request_sent, "{exchange:#?}");
    let request = exchange.certificate_request.as_ref().expect("requested");
    assert!(!request.certificate_sent);
    assert_eq!(
        exchange.outcome,
        HttpOutcome::Refused {
            during_handshake: false,
            alert: Some(116),
            reason: "received fatal alert: CertificateRequired".to_owned(),
        }
    );
    assert_eq!(exchange.timed_out, None);
    assert!(!exchange.closed_cleanly);
    assert_eq!(exchange.handshake.protocol, Some(Tls13));
    // With -CAfile, s_server sends its CA after the leaf.
    assert_eq!(exchange.handshake.chain.len(), 2, "leaf and CA");
}

#[test]
fn optional_serves_without_a_certificate_in_both_versions() {
    for (flag, version) in [("-tls1_2", Tls12), ("-tls1_3", Tls13)] {
        let server = optional(flag);
        let (result, handshakes) = mtls(&server, BOTH);
        assert_eq!(result.client_cert_required, Some(false), "{result:#?}");
        assert_eq!(result.client_cert_requested, Some(true), "{result:#?}");
        assert_eq!(result.acceptable_ca_names, vec![LAB_CA.to_owned()]);
        let none = probe(&result, "none");
        assert_eq!(none.outcome, MtlsOutcome::Accepted, "{result:#?}");
        assert_eq!(none.protocol, Some(version));
        // s_server -www answers `HTTP/1.0 200 ok`.
        assert_eq!(none.http_status, Some(200), "{result:#?}");
        // The status line as sent, reason phrase included.
        assert!(
            none.evidence.ends_with(&format!(
                "answered \"HTTP/1.0 200 ok\" ({})",
                version.name()
            )),
            "{none:#?}"
        );
        // A presented certificate that does not verify is still fatal.
        assert_unknown_ca_refused(&result, version);
        assert_eq!(handshakes, 2);
    }
}

#[test]
fn no_client_auth_is_not_requested_and_takes_one_handshake() {
    for flag in ["-tls1_2", "-tls1_3"] {
        let server = OpensslServer::start(&[flag]);
        let (result, handshakes) = mtls(&server, BOTH);
        assert_eq!(result.client_cert_required, Some(false), "{result:#?}");
        assert_eq!(result.client_cert_requested, Some(false), "{result:#?}");
        assert!(result.acceptable_ca_names.is_empty());
        assert_eq!(result.probes.len(), 1, "no unknown-CA probe: {result:#?}");
        assert_eq!(result.probes[0].outcome, MtlsOutcome::Accepted);
        assert_eq!(result.probes[0].http_status, Some(200));
        assert!(result.probes[0]
            .evidence
            .starts_with("no CertificateRequest"));
        assert_eq!(handshakes, 1);
    }
}

/// TLS ≤ 1.1 only: not tested (no handshake); and when rustls cannot
/// connect at all the result is unknown with the reason — never a failure.
#[test]
fn legacy_only_server_is_unknown_with_the_reason() {
    let server = OpensslServer::start(&["-tls1", "-cipher", "ALL:@SECLEVEL=0"]);
    let (result, handshakes) = mtls(&server, &[Tls10]);
    assert_eq!(result.client_cert_required, None);
    assert_eq!(result.client_cert_requested, None);
    assert!(result.evidence.starts_with("not tested"), "{result:#?}");
    assert_eq!(handshakes, 0);

    let (result, handshakes) = mtls(&server, BOTH);
    assert_eq!(result.client_cert_required, None, "{result:#?}");
    assert_eq!(result.client_cert_requested, None);
    assert_eq!(result.probes.len(), 1);
    assert_eq!(
        result.probes[0].outcome,
        MtlsOutcome::Refused,
        "{result:#?}"
    );
    assert!(result.evidence.starts_with("unknown"), "{result:#?}");
    assert_eq!(handshakes, 1);
}

fn full_scan(addr: SocketAddr) -> TargetObservation {
    let spec = TargetSpec::parse(&addr.to_string()).expect("target");
    let options = ScanOptions {
        timeouts: timeouts(),
        ..ScanOptions::default()
    };
    runtime()
        .block_on(scan::scan_target(&spec, &options))
        .unwrap_or_else(|(_, e)| panic!("scan failed: {e}"))
}

/// The other checks still see what a server requiring a certificate shows
/// before it refuses; the raw-hello probes (protocols, suites, groups) are
/// the same as on the same server without client auth.
#[test]
fn other_checks_work_against_a_server_requiring_a_certificate() {
    for flag in ["-tls1_2", "-tls1_3"] {
        let plain = full_scan(OpensslServer::start(&[flag, "-alpn", "h2"]).addr());
        let mutual = full_scan(
            OpensslServer::start_with_client_auth(ClientVerify::Required, &[flag, "-alpn", "h2"])
                .addr(),
        );
        let offered = |t: &TargetObservation| {
            t.protocols
                .iter()
                .map(|p| (p.version, p.offered))
                .collect::<Vec<_>>()
        };
        assert_eq!(offered(&mutual), offered(&plain), "{flag}");
        let codes =
            |t: &TargetObservation| t.cipher_suites.iter().map(|s| s.code).collect::<Vec<_>>();
        assert!(!codes(&mutual).is_empty(), "{flag}");
        assert_eq!(codes(&mutual), codes(&plain), "{flag}");
        assert_eq!(mutual.groups, plain.groups, "{flag}");
        assert_eq!(
            mutual.signature_algorithms, plain.signature_algorithms,
            "{flag}"
        );
        assert!(!mutual.signature_algorithms.is_empty(), "{flag}");

        // The chain, for every request, although no handshake completed
        // (TLS 1.2) or the request was refused (TLS 1.3).
        for (m, p) in mutual.certificates.iter().zip(&plain.certificates) {
            assert_eq!(m.refused, None, "{flag}: {m:#?}");
            // With -CAfile, s_server also sends its CA.
            assert_eq!(m.chain.len(), 2, "{flag}: {m:#?}");
            assert_eq!(m.chain[0].subject, p.chain[0].subject, "{flag}");
            assert_eq!(m.chain[0].issuer, LAB_CA);
            assert_eq!(m.chain[0].sans, vec!["DNS:localhost".to_owned()]);
            assert_eq!(m.protocol, p.protocol, "{flag}");
        }
        assert_eq!(mutual.certificates.len(), plain.certificates.len());

        // ALPN is agreed in the ServerHello / EncryptedExtensions, before
        // the refusal.
        let alpn = mutual.alpn.as_ref().expect("alpn scanned");
        let plain_alpn = plain.alpn.as_ref().expect("alpn scanned");
        assert_eq!((alpn.h2, alpn.http11), (plain_alpn.h2, plain_alpn.http11));
        assert_eq!(alpn.h2, Some(true), "{flag}: {alpn:#?}");
        if flag == "-tls1_2" {
            assert!(alpn.evidence.contains("broken off"), "{alpn:#?}");
        }

        let m = mutual.mtls.as_ref().expect("mtls scanned");
        assert_eq!(m.client_cert_required, Some(true), "{flag}: {m:#?}");
        assert_eq!(
            plain
                .mtls
                .as_ref()
                .expect("mtls scanned")
                .client_cert_requested,
            Some(false)
        );
    }
}

#[test]
fn cli_json_has_the_mtls_object() {
    let server = OpensslServer::start_with_client_auth(ClientVerify::Required, &["-tls1_3"]);
    let out = Command::cargo_bin("tlsposture")
        .expect("binary builds")
        .args(["scan", &server.addr().to_string(), "--json", "-"])
        .timeout(Duration::from_secs(60))
        .output()
        .expect("tlsposture runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
    let mtls = &json["targets"][0]["mtls"];
    assert_eq!(mtls["client_cert_required"], true, "{mtls:#}");
    assert_eq!(mtls["client_cert_requested"], true, "{mtls:#}");
    assert_eq!(mtls["acceptable_ca_names"][0], LAB_CA, "{mtls:#}");
    let probes = mtls["probes"].as_array().expect("probes");
    assert_eq!(probes.len(), 2, "{mtls:#}");
    assert_eq!(probes[0]["identity"], "none");
    assert_eq!(probes[0]["outcome"], "refused");
    assert_eq!(probes[0]["protocol"], "TLS1.3");
    assert_eq!(probes[1]["identity"], "unknown-ca");
    assert_eq!(probes[1]["outcome"], "refused");
}

#[test]
fn mtls_is_a_check_of_its_own_and_part_of_all() {
    let only = Checks::parse("protocols,mtls").expect("parses");
    assert_eq!(
        only,
        Checks {
            mtls: true,
            ..Checks::PROTOCOLS_ONLY
        }
    );
    assert!(Checks::parse("all").expect("parses").mtls);
    assert!(!Checks::parse("certificates").expect("parses").mtls);
    let err = Checks::parse("bogus").unwrap_err();
    assert!(err.contains("mtls"), "{err}");
}
