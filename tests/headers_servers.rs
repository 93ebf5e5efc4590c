//! The HTTP header probes against real servers: nginx with HSTS on every
//! answer (`always`), on successful answers only (its 404 then has none,
//! the local-reply case of envoyproxy/envoy#7554), short, invalid and
//! doubled; the lab's Envoy defaults (no HSTS). testssl.sh (`-h`) agrees
//! on max-age, includeSubDomains, preload, the doubled header and the
//! banner (`testssl_agrees_on_hsts`).

mod support;

use std::net::SocketAddr;

use tlsposture::lab::ListenerSpec;
use tlsposture::observe::HeaderProbe;
use tlsposture::probe::ProbeTimeouts;
use tlsposture::scan::headers::probe_headers;
use tlsposture::scan::Prober;
use tlsposture::verdict::headers::findings;

use support::Nginx;

const GOOD: &str = "max-age=63072000; includeSubDomains; preload";

/// `/` and the random path, checked to cost two connections.
fn headers(addr: SocketAddr, sni: Option<&str>, host: &str) -> Vec<HeaderProbe> {
    support::runtime().block_on(async {
        let prober = Prober::new(addr, ProbeTimeouts::default(), 8);
        let probes = probe_headers(&prober, sni, host).await;
        assert_eq!(prober.handshakes(), 2, "{probes:#?}");
        assert_eq!(probes.len(), 2, "{probes:#?}");
        assert_eq!(probes[0].path, "/");
        assert!(!probes[0].random_path && probes[1].random_path);
        assert!(probes[1].path.starts_with("/tlsposture-"), "{probes:#?}");
        probes
    })
}

fn ids(probes: &[HeaderProbe]) -> Vec<String> {
    findings(probes).into_iter().map(|f| f.id).collect()
}

/// `/` answers 200, anything else nginx's own 404.
fn nginx(extra: &str) -> Nginx {
    Nginx::start(&format!(
        "{extra}\n location / {{ if ($uri != \"/\") {{ return 404; }} return 200 \"hi\\n\"; }}"
    ))
}

#[test]
fn nginx_hsts_on_every_answer() {
    let x = nginx(&format!(
        "add_header Strict-Transport-Security \"{GOOD}\" always;\n\
         add_header X-Frame-Options DENY always;\n\
         add_header X-Content-Type-Options nosniff always;"
    ));
    let p = headers(x.addr(), Some("localhost"), "localhost");
    assert_eq!(p[0].status, Some(200), "{p:#?}");
    assert_eq!(p[1].status, Some(404), "{p:#?}");
    for probe in &p {
        let hsts = probe.hsts.as_ref().expect("HSTS on both");
        assert_eq!(hsts.max_age, Some(63_072_000));
        assert!(hsts.include_subdomains && hsts.preload);
        assert!(hsts.problems.is_empty(), "{hsts:?}");
        assert!(
            probe.server.as_deref().unwrap().starts_with("nginx"),
            "{probe:?}"
        );
        let present: Vec<&str> = probe
            .security_headers
            .iter()
            .map(|h| h.name.as_str())
            .collect();
        assert_eq!(present, ["x-frame-options", "x-content-type-options"]);
        assert!(probe
            .missing_headers
            .contains(&"content-security-policy".to_owned()));
    }
    assert_eq!(ids(&p), ["headers.server_banner"]);
}

#[test]
fn nginx_hsts_without_always_misses_the_404() {
    // add_header without `always` applies to 2xx/3xx answers only.
    let x = nginx(&format!("add_header Strict-Transport-Security \"{GOOD}\";"));
    let p = headers(x.addr(), Some("localhost"), "localhost");
    assert!(p[0].hsts.is_some(), "{p:#?}");
    assert_eq!((p[1].status, &p[1].hsts), (Some(404), &None), "{p:#?}");
    let f = findings(&p);
    let missing = f
        .iter()
        .find(|f| f.id == "headers.hsts_missing")
        .expect("missing");
    assert!(
        missing.evidence.contains(&p[1].path),
        "{}",
        missing.evidence
    );
    assert!(
        !missing.evidence.contains("localhost/ (200)"),
        "{}",
        missing.evidence
    );
}

#[test]
fn nginx_short_and_doubled_hsts() {
    let x = nginx(&format!(
        "add_header Strict-Transport-Security \"max-age=600\" always;\n\
         add_header Strict-Transport-Security \"{GOOD}\" always;"
    ));
    let p = headers(x.addr(), Some("localhost"), "localhost");
    let hsts = p[0].hsts.as_ref().unwrap();
    // RFC 6797 8.1: the first header counts.
    assert_eq!((hsts.max_age, hsts.occurrences), (Some(600), 2), "{hsts:?}");
    assert!(!hsts.include_subdomains);
    assert!(
        hsts.problems.iter().any(|p| p.contains("differing")),
        "{hsts:?}"
    );
    let mut got = ids(&p);
    got.sort();
    assert_eq!(
        got,
        [
            "headers.hsts_duplicate",
            "headers.hsts_short",
            "headers.server_banner"
        ]
    );
}

