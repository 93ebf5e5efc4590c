//! `tlsposture policy authz` through the binary: one request judged
//! offline by the resolved model (istiod's RBAC / jwt_authn filters as
//! Envoy evaluates them). Each case is a rule of docs/istio-rules.md §2–3.

use assert_cmd::Command;
use serde_json::Value;

fn gateway(mode: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: gw
  namespace: istio-system
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {{number: 443, name: https, protocol: HTTPS}}
    hosts: [example.com]
    tls:
      mode: {mode}
      credentialName: gw-cert
"
    )
}

const DENY_PRINCIPAL: &str = "---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-client, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: DENY
  rules:
  - from: [{source: {principals: [test.client]}}]
    to: [{operation: {paths: [/status/418]}}]
";

/// Runs the command on `yaml` with `args`; (exit code, JSON answer).
fn authz(yaml: &str, args: &[&str]) -> (i32, Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.yaml");
    std::fs::write(&file, yaml).unwrap();
    let out = Command::cargo_bin("tlsposture")
        .unwrap()
        .args(["policy", "authz"])
        .arg(&file)
        .args(args)
        .args(["--json", "-"])
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        code,
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn request<'a>(peer: &'a str, path: &'a str) -> Vec<&'a str> {
    vec![
        "--peer",
        peer,
        "--method",
        "GET",
        "--host",
        "example.com",
        "--path",
        path,
    ]
}

#[test]
fn deny_on_a_principal_holds_on_mutual_only() {
    let yaml = gateway("MUTUAL") + DENY_PRINCIPAL;
    let (code, j, _) = authz(&yaml, &request("spiffe://test.client", "/status/418"));
    assert_eq!(code, 0);
    assert_eq!(j["decision"], "deny", "{j}");
    assert_eq!(j["status"], 403);
    assert_eq!(j["by"]["policy"], "istio-system/deny-client");
    assert_eq!(j["by"]["rule"], 0);
    assert_eq!(j["by"]["action"], "DENY");
    // Another path: the rule's operation does not match.
    let (_, j, _) = authz(&yaml, &request("spiffe://test.client", "/status/200"));
    assert_eq!(j["status"], 200, "{j}");

    // SIMPLE: no certificate reaches Envoy; the principal is "" (R-A6).
    let yaml = gateway("SIMPLE") + DENY_PRINCIPAL;
    let (_, j, _) = authz(&yaml, &request("spiffe://test.client", "/status/418"));
    assert_eq!(j["decision"], "allow", "{j}");
    assert_eq!(j["status"], 200);
    let notes = j["notes"].to_string();
    assert!(notes.contains("effectively NONE"), "{notes}");
}

#[test]
fn dry_run_deny_decides_nothing() {
    let yaml = gateway("MUTUAL")
        + &DENY_PRINCIPAL.replace(
            "metadata: {name: deny-client, namespace: istio-system}",
            "metadata:\n  name: deny-client\n  namespace: istio-system\n  annotations: {istio.io/dry-run: \"true\"}",
        );
    let (_, j, _) = authz(&yaml, &request("spiffe://test.client", "/status/418"));
    assert_eq!(j["decision"], "allow", "{j}");
    assert_eq!(j["status"], 200);
    assert!(j["notes"].to_string().contains("dry-run DENY"), "{j}");
}

#[test]
fn allow_policies_deny_by_default_and_hosts_keep_the_port() {
    let yaml = gateway("SIMPLE")
        + "---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: only-example, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: ALLOW
  rules:
  - to: [{operation: {hosts: [example.com]}}]
";
    let (_, j, _) = authz(&yaml, &request("NONE", "/"));
    assert_eq!(j["status"], 200, "{j}");
    assert_eq!(j["by"]["rule"], 0);
    // `Host: example.com:443` is not `example.com` to Envoy (R-A8).
    let mut args = request("NONE", "/");
    args[5] = "example.com:443";
    let (_, j, _) = authz(&yaml, &args);
    assert_eq!(j["decision"], "deny", "{j}");
    assert_eq!(j["status"], 403);
    assert_eq!(j["by"]["policy"], "istio-system/only-example");
    assert_eq!(j["by"]["rule"], Value::Null);
    assert_eq!(j["by"]["action"], "ALLOW");
}

fn jwt_yaml(locations: &str) -> String {
    gateway("SIMPLE")
        + &format!(
            "---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {{name: ra, namespace: istio-system}}
spec:
  selector: {{matchLabels: {{istio: ingressgateway}}}}
  jwtRules:
  - issuer: iss.example
{locations}"
        )
}

#[test]
fn jwt_locations_and_invalid_tokens() {
    // fromParams only: a bad token in Authorization is not read (R-J2).
    let yaml = jwt_yaml("    fromParams: [t]\n");
    let mut args = request("NONE", "/");
    args.extend(["--token", "malformed", "--token-in", "header:Authorization"]);
    let (_, j, _) = authz(&yaml, &args);
    assert_eq!(j["status"], 200, "{j}");
    assert!(j["notes"]
        .to_string()
        .contains("no jwt_authn provider reads"));
    // The same token where the rule reads: 401.
    let mut args = request("NONE", "/");
    args.extend(["--token", "malformed", "--token-in", "query:t"]);
    let (_, j, _) = authz(&yaml, &args);
    assert_eq!(j["status"], 401, "{j}");
    // Defaults (no locations): an expired token in Authorization is 401.
    let yaml = jwt_yaml("");
    let mut args = request("NONE", "/");
    args.extend(["--token", "expired"]);
    let (_, j, _) = authz(&yaml, &args);
    assert_eq!(j["decision"], "deny", "{j}");
    assert_eq!(j["status"], 401);
    assert!(j["notes"].to_string().contains("Jwt is expired"), "{j}");
}

#[test]
fn custom_is_unknown() {
    let yaml = gateway("SIMPLE")
        + "---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ext, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: CUSTOM
  provider: {name: my-authz}
  rules:
  - to: [{operation: {paths: [/admin/*]}}]
";
    let (code, j, _) = authz(&yaml, &request("NONE", "/admin/x"));
    assert_eq!(code, 0);
    assert_eq!(j["decision"], "unknown", "{j}");
    assert_eq!(j["status"], Value::Null);
    assert!(j["notes"].to_string().contains("external authorizer"));
    let (_, j, _) = authz(&yaml, &request("NONE", "/public"));
    assert_eq!(j["decision"], "allow", "{j}");
}

#[test]
fn bad_input_is_64_naming_the_problem() {
    let yaml = gateway("SIMPLE");
    let mut args = request("NONE", "/");
    args.extend(["--token", "forged"]);
    let (code, _, err) = authz(&yaml, &args);
    assert_eq!(code, 64);
    assert!(err.contains("--token \"forged\""), "{err}");
    let (code, _, err) = authz(&yaml, &request("bob", "/"));
    assert_eq!(code, 64);
    assert!(err.contains("--peer"), "{err}");
    let (code, _, err) = authz("kind: [", &request("NONE", "/"));
    assert_eq!(code, 64);
    assert!(err.contains("policy.yaml:"), "{err}");
    let mut args = request("NONE", "/");
    args.extend(["--port", "8443"]);
    let (code, _, err) = authz(&yaml, &args);
    assert_eq!(code, 64);
    assert!(err.contains("--port 8443"), "{err}");
}

/// A PEM client certificate with these SANs and this CN, in a temp dir.
fn cert_file(dns: &[&str], uri: &[&str], cn: &str) -> (tempfile::TempDir, String) {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    for d in dns {
        params
            .subject_alt_names
            .push(rcgen::SanType::DnsName((*d).try_into().expect("dns name")));
    }
    for u in uri {
        params
            .subject_alt_names
            .push(rcgen::SanType::URI((*u).try_into().expect("uri")));
    }
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("cert");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("client.pem");
    std::fs::write(&path, cert.pem()).expect("write");
    let arg = format!("cert:{}", path.display());
    (dir, arg)
}

/// §A.6 / A38: Envoy's authenticated matcher tries URI SANs, then DNS
/// SANs, then the subject — a certificate without a SPIFFE SAN still
/// matches `principals: ["*"]` (regex `.+`), never `spiffe://…`.
#[test]
fn certificate_peers_are_matched_on_sans_then_subject() {
    let yaml = gateway("MUTUAL")
        + "---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-any-cert, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: DENY
  rules:
  - from: [{source: {principals: [\"*\"]}}]
    to: [{operation: {paths: [/any]}}]
  - from: [{source: {principals: [test.client]}}]
    to: [{operation: {paths: [/named]}}]
";
    let (_dir, cn_only) = cert_file(&[], &[], "only-a-cn");
    let (code, j, err) = authz(&yaml, &request(&cn_only, "/any"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(j["status"], 403, "{j}");
    assert_eq!(j["by"]["rule"], 0);
    let (_, j, _) = authz(&yaml, &request(&cn_only, "/named"));
    assert_eq!(j["status"], 200, "{j}");
    // A DNS SAN `test.client` is not `spiffe://test.client`.
    let (_dir2, dns) = cert_file(&["test.client"], &[], "x");
    let (_, j, _) = authz(&yaml, &request(&dns, "/named"));
    assert_eq!(j["status"], 200, "{j}");
    // The URI SAN is.
    let (_dir3, uri) = cert_file(&[], &["spiffe://test.client"], "x");
    let (_, j, _) = authz(&yaml, &request(&uri, "/named"));
    assert_eq!(j["status"], 403, "{j}");
    assert_eq!(j["by"]["rule"], 1);
}

/// A gateway with an HTTPS server on 443 and, on other ports, a TLS
/// PASSTHROUGH server, an AUTO_PASSTHROUGH one and a terminated TLS one.
const TCP_SERVERS: &str = "apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [example.com]
    tls: {mode: SIMPLE, credentialName: gw-cert}
  - port: {number: 8443, name: tls, protocol: TLS}
    hosts: [tcp.example.com]
    tls: {mode: PASSTHROUGH}
  - port: {number: 15443, name: tls-auto, protocol: TLS}
    hosts: ['*.local']
    tls: {mode: AUTO_PASSTHROUGH}
  - port: {number: 9443, name: tls-mtls, protocol: TLS}
    hosts: [db.example.com]
    tls: {mode: MUTUAL, credentialName: gw-cert}
";

/// TestGenerator_GenerateTCP deny-both-http-tcp: on a TCP chain a DENY
/// rule's HTTP-only field is dropped (a wider deny), on the HTTP chain it
/// holds; AUTO_PASSTHROUGH has no RBAC (gateway.go
/// builtAutoPassthroughFilterChains); a terminated TLS chain sees the
/// client certificate.
#[test]
fn tcp_chains_judge_the_connection() {
    let yaml = TCP_SERVERS.to_owned()
        + "---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-get, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: DENY
  rules:
  - to: [{operation: {methods: [GET]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-client, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: DENY
  rules:
  - from: [{source: {principals: [bad.client]}}]
";
    let post = |port: &str, peer: &str| {
        authz(
            &yaml,
            &[
                "--peer",
                peer,
                "--method",
                "POST",
                "--host",
                "tcp.example.com",
                "--path",
                "/",
                "--port",
                port,
            ],
        )
    };
    // HTTP chain: POST is not GET.
    let (code, j, err) = post("443", "NONE");
    assert_eq!(
        (code, j["decision"].as_str()),
        (0, Some("allow")),
        "{j} {err}"
    );
    // TCP chain: `methods` dropped, the rule denies every connection.
    let (code, j, err) = post("8443", "NONE");
    assert_eq!(code, 0, "{err}");
    assert_eq!(j["decision"], "deny", "{j}");
    assert_eq!(j["status"], Value::Null, "{j}");
    assert_eq!(j["by"]["policy"], "istio-system/deny-get", "{j}");
    let notes = j["notes"].to_string();
    assert!(notes.contains("connection closed by RBAC"), "{notes}");
    assert!(notes.contains("methods"), "{notes}");
    // AUTO_PASSTHROUGH: no RBAC at all.
    let (code, j, _) = post("15443", "NONE");
    assert_eq!((code, j["decision"].as_str()), (0, Some("allow")), "{j}");
    assert_eq!(j["status"], Value::Null, "{j}");
    assert!(j["notes"].to_string().contains("AUTO_PASSTHROUGH"), "{j}");

    // Without the HTTP-only DENY: the principal rule on each chain kind.
    let yaml = TCP_SERVERS.to_owned()
        + "---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-client, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: DENY
  rules:
  - from: [{source: {principals: [bad.client]}}]
";
    let conn = |port: &str, peer: &str| {
        authz(
            &yaml,
            &[
                "--peer",
                peer,
                "--method",
                "GET",
                "--host",
                "db.example.com",
                "--path",
                "/",
                "--port",
                port,
            ],
        )
        .1
    };
    // Terminated TLS (MUTUAL): the certificate reaches the network RBAC.
    assert_eq!(conn("9443", "spiffe://bad.client")["decision"], "deny");
    assert_eq!(conn("9443", "spiffe://good.client")["decision"], "allow");
    // PASSTHROUGH: the gateway never sees the certificate.
    let j = conn("8443", "spiffe://bad.client");
    assert_eq!(j["decision"], "allow", "{j}");
    assert!(j["notes"].to_string().contains("PASSTHROUGH"), "{j}");
}

/// `ports` is matched against the listener's own port: unknown unless
/// `--listener-port` gives it (allow-full-rule's destination_port 80 OR 90).
#[test]
fn listener_port_decides_ports_rules() {
    let yaml = gateway("SIMPLE")
        + "---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ports, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  rules:
  - to: [{operation: {ports: ['80', '90']}}]
";
    let with = |extra: &[&str]| {
        let mut a = request("NONE", "/");
        a.extend_from_slice(extra);
        authz(&yaml, &a).1
    };
    let j = with(&[]);
    assert_eq!(j["decision"], "unknown", "{j}");
    assert!(j["notes"].to_string().contains("target port"), "{j}");
    assert_eq!(with(&["--listener-port", "90"])["decision"], "allow");
    assert_eq!(with(&["--listener-port", "8443"])["decision"], "deny");
    let (code, _, _) = authz(
        &yaml,
        &[&request("NONE", "/")[..], &["--listener-port", "x"]].concat(),
    );
    assert_eq!(code, 64);
}

/// Trust-domain aliases from the mesh config (builder test
/// trust-domain-one-alias) and a CUSTOM provider the mesh does not define
/// (custom-bad-invalid-config): through the ConfigMap form.
#[test]
fn mesh_trust_domain_aliases_and_bad_custom_provider() {
    let mesh = "---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    trustDomain: td1
    trustDomainAliases: [cluster.local]
    extensionProviders:
    - name: other
      envoyExtAuthzHttp: {service: foo/ext.foo.svc.cluster.local, port: 9000}
";
    let allow = "---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: td, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  rules:
  - from: [{source: {principals: [cluster.local/ns/foo/sa/x]}}]
";
    let peer = "spiffe://td1/ns/foo/sa/x";
    let j = authz(&(gateway("MUTUAL") + allow), &request(peer, "/")).1;
    assert_eq!(j["decision"], "deny", "without the mesh config: {j}");
    let j = authz(&(gateway("MUTUAL") + mesh + allow), &request(peer, "/")).1;
    assert_eq!(
        j["decision"], "allow",
        "with td1 aliased to cluster.local: {j}"
    );

    let custom = "---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ext, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: CUSTOM
  provider: {name: default}
  rules:
  - to: [{operation: {paths: [/admin]}}]
";
    let j = authz(&(gateway("SIMPLE") + custom), &request("NONE", "/admin")).1;
    assert_eq!(j["decision"], "unknown", "no mesh config: {j}");
    let j = authz(
        &(gateway("SIMPLE") + mesh + custom),
        &request("NONE", "/admin"),
    )
    .1;
    assert_eq!(
        (j["decision"].as_str(), j["status"].as_u64()),
        (Some("deny"), Some(403)),
        "{j}"
    );
    assert_eq!(j["by"]["action"], "CUSTOM", "{j}");
    let j = authz(
        &(gateway("SIMPLE") + mesh + custom),
        &request("NONE", "/other"),
    )
    .1;
    assert_eq!(j["decision"], "allow", "{j}");
}

/// The server's chain comes from the resolved model, so what Envoy
/// enforces on it decides the connection, not the mode's name: SAN
/// matchers make OPTIONAL_MUTUAL require a certificate (R-T6), Envoy
/// refuses a SIMPLE server with subjectAltNames and no CA (observed on
/// Envoy 1.40, tests/lab_envoy_decides.rs), and a server istiod drops
/// (a host already served on the port, R-M1) is not judged at all.
#[test]
fn the_models_chain_decides_the_connection() {
    let with_sans = |mode: &str| {
        gateway(mode).replace(
            "      credentialName: gw-cert\n",
            "      credentialName: gw-cert\n      subjectAltNames: [spiffe://test.client]\n",
        ) + DENY_PRINCIPAL
    };
    let (code, j, _) = authz(&with_sans("OPTIONAL_MUTUAL"), &request("NONE", "/"));
    assert_eq!(code, 0);
    assert_eq!(j["decision"], "deny", "{j}");
    assert!(j["status"].is_null(), "{j}");
    assert!(j["notes"][0]
        .as_str()
        .unwrap()
        .contains("requires a client certificate"));
    // Without SAN matchers OPTIONAL_MUTUAL lets a client without one in.
    let (_, j, _) = authz(
        &(gateway("OPTIONAL_MUTUAL") + DENY_PRINCIPAL),
        &request("NONE", "/"),
    );
    assert_eq!(j["decision"], "allow", "{j}");

    let (code, j, _) = authz(&with_sans("SIMPLE"), &request("NONE", "/"));
    assert_eq!(code, 0);
    assert_eq!(j["decision"], "deny", "{j}");
    assert!(j["status"].is_null(), "{j}");
    assert!(
        j["notes"][0].as_str().unwrap().contains("Envoy refuses"),
        "{j}"
    );

    let second = gateway("SIMPLE").replace("name: gw\n", "name: gw2\n");
    let yaml = gateway("SIMPLE") + "---\n" + &second;
    let (code, j, _) = authz(
        &yaml,
        &[
            &request("NONE", "/")[..],
            &["--gateway", "istio-system/gw2"],
        ]
        .concat(),
    );
    assert_eq!(code, 0);
    assert_eq!(j["decision"], "unknown", "{j}");
    assert!(
        j["notes"][0].as_str().unwrap().contains("istiod drops"),
        "{j}"
    );
    let (_, j, _) = authz(
        &yaml,
        &[&request("NONE", "/")[..], &["--gateway", "istio-system/gw"]].concat(),
    );
    assert_eq!(j["decision"], "allow", "{j}");
}
