//! Server preference from two pick sequences: the order the server picked
//! suites when offered them in the client's order (forward), and when
//! offered them reversed (reverse). Pure: no probing here; `suites` runs the
//! passes and hands the sequences over.
//!
//! The reading: a server that enforces a strict order picks the same
//! sequence both times. A server that follows the client picks the reversed
//! sequence. A BoringSSL equal-preference group `[A|B]` lets the client
//! decide inside the group only, so exactly its members flip. Cutting both
//! sequences wherever their prefixes hold the same set gives those tiers.
//!
//! Some servers are neither: Go's crypto/tls (1.17 on, `cipher_suites.go`,
//! `cipherSuitesPreferenceOrder` / `aesgcmPreferred`) prefers AES-128-GCM
//! to AES-256-GCM whatever the client says, but ChaCha20 first only when
//! the client lists it first. Then a tier's members do not flip as a
//! block; the result says so (`server_enforces: null`, "mixed") and shows
//! both sequences instead of forcing an answer.

use crate::observe::PreferenceResult;
use crate::registry;
use crate::wire::ProtocolVersion;

/// Tiers of equal preference, most preferred first, each in forward order.
///
/// `None` when the sequences are not permutations of each other (the server
/// answered inconsistently, or a pass was cut short).
pub fn tiers(forward: &[u16], reverse: &[u16]) -> Option<Vec<Vec<u16>>> {
    let mut a = forward.to_vec();
    let mut b = reverse.to_vec();
    a.sort_unstable();
    b.sort_unstable();
    if a != b || a.windows(2).any(|w| w[0] == w[1]) {
        return None;
    }
    let mut tiers = Vec::new();
    let mut start = 0;
    for end in 1..=forward.len() {
        // A tier ends where both prefixes contain the same suites: nothing
        // before the cut was ever preferred to something after it.
        let cut = forward[..end]
            .iter()
            .all(|code| reverse[..end].contains(code));
        if cut {
            tiers.push(forward[start..end].to_vec());
            start = end;
        }
    }
    Some(tiers)
}

/// The preference result for `protocol` from the two sequences.
pub fn preference(protocol: ProtocolVersion, forward: &[u16], reverse: &[u16]) -> PreferenceResult {
    let names = |codes: &[u16]| -> Vec<String> { codes.iter().map(|c| name(*c)).collect() };
    if forward.len() <= 1 {
        return PreferenceResult {
            protocol,
            server_enforces: None,
            order: if forward.is_empty() {
                Vec::new()
            } else {
                vec![names(forward)]
            },
            evidence: format!("{} suite(s): no order to observe", forward.len()),
        };
    }
    let short = |codes: &[u16]| -> String {
        codes
            .iter()
            .map(|c| format!("{c:04X}"))
            .collect::<Vec<_>>()
            .join(">")
    };
    let seen = format!(
        "picks offered in client order {}; offered reversed {}",
        short(forward),
        short(reverse)
    );
    let Some(tiers) = tiers(forward, reverse) else {
        return PreferenceResult {
            protocol,
            server_enforces: None,
            order: forward.iter().map(|c| vec![name(*c)]).collect(),
            evidence: format!("inconsistent answers: {seen}"),
        };
    };
    // Inside a tier the client decides: offered reversed, its members
    // come back exactly reversed. Anything else is a mixed preference.
    let mut at = 0;
    let flips = tiers.iter().all(|t| {
        let back: Vec<u16> = reverse[at..at + t.len()].to_vec();
        at += t.len();
        t.len() == 1 || back.iter().eq(t.iter().rev())
    });
    if !flips {
        return PreferenceResult {
            protocol,
            server_enforces: None,
            order: forward.iter().map(|c| vec![name(*c)]).collect(),
            evidence: format!(
                "mixed: neither the server's order nor the client's decides (the server's pick \
                 depends on what the client lists first): {seen}; order shown as picked in the \
                 first pass"
            ),
        };
    }
    let (enforces, verdict) = if tiers.len() == 1 {
        (false, "the client's order decides")
    } else if tiers.iter().all(|t| t.len() == 1) {
        (true, "strict server order")
    } else {
        (true, "server order with equal-preference tiers")
    };
    PreferenceResult {
        protocol,
        server_enforces: Some(enforces),
        order: tiers.iter().map(|t| names(t)).collect(),
        evidence: format!("{verdict}: {seen}"),
    }
}

