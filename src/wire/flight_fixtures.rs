//! Real server flights captured from openssl s_server and Envoy (see
//! `fixtures/flights/README.md`), decoded with concrete expectations. These
//! pin the decoder to what servers actually send, not to what we think the
//! RFCs say.

use super::*;

/// Hex text to bytes: `#` lines are comments, whitespace is ignored.
/// Shared with the other unit tests that replay a captured flight.
pub(crate) fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(|l| l.bytes())
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn decode(text: &str) -> Vec<ServerMessage> {
    let bytes = hex(text);
    let mut d = FlightDecoder::new();
    d.feed(&bytes);
    let mut out = Vec::new();
    while let Some(m) = d.next_message().expect("fixture decodes") {
        out.push(m);
    }
    assert_eq!(d.pending_bytes(), 0, "fixture ends on a message boundary");
    out
}

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../fixtures/flights/", $name, ".hex"))
    };
}

fn server_hello(m: &ServerMessage) -> &ServerHello {
    match m {
        ServerMessage::ServerHello(sh) | ServerMessage::HelloRetryRequest(sh) => sh,
        other => panic!("expected a ServerHello, got {other:?}"),
    }
}

fn ske(m: &ServerMessage) -> &ServerKeyExchange {
    match m {
        ServerMessage::ServerKeyExchange(ske) => ske,
        other => panic!("expected a ServerKeyExchange, got {other:?}"),
    }
}

fn cert_count(m: &ServerMessage) -> usize {
    match m {
        ServerMessage::Certificate(certs) => {
            // A DER certificate is a SEQUENCE with a two-byte long-form length.
            assert!(certs.iter().all(|c| c.starts_with(&[0x30, 0x82])));
            certs.len()
        }
        other => panic!("expected a Certificate, got {other:?}"),
    }
}

fn alert_name(m: &ServerMessage) -> &'static str {
    match m {
        ServerMessage::Alert(a) => {
            assert!(a.is_fatal());
            a.description.name()
        }
        other => panic!("expected an alert, got {other:?}"),
    }
}

#[test]
fn openssl_tls12_ecdhe_rsa_full_flight() {
    let msgs = decode(fixture!("openssl_tls12_ecdhe_rsa"));
    assert_eq!(msgs.len(), 4);
    let sh = server_hello(&msgs[0]);
    assert_eq!(sh.negotiated_version(), 0x0303);
    assert_eq!(sh.cipher_suite, 0xc02f);
    assert!(sh.has_extension(hello::ext::RENEGOTIATION_INFO));
    assert!(sh.has_extension(hello::ext::EXTENDED_MASTER_SECRET));
    assert_eq!(cert_count(&msgs[1]), 1);
    let p = ske(&msgs[2]).as_ecdhe().unwrap();
    assert_eq!(
        (p.group, p.public_len, p.sig_scheme),
        (0x001d, 32, Some(0x0804))
    );
    assert_eq!(msgs[3], ServerMessage::ServerHelloDone);
}

#[test]
fn openssl_tls12_dhe_prime_bits() {
    let msgs = decode(fixture!("openssl_tls12_dhe_rsa"));
    assert_eq!(server_hello(&msgs[0]).cipher_suite, 0x009e);
    assert_eq!(cert_count(&msgs[1]), 1);
    let dh = ske(&msgs[2]).as_dhe(true).unwrap();
    assert_eq!(dh.prime_bits, 2048);
    assert_eq!((dh.generator_len, dh.public_len), (1, 256));
    assert_eq!(dh.sig_scheme, Some(0x0804));
    // RFC 7919 / RFC 3526 primes start and end with 64 one bits.
    assert!(dh.prime.starts_with(&[0xff; 8]) && dh.prime.ends_with(&[0xff; 8]));
    assert_eq!(msgs[3], ServerMessage::ServerHelloDone);
}

#[test]
fn openssl_tls10_ecdhe_without_signature_scheme() {
    let msgs = decode(fixture!("openssl_tls10"));
    let sh = server_hello(&msgs[0]);
    assert_eq!(
        (sh.legacy_version, sh.negotiated_version()),
        (0x0301, 0x0301)
    );
    assert_eq!(sh.cipher_suite, 0xc013);
    assert_eq!(cert_count(&msgs[1]), 1);
    let p = ske(&msgs[2]).as_ecdhe().unwrap();
    assert_eq!((p.group, p.sig_scheme), (0x001d, None));
    assert_eq!(msgs.len(), 4);
}

