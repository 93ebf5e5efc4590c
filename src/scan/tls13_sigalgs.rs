//! Which signature schemes the server signs its TLS 1.3 CertificateVerify
//! with: offer every TLS 1.3 scheme of the registry, note the one the
//! server used, offer the rest again without it, and so on until the
//! server refuses. The server's certificate kind (RSA, ECDSA, both) decides
//! the list, so each result carries the key type that signed.
//!
//! The recording verifier accepts any scheme, so schemes rustls cannot
//! verify (Ed448, ML-DSA, brainpool …) are still found.

use super::certs::full_handshake;
use super::Prober;
use crate::observe::SignatureResult;
use crate::registry::{signature_scheme, signature_schemes};
use crate::tls_client::HandshakeOptions;
use crate::wire::ProtocolVersion;

/// The schemes in the order found (the server's preference among what is
/// left). Empty when TLS 1.3 is refused outright. One handshake per scheme
/// found plus the final refusal, run one after the other (each depends on
/// the last).
pub async fn enumerate_tls13_signatures(
    prober: &Prober,
    sni: Option<&str>,
) -> Vec<SignatureResult> {
    let mut remaining: Vec<u16> = signature_schemes()
        .iter()
        .filter(|s| s.tls13)
        .map(|s| s.code)
        .collect();
    let mut found = Vec::new();
    while !remaining.is_empty() {
        let opts = HandshakeOptions {
            sni: sni.map(str::to_owned),
            alpn: Vec::new(),
            versions: vec![ProtocolVersion::Tls13],
            signature_schemes: Some(remaining.clone()),
        };
        let Ok(record) = full_handshake(prober, &opts).await else {
            break;
        };
        // A server that signs with something not offered (or not at all)
        // would loop forever: stop at the first such answer.
        let Some(code) = record.signature_scheme.filter(|c| remaining.contains(c)) else {
            break;
        };
        remaining.retain(|c| *c != code);
        found.push(SignatureResult {
            protocol: ProtocolVersion::Tls13,
            code,
            name: signature_scheme(code)
                .map(|s| s.name.clone())
                .unwrap_or_else(|| format!("unknown_0x{code:04X}")),
            key_type: record.key_type,
        });
    }
    found
}
