//! Key-exchange groups by iterative removal over `supported_groups`.
//!
//! TLS 1.3: hellos with an EMPTY key_share, so the server names its group in
//! a cheap HelloRetryRequest. TLS 1.2: ECDHE suites only, the curve read from
//! the ServerKeyExchange. The order of picks is the server's preference (rank
//! 1 first) when it enforces one; a server following the client's order
//! shows the order offered. DH prime sizes of DHE suites are reported with
//! the suites (`SuiteResult::dh_bits`), not here.
//!
//! In TLS 1.2 `supported_groups` also tells the server which curves the
//! client can verify (RFC 8422 §5.1): an ECDSA certificate on P-256 cannot
//! be used once P-256 is removed, and the pass would stop there (nginx and
//! HAProxy with a P-256 leaf). So once a flight shows an ECDSA leaf, its
//! curve stays in every hello, last, and picking it again ends the pass.

use std::sync::Mutex;

use futures::future::join_all;

use crate::observe::{GroupResult, GroupVia};
use crate::probe::{Outcome, StopAt};
use crate::registry::{self, GroupKind};
use crate::wire::{ProtocolVersion, ServerMessage};

use super::removal::{
    all_groups, all_sigalgs, hello_at, raw_hello, remove_iteratively, suite_pick, Pick,
};
use super::Prober;

/// Enumerates the groups of TLS 1.3 and TLS 1.2, when offered, concurrently
/// (in TLS 1.2 the EC groups with ECDHE suites, and the RFC 7919 FFDHE
/// groups with DHE suites). A refusal ends a pass; nothing here fails.
pub async fn enumerate_groups(
    prober: &Prober,
    sni: Option<&str>,
    offered: &[ProtocolVersion],
) -> Vec<GroupResult> {
    let tls12 = offered.contains(&ProtocolVersion::Tls12);
    let passes = [ProtocolVersion::Tls12, ProtocolVersion::Tls13]
        .into_iter()
        .filter(|v| offered.contains(v))
        .map(|version| enumerate_version(prober, sni, version));
    let (passes, ffdhe) = tokio::join!(join_all(passes), async {
        if tls12 {
            enumerate_tls12_ffdhe(prober, sni).await
        } else {
            Vec::new()
        }
    });
    let mut ecdhe: Vec<GroupResult> = passes.into_iter().flatten().collect();
    // FFDHE ranks after the EC groups of TLS 1.2: separate passes cannot
    // tell how the server weighs one kind against the other.
    let after = ecdhe
        .iter()
        .filter(|g| g.protocol == ProtocolVersion::Tls12)
        .map(|g| g.rank)
        .max()
        .unwrap_or(0);
    ecdhe.extend(ffdhe.into_iter().map(|mut g| {
        g.rank += after;
        g
    }));
    ecdhe.sort_by_key(|g| (g.protocol, g.rank));
    ecdhe
}

/// TLS 1.2 FFDHE (RFC 7919): DHE suites only, `supported_groups` the
/// remaining FFDHE groups, the pick read from the ServerKeyExchange's
/// prime, which must be the RFC 7919 prime of a group offered. A server
/// that answers with its own prime does not negotiate FFDHE groups (most
/// OpenSSL servers): the pass ends there and the prime's size is reported
/// with the suites.
async fn enumerate_tls12_ffdhe(prober: &Prober, sni: Option<&str>) -> Vec<GroupResult> {
    let version = ProtocolVersion::Tls12;
    let sigalgs = all_sigalgs();
    let candidates: Vec<u16> = all_groups()
        .into_iter()
        .filter(|c| registry::named_group(*c).is_some_and(|g| g.kind == GroupKind::Ffdhe))
        .collect();
    let suites: Vec<u16> = registry::suites_for(version)
        .iter()
        .filter(|s| s.kx == "DHE")
        .take(super::BUNDLE)
        .map(|s| s.code)
        .collect();
    if candidates.is_empty() || suites.is_empty() {
        return Vec::new();
    }
    let hello = |groups: &[u16]| raw_hello(version, sni, &suites, groups, &sigalgs);
    let removal = remove_iteratively(prober, candidates, StopAt::FlightEnd, false, hello, |o| {
        hello_at(o, version)?;
        let Outcome::Hello(flight) = o else {
            return None;
        };
        let prime = flight.messages.iter().find_map(|m| match m {
            ServerMessage::ServerKeyExchange(ske) => ske.as_dhe(true).ok().map(|p| p.prime),
            _ => None,
        })?;
        rfc7919_group(&prime).map(Pick::code_only)
    })
    .await;
    ranked(&removal.picks, version, GroupVia::ServerKeyExchange)
}