#[test]
fn openssl_tls13_hello_then_sealed_records() {
    let msgs = decode(fixture!("openssl_tls13"));
    let sh = server_hello(&msgs[0]);
    assert!(!sh.is_hello_retry_request());
    assert_eq!(
        (sh.legacy_version, sh.negotiated_version()),
        (0x0303, 0x0304)
    );
    assert_eq!(sh.cipher_suite, 0x1301);
    assert_eq!(sh.key_share_group(), Some(0x001d));
    assert_eq!(msgs[1], ServerMessage::ChangeCipherSpec);
    assert_eq!(msgs.len(), 6);
    assert!(msgs[2..]
        .iter()
        .all(|m| matches!(m, ServerMessage::EncryptedRecord { .. })));
}

#[test]
fn openssl_hello_retry_request_names_the_group() {
    let msgs = decode(fixture!("openssl_tls13_hrr"));
    assert!(matches!(msgs[0], ServerMessage::HelloRetryRequest(_)));
    let hrr = server_hello(&msgs[0]);
    assert!(hrr.is_hello_retry_request());
    assert_eq!(hrr.negotiated_version(), 0x0304);
    assert_eq!(hrr.key_share_group(), Some(0x001d));
    assert_eq!(msgs[1..], [ServerMessage::ChangeCipherSpec]);
}

#[test]
fn openssl_alerts() {
    let msgs = decode(fixture!("openssl_alert_protocol_version"));
    assert_eq!(msgs.len(), 1);
    assert_eq!(alert_name(&msgs[0]), "protocol_version");
    // OpenSSL 3 answers an SSLv2 CLIENT-HELLO with a TLS alert record.
    let msgs = decode(fixture!("openssl_sslv2_to_openssl"));
    assert_eq!(msgs.len(), 1);
    assert_eq!(alert_name(&msgs[0]), "protocol_version");
}

#[test]
fn envoy_tls13_x25519mlkem768() {
    let msgs = decode(fixture!("envoy_tls13_mlkem"));
    let sh = server_hello(&msgs[0]);
    assert_eq!(sh.negotiated_version(), 0x0304);
    assert_eq!(sh.cipher_suite, 0x1301);
    assert_eq!(sh.key_share_group(), Some(0x11ec));
    // Server share: ML-KEM-768 ciphertext (1088) then X25519 (32), behind
    // the group and length fields.
    assert_eq!(
        sh.extension(hello::ext::KEY_SHARE).map(<[u8]>::len),
        Some(4 + 1088 + 32)
    );
    assert_eq!(msgs[1], ServerMessage::ChangeCipherSpec);
    assert!(matches!(msgs[2], ServerMessage::EncryptedRecord { .. }));
}

#[test]
fn envoy_tls12_ecdhe_with_downgrade_sentinel() {
    let msgs = decode(fixture!("envoy_tls12_ecdhe"));
    let sh = server_hello(&msgs[0]);
    assert_eq!(sh.negotiated_version(), 0x0303);
    assert_eq!(sh.cipher_suite, 0xc02f);
    // A TLS 1.3-capable BoringSSL marks a 1.2 answer (RFC 8446 4.1.3).
    assert_eq!(sh.downgrade_sentinel(), Some(0x0303));
    assert_eq!(cert_count(&msgs[1]), 1);
    let p = ske(&msgs[2]).as_ecdhe().unwrap();
    assert_eq!(
        (p.group, p.public_len, p.sig_scheme),
        (0x001d, 32, Some(0x0804))
    );
    assert_eq!(msgs[3], ServerMessage::ServerHelloDone);
}

#[test]
fn every_fixture_decodes_the_same_byte_by_byte() {
    for text in [
        fixture!("openssl_tls12_ecdhe_rsa"),
        fixture!("openssl_tls12_dhe_rsa"),
        fixture!("openssl_tls13"),
        fixture!("envoy_tls13_mlkem"),
        fixture!("envoy_tls12_ecdhe"),
    ] {
        let bytes = hex(text);
        let mut d = FlightDecoder::new();
        let mut msgs = Vec::new();
        for b in &bytes {
            d.feed(std::slice::from_ref(b));
            while let Some(m) = d.next_message().unwrap() {
                msgs.push(m);
            }
        }
        assert_eq!(msgs, decode(text));
    }
}
