//! The declared-policy loop end to end, through the binary as a user runs it:
//! `tlsposture lab --policy F` brings up real Envoy configured from the YAML,
//! `tlsposture scan --policy F` judges it. The same declaration must come
//! back clean (exit 0, no drift); another declaration must give exactly the
//! drift between the two (exit 1), pinned by snapshots.

mod support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

use support::PolicyLab;

/// `tlsposture scan ADDR --policy F --declared-port P --ca CA --json -`:
/// exit code and report.
fn scan(
    lab: &PolicyLab,
    port: u16,
    addr: SocketAddr,
    policy: &str,
    extra: &[&str],
) -> (i32, Value) {
    let out = Command::cargo_bin("tlsposture")
        .expect("the tlsposture binary is built")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["scan", &addr.to_string(), "--policy", policy])
        .args(["--declared-port", &port.to_string()])
        .args(["--ca", lab.ca.to_str().expect("utf-8 path"), "--json", "-"])
        .args(extra)
        .output()
        .expect("run tlsposture scan");
    let code = out.status.code().expect("exit code");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "scan {addr} --policy {policy}: no JSON report ({e}); exit {code}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, report)
}

/// Findings about the policy: drift (`policy.*`) and notes on the
/// declaration (`declared.*`), without the generic posture findings.
fn policy_findings(report: &Value) -> Vec<Value> {
    report["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .flat_map(|t| t["findings"].as_array().cloned().unwrap_or_default())
        .filter(|f| {
            let id = f["id"].as_str().unwrap_or_default();
            id.starts_with("policy.") || id.starts_with("declared.")
        })
        .collect()
}

fn drift_ids(report: &Value) -> Vec<String> {
    policy_findings(report)
        .iter()
        .filter_map(|f| f["id"].as_str())
        .filter(|id| id.starts_with("policy."))
        .map(str::to_string)
        .collect()
}

/// Every fixture the lab can serve, scanned with its own declaration on
/// every TLS port it declares: no drift, exit 0.
#[test]
fn every_policy_brought_up_in_the_lab_matches_itself() {
    let fixtures = [
        "fixtures/policy/asm-min-tls12.yaml",
        "fixtures/policy/asm-tls12-only.yaml",
        "fixtures/policy/asm-tls13-only.yaml",
        "fixtures/policy/smcp-v1-tls.yaml",
        "fixtures/policy/smcp-v2-tls.yaml",
        "fixtures/policy/istio-mutual-003.yaml",
        "fixtures/policy/asm-mtls-authz-004.yaml",
        "fixtures/policy/mutual-tls12-only.yaml",
        "fixtures/policy/sds-multi-host.yaml",
        "fixtures/policy/cipher-restricted.yaml",
        "fixtures/policy/invalid-cipher-name.yaml",
        "fixtures/policy/gateway-api.yaml",
        "fixtures/policy/kubectl-list.yaml",
        "fixtures/policy/weak-legacy.yaml",
        "fixtures/policy/drift/optional-mutual.yaml",
    ];
    let mut failures = Vec::new();
    let mut scanned = 0;
    for fixture in fixtures {
        let lab = PolicyLab::start(fixture);
        for &(port, addr) in &lab.tls {
            let (code, report) = scan(&lab, port, addr, fixture, &[]);
            scanned += 1;
            let drift = drift_ids(&report);
            let handshakes: u64 = report["targets"]
                .as_array()
                .expect("targets")
                .iter()
                .map(|t| t["stats"]["handshakes"].as_u64().unwrap_or(0))
                .sum();
            assert!(
                handshakes > 0,
                "{fixture} port {port}: no handshakes counted"
            );
            if code != 0 || !drift.is_empty() {
                failures.push(format!(
                    "{fixture} port {port} ({addr}): exit {code}, drift {drift:?}\nlab said:\n{}",
                    lab.output
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(scanned >= fixtures.len(), "every fixture has a TLS port");
}

/// One drift case: the lab from `live`, scanned against `declared`.
fn drift_case(live: &str, declared: &str) -> (i32, Vec<Value>) {
    let lab = PolicyLab::start(live);
    let mut codes = Vec::new();
    let mut findings = Vec::new();
    for &(port, addr) in &lab.tls {
        let (code, report) = scan(&lab, port, addr, declared, &[]);
        codes.push(code);
        findings.extend(policy_findings(&report));
    }
    (codes.into_iter().max().unwrap_or(0), findings)
}

#[test]
fn tls13_only_declared_tls12_and_13_live() {
    let (code, findings) = drift_case(
        "fixtures/policy/asm-min-tls12.yaml",
        "fixtures/policy/asm-tls13-only.yaml",
    );
    assert_eq!(code, 1);
    insta::assert_json_snapshot!(findings);
}

#[test]
fn tls12_and_13_declared_tls13_only_live() {
    let (code, findings) = drift_case(
        "fixtures/policy/asm-tls13-only.yaml",
        "fixtures/policy/asm-min-tls12.yaml",
    );
    assert_eq!(code, 1);
    insta::assert_json_snapshot!(findings);
}

#[test]
fn tls12_only_declared_tls12_and_13_live() {
    let (code, findings) = drift_case(
        "fixtures/policy/asm-min-tls12.yaml",
        "fixtures/policy/asm-tls12-only.yaml",
    );
    assert_eq!(code, 1);
    insta::assert_json_snapshot!(findings);
}

#[test]
fn restricted_ciphers_declared_envoy_defaults_live() {
    let (code, findings) = drift_case(
        "fixtures/policy/asm-min-tls12.yaml",
        "fixtures/policy/cipher-restricted.yaml",
    );
    assert_eq!(code, 1);
    insta::assert_json_snapshot!(findings);
}

#[test]
fn envoy_defaults_declared_restricted_ciphers_live() {
    let (code, findings) = drift_case(
        "fixtures/policy/cipher-restricted.yaml",
        "fixtures/policy/asm-min-tls12.yaml",
    );
    assert_eq!(code, 1);
    insta::assert_json_snapshot!(findings);
}

#[test]
fn smcp_curves_and_ciphers_declared_envoy_defaults_live() {
    let (code, findings) = drift_case(
        "fixtures/policy/asm-min-tls12.yaml",
        "fixtures/policy/smcp-v2-tls.yaml",
    );
    assert_eq!(code, 1);
    insta::assert_json_snapshot!(findings);
}

#[test]
fn mutual_declared_simple_live() {
    let (code, findings) = drift_case(
        "fixtures/policy/drift/test-com-simple.yaml",
        "fixtures/policy/asm-mtls-authz-004.yaml",
    );
    assert_eq!(code, 1);
    insta::assert_json_snapshot!(findings);
}

#[test]
fn simple_declared_mutual_live() {
    let (code, findings) = drift_case(
        "fixtures/policy/asm-mtls-authz-004.yaml",
        "fixtures/policy/drift/test-com-simple.yaml",
    );
    assert_eq!(code, 1);
    insta::assert_json_snapshot!(findings);
}

#[test]
fn optional_mutual_declared_mutual_tls12_only_live() {
    let (code, findings) = drift_case(
        "fixtures/policy/mutual-tls12-only.yaml",
        "fixtures/policy/drift/optional-mutual.yaml",
    );
    assert_eq!(code, 1);
    insta::assert_json_snapshot!(findings);
}

/// The policy's findings name the YAML line to change: the remedy of an
/// undeclared version points at the declared maxProtocolVersion line.
#[test]
fn remedies_point_at_the_declaring_line() {
    let (_, findings) = drift_case(
        "fixtures/policy/asm-min-tls12.yaml",
        "fixtures/policy/asm-tls12-only.yaml",
    );
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/policy/asm-tls12-only.yaml"),
    )
    .expect("fixture");
    let line = text
        .lines()
        .position(|l| l.contains("maxProtocolVersion"))
        .expect("the fixture sets maxProtocolVersion")
        + 1;
    let undeclared = findings
        .iter()
        .find(|f| f["id"] == "policy.protocol_undeclared")
        .expect("TLS 1.3 is undeclared");
    let remedy = undeclared["remedy"].as_str().expect("remedy");
    assert!(
        remedy.contains(&format!("fixtures/policy/asm-tls12-only.yaml:{line}")),
        "{remedy}"
    );
}

#[test]
fn declared_host_without_its_certificate() {
    let (code, findings) = drift_case(
        "fixtures/policy/asm-min-tls12.yaml",
        "fixtures/policy/drift/test-com-simple.yaml",
    );
    assert_eq!(code, 1);
    insta::assert_json_snapshot!(findings);
}

/// Hosts the gateway refuses outright: nothing can be verified (exit 2,
/// never compliant), and the findings say which declared hosts are refused.
#[test]
fn declared_hosts_the_gateway_refuses() {
    let (code, findings) = drift_case(
        "fixtures/policy/drift/test-com-simple.yaml",
        "fixtures/policy/sds-multi-host.yaml",
    );
    assert_eq!(code, 2);
    insta::assert_json_snapshot!(findings);
}

/// The lab serves a SIMPLE server; the declaration adds subjectAltNames,
/// which makes Envoy 1.40 refuse the listener (tests/lab_envoy_decides.rs).
/// The scan must say that Envoy refuses the declared listener and that the
/// port answers TLS anyway (so the gateway does not run the declaration),
/// not report version or suite drift against a listener that cannot exist.
#[test]
fn a_declaration_envoy_refuses_is_explained_live() {
    let live = "fixtures/policy/asm-min-tls12.yaml";
    let text = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(live))
        .expect("fixture");
    let declared = text.replace(
        "      mode: SIMPLE\n",
        "      mode: SIMPLE\n      subjectAltNames: [client.example.com]\n",
    );
    assert_ne!(declared, text, "the fixture has the SIMPLE server");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("refused.yaml");
    std::fs::write(&path, &declared).expect("write declaration");
    let lab = PolicyLab::start(live);
    let &(port, addr) = lab.tls.first().expect("a TLS port");
    let (code, report) = scan(&lab, port, addr, path.to_str().expect("utf-8"), &[]);
    assert_eq!(code, 1, "{report}");
    let ids = drift_ids(&report);
    assert_eq!(ids, ["policy.listener_rejected"], "{report}");
    let f = &policy_findings(&report)[0];
    let title = f["title"].as_str().unwrap_or_default();
    assert!(title.contains("Envoy refuses this listener"), "{title}");
    assert!(title.contains("SAN-based verification"), "{title}");
    assert_eq!(f["observed"]["tls_answered"], true, "{f}");
    assert!(
        f["evidence"]
            .as_str()
            .unwrap_or_default()
            .contains("refused.yaml:"),
        "{f}"
    );
}
