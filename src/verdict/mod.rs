//! Judging: observations in, one [`Judgement`] per target out, and the
//! [`Summary`] a run adds up to (exit code, and whether the run matches its
//! declared policy and baselines). No I/O and no rendering; `report`
//! copies what is decided here and decides nothing itself.
//!
//! Every finding of a target is computed in one pass ([`judge`]) over all
//! its observations and the expectations it is judged against, so no
//! result depends on the order in which checks ran or were applied.
//!
//! Severities are the tool's contract with CI: SSLv2/SSLv3 offered is
//! critical (DROWN, POODLE), TLS 1.0/1.1 medium (RFC 8996 deprecates them),
//! no TLS 1.2 or 1.3 at all high, TLS 1.3 missing info; suites and
//! certificates have their own tables in `suites` and `certificates`.
//!
//! Must not import `scan` or `report`.

pub mod authz;
pub mod baseline;
mod certificates;
pub mod clients;
mod completeness;
pub mod diff;
pub mod grade;
pub mod headers;
pub mod policy;
mod protocols;
pub mod redirect;
mod suites;
pub mod vulns;

pub use certificates::certificate_findings;
pub use clients::ClientSimulation;
pub use grade::{Grade, GradeCap, Letter};
pub use protocols::protocol_findings;
pub use redirect::{RedirectExpected, RedirectJudgement};
pub use suites::suite_findings;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::finding::{Finding, Severity, SeverityCounts};
use crate::observe::{TargetObservation, Vulnerability};
use crate::policy::baseline::Baseline;
use crate::policy::effective::{Expectation, RedirectExpectation};
use crate::policy::TlsMode;

/// Exit codes of the CI contract (DESIGN.md).
pub mod exit {
    /// Scanned; no finding at or above `--fail-on`.
    pub const CLEAN: i32 = 0;
    /// Scanned; at least one finding at or above `--fail-on`.
    pub const FINDINGS: i32 = 1;
    /// Could not scan (unreachable, DNS, not TLS, no answer).
    pub const UNSCANNABLE: i32 = 2;
    /// Usage error or invalid input file.
    pub const USAGE: i32 = 64;
}

/// What one target is judged against, besides the tool's own posture rules.
#[derive(Debug, Clone, Copy, Default)]
pub struct Against<'a> {
    /// The declared TLS server the target should be.
    pub server: Option<&'a Expectation>,
    /// The declared plain-HTTP server the target should be (its
    /// `httpsRedirect`); such a target is judged on its redirects alone.
    pub redirect: Option<&'a RedirectExpectation>,
    /// `--baseline` allow-lists.
    pub baselines: &'a [&'static Baseline],
    /// `--require-client` patterns.
    pub required_clients: &'a [String],
    /// `--min-grade`: a lower grade is a high finding.
    pub min_grade: Option<Letter>,
    /// What the chains were verified against when not the public roots
    /// (`--ca FILE`): a private mesh CA counts as trusted for the grade.
    pub trust_anchor: Option<&'a str>,
}

/// How a probe's answer compares with what was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProbeVerdict {
    Pass,
    Fail,
    /// No conclusive answer (see the evidence).
    Error,
    /// Nothing declared to check; the answer is noted.
    Note,
}

impl ProbeVerdict {
    pub fn name(self) -> &'static str {
        match self {
            ProbeVerdict::Pass => "pass",
            ProbeVerdict::Fail => "fail",
            ProbeVerdict::Error => "error",
            ProbeVerdict::Note => "note",
        }
    }
}

impl std::fmt::Display for ProbeVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// Everything decided about one target.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Judgement {
    /// Most severe first.
    pub findings: Vec<Finding>,
    /// One per client handshake observed, in the same order.
    pub client_simulations: Vec<ClientSimulation>,
    /// One per authorization request observed, in the same order: the
    /// verdict and a note for the evidence (empty when none).
    pub authorization: Vec<(ProbeVerdict, String)>,
    /// One per redirect request observed, in the same order.
    pub redirects: Vec<RedirectJudgement>,
    /// The target could be scanned.
    pub scanned: bool,
    /// Some probes could not be completed (`scan.incomplete`): what was
    /// seen is reported, but nothing declared can be vouched for.
    pub incomplete: bool,
    /// The `--baseline` names the target offers something outside of.
    pub outside_baselines: Vec<String>,
    /// The vulnerability battery, every check in order (empty when the
    /// `vulns` check did not run).
    pub vulnerabilities: Vec<Vulnerability>,
    /// The grade, or why the target was not graded.
    pub grade: Option<Result<Grade, String>>,
}

