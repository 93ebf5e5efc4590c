//! HTTP over our own TLS session and the authorization probes, against a
//! real `openssl s_server -www` that requires a client certificate from its
//! CA (it answers every GET with 200 and knows no RBAC): the identity is
//! accepted and the status parsed; a probe the policy expects denied is a
//! `fail` and a critical finding naming the rule — the gateway lets the
//! wrong client in. Seed 004 end to end on the lab waits for the lab's
//! RBAC filter (see issue 5).

mod support;

use std::time::Duration;

use tlsposture::lab::issue_client_cert;
use tlsposture::observe::{Expected, MtlsOutcome, MtlsResult, TargetObservation};
use tlsposture::plan::{plan_authz, PeerCertificate};
use tlsposture::policy::authz::Outcome;
use tlsposture::policy::load_str;
use tlsposture::probe::ProbeTimeouts;
use tlsposture::report::model::{ProbeVerdict, Severity, TargetReport};
use tlsposture::scan::authz::{scan_authorization, AuthzContext, NamedIdentity};
use tlsposture::scan::http::{http_exchange, HttpOutcome, HttpRequest};
use tlsposture::scan::Prober;
use tlsposture::tls_client::{ClientIdentity, HandshakeOptions};
use tlsposture::verdict;

use support::{runtime, ClientVerify, OpensslServer};

const SEED_004: &str = include_str!("../fixtures/policy/asm-mtls-authz-004.yaml");

/// The authorization verdict alone (a MUTUAL gateway) on the probes'
/// observations.
fn judged(observed: TargetObservation) -> TargetReport {
    let (authorization, findings) = verdict::authz::judge(&observed, true);
    let judgement = verdict::Judgement {
        findings,
        authorization,
        scanned: true,
        ..Default::default()
    };
    TargetReport::new(observed, judgement)
}

fn timeouts() -> ProbeTimeouts {
    ProbeTimeouts {
        connect: Duration::from_secs(2),
        read: Duration::from_secs(3),
    }
}

fn identity(server: &OpensslServer, uri: &str) -> ClientIdentity {
    let issued = issue_client_cert(server.ca(), uri).expect("issuing a client certificate");
    ClientIdentity::from_pem(&issued.cert_pem, &issued.key_pem).expect("loading it")
}

fn get(server: &OpensslServer, id: Option<&ClientIdentity>) -> HttpOutcome {
    let prober = Prober::new(server.addr(), timeouts(), 2);
    let request = HttpRequest {
        method: "GET".into(),
        path: "/status/200".into(),
        host: "localhost".into(),
        headers: Vec::new(),
    };
    runtime().block_on(async {
        let (stream, _permit) = prober.connect().await.expect("connecting");
        http_exchange(
            stream,
            &HandshakeOptions::default(),
            id,
            &request,
            Duration::from_secs(3),
        )
        .await
    })
}

