//! The human report: a protocol table in the spirit of testssl.sh's, the
//! findings, and how many handshakes the scan took.

use std::fmt::Write as _;

use comfy_table::{presets, Attribute, Cell, Color, ContentArrangement, Table};

use super::labels::{self, Tone};
use super::model::{
    AuthzProbe, MtlsResult, ProbeVerdict, ProtocolResult, RedirectProbe, Report, Severity,
    TargetReport,
};
use crate::registry::Strength;
use crate::wire::ProtocolVersion;

/// How to draw.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    /// Table width in columns; fixed in tests so snapshots are stable.
    pub width: u16,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            color: false,
            width: 100,
        }
    }
}

/// The whole report for a terminal.
pub fn render(report: &Report, style: Style) -> String {
    let mut out = String::new();
    for target in &report.targets {
        out.push_str(&render_target(target, style));
        out.push('\n');
    }
    if let Some(cut) = &report.interrupted {
        let _ = writeln!(
            out,
            "INTERRUPTED by {}: partial report; not scanned: {}",
            cut.signal,
            cut.unscanned.join(", ")
        );
    }
    out.push_str(&summary_line(report));
    out.push('\n');
    out
}

/// One target: header, protocol table, findings, statistics.
pub fn render_target(target: &TargetReport, style: Style) -> String {
    let mut out = String::new();
    let ip = target.ip.map(|ip| ip.to_string());
    let ip = ip
        .as_deref()
        .filter(|ip| {
            !target.address.starts_with(ip) && !target.address.contains(&format!("[{ip}]"))
        })
        .map(|ip| format!(" ({ip})"))
        .unwrap_or_default();
    let sni = target.sni.as_deref().unwrap_or("none");
    let label = target
        .label
        .as_deref()
        .map(|l| format!(" [{l}]"))
        .unwrap_or_default();
    let _ = writeln!(out, "Target {}{ip}{label}, SNI {sni}", target.address);
    if let Some(error) = &target.error {
        let _ = writeln!(out, "  could not scan: {error}");
    }
    if !target.protocols.is_empty() {
        out.push_str(&protocol_table(&target.protocols, style).to_string());
        out.push('\n');
    }
    render_offered(&mut out, target, style);
    super::terminal_vulns::render(&mut out, target, style);
    super::terminal_session::render(&mut out, target, style);
    super::terminal_grade::render(&mut out, target, style);
    if !target.findings.is_empty() {
        out.push_str("Findings\n");
        for f in &target.findings {
            let _ = writeln!(
                out,
                "  {:<8} {}  [{}]",
                paint(
                    &f.severity.name().to_uppercase(),
                    severity_color(f.severity),
                    style
                ),
                f.title,
                f.id
            );
            // Drift findings are the ones a user acts on from a CI log:
            // say what was seen and which YAML field to change.
            if ["policy.", "declared.", "baseline.", "authz."]
                .iter()
                .any(|p| f.id.starts_with(p))
            {
                let _ = writeln!(out, "           seen: {}", f.evidence);
                let _ = writeln!(out, "           fix:  {}", f.remedy);
            }
        }
    }
    let _ = write!(
        out,
        "{} handshakes in {} ms",
        target.stats.handshakes, target.stats.elapsed_ms
    );
    if target.stats.retries > 0 {
        let _ = write!(out, ", {} retried", target.stats.retries);
    }
    if let Some(holes) = &target.stats.incomplete {
        let _ = write!(out, ", {} incomplete", holes.probes());
    }
    let _ = writeln!(out);
    out
}

