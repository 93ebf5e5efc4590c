//! The vulnerability battery against real servers on loopback: OpenSSL 3
//! `s_server` (legacy protocols and suites at @SECLEVEL=0), nginx with and
//! without gzip, and the lab's Envoy (BoringSSL) with its defaults. Each
//! check is asserted from what the server is configured to do, so a check
//! that always answered the same would fail one of them.

mod support;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use support::gnutls_server::GnutlsServer;
use support::nginx::Nginx;
use support::openssl_server::OpensslServer;
use tlsposture::lab::{seed_listeners, Lab};
use tlsposture::observe::{TargetObservation, VulnStatus};
use tlsposture::report::model::TargetReport;
use tlsposture::scan::{scan_target, Checks, ScanOptions};
use tlsposture::target::TargetSpec;

fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(|| support::start_lab(seed_listeners()))
}

fn scan(addr: &str, sni: Option<&str>) -> (TargetObservation, TargetReport) {
    let spec = TargetSpec::parse(addr).unwrap();
    let options = ScanOptions {
        sni: sni.map(str::to_owned),
        checks: Checks {
            vulns: true,
            suites: true,
            ..Checks::PROTOCOLS_ONLY
        },
        ..ScanOptions::default()
    };
    let observed = support::runtime()
        .block_on(scan_target(&spec, &options))
        .unwrap_or_else(|(_, e)| panic!("{addr}: {e}"));
    let judgement = tlsposture::verdict::judge(&observed, &Default::default());
    (observed.clone(), TargetReport::new(observed, judgement))
}

fn statuses(report: &TargetReport) -> BTreeMap<&'static str, (VulnStatus, String)> {
    report
        .vulnerabilities
        .iter()
        .map(|v| (v.id.name(), (v.status, v.evidence.clone())))
        .collect()
}

#[track_caller]
fn expect(report: &TargetReport, expected: &[(&str, VulnStatus)]) {
    let got = statuses(report);
    assert_eq!(got.len(), 18, "{got:#?}");
    let mut wrong = Vec::new();
    for (id, status) in expected {
        let (s, e) = &got[id];
        if s != status {
            wrong.push(format!("{id}: expected {status}, got {s} ({e})"));
        }
    }
    assert!(wrong.is_empty(), "{}\n{got:#?}", wrong.join("\n"));
}

use VulnStatus::{NotApplicable as NA, NotVulnerable as OK, Unknown as UNK, Vulnerable as VULN};

#[test]
fn openssl_tls10_only_server_with_cbc_and_rsa_kx() {
    // Debian's OpenSSL 3 has no 3DES, RC4, EXPORT or SSLv3 left (`openssl
    // ciphers DES-CBC3-SHA:@SECLEVEL=0` finds nothing): SWEET32 is
    // gnutls-serv's below.
    let server = OpensslServer::start(&[
        "-tls1",
        "-cipher",
        "AES128-SHA:ECDHE-RSA-AES128-SHA:@SECLEVEL=0",
    ]);
    let (_, report) = scan(&server.addr().to_string(), Some("localhost"));
    expect(
        &report,
        &[
            ("heartbleed", OK),
            ("ccs_injection", OK),
            ("secure_renegotiation", OK),
            ("crime", OK),
            ("sweet32", OK),
            ("beast", VULN),
            ("lucky13", VULN),
            ("poodle_ssl", OK),
            ("freak", OK),
            ("logjam", OK),
            ("drown", OK),
            ("rc4", OK),
            ("fallback_scsv", NA),
            // RSA key transport accepted: ROBOT applies; OpenSSL 3 is no
            // oracle.
            ("robot", OK),
            // The HTTP probes go over rustls, which speaks TLS 1.2+ only.
            ("breach", UNK),
            ("opossum", UNK),
        ],
    );
    let beast = report
        .findings
        .iter()
        .find(|f| f.id == "vuln.beast")
        .unwrap();
    assert_eq!(
        beast.severity,
        tlsposture::finding::Severity::Medium,
        "TLS 1.0 only"
    );
}

