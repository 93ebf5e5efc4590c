//! Findings about accepted cipher suites: one finding per weakness class and
//! protocol, listing the suites, so a report stays readable on a server that
//! accepts forty weak suites.

use serde_json::json;

use crate::finding::{Finding, Severity};
use crate::observe::SuiteResult;
use crate::registry::Strength;
use crate::wire::ProtocolVersion;

/// A weakness class: which suites it covers and how bad it is.
struct Class {
    id: &'static str,
    severity: Severity,
    title: &'static str,
    remedy: &'static str,
    matches: fn(&SuiteResult) -> bool,
}

const CLASSES: &[Class] = &[
    Class {
        id: "suite.null_or_anonymous",
        severity: Severity::Critical,
        title: "NULL-encryption or anonymous suites accepted",
        remedy: "remove them from tls.cipherSuites",
        matches: |s| matches!(s.strength, Strength::Null | Strength::Anonymous),
    },
    Class {
        id: "suite.export",
        severity: Severity::Critical,
        title: "EXPORT-grade suites accepted",
        remedy: "remove them from tls.cipherSuites",
        matches: |s| s.strength == Strength::Export,
    },
    Class {
        id: "suite.rc4_or_des",
        severity: Severity::High,
        title: "RC4, single-DES or other broken-cipher suites accepted",
        remedy: "remove them from tls.cipherSuites",
        matches: |s| s.strength == Strength::Weak && !is_64bit_block(s),
    },
    Class {
        id: "suite.64bit_block",
        severity: Severity::Medium,
        title: "3DES / 64-bit block suites accepted (SWEET32)",
        remedy: "remove DES-CBC3-SHA and other 3DES suites from tls.cipherSuites",
        matches: is_64bit_block,
    },
    Class {
        id: "suite.no_forward_secrecy",
        severity: Severity::Medium,
        title: "suites without forward secrecy accepted",
        remedy: "keep only ECDHE suites in tls.cipherSuites (drop AES128-GCM-SHA256, AES128-SHA …)",
        matches: |s| {
            s.protocol != ProtocolVersion::Tls13
                && s.strength >= Strength::Weak
                // SSLv2 cipher kinds are all RSA key transport.
                && s
                    .registry_entry()
                    .map_or(s.protocol == ProtocolVersion::Ssl2, |c| !c.forward_secrecy)
        },
    },
    Class {
        id: "suite.cbc",
        severity: Severity::Low,
        title: "CBC-mode suites accepted",
        remedy: "keep only AEAD (GCM, ChaCha20-Poly1305) suites in tls.cipherSuites",
        matches: |s| s.strength == Strength::Cbc,
    },
];

fn is_64bit_block(s: &SuiteResult) -> bool {
    s.registry_entry().is_some_and(|c| {
        let cipher = c.cipher.to_ascii_uppercase();
        cipher.contains("3DES")
            || cipher.contains("DES-EDE")
            || cipher.contains("IDEA")
            || cipher.contains("RC2")
    })
}

/// One finding per (class, protocol) with at least one matching suite.
pub fn suite_findings(suites: &[SuiteResult]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for class in CLASSES {
        for version in ProtocolVersion::ALL {
            let hits: Vec<&SuiteResult> = suites
                .iter()
                .filter(|s| s.protocol == version && (class.matches)(s))
                .collect();
            if hits.is_empty() {
                continue;
            }
            let names: Vec<&str> = hits.iter().map(|s| s.iana.as_str()).collect();
            findings.push(Finding {
                id: class.id.to_string(),
                severity: class.severity,
                title: format!("{version}: {} ({})", class.title, names.len()),
                expected: json!({"protocol": version, "suites": []}),
                observed: json!({"protocol": version, "suites": names}),
                evidence: format!("accepted in {version}: {}", names.join(", ")),
                remedy: class.remedy.to_string(),
                location: None,
            });
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite(protocol: ProtocolVersion, code: u16) -> SuiteResult {
        SuiteResult::new(
            protocol,
            crate::registry::cipher_suite(code).expect("registry suite"),
        )
    }

    fn ids(f: &[Finding]) -> Vec<(&str, Severity)> {
        f.iter().map(|f| (f.id.as_str(), f.severity)).collect()
    }

    #[test]
    fn modern_suites_raise_nothing() {
        let s = [
            suite(ProtocolVersion::Tls12, 0xC02F),
            suite(ProtocolVersion::Tls12, 0xCCA8),
            suite(ProtocolVersion::Tls13, 0x1301),
        ];
        assert!(suite_findings(&s).is_empty());
    }

    #[test]
    fn each_weakness_has_its_severity() {
        let s = [
            suite(ProtocolVersion::Tls12, 0x000A), // 3DES, no FS
            suite(ProtocolVersion::Tls12, 0xC013), // ECDHE CBC
            suite(ProtocolVersion::Tls12, 0x009C), // RSA GCM, no FS
            suite(ProtocolVersion::Tls10, 0x0004), // RC4
        ];
        assert_eq!(
            ids(&suite_findings(&s)),
            vec![
                ("suite.rc4_or_des", Severity::High),
                ("suite.64bit_block", Severity::Medium),
                ("suite.no_forward_secrecy", Severity::Medium),
                ("suite.no_forward_secrecy", Severity::Medium),
                ("suite.cbc", Severity::Low),
            ]
        );
    }
}
