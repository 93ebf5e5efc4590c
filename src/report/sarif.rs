//! SARIF 2.1.0 as GitHub code scanning reads it ("SARIF support for code
//! scanning"): one rule per finding id that occurs, one result per finding,
//! located at the YAML line the finding names. Renders; decides nothing —
//! the level only restates the severity against `--fail-on`.
//!
//! Choices GitHub leaves to the producer, made once here:
//! - **Where a result without a declared setting goes.** GitHub shows only
//!   results with a file in the repository, and only the first location.
//!   A posture finding (a weak suite the server offers, an expired
//!   certificate) has no line of its own, so it is put at line 1 of the
//!   first `--policy` file (the declaration of the gateway it is about, as
//!   trivy and scorecard fall back to line 1), with the target as a
//!   `logicalLocations` entry. Without a policy file there is no file to
//!   name: the result has the logical location only, which SARIF readers
//!   show and GitHub does not.
//! - **Paths.** `artifactLocation.uri` is the file as given to `--policy`,
//!   relative to the directory the run started in (GitHub needs
//!   repository-relative paths: run from the checkout's root); an absolute
//!   path outside that directory stays a `file://` URI.
//! - **Identity.** `partialFingerprints.primaryLocationLineHash` is ours:
//!   a hash of the rule, the target (address, SNI, label) and the setting
//!   (file and field path, not the line, which moves when the YAML above is
//!   edited), then `:n` for the n-th result with the same hash. GitHub
//!   would otherwise hash the line's text, and two gateways drifting on one
//!   shared Gateway line would merge into one alert. upload-sarif logs an
//!   "inconsistent fingerprint" warning for each such result and keeps
//!   ours.
//! - **Runs.** `automationDetails.id` is `tlsposture/<category>/`: the one
//!   target's label or address, else `fleet`. Shards of one fleet scanned
//!   separately upload with distinct `category` inputs (upload-sarif), or
//!   each upload supersedes the previous one.
//! - **A baseline gate.** With `scan --baseline-report OLD.json`, each
//!   result says whether the gate counted it (SARIF `baselineState`: "new",
//!   or "unchanged" for a finding OLD already had); the level still
//!   restates the severity, since a known finding is still there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::diff::{counted_as_new, BaselineGate};
use super::model::{Finding, Report, Severity, TargetReport};
use crate::finding::FindingLocation;
use crate::policy::lint::LintFinding;

/// The SARIF version GitHub reads.
pub const SARIF_VERSION: &str = "2.1.0";
/// The `$schema` of the OASIS standard (errata 01).
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The scan report as SARIF, paths relative to the current directory.
pub fn render(report: &Report, fail_on: Severity) -> String {
    render_from(report, fail_on, std::env::current_dir().ok().as_deref())
}

/// [`render`] with the directory paths are made relative to (`None`: as
/// given).
pub fn render_from(report: &Report, fail_on: Severity, root: Option<&Path>) -> String {
    let anchor = report
        .policy
        .as_ref()
        .and_then(|p| p.files.first())
        .cloned();
    let results: Vec<Item> = report
        .targets
        .iter()
        .flat_map(|t| {
            t.findings
                .iter()
                .map(move |f| Item::of_finding(f, t, report.summary.baseline_report.as_ref()))
        })
        .collect();
    let category = match report.targets.as_slice() {
        [one] => target_name(one),
        _ => "fleet".to_owned(),
    };
    let invocation = json!({
        "executionSuccessful": report.summary.exit_code != crate::verdict::exit::UNSCANNABLE,
        "exitCode": report.summary.exit_code,
        "startTimeUtc": report.started_at,
        "endTimeUtc": report.finished_at,
    });
    finish(
        &results,
        &Context {
            fail_on,
            root,
            anchor: anchor.as_deref(),
            category: &category,
            invocation,
            version: &report.tool.version,
        },
    )
}

/// `policy lint` findings as SARIF, each at its YAML line; paths relative to
/// the current directory.
pub fn render_lint(findings: &[LintFinding], fail_on: Severity, exit_code: i32) -> String {
    let root = std::env::current_dir().ok();
    let results: Vec<Item> = findings.iter().map(Item::of_lint).collect();
    finish(
        &results,
        &Context {
            fail_on,
            root: root.as_deref(),
            anchor: None,
            category: "policy-lint",
            invocation: json!({
                "executionSuccessful": exit_code != crate::verdict::exit::USAGE,
                "exitCode": exit_code,
            }),
            version: env!("CARGO_PKG_VERSION"),
        },
    )
}

