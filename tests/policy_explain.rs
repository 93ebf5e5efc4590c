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

fn explain_yaml(yaml: &str, extra: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("p.yaml");
    std::fs::write(&file, yaml).expect("write");
    let mut args = vec![file.to_str().unwrap(), "--json", "-"];
    args.extend_from_slice(extra);
    let (code, text) = explain(&args);
    assert_eq!(code, 0, "{text}");
    serde_json::from_str(&text).expect("JSON")
}

fn gateway(servers: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: gw\n  namespace: istio-system\nspec:\n  selector: {{istio: ingressgateway}}\n  servers:\n{servers}---\n"
    )
}

/// The contract (tools/contracts.md): one object with `istio_version`,
/// `servers` (with `params` exactly as istiod writes them, `client_cert`
/// as Envoy enforces it, `accept_untrusted`, `rejected`, `alpn`) and
/// `dropped`.
#[test]
fn json_is_one_object_with_the_resolved_model() {
    let (code, text) = explain(&["fixtures/policy/asm-tls13-only.yaml", "--json", "-"]);
    assert_eq!(code, 0);
    let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(value["istio_version"], "1.30");
    let s = &value["servers"][0];
    assert_eq!(s["min_version"], "TLS1.3");
    assert_eq!(s["port"], 443);
    assert_eq!(s["mode"], "SIMPLE");
    assert_eq!(s["params"]["tls_minimum_protocol_version"], "TLSv1_3");
    assert_eq!(s["params"]["tls_maximum_protocol_version"], "TLSv1_3");
    assert!(s["params"]["cipher_suites"].is_null());
    assert!(s["params"]["ecdh_curves"].is_null());
    assert_eq!(s["client_cert"], "not_requested");
    assert_eq!(s["accept_untrusted"], false);
    assert!(s["rejected"].is_null());
    assert_eq!(s["alpn"], serde_json::json!(["h2", "http/1.1"]));
    assert_eq!(value["dropped"], serde_json::json!([]));
}

