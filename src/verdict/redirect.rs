//! Judges the plain-HTTP requests to a declared plain-HTTP server: with
//! `tls.httpsRedirect: true` each must be answered `301` (or `308`) with
//! `location: https://…` — `policy.https_redirect_missing` (high)
//! otherwise, with the status and location as evidence; a request with no
//! answer (silence, garbage, a reset) is `policy.https_redirect_unverified`
//! (high: the declaration could not be verified). Without a
//! declared redirect the answers are noted, never judged.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::ProbeVerdict;
use crate::finding::{Finding, FindingLocation, Severity};
use crate::observe::RedirectRequest;
use crate::policy::effective::RedirectExpectation;

/// What the declaration asks of a plain-HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum RedirectExpected {
    /// `httpsRedirect: true`: 301 or 308 with `location: https://…`.
    #[serde(rename = "redirect to https")]
    RedirectToHttps,
    /// No redirect declared: any answer.
    #[serde(rename = "any")]
    Any,
}

impl RedirectExpected {
    pub fn name(self) -> &'static str {
        match self {
            RedirectExpected::RedirectToHttps => "redirect to https",
            RedirectExpected::Any => "any",
        }
    }
}

impl std::fmt::Display for RedirectExpected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// The verdict on one plain-HTTP request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RedirectJudgement {
    pub expected: RedirectExpected,
    /// `pass`, `fail`, `error` (no answer), or `note` (nothing declared to
    /// check).
    pub verdict: ProbeVerdict,
    /// Where `httpsRedirect` (else the server) is declared (`file:line`).
    pub declared_at: String,
}

/// Each request's verdict, and the findings.
pub fn judge(
    requests: &[RedirectRequest],
    exp: &RedirectExpectation,
) -> (Vec<RedirectJudgement>, Vec<Finding>) {
    let declared = exp.https_redirect.as_ref().unwrap_or(&exp.server);
    let declared_at = format!("{}:{}", declared.file, declared.line);
    let setting = FindingLocation::from(declared);
    let judged = |expected, verdict| RedirectJudgement {
        expected,
        verdict,
        declared_at: declared_at.clone(),
    };
    let mut findings = Vec::new();
    let mut verdicts = Vec::new();
    for probe in requests {
        let Some(redirect) = &exp.https_redirect else {
            verdicts.push(judged(RedirectExpected::Any, ProbeVerdict::Note));
            continue;
        };
        let observed = json!({"status": probe.status, "location": probe.location});
        let evidence = format!(
            "GET http://{}{}: {}",
            probe.host, probe.path, probe.evidence
        );
        let Some(status) = probe.status else {
            verdicts.push(judged(
                RedirectExpected::RedirectToHttps,
                ProbeVerdict::Error,
            ));
            findings.push(Finding {
                id: "policy.https_redirect_unverified".to_owned(),
                // A declared expectation that could not be verified must not
                // let the gate pass at its default threshold.
                severity: Severity::High,
                title: format!(
                    "{}: no answer to plain HTTP for {}, declared to redirect to https ({redirect})",
                    exp.label(),
                    probe.host
                ),
                expected: json!({"status": [301, 308], "location": "https://…"}),
                observed,
                evidence,
                remedy: "Check that the gateway listens for plain HTTP on this port.".to_owned(),
                location: Some(setting.clone()),
            });
            continue;
        };
        if exp.accepts(status, probe.location.as_deref()) {
            verdicts.push(judged(
                RedirectExpected::RedirectToHttps,
                ProbeVerdict::Pass,
            ));
            continue;
        }
        verdicts.push(judged(
            RedirectExpected::RedirectToHttps,
            ProbeVerdict::Fail,
        ));
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
            location: Some(setting.clone()),
        });
    }
    (verdicts, findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::HttpAnswer;
    use crate::policy::Origin;

    fn origin(line: usize) -> Origin {
        Origin {
            file: "gw.yaml".into(),
            line,
            column: 5,
            field: "spec.servers[0]".into(),
        }
    }

    fn request(status: Option<u16>, location: Option<&str>) -> Vec<RedirectRequest> {
        vec![RedirectRequest {
            host: "test.com".into(),
            path: "/".into(),
            status,
            location: location.map(str::to_owned),
            outcome: if status.is_some() {
                HttpAnswer::Answered
            } else {
                HttpAnswer::Error
            },
            evidence: "…".into(),
        }]
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
        let (v, f) = judge(&request(Some(301), Some("https://test.com/")), &exp(true));
        assert_eq!(v[0].verdict, ProbeVerdict::Pass);
        assert!(f.is_empty());

        let (v, f) = judge(&request(Some(200), None), &exp(true));
        assert_eq!(v[0].verdict, ProbeVerdict::Fail);
        assert_eq!(v[0].declared_at, "gw.yaml:17");
        assert_eq!(f[0].id, "policy.https_redirect_missing");
        assert_eq!(f[0].severity, Severity::High);
        assert!(f[0].evidence.contains("GET http://test.com/"));
        // Located at the httpsRedirect line, for SARIF.
        assert_eq!(f[0].location.as_ref().map(|l| l.line), Some(17));

        let (_, f) = judge(&request(None, None), &exp(true));
        assert_eq!(f[0].id, "policy.https_redirect_unverified");
    }

    #[test]
    fn without_a_declared_redirect_the_answer_is_a_note() {
        let (v, f) = judge(&request(Some(200), None), &exp(false));
        assert_eq!(v[0].verdict, ProbeVerdict::Note);
        assert_eq!(v[0].expected, RedirectExpected::Any);
        assert_eq!(v[0].declared_at, "gw.yaml:10");
        assert!(f.is_empty());
    }
}