fn name(code: u16) -> String {
    registry::cipher_suite(code)
        .map(|s| s.iana.clone())
        .unwrap_or_else(|| format!("0x{code:04X}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_sequences_are_strict_order() {
        assert_eq!(
            tiers(&[3, 1, 2], &[3, 1, 2]),
            Some(vec![vec![3], vec![1], vec![2]])
        );
        let p = preference(ProtocolVersion::Tls12, &[0xC02F, 0xC030], &[0xC02F, 0xC030]);
        assert_eq!(p.server_enforces, Some(true));
        assert_eq!(p.order.len(), 2);
        assert!(p.evidence.starts_with("strict"), "{}", p.evidence);
    }

    #[test]
    fn a_reversed_sequence_is_client_order() {
        assert_eq!(tiers(&[1, 2, 3], &[3, 2, 1]), Some(vec![vec![1, 2, 3]]));
        let p = preference(ProtocolVersion::Tls12, &[1, 2, 3], &[3, 2, 1]);
        assert_eq!(p.server_enforces, Some(false));
    }

    #[test]
    fn envoy_default_tls12_list_gives_two_pair_tiers() {
        // [ECDHE-ECDSA-AES128-GCM|ECDHE-ECDSA-CHACHA20] [RSA twin] then the
        // AES-256 suites, as BoringSSL's default list in Envoy.
        let forward = [0xC02B, 0xCCA9, 0xC02F, 0xCCA8, 0xC02C, 0xC030];
        let reverse = [0xCCA9, 0xC02B, 0xCCA8, 0xC02F, 0xC02C, 0xC030];
        assert_eq!(
            tiers(&forward, &reverse),
            Some(vec![
                vec![0xC02B, 0xCCA9],
                vec![0xC02F, 0xCCA8],
                vec![0xC02C],
                vec![0xC030]
            ])
        );
        let p = preference(ProtocolVersion::Tls12, &forward, &reverse);
        assert_eq!(p.server_enforces, Some(true));
        assert_eq!(
            p.order[0],
            vec![
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256".to_string(),
                "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256".to_string()
            ]
        );
    }

    #[test]
    fn a_tier_in_the_middle_of_three() {
        assert_eq!(
            tiers(&[1, 2, 3, 4, 5], &[1, 4, 3, 2, 5]),
            Some(vec![vec![1], vec![2, 3, 4], vec![5]])
        );
    }

    /// Go's crypto/tls: offered AES-256 > AES-128 > ChaCha20 it picks
    /// AES-128 > AES-256 > ChaCha20; offered reversed (ChaCha20 first) it
    /// picks ChaCha20 > AES-128 > AES-256. One tier, but not flipped.
    #[test]
    fn a_go_like_preference_is_mixed_not_client_order() {
        let forward = [0xC02F, 0xC030, 0xCCA8];
        let reverse = [0xCCA8, 0xC02F, 0xC030];
        let p = preference(ProtocolVersion::Tls12, &forward, &reverse);
        assert_eq!(p.server_enforces, None, "{}", p.evidence);
        assert!(p.evidence.starts_with("mixed"), "{}", p.evidence);
        assert_eq!(p.order.len(), 3);
    }

    #[test]
    fn mismatched_or_short_sequences() {
        assert_eq!(tiers(&[1, 2], &[1, 3]), None);
        assert_eq!(tiers(&[1, 2], &[1]), None);
        assert_eq!(tiers(&[1, 1], &[1, 1]), None);
        assert_eq!(tiers(&[], &[]), Some(vec![]));
        let p = preference(ProtocolVersion::Tls12, &[1, 2], &[2]);
        assert_eq!(p.server_enforces, None);
        let one = preference(ProtocolVersion::Tls13, &[0x1301], &[0x1301]);
        assert_eq!(one.server_enforces, None);
        assert_eq!(one.order, vec![vec!["TLS_AES_128_GCM_SHA256".to_string()]]);
    }
}
