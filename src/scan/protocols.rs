//! Protocol scan: which of SSLv2 … TLS 1.3 the server offers, one crafted
//! hello per version, all six concurrently. The TLS 1.3 hello sends no key
//! share ([`HelloSize::Broad`]): the HelloRetryRequest it gets proves the
//! version and names the suite without the server signing anything.
//!
//! The reading of an answer is strict: a TLS 1.2 hello answered with a TLS 1.0
//! ServerHello means TLS 1.2 is *not* offered (TLS 1.0 is, and its own probe
//! says so); a TLS 1.3 hello answered with TLS 1.2 is a downgrade, not TLS 1.3.

use futures::future::join_all;
use futures::stream::{FuturesUnordered, StreamExt};

use crate::observe::ProtocolResult;
use crate::probe::{ConnectError, Outcome, StopAt};
use crate::registry;
use crate::wire::{AlertDescription, ProtocolVersion, WireError};

use super::hellos::unoffered_pick;
use super::{hello_for, HelloSize, Prober, ScanError};

/// The suite each version's broad hello was answered with. That hello
/// offers every suite of the version in the enumeration's order (the TLS
/// 1.3 one lists the TLS 1.2 suites after them), every group and signature
/// scheme, so its pick is the first step of the version's removal pass:
/// enumeration starts one step on, without a pretest or bundles (the server
/// took the whole list at once).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FirstPicks(Vec<(ProtocolVersion, u16)>);

impl FirstPicks {
    /// The suite picked at `version`, if its broad hello was answered there.
    pub fn get(&self, version: ProtocolVersion) -> Option<u16> {
        self.0.iter().find(|(v, _)| *v == version).map(|(_, c)| *c)
    }

    /// The picks of the answers that showed a version offered from the
    /// broad hello (not only from a compact retry).
    fn from_answers(
        answers: &[(ProtocolVersion, Result<Outcome, ConnectError>)],
        results: &[ProtocolResult],
    ) -> Self {
        let broad = |v: ProtocolVersion| {
            results
                .iter()
                .any(|r| r.version == v && r.offered == Some(true) && r.fallback.is_none())
        };
        FirstPicks(
            answers
                .iter()
                .filter(|(v, _)| *v != ProtocolVersion::Ssl2 && broad(*v))
                .filter_map(|(v, answer)| {
                    let hello = super::removal::hello_at(answer.as_ref().ok()?, *v)?;
                    // The TLS 1.3 hello lists the TLS 1.2 suites too; only a
                    // TLS 1.3 suite is a pick of the TLS 1.3 pass.
                    registry::suites_for(*v)
                        .iter()
                        .any(|s| s.code == hello.cipher_suite)
                        .then_some((*v, hello.cipher_suite))
                })
                .collect(),
        )
    }
}

/// Probes all six versions and reads the answers.
///
/// Fails only when the target cannot be scanned: no probe could connect, or
/// no probe got an answer that looks like TLS (a plain-HTTP port, garbage).
pub async fn scan_protocols(
    prober: &Prober,
    sni: Option<&str>,
) -> Result<Vec<ProtocolResult>, ScanError> {
    scan_protocols_picking(prober, sni).await.map(|(r, _)| r)
}

/// [`scan_protocols`], also handing over each version's first pick for the
/// suite enumeration that follows.
pub async fn scan_protocols_picking(
    prober: &Prober,
    sni: Option<&str>,
) -> Result<(Vec<ProtocolResult>, FirstPicks), ScanError> {
    let mut pending: FuturesUnordered<_> = ProtocolVersion::ALL
        .into_iter()
        .map(|version| async move {
            let hello = hello_for(version, sni, HelloSize::Broad);
            (version, prober.send(hello, StopAt::ServerHello).await)
        })
        .collect();
    let mut answers = Vec::with_capacity(ProtocolVersion::ALL.len());
    while let Some((version, answer)) = pending.next().await {
        // A port that answers a TLS hello like HTTP or with garbage will
        // not speak TLS to another version: stop waiting for the rest. An
        // odd answer to the SSLv2 hello alone proves nothing about TLS.
        if let Ok(Outcome::Malformed(WireError::NotTls { hint })) = &answer {
            if version != ProtocolVersion::Ssl2 {
                return Err(ScanError::NotTls { why: hint.clone() });
            }
        }
        answers.push((version, answer));
    }
    answers.sort_by_key(|(version, _)| *version);

    // Connection failures everywhere: the target is unreachable.
    if let Some(err) = answers.iter().find_map(|(_, r)| r.as_ref().err()) {
        if answers.iter().all(|(_, r)| r.is_err()) {
            return Err(err.clone().into());
        }
    }
    let mut results: Vec<ProtocolResult> = answers
        .iter()
        .map(|(version, answer)| match answer {
            Ok(outcome) => checked(*version, HelloSize::Broad, outcome),
            Err(e) => ProtocolResult::unknown(*version, e.to_string()),
        })
        .collect();
    retry_compact(prober, sni, &answers, &mut results).await;
    let picks = FirstPicks::from_answers(&answers, &results);

    if results.iter().all(|r| r.offered != Some(true)) {
        let not_tls = answers.iter().find_map(|(_, a)| match a {
            Ok(Outcome::Malformed(WireError::NotTls { hint })) => Some(hint.clone()),
            _ => None,
        });
        if let Some(why) = not_tls {
            return Err(ScanError::NotTls { why });
        }
        let answered = results.iter().any(|r| r.offered == Some(false));
        let why = results
            .iter()
            .find(|r| r.version == ProtocolVersion::Tls12)
            .map(|r| r.evidence.clone())
            .unwrap_or_default();
        return Err(if answered {
            ScanError::NoTls { why }
        } else {
            ScanError::NotTls { why }
        });
    }
    Ok((results, picks))
}

