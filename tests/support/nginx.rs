//! A real nginx (Debian's `/usr/sbin/nginx`, OpenSSL 3) on 127.0.0.1 with a
//! throw-away certificate and a config of the test's choosing: the HTTP
//! server a gateway often has in front of it (gzip, HSTS, client
//! certificates enforced at the HTTP layer, renegotiation refused).
//! Unprivileged: its own prefix, pid file and logs in a temporary directory.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tlsposture::lab::{KeyKind, LabCa};

const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running nginx, killed on drop.
pub struct Nginx {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
    ca: LabCa,
}

/// The nginx binary: `$NGINX_BIN`, else `/usr/sbin/nginx`, else `nginx` on
/// the PATH.
fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("NGINX_BIN") {
        return bin.into();
    }
    let debian = PathBuf::from("/usr/sbin/nginx");
    if debian.exists() {
        return debian;
    }
    "nginx".into()
}

impl Nginx {
    /// Starts nginx with one TLS `server` on 127.0.0.1 (an ephemeral port),
    /// an RSA 2048 certificate for `localhost` from a fresh lab CA, and
    /// `server_directives` inside the `server` block (e.g. `gzip on;
    /// gzip_types text/plain; add_header Strict-Transport-Security
    /// "max-age=31536000" always;`). `location / { return 200 "..."; }` is
    /// added unless the directives hold a `location /`. `{CA}` in the
    /// directives is replaced by the lab CA's PEM path (for
    /// `ssl_client_certificate`).
    ///
    /// Panics (the test fails) when nginx is missing, with how to install
    /// it (`bash scripts/setup.sh`, or `apt-get install nginx`).
    pub fn start(server_directives: &str) -> Nginx {
        let dir = tempfile::tempdir().expect("creating a temporary directory");
        let ca = LabCa::generate().expect("generating a test CA");
        let leaf = ca
            .issue_server_cert(&["localhost".to_owned()], KeyKind::Rsa2048)
            .expect("issuing a test certificate");
        let files = leaf
            .write(dir.path(), "server")
            .expect("writing the certificate");
        let ca_path = dir.path().join("ca.pem");
        std::fs::write(&ca_path, ca.cert_pem()).expect("writing ca.pem");
        // An ephemeral port: bind, read it, free it for nginx.
        let port = super::ports::free_port();
        let directives = server_directives.replace("{CA}", &ca_path.display().to_string());
        let location = if directives.contains("location / ") {
            ""
        } else {
            "location / { default_type text/plain; return 200 \"hello from nginx\\n\"; }"
        };
        let d = dir.path().display();
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
             error_log {d}/error.log info;\nevents {{ worker_connections 256; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n\
             proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n\
             uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
             server {{\n    listen 127.0.0.1:{port} ssl;\n    server_name localhost;\n\
             ssl_certificate {cert};\n    ssl_certificate_key {key};\n\
             {directives}\n    {location}\n  }}\n}}\n",
            cert = files.cert.display(),
            key = files.key.display(),
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("writing nginx.conf");
        let stderr = std::fs::File::create(dir.path().join("stderr.txt")).expect("stderr.txt");
        let spawned = Command::new(binary())
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                panic!("nginx not found: run `bash scripts/setup.sh` (or apt-get install nginx)")
            }
            Err(e) => panic!("cannot start nginx: {e}"),
        };
        let mut server = Nginx {
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
        while started.elapsed() < START_TIMEOUT {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log =
                    std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default();
                let err =
                    std::fs::read_to_string(self.dir.path().join("stderr.txt")).unwrap_or_default();
                panic!("nginx exited ({status}) before accepting:\n{err}\n{log}");
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "nginx did not accept on {} within {START_TIMEOUT:?}",
            self.addr
        );
    }

    /// Where it listens (127.0.0.1, ephemeral port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The CA that signed its certificate (and, with `{CA}` in the
    /// directives, the client certificates it accepts).
    pub fn ca(&self) -> &LabCa {
        &self.ca
    }

    /// The CA certificate, PEM.
    pub fn ca_pem(&self) -> String {
        self.ca.cert_pem().to_owned()
    }

    /// nginx's error log so far (for failure messages).
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