#[test]
fn gnutls_with_3des_is_sweet32() {
    let server = GnutlsServer::start("NORMAL:+VERS-TLS1.0:+3DES-CBC");
    let (_, report) = scan(&server.addr().to_string(), Some("localhost"));
    expect(
        &report,
        &[
            ("sweet32", VULN),
            ("beast", VULN),
            ("fallback_scsv", OK),
            ("secure_renegotiation", OK),
            ("heartbleed", OK),
            ("ccs_injection", OK),
            ("crime", OK),
        ],
    );
    let f = report
        .findings
        .iter()
        .find(|f| f.id == "vuln.sweet32")
        .unwrap();
    assert!(
        f.evidence.contains("3DES") || f.evidence.contains("DES-CBC3"),
        "{}",
        f.evidence
    );
    let beast = report
        .findings
        .iter()
        .find(|f| f.id == "vuln.beast")
        .unwrap();
    assert_eq!(
        beast.severity,
        tlsposture::finding::Severity::Low,
        "TLS 1.2 offered too"
    );
}

#[test]
fn openssl_modern_server_honours_fallback_scsv() {
    // TLS 1.2 and 1.3 with a CBC suite in 1.2.
    let server = OpensslServer::start(&[
        "-cipher",
        "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256",
    ]);
    let (_, report) = scan(&server.addr().to_string(), Some("localhost"));
    expect(
        &report,
        &[
            ("heartbleed", OK),
            ("ccs_injection", OK),
            ("secure_renegotiation", OK),
            ("crime", OK),
            ("fallback_scsv", OK),
            ("sweet32", OK),
            ("beast", OK),
            ("lucky13", VULN),
            ("robot", NA),
            ("ticketbleed", OK),
            ("opossum", OK),
        ],
    );
    let (_, e) = &statuses(&report)["fallback_scsv"];
    assert!(
        e.contains("inappropriate_fallback") && e.contains("DOWNGRD"),
        "{e}"
    );
}

#[test]
fn nginx_with_and_without_gzip() {
    let gzip = Nginx::start("gzip on; gzip_min_length 1; gzip_types text/plain;");
    let plain = Nginx::start("gzip off;");
    let (_, with) = scan(&gzip.addr().to_string(), Some("localhost"));
    let (_, without) = scan(&plain.addr().to_string(), Some("localhost"));
    expect(&with, &[("breach", VULN), ("opossum", OK), ("crime", OK)]);
    expect(&without, &[("breach", OK), ("opossum", OK)]);
    let (_, e) = &statuses(&with)["breach"];
    assert!(e.contains("gzip"), "{e}");
    let b = with
        .findings
        .iter()
        .find(|f| f.id == "vuln.breach")
        .unwrap();
    assert_eq!(b.severity, tlsposture::finding::Severity::Low);
}

#[test]
fn envoy_defaults_are_clean_and_cheap() {
    let l = lab().listener("min-tls12").expect("seed listener");
    let (observed, report) = scan(&l.addr.to_string(), l.sni.as_deref());
    expect(
        &report,
        &[
            ("heartbleed", OK),
            ("ccs_injection", OK),
            ("secure_renegotiation", OK),
            ("crime", OK),
            ("poodle_ssl", OK),
            ("fallback_scsv", OK),
            ("sweet32", OK),
            ("freak", OK),
            ("logjam", OK),
            ("drown", OK),
            ("beast", OK),
            ("rc4", OK),
            ("opossum", OK),
            ("ticketbleed", OK),
            ("client_renegotiation", OK),
            ("robot", NA),
        ],
    );
    let got = statuses(&report);
    assert!(
        got["ticketbleed"].1.contains("echoed exactly"),
        "{:?}",
        got["ticketbleed"]
    );
    assert!(got["opossum"].1.contains("403"), "{:?}", got["opossum"]);
    // The battery's cost: the same scan without it.
    let spec = TargetSpec::parse(&l.addr.to_string()).unwrap();
    let options = ScanOptions {
        sni: l.sni.clone(),
        checks: Checks {
            suites: true,
            ..Checks::PROTOCOLS_ONLY
        },
        ..ScanOptions::default()
    };
    let base = support::runtime()
        .block_on(scan_target(&spec, &options))
        .unwrap();
    let extra = observed.stats.handshakes - base.stats.handshakes;
    eprintln!(
        "battery on Envoy defaults: {extra} extra connections ({} vs {}), {} ms vs {} ms",
        observed.stats.handshakes,
        base.stats.handshakes,
        observed.stats.elapsed_ms,
        base.stats.elapsed_ms
    );
    assert!(extra <= 10, "{extra} extra connections: {got:#?}");
}