/// The "everything offered" sections; each is skipped when not scanned.
fn render_offered(out: &mut String, target: &TargetReport, style: Style) {
    if !target.cipher_suites.is_empty() {
        out.push_str("Cipher suites\n");
        let mut table = listing(
            style,
            vec![
                "Protocol",
                "Code",
                "OpenSSL name",
                "IANA name",
                "Strength",
                "Key exchange",
            ],
        );
        for s in &target.cipher_suites {
            let kx = labels::suite_kx(s);
            let strength = Cell::new(s.strength.name());
            let strength = if style.color {
                strength.fg(strength_color(s.strength))
            } else {
                strength
            };
            table.add_row(vec![
                Cell::new(s.protocol.name()),
                Cell::new(crate::observe::code::suite::hex(s.code)),
                Cell::new(s.openssl.as_deref().unwrap_or("-")),
                Cell::new(&s.iana),
                strength,
                Cell::new(kx),
            ]);
        }
        out.push_str(&table.trim_fmt());
        out.push('\n');
    }
    if !target.server_preference.is_empty() {
        out.push_str("Server preference\n");
        for p in &target.server_preference {
            let _ = writeln!(
                out,
                "  {:<7} {}: {}",
                p.protocol.name(),
                labels::preference_verdict(p),
                labels::preference_order(p)
            );
        }
    }
    if !target.groups.is_empty() {
        out.push_str("Key-exchange groups (server order)\n");
        for version in ProtocolVersion::ALL {
            let names: Vec<&str> = target
                .groups
                .iter()
                .filter(|g| g.protocol == version)
                .map(|g| g.name.as_str())
                .collect();
            if !names.is_empty() {
                let _ = writeln!(out, "  {:<7} {}", version.name(), names.join(", "));
            }
        }
    }
    if !target.signature_algorithms.is_empty() {
        out.push_str("Signature algorithms\n");
        for version in ProtocolVersion::ALL {
            let names: Vec<String> = target
                .signature_algorithms
                .iter()
                .filter(|g| g.protocol == version)
                .map(|g| match &g.key_type {
                    Some(k) => format!("{} ({k})", g.name),
                    None => g.name.clone(),
                })
                .collect();
            if !names.is_empty() {
                let _ = writeln!(out, "  {:<7} {}", version.name(), names.join(", "));
            }
        }
    }
    if let Some(alpn) = &target.alpn {
        let yes_no = |v: Option<bool>| match v {
            Some(true) => "yes",
            Some(false) => "no",
            None => "unknown",
        };
        let _ = writeln!(
            out,
            "ALPN: h2 {}, http/1.1 {}",
            yes_no(alpn.h2),
            yes_no(alpn.http11)
        );
    }
    if !target.certificates.is_empty() {
        out.push_str("Certificates\n");
        let mut table = listing(
            style,
            vec![
                "Request", "Key", "Subject", "SANs", "Issuer", "Days", "Trusted", "Name", "SHA-256",
            ],
        );
        for c in &target.certificates {
            let request = labels::cert_request(c);
            let Some(leaf) = c.chain.first() else {
                table.add_row(vec![
                    Cell::new(request),
                    Cell::new(c.key_type.as_deref().unwrap_or("-")),
                    Cell::new(match (&c.unknown, &c.refused) {
                        (Some(why), _) => format!("UNKNOWN (not read): {why}"),
                        (None, why) => {
                            format!("refused: {}", why.as_deref().unwrap_or("no certificate"))
                        }
                    }),
                ]);
                continue;
            };
            let tri = |v: Option<bool>| match v {
                Some(true) => "yes",
                Some(false) => "NO",
                None => "-",
            };
            let key = match &leaf.curve {
                Some(curve) => format!("{} {curve}", leaf.key_type),
                None => format!("{} {}", leaf.key_type, leaf.key_bits),
            };
            table.add_row(vec![
                Cell::new(request),
                Cell::new(key),
                Cell::new(&leaf.subject),
                Cell::new(leaf.sans.join(", ")),
                Cell::new(&leaf.issuer),
                Cell::new(leaf.days_left),
                Cell::new(tri(c.trusted)),
                Cell::new(tri(c.hostname_match)),
                Cell::new(leaf.sha256.get(..16).unwrap_or(&leaf.sha256)),
            ]);
        }
        out.push_str(&table.trim_fmt());
        out.push('\n');
    }
    if let Some(mtls) = &target.mtls {
        render_mtls(out, mtls);
    }
    render_client_simulations(out, target, style);
    render_authorization(out, target, style);
    render_redirects(out, target, style);
}

/// "Plain HTTP": one line per request to a declared plain-HTTP server,
/// e.g. `GET http://test.com/ → 301 location: https://test.com/  expected
/// redirect to https  pass`.
fn render_redirects(out: &mut String, target: &TargetReport, style: Style) {
    if target.redirects.is_empty() {
        return;
    }
    out.push_str("Plain HTTP (httpsRedirect)\n");
    for RedirectProbe { request: p, judged } in &target.redirects {
        let observed = match (p.status, &p.location) {
            (Some(status), Some(location)) => format!("{status} location: {location}"),
            (Some(status), None) => status.to_string(),
            (None, _) => p.evidence.clone(),
        };
        let _ = writeln!(
            out,
            "  GET http://{}{} → {observed}  expected {}  {} ({})",
            p.host,
            p.path,
            judged.expected,
            paint(judged.verdict.name(), verdict_color(judged.verdict), style),
            judged.declared_at
        );
    }
}

