//! The probing steps a plan is executed with (`run::execute` runs one
//! `plan::ServerPlan` through them): one [`Prober`] per target holds the per-target connection limit and counts
//! handshakes, and each scan step (`protocols`, …) decides its own probes
//! and turns their outcomes into observations for the report. The declared
//! policy is not read here: `plan` already turned it into requests.
//!
//! No rendering and no judging here: scans fill in `observe` types,
//! `verdict` turns them into findings, `report` prints them. Must not
//! import `verdict` or `report`.

mod alpn;
pub mod authz;
mod certs;
mod client_auth;
mod clients;
mod groups;
pub mod headers;
mod hellos;
pub mod http;
pub mod jwt;
pub mod mint;
pub mod pace;
mod preference;
mod prober;
mod protocols;
pub mod redirect;
mod removal;
pub mod session;
mod sigalgs;
mod suites;
mod tls13_sigalgs;
pub mod vulns;
pub mod watch;

pub use alpn::scan_alpn;
pub use certs::{scan_certificates, UNKNOWN_SNI};
pub use client_auth::{probe_identity, readable_name, scan_client_auth, UNKNOWN_CA_SPIFFE_ID};
pub use clients::{facts as client_facts, simulate_clients};
pub use groups::enumerate_groups;
pub use hellos::{hello_for, HelloSize, COMPACT_SUITES, OFFERED_KEY_SHARES};
pub use preference::{preference, tiers};
pub use prober::{Prober, Slot};
pub use protocols::{interpret, scan_protocols, scan_protocols_picking, FirstPicks};
pub use sigalgs::enumerate_tls12_signatures;
pub use suites::{enumerate_suites, enumerate_suites_after, SuiteScan, BUNDLE, SMALL_BUNDLE};
pub use tls13_sigalgs::enumerate_tls13_signatures;
pub use watch::{fetch_served, watch, ServedCert, WatchEnd, WatchEvent, WatchOptions};

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::observe::{Stats, TargetObservation};
use crate::probe::{ConnectError, ProbeTimeouts};
use crate::target::{TargetError, TargetSpec};
use crate::wire::ProtocolVersion;

/// Which scan steps run. The protocol scan always runs: every other step
/// needs to know which versions are offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checks {
    pub suites: bool,
    pub groups: bool,
    pub signatures: bool,
    pub alpn: bool,
    pub certificates: bool,
    /// Whether a client certificate is requested / required (mTLS).
    pub mtls: bool,
    /// Client simulation: each profile of `clients/` sends its own hello.
    pub clients: bool,
    /// The vulnerability battery (needs `suites`, which it turns on).
    pub vulns: bool,
    /// Resumption and extension facts.
    pub session: bool,
    /// HTTP security headers (HSTS, banner) per host.
    pub headers: bool,
}

impl Checks {
    pub const ALL: Checks = Checks {
        suites: true,
        groups: true,
        signatures: true,
        alpn: true,
        certificates: true,
        mtls: true,
        clients: true,
        vulns: true,
        session: true,
        headers: true,
    };
    pub const PROTOCOLS_ONLY: Checks = Checks {
        suites: false,
        groups: false,
        signatures: false,
        alpn: false,
        certificates: false,
        mtls: false,
        clients: false,
        vulns: false,
        session: false,
        headers: false,
    };

