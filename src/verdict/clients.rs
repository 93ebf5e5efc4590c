//! Client simulation, judged: what each simulated client makes of the
//! server's answer to its exact hello (connected or not, and why), and the
//! client gate (`--require-client PATTERN`): a high finding for every
//! required client profile that could not connect.
//!
//! The handshake facts come from `scan` ([`ClientHandshake`]); the
//! profile's lists and limits decide. TLS 1.3 hides the certificate, so a
//! client that connected over TLS 1.3 is checked against the leaves the
//! certificates scan fetched for the same SNI; when the mtls probe found a
//! client certificate required, a client connects only if it holds one.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::clients::{self, ClientProfile};
use crate::finding::{Finding, Severity};
use crate::observe::{
    CertificateInfo, ClientAnswer, ClientOutcome, KeyExchangeSeen, TargetObservation,
};
use crate::registry;
use crate::wire::{AlertDescription, ProtocolVersion};

/// One simulated client's handshake with the target, judged.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct ClientSimulation {
    /// The profile's display name, e.g. `Chrome 131 / Win 11`.
    pub client: String,
    /// browser, mobile, legacy, library, mesh or healthcheck.
    pub category: String,
    /// The client would complete the handshake.
    pub connected: bool,
    /// The version the server chose (also on a failure after its hello).
    pub protocol: Option<ProtocolVersion>,
    /// IANA name of the suite chosen.
    pub cipher: Option<String>,
    /// Key-exchange group: TLS 1.3 key_share / HelloRetryRequest, TLS 1.2
    /// ServerKeyExchange curve, or `DH 2048` for DHE.
    pub group: Option<String>,
    /// The server asked for another key share (HelloRetryRequest) for a
    /// group the client offers: one more round trip, then connected.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hello_retry: bool,
    /// Why the client fails (alert, no shared version / suite / group, a
    /// limit on the certificate or DH size), or a note on a success.
    pub reason: Option<String>,
}

const REQUIRES_CLIENT_CERT: &str = "only with a client certificate (the server requires one)";

/// Every simulated client of a target, judged with what the other checks
/// of the same scan saw (the certificates for TLS 1.3, the mtls probe).
pub fn simulations(observed: &TargetObservation) -> Vec<ClientSimulation> {
    // A gateway with RSA and ECDSA certificates serves each client the one
    // it can use (Envoy picks per hello): a client fails only when every
    // leaf served for this name breaks one of its limits.
    let sni = observed.sni.as_deref();
    let leaves: Vec<&CertificateInfo> = observed
        .certificates
        .iter()
        .filter(|c| c.sni.as_deref() == sni && c.refused.is_none())
        .filter_map(|c| c.chain.first())
        .collect();
    let cert_required = observed
        .mtls
        .as_ref()
        .is_some_and(|m| m.client_cert_required == Some(true));
    observed
        .client_handshakes
        .iter()
        .map(|handshake| {
            let profile = handshake.profile;
            let mut sim = judge(profile, &handshake.outcome);
            if !sim.connected {
                return sim;
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
                    return sim;
                }
            }
            if cert_required && sim.reason.is_none() {
                sim.reason = Some(REQUIRES_CLIENT_CERT.into());
            }
            sim
        })
        .collect()
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

/// What `profile` makes of the server's answer to its hello, on that
/// handshake alone.
pub fn judge(profile: &ClientProfile, outcome: &ClientOutcome) -> ClientSimulation {
    let answer = match outcome {
        ClientOutcome::Answered(answer) => answer,
        ClientOutcome::Alert(description) => {
            let why = match description {
                AlertDescription::ProtocolVersion => "no shared protocol version",
                AlertDescription::HandshakeFailure => "no shared cipher suite or group",
                AlertDescription::InsufficientSecurity => "the server wants stronger suites",
                AlertDescription::UnrecognizedName => "the server does not know the name",
                _ => "refused",
            };
            return failed(profile, format!("{why} (alert {})", description.name()));
        }
        ClientOutcome::Incomplete => return failed(profile, "incomplete server flight".into()),
        ClientOutcome::Failed(why) => return failed(profile, why.clone()),
    };
    let mut sim = failed(profile, String::new());
    sim.protocol = ProtocolVersion::from_wire(answer.version);
    sim.cipher = Some(suite_name(answer.suite));
    let Some(version) = sim.protocol.filter(|v| profile.offers(*v)) else {
        sim.reason = Some(format!(
            "the server chose version 0x{:04X}, which the client does not offer",
            answer.version
        ));
        return sim;
    };
    if !profile.cipher_suites.contains(&answer.suite) {
        sim.reason = Some(format!(
            "the server chose suite 0x{:04X}, which the client does not offer",
            answer.suite
        ));
        return sim;
    }
    if version == ProtocolVersion::Tls13 {
        let group = answer.key_share_group;
        sim.group = group.map(registry::group_name);
        if answer.hello_retry {
            sim.hello_retry = true;
            match group {
                Some(g) if profile.key_shares.contains(&g) => {
                    sim.reason = Some(format!(
                        "HelloRetryRequest for {}, for which the client already sent a key share (it aborts)",
                        registry::group_name(g)
                    ));
                }
                Some(g) if !profile.supported_groups.contains(&g) => {
                    sim.reason = Some(format!(
                        "HelloRetryRequest for {}, which the client does not offer",
                        registry::group_name(g)
                    ));
                }
                _ => {
                    sim.connected = true;
                    sim.reason = Some("via HelloRetryRequest (one more round trip)".into());
                }
            }
            return sim;
        }
        match group {
            Some(g) if profile.key_shares.contains(&g) => {}
            other => {
                sim.reason = Some(format!(
                    "the server's key share ({}) is not one the client sent",
                    other.map_or_else(|| "none".to_string(), registry::group_name)
                ));
                return sim;
            }
        }
    } else if let Some(problem) = check_tls12_flight(profile, answer, &mut sim) {
        sim.reason = Some(problem);
        return sim;
    }
    if let Some(alert) = &answer.trailing_alert {
        sim.reason = Some(format!(
            "the server aborted after its hello (alert {})",
            alert.name()
        ));
        return sim;
    }
    sim.connected = true;
    sim.reason = answer
        .certificate_requested
        .then(|| "the server asks for a client certificate".to_string());
    sim
}

