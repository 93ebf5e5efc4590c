//! Comparing two runs: what appeared, disappeared and changed per target
//! between an OLD and a NEW report ([`compare`] → [`ReportDiff`]), and the
//! gate that lets a scan fail only on findings an earlier report did not
//! already have ([`Known`]).
//!
//! Targets are paired by [`TargetKey`]: the address as given, the label
//! and the SNI — never the resolved IP, which moves between runs without
//! the gateway changing. Findings are paired by id within a target.
//!
//! `verdict` may not see `report` (the one-way flow), so both sides are
//! read through [`ReportedTarget`], which `report::diff` implements for the
//! report's targets. No I/O here; the order of everything is fixed (targets
//! by key, findings by severity then id) so two runs of a diff print the
//! same bytes.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::exit;
use super::Summary;
use crate::finding::{Finding, Letter, Severity, SeverityCounts};
use crate::observe::Vulnerability;
use crate::observe::{CertificateResult, ProtocolResult, SuiteResult, VulnId, VulnStatus};
use crate::wire::ProtocolVersion;

/// One target of a report, as a comparison reads it.
pub trait ReportedTarget {
    fn key(&self) -> TargetKey;
    /// Why the target could not be scanned; `None` when it was.
    fn error(&self) -> Option<&str>;
    fn protocols(&self) -> &[ProtocolResult];
    fn cipher_suites(&self) -> &[SuiteResult];
    fn certificates(&self) -> &[CertificateResult];
    /// `None` when the target was not graded.
    fn grade(&self) -> Option<Letter>;
    fn vulnerabilities(&self) -> &[Vulnerability];
    fn findings(&self) -> &[Finding];
}

/// A borrowed target reads as the target (a fleet's reports are
/// flattened into one list of references).
impl<T: ReportedTarget + ?Sized> ReportedTarget for &T {
    fn key(&self) -> TargetKey {
        (**self).key()
    }
    fn error(&self) -> Option<&str> {
        (**self).error()
    }
    fn protocols(&self) -> &[ProtocolResult] {
        (**self).protocols()
    }
    fn cipher_suites(&self) -> &[SuiteResult] {
        (**self).cipher_suites()
    }
    fn certificates(&self) -> &[CertificateResult] {
        (**self).certificates()
    }
    fn grade(&self) -> Option<Letter> {
        (**self).grade()
    }
    fn vulnerabilities(&self) -> &[Vulnerability] {
        (**self).vulnerabilities()
    }
    fn findings(&self) -> &[Finding] {
        (**self).findings()
    }
}

/// What identifies a target across runs.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct TargetKey {
    /// The target as given (`host:port`), not the address it resolved to.
    pub address: String,
    pub sni: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl std::fmt::Display for TargetKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.address)?;
        if let Some(label) = &self.label {
            write!(f, " [{label}]")?;
        }
        write!(f, ", SNI {}", self.sni.as_deref().unwrap_or("none"))
    }
}

/// A value in OLD and in NEW (only recorded when they differ).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Moved<T> {
    pub old: T,
    pub new: T,
}

/// Everything that moved between two reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReportDiff {
    /// Every target of either side, ordered by key; unchanged ones too, so
    /// a reader can tell "compared, same" from "not compared".
    pub targets: Vec<TargetDiff>,
    pub summary: DiffSummary,
}

/// The counts a CI gate reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DiffSummary {
    /// Findings that appeared or got more severe (at their new severity);
    /// a target that became unscannable counts as one high.
    pub new: SeverityCounts,
    /// Findings that disappeared or got less severe (at their old
    /// severity) on a target still scanned; a target gone or unscannable
    /// resolves nothing.
    pub resolved: SeverityCounts,
    pub targets_appeared: u32,
    pub targets_disappeared: u32,
    pub targets_changed: u32,
    pub targets_unchanged: u32,
}

impl DiffSummary {
    /// The most severe new thing, if any.
    pub fn worst_new(&self) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| self.new.get(*s) > 0)
    }
}

/// Whether a target is on both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// In both reports.
    Compared,
    /// Only in NEW.
    Appeared,
    /// Only in OLD.
    Disappeared,
}

