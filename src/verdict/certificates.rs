//! Findings about the certificates served per requested name.

use serde_json::json;

use crate::finding::{Finding, Severity};
use crate::observe::{CertRequest, CertificateResult};

/// Days before expiry at which an expiring certificate is worth a note.
const EXPIRY_WARNING_DAYS: i64 = 30;

fn who(c: &CertificateResult) -> String {
    let name = match (&c.sni, c.request) {
        (_, CertRequest::None) => "no SNI".to_string(),
        (Some(n), CertRequest::Unknown) => format!("unknown SNI {n}"),
        (Some(n), _) => format!("SNI {n}"),
        (None, _) => "no SNI".to_string(),
    };
    match &c.key_type {
        Some(k) => format!("{name} ({k} certificate)"),
        None => name,
    }
}

fn finding(
    id: &str,
    severity: Severity,
    title: String,
    expected: serde_json::Value,
    observed: serde_json::Value,
    evidence: String,
    remedy: &str,
) -> Finding {
    Finding {
        id: id.to_string(),
        severity,
        title,
        expected,
        observed,
        evidence,
        remedy: remedy.to_string(),
        location: None,
    }
}

/// A certificate that could not be read although the server did not refuse
/// (review H3: rustls gives up on a 70 KiB Certificate message that holds
/// an expired leaf): nothing about it can be vouched for, so it is a
/// finding, never silence. High for a name a client sends, medium for the
/// unknown-name probe.
fn unverified(c: &CertificateResult) -> Option<Finding> {
    let why = c.unknown.as_ref()?;
    let severity = if c.request == CertRequest::Unknown {
        Severity::Medium
    } else {
        Severity::High
    };
    Some(finding(
        "cert.unverified",
        severity,
        format!(
            "{}: the certificate could not be read, so it is not checked",
            who(c)
        ),
        json!({"chain": "read and checked"}),
        json!({"unknown": why}),
        why.clone(),
        "rescan with a longer --timeout; if it persists, fetch the chain with openssl s_client \
         -showcerts and check it by hand",
    ))
}

