//! Cipher suite enumeration per protocol (SSLv3 … TLS 1.3) by iterative
//! removal, and the server's preference order read from the same picks plus
//! one reversed pass.
//!
//! Candidates are the registry's suites for the version, strongest first,
//! in bundles of at most [`BUNDLE`] run concurrently, so a common server is
//! done in the first bundle. Every hello offers every group and signature
//! scheme, so ECDHE and ECDSA suites (Envoy serves its ECDSA certificate
//! only to clients offering P-256 and ECDSA schemes) are never missed. TLS
//! 1.3 is enumerated with HelloRetryRequests (empty key_share), which cost
//! the server a tenth of a full ServerHello. SSLv2 needs no enumeration: its
//! SERVER-HELLO lists every cipher kind the server shares with the client,
//! so one hello offering all kinds gives the set. Nothing here judges the
//! suites: `verdict` does.

use futures::future::join_all;

use crate::observe::{PreferenceResult, SuiteResult};
use crate::probe::{Outcome, StopAt};
use crate::registry::{self, Strength};
use crate::wire::ProtocolVersion;

use super::preference::preference;
use super::protocols::FirstPicks;
use super::removal::{
    all_groups, all_sigalgs, bundles, hello_at, raw_hello, remove_iteratively, suite_pick, Pick,
    Removal,
};
use super::{hello_for, HelloSize, Prober};

/// Most suites in one hello: some stacks refuse more than 128.
pub const BUNDLE: usize = 128;
/// Bundle size after the pretest showed large hellos fail.
pub const SMALL_BUNDLE: usize = 64;

/// Accepted suites and the preference order, per protocol.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SuiteScan {
    /// Per protocol (oldest first), in the server's order when it enforces
    /// one, else in the order found.
    pub suites: Vec<SuiteResult>,
    /// One entry per protocol with at least one suite.
    pub preference: Vec<PreferenceResult>,
}

/// Enumerates the suites of every protocol in `offered` (SSLv2 ignored)
/// concurrently. Refusals end a pass; a server that cannot be reached any
/// more simply yields fewer suites (never an error or a panic).
pub async fn enumerate_suites(
    prober: &Prober,
    sni: Option<&str>,
    offered: &[ProtocolVersion],
) -> SuiteScan {
    enumerate_suites_after(prober, sni, offered, &FirstPicks::default()).await
}

/// [`enumerate_suites`], each version starting from the pick its broad
/// protocol hello already got, where it got one.
pub async fn enumerate_suites_after(
    prober: &Prober,
    sni: Option<&str>,
    offered: &[ProtocolVersion],
    first: &FirstPicks,
) -> SuiteScan {
    let mut versions: Vec<ProtocolVersion> = offered
        .iter()
        .copied()
        .filter(|v| *v != ProtocolVersion::Ssl2)
        .collect();
    versions.sort();
    versions.dedup();
    let per_version = join_all(
        versions
            .iter()
            .map(|version| enumerate_version(prober, sni, *version, first.get(*version))),
    )
    .await;
    let mut scan = SuiteScan::default();
    if offered.contains(&ProtocolVersion::Ssl2) {
        scan.suites.extend(sslv2_kinds(prober, sni).await);
    }
    for (suites, preference) in per_version {
        scan.suites.extend(suites);
        scan.preference.extend(preference);
    }
    scan
}

/// SSLv2 cipher kinds from one SERVER-HELLO.
async fn sslv2_kinds(prober: &Prober, sni: Option<&str>) -> Vec<SuiteResult> {
    let hello = hello_for(ProtocolVersion::Ssl2, sni, HelloSize::Full);
    match prober.send(hello, StopAt::ServerHello).await {
        Ok(Outcome::Sslv2(server_hello)) => sslv2_suites(&server_hello.cipher_kinds),
        _ => Vec::new(),
    }
}

