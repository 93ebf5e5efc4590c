//! Live client simulation against the lab (real Envoy on loopback): the
//! legacy profiles fail on TLS 1.3 only and connect with their old protocol
//! on the legacy listener, modern browsers connect everywhere, the suite a
//! profile gets equals what `openssl s_client` offering that profile's suites
//! and groups negotiates (an independent oracle), and `--require-client`
//! gates a scan.

mod support;

use std::sync::OnceLock;

use assert_cmd::Command;

use tlsposture::clients::{self, ClientProfile};
use tlsposture::lab::{seed_listeners, Lab};
use tlsposture::report::model::{ClientSimulation, TargetReport};
use tlsposture::scan::{scan_target, Checks, ScanOptions};
use tlsposture::target::TargetSpec;

fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(|| support::start_lab(seed_listeners()))
}

/// Protocols and the client simulation only, of the profiles matching
/// `pattern`.
fn simulate(listener: &str, pattern: &str) -> TargetReport {
    let l = lab().listener(listener).expect("seed listener");
    let spec = TargetSpec::parse(&l.addr.to_string()).unwrap();
    let options = ScanOptions {
        sni: l.sni.clone(),
        checks: Checks {
            clients: true,
            ..Checks::PROTOCOLS_ONLY
        },
        clients: Some(pattern.to_string()),
        ..ScanOptions::default()
    };
    judged(
        support::runtime()
            .block_on(scan_target(&spec, &options))
            .unwrap_or_else(|(_, e)| panic!("{listener}: {e}")),
    )
}

/// The scan's observations with the verdict on them (whether each client
/// connected is the verdict's call).
fn judged(observed: tlsposture::observe::TargetObservation) -> TargetReport {
    let judgement = tlsposture::verdict::judge(&observed, &Default::default());
    TargetReport::new(observed, judgement)
}

fn get<'a>(report: &'a TargetReport, name: &str) -> &'a ClientSimulation {
    report
        .client_simulations
        .iter()
        .find(|s| s.client == name)
        .unwrap_or_else(|| panic!("{name} not simulated: {:#?}", report.client_simulations))
}

fn profile(name: &str) -> &'static ClientProfile {
    clients::by_name(name).unwrap_or_else(|| panic!("no profile {name}"))
}

const LEGACY: [&str; 3] = ["IE 11 / Win 7", "Android 4.4", "Java 7u25"];
const MODERN: [&str; 6] = [
    "Chrome 131 / Win 11",
    "Chrome 70 / Win 10",
    "Firefox 132 / Linux",
    "Firefox 115 / Win 10",
    "Safari 18 / macOS 15",
    "iOS 26 Safari",
];

#[test]
fn tls13_only_refuses_legacy_clients_and_serves_modern_ones() {
    let report = simulate("tls13-only", "all");
    for name in LEGACY {
        let s = get(&report, name);
        assert!(!s.connected, "{name} connected: {s:?}");
        assert!(s.reason.is_some(), "{name} failed without a reason");
    }
    for name in MODERN {
        let s = get(&report, name);
        assert!(s.connected, "{name}: {s:?}");
        assert_eq!(s.protocol.map(|p| p.name()), Some("TLS1.3"), "{name}");
        assert!(s.group.is_some(), "{name}: no group");
    }
}

#[test]
fn legacy_listener_serves_legacy_clients_their_old_protocol() {
    let report = simulate("legacy-tls10", "all");
    for (name, protocol) in [
        ("Java 7u25", "TLS1.0"),
        ("Android 4.4", "TLS1.0"),
        ("IE 8 / Win 7", "TLS1.0"),
        ("IE 8 / XP", "TLS1.0"),
        ("IE 11 / Win 7", "TLS1.2"),
        ("Java 8u31", "TLS1.2"),
        ("Chrome 131 / Win 11", "TLS1.3"),
    ] {
        let s = get(&report, name);
        assert!(s.connected, "{name}: {s:?}");
        assert_eq!(s.protocol.map(|p| p.name()), Some(protocol), "{name}");
    }
    let ie6 = get(&report, "IE 6 / XP");
    assert!(
        !ie6.connected,
        "SSLv3-only IE 6 cannot reach Envoy: {ie6:?}"
    );
}

