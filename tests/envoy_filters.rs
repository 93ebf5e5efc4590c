//! Envoy with the HTTP filters a platform team adds by EnvoyFilter (issue
//! 12's BREACH and HSTS cases): the gzip compressor, and a
//! Strict-Transport-Security response header. The same real Envoy 1.40 as
//! the lab, with a hand-written bootstrap (these filters are no Gateway
//! setting, so the lab's policy rendering has no place for them). Envoy's
//! defaults without them are covered by tests/vulns_real.rs and
//! tests/headers_servers.rs.

mod support;

use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tlsposture::lab::{KeyKind, LabCa};

use support::tlsposture;

struct Envoy {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Drop for Envoy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TLS listener answering every request with a 200 text body long
/// enough to compress, with the compressor and HSTS when asked.
fn start_envoy(gzip: bool, hsts: Option<&str>) -> Envoy {
    let envoy = tlsposture::lab::envoy::locate(None).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = LabCa::generate().expect("CA");
    let files = ca
        .issue_server_cert(&["localhost".to_owned()], KeyKind::Rsa2048)
        .expect("certificate")
        .write(dir.path(), "server")
        .expect("writing the certificate");
    let port = support::ports::free_port();
    let mut filters = Vec::new();
    if gzip {
        filters.push(json!({
            "name": "envoy.filters.http.compressor",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.compressor.v3.Compressor",
                "compressor_library": {
                    "name": "gzip",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.compression.gzip.compressor.v3.Gzip"
                    }
                }
            }
        }));
    }
    filters.push(json!({
        "name": "envoy.filters.http.router",
        "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}
    }));
    let mut route_config = json!({
        "name": "routes",
        "virtual_hosts": [{
            "name": "all",
            "domains": ["*"],
            "routes": [{
                "match": {"prefix": "/"},
                "direct_response": {
                    "status": 200,
                    "body": {"inline_string": "a response body long enough for the compressor to bother with\n".repeat(4)}
                },
                "response_headers_to_add": [{"header": {"key": "content-type", "value": "text/plain"}}]
            }]
        }]
    });
    if let Some(value) = hsts {
        route_config["response_headers_to_add"] =
            json!([{"header": {"key": "strict-transport-security", "value": value}}]);
    }
    let config = json!({
        "static_resources": {"listeners": [{
            "name": "filters",
            "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
            "filter_chains": [{
                "transport_socket": {
                    "name": "envoy.transport_sockets.tls",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
                        "common_tls_context": {
                            "tls_certificates": [{
                                "certificate_chain": {"filename": files.cert},
                                "private_key": {"filename": files.key}
                            }],
                            "alpn_protocols": ["h2", "http/1.1"]
                        }
                    }
                },
                "filters": [{
                    "name": "envoy.filters.network.http_connection_manager",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                        "stat_prefix": "filters",
                        "route_config": route_config,
                        "http_filters": filters
                    }
                }]
            }]
        }]}
    });
    let path = dir.path().join("envoy.json");
    std::fs::write(&path, serde_json::to_string_pretty(&config).unwrap()).expect("config");
    let log = std::fs::File::create(dir.path().join("envoy.log")).expect("log");
    let child = Command::new(envoy)
        .arg("-c")
        .arg(&path)
        .arg("--disable-hot-restart")
        .args(["--log-level", "warn", "--concurrency", "1"])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("starting Envoy");
    let mut envoy = Envoy {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        dir,
    };
    let started = Instant::now();
    while TcpStream::connect_timeout(&envoy.addr, Duration::from_millis(200)).is_err() {
        if let Ok(Some(status)) = envoy.child.try_wait() {
            let log =
                std::fs::read_to_string(envoy.dir.path().join("envoy.log")).unwrap_or_default();
            panic!("Envoy exited ({status}):\n{log}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "Envoy did not listen in time"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    envoy
}

fn scan(envoy: &Envoy) -> Value {
    let target = envoy.addr.to_string();
    let (code, out, err) = tlsposture(&[
        "scan",
        &target,
        "--sni",
        "localhost",
        "--checks",
        "vulns,headers",
        "--no-color",
        "--json",
        "-",
    ]);
    assert_ne!(code, 2, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    report["targets"][0].clone()
}

fn vuln<'a>(t: &'a Value, id: &str) -> &'a Value {
    t["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("{id} in {t}"))
}

#[test]
fn envoy_with_the_compressor_and_hsts_filters() {
    let filtered = start_envoy(true, Some("max-age=31536000; includeSubDomains"));
    let t = scan(&filtered);
    let breach = vuln(&t, "breach");
    assert_eq!(breach["status"], "vulnerable", "{breach}");
    assert!(
        breach["evidence"].as_str().unwrap().contains("gzip"),
        "{breach}"
    );
    assert_eq!(vuln(&t, "opossum")["status"], "not_vulnerable", "{t}");
    let root = t["http_headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["path"] == "/")
        .unwrap_or_else(|| panic!("{t}"))
        .clone();
    assert_eq!(root["hsts"]["max_age"], 31536000, "{root}");
    assert_eq!(root["hsts"]["include_subdomains"], true, "{root}");

    // The same Envoy without them: no compression, no HSTS.
    let plain = start_envoy(false, None);
    let t = scan(&plain);
    assert_eq!(vuln(&t, "breach")["status"], "not_vulnerable", "{t}");
    assert!(
        t["http_headers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["hsts"].is_null()),
        "{t}"
    );
}
