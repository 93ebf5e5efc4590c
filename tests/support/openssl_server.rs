//! `openssl s_server` on 127.0.0.1 with a throw-away certificate: a real peer
//! for TLS 1.0/1.1, CBC and other legacy behaviour Envoy no longer offers.

use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tlsposture::lab::{KeyKind, LabCa};

const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How `openssl s_server` treats client certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientVerify {
    /// `-Verify 1`: refuse clients without a certificate.
    Required,
    /// `-verify 1`: ask, but serve clients without one.
    Optional,
}

impl ClientVerify {
    fn flag(self) -> &'static str {
        match self {
            ClientVerify::Required => "-Verify",
            ClientVerify::Optional => "-verify",
        }
    }
}

/// A running `openssl s_server -www`, killed on drop.
pub struct OpensslServer {
    child: Child,
    addr: SocketAddr,
    // Holds the certificate, key and output files until the server is gone.
    dir: tempfile::TempDir,
    /// The CA of its certificate and of the client certificates it accepts.
    ca: LabCa,
}

impl OpensslServer {
    /// Starts `openssl s_server -accept 127.0.0.1:0 -cert … -key … -www`
    /// followed by `args`, e.g. `["-tls1", "-cipher", "ALL:@SECLEVEL=0"]`,
    /// and waits until it accepts TCP. The certificate is RSA 2048 for
    /// `localhost`, signed by a fresh lab CA (see [`OpensslServer::ca_pem`]).
    ///
    /// Panics (so the test fails) if `openssl` is missing — with the hint
    /// `apt-get install openssl` — or the server does not come up.
    pub fn start(args: &[&str]) -> OpensslServer {
        Self::launch(args, None, KeyKind::Rsa2048)
    }

    /// Like [`OpensslServer::start`] with an ECDSA P-256 certificate.
    pub fn start_ecdsa(args: &[&str]) -> OpensslServer {
        Self::launch(args, None, KeyKind::EcdsaP256)
    }

    /// Like [`OpensslServer::start`], asking every client for a certificate
    /// issued by the server's own lab CA (`-CAfile ca.pem`, also sent as the
    /// acceptable CA list): [`ClientVerify::Required`] is `-Verify 1`,
    /// [`ClientVerify::Optional`] `-verify 1`. `-verify_return_error` makes
    /// a presented certificate that does not verify fatal, as in Envoy.
    pub fn start_with_client_auth(verify: ClientVerify, args: &[&str]) -> OpensslServer {
        Self::launch(args, Some(verify), KeyKind::Rsa2048)
    }

    fn launch(args: &[&str], verify: Option<ClientVerify>, key: KeyKind) -> OpensslServer {
        let dir = tempfile::tempdir().expect("creating a temporary directory");
        let ca = LabCa::generate().expect("generating a test CA");
        let leaf = ca
            .issue_server_cert(&["localhost".to_owned()], key)
            .expect("issuing a test certificate");
        let files = leaf
            .write(dir.path(), "server")
            .expect("writing the certificate");
        let ca_path = dir.path().join("ca.pem");
        std::fs::write(&ca_path, ca.cert_pem()).expect("writing ca.pem");
        let client_auth: Vec<std::ffi::OsString> = match verify {
            None => Vec::new(),
            Some(v) => vec![
                v.flag().into(),
                "1".into(),
                "-CAfile".into(),
                ca_path.into_os_string(),
                "-verify_return_error".into(),
            ],
        };

        let stdout_path = dir.path().join("stdout.txt");
        let stdout = std::fs::File::create(&stdout_path).expect("creating stdout.txt");
        let stderr = std::fs::File::create(dir.path().join("stderr.txt")).expect("stderr.txt");
        let spawned = Command::new("openssl")
            .arg("s_server")
            .args(["-accept", "127.0.0.1:0", "-www"])
            .arg("-cert")
            .arg(&files.cert)
            .arg("-key")
            .arg(&files.key)
            .args(args)
            .args(&client_auth)
            .stdin(Stdio::piped()) // s_server exits on stdin EOF in some modes
            .stdout(stdout)
            .stderr(stderr)
            .process_group(0)
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                panic!("`openssl` not found: apt-get install openssl")
            }
            Err(e) => panic!("cannot start openssl s_server: {e}"),
        };
        let mut server = OpensslServer {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            dir,
            ca,
        };
        server.addr = server.wait_for_accept(&stdout_path);
        server
    }

    /// Where it listens (127.0.0.1, ephemeral port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The CA that signed its certificate (and whose client certificates
    /// it accepts): `tlsposture::lab::issue_client_cert(server.ca(), …)`.
    pub fn ca(&self) -> &LabCa {
        &self.ca
    }

    /// The CA that signed its certificate.
    pub fn ca_pem(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("ca.pem")).expect("reading ca.pem")
    }

    /// OpenSSL 3 prints `ACCEPT 127.0.0.1:PORT` once it listens (port 0
    /// resolved), so the port is read back rather than guessed.
    fn wait_for_accept(&mut self, stdout_path: &Path) -> SocketAddr {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let text = std::fs::read_to_string(stdout_path).unwrap_or_default();
            let addr = text.lines().find_map(|l| {
                let (_, port) = l.strip_prefix("ACCEPT ")?.rsplit_once(':')?;
                port.trim().parse::<u16>().ok()
            });
            if let Some(port) = addr {
                let addr = SocketAddr::from(([127, 0, 0, 1], port));
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    return addr;
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "openssl s_server exited ({status}): {}",
                    std::fs::read_to_string(self.dir.path().join("stderr.txt")).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "openssl s_server did not print ACCEPT within {START_TIMEOUT:?}: {text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for OpensslServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