/// The oracle: `openssl s_client` offering the profile's TLS ≤ 1.2 suites
/// (OpenSSL names), TLS 1.3 suites and groups, limited to its versions.
fn openssl_args(p: &ClientProfile) -> Vec<String> {
    let names = |tls13: bool| -> Vec<String> {
        p.real_suites()
            .filter_map(tlsposture::registry::cipher_suite)
            .filter(|s| (s.code >> 8 == 0x13) == tls13)
            .filter_map(|s| {
                if tls13 {
                    Some(s.iana.clone())
                } else {
                    s.openssl.clone()
                }
            })
            .collect()
    };
    let groups: Vec<String> = p
        .supported_groups
        .iter()
        .filter_map(|g| tlsposture::registry::named_group(*g))
        .filter_map(|g| g.openssl.clone())
        .collect();
    let versions = p.versions();
    let flag = |v: tlsposture::wire::ProtocolVersion| match v.name() {
        "TLS1.0" => "TLSv1",
        "TLS1.1" => "TLSv1.1",
        "TLS1.2" => "TLSv1.2",
        _ => "TLSv1.3",
    };
    let mut args = vec![
        "-min_protocol".into(),
        flag(versions[0]).into(),
        "-max_protocol".into(),
        flag(*versions.last().unwrap()).into(),
        "-cipher".into(),
        format!("{}:@SECLEVEL=0", names(false).join(":")),
    ];
    let tls13 = names(true);
    if !tls13.is_empty() {
        args.extend(["-ciphersuites".into(), tls13.join(":")]);
    }
    if !groups.is_empty() {
        args.extend(["-groups".into(), groups.join(":")]);
    }
    args
}

#[test]
fn negotiated_suite_matches_openssl_s_client_with_the_same_lists() {
    let names = [
        "IE 11 / Win 7",
        "Java 8u31",
        "OpenSSL 1.1.1",
        "Python 3.12",
        "Envoy 1.40 upstream (default)",
        "Android 9",
    ];
    let report = simulate("min-tls12", &names.join(","));
    let l = lab().listener("min-tls12").unwrap();
    for name in names {
        let p = profile(name);
        let s = get(&report, name);
        let args = openssl_args(p);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let oracle = support::s_client(l.addr, l.sni.as_deref(), &args);
        let oracle_suite = oracle
            .cipher
            .as_deref()
            .and_then(tlsposture::registry::cipher_suite_by_name)
            .map(|c| c.iana.clone());
        assert_eq!(
            s.cipher, oracle_suite,
            "{name}: simulated {s:?}, openssl {args:?} said:\n{}",
            oracle.output
        );
        assert_eq!(s.connected, oracle.protocol.is_some(), "{name}");
    }
}

/// Every profile is simulated with its own hello, and what the server
/// chose is something that profile offers. The connections are counted by
/// Envoy (`downstream_cx_total`), not by the scanner: other tests scanning
/// this listener at the same time can only add to the count, so it is a
/// lower bound that fails if the simulation stops connecting per profile.
/// The simulation's speed is timed in `benches/scan_speed.rs` ("clients").
#[test]
fn every_profile_sends_its_own_hello_and_gets_only_what_it_offers() {
    let profiles = clients::profiles();
    let l = lab().listener("min-tls12").unwrap();
    let counted = || {
        support::runtime()
            .block_on(lab().downstream_connections(&l.name))
            .expect("Envoy's connection counter")
    };
    let before = counted();
    let report = simulate("min-tls12", "all");
    let made = counted() - before;
    assert!(
        made >= profiles.len() as u64,
        "Envoy counted {made} connections for {} profiles",
        profiles.len()
    );
    for p in profiles {
        let s = get(&report, &p.name);
        if let Some(version) = s.protocol {
            assert!(
                p.versions().contains(&version),
                "{}: server chose {version:?}, not among {:?}",
                p.name,
                p.versions()
            );
        }
        if let Some(cipher) = &s.cipher {
            let code = tlsposture::registry::cipher_suite_by_name(cipher)
                .unwrap_or_else(|| panic!("{}: unknown suite {cipher}", p.name))
                .code;
            assert!(
                p.real_suites().any(|c| c == code),
                "{}: got {cipher}, which it does not offer",
                p.name
            );
        }
        if s.connected {
            assert!(
                s.protocol.is_some() && s.cipher.is_some(),
                "{}: {s:?}",
                p.name
            );
        } else {
            assert!(s.reason.is_some(), "{} failed without a reason", p.name);
        }
    }
}

