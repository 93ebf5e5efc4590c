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

use super::ProbeVerdict;
use crate::finding::{Finding, FindingLocation, Severity};
use crate::observe::{
    AuthzRequest, Expected, HttpAnswer, Identity, MtlsOutcome, TargetObservation,
};

/// Envoy's RBAC filter's body for a denied HTTP request.
pub const RBAC_DENIED_BODY: &str = "RBAC: access denied";

/// Each authorization request's verdict (with a note for its evidence) and
/// the findings. `mutual`: the server requires client certificates, so
/// every given identity must be accepted and an expired one refused.
pub fn judge(
    observed: &TargetObservation,
    mutual: bool,
) -> (Vec<(ProbeVerdict, String)>, Vec<Finding>) {
    judge_declared(observed, mutual, None)
}

/// [`judge`] with `mode_at`, where the declared `tls.mode` is written when
/// `mutual` comes from a declaration: the client-certificate findings'
/// location.
pub fn judge_declared(
    observed: &TargetObservation,
    mutual: bool,
    mode_at: Option<FindingLocation>,
) -> (Vec<(ProbeVerdict, String)>, Vec<Finding>) {
    let mut findings = Vec::new();
    let verdicts = observed
        .authorization
        .iter()
        .map(|probe| {
            let (verdict, note) = judge_probe(probe);
            match verdict {
                ProbeVerdict::Fail => findings.push(finding(probe)),
                ProbeVerdict::Error => findings.push(unverified(probe)),
                ProbeVerdict::Pass | ProbeVerdict::Note => {}
            }
            (verdict, note)
        })
        .collect();
    if let (true, Some(mtls)) = (mutual, &observed.mtls) {
        for p in mtls
            .probes
            .iter()
            .filter(|p| p.identity == Identity::Expired && p.outcome == MtlsOutcome::Accepted)
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
                location: mode_at.clone(),
            });
        }
        for p in mtls
            .probes
            .iter()
            .filter(|p| p.outcome == MtlsOutcome::Refused && p.identity.is_given())
        {
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
                location: mode_at.clone(),
            });
        }
    }
    (verdicts, findings)
}

/// The verdict on one request, and a note for the evidence.
pub fn judge_probe(probe: &AuthzRequest) -> (ProbeVerdict, String) {
    use ProbeVerdict::{Error, Fail, Pass};
    let denied = match (probe.outcome, probe.status) {
        (HttpAnswer::Answered, Some(401 | 403)) => true,
        (HttpAnswer::Answered, Some(_)) => false,
        (HttpAnswer::Refused | HttpAnswer::Closed, _) => true,
        _ => return (Error, "no conclusive answer".to_owned()),
    };
    let body = probe.body_snippet.as_deref().unwrap_or_default();
    match (probe.expected, denied) {
        (Expected::Reject, true) => match probe.status {
            Some(401) => (Pass, String::new()),
            Some(status) => (
                Pass,
                format!("refused with {status}, not 401 from JWT authentication"),
            ),
            None => (Pass, "refused by closing the connection".to_owned()),
        },
        (Expected::Reject, false) => (Fail, String::new()),
        (Expected::Deny, true) if probe.status == Some(403) && !body.contains(RBAC_DENIED_BODY) => {
            (
                Pass,
                format!("denied, though the body is not {RBAC_DENIED_BODY:?}"),
            )
        }
        (Expected::Deny, true) if probe.outcome != HttpAnswer::Answered => {
            (Pass, "denied by closing the connection".to_owned())
        }
        (Expected::Deny, true) | (Expected::Allow, false) => (Pass, String::new()),
        (Expected::Deny, false) | (Expected::Allow, true) => (Fail, String::new()),
    }
}

/// A declared rule whose request got no conclusive answer (a timeout, a
/// failure of our own, an answer lost on the way): the declaration is not
/// verified, which must not read as "matches declared policy".
/// The rule's declaration as a location. The probe carries it as the
/// `file:line` text `scan` writes (`observe` cannot name `finding`); the
/// rule's name stands for the field, which is what stays stable when the
/// file is edited. No column is known: 1.
fn rule_location(probe: &AuthzRequest) -> Option<FindingLocation> {
    let (file, line) = probe.declared_at.rsplit_once(':')?;
    Some(FindingLocation {
        file: file.to_owned(),
        line: line.parse().ok()?,
        column: 1,
        field: probe.rule.clone(),
    })
}

fn unverified(probe: &AuthzRequest) -> Finding {
    let request = format!("{} {}{}", probe.method, probe.host, probe.path);
    Finding {
        id: "authz.unverified".to_owned(),
        severity: Severity::High,
        title: format!(
            "{} on {request} got no conclusive answer: {} ({}) is not verified",
            probe.identity, probe.rule, probe.declared_at
        ),
        expected: json!(probe.expected),
        observed: json!(probe.outcome),
        evidence: probe.evidence.clone(),
        remedy: "Check that the scanner reaches the gateway directly (no proxy that drops \
                 answers) and that --timeout leaves it time to answer, then scan again."
            .to_owned(),
        location: rule_location(probe),
    }
}

