//! Differential test: on the same servers, tlsposture's protocol table agrees
//! with testssl.sh's `-p` check and its accepted cipher suites with `-E`
//! (Debian package `testssl.sh`), version by version and suite by suite, on
//! Envoy (BoringSSL), `openssl s_server` and `gnutls-serv`.
//! testssl.sh is slow (≈ 40 s a target with `-E`), so targets run in
//! parallel and testssl.sh runs once per target for both checks.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command as Process;

use assert_cmd::Command;
use serde_json::Value;

use support::gnutls_server::GnutlsServer;
use support::openssl_server::OpensslServer;

/// Our version names and testssl.sh's ids for `-p` and `-E`.
const VERSIONS: [(&str, &str, &str); 6] = [
    ("SSLv2", "SSLv2", "ssl2"),
    ("SSLv3", "SSLv3", "ssl3"),
    ("TLS1.0", "TLS1", "tls1"),
    ("TLS1.1", "TLS1_1", "tls1_1"),
    ("TLS1.2", "TLS1_2", "tls1_2"),
    ("TLS1.3", "TLS1_3", "tls1_3"),
];

/// What one scanner saw: offered per version, and (version, suite code) pairs.
#[derive(Debug, PartialEq)]
struct Seen {
    protocols: BTreeMap<String, bool>,
    suites: BTreeSet<(String, u16)>,
}

fn testssl_binary() -> &'static str {
    support::testssl::binary().unwrap_or_else(|| {
        panic!(
            "testssl.sh is needed for this test: apt-get install testssl.sh (or run scripts/setup.sh)"
        )
    })
}

/// testssl.sh with `--ip` and the name as host sends that name as SNI.
fn testssl(addr: &std::net::SocketAddr, sni: Option<&str>) -> Seen {
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("testssl.json");
    let json_arg = json.to_str().expect("a UTF-8 temp path");
    let out = Process::new(testssl_binary())
        .args(support::testssl::protocols_and_suites_args(
            *addr,
            sni,
            Some(json_arg),
        ))
        .output()
        .expect("testssl.sh runs");
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| {
        panic!(
            "testssl.sh wrote no JSON ({e}); output:\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let entries: Vec<Value> = serde_json::from_str(&text).expect("testssl.sh JSON");
    let protocols = VERSIONS
        .iter()
        .map(|(ours, theirs, _)| {
            let finding = entries
                .iter()
                .find(|e| e["id"] == *theirs)
                .and_then(|e| e["finding"].as_str())
                .unwrap_or_else(|| panic!("testssl.sh has no {theirs} line for {addr}:\n{text}"));
            let offered = if finding.starts_with("not offered") {
                false
            } else if finding.starts_with("offered") {
                true
            } else {
                panic!("unexpected testssl.sh finding for {theirs} on {addr}: {finding}")
            };
            (ours.to_string(), offered)
        })
        .collect();
    // -E lists each accepted suite as id "cipher-<proto>_x<hex code>".
    let suites = entries
        .iter()
        .filter_map(|e| e["id"].as_str()?.strip_prefix("cipher-"))
        .filter_map(|rest| {
            let (proto, code) = rest.rsplit_once("_x")?;
            let ours = VERSIONS.iter().find(|(_, _, t)| *t == proto)?.0;
            Some((ours.to_string(), u16::from_str_radix(code, 16).ok()?))
        })
        .collect();
    Seen { protocols, suites }
}

fn ours(addr: &std::net::SocketAddr, sni: Option<&str>) -> Seen {
    let mut args = vec!["scan".to_string(), addr.to_string()];
    if let Some(name) = sni {
        args.extend(["--sni".to_string(), name.to_string()]);
    }
    let out = Command::cargo_bin("tlsposture")
        .unwrap()
        .args(args)
        .args(["--json", "-", "--checks", "protocols,suites"])
        .output()
        .expect("tlsposture runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let target = &report["targets"][0];
    let protocols = target["protocols"]
        .as_array()
        .expect("protocols")
        .iter()
        .map(|p| {
            let version = p["version"].as_str().unwrap().to_string();
            let offered = p["offered"]
                .as_bool()
                .unwrap_or_else(|| panic!("{addr}: {version} undetermined: {p}"));
            (version, offered)
        })
        .collect();
    let suites = target["cipher_suites"]
        .as_array()
        .unwrap_or_else(|| panic!("{addr}: no cipher_suites in {target:#}"))
        .iter()
        .map(|s| {
            let code = s["code"].as_str().unwrap().trim_start_matches("0x");
            (
                s["protocol"].as_str().unwrap().to_string(),
                u16::from_str_radix(code, 16).unwrap(),
            )
        })
        .collect();
    Seen { protocols, suites }
}

#[test]
fn protocols_and_suites_agree_with_testssl() {
    let mut listeners = tlsposture::lab::seed_listeners();
    listeners.extend(tlsposture::lab::offered_listeners());
    let lab = support::start_lab(listeners);
    let legacy = OpensslServer::start(&["-cipher", "ALL:@SECLEVEL=0", "-min_protocol", "TLSv1"]);
    let mut targets: Vec<(String, std::net::SocketAddr, Option<String>)> = lab
        .listeners()
        .iter()
        .map(|l| (l.name.clone(), l.addr, l.sni.clone()))
        .collect();
    targets.push(("openssl-tls10-13".into(), legacy.addr(), None));
    // A third TLS library: GnuTLS with TLS 1.0-1.3, DHE, CCM and 3DES.
    let gnutls = GnutlsServer::start("NORMAL:+VERS-TLS1.0:+VERS-TLS1.1:+3DES-CBC");
    targets.push(("gnutls-tls10-13".into(), gnutls.addr(), None));

    let results: Vec<(String, std::net::SocketAddr, Seen, Seen)> = std::thread::scope(|s| {
        let handles: Vec<_> = targets
            .iter()
            .map(|(name, addr, sni)| {
                s.spawn(move || {
                    (
                        name.clone(),
                        *addr,
                        testssl(addr, sni.as_deref()),
                        ours(addr, sni.as_deref()),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut failures = Vec::new();
    for (name, addr, theirs, ours) in results {
        if ours.protocols != theirs.protocols {
            failures.push(format!(
                "{name} ({addr}) protocols: ours {:?} vs testssl.sh {:?}",
                ours.protocols, theirs.protocols
            ));
        }
        let only_ours: Vec<_> = ours.suites.difference(&theirs.suites).collect();
        let only_theirs: Vec<_> = theirs.suites.difference(&ours.suites).collect();
        if !only_ours.is_empty() || !only_theirs.is_empty() {
            failures.push(format!(
                "{name} ({addr}) suites: only tlsposture {only_ours:04X?}, only testssl.sh {only_theirs:04X?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "disagreements:\n{}",
        failures.join("\n")
    );
}