/// How one target moved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TargetDiff {
    #[serde(flatten)]
    pub key: TargetKey,
    pub status: Presence,
    /// Set when it could be scanned on one side and not on the other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scannable: Option<Moved<bool>>,
    /// Why NEW could not scan it, when NEW could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Findings only in NEW (for an appeared target: all of its findings).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings_appeared: Vec<Finding>,
    /// Findings only in OLD (for a disappeared target: all of its findings).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings_disappeared: Vec<Finding>,
    /// Same id on both sides, different severity or observed value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings_changed: Vec<FindingChange>,
    /// Versions whose offered / not offered / unknown answer moved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protocols: Vec<ProtocolChange>,
    /// Suites accepted in NEW and not in OLD, per protocol.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suites_added: Vec<SuiteRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suites_removed: Vec<SuiteRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<Moved<Letter>>,
    /// Served leaf certificates whose fingerprint or expiry moved, per
    /// requested name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<CertificateChange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vulnerabilities: Vec<VulnChange>,
    /// Sections present on one side only (a check that did not run, a
    /// target not graded): not compared, rather than reported as changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_compared: Vec<String>,
}

impl TargetDiff {
    fn new(key: TargetKey, status: Presence) -> Self {
        TargetDiff {
            key,
            status,
            scannable: None,
            error: None,
            findings_appeared: Vec::new(),
            findings_disappeared: Vec::new(),
            findings_changed: Vec::new(),
            protocols: Vec::new(),
            suites_added: Vec::new(),
            suites_removed: Vec::new(),
            grade: None,
            certificates: Vec::new(),
            vulnerabilities: Vec::new(),
            not_compared: Vec::new(),
        }
    }

    /// Nothing moved (sections not compared do not count).
    pub fn is_unchanged(&self) -> bool {
        self.status == Presence::Compared
            && self.scannable.is_none()
            && self.findings_appeared.is_empty()
            && self.findings_disappeared.is_empty()
            && self.findings_changed.is_empty()
            && self.protocols.is_empty()
            && self.suites_added.is_empty()
            && self.suites_removed.is_empty()
            && self.grade.is_none()
            && self.certificates.is_empty()
            && self.vulnerabilities.is_empty()
    }

    /// Whether the target became unscannable (or appeared unscannable):
    /// counted as a new high, since nothing about it can be vouched for.
    pub fn became_unscannable(&self) -> bool {
        match self.status {
            Presence::Compared => self.scannable.as_ref().is_some_and(|m| !m.new),
            Presence::Appeared => self.error.is_some(),
            Presence::Disappeared => false,
        }
    }
}

/// A finding on both sides that is not the same any more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FindingChange {
    pub id: String,
    /// NEW's title.
    pub title: String,
    pub severity: Moved<Severity>,
    /// Set when the observed value moved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<Moved<serde_json::Value>>,
}

impl FindingChange {
    /// More severe than before.
    pub fn is_worse(&self) -> bool {
        self.severity.new > self.severity.old
    }
}

/// One version's answer in OLD and NEW (`null` = could not be determined).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProtocolChange {
    pub version: ProtocolVersion,
    pub offered: Moved<Option<bool>>,
}

/// A cipher suite in one protocol.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct SuiteRef {
    pub protocol: ProtocolVersion,
    /// `0xC02F` as in the report.
    pub code: String,
    pub iana: String,
}

/// The leaf served for one requested name, when it moved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CertificateChange {
    pub sni: Option<String>,
    /// `requested`, `none` or `unknown`, as in the report.
    pub request: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_type: Option<String>,
    /// SHA-256 of the leaf; `null` when none was served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Moved<Option<String>>>,
    /// The leaf's notAfter (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<Moved<Option<String>>>,
}

/// A vulnerability check whose status moved (`null`: not run on that side).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VulnChange {
    pub id: VulnId,
    pub status: Moved<Option<VulnStatus>>,
}

/// Compares OLD's targets with NEW's. Targets with the same key are paired
/// in the order they appear (a fleet that lists a target twice pairs the
/// first with the first).
pub fn compare<O: ReportedTarget, N: ReportedTarget>(old: &[O], new: &[N]) -> ReportDiff {
    let mut sides: BTreeMap<TargetKey, (Vec<&O>, Vec<&N>)> = BTreeMap::new();
    for t in old {
        sides.entry(t.key()).or_default().0.push(t);
    }
    for t in new {
        sides.entry(t.key()).or_default().1.push(t);
    }
    let mut diff = ReportDiff::default();
    for (key, (olds, news)) in sides {
        for i in 0..olds.len().max(news.len()) {
            let target = match (olds.get(i), news.get(i)) {
                (Some(o), Some(n)) => compare_target(key.clone(), *o, *n),
                (None, Some(n)) => one_sided(key.clone(), *n, Presence::Appeared),
                (Some(o), None) => one_sided(key.clone(), *o, Presence::Disappeared),
                (None, None) => unreachable!("i is below the longer side's length"),
            };
            tally(&mut diff.summary, &target);
            diff.targets.push(target);
        }
    }
    diff
}

