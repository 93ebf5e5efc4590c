//! The protocol scan against real servers on loopback: the lab's Envoy
//! listeners (the first seed's scenarios) and `openssl s_server` with legacy
//! versions enabled. Each test asserts the exact protocol table the CLI
//! reports in JSON, plus the handshake budget.

mod support;

use assert_cmd::Command;
use serde_json::Value;

use support::openssl_server::OpensslServer;

/// Runs `tlsposture scan ... --json -` and returns (exit code, report).
fn scan_json(args: &[&str]) -> (i32, Value) {
    let out = Command::cargo_bin("tlsposture")
        .expect("binary builds")
        .arg("scan")
        .args(args)
        .args(["--json", "-", "--timeout", "3s", "--checks", "protocols"])
        .output()
        .expect("tlsposture runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON report ({e}):\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().expect("exit code"), report)
}

/// The protocol table as (version, offered) pairs, oldest first.
fn table(report: &Value) -> Vec<(String, Option<bool>)> {
    report["targets"][0]["protocols"]
        .as_array()
        .expect("protocols array")
        .iter()
        .map(|p| {
            (
                p["version"].as_str().expect("version").to_string(),
                p["offered"].as_bool(),
            )
        })
        .collect()
}

fn expect_table(offered: [bool; 6]) -> Vec<(String, Option<bool>)> {
    ["SSLv2", "SSLv3", "TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3"]
        .iter()
        .zip(offered)
        .map(|(v, o)| (v.to_string(), Some(o)))
        .collect()
}

fn finding_ids(report: &Value) -> Vec<String> {
    report["targets"][0]["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| f["id"].as_str().expect("id").to_string())
        .collect()
}

fn handshakes(report: &Value) -> u64 {
    report["targets"][0]["stats"]["handshakes"]
        .as_u64()
        .expect("handshake count")
}

#[test]
fn lab_listeners_have_the_seed_protocol_tables() {
    let lab = support::start_lab(tlsposture::lab::seed_listeners());
    let expected = [
        (
            "min-tls12",
            [false, false, false, false, true, true],
            0,
            vec![],
        ),
        (
            "tls12-only",
            [false, false, false, false, true, false],
            0,
            vec!["protocol.tls13_not_offered"],
        ),
        (
            "tls13-only",
            [false, false, false, false, false, true],
            0,
            vec![],
        ),
        (
            "legacy-tls10",
            [false, false, true, true, true, true],
            0,
            vec!["protocol.tls10_offered", "protocol.tls11_offered"],
        ),
    ];
    for (name, offered, code, findings) in expected {
        let listener = lab.listener(name).expect("seed listener");
        let addr = listener.addr.to_string();
        let sni = listener
            .sni
            .clone()
            .expect("lab listeners have a host name");
        let (exit, report) = scan_json(&[&addr, "--sni", &sni]);
        assert_eq!(table(&report), expect_table(offered), "{name}: {report:#}");
        assert_eq!(exit, code, "{name}: exit code");
        assert_eq!(finding_ids(&report), findings, "{name}: findings");
        assert!(
            handshakes(&report) <= 8,
            "{name}: {} handshakes",
            handshakes(&report)
        );
        assert_eq!(report["targets"][0]["sni"], sni.as_str());
    }
}

#[test]
fn tls12_evidence_names_the_downgrade_and_alerts() {
    let lab = support::start_lab(tlsposture::lab::seed_listeners());
    let l = lab.listener("tls12-only").expect("seed listener");
    let (_, report) = scan_json(&[&l.addr.to_string(), "--sni", l.sni.as_deref().unwrap()]);
    let tls13 = &report["targets"][0]["protocols"][5];
    assert_eq!(tls13["version"], "TLS1.3");
    assert!(
        tls13["evidence"].as_str().unwrap().contains("downgraded"),
        "{tls13}"
    );
    let tls10 = &report["targets"][0]["protocols"][2];
    assert!(
        tls10["evidence"].as_str().unwrap().contains("alert"),
        "{tls10}"
    );
}

#[test]
fn fail_on_medium_fails_the_legacy_listener() {
    let lab = support::start_lab(tlsposture::lab::seed_listeners());
    let l = lab.listener("legacy-tls10").expect("seed listener");
    let addr = l.addr.to_string();
    let (exit, report) = scan_json(&[&addr, "--fail-on", "medium"]);
    assert_eq!(exit, 1, "{report:#}");
    assert_eq!(report["summary"]["exit_code"], 1);
    assert_eq!(report["summary"]["findings"]["medium"], 2);
}

#[test]
fn openssl_server_with_tls10_to_tls13() {
    let server = OpensslServer::start(&["-cipher", "ALL:@SECLEVEL=0", "-min_protocol", "TLSv1"]);
    let (exit, report) = scan_json(&[&server.addr().to_string()]);
    assert_eq!(
        table(&report),
        expect_table([false, false, true, true, true, true])
    );
    assert_eq!(exit, 0);
    assert!(handshakes(&report) <= 8);
}

#[test]
fn openssl_server_tls10_only_answers_a_tls12_hello_with_tls10() {
    let server = OpensslServer::start(&["-tls1", "-cipher", "ALL:@SECLEVEL=0"]);
    let (exit, report) = scan_json(&[&server.addr().to_string()]);
    assert_eq!(
        table(&report),
        expect_table([false, false, true, false, false, false])
    );
    let tls12 = &report["targets"][0]["protocols"][4];
    assert_eq!(tls12["negotiated"], "TLS1.0", "{tls12}");
    assert!(finding_ids(&report).contains(&"protocol.no_tls12_or_tls13".to_string()));
    assert_eq!(exit, 1, "no TLS 1.2/1.3 is a high finding");
}

#[test]
fn ipv6_loopback_target() {
    let min12: Vec<_> = tlsposture::lab::seed_listeners()
        .into_iter()
        .filter(|l| l.name == "min-tls12")
        .collect();
    let mut options = support::lab_options(min12);
    options.bind = "::1".parse().unwrap();
    let rt = support::runtime();
    let lab = rt
        .block_on(rt.spawn(tlsposture::lab::Lab::start(options)))
        .expect("lab task")
        .expect("the lab starts on [::1]");
    let addr = lab.listeners()[0].addr;
    assert!(addr.is_ipv6(), "{addr}");
    let (exit, report) = scan_json(&[&addr.to_string()]);
    assert_eq!(exit, 0, "{report:#}");
    assert_eq!(report["targets"][0]["ip"], "::1");
    assert_eq!(report["targets"][0]["sni"], serde_json::Value::Null);
    assert_eq!(
        table(&report),
        expect_table([false, false, false, false, true, true])
    );
}

/// A middlebox with the "128 cipher suites" bug in front of a real server:
/// it closes any connection whose ClientHello lists more than 128 suites and
/// forwards everything else both ways.
fn suite_limited_proxy(backend: std::net::SocketAddr) -> std::net::SocketAddr {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut client = client;
                let mut header = [0u8; 5];
                if client.read_exact(&mut header).is_err() {
                    return;
                }
                let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
                let mut body = vec![0u8; len];
                if client.read_exact(&mut body).is_err() {
                    return;
                }
                // handshake header 4, version 2, random 32, session id.
                let sid = usize::from(*body.get(38).unwrap_or(&0));
                let at = 39 + sid;
                let suites = body
                    .get(at..at + 2)
                    .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])) / 2)
                    .unwrap_or(0);
                if header[0] != 0x16 || suites > 128 {
                    return; // drop the connection, as the buggy box does
                }
                let Ok(mut server) = TcpStream::connect(backend) else {
                    return;
                };
                let _ = server.write_all(&header);
                let _ = server.write_all(&body);
                let mut server_reader = server.try_clone().unwrap();
                let mut client_writer = client.try_clone().unwrap();
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut server_reader, &mut client_writer);
                });
                let _ = std::io::copy(&mut client, &mut server);
            });
        }
    });
    addr
}

#[test]
fn a_box_that_drops_large_hellos_still_shows_tls12_and_tls13() {
    let lab = support::start_lab(tlsposture::lab::seed_listeners());
    let l = lab.listener("min-tls12").expect("seed listener");
    let proxy = suite_limited_proxy(l.addr);
    let (exit, report) = scan_json(&[&proxy.to_string(), "--sni", l.sni.as_deref().unwrap()]);
    assert_eq!(
        table(&report),
        expect_table([false, false, false, false, true, true]),
        "{report:#}"
    );
    assert_eq!(exit, 0);
    let tls12 = report["targets"][0]["protocols"][4]["evidence"]
        .as_str()
        .unwrap();
    assert!(tls12.contains("compact hello"), "{tls12}");
    assert!(handshakes(&report) <= 8, "{}", handshakes(&report));
}
