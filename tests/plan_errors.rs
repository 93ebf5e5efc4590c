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

/// A minimal valid policy: one SIMPLE HTTPS server on 443.
const GATEWAY_YAML: &str = "apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: gw
  namespace: default
spec:
  selector:
    istio: ingressgateway
  servers:
  - hosts:
    - gw.example
    port:
      number: 443
      name: https
      protocol: HTTPS
    tls:
      mode: SIMPLE
      credentialName: test
";

/// Every command that reads policy files, reading `file`. A run that hangs
/// fails the test (`support::tlsposture` stops it after 30 s).
fn every_policy_command(file: &str) -> Vec<Vec<&str>> {
    vec![
        vec!["scan", "127.0.0.1:1", "--policy", file],
        vec!["policy", "lint", file],
        vec!["policy", "explain", file],
        vec!["simulate", "--policy", file],
        vec!["simulate", "--from", file, "--to", file],
        vec!["lab", "--policy", file],
    ]
}

#[test]
fn a_fifo_as_policy_file_is_refused_without_blocking() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("policy.fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .expect("mkfifo runs (coreutils)");
    assert!(status.success(), "mkfifo failed");
    let file = path.display().to_string();
    // No writer ever opens the FIFO: opening it for reading would block.
    for args in every_policy_command(&file) {
        assert_usage(&args, &[&file, "is a FIFO, not a regular file"]);
    }
}

#[test]
fn a_device_as_policy_file_is_refused_before_reading_it() {
    for device in ["/dev/zero", "/dev/urandom"] {
        assert_usage(
            &["policy", "lint", device],
            &[device, "is a character device, not a regular file"],
        );
        assert_usage(
            &["scan", "127.0.0.1:1", "--policy", device],
            &[device, "is a character device, not a regular file"],
        );
    }
}

#[test]
fn a_directory_as_policy_file_is_refused_by_type() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().display().to_string();
    for args in every_policy_command(&file) {
        assert_usage(&args, &[&file, "is a directory, not a regular file"]);
    }
}

#[test]
fn a_policy_file_over_the_cap_is_refused_before_parsing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("huge.yaml");
    // Valid YAML up front, then a comment that takes it just over the cap:
    // parsed, it would be accepted; the refusal can only be the size.
    let cap = usize::try_from(tlsposture::policy::MAX_POLICY_FILE_BYTES).expect("fits");
    let mut text = GATEWAY_YAML.to_owned();
    text.push('#');
    text.push_str(&"x".repeat(cap + 1 - text.len()));
    assert_eq!(text.len(), cap + 1);
    std::fs::write(&path, &text).expect("write policy");
    let file = path.display().to_string();
    for args in every_policy_command(&file) {
        assert_usage(&args, &[&file, "larger than 8 MiB"]);
    }
    // Exactly at the cap it is read and parsed: the cap is not off by one.
    text.truncate(cap);
    std::fs::write(&path, &text).expect("write policy");
    let (code, stdout, stderr) = support::tlsposture(&["policy", "lint", &file]);
    assert!(!stderr.contains("larger than"), "{stderr}");
    assert!(code == 0 || code == 1, "lint exit {code}: {stderr}{stdout}");
}

#[test]
fn a_normal_policy_file_is_still_read_by_every_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("gw.yaml");
    std::fs::write(&path, GATEWAY_YAML).expect("write policy");
    let file = path.display().to_string();
    for args in [
        vec!["policy", "lint", &file],
        vec!["policy", "explain", &file],
        vec!["simulate", "--policy", &file],
    ] {
        let (code, stdout, stderr) = support::tlsposture(&args);
        assert!(code == 0 || code == 1, "{args:?}: exit {code}: {stderr}");
        assert!(!stdout.is_empty(), "{args:?} printed nothing");
    }
}

/// Writes `name.pem` and `name.key` for a fresh key and a certificate for
/// it (`spiffe://` URI SAN `example.org/ns/default/sa/NAME`; a CA when
/// `ca`), returning both paths.
fn cert_and_key(dir: &std::path::Path, name: &str, ca: bool) -> (String, String) {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.subject_alt_names = vec![rcgen::SanType::URI(
        format!("spiffe://example.org/ns/default/sa/{name}")
            .try_into()
            .expect("URI"),
    )];
    if ca {
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    }
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("self-signed");
    let cert_path = dir.join(format!("{name}.pem"));
    let key_path = dir.join(format!("{name}.key"));
    std::fs::write(&cert_path, cert.pem()).expect("write cert");
    std::fs::write(&key_path, key.serialize_pem()).expect("write key");
    (
        cert_path.display().to_string(),
        key_path.display().to_string(),
    )
}

/// The body of the PEM private key in `path`, to check no message shows it.
fn key_body(path: &str) -> String {
    let pem = std::fs::read_to_string(path).expect("read key");
    pem.lines()
        .find(|l| !l.starts_with("-----"))
        .expect("a body line")
        .to_owned()
}

