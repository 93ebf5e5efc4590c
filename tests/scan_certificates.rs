//! Full handshakes against real servers on loopback: certificates per SNI
//! (with trust, names, expiry and dual RSA/ECDSA certificates), ALPN and
//! TLS 1.3 signature schemes on the lab's Envoy, the raw TLS 1.0 path and
//! an expired certificate on `openssl s_server`, and the `watch` fetch.
//! Each test also checks its handshake budget.

mod support;

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tlsposture::cert::{self, TrustRoots};
use tlsposture::lab::{seed_listeners, CertKinds, Lab, ListenerSpec};
use tlsposture::probe::ProbeTimeouts;
use tlsposture::report::model::CertificateResult;
use tlsposture::scan::{self, Prober};
use tlsposture::wire::ProtocolVersion::{self, Tls12, Tls13};

use support::runtime;

const HOST: &str = "gateway.lab.test";

/// One Envoy for the whole binary: the seed's `min-tls12` listener (RSA)
/// and a listener holding both an RSA and an ECDSA certificate.
fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(|| {
        let rsa = seed_listeners()
            .into_iter()
            .find(|l| l.name == "min-tls12")
            .expect("seed listener min-tls12");
        let dual = ListenerSpec {
            certificates: CertKinds::RsaAndEcdsa,
            ..ListenerSpec::new("dual", "an RSA and an ECDSA certificate for one host")
        };
        support::start_lab(vec![rsa, dual])
    })
}

fn addr(name: &str) -> SocketAddr {
    lab().listener(name).expect("listener").addr
}

fn prober(addr: SocketAddr) -> Prober {
    let timeouts = ProbeTimeouts {
        connect: Duration::from_secs(2),
        read: Duration::from_secs(3),
    };
    Prober::new(addr, timeouts, 8)
}

/// The lab CA as `--ca` would load it, from a file.
fn lab_roots() -> TrustRoots {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, lab().ca_pem()).expect("writing ca.pem");
    cert::load_ca_file(&path).expect("loading the lab CA")
}

fn by_request<'a>(results: &'a [CertificateResult], request: &str) -> Vec<&'a CertificateResult> {
    results.iter().filter(|r| r.request == request).collect()
}

#[test]
fn seed_listener_certificate_is_analysed_per_sni() {
    let prober = prober(addr("min-tls12"));
    let roots = lab_roots();
    let offered: &[ProtocolVersion] = &[Tls12, Tls13];
    let requested = vec![HOST.to_owned()];
    let started = Instant::now();
    let results = runtime().block_on(scan::scan_certificates(
        &prober, &requested, offered, &roots,
    ));
    let elapsed = started.elapsed();

    // One result per request: the listener holds one certificate.
    assert_eq!(results.len(), 3, "{results:#?}");
    let named = by_request(&results, "requested")[0];
    assert_eq!(named.sni.as_deref(), Some(HOST));
    assert_eq!(named.refused, None);
    assert_eq!(named.key_type, None);
    assert_eq!(named.protocol, Some(Tls13));
    let leaf = &named.chain[0];
    assert_eq!(leaf.sans, [format!("DNS:{HOST}")]);
    assert_eq!((leaf.key_type.as_str(), leaf.key_bits), ("RSA", 2048));
    assert!(
        leaf.issuer.ends_with("CN=tlsposture lab CA"),
        "{}",
        leaf.issuer
    );
    assert!(!leaf.self_signed && !leaf.is_ca);
    assert_eq!(named.trusted, Some(true), "{:?}", named.trust_error);
    assert_eq!(named.hostname_match, Some(true));
    let days = named.days_left.expect("days_left");
    assert!((363..=365).contains(&days), "days_left {days}");
    assert!(!named.ocsp_stapled);
    assert!(
        named.chain_problems.is_empty(),
        "{:?}",
        named.chain_problems
    );

    // No SNI and an unknown name: this lab has no SNI-matched filter chain,
    // so Envoy serves the same certificate; the name does not match it.
    let none = by_request(&results, "none")[0];
    assert_eq!((none.sni.as_deref(), none.hostname_match), (None, None));
    assert_eq!(none.chain[0].sha256, leaf.sha256);
    let unknown = by_request(&results, "unknown")[0];
    assert_eq!(unknown.sni.as_deref(), Some(scan::UNKNOWN_SNI));
    assert_eq!(unknown.hostname_match, Some(false));
    assert_eq!(unknown.chain[0].sha256, leaf.sha256);

    // Requested name: RSA- and ECDSA-restricted handshakes (the ECDSA one
    // is refused by an RSA-only listener); none and unknown: one each.
    assert_eq!(prober.handshakes(), 4);
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");

    // Against the public roots the lab CA is unknown, and says so.
    let public = runtime().block_on(scan::scan_certificates(
        &prober,
        &requested,
        offered,
        &TrustRoots::Public,
    ));
    let named = by_request(&public, "requested")[0];
    assert_eq!(named.trusted, Some(false));
    let why = named.trust_error.as_deref().expect("trust_error");
    assert!(why.starts_with("unknown issuer"), "{why}");
    assert!(why.contains("public"), "{why}");
    assert!(
        named
            .chain_problems
            .iter()
            .any(|p| p.starts_with("incomplete chain")),
        "{:?}",
        named.chain_problems
    );
    // Another name does not match the leaf.
    assert!(!cert::hostname_matches(
        &der_of(&named.chain[0].sha256, addr("min-tls12")),
        "other.lab.test"
    ));
}

/// The leaf DER served on `addr` (checked against the fingerprint seen).
fn der_of(sha256: &str, addr: SocketAddr) -> Vec<u8> {
    let opts = tlsposture::tls_client::HandshakeOptions {
        sni: Some(HOST.to_owned()),
        ..Default::default()
    };
    let record = runtime().block_on(async {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        tlsposture::tls_client::record_handshake(stream, &opts, Duration::from_secs(3))
            .await
            .expect("handshake")
    });
    let leaf = record.chain[0].clone();
    assert_eq!(cert::sha256_hex(&leaf), sha256);
    leaf
}
