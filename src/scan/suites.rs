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
//! the server a tenth of a full ServerHello. SSLv2 is not enumerated here,
//! and nothing here judges the suites: `verdict` does.

use futures::future::join_all;

use crate::probe::StopAt;
use crate::registry;
use crate::report::model::{PreferenceResult, SuiteResult};
use crate::wire::ProtocolVersion;

use super::preference::preference;
use super::removal::{
    all_groups, all_sigalgs, bundles, hello_at, raw_hello, remove_iteratively, suite_pick, Pick,
    Removal,
};
use super::Prober;

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
            .map(|version| enumerate_version(prober, sni, *version)),
    )
    .await;
    let mut scan = SuiteScan::default();
    for (suites, preference) in per_version {
        scan.suites.extend(suites);
        scan.preference.extend(preference);
    }
    scan
}

async fn enumerate_version(
    prober: &Prober,
    sni: Option<&str>,
    version: ProtocolVersion,
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
    let mut passes: Vec<Removal> = if candidates.len() > BUNDLE {
        let pretest = async {
            let large = hello(&candidates[..=BUNDLE]);
            let answer = prober.probe(&large, StopAt::ServerHello).await;
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

    let reorder = |codes: Vec<u16>| {
        remove_iteratively(prober, codes, StopAt::ServerHello, true, hello, |o| {
            hello_at(o, version).map(|h| Pick::code_only(h.cipher_suite))
        })
    };
    let reversed: Vec<u16> = client_order.iter().rev().copied().collect();
    let reverse = if client_order.len() > 1 {
        reorder(reversed.clone()).await.codes()
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

    let mut ordered: Vec<u16> = forward.clone();
    ordered.extend(client_order.iter().filter(|c| !forward.contains(c)));
    let suites = ordered
        .iter()
        .filter_map(|code| found.iter().find(|p| p.code == *code))
        .filter_map(|pick| suite_result(version, pick))
        .collect();
    (suites, Some(preference))
}

fn suite_result(version: ProtocolVersion, pick: &Pick) -> Option<SuiteResult> {
    let suite = registry::cipher_suite(pick.code)?;
    Some(SuiteResult {
        protocol: version,
        code: suite.code_hex(),
        iana: suite.iana.clone(),
        openssl: suite.openssl.clone(),
        strength: suite.strength(),
        kx: suite.kx.clone(),
        bits: suite.bits,
        group: pick.group.map(group_name),
        dh_bits: pick.dh_bits,
    })
}

/// The IANA name of a group, or its code for one the registry lacks.
pub(crate) fn group_name(code: u16) -> String {
    registry::named_group(code)
        .map(|g| g.name.clone())
        .unwrap_or_else(|| format!("0x{code:04X}"))
}
