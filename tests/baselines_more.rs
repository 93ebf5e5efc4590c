//! The baselines beyond Mozilla (NIST SP 800-52r2, BSI TR-02102-2, PCI DSS
//! 4.0): each loads and cites its sources, and real servers land inside or
//! outside them with the findings their rules give: `openssl s_server`
//! with TLS 1.0, the lab's Envoy with 3DES, and Envoy's defaults (inside
//! PCI; outside NIST and BSI for documented reasons).

mod support;

use serde_json::Value;
use support::openssl_server::OpensslServer;
use tlsposture::lab::seed_listeners;
use tlsposture::policy::baseline;

const NEW: [&str; 3] = ["nist-800-52r2", "bsi-tr-02102-2", "pci-dss-4.0"];

fn scan(addr: &str, sni: &str, baseline: &str) -> (i32, Value) {
    let (code, stdout, stderr) = support::tlsposture(&[
        "scan",
        addr,
        "--sni",
        sni,
        "--checks",
        "protocols,suites,groups,certificates",
        "--baseline",
        baseline,
        "--json",
        "-",
    ]);
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}); exit {code}; {stderr}"));
    (code, report)
}

/// The baseline findings, id → observed.
fn outside(report: &Value) -> Vec<(String, Value)> {
    report["targets"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["id"]
                .as_str()
                .is_some_and(|id| id.starts_with("baseline."))
        })
        .map(|f| (f["id"].as_str().unwrap().to_owned(), f["observed"].clone()))
        .collect()
}

fn ids(report: &Value) -> Vec<String> {
    let mut ids: Vec<String> = outside(report).into_iter().map(|(id, _)| id).collect();
    ids.sort();
    ids.dedup();
    ids
}

fn suites_outside(report: &Value) -> String {
    outside(report)
        .into_iter()
        .filter(|(id, _)| id == "baseline.suite_not_allowed")
        .map(|(_, o)| o["suites"].to_string())
        .collect()
}

#[test]
fn each_new_baseline_loads_and_cites_its_sources() {
    let names = baseline::names();
    for name in NEW {
        assert!(names.contains(&name), "{name} not in {names:?}");
        let b = baseline::baseline(name).expect(name);
        let document = match name {
            "nist-800-52r2" => "SP 800-52 Rev. 2",
            "bsi-tr-02102-2" => "TR-02102-2",
            _ => "PCI DSS v4.0",
        };
        assert!(b.source.contains(document), "{name}: {}", b.source);
        for rule in [
            "protocols",
            "tls12_suites",
            "tls13_suites",
            "groups",
            "rsa_key_size",
        ] {
            let cited = b.sources.get(rule).map(String::as_str).unwrap_or("");
            assert!(
                cited.contains('§') || cited.contains("Req.") || cited.contains("Glossary"),
                "{name}: {rule} cites {cited:?}"
            );
        }
    }
    // The CLI accepts the names and the help lists them.
    let (code, stdout, _) = support::tlsposture(&["scan", "--help"]);
    assert_eq!(code, 0);
    for name in NEW {
        assert!(stdout.contains(name), "--help lacks {name}");
    }
}

#[test]
fn openssl_with_tls10_is_outside_every_new_baseline() {
    let server = OpensslServer::start(&[
        "-cipher",
        "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA:@SECLEVEL=0",
    ]);
    let addr = server.addr().to_string();
    for name in NEW {
        let (code, report) = scan(&addr, "localhost", name);
        assert_eq!(code, 1, "{name}: {report:#}");
        let found = outside(&report);
        let versions: Vec<&Value> = found
            .iter()
            .filter(|(id, _)| id == "baseline.protocol_not_allowed")
            .map(|(_, o)| &o["version"])
            .collect();
        assert!(
            versions.contains(&&Value::from("TLS1.0")),
            "{name}: {found:?}"
        );
        assert!(
            versions.contains(&&Value::from("TLS1.1")),
            "{name}: {found:?}"
        );
        assert_eq!(report["summary"]["baselines"][0]["within"], false);
    }
}

