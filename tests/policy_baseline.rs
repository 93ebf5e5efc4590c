//! `--baseline` (Mozilla's profiles) and the CLI edges of `--policy`, on the
//! seed lab's real Envoy listeners.

mod support;

use assert_cmd::Command;
use serde_json::Value;

use tlsposture::lab::seed_listeners;

fn run(args: &[&str]) -> (i32, Value, String) {
    let out = Command::cargo_bin("tlsposture")
        .expect("binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("run tlsposture");
    let code = out.status.code().expect("exit code");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        code,
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn baseline_ids(report: &Value) -> Vec<String> {
    let mut ids: Vec<String> = report["targets"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .filter(|id| id.starts_with("baseline."))
        .map(str::to_string)
        .collect();
    ids.dedup();
    ids
}

#[test]
fn mozilla_profiles_judge_the_seed_listeners() {
    let lab = support::start_lab(seed_listeners());
    let addr = |name: &str| lab.listener(name).expect(name).addr.to_string();
    let checks = "protocols,suites,groups";
    // Envoy's defaults are exactly Mozilla intermediate (ECDHE + AEAD,
    // X25519 / P-256, the ML-KEM hybrid counted as allowed).
    let (code, report, _) = run(&[
        "scan",
        &addr("min-tls12"),
        "--sni",
        "gateway.lab.test",
        "--checks",
        checks,
        "--baseline",
        "mozilla-intermediate",
        "--json",
        "-",
    ]);
    assert_eq!(code, 0, "{report:#}");
    assert!(
        baseline_ids(&report).is_empty(),
        "{:?}",
        baseline_ids(&report)
    );
    assert_eq!(report["policy"]["baselines"][0], "mozilla-intermediate");
    // Modern is TLS 1.3 only; the JUnit file shows the failure for CI.
    let junit = tempfile::NamedTempFile::new().expect("temp file");
    let junit_path = junit.path().to_str().expect("utf-8 path");
    let (code, report, _) = run(&[
        "scan",
        &addr("min-tls12"),
        "--sni",
        "gateway.lab.test",
        "--checks",
        checks,
        "--baseline",
        "mozilla-modern",
        "--json",
        "-",
        "--junit",
        junit_path,
    ]);
    assert_eq!(code, 1);
    assert_eq!(baseline_ids(&report), ["baseline.protocol_not_allowed"]);
    let xml = std::fs::read_to_string(junit.path()).expect("junit written");
    assert!(
        xml.contains("failures=\"1\"") && xml.contains("baseline.protocol_not_allowed"),
        "{xml}"
    );
    let (code, report, _) = run(&[
        "scan",
        &addr("tls13-only"),
        "--sni",
        "gateway.lab.test",
        "--checks",
        checks,
        "--baseline",
        "mozilla-modern",
        "--json",
        "-",
    ]);
    assert_eq!(code, 0, "{report:#}");
    assert!(baseline_ids(&report).is_empty());
    // The legacy listener is outside intermediate (TLS 1.0/1.1, CBC, 3DES,
    // static RSA) but inside old, except nothing: old allows all of it.
    let (code, report, _) = run(&[
        "scan",
        &addr("legacy-tls10"),
        "--sni",
        "gateway.lab.test",
        "--checks",
        checks,
        "--baseline",
        "mozilla-intermediate",
        "--json",
        "-",
    ]);
    assert_eq!(code, 1);
    let ids = baseline_ids(&report);
    assert!(
        ids.contains(&"baseline.protocol_not_allowed".to_string()),
        "{ids:?}"
    );
    assert!(
        ids.contains(&"baseline.suite_not_allowed".to_string()),
        "{ids:?}"
    );
    let (_, report, _) = run(&[
        "scan",
        &addr("legacy-tls10"),
        "--sni",
        "gateway.lab.test",
        "--checks",
        checks,
        "--baseline",
        "mozilla-old",
        "--json",
        "-",
    ]);
    assert!(
        baseline_ids(&report).is_empty(),
        "{:?}",
        baseline_ids(&report)
    );
}

#[test]
fn an_invalid_policy_is_a_usage_error_naming_file_line_and_field() {
    let (code, _, stderr) = run(&[
        "scan",
        "127.0.0.1:1",
        "--policy",
        "fixtures/policy/invalid/bad-mode.yaml",
    ]);
    assert_eq!(code, 64, "{stderr}");
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/policy/invalid/bad-mode.yaml"),
    )
    .expect("fixture");
    let line = text
        .lines()
        .position(|l| l.contains("SIMPL"))
        .expect("the typo")
        + 1;
    assert!(
        stderr.contains(&format!("fixtures/policy/invalid/bad-mode.yaml:{line}:"))
            && stderr.contains("spec.servers[0].tls.mode"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

#[test]
fn a_port_the_policy_does_not_declare_is_a_usage_error() {
    let (code, _, stderr) = run(&[
        "scan",
        "127.0.0.1:1",
        "--policy",
        "fixtures/policy/asm-min-tls12.yaml",
        "--declared-port",
        "8443",
    ]);
    assert_eq!(code, 64, "{stderr}");
    assert!(
        stderr.contains("declares 443") && stderr.contains("--declared-port"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["scan", "127.0.0.1:1", "--baseline", "mozilla-ancient"]);
    assert_eq!(code, 64, "{stderr}");
    assert!(stderr.contains("mozilla-intermediate"), "{stderr}");
}
