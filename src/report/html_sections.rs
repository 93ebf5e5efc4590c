//! The bodies of the HTML report's per-target sections, one function per
//! section (listed in `html::SECTIONS`): each returns `None` when its check
//! produced nothing, so the page, like the terminal, shows only what ran.
//! Every value goes through maud's escaping.

use maud::{html, Markup};

use super::diff::counted_as_new;
use super::html::Marks;
use super::labels::{self, Tone};
use super::model::{
    AuthzProbe, CertificateResult, Finding, HeaderProbe, ProbeVerdict, RedirectProbe, TargetReport,
};
use crate::observe::{Answer, Fact, Resumption, VulnStatus};
use crate::registry::Strength;
use crate::wire::ProtocolVersion;

fn tone_class(tone: Tone) -> &'static str {
    match tone {
        Tone::Good => "good",
        Tone::Concern => "concern",
        Tone::Bad => "bad",
        Tone::Neutral => "neutral",
        Tone::Unknown => "unknown",
    }
}

fn strength_class(strength: Strength) -> &'static str {
    match strength {
        Strength::AeadWithFs => "good",
        Strength::AeadWithoutFs | Strength::Cbc => "concern",
        _ => "bad",
    }
}

fn verdict_class(verdict: ProbeVerdict) -> &'static str {
    match verdict {
        ProbeVerdict::Pass => "good",
        ProbeVerdict::Fail => "bad",
        ProbeVerdict::Note => "neutral",
        ProbeVerdict::Error => "concern",
    }
}

fn tri(v: Option<bool>) -> Markup {
    match v {
        Some(true) => html! { span.good { "yes" } },
        Some(false) => html! { span.bad { "NO" } },
        None => html! { "-" },
    }
}

fn some_if(shown: bool, markup: impl FnOnce() -> Markup) -> Option<Markup> {
    shown.then(markup)
}

/// Address, IP, SNI, label, whether it was reached, why it could not be
/// scanned, and what the scan cost.
pub(super) fn overview(t: &TargetReport, _: &Marks<'_>) -> Option<Markup> {
    let stats = &t.stats;
    Some(html! {
        table.facts {
            tr { th { "Address" } td.address { (t.address) } }
            tr { th { "IP" } td { (t.ip.map(|ip| ip.to_string()).unwrap_or_else(|| "-".into())) } }
            tr { th { "Port" } td { (t.port) } }
            tr { th { "SNI" } td.sni { (t.sni.as_deref().unwrap_or("none")) } }
            @if let Some(label) = &t.label {
                tr { th { "Label" } td.label { (label) } }
            }
            tr { th { "Reachable" } td { (tri(Some(t.reachable))) } }
            @if let Some(error) = &t.error {
                tr { th { "Could not scan" } td.bad.error { (error) } }
            }
            tr {
                th { "Cost" }
                td.stats {
                    (stats.handshakes) " handshakes in " (stats.elapsed_ms) " ms"
                    @if stats.retries > 0 { ", " (stats.retries) " retried" }
                    @if let Some(holes) = &stats.incomplete { ", " (holes.probes()) " incomplete" }
                }
            }
            @if let Some(holes) = &stats.incomplete {
                @for reason in &holes.reasons {
                    tr { th { "Incomplete" } td.concern { (reason) } }
                }
            }
        }
    })
}

pub(super) fn protocols(t: &TargetReport, _: &Marks<'_>) -> Option<Markup> {
    some_if(!t.protocols.is_empty(), || {
        html! {
            table {
                thead { tr { th { "Protocol" } th { "Offered" } th { "Evidence" } } }
                tbody {
                    @for p in &t.protocols {
                        @let (text, tone) = labels::protocol_verdict(p);
                        tr {
                            td.protocol { (p.version.name()) }
                            td class={"offered " (tone_class(tone))} { (text) }
                            td { (p.evidence) }
                        }
                    }
                }
            }
        }
    })
}

