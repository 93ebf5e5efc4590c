//! Two runs side by side: reads the report's targets as
//! `verdict::diff` compares them, and renders the [`ReportDiff`] it
//! decides (a "+"/"-"/"~" table per target, and JSON). Decides nothing:
//! what moved, and what counts as new, is `verdict::diff`'s.

use std::fmt::Write as _;

use comfy_table::Cell;

use super::model::{
    CertificateResult, Finding, Letter, ProtocolResult, Report, Severity, SeverityCounts,
    SuiteResult, TargetReport, VulnStatus, Vulnerability,
};
use super::terminal::{listing, paint, severity_color, Style};
pub use crate::verdict::diff::{BaselineGate, Known, ReportDiff};
use crate::verdict::diff::{Moved, Presence, ReportedTarget, TargetDiff, TargetKey};

/// How a `--baseline-report` gate counted `finding` of `target`, so the
/// formats that mark failures themselves (JUnit, SARIF) agree with the exit
/// code: `None` without a gate, `Some(true)` new (it decides the exit
/// code), `Some(false)` known from the baseline report (waived).
pub fn counted_as_new(
    gate: Option<&BaselineGate>,
    target: &TargetReport,
    finding: &Finding,
) -> Option<bool> {
    let gate = gate?;
    let key = target.key();
    Some(
        gate.new_findings
            .iter()
            .any(|n| n.target == key && n.id == finding.id && n.severity == finding.severity),
    )
}

impl ReportedTarget for TargetReport {
    fn key(&self) -> TargetKey {
        TargetKey {
            address: self.address.clone(),
            sni: self.sni.clone(),
            label: self.label.clone(),
        }
    }
    fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }
    fn protocols(&self) -> &[ProtocolResult] {
        &self.protocols
    }
    fn cipher_suites(&self) -> &[SuiteResult] {
        &self.cipher_suites
    }
    fn certificates(&self) -> &[CertificateResult] {
        &self.certificates
    }
    fn grade(&self) -> Option<Letter> {
        self.grade.as_ref().map(|g| g.grade)
    }
    fn vulnerabilities(&self) -> &[Vulnerability] {
        &self.vulnerabilities
    }
    fn findings(&self) -> &[Finding] {
        &self.findings
    }
}

fn targets(reports: &[Report]) -> Vec<&TargetReport> {
    reports.iter().flat_map(|r| &r.targets).collect()
}

/// What moved from OLD's reports to NEW's (each side one report, or the
/// lines of a JSONL file).
pub fn compare(old: &[Report], new: &[Report]) -> ReportDiff {
    crate::verdict::diff::compare(&targets(old), &targets(new))
}

/// The findings of OLD's reports (read from `file`), for the gate.
pub fn known(file: &str, old: &[Report]) -> Known {
    Known::from_targets(file, &targets(old))
}

/// Re-decides `report`'s exit code on the findings `known` does not have
/// (see [`Known::gate`]).
pub fn gate(known: &Known, report: &mut Report, fail_on: Severity) {
    known.gate(&report.targets, &mut report.summary, fail_on);
}

/// The diff as pretty-printed JSON with a trailing newline.
pub fn render_json(diff: &ReportDiff) -> String {
    // Plain data with string keys: serialising cannot fail.
    let mut out = serde_json::to_string_pretty(diff)
        .unwrap_or_else(|e| format!("{{\"error\": \"diff serialisation failed: {e}\"}}"));
    out.push('\n');
    out
}

/// The diff for a terminal: one table per target that moved, "+" for what
/// NEW has and OLD had not, "-" the reverse, "~" a value that changed;
/// unchanged targets are counted in the closing line.
pub fn render(diff: &ReportDiff, style: Style) -> String {
    let mut out = String::new();
    for target in diff.targets.iter().filter(|t| !t.is_unchanged()) {
        let status = match target.status {
            Presence::Appeared => "appeared (only in NEW)",
            Presence::Disappeared => "disappeared (only in OLD)",
            Presence::Compared => "changed",
        };
        let _ = writeln!(out, "Target {}: {status}", target.key);
        let rows = rows(target, style);
        if !rows.is_empty() {
            let mut table = listing(style, vec!["", "What", "Item", "Change"]);
            for row in rows {
                table.add_row(row.map(Cell::new));
            }
            out.push_str(&table.trim_fmt());
            out.push('\n');
        }
        for note in &target.not_compared {
            let _ = writeln!(out, "  not compared: {note}");
        }
        out.push('\n');
    }
    out.push_str(&summary_line(diff));
    out.push('\n');
    out
}

/// The closing line: targets by how they moved, new and resolved findings.
pub fn summary_line(diff: &ReportDiff) -> String {
    let s = &diff.summary;
    format!(
        "{} changed, {} unchanged, {} appeared, {} disappeared; new: {}; resolved: {}",
        plural(s.targets_changed, "target"),
        s.targets_unchanged,
        s.targets_appeared,
        s.targets_disappeared,
        counts(&s.new),
        counts(&s.resolved)
    )
}