/// Judges one target's observations against what it should be.
pub fn judge(observed: &TargetObservation, against: &Against<'_>) -> Judgement {
    let incomplete = completeness::incomplete_finding(&observed.stats);
    let mut judgement = Judgement {
        scanned: observed.scanned(),
        incomplete: incomplete.is_some(),
        ..Judgement::default()
    };
    if let Some(exp) = against.redirect {
        let (redirects, findings) = redirect::judge(&observed.redirects, exp);
        judgement.redirects = redirects;
        judgement.findings = findings;
        judgement.findings.extend(incomplete);
        Finding::sort(&mut judgement.findings);
        return judgement;
    }
    judgement.client_simulations = clients::simulations(observed);
    let mut findings: Vec<Finding> = incomplete.into_iter().collect();
    if observed.scanned() {
        let declared = against
            .server
            .map(policy::declared_hosts)
            .unwrap_or_default();
        findings.extend(protocol_findings(&observed.protocols));
        findings.extend(suite_findings(&observed.cipher_suites));
        findings.extend(certificate_findings(&observed.certificates, &declared));
    }
    if let Some(exp) = against.server {
        findings.extend(policy::judge(observed, exp));
    }
    // A given identity must get into a gateway that requires client
    // certificates: the declared MUTUAL mode, else what the mtls probe saw.
    let mutual = match against.server {
        Some(exp) => exp.mode == TlsMode::Mutual,
        None => observed
            .mtls
            .as_ref()
            .is_some_and(|m| m.client_cert_required == Some(true)),
    };
    let (verdicts, authz_findings) =
        authz::judge_declared(observed, mutual, against.server.map(policy::mode_location));
    judgement.authorization = verdicts;
    findings.extend(authz_findings);
    if observed.scanned() {
        for b in against.baselines {
            let outside = baseline::baseline_findings(observed, b);
            if !outside.is_empty() {
                judgement.outside_baselines.push(b.name.clone());
            }
            findings.extend(outside);
        }
        findings.extend(clients::required_findings(
            &judgement.client_simulations,
            against.required_clients,
        ));
        judgement.vulnerabilities = vulns::assess(observed);
        findings.extend(vulns::findings(&judgement.vulnerabilities));
        findings.extend(headers::findings(&observed.http_headers));
        let graded = grade::grade(
            observed,
            &judgement.client_simulations,
            &judgement.vulnerabilities,
            against.trust_anchor,
        );
        findings.extend(grade_findings(&graded, against.min_grade));
        judgement.grade = Some(graded);
    }
    Finding::sort(&mut findings);
    judgement.findings = findings;
    judgement
}

/// `grade.below_minimum` (high) when `--min-grade` asks for more than the
/// target got, or when it asks for a grade the target could not be given.
fn grade_findings(graded: &Result<Grade, String>, min: Option<Letter>) -> Option<Finding> {
    let min = min?;
    let (observed, evidence) = match graded {
        Ok(g) if g.grade.rank() >= min.rank() => return None,
        Ok(g) => {
            let why: Vec<String> = g
                .caps
                .iter()
                .map(|c| format!("capped at {}: {}", c.grade, c.reason))
                .chain(g.warnings.iter().map(|w| format!("warning: {w}")))
                .collect();
            let score = g
                .score
                .map_or("no score".to_owned(), |s| format!("score {s}"));
            (
                serde_json::json!(g.grade.name()),
                format!(
                    "grade {} ({score}){}{}",
                    g.grade,
                    if why.is_empty() { "" } else { "; " },
                    why.join("; ")
                ),
            )
        }
        Err(why) => (serde_json::Value::Null, format!("not graded: {why}")),
    };
    Some(Finding {
        id: "grade.below_minimum".to_owned(),
        severity: Severity::High,
        title: format!("Grade below the required minimum {min}"),
        expected: serde_json::json!(format!(">= {min}")),
        observed,
        evidence,
        remedy: "Fix what caps the grade (see the grade's caps and warnings), or lower --min-grade"
            .to_owned(),
        location: None,
    })
}

