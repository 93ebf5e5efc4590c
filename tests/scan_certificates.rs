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
use tlsposture::observe::code::hex;
use tlsposture::observe::CertificateResult;
use tlsposture::probe::ProbeTimeouts;
use tlsposture::scan::{self, Prober};
use tlsposture::wire::ProtocolVersion::{self, Tls12, Tls13};

use support::{runtime, OpensslServer};

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
    results
        .iter()
        .filter(|r| r.request.name() == request)
        .collect()
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

#[test]
fn dual_certificate_listener_yields_both_key_types() {
    let prober = prober(addr("dual"));
    let roots = lab_roots();
    let results = runtime().block_on(scan::scan_certificates(
        &prober,
        &[HOST.to_owned()],
        &[Tls12, Tls13],
        &roots,
    ));
    let named = by_request(&results, "requested");
    let kinds: Vec<(Option<&str>, &str)> = named
        .iter()
        .map(|r| (r.key_type.as_deref(), r.chain[0].key_type.as_str()))
        .collect();
    assert_eq!(kinds, [(Some("RSA"), "RSA"), (Some("ECDSA"), "ECDSA")]);
    assert_eq!(named[1].chain[0].curve.as_deref(), Some("P-256"));
    for r in &named {
        assert_eq!(r.trusted, Some(true), "{:?}", r.trust_error);
        assert_eq!(r.hostname_match, Some(true));
    }
    // An ordinary client (none / unknown) gets the ECDSA one from Envoy.
    assert_eq!(by_request(&results, "none")[0].chain[0].key_type, "ECDSA");
    assert_eq!(prober.handshakes(), 4);
}

#[test]
fn alpn_on_envoy_agrees_to_h2_and_http11() {
    let prober = prober(addr("min-tls12"));
    let alpn = runtime().block_on(scan::scan_alpn(&prober, Some(HOST), &[Tls12, Tls13]));
    assert_eq!(
        (alpn.h2, alpn.http11),
        (Some(true), Some(true)),
        "{}",
        alpn.evidence
    );
    assert_eq!(
        alpn.evidence,
        "h2: agreed (TLS1.3); http/1.1: agreed (TLS1.3)"
    );
    assert_eq!(prober.handshakes(), 2);

    // Without TLS 1.2/1.3 nothing is tried.
    let untested = runtime().block_on(scan::scan_alpn(
        &prober,
        Some(HOST),
        &[ProtocolVersion::Tls10],
    ));
    assert_eq!((untested.h2, untested.http11), (None, None));
    assert_eq!(prober.handshakes(), 2);
}

#[test]
fn tls13_signature_schemes_of_envoy_rsa_and_dual_listeners() {
    // BoringSSL signs TLS 1.3 with an RSA key using the three RSA-PSS
    // (rsae) schemes only, SHA-256 first; PKCS#1 is forbidden in 1.3 and
    // rsa_pss_pss needs a PSS key. With both certificates it prefers ECDSA
    // P-256 and falls back to the RSA certificate once that is removed.
    let rsa_prober = prober(addr("min-tls12"));
    let found = runtime().block_on(scan::enumerate_tls13_signatures(&rsa_prober, Some(HOST)));
    let rsae = [
        ("0x0804", "rsa_pss_rsae_sha256"),
        ("0x0805", "rsa_pss_rsae_sha384"),
        ("0x0806", "rsa_pss_rsae_sha512"),
    ];
    let seen: Vec<(String, &str, Option<&str>)> = found
        .iter()
        .map(|s| (hex(s.code), s.name.as_str(), s.key_type.as_deref()))
        .collect();
    let expected: Vec<(String, &str, Option<&str>)> = rsae
        .iter()
        .map(|(c, n)| (c.to_string(), *n, Some("RSA")))
        .collect();
    assert_eq!(seen, expected);
    assert!(found.iter().all(|s| s.protocol == Tls13));
    // One handshake per scheme, plus the refusal that ends the walk.
    assert_eq!(rsa_prober.handshakes(), 4);

    // OpenSSL as a second opinion: each scheme alone still connects with
    // an RSA-PSS signature, and an ECDSA-only offer is refused.
    for (_, name) in rsae {
        let hs = support::s_client(
            addr("min-tls12"),
            Some(HOST),
            &["-tls1_3", "-sigalgs", name],
        );
        assert_eq!(hs.protocol.as_deref(), Some("TLSv1.3"), "{}", hs.output);
        assert!(
            hs.output.contains("Signature type: RSA-PSS"),
            "{}",
            hs.output
        );
    }
    let ecdsa_only = support::s_client(
        addr("min-tls12"),
        Some(HOST),
        &["-tls1_3", "-sigalgs", "ecdsa_secp256r1_sha256"],
    );
    assert_eq!(ecdsa_only.protocol, None, "{}", ecdsa_only.output);

    let dual = prober(addr("dual"));
    let found = runtime().block_on(scan::enumerate_tls13_signatures(&dual, Some(HOST)));
    let seen: Vec<(&str, Option<&str>)> = found
        .iter()
        .map(|s| (s.name.as_str(), s.key_type.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            ("ecdsa_secp256r1_sha256", Some("ECDSA")),
            ("rsa_pss_rsae_sha256", Some("RSA")),
            ("rsa_pss_rsae_sha384", Some("RSA")),
            ("rsa_pss_rsae_sha512", Some("RSA")),
        ]
    );
    assert_eq!(dual.handshakes(), 5);
}