/// SSLv2 cipher kinds as suite results: every one is weak (RC4, RC2, IDEA,
/// DES with MD5 MACs) or export-grade, and none has forward secrecy.
pub fn sslv2_suites(kinds: &[u32]) -> Vec<SuiteResult> {
    kinds
        .iter()
        .map(|code| {
            let kind = registry::sslv2_cipher_kind(*code);
            SuiteResult {
                protocol: ProtocolVersion::Ssl2,
                code: *code,
                iana: kind
                    .map(|k| k.name.clone())
                    .unwrap_or_else(|| format!("SSL2_UNKNOWN_0x{code:06X}")),
                openssl: kind.and_then(|k| k.openssl.clone()),
                strength: if kind.is_some_and(|k| k.export) {
                    Strength::Export
                } else {
                    Strength::Weak
                },
                kx: "RSA".to_string(),
                bits: kind.map_or(0, |k| k.bits),
                group: None,
                dh_bits: None,
            }
        })
        .collect()
}

async fn enumerate_version(
    prober: &Prober,
    sni: Option<&str>,
    version: ProtocolVersion,
    first: Option<u16>,
) -> (Vec<SuiteResult>, Option<PreferenceResult>) {
    let candidates: Vec<u16> = registry::suites_for(version)
        .iter()
        .map(|s| s.code)
        .filter(|c| !registry::is_scsv(*c))
        .collect();
    let groups = all_groups();
    let sigalgs = all_sigalgs();
    let hello = |suites: &[u16]| raw_hello(version, sni, suites, &groups, &sigalgs);
    // Up to TLS 1.2 the ServerKeyExchange comes in the same flight as the
    // ServerHello, already signed: reading on to it costs the server
    // nothing more and gives the group and DH size.
    let stop = if version == ProtocolVersion::Tls13 {
        StopAt::ServerHello
    } else {
        StopAt::FlightEnd
    };

    let forward_pass = |size: usize| {
        join_all(bundles(&candidates, size).into_iter().map(|bundle| {
            remove_iteratively(prober, bundle, stop, false, hello, |o| {
                suite_pick(o, version)
            })
        }))
    };
    let first = first.filter(|code| candidates.contains(code));
    let mut passes: Vec<Removal> = if let Some(code) = first {
        // The broad protocol hello offered all the candidates and was
        // answered with `code`: large hellos pass, and the pass goes on
        // from its second step over the rest, in one bundle.
        let rest: Vec<u16> = candidates.iter().copied().filter(|c| *c != code).collect();
        let mut pass =
            remove_iteratively(prober, rest, stop, false, hello, |o| suite_pick(o, version)).await;
        pass.picks.insert(0, Pick::code_only(code));
        vec![pass]
    } else if candidates.len() > BUNDLE {
        let pretest = async {
            let large = hello(&candidates[..=BUNDLE]);
            let answer = prober.send(large, StopAt::ServerHello).await;
            matches!(answer, Ok(o) if hello_at(&o, version).is_some())
        };
        let (large_ok, passes) = futures::join!(pretest, forward_pass(BUNDLE));
        let first_found = passes.first().is_some_and(|p| !p.picks.is_empty());
        if large_ok || first_found {
            passes
        } else {
            tracing::debug!(%version, "129-suite hello refused: bundles of {SMALL_BUNDLE}");
            forward_pass(SMALL_BUNDLE).await
        }
    } else {
        forward_pass(BUNDLE).await
    };
    passes.retain(|p| !p.picks.is_empty());

    let mut found: Vec<Pick> = Vec::new();
    for pick in passes.iter().flat_map(|p| p.picks.iter()) {
        if !found.iter().any(|f| f.code == pick.code) {
            found.push(*pick);
        }
    }
    if found.is_empty() {
        return (Vec::new(), None);
    }
    let rank = |code: &u16| candidates.iter().position(|c| c == code);
    let mut client_order: Vec<u16> = found.iter().map(|p| p.code).collect();
    client_order.sort_by_key(rank);

    // The reordering passes read as far as the forward one: their picks
    // also give the key exchange of the first pick, which the protocol
    // hello (read to its ServerHello only) did not.
    let reorder = |codes: Vec<u16>| {
        remove_iteratively(prober, codes, stop, true, hello, |o| suite_pick(o, version))
    };
    let reversed: Vec<u16> = client_order.iter().rev().copied().collect();
    let reverse = if client_order.len() > 1 {
        let pass = reorder(reversed.clone()).await;
        fill_details(&mut found, &pass.picks);
        pass.codes()
    } else {
        client_order.clone()
    };
    let forward = if passes.len() == 1 {
        passes[0].codes()
    } else if reverse == reversed {
        // The server follows the client (one tier): its forward sequence is
        // the client order, no merge pass needed.
        client_order.clone()
    } else {
        // Picks came from several bundles: their relative order is only
        // known after one pass over the found set.
        reorder(client_order.clone()).await.codes()
    };
    let preference = preference(version, &forward, &reverse);
    if version == ProtocolVersion::Tls13 {
        share_tls13_group(&mut found);
    }
    if let Some(code) = first {
        if found.iter().any(|p| p.code == code && !p.observed) {
            // Not picked again in a pass read to the flight's end (it was
            // the only suite, or the reversed pass's assumed last): one
            // hello offering it alone shows its key exchange.
            let alone = remove_iteratively(prober, vec![code], stop, false, hello, |o| {
                suite_pick(o, version)
            })
            .await;
            fill_details(&mut found, &alone.picks);
        }
    }

    let mut ordered: Vec<u16> = forward.clone();
    ordered.extend(client_order.iter().filter(|c| !forward.contains(c)));
    let suites = ordered
        .iter()
        .filter_map(|code| found.iter().find(|p| p.code == *code))
        .filter_map(|pick| suite_result(version, pick))
        .collect();
    (suites, Some(preference))
}