/// Whether a finding is drift from the declared policy (the Gateway's TLS
/// settings, its AuthorizationPolicies and RequestAuthentications, its
/// client-certificate mode) rather than a posture note: the `policy.`,
/// `authz.` and `mtls.` ids. `declared.*` notes are about the declaration
/// itself and are not drift.
pub fn is_drift(finding: &Finding) -> bool {
    ["policy.", "authz.", "mtls."]
        .iter()
        .any(|prefix| finding.id.starts_with(prefix))
}

/// Whether the run's targets behave as declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PolicyVerdict {
    /// Every target scanned, no drift finding.
    Matches,
    /// At least one drift finding.
    Drift,
    /// No drift seen, but some target could not be scanned, or not to the
    /// end: nothing can be vouched for.
    NotVerified,
}

impl PolicyVerdict {
    /// The verdict of two parts of a run together: drift anywhere is
    /// drift, and one part not verified leaves the whole not verified.
    pub fn worse(self, other: PolicyVerdict) -> PolicyVerdict {
        use PolicyVerdict::{Drift, Matches, NotVerified};
        match (self, other) {
            (Drift, _) | (_, Drift) => Drift,
            (NotVerified, _) | (_, NotVerified) => NotVerified,
            (Matches, Matches) => Matches,
        }
    }

    /// The words the terminal's closing line uses.
    pub fn phrase(self) -> &'static str {
        match self {
            PolicyVerdict::Matches => "matches declared policy",
            PolicyVerdict::Drift => "drift from declared policy",
            PolicyVerdict::NotVerified => "declared policy not verified",
        }
    }
}

/// Whether the run stays inside one `--baseline`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BaselineVerdict {
    pub name: String,
    /// No target offers anything the baseline does not allow.
    pub within: bool,
}

/// What a run was judged against, for the summary.
#[derive(Debug, Clone, Copy, Default)]
pub struct Judged<'a> {
    /// A declared policy (`--policy`) was given.
    pub policy: bool,
    /// The `--baseline` names.
    pub baselines: &'a [String],
}

/// The run's closing judgement: the counts, the exit code and, when a
/// policy or baseline was given, whether the run matches it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Summary {
    pub findings: SeverityCounts,
    pub exit_code: i32,
    /// With `--policy`: `matches`, `drift` or `not_verified`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyVerdict>,
    /// With `--baseline`: whether the run stays within each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub baselines: Vec<BaselineVerdict>,
    /// The targets that could not be scanned (address, and label when
    /// there is one): why the exit code is 2.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unscanned: Vec<String>,
    /// With `--baseline-report`: the exit code counts only the findings
    /// that report did not have; which those are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_report: Option<diff::BaselineGate>,
}

impl Summary {
    /// Folds the summary of another part of the run (a target of a fleet,
    /// a shard's report) into this one: counts add up, the exit code is
    /// the worst (0 < 1 findings < 2 could not scan < 128+N interrupted),
    /// the policy verdict is drift over not verified over matches, and a
    /// baseline holds only where it holds for every part.
    pub fn combine(&mut self, other: &Summary) {
        for severity in Severity::ALL {
            for _ in 0..other.findings.get(severity) {
                self.findings.add(severity);
            }
        }
        self.exit_code = self.exit_code.max(other.exit_code);
        self.policy = match (self.policy, other.policy) {
            (None, p) | (p, None) => p,
            (Some(a), Some(b)) => Some(a.worse(b)),
        };
        for theirs in &other.baselines {
            match self.baselines.iter_mut().find(|b| b.name == theirs.name) {
                Some(ours) => ours.within &= theirs.within,
                None => self.baselines.push(theirs.clone()),
            }
        }
        self.unscanned.extend(other.unscanned.iter().cloned());
        if let Some(theirs) = &other.baseline_report {
            let ours = self
                .baseline_report
                .get_or_insert_with(|| diff::BaselineGate {
                    file: theirs.file.clone(),
                    ..diff::BaselineGate::default()
                });
            ours.known += theirs.known;
            for severity in Severity::ALL {
                for _ in 0..theirs.new.get(severity) {
                    ours.new.add(severity);
                }
            }
            ours.new_findings
                .extend(theirs.new_findings.iter().cloned());
        }
    }
}

