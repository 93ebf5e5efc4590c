//! Judges the authorization probes and the given identities' mTLS probes:
//! a request the declared policy denies must be refused (`403` with
//! `RBAC: access denied` from Envoy's RBAC filter, or a closed connection
//! for a TCP proxy), a request it allows must get any other answer.
//!
//! Findings: `authz.wrong_client_admitted` (critical — the gateway lets in
//! what the policy keeps out) and `authz.right_client_refused` (high), each
//! naming the rule and where it is declared; `authz.invalid_token_admitted`
//! (critical) when a malformed, expired or unknown-key JWT gets through; `mtls.identity_refused`
//! (high) when a MUTUAL gateway refuses the handshake of a given identity;
//! `mtls.expired_client_accepted` (critical) when it accepts an expired one.

use serde_json::json;

use crate::report::model::{AuthzProbe, Finding, Severity, TargetReport};

/// Envoy's RBAC filter's body for a denied HTTP request.
pub const RBAC_DENIED_BODY: &str = "RBAC: access denied";

/// Sets each probe's verdict and adds the findings. `mutual`: the server is
/// declared MUTUAL, so every given identity must be accepted.
pub fn apply(target: &mut TargetReport, mutual: bool) {
    let mut findings = Vec::new();
    for probe in &mut target.authorization {
        let (verdict, note) = judge_probe(probe);
        probe.verdict = verdict.to_owned();
        if !note.is_empty() {
            probe.evidence.push_str(&format!("; {note}"));
        }
        if verdict == "fail" {
            findings.push(finding(probe));
        }
    }
    if mutual {
        if let Some(mtls) = &target.mtls {
            let expired = crate::scan::mint::IDENTITY_EXPIRED;
            for p in mtls
                .probes
                .iter()
                .filter(|p| p.identity == expired && p.outcome == "accepted")
            {
                findings.push(Finding {
                    id: "mtls.expired_client_accepted".to_owned(),
                    severity: Severity::Critical,
                    title: "MUTUAL gateway accepts an expired client certificate from its CA"
                        .to_owned(),
                    expected: json!("refused"),
                    observed: json!(p.outcome),
                    evidence: p.evidence.clone(),
                    remedy: "The gateway does not check client certificate validity: check the \
                             proxy's certificate validation settings."
                        .to_owned(),
                });
            }
            for p in mtls.probes.iter().filter(|p| {
                p.outcome == "refused"
                    && p.identity != crate::scan::IDENTITY_NONE
                    && p.identity != crate::scan::IDENTITY_UNKNOWN_CA
                    && p.identity != expired
            }) {
                findings.push(Finding {
                    id: "mtls.identity_refused".to_owned(),
                    severity: Severity::High,
                    title: format!(
                        "MUTUAL gateway refuses the handshake of identity {}",
                        p.identity
                    ),
                    expected: json!("accepted"),
                    observed: json!(p.outcome),
                    evidence: p.evidence.clone(),
                    remedy: "Check that the certificate is issued by a CA in the gateway's \
                             credential (ca.crt), is within its validity, and carries the \
                             clientAuth extended key usage."
                        .to_owned(),
                });
            }
        }
    }
    target.findings.extend(findings);
    target
        .findings
        .sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
}

/// `pass` / `fail` / `error`, and a note for the evidence.
pub fn judge_probe(probe: &AuthzProbe) -> (&'static str, String) {
    let denied = match (probe.outcome.as_str(), probe.status) {
        ("answered", Some(401 | 403)) => true,
        ("answered", Some(_)) => false,
        ("refused" | "closed", _) => true,
        _ => return ("error", "no conclusive answer".to_owned()),
    };
    let body = probe.body_snippet.as_deref().unwrap_or_default();
    if probe.expected == "reject" {
        return match (denied, probe.status) {
            (true, Some(401)) => ("pass", String::new()),
            (true, Some(status)) => (
                "pass",
                format!("refused with {status}, not 401 from JWT authentication"),
            ),
            (true, None) => ("pass", "refused by closing the connection".to_owned()),
            (false, _) => ("fail", String::new()),
        };
    }
    match (probe.expected.as_str(), denied) {
        ("deny", true) if probe.status == Some(403) && !body.contains(RBAC_DENIED_BODY) => (
            "pass",
            format!("denied, though the body is not {RBAC_DENIED_BODY:?}"),
        ),
        ("deny", true) if probe.outcome != "answered" => {
            ("pass", "denied by closing the connection".to_owned())
        }
        ("deny", true) | ("allow", false) => ("pass", String::new()),
        _ => ("fail", String::new()),
    }
}

