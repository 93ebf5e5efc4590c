//! Findings about which protocol versions are offered.

use serde_json::json;

use crate::finding::{Finding, Severity};
use crate::observe::ProtocolResult;
use crate::wire::ProtocolVersion;

/// One finding per offered legacy version, plus the absence of modern ones.
pub fn protocol_findings(protocols: &[ProtocolResult]) -> Vec<Finding> {
    let offered = |v: ProtocolVersion| {
        protocols
            .iter()
            .find(|p| p.version == v && p.offered == Some(true))
    };
    let mut findings = Vec::new();
    for (version, id, severity, why) in [
        (
            ProtocolVersion::Ssl2,
            "protocol.sslv2_offered",
            Severity::Critical,
            "SSLv2 is broken (DROWN, RFC 6176)",
        ),
        (
            ProtocolVersion::Ssl3,
            "protocol.sslv3_offered",
            Severity::Critical,
            "SSLv3 is broken (POODLE, RFC 7568)",
        ),
        (
            ProtocolVersion::Tls10,
            "protocol.tls10_offered",
            Severity::Medium,
            "TLS 1.0 is deprecated (RFC 8996)",
        ),
        (
            ProtocolVersion::Tls11,
            "protocol.tls11_offered",
            Severity::Medium,
            "TLS 1.1 is deprecated (RFC 8996)",
        ),
    ] {
        if let Some(p) = offered(version) {
            findings.push(Finding {
                id: id.to_string(),
                severity,
                title: format!("{version} offered: {why}"),
                expected: json!({"version": version, "offered": false}),
                observed: json!({"version": version, "offered": true}),
                evidence: p.evidence.clone(),
                remedy: "set tls.minProtocolVersion: TLSV1_2 on the Gateway server".into(),
                location: None,
            });
        }
    }
    let intolerant: Vec<&ProtocolResult> =
        protocols.iter().filter(|p| p.fallback.is_some()).collect();
    if !intolerant.is_empty() {
        let versions: Vec<&str> = intolerant.iter().map(|p| p.version.name()).collect();
        findings.push(Finding {
            id: "protocol.hello_intolerance".into(),
            severity: Severity::Low,
            title: format!(
                "the server refuses large hellos ({}): only a compact hello was answered",
                versions.join(", ")
            ),
            expected: json!({"broad_hello": "answered"}),
            observed: json!({"broad_hello": "refused", "versions": versions}),
            evidence: intolerant
                .iter()
                .filter_map(|p| p.fallback.clone())
                .collect::<Vec<_>>()
                .join("; "),
            remedy: "clients with long suite or extension lists (and future ones) may fail: \
                     check the TLS stack's hello limits (wolfSSL: WOLFSSL_MAX_SUITE_SZ)"
                .into(),
            location: None,
        });
    }
    let tls12 = offered(ProtocolVersion::Tls12);
    let tls13 = offered(ProtocolVersion::Tls13);
    let known = |v: ProtocolVersion| {
        protocols
            .iter()
            .any(|p| p.version == v && p.offered.is_some())
    };
    if tls12.is_none()
        && tls13.is_none()
        && known(ProtocolVersion::Tls12)
        && known(ProtocolVersion::Tls13)
    {
        findings.push(Finding {
            id: "protocol.no_tls12_or_tls13".into(),
            severity: Severity::High,
            title: "neither TLS 1.2 nor TLS 1.3 offered".into(),
            expected: json!({"offered": ["TLS1.2", "TLS1.3"]}),
            observed: json!({"offered": []}),
            evidence: evidence_of(protocols, ProtocolVersion::Tls12),
            remedy: "allow TLS 1.2 and 1.3 (tls.maxProtocolVersion unset or TLSV1_3)".into(),
            location: None,
        });
    } else if tls13.is_none() && known(ProtocolVersion::Tls13) {
        findings.push(Finding {
            id: "protocol.tls13_not_offered".into(),
            severity: Severity::Info,
            title: "TLS 1.3 not offered".into(),
            expected: json!({"version": "TLS1.3", "offered": true}),
            observed: json!({"version": "TLS1.3", "offered": false}),
            evidence: evidence_of(protocols, ProtocolVersion::Tls13),
            remedy: "leave tls.maxProtocolVersion unset or set it to TLSV1_3".into(),
            location: None,
        });
    }
    findings
}

fn evidence_of(protocols: &[ProtocolResult], version: ProtocolVersion) -> String {
    protocols
        .iter()
        .find(|p| p.version == version)
        .map(|p| p.evidence.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(offered: [bool; 6]) -> Vec<ProtocolResult> {
        ProtocolVersion::ALL
            .into_iter()
            .zip(offered)
            .map(|(v, o)| {
                if o {
                    ProtocolResult::offered(v, "seen".into(), Some(v), None)
                } else {
                    ProtocolResult::not_offered(v, "alert protocol_version".into())
                }
            })
            .collect()
    }

    fn ids(findings: &[Finding]) -> Vec<(&str, Severity)> {
        findings
            .iter()
            .map(|f| (f.id.as_str(), f.severity))
            .collect()
    }

    #[test]
    fn modern_gateway_has_no_findings() {
        assert!(protocol_findings(&table([false, false, false, false, true, true])).is_empty());
    }

    #[test]
    fn legacy_versions_are_flagged_with_their_severity() {
        let f = protocol_findings(&table([true, true, true, true, true, true]));
        assert_eq!(
            ids(&f),
            vec![
                ("protocol.sslv2_offered", Severity::Critical),
                ("protocol.sslv3_offered", Severity::Critical),
                ("protocol.tls10_offered", Severity::Medium),
                ("protocol.tls11_offered", Severity::Medium),
            ]
        );
    }

    #[test]
    fn missing_modern_versions_are_flagged() {
        let f = protocol_findings(&table([false, false, true, false, false, false]));
        assert_eq!(
            ids(&f),
            vec![
                ("protocol.tls10_offered", Severity::Medium),
                ("protocol.no_tls12_or_tls13", Severity::High),
            ]
        );
        let f = protocol_findings(&table([false, false, false, false, true, false]));
        assert_eq!(
            ids(&f),
            vec![("protocol.tls13_not_offered", Severity::Info)]
        );
    }

    #[test]
    fn unknown_results_raise_no_absence_findings() {
        let mut t = table([false, false, false, false, true, false]);
        t[5] = ProtocolResult::unknown(ProtocolVersion::Tls13, "socket error".into());
        assert!(protocol_findings(&t).is_empty());
    }
}
