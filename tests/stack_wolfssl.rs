//! A wolfSSL 5.5 server (Debian's lighttpd + mod_wolfssl), which enforces
//! hello limits other stacks do not: more than 150 suites is a
//! `decode_error`, a hello with both the renegotiation SCSV and the
//! renegotiation_info extension a `handshake_failure`, `status_request`
//! closes the connection, and only the head of a long signature_algorithms
//! list is read. Issue 14 defect 1: the scan used to exit 2 on it.
//!
//! The facts are established independently of our scanner, with `openssl
//! s_client`: each protocol version, and each suite OpenSSL knows (minus
//! the PSK suites, which need a key s_client does not have).

mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use support::lighttpd::Lighttpd;
use support::{s_client, served_leaf_sha256, tlsposture};

/// OpenSSL's name and IANA code of every suite it knows for `version`
/// (`TLSv1.2`: suites usable up to TLS 1.2; `TLSv1.3`).
fn openssl_suites(tls13: bool) -> Vec<(String, u16)> {
    let out = std::process::Command::new("openssl")
        .args(["ciphers", "-V", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"])
        .output()
        .expect("openssl ciphers runs (apt-get install openssl)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let code = words.next()?;
            let (hi, lo) = code.split_once(',')?;
            let code = u16::from_str_radix(hi.trim_start_matches("0x"), 16).ok()? << 8
                | u16::from_str_radix(lo.trim_start_matches("0x"), 16).ok()?;
            let _dash = words.next()?;
            let name = words.next()?.to_owned();
            let proto = words.next()?;
            let kx = words.next()?;
            let psk = kx.contains("PSK") || name.contains("PSK") || name.contains("SRP");
            ((proto == "TLSv1.3") == tls13 && !psk).then_some((name, code))
        })
        .collect()
}

#[test]
fn a_wolfssl_server_is_scanned_with_compact_hellos_and_matches_s_client() {
    let server = Lighttpd::start_wolfssl("");
    let addr = server.addr();
    let target = addr.to_string();
    let (code, out, err) = tlsposture(&[
        "scan",
        &target,
        "--checks",
        "protocols,suites",
        "--no-color",
        "--json",
        "-",
    ]);
    assert_ne!(code, 2, "the target speaks TLS: {err}");
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let t = &report["targets"][0];

    // Protocols, each against s_client.
    for (name, flag) in [
        ("TLS1.0", "-tls1"),
        ("TLS1.1", "-tls1_1"),
        ("TLS1.2", "-tls1_2"),
        ("TLS1.3", "-tls1_3"),
    ] {
        let ours = t["protocols"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["version"] == name)
            .unwrap_or_else(|| panic!("{name} in {t}"));
        let theirs = s_client(addr, None, &[flag, "-cipher", "ALL:@SECLEVEL=0"]);
        assert_eq!(
            ours["offered"].as_bool(),
            Some(theirs.protocol.is_some()),
            "{name}: ours {ours}, s_client:\n{}",
            theirs.output
        );
    }
    // The defect: the broad hellos were refused, the compact ones answered,
    // and the report says so.
    for name in ["TLS1.2", "TLS1.3"] {
        let p = t["protocols"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["version"] == name)
            .unwrap();
        let fallback = p["fallback"].as_str().unwrap_or_else(|| panic!("{p}"));
        assert!(fallback.contains("decode_error"), "{fallback}");
    }
    let findings: Vec<&str> = t["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert!(
        findings.contains(&"protocol.hello_intolerance"),
        "{findings:?}"
    );

    // Suites: ours, restricted to what s_client can test, equal the suites
    // s_client connects with, one by one.
    for (tls13, version, flag) in [(false, "TLS1.2", "-tls1_2"), (true, "TLS1.3", "-tls1_3")] {
        let candidates = openssl_suites(tls13);
        let testable: BTreeSet<u16> = candidates.iter().map(|(_, c)| *c).collect();
        let ours: BTreeSet<u16> = t["cipher_suites"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["protocol"] == version)
            .filter_map(|s| {
                u16::from_str_radix(s["code"].as_str()?.trim_start_matches("0x"), 16).ok()
            })
            .filter(|c| testable.contains(c))
            .collect();
        let theirs: BTreeSet<u16> = candidates
            .iter()
            .filter(|(name, _)| {
                let args: Vec<&str> = if tls13 {
                    vec![flag, "-ciphersuites", name]
                } else {
                    vec![flag, "-cipher", name, "-ciphersuites", ""]
                };
                let mut args = args;
                let seclevel = format!("{name}:@SECLEVEL=0");
                if !tls13 {
                    args[2] = &seclevel;
                }
                s_client(addr, None, &args).protocol.is_some()
            })
            .map(|(_, c)| *c)
            .collect();
        assert!(
            !theirs.is_empty(),
            "{version}: s_client connected with no suite"
        );
        assert_eq!(ours, theirs, "{version} suites: ours vs s_client's");
    }
}

/// rustls always sends `status_request`, on which this wolfSSL closes
/// without an alert: the certificate is read from a raw TLS 1.2 hello
/// instead, and it is the one `openssl s_client` receives.
#[test]
fn a_wolfssl_servers_certificate_is_read_though_rustls_is_refused() {
    let server = Lighttpd::start_wolfssl("");
    let addr = server.addr();
    let target = addr.to_string();
    let ca = server.ca_file();
    let ca = ca.to_str().unwrap();
    let (code, out, err) = tlsposture(&[
        "scan",
        &target,
        "--sni",
        "localhost",
        "--checks",
        "certificates",
        "--ca",
        ca,
        "--no-color",
        "--json",
        "-",
    ]);
    assert_ne!(code, 2, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let certs = report["targets"][0]["certificates"]
        .as_array()
        .unwrap()
        .clone();
    let requested = certs
        .iter()
        .find(|c| c["request"] == "requested")
        .unwrap_or_else(|| panic!("{certs:?}"));
    let expected = served_leaf_sha256(addr, Some("localhost"), &[]).expect("s_client gets a leaf");
    assert_eq!(
        requested["chain"][0]["sha256"]
            .as_str()
            .map(str::to_ascii_uppercase),
        Some(expected),
        "{requested}"
    );
    assert_eq!(requested["trusted"], true, "{requested}");
    assert_eq!(requested["hostname_match"], true, "{requested}");
    let via = requested["read_via"]
        .as_str()
        .unwrap_or_else(|| panic!("{requested}"));
    assert!(
        via.contains("closed the full handshake without an alert"),
        "{via}"
    );
}