fn tally(summary: &mut DiffSummary, t: &TargetDiff) {
    match t.status {
        Presence::Appeared => summary.targets_appeared += 1,
        Presence::Disappeared => summary.targets_disappeared += 1,
        Presence::Compared if t.is_unchanged() => summary.targets_unchanged += 1,
        Presence::Compared => summary.targets_changed += 1,
    }
    if t.became_unscannable() {
        summary.new.add(Severity::High);
    }
    for f in &t.findings_appeared {
        summary.new.add(f.severity);
    }
    // A target that is gone took its findings with it: not fixed.
    if t.status == Presence::Compared {
        for f in &t.findings_disappeared {
            summary.resolved.add(f.severity);
        }
    }
    for c in &t.findings_changed {
        if c.severity.new > c.severity.old {
            summary.new.add(c.severity.new);
        } else if c.severity.new < c.severity.old {
            summary.resolved.add(c.severity.old);
        }
    }
}

/// A target on one side only: its findings all appeared (or disappeared).
fn one_sided<T: ReportedTarget>(key: TargetKey, t: &T, status: Presence) -> TargetDiff {
    let mut diff = TargetDiff::new(key, status);
    let mut findings = t.findings().to_vec();
    Finding::sort(&mut findings);
    match status {
        Presence::Appeared => {
            diff.error = t.error().map(str::to_owned);
            diff.findings_appeared = findings;
        }
        _ => diff.findings_disappeared = findings,
    }
    diff
}

fn compare_target<O: ReportedTarget, N: ReportedTarget>(
    key: TargetKey,
    old: &O,
    new: &N,
) -> TargetDiff {
    let mut diff = TargetDiff::new(key, Presence::Compared);
    let (was, is) = (old.error().is_none(), new.error().is_none());
    if was != is {
        diff.scannable = Some(Moved { old: was, new: is });
    }
    diff.error = new.error().map(str::to_owned);
    // An unscannable side has no observations: comparing them would report
    // everything as gone (fixed), when `scannable` already says what
    // happened; and with nothing to compare against, all NEW has is new.
    match (was, is) {
        (true, false) => {
            diff.not_compared
                .push("findings and observations: NEW could not be scanned".to_owned());
            return diff;
        }
        (false, true) => {
            diff.findings_appeared = new.findings().to_vec();
            Finding::sort(&mut diff.findings_appeared);
            diff.not_compared
                .push("findings and observations: OLD could not be scanned".to_owned());
            return diff;
        }
        _ => {}
    }
    let (appeared, disappeared, changed) = compare_findings(old.findings(), new.findings());
    diff.findings_appeared = appeared;
    diff.findings_disappeared = disappeared;
    diff.findings_changed = changed;
    if !was {
        return diff;
    }
    diff.protocols = compare_protocols(old.protocols(), new.protocols());
    let (old_suites, new_suites) = (old.cipher_suites(), new.cipher_suites());
    match (old_suites.is_empty(), new_suites.is_empty()) {
        (false, false) | (true, true) => {
            let (added, removed) = compare_suites(old_suites, new_suites);
            diff.suites_added = added;
            diff.suites_removed = removed;
        }
        (old_empty, _) => diff.not_compared.push(one_side("cipher suites", old_empty)),
    }
    match (old.grade(), new.grade()) {
        (Some(o), Some(n)) if o != n => diff.grade = Some(Moved { old: o, new: n }),
        (Some(_), Some(_)) | (None, None) => {}
        (o, _) => diff.not_compared.push(one_side("grade", o.is_none())),
    }
    let (old_certs, new_certs) = (old.certificates(), new.certificates());
    match (old_certs.is_empty(), new_certs.is_empty()) {
        (false, false) | (true, true) => {
            diff.certificates = compare_certificates(old_certs, new_certs)
        }
        (old_empty, _) => diff.not_compared.push(one_side("certificates", old_empty)),
    }
    let (old_vulns, new_vulns) = (old.vulnerabilities(), new.vulnerabilities());
    match (old_vulns.is_empty(), new_vulns.is_empty()) {
        (false, false) | (true, true) => diff.vulnerabilities = compare_vulns(old_vulns, new_vulns),
        (old_empty, _) => diff
            .not_compared
            .push(one_side("vulnerabilities", old_empty)),
    }
    // A check NEW did not run took its findings with it: not compared,
    // rather than fixed. A check only NEW ran keeps its findings as new: a
    // gate errs on the side of failing.
    let unchecked: Vec<&str> = SECTION_FINDINGS
        .iter()
        .filter(|(section, _)| diff.not_compared.contains(&one_side(section, false)))
        .map(|(_, prefix)| *prefix)
        .collect();
    let before = diff.findings_disappeared.len();
    diff.findings_disappeared
        .retain(|f| !unchecked.iter().any(|p| f.id.starts_with(p)));
    let dropped = before - diff.findings_disappeared.len();
    if dropped > 0 {
        diff.not_compared
            .push(format!("findings: {dropped} of checks only OLD ran"));
    }
    diff
}