/// Counts findings and decides the exit code: 2 if any target could not be
/// scanned (never reported as compliant), else 1 if any finding is at or
/// above `fail_on`, else 0. With a policy or baselines, also whether the
/// run matches them.
pub fn summarize(targets: &[&Judgement], fail_on: Severity, judged: Judged<'_>) -> Summary {
    let mut summary = Summary::default();
    let mut failing = false;
    let findings = || targets.iter().flat_map(|t| &t.findings);
    for finding in findings() {
        summary.findings.add(finding.severity);
        failing |= finding.severity >= fail_on;
    }
    let unscanned = targets.is_empty() || targets.iter().any(|t| !t.scanned);
    summary.exit_code = if unscanned {
        exit::UNSCANNABLE
    } else if failing {
        exit::FINDINGS
    } else {
        exit::CLEAN
    };
    if judged.policy {
        summary.policy = Some(if findings().any(is_drift) {
            PolicyVerdict::Drift
        } else if unscanned || targets.iter().any(|t| t.incomplete) {
            PolicyVerdict::NotVerified
        } else {
            PolicyVerdict::Matches
        });
    }
    summary.baselines = judged
        .baselines
        .iter()
        .map(|name| BaselineVerdict {
            name: name.clone(),
            within: !targets.iter().any(|t| t.outside_baselines.contains(name)),
        })
        .collect();
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn finding(id: &str, severity: Severity) -> Finding {
        Finding {
            id: id.to_owned(),
            severity,
            title: String::new(),
            expected: json!(null),
            observed: json!(null),
            evidence: String::new(),
            remedy: String::new(),
            location: None,
        }
    }

    fn judged(findings: Vec<Finding>, scanned: bool, outside: &[&str]) -> Judgement {
        Judgement {
            findings,
            scanned,
            outside_baselines: outside.iter().map(|s| s.to_string()).collect(),
            ..Judgement::default()
        }
    }

    const POLICY: Judged<'static> = Judged {
        policy: true,
        baselines: &[],
    };

    #[test]
    fn the_policy_verdict_is_drift_matches_or_not_verified() {
        let posture = judged(vec![finding("suite.cbc", Severity::Low)], true, &[]);
        let drift = judged(
            vec![finding("authz.wrong_client_admitted", Severity::Critical)],
            true,
            &[],
        );
        let note = judged(
            vec![finding("declared.not_terminated", Severity::Info)],
            true,
            &[],
        );
        let unscanned = judged(Vec::new(), false, &[]);

        let s = summarize(&[&posture, &note], Severity::High, POLICY);
        assert_eq!(
            (s.policy, s.exit_code),
            (Some(PolicyVerdict::Matches), exit::CLEAN)
        );
        let s = summarize(&[&posture, &drift], Severity::High, POLICY);
        assert_eq!(
            (s.policy, s.exit_code),
            (Some(PolicyVerdict::Drift), exit::FINDINGS)
        );
        let s = summarize(&[&posture, &unscanned], Severity::High, POLICY);
        assert_eq!(
            (s.policy, s.exit_code),
            (Some(PolicyVerdict::NotVerified), exit::UNSCANNABLE)
        );
        // Drift seen on one target outweighs another that could not be scanned.
        let s = summarize(&[&drift, &unscanned], Severity::High, POLICY);
        assert_eq!(s.policy, Some(PolicyVerdict::Drift));
        // Without a policy there is no policy verdict, and none in the JSON.
        let s = summarize(&[&drift], Severity::High, Judged::default());
        assert_eq!(s.policy, None);
        assert!(serde_json::to_value(&s).unwrap().get("policy").is_none());
        assert_eq!(s.findings.critical, 1);
    }

    #[test]
    fn each_baseline_is_within_unless_a_target_is_outside_it() {
        let names = [
            "mozilla-intermediate".to_owned(),
            "mozilla-modern".to_owned(),
        ];
        let a = judged(Vec::new(), true, &["mozilla-modern"]);
        let b = judged(Vec::new(), true, &[]);
        let s = summarize(
            &[&a, &b],
            Severity::High,
            Judged {
                policy: false,
                baselines: &names,
            },
        );
        let within: Vec<(&str, bool)> = s
            .baselines
            .iter()
            .map(|b| (b.name.as_str(), b.within))
            .collect();
        assert_eq!(
            within,
            [("mozilla-intermediate", true), ("mozilla-modern", false)]
        );
        assert_eq!(
            summarize(&[], Severity::High, POLICY).exit_code,
            exit::UNSCANNABLE
        );
    }
}
