//! Live client simulation: each profile's exact hello (from `clients/`),
//! one handshake per client, all concurrently under the target's connection
//! limit, and what that client would make of the server's answer.
//!
//! TLS ≤ 1.2 flights are read to ServerHelloDone, so the certificate and the
//! ServerKeyExchange are checked against the client's limits. A TLS 1.3
//! certificate is encrypted: [`apply_certificate_limits`] uses the
//! certificates the scan fetched instead, when there are any.

use std::time::Instant;

use futures::future::join_all;

use crate::cert;
use crate::clients::ClientProfile;
use crate::probe::{Outcome, StopAt};
use crate::registry;
use crate::report::model::{CertificateInfo, CertificateResult, ClientSimulation, Stats};
use crate::wire::{AlertDescription, ProtocolVersion, ServerMessage};

use super::suites::group_name;
use super::Prober;

/// Simulates every profile against the prober's target; returns the
/// results in the order given and the handshakes / time it took.
pub async fn simulate_clients(
    prober: &Prober,
    sni: Option<&str>,
    profiles: &[&'static ClientProfile],
) -> (Vec<ClientSimulation>, Stats) {
    let started = Instant::now();
    let before = prober.handshakes();
    let runs = profiles.iter().map(|p| simulate_one(prober, sni, p));
    let results = join_all(runs).await;
    let stats = Stats {
        handshakes: prober.handshakes().saturating_sub(before),
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    (results, stats)
}

async fn simulate_one(
    prober: &Prober,
    sni: Option<&str>,
    profile: &ClientProfile,
) -> ClientSimulation {
    let name = if profile.sni { sni } else { None };
    let hello = profile.hello_bytes(name);
    match prober.probe(&hello, StopAt::FlightEnd).await {
        Ok(outcome) => judge(profile, &outcome),
        Err(e) => failed(profile, e.to_string()),
    }
}

fn failed(profile: &ClientProfile, reason: String) -> ClientSimulation {
    ClientSimulation {
        client: profile.name.clone(),
        category: profile.category.to_string(),
        connected: false,
        protocol: None,
        cipher: None,
        group: None,
        hello_retry: false,
        reason: Some(reason),
    }
}

/// What `profile` makes of the server's answer to its hello.
pub fn judge(profile: &ClientProfile, outcome: &Outcome) -> ClientSimulation {
    let flight = match outcome {
        Outcome::Hello(flight) => flight,
        Outcome::Alert(a) => {
            let why = match a.description {
                AlertDescription::ProtocolVersion => "no shared protocol version",
                AlertDescription::HandshakeFailure => "no shared cipher suite or group",
                AlertDescription::InsufficientSecurity => "the server wants stronger suites",
                AlertDescription::UnrecognizedName => "the server does not know the name",
                _ => "refused",
            };
            return failed(profile, format!("{why} (alert {})", a.description.name()));
        }
        other => return failed(profile, other.describe()),
    };
    let Some(hello) = &flight.hello else {
        return failed(profile, "incomplete server flight".into());
    };
    let mut sim = failed(profile, String::new());
    let wire_version = hello.negotiated_version();
    sim.protocol = ProtocolVersion::from_wire(wire_version);
    sim.cipher = Some(suite_name(hello.cipher_suite));
    let Some(version) = sim.protocol.filter(|v| profile.offers(*v)) else {
        sim.reason = Some(format!(
            "the server chose version 0x{wire_version:04X}, which the client does not offer"
        ));
        return sim;
    };
    if !profile.cipher_suites.contains(&hello.cipher_suite) {
        sim.reason = Some(format!(
            "the server chose suite 0x{:04X}, which the client does not offer",
            hello.cipher_suite
        ));
        return sim;
    }
    if version == ProtocolVersion::Tls13 {
        let group = hello.key_share_group();
        sim.group = group.map(group_name);
        if flight.hello_retry {
            sim.hello_retry = true;
            return match group {
                Some(g) if profile.key_shares.contains(&g) => {
                    sim.reason = Some(format!(
                        "HelloRetryRequest for {}, for which the client already sent a key share (it aborts)",
                        group_name(g)
                    ));
                    sim
                }
                Some(g) if !profile.supported_groups.contains(&g) => {
                    sim.reason = Some(format!(
                        "HelloRetryRequest for {}, which the client does not offer",
                        group_name(g)
                    ));
                    sim
                }
                _ => {
                    sim.connected = true;
                    sim.reason = Some("via HelloRetryRequest (one more round trip)".into());
                    sim
                }
            };
        }
        match group {
            Some(g) if profile.key_shares.contains(&g) => {}
            other => {
                sim.reason = Some(format!(
                    "the server's key share ({}) is not one the client sent",
                    other.map_or_else(|| "none".to_string(), group_name)
                ));
                return sim;
            }
        }
    } else if let Some(problem) = check_tls12_flight(profile, version, &flight.messages, &mut sim) {
        sim.reason = Some(problem);
        return sim;
    }
    if let Some(alert) = &flight.trailing_alert {
        sim.reason = Some(format!(
            "the server aborted after its hello (alert {})",
            alert.description.name()
        ));
        return sim;
    }
    sim.connected = true;
    sim.reason = None;
    sim
}

/// Checks a TLS ≤ 1.2 flight (Certificate, ServerKeyExchange) against the
/// client's lists and limits; fills in the group. `Some(reason)` fails.
fn check_tls12_flight(
    profile: &ClientProfile,
    version: ProtocolVersion,
    messages: &[ServerMessage],
    sim: &mut ClientSimulation,
) -> Option<String> {
    let suite = sim
        .cipher
        .as_deref()
        .and_then(registry::cipher_suite_by_name);
    let kx = suite.map(|s| s.kx.as_str()).unwrap_or("");
    for message in messages {
        match message {
            ServerMessage::Certificate(chain) => {
                let leaf = chain
                    .first()
                    .and_then(|der| cert::describe(der, time::OffsetDateTime::now_utc()).ok());
                if let Some(problem) = leaf.and_then(|l| certificate_problem(profile, &l)) {
                    return Some(problem);
                }
            }
            ServerMessage::ServerKeyExchange(ske) => match kx {
                "ECDHE" => {
                    if let Ok(p) = ske.as_ecdhe() {
                        sim.group = Some(group_name(p.group));
                        if !profile.supported_groups.is_empty()
                            && !profile.supported_groups.contains(&p.group)
                        {
                            return Some(format!(
                                "the server's curve {} is not one the client offers",
                                group_name(p.group)
                            ));
                        }
                        if let Some(s) = p.sig_scheme {
                            if !profile.signature_algorithms.is_empty()
                                && !profile.signature_algorithms.contains(&s)
                            {
                                return Some(format!(
                                    "the server signed with 0x{s:04X}, which the client does not offer"
                                ));
                            }
                        }
                    }
                }
                "DHE" => {
                    if let Ok(p) = ske.as_dhe(version == ProtocolVersion::Tls12) {
                        let bits = u32::try_from(p.prime_bits).unwrap_or(u32::MAX);
                        sim.group = Some(format!("DH {bits}"));
                        let l = &profile.limits;
                        if let Some(max) = l.max_dh_bits.filter(|m| bits > *m) {
                            return Some(format!(
                                "DH group of {bits} bits, the client handles at most {max}"
                            ));
                        }
                        if let Some(min) = l.min_dh_bits.filter(|m| bits < *m) {
                            return Some(format!(
                                "DH group of {bits} bits, the client requires at least {min}"
                            ));
                        }
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
    None
}

/// Whether the client refuses this leaf certificate (key type, RSA size,
/// SHA-1 signature).
fn certificate_problem(profile: &ClientProfile, leaf: &CertificateInfo) -> Option<String> {
    let l = &profile.limits;
    if !l.cert_key_types.is_empty()
        && !l
            .cert_key_types
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&leaf.key_type))
    {
        return Some(format!(
            "{} certificate, the client accepts only {}",
            leaf.key_type,
            l.cert_key_types.join(", ")
        ));
    }
    if leaf.key_type.eq_ignore_ascii_case("RSA") {
        if let Some(min) = l.min_rsa_bits.filter(|m| leaf.key_bits < *m) {
            return Some(format!(
                "RSA key of {} bits, the client requires at least {min}",
                leaf.key_bits
            ));
        }
    }
    if l.requires_sha2
        && leaf
            .signature_algorithm
            .to_ascii_lowercase()
            .contains("sha1")
    {
        return Some("SHA-1-signed certificate, the client requires SHA-2".into());
    }
    None
}

/// TLS 1.3 hides the certificate: checks the clients that connected over
/// TLS 1.3 against the leaf the certificates scan fetched for the same SNI.
/// Without one the limits stay unchecked (the terminal report says so).
pub fn apply_certificate_limits(
    sims: &mut [ClientSimulation],
    profiles: &[&'static ClientProfile],
    certificates: &[CertificateResult],
    sni: Option<&str>,
) {
    let Some(leaf) = certificates
        .iter()
        .find(|c| c.sni.as_deref() == sni && c.refused.is_none())
        .and_then(|c| c.chain.first())
    else {
        return;
    };
    for (sim, profile) in sims.iter_mut().zip(profiles) {
        if !sim.connected || sim.protocol != Some(ProtocolVersion::Tls13) {
            continue;
        }
        if let Some(problem) = certificate_problem(profile, leaf) {
            sim.connected = false;
            sim.reason = Some(format!(
                "{problem} (certificate from the certificates scan)"
            ));
        }
    }
}

fn suite_name(code: u16) -> String {
    registry::cipher_suite(code).map_or_else(|| format!("0x{code:04X}"), |s| s.iana.clone())
}
