//! The terminal sections "Session" (resumption and extension facts) and
//! "HTTP headers" (HSTS, banner, security headers per host and path).
//! Each is shown only when its check produced something.

use std::fmt::Write as _;

use comfy_table::Color;

use super::model::{HeaderProbe, SessionFacts, TargetReport};
use super::terminal::{listing, paint, Style};
use crate::observe::{Answer, Fact, Resumption};

/// Appends the sections to `out` (nothing when there is nothing to show).
pub(super) fn render(out: &mut String, target: &TargetReport, style: Style) {
    if let Some(session) = &target.session {
        render_session(out, session, style);
    }
    if !target.http_headers.is_empty() {
        render_headers(out, &target.http_headers, style);
    }
}

fn answer(fact: &Fact, style: Style) -> String {
    let color = match fact.answer {
        Answer::Yes => Color::Green,
        Answer::No => Color::Reset,
        Answer::NotApplicable => Color::Reset,
        Answer::Unknown => Color::Yellow,
    };
    paint(fact.answer.name(), color, style)
}

fn render_session(out: &mut String, s: &SessionFacts, style: Style) {
    out.push_str("Session\n");
    let mut table = listing(style, vec!["Fact", "Answer", "Detail"]);
    let mut resumption = |name: &str, r: &Resumption| {
        table.add_row(vec![
            format!("{name} issued"),
            answer(&r.issued, style),
            r.issued.evidence.clone(),
        ]);
        if r.accepted.answer != Answer::NotApplicable || r.issued.answer != Answer::NotApplicable {
            let detail = r.ratio().unwrap_or_else(|| r.accepted.evidence.clone());
            table.add_row(vec![
                format!("{name} resumes"),
                answer(&r.accepted, style),
                detail,
            ]);
        }
    };
    resumption("TLS 1.2 session ID", &s.session_id);
    resumption("TLS 1.2 ticket", &s.session_ticket);
    resumption("TLS 1.3 ticket (PSK)", &s.tls13_psk);
    let mut fact = |name: &str, f: &Fact, detail: Option<String>| {
        table.add_row(vec![
            name.to_owned(),
            answer(f, style),
            detail.unwrap_or_else(|| f.evidence.clone()),
        ]);
    };
    fact("Extended master secret", &s.extended_master_secret, None);
    fact(
        "Certificate compression",
        &s.certificate_compression,
        s.certificate_compression_algorithm.clone(),
    );
    fact("0-RTT offered", &s.early_data.offered, None);
    if s.early_data.offered.answer == Answer::Yes {
        fact("0-RTT accepted", &s.early_data.accepted, None);
    }
    fact("Prefers ML-KEM (HRR)", &s.pq_preference, None);
    let _ = writeln!(out, "{table}");
    let _ = writeln!(out, "  ({} connections)", s.handshakes);
}

fn render_headers(out: &mut String, probes: &[HeaderProbe], style: Style) {
    out.push_str("HTTP headers\n");
    let mut table = listing(
        style,
        vec!["Request", "Status", "HSTS", "Server", "Security headers"],
    );
    for p in probes {
        let request = format!(
            "{}{}{}",
            p.host,
            p.path,
            if p.random_path { " (random)" } else { "" }
        );
        let Some(status) = p.status else {
            table.add_row(vec![
                request,
                paint("no answer", Color::Yellow, style),
                p.error.clone().unwrap_or_default(),
                String::new(),
                String::new(),
            ]);
            continue;
        };
        let hsts = match &p.hsts {
            None => paint("none", Color::Yellow, style),
            Some(h) => {
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
                if h.problems.is_empty() {
                    paint(&text, Color::Green, style)
                } else {
                    paint(
                        &format!("{text} ({})", h.problems.join("; ")),
                        Color::Yellow,
                        style,
                    )
                }
            }
        };
        let present: Vec<&str> = p.security_headers.iter().map(|h| h.name.as_str()).collect();
        let security = if present.is_empty() {
            "none".to_owned()
        } else {
            present.join(", ")
        };
        let server = [p.server.as_deref(), p.powered_by.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
        table.add_row(vec![request, status.to_string(), hsts, server, security]);
    }
    let _ = writeln!(out, "{table}");
}
