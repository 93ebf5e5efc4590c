//! A Go crypto/tls HTTPS server (`fixtures/servers/go_tls_server.go`,
//! built with the Debian `golang-go` toolchain on first use) on 127.0.0.1:
//! a TLS stack with a suite preference of its own.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use tlsposture::lab::{KeyKind, LabCa};

/// A running Go server, killed on drop.
pub struct GoServer {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

/// Builds the server once per test binary (the Go build cache lives in
/// the Cargo target directory).
fn binary() -> &'static PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let out = tmp.join("go_tls_server");
        let source =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/servers/go_tls_server.go");
        let built = Command::new("go")
            .args(["build", "-o"])
            .arg(&out)
            .arg(&source)
            .env("GOCACHE", tmp.join("go-cache"))
            .env("GOPATH", tmp.join("go-path"))
            .env("GO111MODULE", "off")
            .env("HOME", &tmp)
            .output();
        match built {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                panic!("`go` not found: run `bash scripts/setup.sh` (or apt-get install golang-go)")
            }
            Err(e) => panic!("cannot run go build: {e}"),
            Ok(o) if !o.status.success() => {
                panic!("go build failed:\n{}", String::from_utf8_lossy(&o.stderr))
            }
            Ok(_) => out,
        }
    })
}

impl GoServer {
    /// Starts the server with an RSA 2048 certificate for `localhost`;
    /// `tls12_only` caps it at TLS 1.2.
    pub fn start(tls12_only: bool) -> GoServer {
        let dir = tempfile::tempdir().expect("creating a temporary directory");
        let ca = LabCa::generate().expect("generating a test CA");
        let files = ca
            .issue_server_cert(&["localhost".to_owned()], KeyKind::Rsa2048)
            .expect("issuing a test certificate")
            .write(dir.path(), "server")
            .expect("writing the certificate");
        let mut cmd = Command::new(binary());
        cmd.arg(&files.cert).arg(&files.key);
        if tls12_only {
            cmd.arg("tls1.2");
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting the Go TLS server");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("reading the Go server's address");
        let addr: SocketAddr = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("the Go server said {line:?}"));
        GoServer {
            child,
            addr,
            _dir: dir,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for GoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
