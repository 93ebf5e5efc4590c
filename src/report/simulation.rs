//! The offline client simulation (`tlsposture simulate`) for a terminal:
//! one block per declared server, one line per client; in diff mode, the
//! clients a change breaks, fixes or moves. Renders; decides nothing.

use std::fmt::Write;

use crate::policy::simulate::SimOutcome;
pub use crate::policy::simulate::{Change, ClientRow, ServerRows};

fn line(out: &mut String, row: &ClientRow) {
    let o = &row.outcome;
    if o.connected {
        let _ = writeln!(
            out,
            "  {:<34} {:<7} {:<46} {}{}",
            row.client,
            o.protocol.map(|p| p.to_string()).unwrap_or_default(),
            o.cipher.as_deref().unwrap_or("-"),
            o.group.as_deref().unwrap_or("-"),
            if o.hello_retry {
                " (after HelloRetryRequest)"
            } else {
                ""
            }
        );
    } else {
        let _ = writeln!(
            out,
            "  {:<34} no connection: {}",
            row.client,
            o.reason.as_deref().unwrap_or("unknown")
        );
    }
}

/// The what-if for one policy.
pub fn render(servers: &[ServerRows]) -> String {
    let mut out = String::new();
    for server in servers {
        let ok = server
            .clients
            .iter()
            .filter(|c| c.outcome.connected)
            .count();
        let _ = writeln!(
            out,
            "{}  hosts: {}  — {ok} of {} clients connect",
            server.server,
            server.hosts.join(", "),
            server.clients.len()
        );
        for row in &server.clients {
            line(&mut out, row);
        }
        out.push('\n');
    }
    out
}

fn describe(o: &SimOutcome) -> String {
    if o.connected {
        format!(
            "{} {}",
            o.protocol.map(|p| p.to_string()).unwrap_or_default(),
            o.cipher.as_deref().unwrap_or("-")
        )
    } else {
        format!("fails ({})", o.reason.as_deref().unwrap_or("unknown"))
    }
}

/// The diff between two policies.
pub fn render_changes(changes: &[Change], compared: usize) -> String {
    let mut out = String::new();
    for kind in ["breaks", "fixed", "changes"] {
        let rows: Vec<&Change> = changes.iter().filter(|c| c.kind == kind).collect();
        if rows.is_empty() {
            continue;
        }
        let title = match kind {
            "breaks" => "Clients the change breaks",
            "fixed" => "Clients the change lets in",
            _ => "Clients that negotiate differently",
        };
        let _ = writeln!(out, "{title} ({}):", rows.len());
        for c in rows {
            let _ = writeln!(
                out,
                "  {:<34} {}: {} → {}",
                c.client,
                c.server,
                describe(&c.before),
                describe(&c.after)
            );
        }
        out.push('\n');
    }
    let breaks = changes.iter().filter(|c| c.kind == "breaks").count();
    let _ = writeln!(
        out,
        "{breaks} of {compared} client/server pairs break{}",
        if breaks == 0 { " — none" } else { "" }
    );
    out
}