fn finding(probe: &AuthzProbe) -> Finding {
    let request = format!("{} {}{}", probe.method, probe.host, probe.path);
    let observed = match probe.status {
        Some(s) => json!(s),
        None => json!(probe.outcome),
    };
    let who = match &probe.token {
        Some(token) => format!("{} with token {token}", probe.identity),
        None => probe.identity.clone(),
    };
    if probe.expected == "reject" {
        Finding {
            id: "authz.invalid_token_admitted".to_owned(),
            severity: Severity::Critical,
            title: format!(
                "{who} is let through on {request}, which {} ({}) must refuse (401)",
                probe.rule, probe.declared_at
            ),
            expected: json!(401),
            observed,
            evidence: probe.evidence.clone(),
            remedy: format!(
                "The gateway does not validate tokens as {} declared at {} says: check that \
                 the RequestAuthentication is applied to the gateway workload (selector, \
                 namespace) and that its issuer and JWKS are the ones declared.",
                probe.rule, probe.declared_at
            ),
        }
    } else if probe.expected == "deny" {
        Finding {
            id: "authz.wrong_client_admitted".to_owned(),
            severity: Severity::Critical,
            title: format!(
                "{who} is let through on {request}, which {} ({}) denies",
                probe.rule, probe.declared_at
            ),
            expected: json!(format!("403 {RBAC_DENIED_BODY}")),
            observed,
            evidence: probe.evidence.clone(),
            remedy: format!(
                "The gateway does not enforce {} declared at {}: check that the \
                 AuthorizationPolicy is applied in the namespace of the gateway workload and \
                 that its selector matches the gateway's labels.",
                probe.rule, probe.declared_at
            ),
        }
    } else {
        Finding {
            id: "authz.right_client_refused".to_owned(),
            severity: Severity::High,
            title: format!(
                "{who} is refused on {request}, which the declared policy allows ({})",
                probe.rule
            ),
            expected: json!("allowed (not 401/403)"),
            observed,
            evidence: probe.evidence.clone(),
            remedy: format!(
                "A policy the declaration does not contain denies this request, or the \
                 identity is not the one {} ({}) names: compare the applied \
                 AuthorizationPolicies with the declared ones.",
                probe.rule, probe.declared_at
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(expected: &str, outcome: &str, status: Option<u16>, body: &str) -> AuthzProbe {
        AuthzProbe {
            identity: "test.client".into(),
            method: "GET".into(),
            path: "/status/418".into(),
            host: "test.com".into(),
            token: None,
            expected: expected.into(),
            status,
            outcome: outcome.into(),
            body_snippet: Some(body.into()),
            headers: Vec::new(),
            verdict: String::new(),
            rule: "istio-system/test rules[0]".into(),
            declared_at: "authz.yaml:12".into(),
            evidence: String::new(),
        }
    }

    #[test]
    fn verdicts() {
        let v = |p: AuthzProbe| judge_probe(&p).0;
        assert_eq!(
            v(probe("deny", "answered", Some(403), RBAC_DENIED_BODY)),
            "pass"
        );
        assert_eq!(v(probe("deny", "answered", Some(418), "teapot")), "fail");
        assert_eq!(v(probe("deny", "closed", None, "")), "pass");
        assert_eq!(v(probe("allow", "answered", Some(200), "")), "pass");
        assert_eq!(v(probe("allow", "answered", Some(401), "")), "fail");
        assert_eq!(v(probe("allow", "refused", None, "")), "fail");
        assert_eq!(v(probe("allow", "error", None, "")), "error");
        assert_eq!(
            v(probe("reject", "answered", Some(401), "Jwt is expired")),
            "pass"
        );
        assert_eq!(v(probe("reject", "answered", Some(200), "")), "fail");
    }

    #[test]
    fn wrong_client_admitted_is_critical_and_names_the_rule() {
        let mut t = TargetReport::new("127.0.0.1:1".into(), 1, None);
        t.authorization = vec![probe("deny", "answered", Some(200), "ok")];
        apply(&mut t, true);
        assert_eq!(t.authorization[0].verdict, "fail");
        let f = &t.findings[0];
        assert_eq!(f.id, "authz.wrong_client_admitted");
        assert_eq!(f.severity, Severity::Critical);
        assert!(
            f.title
                .contains("istio-system/test rules[0] (authz.yaml:12)"),
            "{}",
            f.title
        );
    }
}