/// Each section that may be missing on one side, and the prefix of the
/// finding ids it gives rise to.
const SECTION_FINDINGS: [(&str, &str); 4] = [
    ("cipher suites", "suite."),
    ("grade", "grade."),
    ("certificates", "cert."),
    ("vulnerabilities", "vuln."),
];

fn one_side(section: &str, only_in_new: bool) -> String {
    format!(
        "{section}: only in {}",
        if only_in_new { "NEW" } else { "OLD" }
    )
}

/// Pairs findings by id. When a target has several findings with one id
/// (one per SNI, say), identical ones pair first, then the rest in order.
fn compare_findings(
    old: &[Finding],
    new: &[Finding],
) -> (Vec<Finding>, Vec<Finding>, Vec<FindingChange>) {
    let mut by_id: BTreeMap<&str, (Vec<&Finding>, Vec<&Finding>)> = BTreeMap::new();
    for f in old {
        by_id.entry(&f.id).or_default().0.push(f);
    }
    for f in new {
        by_id.entry(&f.id).or_default().1.push(f);
    }
    let (mut appeared, mut disappeared, mut changed) = (Vec::new(), Vec::new(), Vec::new());
    for (_, (mut olds, mut news)) in by_id {
        news.retain(|n| match olds.iter().position(|o| same(o, n)) {
            Some(at) => {
                olds.remove(at);
                false
            }
            None => true,
        });
        let paired = olds.len().min(news.len());
        for (o, n) in olds.iter().zip(&news) {
            changed.push(FindingChange {
                id: n.id.clone(),
                title: n.title.clone(),
                severity: Moved {
                    old: o.severity,
                    new: n.severity,
                },
                observed: (o.observed != n.observed).then(|| Moved {
                    old: o.observed.clone(),
                    new: n.observed.clone(),
                }),
            });
        }
        disappeared.extend(olds[paired..].iter().map(|f| (*f).clone()));
        appeared.extend(news[paired..].iter().map(|f| (*f).clone()));
    }
    Finding::sort(&mut appeared);
    Finding::sort(&mut disappeared);
    changed.sort_by(|a, b| {
        b.severity
            .new
            .cmp(&a.severity.new)
            .then_with(|| a.id.cmp(&b.id))
    });
    (appeared, disappeared, changed)
}

/// Same finding: the evidence and title may word a run's details (timings,
/// ports) differently without anything having changed.
fn same(a: &Finding, b: &Finding) -> bool {
    a.severity == b.severity && a.observed == b.observed
}

fn compare_protocols(old: &[ProtocolResult], new: &[ProtocolResult]) -> Vec<ProtocolChange> {
    let answer =
        |list: &[ProtocolResult], v| list.iter().find(|p| p.version == v).and_then(|p| p.offered);
    ProtocolVersion::ALL
        .into_iter()
        .filter(|v| {
            // A version neither side probed is not a change.
            old.iter().chain(new).any(|p| p.version == *v)
        })
        .filter_map(|v| {
            let (o, n) = (answer(old, v), answer(new, v));
            (o != n).then_some(ProtocolChange {
                version: v,
                offered: Moved { old: o, new: n },
            })
        })
        .collect()
}

