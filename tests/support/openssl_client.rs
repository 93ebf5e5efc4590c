//! `openssl s_client` as a reference TLS client: one handshake, bounded by
//! `timeout(1)`, summarised as the negotiated protocol and cipher.

use std::net::SocketAddr;
use std::process::{Command, Stdio};

/// What one `s_client` run negotiated; `protocol` is `None` when the
/// handshake failed (refused version, no shared cipher, timeout).
#[derive(Debug, Clone)]
pub struct Handshake {
    /// As OpenSSL prints it: `TLSv1`, `TLSv1.2`, `TLSv1.3`.
    pub protocol: Option<String>,
    pub cipher: Option<String>,
    /// stdout and stderr, for assertion messages.
    pub output: String,
}

/// Runs `openssl s_client -brief -connect ADDR [-servername SNI] ARGS </dev/null`
/// with a 5 s limit. Panics with an install hint if `openssl` or `timeout`
/// cannot run.
pub fn s_client(addr: SocketAddr, sni: Option<&str>, args: &[&str]) -> Handshake {
    assert!(addr.ip().is_loopback(), "tests only connect to loopback");
    let mut cmd = Command::new("timeout");
    let connect = addr.to_string();
    cmd.args(["5", "openssl", "s_client", "-brief", "-connect", &connect]);
    if let Some(sni) = sni {
        cmd.args(["-servername", sni]);
    }
    let out = cmd
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `timeout 5 openssl s_client` ({e}): apt-get install openssl coreutils"
            )
        });
    let output = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.code() == Some(127) {
        panic!("`openssl` not found: apt-get install openssl\n{output}");
    }
    // `-brief` prints these right after the handshake, for every version
    // (the full session block can be missing under TLS 1.3 until a ticket
    // arrives, and "New, X, Cipher is" names the cipher's version, not the
    // connection's).
    let field = |name: &str| {
        output.lines().find_map(|l| {
            let value = l.trim().strip_prefix(name)?.trim();
            (!value.is_empty()).then(|| value.to_owned())
        })
    };
    let established = output.contains("CONNECTION ESTABLISHED");
    Handshake {
        protocol: field("Protocol version:").filter(|_| established),
        cipher: field("Ciphersuite:").filter(|_| established),
        output,
    }
}

/// One HTTPS request through `openssl s_client -quiet`, returning the raw
/// HTTP response (status line, headers, body). The request asks the server
/// to close, which is what ends `s_client`.
pub fn https_get(addr: SocketAddr, sni: Option<&str>, path: &str) -> String {
    use std::io::Write;
    assert!(addr.ip().is_loopback(), "tests only connect to loopback");
    let host = sni.unwrap_or("localhost");
    let connect = addr.to_string();
    let mut cmd = Command::new("timeout");
    cmd.args(["5", "openssl", "s_client", "-quiet", "-connect", &connect]);
    if let Some(sni) = sni {
        cmd.args(["-servername", sni]);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run openssl s_client ({e}): apt-get install openssl"));
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(request.as_bytes())
        .expect("writing the request");
    let out = child.wait_with_output().expect("waiting for s_client");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The SHA-256 fingerprint (upper-case hex, no colons) of the leaf
/// certificate `openssl s_client` receives, computed by `openssl x509`, so a
/// test checks the lab's own fingerprints against an independent tool.
/// `None` when the handshake fails or no certificate arrives.
pub fn served_leaf_sha256(addr: SocketAddr, sni: Option<&str>, args: &[&str]) -> Option<String> {
    use std::io::Write;
    assert!(addr.ip().is_loopback(), "tests only connect to loopback");
    let connect = addr.to_string();
    let mut cmd = Command::new("timeout");
    cmd.args(["5", "openssl", "s_client", "-connect", &connect]);
    if let Some(sni) = sni {
        cmd.args(["-servername", sni]);
    }
    let out = cmd
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl s_client ({e}): apt-get install openssl"));
    let text = String::from_utf8_lossy(&out.stdout);
    let begin = text.find("-----BEGIN CERTIFICATE-----")?;
    let end_marker = "-----END CERTIFICATE-----";
    let end = begin + text[begin..].find(end_marker)? + end_marker.len();
    let pem = &text[begin..end];

    let mut x509 = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("running openssl x509");
    x509.stdin
        .take()
        .expect("piped stdin")
        .write_all(pem.as_bytes())
        .expect("writing the certificate to openssl x509");
    let out = x509.wait_with_output().expect("waiting for openssl x509");
    let line = String::from_utf8_lossy(&out.stdout);
    let hex = line.trim().split_once('=')?.1.replace(':', "");
    // The case the report and the lab use (`tlsposture::cert::sha256_hex`).
    Some(hex.to_ascii_uppercase())
}