/// What every SARIF result needs, from a scan finding or a lint finding.
struct Item {
    id: String,
    severity: Severity,
    title: String,
    detail: String,
    remedy: String,
    location: Option<FindingLocation>,
    /// The target: a logical location and part of the identity (empty for
    /// lint, which has none).
    target: Option<TargetRef>,
    properties: Value,
    /// With `--baseline-report`: whether the gate counted it as new
    /// (SARIF `baselineState` "new") or known ("unchanged").
    new_since_baseline: Option<bool>,
}

struct TargetRef {
    address: String,
    sni: Option<String>,
    label: Option<String>,
}

impl Item {
    fn of_finding(f: &Finding, t: &TargetReport, gate: Option<&BaselineGate>) -> Item {
        Item {
            new_since_baseline: counted_as_new(gate, t, f),
            id: f.id.clone(),
            severity: f.severity,
            title: f.title.clone(),
            detail: format!(
                "Target {}. Evidence: {}. Expected {}, observed {}.",
                target_name(t),
                f.evidence,
                f.expected,
                f.observed
            ),
            remedy: f.remedy.clone(),
            location: f.location.clone(),
            target: Some(TargetRef {
                address: t.address.clone(),
                sni: t.sni.clone(),
                label: t.label.clone(),
            }),
            properties: json!({
                "severity": f.severity,
                "target": t.address,
                "sni": t.sni,
                "label": t.label,
                "expected": f.expected,
                "observed": f.observed,
            }),
        }
    }

    fn of_lint(f: &LintFinding) -> Item {
        Item {
            id: f.id.clone(),
            severity: f.severity,
            title: f.message.clone(),
            detail: String::new(),
            remedy: f.remedy.clone(),
            location: Some(FindingLocation::from(&f.origin)),
            target: None,
            properties: json!({"severity": f.severity}),
            new_since_baseline: None,
        }
    }
}

struct Context<'a> {
    fail_on: Severity,
    root: Option<&'a Path>,
    /// The file a result without a location of its own is shown in.
    anchor: Option<&'a str>,
    category: &'a str,
    invocation: Value,
    version: &'a str,
}

fn finish(items: &[Item], cx: &Context<'_>) -> String {
    // Rules in order of first occurrence (findings come most severe first),
    // each with the most severe severity seen for it: GitHub reads
    // `security-severity` from the rule only.
    let mut rule_order: Vec<(&Item, Severity)> = Vec::new();
    for item in items {
        match rule_order.iter_mut().find(|(first, _)| first.id == item.id) {
            Some((_, worst)) => *worst = (*worst).max(item.severity),
            None => rule_order.push((item, item.severity)),
        }
    }
    let rules: Vec<Value> = rule_order
        .iter()
        .map(|(first, worst)| rule(first, *worst, cx.fail_on))
        .collect();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let results: Vec<Value> = items
        .iter()
        .map(|item| {
            let hash = fingerprint(item);
            let n = seen.entry(hash.clone()).or_insert(0);
            *n += 1;
            let index = rule_order
                .iter()
                .position(|(first, _)| first.id == item.id)
                .unwrap_or_default();
            result(item, index, format!("{hash}:{n}"), cx)
        })
        .collect();
    let mut run = json!({
        "tool": {"driver": {
            "name": "tlsposture",
            "version": cx.version,
            "semanticVersion": cx.version,
            "rules": rules,
        }},
        "automationDetails": {"id": format!("tlsposture/{}/", cx.category)},
        "invocations": [cx.invocation],
        "columnKind": "unicodeCodePoints",
        "results": results,
    });
    if let Some(root) = cx.root.and_then(directory_uri) {
        run["originalUriBaseIds"] = json!({"%SRCROOT%": {"uri": root}});
    }
    let log = json!({
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [run],
    });
    let mut out = serde_json::to_string_pretty(&log)
        .unwrap_or_else(|e| format!("{{\"error\": \"SARIF serialisation failed: {e}\"}}"));
    out.push('\n');
    out
}

