//! Which application protocols (ALPN) the server agrees to: one rustls
//! handshake offering only `h2`, one offering only `http/1.1`, run
//! together. Istio gateways advertise `h2,http/1.1`; a listener that drops
//! h2 changes what browsers and gRPC clients can do.
//!
//! Observation only: whether h2 should be there is `verdict`'s question.

use super::certs::full_handshake;
use super::removal::all_sigalgs;
use super::{Prober, COMPACT_SUITES};
use crate::observe::AlpnResult;
use crate::probe::{Outcome, StopAt};
use crate::registry;
use crate::tls_client::HandshakeOptions;
use crate::wire::{self, AlertDescription, ClientHelloSpec, Extension, ProtocolVersion};

/// The alert a server refuses every offered protocol with (RFC 7301).
const NO_APPLICATION_PROTOCOL: u8 = 120;

/// ALPN from a raw TLS 1.2 hello (a real client's size: the compact suite
/// list) offering only `protocol`; `None` when the answer says nothing
/// either way.
async fn raw_tls12(
    prober: &Prober,
    sni: Option<&str>,
    protocol: &[u8],
) -> Option<(Option<bool>, String)> {
    let suites: Vec<u16> = registry::suites_for(ProtocolVersion::Tls12)
        .iter()
        .take(COMPACT_SUITES)
        .map(|s| s.code)
        .collect();
    let mut spec = ClientHelloSpec::for_version(
        ProtocolVersion::Tls12,
        suites,
        sni,
        Vec::new(),
        vec![0x001d, 0x0017, 0x0018, 0x0019],
        all_sigalgs(),
    );
    spec.extensions
        .push(Extension::Alpn(vec![protocol.to_vec()]));
    let outcome = prober
        .send(wire::encode_client_hello(&spec), StopAt::ServerHello)
        .await
        .ok()?;
    let via = "a raw TLS1.2 hello, as the server refused our TLS client's";
    match outcome {
        Outcome::Hello(flight) => {
            let hello = flight.hello?;
            Some(match hello.alpn() {
                Some(p) if p == protocol => (Some(true), format!("agreed (TLS1.2, {via})")),
                Some(other) => (
                    Some(false),
                    format!(
                        "server chose {:?} instead (TLS1.2, {via})",
                        String::from_utf8_lossy(&other)
                    ),
                ),
                None => (Some(false), format!("no protocol selected (TLS1.2, {via})")),
            })
        }
        Outcome::Alert(a)
            if a.description == AlertDescription::from_u8(NO_APPLICATION_PROTOCOL) =>
        {
            Some((
                Some(false),
                format!("refused: alert no_application_protocol ({via})"),
            ))
        }
        _ => None,
    }
}

/// Agreed (`Some(true)`), not agreed (`Some(false)`: the server chose no
/// protocol or refused with `no_application_protocol`), or `None` when it
/// could not be tested (no TLS 1.2/1.3, or the handshake failed for
/// another reason).
pub async fn scan_alpn(
    prober: &Prober,
    sni: Option<&str>,
    offered: &[ProtocolVersion],
) -> AlpnResult {
    let versions = crate::tls_client::rustls_versions(offered);
    if versions.is_empty() {
        return AlpnResult {
            h2: None,
            http11: None,
            evidence: "not tested: ALPN needs TLS 1.2 or 1.3, and neither is offered".to_owned(),
        };
    }
    let (h2, http11) = tokio::join!(
        agrees(prober, sni, &versions, b"h2"),
        agrees(prober, sni, &versions, b"http/1.1")
    );
    AlpnResult {
        h2: h2.0,
        http11: http11.0,
        evidence: format!("h2: {}; http/1.1: {}", h2.1, http11.1),
    }
}

async fn agrees(
    prober: &Prober,
    sni: Option<&str>,
    versions: &[ProtocolVersion],
    protocol: &[u8],
) -> (Option<bool>, String) {
    let opts = HandshakeOptions {
        sni: sni.map(str::to_owned),
        alpn: vec![protocol.to_vec()],
        versions: versions.to_vec(),
        signature_schemes: None,
    };
    match full_handshake(prober, &opts).await {
        // A handshake refused after the server's Certificate (a TLS 1.2
        // server requiring a client certificate) still showed the
        // ServerHello / EncryptedExtensions, where ALPN is agreed.
        Ok(record) => {
            let version = record.protocol.map(|v| v.name()).unwrap_or("TLS");
            let after = record
                .broken_off
                .as_deref()
                .map(|why| format!("; handshake then broken off: {why}"))
                .unwrap_or_default();
            match record.alpn {
                Some(p) if p == protocol => (Some(true), format!("agreed ({version}){after}")),
                Some(other) => (
                    Some(false),
                    format!(
                        "server chose {:?} instead ({version}){after}",
                        String::from_utf8_lossy(&other)
                    ),
                ),
                None => (
                    Some(false),
                    format!("no protocol selected ({version}){after}"),
                ),
            }
        }
        Err(why) if why.reason.contains("NoApplicationProtocol") => {
            (Some(false), format!("refused: {why}"))
        }
        // Apache without mod_http2 answers an h2-only offer with
        // http/1.1, which RFC 7301 §3.2 forbids: not agreed either way.
        Err(why) if why.reason.contains("SelectedUnofferedApplicationProtocol") => (
            Some(false),
            format!("not agreed: the server selected a protocol that was not offered ({why})"),
        ),
        Err(why) if versions.contains(&ProtocolVersion::Tls12) && why.by_server => {
            // A server that refuses rustls's hello itself (wolfSSL 5.5
            // closes on its status_request) still shows ALPN in a raw TLS
            // 1.2 ServerHello, in the clear.
            match raw_tls12(prober, sni, protocol).await {
                Some(answer) => answer,
                None => (None, format!("handshake failed: {why}")),
            }
        }
        Err(why) => {
            if !why.by_server {
                prober
                    .note_unanswered(format!("ALPN {}: {why}", String::from_utf8_lossy(protocol)));
            }
            (None, format!("handshake failed: {why}"))
        }
    }
}