fn finding(probe: &AuthzRequest) -> Finding {
    let request = format!("{} {}{}", probe.method, probe.host, probe.path);
    let observed = match probe.status {
        Some(s) => json!(s),
        None => json!(probe.outcome),
    };
    let who = match &probe.token {
        Some(token) => format!("{} with token {token}", probe.identity),
        None => probe.identity.to_string(),
    };
    if probe.expected == Expected::Reject {
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
            location: rule_location(probe),
        }
    } else if probe.expected == Expected::Deny {
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
            location: rule_location(probe),
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
            location: rule_location(probe),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(
        expected: Expected,
        outcome: HttpAnswer,
        status: Option<u16>,
        body: &str,
    ) -> AuthzRequest {
        AuthzRequest {
            identity: Identity::Named("test.client".into()),
            method: "GET".into(),
            path: "/status/418".into(),
            host: "test.com".into(),
            token: None,
            expected,
            status,
            outcome,
            body_snippet: Some(body.into()),
            headers: Vec::new(),
            rule: "istio-system/test rules[0]".into(),
            declared_at: "authz.yaml:12".into(),
            evidence: String::new(),
        }
    }

    #[test]
    fn verdicts() {
        use Expected::{Allow, Deny, Reject};
        use HttpAnswer::{Answered, Closed, Error, Refused};
        let v = |p: AuthzRequest| judge_probe(&p).0;
        assert_eq!(
            v(probe(Deny, Answered, Some(403), RBAC_DENIED_BODY)),
            ProbeVerdict::Pass
        );
        assert_eq!(
            v(probe(Deny, Answered, Some(418), "teapot")),
            ProbeVerdict::Fail
        );
        assert_eq!(v(probe(Deny, Closed, None, "")), ProbeVerdict::Pass);
        assert_eq!(v(probe(Allow, Answered, Some(200), "")), ProbeVerdict::Pass);
        assert_eq!(v(probe(Allow, Answered, Some(401), "")), ProbeVerdict::Fail);
        assert_eq!(v(probe(Allow, Refused, None, "")), ProbeVerdict::Fail);
        assert_eq!(v(probe(Allow, Error, None, "")), ProbeVerdict::Error);
        assert_eq!(
            v(probe(Reject, Answered, Some(401), "Jwt is expired")),
            ProbeVerdict::Pass
        );
        assert_eq!(
            v(probe(Reject, Answered, Some(200), "")),
            ProbeVerdict::Fail
        );
    }

    #[test]
    fn a_request_without_a_conclusive_answer_is_an_unverified_rule() {
        let mut t = TargetObservation::new("127.0.0.1:1".into(), 1, None);
        t.authorization = vec![probe(Expected::Deny, HttpAnswer::Error, None, "")];
        let (verdicts, findings) = judge(&t, false);
        assert_eq!(verdicts[0].0, ProbeVerdict::Error);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].id, "authz.unverified");
        assert_eq!(findings[0].severity, Severity::High);
        assert!(crate::verdict::is_drift(&findings[0]));
    }

    /// An expired certificate let into a declared MUTUAL server is located
    /// at the declared mode; without a declaration there is no location.
    #[test]
    fn client_certificate_findings_are_located_at_the_declared_mode() {
        use crate::observe::{MtlsProbe, MtlsResult};
        let mut t = TargetObservation::new("127.0.0.1:1".into(), 1, None);
        t.mtls = Some(MtlsResult {
            client_cert_required: Some(true),
            client_cert_requested: Some(true),
            acceptable_ca_names: Vec::new(),
            required_by_http: None,
            evidence: String::new(),
            probes: vec![MtlsProbe {
                identity: Identity::Expired,
                outcome: MtlsOutcome::Accepted,
                protocol: None,
                http_status: None,
                evidence: String::new(),
            }],
        });
        let mode = FindingLocation {
            file: "gw.yaml".into(),
            line: 9,
            column: 13,
            field: "spec.servers[0].tls.mode".into(),
        };
        let (_, findings) = judge_declared(&t, true, Some(mode.clone()));
        assert_eq!(findings[0].id, "mtls.expired_client_accepted");
        assert_eq!(findings[0].location, Some(mode));
        let (_, findings) = judge(&t, true);
        assert_eq!(findings[0].location, None);
    }

    #[test]
    fn wrong_client_admitted_is_critical_and_names_the_rule() {
        let mut t = TargetObservation::new("127.0.0.1:1".into(), 1, None);
        t.authorization = vec![probe(Expected::Deny, HttpAnswer::Answered, Some(200), "ok")];
        let (verdicts, findings) = judge(&t, true);
        assert_eq!(verdicts[0].0, ProbeVerdict::Fail);
        let f = &findings[0];
        assert_eq!(f.id, "authz.wrong_client_admitted");
        assert_eq!(f.severity, Severity::Critical);
        assert!(
            f.title
                .contains("istio-system/test rules[0] (authz.yaml:12)"),
            "{}",
            f.title
        );
        let at = f.location.as_ref().expect("located at the rule");
        assert_eq!(
            (at.file.as_str(), at.line, at.field.as_str()),
            ("authz.yaml", 12, "istio-system/test rules[0]")
        );
    }
}
