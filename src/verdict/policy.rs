//! Drift: a scanned target against what its declared Gateway server should
//! give (an [`Expectation`] from `policy::effective`). Both directions count —
//! something offered that was not declared lets the wrong clients in;
//! something declared that is not offered keeps the right ones out.
//!
//! Every finding names the YAML field to change (`remedy`) and the probe that
//! saw it (`evidence`), and carries `expected` / `observed` as data.

use std::collections::BTreeSet;

use serde_json::json;

use crate::finding::{Finding, FindingLocation, Severity};
use crate::observe::{code::hex, Identity, MtlsOutcome, SuiteResult, TargetObservation};
use crate::policy::effective::{CertKeyTypes, ClientCertExpectation, Expectation, RuleSource};
use crate::policy::{TlsMode, TlsVersionSetting};
use crate::registry::{self, Strength};
use crate::wire::ProtocolVersion;

/// The certificate key types the target was seen to serve: from the
/// certificates fetched, else from the suites' authentication; RSA when
/// nothing tells (what a `credentialName` secret usually holds).
pub fn observed_cert_types(target: &TargetObservation) -> CertKeyTypes {
    let mut types = CertKeyTypes::default();
    for cert in &target.certificates {
        match cert.chain.first().map(|c| c.key_type.as_str()) {
            Some("RSA") => types.rsa = true,
            Some("ECDSA") => types.ecdsa = true,
            _ => {}
        }
    }
    for suite in &target.cipher_suites {
        if suite.protocol == ProtocolVersion::Tls13 {
            continue;
        }
        if let Some(s) = suite.registry_entry() {
            match s.auth.as_str() {
                "RSA" => types.rsa = true,
                "ECDSA" => types.ecdsa = true,
                _ => {}
            }
        }
    }
    if !types.rsa && !types.ecdsa {
        types.rsa = true;
    }
    types
}

fn suite_name(code: u16) -> String {
    registry::cipher_suite(code)
        .map(|s| s.openssl.clone().unwrap_or_else(|| s.iana.clone()))
        .unwrap_or_else(|| hex(code))
}

/// What was seen but not declared, and what was declared but not seen,
/// each in its own list's order.
fn extra_and_missing(observed: &[u16], expected: &[u16]) -> (Vec<u16>, Vec<u16>) {
    let extra = observed
        .iter()
        .copied()
        .filter(|c| !expected.contains(c))
        .collect();
    let missing = expected
        .iter()
        .copied()
        .filter(|c| !observed.contains(c))
        .collect();
    (extra, missing)
}

/// "from server.tls at gw.yaml:12:9 (spec.servers[0].tls.minProtocolVersion)".
fn cite(source: Option<&RuleSource>) -> String {
    match source {
        Some(RuleSource {
            from,
            origin: Some(origin),
            ..
        }) => format!("{from} at {origin}"),
        Some(RuleSource { from, .. }) => from.clone(),
        None => "Envoy default".into(),
    }
}

/// Where to make a change, as remedies cite it: `field (file:line)`.
fn field_of(exp: &Expectation, setting: &str, yaml_field: &str) -> String {
    let written = exp
        .source(setting)
        .and_then(|s| s.origin.as_ref())
        .is_some();
    if !written && setting == "ecdh_curves" {
        // Istio has no per-server curves: only the mesh-wide default.
        return "meshConfig.tlsDefaults.ecdhCurves".to_string();
    }
    let at = location_of(exp, setting, yaml_field);
    format!("{} ({}:{})", at.field, at.file, at.line)
}

/// Where the setting behind a finding is written: the field's own origin
/// (a list by its first item, named as the list), else the server entry
/// with the field that would be written there. SARIF annotates this line.
fn location_of(exp: &Expectation, setting: &str, yaml_field: &str) -> FindingLocation {
    match exp.source(setting).and_then(|s| s.origin.as_ref()) {
        Some(origin) => {
            let mut location = FindingLocation::from(origin);
            if let Some(list) = origin
                .field
                .strip_suffix(']')
                .and_then(|rest| rest.rsplit_once('['))
                .map(|(list, _)| list.to_owned())
            {
                location.field = list;
            }
            location
        }
        None => FindingLocation {
            field: format!("{}.tls.{yaml_field}", exp.server.field),
            ..server_location(exp)
        },
    }
}

