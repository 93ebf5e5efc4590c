//! Live client simulation: each profile's exact hello (from `clients/`),
//! one handshake per client, all concurrently under the target's connection
//! limit. Observation only: this module records the facts of each answer a
//! client checks ([`ClientHandshake`]); whether that client would connect
//! is `verdict::clients`' call.
//!
//! TLS ≤ 1.2 flights are read to ServerHelloDone, so the leaf certificate
//! and the ServerKeyExchange are part of the facts. A TLS 1.3 certificate
//! is encrypted; the verdict uses the certificates scan's instead.

use std::time::Instant;

use futures::future::join_all;

use crate::cert;
use crate::clients::ClientProfile;
use crate::observe::{ClientAnswer, ClientHandshake, ClientOutcome, KeyExchangeSeen, Stats};
use crate::probe::{Outcome, StopAt};
use crate::registry;
use crate::wire::{ProtocolVersion, ServerMessage};

use super::Prober;

/// Simulates every profile against the prober's target; returns the
/// handshakes in the order given and the hellos / time it took.
pub async fn simulate_clients(
    prober: &Prober,
    sni: Option<&str>,
    profiles: &[&'static ClientProfile],
) -> (Vec<ClientHandshake>, Stats) {
    let started = Instant::now();
    let runs = profiles.iter().map(|p| simulate_one(prober, sni, p));
    let results = join_all(runs).await;
    // One hello per profile. The prober's counter is shared with the checks
    // running at the same time, so its delta would count theirs too.
    let stats = Stats {
        handshakes: u32::try_from(results.len()).unwrap_or(u32::MAX),
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        ..Stats::default()
    };
    (results, stats)
}

async fn simulate_one(
    prober: &Prober,
    sni: Option<&str>,
    profile: &'static ClientProfile,
) -> ClientHandshake {
    let name = if profile.sni { sni } else { None };
    let hello = profile.hello_bytes(name);
    let outcome = match prober.send(hello, StopAt::FlightEnd).await {
        Ok(outcome) => facts(&outcome),
        Err(e) => ClientOutcome::Failed(e.to_string()),
    };
    ClientHandshake { profile, outcome }
}

/// The facts of a server's answer that a client checks.
pub fn facts(outcome: &Outcome) -> ClientOutcome {
    let flight = match outcome {
        Outcome::Hello(flight) => flight,
        Outcome::Alert(a) => return ClientOutcome::Alert(a.description),
        other => return ClientOutcome::Failed(other.describe()),
    };
    let Some(hello) = &flight.hello else {
        return ClientOutcome::Incomplete;
    };
    // The client would have failed where the flight stopped.
    if let Some(why) = &flight.cut {
        return ClientOutcome::Failed(format!("the flight ended after the ServerHello: {why}"));
    }
    let version = hello.negotiated_version();
    let tls12_or_older =
        ProtocolVersion::from_wire(version).is_some_and(|v| v != ProtocolVersion::Tls13);
    let kx = registry::cipher_suite(hello.cipher_suite).map(|s| s.kx.as_str());
    let mut answer = ClientAnswer {
        version,
        suite: hello.cipher_suite,
        key_share_group: hello.key_share_group(),
        hello_retry: flight.hello_retry,
        leaf: None,
        key_exchange: None,
        trailing_alert: flight.trailing_alert.as_ref().map(|a| a.description),
        certificate_requested: false,
    };
    for message in &flight.messages {
        match message {
            ServerMessage::Certificate(chain) if tls12_or_older && answer.leaf.is_none() => {
                answer.leaf = chain
                    .first()
                    .and_then(|der| cert::describe(der, time::OffsetDateTime::now_utc()).ok());
            }
            ServerMessage::ServerKeyExchange(ske) if tls12_or_older => match kx {
                Some("ECDHE") => {
                    if let Ok(p) = ske.as_ecdhe() {
                        answer.key_exchange = Some(KeyExchangeSeen::Ecdhe {
                            group: p.group,
                            signature_scheme: p.sig_scheme,
                        });
                    }
                }
                Some("DHE") => {
                    if let Ok(p) = ske.as_dhe(version == 0x0303) {
                        answer.key_exchange = Some(KeyExchangeSeen::Dhe {
                            prime_bits: u32::try_from(p.prime_bits).unwrap_or(u32::MAX),
                        });
                    }
                }
                _ => {}
            },
            ServerMessage::CertificateRequest(_) => answer.certificate_requested = true,
            _ => {}
        }
    }
    ClientOutcome::Answered(Box::new(answer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::ServerFlight;
    use crate::wire::{Alert, AlertDescription, ServerHello, ServerKeyExchange};

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
    fn a_dhe_server_key_exchange_gives_the_prime_size() {
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
        let ClientOutcome::Answered(answer) = facts(&flight) else {
            panic!("a hello is an answer");
        };
        assert_eq!(answer.version, 0x0301);
        assert_eq!(answer.suite, 0x0033);
        assert_eq!(
            answer.key_exchange,
            Some(KeyExchangeSeen::Dhe { prime_bits: 2048 })
        );
        assert!(!answer.certificate_requested);
    }

    #[test]
    fn an_alert_is_kept_as_its_description() {
        let refused = Outcome::Alert(Alert {
            level: 2,
            description: AlertDescription::ProtocolVersion,
        });
        assert_eq!(
            facts(&refused),
            ClientOutcome::Alert(AlertDescription::ProtocolVersion)
        );
    }
}
