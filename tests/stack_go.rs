//! Go's crypto/tls (issue 14, defect 6): its TLS 1.2 suite preference is
//! neither the server's order nor the client's — AES-128-GCM before
//! AES-256-GCM whatever the client lists, ChaCha20 first only when the
//! client lists it first. The scan must describe that, not force a binary
//! answer. The facts are established with `openssl s_client`.

mod support;

use serde_json::Value;
use support::go_server::GoServer;
use support::{s_client, tlsposture};

#[test]
fn go_tls12_preference_is_reported_as_mixed() {
    let server = GoServer::start(true);
    let addr = server.addr();
    let pick = |list: &str| {
        s_client(addr, None, &["-tls1_2", "-cipher", list])
            .cipher
            .unwrap_or_else(|| panic!("s_client with {list} connects"))
    };
    // Not the client's order: offered AES-256 first, it picks AES-128.
    assert_eq!(
        pick("ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256"),
        "ECDHE-RSA-AES128-GCM-SHA256"
    );
    // Not a fixed server order either: ChaCha20 wins when listed first,
    // and loses when listed second.
    assert_eq!(
        pick("ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256"),
        "ECDHE-RSA-CHACHA20-POLY1305"
    );
    assert_eq!(
        pick("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305"),
        "ECDHE-RSA-AES128-GCM-SHA256"
    );

    let target = addr.to_string();
    let (code, out, err) = tlsposture(&[
        "scan",
        &target,
        "--checks",
        "suites",
        "--no-color",
        "--json",
        "-",
    ]);
    assert_ne!(code, 2, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let pref = report["targets"][0]["server_preference"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["protocol"] == "TLS1.2")
        .cloned()
        .unwrap_or_else(|| panic!("{out}"));
    assert!(pref["server_enforces"].is_null(), "{pref}");
    let evidence = pref["evidence"].as_str().unwrap();
    assert!(evidence.starts_with("mixed"), "{evidence}");
    // The first pass shows Go's AES-128 over AES-256.
    let order: Vec<&str> = pref["order"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t[0].as_str())
        .collect();
    let at = |name: &str| order.iter().position(|n| *n == name).unwrap_or(usize::MAX);
    assert!(
        at("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") < at("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
        "{order:?}"
    );
}
