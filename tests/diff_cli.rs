//! `tlsposture diff` and `scan --baseline-report` through the binary, on
//! real scans of `openssl s_server` on loopback. The two configurations
//! are reached through one address (a plain TCP relay in front, switched
//! from the first server to the second), so the target keeps its key
//! between the runs as a gateway behind its load balancer does between
//! releases.

mod support;

use std::io::copy;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use support::openssl_server::OpensslServer;
use support::tlsposture;

/// TLS 1.2 only, two AEAD suites.
const BEFORE: &[&str] = &[
    "-no_tls1_3",
    "-cipher",
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384",
];

/// TLS 1.0 allowed as well, a CBC suite added and the AES-256 one removed.
const AFTER: &[&str] = &[
    "-no_tls1_1",
    "-no_tls1_3",
    "-cipher",
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA:@SECLEVEL=0",
];

const CHECKS: &str = "protocols,suites,certificates";

/// A plain TCP relay on a fixed loopback port to whichever server is
/// current: TLS stays end to end between the scanner and `openssl`.
struct Front {
    addr: String,
    backend: Arc<Mutex<SocketAddr>>,
}

impl Front {
    fn start(backend: SocketAddr) -> Front {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the relay");
        let addr = listener.local_addr().unwrap().to_string();
        let backend = Arc::new(Mutex::new(backend));
        let current = Arc::clone(&backend);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let to = *current.lock().unwrap();
                std::thread::spawn(move || relay(client, to));
            }
        });
        Front { addr, backend }
    }

    /// `server` is behind the front from now on (the previous one is
    /// stopped by dropping it).
    fn switch(&self, server: &OpensslServer) {
        *self.backend.lock().unwrap() = server.addr();
    }
}

