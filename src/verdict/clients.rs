//! The client gate (`--require-client PATTERN`): a high finding for every
//! required client profile the simulation saw fail.

use serde_json::json;

use crate::clients;
use crate::report::model::{Finding, Severity, TargetReport};

/// Adds `client.required_cannot_connect` (high) for each simulated client
/// that matches one of `patterns` and did not connect. A required client
/// that was not simulated is a failure too: the gate cannot vouch for it.
pub fn require_clients(target: &mut TargetReport, patterns: &[String]) {
    if target.error.is_some() || patterns.is_empty() {
        return;
    }
    let mut required: Vec<&'static clients::ClientProfile> = Vec::new();
    for p in patterns {
        for profile in clients::matching(p) {
            if !required.iter().any(|r| r.id == profile.id) {
                required.push(profile);
            }
        }
    }
    for profile in required {
        let sim = target
            .client_simulations
            .iter()
            .find(|s| s.client == profile.name);
        let (observed, evidence) = match sim {
            Some(s) if s.connected => continue,
            Some(s) => (
                json!({"connected": false, "protocol": s.protocol, "cipher": s.cipher}),
                s.reason.clone().unwrap_or_else(|| "did not connect".into()),
            ),
            None => (
                json!(null),
                "not simulated (the clients check did not run for it)".into(),
            ),
        };
        target.findings.push(Finding {
            id: "client.required_cannot_connect".into(),
            severity: Severity::High,
            title: format!("required client {} cannot connect", profile.name),
            expected: json!({"connected": true}),
            observed,
            evidence,
            remedy: format!(
                "allow what {} offers (versions {}, see `tlsposture clients list \"{}\"`), or stop requiring it",
                profile.name,
                profile
                    .versions()
                    .iter()
                    .map(|v| v.name())
                    .collect::<Vec<_>>()
                    .join(", "),
                profile.name
            ),
        });
    }
    target
        .findings
        .sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
}
