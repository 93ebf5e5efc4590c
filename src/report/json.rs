//! The JSON report (contract in DESIGN.md), whole or streamed.
//!
//! A fleet run writes its report as it goes ([`head`], one [`target`] per
//! finished target, [`tail`]) so that memory does not grow with the number
//! of targets; the streamed document is the same pretty-printed JSON as
//! [`render`] gives, except that `finished_at` follows `targets`. JSON
//! object members have no order, so readers see the same report.

use serde::Serialize;

use super::model::{Interruption, PolicyContext, Report, Summary, TargetReport, ToolInfo};

/// The report as pretty-printed JSON with a trailing newline.
pub fn render(report: &Report) -> String {
    let mut out = pretty(report);
    out.push('\n');
    out
}

/// One line of a JSONL stream: the report compact, with its newline.
pub fn line(report: &Report) -> String {
    // Serialising plain data structs with string keys cannot fail.
    let mut out = serde_json::to_string(report)
        .unwrap_or_else(|e| format!("{{\"error\": \"report serialisation failed: {e}\"}}"));
    out.push('\n');
    out
}

#[derive(Serialize)]
struct Head<'a> {
    schema_version: u32,
    tool: &'a ToolInfo,
    started_at: &'a str,
}

#[derive(Serialize)]
struct Tail<'a> {
    finished_at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<&'a PolicyContext>,
    summary: &'a Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    interrupted: Option<&'a Interruption>,
}

/// A streamed report's opening, up to the `targets` array's `[`.
pub fn head(schema_version: u32, tool: &ToolInfo, started_at: &str) -> String {
    let head = Head {
        schema_version,
        tool,
        started_at,
    };
    format!("{{\n{},\n  \"targets\": [", members(&pretty(&head)))
}

/// One target of a streamed report; `first` for the first of the array.
pub fn target(report: &TargetReport, first: bool) -> String {
    let body = pretty(report)
        .lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n");
    format!("{}\n{body}", if first { "" } else { "," })
}

/// A streamed report's closing, after its last target.
pub fn tail(
    finished_at: &str,
    policy: Option<&PolicyContext>,
    summary: &Summary,
    interrupted: Option<&Interruption>,
    empty: bool,
) -> String {
    let tail = Tail {
        finished_at,
        policy,
        summary,
        interrupted,
    };
    let close = if empty { "]" } else { "\n  ]" };
    format!("{close},\n{}\n}}\n", members(&pretty(&tail)))
}

fn pretty(value: &impl Serialize) -> String {
    serde_json::to_string_pretty(value)
        .unwrap_or_else(|e| format!("{{\"error\": \"report serialisation failed: {e}\"}}"))
}

/// The members of a pretty-printed object: its lines without the braces
/// (already indented by two spaces). A pretty-printed JSON string never
/// holds a raw newline, so splitting on lines is safe.
fn members(object: &str) -> String {
    let lines: Vec<&str> = object.lines().collect();
    lines[1..lines.len().saturating_sub(1).max(1)].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::TargetObservation;
    use crate::verdict::Judgement;

    fn report(targets: usize) -> Report {
        let targets = (0..targets)
            .map(|i| {
                let mut o = TargetObservation::new(format!("127.0.0.{i}:443"), 443, None);
                o.error = Some("a \"quoted\"\nline".into());
                TargetReport::new(o, Judgement::default())
            })
            .collect();
        Report {
            schema_version: 1,
            tool: ToolInfo::default(),
            started_at: "s".into(),
            finished_at: "f".into(),
            targets,
            policy: None,
            summary: Summary::default(),
            interrupted: None,
        }
    }

    fn streamed(r: &Report) -> String {
        let mut out = head(r.schema_version, &r.tool, &r.started_at);
        for (i, t) in r.targets.iter().enumerate() {
            out.push_str(&target(t, i == 0));
        }
        out.push_str(&tail(
            &r.finished_at,
            r.policy.as_ref(),
            &r.summary,
            r.interrupted.as_ref(),
            r.targets.is_empty(),
        ));
        out
    }

    #[test]
    fn a_streamed_report_reads_back_as_the_same_report() {
        for n in [0, 1, 3] {
            let r = report(n);
            let text = streamed(&r);
            let back: Report = serde_json::from_str(&text).expect(&text);
            assert_eq!(back, r);
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            let whole: serde_json::Value = serde_json::from_str(&render(&r)).unwrap();
            assert_eq!(value, whole);
        }
    }

    #[test]
    fn a_line_is_one_line() {
        let text = line(&report(2));
        assert_eq!(text.matches('\n').count(), 1);
        assert!(text.ends_with('\n'));
    }
}
