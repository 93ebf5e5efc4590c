//! Seeds 003 and 004 end to end on the lab: the policy YAML is read with
//! the real reader, `listeners_from_policy` renders its AuthorizationPolicy
//! as Envoy RBAC and its RequestAuthentication as `jwt_authn`, and
//! `openssl s_client` sends hand-written HTTP/1.1 requests with and without
//! client certificates and tokens, reading Envoy's real answers: `403 RBAC:
//! access denied`, httpbin's `418` teapot, `401 Jwt is expired`, `401 Jwt
//! verification fails`. TLS 1.3 and TLS 1.2-only listeners both.

mod support;

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};

use support::runtime;
use tlsposture::lab::{listeners_from_policy, CertFiles, Lab, PolicyLab, PolicyLabOptions};

fn fixture(name: &str) -> String {
    format!("{}/fixtures/policy/{name}", env!("CARGO_MANIFEST_DIR"))
}

struct AuthzLab {
    plab: PolicyLab,
    lab: Lab,
}

fn start(files: &[&str]) -> AuthzLab {
    let paths: Vec<String> = files.iter().map(|f| fixture(f)).collect();
    let policy = tlsposture::policy::load_files(&paths).expect("fixture parses");
    let plab = listeners_from_policy(&policy, &PolicyLabOptions::default()).expect("lab-able");
    let rt = runtime();
    let lab = match rt.block_on(rt.spawn(Lab::start(plab.lab_options(None)))) {
        Ok(Ok(lab)) => lab,
        Ok(Err(e)) => panic!("could not start the Envoy lab: {e}"),
        Err(e) => panic!("the lab start-up task failed: {e}"),
    };
    AuthzLab { plab, lab }
}

impl AuthzLab {
    fn addr(&self, port: u16) -> SocketAddr {
        self.plab
            .addr(&self.lab, port)
            .expect("declared port served")
    }

    fn identity(&self, uri: &str) -> CertFiles {
        let stem = uri.trim_start_matches("spiffe://");
        self.lab.write_client_identity(uri, stem).expect("issue")
    }
}

/// What one request got back; `status` is `None` when the TLS side refused.
struct Response {
    status: Option<u16>,
    body: String,
    raw: String,
    diagnostics: String,
}

struct Req<'a> {
    method: &'a str,
    path: &'a str,
    cert: Option<&'a CertFiles>,
    token: Option<&'a str>,
    /// `-tls1_2` / `-tls1_3`.
    version: &'a str,
}

fn get<'a>(path: &'a str, cert: Option<&'a CertFiles>, version: &'a str) -> Req<'a> {
    Req {
        method: "GET",
        path,
        cert,
        token: None,
        version,
    }
}

fn send(addr: SocketAddr, sni: &str, req: &Req<'_>) -> Response {
    assert!(addr.ip().is_loopback(), "tests only connect to loopback");
    let connect = addr.to_string();
    let mut cmd = Command::new("timeout");
    cmd.args(["5", "openssl", "s_client", "-quiet", "-connect", &connect])
        .args(["-servername", sni, req.version]);
    if let Some(cert) = req.cert {
        cmd.arg("-cert").arg(&cert.cert).arg("-key").arg(&cert.key);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run openssl s_client ({e}): apt-get install openssl"));
    let auth = req
        .token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{} {} HTTP/1.1\r\nHost: {sni}\r\n{auth}Connection: close\r\n\r\n",
        req.method, req.path
    );
    // A refused handshake may close stdin before we write.
    let _ = child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(request.as_bytes());
    let out = child.wait_with_output().expect("waiting for s_client");
    let raw = String::from_utf8_lossy(&out.stdout).into_owned();
    let status = raw
        .strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok());
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Response {
        status,
        body,
        raw,
        diagnostics: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn assert_status(r: &Response, status: u16, body: Option<&str>, what: &str) {
    assert_eq!(
        r.status,
        Some(status),
        "{what}: response {:?}, s_client said {:?}",
        r.raw,
        r.diagnostics
    );
    if let Some(body) = body {
        assert!(
            r.body.contains(body),
            "{what}: body {:?} lacks {body:?}",
            r.body
        );
    }
}

fn assert_refused(r: &Response, what: &str) {
    assert_eq!(
        r.status, None,
        "{what}: expected a TLS refusal, got {:?} (s_client: {:?})",
        r.raw, r.diagnostics
    );
}

const DENIED: &str = "RBAC: access denied";

/// Seed 004: a client certificate for test.client is denied /status/418
/// only; another identity gets the teapot; no certificate is refused.
fn seed_004(lab: &AuthzLab, version: &str) {
    let addr = lab.addr(443);
    let ids = lab
        .plab
        .write_client_identities(&lab.lab)
        .expect("identities");
    assert_eq!(ids[0].uri, "spiffe://test.client");
    let test = &ids[0].files;
    let other = lab.identity("spiffe://other.client");

    let r = send(addr, "test.com", &get("/status/418", Some(test), version));
    assert_status(&r, 403, Some(DENIED), "test.client /status/418");
    let r = send(addr, "test.com", &get("/status/200", Some(test), version));
    assert_status(&r, 200, None, "test.client /status/200");
    let r = send(addr, "test.com", &get("/status/418", Some(&other), version));
    assert_status(&r, 418, Some("-=[ teapot ]=-"), "other.client /status/418");
    let r = send(addr, "test.com", &get("/status/418", None, version));
    assert_refused(&r, "no client certificate");
}

#[test]
fn seed_004_deny_on_tls13() {
    let lab = start(&["asm-mtls-authz-004.yaml"]);
    let lines = lab.plab.describe(Some(&lab.lab));
    assert!(
        lines.iter().any(|l| l
            .starts_with("port 443: DENY principals [spiffe://test.client] paths [/status/418]")),
        "{lines:#?}"
    );
    seed_004(&lab, "-tls1_3");

    // The port-80 server gets the same filter; a plain connection has no
    // peer principal, so the DENY rule does not match it.
    let plain = lab.addr(80);
    let mut stream = std::net::TcpStream::connect(plain).expect("connect :80");
    stream
        .write_all(b"GET /status/418 HTTP/1.1\r\nHost: test.com\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut stream, &mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 418"), "{text}");
    drop(lab);
}

