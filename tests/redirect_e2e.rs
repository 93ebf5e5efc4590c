//! Issue 5 item 6 on the lab, through the binary: a declared plain-HTTP
//! server with `tls.httpsRedirect: true` must answer 301 to `https://`.
//! `tlsposture scan --policy F --declared-port 80` makes a plain HTTP/1.1
//! `GET /` per declared host and judges it: the redirect the lab renders
//! passes (exit 0); a gateway that serves plain HTTP where the policy
//! declares a redirect is `policy.https_redirect_missing`, high (exit 1);
//! without a declared redirect the answer is only noted.

mod support;

use std::net::SocketAddr;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

use support::PolicyLab;

const REDIRECT: &str = "fixtures/policy/https-redirect.yaml";
const SEED_004: &str = "fixtures/policy/asm-mtls-authz-004.yaml";

fn http_addr(lab: &PolicyLab) -> SocketAddr {
    lab.http
        .iter()
        .find(|(port, _)| *port == 80)
        .map(|(_, addr)| *addr)
        .unwrap_or_else(|| panic!("no plain-HTTP listener for port 80 in:\n{}", lab.output))
}

/// `scan ADDR --policy POLICY --declared-port 80 --json -`: exit code,
/// report, terminal output (stderr).
fn scan(addr: SocketAddr, policy: &str) -> (i32, Value, String) {
    let out = Command::cargo_bin("tlsposture")
        .expect("binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["scan", &addr.to_string(), "--policy", policy])
        .args(["--declared-port", "80", "--no-color", "--json", "-"])
        .output()
        .expect("run the scan");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("no JSON ({e}): {stderr}"));
    (out.status.code().expect("exit code"), report, stderr)
}

#[test]
fn a_declared_https_redirect_is_a_301_to_https_and_its_absence_a_high_finding() {
    let lab = PolicyLab::start(REDIRECT);
    let (code, report, terminal) = scan(http_addr(&lab), REDIRECT);
    let target = &report["targets"][0];
    assert_eq!(code, 0, "{target:#}\n{terminal}");
    let probes = target["redirects"].as_array().expect("redirects");
    assert_eq!(probes.len(), 1, "{probes:#?}");
    let probe = &probes[0];
    assert_eq!(probe["host"], "test.com");
    assert_eq!(probe["status"], 301, "{probe:#}");
    assert!(
        probe["location"]
            .as_str()
            .is_some_and(|l| l.starts_with("https://test.com")),
        "{probe:#}"
    );
    assert_eq!(probe["expected"], "redirect to https");
    assert_eq!(probe["verdict"], "pass");
    assert!(
        probe["declared_at"]
            .as_str()
            .is_some_and(|d| d.ends_with("https-redirect.yaml:19")),
        "{probe:#}"
    );
    assert_eq!(target["protocols"].as_array().map(Vec::len), Some(6));
    assert!(
        terminal.contains("GET http://test.com/ → 301 location: https://test.com"),
        "{terminal}"
    );
    drop(lab);

    // Seed 004's port 80 serves plain HTTP: declared as a redirect, that is
    // drift (exit 1), and as declared by seed 004 (no redirect) a note.
    let lab = PolicyLab::start(SEED_004);
    let addr = http_addr(&lab);
    let (code, report, terminal) = scan(addr, REDIRECT);
    let target = &report["targets"][0];
    assert_eq!(code, 1, "{target:#}\n{terminal}");
    let finding = target["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["id"] == "policy.https_redirect_missing")
        .cloned()
        .unwrap_or_else(|| panic!("no redirect finding: {target:#}"));
    assert_eq!(finding["severity"], "high");
    assert_eq!(finding["observed"]["status"], 200, "{finding:#}");
    assert!(
        finding["evidence"]
            .as_str()
            .is_some_and(|e| e.starts_with("GET http://test.com/: 200")),
        "{finding:#}"
    );

    let (code, report, terminal) = scan(addr, SEED_004);
    let target = &report["targets"][0];
    assert_eq!(code, 0, "{target:#}\n{terminal}");
    let probe = &target["redirects"][0];
    assert_eq!(probe["host"], "127.0.0.1", "the IP for hosts: '*'");
    assert_eq!(probe["verdict"], "note");
    assert_eq!(probe["expected"], "any");
    assert!(target["findings"].as_array().is_some_and(Vec::is_empty));
}