pub(super) fn suites(t: &TargetReport, _: &Marks<'_>) -> Option<Markup> {
    some_if(!t.cipher_suites.is_empty(), || {
        html! {
            table {
                thead { tr {
                    th { "Protocol" } th { "Code" } th { "OpenSSL name" } th { "IANA name" }
                    th { "Strength" } th { "Key exchange" }
                } }
                tbody {
                    @for s in &t.cipher_suites {
                        tr {
                            td { (s.protocol.name()) }
                            td.mono { (crate::observe::code::suite::hex(s.code)) }
                            td.mono { (s.openssl.as_deref().unwrap_or("-")) }
                            td.mono { (s.iana) }
                            td class=(strength_class(s.strength)) { (s.strength.name()) }
                            td { (labels::suite_kx(s)) }
                        }
                    }
                }
            }
        }
    })
}

pub(super) fn preference(t: &TargetReport, _: &Marks<'_>) -> Option<Markup> {
    some_if(!t.server_preference.is_empty(), || {
        html! {
            table {
                thead { tr { th { "Protocol" } th { "Who picks" } th { "Server order" } } }
                tbody {
                    @for p in &t.server_preference {
                        tr {
                            td { (p.protocol.name()) }
                            td.who { (labels::preference_verdict(p)) }
                            td.mono { (labels::preference_order(p)) }
                        }
                    }
                }
            }
        }
    })
}

/// One row per protocol version that has any of `names`.
fn per_version(rows: Vec<(ProtocolVersion, Vec<String>)>) -> Markup {
    html! {
        table {
            tbody {
                @for (version, names) in rows.iter().filter(|(_, n)| !n.is_empty()) {
                    tr { th { (version.name()) } td.mono { (names.join(", ")) } }
                }
            }
        }
    }
}

pub(super) fn groups(t: &TargetReport, _: &Marks<'_>) -> Option<Markup> {
    some_if(!t.groups.is_empty(), || {
        per_version(
            ProtocolVersion::ALL
                .into_iter()
                .map(|v| {
                    let names = t.groups.iter().filter(|g| g.protocol == v);
                    (v, names.map(|g| g.name.clone()).collect())
                })
                .collect(),
        )
    })
}

pub(super) fn signatures(t: &TargetReport, _: &Marks<'_>) -> Option<Markup> {
    some_if(!t.signature_algorithms.is_empty(), || {
        per_version(
            ProtocolVersion::ALL
                .into_iter()
                .map(|v| {
                    let names = t
                        .signature_algorithms
                        .iter()
                        .filter(|s| s.protocol == v)
                        .map(|s| match &s.key_type {
                            Some(k) => format!("{} ({k})", s.name),
                            None => s.name.clone(),
                        });
                    (v, names.collect())
                })
                .collect(),
        )
    })
}

pub(super) fn alpn(t: &TargetReport, _: &Marks<'_>) -> Option<Markup> {
    let alpn = t.alpn.as_ref()?;
    let yes_no = |v: Option<bool>| match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    };
    Some(html! {
        table.facts {
            tr { th { "h2" } td { (yes_no(alpn.h2)) } }
            tr { th { "http/1.1" } td { (yes_no(alpn.http11)) } }
            tr { th { "Evidence" } td { (alpn.evidence) } }
        }
    })
}

pub(super) fn certificates(t: &TargetReport, _: &Marks<'_>) -> Option<Markup> {
    some_if(!t.certificates.is_empty(), || {
        html! {
            table {
                thead { tr {
                    th { "Request" } th { "Key" } th { "Subject" } th { "SANs" } th { "Issuer" }
                    th { "Days" } th { "Trusted" } th { "Name" } th { "SHA-256" }
                } }
                tbody { @for c in &t.certificates { (certificate_row(c)) } }
            }
        }
    })
}

fn certificate_row(c: &CertificateResult) -> Markup {
    let request = labels::cert_request(c);
    let Some(leaf) = c.chain.first() else {
        let why = match (&c.unknown, &c.refused) {
            (Some(why), _) => format!("UNKNOWN (not read): {why}"),
            (None, why) => format!("refused: {}", why.as_deref().unwrap_or("no certificate")),
        };
        return html! {
            tr {
                td { (request) }
                td { (c.key_type.as_deref().unwrap_or("-")) }
                td.concern colspan="7" { (why) }
            }
        };
    };
    let key = match &leaf.curve {
        Some(curve) => format!("{} {curve}", leaf.key_type),
        None => format!("{} {}", leaf.key_type, leaf.key_bits),
    };
    html! {
        tr {
            td { (request) }
            td { (key) }
            td.subject { (leaf.subject) }
            td.sans { (leaf.sans.join(", ")) }
            td.issuer { (leaf.issuer) }
            td.num { (leaf.days_left) }
            td { (tri(c.trusted)) }
            td { (tri(c.hostname_match)) }
            td.mono { (leaf.sha256.get(..16).unwrap_or(&leaf.sha256)) }
        }
    }
}

