//! The certificate served per server name: for every requested SNI, for no
//! SNI and for a name no gateway can know, fetch the chain (a rustls
//! handshake when TLS 1.2/1.3 is offered, else the raw TLS ≤ 1.1
//! Certificate message) and analyse it with `cert`.
//!
//! A refused handshake is an observation (`refused`), not an error: Envoy
//! with SNI-matched filter chains and no default chain refuses unknown
//! names, which is often the intended posture. Judging what is seen is
//! `verdict`'s job.

use futures::future::join_all;
use time::OffsetDateTime;

use super::{hello_for, HelloSize, Prober};
use crate::cert::{self, TrustRoots};
use crate::observe::{CertRequest, CertificateResult};
use crate::probe::{Outcome, StopAt};
use crate::tls_client::{record_handshake, HandshakeOptions, HandshakeRecord};
use crate::wire::{ProtocolVersion, ServerMessage};

/// The server name sent as the "unknown" request: `.invalid` is reserved
/// (RFC 2606), so no gateway can have a certificate for it.
pub const UNKNOWN_SNI: &str = "tlsposture-probe.invalid";

/// Versions whose Certificate message a raw hello can read in the clear,
/// newest first (TLS 1.3 encrypts it).
const RAW_READABLE: [ProtocolVersion; 4] = [
    ProtocolVersion::Tls12,
    ProtocolVersion::Tls11,
    ProtocolVersion::Tls10,
    ProtocolVersion::Ssl3,
];

/// Schemes an RSA certificate can sign with (TLS 1.2 and 1.3).
const RSA_SCHEMES: [u16; 10] = [
    0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b, 0x0401, 0x0501, 0x0601, 0x0201,
];
/// Schemes an ECDSA certificate can sign with.
const ECDSA_SCHEMES: [u16; 4] = [0x0403, 0x0503, 0x0603, 0x0203];

/// One certificate result per request, in order: each name of `requested`
/// (two results, `key_type` RSA and ECDSA, when the server holds both
/// kinds for it), then `none`, then `unknown`.
///
/// `offered` are the versions the protocol scan found; TLS 1.2/1.3 use
/// rustls, otherwise the newest of TLS 1.1/1.0/SSLv3 uses a raw hello.
/// Trust is checked against `roots` without a name (the name is
/// `hostname_match`'s business, so one problem is not reported twice).
pub async fn scan_certificates(
    prober: &Prober,
    requested: &[String],
    offered: &[ProtocolVersion],
    roots: &TrustRoots,
) -> Vec<CertificateResult> {
    let now = OffsetDateTime::now_utc();
    let mut requests: Vec<(Option<&str>, CertRequest)> = Vec::new();
    for name in requested {
        if !requests.iter().any(|(n, _)| *n == Some(name.as_str())) {
            requests.push((Some(name.as_str()), CertRequest::Requested));
        }
    }
    requests.push((None, CertRequest::None));
    requests.push((Some(UNKNOWN_SNI), CertRequest::Unknown));

    let tasks = requests.iter().map(|(sni, request)| async move {
        let fetched = fetch(prober, *sni, *request == CertRequest::Requested, offered).await;
        for f in &fetched {
            if let Err(failed) = &f.outcome {
                if !failed.by_server {
                    prober.note_unanswered(format!(
                        "certificate for {}: {failed}",
                        sni.unwrap_or("no SNI")
                    ));
                }
            }
        }
        fetched
            .into_iter()
            .map(|f| analyse(*sni, *request, f, roots, now))
            .collect::<Vec<_>>()
    });
    join_all(tasks).await.into_iter().flatten().collect()
}

/// A chain as fetched, or why none was.
struct Fetched {
    key_type: Option<String>,
    outcome: Result<HandshakeRecord, Failed>,
    /// Set when the chain came from the raw fallback: how, and why.
    read_via: Option<String>,
}

/// Why no chain was fetched.
#[derive(Debug, Clone)]
pub(super) struct Failed {
    pub reason: String,
    /// The server refused (alert, close, reset); otherwise our side could
    /// not read its answer, or none came in time.
    pub by_server: bool,
    /// The fatal alert the server refused with, if it sent one.
    pub alert: Option<u8>,
}