/// Expiry, key size, name and trust problems of every served chain, and
/// which certificate a client gets without a known name. A name in
/// `declared` is judged against its declaration instead
/// (`policy.certificate_hosts`), so its mismatch is not repeated here.
pub fn certificate_findings(certs: &[CertificateResult], declared: &[String]) -> Vec<Finding> {
    let mut out = Vec::new();
    // A target that speaks TLS (the certificate check runs after the
    // protocol scan found a version) but gave no chain to any request:
    // nothing about its certificates is known, which is a finding, not
    // silence (issue 14). One already unreadable is cert.unverified.
    if !certs.is_empty()
        && certs.iter().all(|c| c.chain.is_empty())
        && certs.iter().all(|c| c.unknown.is_none())
    {
        let why: Vec<String> = certs
            .iter()
            .map(|c| format!("{}: {}", who(c), c.refused.as_deref().unwrap_or("no chain")))
            .collect();
        out.push(finding(
            "cert.none_fetched",
            Severity::High,
            "no certificate could be fetched: every request was refused".to_owned(),
            json!({"chain": "served to at least one request"}),
            json!({"refused": certs.len()}),
            why.join("; "),
            "scan with --sni for each host the gateway serves (a gateway with SNI-matched \
             filter chains refuses other names); if it still refuses, check the listener's \
             certificates",
        ));
    }
    for c in certs {
        let Some(leaf) = c.chain.first() else {
            out.extend(unverified(c));
            continue;
        };
        let who = who(c);
        let evidence = format!(
            "{who}: leaf {} (SHA-256 {}), issuer {}",
            leaf.subject, leaf.sha256, leaf.issuer
        );
        if leaf.days_left < 0 {
            out.push(finding(
                "cert.expired",
                Severity::Critical,
                format!("{who}: certificate expired {} days ago", -leaf.days_left),
                json!({"not_after": "in the future"}),
                json!({"not_after": leaf.not_after}),
                evidence.clone(),
                "renew the certificate in the Secret named by tls.credentialName",
            ));
        } else if leaf.days_left < EXPIRY_WARNING_DAYS {
            out.push(finding(
                "cert.expires_soon",
                Severity::Low,
                format!(
                    "{who}: certificate expires in {} day{}",
                    leaf.days_left,
                    if leaf.days_left == 1 { "" } else { "s" }
                ),
                json!({"days_left": format!(">= {EXPIRY_WARNING_DAYS}")}),
                json!({"days_left": leaf.days_left}),
                evidence.clone(),
                "renew the certificate in the Secret named by tls.credentialName",
            ));
        }
        if leaf.key_type == "RSA" && leaf.key_bits < 2048 {
            out.push(finding(
                "cert.weak_rsa_key",
                Severity::High,
                format!("{who}: RSA key of {} bits", leaf.key_bits),
                json!({"key_bits": ">= 2048"}),
                json!({"key_bits": leaf.key_bits}),
                evidence.clone(),
                "issue a certificate with an RSA key of at least 2048 bits or an ECDSA P-256 key",
            ));
        }
        let judged_as_declared = c.sni.as_ref().is_some_and(|n| declared.contains(n));
        if c.request == CertRequest::Requested
            && c.hostname_match == Some(false)
            && !judged_as_declared
        {
            out.push(finding(
                "cert.hostname_mismatch",
                Severity::High,
                format!("{who}: certificate does not cover the name"),
                json!({"covers": c.sni}),
                json!({"sans": leaf.sans}),
                evidence.clone(),
                "serve a certificate whose SANs include the host (Gateway servers[].hosts)",
            ));
        }
        if c.trusted == Some(false) {
            out.push(finding(
                "cert.untrusted",
                Severity::High,
                format!("{who}: chain not trusted"),
                json!({"trusted": true}),
                json!({"trusted": false, "error": c.trust_error}),
                format!(
                    "{evidence}; {}",
                    c.trust_error
                        .as_deref()
                        .unwrap_or("no path to a trusted root")
                ),
                "serve the full chain from a CA clients trust (or pass that CA with --ca)",
            ));
        }
        if !c.chain_problems.is_empty() {
            out.push(finding(
                "cert.chain_order",
                Severity::Low,
                format!("{who}: chain problems: {}", c.chain_problems.join("; ")),
                json!({"chain_problems": []}),
                json!({"chain_problems": c.chain_problems}),
                evidence.clone(),
                "put the leaf first, then each issuer, without the root",
            ));
        }
        if c.request == CertRequest::Unknown {
            out.push(finding(
                "cert.default_served",
                Severity::Info,
                format!("{who}: a default certificate is served ({})", leaf.subject),
                json!({"unknown_sni": "refused or a deliberate default"}),
                json!({"subject": leaf.subject, "sans": leaf.sans}),
                evidence,
                "add a catch-all server (hosts: '*') only if clients without a known name must connect",
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(sni: Option<&str>, request: CertRequest) -> CertificateResult {
        CertificateResult {
            sni: sni.map(str::to_owned),
            request,
            refused: Some("received fatal alert: HandshakeFailure".into()),
            unknown: None,
            read_via: None,
            key_type: None,
            protocol: None,
            chain: Vec::new(),
            trusted: None,
            trust_error: None,
            hostname_match: None,
            days_left: None,
            ocsp_stapled: false,
            chain_problems: Vec::new(),
        }
    }

    #[test]
    fn every_request_refused_is_a_finding_not_silence() {
        let all = [
            refused(Some("gw.test"), CertRequest::Requested),
            refused(None, CertRequest::None),
            refused(Some("tlsposture-probe.invalid"), CertRequest::Unknown),
        ];
        let found = certificate_findings(&all, &[]);
        let none: Vec<&Finding> = found
            .iter()
            .filter(|f| f.id == "cert.none_fetched")
            .collect();
        assert_eq!(none.len(), 1, "{found:?}");
        assert_eq!(none[0].severity, Severity::High);
        assert!(
            none[0].evidence.contains("SNI gw.test"),
            "{}",
            none[0].evidence
        );
        // No certificate check at all (the check did not run): nothing.
        assert!(certificate_findings(&[], &[]).is_empty());
        // One unreadable chain is cert.unverified's, not this one.
        let mut unreadable = all.clone();
        unreadable[0].refused = None;
        unreadable[0].unknown = Some("too large".into());
        let found = certificate_findings(&unreadable, &[]);
        assert!(
            found.iter().all(|f| f.id != "cert.none_fetched"),
            "{found:?}"
        );
        assert!(found.iter().any(|f| f.id == "cert.unverified"), "{found:?}");
    }
}
