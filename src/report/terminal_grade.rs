//! The terminal section for the grade: the letter and its scores, then
//! every cap and warning with the rule it comes from, what could not be
//! checked, and how the choices were made.

use std::fmt::Write as _;

use comfy_table::Color;

use super::model::{Letter, TargetReport};
use super::terminal::{paint, Style};

fn letter_color(letter: Letter) -> Color {
    match letter {
        Letter::APlus | Letter::A => Color::Green,
        Letter::AMinus | Letter::B => Color::Yellow,
        _ => Color::Red,
    }
}

/// Appends the section to `out` (nothing when there is nothing to show).
pub(super) fn render(out: &mut String, target: &TargetReport, style: Style) {
    if let Some(why) = &target.grade_unavailable {
        let _ = writeln!(out, "Grade: not graded: {why}");
        return;
    }
    let Some(g) = &target.grade else {
        return;
    };
    let categories = format!(
        "protocol {}, key exchange {}, cipher {}",
        g.protocol_score, g.key_exchange_score, g.cipher_score
    );
    let score = match g.score {
        Some(s) => format!("score {s}: {categories}"),
        None => format!("no score, the certificate decides; {categories}"),
    };
    let trusted = g
        .trusted_by
        .as_deref()
        .map(|t| format!(", trusted by {t}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "Grade {} ({score}){trusted}",
        paint(g.grade.name(), letter_color(g.grade), style)
    );
    for cap in &g.caps {
        let _ = writeln!(
            out,
            "  capped at {}: {}",
            paint(cap.grade.name(), letter_color(cap.grade), style),
            cap.reason
        );
        let _ = writeln!(out, "      rule: {}", cap.rule);
    }
    for w in &g.warnings {
        let _ = writeln!(
            out,
            "  {}: {}",
            paint("warning", Color::Yellow, style),
            w.reason
        );
        let _ = writeln!(out, "      rule: {}", w.rule);
    }
    for n in &g.not_checked {
        let _ = writeln!(out, "  not checked: {n}");
    }
    // The score formula is the same for every target; the JSON keeps it.
    for b in g.basis.iter().filter(|b| !b.starts_with("score:")) {
        let _ = writeln!(out, "  basis: {b}");
    }
}