/// Copies what `picks` showed (group, DH size, signature) onto the found
/// picks of the same suite that were taken from a bare ServerHello.
fn fill_details(found: &mut [Pick], picks: &[Pick]) {
    for pick in picks.iter().filter(|p| p.observed) {
        if let Some(slot) = found
            .iter_mut()
            .find(|f| f.code == pick.code && !f.observed)
        {
            *slot = *pick;
        }
    }
}

/// TLS 1.3 negotiates the group apart from the suite (RFC 8446 §4.1.1:
/// a HelloRetryRequest names the group for the hello's groups list, whatever
/// the suite), so when every HelloRetryRequest of the pass named the same
/// group, that group is the server's answer for a pick known only from the
/// protocol hello too: no hello of its own is needed to learn it.
fn share_tls13_group(found: &mut [Pick]) {
    let mut seen = found.iter().filter(|p| p.observed).map(|p| p.group);
    let Some(Some(group)) = seen.next() else {
        return;
    };
    if !seen.all(|g| g == Some(group)) {
        return;
    }
    for pick in found.iter_mut().filter(|p| !p.observed) {
        pick.group = Some(group);
        pick.observed = true;
    }
}

fn suite_result(version: ProtocolVersion, pick: &Pick) -> Option<SuiteResult> {
    let suite = registry::cipher_suite(pick.code)?;
    Some(SuiteResult {
        group: pick.group.map(registry::group_name),
        dh_bits: pick.dh_bits,
        ..SuiteResult::new(version, suite)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sslv2_kinds_become_weak_or_export_suites() {
        // RC4_128_WITH_MD5, RC4_128_EXPORT40_WITH_MD5, and a kind no registry knows.
        let suites = sslv2_suites(&[0x010080, 0x020080, 0xFF0000]);
        let seen: Vec<(String, Strength, u16)> = suites
            .iter()
            .map(|s| (crate::observe::code::suite::hex(s.code), s.strength, s.bits))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("0x010080".to_owned(), Strength::Weak, 128),
                ("0x020080".to_owned(), Strength::Export, 40),
                ("0xFF0000".to_owned(), Strength::Weak, 0),
            ]
        );
        assert!(suites.iter().all(|s| s.protocol == ProtocolVersion::Ssl2));
        assert_eq!(suites[2].iana, "SSL2_UNKNOWN_0xFF0000");
    }
}