    /// Parses a comma-separated list: `protocols`, `suites`, `groups`,
    /// `signatures`, `alpn`, `certificates`, `mtls`, `clients`, `vulns`,
    /// `session`, `headers`, or `all`. `vulns` turns `suites` on: most of
    /// the battery is read from what enumeration found.
    ///
    /// An empty list (or only commas) is an error, not protocols only: it
    /// is what an unset variable in `--checks "$CHECKS"` gives, and running
    /// a fraction of the scan without a word would read as a clean result.
    pub fn parse(list: &str) -> Result<Checks, String> {
        const VALID: &str =
            "protocols, suites, groups, signatures, alpn, certificates, mtls, clients, vulns, session, headers or all";
        let mut checks = Checks::PROTOCOLS_ONLY;
        let mut named = false;
        for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            named = true;
            match item {
                "all" => checks = Checks::ALL,
                "protocols" => {}
                "suites" | "ciphers" => checks.suites = true,
                "groups" | "curves" => checks.groups = true,
                "signatures" | "sigalgs" => checks.signatures = true,
                "alpn" => checks.alpn = true,
                "certificates" | "certs" => checks.certificates = true,
                "mtls" | "client-auth" => checks.mtls = true,
                "clients" | "client-simulation" => checks.clients = true,
                "vulns" | "vulnerabilities" => {
                    checks.vulns = true;
                    checks.suites = true;
                }
                "session" | "resumption" => checks.session = true,
                "headers" | "http-headers" => checks.headers = true,
                other => return Err(format!("unknown check {other:?} (use {VALID})")),
            }
        }
        if !named {
            return Err(format!("no check given (use {VALID})"));
        }
        Ok(checks)
    }
}

impl Default for Checks {
    fn default() -> Self {
        Checks::ALL
    }
}

/// How to scan one target.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// The server_name to send; `None` sends no SNI.
    pub sni: Option<String>,
    /// Further names whose certificates are fetched (the first SNI included
    /// automatically), besides no SNI and an unknown name.
    pub cert_names: Vec<String>,
    /// Roots the served chains are verified against.
    pub roots: crate::cert::TrustRoots,
    pub checks: Checks,
    pub timeouts: ProbeTimeouts,
    /// At most this many connections open to the target at once.
    pub max_connections: usize,
    /// The whole scan of the target (and the probes run on its prober
    /// afterwards) ends by then; `None`: no deadline beyond each probe's.
    pub deadline: Option<Duration>,
    /// Which client profiles the `clients` check simulates (see
    /// [`crate::clients::matching`]); `None`: all of them.
    pub clients: Option<String>,
    /// The run's shared limits and this target's rate.
    pub pacing: Pacing,
}

/// Limits beyond the target's own connection limit (see [`pace`]).
#[derive(Debug, Clone, Default)]
pub struct Pacing {
    /// Shared by every target of the run.
    pub fleet: Option<std::sync::Arc<pace::FleetGate>>,
    /// New connections per second to this target.
    pub rate: Option<pace::Rate>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            sni: None,
            cert_names: Vec::new(),
            roots: crate::cert::TrustRoots::Public,
            checks: Checks::ALL,
            timeouts: ProbeTimeouts::default(),
            max_connections: 8,
            deadline: None,
            clients: None,
            pacing: Pacing::default(),
        }
    }
}

/// Why a target could not be scanned at all (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("does not speak TLS: {why}")]
    NotTls { why: String },
    #[error("answered no hello of any protocol version ({why})")]
    NoTls { why: String },
}

/// Scans one target: resolves it, probes every protocol version, and returns
/// the observations (findings are added later by `verdict`).
///
/// Errors only when nothing could be scanned: the name does not resolve, no
/// TCP connection could be made, or the server never answered like TLS.
pub async fn scan_target(
    spec: &TargetSpec,
    options: &ScanOptions,
) -> Result<TargetObservation, (TargetObservation, ScanError)> {
    let started = Instant::now();
    let (mut report, prober, error) = scan_tls(spec, options).await;
    report.stats = stats(started, prober.as_deref());
    match error {
        None => Ok(report),
        Some(e) => {
            report.error = Some(e.to_string());
            Err((report, e))
        }
    }
}