/// `note` / `warning` / `error` as the CI gate sees it: at or above
/// `--fail-on` fails the run, so it is an error; info is a note; anything
/// else in between a warning.
fn level(severity: Severity, fail_on: Severity) -> &'static str {
    if severity >= fail_on {
        "error"
    } else if severity == Severity::Info {
        "note"
    } else {
        "warning"
    }
}

/// GitHub's buckets (over 9.0 critical, 7.0–8.9 high, 4.0–6.9 medium,
/// 0.1–3.9 low), on trivy's scale so both show alike; info is not a
/// security result.
fn security_severity(severity: Severity) -> Option<&'static str> {
    match severity {
        Severity::Critical => Some("9.5"),
        Severity::High => Some("8.0"),
        Severity::Medium => Some("5.5"),
        Severity::Low => Some("2.0"),
        Severity::Info => None,
    }
}

/// What each id prefix is about: the rule's description and its tag.
const CATEGORIES: &[(&str, &str, &str)] = &[
    ("policy.", "drift", "Drift from the declared Gateway"),
    ("authz.", "authorization", "Authorization drift"),
    ("mtls.", "mtls", "Client-certificate drift"),
    ("declared.", "declaration", "Declared policy"),
    ("lint.", "lint", "Policy lint"),
    ("protocol.", "protocol", "Protocol posture"),
    ("suite.", "cipher-suite", "Cipher suite posture"),
    ("cert.", "certificate", "Certificate posture"),
    ("baseline.", "baseline", "Outside a published baseline"),
    ("headers.", "http-headers", "HTTP security headers"),
    ("vuln.", "vulnerability", "Vulnerability"),
    ("grade.", "grade", "Grade"),
    ("client.", "client-simulation", "Client simulation"),
    ("scan.", "scan", "Scan"),
];

fn category(id: &str) -> (&'static str, &'static str) {
    CATEGORIES
        .iter()
        .find(|(prefix, _, _)| id.starts_with(prefix))
        .map_or(("tls", "TLS posture"), |(_, tag, what)| (*tag, *what))
}

