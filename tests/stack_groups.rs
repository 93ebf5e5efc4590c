//! Servers whose groups exclude X25519, P-256 and P-384 (issue 14, defect
//! 2): the full handshakes (certificate, ALPN, mTLS) must reach them with
//! P-521 and the RFC 7919 FFDHE groups, and where our TLS client has no
//! shared group (X448) the certificate is `unknown` with the reason and a
//! finding — never "refused" — or read from a raw TLS 1.2 hello.
//! Each leaf is compared with the one `openssl s_client` receives.

mod support;

use serde_json::Value;
use support::{served_leaf_sha256, tlsposture, OpensslServer};

fn scan(server: &OpensslServer, checks: &str) -> (i32, Value) {
    let target = server.addr().to_string();
    let (code, out, err) = tlsposture(&[
        "scan",
        &target,
        "--checks",
        checks,
        "--no-color",
        "--json",
        "-",
    ]);
    assert_ne!(code, 2, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    (code, report["targets"][0].clone())
}

fn no_sni_cert(t: &Value) -> Value {
    t["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["request"] == "none")
        .unwrap_or_else(|| panic!("{t}"))
        .clone()
}

#[test]
fn p521_and_ffdhe_only_tls13_servers_get_full_handshakes() {
    for group in ["P-521", "ffdhe2048", "ffdhe4096"] {
        let server = OpensslServer::start(&["-tls1_3", "-groups", group]);
        let (_, t) = scan(&server, "certificates,alpn,mtls");
        let cert = no_sni_cert(&t);
        let leaf = served_leaf_sha256(server.addr(), None, &["-groups", group])
            .unwrap_or_else(|| panic!("s_client with {group} gets a leaf"));
        assert_eq!(
            cert["chain"][0]["sha256"]
                .as_str()
                .map(str::to_ascii_uppercase),
            Some(leaf),
            "{group}: {cert}"
        );
        assert!(
            cert.get("read_via").is_none(),
            "{group}: rustls read it: {cert}"
        );
        assert_eq!(cert["protocol"], "TLS1.3", "{group}: {cert}");
        // ALPN and mTLS are answered, not unknown: s_server -www offers no
        // ALPN and asks for no client certificate.
        let alpn = &t["alpn"];
        assert_eq!(
            (alpn["h2"].as_bool(), alpn["http11"].as_bool()),
            (Some(false), Some(false)),
            "{group}: {alpn}"
        );
        assert_eq!(
            t["mtls"]["client_cert_requested"], false,
            "{group}: {}",
            t["mtls"]
        );
    }
}

#[test]
fn an_x448_only_server_is_unknown_or_read_raw_never_refused() {
    // TLS 1.3 only: no way for our TLS client; the certificate is unknown,
    // with the group named, and a high finding says so.
    let server = OpensslServer::start(&["-tls1_3", "-groups", "X448"]);
    let (code, t) = scan(&server, "certificates");
    let cert = no_sni_cert(&t);
    assert!(cert.get("refused").is_none(), "{cert}");
    let why = cert["unknown"].as_str().unwrap_or_else(|| panic!("{cert}"));
    assert!(why.contains("x448"), "{why}");
    let ids: Vec<&str> = t["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert!(ids.contains(&"cert.unverified"), "{ids:?}");
    assert_eq!(code, 1, "a certificate not fetched is no clean scan");

    // TLS 1.2 too: the chain is in the clear there.
    let server = OpensslServer::start(&["-groups", "X448"]);
    let (_, t) = scan(&server, "certificates");
    let cert = no_sni_cert(&t);
    let leaf = served_leaf_sha256(server.addr(), None, &["-tls1_2", "-groups", "X448"])
        .expect("s_client over TLS 1.2 with X448 gets a leaf");
    assert_eq!(
        cert["chain"][0]["sha256"]
            .as_str()
            .map(str::to_ascii_uppercase),
        Some(leaf),
        "{cert}"
    );
    let via = cert["read_via"]
        .as_str()
        .unwrap_or_else(|| panic!("{cert}"));
    assert!(via.contains("raw TLS1.2"), "{via}");
}

/// The TLS 1.2 groups of a server with an ECDSA P-256 certificate (issue
/// 14, defect 3): removing P-256 from `supported_groups` also removes the
/// client's ability to verify the certificate, so the pass used to stop
/// there. Each group is checked on its own with `openssl s_client
/// -groups G:P-256` (the certificate's curve last, as the scan offers it).
#[test]
fn tls12_groups_of_an_ecdsa_server_are_found_past_the_certificate_curve() {
    let server = OpensslServer::start_ecdsa(&["-tls1_2", "-groups", "X25519:P-256:P-384:P-521"]);
    let (_, t) = scan(&server, "groups");
    let ours: Vec<String> = t["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["protocol"] == "TLS1.2")
        .filter_map(|g| g["name"].as_str().map(str::to_owned))
        .collect();
    for (name, ossl) in [
        ("x25519", "X25519"),
        ("secp256r1", "P-256"),
        ("secp384r1", "P-384"),
        ("secp521r1", "P-521"),
    ] {
        let groups = if ossl == "P-256" {
            "P-256".to_owned()
        } else {
            format!("{ossl}:P-256")
        };
        let theirs = support::s_client(server.addr(), None, &["-tls1_2", "-groups", &groups]);
        let negotiated = theirs
            .output
            .contains(&format!("Server Temp Key: {}", temp_key(ossl)));
        assert_eq!(
            ours.iter().any(|g| g == name),
            negotiated,
            "{name}: ours {ours:?}; s_client -groups {groups}:\n{}",
            theirs.output
        );
    }
    assert!(ours.len() >= 3, "{ours:?}");
}

/// How `s_client -brief` names a group in "Server Temp Key".
fn temp_key(openssl: &str) -> &str {
    match openssl {
        "X25519" => "X25519",
        "P-256" => "ECDH, prime256v1",
        "P-384" => "ECDH, secp384r1",
        "P-521" => "ECDH, secp521r1",
        other => other,
    }
}

/// RFC 7919 FFDHE groups in TLS 1.2 (issue 14, defect 5): gnutls-serv
/// negotiates them from `supported_groups` with DHE suites. Each is checked
/// with `gnutls-cli` offering that group alone (its session description
/// names it: `(DHE-FFDHE2048)`).
#[test]
fn tls12_ffdhe_groups_of_gnutls_are_enumerated_and_match_gnutls_cli() {
    let server = support::gnutls_server::GnutlsServer::start(
        "NORMAL:-VERS-TLS1.3:-KX-ALL:+DHE-RSA:+ECDHE-RSA:-GROUP-ALL:+GROUP-FFDHE3072:+GROUP-FFDHE2048:+GROUP-SECP256R1",
    );
    let target = server.addr().to_string();
    let (code, out, err) = tlsposture(&[
        "scan",
        &target,
        "--checks",
        "groups",
        "--no-color",
        "--json",
        "-",
    ]);
    assert_ne!(code, 2, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let ours: Vec<(String, String)> = report["targets"][0]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["name"].as_str().unwrap_or_default().to_owned(),
                g["kind"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for (name, gnutls) in [
        ("ffdhe2048", "FFDHE2048"),
        ("ffdhe3072", "FFDHE3072"),
        ("ffdhe4096", "FFDHE4096"),
        ("ffdhe8192", "FFDHE8192"),
    ] {
        let out = std::process::Command::new("timeout")
            .args(["5", "gnutls-cli", "--insecure", "-p"])
            .arg(server.addr().port().to_string())
            .arg("--priority")
            .arg(format!(
                "NORMAL:-VERS-TLS1.3:-KX-ALL:+DHE-RSA:-GROUP-ALL:+GROUP-{gnutls}"
            ))
            .arg("127.0.0.1")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("gnutls-cli runs (apt-get install gnutls-bin)");
        let text = String::from_utf8_lossy(&out.stdout);
        let theirs = text.contains(&format!("(DHE-{gnutls})"));
        let found = ours.iter().any(|(n, _)| n == name);
        assert_eq!(found, theirs, "{name}: ours {ours:?}; gnutls-cli:\n{text}");
        if found {
            assert!(
                ours.iter().any(|(n, k)| n == name && k == "ffdhe"),
                "{ours:?}"
            );
        }
    }
}
