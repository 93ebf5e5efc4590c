//! The vulnerability battery's active probes (the checks that need hellos
//! or requests of their own); the checks derived from what enumeration saw
//! are `verdict::vulns`' call.
//!
//! Connections are few and reuse what enumeration found: every hello
//! offers only suites the server accepted for that version, so a refusal
//! is about the feature probed, not the offer.
//!
//! - One "extensions" hello at the highest version ≤ TLS 1.2 offers
//!   heartbeat (ext 0x000f), DEFLATE compression and renegotiation_info:
//!   secure renegotiation (RFC 5746, testssl.sh `run_renego`), CRIME
//!   (`run_crime`) and, only when heartbeat is echoed, Heartbleed
//!   (`run_heartbleed`: a heartbeat request claiming 16 KiB with no
//!   payload; any heartbeat back is memory). Refused while the protocol
//!   scan saw the version offered, it falls back to one plain hello per
//!   feature, and says so.
//! - TLS_FALLBACK_SCSV (`run_tls_fallback_scsv`): a hello at the version
//!   below the highest offered with 0x5600; the answer must be
//!   inappropriate_fallback. The RFC 8446 downgrade sentinel of the
//!   extensions hello's ServerHello is noted when TLS 1.3 is offered.
//! - CCS injection (`run_ccs_injection`): a TLS ≤ 1.2 handshake to
//!   ServerHelloDone, then a ChangeCipherSpec before any key exchange.
//! - BREACH (`run_breach`) and Opossum (testssl 3.3's `run_opossum`; the
//!   3.2 installed here has none): one HTTP/1.1 request each over a full
//!   (rustls) handshake.
//! - Ticketbleed ([`ticketbleed`]): only when the extensions hello's
//!   ServerHello echoes session_ticket; a real ticket, then one resumption.
//! - ROBOT ([`robot`]): only with RSA key-transport suites; 5 (or 10).
//! - LOGJAM's prime ([`dh`]): only with DHE suites; one hello.
//! - Client-initiated renegotiation ([`renegotiation`]): one OpenSSL
//!   connection.
//!
//! On the lab's Envoy defaults listener that is 8 connections beyond
//! enumeration (tests/vulns_real.rs measures it): extensions hello,
//! fallback, CCS, ticket + resumption, renegotiation, BREACH, Opossum.

use std::time::Duration;

use crate::observe::{ProtocolResult, SuiteResult, VulnId, VulnStatus, Vulnerability};
use crate::probe::{self, Conversation, Outcome, Reply, StopAt};
use crate::registry;
use crate::tls_client::HandshakeOptions;
use crate::wire::{self, records, ClientHelloSpec, Extension, ProtocolVersion, ServerMessage};

use super::http::{http_exchange, HttpOutcome, HttpRequest};
use super::Prober;

mod dh;
mod renegotiation;
mod robot;
mod ticketbleed;

/// What the battery may reuse of the scan so far.
#[derive(Debug, Clone, Copy)]
pub struct VulnContext<'a> {
    /// The server_name to send; `None` sends no SNI.
    pub sni: Option<&'a str>,
    /// The Host of the HTTP probes (BREACH, Opossum).
    pub host: &'a str,
    pub offered: &'a [ProtocolVersion],
    /// The protocol scan's results.
    pub protocols: &'a [ProtocolResult],
    /// Every suite enumeration found (the `vulns` check turns `suites` on).
    pub suites: &'a [SuiteResult],
}

/// The heartbeat extension (RFC 6520) and its mode peer_allowed_to_send.
const EXT_HEARTBEAT: u16 = 0x000f;
/// DEFLATE (RFC 3749).
const COMPRESSION_DEFLATE: u8 = 1;
/// What a Heartbleed request claims to carry.
const HEARTBLEED_CLAIM: u16 = 0x4000;

pub(super) fn v(id: VulnId, status: VulnStatus, evidence: impl Into<String>) -> Vulnerability {
    Vulnerability::new(id, status, evidence)
}

