//! nginx with `ssl_verify_client on` (issue 14, defect 4): the handshake
//! completes without a client certificate and nginx answers `400 No
//! required SSL certificate was sent`. That is a required certificate,
//! enforced by the HTTP layer; `ssl_verify_client optional` serves the
//! request and is optional. The facts are checked with `openssl s_client`.

mod support;

use serde_json::Value;
use support::{https_get, tlsposture, Nginx};

fn mtls(nginx: &Nginx) -> Value {
    let target = nginx.addr().to_string();
    let (code, out, err) = tlsposture(&[
        "scan",
        &target,
        "--sni",
        "localhost",
        "--checks",
        "mtls",
        "--no-color",
        "--json",
        "-",
    ]);
    assert_ne!(code, 2, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    report["targets"][0]["mtls"].clone()
}

#[test]
fn nginx_verify_client_on_is_required_by_the_http_layer() {
    let nginx = Nginx::start("ssl_client_certificate {CA}; ssl_verify_client on;");
    // Independently: s_client without a certificate completes the
    // handshake and gets nginx's 400.
    let answer = https_get(nginx.addr(), Some("localhost"), "/");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("No required SSL certificate was sent"),
        "{answer}"
    );

    let m = mtls(&nginx);
    assert_eq!(m["client_cert_requested"], true, "{m}");
    assert_eq!(m["client_cert_required"], true, "{m}");
    let by_http = m["required_by_http"]
        .as_str()
        .unwrap_or_else(|| panic!("{m}"));
    assert!(by_http.starts_with("400"), "{by_http}");
    assert!(
        by_http.contains("No required SSL certificate was sent"),
        "{by_http}"
    );
}

#[test]
fn nginx_verify_client_optional_stays_optional() {
    let nginx = Nginx::start("ssl_client_certificate {CA}; ssl_verify_client optional;");
    let answer = https_get(nginx.addr(), Some("localhost"), "/");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let m = mtls(&nginx);
    assert_eq!(m["client_cert_requested"], true, "{m}");
    assert_eq!(m["client_cert_required"], false, "{m}");
    assert!(m.get("required_by_http").is_none(), "{m}");
}
