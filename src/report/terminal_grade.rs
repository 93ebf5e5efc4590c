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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::TargetObservation;
    use crate::verdict::grade::{Grade, GradeCap, GradeWarning};
    use crate::verdict::Judgement;

    fn target(grade: Result<Grade, String>) -> TargetReport {
        let judged = Judgement {
            grade: Some(grade),
            scanned: true,
            ..Judgement::default()
        };
        TargetReport::new(TargetObservation::new("t:443".into(), 443, None), judged)
    }

    #[test]
    fn the_grade_line_then_caps_warnings_and_notes_with_their_rules() {
        let g = Grade {
            grade: Letter::T,
            score: None,
            caps: vec![GradeCap {
                grade: Letter::T,
                reason: "t: not trusted".into(),
                rule: "guide T".into(),
            }],
            warnings: vec![GradeWarning {
                reason: "TLS 1.3 not offered".into(),
                rule: "guide 2009r".into(),
            }],
            protocol_score: 100,
            key_exchange_score: 90,
            cipher_score: 90,
            trusted_by: None,
            basis: vec!["score: the formula".into(), "cipher 90".into()],
            not_checked: vec!["heartbleed".into()],
        };
        let mut out = String::new();
        render(&mut out, &target(Ok(g)), Style::default());
        assert_eq!(
            out,
            "Grade T (no score, the certificate decides; protocol 100, key exchange 90, cipher 90)\n\
             \x20 capped at T: t: not trusted\n\
             \x20     rule: guide T\n\
             \x20 warning: TLS 1.3 not offered\n\
             \x20     rule: guide 2009r\n\
             \x20 not checked: heartbleed\n\
             \x20 basis: cipher 90\n"
        );
        let mut out = String::new();
        render(&mut out, &target(Err("no suites".into())), Style::default());
        assert_eq!(out, "Grade: not graded: no suites\n");
    }
}
