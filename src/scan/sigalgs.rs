//! TLS 1.2 signature schemes, per certificate type, by iterative removal
//! over `signature_algorithms`: the ServerKeyExchange names the scheme the
//! server signed with. TLS 1.3 signatures (CertificateVerify, encrypted) are
//! not read here; a full handshake elsewhere does that.
//!
//! Which certificate types exist is learnt from the suites: for each of
//! RSA and ECDSA, the strongest ECDHE (else DHE) suite of that type the
//! server accepts in a probe of its own is offered alone.

use futures::future::join_all;

use crate::observe::SignatureResult;
use crate::probe::StopAt;
use crate::registry;
use crate::wire::ProtocolVersion;

use super::removal::{all_groups, all_sigalgs, raw_hello, remove_iteratively, suite_pick, Pick};
use super::Prober;

const TLS12: ProtocolVersion = ProtocolVersion::Tls12;

/// The TLS 1.2 schemes per key type (RSA first, then ECDSA), each in the
/// order the server picked them. Empty when TLS 1.2 is not in `offered`.
pub async fn enumerate_tls12_signatures(
    prober: &Prober,
    sni: Option<&str>,
    offered: &[ProtocolVersion],
) -> Vec<SignatureResult> {
    if !offered.contains(&TLS12) {
        return Vec::new();
    }
    let per_type = join_all(
        ["RSA", "ECDSA"]
            .into_iter()
            .map(|key_type| enumerate_key_type(prober, sni, key_type)),
    )
    .await;
    per_type.into_iter().flatten().collect()
}

async fn enumerate_key_type(
    prober: &Prober,
    sni: Option<&str>,
    key_type: &'static str,
) -> Vec<SignatureResult> {
    let groups = all_groups();
    let sigalgs = all_sigalgs();
    // Signed key exchanges of this certificate type, ECDHE before DHE.
    let suites: Vec<u16> = registry::suites_for(TLS12)
        .iter()
        .filter(|s| s.auth == key_type && matches!(s.kx.as_str(), "ECDHE" | "DHE"))
        .take(super::BUNDLE)
        .map(|s| s.code)
        .collect();
    if suites.is_empty() {
        return Vec::new();
    }
    // One probe offering every such suite: the pick says whether the server
    // has a certificate of this type and which suite to sign with.
    let hello = raw_hello(TLS12, sni, &suites, &groups, &sigalgs);
    let Ok(outcome) = prober.send(hello, StopAt::FlightEnd).await else {
        return Vec::new();
    };
    let Some(suite_pick_first) = suite_pick(&outcome, TLS12) else {
        return Vec::new();
    };
    let suite = suite_pick_first.suite;
    let candidates: Vec<u16> = sigalgs
        .iter()
        .copied()
        .filter(|c| registry::signature_scheme(*c).is_some_and(|s| matches_key(&s.kind, key_type)))
        .collect();
    let hello = |schemes: &[u16]| raw_hello(TLS12, sni, &[suite], &groups, schemes);
    // The first probe already showed the scheme picked from the full list.
    let mut picks: Vec<u16> = suite_pick_first.sig_scheme.into_iter().collect();
    let rest: Vec<u16> = candidates
        .into_iter()
        .filter(|c| !picks.contains(c))
        .collect();
    if !picks.is_empty() {
        let removal = remove_iteratively(prober, rest, StopAt::FlightEnd, false, hello, |o| {
            let pick = suite_pick(o, TLS12)?;
            Some(Pick::code_only(pick.sig_scheme?))
        })
        .await;
        picks.extend(removal.codes());
    }
    picks
        .into_iter()
        .map(|code| SignatureResult {
            protocol: TLS12,
            code,
            name: registry::signature_scheme(code)
                .map(|s| s.name.clone())
                .unwrap_or_else(|| format!("0x{code:04X}")),
            key_type: Some(key_type.to_string()),
        })
        .collect()
}

/// Whether a scheme family can be made with a key of `key_type`.
fn matches_key(kind: &str, key_type: &str) -> bool {
    match key_type {
        "RSA" => matches!(kind, "rsa_pkcs1" | "rsa_pss_rsae"),
        "ECDSA" => kind == "ecdsa",
        _ => false,
    }
}
