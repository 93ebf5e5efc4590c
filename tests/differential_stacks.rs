//! Differential test on eleven real TLS stacks (issue 14, "Done when"):
//! openssl s_server, gnutls-serv, nginx, lighttpd with mod_openssl,
//! mod_wolfssl and mod_mbedtls, Go crypto/tls, Python's ssl, stunnel4,
//! HAProxy and Apache httpd + mod_ssl (Debian packages, configs in
//! `fixtures/servers/`). Each is scanned by our binary and the answer is
//! compared, field by field, with
//! - the server's configuration (protocols, stunnel's two suites, the leaf
//!   it was given, the ALPN it was told to offer);
//! - `openssl s_client`: one handshake per version, one per suite that
//!   either scanner reported (or the configuration names), the leaf it
//!   receives, `-alpn h2` / `-alpn http/1.1`;
//! - testssl.sh `-p -E` (protocols, suites per protocol).
//!
//! Every disagreement is a failure unless it is in [`EXPLAINED`] with its
//! reason, and every entry there must still occur (so a fix, or a change
//! in a peer, makes the list shrink instead of hiding anything).
//! testssl.sh runs once per server, four at a time.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use support::daemon::Daemon;
use support::gnutls_server::GnutlsServer;
use support::go_server::GoServer;
use support::lighttpd::Lighttpd;
use support::{s_client, served_leaf_sha256, Nginx, OpensslServer};

/// Disagreements that are understood: (server, key, reason). The key is
/// the one [`compare`] prints.
const EXPLAINED: &[(&str, &str, &str)] = &[
    // Theirs. wolfSSL answers a TLS 1.2 hello offering only
    // TLS_PSK_WITH_CHACHA20_POLY1305 (CCAB), ECDHE_PSK_… (CCAC) or
    // DHE_PSK_… (CCAD) with a ServerHello choosing it although no PSK is
    // configured (`openssl s_client -tls1_2 -cipher PSK-CHACHA20-POLY1305
    // -psk 01… -msg` shows the ServerHello); we list them, testssl.sh -E
    // does not (it only tries PSK suites it can complete).
    (
        "lighttpd+wolfssl",
        "suites vs testssl",
        "theirs: wolfSSL selects PSK ChaCha suites with no PSK; testssl.sh -E skips them",
    ),
];

/// Our version names, testssl.sh's `-p` ids and `-E` prefixes, s_client's flag.
const VERSIONS: [(&str, &str, &str, Option<&str>); 6] = [
    ("SSLv2", "SSLv2", "ssl2", None),
    ("SSLv3", "SSLv3", "ssl3", None),
    ("TLS1.0", "TLS1", "tls1", Some("-tls1")),
    ("TLS1.1", "TLS1_1", "tls1_1", Some("-tls1_1")),
    ("TLS1.2", "TLS1_2", "tls1_2", Some("-tls1_2")),
    ("TLS1.3", "TLS1_3", "tls1_3", Some("-tls1_3")),
];

/// OpenSSL's name for a protocol version (`Protocol version:` in -brief).
fn openssl_version(ours: &str) -> &'static str {
    match ours {
        "TLS1.0" => "TLSv1",
        "TLS1.1" => "TLSv1.1",
        "TLS1.2" => "TLSv1.2",
        _ => "TLSv1.3",
    }
}

/// One server under test and what its configuration says.
struct Target {
    name: &'static str,
    addr: SocketAddr,
    /// The versions it was configured to offer.
    protocols: &'static [&'static str],
    /// The leaf it was given, when the helper exposes it.
    leaf: Option<String>,
    /// The exact suites its configuration allows (version, code), if pinned.
    suites: Option<Vec<(&'static str, u16)>>,
    /// (h2, http/1.1) as configured, when the configuration says.
    alpn: Option<(bool, bool)>,
}

