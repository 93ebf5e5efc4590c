//! Real TLS servers from Debian packages, each from a config template in
//! `fixtures/servers/` (placeholders `@DIR@`, `@PORT@`, `@CERT@`, `@KEY@`,
//! `@PEM@` = certificate then key, `@MODULE@`), on 127.0.0.1 with an
//! ephemeral port, unprivileged where the server allows it, in its own
//! temp dir, killed on drop: lighttpd + mod_openssl / mod_mbedtls,
//! stunnel4, HAProxy, Apache httpd + mod_ssl, Python's ssl module.
//! A missing package panics with how to install it.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tlsposture::lab::{IssuedCert, KeyKind, LabCa};

const START_TIMEOUT: Duration = Duration::from_secs(15);

/// A running server, killed (its process group) on drop.
pub struct Daemon {
    pub name: &'static str,
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
    leaf: IssuedCert,
}

/// Where a server's files are, for its command line.
pub struct Files {
    pub dir: PathBuf,
    pub port: u16,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub pem: PathBuf,
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/servers")
        .join(name)
}

impl Files {
    /// Renders `fixtures/servers/TEMPLATE` into the temp dir; returns its path.
    pub fn render(&self, template: &str, extra: &[(&str, &str)]) -> PathBuf {
        let path = fixture(template);
        let mut text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let port = self.port.to_string();
        let pairs = [
            ("@DIR@", self.dir.to_str().unwrap()),
            ("@PORT@", port.as_str()),
            ("@CERT@", self.cert.to_str().unwrap()),
            ("@KEY@", self.key.to_str().unwrap()),
            ("@PEM@", self.pem.to_str().unwrap()),
        ];
        for (k, v) in pairs.iter().chain(extra) {
            text = text.replace(k, v);
        }
        let out = self.dir.join(template);
        std::fs::write(&out, text).expect("writing the rendered config");
        out
    }
}

fn require(path: &str, package: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} not found: run `bash scripts/setup.sh` (or apt-get install {package})"
    );
}

impl Daemon {
    /// Starts the server `build` describes and waits until it accepts TCP.
    fn launch(
        name: &'static str,
        key: KeyKind,
        package: &str,
        build: impl FnOnce(&Files) -> Command,
    ) -> Daemon {
        let dir = tempfile::tempdir().expect("creating a temporary directory");
        // Apache drops to `nobody` for its children; they must reach the docroot.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .expect("chmod the temp dir");
        let ca = LabCa::generate().expect("generating a test CA");
        let leaf = ca
            .issue_server_cert(&["localhost".to_owned()], key)
            .expect("issuing a test certificate");
        let written = leaf.write(dir.path(), "server").expect("writing the cert");
        let pem = dir.path().join("server-combined.pem");
        std::fs::write(&pem, format!("{}{}", leaf.cert_pem, leaf.key_pem)).expect("pem");
        std::fs::create_dir(dir.path().join("www")).expect("www");
        std::fs::write(dir.path().join("www/index.html"), "hello\n").expect("index.html");
        let port = super::ports::free_port();
        let files = Files {
            dir: dir.path().to_owned(),
            port,
            cert: written.cert,
            key: written.key,
            pem,
        };
        let mut cmd = build(&files);
        let log = std::fs::File::create(dir.path().join("output.txt")).expect("output.txt");
        let spawned = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .process_group(0)
            .spawn();
        let child = match spawned {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "{name}: {:?} not found: run `bash scripts/setup.sh` (or apt-get install {package})",
                cmd.get_program()
            ),
            Err(e) => panic!("{name}: cannot start: {e}"),
        };
        let mut d = Daemon {
            name,
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
            leaf,
        };
        d.wait_for_accept();
        d
    }

    fn wait_for_accept(&mut self) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited ({status}) before accepting:\n{}",
                    self.name,
                    self.logs()
                );
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "{} did not accept on {} in time:\n{}",
                self.name,
                self.addr,
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything the server wrote (output and error logs).
    pub fn logs(&self) -> String {
        let mut all = String::new();
        for f in ["output.txt", "error.log", "stunnel.log"] {
            if let Ok(t) = std::fs::read_to_string(self.dir.path().join(f)) {
                all.push_str(&format!("--- {f}\n{t}"));
            }
        }
        all
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The SHA-256 of the leaf it was configured with (upper-case hex).
    pub fn leaf_sha256(&self) -> String {
        self.leaf.sha256_hex()
    }

    /// lighttpd with `mod_openssl` or `mod_mbedtls`
    /// (`fixtures/servers/lighttpd_tls.conf`).
    pub fn lighttpd(module: &'static str) -> Daemon {
        let package = match module {
            "mod_mbedtls" => "lighttpd lighttpd-mod-mbedtls",
            _ => "lighttpd",
        };
        require(&format!("/usr/lib/lighttpd/{module}.so"), package);
        let name = if module == "mod_mbedtls" {
            "lighttpd+mbedtls"
        } else {
            "lighttpd+openssl"
        };
        Daemon::launch(name, KeyKind::Rsa2048, package, |f| {
            let conf = f.render("lighttpd_tls.conf", &[("@MODULE@", module)]);
            let mut c = Command::new("lighttpd");
            c.arg("-D").arg("-f").arg(conf);
            c
        })
    }

    /// stunnel4 in front of `/bin/cat` (`fixtures/servers/stunnel.conf`).
    pub fn stunnel() -> Daemon {
        Daemon::launch("stunnel4", KeyKind::Rsa2048, "stunnel4", |f| {
            let mut c = Command::new("stunnel4");
            c.arg(f.render("stunnel.conf", &[]));
            c
        })
    }

    /// HAProxy with an ECDSA P-256 leaf (`fixtures/servers/haproxy.cfg`).
    pub fn haproxy() -> Daemon {
        Daemon::launch("haproxy", KeyKind::EcdsaP256, "haproxy", |f| {
            let mut c = Command::new("haproxy");
            c.arg("-db").arg("-f").arg(f.render("haproxy.cfg", &[]));
            c
        })
    }

    /// Apache httpd + mod_ssl in one process (`fixtures/servers/apache2.conf`).
    pub fn apache() -> Daemon {
        require("/usr/lib/apache2/modules/mod_ssl.so", "apache2");
        Daemon::launch("apache2", KeyKind::Rsa2048, "apache2", |f| {
            let conf = f.render("apache2.conf", &[]);
            let mut c = Command::new("/usr/sbin/apache2");
            c.arg("-X").arg("-d").arg(&f.dir).arg("-f").arg(conf);
            c.env("APACHE_RUN_DIR", &f.dir)
                .env("APACHE_LOCK_DIR", &f.dir)
                .env("APACHE_LOG_DIR", &f.dir);
            c
        })
    }

    /// Python's ssl module (`fixtures/servers/python_tls_server.py`).
    pub fn python() -> Daemon {
        Daemon::launch("python-ssl", KeyKind::Rsa2048, "python3", |f| {
            let mut c = Command::new("python3");
            c.arg(fixture("python_tls_server.py"))
                .arg(&f.cert)
                .arg(&f.key)
                .arg(f.port.to_string());
            c
        })
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // The group: Apache and stunnel's exec children too.
        let pid = self.child.id() as i32;
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
