//! Renderer snapshots (insta): the terminal table and the JSON report for a
//! fixed set of observations, so any change in what users or CI scripts read
//! is reviewed.

use tlsposture::report::model::{
    ProtocolResult, Report, Stats, TargetReport, ToolInfo, SCHEMA_VERSION,
};
use tlsposture::report::{json, terminal};
use tlsposture::verdict;
use tlsposture::wire::ProtocolVersion::*;

fn legacy_target() -> TargetReport {
    let mut t = TargetReport::new(
        "127.0.0.1:8446".into(),
        8446,
        Some("gateway.lab.test".into()),
    );
    t.ip = Some("127.0.0.1".into());
    t.label = Some("legacy-tls10".into());
    t.reachable = true;
    t.protocols = vec![
        ProtocolResult::not_offered(Ssl2, "connection closed without an answer".into()),
        ProtocolResult::not_offered(Ssl3, "alert protocol_version".into()),
        ProtocolResult::offered(
            Tls10,
            "ServerHello TLS1.0, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA".into(),
            Some(Tls10),
            Some("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA".into()),
        ),
        ProtocolResult::offered(
            Tls11,
            "ServerHello TLS1.1, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA".into(),
            Some(Tls11),
            Some("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA".into()),
        ),
        ProtocolResult::offered(
            Tls12,
            "ServerHello TLS1.2, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into(),
            Some(Tls12),
            Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into()),
        ),
        ProtocolResult::offered(
            Tls13,
            "ServerHello TLS1.3, TLS_AES_128_GCM_SHA256".into(),
            Some(Tls13),
            Some("TLS_AES_128_GCM_SHA256".into()),
        ),
    ];
    t.stats = Stats {
        handshakes: 6,
        elapsed_ms: 9,
    };
    verdict::judge(&mut t);
    t
}

fn unreachable_target() -> TargetReport {
    let mut t = TargetReport::new("127.0.0.1:1".into(), 1, None);
    t.ip = Some("127.0.0.1".into());
    t.error = Some("connection refused by 127.0.0.1:1".into());
    t.stats = Stats {
        handshakes: 0,
        elapsed_ms: 1,
    };
    t
}

fn report(targets: Vec<TargetReport>) -> Report {
    let summary = verdict::summarize(&targets, tlsposture::report::model::Severity::Medium);
    Report {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo {
            name: "tlsposture".into(),
            version: "0.0.0-test".into(),
        },
        started_at: "2026-11-22T21:00:00Z".into(),
        finished_at: "2026-11-22T21:00:01Z".into(),
        targets,
        summary,
    }
}

#[test]
fn terminal_report() {
    let r = report(vec![legacy_target()]);
    insta::assert_snapshot!(terminal::render(&r, terminal::Style::default()));
}

#[test]
fn terminal_report_unreachable() {
    let r = report(vec![unreachable_target()]);
    insta::assert_snapshot!(terminal::render(&r, terminal::Style::default()));
}

#[test]
fn json_report() {
    let r = report(vec![legacy_target(), unreachable_target()]);
    insta::assert_snapshot!(json::render(&r));
}

#[test]
fn json_report_round_trips() {
    let r = report(vec![legacy_target()]);
    let back: Report = serde_json::from_str(&json::render(&r)).unwrap();
    assert_eq!(back, r);
}
