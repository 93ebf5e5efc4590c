//! The whole scan through the CLI, as a platform engineer runs it against the
//! lab: every section of the report on Envoy's defaults, certificates per SNI
//! on a multi-host gateway, the exit code with and without the right CA, and
//! `watch` seeing an SDS rotation land.

mod support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

use assert_cmd::cargo::cargo_bin;
use assert_cmd::Command;
use serde_json::Value;

use tlsposture::lab::{offered_listeners, seed_listeners};

fn scan_json(args: &[&str]) -> (i32, Value) {
    let out = Command::cargo_bin("tlsposture")
        .unwrap()
        .arg("scan")
        .args(args)
        .args(["--json", "-"])
        .output()
        .expect("tlsposture runs");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), report)
}

fn suites(target: &Value, protocol: &str) -> BTreeSet<String> {
    target["cipher_suites"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["protocol"] == protocol)
        .map(|s| s["code"].as_str().unwrap().to_string())
        .collect()
}

fn ca_file(lab: &tlsposture::lab::Lab) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), lab.ca_pem()).unwrap();
    file
}

#[test]
fn envoy_defaults_every_section() {
    let lab = support::start_lab(seed_listeners());
    let l = lab.listener("min-tls12").unwrap();
    let ca = ca_file(&lab);
    let (exit, report) = scan_json(&[
        &l.addr.to_string(),
        "--sni",
        l.sni.as_deref().unwrap(),
        "--ca",
        ca.path().to_str().unwrap(),
    ]);
    let t = &report["targets"][0];
    assert_eq!(exit, 0, "{t:#}");
    // BoringSSL's default TLS 1.2 list with an RSA certificate, and the
    // three TLS 1.3 suites.
    assert_eq!(
        suites(t, "TLS1.2"),
        ["0xC02F", "0xC030", "0xCCA8"].map(String::from).into()
    );
    assert_eq!(
        suites(t, "TLS1.3"),
        ["0x1301", "0x1302", "0x1303"].map(String::from).into()
    );
    let tls13_groups: Vec<&str> = t["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["protocol"] == "TLS1.3")
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        tls13_groups.first(),
        Some(&"X25519MLKEM768"),
        "{tls13_groups:?}"
    );
    assert!(t["server_preference"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["protocol"] == "TLS1.2" && p["server_enforces"] == true));
    assert_eq!(t["alpn"]["h2"], true);
    assert!(t["signature_algorithms"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["protocol"] == "TLS1.3"));
    let named = t["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["request"] == "requested")
        .expect("certificate for the SNI");
    assert_eq!(named["trusted"], true, "{named:#}");
    assert_eq!(named["hostname_match"], true);
    let served = &lab.listener("min-tls12").unwrap().certificates()[0];
    assert!(named["chain"][0]["sha256"]
        .as_str()
        .unwrap()
        .eq_ignore_ascii_case(&served.sha256));
    assert!(t["stats"]["handshakes"].as_u64().unwrap() > 6);
}

#[test]
fn untrusted_chain_fails_the_gate_without_the_ca() {
    let lab = support::start_lab(seed_listeners());
    let l = lab.listener("min-tls12").unwrap();
    let (exit, report) = scan_json(&[
        &l.addr.to_string(),
        "--sni",
        l.sni.as_deref().unwrap(),
        "--checks",
        "certificates",
    ]);
    assert_eq!(exit, 1);
    let ids: Vec<&str> = report["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"cert.untrusted"), "{ids:?}");
}

#[test]
fn multi_host_gateway_serves_each_host_its_certificate() {
    let lab = support::start_lab(offered_listeners());
    let l = lab.listener("multi-host").unwrap();
    let ca = ca_file(&lab);
    let (exit, report) = scan_json(&[
        &l.addr.to_string(),
        "--sni",
        "a.lab.test",
        "--sni",
        "b.lab.test",
        "--ca",
        ca.path().to_str().unwrap(),
        "--checks",
        "certificates",
    ]);
    assert_eq!(exit, 0, "{report:#}");
    let certs = report["targets"][0]["certificates"].as_array().unwrap();
    for host in ["a.lab.test", "b.lab.test"] {
        let c = certs.iter().find(|c| c["sni"] == host).expect(host);
        let expected = &l.certificates_for(Some(host))[0].sha256;
        assert!(
            c["chain"][0]["sha256"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case(expected),
            "{host}: {c:#}"
        );
        assert_eq!(c["hostname_match"], true);
    }
    for request in ["none", "unknown"] {
        let c = certs
            .iter()
            .find(|c| c["request"] == request)
            .expect(request);
        assert!(
            c["refused"].is_string(),
            "{request} should be refused: {c:#}"
        );
        assert!(c["chain"].as_array().unwrap().is_empty());
    }
}

#[test]
fn watch_sees_an_sds_rotation() {
    let lab = support::start_lab(seed_listeners());
    let l = lab.listener("min-tls12").unwrap();
    let mut child = std::process::Command::new(cargo_bin("tlsposture"))
        .args([
            "watch",
            &l.addr.to_string(),
            "--sni",
            l.sni.as_deref().unwrap(),
        ])
        .args(["--interval", "200ms", "--until-change", "--timeout", "30s"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("initial line").unwrap();
    assert!(first.contains("gateway.lab.test"), "{first}");
    let rt = support::runtime();
    let new_sha = rt
        .block_on(lab.rotate_certificate("min-tls12", "gateway.lab.test"))
        .expect("rotation");
    let change = lines.next().expect("change line").unwrap();
    assert!(change.contains("changed"), "{change}");
    assert!(
        change
            .to_ascii_lowercase()
            .contains(&new_sha.to_ascii_lowercase()),
        "{change}"
    );
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn watch_until_change_times_out_with_exit_1() {
    let lab = support::start_lab(seed_listeners());
    let l = lab.listener("tls13-only").unwrap();
    let out = Command::cargo_bin("tlsposture")
        .unwrap()
        .args([
            "watch",
            &l.addr.to_string(),
            "--interval",
            "100ms",
            "--until-change",
            "--timeout",
            "1s",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}