/// The TLS scan: the report, the prober it ran on (none when the target
/// did not resolve), and why nothing could be scanned, if so (`report.error`
/// is left to the caller).
pub(crate) async fn scan_tls(
    spec: &TargetSpec,
    options: &ScanOptions,
) -> (TargetObservation, Option<Arc<Prober>>, Option<ScanError>) {
    let mut report = TargetObservation::new(spec.to_string(), spec.port, options.sni.clone());
    // The first address is what a client would try first; `resolve`
    // refuses an empty list.
    let addr = match spec.resolve().await.map(|a| a.first().copied()) {
        Ok(Some(addr)) => addr,
        Ok(None) => {
            let none = TargetError::Unresolvable {
                host: spec.to_string(),
                reason: "no addresses".to_owned(),
            };
            return (report, None, Some(none.into()));
        }
        Err(e) => return (report, None, Some(e.into())),
    };
    report.ip = Some(addr.ip());
    let mut prober =
        Prober::new(addr, options.timeouts, options.max_connections).with_pacing(&options.pacing);
    if let Some(limit) = options.deadline {
        prober = prober.with_deadline(limit);
    }
    let prober = Arc::new(prober);

    let (protocols, first_picks) =
        match scan_protocols_picking(&prober, options.sni.as_deref()).await {
            Ok(scanned) => scanned,
            Err(e) => {
                report.reachable = !matches!(e, ScanError::Connect(_));
                return (report, Some(prober), Some(e));
            }
        };
    report.reachable = true;
    let offered: Vec<ProtocolVersion> = protocols
        .iter()
        .filter(|p| p.offered == Some(true))
        .map(|p| p.version)
        .collect();
    if let Some(Ok(canary)) = offered
        .iter()
        .max()
        .map(|newest| hello_for(*newest, options.sni.as_deref(), HelloSize::Compact))
    {
        prober.set_canary(canary);
    }
    report.protocols = protocols;
    let host = http_host(spec, options);
    run_checks(&prober, options, &offered, &first_picks, &host, &mut report).await;
    (report, Some(prober), None)
}

/// Every step after the protocol scan, concurrently: they share the one
/// connection limit of the target's [`Prober`]. The vulnerability battery
/// follows suite enumeration, whose results it reads, while the other
/// steps run.
async fn run_checks(
    prober: &Prober,
    options: &ScanOptions,
    offered: &[ProtocolVersion],
    first_picks: &FirstPicks,
    host: &str,
    report: &mut TargetObservation,
) {
    let checks = options.checks;
    let sni = options.sni.as_deref();
    let mut cert_names: Vec<String> = options.sni.iter().cloned().collect();
    for name in &options.cert_names {
        if !cert_names.contains(name) {
            cert_names.push(name.clone());
        }
    }
    // Parsing the profiles is most of a short scan's start-up: only when
    // the client simulation runs.
    let profiles = if checks.clients {
        crate::clients::matching(options.clients.as_deref().unwrap_or("all"))
    } else {
        Vec::new()
    };
    let protocols = report.protocols.clone();
    let battery = Battery {
        sni,
        host,
        offered,
        protocols: &protocols,
        first_picks,
    };
    let (
        ((suites, vulnerabilities), groups, sig12, sig13, alpn, certificates, mtls, simulations),
        (session, headers),
    ) = tokio::join!(
        run_handshake_checks(prober, options, offered, &cert_names, &profiles, battery),
        async {
            tokio::join!(
                when(checks.session, session::probe_session(prober, sni, offered)),
                when(
                    checks.headers,
                    probe_headers_per_host(prober, sni, host, &cert_names)
                ),
            )
        }
    );
    report.session = session;
    report.http_headers = headers.unwrap_or_default();
    if let Some(scan) = suites {
        report.cipher_suites = scan.suites;
        report.server_preference = scan.preference;
    }
    report.vulnerabilities = vulnerabilities;
    report.groups = groups.unwrap_or_default();
    report.signature_algorithms = sig12.unwrap_or_default();
    report
        .signature_algorithms
        .extend(sig13.unwrap_or_default());
    report.alpn = alpn;
    report.certificates = certificates.unwrap_or_default();
    report.mtls = mtls;
    if let Some((handshakes, stats)) = simulations {
        report.client_handshakes = handshakes;
        report.client_simulation_stats = Some(stats);
    }
}

/// What suite enumeration and the vulnerability battery need.
#[derive(Clone, Copy)]
struct Battery<'a> {
    sni: Option<&'a str>,
    host: &'a str,
    offered: &'a [ProtocolVersion],
    protocols: &'a [crate::observe::ProtocolResult],
    first_picks: &'a FirstPicks,
}

