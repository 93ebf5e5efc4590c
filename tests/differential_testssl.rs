//! Differential test: on the same servers, tlsposture's protocol table agrees
//! with testssl.sh's `-p` check (Debian package `testssl.sh`), version by
//! version. testssl.sh is slow (≈ 12 s a target), so targets run in parallel.

mod support;

use std::collections::BTreeMap;
use std::process::Command as Process;

use assert_cmd::Command;
use serde_json::Value;

use support::openssl_server::OpensslServer;

const VERSIONS: [(&str, &str); 6] = [
    ("SSLv2", "SSLv2"),
    ("SSLv3", "SSLv3"),
    ("TLS1.0", "TLS1"),
    ("TLS1.1", "TLS1_1"),
    ("TLS1.2", "TLS1_2"),
    ("TLS1.3", "TLS1_3"),
];

fn testssl_binary() -> &'static str {
    for name in ["testssl", "testssl.sh"] {
        if Process::new(name).arg("--version").output().is_ok() {
            return name;
        }
    }
    panic!(
        "testssl.sh is needed for this test: apt-get install testssl.sh (or run scripts/setup.sh)"
    );
}

/// testssl.sh's verdict per version: "offered…" → true, "not offered…" → false.
fn testssl_protocols(addr: &str) -> BTreeMap<String, bool> {
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("testssl.json");
    let out = Process::new(testssl_binary())
        .args([
            "--quiet",
            "--color",
            "0",
            "--warnings",
            "off",
            "--nodns",
            "min",
            "-p",
        ])
        .arg("--jsonfile")
        .arg(&json)
        .arg(addr)
        .output()
        .expect("testssl.sh runs");
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| {
        panic!(
            "testssl.sh wrote no JSON ({e}); output:\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let entries: Vec<Value> = serde_json::from_str(&text).expect("testssl.sh JSON");
    VERSIONS
        .iter()
        .map(|(ours, theirs)| {
            let finding = entries
                .iter()
                .find(|e| e["id"] == *theirs)
                .and_then(|e| e["finding"].as_str())
                .unwrap_or_else(|| panic!("testssl.sh has no {theirs} line for {addr}:\n{text}"));
            let offered = if finding.starts_with("not offered") {
                false
            } else if finding.starts_with("offered") {
                true
            } else {
                panic!("unexpected testssl.sh finding for {theirs} on {addr}: {finding}")
            };
            (ours.to_string(), offered)
        })
        .collect()
}

/// (listener name, address, testssl.sh's table, ours)
type Comparison = (
    String,
    String,
    BTreeMap<String, bool>,
    BTreeMap<String, bool>,
);

fn our_protocols(addr: &str) -> BTreeMap<String, bool> {
    let out = Command::cargo_bin("tlsposture")
        .unwrap()
        .args(["scan", addr, "--json", "-"])
        .output()
        .expect("tlsposture runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    report["targets"][0]["protocols"]
        .as_array()
        .expect("protocols")
        .iter()
        .map(|p| {
            let version = p["version"].as_str().unwrap().to_string();
            let offered = p["offered"]
                .as_bool()
                .unwrap_or_else(|| panic!("{addr}: {version} undetermined: {p}"));
            (version, offered)
        })
        .collect()
}

#[test]
fn protocol_tables_agree_with_testssl() {
    let lab = support::start_lab(tlsposture::lab::seed_listeners());
    let legacy = OpensslServer::start(&["-cipher", "ALL:@SECLEVEL=0", "-min_protocol", "TLSv1"]);
    let mut targets: Vec<(String, String)> = lab
        .listeners()
        .iter()
        .map(|l| (l.name.clone(), l.addr.to_string()))
        .collect();
    targets.push(("openssl-tls10-13".into(), legacy.addr().to_string()));

    let results: Vec<Comparison> = std::thread::scope(|s| {
        let handles: Vec<_> = targets
            .iter()
            .map(|(name, addr)| {
                s.spawn(move || {
                    (
                        name.clone(),
                        addr.clone(),
                        testssl_protocols(addr),
                        our_protocols(addr),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (name, addr, theirs, ours) in results {
        assert_eq!(ours, theirs, "{name} ({addr}): tlsposture vs testssl.sh");
    }
}