/// R-T2/R-T3/R-T6/R-T7 through the binary: mesh values verbatim, the
/// server cipher filter with the mesh fallback, SAN matchers making a
/// certificate mandatory (SIMPLE and OPTIONAL_MUTUAL), insecureSkipVerify,
/// ISTIO_MUTUAL without TlsParams, a dropped duplicate, PASSTHROUGH.
#[test]
fn json_fields_follow_istiod_and_envoy() {
    let mesh = "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata:\n  name: x\nspec:\n  meshConfig:\n    tlsDefaults:\n      ecdhCurves: [P-256, X25519]\n      cipherSuites: [ECDHE-RSA-AES128-SHA256]\n---\n";
    let servers = "  - port: {number: 443, name: a, protocol: HTTPS}\n    hosts: [a.example]\n    tls: {mode: SIMPLE, credentialName: a, cipherSuites: [bogus], subjectAltNames: [client.example]}\n  - port: {number: 443, name: b, protocol: HTTPS}\n    hosts: [b.example]\n    tls: {mode: OPTIONAL_MUTUAL, credentialName: b, subjectAltNames: [spiffe://x]}\n  - port: {number: 443, name: c, protocol: HTTPS}\n    hosts: [c.example]\n    tls: {mode: MUTUAL, credentialName: c, insecureSkipVerify: true}\n  - port: {number: 443, name: d, protocol: HTTPS}\n    hosts: [d.example]\n    tls: {mode: ISTIO_MUTUAL}\n  - port: {number: 443, name: e, protocol: HTTPS}\n    hosts: [a.example]\n    tls: {mode: SIMPLE, credentialName: e}\n  - port: {number: 8443, name: f, protocol: TLS}\n    hosts: [f.example]\n    tls: {mode: PASSTHROUGH}\n";
    let v = explain_yaml(&(mesh.to_owned() + &gateway(servers)), &[]);
    let s = &v["servers"];
    assert_eq!(s.as_array().unwrap().len(), 5, "{v:#}");
    // Mesh lists verbatim; the all-invalid server list leaves the mesh's.
    assert_eq!(
        s[0]["params"]["cipher_suites"],
        serde_json::json!(["ECDHE-RSA-AES128-SHA256"])
    );
    assert_eq!(
        s[0]["params"]["ecdh_curves"],
        serde_json::json!(["P-256", "X25519"])
    );
    assert_eq!(s[0]["client_cert"], "required");
    // …but SAN matchers without a CA make Envoy refuse the whole listener
    // (observed on Envoy 1.40), so every server on port 443 is down.
    let reason = s[0]["rejected"].as_str().expect("rejected");
    assert!(reason.contains("without a trusted CA"), "{reason}");
    assert_eq!(s[3]["rejected"], s[0]["rejected"]);
    assert!(s[4]["rejected"].is_null(), "port 8443 is another listener");
    assert_eq!(s[1]["mode"], "OPTIONAL_MUTUAL");
    assert_eq!(s[1]["client_cert"], "required");
    assert_eq!(s[2]["client_cert"], "required");
    assert_eq!(s[2]["accept_untrusted"], true);
    assert_eq!(s[3]["mode"], "ISTIO_MUTUAL");
    assert!(s[3]["params"]["cipher_suites"].is_null());
    assert!(s[3]["params"]["ecdh_curves"].is_null());
    assert_eq!(s[4]["mode"], "PASSTHROUGH");
    assert_eq!(s[4]["client_cert"], "not_requested");
    assert_eq!(s[4]["alpn"], serde_json::json!([]));
    let dropped = &v["dropped"];
    assert_eq!(dropped.as_array().unwrap().len(), 1, "{v:#}");
    assert_eq!(dropped[0]["gateway"], "istio-system/gw");
    assert_eq!(dropped[0]["server"]["field"], "spec.servers[4]");
    assert_eq!(dropped[0]["hosts"], serde_json::json!(["a.example"]));
    assert!(dropped[0]["reason"]
        .as_str()
        .unwrap()
        .contains("duplicate host a.example"));
}

/// A mesh curve Envoy does not know reaches it verbatim and the listener
/// is refused; server `ecdhCurves` exist only from 1.32 (master).
#[test]
fn rejected_listeners_and_release_dependent_fields() {
    let mesh = "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata:\n  name: x\nspec:\n  meshConfig:\n    tlsDefaults:\n      ecdhCurves: [P-224]\n---\n";
    let servers = "  - port: {number: 443, name: a, protocol: HTTPS}\n    hosts: [a.example]\n    tls: {mode: SIMPLE, credentialName: a}\n";
    let v = explain_yaml(&(mesh.to_owned() + &gateway(servers)), &[]);
    let reason = v["servers"][0]["rejected"].as_str().expect("rejected");
    assert!(reason.contains("P-224"), "{reason}");

    let servers = "  - port: {number: 443, name: a, protocol: HTTPS}\n    hosts: [a.example]\n    tls: {mode: SIMPLE, credentialName: a, ecdhCurves: [P-384]}\n";
    let old = explain_yaml(&gateway(servers), &["--istio-version", "1.30"]);
    assert!(
        old["servers"][0]["params"]["ecdh_curves"].is_null(),
        "{old:#}"
    );
    let master = explain_yaml(&gateway(servers), &["--istio-version", "1.32"]);
    assert_eq!(master["istio_version"], "1.32");
    assert_eq!(
        master["servers"][0]["params"]["ecdh_curves"],
        serde_json::json!(["P-384"])
    );
}

#[test]
fn an_unknown_istio_version_is_a_usage_error_naming_the_range() {
    let out = Command::cargo_bin("tlsposture")
        .expect("binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "policy",
            "explain",
            "fixtures/policy/asm-min-tls12.yaml",
            "--istio-version",
            "1.12",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("supported: 1.27–1.32"), "{err}");
}