#[test]
fn seed_004_deny_on_tls12_only() {
    let lab = start(&["mutual-tls12-only.yaml", "authz-deny-test-client.yaml"]);
    seed_004(&lab, "-tls1_2");
    let ids = lab
        .plab
        .write_client_identities(&lab.lab)
        .expect("identities");
    let r = send(
        lab.addr(443),
        "test.com",
        &get("/status/200", Some(&ids[0].files), "-tls1_3"),
    );
    assert_refused(&r, "TLS 1.3 on a TLS 1.2-only listener");
}

#[test]
fn seed_003_jwt() {
    let lab = start(&["istio-mutual-003.yaml"]);
    let addr = lab.addr(443);
    let sni = "httpbin.example.com";
    let ids = lab
        .plab
        .write_client_identities(&lab.lab)
        .expect("identities");
    let cert = &ids[0].files;
    let issuers = lab.lab.jwt_issuers();
    assert_eq!(issuers.len(), 1);
    let files = &issuers[0];
    assert_eq!(files.issuer, "testing@secure.istio.io");
    assert!(
        files.dir.starts_with(lab.lab.workdir()),
        "tokens stay in the workdir"
    );
    let read = |p: &Path| std::fs::read_to_string(p).expect("token file");
    let (valid, expired, bad) = (
        read(&files.token),
        read(&files.expired),
        read(&files.bad_signature),
    );
    let lines = lab.plab.describe(Some(&lab.lab));
    let shown = lines.join("\n");
    assert!(
        shown.contains(&files.token.display().to_string()),
        "{shown}"
    );
    assert!(
        shown.contains("ALLOW requestPrincipals [testing@secure.istio.io/*]"),
        "{shown}"
    );
    assert!(
        shown.contains("jwksUri https://raw.githubusercontent.com"),
        "{shown}"
    );

    let mut req = get("/status/200", Some(cert), "-tls1_3");
    // No token: authentication passes, the ALLOW requestPrincipals rule
    // does not match: 403.
    assert_status(&send(addr, sni, &req), 403, Some(DENIED), "no token");
    req.token = Some(&valid);
    assert_status(&send(addr, sni, &req), 200, None, "valid token");
    req.token = Some(&expired);
    assert_status(
        &send(addr, sni, &req),
        401,
        Some("Jwt is expired"),
        "expired token",
    );
    req.token = Some(&bad);
    assert_status(
        &send(addr, sni, &req),
        401,
        Some("Jwt verification fails"),
        "token signed by another key",
    );
    req.token = Some("not-a-jwt");
    assert_status(&send(addr, sni, &req), 401, None, "malformed token");
    // Envoy's default token locations include `?access_token=`.
    let path = format!("/status/418?access_token={valid}");
    let r = send(addr, sni, &get(&path, Some(cert), "-tls1_2"));
    assert_status(
        &r,
        418,
        Some("teapot"),
        "token as a query parameter over TLS 1.2",
    );
}