/// What a scanner saw.
#[derive(Debug, Default)]
struct Seen {
    protocols: BTreeMap<String, Option<bool>>,
    suites: BTreeSet<(String, u16)>,
    leaf: Option<String>,
    alpn: Option<(Option<bool>, Option<bool>)>,
}

fn testssl(addr: SocketAddr) -> Result<Seen, String> {
    let bin = support::testssl::binary().unwrap_or_else(|| {
        panic!("testssl.sh is needed: apt-get install testssl.sh (or run scripts/setup.sh)")
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("testssl.json");
    let out = Command::new(bin)
        .args(support::testssl::protocols_and_suites_args(
            addr,
            None,
            Some(json.to_str().unwrap()),
        ))
        .output()
        .expect("testssl.sh runs");
    let text = std::fs::read_to_string(&json).map_err(|e| {
        format!(
            "testssl.sh wrote no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })?;
    let entries: Vec<Value> = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
    let mut seen = Seen::default();
    for (ours, theirs, _, _) in VERSIONS {
        let finding = entries
            .iter()
            .find(|e| e["id"] == theirs)
            .and_then(|e| e["finding"].as_str())
            .unwrap_or("");
        let offered = if finding.starts_with("not offered") {
            Some(false)
        } else if finding.starts_with("offered") {
            Some(true)
        } else {
            None
        };
        seen.protocols.insert(ours.to_string(), offered);
    }
    seen.suites = entries
        .iter()
        .filter_map(|e| e["id"].as_str()?.strip_prefix("cipher-"))
        .filter_map(|rest| {
            let (proto, code) = rest.rsplit_once("_x")?;
            let ours = VERSIONS.iter().find(|v| v.2 == proto)?.0;
            Some((ours.to_string(), u16::from_str_radix(code, 16).ok()?))
        })
        .collect();
    Ok(seen)
}

fn ours(addr: SocketAddr) -> Result<(Seen, Value), String> {
    let out = assert_cmd::Command::cargo_bin("tlsposture")
        .expect("binary builds")
        .args(["scan", &addr.to_string(), "--no-color", "--json", "-"])
        .args(["--checks", "protocols,suites,groups,certificates,alpn,mtls"])
        .timeout(Duration::from_secs(150))
        .output()
        .expect("tlsposture runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&stdout).map_err(|e| {
        format!(
            "exit {:?}, no JSON ({e}): {stdout}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let t = report["targets"][0].clone();
    let mut seen = Seen::default();
    for p in t["protocols"].as_array().into_iter().flatten() {
        seen.protocols.insert(
            p["version"].as_str().unwrap_or("?").to_string(),
            p["offered"].as_bool(),
        );
    }
    for s in t["cipher_suites"].as_array().into_iter().flatten() {
        let code = s["code"].as_str().unwrap_or("").trim_start_matches("0x");
        if let (Some(p), Ok(c)) = (s["protocol"].as_str(), u16::from_str_radix(code, 16)) {
            seen.suites.insert((p.to_string(), c));
        }
    }
    seen.leaf = t["certificates"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["request"] == "none")
        .and_then(|c| c["chain"][0]["sha256"].as_str())
        .map(str::to_ascii_uppercase);
    seen.alpn = Some((t["alpn"]["h2"].as_bool(), t["alpn"]["http11"].as_bool()));
    Ok((seen, t))
}

/// OpenSSL's names by suite code (`openssl ciphers -V`), TLS 1.3 included.
fn openssl_names() -> BTreeMap<u16, String> {
    let out = Command::new("openssl")
        .args(["ciphers", "-V", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"])
        .output()
        .expect("openssl ciphers runs (apt-get install openssl)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let code = w.next()?;
            let (hi, lo) = code.split_once(",")?;
            let hi = u8::from_str_radix(hi.trim_start_matches("0x"), 16).ok()?;
            let lo = u8::from_str_radix(lo.trim_start_matches("0x"), 16).ok()?;
            w.next()?; // "-"
            let name = w.next()?.to_string();
            let kx = l.split_whitespace().find(|f| f.starts_with("Kx="))?;
            // PSK and SRP suites need a secret s_client has not got.
            (!kx.contains("PSK") && !kx.contains("SRP"))
                .then_some((u16::from(hi) << 8 | u16::from(lo), name))
        })
        .collect()
}

/// Does the server accept this one suite at this version (s_client)?
fn s_client_suite(addr: SocketAddr, version: &str, name: &str) -> bool {
    let flag = VERSIONS.iter().find(|v| v.0 == version).unwrap().3.unwrap();
    let h = if version == "TLS1.3" {
        s_client(addr, None, &[flag, "-ciphersuites", name])
    } else {
        let cipher = format!("{name}:@SECLEVEL=0");
        s_client(addr, None, &[flag, "-cipher", &cipher])
    };
    h.protocol.as_deref() == Some(openssl_version(version)) && h.cipher.as_deref() == Some(name)
}

/// Whether `openssl s_client -alpn PROTO` (without -brief, which does not
/// print it) negotiates PROTO.
fn s_client_alpn(addr: SocketAddr, proto: &str) -> bool {
    let out = Command::new("timeout")
        .args(["5", "openssl", "s_client", "-connect", &addr.to_string()])
        .args(["-alpn", proto])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("timeout openssl s_client runs (apt-get install openssl)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == format!("ALPN protocol: {proto}"))
}

fn yes(b: bool) -> Option<bool> {
    Some(b)
}

/// Compares one server; returns `key: detail` lines for each disagreement
/// and a count of agreeing comparisons.
fn compare(
    t: &Target,
    names: &BTreeMap<u16, String>,
    theirs: &Result<Seen, String>,
    us: &Result<(Seen, Value), String>,
) -> (Vec<String>, usize) {
    let mut bad = Vec::new();
    let mut agreed = 0;
    let mut check = |key: String, ok: bool, detail: String| {
        if ok {
            agreed += 1;
        } else {
            bad.push(format!("{key} :: {detail}"));
        }
    };
    let (us, report) = match us {
        Ok(x) => x,
        Err(e) => {
            check("scan".into(), false, e.clone());
            return (bad, agreed);
        }
    };
    let empty = Seen::default();
    let theirs_ok = match theirs {
        Ok(s) => s,
        Err(e) => {
            check("testssl".into(), false, e.clone());
            &empty
        }
    };

    // Protocols: configuration, s_client, testssl.sh.
    for (v, _, _, flag) in VERSIONS {
        let configured = t.protocols.contains(&v);
        let mine = us.protocols.get(v).copied().flatten();
        check(
            format!("protocol {v} vs config"),
            mine == yes(configured),
            format!("ours {mine:?}, configured {configured}"),
        );
        if theirs.is_ok() {
            let their = theirs_ok.protocols.get(v).copied().flatten();
            check(
                format!("protocol {v} vs testssl"),
                mine == their,
                format!("ours {mine:?}, testssl.sh {their:?}"),
            );
        }
        if let Some(flag) = flag {
            let mut args = vec![flag];
            if v != "TLS1.3" {
                args.extend(["-cipher", "ALL:@SECLEVEL=0"]);
            }
            let h = s_client(t.addr, None, &args);
            let sc = h.protocol.as_deref() == Some(openssl_version(v));
            check(
                format!("protocol {v} vs s_client"),
                mine == yes(sc),
                format!("ours {mine:?}, s_client {sc}"),
            );
        }
    }

    // Suites: every suite either scanner (or the configuration) names is
    // tried alone with s_client when OpenSSL knows it.
    if theirs.is_ok() {
        let only_ours: Vec<_> = us.suites.difference(&theirs_ok.suites).collect();
        let only_theirs: Vec<_> = theirs_ok.suites.difference(&us.suites).collect();
        check(
            "suites vs testssl".into(),
            only_ours.is_empty() && only_theirs.is_empty(),
            format!("only ours {only_ours:04X?}, only testssl.sh {only_theirs:04X?}"),
        );
    }
    let mut candidates: BTreeSet<(String, u16)> = us.suites.clone();
    candidates.extend(theirs_ok.suites.iter().cloned());
    if let Some(pinned) = &t.suites {
        candidates.extend(pinned.iter().map(|(v, c)| (v.to_string(), *c)));
        let pinned: BTreeSet<(String, u16)> =
            pinned.iter().map(|(v, c)| (v.to_string(), *c)).collect();
        check(
            "suites vs config".into(),
            us.suites == pinned,
            format!("ours {:04X?}, configured {pinned:04X?}", us.suites),
        );
    }
    for (v, code) in &candidates {
        let Some(name) = names.get(code) else {
            continue; // not OpenSSL's: testssl.sh is the only other opinion
        };
        if v == "SSLv3" || v == "SSLv2" {
            continue;
        }
        let sc = s_client_suite(t.addr, v, name);
        let mine = us.suites.contains(&(v.clone(), *code));
        check(
            format!("suite {v} {code:04X} vs s_client"),
            mine == sc,
            format!("{name}: ours {mine}, s_client {sc}"),
        );
    }

    // Certificate: the leaf s_client receives, and the configured one.
    let served = served_leaf_sha256(t.addr, None, &[]);
    check(
        "leaf vs s_client".into(),
        us.leaf.is_some() && us.leaf == served,
        format!("ours {:?}, s_client {served:?}", us.leaf),
    );
    if let Some(leaf) = &t.leaf {
        check(
            "leaf vs config".into(),
            us.leaf.as_ref() == Some(leaf),
            format!("ours {:?}, configured {leaf}", us.leaf),
        );
    }

    // ALPN: s_client -alpn, and the configuration where it says.
    let mine = us.alpn.unwrap_or((None, None));
    let sc = (
        yes(s_client_alpn(t.addr, "h2")),
        yes(s_client_alpn(t.addr, "http/1.1")),
    );
    check(
        "alpn vs s_client".into(),
        mine == sc,
        format!(
            "ours (h2, http/1.1) {mine:?}, s_client {sc:?}: {}",
            report["alpn"]
        ),
    );
    if let Some((h2, h11)) = t.alpn {
        check(
            "alpn vs config".into(),
            mine == (yes(h2), yes(h11)),
            format!("ours {mine:?}, configured ({h2}, {h11})"),
        );
    }
    (bad, agreed)
}

#[test]
fn eleven_stacks_agree_with_testssl_s_client_and_their_configuration() {
    let started = Instant::now();
    let tls12_13: &[&str] = &["TLS1.2", "TLS1.3"];
    let openssl = OpensslServer::start(&["-cipher", "ALL:@SECLEVEL=0", "-min_protocol", "TLSv1"]);
    let gnutls = GnutlsServer::start("NORMAL:+VERS-TLS1.0:+VERS-TLS1.1");
    let nginx = Nginx::start("ssl_protocols TLSv1.2 TLSv1.3;");
    let wolfssl = Lighttpd::start_wolfssl("");
    let go = GoServer::start(false);
    let lighttpd = Daemon::lighttpd("mod_openssl");
    let mbedtls = Daemon::lighttpd("mod_mbedtls");
    let python = Daemon::python();
    let stunnel = Daemon::stunnel();
    let haproxy = Daemon::haproxy();
    let apache = Daemon::apache();
    let mut targets = vec![
        Target {
            name: "openssl-s_server",
            addr: openssl.addr(),
            protocols: &["TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"],
            leaf: None,
            suites: None,
            // s_server -www offers no ALPN.
            alpn: Some((false, false)),
        },
        Target {
            name: "gnutls-serv",
            addr: gnutls.addr(),
            protocols: &["TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"],
            leaf: None,
            suites: None,
            alpn: Some((false, false)),
        },
        Target {
            name: "nginx",
            addr: nginx.addr(),
            protocols: tls12_13,
            leaf: None,
            suites: None,
            // `listen … ssl` without http2.
            alpn: Some((false, true)),
        },
        Target {
            name: "lighttpd+wolfssl",
            addr: wolfssl.addr(),
            protocols: tls12_13,
            leaf: None,
            suites: None,
            alpn: None,
        },
        Target {
            name: "go-crypto/tls",
            addr: go.addr(),
            protocols: tls12_13,
            leaf: None,
            suites: None,
            alpn: None,
        },
    ];
    for (d, protocols, suites, alpn) in [
        (&lighttpd, tls12_13, None, None),
        // mbed TLS 2.28 has no TLS 1.3 server.
        (&mbedtls, &["TLS1.2"][..], None, None),
        (&python, tls12_13, None, Some((false, true))),
        (
            &stunnel,
            &["TLS1.2"][..],
            Some(vec![("TLS1.2", 0xC02F), ("TLS1.2", 0xC030)]),
            Some((false, false)),
        ),
        (&haproxy, tls12_13, None, Some((true, true))),
        (&apache, tls12_13, None, None),
    ] {
        targets.push(Target {
            name: d.name,
            addr: d.addr(),
            protocols,
            leaf: Some(d.leaf_sha256()),
            suites,
            alpn,
        });
    }
    let names = openssl_names();

    // Four workers: testssl.sh, our scan and the s_client checks per server.
    let queue = Mutex::new(targets.iter().collect::<Vec<_>>());
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| loop {
                let Some(t) = queue.lock().unwrap().pop() else {
                    return;
                };
                let (theirs, us) = std::thread::scope(|s2| {
                    let theirs = s2.spawn(|| testssl(t.addr));
                    let us = ours(t.addr);
                    (theirs.join().unwrap(), us)
                });
                let (bad, agreed) = compare(t, &names, &theirs, &us);
                results.lock().unwrap().push((t.name, bad, agreed));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort();

    // The explanations' own facts, with s_client.
    let status = s_client(wolfssl.addr(), None, &["-status"]);
    assert!(
        status.protocol.is_none(),
        "wolfSSL now completes a handshake with status_request: {}",
        status.output
    );
    let h2 = s_client(apache.addr(), None, &["-tls1_2", "-alpn", "h2"]);
    assert!(
        h2.output.contains("tls_parse_stoc_alpn:bad extension"),
        "Apache no longer answers an h2-only offer with an unoffered ALPN: {}",
        h2.output
    );

    let mut unexplained = Vec::new();
    let mut used = BTreeSet::new();
    let mut total = 0;
    for (name, bad, agreed) in &results {
        total += agreed;
        eprintln!("{name}: {agreed} comparisons agree, {} differ", bad.len());
        for line in bad {
            let key = line.split(" :: ").next().unwrap();
            match EXPLAINED
                .iter()
                .position(|(n, k, _)| n == name && *k == key)
            {
                Some(i) => {
                    used.insert(i);
                    eprintln!("  explained: {line} ({})", EXPLAINED[i].2);
                }
                None => unexplained.push(format!("{name}: {line}")),
            }
        }
    }
    let stale: Vec<_> = EXPLAINED
        .iter()
        .enumerate()
        .filter(|(i, _)| !used.contains(i))
        .map(|(_, e)| e)
        .collect();
    eprintln!(
        "{} servers, {total} agreeing comparisons, {:?} wall",
        results.len(),
        started.elapsed()
    );
    assert_eq!(results.len(), 11);
    assert!(
        unexplained.is_empty() && stale.is_empty(),
        "unexplained disagreements:\n{}\nexplained ones that no longer occur: {stale:?}",
        unexplained.join("\n")
    );
    drop((openssl, gnutls, nginx, wolfssl, go));
}