/// Versions worth a second, compact hello when the broad one looks refused
/// for its size or shape, most important first.
const RETRY_ORDER: [ProtocolVersion; 4] = [
    ProtocolVersion::Tls12,
    ProtocolVersion::Tls13,
    ProtocolVersion::Tls11,
    ProtocolVersion::Tls10,
];
/// At most this many versions are retried after a silence, so a target
/// that drops everything costs two handshakes more, not four.
const MAX_SILENT_RETRIES: usize = 2;

/// How a broad hello's answer can show intolerance of the hello rather
/// than of the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// Close, reset or silence: some middleboxes and stacks drop a hello
    /// with more than 128 suites or of unusual size.
    Silence,
    /// An alert that a real client's hello would not get: `decode_error`
    /// (wolfSSL 5.5 answers it to any hello of more than 150 suites),
    /// `record_overflow`, `illegal_parameter`, `internal_error`. A version
    /// the server does not offer gets `protocol_version` or
    /// `handshake_failure` instead. For TLS 1.3, any alert but
    /// `protocol_version`: the broad hello's empty key_share is legal (RFC
    /// 8446 §4.2.8) but unusual, so a stack may refuse the hello for it,
    /// and the compact one carries shares as browsers send them.
    Alert,
}

fn refusal(version: ProtocolVersion, outcome: &Outcome) -> Option<Refusal> {
    match outcome {
        Outcome::Closed | Outcome::Reset | Outcome::Timeout => Some(Refusal::Silence),
        Outcome::Alert(a)
            if version == ProtocolVersion::Tls13
                && a.description != AlertDescription::ProtocolVersion =>
        {
            Some(Refusal::Alert)
        }
        Outcome::Alert(a)
            if matches!(
                a.description,
                AlertDescription::DecodeError
                    | AlertDescription::RecordOverflow
                    | AlertDescription::IllegalParameter
                    | AlertDescription::InternalError
            ) =>
        {
            Some(Refusal::Alert)
        }
        _ => None,
    }
}

/// When a broad hello got an answer that looks like intolerance (see
/// [`Refusal`]) and the server answered some hello — so it is alive and
/// speaks TLS — the version is retried once with a compact hello (at most
/// 120 suites, the common groups), which is how a real client's hello
/// looks. Every version refused with an alert is retried; of the silent
/// ones at most [`MAX_SILENT_RETRIES`]. A version only the compact hello
/// got an answer for records the fallback.
async fn retry_compact(
    prober: &Prober,
    sni: Option<&str>,
    answers: &[(ProtocolVersion, Result<Outcome, ConnectError>)],
    results: &mut [ProtocolResult],
) {
    let alive = answers
        .iter()
        .any(|(_, a)| matches!(a, Ok(Outcome::Hello(_) | Outcome::Alert(_))));
    if !alive {
        return;
    }
    let refused = |v: ProtocolVersion| {
        answers.iter().find_map(|(version, a)| match a {
            Ok(outcome) if *version == v => refusal(v, outcome),
            _ => None,
        })
    };
    let mut silent = 0;
    let retries: Vec<(ProtocolVersion, Refusal)> = RETRY_ORDER
        .into_iter()
        .filter_map(|v| refused(v).map(|r| (v, r)))
        .filter(|(_, r)| {
            if *r == Refusal::Silence {
                silent += 1;
                silent <= MAX_SILENT_RETRIES
            } else {
                true
            }
        })
        .collect();
    let again = join_all(retries.iter().map(|(version, _)| async move {
        let hello = hello_for(*version, sni, HelloSize::Compact);
        (*version, prober.send(hello, StopAt::ServerHello).await)
    }))
    .await;
    for (version, answer) in again {
        let Ok(outcome) = answer else { continue };
        let retried = checked(version, HelloSize::Compact, &outcome);
        if let Some(slot) = results.iter_mut().find(|r| r.version == version) {
            if retried.offered == Some(true) {
                slot.fallback = Some(format!(
                    "the broad {version} hello ({} suites) got {}; a compact one ({} suites) was answered",
                    broad_suites(version),
                    slot.evidence,
                    broad_suites(version).min(super::COMPACT_SUITES),
                ));
                slot.evidence = format!(
                    "{} (only with a compact hello: the {} broad one got {})",
                    retried.evidence, version, slot.evidence
                );
                slot.offered = retried.offered;
                slot.negotiated = retried.negotiated;
                slot.cipher = retried.cipher;
            } else {
                slot.evidence = format!("{}; compact hello: {}", slot.evidence, retried.evidence);
            }
        }
    }
}