#[test]
fn allow_policy_denies_by_default() {
    let lab = start(&["authz-allow.yaml"]);
    let addr = lab.addr(443);
    let lines = lab.plab.describe(Some(&lab.lab)).join("\n");
    assert!(lines.contains("ALLOW principals [spiffe://test.client] methods [GET] paths [/status/*] notPaths [/status/500]"), "{lines}");
    assert!(
        !lines.contains("policy[other-gateway]"),
        "a DENY for another selector is not rendered: {lines}"
    );
    assert!(
        lines.contains("other-gateway does not apply: its selector"),
        "and the lab says why: {lines}"
    );
    let ids = lab
        .plab
        .write_client_identities(&lab.lab)
        .expect("identities");
    let test = &ids[0].files;
    let other = lab.identity("spiffe://other.client");
    let v = "-tls1_3";
    let cases: &[(&str, &str, &CertFiles, u16)] = &[
        ("GET", "/status/200", test, 200),
        ("GET", "/status/418", test, 418),
        ("GET", "/status/500", test, 403),
        ("GET", "/headers", test, 403),
        ("POST", "/status/200", test, 403),
        ("GET", "/status/200", &other, 403),
    ];
    for &(method, path, cert, status) in cases {
        let req = Req {
            method,
            path,
            cert: Some(cert),
            token: None,
            version: v,
        };
        let r = send(addr, "test.com", &req);
        let body = (status == 403).then_some(DENIED);
        assert_status(
            &r,
            status,
            body,
            &format!("{method} {path} as {}", cert.cert.display()),
        );
    }
}

/// One plain HTTP/1.1 request on the lab's port-80 listener.
fn plain(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    use std::io::Read;
    assert!(addr.ip().is_loopback(), "tests only connect to loopback");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    let mut request = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        request.push_str("Host: test.com\r\n");
    }
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("write");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read");
    let status = raw
        .strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok());
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Response {
        status,
        body,
        raw,
        diagnostics: String::new(),
    }
}

#[test]
fn jwt_claims_request_principals_hosts_and_headers() {
    let lab = start(&["authz-jwt-claims.yaml"]);
    let addr = lab.addr(80);
    let files = &lab.lab.jwt_issuers()[0];
    assert_eq!(files.issuer, "https://issuer.lab.test/tenant");
    let token = std::fs::read_to_string(&files.token).expect("token");
    let bearer = format!("Bearer {token}");
    let auth = [("Authorization", bearer.as_str())];

    // A valid token with no rule in the way; a missing one passes too
    // (no ALLOW policy here).
    assert_status(
        &plain(addr, "GET", "/status/200", &auth),
        200,
        None,
        "token",
    );
    assert_status(
        &plain(addr, "GET", "/status/200", &[]),
        200,
        None,
        "no token",
    );
    // The token is checked against the declared audience (lab tokens
    // carry the first one). A token for another audience is refused with
    // 403 (not 401): Envoy maps JwtAudienceNotAllowed to Forbidden, with a
    // `www-authenticate: Bearer … error="invalid_token"` header.
    let signer = tlsposture::lab::jwt::JwtSigner::load(files).expect("signer");
    let other_aud = signer
        .sign(&signer.claims(&["someone-else".to_owned()], 3600))
        .expect("sign");
    let other = format!("Bearer {other_aud}");
    let r = plain(
        addr,
        "GET",
        "/status/200",
        &[("Authorization", other.as_str())],
    );
    assert_status(
        &r,
        403,
        Some("Audiences in Jwt are not allowed"),
        "wrong aud",
    );
    assert!(r.raw.contains("error=\"invalid_token\""), "{}", r.raw);
    // request.auth.claims[groups] (a list claim) contains group1.
    let r = plain(addr, "GET", "/admin/x", &auth);
    assert_status(&r, 403, Some(DENIED), "group1 on /admin/*");
    assert_status(
        &plain(addr, "GET", "/admin/x", &[]),
        200,
        None,
        "no claims on /admin/*",
    );
    // notRequestPrincipals with a URL issuer (split at the last '/').
    assert_status(
        &plain(addr, "GET", "/private", &[]),
        403,
        Some(DENIED),
        "no principal",
    );
    assert_status(
        &plain(addr, "GET", "/private", &auth),
        200,
        None,
        "iss/sub matches",
    );
    // hosts: case-insensitive, and an exact host does not cover host:port.
    let host = |h: &str| plain(addr, "GET", "/", &[("Host", h)]);
    assert_status(&host("BLOCKED.test"), 403, Some(DENIED), "blocked host");
    assert_status(
        &host("blocked.test:80"),
        200,
        None,
        "blocked host with a port",
    );
    // methods + request.headers notValues.
    let team = |t: &str| plain(addr, "DELETE", "/status/200", &[("x-lab-team", t)]);
    assert_status(&team("dev"), 403, Some(DENIED), "DELETE as dev");
    assert_status(&team("ops-east"), 200, None, "DELETE as ops-*");
}

