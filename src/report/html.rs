//! The report as one self-contained HTML page (`--html FILE`): inline CSS,
//! no script and nothing fetched, so it opens from a CI artifact store or
//! an e-mail as it is, and prints. A table of contents first (each target's
//! worst severity and grade, anchor links), then one section per target
//! with the terminal's sections, then the run's summary.
//!
//! Every value from the report is spliced through maud, which escapes it:
//! the server controls banners, certificate names and header values. Each
//! section has a stable `id` (`target-N-KEY`) and class (`section KEY`), and
//! its heading a background colour of its own ([`SECTIONS`]), so tests and
//! readers can find it. Renders; decides nothing.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::diff::BaselineGate;
use super::html_sections as body;
use super::model::{Report, Severity, TargetReport};
use super::terminal::summary_line;

/// One kind of section: its id suffix and class, its heading (the
/// terminal's wording) and its heading's background colour.
#[derive(Debug, Clone, Copy)]
pub struct Section {
    pub key: &'static str,
    pub title: &'static str,
    /// `#rrggbb`, unique across [`SECTIONS`], [`TOC`] and [`RUN_SUMMARY`].
    pub colour: &'static str,
    render: fn(&TargetReport, &Marks<'_>) -> Option<Markup>,
}

/// A target's sections in page order; one whose check produced nothing is
/// left out, as in the terminal.
pub const SECTIONS: [Section; 17] = [
    section("overview", "Overview", "#c9daf8", body::overview),
    section("protocols", "Protocols", "#b6d7a8", body::protocols),
    section("suites", "Cipher suites", "#f9cb9c", body::suites),
    section(
        "preference",
        "Server preference",
        "#ffe599",
        body::preference,
    ),
    section(
        "groups",
        "Key-exchange groups (server order)",
        "#a2c4c9",
        body::groups,
    ),
    section(
        "signatures",
        "Signature algorithms",
        "#d5a6bd",
        body::signatures,
    ),
    section("alpn", "ALPN", "#9fc5e8", body::alpn),
    section(
        "certificates",
        "Certificates",
        "#ea9999",
        body::certificates,
    ),
    section("mtls", "mTLS", "#b4a7d6", body::mtls),
    section("clients", "Client simulation", "#93c47d", body::clients),
    section(
        "authorization",
        "mTLS and authorization",
        "#f6b26b",
        body::authorization,
    ),
    section(
        "redirects",
        "Plain HTTP (httpsRedirect)",
        "#76a5af",
        body::redirects,
    ),
    section(
        "vulnerabilities",
        "Vulnerabilities",
        "#e06666",
        body::vulnerabilities,
    ),
    section("session", "Session", "#ffd966", body::session),
    section("headers", "HTTP headers", "#6fa8dc", body::headers),
    section("grade", "Grade", "#8e7cc3", body::grade),
    section("findings", "Findings", "#c27ba0", body::findings),
];

/// The table of contents at the top of the page.
pub const TOC: Section = section("toc", "Targets", "#cccccc", |_, _| None);

/// The run's closing summary at the bottom of the page.
pub const RUN_SUMMARY: Section = section("summary", "Run summary", "#999999", |_, _| None);

const fn section(
    key: &'static str,
    title: &'static str,
    colour: &'static str,
    render: fn(&TargetReport, &Marks<'_>) -> Option<Markup>,
) -> Section {
    Section {
        key,
        title,
        colour,
        render,
    }
}

/// Styles inline, everything else (scripts, images, fonts, frames,
/// connections) refused.
const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/// The `id` of target `index`'s (0-based) whole section.
pub fn target_id(index: usize) -> String {
    format!("target-{}", index + 1)
}

/// What decides which findings the page marks as failing the run.
pub(super) struct Marks<'a> {
    pub fail_on: Severity,
    /// With `--baseline-report`, only the findings it counted as new fail.
    pub gate: Option<&'a BaselineGate>,
}

/// The page. `fail_on` (and a `--baseline-report` gate, when the run had
/// one) marks the findings that fail the run.
pub fn render(report: &Report, fail_on: Severity) -> String {
    let marks = Marks {
        fail_on,
        gate: report.summary.baseline_report.as_ref(),
    };
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                // The page's own promise, enforced by the browser: no
                // script runs and nothing is fetched, even if a value ever
                // slipped past escaping.
                meta http-equiv="Content-Security-Policy" content=(CSP);
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "tlsposture report" }
                style { (PreEscaped(css())) }
            }
            body {
                header {
                    h1 { "tlsposture report" }
                    p.run {
                        (report.tool.name) " " (report.tool.version)
                        ", started " (report.started_at) ", finished " (report.finished_at)
                    }
                }
                (toc(report))
                @for (i, target) in report.targets.iter().enumerate() {
                    (target_section(i, target, &marks))
                }
                (run_summary(report, fail_on))
            }
        }
    };
    page.into_string()
}