/// Copies both ways until each side is done; a close on one side is
/// passed on as a close to the other.
fn relay(client: TcpStream, to: SocketAddr) {
    let Ok(server) = TcpStream::connect(to) else {
        return;
    };
    let _ = (client.set_nodelay(true), server.set_nodelay(true));
    let (Ok(mut client_in), Ok(mut server_out)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let up = std::thread::spawn(move || {
        let _ = copy(&mut client_in, &mut server_out);
        let _ = server_out.shutdown(Shutdown::Write);
    });
    let (mut client, mut server) = (client, server);
    let _ = copy(&mut server, &mut client);
    let _ = client.shutdown(Shutdown::Write);
    let _ = up.join();
}

/// Scans `target` into `dir/name`: the exit code, the report's path and
/// stderr.
fn scan(target: &str, dir: &Path, name: &str, extra: &[&str]) -> (i32, PathBuf, String) {
    let path = dir.join(name);
    let mut args = vec![
        "scan",
        target,
        "--checks",
        CHECKS,
        "--timeout",
        "2s",
        "--json",
        path.to_str().unwrap(),
    ];
    args.extend(extra);
    let (code, _, stderr) = tlsposture(&args);
    assert!(path.exists(), "no report written: {stderr}");
    (code, path, stderr)
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn diff_json(old: &Path, new: &Path, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec![
        "diff",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--json",
        "-",
    ];
    args.extend(extra);
    let (code, stdout, stderr) = tlsposture(&args);
    let value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("diff --json - is not JSON ({e}): {stdout}\n{stderr}"));
    (code, value, stderr)
}

fn strings(value: &Value, field: &str) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("an array: {value}"))
        .iter()
        .map(|v| v[field].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn diff_shows_what_the_new_configuration_changed_and_gates_only_the_worse_direction() {
    let dir = tempfile::tempdir().unwrap();
    let before = OpensslServer::start(BEFORE);
    let front = Front::start(before.addr());
    let (_, old, _) = scan(&front.addr, dir.path(), "old.json", &[]);
    let after = OpensslServer::start(AFTER);
    front.switch(&after);
    drop(before);
    let (_, new, _) = scan(&front.addr, dir.path(), "new.json", &[]);
    drop(after);

    let (code, diff, stderr) = diff_json(&old, &new, &[]);
    assert_eq!(
        code, 0,
        "without --fail-on-new a diff is a report: {stderr}"
    );
    let targets = diff["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 1, "{diff:#}");
    let t = &targets[0];
    assert_eq!(t["status"], "compared");
    assert_eq!(
        t["protocols"],
        serde_json::json!([{"version": "TLS1.0", "offered": {"old": false, "new": true}}])
    );
    let suites = |field: &str| {
        t[field]
            .as_array()
            .map(|l| {
                l.iter()
                    .map(|s| format!("{} {}", s["protocol"].as_str().unwrap(), s["code"]))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        suites("suites_added"),
        ["TLS1.0 \"0xC013\"", "TLS1.2 \"0xC013\""]
    );
    assert_eq!(suites("suites_removed"), ["TLS1.2 \"0xC030\""]);
    assert_eq!(
        strings(&t["findings_appeared"], "id"),
        ["protocol.tls10_offered", "suite.cbc", "suite.cbc"]
    );
    assert!(t.get("findings_disappeared").is_none(), "{t:#}");
    // Each server has a freshly minted certificate: the fingerprint moved
    // for every name it was fetched with, the findings about it did not.
    let certs = t["certificates"].as_array().expect("certificates moved");
    assert!(
        !certs.is_empty()
            && certs
                .iter()
                .all(|c| c["sha256"]["old"] != c["sha256"]["new"])
    );
    assert!(t.get("findings_changed").is_none(), "{t:#}");
    assert_eq!(diff["summary"]["new"]["medium"], 1);
    assert_eq!(diff["summary"]["new"]["low"], 2);

    // The terminal says the same with +/- (columns compared word by word).
    let (_, text, _) = tlsposture(&["diff", old.to_str().unwrap(), new.to_str().unwrap()]);
    let words: Vec<String> = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    for line in [
        "+ protocol TLS1.0 not offered → offered",
        "+ suite TLS1.0 0xC013 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA accepted",
        "+ suite TLS1.2 0xC013 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA accepted",
        "- suite TLS1.2 0xC030 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 no longer accepted",
        "+ finding MEDIUM protocol.tls10_offered",
        "1 target changed, 0 unchanged, 0 appeared, 0 disappeared; new: 1 medium, 2 low; resolved: none",
    ] {
        assert!(
            words.iter().any(|w| w.starts_with(line)),
            "missing {line:?} in:\n{text}"
        );
    }

    // The gate: worse at medium fails, not at high; the way back never.
    let gate = |a: &Path, b: &Path, severity: &str| {
        tlsposture(&[
            "diff",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--fail-on-new",
            severity,
        ])
        .0
    };
    assert_eq!(gate(&old, &new, "medium"), 1);
    assert_eq!(gate(&old, &new, "high"), 0);
    assert_eq!(gate(&new, &old, "info"), 0, "fixing things is not new");
    assert_eq!(gate(&old, &old, "info"), 0);
    let (_, same, _) = diff_json(&old, &old, &[]);
    assert_eq!(same["summary"]["targets_unchanged"], 1, "{same:#}");
}

#[test]
fn jsonl_reports_are_read_line_by_line_and_targets_pair_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let a = OpensslServer::start(BEFORE);
    let b = OpensslServer::start(AFTER);
    let (_, a_json, _) = scan(&a.addr().to_string(), dir.path(), "a.json", &[]);
    let (_, b_json, _) = scan(&b.addr().to_string(), dir.path(), "b.json", &[]);
    let a_addr = a.addr().to_string();
    drop(a);
    // A fleet's JSONL: one complete single-target report per line.
    let jsonl = dir.path().join("fleet.jsonl");
    let line = |p: &Path| serde_json::to_string(&read(p)).unwrap();
    std::fs::write(&jsonl, format!("{}\n{}\n", line(&a_json), line(&b_json))).unwrap();
    let (_, b_again, _) = scan(&b.addr().to_string(), dir.path(), "b2.json", &[]);

    let (code, diff, stderr) = diff_json(&jsonl, &b_again, &["--fail-on-new", "info"]);
    assert_eq!(code, 0, "a target gone is not new: {stderr}");
    let status: Vec<(String, String)> = diff["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["address"].as_str().unwrap().to_owned(),
                t["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut expected = vec![
        (a_addr, "disappeared".to_owned()),
        (b.addr().to_string(), "compared".to_owned()),
    ];
    expected.sort();
    assert_eq!(status, expected, "{diff:#}");
    assert_eq!(diff["summary"]["targets_unchanged"], 1, "{diff:#}");

    // The other way the target appeared, with its findings: new.
    let (code, diff, _) = diff_json(&b_again, &jsonl, &["--fail-on-new", "high"]);
    assert_eq!(code, 1, "{diff:#}");
    assert_eq!(diff["summary"]["targets_appeared"], 1);
}

#[test]
fn the_baseline_report_waives_known_findings_and_fails_on_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let before = OpensslServer::start(BEFORE);
    let front = Front::start(before.addr());
    let (plain, old, _) = scan(&front.addr, dir.path(), "old.json", &[]);
    assert_eq!(plain, 1, "the throw-away certificate is untrusted: high");

    let baseline = ["--baseline-report", old.to_str().unwrap()];
    let (code, again, stderr) = scan(&front.addr, dir.path(), "again.json", &baseline);
    assert_eq!(code, 0, "same findings as the baseline: {stderr}");
    let report = read(&again);
    let gate = &report["summary"]["baseline_report"];
    assert_eq!(gate["file"], old.to_str().unwrap());
    assert_eq!(
        gate["known"],
        report["targets"][0]["findings"].as_array().unwrap().len()
    );
    assert!(gate.get("new_findings").is_none(), "{gate:#}");
    assert!(
        report["summary"]["findings"]["high"].as_u64().unwrap() > 0,
        "the counts stay the full counts"
    );
    assert!(stderr.contains("known, new: none"), "{stderr}");

    // A new configuration with a new medium finding fails at medium.
    let after = OpensslServer::start(AFTER);
    front.switch(&after);
    drop(before);
    let mut gated = baseline.to_vec();
    let junit = dir.path().join("new.xml");
    let sarif = dir.path().join("new.sarif");
    gated.extend(["--fail-on", "medium", "--junit", junit.to_str().unwrap()]);
    gated.extend(["--sarif", sarif.to_str().unwrap()]);
    let (code, new, stderr) = scan(&front.addr, dir.path(), "new.json", &gated);
    assert_eq!(code, 1, "{stderr}");
    let new_report = read(&new);
    let gate = new_report["summary"]["baseline_report"].clone();
    assert_eq!(
        strings(&gate["new_findings"], "id"),
        ["protocol.tls10_offered", "suite.cbc", "suite.cbc"]
    );
    assert_eq!(gate["new"]["medium"], 1);
    // JUnit and SARIF agree with the gate: only new findings fail (JUnit),
    // and each result says whether it is new (SARIF baselineState).
    support::sarif_schema::validate(&sarif);
    let sarif: Value = read(&sarif);
    let mut by_state: Vec<(String, String)> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["baselineState"].as_str().unwrap_or("none").to_owned(),
                r["ruleId"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    by_state.sort();
    let findings = new_report["targets"][0]["findings"].as_array().unwrap();
    let new_ids = strings(&gate["new_findings"], "id");
    assert_eq!(by_state.len(), findings.len(), "{sarif:#}");
    let sarif_new: Vec<&str> = by_state
        .iter()
        .filter(|(state, _)| state == "new")
        .map(|(_, id)| id.as_str())
        .collect();
    assert_eq!(sarif_new, new_ids, "{by_state:?}");
    assert!(
        by_state
            .iter()
            .all(|(state, _)| state == "new" || state == "unchanged"),
        "{by_state:?}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    let failing_new = findings
        .iter()
        .filter(|f| new_ids.contains(&f["id"].as_str().unwrap().to_owned()))
        .filter(|f| matches!(f["severity"].as_str(), Some("medium" | "high" | "critical")))
        .count();
    assert!(
        failing_new > 0,
        "a new finding at medium or above: {new_report:#}"
    );
    assert_eq!(xml.matches("<failure").count(), failing_new, "{xml}");
    assert!(xml.contains("known from --baseline-report"), "{xml}");
    // … but not at high: the high findings are all known.
    let (code, _, stderr) = scan(&front.addr, dir.path(), "new2.json", &baseline);
    assert_eq!(code, 0, "{stderr}");

    // A target that cannot be scanned is never waived, known findings or
    // not: nothing listens where the relay forwards to any more.
    drop(after);
    let (code, _, stderr) = tlsposture(&[
        "scan",
        &front.addr,
        "--checks",
        CHECKS,
        "--timeout",
        "1s",
        "--baseline-report",
        old.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn a_target_that_became_unscannable_is_a_new_high() {
    let dir = tempfile::tempdir().unwrap();
    let server = OpensslServer::start(BEFORE);
    let target = server.addr().to_string();
    let (_, old, _) = scan(&target, dir.path(), "old.json", &[]);
    drop(server);
    let new = dir.path().join("new.json");
    let (code, _, stderr) = tlsposture(&[
        "scan",
        &target,
        "--checks",
        CHECKS,
        "--timeout",
        "1s",
        "--json",
        new.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "nothing listens any more: {stderr}");
    let (code, diff, _) = diff_json(&old, &new, &["--fail-on-new", "high"]);
    assert_eq!(code, 1, "{diff:#}");
    let t = &diff["targets"][0];
    assert_eq!(
        t["scannable"],
        serde_json::json!({"old": true, "new": false})
    );
    assert!(t["error"].as_str().is_some_and(|e| !e.is_empty()), "{t:#}");
    assert_eq!(diff["summary"]["new"]["high"], 1);
    // Its findings went with it; that is not reported as fixed.
    assert!(t.get("protocols").is_none(), "{t:#}");
    assert!(t.get("findings_disappeared").is_none(), "{t:#}");
    assert_eq!(diff["summary"]["resolved"]["high"], 0, "{diff:#}");
}

#[test]
fn unreadable_or_invalid_reports_are_usage_errors_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    let report = serde_json::json!({
        "schema_version": 1,
        "tool": {"name": "tlsposture", "version": "0"},
        "started_at": "2026-12-02T00:00:00Z",
        "finished_at": "2026-12-02T00:00:01Z",
        "targets": [],
        "summary": {"findings": {"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0}, "exit_code": 0}
    });
    std::fs::write(&good, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    let truncated = dir.path().join("truncated.json");
    let text = serde_json::to_string_pretty(&report).unwrap();
    std::fs::write(&truncated, &text[..text.len() / 2]).unwrap();
    let jsonl = dir.path().join("fleet.jsonl");
    std::fs::write(
        &jsonl,
        format!("{}\n{{\"schema_version\": 1, \"targets\": 3}}\n", report),
    )
    .unwrap();
    let missing = dir.path().join("missing.json");

    let expect_usage = |old: &Path, needle: String| {
        let (code, stdout, stderr) =
            tlsposture(&["diff", old.to_str().unwrap(), good.to_str().unwrap()]);
        assert_eq!(code, 64, "{stdout}{stderr}");
        assert!(stderr.contains(&needle), "{needle:?} not in {stderr:?}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    };
    let lines = text[..text.len() / 2].lines().count();
    expect_usage(&truncated, format!("{}:{lines}:", truncated.display()));
    expect_usage(&jsonl, format!("{}:2:", jsonl.display()));
    expect_usage(
        &missing,
        format!("cannot read the report {}", missing.display()),
    );
    let (code, _, _) = tlsposture(&["diff", good.to_str().unwrap(), good.to_str().unwrap()]);
    assert_eq!(code, 0, "the valid one reads");

    // The scan refuses a bad baseline report before scanning anything.
    let (code, _, stderr) = tlsposture(&[
        "scan",
        "127.0.0.1:9",
        "--baseline-report",
        jsonl.to_str().unwrap(),
    ]);
    assert_eq!(code, 64, "{stderr}");
    assert!(
        stderr.contains(&format!("{}:2:", jsonl.display())),
        "{stderr}"
    );
}

/// The diff's JSON has a schema like the report's: `reports/diff-schema.json`
/// is generated from the types; regenerate with `TLSPOSTURE_BLESS=1`.
#[test]
fn committed_diff_schema_matches_the_diff_types() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/diff-schema.json");
    let schema = schemars::schema_for!(tlsposture::report::diff::ReportDiff);
    let generated = serde_json::to_string_pretty(&schema).unwrap() + "\n";
    if std::env::var_os("TLSPOSTURE_BLESS").is_some() {
        assert!(
            std::env::var_os("CI").is_none(),
            "TLSPOSTURE_BLESS is set together with CI: bless locally and commit the reviewed diff"
        );
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).expect("reports/diff-schema.json exists");
    assert!(
        committed == generated,
        "reports/diff-schema.json is stale: run TLSPOSTURE_BLESS=1 cargo test --test diff_cli"
    );
}
