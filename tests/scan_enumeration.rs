//! Raw-handshake enumeration (suites, preference, groups, TLS 1.2 signature
//! schemes) against real servers on loopback: the lab's Envoy listeners and
//! `openssl s_server`. Expected sets come from the servers' documented or
//! independently listed configuration, never from the scanner's output.

mod support;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tlsposture::lab::{seed_listeners, CertKinds, Lab, ListenerSpec};
use tlsposture::observe::{GroupResult, GroupVia, SignatureResult};
use tlsposture::probe::ProbeTimeouts;
use tlsposture::scan::{
    enumerate_groups, enumerate_suites, enumerate_suites_after, enumerate_tls12_signatures,
    scan_protocols, scan_protocols_picking, Prober, SuiteScan,
};
use tlsposture::wire::ProtocolVersion;

use support::OpensslServer;

/// What one enumeration saw, and what it cost.
struct Enumeration {
    offered: Vec<ProtocolVersion>,
    suites: SuiteScan,
    groups: Vec<GroupResult>,
    signatures: Vec<SignatureResult>,
    handshakes: u32,
    elapsed: Duration,
}

impl Enumeration {
    fn codes(&self, version: ProtocolVersion) -> BTreeSet<String> {
        self.suites
            .suites
            .iter()
            .filter(|s| s.protocol == version)
            .map(|s| tlsposture::observe::code::suite::hex(s.code))
            .collect()
    }

    fn groups(&self, version: ProtocolVersion) -> Vec<String> {
        self.groups
            .iter()
            .filter(|g| g.protocol == version)
            .map(|g| g.name.clone())
            .collect()
    }
}

fn timeouts() -> ProbeTimeouts {
    ProbeTimeouts {
        connect: Duration::from_secs(3),
        read: Duration::from_secs(3),
    }
}

/// Finds the offered protocols (with a prober of its own), then runs the
/// three enumerations concurrently on a fresh prober and reports the cost.
fn enumerate(label: &str, addr: SocketAddr, sni: Option<&str>) -> Enumeration {
    support::runtime().block_on(async {
        let scout = Prober::new(addr, timeouts(), 8);
        let offered: Vec<ProtocolVersion> = scan_protocols(&scout, sni)
            .await
            .expect("protocol scan")
            .into_iter()
            .filter(|p| p.offered == Some(true))
            .map(|p| p.version)
            .collect();
        // One prober each (8 connections apiece) so each part's cost shows.
        let probers = [0; 3].map(|_| Prober::new(addr, timeouts(), 8));
        let started = Instant::now();
        let (suites, groups, signatures) = futures::join!(
            enumerate_suites(&probers[0], sni, &offered),
            enumerate_groups(&probers[1], sni, &offered),
            enumerate_tls12_signatures(&probers[2], sni, &offered),
        );
        let counts = probers.each_ref().map(Prober::handshakes);
        let e = Enumeration {
            offered,
            suites,
            groups,
            signatures,
            handshakes: counts.iter().sum(),
            elapsed: started.elapsed(),
        };
        eprintln!(
            "{label}: offered {:?}; {} handshakes (suites {}, groups {}, signatures {}) in {:?}",
            e.offered, e.handshakes, counts[0], counts[1], counts[2], e.elapsed
        );
        for s in &e.suites.suites {
            eprintln!(
                "  {} {} {} group={:?} dh={:?}",
                s.protocol, s.code, s.iana, s.group, s.dh_bits
            );
        }
        for p in &e.suites.preference {
            eprintln!(
                "  pref {} {:?} {:?} ({})",
                p.protocol, p.server_enforces, p.order, p.evidence
            );
        }
        for g in &e.groups {
            eprintln!("  group {} {} {} {}", g.protocol, g.rank, g.name, g.via);
        }
        for s in &e.signatures {
            eprintln!("  sig {} {} {:?}", s.code, s.name, s.key_type);
        }
        e
    })
}

fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(|| {
        let mut listeners: Vec<ListenerSpec> = seed_listeners()
            .into_iter()
            .filter(|l| l.name == "min-tls12" || l.name == "legacy-tls10")
            .collect();
        listeners.push(ListenerSpec {
            min_version: Some(ProtocolVersion::Tls12),
            max_version: Some(ProtocolVersion::Tls12),
            cipher_suites: vec![
                "ECDHE-RSA-AES256-GCM-SHA384".into(),
                "ECDHE-RSA-AES128-GCM-SHA256".into(),
                "AES128-GCM-SHA256".into(),
            ],
            ecdh_curves: vec!["P-256".into()],
            ..ListenerSpec::new("tls12-restricted", "TLS 1.2 only, three suites, P-256 only")
        });
        listeners.push(ListenerSpec {
            certificates: CertKinds::RsaAndEcdsa,
            ..ListenerSpec::new(
                "rsa-ecdsa",
                "Envoy defaults with RSA and ECDSA certificates",
            )
        });
        support::start_lab(listeners)
    })
}

fn enumerate_listener(name: &str) -> Enumeration {
    let l = lab().listener(name).expect("listener");
    enumerate(name, l.addr, l.sni.as_deref())
}

use ProtocolVersion::{Tls10, Tls11, Tls12, Tls13};

fn set(codes: &[u16]) -> BTreeSet<String> {
    codes.iter().map(|c| format!("0x{c:04X}")).collect()
}

/// Codes of BoringSSL suite names (a listener's `cipher_suites`) valid at
/// `version` whose authentication is one of `auths`, per the registry.
fn configured(names: &[String], version: ProtocolVersion, auths: &[&str]) -> BTreeSet<String> {
    names
        .iter()
        .flat_map(|n| n.trim_matches(|c| c == '[' || c == ']').split('|'))
        .map(|n| tlsposture::registry::cipher_suite_by_name(n).expect("known suite name"))
        .filter(|s| s.valid_for(version) && auths.contains(&s.auth.as_str()))
        .map(|s| s.code_hex())
        .collect()
}

fn tier_codes(e: &Enumeration, version: ProtocolVersion) -> Vec<Vec<String>> {
    let p = e
        .suites
        .preference
        .iter()
        .find(|p| p.protocol == version)
        .expect("preference for the version");
    p.order
        .iter()
        .map(|tier| {
            tier.iter()
                .map(|name| {
                    tlsposture::registry::cipher_suite_by_name(name)
                        .expect("IANA name")
                        .code_hex()
                })
                .collect()
        })
        .collect()
}

fn enforces(e: &Enumeration, version: ProtocolVersion) -> Option<bool> {
    e.suites
        .preference
        .iter()
        .find(|p| p.protocol == version)
        .and_then(|p| p.server_enforces)
}

fn tiers(list: &[&[u16]]) -> Vec<Vec<String>> {
    list.iter()
        .map(|t| t.iter().map(|c| format!("0x{c:04X}")).collect())
        .collect()
}

fn signatures(e: &Enumeration, key_type: &str) -> Vec<String> {
    e.signatures
        .iter()
        .filter(|s| s.key_type.as_deref() == Some(key_type))
        .map(|s| s.name.clone())
        .collect()
}

/// TLS 1.3 suites BoringSSL (Envoy) enables: it never takes them from
/// `cipher_suites` (CRATES.md), and has exactly these three.
const BORINGSSL_TLS13: [u16; 3] = [0x1301, 0x1302, 0x1303];

/// Envoy's documented default TLS 1.2 list for servers:
/// `[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]`
/// `[ECDHE-RSA-AES128-GCM-SHA256|ECDHE-RSA-CHACHA20-POLY1305]`
/// `ECDHE-ECDSA-AES256-GCM-SHA384` `ECDHE-RSA-AES256-GCM-SHA384`.
const ENVOY_RSA: [u16; 3] = [0xC02F, 0xCCA8, 0xC030];
const ENVOY_ECDSA: [u16; 3] = [0xC02B, 0xCCA9, 0xC02C];

/// Envoy 1.40 default groups: the ML-KEM hybrid (CRATES.md, measured on
/// this Envoy), then Envoy's documented default curves X25519 and P-256
/// (membership cross-checked with `openssl s_client -groups` below; the
/// order is BoringSSL's server preference). TLS 1.2 has no hybrid.
const ENVOY_TLS13_GROUPS: [&str; 3] = ["X25519MLKEM768", "x25519", "secp256r1"];
const ENVOY_TLS12_GROUPS: [&str; 2] = ["x25519", "secp256r1"];