#[test]
fn identity_gets_an_http_answer_and_no_certificate_is_refused_tls13() {
    let server = OpensslServer::start_with_client_auth(ClientVerify::Required, &["-tls1_3"]);
    let id = identity(&server, "spiffe://test.client");
    match get(&server, Some(&id)) {
        HttpOutcome::Response {
            status,
            body_snippet,
            ..
        } => {
            assert_eq!(status, 200);
            assert!(!body_snippet.is_empty());
        }
        other => panic!("expected an answer, got {other:?}"),
    }
    // TLS 1.3: the refusal arrives on the first read, after the handshake.
    match get(&server, None) {
        HttpOutcome::Refused {
            during_handshake, ..
        } => assert!(!during_handshake),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn no_certificate_is_refused_during_the_tls12_handshake() {
    let server = OpensslServer::start_with_client_auth(ClientVerify::Required, &["-tls1_2"]);
    let id = identity(&server, "spiffe://test.client");
    assert!(matches!(
        get(&server, Some(&id)),
        HttpOutcome::Response { status: 200, .. }
    ));
    match get(&server, None) {
        HttpOutcome::Refused {
            during_handshake, ..
        } => assert!(during_handshake),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_gateway_that_ignores_the_deny_rule_fails_with_a_critical_finding() {
    let server = OpensslServer::start_with_client_auth(ClientVerify::Required, &[]);
    let policy = load_str("authz.yaml", SEED_004).expect("seed 004 parses");
    let named = |uri: &str| NamedIdentity {
        name: uri.trim_start_matches("spiffe://").to_owned(),
        principal: Some(uri.trim_start_matches("spiffe://").to_owned()),
        identity: identity(&server, uri),
    };
    let identities = [
        named("spiffe://test.client"),
        named("spiffe://other.client"),
    ];
    // Planned from the policy first, as `plan::build` does: probing never
    // sees the policy.
    let planned = plan_authz(
        &policy,
        "default/httpbin",
        PeerCertificate::Required,
        Some("localhost"),
        &identities,
        None,
    );
    let ctx = AuthzContext {
        sni: Some("localhost"),
        plan: &planned,
        jwt: None,
        expired: None,
    };
    let mut target = TargetObservation::new(server.addr().to_string(), server.addr().port(), None);
    target.mtls = Some(MtlsResult {
        client_cert_required: Some(true),
        client_cert_requested: Some(true),
        acceptable_ca_names: Vec::new(),
        required_by_http: None,
        evidence: String::new(),
        probes: Vec::new(),
    });
    let prober = Prober::new(server.addr(), timeouts(), 4);
    runtime().block_on(scan_authorization(&prober, &mut target, &ctx, &identities));
    let target = judged(target);

    // Both identities pass the mTLS handshake.
    let mtls = target.mtls.as_ref().expect("mtls");
    for name in ["test.client", "other.client"] {
        let p = mtls
            .probes
            .iter()
            .find(|p| p.identity.name() == name)
            .expect("probe");
        assert_eq!(p.outcome, MtlsOutcome::Accepted, "{p:?}");
    }
    let deny = target
        .authorization
        .iter()
        .find(|p| p.request.identity.name() == "test.client" && p.request.path == "/status/418")
        .expect("the deny probe");
    assert_eq!(deny.request.expected.name(), Outcome::Deny.name());
    assert_eq!(deny.request.status, Some(200));
    assert_eq!(deny.verdict, ProbeVerdict::Fail);
    assert_eq!(deny.request.rule, "istio-system/test rules[0]");
    // Everything else is allowed, and s_server allows it.
    for p in target.authorization.iter().filter(|p| p != &deny) {
        assert_eq!(
            (p.request.expected, p.verdict),
            (Expected::Allow, ProbeVerdict::Pass),
            "{p:?}"
        );
    }
    let finding = target
        .findings
        .iter()
        .find(|f| f.id == "authz.wrong_client_admitted")
        .expect("the critical finding");
    assert_eq!(finding.severity, Severity::Critical);
    assert!(finding.title.contains("authz.yaml:"), "{}", finding.title);
    assert_eq!(target.findings.len(), 1, "{:#?}", target.findings);
}

#[test]
fn cli_scan_with_policy_and_identity_reports_the_unenforced_deny() {
    let server = OpensslServer::start_with_client_auth(ClientVerify::Required, &[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let issued = issue_client_cert(server.ca(), "spiffe://test.client").expect("issuing");
    let files = issued.write(dir.path(), "client").expect("writing");
    let policy = dir.path().join("authz.yaml");
    std::fs::write(&policy, SEED_004).expect("writing the policy");
    let output = assert_cmd::Command::cargo_bin("tlsposture")
        .expect("binary")
        .args(["scan", &server.addr().to_string(), "--sni", "test.com"])
        .arg("--policy")
        .arg(&policy)
        .args(["--declared-port", "443", "--checks", "mtls", "--json", "-"])
        .arg("--identity")
        .arg(format!("{},{}", files.cert.display(), files.key.display()))
        .output()
        .expect("running the scan");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON report");
    let target = &report["targets"][0];
    let probes = target["authorization"].as_array().expect("authorization");
    let deny = probes
        .iter()
        .find(|p| p["path"] == "/status/418" && p["identity"] == "test.client")
        .expect("the deny probe");
    assert_eq!(deny["expected"], "deny");
    assert_eq!(deny["verdict"], "fail");
    assert!(target["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .any(|f| f["id"] == "authz.wrong_client_admitted"));
    // The identity was named after its spiffe:// SAN and accepted.
    assert!(target["mtls"]["probes"]
        .as_array()
        .expect("mtls probes")
        .iter()
        .any(|p| p["identity"] == "test.client" && p["outcome"] == "accepted"));
    // With one identity there is no non-matching one: noted, not guessed.
    let notes = target["authorization_notes"].to_string();
    assert!(notes.contains("every given identity matches"), "{notes}");
    // The key never reaches the report or the log.
    let key_body: String = issued
        .key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let stderr = String::from_utf8_lossy(&output.stderr);
    for line in issued.key_pem.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!stdout.contains(line) && !stderr.contains(line));
    }
    assert!(!key_body.is_empty());
}

/// Seed 003's JWT case on a server that checks client certificates but no
/// tokens: every invalid token and the missing one are let through (fail,
/// critical); the given token is allowed (pass) and reported by
/// fingerprint only.
#[test]
fn a_gateway_that_does_not_check_tokens_fails_every_invalid_token_probe() {
    const SEED_003: &str = include_str!("../fixtures/policy/istio-mutual-003.yaml");
    const TOKEN: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiAidGVzdGluZ0BzZWN1cmUuaXN0aW8uaW8iLCAic3ViIjogInRlc3RpbmdAc2VjdXJlLmlzdGlvLmlvIiwgImV4cCI6IDQ2ODU5ODk3MDB9.bm90LWEtcmVhbC1zaWduYXR1cmU";
    let server = OpensslServer::start_with_client_auth(ClientVerify::Required, &["-tls1_3"]);
    let policy = load_str("003.yaml", SEED_003).expect("seed 003 parses");
    let given = tlsposture::scan::jwt::GivenJwt::parse(TOKEN).expect("token parses");
    let identities = [NamedIdentity {
        name: "test.client".into(),
        principal: Some("test.client".into()),
        identity: identity(&server, "spiffe://test.client"),
    }];
    let planned = plan_authz(
        &policy,
        "mygateway",
        PeerCertificate::Required,
        Some("httpbin.example.com"),
        &identities,
        Some(&given),
    );
    let ctx = AuthzContext {
        sni: Some("httpbin.example.com"),
        plan: &planned,
        jwt: Some(&given),
        expired: None,
    };
    let mut target = TargetObservation::new(server.addr().to_string(), server.addr().port(), None);
    let prober = Prober::new(server.addr(), timeouts(), 4);
    runtime().block_on(scan_authorization(&prober, &mut target, &ctx, &identities));
    let target = judged(target);
    let by_token = |t: &str| {
        target
            .authorization
            .iter()
            .find(|p| p.request.token.as_deref().is_some_and(|x| x.starts_with(t)))
            .unwrap_or_else(|| panic!("no {t} probe: {:#?}", target.authorization))
    };
    for (token, expected, verdict) in [
        ("none", "deny", "fail"),
        ("malformed", "reject", "fail"),
        ("unknown-key", "reject", "fail"),
        ("expired", "reject", "fail"),
        ("given sha256:", "allow", "pass"),
    ] {
        let p = by_token(token);
        assert_eq!(
            (p.request.expected.name(), p.verdict.name()),
            (expected, verdict),
            "{p:#?}"
        );
        assert_eq!(p.request.status, Some(200));
    }
    let ids: Vec<&str> = target.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids.iter()
            .filter(|i| **i == "authz.invalid_token_admitted")
            .count(),
        3,
        "{ids:?}"
    );
    assert!(ids.contains(&"authz.wrong_client_admitted"), "{ids:?}");
    let json = serde_json::to_string(&target).expect("serializes");
    assert!(!json.contains(TOKEN));
}

/// `--ca-key`: the scanner mints an expired certificate and a wrong-SAN
/// one under the user's CA; a server requiring certificates from that CA
/// refuses the first and accepts the second, which becomes the "other"
/// client of seed 004's rule.
#[test]
fn cli_ca_key_mints_an_expired_and_a_wrong_san_client() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "user CA");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca = params.self_signed(&key).expect("CA");
    let ca_path = dir.path().join("ca.pem");
    let key_path = dir.path().join("ca.key");
    std::fs::write(&ca_path, ca.pem()).expect("ca.pem");
    std::fs::write(&key_path, key.serialize_pem()).expect("ca.key");
    let ca_arg = ca_path.display().to_string();
    let server =
        OpensslServer::start(&["-Verify", "1", "-CAfile", &ca_arg, "-verify_return_error"]);
    let policy = dir.path().join("authz.yaml");
    std::fs::write(&policy, SEED_004).expect("writing the policy");
    let output = assert_cmd::Command::cargo_bin("tlsposture")
        .expect("binary")
        .args(["scan", &server.addr().to_string(), "--sni", "test.com"])
        .arg("--policy")
        .arg(&policy)
        .args(["--declared-port", "443", "--checks", "mtls", "--json", "-"])
        .arg("--ca")
        .arg(&ca_path)
        .arg("--ca-key")
        .arg(&key_path)
        .output()
        .expect("running the scan");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON report");
    let target = &report["targets"][0];
    let mtls = target["mtls"]["probes"].as_array().expect("mtls probes");
    let outcome = |name: &str| {
        mtls.iter()
            .find(|p| p["identity"] == name)
            .map(|p| p["outcome"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_else(|| panic!("no {name} probe: {mtls:#?}"))
    };
    assert_eq!(outcome("expired-cert"), "refused");
    assert_eq!(outcome("wrong-san"), "accepted");
    let probes = target["authorization"].as_array().expect("authorization");
    assert!(
        probes.iter().any(|p| p["identity"] == "wrong-san"
            && p["path"] == "/status/418"
            && p["verdict"] == "pass"),
        "{probes:#?}"
    );
    let ids = target["findings"].to_string();
    assert!(!ids.contains("mtls."), "{ids}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stdout.contains("PRIVATE KEY") && !stderr.contains("PRIVATE KEY"));
}

/// Without a policy, `--identity` still goes through the mTLS probe.
#[test]
fn cli_identity_without_policy_is_an_mtls_probe() {
    let server = OpensslServer::start_with_client_auth(ClientVerify::Required, &["-tls1_2"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let issued = issue_client_cert(server.ca(), "spiffe://test.client").expect("issuing");
    let files = issued.write(dir.path(), "client").expect("writing");
    let output = assert_cmd::Command::cargo_bin("tlsposture")
        .expect("binary")
        .args([
            "scan",
            &server.addr().to_string(),
            "--checks",
            "mtls",
            "--json",
            "-",
        ])
        .arg("--identity")
        .arg(format!(
            "me={},{}",
            files.cert.display(),
            files.key.display()
        ))
        .output()
        .expect("running the scan");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    let probes = report["targets"][0]["mtls"]["probes"]
        .as_array()
        .expect("probes");
    let me = probes
        .iter()
        .find(|p| p["identity"] == "me")
        .expect("me probed");
    assert_eq!(me["outcome"], "accepted", "{me}");
    assert!(report["targets"][0].get("authorization").is_none());
}
