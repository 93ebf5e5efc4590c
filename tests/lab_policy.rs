//! A lab built from a declared policy (`listeners_from_policy`) behaves, for
//! `openssl s_client`, the way the declared Gateway servers say: versions,
//! ciphers (with Istio's filter dropping an invalid name before Envoy sees
//! it), client certificates, SNI routing of several servers on one port, and
//! the HTTP → HTTPS redirect. One Envoy serves every scenario.

mod support;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use support::{s_client, served_leaf_sha256};
use tlsposture::lab::{listeners_from_policy, Lab, PolicyLab, PolicyLabOptions};
use tlsposture::policy::DeclaredPolicy;

/// The scenarios, as a team would declare them (read by the real reader).
const POLICY: &str = r#"
# ASM: minProtocolVersion TLSV1_2 on hosts '*'.
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: mysdsgateway, namespace: default}
spec:
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ['*']
    tls: {mode: SIMPLE, credentialName: cred, minProtocolVersion: TLSV1_2}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: tls13, namespace: default}
spec:
  servers:
  - port: {number: 444, name: https, protocol: HTTPS}
    hosts: [tls13.com]
    tls: {mode: SIMPLE, credentialName: cred, minProtocolVersion: TLSV1_3, maxProtocolVersion: TLSV1_3}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ciphers, namespace: default}
spec:
  servers:
  - port: {number: 445, name: https, protocol: HTTPS}
    hosts: [ciphers.com]
    tls:
      mode: SIMPLE
      credentialName: cred
      cipherSuites:
      - ECDHE-RSA-AES256-GCM-SHA384
      # Not a BoringSSL name: Envoy would NACK the whole listener; Istio
      # drops it first.
      - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: mutual, namespace: default}
spec:
  servers:
  - port: {number: 446, name: https, protocol: HTTPS}
    hosts: [test.com]
    tls: {mode: MUTUAL, credentialName: cred}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: shared, namespace: default}
spec:
  servers:
  - port: {number: 447, name: https-a, protocol: HTTPS}
    hosts: [default/a.com]
    tls: {mode: SIMPLE, credentialName: cred, maxProtocolVersion: TLSV1_2}
  - port: {number: 447, name: https-b, protocol: HTTPS}
    hosts: [b.com]
    tls: {mode: SIMPLE, credentialName: cred, minProtocolVersion: TLSV1_3}
  - port: {number: 447, name: https-wild, protocol: HTTPS}
    hosts: ['*.wild.com']
    tls: {mode: SIMPLE, credentialName: cred}
  - port: {number: 448, name: tls, protocol: TLS}
    hosts: ['*']
    tls: {mode: PASSTHROUGH}
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ['*']
    tls: {httpsRedirect: true}
"#;

fn policy() -> DeclaredPolicy {
    tlsposture::policy::load_str("gateway.yaml", POLICY).expect("the test policy is valid")
}

fn start(plab: &PolicyLab) -> Lab {
    let rt = support::runtime();
    let handle = rt.spawn(Lab::start(plab.lab_options(None)));
    match rt.block_on(handle) {
        Ok(Ok(lab)) => lab,
        Ok(Err(e)) => panic!("could not start the Envoy lab: {e}"),
        Err(e) => panic!("the lab start-up task failed: {e}"),
    }
}

fn protocol(addr: SocketAddr, sni: Option<&str>, args: &[&str]) -> Option<String> {
    s_client(addr, sni, args).protocol
}