/// The RFC 7919 group whose prime `prime` is (leading zeros ignored).
fn rfc7919_group(prime: &[u8]) -> Option<u16> {
    use rustls::ffdhe_groups::{FFDHE2048, FFDHE3072, FFDHE4096, FFDHE6144, FFDHE8192};
    let trimmed = &prime[prime.iter().position(|b| *b != 0).unwrap_or(prime.len())..];
    [
        (0x0100, FFDHE2048),
        (0x0101, FFDHE3072),
        (0x0102, FFDHE4096),
        (0x0103, FFDHE6144),
        (0x0104, FFDHE8192),
    ]
    .into_iter()
    .find(|(_, g)| g.p == trimmed)
    .map(|(code, _)| code)
}

async fn enumerate_version(
    prober: &Prober,
    sni: Option<&str>,
    version: ProtocolVersion,
) -> Vec<GroupResult> {
    let sigalgs = all_sigalgs();
    let tls13 = version == ProtocolVersion::Tls13;
    let in_scope = |code: &u16| {
        registry::named_group(*code).is_some_and(|g| {
            if tls13 {
                g.tls13
            } else {
                // TLS 1.2 ECDHE only: the hybrids and FFDHE never appear
                // in a TLS 1.2 ServerKeyExchange for ECDHE suites.
                g.kind == GroupKind::Ecdhe
            }
        })
    };
    let candidates: Vec<u16> = all_groups().into_iter().filter(in_scope).collect();
    let suites: Vec<u16> = registry::suites_for(version)
        .iter()
        .filter(|s| tls13 || s.kx == "ECDHE")
        .take(super::BUNDLE)
        .map(|s| s.code)
        .collect();
    // TLS 1.2: the certificate's curve once a flight showed it, and
    // whether it was picked already.
    let pinned: Mutex<(Option<u16>, bool)> = Mutex::new((None, false));
    let pinned_now = || *pinned.lock().unwrap_or_else(|e| e.into_inner());
    let hello = |groups: &[u16]| {
        let mut groups = groups.to_vec();
        if let (Some(curve), true) = pinned_now() {
            if !groups.contains(&curve) {
                groups.push(curve);
            }
        }
        raw_hello(version, sni, &suites, &groups, &sigalgs)
    };
    let (stop, via) = if tls13 {
        (StopAt::ServerHello, GroupVia::HelloRetryRequest)
    } else {
        (StopAt::FlightEnd, GroupVia::ServerKeyExchange)
    };
    let removal = remove_iteratively(prober, candidates, stop, false, hello, |o| {
        let group = if tls13 {
            hello_at(o, version)?.key_share_group()?
        } else {
            suite_pick(o, version)?.group?
        };
        if !tls13 {
            let mut pin = pinned.lock().unwrap_or_else(|e| e.into_inner());
            if pin.0.is_none() {
                pin.0 = ecdsa_leaf_curve(o);
            }
            match pin.0 {
                // Picked again while it was only there for the
                // certificate: nothing else left is accepted.
                Some(curve) if curve == group && pin.1 => return None,
                Some(curve) if curve == group => pin.1 = true,
                _ => {}
            }
        }
        Some(Pick::code_only(group))
    })
    .await;
    ranked(&removal.picks, version, via)
}

/// The picks of a removal pass as groups, ranked in the order picked.
fn ranked(picks: &[Pick], version: ProtocolVersion, via: GroupVia) -> Vec<GroupResult> {
    picks
        .iter()
        .zip(1u32..)
        .map(|(pick, rank)| GroupResult {
            protocol: version,
            code: pick.code,
            name: registry::group_name(pick.code),
            kind: registry::named_group(pick.code).map_or(GroupKind::Other, |g| g.kind),
            rank,
            via,
        })
        .collect()
}

/// The TLS group of the leaf certificate's curve when a TLS ≤ 1.2 flight
/// carries an ECDSA leaf.
fn ecdsa_leaf_curve(outcome: &Outcome) -> Option<u16> {
    let Outcome::Hello(flight) = outcome else {
        return None;
    };
    let leaf = flight.messages.iter().find_map(|m| match m {
        ServerMessage::Certificate(chain) => chain.first(),
        _ => None,
    })?;
    let info = crate::cert::describe(leaf, time::OffsetDateTime::UNIX_EPOCH).ok()?;
    match info.curve.as_deref()? {
        "P-256" => Some(0x0017),
        "P-384" => Some(0x0018),
        "P-521" => Some(0x0019),
        "secp256k1" => Some(0x0016),
        "brainpoolP256r1" => Some(0x001A),
        "brainpoolP384r1" => Some(0x001B),
        "brainpoolP512r1" => Some(0x001C),
        _ => None,
    }
}