/// "mTLS and authorization": one row per request, its expected and
/// observed outcome and verdict; the body and evidence of each failure;
/// what could not be probed.
fn render_authorization(out: &mut String, target: &TargetReport, style: Style) {
    let probes = &target.authorization;
    if probes.is_empty() && target.authorization_notes.is_empty() {
        return;
    }
    let count = |v: ProbeVerdict| probes.iter().filter(|p| p.verdict == v).count();
    let _ = writeln!(
        out,
        "mTLS and authorization: {} requests, {} pass, {} fail, {} inconclusive",
        probes.len(),
        count(ProbeVerdict::Pass),
        count(ProbeVerdict::Fail),
        count(ProbeVerdict::Error)
    );
    if !probes.is_empty() {
        let mut table = listing(
            style,
            vec![
                "identity", "request", "expected", "observed", "verdict", "rule",
            ],
        );
        for AuthzProbe {
            request: p,
            verdict,
        } in probes
        {
            let observed = match p.status {
                Some(status) => status.to_string(),
                None => p.outcome.to_string(),
            };
            table.add_row(vec![
                Cell::new(match &p.token {
                    Some(token) => format!("{} jwt:{token}", p.identity),
                    None => p.identity.to_string(),
                }),
                Cell::new(format!("{} {}{}", p.method, p.host, p.path)),
                Cell::new(p.expected.name()),
                Cell::new(observed),
                Cell::new(paint(verdict.name(), verdict_color(*verdict), style)),
                Cell::new(format!("{} ({})", p.rule, p.declared_at)),
            ]);
        }
        out.push_str(&table.trim_fmt());
        out.push('\n');
        for AuthzProbe { request: p, .. } in
            probes.iter().filter(|p| p.verdict != ProbeVerdict::Pass)
        {
            let _ = writeln!(
                out,
                "  {} {} {}{}: {}",
                p.identity, p.method, p.host, p.path, p.evidence
            );
        }
    }
    for note in &target.authorization_notes {
        let _ = writeln!(out, "  note: {note}");
    }
}

/// Client simulation, like testssl.sh's section: one line per client.
fn render_client_simulations(out: &mut String, target: &TargetReport, style: Style) {
    if target.client_simulations.is_empty() {
        return;
    }
    let connected = target
        .client_simulations
        .iter()
        .filter(|s| s.connected)
        .count();
    let _ = writeln!(
        out,
        "Client simulation: {connected} of {} clients connect",
        target.client_simulations.len()
    );
    let mut table = listing(
        style,
        vec![
            "Client",
            "Category",
            "Result",
            "Protocol",
            "Cipher suite",
            "Group",
            "Why",
        ],
    );
    for s in &target.client_simulations {
        let (result, color) = if s.connected {
            ("ok", Color::Green)
        } else {
            ("FAIL", Color::Red)
        };
        table.add_row(vec![
            Cell::new(&s.client),
            Cell::new(&s.category),
            Cell::new(paint(result, color, style)),
            Cell::new(s.protocol.map_or("-", |p| p.name())),
            Cell::new(s.cipher.as_deref().unwrap_or("-")),
            Cell::new(s.group.as_deref().unwrap_or("-")),
            Cell::new(s.reason.as_deref().unwrap_or("")),
        ]);
    }
    out.push_str(&table.trim_fmt());
    out.push('\n');
    let tls13 = target
        .client_simulations
        .iter()
        .any(|s| s.connected && s.protocol == Some(ProtocolVersion::Tls13));
    if tls13 && target.certificates.is_empty() {
        out.push_str(
            "  TLS 1.3 encrypts the certificate: client key-size and key-type limits are checked only with the certificates check\n",
        );
    }
    if let Some(stats) = &target.client_simulation_stats {
        let _ = writeln!(
            out,
            "  simulation: {} handshakes in {} ms",
            stats.handshakes, stats.elapsed_ms
        );
    }
}

/// `clients list`: the embedded profiles.
pub fn client_list(profiles: &[&crate::clients::ClientProfile]) -> String {
    let mut table = listing(
        Style::default(),
        vec![
            "Name",
            "Category",
            "Year",
            "Max version",
            "Suites",
            "Groups",
        ],
    );
    for p in profiles {
        let real: Vec<u16> = p
            .supported_groups
            .iter()
            .copied()
            .filter(|g| !crate::registry::is_grease(*g))
            .collect();
        let mut groups: Vec<String> = real
            .iter()
            .take(5)
            .map(|g| {
                crate::registry::named_group(*g)
                    .map_or_else(|| format!("0x{g:04X}"), |n| n.name.clone())
            })
            .collect();
        if real.len() > 5 {
            groups.push(format!("+{} more", real.len() - 5));
        }
        table.add_row(vec![
            Cell::new(&p.name),
            Cell::new(p.category.as_str()),
            Cell::new(p.year),
            Cell::new(p.max_version().name()),
            Cell::new(p.real_suites().count()),
            Cell::new(if groups.is_empty() {
                "-".to_string()
            } else {
                groups.join(", ")
            }),
        ]);
    }
    format!("{}\n{} profiles\n", table.trim_fmt(), profiles.len())
}