/// `policy.protocol_undeclared` → `PolicyProtocolUndeclared`.
fn rule_name(id: &str) -> String {
    id.split(['.', '_', '-'])
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

fn rule(first: &Item, worst: Severity, fail_on: Severity) -> Value {
    let (tag, what) = category(&first.id);
    let words = first
        .id
        .split_once('.')
        .map_or(first.id.as_str(), |(_, rest)| rest)
        .replace('_', " ");
    let mut properties = json!({
        "tags": ["security", "tls", tag],
        "precision": "very-high",
    });
    if let Some(score) = security_severity(worst) {
        properties["security-severity"] = json!(score);
    }
    json!({
        "id": first.id,
        "name": rule_name(&first.id),
        "shortDescription": {"text": format!("{what}: {words}")},
        "fullDescription": {"text": format!("{what}: {words} (`{}`, {worst} at worst in this run). For example: {}", first.id, first.title)},
        "help": {
            "text": format!("Remedy: {}", first.remedy),
            "markdown": format!("**Remedy:** {}\n\nThe finding ids and their severities are listed in tlsposture's README (Findings).", first.remedy),
        },
        "defaultConfiguration": {"level": level(worst, fail_on)},
        "properties": properties,
    })
}

fn result(item: &Item, rule_index: usize, fingerprint: String, cx: &Context<'_>) -> Value {
    let mut text = item.title.trim_end_matches('.').to_owned();
    text.push('.');
    if !item.detail.is_empty() {
        text.push(' ');
        text.push_str(&item.detail);
    }
    let mut location = json!({});
    let physical = match (&item.location, cx.anchor) {
        (Some(at), _) => Some(physical(&at.file, at.line, at.column, cx.root)),
        (None, Some(anchor)) => Some(physical(anchor, 1, 1, cx.root)),
        (None, None) => None,
    };
    if let Some(p) = physical {
        location["physicalLocation"] = p;
    }
    let mut logical = Vec::new();
    if let Some(t) = &item.target {
        logical.push(json!({
            "name": target_display(t),
            "fullyQualifiedName": t.address,
            "kind": "resource",
        }));
    }
    if let Some(at) = item.location.as_ref().filter(|a| !a.field.is_empty()) {
        logical.push(json!({"fullyQualifiedName": at.field, "kind": "member"}));
    }
    if !logical.is_empty() {
        location["logicalLocations"] = json!(logical);
    }
    if let Some(at) = &item.location {
        location["message"] = json!({"text": format!("declared at {at}")});
    }
    let mut result = json!({
        "ruleId": item.id,
        "ruleIndex": rule_index,
        "level": level(item.severity, cx.fail_on),
        "message": {"text": text},
        "locations": [location],
        "partialFingerprints": {"primaryLocationLineHash": fingerprint},
        "properties": item.properties,
    });
    if let Some(new) = item.new_since_baseline {
        result["baselineState"] = json!(if new { "new" } else { "unchanged" });
    }
    result
}

fn physical(file: &str, line: usize, column: usize, root: Option<&Path>) -> Value {
    let (uri, relative) = artifact_uri(file, root);
    let mut artifact = json!({"uri": uri});
    if relative {
        artifact["uriBaseId"] = json!("%SRCROOT%");
    }
    json!({
        "artifactLocation": artifact,
        "region": {"startLine": line.max(1), "startColumn": column.max(1)},
    })
}

/// The file as a URI reference and whether it is relative to `root`.
fn artifact_uri(file: &str, root: Option<&Path>) -> (String, bool) {
    let path = Path::new(file);
    let relative: Option<PathBuf> = if path.is_absolute() {
        root.and_then(|r| path.strip_prefix(r).ok())
            .map(Path::to_path_buf)
    } else {
        Some(path.to_path_buf())
    };
    match relative {
        Some(rel) => {
            let parts: Vec<String> = rel
                .components()
                .filter(|c| !matches!(c, std::path::Component::CurDir))
                .map(|c| encode(&c.as_os_str().to_string_lossy()))
                .collect();
            (parts.join("/"), true)
        }
        None => (format!("file://{}", encode_path(path)), false),
    }
}

/// `file:///abs/dir/`, for `originalUriBaseIds`.
fn directory_uri(root: &Path) -> Option<String> {
    root.is_absolute()
        .then(|| format!("file://{}/", encode_path(root).trim_end_matches('/')))
}

fn encode_path(path: &Path) -> String {
    path.to_string_lossy()
        .split('/')
        .map(encode)
        .collect::<Vec<_>>()
        .join("/")
}

/// Percent-encodes one path segment (RFC 3986 unreserved kept).
fn encode(segment: &str) -> String {
    let mut out = String::new();
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A hash of what makes a result the same result across runs: the rule,
/// the target and the declared setting (file and field), never the line.
fn fingerprint(item: &Item) -> String {
    let mut key = format!("tlsposture/v1\0{}\0", item.id);
    if let Some(t) = &item.target {
        key.push_str(&t.address);
        key.push('\0');
        key.push_str(t.sni.as_deref().unwrap_or_default());
        key.push('\0');
        key.push_str(t.label.as_deref().unwrap_or_default());
    }
    key.push('\0');
    if let Some(at) = &item.location {
        key.push_str(&at.file);
        key.push('\0');
        key.push_str(&at.field);
    }
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key.as_bytes());
    digest.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn target_name(t: &TargetReport) -> String {
    target_display(&TargetRef {
        address: t.address.clone(),
        sni: t.sni.clone(),
        label: t.label.clone(),
    })
}

/// `127.0.0.1:8443 [label]`, `127.0.0.1:8443 SNI a.example`, or the address.
fn target_display(t: &TargetRef) -> String {
    match (&t.label, &t.sni) {
        (Some(label), _) => format!("{} [{label}]", t.address),
        (None, Some(sni)) => format!("{} SNI {sni}", t.address),
        (None, None) => t.address.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::observe::TargetObservation;
    use crate::report::model::{PolicyContext, TargetReport, ToolInfo};
    use crate::verdict::{Judgement, Summary};

    fn finding(id: &str, severity: Severity, location: Option<FindingLocation>) -> Finding {
        Finding {
            id: id.into(),
            severity,
            title: format!("{id} seen"),
            expected: json!(null),
            observed: json!(null),
            evidence: "probe".into(),
            remedy: "fix it".into(),
            location,
        }
    }

    fn report(findings: Vec<Finding>, policy: Option<&str>) -> Report {
        let observed = TargetObservation::new("127.0.0.1:443".into(), 443, None);
        let judged = Judgement {
            findings,
            scanned: true,
            ..Judgement::default()
        };
        Report {
            schema_version: 1,
            tool: ToolInfo::default(),
            started_at: "2026-01-01T00:00:00Z".into(),
            finished_at: "2026-01-01T00:00:01Z".into(),
            targets: vec![TargetReport::new(observed, judged)],
            policy: policy.map(|file| PolicyContext {
                files: vec![file.into()],
                ..PolicyContext::default()
            }),
            summary: Summary::default(),
            interrupted: None,
        }
    }

    fn results(text: &str) -> Vec<Value> {
        let log: Value = serde_json::from_str(text).expect("JSON");
        log["runs"][0]["results"]
            .as_array()
            .expect("results")
            .clone()
    }

    #[test]
    fn unlocated_results_go_to_the_policy_file_else_stay_logical() {
        let at = FindingLocation {
            file: "deploy/gw.yaml".into(),
            line: 21,
            column: 7,
            field: "spec.servers[0].tls.minProtocolVersion".into(),
        };
        let findings = vec![
            finding("policy.protocol_undeclared", Severity::High, Some(at)),
            finding("suite.cbc", Severity::Low, None),
            finding("suite.cbc", Severity::Low, None),
        ];
        let with = results(&render_from(
            &report(findings.clone(), Some("deploy/gw.yaml")),
            Severity::High,
            None,
        ));
        let region = |r: &Value| r["locations"][0]["physicalLocation"]["region"].clone();
        assert_eq!(region(&with[0]), json!({"startLine": 21, "startColumn": 7}));
        assert_eq!(region(&with[1]), json!({"startLine": 1, "startColumn": 1}));
        assert_eq!(with[1]["level"], "warning");
        // The same finding twice on one target: the n-th of one hash.
        let print = |r: &Value| {
            r["partialFingerprints"]["primaryLocationLineHash"]
                .as_str()
                .expect("fingerprint")
                .to_owned()
        };
        let (a, b) = (print(&with[1]), print(&with[2]));
        assert_eq!(a.strip_suffix(":1"), b.strip_suffix(":2"));

        let without = results(&render_from(&report(findings, None), Severity::High, None));
        assert!(without[1]["locations"][0].get("physicalLocation").is_none());
        assert_eq!(
            without[1]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            "127.0.0.1:443"
        );
        // The anchor is not part of the identity.
        assert_eq!(print(&without[1]), a);
    }

    #[test]
    fn levels_follow_fail_on() {
        assert_eq!(level(Severity::High, Severity::High), "error");
        assert_eq!(level(Severity::Medium, Severity::High), "warning");
        assert_eq!(level(Severity::Info, Severity::High), "note");
        assert_eq!(level(Severity::Info, Severity::Info), "error");
        assert_eq!(level(Severity::High, Severity::Critical), "warning");
    }

    #[test]
    fn uris_are_relative_to_the_root_and_encoded() {
        let root = Path::new("/repo");
        assert_eq!(
            artifact_uri("./deploy/gw.yaml", Some(root)),
            ("deploy/gw.yaml".into(), true)
        );
        assert_eq!(
            artifact_uri("/repo/deploy/my gw.yaml", Some(root)),
            ("deploy/my%20gw.yaml".into(), true)
        );
        assert_eq!(
            artifact_uri("/elsewhere/gw.yaml", Some(root)),
            ("file:///elsewhere/gw.yaml".into(), false)
        );
        assert_eq!(directory_uri(root).as_deref(), Some("file:///repo/"));
    }

    #[test]
    fn rule_names_are_identifiers() {
        assert_eq!(
            rule_name("policy.protocol_undeclared"),
            "PolicyProtocolUndeclared"
        );
        assert_eq!(category("vuln.robot").0, "vulnerability");
        assert_eq!(category("something.else").0, "tls");
    }
}