fn compare_suites(old: &[SuiteResult], new: &[SuiteResult]) -> (Vec<SuiteRef>, Vec<SuiteRef>) {
    let set = |list: &[SuiteResult]| -> BTreeMap<(ProtocolVersion, u32), String> {
        list.iter()
            .map(|s| ((s.protocol, s.code), s.iana.clone()))
            .collect()
    };
    let (o, n) = (set(old), set(new));
    let only = |a: &BTreeMap<(ProtocolVersion, u32), String>,
                b: &BTreeMap<(ProtocolVersion, u32), String>| {
        a.iter()
            .filter(|(k, _)| !b.contains_key(k))
            .map(|((protocol, code), iana)| SuiteRef {
                protocol: *protocol,
                code: crate::observe::code::suite::hex(*code),
                iana: iana.clone(),
            })
            .collect()
    };
    (only(&n, &o), only(&o, &n))
}

/// A certificate result's requested name, kind of request and key type.
type CertKey = (Option<String>, &'static str, Option<String>);

fn compare_certificates(
    old: &[CertificateResult],
    new: &[CertificateResult],
) -> Vec<CertificateChange> {
    let leaf = |list: &[CertificateResult]| -> BTreeMap<CertKey, (Option<String>, Option<String>)> {
        list.iter()
            .map(|c| {
                let leaf = c.chain.first();
                (
                    (c.sni.clone(), c.request.name(), c.key_type.clone()),
                    (
                        leaf.map(|l| l.sha256.clone()),
                        leaf.map(|l| l.not_after.clone()),
                    ),
                )
            })
            .collect()
    };
    let (o, n) = (leaf(old), leaf(new));
    let keys: BTreeSet<&CertKey> = o.keys().chain(n.keys()).collect();
    let none = (None, None);
    keys.into_iter()
        .filter_map(|k| {
            let (o_sha, o_after) = o.get(k).unwrap_or(&none);
            let (n_sha, n_after) = n.get(k).unwrap_or(&none);
            let moved = |a: &Option<String>, b: &Option<String>| {
                (a != b).then(|| Moved {
                    old: a.clone(),
                    new: b.clone(),
                })
            };
            let change = CertificateChange {
                sni: k.0.clone(),
                request: k.1.to_owned(),
                key_type: k.2.clone(),
                sha256: moved(o_sha, n_sha),
                not_after: moved(o_after, n_after),
            };
            (change.sha256.is_some() || change.not_after.is_some()).then_some(change)
        })
        .collect()
}

fn compare_vulns(old: &[Vulnerability], new: &[Vulnerability]) -> Vec<VulnChange> {
    let status = |list: &[Vulnerability], id| list.iter().find(|v| v.id == id).map(|v| v.status);
    VulnId::ALL
        .into_iter()
        .filter_map(|id| {
            let (o, n) = (status(old, id), status(new, id));
            (o != n).then_some(VulnChange {
                id,
                status: Moved { old: o, new: n },
            })
        })
        .collect()
}

/// The baseline gate's record in the summary (`scan --baseline-report`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BaselineGate {
    /// The OLD report the findings were compared with.
    pub file: String,
    /// Findings OLD already had for the same target (same id, same or
    /// higher severity): they do not count for the exit code.
    pub known: u32,
    /// The findings that do count, by severity.
    pub new: SeverityCounts,
    /// Which findings are new, per target: the exit code is decided by
    /// these alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub new_findings: Vec<NewFinding>,
}

/// A finding the baseline report did not have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NewFinding {
    #[serde(flatten)]
    pub target: TargetKey,
    pub id: String,
    pub severity: Severity,
}

/// The findings of an earlier report, per target: what
/// `scan --baseline-report` does not fail on again.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Known {
    file: String,
    /// Per target, the most severe level each finding id was seen at.
    findings: BTreeMap<TargetKey, BTreeMap<String, Severity>>,
}

impl Known {
    /// What `targets` (OLD's, read from `file`) already had.
    pub fn from_targets<T: ReportedTarget>(file: impl Into<String>, targets: &[T]) -> Self {
        let mut known = Known {
            file: file.into(),
            findings: BTreeMap::new(),
        };
        for t in targets {
            let ids = known.findings.entry(t.key()).or_default();
            for f in t.findings() {
                let seen = ids.entry(f.id.clone()).or_insert(f.severity);
                *seen = (*seen).max(f.severity);
            }
        }
        known
    }