/// The active checks, each a [`Vulnerability`] (the derived ones are left
/// to `verdict::vulns::assess`).
pub async fn probe_vulnerabilities(prober: &Prober, cx: &VulnContext<'_>) -> Vec<Vulnerability> {
    let legacy = cx
        .offered
        .iter()
        .copied()
        .filter(|v| (ProtocolVersion::Ssl3..=ProtocolVersion::Tls12).contains(v))
        .max();
    let (tls, http) = tokio::join!(
        async {
            match legacy {
                Some(version) => legacy_checks(prober, cx, version).await,
                None => no_legacy(cx),
            }
        },
        http_checks(prober, cx),
    );
    let mut out = tls;
    out.extend(http);
    out
}

/// The TLS ≤ 1.2 checks when no such version is offered.
fn no_legacy(cx: &VulnContext<'_>) -> Vec<Vulnerability> {
    let (status, why) = if cx.offered.is_empty() {
        (
            VulnStatus::Unknown,
            "cannot tell: the protocol scan found no version offered".to_owned(),
        )
    } else {
        (
            VulnStatus::NotApplicable,
            format!("needs TLS ≤ 1.2; offered: {}", names(cx.offered).join(", ")),
        )
    };
    let mut out: Vec<Vulnerability> = [
        VulnId::Heartbleed,
        VulnId::CcsInjection,
        VulnId::Ticketbleed,
        VulnId::Robot,
        VulnId::SecureRenegotiation,
        VulnId::ClientRenegotiation,
        VulnId::Crime,
    ]
    .into_iter()
    .map(|id| v(id, status, why.clone()))
    .collect();
    out.push(fallback_single(cx).unwrap_or_else(|| v(VulnId::FallbackScsv, status, why)));
    out
}

fn names(versions: &[ProtocolVersion]) -> Vec<&'static str> {
    versions.iter().map(|v| v.name()).collect()
}

/// `not_applicable` when at most one version (SSLv2 aside) is offered.
fn fallback_single(cx: &VulnContext<'_>) -> Option<Vulnerability> {
    let tls: Vec<ProtocolVersion> = cx
        .offered
        .iter()
        .copied()
        .filter(|v| *v != ProtocolVersion::Ssl2)
        .collect();
    (tls.len() == 1).then(|| {
        v(
            VulnId::FallbackScsv,
            VulnStatus::NotApplicable,
            format!(
                "only {} offered: there is no version to fall back to",
                tls[0].name()
            ),
        )
    })
}

/// The suites enumeration found for `version` (IANA codes), else every
/// registry suite for it.
fn suites_for(cx: &VulnContext<'_>, version: ProtocolVersion) -> Vec<u16> {
    let found: Vec<u16> = cx
        .suites
        .iter()
        .filter(|s| s.protocol == version)
        .filter_map(|s| s.iana_code())
        .collect();
    if found.is_empty() {
        registry::suites_for(version)
            .iter()
            .map(|s| s.code)
            .collect()
    } else {
        found
    }
}

/// A hello at `version` offering what the server accepted there, with
/// extensions as [`ClientHelloSpec::for_version`] writes them.
pub(super) fn base_hello(
    cx: &VulnContext<'_>,
    version: ProtocolVersion,
    extra: &[u16],
) -> ClientHelloSpec {
    let mut suites = suites_for(cx, version);
    suites.extend_from_slice(extra);
    base_hello_with(cx, version, suites)
}

/// A hello at `version` offering exactly `suites`.
pub(super) fn base_hello_with(
    cx: &VulnContext<'_>,
    version: ProtocolVersion,
    suites: Vec<u16>,
) -> ClientHelloSpec {
    ClientHelloSpec::for_version(
        version,
        suites,
        cx.sni,
        Vec::new(),
        registry::named_groups().iter().map(|g| g.code).collect(),
        registry::signature_schemes()
            .iter()
            .map(|s| s.code)
            .collect(),
    )
}

/// Which features one hello asks for.
#[derive(Debug, Clone, Copy)]
struct Features {
    heartbeat: bool,
    compression: bool,
}

fn feature_hello(cx: &VulnContext<'_>, version: ProtocolVersion, f: Features) -> ClientHelloSpec {
    let mut spec = base_hello(cx, version, &[]);
    if f.compression {
        spec.compression_methods = vec![COMPRESSION_DEFLATE, 0];
    }
    if f.heartbeat {
        if spec.extensions.is_empty() {
            // SSLv3 hellos have no extensions block; heartbeat needs one.
            spec.extensions.push(Extension::RenegotiationInfo);
        }
        spec.extensions.push(Extension::Raw {
            typ: EXT_HEARTBEAT,
            data: vec![1],
        });
    }
    spec
}

