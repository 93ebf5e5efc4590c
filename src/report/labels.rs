//! Wording shared by the terminal and the HTML renderers, so a fact reads
//! the same in a CI log and in the page: the protocol verdicts in
//! testssl.sh's words, the server-preference and mTLS conclusions, how a
//! suite's key exchange and a certificate request are named. Words only:
//! each renderer picks its own colours from the [`Tone`].

use super::model::SuiteResult;
use super::model::{CertRequest, CertificateResult, MtlsResult, PreferenceResult, ProtocolResult};
use crate::wire::ProtocolVersion;

/// Whether a fact is good news, a concern or bad news, for the renderer's
/// colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Concern,
    Bad,
    Neutral,
    Unknown,
}

/// testssl.sh-style wording: what is offered, and whether that is good.
pub fn protocol_verdict(p: &ProtocolResult) -> (&'static str, Tone) {
    use ProtocolVersion::*;
    match (p.version, p.offered) {
        (_, None) => ("unknown", Tone::Unknown),
        (Ssl2 | Ssl3, Some(true)) => ("offered (NOT ok)", Tone::Bad),
        (Ssl2 | Ssl3, Some(false)) => ("not offered (OK)", Tone::Good),
        (Tls10 | Tls11, Some(true)) => ("offered (deprecated)", Tone::Concern),
        (Tls10 | Tls11, Some(false)) => ("not offered", Tone::Neutral),
        (Tls12 | Tls13, Some(true)) => ("offered (OK)", Tone::Good),
        (Tls12 | Tls13, Some(false)) => ("not offered", Tone::Neutral),
    }
}

/// Who picks the suite, e.g. "server order".
pub fn preference_verdict(p: &PreferenceResult) -> &'static str {
    match p.server_enforces {
        Some(true) => "server order",
        Some(false) => "client order (server has no preference)",
        None if p.evidence.starts_with("mixed") => {
            "mixed (neither server nor client order; see the JSON evidence)"
        }
        None => "undetermined",
    }
}

/// The server's order, most preferred first; an equal-preference tier in
/// brackets: `A > [B | C] > D`.
pub fn preference_order(p: &PreferenceResult) -> String {
    let tiers: Vec<String> = p
        .order
        .iter()
        .map(|tier| {
            if tier.len() > 1 {
                format!("[{}]", tier.join(" | "))
            } else {
                tier.join("")
            }
        })
        .collect();
    tiers.join(" > ")
}

/// The key exchange with what was seen of it: `ECDHE x25519`, `DHE 2048 bits`.
pub fn suite_kx(s: &SuiteResult) -> String {
    match (&s.group, s.dh_bits) {
        (Some(g), _) => format!("{} {g}", s.kx),
        (None, Some(bits)) => format!("{} {bits} bits", s.kx),
        (None, None) => s.kx.clone(),
    }
}

/// The name a certificate was requested with: the SNI, `no SNI`, or the
/// request kind.
pub fn cert_request(c: &CertificateResult) -> String {
    match (&c.sni, c.request) {
        (_, CertRequest::None) => "no SNI".to_string(),
        (Some(n), _) => n.clone(),
        (None, r) => r.to_string(),
    }
}

/// Whether client certificates are required, optional or not requested.
pub fn mtls_conclusion(mtls: &MtlsResult) -> String {
    match (mtls.client_cert_required, mtls.client_cert_requested) {
        (Some(true), _) if mtls.required_by_http.is_some() => format!(
            "client certificate required, by the HTTP layer (the handshake completes without one: {})",
            mtls.required_by_http.as_deref().unwrap_or_default()
        ),
        (Some(true), _) => "client certificate required".to_string(),
        (Some(false), Some(true)) => {
            "client certificate optional (requested, not required)".to_string()
        }
        (Some(false), _) => "client certificate not requested".to_string(),
        (None, _) => format!("unknown ({})", mtls.evidence),
    }
}