impl Failed {
    fn ours(reason: String) -> Failed {
        Failed {
            reason,
            by_server: false,
            alert: None,
        }
    }

    /// The server closed or reset the connection without an alert: it may
    /// have refused the name, or only something in rustls's hello (wolfSSL
    /// 5.5 closes on the `status_request` rustls always sends).
    fn silent(&self) -> bool {
        self.by_server && self.alert.is_none()
    }
}

/// The alert a server sends when no group (or suite) is shared.
const HANDSHAKE_FAILURE: u8 = 40;

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

async fn fetch(
    prober: &Prober,
    sni: Option<&str>,
    both_kinds: bool,
    offered: &[ProtocolVersion],
) -> Vec<Fetched> {
    let versions = crate::tls_client::rustls_versions(offered);
    // rustls speaks TLS 1.2 and 1.3; older servers are read raw.
    let legacy = RAW_READABLE[1..]
        .iter()
        .copied()
        .find(|v| offered.contains(v));
    if versions.is_empty() {
        if let Some(version) = legacy {
            return vec![Fetched {
                key_type: None,
                outcome: fetch_raw(prober, sni, version).await,
                read_via: None,
            }];
        }
        // Nothing known to be offered: try rustls anyway, the refusal is
        // then the evidence.
    }
    let opts = |schemes: Option<&[u16]>| HandshakeOptions {
        sni: sni.map(str::to_owned),
        alpn: Vec::new(),
        versions: versions.clone(),
        signature_schemes: schemes.map(<[u16]>::to_vec),
    };
    if both_kinds {
        // Restricting the advertised schemes makes a dual-certificate
        // server (Envoy picks ECDSA for any client that can take it) show
        // each certificate in turn: two handshakes, run together.
        let (rsa_opts, ecdsa_opts) = (opts(Some(&RSA_SCHEMES)), opts(Some(&ECDSA_SCHEMES)));
        let (rsa, ecdsa) = tokio::join!(
            full_handshake(prober, &rsa_opts),
            full_handshake(prober, &ecdsa_opts)
        );
        let fingerprint = |r: &Result<HandshakeRecord, Failed>| {
            r.as_ref()
                .ok()
                .and_then(|rec| rec.chain.first())
                .map(|leaf| cert::sha256_hex(leaf))
        };
        match (fingerprint(&rsa), fingerprint(&ecdsa)) {
            (Some(a), Some(b)) if a != b => {
                return vec![
                    Fetched {
                        key_type: Some("RSA".to_owned()),
                        outcome: rsa,
                        read_via: None,
                    },
                    Fetched {
                        key_type: Some("ECDSA".to_owned()),
                        outcome: ecdsa,
                        read_via: None,
                    },
                ];
            }
            (Some(_), _) => {
                return vec![Fetched {
                    key_type: None,
                    outcome: rsa,
                    read_via: None,
                }]
            }
            (None, Some(_)) => {
                return vec![Fetched {
                    key_type: None,
                    outcome: ecdsa,
                    read_via: None,
                }]
            }
            // Neither kind (Ed25519, RSA-PSS keys, or a refusal): ask the
            // way an ordinary client would.
            (None, None) => {}
        }
    }
    let mut outcome = full_handshake(prober, &opts(None)).await;
    if let Err(failed) = &outcome {
        if let Some(ours) = groups_we_lack(prober, sni, offered, failed).await {
            outcome = Err(ours);
        }
    }
    if let Err(failed) = &outcome {
        if let Some(fetched) = raw_fallback(prober, sni, offered, failed).await {
            return vec![fetched];
        }
    }
    vec![Fetched {
        key_type: None,
        outcome,
        read_via: None,
    }]
}