/// Connects through the prober and opens a conversation.
pub(super) async fn converse(
    prober: &Prober,
    hello: Result<Vec<u8>, wire::EncodeError>,
    stop: StopAt,
) -> Result<(Outcome, Option<Conversation>), String> {
    let hello = hello.map_err(|e| format!("hello not sent: {e}"))?;
    let (stream, _slot) = prober.connect().await.map_err(|e| e.to_string())?;
    Ok(probe::conversation::open(stream, &hello, stop, prober.timeouts().read).await)
}

async fn legacy_checks(
    prober: &Prober,
    cx: &VulnContext<'_>,
    version: ProtocolVersion,
) -> Vec<Vulnerability> {
    // The Ticketbleed resumption runs only when the extensions hello saw
    // tickets, so it starts as soon as that hello is answered, alongside
    // the rest.
    let ext_then_tickets = async {
        let (mut out, sentinel) = extension_checks(prober, cx, version).await;
        // Tickets issued: the resumption test (two more connections).
        if let Some(t) = out
            .iter_mut()
            .find(|r| r.id == VulnId::Ticketbleed && r.evidence == TICKETS_ISSUED)
        {
            *t = ticketbleed::ticketbleed(prober, cx).await;
        }
        (out, sentinel)
    };
    let ((mut out, sentinel), fallback, ccs, robot, dh, reneg) = tokio::join!(
        ext_then_tickets,
        fallback_scsv(prober, cx),
        ccs_injection(prober, cx, version),
        robot::robot(prober, cx),
        dh::dh_prime(prober, cx),
        renegotiation::client_renegotiation(prober, cx, version),
    );
    let mut fallback = fallback;
    if let Some(note) = sentinel {
        fallback.evidence.push_str("; ");
        fallback.evidence.push_str(&note);
    }
    out.push(ccs);
    out.push(fallback);
    out.push(robot);
    out.push(reneg);
    // LOGJAM's prime, merged with the derived check by the verdict.
    out.extend(dh);
    out
}

/// Heartbleed, secure renegotiation and CRIME from one hello (or one per
/// feature when the combined hello is refused); also the downgrade
/// sentinel of that ServerHello, for the fallback check's evidence.
async fn extension_checks(
    prober: &Prober,
    cx: &VulnContext<'_>,
    version: ProtocolVersion,
) -> (Vec<Vulnerability>, Option<String>) {
    let all = Features {
        heartbeat: true,
        compression: true,
    };
    let hello = wire::encode_client_hello(&feature_hello(cx, version, all));
    let combined = converse(prober, hello, StopAt::FlightEnd).await;
    let tls13 = cx.offered.contains(&ProtocolVersion::Tls13);
    match combined {
        Ok((Outcome::Hello(flight), conv)) => {
            let Some(hello) = flight.hello.as_ref() else {
                return (unknown_ext("the answer had no ServerHello"), None);
            };
            let sentinel = tls13.then(|| sentinel_note(hello, version));
            let heartbleed = heartbleed(hello, conv, version).await;
            let out = vec![
                heartbleed,
                secure_renegotiation(hello, ""),
                crime(hello, ""),
                ticketbleed(hello),
            ];
            (out, sentinel)
        }
        Ok((refused, _)) => {
            let why = format!(
                "the combined hello (heartbeat, DEFLATE, renegotiation_info) at {} was refused ({}), so each was tried in a plain hello of its own",
                version.name(),
                refused.describe()
            );
            separate_checks(prober, cx, version, &why, tls13).await
        }
        Err(e) => (unknown_ext(&e), None),
    }
}

fn unknown_ext(why: &str) -> Vec<Vulnerability> {
    [
        VulnId::Heartbleed,
        VulnId::SecureRenegotiation,
        VulnId::Crime,
        VulnId::Ticketbleed,
    ]
    .into_iter()
    .map(|id| v(id, VulnStatus::Unknown, format!("cannot tell: {why}")))
    .collect()
}