/// A target's name as the terminal's header gives it: address, label, SNI.
fn target_name(target: &TargetReport) -> String {
    let label = target
        .label
        .as_deref()
        .map(|l| format!(" [{l}]"))
        .unwrap_or_default();
    let sni = target.sni.as_deref().unwrap_or("none");
    format!("{}{label}, SNI {sni}", target.address)
}

/// The most severe finding's severity, if any.
fn worst(target: &TargetReport) -> Option<Severity> {
    target.findings.iter().map(|f| f.severity).max()
}

fn severity_badge(severity: Option<Severity>) -> Markup {
    match severity {
        Some(s) => html! { span class={"badge sev-" (s.name())} { (s.name().to_uppercase()) } },
        None => html! { span class="badge sev-none" { "none" } },
    }
}

fn heading(section: &Section) -> Markup {
    html! { h2 class={"mark mark-" (section.key)} { (section.title) } }
}

fn toc(report: &Report) -> Markup {
    html! {
        nav id=(TOC.key) class={"section " (TOC.key)} {
            (heading(&TOC))
            table {
                thead { tr { th { "#" } th { "Target" } th { "Worst finding" } th { "Findings" } th { "Grade" } } }
                tbody {
                    @for (i, t) in report.targets.iter().enumerate() {
                        tr {
                            td { (i + 1) }
                            td { a href={"#" (target_id(i))} { (target_name(t)) } }
                            td {
                                @if t.error.is_some() { span class="badge unscanned" { "could not scan" } " " }
                                (severity_badge(worst(t)))
                            }
                            td.num { (t.findings.len()) }
                            td { (body::grade_letter(t)) }
                        }
                    }
                }
            }
            p { a href={"#" (RUN_SUMMARY.key)} { "Run summary" } }
        }
    }
}

fn target_section(index: usize, target: &TargetReport, marks: &Marks<'_>) -> Markup {
    let id = target_id(index);
    html! {
        section id=(id) class="target" {
            h1.target-name { "Target " (target_name(target)) }
            @for s in &SECTIONS {
                @if let Some(content) = (s.render)(target, marks) {
                    section id={(id) "-" (s.key)} class={"section " (s.key)} {
                        (heading(s))
                        (content)
                    }
                }
            }
        }
    }
}

fn run_summary(report: &Report, fail_on: Severity) -> Markup {
    let summary = &report.summary;
    html! {
        section id=(RUN_SUMMARY.key) class={"section " (RUN_SUMMARY.key)} {
            (heading(&RUN_SUMMARY))
            @if let Some(cut) = &report.interrupted {
                p.interrupted {
                    "INTERRUPTED by " (cut.signal) ": partial report; not scanned: "
                    (cut.unscanned.join(", "))
                }
            }
            p.closing { (summary_line(report)) }
            table.facts {
                tr { th { "Exit code" } td.exit-code { (summary.exit_code) " (fail-on " (fail_on.name()) ")" } }
                @for s in Severity::ALL {
                    tr { th { (s.name()) } td.num { (summary.findings.get(s)) } }
                }
                @if let Some(policy) = summary.policy {
                    tr { th { "Policy" } td.policy { (policy.phrase()) } }
                }
                @for b in &summary.baselines {
                    tr {
                        th { "Baseline " (b.name) }
                        td class=(if b.within { "good" } else { "bad" }) {
                            (if b.within { "within" } else { "outside" })
                        }
                    }
                }
            }
            @if let Some(ctx) = &report.policy {
                @if !ctx.files.is_empty() {
                    p { "Policy files: " (ctx.files.join(", ")) }
                }
            }
        }
    }
}

/// The stylesheet: the section colours from [`SECTIONS`], then the rest.
fn css() -> String {
    let marks: String = SECTIONS
        .iter()
        .chain([&TOC, &RUN_SUMMARY])
        .map(|s| format!(".mark-{} {{ background: {}; }}\n", s.key, s.colour))
        .collect();
    format!("{BASE_CSS}{marks}")
}