/// When rustls could not read what the server sent (a Certificate message
/// above its size limit, an encoding it rejects) the server did not
/// refuse, and its chain is still in the clear in a TLS ≤ 1.2 flight: a
/// raw hello reads it under the flight budgets (review H3). The same when
/// the server closed on rustls's hello without an alert: a raw hello
/// without the extensions some stacks choke on tells a refusal of the
/// name (closed again) from one of rustls's hello. `None` when the server
/// refused, or offers nothing older than TLS 1.3, or the raw read fails
/// too (the rustls failure then stands).
async fn raw_fallback(
    prober: &Prober,
    sni: Option<&str>,
    offered: &[ProtocolVersion],
    failed: &Failed,
) -> Option<Fetched> {
    if failed.by_server && !failed.silent() {
        return None;
    }
    let version = RAW_READABLE.into_iter().find(|v| offered.contains(v))?;
    let record = fetch_raw(prober, sni, version).await.ok()?;
    let why = if failed.by_server {
        "the server closed the full handshake without an alert"
    } else {
        "the full handshake failed on our side"
    };
    Some(Fetched {
        key_type: None,
        outcome: Ok(record),
        read_via: Some(format!(
            "a raw {} hello, because {why}: {}",
            version.name(),
            failed.reason
        )),
    })
}

/// A handshake_failure to rustls's TLS 1.3 hello may be the server's
/// answer to its groups, not to the name: rustls has no X448, for one. A
/// raw TLS 1.3 hello offering every group tells them apart: when the
/// server answers it with a group our full handshakes cannot do, the
/// failure was ours, and the certificate is unknown (or read raw over TLS
/// 1.2), never "refused". One more handshake, only after such a refusal.
async fn groups_we_lack(
    prober: &Prober,
    sni: Option<&str>,
    offered: &[ProtocolVersion],
    failed: &Failed,
) -> Option<Failed> {
    if failed.alert != Some(HANDSHAKE_FAILURE) || !offered.contains(&ProtocolVersion::Tls13) {
        return None;
    }
    let hello = hello_for(ProtocolVersion::Tls13, sni, HelloSize::Full);
    let Ok(Outcome::Hello(flight)) = prober.send(hello, StopAt::ServerHello).await else {
        return None;
    };
    let group = flight.hello.as_ref()?.key_share_group()?;
    if crate::tls_client::kx_groups::full_handshakes_support(group) {
        return None;
    }
    let name = crate::registry::named_group(group)
        .map(|g| g.name.clone())
        .unwrap_or_else(|| format!("0x{group:04X}"));
    Some(Failed::ours(format!(
        "the server negotiates {name} with a raw TLS 1.3 hello, a group our TLS client cannot \
         do, and refused its hello ({})",
        failed.reason
    )))
}

/// One rustls handshake under the prober's limit and deadlines. A failure
/// after the server's Certificate still returns the chain it sent.
pub(super) async fn full_handshake(
    prober: &Prober,
    opts: &HandshakeOptions,
) -> Result<HandshakeRecord, Failed> {
    let (stream, _permit) = prober
        .connect()
        .await
        .map_err(|e| Failed::ours(e.to_string()))?;
    match record_handshake(stream, opts, prober.timeouts().read).await {
        Ok(record) => Ok(record),
        Err(e) => match e.seen() {
            Some(seen) if !seen.chain.is_empty() => Ok(seen.clone()),
            _ => Err(Failed {
                reason: e.to_string(),
                by_server: e.by_server(),
                alert: e.alert(),
            }),
        },
    }
}

/// The chain from a raw hello's flight (TLS ≤ 1.1, which rustls cannot
/// speak, or the fallback above): the broad hello, then the compact one
/// when the broad one was refused with anything but a handshake_failure
/// (a stack that refuses large hellos, like wolfSSL's decode_error).
async fn fetch_raw(
    prober: &Prober,
    sni: Option<&str>,
    version: ProtocolVersion,
) -> Result<HandshakeRecord, Failed> {
    match fetch_raw_sized(prober, sni, version, HelloSize::Full).await {
        Err(failed) if failed.by_server && !failed.reason.contains("handshake_failure") => {
            fetch_raw_sized(prober, sni, version, HelloSize::Compact)
                .await
                .map_err(|compact| Failed {
                    reason: format!("{}; compact hello: {}", failed.reason, compact.reason),
                    ..compact
                })
        }
        fetched => fetched,
    }
}

