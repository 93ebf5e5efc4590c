//! Iterative removal, the one method behind suite, group and signature
//! enumeration: offer a list, note what the server picked, take it out of
//! the list, offer the rest, until the server refuses. Also the raw hellos
//! these passes send and the reading of a pick from a flight.
//!
//! Owns no policy about *what* is offered; `suites`, `groups` and `sigalgs`
//! decide that. Every probe goes through [`Prober::probe`]; a server answer
//! never panics and never loops: a pick that was not offered ends the pass.

use crate::probe::{Outcome, StopAt};
use crate::registry;
use crate::wire::{self, ClientHelloSpec, ProtocolVersion, ServerHello, ServerMessage};

use super::Prober;

/// What one accepted hello showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pick {
    /// The code point picked: a suite, a group or a signature scheme,
    /// depending on the pass.
    pub code: u16,
    pub suite: u16,
    /// TLS 1.3: the group of the HelloRetryRequest / key_share; TLS ≤ 1.2:
    /// the ECDHE ServerKeyExchange curve, when the flight was read that far.
    pub group: Option<u16>,
    /// DH prime bits from a DHE ServerKeyExchange.
    pub dh_bits: Option<u32>,
    /// Signature scheme of a TLS 1.2 ServerKeyExchange.
    pub sig_scheme: Option<u16>,
    /// Read from an answer at the pass's stop point, so the fields above
    /// are what the server showed; `false` for a pick assumed (the last of
    /// a known set) or known only from another hello's bare ServerHello.
    pub observed: bool,
}

/// How a removal pass went.
#[derive(Debug, Clone, Default)]
pub(crate) struct Removal {
    /// Picks in the order the server made them.
    pub picks: Vec<Pick>,
    /// Why the pass stopped (the refusal's description), for evidence.
    pub ended: String,
}

impl Removal {
    pub fn codes(&self) -> Vec<u16> {
        self.picks.iter().map(|p| p.code).collect()
    }
}

/// Runs one removal pass over `candidates`.
///
/// `hello` builds the record bytes offering the remaining candidates (in the
/// given order); `pick` says which code the answer chose, or `None` for a
/// refusal or an answer that is not a pick for this pass. With
/// `assume_last`, a single remaining candidate is taken as the last pick
/// without a handshake: only for passes over a set already proven accepted.
pub(crate) async fn remove_iteratively(
    prober: &Prober,
    candidates: Vec<u16>,
    stop: StopAt,
    assume_last: bool,
    hello: impl Fn(&[u16]) -> Result<Vec<u8>, wire::EncodeError>,
    pick: impl Fn(&Outcome) -> Option<Pick>,
) -> Removal {
    let mut remaining = candidates;
    let mut removal = Removal::default();
    while !remaining.is_empty() {
        if assume_last && remaining.len() == 1 {
            let code = remaining[0];
            removal.picks.push(Pick::code_only(code));
            removal.ended = "last candidate assumed".into();
            break;
        }
        let outcome = match prober.send(hello(&remaining), stop).await {
            Ok(outcome) => outcome,
            Err(e) => {
                removal.ended = e.to_string();
                break;
            }
        };
        match pick(&outcome) {
            Some(p) if remaining.contains(&p.code) => {
                remaining.retain(|c| *c != p.code);
                removal.picks.push(p);
            }
            Some(p) => {
                // A server picking what was not offered would make the pass
                // loop forever; it is a broken answer, so the pass ends.
                removal.ended = format!("picked 0x{:04X}, which was not offered", p.code);
                break;
            }
            None => {
                removal.ended = outcome.describe();
                break;
            }
        }
    }
    removal
}

impl Pick {
    pub fn code_only(code: u16) -> Self {
        Pick {
            code,
            suite: code,
            group: None,
            dh_bits: None,
            sig_scheme: None,
            observed: false,
        }
    }
}

