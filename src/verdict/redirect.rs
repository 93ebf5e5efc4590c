//! Judges the plain-HTTP requests to a declared plain-HTTP server: with
//! `tls.httpsRedirect: true` each must be answered `301` (or `308`) with
//! `location: https://…` — `policy.https_redirect_missing` (high)
//! otherwise, with the status and location as evidence; a request with no
//! answer is `policy.https_redirect_unverified` (medium). Without a
//! declared redirect the answers are noted, never judged.

use serde_json::json;

use crate::policy::effective::RedirectExpectation;
use crate::report::model::{Finding, Severity, TargetReport};

/// Sets each redirect probe's `expected`, `verdict` and `declared_at`, and
/// adds the findings.
pub fn apply(target: &mut TargetReport, exp: &RedirectExpectation) {
    let declared = exp.https_redirect.as_ref().unwrap_or(&exp.server);
    let declared_at = format!("{}:{}", declared.file, declared.line);
    let mut findings = Vec::new();
    for probe in &mut target.redirects {
        probe.declared_at = declared_at.clone();
        let Some(redirect) = &exp.https_redirect else {
            probe.expected = "any".to_owned();
            probe.verdict = "note".to_owned();
            continue;
        };
        probe.expected = "redirect to https".to_owned();
        let observed = json!({"status": probe.status, "location": probe.location});
        let evidence = format!(
            "GET http://{}{}: {}",
            probe.host, probe.path, probe.evidence
        );
        let Some(status) = probe.status else {
            probe.verdict = "error".to_owned();
            findings.push(Finding {
                id: "policy.https_redirect_unverified".to_owned(),
                severity: Severity::Medium,
                title: format!(
                    "{}: no answer to plain HTTP for {}, declared to redirect to https ({redirect})",
                    exp.label(),
                    probe.host
                ),
                expected: json!({"status": [301, 308], "location": "https://…"}),
                observed,
                evidence,
                remedy: "Check that the gateway listens for plain HTTP on this port.".to_owned(),
            });
            continue;
        };
        if exp.accepts(status, probe.location.as_deref()) {
            probe.verdict = "pass".to_owned();
            continue;
        }
        probe.verdict = "fail".to_owned();
        findings.push(Finding {
            id: "policy.https_redirect_missing".to_owned(),
            severity: Severity::High,
            title: format!(
                "{}: plain HTTP for {} is answered {status}{}, not redirected to https as declared at {}",
                exp.label(),
                probe.host,
                probe
                    .location
                    .as_deref()
                    .map(|l| format!(" (location: {l})"))
                    .unwrap_or_default(),
                declared_at
            ),
            expected: json!({"status": [301, 308], "location": "https://…"}),
            observed,
            evidence,
            remedy: format!(
                "The gateway serves plain HTTP although {redirect} says httpsRedirect: true: \
                 check that this Gateway is the one applied to the gateway (selector, \
                 namespace) and that no other server on port {} takes these hosts.",
                exp.port
            ),
        });
    }
    target.findings.extend(findings);
    target
        .findings
        .sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Origin;
    use crate::report::model::RedirectProbe;

    fn origin(line: usize) -> Origin {
        Origin {
            file: "gw.yaml".into(),
            line,
            column: 5,
            field: "spec.servers[0]".into(),
        }
    }

    fn target(status: Option<u16>, location: Option<&str>) -> TargetReport {
        let mut t = TargetReport::new("127.0.0.1:80".into(), 80, None);
        t.redirects.push(RedirectProbe {
            host: "test.com".into(),
            path: "/".into(),
            expected: String::new(),
            status,
            location: location.map(str::to_owned),
            outcome: if status.is_some() {
                "answered"
            } else {
                "error"
            }
            .into(),
            verdict: String::new(),
            declared_at: String::new(),
            evidence: "…".into(),
        });
        t
    }

    fn exp(redirect: bool) -> RedirectExpectation {
        RedirectExpectation {
            gateway: "default/gw".into(),
            server: origin(10),
            port: 80,
            hosts: vec!["test.com".into()],
            https_redirect: redirect.then(|| origin(17)),
        }
    }

    #[test]
    fn a_declared_redirect_must_be_a_301_to_https() {
        let mut t = target(Some(301), Some("https://test.com/"));
        apply(&mut t, &exp(true));
        assert_eq!(t.redirects[0].verdict, "pass");
        assert!(t.findings.is_empty());

        let mut t = target(Some(200), None);
        apply(&mut t, &exp(true));
        assert_eq!(t.redirects[0].verdict, "fail");
        assert_eq!(t.redirects[0].declared_at, "gw.yaml:17");
        assert_eq!(t.findings[0].id, "policy.https_redirect_missing");
        assert_eq!(t.findings[0].severity, Severity::High);
        assert!(t.findings[0].evidence.contains("GET http://test.com/"));

        let mut t = target(None, None);
        apply(&mut t, &exp(true));
        assert_eq!(t.findings[0].id, "policy.https_redirect_unverified");
    }

    #[test]
    fn without_a_declared_redirect_the_answer_is_a_note() {
        let mut t = target(Some(200), None);
        apply(&mut t, &exp(false));
        assert_eq!(t.redirects[0].verdict, "note");
        assert_eq!(t.redirects[0].declared_at, "gw.yaml:10");
        assert!(t.findings.is_empty());
    }
}
