//! `tlsposture policy explain`: the effective posture per declared server,
//! no network. Snapshots pin what a user reads; the SMCP case checks that
//! mesh defaults from another file are layered under the server's own TLS.

use assert_cmd::Command;

fn explain(args: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("tlsposture")
        .expect("binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["policy", "explain"])
        .args(args)
        .output()
        .expect("run tlsposture");
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn envoy_defaults_for_the_first_seed() {
    let (code, text) = explain(&["fixtures/policy/asm-min-tls12.yaml"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(text);
}

#[test]
fn server_settings_over_smcp_defaults_with_dropped_names() {
    let (code, text) = explain(&[
        "fixtures/policy/weak-legacy.yaml",
        "fixtures/policy/smcp-v1-tls.yaml",
    ]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(text);
}

#[test]
fn an_ecdsa_certificate_changes_the_tls12_suites() {
    let (_, rsa) = explain(&["fixtures/policy/asm-min-tls12.yaml"]);
    let (_, ecdsa) = explain(&["fixtures/policy/asm-min-tls12.yaml", "--cert-type", "ecdsa"]);
    assert!(rsa.contains("TLS1.2: ECDHE-RSA-AES128-GCM-SHA256"), "{rsa}");
    assert!(
        ecdsa.contains("TLS1.2: ECDHE-ECDSA-AES128-GCM-SHA256"),
        "{ecdsa}"
    );
}

#[test]
fn json_is_the_expectations() {
    let (code, text) = explain(&["fixtures/policy/asm-tls13-only.yaml", "--json", "-"]);
    assert_eq!(code, 0);
    let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(value[0]["min_version"], "TLS1.3");
    assert_eq!(value[0]["port"], 443);
}