/// Where the server's `tls.mode` is written (else its server entry): the
/// location of client-certificate findings.
pub fn mode_location(exp: &Expectation) -> FindingLocation {
    location_of(exp, "mode", "mode")
}

/// The declared server entry itself, for findings about the server as a
/// whole (its hosts, its credential, the listener it is on).
fn server_location(exp: &Expectation) -> FindingLocation {
    FindingLocation::from(&exp.server)
}

/// All drift findings for one scanned target and the server it should be.
pub fn policy_findings(target: &TargetObservation, exp: &Expectation) -> Vec<Finding> {
    let mut findings = Vec::new();
    if !exp.mode.terminates() {
        findings.push(Finding {
            id: "declared.not_terminated".into(),
            severity: Severity::Info,
            title: format!(
                "{} is {}: the gateway passes TLS through, so the backend's TLS was scanned",
                exp.label(),
                exp.mode
            ),
            expected: json!({"mode": exp.mode.as_str()}),
            observed: json!(null),
            evidence: "declared mode".into(),
            remedy: "none; declare the backend's TLS policy separately".into(),
            location: Some(mode_location(exp)),
        });
        return findings;
    }
    let certs = observed_cert_types(target);
    protocol_drift(target, exp, certs, &mut findings);
    suite_drift(target, exp, certs, &mut findings);
    group_drift(target, exp, certs, &mut findings);
    host_drift(target, exp, &mut findings);
    if let Some(mtls) = &target.mtls {
        findings.extend(client_cert_finding(
            exp,
            mtls.client_cert_required,
            mtls.client_cert_requested,
            &format!("mtls probe: {}", mtls.evidence),
        ));
        // The CA a gateway trusts is its whole client authentication: one it
        // has never seen must not get in.
        let unknown_ca_in = mtls
            .probes
            .iter()
            .find(|p| p.identity == Identity::UnknownCa && p.outcome == MtlsOutcome::Accepted);
        if let (Some(probe), ClientCertExpectation::Required | ClientCertExpectation::Optional) =
            (unknown_ca_in, exp.client_cert)
        {
            findings.push(Finding {
                id: "policy.unknown_ca_accepted".into(),
                severity: Severity::Critical,
                title: format!(
                    "{}: {} declared, but a client certificate from an unknown CA is accepted",
                    exp.label(),
                    exp.mode
                ),
                expected: json!({"identity": "unknown-ca", "outcome": "refused"}),
                observed: json!({"identity": "unknown-ca", "outcome": probe.outcome, "http_status": probe.http_status}),
                evidence: format!("mtls probe unknown-ca: {}", probe.evidence),
                remedy: format!(
                    "the credential's CA certificate (ca.crt / the -cacert secret) must hold only the CAs of allowed clients ({}:{})",
                    exp.server.file, exp.server.line
                ),
                location: Some(server_location(exp)),
            });
        }
    }
    for dropped in &exp.params.dropped {
        findings.push(Finding {
            id: "declared.setting_ignored".into(),
            severity: Severity::Info,
            title: format!(
                "declared {:?} never reaches Envoy: {}",
                dropped.value, dropped.reason
            ),
            expected: json!({"declared": dropped.value}),
            observed: json!(null),
            evidence: format!("declared at {}", dropped.origin),
            remedy: "fix or remove it (tlsposture policy lint explains each case)".into(),
            location: Some(FindingLocation::from(&dropped.origin)),
        });
    }
    findings
}