async fn separate_checks(
    prober: &Prober,
    cx: &VulnContext<'_>,
    version: ProtocolVersion,
    why: &str,
    tls13: bool,
) -> (Vec<Vulnerability>, Option<String>) {
    let hello = |f| wire::encode_client_hello(&feature_hello(cx, version, f));
    let (hb, plain, comp) = tokio::join!(
        converse(
            prober,
            hello(Features {
                heartbeat: true,
                compression: false
            }),
            StopAt::FlightEnd
        ),
        converse(
            prober,
            hello(Features {
                heartbeat: false,
                compression: false
            }),
            StopAt::ServerHello
        ),
        converse(
            prober,
            hello(Features {
                heartbeat: false,
                compression: true
            }),
            StopAt::ServerHello
        ),
    );
    let note = format!(" ({why})");
    let mut sentinel = None;
    let heartbleed_result = match hb {
        Ok((Outcome::Hello(f), conv)) if f.hello.is_some() => {
            let mut r = heartbleed(
                f.hello.as_ref().unwrap_or_else(|| unreachable!()),
                conv,
                version,
            )
            .await;
            r.evidence.push_str(&note);
            r
        }
        Ok((o, _)) => v(
            VulnId::Heartbleed,
            VulnStatus::NotVulnerable,
            format!(
                "a hello offering heartbeat was refused ({}){note}",
                o.describe()
            ),
        ),
        Err(e) => v(
            VulnId::Heartbleed,
            VulnStatus::Unknown,
            format!("cannot tell: {e}"),
        ),
    };
    let (reneg, tickets) = match plain {
        Ok((Outcome::Hello(f), conv)) if f.hello.is_some() => {
            if let Some(c) = conv {
                c.close();
            }
            let h = f.hello.as_ref().unwrap_or_else(|| unreachable!());
            if tls13 {
                sentinel = Some(sentinel_note(h, version));
            }
            (secure_renegotiation(h, &note), ticketbleed(h))
        }
        Ok((o, _)) => {
            let why = format!(
                "cannot tell: a plain {} hello was refused too ({}){note}",
                version.name(),
                o.describe()
            );
            (
                v(
                    VulnId::SecureRenegotiation,
                    VulnStatus::Unknown,
                    why.clone(),
                ),
                v(VulnId::Ticketbleed, VulnStatus::Unknown, why),
            )
        }
        Err(e) => (
            v(
                VulnId::SecureRenegotiation,
                VulnStatus::Unknown,
                format!("cannot tell: {e}"),
            ),
            v(
                VulnId::Ticketbleed,
                VulnStatus::Unknown,
                format!("cannot tell: {e}"),
            ),
        ),
    };
    let crime_result = match comp {
        Ok((Outcome::Hello(f), conv)) if f.hello.is_some() => {
            if let Some(c) = conv {
                c.close();
            }
            crime(f.hello.as_ref().unwrap_or_else(|| unreachable!()), &note)
        }
        Ok((o, _)) => v(
            VulnId::Crime,
            VulnStatus::NotVulnerable,
            format!(
                "a hello offering DEFLATE and null compression was refused ({}){note}",
                o.describe()
            ),
        ),
        Err(e) => v(
            VulnId::Crime,
            VulnStatus::Unknown,
            format!("cannot tell: {e}"),
        ),
    };
    (
        vec![heartbleed_result, reneg, crime_result, tickets],
        sentinel,
    )
}

fn sentinel_note(hello: &wire::ServerHello, version: ProtocolVersion) -> String {
    match hello.downgrade_sentinel() {
        Some(0x0303) => format!(
            "the {} ServerHello carries the RFC 8446 downgrade sentinel DOWNGRD\\x01",
            version.name()
        ),
        Some(_) => format!(
            "the {} ServerHello carries the RFC 8446 downgrade sentinel DOWNGRD\\x00",
            version.name()
        ),
        None => format!(
            "the {} ServerHello lacks the RFC 8446 downgrade sentinel although TLS1.3 is offered",
            version.name()
        ),
    }
}

/// The placeholder for "tickets issued: run the resumption test".
const TICKETS_ISSUED: &str = "the server issues session tickets: the resumption test was not run";