/// Client certificates: the conclusion, the acceptable CAs, one line per
/// probe.
fn render_mtls(out: &mut String, mtls: &MtlsResult) {
    let _ = writeln!(out, "mTLS: {}", labels::mtls_conclusion(mtls));
    if !mtls.acceptable_ca_names.is_empty() {
        let _ = writeln!(
            out,
            "  acceptable CAs: {}",
            mtls.acceptable_ca_names.join("; ")
        );
    }
    for p in &mtls.probes {
        let _ = writeln!(out, "  {:<11} {:<9} {}", p.identity, p.outcome, p.evidence);
    }
}

/// A borderless listing that never wraps: long names stay greppable, as in
/// testssl.sh's cipher listing.
pub(super) fn listing(style: Style, header: Vec<&str>) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header);
    if !style.color {
        table.force_no_tty();
    }
    table
}

pub(super) fn new_table(style: Style, header: Vec<&str>) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(style.width)
        .set_header(header);
    if !style.color {
        table.force_no_tty();
    }
    table
}

pub(super) fn strength_color(strength: Strength) -> Color {
    match strength {
        Strength::AeadWithFs => Color::Green,
        Strength::AeadWithoutFs | Strength::Cbc => Color::Yellow,
        _ => Color::Red,
    }
}

fn protocol_table(protocols: &[ProtocolResult], style: Style) -> Table {
    let mut table = new_table(style, vec!["Protocol", "Offered", "Evidence"]);
    for p in protocols {
        let (text, color) = verdict_text(p);
        let mut cell = Cell::new(text);
        if style.color {
            cell = cell.fg(color);
            if color == Color::Red {
                cell = cell.add_attribute(Attribute::Bold);
            }
        }
        table.add_row(vec![
            Cell::new(p.version.name()),
            cell,
            Cell::new(&p.evidence),
        ]);
    }
    table
}

/// The protocol verdict's words (shared with the HTML report) and colour.
fn verdict_text(p: &ProtocolResult) -> (&'static str, Color) {
    let (text, tone) = labels::protocol_verdict(p);
    let color = match tone {
        Tone::Good => Color::Green,
        Tone::Concern => Color::Yellow,
        Tone::Bad => Color::Red,
        Tone::Neutral => Color::Reset,
        Tone::Unknown => Color::Magenta,
    };
    (text, color)
}

fn verdict_color(verdict: ProbeVerdict) -> Color {
    match verdict {
        ProbeVerdict::Pass => Color::Green,
        ProbeVerdict::Fail => Color::Red,
        ProbeVerdict::Note => Color::Reset,
        ProbeVerdict::Error => Color::Yellow,
    }
}

pub(super) fn severity_color(severity: Severity) -> Color {
    match severity {
        Severity::Critical | Severity::High => Color::Red,
        Severity::Medium => Color::Yellow,
        Severity::Low => Color::Cyan,
        Severity::Info => Color::Reset,
    }
}

pub(super) fn paint(text: &str, color: Color, style: Style) -> String {
    if !style.color {
        return text.to_string();
    }
    let code = match color {
        Color::Red => "31",
        Color::Yellow => "33",
        Color::Green => "32",
        Color::Cyan => "36",
        Color::Magenta => "35",
        _ => return text.to_string(),
    };
    format!("\x1b[1;{code}m{text}\x1b[0m")
}

/// The closing line CI logs end with, e.g.
/// `3 findings: 1 high, 2 medium — exit 1 (fail-on high)`.
pub fn summary_line(report: &Report) -> String {
    let handshakes: u32 = report.targets.iter().map(|t| t.stats.handshakes).sum();
    closing_line(&report.summary, report.targets.len(), handshakes)
}

/// [`summary_line`] from the totals, for a report streamed target by
/// target (whose targets are no longer held).
pub fn closing_line(summary: &crate::verdict::Summary, targets: usize, handshakes: u32) -> String {
    let counts = &summary.findings;
    let total = counts.total();
    let detail: Vec<String> = Severity::ALL
        .iter()
        .filter(|s| counts.get(**s) > 0)
        .map(|s| format!("{} {}", counts.get(*s), s.name()))
        .collect();
    let findings = match total {
        0 => "no findings".to_string(),
        1 => format!("1 finding: {}", detail.join(", ")),
        n => format!("{n} findings: {}", detail.join(", ")),
    };
    let judged: String = summary
        .policy
        .map(|p| p.phrase().to_string())
        .into_iter()
        .chain(summary.baselines.iter().map(|b| {
            let side = if b.within { "within" } else { "outside" };
            format!("{side} {}", b.name)
        }))
        .map(|part| format!(" — {part}"))
        .collect();
    format!(
        "{findings}{} — {} target(s), {handshakes} handshakes — exit {}",
        judged, targets, summary.exit_code
    )
}