#[test]
fn tls10_only_server_still_yields_its_certificate_through_the_raw_path() {
    let server = OpensslServer::start(&["-tls1", "-cipher", "ALL:@SECLEVEL=0"]);
    let prober = prober(server.addr());
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, server.ca_pem()).expect("writing ca.pem");
    let roots = cert::load_ca_file(&ca).expect("loading the CA");
    let results = runtime().block_on(scan::scan_certificates(
        &prober,
        &["localhost".to_owned()],
        &[ProtocolVersion::Tls10],
        &roots,
    ));
    assert_eq!(results.len(), 3, "{results:#?}");
    for r in &results {
        assert_eq!(r.refused, None, "{r:#?}");
        assert_eq!(r.protocol, Some(ProtocolVersion::Tls10));
        assert_eq!(r.chain[0].sans, ["DNS:localhost"]);
        assert_eq!(r.chain[0].key_type, "RSA");
        assert_eq!(r.trusted, Some(true), "{:?}", r.trust_error);
    }
    assert_eq!(
        by_request(&results, "requested")[0].hostname_match,
        Some(true)
    );
    // One raw hello per request: rustls is never tried on TLS 1.0.
    assert_eq!(prober.handshakes(), 3);
}

#[test]
fn expired_self_signed_certificate_on_openssl_has_negative_days_left() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert_path, key_path) = expired_self_signed(dir.path());
    // A later -cert/-key overrides the helper's own certificate.
    let server = OpensslServer::start(&[
        "-cert",
        cert_path.to_str().expect("utf-8 path"),
        "-key",
        key_path.to_str().expect("utf-8 path"),
    ]);
    let prober = prober(server.addr());
    let results = runtime().block_on(scan::scan_certificates(
        &prober,
        &["expired.test".to_owned()],
        &[Tls12, Tls13],
        &TrustRoots::Public,
    ));
    let named = by_request(&results, "requested")[0];
    assert_eq!(named.refused, None, "{named:#?}");
    let leaf = &named.chain[0];
    assert_eq!(leaf.subject, "CN=expired.test");
    assert!(leaf.self_signed, "{leaf:#?}");
    let days = named.days_left.expect("days_left");
    assert!((-11..=-9).contains(&days), "days_left {days}");
    assert_eq!(named.trusted, Some(false));
    assert_eq!(named.hostname_match, Some(true));
    // A self-signed leaf is untrusted, not an incomplete chain.
    assert!(
        named.chain_problems.is_empty(),
        "{:?}",
        named.chain_problems
    );

    // Trusting the certificate itself leaves only its expiry.
    let own = TrustRoots::Custom(vec![cert::load_ca_file(&cert_path)
        .map(|r| match r {
            TrustRoots::Custom(mut v) => v.remove(0),
            TrustRoots::Public => unreachable!(),
        })
        .expect("reading the certificate back")]);
    let results = runtime().block_on(scan::scan_certificates(
        &prober,
        &["expired.test".to_owned()],
        &[Tls12, Tls13],
        &own,
    ));
    let why = by_request(&results, "requested")[0]
        .trust_error
        .clone()
        .unwrap_or_default();
    assert!(why.starts_with("expired"), "{why}");
}

/// A self-signed ECDSA certificate for `expired.test` that expired ten
/// days ago (rcgen, so no clock tricks are needed).
fn expired_self_signed(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let mut params =
        rcgen::CertificateParams::new(vec!["expired.test".to_owned()]).expect("params");
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, "expired.test");
    params.distinguished_name = dn;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(100);
    params.not_after = now - time::Duration::days(10);
    let cert = params.self_signed(&key).expect("self-signed");
    let cert_path = dir.join("expired.pem");
    let key_path = dir.join("expired.key");
    std::fs::write(&cert_path, cert.pem()).expect("writing the certificate");
    std::fs::write(&key_path, key.serialize_pem()).expect("writing the key");
    (cert_path, key_path)
}

#[test]
fn watch_fetch_sees_the_served_leaf() {
    let seen = runtime()
        .block_on(scan::fetch_served(
            addr("min-tls12"),
            Some(HOST),
            ProbeTimeouts::default(),
        ))
        .expect("fetch");
    assert_eq!(seen.sni.as_deref(), Some(HOST));
    assert!(
        seen.subject.ends_with(&format!("CN={HOST}")),
        "{}",
        seen.subject
    );
    let via_scan = runtime().block_on(scan::scan_certificates(
        &prober(addr("min-tls12")),
        &[],
        &[Tls13],
        &TrustRoots::Public,
    ));
    assert_eq!(seen.sha256, via_scan[0].chain[0].sha256);
    assert_eq!(seen.not_after, via_scan[0].chain[0].not_after);

    // Nothing listening: a sentence, not a panic.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let gone = closed.local_addr().expect("addr");
    drop(closed);
    let err = runtime()
        .block_on(scan::fetch_served(gone, None, ProbeTimeouts::default()))
        .unwrap_err();
    assert!(err.contains("refused"), "{err}");
}

#[test]
fn refused_handshake_is_reported_with_the_reason() {
    // A TLS 1.3-only server asked for TLS 1.2: every request is refused.
    let server = OpensslServer::start(&["-tls1_3"]);
    let prober = prober(server.addr());
    let results = runtime().block_on(scan::scan_certificates(
        &prober,
        &["localhost".to_owned()],
        &[Tls12],
        &TrustRoots::Public,
    ));
    // RSA- and ECDSA-restricted both refused, then one ordinary try for
    // the requested name; one each for none and unknown.
    assert_eq!(prober.handshakes(), 5);
    assert_eq!(results.len(), 3);
    for r in &results {
        let why = r.refused.as_deref().expect("refused");
        assert!(why.contains("ProtocolVersion"), "{why}");
        assert!(r.chain.is_empty() && r.trusted.is_none() && r.days_left.is_none());
    }
}