/// Ticketbleed needs session tickets: without the session_ticket echo it
/// cannot apply (0 extra connections).
fn ticketbleed(hello: &wire::ServerHello) -> Vulnerability {
    if hello.has_extension(wire::hello::ext::SESSION_TICKET) {
        v(VulnId::Ticketbleed, VulnStatus::Unknown, TICKETS_ISSUED)
    } else {
        v(
            VulnId::Ticketbleed,
            VulnStatus::NotApplicable,
            "session_ticket offered but not echoed: the server issues no TLS 1.2 tickets",
        )
    }
}

fn secure_renegotiation(hello: &wire::ServerHello, note: &str) -> Vulnerability {
    let id = VulnId::SecureRenegotiation;
    match hello.extension(wire::hello::ext::RENEGOTIATION_INFO) {
        Some([0]) => v(
            id,
            VulnStatus::NotVulnerable,
            format!("ServerHello echoes an empty renegotiation_info (RFC 5746){note}"),
        ),
        Some(body) => v(
            id,
            VulnStatus::Vulnerable,
            format!(
                "ServerHello's renegotiation_info is not empty on an initial handshake ({} bytes){note}",
                body.len()
            ),
        ),
        None => v(
            id,
            VulnStatus::Vulnerable,
            format!("ServerHello has no renegotiation_info extension: RFC 5746 not supported{note}"),
        ),
    }
}

fn crime(hello: &wire::ServerHello, note: &str) -> Vulnerability {
    let id = VulnId::Crime;
    match hello.compression {
        0 => v(
            id,
            VulnStatus::NotVulnerable,
            format!("offered DEFLATE and null compression; the server chose null{note}"),
        ),
        COMPRESSION_DEFLATE => v(
            id,
            VulnStatus::Vulnerable,
            format!("offered DEFLATE and null compression; the server chose DEFLATE{note}"),
        ),
        other => v(
            id,
            VulnStatus::Vulnerable,
            format!("the server chose compression method {other}, which was not offered{note}"),
        ),
    }
}

/// Heartbleed on an open conversation: only when the ServerHello echoed
/// the heartbeat extension.
async fn heartbleed(
    hello: &wire::ServerHello,
    conv: Option<Conversation>,
    version: ProtocolVersion,
) -> Vulnerability {
    let id = VulnId::Heartbleed;
    if !hello.has_extension(EXT_HEARTBEAT) {
        if let Some(c) = conv {
            c.close();
        }
        return v(
            id,
            VulnStatus::NotVulnerable,
            "heartbeat extension offered but not echoed: the server does not do heartbeats",
        );
    }
    let Some(mut conv) = conv else {
        return v(
            id,
            VulnStatus::Unknown,
            "cannot tell: heartbeat echoed, but the flight after the ServerHello broke off",
        );
    };
    let request = records::heartbeat_request(version.wire(), HEARTBLEED_CLAIM);
    let reply = conv.send(&request, Duration::from_secs(3)).await;
    conv.close();
    let heartbeat = match &reply {
        Reply::Messages(m) => m.iter().find_map(|m| match m {
            ServerMessage::Heartbeat(p) => Some(p.len()),
            _ => None,
        }),
        _ => None,
    };
    match heartbeat {
        Some(len) => v(
            id,
            VulnStatus::Vulnerable,
            format!(
                "heartbeat echoed; a request claiming {HEARTBLEED_CLAIM} bytes with none sent got a heartbeat record of {len} bytes back"
            ),
        ),
        None => match reply {
            Reply::Truncated(_) | Reply::Malformed(_) | Reply::SendFailed(_) => v(
                id,
                VulnStatus::Unknown,
                format!(
                    "cannot tell: heartbeat echoed; the answer to an oversized heartbeat request: {}",
                    reply.describe()
                ),
            ),
            _ => v(
                id,
                VulnStatus::NotVulnerable,
                format!(
                    "heartbeat echoed; an oversized heartbeat request (claims {HEARTBLEED_CLAIM} bytes, sends none) got: {}",
                    reply.describe()
                ),
            ),
        },
    }
}

