//! Renders `policy lint` results: one line per finding (`file:line:col:
//! severity id: message`, then `  fix: remedy`), a summary line, and what
//! was read; or the same as JSON. Severities and the exit code are decided
//! before this sees them.

use serde::Serialize;

use super::model::Severity;
use crate::policy::lint::LintFinding;
use crate::policy::DeclaredPolicy;

/// The lint report's JSON contract version (separate from the scan report's).
pub const LINT_SCHEMA_VERSION: u32 = 1;

/// The findings as text, with summary and document lines.
pub fn render_text(findings: &[LintFinding], policy: &DeclaredPolicy) -> String {
    let mut out = String::new();
    for f in findings {
        let o = &f.origin;
        out.push_str(&format!(
            "{}:{}:{}: {} {}: {}\n  fix: {}\n",
            o.file, o.line, o.column, f.severity, f.id, f.message, f.remedy
        ));
    }
    out.push_str(&summary_line(findings));
    out.push('\n');
    out.push_str(&documents_line(policy));
    out.push('\n');
    out
}

/// `3 findings: 1 high, 2 medium` or `no findings`.
pub fn summary_line(findings: &[LintFinding]) -> String {
    if findings.is_empty() {
        return "no findings".into();
    }
    let parts: Vec<String> = Severity::ALL
        .into_iter()
        .filter_map(|s| {
            let n = findings.iter().filter(|f| f.severity == s).count();
            (n > 0).then(|| format!("{n} {s}"))
        })
        .collect();
    let noun = if findings.len() == 1 {
        "finding"
    } else {
        "findings"
    };
    format!("{} {noun}: {}", findings.len(), parts.join(", "))
}

/// `read 3 documents: 1 Gateway, 1 AuthorizationPolicy; skipped 1 VirtualService`.
pub fn documents_line(policy: &DeclaredPolicy) -> String {
    let count = |used: bool| -> Vec<String> {
        let mut kinds: Vec<(&str, usize)> = Vec::new();
        for d in policy
            .documents
            .iter()
            .filter(|d| d.skipped.is_none() == used)
        {
            match kinds.iter_mut().find(|(k, _)| *k == d.kind) {
                Some((_, n)) => *n += 1,
                None => kinds.push((&d.kind, 1)),
            }
        }
        kinds.iter().map(|(k, n)| format!("{n} {k}")).collect()
    };
    let total = policy.documents.len();
    let noun = if total == 1 { "document" } else { "documents" };
    let mut line = format!("read {total} {noun}");
    let used = count(true);
    if !used.is_empty() {
        line.push_str(&format!(": {}", used.join(", ")));
    }
    let skipped = count(false);
    if !skipped.is_empty() {
        line.push_str(&format!("; skipped {}", skipped.join(", ")));
    }
    line
}

#[derive(Serialize)]
struct LintReport<'a> {
    schema_version: u32,
    tool: super::model::ToolInfo,
    documents: &'a [crate::policy::DocumentSummary],
    findings: &'a [LintFinding],
    summary: LintSummary,
}

#[derive(Serialize)]
struct LintSummary {
    findings: std::collections::BTreeMap<&'static str, usize>,
    exit_code: i32,
}

/// The lint report as pretty JSON with a trailing newline.
pub fn render_json(findings: &[LintFinding], policy: &DeclaredPolicy, exit_code: i32) -> String {
    let report = LintReport {
        schema_version: LINT_SCHEMA_VERSION,
        tool: super::model::ToolInfo::default(),
        documents: &policy.documents,
        findings,
        summary: LintSummary {
            findings: Severity::ALL
                .into_iter()
                .map(|s| {
                    (
                        s.name(),
                        findings.iter().filter(|f| f.severity == s).count(),
                    )
                })
                .collect(),
            exit_code,
        },
    };
    let mut out = serde_json::to_string_pretty(&report)
        .unwrap_or_else(|e| format!("{{\"error\": \"lint report serialisation failed: {e}\"}}"));
    out.push('\n');
    out
}