#[test]
fn an_identity_whose_key_is_not_the_certificates_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (alice_cert, alice_key) = cert_and_key(dir.path(), "alice", false);
    let (_, bob_key) = cert_and_key(dir.path(), "bob", false);
    let spec = format!("alice={alice_cert},{bob_key}");
    let args = [
        "scan",
        "127.0.0.1:1",
        "--identity",
        &spec,
        "--timeout",
        "1s",
    ];
    assert_usage(
        &args,
        &["--identity", &alice_cert, &bob_key, "does not match"],
    );
    let (_, _, stderr) = support::tlsposture(&args);
    assert!(!stderr.contains(&key_body(&bob_key)), "the key is shown");
    // The matching pair gets past the plan (and then finds nothing to
    // scan on the closed port): the check refuses only a mismatch.
    let spec = format!("alice={alice_cert},{alice_key}");
    let (code, _, stderr) = support::tlsposture(&[
        "scan",
        "127.0.0.1:1",
        "--identity",
        &spec,
        "--timeout",
        "1s",
    ]);
    assert_ne!(code, 64, "a matching identity refused: {stderr}");
}

#[test]
fn a_ca_key_that_is_not_the_cas_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ca, ca_key) = cert_and_key(dir.path(), "ca", true);
    let (_, other_key) = cert_and_key(dir.path(), "other", true);
    let args = [
        "scan",
        "127.0.0.1:1",
        "--ca",
        &ca,
        "--ca-key",
        &other_key,
        "--timeout",
        "1s",
    ];
    assert_usage(&args, &["--ca-key", &other_key, &ca, "does not match"]);
    let (_, _, stderr) = support::tlsposture(&args);
    assert!(!stderr.contains(&key_body(&other_key)), "the key is shown");
    let (code, _, stderr) = support::tlsposture(&[
        "scan",
        "127.0.0.1:1",
        "--ca",
        &ca,
        "--ca-key",
        &ca_key,
        "--timeout",
        "1s",
    ]);
    assert_ne!(code, 64, "the CA's own key refused: {stderr}");
}

#[test]
fn an_identity_named_like_a_probe_identity_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = cert_and_key(dir.path(), "alice", false);
    for reserved in tlsposture::observe::Identity::RESERVED {
        let spec = format!("{reserved}={cert},{key}");
        assert_usage(
            &[
                "scan",
                "127.0.0.1:1",
                "--identity",
                &spec,
                "--timeout",
                "1s",
            ],
            &["--identity", &format!("{reserved:?}"), "reserved"],
        );
    }
}

#[test]
fn a_clients_pattern_matching_no_profile_is_a_usage_error() {
    assert_usage(
        &["scan", "127.0.0.1:1", "--clients", "no-such-client-xyz"],
        &[
            "--clients",
            "\"no-such-client-xyz\"",
            "matches no client profile",
        ],
    );
    // One pattern of a list that matches nothing is named, even when
    // another matches.
    assert_usage(
        &[
            "scan",
            "127.0.0.1:1",
            "--clients",
            "firefox,no-such-client-xyz",
        ],
        &["--clients", "\"no-such-client-xyz\""],
    );
}

#[test]
fn an_empty_checks_list_is_a_usage_error_naming_the_checks() {
    for list in ["", ",", " , ,"] {
        let (code, stderr) = tlsposture(&["scan", "127.0.0.1:1", "--checks", list]);
        assert_eq!(code, 64, "--checks {list:?}: {stderr}");
        // clap adds a "For more information" hint; the error is the first line.
        let first = stderr.lines().next().unwrap_or_default();
        for needle in [
            "--checks",
            "no check",
            "protocols",
            "suites",
            "clients",
            "all",
        ] {
            assert!(first.contains(needle), "{needle:?} missing in {first}");
        }
    }
}

#[test]
fn two_identities_with_one_name_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (alice_cert, alice_key) = cert_and_key(dir.path(), "alice", false);
    let (bob_cert, bob_key) = cert_and_key(dir.path(), "bob", false);
    let first = format!("same={alice_cert},{alice_key}");
    let second = format!("same={bob_cert},{bob_key}");
    assert_usage(
        &[
            "scan",
            "127.0.0.1:1",
            "--identity",
            &first,
            "--identity",
            &second,
        ],
        &["--identity", "\"same\"", "given twice"],
    );
}

#[test]
fn an_identity_named_like_the_minted_one_is_refused_with_ca_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ca, ca_key) = cert_and_key(dir.path(), "ca", true);
    let (cert, key) = cert_and_key(dir.path(), "alice", false);
    let spec = format!("wrong-san={cert},{key}");
    assert_usage(
        &[
            "scan",
            "127.0.0.1:1",
            "--ca",
            &ca,
            "--ca-key",
            &ca_key,
            "--identity",
            &spec,
        ],
        &["--identity", "\"wrong-san\"", "minted with --ca-key"],
    );
}