/// What `scan --baseline-report` did, in one line for stderr.
pub fn gate_line(gate: &BaselineGate) -> String {
    format!(
        "--baseline-report {}: {} known, new: {}",
        gate.file,
        plural(gate.known, "finding"),
        counts(&gate.new)
    )
}

fn plural(n: u32, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn counts(counts: &SeverityCounts) -> String {
    let parts: Vec<String> = Severity::ALL
        .iter()
        .filter(|s| counts.get(**s) > 0)
        .map(|s| format!("{} {}", counts.get(*s), s.name()))
        .collect();
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(", ")
    }
}

type Row = [String; 4];

fn row(sign: &str, what: &str, item: impl Into<String>, change: impl Into<String>) -> Row {
    [sign.to_owned(), what.to_owned(), item.into(), change.into()]
}

fn offered(answer: Option<bool>) -> &'static str {
    match answer {
        Some(true) => "offered",
        Some(false) => "not offered",
        None => "unknown",
    }
}

fn arrow<T>(moved: &Moved<T>, show: impl Fn(&T) -> String) -> String {
    format!("{} → {}", show(&moved.old), show(&moved.new))
}

/// The leading characters of a fingerprint: enough to tell two apart.
fn short(sha: &Option<String>) -> String {
    sha.as_deref().map_or("none".to_owned(), |s| {
        s.chars().take(16).collect::<String>() + "…"
    })
}

fn rows(t: &TargetDiff, style: Style) -> Vec<Row> {
    let mut rows = Vec::new();
    if let Some(moved) = &t.scannable {
        rows.push(if moved.new {
            row("+", "scan", "", "scannable again")
        } else {
            row(
                "-",
                "scan",
                "",
                format!("could not scan: {}", t.error.as_deref().unwrap_or("?")),
            )
        });
    } else if let (Presence::Appeared, Some(error)) = (t.status, &t.error) {
        rows.push(row("-", "scan", "", format!("could not scan: {error}")));
    }
    for p in &t.protocols {
        let sign = match p.offered.new {
            Some(true) => "+",
            Some(false) => "-",
            None => "~",
        };
        rows.push(row(
            sign,
            "protocol",
            p.version.name(),
            arrow(&p.offered, |a| offered(*a).to_owned()),
        ));
    }
    for (sign, list) in [("+", &t.suites_added), ("-", &t.suites_removed)] {
        for s in list {
            rows.push(row(
                sign,
                "suite",
                format!("{} {} {}", s.protocol.name(), s.code, s.iana),
                if sign == "+" {
                    "accepted"
                } else {
                    "no longer accepted"
                },
            ));
        }
    }
    if let Some(g) = &t.grade {
        rows.push(row("~", "grade", "", arrow(g, |l| l.name().to_owned())));
    }
    for c in &t.certificates {
        let mut change = Vec::new();
        if let Some(sha) = &c.sha256 {
            change.push(format!("sha256 {}", arrow(sha, short)));
        }
        if let Some(after) = &c.not_after {
            change.push(format!(
                "expires {}",
                arrow(after, |a| a.clone().unwrap_or_else(|| "none".to_owned()))
            ));
        }
        let key_type = c
            .key_type
            .as_deref()
            .map(|k| format!(" {k}"))
            .unwrap_or_default();
        rows.push(row(
            "~",
            "certificate",
            format!(
                "SNI {} ({}){key_type}",
                c.sni.as_deref().unwrap_or("none"),
                c.request
            ),
            change.join("; "),
        ));
    }
    for v in &t.vulnerabilities {
        let status =
            |s: &Option<VulnStatus>| s.map_or("not run".to_owned(), |s| s.name().to_owned());
        rows.push(row(
            "~",
            "vulnerability",
            v.id.name(),
            arrow(&v.status, status),
        ));
    }
    let severity = |s: Severity| paint(&s.name().to_uppercase(), severity_color(s), style);
    for (sign, list) in [("+", &t.findings_appeared), ("-", &t.findings_disappeared)] {
        for f in list {
            rows.push(row(
                sign,
                "finding",
                format!("{} {}", severity(f.severity), f.id),
                f.title.clone(),
            ));
        }
    }
    for c in &t.findings_changed {
        let mut change = Vec::new();
        if c.severity.old != c.severity.new {
            change.push(format!(
                "severity {}",
                arrow(&c.severity, |s| s.to_string())
            ));
        }
        if let Some(observed) = &c.observed {
            change.push(format!("observed {}", arrow(observed, |v| v.to_string())));
        }
        rows.push(row(
            "~",
            "finding",
            format!("{} {}", severity(c.severity.new), c.id),
            change.join("; "),
        ));
    }
    rows
}