/// Suite enumeration, then — as soon as it is done, while the other steps
/// still run — the vulnerability battery, which reads what it found.
async fn suites_then_battery(
    prober: &Prober,
    checks: Checks,
    battery: Battery<'_>,
) -> (
    Option<SuiteScan>,
    Option<Vec<crate::observe::Vulnerability>>,
) {
    let suites = when(
        checks.suites,
        enumerate_suites_after(prober, battery.sni, battery.offered, battery.first_picks),
    )
    .await;
    if !checks.vulns {
        return (suites, None);
    }
    let found = suites.as_ref().map_or(&[][..], |s| s.suites.as_slice());
    let cx = vulns::VulnContext {
        sni: battery.sni,
        host: battery.host,
        offered: battery.offered,
        protocols: battery.protocols,
        suites: found,
    };
    let vulnerabilities = vulns::probe_vulnerabilities(prober, &cx).await;
    (suites, Some(vulnerabilities))
}

/// The header probes for every name the scan fetches a certificate for
/// (the declared hosts, `--sni` repeated), each with that name as SNI and
/// Host; with no name, the one `host` (an IP target).
async fn probe_headers_per_host(
    prober: &Prober,
    sni: Option<&str>,
    host: &str,
    names: &[String],
) -> Vec<crate::observe::HeaderProbe> {
    if names.is_empty() {
        return headers::probe_headers(prober, sni, host).await;
    }
    futures::future::join_all(
        names
            .iter()
            .map(|name| headers::probe_headers(prober, Some(name), name)),
    )
    .await
    .into_iter()
    .flatten()
    .collect()
}

/// The Host of the HTTP probes: the SNI, else the target as a client
/// such as curl would send it.
fn http_host(spec: &TargetSpec, options: &ScanOptions) -> String {
    match &options.sni {
        Some(sni) => sni.clone(),
        None => spec.host.for_header(),
    }
}

type HandshakeChecks = (
    (
        Option<SuiteScan>,
        Option<Vec<crate::observe::Vulnerability>>,
    ),
    Option<Vec<crate::observe::GroupResult>>,
    Option<Vec<crate::observe::SignatureResult>>,
    Option<Vec<crate::observe::SignatureResult>>,
    Option<crate::observe::AlpnResult>,
    Option<Vec<crate::observe::CertificateResult>>,
    Option<crate::observe::MtlsResult>,
    Option<(Vec<crate::observe::ClientHandshake>, Stats)>,
);

/// The enumeration and full-handshake steps, concurrently.
async fn run_handshake_checks(
    prober: &Prober,
    options: &ScanOptions,
    offered: &[ProtocolVersion],
    cert_names: &[String],
    profiles: &[&'static crate::clients::ClientProfile],
    battery: Battery<'_>,
) -> HandshakeChecks {
    let checks = options.checks;
    let sni = options.sni.as_deref();
    let tls13 = offered.contains(&ProtocolVersion::Tls13);
    tokio::join!(
        suites_then_battery(prober, checks, battery),
        when(checks.groups, enumerate_groups(prober, sni, offered)),
        when(
            checks.signatures,
            enumerate_tls12_signatures(prober, sni, offered)
        ),
        when(
            checks.signatures && tls13,
            enumerate_tls13_signatures(prober, sni)
        ),
        when(checks.alpn, scan_alpn(prober, sni, offered)),
        when(
            checks.certificates,
            scan_certificates(prober, cert_names, offered, &options.roots)
        ),
        when(checks.mtls, scan_client_auth(prober, sni, offered)),
        when(
            checks.clients && !profiles.is_empty(),
            simulate_clients(prober, sni, profiles)
        ),
    )
}

/// Runs `step` only when `enabled`.
async fn when<T>(enabled: bool, step: impl std::future::Future<Output = T>) -> Option<T> {
    if enabled {
        Some(step.await)
    } else {
        None
    }
}

/// The handshakes and time of a scan, with its prober's ledger of what
/// could not be done.
pub(crate) fn stats(started: Instant, prober: Option<&Prober>) -> Stats {
    Stats {
        handshakes: prober.map_or(0, Prober::handshakes),
        elapsed_ms: duration_ms(started.elapsed()),
        retries: prober.map_or(0, Prober::retries),
        incomplete: prober.and_then(Prober::incomplete),
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