/// `GET /` over `openssl s_client -quiet`; the raw response, and stderr.
fn get(addr: SocketAddr, sni: &str, args: &[&str]) -> (String, String) {
    let connect = addr.to_string();
    let mut child = Command::new("timeout")
        .args(["5", "openssl", "s_client", "-quiet", "-connect", &connect])
        .args(["-servername", sni])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl s_client runs (apt-get install openssl)");
    let request = format!("GET / HTTP/1.1\r\nHost: {sni}\r\nConnection: close\r\n\r\n");
    let _ = child.stdin.take().unwrap().write_all(request.as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_policy_lab_behaves_as_declared() {
    let plab = listeners_from_policy(&policy(), &PolicyLabOptions::default()).unwrap();
    assert_eq!(plab.skipped.len(), 1, "{:?}", plab.skipped);
    assert_eq!(plab.skipped[0].port, 448);
    let lab = start(&plab);
    for line in plab.describe(Some(&lab)) {
        eprintln!("{line}");
    }
    let addr = |port| plab.addr(&lab, port).unwrap();
    let (v12, v13) = (Some("TLSv1.2".to_owned()), Some("TLSv1.3".to_owned()));

    // hosts '*', minProtocolVersion TLSV1_2: any SNI, or none; 1.2 and 1.3.
    let star = addr(443);
    assert_eq!(protocol(star, None, &[]), v13);
    assert_eq!(protocol(star, Some("any.example"), &["-tls1_2"]), v12);
    assert_eq!(
        protocol(star, None, &["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"]),
        None
    );

    // TLS 1.3 only, and only for its host: Istio's server_names match.
    let only13 = addr(444);
    assert_eq!(protocol(only13, Some("tls13.com"), &[]), v13);
    assert_eq!(protocol(only13, Some("tls13.com"), &["-tls1_2"]), None);
    assert_eq!(protocol(only13, Some("other.com"), &[]), None);
    assert_eq!(protocol(only13, None, &[]), None);

    // cipherSuites: the valid name only (the invalid one never reached Envoy).
    let ciphers = addr(445);
    let hs = s_client(ciphers, Some("ciphers.com"), &["-tls1_2"]);
    assert_eq!(
        hs.cipher.as_deref(),
        Some("ECDHE-RSA-AES256-GCM-SHA384"),
        "{}",
        hs.output
    );
    let hs = s_client(
        ciphers,
        Some("ciphers.com"),
        &[
            "-tls1_2",
            "-cipher",
            "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305",
        ],
    );
    assert_eq!(hs.protocol, None, "{}", hs.output);
    assert_eq!(
        protocol(ciphers, Some("ciphers.com"), &[]),
        v13,
        "TLS 1.3 suites are fixed"
    );

    // MUTUAL: refused without a certificate, served with the lab identity.
    let identities = plab.write_client_identities(&lab).unwrap();
    assert_eq!(identities.len(), 1);
    assert_eq!(identities[0].uri, "spiffe://test.client");
    assert!(identities[0].files.key.starts_with(lab.workdir()));
    let (cert, key) = (
        identities[0].files.cert.to_str().unwrap(),
        identities[0].files.key.to_str().unwrap(),
    );
    let mutual = addr(446);
    let (response, stderr) = get(mutual, "test.com", &[]);
    assert!(response.is_empty(), "{response}");
    assert!(stderr.contains("alert number 116"), "{stderr}");
    let (response, stderr) = get(mutual, "test.com", &["-cert", cert, "-key", key]);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}\n{stderr}");
    let (_, stderr) = get(mutual, "test.com", &["-tls1_2"]);
    assert!(stderr.contains("alert number 40"), "{stderr}");

    // Three servers on one port, each with its own versions and certificate.
    let shared = addr(447);
    assert_eq!(protocol(shared, Some("a.com"), &[]), v12);
    assert_eq!(protocol(shared, Some("b.com"), &["-tls1_2"]), None);
    assert_eq!(protocol(shared, Some("b.com"), &[]), v13);
    assert_eq!(protocol(shared, Some("x.wild.com"), &[]), v13);
    assert_eq!(
        protocol(shared, Some("c.com"), &[]),
        None,
        "no default chain"
    );
    let running = lab.listeners().iter().find(|l| l.addr == shared).unwrap();
    for sni in ["a.com", "b.com", "x.wild.com"] {
        let expected = running.certificates_for(Some(sni));
        assert_eq!(expected.len(), 1, "{sni}");
        assert_eq!(
            served_leaf_sha256(shared, Some(sni), &[]).as_deref(),
            Some(expected[0].sha256.as_str()),
            "{sni}"
        );
    }
    assert_eq!(
        running.certificates_for(Some("x.wild.com"))[0].hosts,
        ["*.wild.com"]
    );

    // httpsRedirect: 301 to https.
    let mut stream = std::net::TcpStream::connect(addr(80)).unwrap();
    stream
        .write_all(b"GET /p HTTP/1.1\r\nHost: a.com\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 301"), "{answer}");
    assert!(answer.contains("location: https://a.com/p"), "{answer}");
}