const BASE_CSS: &str = "\
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font: 14px/1.4 system-ui, sans-serif; color: #111; background: #fff; margin: 0 auto; max-width: 1200px; padding: 0 16px; }
h1 { font-size: 22px; margin: 16px 0 8px; }
h1.target-name { border-top: 3px solid #333; padding-top: 12px; margin-top: 32px; word-break: break-all; }
h2.mark { font-size: 16px; padding: 4px 8px; margin: 16px 0 6px; }
table { border-collapse: collapse; margin: 4px 0; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td { overflow-wrap: break-word; }
td.num { text-align: right; }
td.who { white-space: nowrap; }
code, .mono { font-family: ui-monospace, monospace; font-size: 13px; }
.badge { padding: 0 6px; border-radius: 3px; font-weight: bold; color: #fff; }
.known { font-size: smaller; font-weight: normal; color: #555; }
.sev-critical { background: #6a1b9a; }
.sev-high { background: #b71c1c; }
.sev-medium { background: #e65100; }
.sev-low { background: #01579b; }
.sev-info { background: #546e7a; }
.sev-none { background: #1b5e20; }
.unscanned { background: #000; }
.good { color: #1b5e20; }
.concern { color: #8d6e00; }
.bad { color: #b71c1c; font-weight: bold; }
.unknown { color: #6a1b9a; }
.finding { border: 1px solid #ccc; border-left: 6px solid #546e7a; padding: 4px 8px; margin: 6px 0; }
.finding.fails { border-left-color: #b71c1c; }
.finding h3 { font-size: 14px; margin: 2px 0; }
.finding dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 4px 0; }
.finding dt { font-weight: bold; }
.finding dd { margin: 0; word-break: break-word; }
@media print {
  body { max-width: none; font-size: 10pt; }
  nav.toc { break-after: page; }
  section.target { break-before: page; }
  a { color: inherit; text-decoration: none; }
  h2.mark { break-after: avoid; }
  tr, .finding { break-inside: avoid; }
}
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::{
        CertRequest, CertificateInfo, CertificateResult, HeaderProbe, MtlsResult, ProtocolResult,
        TargetObservation,
    };
    use crate::report::model::{Finding, Summary, ToolInfo};
    use crate::verdict::Judgement;
    use crate::wire::ProtocolVersion;

    /// What a hostile server could put in a banner or a certificate name.
    const HOSTILE: &str = "<script>alert(1)</script>\"'&";
    const ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;'&amp;";

    fn report(targets: Vec<TargetReport>) -> Report {
        Report {
            schema_version: 1,
            tool: ToolInfo::default(),
            started_at: "2026-12-02T00:00:00Z".into(),
            finished_at: "2026-12-02T00:00:01Z".into(),
            targets,
            policy: None,
            summary: Summary::default(),
            interrupted: None,
        }
    }

    fn target(address: &str) -> TargetReport {
        let observed = TargetObservation::new(address.into(), 443, None);
        TargetReport::new(observed, Judgement::default())
    }

    fn certificate(name: &str) -> CertificateResult {
        let leaf = CertificateInfo {
            subject: format!("CN={name}"),
            issuer: format!("CN={name} CA"),
            serial: "01".into(),
            sans: vec![name.into()],
            not_before: "2026-01-01".into(),
            not_after: "2027-01-01".into(),
            days_left: 30,
            key_type: "RSA".into(),
            key_bits: 2048,
            curve: None,
            signature_algorithm: "sha256WithRSAEncryption".into(),
            sha256: "ab".repeat(32),
            self_signed: false,
            is_ca: false,
        };
        CertificateResult {
            sni: Some(name.into()),
            request: CertRequest::Requested,
            refused: None,
            unknown: None,
            read_via: None,
            key_type: Some("RSA".into()),
            protocol: Some(ProtocolVersion::Tls13),
            chain: vec![leaf],
            trusted: Some(false),
            trust_error: None,
            hostname_match: Some(true),
            days_left: Some(30),
            ocsp_stapled: false,
            chain_problems: Vec::new(),
        }
    }

    fn hostile_target() -> TargetReport {
        let mut t = target(&format!("{HOSTILE}:443"));
        t.label = Some(HOSTILE.into());
        t.sni = Some(HOSTILE.into());
        t.error = Some(HOSTILE.into());
        t.protocols = vec![ProtocolResult::offered(
            ProtocolVersion::Tls13,
            HOSTILE.into(),
            None,
            None,
        )];
        t.certificates = vec![certificate(HOSTILE)];
        t.mtls = Some(MtlsResult {
            client_cert_required: None,
            client_cert_requested: None,
            acceptable_ca_names: vec![HOSTILE.into()],
            required_by_http: None,
            evidence: HOSTILE.into(),
            probes: Vec::new(),
        });
        let headers = [("server".to_owned(), HOSTILE.to_owned())];
        t.http_headers = vec![HeaderProbe::answered(HOSTILE, "/", false, 200, &headers)];
        t.authorization_notes = vec![HOSTILE.into()];
        t.grade_unavailable = Some(HOSTILE.into());
        t.findings = vec![Finding {
            id: HOSTILE.into(),
            severity: Severity::High,
            title: HOSTILE.into(),
            expected: serde_json::json!(HOSTILE),
            observed: serde_json::json!({ "banner": HOSTILE }),
            evidence: HOSTILE.into(),
            remedy: HOSTILE.into(),
            location: None,
        }];
        t
    }

    #[test]
    fn every_value_a_server_controls_is_escaped() {
        let page = render(&report(vec![hostile_target()]), Severity::High);
        assert!(!page.contains("<script"), "raw markup in the page");
        assert!(!page.contains(HOSTILE));
        // Address (twice: TOC and heading), label, SNI, error, protocol
        // evidence, subject, issuer, SAN, CA name, mTLS evidence, header
        // host and server, note, grade, finding id, title, evidence, remedy.
        let escaped = page.matches(ESCAPED).count();
        assert!(escaped >= 18, "{escaped} escaped copies:\n{page}");
        // JSON values are escaped too (their quotes become `\"`).
        assert!(page.contains("{&quot;banner&quot;:&quot;&lt;script&gt;"));
    }

    #[test]
    fn the_page_loads_nothing_and_runs_nothing() {
        let page = render(&report(vec![hostile_target()]), Severity::High);
        for banned in [
            "<script",
            " src=",
            "href=\"http",
            "url(",
            "@import",
            "<link",
        ] {
            assert!(!page.contains(banned), "{banned} in the page");
        }
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains(&format!(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
        )));
    }

    #[test]
    fn section_keys_and_colours_are_unique() {
        let all: Vec<&Section> = SECTIONS.iter().chain([&TOC, &RUN_SUMMARY]).collect();
        let keys: std::collections::BTreeSet<_> = all.iter().map(|s| s.key).collect();
        let colours: std::collections::BTreeSet<_> = all.iter().map(|s| s.colour).collect();
        assert_eq!(keys.len(), all.len());
        assert_eq!(colours.len(), all.len());
        for s in &all {
            assert!(css().contains(&format!(".mark-{} {{ background: {}; }}", s.key, s.colour)));
        }
    }

    #[test]
    fn one_section_per_target_linked_from_the_toc_and_only_what_ran() {
        let mut first = target("a.test:443");
        first.protocols = vec![ProtocolResult::not_offered(
            ProtocolVersion::Ssl3,
            "alert".into(),
        )];
        let mut second = target("b.test:443");
        second.certificates = vec![certificate("b.test")];
        let page = render(&report(vec![first, second]), Severity::High);
        for id in ["target-1", "target-2", "toc", "summary"] {
            assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
        }
        assert!(page.contains("href=\"#target-1\""));
        assert!(page.contains("href=\"#target-2\""));
        assert!(page.contains("id=\"target-1-protocols\" class=\"section protocols\""));
        assert!(page.contains("id=\"target-2-certificates\""));
        assert!(!page.contains("id=\"target-1-certificates\""));
        assert!(!page.contains("id=\"target-2-protocols\""));
        assert!(page.contains("not offered (OK)"));
        assert!(!page.contains("-findings\""), "no findings, no section");
    }

    #[test]
    fn findings_at_or_above_fail_on_are_marked() {
        let mut t = hostile_target();
        t.findings[0].severity = Severity::Medium;
        let page = render(&report(vec![t.clone()]), Severity::High);
        assert!(page.contains("class=\"finding\""));
        let page = render(&report(vec![t]), Severity::Medium);
        assert!(page.contains("class=\"finding fails\""));
        assert!(page.contains("badge sev-medium"));
    }

    #[test]
    fn a_finding_the_baseline_report_knows_does_not_fail() {
        use crate::verdict::diff::{NewFinding, ReportedTarget};
        let t = hostile_target();
        let mut r = report(vec![t.clone()]);
        let gate = |new: Vec<NewFinding>| BaselineGate {
            file: "old.json".into(),
            new_findings: new,
            ..BaselineGate::default()
        };
        r.summary.baseline_report = Some(gate(Vec::new()));
        let page = render(&r, t.findings[0].severity);
        assert!(!page.contains("finding fails"), "known: not failing");
        assert!(page.contains("known from the baseline report"));
        r.summary.baseline_report = Some(gate(vec![NewFinding {
            target: t.key(),
            id: t.findings[0].id.clone(),
            severity: t.findings[0].severity,
        }]));
        let page = render(&r, t.findings[0].severity);
        assert!(page.contains("class=\"finding fails\""), "new: failing");
    }
}
