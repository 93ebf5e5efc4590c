//! Whether the scan of a target got to the end. Probes the target never
//! answered (even after backing off), answers a budget cut, and probes the
//! target's deadline left undone each leave a hole in the results: a
//! suite never picked, a client never answered. Read as a normal scan,
//! the hole looks clean (reviews H1, H4, H5, H6), so it is a finding of
//! its own, high enough to fail CI at the default `--fail-on`, and the
//! declared policy is then not verified.

use serde_json::json;

use crate::finding::{Finding, Severity};
use crate::observe::Stats;

/// The `scan.incomplete` finding, when some probes could not be completed.
pub fn incomplete_finding(stats: &Stats) -> Option<Finding> {
    let holes = stats.incomplete.as_ref()?;
    let mut parts = Vec::new();
    if holes.unanswered > 0 {
        parts.push(format!("{} unanswered after retries", holes.unanswered));
    }
    if holes.truncated > 0 {
        parts.push(format!("{} cut by a budget", holes.truncated));
    }
    if holes.skipped > 0 {
        let at = holes
            .deadline_ms
            .map_or(String::new(), |ms| format!(" ({ms} ms)"));
        parts.push(format!(
            "{} left undone at the target's deadline{at}",
            holes.skipped
        ));
    }
    Some(Finding {
        id: "scan.incomplete".to_owned(),
        severity: Severity::High,
        title: format!(
            "{} probes could not be completed ({}): results may miss what they would have shown",
            holes.probes(),
            parts.join(", ")
        ),
        expected: json!({"incomplete_probes": 0}),
        observed: json!({
            "unanswered": holes.unanswered,
            "truncated": holes.truncated,
            "skipped": holes.skipped,
            "retries": stats.retries,
        }),
        evidence: holes.reasons.join("; "),
        remedy: "rescan with a longer --timeout or --target-deadline and fewer --max-connections; \
                 look for rate limiting or a proxy in front of the gateway"
            .to_owned(),
        location: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::Incomplete;

    #[test]
    fn a_complete_scan_has_no_finding_and_any_hole_is_high() {
        assert!(incomplete_finding(&Stats::default()).is_none());
        let stats = Stats {
            retries: 3,
            incomplete: Some(Incomplete {
                unanswered: 2,
                skipped: 5,
                deadline_ms: Some(6000),
                reasons: vec!["no answer after 3 retries: closed".into()],
                ..Incomplete::default()
            }),
            ..Stats::default()
        };
        let f = incomplete_finding(&stats).expect("a finding");
        assert_eq!(
            (f.id.as_str(), f.severity),
            ("scan.incomplete", Severity::High)
        );
        assert!(f.title.starts_with("7 probes"), "{}", f.title);
        assert!(f.title.contains("(6000 ms)"), "{}", f.title);
        assert_eq!(f.observed["retries"], 3);
    }
}
