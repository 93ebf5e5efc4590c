//! A scanned target against a published baseline (Mozilla's profiles): an
//! allow-list, so only what is offered beyond it counts — a baseline never
//! demands that a suite be offered.

use serde_json::json;

use crate::finding::{Finding, Severity};
use crate::observe::TargetObservation;
use crate::policy::baseline::Baseline;
use crate::policy::TlsVersionSetting;
use crate::registry;
use crate::wire::ProtocolVersion;

fn istio_name(v: Option<&ProtocolVersion>) -> &'static str {
    v.map_or("TLS_AUTO", |v| TlsVersionSetting::Version(*v).istio_name())
}

pub fn baseline_findings(target: &TargetObservation, baseline: &Baseline) -> Vec<Finding> {
    let mut findings = Vec::new();
    let name = &baseline.name;
    let allowed: Vec<String> = baseline.protocols.iter().map(|v| v.to_string()).collect();
    let offered: Vec<ProtocolVersion> = target
        .protocols
        .iter()
        .filter(|p| p.offered == Some(true))
        .map(|p| p.version)
        .collect();
    for p in target.protocols.iter().filter(|p| p.offered == Some(true)) {
        if !baseline.protocols.contains(&p.version) {
            findings.push(Finding {
                id: "baseline.protocol_not_allowed".into(),
                severity: Severity::High,
                title: format!(
                    "{} offered; {name} allows {}",
                    p.version,
                    allowed.join(", ")
                ),
                expected: json!({"baseline": name, "protocols": allowed}),
                observed: json!({"version": p.version, "offered": true}),
                evidence: format!("protocol probe: {}", p.evidence),
                remedy: format!(
                    "set tls.minProtocolVersion: {} and tls.maxProtocolVersion: {}",
                    istio_name(baseline.protocols.first()),
                    istio_name(baseline.protocols.last())
                ),
                location: None,
            });
        }
    }
    let known = target.protocols.iter().all(|p| p.offered.is_some());
    if known && !offered.iter().any(|v| baseline.protocols.contains(v)) {
        findings.push(Finding {
            id: "baseline.no_allowed_protocol".into(),
            severity: Severity::High,
            title: format!(
                "none of {name}'s protocols ({}) is offered",
                allowed.join(", ")
            ),
            expected: json!({"baseline": name, "protocols": allowed}),
            observed: json!({"offered": offered}),
            evidence: "protocol probes".into(),
            remedy: format!("allow {}", allowed.join(", ")),
            location: None,
        });
    }
    for version in ProtocolVersion::ALL {
        let list = if version == ProtocolVersion::Tls13 {
            &baseline.tls13_suites
        } else {
            &baseline.suites
        };
        let extra: Vec<&str> = target
            .cipher_suites
            .iter()
            .filter(|s| s.protocol == version && baseline.protocols.contains(&version))
            .filter(|s| s.iana_code().is_some_and(|c| !list.contains(&c)))
            .map(|s| s.openssl.as_deref().unwrap_or(&s.iana))
            .collect();
        if !extra.is_empty() {
            findings.push(Finding {
                id: "baseline.suite_not_allowed".into(),
                severity: Severity::Medium,
                title: format!(
                    "{version}: {} suite(s) outside {name}: {}",
                    extra.len(),
                    extra.join(", ")
                ),
                expected: json!({"baseline": name, "protocol": version}),
                observed: json!({"protocol": version, "suites": extra}),
                evidence: "suite enumeration".into(),
                remedy: "list only the profile's suites in tls.cipherSuites".into(),
                location: None,
            });
        }
    }
    let extra_groups: Vec<String> = target
        .groups
        .iter()
        .filter(|g| !baseline.allows_group(g.code))
        .map(|g| format!("{} ({})", g.name, g.protocol))
        .collect();
    if !extra_groups.is_empty() {
        findings.push(Finding {
            id: "baseline.group_not_allowed".into(),
            severity: Severity::Low,
            title: format!("groups outside {name}: {}", extra_groups.join(", ")),
            expected: json!({"baseline": name, "groups": baseline.groups.iter().map(|c| registry::named_group(*c).map(|g| g.name.clone()).unwrap_or_default()).collect::<Vec<_>>()}),
            observed: json!({"groups": extra_groups}),
            evidence: "group enumeration".into(),
            remedy: "set meshConfig.tlsDefaults.ecdhCurves to the profile's curves".into(),
            location: None,
        });
    }
    if let Some(min) = baseline.dh_param_size {
        let small: Vec<String> = target
            .cipher_suites
            .iter()
            .filter_map(|s| s.dh_bits.filter(|b| *b < min).map(|b| (s, b)))
            .map(|(s, b)| {
                format!(
                    "{} {} ({b} bits)",
                    s.protocol,
                    s.openssl.as_deref().unwrap_or(&s.iana)
                )
            })
            .collect();
        if !small.is_empty() {
            findings.push(Finding {
                id: "baseline.dh_param_size".into(),
                severity: Severity::Medium,
                title: format!("DH groups under {name}'s {min} bits: {}", small.join(", ")),
                expected: json!({"baseline": name, "dh_param_size": min}),
                observed: json!({"suites": small}),
                evidence: "suite enumeration (ServerKeyExchange)".into(),
                remedy: format!("use DH groups of at least {min} bits, or drop the DHE suites"),
                location: None,
            });
        }
    }
    for cert in &target.certificates {
        let Some(leaf) = cert.chain.first() else {
            continue;
        };
        let sni = cert.sni.as_deref().unwrap_or("no SNI");
        if !baseline
            .certificate_types
            .iter()
            .any(|t| t == &leaf.key_type)
        {
            findings.push(Finding {
                id: "baseline.certificate_type".into(),
                severity: Severity::Low,
                title: format!(
                    "{sni}: {} certificate; {name} expects {}",
                    leaf.key_type,
                    baseline.certificate_types.join(" or ")
                ),
                expected: json!({"baseline": name, "certificate_types": baseline.certificate_types}),
                observed: json!({"key_type": leaf.key_type, "key_bits": leaf.key_bits}),
                evidence: format!("certificate probe ({})", cert.request),
                remedy: "issue the gateway credential with the profile's key type".into(),
                location: None,
            });
        }
        if let Some(min) = baseline.rsa_key_size {
            if leaf.key_type == "RSA" && leaf.key_bits < min {
                findings.push(Finding {
                    id: "baseline.rsa_key_size".into(),
                    severity: Severity::Medium,
                    title: format!("{sni}: RSA {} bits; {name} requires {min}", leaf.key_bits),
                    expected: json!({"baseline": name, "rsa_key_size": min}),
                    observed: json!({"key_bits": leaf.key_bits}),
                    evidence: format!("certificate probe ({})", cert.request),
                    remedy: format!(
                        "reissue the credential with an RSA key of at least {min} bits"
                    ),
                    location: None,
                });
            }
        }
    }
    findings
}