#[test]
fn envoy_default_listener() {
    let e = enumerate_listener("min-tls12");
    assert_eq!(e.offered, vec![Tls12, Tls13]);
    assert_eq!(e.codes(Tls12), set(&ENVOY_RSA));
    assert_eq!(e.codes(Tls13), set(&BORINGSSL_TLS13));
    assert_eq!(
        tier_codes(&e, Tls12),
        tiers(&[&[0xC02F, 0xCCA8], &[0xC030]]),
        "the RSA equal-preference pair, then AES-256"
    );
    assert_eq!(enforces(&e, Tls12), Some(true));
    assert_eq!(e.groups(Tls13), ENVOY_TLS13_GROUPS);
    assert_eq!(e.groups(Tls12), ENVOY_TLS12_GROUPS);
    assert!(e.groups.iter().all(|g| g.via
        == if g.protocol == Tls13 {
            GroupVia::HelloRetryRequest
        } else {
            GroupVia::ServerKeyExchange
        }));
    // TLS 1.3 suites come from HelloRetryRequests naming the preferred group.
    for s in e.suites.suites.iter().filter(|s| s.protocol == Tls13) {
        assert_eq!(s.group.as_deref(), Some("X25519MLKEM768"));
    }
    for s in e.suites.suites.iter().filter(|s| s.protocol == Tls12) {
        assert_eq!(s.group.as_deref(), Some("x25519"), "{}", s.iana);
    }
    // An independent client agrees on which classical groups exist.
    let l = lab().listener("min-tls12").expect("listener");
    for (group, accepted) in [
        ("X25519", true),
        ("P-256", true),
        ("P-384", false),
        ("P-521", false),
    ] {
        let hs = support::s_client(l.addr, l.sni.as_deref(), &["-groups", group]);
        assert_eq!(hs.protocol.is_some(), accepted, "{group}: {}", hs.output);
    }
    assert!(signatures(&e, "ECDSA").is_empty());
    let rsa = signatures(&e, "RSA");
    assert!(rsa.contains(&"rsa_pss_rsae_sha256".to_string()), "{rsa:?}");
    assert!(e.handshakes <= 40, "{} handshakes", e.handshakes);
}

#[test]
fn tls12_only_listener_with_restricted_suites_and_p256() {
    let e = enumerate_listener("tls12-restricted");
    let spec = &lab().listener("tls12-restricted").expect("listener").spec;
    assert_eq!(e.offered, vec![Tls12]);
    assert_eq!(
        e.codes(Tls12),
        configured(&spec.cipher_suites, Tls12, &["RSA"])
    );
    assert_eq!(e.codes(Tls12), set(&[0xC030, 0xC02F, 0x009C]));
    // The configured order, strictly.
    assert_eq!(
        tier_codes(&e, Tls12),
        tiers(&[&[0xC030], &[0xC02F], &[0x009C]])
    );
    assert_eq!(enforces(&e, Tls12), Some(true));
    assert_eq!(e.groups(Tls12), ["secp256r1"]);
    assert!(e.groups(Tls13).is_empty());
    for s in &e.suites.suites {
        let expected = (s.kx == "ECDHE").then(|| "secp256r1".to_string());
        assert_eq!(s.group, expected, "{}", s.iana);
    }
}

#[test]
fn legacy_tls10_listener_includes_3des() {
    let e = enumerate_listener("legacy-tls10");
    let spec = &lab().listener("legacy-tls10").expect("listener").spec;
    assert_eq!(e.offered, vec![Tls10, Tls11, Tls12, Tls13]);
    for version in [Tls10, Tls11, Tls12] {
        // RSA certificate only: the ECDSA names of the list cannot be used.
        assert_eq!(
            e.codes(version),
            configured(&spec.cipher_suites, version, &["RSA"]),
            "{version}"
        );
        assert!(e.codes(version).contains("0x000A"), "{version}: 3DES");
        assert_eq!(enforces(&e, version), Some(true), "{version}");
    }
    assert_eq!(
        e.codes(Tls10),
        set(&[0xC013, 0xC014, 0x002F, 0x0035, 0x000A])
    );
    assert_eq!(e.codes(Tls13), set(&BORINGSSL_TLS13));
    assert_eq!(e.groups(Tls13), ENVOY_TLS13_GROUPS);
}