#[test]
fn openssl_dhe_with_a_well_known_1024_bit_prime_and_with_its_default() {
    let dir = tempfile::tempdir().unwrap();
    let dh = dir.path().join("dh1024.pem");
    let made = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-genparam",
            "-algorithm",
            "DH",
            "-pkeyopt",
            "group:dh_1024_160",
            "-out",
        ])
        .arg(&dh)
        .status()
        .expect("openssl on the PATH (apt-get install openssl)");
    assert!(made.success());
    let weak = OpensslServer::start(&[
        "-tls1_2",
        "-cipher",
        "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0",
        "-dhparam",
        dh.to_str().unwrap(),
    ]);
    let default = OpensslServer::start(&["-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256"]);
    let (_, weak) = scan(&weak.addr().to_string(), Some("localhost"));
    let (_, default) = scan(&default.addr().to_string(), Some("localhost"));
    expect(&weak, &[("logjam", VULN), ("freak", OK)]);
    expect(&default, &[("logjam", OK)]);
    let (_, e) = &statuses(&weak)["logjam"];
    assert!(
        e.contains("dh_1024_160 (RFC 5114)") && e.contains("below 2048"),
        "{e}"
    );
    let (_, e) = &statuses(&default)["logjam"];
    assert!(e.contains("2048-bit") && e.contains("RFC"), "{e}");
}

#[test]
fn openssl_client_renegotiation_allowed_and_not() {
    let refusing = OpensslServer::start(&["-tls1_2"]);
    let allowing = OpensslServer::start(&["-tls1_2", "-client_renegotiation"]);
    let (_, refusing) = scan(&refusing.addr().to_string(), Some("localhost"));
    let (_, allowing) = scan(&allowing.addr().to_string(), Some("localhost"));
    expect(
        &refusing,
        &[("client_renegotiation", OK), ("secure_renegotiation", OK)],
    );
    expect(
        &allowing,
        &[("client_renegotiation", VULN), ("secure_renegotiation", OK)],
    );
    let f = allowing
        .findings
        .iter()
        .find(|f| f.id == "vuln.client_renegotiation")
        .unwrap();
    assert_eq!(f.severity, tlsposture::finding::Severity::Medium);
}

#[test]
fn envoy_tls13_only_makes_the_tls12_checks_not_applicable() {
    let l = lab().listener("tls13-only").expect("seed listener");
    let (_, report) = scan(&l.addr.to_string(), l.sni.as_deref());
    expect(
        &report,
        &[
            ("heartbleed", NA),
            ("ccs_injection", NA),
            ("ticketbleed", NA),
            ("robot", NA),
            ("secure_renegotiation", NA),
            ("client_renegotiation", NA),
            ("crime", NA),
            ("fallback_scsv", NA),
            ("sweet32", OK),
            ("lucky13", OK),
            ("opossum", OK),
            ("breach", OK),
        ],
    );
    let (_, e) = &statuses(&report)["crime"];
    assert!(e.contains("needs TLS ≤ 1.2") && e.contains("TLS1.3"), "{e}");
}
