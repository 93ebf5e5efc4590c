//! Input the scan plan must refuse before any probe runs: server names the
//! wire cannot carry, whether given with `--sni` or declared as a Gateway
//! host. Each is one line on stderr and exit 64, never a panic in the
//! hello encoder. The target is a closed loopback port: nothing is scanned.

mod support;

/// Exit code and stderr of one run.
fn tlsposture(args: &[&str]) -> (i32, String) {
    let (code, _, stderr) = support::tlsposture(args);
    (code, stderr)
}

/// Exit 64 with exactly one short line that contains each of `needles`.
fn assert_usage(args: &[&str], needles: &[&str]) {
    let (code, stderr) = tlsposture(args);
    assert!(
        !stderr.contains("panicked"),
        "panic on stderr:\n{}",
        &stderr[..stderr.len().min(2000)]
    );
    assert_eq!(code, 64, "stderr: {}", &stderr[..stderr.len().min(2000)]);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line expected, got:\n{stderr:.2000}");
    assert!(
        lines[0].len() < 300,
        "the line repeats the input: {stderr:.400}"
    );
    for needle in needles {
        assert!(
            lines[0].contains(needle),
            "{needle:?} missing in: {}",
            lines[0]
        );
    }
}

#[test]
fn an_sni_longer_than_the_wire_allows_is_a_usage_error() {
    let long = "a".repeat(70_000);
    assert_usage(
        &["scan", "127.0.0.1:1", "--sni", &long],
        &["--sni", "70000 bytes", "at most 253"],
    );
}

#[test]
fn an_empty_sni_is_a_usage_error() {
    assert_usage(&["scan", "127.0.0.1:1", "--sni", ""], &["--sni", "empty"]);
}

#[test]
fn an_sni_label_of_64_bytes_is_a_usage_error() {
    let name = format!("{}.example.com", "b".repeat(64));
    assert_usage(
        &["scan", "127.0.0.1:1", "--sni", &name],
        &["--sni", "label of 64 bytes"],
    );
}

#[test]
fn watch_refuses_the_same_names() {
    assert_usage(
        &["watch", "127.0.0.1:1", "--sni", "a..b", "--timeout", "1s"],
        &["--sni", "empty label"],
    );
}

#[test]
fn a_declared_host_longer_than_the_wire_allows_names_its_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("longhost.yaml");
    let yaml = format!(
        "apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: gw
  namespace: default
spec:
  selector:
    istio: ingressgateway
  servers:
  - hosts:
    - {}
    port:
      number: 443
      name: https
      protocol: HTTPS
    tls:
      mode: SIMPLE
      credentialName: test
",
        "a".repeat(70_000)
    );
    std::fs::write(&path, yaml).expect("write policy");
    let file = path.display().to_string();
    let (_, stderr) = tlsposture(&["scan", "127.0.0.1:1", "--policy", &file]);
    // The server entry starts on line 10.
    assert_usage(
        &["scan", "127.0.0.1:1", "--policy", &file],
        &[&format!("{file}:10"), "hosts", "70000 bytes"],
    );
    assert!(!stderr.contains(&"a".repeat(100)), "echoes the host");
}

#[test]
fn a_declared_plain_http_host_is_checked_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("badhost.yaml");
    std::fs::write(
        &path,
        "apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: gw
spec:
  servers:
  - hosts:
    - bad..host
    port:
      number: 80
      name: http
      protocol: HTTP
",
    )
    .expect("write policy");
    let file = path.display().to_string();
    assert_usage(
        &[
            "scan",
            "127.0.0.1:1",
            "--policy",
            &file,
            "--declared-port",
            "80",
        ],
        &[&format!("{file}:7"), "empty label"],
    );
}