/// A hello for one removal step: exactly `suites`, `groups` and `sigalgs`
/// in the given order. TLS 1.3 hellos carry an EMPTY key_share and
/// supported_versions [TLS 1.3] only, so a server answers with a cheap
/// HelloRetryRequest that already names its suite and group. Hellos up to
/// TLS 1.2 signal secure renegotiation once, as browsers do: the empty
/// renegotiation_info extension, or the SCSV in an SSLv3 hello, which has
/// no extensions (wolfSSL 5.5 refuses a hello carrying both).
pub(crate) fn raw_hello(
    version: ProtocolVersion,
    sni: Option<&str>,
    suites: &[u16],
    groups: &[u16],
    sigalgs: &[u16],
) -> Result<Vec<u8>, wire::EncodeError> {
    let mut suites = suites.to_vec();
    if version == ProtocolVersion::Ssl3 {
        suites.push(registry::TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
    }
    let spec = ClientHelloSpec::for_version(
        version,
        suites,
        sni,
        Vec::new(),
        groups.to_vec(),
        sigalgs.to_vec(),
    );
    wire::encode_client_hello(&spec)
}

/// Every signature scheme the registry knows, modern ones first so a
/// server that reads only the head of the list still finds its own.
pub(crate) fn all_sigalgs() -> Vec<u16> {
    let mut schemes: Vec<&registry::SignatureScheme> =
        registry::signature_schemes().iter().collect();
    schemes.sort_by_key(|s| (!s.tls13, s.code));
    schemes.iter().map(|s| s.code).collect()
}

/// Every group the registry knows, those modern clients send first.
pub(crate) fn all_groups() -> Vec<u16> {
    const FIRST: [u16; 5] = [0x11EC, 0x001D, 0x0017, 0x0018, 0x0019];
    let mut groups = FIRST.to_vec();
    groups.extend(
        registry::named_groups()
            .iter()
            .filter(|g| g.kind != registry::GroupKind::Other && !FIRST.contains(&g.code))
            .map(|g| g.code),
    );
    groups
}

/// The ServerHello of an answer, if it is one for exactly `version`: a TLS
/// 1.3 answer to a 1.2 hello (or the reverse) is no pick for that version.
pub(crate) fn hello_at(outcome: &Outcome, version: ProtocolVersion) -> Option<&ServerHello> {
    let Outcome::Hello(flight) = outcome else {
        return None;
    };
    let hello = flight.hello.as_ref()?;
    (hello.negotiated_version() == version.wire()).then_some(hello)
}

/// Reads the suite picked at `version`, with the group and DH size the
/// flight shows: the HelloRetryRequest / key_share group in TLS 1.3, the
/// ServerKeyExchange when the flight was read to its end before.
pub(crate) fn suite_pick(outcome: &Outcome, version: ProtocolVersion) -> Option<Pick> {
    let hello = hello_at(outcome, version)?;
    let mut pick = Pick {
        observed: true,
        ..Pick::code_only(hello.cipher_suite)
    };
    if version == ProtocolVersion::Tls13 {
        pick.group = hello.key_share_group();
        return Some(pick);
    }
    if let Outcome::Hello(flight) = outcome {
        let kx = registry::cipher_suite(hello.cipher_suite).map(|s| s.kx.as_str());
        let tls12 = version == ProtocolVersion::Tls12;
        for message in &flight.messages {
            let ServerMessage::ServerKeyExchange(ske) = message else {
                continue;
            };
            match kx {
                Some("ECDHE") => {
                    if let Ok(p) = ske.as_ecdhe() {
                        pick.group = Some(p.group);
                        pick.sig_scheme = p.sig_scheme;
                    }
                }
                Some("DHE") => {
                    if let Ok(p) = ske.as_dhe(tls12) {
                        pick.dh_bits = u32::try_from(p.prime_bits).ok();
                        pick.sig_scheme = p.sig_scheme;
                    }
                }
                _ => {}
            }
        }
    }
    Some(pick)
}

/// Splits candidates into bundles of at most `size`, keeping their order,
/// so the strongest (and most common) suites all go in the first bundle.
pub(crate) fn bundles(candidates: &[u16], size: usize) -> Vec<Vec<u16>> {
    candidates
        .chunks(size.max(1))
        .map(<[u16]>::to_vec)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundles_keep_order_and_cap_size() {
        let codes: Vec<u16> = (0..300).collect();
        let b = bundles(&codes, 128);
        assert_eq!(
            b.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![128, 128, 44]
        );
        assert_eq!(b.concat(), codes);
        assert_eq!(bundles(&codes[..128], 128).len(), 1);
        assert!(bundles(&[], 128).is_empty());
        // A zero size must not panic (chunks(0) would).
        assert_eq!(bundles(&[1, 2], 0).len(), 2);
    }

    #[test]
    fn offered_lists_have_no_duplicates() {
        for list in [all_groups(), all_sigalgs()] {
            let mut sorted = list.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), list.len());
        }
        assert_eq!(all_groups()[0], 0x11EC);
    }
}