#[test]
fn rsa_and_ecdsa_listener_yields_both_suite_sets() {
    let e = enumerate_listener("rsa-ecdsa");
    let both: Vec<u16> = ENVOY_ECDSA.iter().chain(&ENVOY_RSA).copied().collect();
    assert_eq!(e.codes(Tls12), set(&both));
    assert_eq!(e.codes(Tls13), set(&BORINGSSL_TLS13));
    let order = tier_codes(&e, Tls12);
    assert!(order.contains(&tiers(&[&[0xC02B, 0xCCA9]])[0]), "{order:?}");
    assert!(order.contains(&tiers(&[&[0xC02F, 0xCCA8]])[0]), "{order:?}");
    assert!(!signatures(&e, "RSA").is_empty());
    let ecdsa = signatures(&e, "ECDSA");
    assert_eq!(
        ecdsa.first().map(String::as_str),
        Some("ecdsa_secp256r1_sha256")
    );
}

/// `openssl ciphers -V -s -<version> <spec>`, as (code, protocol, kx, au).
fn openssl_ciphers(version_flag: &str, spec: &str) -> Vec<(String, String, String, String)> {
    let out = std::process::Command::new("openssl")
        .args(["ciphers", "-V", "-s", version_flag, spec])
        .output()
        .expect("openssl ciphers runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (hi, lo) = f.first()?.split_once(',')?;
            let code = format!(
                "0x{}{}",
                hi.trim_start_matches("0x"),
                lo.trim_start_matches("0x")
            );
            let field = |k: &str| f.iter().find_map(|x| x.strip_prefix(k)).map(str::to_string);
            Some((code, f.get(3)?.to_string(), field("Kx=")?, field("Au=")?))
        })
        .collect()
}

#[test]
fn openssl_all_seclevel0_with_dhe_and_cbc() {
    let spec = "ALL:@SECLEVEL=0";
    let server = OpensslServer::start(&["-cipher", spec, "-min_protocol", "TLSv1"]);
    let e = enumerate("openssl", server.addr(), Some("localhost"));
    assert_eq!(e.offered, vec![Tls10, Tls11, Tls12, Tls13]);
    for (version, flag) in [(Tls10, "-tls1"), (Tls11, "-tls1_1"), (Tls12, "-tls1_2")] {
        // The server has one RSA certificate: suites needing DSS or ECDSA
        // keys cannot be negotiated; anonymous ones can at SECLEVEL=0.
        let expected: BTreeSet<String> = openssl_ciphers(flag, spec)
            .into_iter()
            .filter(|(_, proto, kx, au)| {
                proto != "TLSv1.3"
                    && matches!(au.as_str(), "RSA" | "None")
                    && matches!(kx.as_str(), "RSA" | "DH" | "ECDH")
            })
            .map(|(code, ..)| code)
            .collect();
        assert_eq!(e.codes(version), expected, "{version}");
        // s_server follows the client's order unless -serverpref.
        assert_eq!(enforces(&e, version), Some(false), "{version}");
    }
    let tls13: BTreeSet<String> = openssl_ciphers("-tls1_3", spec)
        .into_iter()
        .filter(|(_, proto, ..)| proto == "TLSv1.3")
        .map(|(code, ..)| code)
        .collect();
    assert_eq!(e.codes(Tls13), tls13);
    assert_eq!(tls13, set(&[0x1301, 0x1302, 0x1303]));
    for s in e.suites.suites.iter().filter(|s| s.kx == "DHE") {
        let bits = s
            .dh_bits
            .unwrap_or_else(|| panic!("{} {}: no DH size", s.protocol, s.iana));
        // OpenSSL's automatic DH: ffdhe2048 for an RSA-2048 certificate;
        // anonymous suites get 1024 or 3072 by cipher strength.
        if s.iana.contains("_RSA_") {
            assert_eq!(bits, 2048, "{}", s.iana);
        } else {
            assert!(bits == 1024 || bits == 3072, "{} {bits}", s.iana);
        }
    }
    // OpenSSL 3.0's default groups (x25519, secp256r1, x448, secp521r1,
    // secp384r1, ffdhe2048..8192), as a set.
    let groups13: BTreeSet<String> = e.groups(Tls13).into_iter().collect();
    let expected13: BTreeSet<String> = [
        "x25519",
        "secp256r1",
        "x448",
        "secp521r1",
        "secp384r1",
        "ffdhe2048",
        "ffdhe3072",
        "ffdhe4096",
        "ffdhe6144",
        "ffdhe8192",
    ]
    .map(String::from)
    .into();
    assert_eq!(groups13, expected13);
    let groups12: BTreeSet<String> = e.groups(Tls12).into_iter().collect();
    let expected12: BTreeSet<String> = ["x25519", "secp256r1", "x448", "secp521r1", "secp384r1"]
        .map(String::from)
        .into();
    assert_eq!(groups12, expected12);
    assert!(signatures(&e, "ECDSA").is_empty());
}