/// How many suites the broad hello for `version` offers.
fn broad_suites(version: ProtocolVersion) -> usize {
    let mut n = registry::suites_for(version).len();
    if version == ProtocolVersion::Tls13 {
        n += registry::suites_for(ProtocolVersion::Tls12).len();
    }
    n
}

/// [`interpret`], after checking that the answer picks only what the
/// hello offered: otherwise the version is unknown, not offered.
fn checked(version: ProtocolVersion, size: HelloSize, outcome: &Outcome) -> ProtocolResult {
    if let Outcome::Hello(flight) = outcome {
        if let Some(hello) = &flight.hello {
            if let Some(why) = unoffered_pick(version, size, hello, flight.hello_retry) {
                return ProtocolResult::unknown(version, format!("broken answer: {why}"));
            }
        }
    }
    interpret(version, outcome)
}

/// What one probe's outcome says about `version`.
pub fn interpret(version: ProtocolVersion, outcome: &Outcome) -> ProtocolResult {
    match outcome {
        Outcome::Sslv2(hello) if version == ProtocolVersion::Ssl2 => {
            let names: Vec<String> = hello
                .cipher_kinds
                .iter()
                .map(|k| {
                    registry::sslv2_cipher_kind(*k)
                        .map(|kind| kind.name.clone())
                        .unwrap_or_else(|| format!("0x{k:06X}"))
                })
                .collect();
            let evidence = if names.is_empty() {
                "SSLv2 SERVER-HELLO listing no cipher kinds".to_string()
            } else {
                format!("SSLv2 SERVER-HELLO, cipher kinds {}", names.join(", "))
            };
            ProtocolResult::offered(version, evidence, Some(version), None)
        }
        Outcome::Sslv2(_) => {
            ProtocolResult::not_offered(version, "answered with an SSLv2 SERVER-HELLO".to_string())
        }
        Outcome::Hello(flight) => {
            let Some(hello) = &flight.hello else {
                return ProtocolResult::unknown(version, "incomplete flight".into());
            };
            let wire_version = hello.negotiated_version();
            let suite = registry::cipher_suite(hello.cipher_suite)
                .map(|s| s.iana.clone())
                .unwrap_or_else(|| format!("0x{:04X}", hello.cipher_suite));
            let Some(answered) = ProtocolVersion::from_wire(wire_version) else {
                return ProtocolResult::not_offered(
                    version,
                    format!("server answered unknown version 0x{wire_version:04X}"),
                );
            };
            let what = if flight.hello_retry {
                "HelloRetryRequest"
            } else {
                "ServerHello"
            };
            if version == ProtocolVersion::Ssl2 {
                ProtocolResult::not_offered(
                    version,
                    format!("SSLv2 hello answered with a {answered} {what}"),
                )
            } else if answered == version {
                ProtocolResult::offered(
                    version,
                    format!("{what} {answered}, {suite}"),
                    Some(answered),
                    Some(suite),
                )
            } else if answered < version {
                ProtocolResult {
                    negotiated: Some(answered),
                    ..ProtocolResult::not_offered(
                        version,
                        format!("downgraded: server answered {answered}"),
                    )
                }
            } else {
                ProtocolResult::not_offered(
                    version,
                    format!("server answered {answered}, above the version offered (broken)"),
                )
            }
        }
        Outcome::Alert(alert) => {
            ProtocolResult::not_offered(version, format!("alert {}", alert.description.name()))
        }
        Outcome::Sslv2Error(code) => {
            ProtocolResult::not_offered(version, format!("SSLv2 ERROR 0x{code:04X}"))
        }
        Outcome::Closed => {
            ProtocolResult::not_offered(version, "connection closed without an answer".into())
        }
        Outcome::Reset => ProtocolResult::not_offered(version, "connection reset".into()),
        Outcome::Timeout => {
            ProtocolResult::not_offered(version, "no answer before the deadline".into())
        }
        Outcome::Malformed(e) => ProtocolResult::unknown(version, format!("malformed answer: {e}")),
        Outcome::IoError(e) => ProtocolResult::unknown(version, format!("socket error: {e}")),
        Outcome::Truncated { .. } => ProtocolResult::unknown(version, outcome.describe()),
    }
}
