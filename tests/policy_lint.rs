//! `tlsposture policy lint` end to end: the real binary on the policy
//! fixtures, output snapshot-tested, exit codes asserted (0 clean, 1
//! findings at or above --fail-on, 64 invalid file).

use assert_cmd::Command;

/// Runs `tlsposture policy lint ARGS…` from the crate root (so file labels
/// in the output are the stable relative paths) and returns (exit, stdout, stderr).
fn lint(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("tlsposture")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .arg("policy")
        .arg("lint")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn clean_fixture_exits_zero() {
    let (code, stdout, stderr) = lint(&["fixtures/policy/asm-min-tls12.yaml"]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!(stdout);
}

#[test]
fn every_seed_fixture_is_clean() {
    // Each seed is its own scenario (several declare the same Gateway with
    // different settings), so each is linted on its own: together they
    // would be one gateway with conflicting servers.
    let mut all = String::new();
    for file in [
        "fixtures/policy/asm-min-tls12.yaml",
        "fixtures/policy/asm-tls12-only.yaml",
        "fixtures/policy/asm-tls13-only.yaml",
        "fixtures/policy/asm-mtls-authz-004.yaml",
        "fixtures/policy/istio-mutual-003.yaml",
        "fixtures/policy/sds-multi-host.yaml",
        "fixtures/policy/smcp-v1-tls.yaml",
        "fixtures/policy/smcp-v2-tls.yaml",
        "fixtures/policy/cipher-restricted.yaml",
        "fixtures/policy/gateway-api.yaml",
        "fixtures/policy/kubectl-list.yaml",
        "fixtures/policy/mesh-configmap.yaml",
    ] {
        let (code, stdout, stderr) = lint(&[file]);
        assert_eq!(code, 0, "{file}: {stdout}{stderr}");
        all.push_str(&stdout);
    }
    insta::assert_snapshot!(all);
}

/// Two Gateways of one workload claiming the same host: istiod keeps the
/// first and drops the second whole (R-M1, `mergeGateways`
/// `CheckDuplicates`); `default/*` and `istio-system/*` are different
/// hosts to istiod but the same SNI to Envoy, which refuses the listener
/// (simulation "duplicate tls gateway").
#[test]
fn dropped_servers_and_envoy_rejections_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let gw = |ns: &str, name: &str, host: &str| {
        format!(
            "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  selector: {{istio: ingressgateway}}\n  servers:\n  - port: {{number: 443, name: https, protocol: HTTPS}}\n    hosts: [\"{host}\"]\n    tls: {{mode: SIMPLE, credentialName: c}}\n---\n"
        )
    };
    let dup = dir.path().join("dup.yaml");
    std::fs::write(
        &dup,
        gw("a", "one", "example.com") + &gw("b", "two", "example.com"),
    )
    .unwrap();
    let (code, stdout, _) = lint(&[dup.to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("declared.server_dropped"), "{stdout}");
    assert!(stdout.contains("duplicate host example.com"), "{stdout}");
    assert!(!stdout.contains("declared.envoy_rejects"), "{stdout}");

    let cross = dir.path().join("cross.yaml");
    std::fs::write(
        &cross,
        gw("istio-system", "one", "./*") + &gw("default", "two", "./*"),
    )
    .unwrap();
    let (code, stdout, _) = lint(&[cross.to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}");
    assert!(!stdout.contains("declared.server_dropped"), "{stdout}");
    assert_eq!(
        stdout.matches("high declared.envoy_rejects").count(),
        2,
        "{stdout}"
    );
    assert!(
        stdout.contains("same or overlapping matching rules"),
        "{stdout}"
    );

    let mesh = dir.path().join("mesh.yaml");
    std::fs::write(
        &mesh,
        "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata:\n  name: x\nspec:\n  meshConfig:\n    tlsDefaults:\n      ecdhCurves: [X25519Kyber768Draft00]\n---\n".to_owned()
            + &gw("default", "one", "example.com"),
    )
    .unwrap();
    let (_, stdout, _) = lint(&[mesh.to_str().unwrap(), "--istio-version", "1.29"]);
    assert!(stdout.contains("high declared.envoy_rejects"), "{stdout}");
    assert!(stdout.contains("X25519Kyber768Draft00"), "{stdout}");
}

#[test]
fn invalid_cipher_names_fail_at_medium() {
    let (code, stdout, _) = lint(&["fixtures/policy/invalid-cipher-name.yaml"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(stdout);
}

#[test]
fn fail_on_high_lets_medium_findings_pass() {
    let (code, _, _) = lint(&[
        "--fail-on",
        "high",
        "fixtures/policy/invalid-cipher-name.yaml",
    ]);
    assert_eq!(code, 0);
}

#[test]
fn weak_legacy_and_typo() {
    let (code, stdout, _) = lint(&[
        "fixtures/policy/weak-legacy.yaml",
        "fixtures/policy/typo-field.yaml",
    ]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(stdout);
}

#[test]
fn json_to_stdout_is_the_report_alone() {
    let (code, stdout, stderr) = lint(&["--json", "-", "fixtures/policy/invalid-cipher-name.yaml"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("2 findings: 2 medium"), "{stderr}");
    let mut json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    json["tool"]["version"] = "X".into();
    insta::assert_json_snapshot!(json);
}

#[test]
fn invalid_files_exit_64_with_one_line() {
    for (file, expected) in [
        (
            "fixtures/policy/invalid/bad-mode.yaml",
            "fixtures/policy/invalid/bad-mode.yaml:16:13 (spec.servers[0].tls.mode): unknown mode \"SIMPL\"",
        ),
        (
            "fixtures/policy/invalid/port-string.yaml",
            "fixtures/policy/invalid/port-string.yaml:10:15 (spec.servers[0].port.number): port must be a number",
        ),
        (
            "fixtures/policy/invalid/bad-yaml.yaml",
            "fixtures/policy/invalid/bad-yaml.yaml:8:10: invalid YAML",
        ),
        (
            "fixtures/policy/invalid/no-kind.yaml",
            "fixtures/policy/invalid/no-kind.yaml:8:1: document has no apiVersion and kind",
        ),
        ("fixtures/policy/missing.yaml", "fixtures/policy/missing.yaml: cannot read"),
    ] {
        let (code, stdout, stderr) = lint(&[file]);
        assert_eq!(code, 64, "{file}: {stderr}");
        assert!(stdout.is_empty(), "{file}: {stdout}");
        assert_eq!(stderr.lines().count(), 1, "{file}: {stderr}");
        assert!(
            stderr.starts_with(&format!("tlsposture: {expected}")),
            "{file}: {stderr}"
        );
    }
}

#[test]
fn no_files_is_a_usage_error() {
    let (code, _, _) = lint(&[]);
    assert_eq!(code, 64);
}

/// A 100 kB cipher name is named by its first chars and its size, not
/// echoed whole (review: the lint printed a 10 MB value back).
#[test]
fn a_huge_dropped_cipher_name_is_not_echoed_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    let huge = "X".repeat(100_000);
    std::fs::write(
        &path,
        format!(
            "apiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata: {{name: gw, namespace: default}}\n\
             spec:\n  selector: {{istio: ingressgateway}}\n  servers:\n  - port: {{number: 443, name: https, protocol: HTTPS}}\n    \
             hosts: [a.example.com]\n    tls:\n      mode: SIMPLE\n      credentialName: x\n      \
             cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256, {huge}]\n"
        ),
    )
    .unwrap();
    let (code, out, err) = lint(&[path.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("lint.invalid_cipher_name"), "{out}");
    assert!(out.contains("(100000 bytes)"), "{out}");
    assert!(
        out.len() + err.len() < 4096,
        "{} bytes printed",
        out.len() + err.len()
    );
}
