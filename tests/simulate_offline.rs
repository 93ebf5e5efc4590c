//! The offline what-if (`tlsposture simulate --policy F`) against the truth:
//! for every lab listener built from a policy, every client profile's
//! predicted outcome equals what its real hello gets from Envoy.

mod support;

use std::collections::BTreeMap;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

use support::PolicyLab;

fn json_of(args: &[&str]) -> (i32, Value) {
    let out = Command::cargo_bin("tlsposture")
        .expect("binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("run tlsposture");
    let code = out.status.code().expect("exit code");
    let value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: no JSON ({e}), exit {code}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, value)
}

/// What is compared: connected, and when connected protocol, suite, group
/// and whether a HelloRetryRequest was needed.
fn key(outcome: &Value) -> String {
    if outcome["connected"] == true {
        format!(
            "{} {} {} hrr={}",
            outcome["protocol"].as_str().unwrap_or("-"),
            outcome["cipher"].as_str().unwrap_or("-"),
            outcome["group"].as_str().unwrap_or("-"),
            outcome["hello_retry"] == true
        )
    } else {
        "no connection".into()
    }
}

#[test]
fn offline_prediction_equals_the_live_result_for_every_profile() {
    let fixtures = [
        "fixtures/policy/asm-min-tls12.yaml",
        "fixtures/policy/asm-tls12-only.yaml",
        "fixtures/policy/asm-tls13-only.yaml",
        "fixtures/policy/cipher-restricted.yaml",
        "fixtures/policy/smcp-v1-tls.yaml",
        "fixtures/policy/smcp-v2-tls.yaml",
        "fixtures/policy/weak-legacy.yaml",
        "fixtures/policy/sds-multi-host.yaml",
        "fixtures/policy/asm-mtls-authz-004.yaml",
    ];
    let cases = fixtures.iter().map(|f| (*f, "rsa")).chain([
        ("fixtures/policy/asm-min-tls12.yaml", "ecdsa"),
        ("fixtures/policy/asm-min-tls12.yaml", "both"),
        ("fixtures/policy/smcp-v1-tls.yaml", "both"),
        ("fixtures/policy/weak-legacy.yaml", "both"),
    ]);
    let mut mismatches = Vec::new();
    let mut compared = 0;
    for (fixture, cert_type) in cases {
        let lab = PolicyLab::start_with(fixture, &["--cert-type", cert_type]);
        for &(port, addr) in &lab.tls {
            let port_text = port.to_string();
            let (_, live) = json_of(&[
                "scan",
                &addr.to_string(),
                "--policy",
                fixture,
                "--declared-port",
                &port_text,
                "--checks",
                "protocols,certificates,clients",
                "--json",
                "-",
            ]);
            let (_, offline) = json_of(&[
                "simulate",
                "--policy",
                fixture,
                "--declared-port",
                &port_text,
                "--cert-type",
                cert_type,
                "--json",
                "-",
            ]);
            let predicted: BTreeMap<(String, String), Value> = offline["servers"]
                .as_array()
                .expect("servers")
                .iter()
                .flat_map(|s| {
                    let server = s["server"].as_str().unwrap_or_default().to_string();
                    s["clients"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .map(move |c| {
                            (
                                (
                                    server.clone(),
                                    c["client"].as_str().unwrap_or_default().to_string(),
                                ),
                                c,
                            )
                        })
                })
                .collect();
            for target in live["targets"].as_array().expect("targets") {
                let server = target["label"].as_str().expect("policy scans are labelled");
                for sim in target["client_simulations"]
                    .as_array()
                    .expect("client simulations")
                {
                    let client = sim["client"].as_str().expect("client name");
                    let Some(prediction) = predicted.get(&(server.to_string(), client.to_string()))
                    else {
                        mismatches.push(format!(
                            "{fixture} ({cert_type}) {server}: {client} not predicted"
                        ));
                        continue;
                    };
                    compared += 1;
                    if key(sim) != key(prediction) {
                        mismatches.push(format!(
                            "{fixture} ({cert_type}) {server} {client}: live {} ({}) / offline {} ({})",
                            key(sim),
                            sim["reason"].as_str().unwrap_or(""),
                            key(prediction),
                            prediction["reason"].as_str().unwrap_or("")
                        ));
                    }
                }
            }
        }
    }
    eprintln!("compared {compared} (profile, server) pairs");
    assert!(
        compared >= 79 * fixtures.len(),
        "only {compared} pairs compared"
    );
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// The seed's tightening, offline: TLS 1.3 only breaks the legacy clients.
#[test]
fn tls13_only_breaks_the_legacy_clients() {
    let out = Command::cargo_bin("tlsposture")
        .expect("binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "simulate",
            "--from",
            "fixtures/policy/asm-min-tls12.yaml",
            "--to",
            "fixtures/policy/asm-tls13-only.yaml",
            "--require-client",
            "Chrome",
        ])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for client in [
        "Java 8u31",
        "IE 11 / Win 10",
        "Android 7.0",
        "OpenSSL 1.0.2",
    ] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(client) && l.contains("fails")),
            "{client} should break:\n{text}"
        );
    }
    assert!(
        !text.contains("Chrome 131"),
        "Chrome keeps working:\n{text}"
    );
    let out = Command::cargo_bin("tlsposture")
        .expect("binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "simulate",
            "--policy",
            "fixtures/policy/asm-tls13-only.yaml",
            "--require-client",
            "Java 8u31",
        ])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(1),
        "a required client that breaks fails the gate"
    );
}
