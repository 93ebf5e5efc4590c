//! Seed 004 end to end on the lab, through the binary: `tlsposture lab
//! --policy` renders the AuthorizationPolicy into Envoy's RBAC filter, and
//! `tlsposture scan --policy --identity` proves it — test.client gets 403
//! `RBAC: access denied` on /status/418 and through elsewhere (exit 0); a
//! declaration whose deny the gateway does not enforce exits 1 naming the
//! rule.
//!
//! Seed 003 likewise for JWT: no token 403, malformed / unknown-key /
//! expired 401, the lab's valid token through.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

const SEED_004: &str = "fixtures/policy/asm-mtls-authz-004.yaml";
const SEED_003: &str = "fixtures/policy/istio-mutual-003.yaml";

/// A seed fixture's text.
fn seed(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A policy variant on disk for the lab and the scan to read; the file
/// lives as long as the value.
struct Variant {
    _dir: tempfile::TempDir,
    path: String,
}

fn variant(name: &str, text: &str) -> Variant {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write the variant");
    Variant {
        path: path.to_str().expect("utf-8").to_owned(),
        _dir: dir,
    }
}

/// A `tlsposture lab --policy` process and what it printed.
struct Lab {
    child: Child,
    output: String,
}

impl Lab {
    fn start(policies: &[&str]) -> Lab {
        let mut child = Command::cargo_bin("tlsposture")
            .expect("the tlsposture binary is built")
            .arg("lab")
            .args(policies.iter().flat_map(|p| ["--policy", p]))
            .args(["--port-base", "0"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn tlsposture lab");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut output = String::new();
        for line in lines.by_ref() {
            let line = line.expect("lab output");
            output.push_str(&line);
            output.push('\n');
            if line.contains("Press Ctrl-C") {
                break;
            }
        }
        assert!(
            output.contains("Press Ctrl-C"),
            "lab did not come up:\n{output}"
        );
        std::thread::spawn(move || for _ in lines {});
        Lab { child, output }
    }

    /// The word after `prefix` on the first line containing `marker`.
    fn find(&self, marker: &str, prefix: &str) -> String {
        self.output
            .lines()
            .filter(|l| l.contains(marker))
            .flat_map(|l| l.split_whitespace())
            .find_map(|w| w.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix}… after {marker} in:\n{}", self.output))
            .to_owned()
    }

    fn after(&self, marker: &str, flag: &str) -> String {
        let line = self
            .output
            .lines()
            .find(|l| l.contains(marker))
            .unwrap_or_else(|| panic!("no {marker} in:\n{}", self.output));
        let mut words = line.split_whitespace();
        words.find(|w| *w == flag);
        words.next().expect("value after flag").to_owned()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

fn scan(lab: &Lab, policy: &str) -> (i32, Value) {
    scan_with(lab, &[policy], "test.com", &[])
}

fn scan_with(lab: &Lab, policies: &[&str], sni: &str, extra: &[&str]) -> (i32, Value) {
    let addr = lab.find("port 443 →", "https://");
    let ca = lab
        .output
        .split_whitespace()
        .find(|w| w.ends_with("/ca.pem"))
        .expect("the lab's CA path")
        .to_owned();
    let cert = lab.after("client identity spiffe://test.client", "--cert");
    let key = lab.after("client identity spiffe://test.client", "--key");
    let out = Command::cargo_bin("tlsposture")
        .expect("binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["scan", &addr, "--sni", sni])
        .args(policies.iter().flat_map(|p| ["--policy", p]))
        .args(["--declared-port", "443", "--checks", "mtls", "--ca", &ca])
        .args(["--identity", &format!("{cert},{key}"), "--json", "-"])
        .args(extra)
        .output()
        .expect("run the scan");
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().expect("exit code"), report)
}

/// `--identity CERT,KEY` for a client identity the lab printed.
fn identity_arg(lab: &Lab, uri: &str) -> String {
    let marker = format!("client identity {uri}:");
    let cert = lab.after(&marker, "--cert");
    let key = lab.after(&marker, "--key");
    format!("{cert},{key}")
}

/// The mTLS probe of `identity`: (outcome, evidence).
fn handshake(target: &Value, identity: &str) -> (String, String) {
    let mtls = target["mtls"]["probes"].as_array().expect("mtls probes");
    mtls.iter()
        .find(|p| p["identity"] == identity)
        .map(|p| {
            (
                p["outcome"].as_str().unwrap_or_default().to_owned(),
                p["evidence"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .unwrap_or_else(|| panic!("no {identity} mtls probe: {mtls:#?}"))
}

/// MUTUAL: client certificate required; no certificate and one from an
/// unknown CA refused (each refusal's evidence contains `refusal`, e.g.
/// `during handshake (TLS1.2)`); the given identities accepted.
fn assert_mutual(target: &Value, refusal: &str, identities: &[&str]) {
    assert_eq!(target["mtls"]["client_cert_required"], true, "{target:#}");
    for refused in ["none", "unknown-ca"] {
        let (outcome, evidence) = handshake(target, refused);
        assert_eq!(outcome, "refused", "{refused}: {evidence}");
        assert!(evidence.contains(refusal), "{refused}: {evidence}");
    }
    for identity in identities {
        let (outcome, evidence) = handshake(target, identity);
        assert_eq!(outcome, "accepted", "{identity}: {evidence}");
    }
}

/// Seed 004 through the binary on a lab started from `policies`, scanned
/// against them, with the lab's other.client as a second identity: exit 0,
/// MUTUAL (refusals containing `refusal`), test.client 403 `RBAC: access
/// denied` on /status/418, other.client 418 there; every probe passes.
fn seed_004_as_declared(lab: &Lab, policies: &[&str], refusal: &str) {
    // The lab also issues an identity no policy names: the other side of
    // the rule.
    let other = identity_arg(lab, "spiffe://other.client");
    let (code, report) = scan_with(lab, policies, "test.com", &["--identity", &other]);
    let target = &report["targets"][0];
    assert_eq!(code, 0, "{target:#}");
    assert_mutual(target, refusal, &["test.client", "other.client"]);
    let probes = target["authorization"].as_array().expect("authorization");
    let probe = |identity: &str, path: &str| {
        probes
            .iter()
            .find(|p| p["identity"] == identity && p["path"] == path)
            .unwrap_or_else(|| panic!("no {identity} {path} probe: {probes:#?}"))
    };
    let deny = probe("test.client", "/status/418");
    assert_eq!(deny["expected"], "deny");
    assert_eq!(deny["status"], 403);
    assert_eq!(deny["body_snippet"], "RBAC: access denied");
    let teapot = probe("other.client", "/status/418");
    assert_eq!(teapot["expected"], "allow", "{teapot:#}");
    assert_eq!(teapot["status"], 418, "{teapot:#}");
    assert_eq!(teapot["verdict"], "pass", "{teapot:#}");
    assert!(probes.iter().all(|p| p["verdict"] == "pass"), "{probes:#?}");
}

#[test]
fn seed_004_on_the_lab_denies_test_client_on_418_only() {
    let lab = Lab::start(&[SEED_004]);
    // The lab listener offers TLS 1.2 and 1.3; the scanner gets TLS 1.3.
    seed_004_as_declared(&lab, &[SEED_004], "after handshake (TLS1.3)");

    // A declaration the gateway does not enforce: exit 1, naming the rule.
    let unenforced = variant(
        "unenforced.yaml",
        &seed(SEED_004).replace("/status/418", "/status/200"),
    );
    let (code, report) = scan(&lab, &unenforced.path);
    assert_eq!(code, 1);
    // test.client gets 200 on /status/200 (the declared deny not enforced).
    let admitted = report["targets"][0]["authorization"]
        .as_array()
        .expect("authorization")
        .iter()
        .find(|p| p["identity"] == "test.client" && p["path"] == "/status/200")
        .cloned()
        .expect("the test.client /status/200 probe");
    assert_eq!(admitted["status"], 200, "{admitted:#}");
    assert_eq!(admitted["verdict"], "fail", "{admitted:#}");
    let finding = report["targets"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["id"] == "authz.wrong_client_admitted")
        .cloned()
        .expect("the critical finding");
    assert!(
        finding["title"].as_str().is_some_and(
            |t| t.contains("istio-system/test rules[0]") && t.contains("unenforced.yaml:36")
        ),
        "{finding:#}"
    );
}

#[test]
fn seed_003_on_the_lab_jwt_probes_get_the_statuses_istio_gives() {
    let lab = Lab::start(&[SEED_003]);
    let token_path = lab.after("valid token", "token");
    let token = std::fs::read_to_string(token_path).expect("the lab's token");
    let (code, report) = scan_with(
        &lab,
        &[SEED_003],
        "httpbin.example.com",
        &["--jwt", token.trim()],
    );
    let target = &report["targets"][0];
    assert_eq!(code, 0, "{target:#}");
    let probes = target["authorization"].as_array().expect("authorization");
    let status = |token: &str| {
        probes
            .iter()
            .find(|p| p["token"].as_str().is_some_and(|t| t.starts_with(token)))
            .map(|p| p["status"].clone())
            .unwrap_or_else(|| panic!("no {token} probe: {probes:#?}"))
    };
    assert_eq!(status("none"), 403);
    assert_eq!(status("malformed"), 401);
    assert_eq!(status("unknown-key"), 401);
    assert_eq!(status("expired"), 401);
    assert_eq!(status("given sha256:"), 200);
    assert!(probes.iter().all(|p| p["verdict"] == "pass"), "{probes:#?}");
    assert!(!report.to_string().contains(token.trim()));
    // Seed 003's gateway is MUTUAL as well.
    assert_mutual(target, "after handshake (TLS1.3)", &["test.client"]);
}

/// Seed 003 on a lab that authenticates tokens but lacks the
/// AuthorizationPolicy requiring one, scanned against the full seed: the
/// request without a token is let in, so the scan exits 1 naming the rule.
#[test]
fn seed_003_unenforced_token_requirement_exits_1_naming_the_rule() {
    let text = seed(SEED_003);
    let cut = text
        .find("kind: AuthorizationPolicy")
        .and_then(|at| text[..at].rfind("---"))
        .expect("seed 003's AuthorizationPolicy document");
    let lenient = variant("no-authz.yaml", &text[..cut]);
    let lab = Lab::start(&[&lenient.path]);
    let token_path = lab.after("valid token", "token");
    let token = std::fs::read_to_string(token_path).expect("the lab's token");
    let (code, report) = scan_with(
        &lab,
        &[SEED_003],
        "httpbin.example.com",
        &["--jwt", token.trim()],
    );
    let target = &report["targets"][0];
    assert_eq!(code, 1, "{target:#}");
    let finding = target["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["id"] == "authz.wrong_client_admitted")
        .cloned()
        .unwrap_or_else(|| panic!("no critical finding: {target:#}"));
    assert!(
        finding["title"].as_str().is_some_and(|t| {
            t.contains("istio-system/require-jwt rules[0]") && t.contains("istio-mutual-003.yaml:")
        }),
        "{finding:#}"
    );
    assert!(!report.to_string().contains(token.trim()));
}

/// Seed 004 on a MUTUAL listener pinned to TLS 1.2: a missing or unknown
/// client certificate is refused with an alert during the handshake.
#[test]
fn seed_004_on_a_tls12_only_mutual_listener() {
    let policies = [
        "fixtures/policy/mutual-tls12-only.yaml",
        "fixtures/policy/authz-deny-test-client.yaml",
    ];
    let lab = Lab::start(&policies);
    seed_004_as_declared(&lab, &policies, "during handshake (TLS1.2)");
}

/// Seed 004 on a MUTUAL listener pinned to TLS 1.3: the refusal arrives
/// only on the first read after a handshake the client saw complete.
#[test]
fn seed_004_on_a_tls13_only_mutual_listener() {
    let policies = [
        "fixtures/policy/mutual-tls13-only.yaml",
        "fixtures/policy/authz-deny-test-client.yaml",
    ];
    let lab = Lab::start(&policies);
    seed_004_as_declared(&lab, &policies, "after handshake (TLS1.3)");
}

/// Review H10: seed 004's principal DENY on a server declared SIMPLE. The
/// gateway asks for no client certificate, so test.client's certificate
/// never reaches Envoy and no principal can match the rule: the lab's own
/// Envoy admits the request. The scan must not expect a deny it cannot
/// cause (that was a false critical): the identity is left out with a
/// note, and the request without a certificate is expected through.
#[test]
fn a_principal_deny_on_a_simple_server_is_not_expected_to_deny() {
    let simple = variant(
        "simple-004.yaml",
        &seed(SEED_004).replace("mode: MUTUAL", "mode: SIMPLE"),
    );
    let simple = simple.path.as_str();
    let lab = Lab::start(&[simple]);
    let (code, report) = scan(&lab, simple);
    let target = &report["targets"][0];
    let probes = target["authorization"].as_array().expect("authorization");
    assert!(
        probes.iter().all(|p| p["identity"] == "none"),
        "no identity is presented to a SIMPLE server: {probes:#?}"
    );
    let teapot = probes
        .iter()
        .find(|p| p["path"] == "/status/418")
        .unwrap_or_else(|| panic!("a /status/418 probe: {probes:#?}"));
    assert_eq!(teapot["expected"], "allow", "{teapot:#}");
    assert_eq!(
        teapot["status"], 418,
        "the lab's Envoy admits it: {teapot:#}"
    );
    assert_eq!(teapot["verdict"], "pass", "{teapot:#}");
    let notes = target["authorization_notes"].to_string();
    assert!(
        notes.contains("does not ask for a client certificate"),
        "{notes}"
    );
    assert_eq!(code, 0, "{target:#}");
}

/// Seed 004 with its DENY made unreachable the two ways Istio has: the
/// `istio.io/dry-run` annotation (shadow rules only) and a namespace that
/// is neither the root namespace nor the gateway's. The lab renders what
/// istiod would (no enforced DENY), so test.client gets the teapot, and
/// the scan expects exactly that, with the reason in the notes, instead of
/// a false critical.
#[test]
fn a_dry_run_or_foreign_namespace_deny_is_not_expected_to_deny() {
    let text = seed(SEED_004);
    let variants = [
        (
            "dry-run",
            text.replace(
                "  name: test\n  namespace: istio-system\n",
                "  name: test\n  namespace: istio-system\n  annotations:\n    istio.io/dry-run: \"true\"\n",
            ),
        ),
        (
            "namespace apps",
            text.replace(
                "  name: test\n  namespace: istio-system\n",
                "  name: test\n  namespace: apps\n",
            ),
        ),
    ];
    for (note, variant) in variants {
        assert_ne!(variant, text, "the seed still has the replaced lines");
        let file = self::variant("variant.yaml", &variant);
        let path = file.path.as_str();
        let lab = Lab::start(&[path]);
        let (code, report) = scan(&lab, path);
        let target = &report["targets"][0];
        let probes = target["authorization"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            probes.iter().all(|p| p["expected"] == "allow"),
            "{note}: nothing is expected denied: {probes:#?}"
        );
        if note == "dry-run" {
            // A dry-run rule is still probed: the gateway must not enforce it.
            let teapot = probes
                .iter()
                .find(|p| p["identity"] == "test.client" && p["path"] == "/status/418")
                .unwrap_or_else(|| panic!("the dry-run rule is probed: {probes:#?}"));
            assert_eq!(teapot["status"], 418, "{teapot:#}");
            assert_eq!(teapot["verdict"], "pass", "{teapot:#}");
        }
        let notes = target["authorization_notes"].to_string();
        assert!(notes.contains(note), "{note}: {notes}");
        assert_eq!(code, 0, "{note}: {target:#}");
    }
}

/// Seed 003 with its jwtRule reading the token from a cookie only (R-J2):
/// Envoy then reads neither `Authorization: Bearer` nor `access_token`, so
/// each probe must carry its token in the cookie, or an invalid token
/// would pass as missing (403 instead of 401) and the scan would report a
/// false "invalid token admitted". Same for a query parameter.
#[test]
fn seed_003_tokens_go_where_the_rule_reads_them() {
    let text = seed(SEED_003);
    for (from, line) in [
        ("cookie", "    fromCookies: [\"session\"]\n"),
        ("query", "    fromParams: [\"tkn\"]\n"),
    ] {
        let variant = text.replacen(
            "  - issuer: \"testing@secure.istio.io\"\n",
            &format!("  - issuer: \"testing@secure.istio.io\"\n{line}"),
            1,
        );
        assert_ne!(variant, text, "{from}: the seed still has the issuer line");
        let file = self::variant("003.yaml", &variant);
        let path = file.path.as_str();
        let lab = Lab::start(&[path]);
        let token = std::fs::read_to_string(lab.after("valid token", "token")).expect("token");
        let (code, report) = scan_with(
            &lab,
            &[path],
            "httpbin.example.com",
            &["--jwt", token.trim()],
        );
        let target = &report["targets"][0];
        let probes = target["authorization"].as_array().expect("authorization");
        let status = |token: &str| {
            probes
                .iter()
                .find(|p| p["token"].as_str().is_some_and(|t| t.starts_with(token)))
                .map(|p| p["status"].clone())
                .unwrap_or_else(|| panic!("{from}: no {token} probe: {probes:#?}"))
        };
        assert_eq!(status("none"), 403, "{from}");
        assert_eq!(status("malformed"), 401, "{from}");
        assert_eq!(status("expired"), 401, "{from}");
        assert_eq!(status("given sha256:"), 200, "{from}");
        assert!(
            probes.iter().all(|p| p["verdict"] == "pass"),
            "{from}: {probes:#?}"
        );
        assert_eq!(code, 0, "{from}: {target:#}");
    }
}

/// Rules the resolved model now reads as Istio does, on the real Envoy:
/// `principals: ["*"]` is the regex `.+` (any certificate identity, R-A5),
/// and `/status/{*}` a uri_template (R-A5), not a literal. Prediction and
/// observation must agree for every probe.
#[test]
fn principal_wildcard_and_path_template_are_predicted_as_envoy_decides() {
    let text = seed(SEED_004);
    let variants = [
        (
            "principals *",
            text.replace(
                "        - test.client\n",
                "        - test.client\n        - \"*\"\n",
            ),
            "test.client",
        ),
        (
            "path template",
            text.replace("        - /status/418\n", "        - /status/{*}\n"),
            "test.client",
        ),
    ];
    for (note, variant, denied) in variants {
        assert_ne!(
            variant, text,
            "{note}: the seed still has the replaced text"
        );
        let file = self::variant("variant.yaml", &variant);
        let path = file.path.as_str();
        let lab = Lab::start(&[path]);
        let other = identity_arg(&lab, "spiffe://other.client");
        let (code, report) = scan_with(&lab, &[path], "test.com", &["--identity", &other]);
        let target = &report["targets"][0];
        let probes = target["authorization"].as_array().expect("authorization");
        let deny = probes
            .iter()
            .find(|p| p["identity"] == denied && p["expected"] == "deny")
            .unwrap_or_else(|| panic!("{note}: a deny expected for {denied}: {probes:#?}"));
        assert_eq!(deny["status"], 403, "{note}: {deny:#}");
        assert!(
            probes.iter().all(|p| p["verdict"] == "pass"),
            "{note}: {probes:#?}"
        );
        assert_eq!(code, 0, "{note}: {target:#}");
    }
}

/// `namespaces: [a.b]` is the regex `.*/ns/a\.b/.*` (literals quoted,
/// R-A5): on the real Envoy it denies `…/ns/a.b/…` and lets `…/ns/aXb/…`
/// through, and the prediction says the same for both identities.
#[test]
fn a_namespaces_rule_is_a_quoted_regex_on_the_real_envoy() {
    let text = seed(SEED_004)
        + "---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ns-deny
  namespace: istio-system
spec:
  selector:
    matchLabels:
      istio: ingressgateway
  action: DENY
  rules:
  - from:
    - source:
        namespaces: [a.b]
    to:
    - operation:
        paths: [/status/419]
  # Names the two identities, so the lab issues them.
  - from:
    - source:
        principals: [cluster.local/ns/a.b/sa/y, cluster.local/ns/aXb/sa/x]
    to:
    - operation:
        paths: [/status/420]
";
    let file = variant("namespaces.yaml", &text);
    let lab = Lab::start(&[&file.path]);
    let dotted = identity_arg(&lab, "spiffe://cluster.local/ns/a.b/sa/y");
    let other = identity_arg(&lab, "spiffe://cluster.local/ns/aXb/sa/x");
    // Only these two identities, the one a quoted regex refuses first:
    // it is the non-matching side the plan probes.
    let addr = lab.find("port 443 →", "https://");
    let ca = lab
        .output
        .split_whitespace()
        .find(|w| w.ends_with("/ca.pem"))
        .expect("the lab's CA path")
        .to_owned();
    let out = Command::cargo_bin("tlsposture")
        .expect("binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["scan", &addr, "--sni", "test.com", "--policy", &file.path])
        .args(["--declared-port", "443", "--checks", "mtls", "--ca", &ca])
        .args(["--identity", &other, "--identity", &dotted, "--json", "-"])
        .output()
        .expect("run the scan");
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    let code = out.status.code().expect("exit code");
    let target = &report["targets"][0];
    let probes = target["authorization"].as_array().expect("authorization");
    let probe = |path: &str, expected: &str| {
        probes
            .iter()
            .find(|p| p["path"] == path && p["expected"] == expected)
            .unwrap_or_else(|| panic!("no {expected} probe on {path}: {probes:#?}"))
    };
    let denied = probe("/status/419", "deny");
    assert_eq!(denied["status"], 403, "{denied:#}");
    let admitted = probe("/status/419", "allow");
    // The lab's backend answers 200 on a status it does not serve.
    assert_eq!(admitted["status"], 200, "{admitted:#}");
    assert!(
        admitted["identity"]
            .as_str()
            .is_some_and(|i| i.contains("aXb")),
        "{admitted:#}"
    );
    assert!(
        denied["identity"]
            .as_str()
            .is_some_and(|i| i.contains("a.b")),
        "{denied:#}"
    );
    assert!(probes.iter().all(|p| p["verdict"] == "pass"), "{probes:#?}");
    assert_eq!(code, 0, "{target:#}");
}

/// `serviceAccounts: [a.b/sa1]` is the regex
/// `spiffe://.+/ns/a\.b/(.+/|)sa/sa1(/.+)?` (generator.go
/// serviceAccountRegex) and a principal under the mesh's trust domain td1
/// is also written for its alias cluster.local (MigrateTrustDomain): on
/// the real Envoy `sa1` is denied on /status/419 and `sa1x` is not, and
/// `cluster.local/ns/foo/sa/x` is denied on /status/420 by a rule that
/// names `td1/…`; the scan's predictions (the same model, with the
/// ConfigMap's mesh settings) agree with every answer.
#[test]
fn service_accounts_and_trust_domain_aliases_on_the_real_envoy() {
    let text = seed(SEED_004)
        + "---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    trustDomain: td1
    trustDomainAliases: [cluster.local]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: sa-deny
  namespace: istio-system
spec:
  selector:
    matchLabels:
      istio: ingressgateway
  action: DENY
  rules:
  - from:
    - source:
        serviceAccounts: [a.b/sa1]
    to:
    - operation:
        paths: [/status/419]
  - from:
    - source:
        principals: [td1/ns/foo/sa/x]
    to:
    - operation:
        paths: [/status/420]
  # Names the identities, so the lab issues them.
  - from:
    - source:
        principals: [cluster.local/ns/a.b/sa/sa1, cluster.local/ns/a.b/sa/sa1x, cluster.local/ns/foo/sa/x]
    to:
    - operation:
        paths: [/status/421]
";
    let file = variant("service-accounts.yaml", &text);
    let lab = Lab::start(&[&file.path]);
    let sa1 = identity_arg(&lab, "spiffe://cluster.local/ns/a.b/sa/sa1");
    let sa1x = identity_arg(&lab, "spiffe://cluster.local/ns/a.b/sa/sa1x");
    let aliased = identity_arg(&lab, "spiffe://cluster.local/ns/foo/sa/x");
    let addr = lab.find("port 443 →", "https://");
    let ca = lab
        .output
        .split_whitespace()
        .find(|w| w.ends_with("/ca.pem"))
        .expect("the lab's CA path")
        .to_owned();
    let out = Command::cargo_bin("tlsposture")
        .expect("binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["scan", &addr, "--sni", "test.com", "--policy", &file.path])
        .args(["--declared-port", "443", "--checks", "mtls", "--ca", &ca])
        .args(["--identity", &sa1x, "--identity", &sa1])
        .args(["--identity", &aliased, "--json", "-"])
        .output()
        .expect("run the scan");
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    let code = out.status.code().expect("exit code");
    let target = &report["targets"][0];
    let probes = target["authorization"].as_array().expect("authorization");
    let probe = |path: &str, who: &str| {
        probes
            .iter()
            .find(|p| {
                p["path"] == path
                    && p["identity"]
                        .as_str()
                        .is_some_and(|i| i.ends_with(who) || i.contains(&format!("{who}.")))
            })
            .unwrap_or_else(|| panic!("no probe of {who} on {path}: {probes:#?}"))
    };
    let denied = probe("/status/419", "sa/sa1");
    assert_eq!(
        (denied["expected"].as_str(), denied["status"].as_u64()),
        (Some("deny"), Some(403)),
        "{denied:#}"
    );
    let admitted = probe("/status/419", "sa/sa1x");
    assert_eq!(
        (admitted["expected"].as_str(), admitted["status"].as_u64()),
        (Some("allow"), Some(200)),
        "{admitted:#}"
    );
    let aliased = probe("/status/420", "foo/sa/x");
    assert_eq!(
        (aliased["expected"].as_str(), aliased["status"].as_u64()),
        (Some("deny"), Some(403)),
        "{aliased:#}"
    );
    assert!(probes.iter().all(|p| p["verdict"] == "pass"), "{probes:#?}");
    assert_eq!(code, 0, "{target:#}");
}
