//! lighttpd with mod_wolfssl (Debian's wolfSSL 5.5) on 127.0.0.1: a TLS
//! stack with strict hello limits (more than 150 suites is a decode_error,
//! status_request closes the connection, only the head of a long
//! signature_algorithms list is read). Unprivileged, its own temp dir.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tlsposture::lab::{KeyKind, LabCa};

const MODULE: &str = "/usr/lib/lighttpd/mod_wolfssl.so";

/// A running lighttpd, killed on drop.
pub struct Lighttpd {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
    ca: LabCa,
}

impl Lighttpd {
    /// Starts lighttpd with mod_wolfssl and an RSA 2048 certificate for
    /// `localhost` from a fresh lab CA; `extra` is appended to the config
    /// (e.g. `ssl.openssl.ssl-conf-cmd = ("MinProtocol" => "TLSv1.2")`).
    ///
    /// Panics (the test fails) when lighttpd or mod_wolfssl is missing,
    /// with how to install them.
    pub fn start_wolfssl(extra: &str) -> Lighttpd {
        assert!(
            std::path::Path::new(MODULE).exists(),
            "{MODULE} not found: run `bash scripts/setup.sh` (or apt-get install lighttpd lighttpd-mod-wolfssl)"
        );
        let dir = tempfile::tempdir().expect("creating a temporary directory");
        let ca = LabCa::generate().expect("generating a test CA");
        let leaf = ca
            .issue_server_cert(&["localhost".to_owned()], KeyKind::Rsa2048)
            .expect("issuing a test certificate");
        let files = leaf
            .write(dir.path(), "server")
            .expect("writing the certificate");
        let port = super::ports::free_port();
        let www = dir.path().join("www");
        std::fs::create_dir(&www).expect("creating the document root");
        std::fs::write(www.join("index.html"), "hello from lighttpd\n").expect("index.html");
        let conf = format!(
            "server.document-root = \"{www}\"\nserver.port = {port}\nserver.bind = \"127.0.0.1\"\n\
             server.modules += (\"mod_wolfssl\")\nssl.engine = \"enable\"\n\
             ssl.pemfile = \"{cert}\"\nssl.privkey = \"{key}\"\n\
             server.errorlog = \"{d}/error.log\"\nserver.pid-file = \"{d}/pid\"\n{extra}\n",
            www = www.display(),
            cert = files.cert.display(),
            key = files.key.display(),
            d = dir.path().display(),
        );
        let conf_path = dir.path().join("lighttpd.conf");
        std::fs::write(&conf_path, conf).expect("writing lighttpd.conf");
        let stderr = std::fs::File::create(dir.path().join("stderr.txt")).expect("stderr.txt");
        let spawned = Command::new("lighttpd")
            .arg("-D")
            .arg("-f")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "lighttpd not found: run `bash scripts/setup.sh` (or apt-get install lighttpd lighttpd-mod-wolfssl)"
            ),
            Err(e) => panic!("cannot start lighttpd: {e}"),
        };
        let mut server = Lighttpd {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
            ca,
        };
        server.wait_for_accept();
        server
    }

    fn wait_for_accept(&mut self) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(status)) = self.child.try_wait() {
                let err =
                    std::fs::read_to_string(self.dir.path().join("stderr.txt")).unwrap_or_default();
                let log =
                    std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default();
                panic!("lighttpd exited ({status}) before accepting:\n{err}\n{log}");
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("lighttpd did not accept on {} in time", self.addr);
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The CA certificate (PEM) that signed its certificate.
    pub fn ca_pem(&self) -> String {
        self.ca.cert_pem().to_owned()
    }

    /// Writes the CA certificate to `dir/ca.pem` and returns the path.
    pub fn ca_file(&self) -> std::path::PathBuf {
        let path = self.dir.path().join("ca.pem");
        std::fs::write(&path, self.ca.cert_pem()).expect("writing ca.pem");
        path
    }
}

impl Drop for Lighttpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