/// Checks a TLS ≤ 1.2 flight (the leaf, the ServerKeyExchange) against the
/// client's lists and limits; fills in the group. `Some(reason)` fails.
fn check_tls12_flight(
    profile: &ClientProfile,
    answer: &ClientAnswer,
    sim: &mut ClientSimulation,
) -> Option<String> {
    if let Some(problem) = answer
        .leaf
        .as_ref()
        .and_then(|leaf| certificate_problem(profile, leaf))
    {
        return Some(problem);
    }
    match answer.key_exchange? {
        KeyExchangeSeen::Ecdhe {
            group,
            signature_scheme,
        } => {
            sim.group = Some(registry::group_name(group));
            if !profile.supported_groups.is_empty() && !profile.supported_groups.contains(&group) {
                return Some(format!(
                    "the server's curve {} is not one the client offers",
                    registry::group_name(group)
                ));
            }
            if let Some(s) = signature_scheme {
                if !profile.signature_algorithms.is_empty()
                    && !profile.signature_algorithms.contains(&s)
                {
                    return Some(format!(
                        "the server signed with 0x{s:04X}, which the client does not offer"
                    ));
                }
            }
        }
        KeyExchangeSeen::Dhe { prime_bits: bits } => {
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

fn suite_name(code: u16) -> String {
    registry::cipher_suite(code).map_or_else(|| format!("0x{code:04X}"), |s| s.iana.clone())
}

/// `client.required_cannot_connect` (high) for each client that matches one
/// of `patterns` and did not connect. A required client that was not
/// simulated is a failure too: the gate cannot vouch for it.
pub fn required_findings(simulations: &[ClientSimulation], patterns: &[String]) -> Vec<Finding> {
    let mut required: Vec<&'static ClientProfile> = Vec::new();
    for p in patterns {
        for profile in clients::matching(p) {
            if !required.iter().any(|r| r.id == profile.id) {
                required.push(profile);
            }
        }
    }
    let mut findings = Vec::new();
    for profile in required {
        let sim = simulations.iter().find(|s| s.client == profile.name);
        let (observed, evidence) = match sim {
            Some(s) if s.connected => continue,
            Some(s) => (
                json!({"connected": false, "protocol": s.protocol, "cipher": s.cipher}),
                s.reason.clone().unwrap_or_else(|| "did not connect".into()),
            ),
            None => (
                json!(null),
                "not simulated (the clients check did not run for it)".into(),
            ),
        };
        findings.push(Finding {
            id: "client.required_cannot_connect".into(),
            severity: Severity::High,
            title: format!("required client {} cannot connect", profile.name),
            expected: json!({"connected": true}),
            observed,
            evidence,
            remedy: format!(
                "allow what {} offers (versions {}, see `tlsposture clients list \"{}\"`), or stop requiring it",
                profile.name,
                profile
                    .versions()
                    .iter()
                    .map(|v| v.name())
                    .collect::<Vec<_>>()
                    .join(", "),
                profile.name
            ),
            location: None,
        });
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::by_name;

    fn tls13(suite: u16, group: u16, retry: bool) -> ClientOutcome {
        ClientOutcome::Answered(Box::new(ClientAnswer {
            version: 0x0304,
            suite,
            key_share_group: Some(group),
            hello_retry: retry,
            leaf: None,
            key_exchange: None,
            trailing_alert: None,
            certificate_requested: false,
        }))
    }

    fn tls12(version: u16, suite: u16, key_exchange: Option<KeyExchangeSeen>) -> ClientOutcome {
        ClientOutcome::Answered(Box::new(ClientAnswer {
            version,
            suite,
            key_share_group: None,
            hello_retry: false,
            leaf: None,
            key_exchange,
            trailing_alert: None,
            certificate_requested: false,
        }))
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
        let s = judge(ie11, &tls12(0x0303, 0xC02F, None));
        assert!(!s.connected, "no ECDHE_RSA GCM on Windows 7: {s:?}");
        let s = judge(ie11, &tls12(0x0303, 0xC013, None));
        assert!(s.connected, "{s:?}");
    }

    #[test]
    fn dh_limits_and_alerts_are_reasons() {
        let java7 = by_name("Java 7u25").unwrap();
        let dhe = tls12(
            0x0301,
            0x0033,
            Some(KeyExchangeSeen::Dhe { prime_bits: 2048 }),
        );
        let s = judge(java7, &dhe);
        assert!(!s.connected, "{s:?}");
        assert_eq!(s.group.as_deref(), Some("DH 2048"));
        assert!(s.reason.unwrap().contains("at most 1024"));

        let s = judge(
            java7,
            &ClientOutcome::Alert(AlertDescription::ProtocolVersion),
        );
        assert!(!s.connected && s.protocol.is_none());
        assert_eq!(
            s.reason.as_deref(),
            Some("no shared protocol version (alert protocol_version)")
        );
    }

    #[test]
    fn a_required_client_that_was_not_simulated_is_a_finding() {
        let findings = required_findings(&[], &["Java 17".to_owned()]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].id, "client.required_cannot_connect");
        assert!(findings[0].evidence.contains("not simulated"));
    }
}