#[test]
fn require_client_gates_the_scan() {
    let l = lab().listener("tls13-only").unwrap();
    let run = |pattern: &str| {
        Command::cargo_bin("tlsposture")
            .unwrap()
            .args(["scan", &l.addr.to_string(), "--checks", "protocols"])
            .args(["--sni", l.sni.as_deref().unwrap()])
            .args(["--require-client", pattern, "--json", "-"])
            .output()
            .unwrap()
    };
    let out = run("IE 11");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["targets"][0]["findings"].as_array().unwrap();
    let gate: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["id"] == "client.required_cannot_connect")
        .collect();
    assert_eq!(gate.len(), 3, "IE 11 on Win 7, 8.1 and 10: {gate:#?}");
    assert!(gate.iter().all(|f| f["severity"] == "high"));
    let ok = run("Chrome 131");
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let bad = run("no-such-client-xyz");
    assert_eq!(bad.status.code(), Some(64));
}

/// Protocols and the client simulation against any loopback server.
fn simulate_at(addr: std::net::SocketAddr, pattern: &str) -> TargetReport {
    let spec = TargetSpec::parse(&addr.to_string()).unwrap();
    let options = ScanOptions {
        sni: Some("localhost".into()),
        checks: Checks {
            clients: true,
            ..Checks::PROTOCOLS_ONLY
        },
        clients: Some(pattern.to_string()),
        ..ScanOptions::default()
    };
    judged(
        support::runtime()
            .block_on(scan_target(&spec, &options))
            .unwrap_or_else(|(_, e)| panic!("{addr}: {e}")),
    )
}

/// openssl s_server offering only DHE with its automatic 2048-bit group
/// over TLS 1.0: Java 6 and 7 handle at most 1024 bits, Android 2.3 2048.
#[test]
fn a_dh_group_above_the_clients_limit_fails_with_its_size() {
    let server =
        support::OpensslServer::start(&["-tls1", "-cipher", "DHE-RSA-AES128-SHA:@SECLEVEL=0"]);
    let report = simulate_at(
        server.addr(),
        "Java 7u25,Java 6u45,Android 2.3,IE 8 / Win 7",
    );
    for name in ["Java 7u25", "Java 6u45"] {
        let s = get(&report, name);
        assert!(!s.connected, "{name}: {s:?}");
        assert_eq!(s.group.as_deref(), Some("DH 2048"), "{name}");
        assert!(
            s.reason.as_deref().unwrap().contains("at most 1024"),
            "{s:?}"
        );
    }
    let android = get(&report, "Android 2.3");
    assert!(android.connected, "{android:?}");
    assert_eq!(android.protocol.map(|p| p.name()), Some("TLS1.0"));
    let ie8 = get(&report, "IE 8 / Win 7");
    assert!(!ie8.connected, "IE 8 offers no DHE_RSA suite: {ie8:?}");
    assert!(ie8.reason.as_deref().unwrap().contains("alert"), "{ie8:?}");
}

/// TLS 1.3 with secp384r1 only: clients offering it without a key share
/// get a HelloRetryRequest and connect; a client without it fails.
#[test]
fn a_hello_retry_the_client_can_answer_connects() {
    let server = support::OpensslServer::start(&["-tls1_3", "-groups", "secp384r1"]);
    let report = simulate_at(server.addr(), "Chrome 131,Java 17,Linkerd2");
    for name in ["Chrome 131 / Win 11", "Java 17"] {
        let s = get(&report, name);
        assert!(s.connected && s.hello_retry, "{name}: {s:?}");
        assert_eq!(s.group.as_deref(), Some("secp384r1"), "{name}");
        assert_eq!(s.protocol.map(|p| p.name()), Some("TLS1.3"));
    }
    let linkerd = get(&report, "Linkerd2 proxy");
    assert!(!linkerd.connected && !linkerd.hello_retry, "{linkerd:?}");
}

/// TLS 1.2 with a 1024-bit RSA certificate: read from the flight, refused
/// by clients requiring 2048 bits (Apple, Python), accepted by Chrome.
#[test]
fn a_small_rsa_certificate_is_refused_by_clients_that_require_more() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    let status = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:1024", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl req runs");
    assert!(status.success());
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let server = support::OpensslServer::start(&[
        "-tls1_2",
        "-cipher",
        "ALL:@SECLEVEL=0",
        "-cert",
        cert,
        "-key",
        key,
    ]);
    let report = simulate_at(server.addr(), "Safari 17,Python 3.12,Chrome 131");
    for name in ["Safari 17 / macOS 14", "Python 3.12"] {
        let s = get(&report, name);
        assert!(!s.connected, "{name}: {s:?}");
        assert!(
            s.reason
                .as_deref()
                .unwrap()
                .contains("RSA key of 1024 bits"),
            "{s:?}"
        );
    }
    let chrome = get(&report, "Chrome 131 / Win 11");
    assert!(chrome.connected, "{chrome:?}");
    assert_eq!(chrome.protocol.map(|p| p.name()), Some("TLS1.2"));
}
