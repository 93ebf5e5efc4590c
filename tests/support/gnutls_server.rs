//! `gnutls-serv` on 127.0.0.1 with a throw-away certificate: a peer built on
//! another TLS library (GnuTLS) than Envoy's BoringSSL and OpenSSL, so the
//! scanner is checked against a third stack's answers.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tlsposture::lab::{KeyKind, LabCa};

const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running `gnutls-serv`, killed on drop.
pub struct GnutlsServer {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl GnutlsServer {
    /// Starts `gnutls-serv` with a GnuTLS priority string, e.g.
    /// `NORMAL:+VERS-TLS1.0:+VERS-TLS1.1:+3DES-CBC`, and waits until it
    /// accepts TCP. Panics (so the test fails) when `gnutls-serv` is missing,
    /// with the hint `apt-get install gnutls-bin`.
    pub fn start(priority: &str) -> GnutlsServer {
        let dir = tempfile::tempdir().expect("creating a temporary directory");
        let ca = LabCa::generate().expect("generating a test CA");
        let files = ca
            .issue_server_cert(&["localhost".to_owned()], KeyKind::Rsa2048)
            .expect("issuing a test certificate")
            .write(dir.path(), "server")
            .expect("writing the certificate");
        // gnutls-serv takes a port, not port 0.
        let port = super::ports::free_port();
        let spawned = Command::new("gnutls-serv")
            .args(["--port", &port.to_string(), "--priority", priority])
            .arg("--x509certfile")
            .arg(&files.cert)
            .arg("--x509keyfile")
            .arg(&files.key)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                panic!(
                    "`gnutls-serv` not found: apt-get install gnutls-bin (or run scripts/setup.sh)"
                )
            }
            Err(e) => panic!("cannot start gnutls-serv: {e}"),
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let server = GnutlsServer {
            child,
            addr,
            _dir: dir,
        };
        let started = Instant::now();
        while TcpStream::connect(addr).is_err() {
            assert!(
                started.elapsed() < START_TIMEOUT,
                "gnutls-serv did not listen on {addr} within {START_TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for GnutlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