/// TLS_FALLBACK_SCSV at the version below the highest offered.
async fn fallback_scsv(prober: &Prober, cx: &VulnContext<'_>) -> Vulnerability {
    let id = VulnId::FallbackScsv;
    if let Some(single) = fallback_single(cx) {
        return single;
    }
    let mut tls: Vec<ProtocolVersion> = cx
        .offered
        .iter()
        .copied()
        .filter(|v| *v != ProtocolVersion::Ssl2)
        .collect();
    tls.sort();
    let (Some(&highest), Some(&lower)) = (tls.last(), tls.iter().rev().nth(1)) else {
        return v(id, VulnStatus::Unknown, "cannot tell: no offered version");
    };
    let spec = base_hello(cx, lower, &[registry::TLS_FALLBACK_SCSV]);
    let outcome = prober
        .send(wire::encode_client_hello(&spec), StopAt::ServerHello)
        .await;
    let sent = format!(
        "{} hello with TLS_FALLBACK_SCSV (highest offered {})",
        lower.name(),
        highest.name()
    );
    match outcome {
        Ok(Outcome::Alert(a)) if a.description.to_u8() == 86 => v(
            id,
            VulnStatus::NotVulnerable,
            format!("{sent}: alert inappropriate_fallback"),
        ),
        Ok(Outcome::Hello(f)) => v(
            id,
            VulnStatus::Vulnerable,
            format!(
                "{sent}: accepted ({}), no inappropriate_fallback",
                Outcome::Hello(f.clone()).describe()
            ),
        ),
        Ok(other) => v(
            id,
            VulnStatus::Unknown,
            format!("cannot tell: {sent}: {}", other.describe()),
        ),
        Err(e) => v(id, VulnStatus::Unknown, format!("cannot tell: {e}")),
    }
}

/// CCS injection: a ChangeCipherSpec right after ServerHelloDone, before
/// any key exchange. A correct server refuses it (unexpected_message); an
/// OpenSSL before 1.0.1h takes it and then fails to decrypt the next
/// record (testssl.sh `run_ccs_injection` sends it twice and reads the
/// alert to the second).
async fn ccs_injection(
    prober: &Prober,
    cx: &VulnContext<'_>,
    version: ProtocolVersion,
) -> Vulnerability {
    let id = VulnId::CcsInjection;
    let spec = base_hello(cx, version, &[]);
    let (outcome, conv) =
        match converse(prober, wire::encode_client_hello(&spec), StopAt::FlightEnd).await {
            Ok(x) => x,
            Err(e) => return v(id, VulnStatus::Unknown, format!("cannot tell: {e}")),
        };
    let Some(mut conv) = conv else {
        return v(
            id,
            VulnStatus::Unknown,
            format!(
                "cannot tell: the {} handshake did not reach ServerHelloDone ({})",
                version.name(),
                outcome.describe()
            ),
        );
    };
    let done = matches!(&outcome, Outcome::Hello(f) if f.messages.last() == Some(&ServerMessage::ServerHelloDone));
    if !done {
        conv.close();
        return v(
            id,
            VulnStatus::Unknown,
            format!("cannot tell: no ServerHelloDone ({})", outcome.describe()),
        );
    }
    let ccs = records::change_cipher_spec(version.wire());
    let wait = Duration::from_secs(2);
    let first = conv.send(&ccs, wait).await;
    let sent = format!(
        "{} handshake to ServerHelloDone, then an early ChangeCipherSpec",
        version.name()
    );
    let result = match &first {
        Reply::Timeout => {
            // Silence: the CCS may have been taken; a second shows it.
            let second = conv.send(&ccs, wait).await;
            classify_ccs(&sent, "after a second ChangeCipherSpec", &second, true)
        }
        reply => classify_ccs(&sent, "", reply, false),
    };
    conv.close();
    result
}

fn classify_ccs(sent: &str, step: &str, reply: &Reply, silent_first: bool) -> Vulnerability {
    let id = VulnId::CcsInjection;
    let seen = format!("{sent}: {}{step}", reply.describe());
    let seen = if silent_first {
        format!("{sent}: no answer; {} {step}", reply.describe())
    } else {
        seen
    };
    match reply.alert().map(|a| a.description.to_u8()) {
        // decryption_failed / bad_record_mac: the CCS switched keys.
        Some(21) | Some(20) => v(id, VulnStatus::Vulnerable, seen),
        Some(_) => v(id, VulnStatus::NotVulnerable, seen),
        None => match reply {
            Reply::Messages(_) => v(id, VulnStatus::Unknown, format!("cannot tell: {seen}")),
            Reply::Closed | Reply::Reset | Reply::Timeout => v(id, VulnStatus::NotVulnerable, seen),
            _ => v(id, VulnStatus::Unknown, format!("cannot tell: {seen}")),
        },
    }
}