#[test]
fn a_dhe_2048_server_is_under_bsis_3000_bit_rule_only() {
    let server = OpensslServer::start(&["-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256"]);
    let addr = server.addr().to_string();
    let (_, report) = scan(&addr, "localhost", "bsi-tr-02102-2");
    let dh: Vec<Value> = outside(&report)
        .into_iter()
        .filter(|(id, _)| id == "baseline.dh_param_size")
        .map(|(_, o)| o)
        .collect();
    assert_eq!(dh.len(), 1, "{:?}", outside(&report));
    assert!(
        dh[0]["suites"][0].as_str().unwrap().contains("2048 bits"),
        "{dh:?}"
    );
    // The same group is enough for NIST and PCI (2048 bits).
    for name in ["nist-800-52r2", "pci-dss-4.0"] {
        let (_, report) = scan(&addr, "localhost", name);
        assert!(
            !ids(&report).contains(&"baseline.dh_param_size".to_owned()),
            "{name}: {:?}",
            outside(&report)
        );
    }
}

#[test]
fn envoy_listeners_against_the_new_baselines() {
    let lab = support::start_lab(seed_listeners());
    let addr = |name: &str| lab.listener(name).expect(name).addr.to_string();
    let defaults = addr("min-tls12");
    let host = "gateway.lab.test";

    // PCI DSS 4.0 names no suites, only "strong cryptography": Envoy's
    // defaults (TLS 1.2/1.3, ECDHE or RSA with AES/ChaCha20, RSA 2048)
    // are inside it.
    let (_, report) = scan(&defaults, host, "pci-dss-4.0");
    assert!(ids(&report).is_empty(), "{:?}", outside(&report));
    assert_eq!(report["summary"]["baselines"][0]["within"], true);

    // NIST SP 800-52r2 (documented difference): ChaCha20-Poly1305 (TLS 1.2
    // and 1.3) and X25519 are not in its lists; the protocols, the
    // ECDHE-AES-GCM suites and the RSA 2048 key are.
    let (_, report) = scan(&defaults, host, "nist-800-52r2");
    assert_eq!(
        ids(&report),
        ["baseline.group_not_allowed", "baseline.suite_not_allowed"],
        "{:?}",
        outside(&report)
    );
    let suites = suites_outside(&report);
    assert!(
        suites.contains("ECDHE-RSA-CHACHA20-POLY1305")
            && suites.contains("TLS_CHACHA20_POLY1305_SHA256"),
        "{suites}"
    );
    assert!(!suites.contains("ECDHE-RSA-AES128-GCM-SHA256"), "{suites}");

    // BSI TR-02102-2: RSA 2048 is under its 3000-bit rule, and the
    // ChaCha20 suites and X25519 are outside it.
    let (_, report) = scan(&defaults, host, "bsi-tr-02102-2");
    assert_eq!(
        ids(&report),
        [
            "baseline.group_not_allowed",
            "baseline.rsa_key_size",
            "baseline.suite_not_allowed"
        ],
        "{:?}",
        outside(&report)
    );
    let key = outside(&report)
        .into_iter()
        .find(|(id, _)| id == "baseline.rsa_key_size")
        .unwrap()
        .1;
    assert_eq!(key["key_bits"], 2048);
    assert!(suites_outside(&report).contains("CHACHA20"));

    // The legacy listener's DES-CBC3-SHA (SWEET32) and TLS 1.0 are outside
    // PCI's strong cryptography.
    let (code, report) = scan(&addr("legacy-tls10"), host, "pci-dss-4.0");
    assert_eq!(code, 1);
    let found = ids(&report);
    assert!(
        found.contains(&"baseline.protocol_not_allowed".to_owned()),
        "{found:?}"
    );
    assert!(
        suites_outside(&report).contains("DES-CBC3-SHA"),
        "{:?}",
        outside(&report)
    );
}