/// `tlsposture lab --policy` as a user runs it: the output names every
/// rendered RBAC rule and JWT provider, the token files (which exist, in
/// the lab's temporary workdir), and what was left out.
#[test]
fn cli_lab_policy_lists_rules_and_tokens() {
    use assert_cmd::cargo::CommandCargoExt;
    use std::io::{BufRead, BufReader};

    struct Running(std::process::Child);
    impl Drop for Running {
        fn drop(&mut self) {
            // SIGTERM: the lab stops Envoy and removes its files.
            unsafe {
                libc::kill(self.0.id() as libc::pid_t, libc::SIGTERM);
            }
            let _ = self.0.wait();
        }
    }

    let mut child = Command::cargo_bin("tlsposture")
        .expect("the tlsposture binary is built")
        .args(["lab", "--policy", &fixture("istio-mutual-003.yaml")])
        .args(["--policy", &fixture("authz-deny-test-client.yaml")])
        .args(["--port-base", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn tlsposture lab");
    let stdout = child.stdout.take().expect("piped stdout");
    let running = Running(child);
    let mut output = String::new();
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.expect("read lab output");
        output.push_str(&line);
        output.push('\n');
        if line.contains("Press Ctrl-C") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    for expected in [
        "  port 443: DENY principals [spiffe://test.client] paths [/status/418]  \
         (ns[istio-system]-policy[test]-rule[0])",
        "  port 443: ALLOW policies present: requests no ALLOW rule matches are denied (403)",
        "  port 443: ALLOW requestPrincipals [testing@secure.istio.io/*]  \
         (ns[istio-system]-policy[require-jwt]-rule[0])",
        "  port 443: JWT issuer testing@secure.istio.io (requestauthentication \
         istio-system/ingressgateway jwtRules[0]): keys made by the lab \
         (jwt/testing-secure-istio-io/)",
        "  port 443: note: requestauthentication istio-system/ingressgateway jwtRules[0]: \
         jwksUri https://raw.githubusercontent.com/",
    ] {
        assert!(
            output.contains(expected),
            "missing {expected:?} in:\n{output}"
        );
    }
    let token_line = output
        .lines()
        .find(|l| {
            l.trim_start()
                .starts_with("JWT issuer testing@secure.istio.io: valid token ")
        })
        .unwrap_or_else(|| panic!("no token line in:\n{output}"));
    let token = token_line
        .split("valid token ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("token path");
    let token = Path::new(token);
    assert!(token.is_file(), "{token:?}");
    assert!(
        token.starts_with(std::env::temp_dir()),
        "tokens stay in the temp workdir: {token:?}"
    );
    assert!(
        token_line.contains("expired.jwt") && token_line.contains("bad-signature.jwt"),
        "{token_line}"
    );
    let workdir = token.ancestors().nth(3).expect("workdir").to_path_buf();
    drop(running);
    assert!(!workdir.exists(), "the lab removed {workdir:?} on SIGTERM");
}

/// Two issuers on one gateway (Istio nests the requirements): each one's
/// valid token authenticates, each one's expired or forged token is 401
/// with Envoy's reason, and the ALLOW `requestPrincipals` rule admits only
/// testing@secure.istio.io's.
#[test]
fn two_issuers() {
    let lab = start(&["authz-jwt-claims.yaml", "istio-mutual-003.yaml"]);
    let addr = lab.addr(80);
    let issuers = lab.lab.jwt_issuers();
    assert_eq!(issuers.len(), 2);
    for files in issuers {
        let read = |p: &Path| std::fs::read_to_string(p).expect("token file");
        let send = |p: &Path| {
            let bearer = format!("Bearer {}", read(p));
            plain(
                addr,
                "GET",
                "/status/200",
                &[("Authorization", bearer.as_str())],
            )
        };
        let who = &files.issuer;
        let valid = send(&files.token);
        if who == "testing@secure.istio.io" {
            assert_status(&valid, 200, None, who);
        } else {
            assert_status(&valid, 403, Some(DENIED), who);
        }
        assert_status(&send(&files.expired), 401, Some("Jwt is expired"), who);
        let r = send(&files.bad_signature);
        assert_status(&r, 401, Some("Jwt verification fails"), who);
    }
    let r = plain(addr, "GET", "/status/200", &[]);
    assert_status(&r, 403, Some(DENIED), "no token");
}