pub(super) fn mtls(t: &TargetReport, _: &Marks<'_>) -> Option<Markup> {
    let mtls = t.mtls.as_ref()?;
    Some(html! {
        p.conclusion { (labels::mtls_conclusion(mtls)) }
        @if !mtls.acceptable_ca_names.is_empty() {
            p { "Acceptable CAs: " (mtls.acceptable_ca_names.join("; ")) }
        }
        @if !mtls.probes.is_empty() {
            table {
                thead { tr { th { "Identity" } th { "Outcome" } th { "Evidence" } } }
                tbody {
                    @for p in &mtls.probes {
                        tr { td { (p.identity) } td { (p.outcome) } td { (p.evidence) } }
                    }
                }
            }
        }
    })
}

pub(super) fn clients(t: &TargetReport, _: &Marks<'_>) -> Option<Markup> {
    let sims = &t.client_simulations;
    if sims.is_empty() {
        return None;
    }
    let connected = sims.iter().filter(|s| s.connected).count();
    let tls13 = sims
        .iter()
        .any(|s| s.connected && s.protocol == Some(ProtocolVersion::Tls13));
    Some(html! {
        p { (connected) " of " (sims.len()) " clients connect" }
        table {
            thead { tr {
                th { "Client" } th { "Category" } th { "Result" } th { "Protocol" }
                th { "Cipher suite" } th { "Group" } th { "Why" }
            } }
            tbody {
                @for s in sims {
                    tr {
                        td { (s.client) }
                        td { (s.category) }
                        @if s.connected { td.good { "ok" } } @else { td.bad { "FAIL" } }
                        td { (s.protocol.map_or("-", |p| p.name())) }
                        td.mono { (s.cipher.as_deref().unwrap_or("-")) }
                        td { (s.group.as_deref().unwrap_or("-")) }
                        td { (s.reason.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
        @if tls13 && t.certificates.is_empty() {
            p.note { "TLS 1.3 encrypts the certificate: client key-size and key-type limits are checked only with the certificates check" }
        }
        @if let Some(stats) = &t.client_simulation_stats {
            p { "Simulation: " (stats.handshakes) " handshakes in " (stats.elapsed_ms) " ms" }
        }
    })
}

pub(super) fn authorization(t: &TargetReport, _: &Marks<'_>) -> Option<Markup> {
    let probes = &t.authorization;
    if probes.is_empty() && t.authorization_notes.is_empty() {
        return None;
    }
    let count = |v: ProbeVerdict| probes.iter().filter(|p| p.verdict == v).count();
    Some(html! {
        p {
            (probes.len()) " requests, " (count(ProbeVerdict::Pass)) " pass, "
            (count(ProbeVerdict::Fail)) " fail, " (count(ProbeVerdict::Error)) " inconclusive"
        }
        @if !probes.is_empty() {
            table {
                thead { tr {
                    th { "Identity" } th { "Request" } th { "Expected" } th { "Observed" }
                    th { "Verdict" } th { "Rule" } th { "Evidence" }
                } }
                tbody { @for probe in probes { (authz_row(probe)) } }
            }
        }
        @for note in &t.authorization_notes {
            p.note { "Note: " (note) }
        }
    })
}

fn authz_row(
    AuthzProbe {
        request: p,
        verdict,
    }: &AuthzProbe,
) -> Markup {
    let observed = match p.status {
        Some(status) => status.to_string(),
        None => p.outcome.to_string(),
    };
    html! {
        tr {
            td {
                (p.identity)
                @if let Some(token) = &p.token { " jwt:" (token) }
            }
            td.mono { (p.method) " " (p.host) (p.path) }
            td { (p.expected.name()) }
            td { (observed) }
            td class=(verdict_class(*verdict)) { (verdict.name()) }
            td { (p.rule) " (" (p.declared_at) ")" }
            td { @if *verdict != ProbeVerdict::Pass { (p.evidence) } }
        }
    }
}

pub(super) fn redirects(t: &TargetReport, _: &Marks<'_>) -> Option<Markup> {
    some_if(!t.redirects.is_empty(), || {
        html! {
            table {
                thead { tr {
                    th { "Request" } th { "Observed" } th { "Expected" } th { "Verdict" } th { "Declared at" }
                } }
                tbody { @for r in &t.redirects { (redirect_row(r)) } }
            }
        }
    })
}

fn redirect_row(RedirectProbe { request: p, judged }: &RedirectProbe) -> Markup {
    let observed = match (p.status, &p.location) {
        (Some(status), Some(location)) => format!("{status} location: {location}"),
        (Some(status), None) => status.to_string(),
        (None, _) => p.evidence.clone(),
    };
    html! {
        tr {
            td.mono { "GET http://" (p.host) (p.path) }
            td { (observed) }
            td { (judged.expected.name()) }
            td class=(verdict_class(judged.verdict)) { (judged.verdict.name()) }
            td { (judged.declared_at) }
        }
    }
}

pub(super) fn vulnerabilities(t: &TargetReport, _: &Marks<'_>) -> Option<Markup> {
    some_if(!t.vulnerabilities.is_empty(), || {
        html! {
            table {
                thead { tr { th { "Check" } th { "Status" } th { "Evidence" } } }
                tbody {
                    @for v in &t.vulnerabilities {
                        @let class = match v.status {
                            VulnStatus::Vulnerable => "bad",
                            VulnStatus::NotVulnerable => "good",
                            VulnStatus::Unknown => "concern",
                            VulnStatus::NotApplicable => "neutral",
                        };
                        tr { td { (v.id.name()) } td class=(class) { (v.status.name()) } td { (v.evidence) } }
                    }
                }
            }
        }
    })
}

fn fact_row(name: &str, fact: &Fact, detail: &str) -> Markup {
    let class = match fact.answer {
        Answer::Yes => "good",
        Answer::Unknown => "concern",
        Answer::No | Answer::NotApplicable => "neutral",
    };
    html! { tr { th { (name) } td class=(class) { (fact.answer.name()) } td { (detail) } } }
}

fn resumption_rows(name: &str, r: &Resumption) -> Markup {
    let resumes =
        r.accepted.answer != Answer::NotApplicable || r.issued.answer != Answer::NotApplicable;
    let detail = r.ratio().unwrap_or_else(|| r.accepted.evidence.clone());
    html! {
        (fact_row(&format!("{name} issued"), &r.issued, &r.issued.evidence))
        @if resumes { (fact_row(&format!("{name} resumes"), &r.accepted, &detail)) }
    }
}

pub(super) fn session(t: &TargetReport, _: &Marks<'_>) -> Option<Markup> {
    let s = t.session.as_ref()?;
    let compression = s
        .certificate_compression_algorithm
        .clone()
        .unwrap_or_else(|| s.certificate_compression.evidence.clone());
    Some(html! {
        table {
            thead { tr { th { "Fact" } th { "Answer" } th { "Detail" } } }
            tbody {
                (resumption_rows("TLS 1.2 session ID", &s.session_id))
                (resumption_rows("TLS 1.2 ticket", &s.session_ticket))
                (resumption_rows("TLS 1.3 ticket (PSK)", &s.tls13_psk))
                (fact_row("Extended master secret", &s.extended_master_secret, &s.extended_master_secret.evidence))
                (fact_row("Certificate compression", &s.certificate_compression, &compression))
                (fact_row("0-RTT offered", &s.early_data.offered, &s.early_data.offered.evidence))
                @if s.early_data.offered.answer == Answer::Yes {
                    (fact_row("0-RTT accepted", &s.early_data.accepted, &s.early_data.accepted.evidence))
                }
                (fact_row("Prefers ML-KEM (HRR)", &s.pq_preference, &s.pq_preference.evidence))
            }
        }
        p { "(" (s.handshakes) " connections)" }
    })
}

pub(super) fn headers(t: &TargetReport, _: &Marks<'_>) -> Option<Markup> {
    some_if(!t.http_headers.is_empty(), || {
        html! {
            table {
                thead { tr {
                    th { "Request" } th { "Status" } th { "HSTS" } th { "Server" } th { "Security headers" }
                } }
                tbody { @for p in &t.http_headers { (header_row(p)) } }
            }
        }
    })
}

fn header_row(p: &HeaderProbe) -> Markup {
    let random = if p.random_path { " (random)" } else { "" };
    let Some(status) = p.status else {
        return html! {
            tr {
                td.mono { (p.host) (p.path) (random) }
                td.concern { "no answer" }
                td colspan="3" { (p.error.as_deref().unwrap_or_default()) }
            }
        };
    };
    let hsts = p.hsts.as_ref().map(|h| {
        let mut text = match h.max_age {
            Some(age) => format!("max-age={age}"),
            None => "no valid max-age".to_owned(),
        };
        if h.include_subdomains {
            text.push_str(" +subdomains");
        }
        if h.preload {
            text.push_str(" +preload");
        }
        if !h.problems.is_empty() {
            text = format!("{text} ({})", h.problems.join("; "));
        }
        (text, h.problems.is_empty())
    });
    let server = [p.server.as_deref(), p.powered_by.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    let present: Vec<&str> = p.security_headers.iter().map(|h| h.name.as_str()).collect();
    html! {
        tr {
            td.mono { (p.host) (p.path) (random) }
            td { (status) }
            @match hsts {
                None => { td.concern { "none" } }
                Some((text, true)) => { td.good { (text) } }
                Some((text, false)) => { td.concern { (text) } }
            }
            td.server { (server) }
            td { @if present.is_empty() { "none" } @else { (present.join(", ")) } }
        }
    }
}

/// The grade letter for the table of contents, or why there is none.
pub(super) fn grade_letter(t: &TargetReport) -> Markup {
    match (&t.grade, &t.grade_unavailable) {
        (Some(g), _) => html! { span.grade { (g.grade.name()) } },
        (None, Some(_)) => html! { span.neutral { "not graded" } },
        (None, None) => html! { "-" },
    }
}

pub(super) fn grade(t: &TargetReport, _: &Marks<'_>) -> Option<Markup> {
    if let Some(why) = &t.grade_unavailable {
        return Some(html! { p { "Not graded: " (why) } });
    }
    let g = t.grade.as_ref()?;
    let categories = format!(
        "protocol {}, key exchange {}, cipher {}",
        g.protocol_score, g.key_exchange_score, g.cipher_score
    );
    let score = match g.score {
        Some(s) => format!("score {s}: {categories}"),
        None => format!("no score, the certificate decides; {categories}"),
    };
    Some(html! {
        p.grade-line {
            "Grade " span.grade { (g.grade.name()) } " (" (score) ")"
            @if let Some(by) = &g.trusted_by { ", trusted by " (by) }
        }
        ul {
            @for cap in &g.caps {
                li { "Capped at " strong { (cap.grade.name()) } ": " (cap.reason) br; small { "rule: " (cap.rule) } }
            }
            @for w in &g.warnings {
                li.concern { "Warning: " (w.reason) br; small { "rule: " (w.rule) } }
            }
            @for n in &g.not_checked { li { "Not checked: " (n) } }
            // The score formula is the same for every target; the JSON keeps it.
            @for b in g.basis.iter().filter(|b| !b.starts_with("score:")) { li { "Basis: " (b) } }
        }
    })
}

pub(super) fn findings(t: &TargetReport, marks: &Marks<'_>) -> Option<Markup> {
    some_if(!t.findings.is_empty(), || {
        html! { @for f in &t.findings { (finding(t, f, marks)) } }
    })
}

fn finding(t: &TargetReport, f: &Finding, marks: &Marks<'_>) -> Markup {
    let known = counted_as_new(marks.gate, t, f) == Some(false);
    let fails = f.severity >= marks.fail_on && !known;
    html! {
        article.finding.fails[fails] {
            h3 {
                span class={"badge sev-" (f.severity.name())} { (f.severity.name().to_uppercase()) }
                " " (f.title) " "
                code { "[" (f.id) "]" }
                @if known { " " span.known { "known from the baseline report" } }
            }
            dl {
                dt { "Expected" } dd.mono { (f.expected) }
                dt { "Observed" } dd.mono { (f.observed) }
                dt { "Evidence" } dd { (f.evidence) }
                dt { "Remedy" } dd { (f.remedy) }
            }
        }
    }
}