/// Suite enumeration twice on the same server: from scratch (pretest,
/// bundles, every pick its own hello) and starting from the picks the broad
/// protocol hellos already got. The result must be the same, suite for
/// suite (key exchange group and DH size included) and in the same
/// preference order; only the cost differs.
fn both_ways(label: &str, addr: SocketAddr, sni: Option<&str>) -> (SuiteScan, u32, SuiteScan, u32) {
    support::runtime().block_on(async {
        let scout = Prober::new(addr, timeouts(), 8);
        let (protocols, first) = scan_protocols_picking(&scout, sni)
            .await
            .expect("protocol scan");
        let offered: Vec<ProtocolVersion> = protocols
            .iter()
            .filter(|p| p.offered == Some(true))
            .map(|p| p.version)
            .collect();
        let from_scratch = Prober::new(addr, timeouts(), 8);
        let scratch = enumerate_suites(&from_scratch, sni, &offered).await;
        let picking_up = Prober::new(addr, timeouts(), 8);
        let picked = enumerate_suites_after(&picking_up, sni, &offered, &first).await;
        eprintln!(
            "{label}: from scratch {} handshakes, after the protocol picks {}",
            from_scratch.handshakes(),
            picking_up.handshakes()
        );
        (
            scratch,
            from_scratch.handshakes(),
            picked,
            picking_up.handshakes(),
        )
    })
}

#[test]
fn starting_from_the_protocol_picks_changes_only_the_cost() {
    let mut servers: Vec<(String, SocketAddr, Option<&str>)> =
        ["min-tls12", "legacy-tls10", "tls12-restricted", "rsa-ecdsa"]
            .iter()
            .map(|name| {
                let listener = lab().listener(name).expect("lab listener");
                (
                    format!("envoy {name}"),
                    listener.addr,
                    listener.sni.as_deref(),
                )
            })
            .collect();
    // s_server in the client's order and in its own, with DHE (the DH
    // size of the first pick must still be read) and TLS 1.0 to 1.3.
    let client_order =
        OpensslServer::start(&["-cipher", "ALL:@SECLEVEL=0", "-min_protocol", "TLSv1"]);
    let server_order = OpensslServer::start(&[
        "-cipher",
        "DHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-SHA:AES128-SHA:DHE-RSA-AES128-SHA",
        "-serverpref",
        "-min_protocol",
        "TLSv1",
    ]);
    servers.push((
        "s_server client order".into(),
        client_order.addr(),
        Some("localhost"),
    ));
    servers.push((
        "s_server -serverpref".into(),
        server_order.addr(),
        Some("localhost"),
    ));
    for (label, addr, sni) in servers {
        let (scratch, scratch_cost, picked, picked_cost) = both_ways(&label, addr, sni);
        assert!(!scratch.suites.is_empty(), "{label}: nothing found");
        assert_eq!(picked, scratch, "{label}: the results differ");
        assert!(
            picked_cost < scratch_cost,
            "{label}: {picked_cost} handshakes after the protocol picks, {scratch_cost} from scratch"
        );
    }
}