    /// Whether OLD had this finding for this target, at least as severe.
    pub fn knows(&self, key: &TargetKey, finding: &Finding) -> bool {
        self.findings
            .get(key)
            .and_then(|ids| ids.get(&finding.id))
            .is_some_and(|seen| *seen >= finding.severity)
    }

    /// Re-decides `summary.exit_code` for `targets` (one or many: a fleet
    /// may gate each single-target report as it streams) on the findings
    /// OLD did not have, and records what it did in
    /// `summary.baseline_report`. The counts of `summary.findings` stay
    /// the full counts. An exit code of 2 stays 2: a target that could not
    /// be scanned is never waived by an earlier report (nor is any code
    /// other than 0 and 1, such as an interrupted run's).
    pub fn gate<T: ReportedTarget>(&self, targets: &[T], summary: &mut Summary, fail_on: Severity) {
        let mut gate = BaselineGate {
            file: self.file.clone(),
            ..BaselineGate::default()
        };
        for t in targets {
            let key = t.key();
            for f in t.findings() {
                if self.knows(&key, f) {
                    gate.known += 1;
                } else {
                    gate.new.add(f.severity);
                    gate.new_findings.push(NewFinding {
                        target: key.clone(),
                        id: f.id.clone(),
                        severity: f.severity,
                    });
                }
            }
        }
        // Only "clean" and "findings" are the findings' to decide: 2 (and
        // an interrupted run's code) stay what they are.
        if matches!(summary.exit_code, exit::CLEAN | exit::FINDINGS) {
            let failing = gate.new_findings.iter().any(|f| f.severity >= fail_on);
            summary.exit_code = if failing { exit::FINDINGS } else { exit::CLEAN };
        }
        summary.baseline_report = Some(gate);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A target as the tests build it.
    #[derive(Default, Clone)]
    struct T {
        address: &'static str,
        sni: Option<&'static str>,
        label: Option<&'static str>,
        error: Option<&'static str>,
        protocols: Vec<ProtocolResult>,
        suites: Vec<SuiteResult>,
        grade: Option<Letter>,
        vulns: Vec<Vulnerability>,
        findings: Vec<Finding>,
    }

    impl ReportedTarget for T {
        fn key(&self) -> TargetKey {
            TargetKey {
                address: self.address.to_owned(),
                sni: self.sni.map(str::to_owned),
                label: self.label.map(str::to_owned),
            }
        }
        fn error(&self) -> Option<&str> {
            self.error
        }
        fn protocols(&self) -> &[ProtocolResult] {
            &self.protocols
        }
        fn cipher_suites(&self) -> &[SuiteResult] {
            &self.suites
        }
        fn certificates(&self) -> &[CertificateResult] {
            &[]
        }
        fn grade(&self) -> Option<Letter> {
            self.grade
        }
        fn vulnerabilities(&self) -> &[Vulnerability] {
            &self.vulns
        }
        fn findings(&self) -> &[Finding] {
            &self.findings
        }
    }

    fn target(address: &'static str, findings: Vec<Finding>) -> T {
        T {
            address,
            findings,
            ..T::default()
        }
    }

    fn finding(id: &str, severity: Severity, observed: serde_json::Value) -> Finding {
        Finding {
            id: id.to_owned(),
            severity,
            title: format!("title of {id}"),
            expected: json!(null),
            observed,
            evidence: "seen at 12 ms".to_owned(),
            remedy: String::new(),
            location: None,
        }
    }

    fn protocol(version: ProtocolVersion, offered: Option<bool>) -> ProtocolResult {
        ProtocolResult {
            version,
            offered,
            evidence: String::new(),
            negotiated: None,
            cipher: None,
            fallback: None,
        }
    }

    #[test]
    fn targets_pair_by_address_sni_and_label_not_by_order() {
        let old = [
            T {
                sni: Some("a.example"),
                ..target("gw:443", vec![finding("x", Severity::Low, json!(1))])
            },
            target("other:443", vec![]),
        ];
        let new = [
            target("new:443", vec![finding("y", Severity::High, json!(1))]),
            T {
                sni: Some("a.example"),
                ..target("gw:443", vec![finding("x", Severity::Low, json!(1))])
            },
        ];
        let diff = compare(&old, &new);
        let seen: Vec<(&str, Presence)> = diff
            .targets
            .iter()
            .map(|t| (t.key.address.as_str(), t.status))
            .collect();
        assert_eq!(
            seen,
            [
                ("gw:443", Presence::Compared),
                ("new:443", Presence::Appeared),
                ("other:443", Presence::Disappeared),
            ]
        );
        assert!(diff.targets[0].is_unchanged());
        assert_eq!(
            diff.summary.new.high, 1,
            "an appeared target's findings are new"
        );
        assert_eq!(
            (diff.summary.targets_unchanged, diff.summary.targets_changed),
            (1, 0)
        );

        // Another SNI or label on the same address is another target.
        let relabelled = [T {
            sni: Some("a.example"),
            label: Some("443-a"),
            ..old[0].clone()
        }];
        let diff = compare(&old[..1], &relabelled);
        assert_eq!(diff.summary.targets_appeared, 1);
        assert_eq!(diff.summary.targets_disappeared, 1);
    }

    #[test]
    fn findings_appear_disappear_and_change_by_id() {
        let old = [target(
            "gw:443",
            vec![
                finding("stays", Severity::Low, json!("a")),
                finding("goes", Severity::Medium, json!(null)),
                finding("worse", Severity::Low, json!(null)),
                finding("value", Severity::Info, json!(["TLS1.0"])),
            ],
        )];
        let mut new_findings = vec![
            finding("stays", Severity::Low, json!("a")),
            finding("comes", Severity::Critical, json!(null)),
            finding("worse", Severity::High, json!(null)),
            finding("value", Severity::Info, json!(["TLS1.0", "TLS1.1"])),
        ];
        // Different wording of the evidence is not a change.
        new_findings[0].evidence = "seen at 40 ms".to_owned();
        let diff = compare(&old, &[target("gw:443", new_findings)]);
        let t = &diff.targets[0];
        let ids = |list: &[Finding]| list.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&t.findings_appeared), ["comes"]);
        assert_eq!(ids(&t.findings_disappeared), ["goes"]);
        let changed: Vec<(&str, bool, bool)> = t
            .findings_changed
            .iter()
            .map(|c| (c.id.as_str(), c.is_worse(), c.observed.is_some()))
            .collect();
        assert_eq!(changed, [("worse", true, false), ("value", false, true)]);
        assert_eq!(diff.summary.worst_new(), Some(Severity::Critical));
        assert_eq!((diff.summary.new.critical, diff.summary.new.high), (1, 1));
        assert_eq!(diff.summary.resolved.medium, 1);
    }

    #[test]
    fn observations_that_move_are_listed_and_missing_sections_are_not_compared() {
        use ProtocolVersion::*;
        let all = |tls10: Option<bool>| {
            [Ssl2, Ssl3, Tls10, Tls11, Tls12, Tls13]
                .into_iter()
                .map(|v| protocol(v, if v == Tls10 { tls10 } else { Some(false) }))
                .collect::<Vec<_>>()
        };
        let suite = |code: u32| {
            let registry = crate::registry::cipher_suites();
            let s = registry
                .iter()
                .find(|s| u32::from(s.code) == code)
                .expect("suite in the registry");
            SuiteResult::new(Tls12, s)
        };
        let old = [T {
            protocols: all(Some(false)),
            suites: vec![suite(0xC02F), suite(0xC013)],
            grade: Some(Letter::A),
            vulns: vec![Vulnerability::new(
                VulnId::Sweet32,
                VulnStatus::NotVulnerable,
                "",
            )],
            ..target("gw:443", vec![])
        }];
        let new = [T {
            protocols: all(Some(true)),
            suites: vec![suite(0xC02F), suite(0xC030)],
            grade: Some(Letter::B),
            vulns: vec![Vulnerability::new(
                VulnId::Sweet32,
                VulnStatus::Vulnerable,
                "",
            )],
            ..target("gw:443", vec![])
        }];
        let t = &compare(&old, &new).targets[0];
        assert_eq!(
            t.protocols,
            [ProtocolChange {
                version: Tls10,
                offered: Moved {
                    old: Some(false),
                    new: Some(true)
                }
            }]
        );
        let codes = |l: &[SuiteRef]| l.iter().map(|s| s.code.clone()).collect::<Vec<_>>();
        assert_eq!(codes(&t.suites_added), ["0xC030"]);
        assert_eq!(codes(&t.suites_removed), ["0xC013"]);
        assert_eq!(
            t.grade,
            Some(Moved {
                old: Letter::A,
                new: Letter::B
            })
        );
        assert_eq!(
            t.vulnerabilities[0].status.new,
            Some(VulnStatus::Vulnerable)
        );

        // NEW ran fewer checks: its missing suites and grade are not "removed".
        let old = [T {
            findings: vec![
                finding("suite.cbc", Severity::Low, json!(null)),
                finding("vuln.sweet32", Severity::Medium, json!(null)),
            ],
            ..old[0].clone()
        }];
        let fewer = [T {
            suites: vec![],
            grade: None,
            vulns: vec![],
            findings: vec![],
            ..old[0].clone()
        }];
        let diff = compare(&old, &fewer);
        let t = &diff.targets[0];
        assert!(t.is_unchanged(), "{t:?}");
        assert_eq!(
            t.not_compared,
            [
                "cipher suites: only in OLD",
                "grade: only in OLD",
                "vulnerabilities: only in OLD",
                "findings: 2 of checks only OLD ran",
            ]
        );
        assert_eq!(diff.summary.resolved.total(), 0);
        // The other way, what the extra checks found is new.
        let more = compare(&fewer, &old);
        assert_eq!(more.summary.new.total(), 2);
    }

    #[test]
    fn a_target_that_stops_being_scannable_is_a_new_high() {
        let old = [T {
            protocols: vec![protocol(ProtocolVersion::Tls12, Some(true))],
            ..target("gw:443", vec![])
        }];
        let old = [T {
            findings: vec![finding("x", Severity::Medium, json!(null))],
            ..old[0].clone()
        }];
        let new = [T {
            error: Some("connection refused"),
            ..target("gw:443", vec![])
        }];
        let diff = compare(&old, &new);
        let t = &diff.targets[0];
        assert_eq!(
            t.scannable,
            Some(Moved {
                old: true,
                new: false
            })
        );
        assert!(t.protocols.is_empty(), "not reported as everything gone");
        assert!(t.findings_disappeared.is_empty(), "nor as fixed");
        assert_eq!(diff.summary.resolved.total(), 0);
        assert_eq!(diff.summary.worst_new(), Some(Severity::High));
        // The other way: scannable again, and what it has is new (there is
        // nothing to compare it with).
        let back = compare(&new, &old);
        assert_eq!(back.summary.worst_new(), Some(Severity::Medium));
        assert_eq!(back.targets[0].findings_appeared.len(), 1);
    }

    #[test]
    fn the_gate_fails_only_on_findings_old_did_not_have() {
        let old = [target(
            "gw:443",
            vec![
                finding("known", Severity::High, json!(null)),
                finding("worse", Severity::Low, json!(null)),
            ],
        )];
        let known = Known::from_targets("old.json", &old);
        let gated = |findings: Vec<Finding>, exit_code: i32| {
            let mut summary = Summary {
                exit_code,
                ..Summary::default()
            };
            known.gate(&[target("gw:443", findings)], &mut summary, Severity::High);
            summary
        };

        let s = gated(vec![finding("known", Severity::High, json!(1))], 1);
        assert_eq!(s.exit_code, exit::CLEAN);
        let gate = s.baseline_report.expect("gate recorded");
        assert_eq!(
            (gate.file.as_str(), gate.known, gate.new.total()),
            ("old.json", 1, 0)
        );

        let s = gated(vec![finding("worse", Severity::High, json!(null))], 1);
        assert_eq!(
            s.exit_code,
            exit::FINDINGS,
            "a finding that got worse is new"
        );

        let s = gated(vec![finding("fresh", Severity::Medium, json!(null))], 0);
        assert_eq!(s.exit_code, exit::CLEAN, "new, but below --fail-on");
        assert_eq!(s.baseline_report.unwrap().new_findings[0].id, "fresh");

        assert_eq!(
            gated(vec![], exit::UNSCANNABLE).exit_code,
            exit::UNSCANNABLE
        );

        // The same finding on another target is not known there.
        let mut summary = Summary::default();
        known.gate(
            &[target(
                "gw2:443",
                vec![finding("known", Severity::High, json!(null))],
            )],
            &mut summary,
            Severity::High,
        );
        assert_eq!(summary.exit_code, exit::FINDINGS);
    }
}