/// BREACH and Opossum, one request each over a full handshake.
async fn http_checks(prober: &Prober, cx: &VulnContext<'_>) -> Vec<Vulnerability> {
    let opts = HandshakeOptions {
        sni: cx.sni.map(str::to_owned),
        ..HandshakeOptions::default()
    };
    let get = |headers: Vec<(&str, &str)>| HttpRequest {
        method: "GET".to_owned(),
        path: "/".to_owned(),
        host: cx.host.to_owned(),
        headers: headers
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    };
    let exchange = |request: HttpRequest| {
        let opts = &opts;
        async move {
            match prober.connect().await {
                Ok((stream, _slot)) => {
                    http_exchange(stream, opts, None, &request, prober.timeouts().read).await
                }
                Err(e) => HttpOutcome::Failed {
                    reason: e.to_string(),
                },
            }
        }
    };
    let (breach, opossum) = tokio::join!(
        exchange(get(vec![("Accept-Encoding", "gzip,deflate,br")])),
        exchange(get(vec![("Upgrade", "TLS/1.0"), ("Connection", "Upgrade")])),
    );
    vec![breach_result(cx, &breach), opossum_result(&opossum)]
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn not_answered(outcome: &HttpOutcome) -> String {
    match outcome {
        HttpOutcome::Response { .. } => "answered".into(),
        HttpOutcome::Refused { reason, .. } => format!("refused: {reason}"),
        HttpOutcome::Closed { reason } => format!("closed: {reason}"),
        HttpOutcome::Failed { reason } => reason.clone(),
    }
}

fn breach_result(cx: &VulnContext<'_>, outcome: &HttpOutcome) -> Vulnerability {
    let id = VulnId::Breach;
    let HttpOutcome::Response {
        status, headers, ..
    } = outcome
    else {
        return v(
            id,
            VulnStatus::Unknown,
            format!(
                "cannot tell: GET / on {} with Accept-Encoding gzip,deflate,br: {}",
                cx.host,
                not_answered(outcome)
            ),
        );
    };
    match header(headers, "content-encoding") {
        Some(enc) => v(
            id,
            VulnStatus::Vulnerable,
            format!(
                "HTTP compression on {}/ (status {status}, Content-Encoding: {enc}); exploitable only where secrets and attacker input share a response",
                cx.host
            ),
        ),
        None => v(
            id,
            VulnStatus::NotVulnerable,
            format!(
                "GET / on {} with Accept-Encoding gzip,deflate,br: status {status}, no Content-Encoding",
                cx.host
            ),
        ),
    }
}

fn opossum_result(outcome: &HttpOutcome) -> Vulnerability {
    let id = VulnId::Opossum;
    let HttpOutcome::Response {
        status,
        headers,
        body_snippet,
        ..
    } = outcome
    else {
        return v(
            id,
            VulnStatus::Unknown,
            format!(
                "cannot tell: GET / with Upgrade: TLS/1.0: {}",
                not_answered(outcome)
            ),
        );
    };
    let upgrade = header(headers, "upgrade");
    let echoed = upgrade.is_some_and(|u| u.to_ascii_uppercase().contains("TLS/1"));
    if *status == 101 || echoed {
        return v(
            id,
            VulnStatus::Vulnerable,
            format!(
                "GET / with Upgrade: TLS/1.0 over TLS: status {status}, Upgrade: {}",
                upgrade.unwrap_or("-")
            ),
        );
    }
    let body: String = body_snippet
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(40)
        .collect();
    v(
        id,
        VulnStatus::NotVulnerable,
        format!(
            "GET / with Upgrade: TLS/1.0 over TLS: status {status}, no upgrade offered{}",
            if body.trim().is_empty() {
                String::new()
            } else {
                format!(" ({})", body.trim())
            }
        ),
    )
}