async fn fetch_raw_sized(
    prober: &Prober,
    sni: Option<&str>,
    version: ProtocolVersion,
    size: HelloSize,
) -> Result<HandshakeRecord, Failed> {
    let hello = hello_for(version, sni, size);
    let outcome = prober
        .send(hello, StopAt::FlightEnd)
        .await
        .map_err(|e| Failed::ours(e.to_string()))?;
    let Outcome::Hello(flight) = outcome else {
        let by_server = matches!(
            outcome,
            Outcome::Alert(_) | Outcome::Closed | Outcome::Reset | Outcome::Sslv2Error(_)
        );
        return Err(Failed {
            reason: outcome.describe(),
            by_server,
            alert: match outcome {
                Outcome::Alert(a) => Some(a.description.to_u8()),
                _ => None,
            },
        });
    };
    let mut record = HandshakeRecord {
        protocol: flight
            .hello
            .as_ref()
            .and_then(|h| ProtocolVersion::from_wire(h.negotiated_version())),
        suite: flight.hello.as_ref().map(|h| h.cipher_suite),
        ..HandshakeRecord::default()
    };
    let cut = flight.cut.clone();
    for message in flight.messages {
        match message {
            ServerMessage::Certificate(chain) => record.chain = chain,
            // status_type 1 (ocsp), then the u24-prefixed response.
            ServerMessage::CertificateStatus(body) if body.len() > 4 && body[0] == 1 => {
                record.ocsp = Some(body[4..].to_vec());
            }
            _ => {}
        }
    }
    if record.chain.is_empty() {
        if let Some(why) = &cut {
            return Err(Failed::ours(format!(
                "{} flight ended before its Certificate: {why}",
                version.name()
            )));
        }
        return Err(Failed {
            reason: format!(
                "{} answered without a Certificate message (anonymous suite?)",
                version.name()
            ),
            by_server: true,
            alert: None,
        });
    }
    record.key_type = cert::describe(&record.chain[0], OffsetDateTime::UNIX_EPOCH)
        .ok()
        .map(|i| i.key_type);
    Ok(record)
}

fn analyse(
    sni: Option<&str>,
    request: CertRequest,
    fetched: Fetched,
    roots: &TrustRoots,
    now: OffsetDateTime,
) -> CertificateResult {
    let mut result = CertificateResult {
        sni: sni.map(str::to_owned),
        request,
        refused: None,
        unknown: None,
        read_via: fetched.read_via,
        key_type: fetched.key_type,
        protocol: None,
        chain: Vec::new(),
        trusted: None,
        trust_error: None,
        hostname_match: None,
        days_left: None,
        ocsp_stapled: false,
        chain_problems: Vec::new(),
    };
    let record = match fetched.outcome {
        Ok(record) => record,
        Err(Failed {
            reason, by_server, ..
        }) => {
            if by_server {
                result.refused = Some(reason);
            } else {
                result.unknown = Some(reason);
            }
            return result;
        }
    };
    result.protocol = record.protocol;
    result.ocsp_stapled = record.ocsp.is_some();
    result.chain = record
        .chain
        .iter()
        .filter_map(|der| cert::describe(der, now).ok())
        .collect();
    result.days_left = record
        .chain
        .first()
        .and_then(|leaf| cert::describe(leaf, now).ok())
        .map(|leaf| leaf.days_left);
    result.hostname_match = match (sni, record.chain.first()) {
        (Some(name), Some(leaf)) => Some(cert::hostname_matches(leaf, name)),
        _ => None,
    };
    match cert::verify_trust(&record.chain, roots, None, now) {
        Ok(()) => result.trusted = Some(true),
        Err(why) => {
            result.trusted = Some(false);
            result.trust_error = Some(why);
        }
    }
    result.chain_problems = cert::chain_problems(&record.chain);
    if result.trusted == Some(false) {
        result
            .chain_problems
            .extend(cert::missing_issuer(&record.chain, roots));
    }
    result
}