fn protocol_drift(
    target: &TargetObservation,
    exp: &Expectation,
    certs: CertKeyTypes,
    findings: &mut Vec<Finding>,
) {
    let expected = exp.versions(certs);
    let declared: Vec<String> = expected.iter().map(|v| v.to_string()).collect();
    for p in &target.protocols {
        let Some(offered) = p.offered else { continue };
        let want = expected.contains(&p.version);
        if offered && !want {
            let below = p.version < exp.min_version;
            let (setting, field) = if below {
                ("min_version", "minProtocolVersion")
            } else {
                ("max_version", "maxProtocolVersion")
            };
            let severity = if p.version <= ProtocolVersion::Ssl3 {
                Severity::Critical
            } else {
                Severity::High
            };
            findings.push(Finding {
                id: "policy.protocol_undeclared".into(),
                severity,
                title: format!(
                    "{} offered, but {} declares only {}",
                    p.version,
                    exp.label(),
                    list_or_none(&declared)
                ),
                expected: json!({"version": p.version, "offered": false, "declared": declared}),
                observed: json!({"version": p.version, "offered": true}),
                evidence: format!(
                    "protocol probe: {}; declared range {}–{} ({})",
                    p.evidence,
                    exp.min_version,
                    exp.max_version,
                    cite(exp.source(setting))
                ),
                remedy: format!(
                    "the gateway is not running the declared policy: apply it, or if {} is wanted, set {} to {}{}",
                    p.version,
                    field_of(exp, setting, field),
                    TlsVersionSetting::Version(p.version).istio_name(),
                    if p.version < ProtocolVersion::Tls12 {
                        " and list a suite older than TLS 1.2 (e.g. ECDHE-RSA-AES128-SHA) in cipherSuites: Envoy's defaults have none"
                    } else {
                        ""
                    }
                ),
                location: Some(location_of(exp, setting, field)),
            });
        } else if !offered && want {
            findings.push(Finding {
                id: "policy.protocol_missing".into(),
                // Drift in this direction locks declared clients out: it
                // fails a rollout as surely as an undeclared version.
                severity: Severity::High,
                title: format!("{} not offered, but {} declares it", p.version, exp.label()),
                expected: json!({"version": p.version, "offered": true}),
                observed: json!({"version": p.version, "offered": false}),
                evidence: format!(
                    "protocol probe: {}; declared range {}–{} ({}, {})",
                    p.evidence,
                    exp.min_version,
                    exp.max_version,
                    cite(exp.source("min_version")),
                    cite(exp.source("max_version"))
                ),
                remedy: format!(
                    "apply the declared Gateway, or declare what runs: {} / {}",
                    field_of(exp, "min_version", "minProtocolVersion"),
                    field_of(exp, "max_version", "maxProtocolVersion")
                ),
                location: Some(if p.version == exp.min_version {
                    location_of(exp, "min_version", "minProtocolVersion")
                } else {
                    location_of(exp, "max_version", "maxProtocolVersion")
                }),
            });
        }
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

fn suite_drift(
    target: &TargetObservation,
    exp: &Expectation,
    certs: CertKeyTypes,
    findings: &mut Vec<Finding>,
) {
    if target.cipher_suites.is_empty() {
        return;
    }
    let offered_versions: BTreeSet<ProtocolVersion> = target
        .protocols
        .iter()
        .filter(|p| p.offered == Some(true))
        .map(|p| p.version)
        .collect();
    let expected_versions = exp.versions(certs);
    let source = exp.source("cipher_suites");
    let mut weak_allowed: Vec<u16> = Vec::new();
    for version in offered_versions.intersection(&expected_versions) {
        let observed: Vec<u16> = target
            .cipher_suites
            .iter()
            .filter(|s| s.protocol == *version)
            .filter_map(SuiteResult::iana_code)
            .collect();
        let expected = exp.suites_at(*version, certs);
        let (extra, missing) = extra_and_missing(&observed, &expected);
        let names = |codes: &[u16]| codes.iter().map(|c| suite_name(*c)).collect::<Vec<_>>();
        let codes = |codes: &[u16]| codes.iter().map(|c| hex(*c)).collect::<Vec<_>>();
        let finding = |id: &str, title: String, remedy: String| Finding {
            id: id.into(),
            severity: Severity::High,
            title,
            expected: json!({"protocol": version, "suites": codes(&expected)}),
            observed: json!({"protocol": version, "suites": codes(&observed)}),
            evidence: format!("suite enumeration; declared list from {}", cite(source)),
            remedy,
            location: Some(location_of(exp, "cipher_suites", "cipherSuites")),
        };
        let field = field_of(exp, "cipher_suites", "cipherSuites");
        if !extra.is_empty() {
            findings.push(finding(
                "policy.suite_undeclared",
                format!(
                    "{version}: {} suite(s) offered outside the declared list: {}",
                    extra.len(),
                    names(&extra).join(", ")
                ),
                format!("apply the declared Gateway; the list that should be live is {field}"),
            ));
        }
        if !missing.is_empty() && *version != ProtocolVersion::Tls13 {
            findings.push(finding(
                "policy.suite_missing",
                format!(
                    "{version}: {} declared suite(s) not offered: {}",
                    missing.len(),
                    names(&missing).join(", ")
                ),
                format!("apply the declared Gateway, or remove them from {field}"),
            ));
        }
        if *version != ProtocolVersion::Tls13 {
            for code in observed.iter().filter(|c| expected.contains(c)) {
                let weak = registry::cipher_suite(*code)
                    .is_some_and(|s| s.strength() < Strength::AeadWithFs);
                if weak && !weak_allowed.contains(code) {
                    weak_allowed.push(*code);
                }
            }
        }
    }
    if !weak_allowed.is_empty() {
        let why: Vec<String> = weak_allowed
            .iter()
            .filter_map(|c| registry::cipher_suite(*c))
            .map(|s| {
                format!(
                    "{} ({})",
                    s.openssl.clone().unwrap_or_else(|| s.iana.clone()),
                    s.strength().name()
                )
            })
            .collect();
        findings.push(Finding {
            id: "declared.weak_suite".into(),
            severity: Severity::Low,
            title: format!(
                "the declared cipher list still allows weak suites, and they are offered: {}",
                why.join(", ")
            ),
            expected: json!({"strength": "aead_fs"}),
            observed: json!({"suites": weak_allowed.iter().map(|c| hex(*c)).collect::<Vec<_>>()}),
            evidence: format!("suite enumeration; declared list from {}", cite(source)),
            remedy: format!(
                "remove them from {} (keep ECDHE with AES-GCM or ChaCha20)",
                field_of(exp, "cipher_suites", "cipherSuites")
            ),
            location: Some(location_of(exp, "cipher_suites", "cipherSuites")),
        });
    }
}

fn group_drift(
    target: &TargetObservation,
    exp: &Expectation,
    certs: CertKeyTypes,
    findings: &mut Vec<Finding>,
) {
    let versions = exp.versions(certs);
    for (version, expected) in [
        (ProtocolVersion::Tls12, &exp.groups_tls12),
        (ProtocolVersion::Tls13, &exp.groups_tls13),
    ] {
        if !versions.contains(&version) {
            // An undeclared version is one finding already, not one per group.
            continue;
        }
        let observed: Vec<u16> = target
            .groups
            .iter()
            .filter(|g| g.protocol == version)
            .map(|g| g.code)
            .collect();
        if observed.is_empty() {
            // Not scanned, or the version is not offered (reported above).
            continue;
        }
        let (extra, missing) = extra_and_missing(&observed, expected);
        let names = |codes: &[u16]| {
            codes
                .iter()
                .map(|c| registry::group_name(*c))
                .collect::<Vec<_>>()
        };
        let source = exp.source("ecdh_curves");
        let field = field_of(exp, "ecdh_curves", "ecdhCurves");
        let finding = |id: &str, severity, title: String, remedy: String| Finding {
            id: id.into(),
            severity,
            title,
            expected: json!({"protocol": version, "groups": names(expected)}),
            observed: json!({"protocol": version, "groups": names(&observed)}),
            evidence: format!("group enumeration; declared curves from {}", cite(source)),
            remedy,
            // Istio has no per-server curves: the mesh-wide field when it
            // is written, else the server the groups were judged for.
            location: Some(match source.and_then(|s| s.origin.as_ref()) {
                Some(_) => location_of(exp, "ecdh_curves", "ecdhCurves"),
                None => server_location(exp),
            }),
        };
        if !extra.is_empty() {
            findings.push(finding(
                "policy.group_undeclared",
                Severity::Medium,
                format!(
                    "{version}: group(s) accepted but not declared: {}",
                    names(&extra).join(", ")
                ),
                format!("apply the declared curves: {field}"),
            ));
        }
        if !missing.is_empty() {
            findings.push(finding(
                "policy.group_missing",
                Severity::Low,
                format!(
                    "{version}: declared group(s) not accepted: {}",
                    names(&missing).join(", ")
                ),
                format!("apply the declared curves, or declare what runs in {field}"),
            ));
        }
    }
}

/// Every drift finding of one target against the server it should be.
pub fn judge(target: &TargetObservation, exp: &Expectation) -> Vec<Finding> {
    // A listener Envoy refuses is not there: no handshake to compare, and
    // "every hello refused" or version drift would hide why.
    if let Some(reason) = &exp.rejected {
        return vec![listener_rejected(target, exp, reason)];
    }
    if let Some(error) = &target.error {
        // Reachable, but every hello for the declared name was refused: the
        // run still cannot vouch for anything (exit 2), but the reason is a
        // declared host the gateway does not serve, not the network.
        return match (target.reachable, &target.sni) {
            (true, Some(sni)) => vec![Finding {
                id: "policy.host_not_served".into(),
                severity: Severity::High,
                title: format!("{sni}: declared on {} but every hello is refused", exp.label()),
                expected: json!({"sni": sni, "served": true}),
                observed: json!({"sni": sni, "served": false, "reason": error}),
                evidence: format!("protocol probes with SNI {sni}: {error}"),
                remedy: format!(
                    "apply the declared Gateway (hosts at {}:{}), or check the SNI routing in front of it",
                    exp.server.file, exp.server.line
                ),
                location: Some(server_location(exp)),
            }],
            _ => Vec::new(),
        };
    }
    policy_findings(target, exp)
}

/// The model says Envoy refuses the listener this server is on
/// (`policy::envoy::tls::listener_rejected`): say so with the YAML origin,
/// and what the scan saw instead — nothing answering TLS is the refusal
/// as predicted; a TLS answer means the gateway does not run this
/// declaration (a listener the control plane could not apply keeps the
/// previous one, or another config serves the port).
fn listener_rejected(target: &TargetObservation, exp: &Expectation, reason: &str) -> Finding {
    let answered = target
        .protocols
        .iter()
        .filter(|p| p.offered == Some(true))
        .map(|p| p.version.to_string())
        .collect::<Vec<_>>();
    let seen = if answered.is_empty() {
        format!(
            "nothing answers TLS on port {}, as the refusal predicts{}",
            target.port,
            target
                .error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        )
    } else {
        format!(
            "yet port {} answers {}: the gateway is not running this declaration \
             (Envoy keeps its previous listener when an update is refused, or another \
             configuration serves the port)",
            target.port,
            answered.join(", ")
        )
    };
    Finding {
        id: "policy.listener_rejected".into(),
        // The declared server does not exist on the wire: its clients fail.
        severity: Severity::High,
        title: format!("{}: Envoy refuses this listener: {reason}", exp.label()),
        expected: json!({"listener": "refused", "reason": reason}),
        observed: json!({"tls_answered": !answered.is_empty(), "protocols": answered, "error": target.error}),
        evidence: format!(
            "declared at {}:{} ({}); {seen}",
            exp.server.file, exp.server.line, exp.server.field
        ),
        remedy: format!(
            "fix the setting the reason names in {} ({}:{}); `tlsposture policy lint` \
             points at the field",
            exp.server.field, exp.server.file, exp.server.line
        ),
        location: Some(server_location(exp)),
    }
}

/// The names whose certificate is judged against the declaration (each
/// must be covered: `policy.certificate_hosts`), so the posture check
/// does not report the same mismatch again: the exact declared hosts of a
/// server the gateway terminates.
pub fn declared_hosts(exp: &Expectation) -> Vec<String> {
    if exp.mode.terminates() {
        exp.probe_names()
    } else {
        Vec::new()
    }
}

/// Each exact declared host must get a certificate valid for it.
fn host_drift(target: &TargetObservation, exp: &Expectation, findings: &mut Vec<Finding>) {
    for name in declared_hosts(exp) {
        let Some(cert) = target
            .certificates
            .iter()
            .find(|c| c.sni.as_deref() == Some(name.as_str()))
        else {
            continue;
        };
        if cert.hostname_match == Some(false) {
            let sans = cert
                .chain
                .first()
                .map(|l| l.sans.clone())
                .unwrap_or_default();
            findings.push(Finding {
                id: "policy.certificate_hosts".into(),
                severity: Severity::High,
                title: format!(
                    "{name}: declared on {}, but its certificate does not cover it",
                    exp.label()
                ),
                expected: json!({"sni": name, "covers": true}),
                observed: json!({"sni": name, "sans": sans}),
                evidence: format!("certificate probe with SNI {name}"),
                remedy: format!(
                    "put a certificate for {name} in the server's credential ({}); Istio serves what the secret holds",
                    exp.credential.as_deref().unwrap_or("credentialName / serverCertificate")
                ),
                location: Some(server_location(exp)),
            });
        }
        if let Some(reason) = &cert.refused {
            findings.push(Finding {
                id: "policy.host_not_served".into(),
                severity: Severity::High,
                title: format!("{name}: declared on {} but refused", exp.label()),
                expected: json!({"sni": name, "served": true}),
                observed: json!({"sni": name, "served": false, "reason": reason}),
                evidence: format!("certificate probe with SNI {name}: {reason}"),
                remedy: format!(
                    "check the Gateway's hosts and its credential ({}:{})",
                    exp.server.file, exp.server.line
                ),
                location: Some(server_location(exp)),
            });
        }
    }
}

/// Client-certificate behaviour against the declared mode. `observed` is
/// whether a handshake without a client certificate was refused (`Some(true)`),
/// accepted after a CertificateRequest (`Some(false)` with `requested`), or
/// accepted without one.
pub fn client_cert_finding(
    exp: &Expectation,
    required: Option<bool>,
    requested: Option<bool>,
    evidence: &str,
) -> Option<Finding> {
    let observed = match (required, requested) {
        (Some(true), _) => ClientCertExpectation::Required,
        (Some(false), Some(true)) => ClientCertExpectation::Optional,
        (Some(false), _) => ClientCertExpectation::NotRequested,
        (None, _) => return None,
    };
    if observed == exp.client_cert {
        return None;
    }
    let mode = exp.mode;
    let (id, severity, title) = match (exp.client_cert, observed) {
        (ClientCertExpectation::Required, _) => (
            "policy.client_cert_not_required",
            Severity::Critical,
            format!("{mode} declared, but a client without a certificate gets in"),
        ),
        (_, ClientCertExpectation::Required) => (
            "policy.client_cert_required_undeclared",
            Severity::High,
            format!("{mode} declared, but clients without a certificate are refused"),
        ),
        (ClientCertExpectation::Optional, _) => (
            "policy.client_cert_not_requested",
            Severity::Medium,
            format!("{mode} declared, but the gateway never asks for a client certificate"),
        ),
        _ => (
            "policy.client_cert_requested_undeclared",
            Severity::Low,
            format!("{mode} declared, but the gateway asks for a client certificate"),
        ),
    };
    let want = if mode == TlsMode::Simple {
        "MUTUAL"
    } else {
        mode.as_str()
    };
    Some(Finding {
        id: id.into(),
        severity,
        title: format!("{}: {title}", exp.label()),
        expected: json!({"client_cert": exp.client_cert}),
        observed: json!({"client_cert": observed}),
        evidence: evidence.to_string(),
        remedy: format!(
            "apply the declared tls.mode ({}:{}); for client certificates use {want} with a CA in the credential",
            exp.server.file, exp.server.line
        ),
        location: Some(mode_location(exp)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::ProtocolResult;
    use crate::policy::{effective, load_str};

    /// A drift finding is located at the field to change: its own line
    /// when written (a list named as the list, at its first item), else
    /// the server entry's line with the field that would be added.
    #[test]
    fn drift_is_located_at_the_declaring_field_or_its_server() {
        let yaml = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: a}\nspec:\n  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [x.example]\n    tls:\n      mode: SIMPLE\n      credentialName: c\n      cipherSuites:\n      - ECDHE-RSA-AES128-GCM-SHA256\n      - ECDHE-RSA-AES256-GCM-SHA384\n";
        let line_of = |needle: &str| {
            yaml.lines()
                .position(|l| l.contains(needle))
                .expect("in the YAML")
                + 1
        };
        let exp = effective::expectations(&load_str("gw.yaml", yaml).expect("policy"))
            .pop()
            .expect("one server");
        let suites = location_of(&exp, "cipher_suites", "cipherSuites");
        assert_eq!(
            (suites.file.as_str(), suites.line, suites.field.as_str()),
            (
                "gw.yaml",
                line_of("AES128-GCM"),
                "spec.servers[0].tls.cipherSuites"
            )
        );

        let mut target = TargetObservation::new("127.0.0.1:443".into(), 443, None);
        target.protocols = vec![ProtocolResult::offered(
            ProtocolVersion::Tls10,
            "handshake".into(),
            Some(ProtocolVersion::Tls10),
            None,
        )];
        let f = judge(&target, &exp);
        let undeclared = f
            .iter()
            .find(|f| f.id == "policy.protocol_undeclared")
            .expect("TLS 1.0 is undeclared");
        let at = undeclared.location.as_ref().expect("a location");
        assert_eq!(
            (at.line, at.field.as_str()),
            (line_of("- port:"), "spec.servers[0].tls.minProtocolVersion")
        );
        // The JSON contract carries it.
        let json = serde_json::to_value(undeclared).expect("serialises");
        assert_eq!(json["location"]["file"], "gw.yaml");
    }

    /// SIMPLE + credentialName + subjectAltNames: Envoy 1.40 refuses the
    /// listener (tests/lab_envoy_decides.rs); the verdict says so with the
    /// declaration's origin, whether or not something answers the port.
    #[test]
    fn a_refused_listener_is_explained_not_drifted() {
        let yaml = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: a}\nspec:\n  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [x.example]\n    tls: {mode: SIMPLE, credentialName: c, subjectAltNames: [client.example]}\n";
        let exp = effective::expectations(&load_str("gw.yaml", yaml).expect("policy"))
            .pop()
            .expect("one server");
        assert!(exp.rejected.is_some(), "the model refuses it");
        let mut target = TargetObservation::new("127.0.0.1:443".into(), 443, None);
        target.error = Some("connection refused".into());
        let f = judge(&target, &exp);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].id, "policy.listener_rejected");
        assert!(f[0].title.contains("Envoy refuses this listener"));
        assert!(f[0].evidence.contains("gw.yaml:6"), "{}", f[0].evidence);
        assert!(f[0].evidence.contains("as the refusal predicts"));

        target.error = None;
        target.protocols = vec![ProtocolResult::offered(
            ProtocolVersion::Tls13,
            "handshake".into(),
            Some(ProtocolVersion::Tls13),
            None,
        )];
        let f = judge(&target, &exp);
        assert_eq!(f[0].observed["tls_answered"], true);
        assert!(f[0].evidence.contains("not running this declaration"));
    }
}
