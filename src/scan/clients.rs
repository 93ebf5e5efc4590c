//! Live client simulation: each profile's exact hello (from `clients/`),
//! one handshake per client, all concurrently under the target's connection
//! limit, and what that client would make of the server's answer.
//!
//! TLS ≤ 1.2 flights are read to ServerHelloDone, so the certificate and the
//! ServerKeyExchange are checked against the client's limits. A TLS 1.3
//! certificate is encrypted: [`apply_observations`] uses the
//! certificates the scan fetched instead, when there are any.

use std::time::Instant;

use futures::future::join_all;

use crate::cert;
use crate::clients::ClientProfile;
use crate::probe::{Outcome, StopAt};
use crate::registry;
use crate::report::model::{CertificateInfo, ClientSimulation, Stats, TargetReport};
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
    let runs = profiles.iter().map(|p| simulate_one(prober, sni, p));
    let results = join_all(runs).await;
    // One hello per profile. The prober's counter is shared with the checks
    // running at the same time, so its delta would count theirs too.
    let stats = Stats {
        handshakes: u32::try_from(results.len()).unwrap_or(u32::MAX),
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
    sim.reason = flight
        .messages
        .iter()
        .any(|m| matches!(m, ServerMessage::CertificateRequest(_)))
        .then(|| "the server asks for a client certificate".to_string());
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

/// Completes the simulation with what other checks of the same scan saw.
///
/// TLS 1.3 hides the certificate: the clients that connected over TLS 1.3
/// are checked against the leaf the certificates scan fetched for the same
/// SNI (without one those limits stay unchecked; the terminal report says
/// so). When the mtls check found a client certificate required, a client
/// connects only if it holds one: noted on every connected client.
pub fn apply_observations(
    sims: &mut [ClientSimulation],
    profiles: &[&'static ClientProfile],
    report: &TargetReport,
    sni: Option<&str>,
) {
    // A gateway with RSA and ECDSA certificates serves each client the one
    // it can use (Envoy picks per hello): a client fails only when every
    // leaf served for this name breaks one of its limits.
    let leaves: Vec<_> = report
        .certificates
        .iter()
        .filter(|c| c.sni.as_deref() == sni && c.refused.is_none())
        .filter_map(|c| c.chain.first())
        .collect();
    let cert_required = report
        .mtls
        .as_ref()
        .is_some_and(|m| m.client_cert_required == Some(true));
    for (sim, profile) in sims.iter_mut().zip(profiles) {
        if !sim.connected {
            continue;
        }
        if sim.protocol == Some(ProtocolVersion::Tls13) && !leaves.is_empty() {
            let problems: Vec<String> = leaves
                .iter()
                .filter_map(|leaf| certificate_problem(profile, leaf))
                .collect();
            if problems.len() == leaves.len() {
                sim.connected = false;
                sim.reason = Some(format!(
                    "{} (certificate from the certificates scan)",
                    problems[0]
                ));
                continue;
            }
        }
        if cert_required && sim.reason.is_none() {
            sim.reason = Some(REQUIRES_CLIENT_CERT.into());
        }
    }
}

const REQUIRES_CLIENT_CERT: &str = "only with a client certificate (the server requires one)";

fn suite_name(code: u16) -> String {
    registry::cipher_suite(code).map_or_else(|| format!("0x{code:04X}"), |s| s.iana.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::by_name;
    use crate::probe::ServerFlight;
    use crate::wire::{Alert, ServerHello, ServerKeyExchange};

    const HRR_RANDOM: [u8; 32] = [
        0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8,
        0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8,
        0x33, 0x9C,
    ];

    fn tls13(suite: u16, group: u16, retry: bool) -> Outcome {
        let hello = ServerHello {
            legacy_version: 0x0303,
            random: if retry { HRR_RANDOM } else { [7; 32] },
            session_id: vec![],
            cipher_suite: suite,
            compression: 0,
            extensions: vec![(43, vec![3, 4]), (51, group.to_be_bytes().to_vec())],
        };
        Outcome::Hello(ServerFlight {
            hello: Some(hello),
            hello_retry: retry,
            ..ServerFlight::default()
        })
    }

    fn tls12(version: u16, suite: u16, messages: Vec<ServerMessage>) -> Outcome {
        Outcome::Hello(ServerFlight {
            hello: Some(ServerHello {
                legacy_version: version,
                random: [9; 32],
                session_id: vec![],
                cipher_suite: suite,
                compression: 0,
                extensions: vec![],
            }),
            messages,
            ..ServerFlight::default()
        })
    }

    #[test]
    fn a_hello_retry_for_an_offered_group_without_a_share_connects() {
        // Java 17 offers secp384r1 but sends shares for x25519 and P-256 only.
        let java = by_name("Java 17").unwrap();
        let s = judge(java, &tls13(0x1302, 0x0018, true));
        assert!(s.connected && s.hello_retry, "{s:?}");
        assert_eq!(s.group.as_deref(), Some("secp384r1"));
        // A retry for a group it already sent a share for makes it abort.
        let s = judge(java, &tls13(0x1302, 0x001D, true));
        assert!(!s.connected, "{s:?}");
        // A retry for a group it does not offer at all fails.
        let chrome = by_name("Chrome 131 / Win 11").unwrap();
        let s = judge(chrome, &tls13(0x1301, 0x0019, true));
        assert!(!s.connected);
        assert!(s.reason.unwrap().contains("does not offer"));
        let s = judge(chrome, &tls13(0x1301, 0x11EC, false));
        assert!(s.connected && !s.hello_retry);
        assert_eq!(s.protocol, Some(ProtocolVersion::Tls13));
        assert_eq!(s.cipher.as_deref(), Some("TLS_AES_128_GCM_SHA256"));
    }

    #[test]
    fn choices_the_client_did_not_offer_fail() {
        let ie11 = by_name("IE 11 / Win 7").unwrap();
        let s = judge(ie11, &tls13(0x1301, 0x001D, false));
        assert!(!s.connected);
        assert!(s.reason.unwrap().contains("version"));
        let s = judge(ie11, &tls12(0x0303, 0xC02F, vec![]));
        assert!(!s.connected, "no ECDHE_RSA GCM on Windows 7: {s:?}");
        let s = judge(ie11, &tls12(0x0303, 0xC013, vec![]));
        assert!(s.connected, "{s:?}");
    }

    #[test]
    fn dh_limits_and_alerts_are_reasons() {
        let java7 = by_name("Java 7u25").unwrap();
        // DHE_RSA_AES_128_CBC_SHA with a 2048-bit prime (TLS 1.0 layout:
        // p, g, Ys, then a length-prefixed signature).
        let mut body = vec![0x01, 0x00];
        body.extend([0xFF; 256]);
        body.extend([0x00, 0x01, 0x02, 0x00, 0x01, 0x05, 0x00, 0x01, 0xAA]);
        let flight = tls12(
            0x0301,
            0x0033,
            vec![ServerMessage::ServerKeyExchange(ServerKeyExchange { body })],
        );
        let s = judge(java7, &flight);
        assert!(!s.connected, "{s:?}");
        assert_eq!(s.group.as_deref(), Some("DH 2048"));
        assert!(s.reason.unwrap().contains("at most 1024"));

        let refused = Outcome::Alert(Alert {
            level: 2,
            description: AlertDescription::ProtocolVersion,
        });
        let s = judge(java7, &refused);
        assert!(!s.connected && s.protocol.is_none());
        assert_eq!(
            s.reason.as_deref(),
            Some("no shared protocol version (alert protocol_version)")
        );
    }
}