#[test]
fn nginx_invalid_hsts() {
    let x = nginx("add_header Strict-Transport-Security \"max-age=forever; preload\" always;");
    let p = headers(x.addr(), Some("localhost"), "localhost");
    let hsts = p[0].hsts.as_ref().unwrap();
    assert_eq!(hsts.max_age, None);
    assert!(hsts.preload);
    assert!(
        hsts.problems.iter().any(|p| p.contains("not a number")),
        "{hsts:?}"
    );
    let f = findings(&p);
    let invalid = f
        .iter()
        .find(|f| f.id == "headers.hsts_invalid")
        .expect("invalid");
    assert_eq!(invalid.severity, tlsposture::finding::Severity::Medium);
}

#[test]
fn envoy_defaults_send_no_hsts() {
    let lab = support::start_lab(vec![ListenerSpec::new("defaults", "Envoy's defaults")]);
    let l = lab.listener("defaults").unwrap();
    let sni = l.sni.as_deref().unwrap();
    let p = headers(l.addr, Some(sni), sni);
    for probe in &p {
        // The lab's route answers every path with its direct response.
        assert_eq!(probe.status, Some(200), "{probe:#?}");
        assert_eq!(probe.hsts, None, "{probe:#?}");
        assert_eq!(probe.server.as_deref(), Some("envoy"), "{probe:#?}");
        assert!(probe.security_headers.is_empty(), "{probe:#?}");
    }
    assert_eq!(ids(&p), ["headers.hsts_missing", "headers.server_banner"]);
}

#[test]
fn testssl_agrees_on_hsts() {
    let bin = support::testssl::binary().expect("testssl.sh not found: apt-get install testssl.sh");
    let good = nginx(&format!(
        "add_header Strict-Transport-Security \"{GOOD}\" always;"
    ));
    let bad = nginx(&format!(
        "add_header Strict-Transport-Security \"max-age=600\" always;\n\
         add_header Strict-Transport-Security \"{GOOD}\" always;"
    ));
    let runs: Vec<_> = [good.addr(), bad.addr()]
        .into_iter()
        .map(|addr| std::thread::spawn(move || testssl_hsts(bin, addr)))
        .collect();
    let verdicts: Vec<_> = runs.into_iter().map(|r| r.join().unwrap()).collect();
    for (server, testssl) in [&good, &bad].into_iter().zip(verdicts) {
        let p = headers(server.addr(), Some("localhost"), "localhost");
        let hsts = p[0].hsts.as_ref().unwrap();
        let get = |id: &str| testssl.get(id).cloned().unwrap_or_default();
        let short = hsts.max_age.unwrap() < tlsposture::observe::HSTS_MIN_MAX_AGE;
        assert_eq!(
            get("HSTS_time").contains("too short"),
            short,
            "{hsts:?} {testssl:?}"
        );
        assert!(get("HSTS_time").contains(&format!("={} seconds", hsts.max_age.unwrap())));
        assert_eq!(
            testssl.contains_key("HSTS_multiple"),
            hsts.occurrences > 1,
            "{testssl:?}"
        );
        assert_eq!(
            get("HSTS_subdomains").contains("only for this domain"),
            !hsts.include_subdomains,
            "{testssl:?}"
        );
        assert_eq!(
            get("HSTS_preload").contains("NOT marked"),
            !hsts.preload,
            "{testssl:?}"
        );
        assert_eq!(Some(get("banner_server")), p[0].server, "{testssl:?}");
    }
}

fn testssl_hsts(bin: &str, addr: SocketAddr) -> std::collections::HashMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let out = std::process::Command::new(bin)
        .args([
            "--quiet",
            "--color",
            "0",
            "--warnings",
            "off",
            "--nodns",
            "min",
            "-h",
        ])
        .arg("--jsonfile")
        .arg(&json)
        .arg(addr.to_string())
        .output()
        .expect("testssl runs");
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| {
        panic!(
            "no testssl JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    let findings: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    findings
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap_or_default().to_owned(),
                f["finding"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Every name given with --sni gets its own header probes (the Host and
/// SNI of each), so a host whose server block lacks HSTS is seen.
#[test]
fn each_sni_gets_its_own_header_probes() {
    let server = nginx("add_header Strict-Transport-Security \"max-age=31536000\" always;");
    let target = server.addr().to_string();
    let (code, out, err) = support::tlsposture(&[
        "scan",
        &target,
        "--sni",
        "localhost",
        "--sni",
        "other.test",
        "--checks",
        "headers",
        "--no-color",
        "--json",
        "-",
    ]);
    assert_ne!(code, 2, "{err}");
    let report: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let probes = report["targets"][0]["http_headers"]
        .as_array()
        .unwrap()
        .clone();
    let mut hosts: Vec<&str> = probes.iter().filter_map(|p| p["host"].as_str()).collect();
    hosts.sort_unstable();
    assert_eq!(
        hosts,
        ["localhost", "localhost", "other.test", "other.test"],
        "{probes:?}"
    );
    assert!(
        probes.iter().all(|p| p["hsts"]["max_age"] == 31536000),
        "{probes:?}"
    );
}
