//! The scan plan: the flags of `tlsposture scan` and the declared policy,
//! validated once into a [`ScanPlan`] (ripgrep's flags → HiArgs step).
//!
//! This module owns every decision taken before the first connection: the
//! target, the servers it is judged against (port, SNI, expectation), which
//! checks and client profiles run, the identities and tokens to present,
//! and the authorization and JWT requests the policy implies. Invalid input
//! is refused here with a [`PlanError`] (exit 64), never deep in an encoder.
//!
//! It must not do network I/O and must not judge: `run::execute` runs a
//! [`ServerPlan`] and `verdict` judges what came back. Nothing while probing
//! reads the [`DeclaredPolicy`]; what probing needs of it is in the plan.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cert::{self, CertError, TrustRoots};
use crate::finding::{Letter, Severity};
use crate::observe::Identity;
use crate::policy::authz::{self, ProbeIdentity};
use crate::policy::baseline::{self, Baseline};
use crate::policy::effective::{self, ClientCertExpectation, Expectation, RedirectExpectation};
use crate::policy::istiod::{self, IstioVersion};
use crate::policy::jwt as policy_jwt;
use crate::policy::selection::{self, Workload};
use crate::policy::{DeclaredPolicy, Origin, PolicyError, TlsMode};
use crate::probe::ProbeTimeouts;
use crate::scan::authz::{IdentityError, NamedIdentity};
use crate::scan::jwt::{GivenJwt, JwtArgError};
use crate::scan::{mint, Checks, Pacing, ScanOptions};
use crate::target::{ServerName, ServerNameError, TargetError, TargetSpec};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The declared policy and baselines a run was judged against.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct PolicyContext {
    /// `--policy` files, as given.
    pub files: Vec<String>,
    /// Documents read and used (`Gateway default/gw (gw.yaml:1)`).
    pub documents: Vec<String>,
    /// Documents skipped, with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
    /// The declared servers the targets were compared with
    /// (`gateway default/gw servers[0] port 443`).
    pub servers: Vec<String>,
    /// `--baseline` names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub baselines: Vec<String>,
    /// The Istio release whose rules the policy was resolved with
    /// (`--istio-version`, e.g. `1.30`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub istio_version: Option<String>,
}

/// The Host of authorization requests when no SNI is sent.
const DEFAULT_REQUEST_HOST: &str = "localhost";

/// The flags of a scan as the user gave them, not yet validated.
#[derive(Debug, Clone)]
pub struct ScanRequest<'a> {
    pub target: &'a str,
    pub sni: &'a [String],
    pub no_sni: bool,
    pub policy_files: &'a [PathBuf],
    pub declared_port: Option<u16>,
    /// `--istio-version`: which release's rules the model applies.
    pub istio_version: IstioVersion,
    /// Names already checked by the flag parser.
    pub baselines: &'a [String],
    pub require_client: &'a [String],
    /// `[NAME=]CERT,KEY` each.
    pub identities: &'a [String],
    pub jwt: Option<&'a str>,
    pub ca: Option<&'a Path>,
    pub ca_key: Option<&'a Path>,
    pub checks: Checks,
    pub timeout: Duration,
    /// `--target-deadline`; `None`: derived from the timeout and the plan.
    pub target_deadline: Option<Duration>,
    pub max_connections: u16,
    pub clients: Option<&'a str>,
    pub fail_on: Severity,
    /// `--min-grade`.
    pub min_grade: Option<Letter>,
    pub json: Option<&'a Path>,
    pub junit: Option<&'a Path>,
    /// The run's shared limits and each target's rate.
    pub pacing: Pacing,
    /// `--deadline`: when the whole run ends.
    pub until: Option<Instant>,
}

/// Everything the scan of one target will do, decided and validated.
#[derive(Debug, Clone)]
pub struct ScanPlan {
    pub target: TargetSpec,
    /// One per judged server, in the order they are reported.
    pub servers: Vec<ServerPlan>,
    /// What the run's targets share.
    pub run: Arc<RunPlan>,
    /// What the report says about the declared policy and baselines.
    pub context: Option<PolicyContext>,
    /// Judged against a declaration (`false` without a policy, or for an
    /// address no declared Gateway selects).
    pub declared: bool,
}

/// Where the report goes besides the terminal.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    pub json: Option<PathBuf>,
    pub junit: Option<PathBuf>,
}

/// How to probe, the same for every server of the target.
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    pub checks: Checks,
    pub timeouts: ProbeTimeouts,
    /// The whole-target deadline asked for (`--target-deadline`); `None`:
    /// [`TlsPlan::deadline`] derives one.
    pub target_deadline: Option<Duration>,
    pub max_connections: usize,
    pub roots: TrustRoots,
    /// Client profiles to simulate (`None`: all).
    pub clients: Option<String>,
    /// `--identity` certificates, then the minted wrong-SAN one.
    pub identities: Vec<NamedIdentity>,
    /// The minted expired certificate (`--ca-key`): probed for mTLS only.
    pub expired: Option<NamedIdentity>,
    pub jwt: Option<GivenJwt>,
    pub pacing: Pacing,
    /// `--deadline`: every target's scan ends by then.
    pub until: Option<Instant>,
}

impl Default for ProbeSettings {
    fn default() -> Self {
        let options = ScanOptions::default();
        ProbeSettings {
            checks: options.checks,
            timeouts: options.timeouts,
            target_deadline: None,
            max_connections: options.max_connections,
            roots: options.roots,
            clients: options.clients,
            identities: Vec::new(),
            expired: None,
            jwt: None,
            pacing: Pacing::default(),
            until: None,
        }
    }
}

/// One server the target is judged as.
#[derive(Debug, Clone)]
pub struct ServerPlan {
    /// The declared server's label (`gateway default/gw servers[0] port
    /// 443`), or a lab listener's name.
    pub label: Option<String>,
    pub kind: ServerKind,
}

#[derive(Debug, Clone)]
pub enum ServerKind {
    Tls(Box<TlsPlan>),
    PlainHttp(PlainHttpPlan),
}

/// A TLS server: the names to send and what it must look like.
#[derive(Debug, Clone, Default)]
pub struct TlsPlan {
    /// The server_name of the protocol and suite probes (`None`: no SNI).
    pub sni: Option<ServerName>,
    /// Every name whose certificate is fetched (the SNI first).
    pub cert_names: Vec<ServerName>,
    /// The declared server, when a policy was given.
    pub expectation: Option<Expectation>,
    /// Declared MUTUAL: every given identity must be accepted.
    pub mutual: bool,
    /// The authorization and JWT requests the policy implies; `None`
    /// without a policy (then only the identities' mTLS probes run).
    pub authz: Option<AuthzPlan>,
}

impl TlsPlan {
    /// A server probed with `names` (the first as SNI), judged against
    /// nothing declared.
    pub fn with_names(names: Vec<ServerName>) -> TlsPlan {
        TlsPlan {
            sni: names.first().cloned(),
            cert_names: names,
            ..TlsPlan::default()
        }
    }

    /// The options of the TLS scan itself.
    pub fn scan_options(&self, settings: &ProbeSettings) -> ScanOptions {
        ScanOptions {
            sni: self.sni.as_ref().map(ToString::to_string),
            cert_names: self.cert_names.iter().map(ToString::to_string).collect(),
            roots: settings.roots.clone(),
            checks: settings.checks,
            timeouts: settings.timeouts,
            max_connections: settings.max_connections,
            deadline: Some(self.deadline(settings)),
            clients: settings.clients.clone(),
            pacing: settings.pacing.clone(),
        }
    }

    /// The whole-target deadline: `--target-deadline` when given, else one
    /// `--timeout` for each round of probes this plan can need at its
    /// connection limit, with room for the retries of a struggling target.
    /// A scan whose every probe waits out its timeout ends by then instead
    /// of running for minutes (review H6), and says what it left undone.
    pub fn deadline(&self, settings: &ProbeSettings) -> Duration {
        let own = self.own_deadline(settings);
        match settings.until {
            Some(until) => own.min(until.saturating_duration_since(Instant::now())),
            None => own,
        }
    }

    fn own_deadline(&self, settings: &ProbeSettings) -> Duration {
        if let Some(asked) = settings.target_deadline {
            return asked;
        }
        let c = settings.checks;
        let steps = [
            c.suites,
            c.groups,
            c.signatures,
            c.alpn,
            c.certificates,
            c.mtls,
            c.clients,
            c.vulns,
            c.session,
            c.headers,
        ]
        .into_iter()
        .filter(|on| *on)
        .count();
        let requests = self
            .authz
            .as_ref()
            .map_or(0, |a| a.probes.len() + a.jwt_probes.len())
            + settings.identities.len() * 2;
        let request_rounds = requests.div_ceil(settings.max_connections.max(1));
        // The protocol scan (with its compact retries), then each step's
        // sequential removal passes, then the requests.
        let rounds = 6 + 4 * steps + 2 * request_rounds;
        let per_round = settings.timeouts.connect.max(settings.timeouts.read);
        per_round.saturating_mul(u32::try_from(rounds).unwrap_or(u32::MAX))
    }
}

pub use crate::policy::authz::AuthzPlan;

/// A declared plain-HTTP server: one `GET /` per Host.
#[derive(Debug, Clone)]
pub struct PlainHttpPlan {
    pub hosts: Vec<String>,
    pub expectation: RedirectExpectation,
}

/// Why the flags and policy make no plan (exit 64). Each message is one
/// line naming the flag, or the file:line of the declaration.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("--sni: {0}")]
    Sni(ServerNameError),
    #[error("{}:{}: declared host in {}.hosts: {error}", .origin.file, .origin.line, .origin.field)]
    DeclaredHost {
        origin: Origin,
        error: ServerNameError,
    },
    #[error("--ca {path}")]
    Ca {
        path: String,
        #[source]
        source: CertError,
    },
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error("--identity {0}")]
    Identity(#[from] IdentityError),
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("--ca-key {path} (for --ca {ca}): {source}")]
    Mint {
        path: String,
        ca: String,
        source: mint::MintCaError,
    },
    #[error("--jwt: {0}")]
    Jwt(#[from] JwtArgError),
    #[error("{files}: {reason}")]
    Port { files: String, reason: String },
    #[error("no server declared on that port serves SNI {sni}")]
    NoServer { sni: String },
    #[error("{flag} {pattern:?} matches no client profile (see `tlsposture clients list`)")]
    NoClient { flag: &'static str, pattern: String },
}

/// Validates the flags into a plan for the one target `req.target`. `load`
/// reads the `--policy` files (it is called only when there are some,
/// after the target and `--ca` were checked, so the first error a user
/// sees is the same as ever).
///
/// # Errors
/// The first invalid input, as a [`PlanError`].
pub fn build(
    req: &ScanRequest<'_>,
    load: impl FnOnce(&[PathBuf]) -> Result<DeclaredPolicy, PolicyError>,
) -> Result<ScanPlan, PlanError> {
    TargetSpec::parse(req.target)?;
    let run = prepare(req, load)?;
    plan_target(&Arc::new(run), req, &TargetRequest::of(req))
}

/// One target of a run: the address, the names to send (empty: the run's
/// `--sni`), and its declared port and Gateways when discovery knows them.
#[derive(Debug, Clone, Copy)]
pub struct TargetRequest<'a> {
    pub target: &'a str,
    pub sni: &'a [String],
    /// `None`: the run's `--declared-port`.
    pub declared_port: Option<u16>,
    /// Only these Gateways' servers (`namespace/name`); `None`: every
    /// Gateway of the policy.
    pub gateways: Option<&'a [String]>,
}

impl<'a> TargetRequest<'a> {
    /// The request's own single target.
    pub fn of(req: &ScanRequest<'a>) -> TargetRequest<'a> {
        TargetRequest {
            target: req.target,
            sni: &[],
            declared_port: None,
            gateways: None,
        }
    }
}

/// What every target of a run shares, validated once: loading the policy,
/// the identities and the trust roots, and minting, happen once per run,
/// not once per target.
#[derive(Debug)]
pub struct RunPlan {
    pub probing: Arc<ProbeSettings>,
    /// `--require-client` patterns, each known to name a profile.
    pub require_client: Vec<String>,
    pub baselines: Vec<&'static Baseline>,
    pub fail_on: Severity,
    /// `--min-grade`.
    pub min_grade: Option<Letter>,
    /// `--ca FILE` as given: the grade counts chains to it as trusted.
    pub trust_anchor: Option<String>,
    pub outputs: Outputs,
    /// `--sni`, validated.
    given: Vec<ServerName>,
    declared: Option<Declared>,
}

/// The declared policy and what istiod makes of it, resolved once.
#[derive(Debug)]
struct Declared {
    policy: DeclaredPolicy,
    tls: Vec<Expectation>,
    plain: Vec<RedirectExpectation>,
}

impl RunPlan {
    /// Whether targets are judged against a declared policy.
    pub fn has_policy(&self) -> bool {
        self.declared.is_some()
    }
}

/// Validates everything but the targets (see [`RunPlan`]).
///
/// # Errors
/// The first invalid input, as a [`PlanError`].
pub fn prepare(
    req: &ScanRequest<'_>,
    load: impl FnOnce(&[PathBuf]) -> Result<DeclaredPolicy, PolicyError>,
) -> Result<RunPlan, PlanError> {
    let given = server_names(req.sni)?;
    let roots = trust_roots(req.ca)?;
    let baselines: Vec<&'static Baseline> = req
        .baselines
        .iter()
        .filter_map(|name| baseline::baseline(name))
        .collect();
    let declared = if req.policy_files.is_empty() {
        None
    } else {
        let policy = load(req.policy_files)?;
        let resolved = istiod::resolve(&policy, req.istio_version);
        let tls = effective::expectations_of(&policy, &resolved);
        let plain = effective::expectations_http_of(&resolved);
        Some(Declared { policy, tls, plain })
    };
    let mut identities = req
        .identities
        .iter()
        .map(|spec| NamedIdentity::load(spec).map_err(PlanError::Identity))
        .collect::<Result<Vec<_>, _>>()?;
    // Probes are reported and matched by identity name: two identities
    // with one name would be indistinguishable in the report.
    for (i, id) in identities.iter().enumerate() {
        if identities[..i]
            .iter()
            .any(|earlier| earlier.name == id.name)
        {
            return Err(IdentityError::Duplicate {
                name: id.name.clone(),
            }
            .into());
        }
    }
    let expired = match (req.ca_key, req.ca) {
        (Some(key), Some(ca)) => {
            let minted = mint::mint(&read(ca)?, &read(key)?).map_err(|e| PlanError::Mint {
                path: key.display().to_string(),
                ca: ca.display().to_string(),
                source: e,
            })?;
            if identities.iter().any(|id| id.name == minted.wrong_san.name) {
                return Err(IdentityError::MintedName {
                    name: minted.wrong_san.name.clone(),
                }
                .into());
            }
            identities.push(minted.wrong_san.clone());
            Some(minted.expired)
        }
        _ => None,
    };
    let jwt = req.jwt.map(GivenJwt::parse).transpose()?;
    // `--clients`: a pattern naming no profile would silently simulate
    // fewer clients than asked for; each comma-separated one must match.
    if let Some(chosen) = req.clients {
        let patterns: Vec<String> = chosen
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        check_client_patterns("--clients", &patterns)?;
    }
    let mut checks = req.checks;
    let mut clients = req.clients.map(str::to_owned);
    // `--require-client`: the required clients are simulated even outside
    // `--clients`, and the clients check runs even when `--checks` left it
    // out.
    if !req.require_client.is_empty() {
        check_client_patterns("--require-client", req.require_client)?;
        checks.clients = true;
        if let Some(chosen) = &clients {
            clients = Some(format!("{chosen},{}", req.require_client.join(",")));
        }
    }
    let probing = ProbeSettings {
        checks,
        timeouts: ProbeTimeouts {
            connect: req.timeout,
            read: req.timeout,
        },
        target_deadline: req.target_deadline,
        max_connections: usize::from(req.max_connections),
        roots,
        clients,
        identities,
        expired,
        jwt,
        pacing: req.pacing.clone(),
        until: req.until,
    };
    Ok(RunPlan {
        probing: Arc::new(probing),
        require_client: req.require_client.to_vec(),
        baselines,
        fail_on: req.fail_on,
        min_grade: req.min_grade,
        trust_anchor: req.ca.map(|p| p.display().to_string()),
        outputs: Outputs {
            json: req.json.map(Path::to_path_buf),
            junit: req.junit.map(Path::to_path_buf),
        },
        given,
        declared,
    })
}

/// The plan of one target of `run`.
///
/// # Errors
/// The target, its names, or no declared server for it.
pub fn plan_target(
    run: &Arc<RunPlan>,
    req: &ScanRequest<'_>,
    one: &TargetRequest<'_>,
) -> Result<ScanPlan, PlanError> {
    let target = TargetSpec::parse(one.target)?;
    let given = if one.sni.is_empty() {
        run.given.clone()
    } else {
        server_names(one.sni)?
    };
    // Discovery found no declared Gateway selecting this address: it is
    // scanned, and judged against no declaration.
    let unpaired = one.gateways.is_some_and(<[String]>::is_empty);
    let (servers, mut context) = match &run.declared {
        Some(declared) if !unpaired => {
            let declared_port = one.declared_port.or(req.declared_port);
            declared_servers(
                req,
                &target,
                declared,
                &given,
                declared_port,
                one.gateways,
                &run.probing,
            )?
        }
        _ => {
            let names = if req.no_sni {
                Vec::new()
            } else if given.is_empty() {
                target
                    .default_sni()
                    .map(|n| ServerName::parse(&n))
                    .transpose()
                    .map_err(PlanError::Sni)?
                    .into_iter()
                    .collect()
            } else {
                given
            };
            let server = ServerPlan {
                label: None,
                kind: ServerKind::Tls(Box::new(TlsPlan::with_names(names))),
            };
            (vec![server], None)
        }
    };
    let declared = run.declared.is_some() && !unpaired;
    if !run.baselines.is_empty() {
        let ctx = context.get_or_insert_with(PolicyContext::default);
        ctx.baselines = run.baselines.iter().map(|b| b.name.clone()).collect();
    }
    Ok(ScanPlan {
        target,
        servers,
        run: Arc::clone(run),
        context,
        declared,
    })
}

/// The servers declared on the target's port: its plain-HTTP servers when
/// that port has no TLS server, else the TLS servers that answer the SNI.
fn declared_servers(
    req: &ScanRequest<'_>,
    target: &TargetSpec,
    declared: &Declared,
    given: &[ServerName],
    declared_port: Option<u16>,
    gateways: Option<&[String]>,
    probing: &ProbeSettings,
) -> Result<(Vec<ServerPlan>, Option<PolicyContext>), PlanError> {
    let policy = &declared.policy;
    let of_gateway = |gateway: &str| gateways.is_none_or(|g| g.iter().any(|n| n == gateway));
    let all: Vec<Expectation> = declared
        .tls
        .iter()
        .filter(|e| of_gateway(&e.gateway))
        .cloned()
        .collect();
    let wanted = declared_port.unwrap_or(target.port);
    let plain: Vec<_> = declared
        .plain
        .iter()
        .filter(|e| e.port == wanted && of_gateway(&e.gateway))
        .cloned()
        .collect();
    if !plain.is_empty() && !all.iter().any(|e| e.port == wanted) {
        let mut ctx = policy_context(policy, req.policy_files, &[], req.istio_version);
        let mut servers = Vec::new();
        for exp in plain {
            let hosts = if given.is_empty() {
                // `*` becomes the target's own address, which is not a
                // declared name; every other Host is.
                for host in exp.request_hosts("") {
                    if !host.is_empty() {
                        declared_name(&host, &exp.server)?;
                    }
                }
                // A server declared for `*` is asked with the target's host as given.
                exp.request_hosts(&target.host.for_header())
            } else {
                given.iter().map(ToString::to_string).collect()
            };
            ctx.servers.push(exp.label());
            servers.push(ServerPlan {
                label: Some(exp.label()),
                kind: ServerKind::PlainHttp(PlainHttpPlan {
                    hosts,
                    expectation: exp,
                }),
            });
        }
        return Ok((servers, Some(ctx)));
    }
    let chosen = effective::for_port(&all, target.port, declared_port).map_err(|reason| {
        PlanError::Port {
            files: req
                .policy_files
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            reason,
        }
    })?;
    let chosen = select_by_sni(chosen, given.first(), req.no_sni);
    if chosen.is_empty() {
        return Err(PlanError::NoServer {
            sni: given
                .first()
                .map(ToString::to_string)
                .unwrap_or_else(|| "(none)".to_owned()),
        });
    }
    let mut servers = Vec::new();
    // The names each server is probed with: `--sni`, else its declared
    // hosts, every one checked before any server is planned.
    let mut declared_names = Vec::new();
    for exp in &chosen {
        let names = if given.is_empty() {
            exp.probe_names()
                .iter()
                .map(|n| declared_name(n, &exp.server))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            given.to_vec()
        };
        declared_names.push(names);
    }
    for (exp, names) in chosen.iter().zip(declared_names) {
        let mutual = exp.mode == TlsMode::Mutual;
        let authz = plan_authz(
            policy,
            &exp.gateway,
            PeerCertificate::of(exp.client_cert),
            names.first().map(ServerName::as_str),
            &probing.identities,
            probing.jwt.as_ref(),
        );
        servers.push(ServerPlan {
            label: Some(exp.label()),
            kind: ServerKind::Tls(Box::new(TlsPlan {
                expectation: Some((*exp).clone()),
                mutual,
                authz: Some(authz),
                ..TlsPlan::with_names(names)
            })),
        });
    }
    let context = policy_context(policy, req.policy_files, &chosen, req.istio_version);
    Ok((servers, Some(context)))
}

/// Whether a server asks clients for a certificate, which decides whether
/// a given identity's principal can reach the authorization filter at all.
///
/// Istio's SIMPLE server context sets `require_client_certificate: false`
/// and writes no validation context (`BuildListenerTLSContext`,
/// pilot/pkg/networking/core/listener.go), so Envoy never sends a
/// CertificateRequest and rustls presents nothing; Envoy's `authenticated`
/// principal matcher then has no peer certificate and matches no
/// `principals` value (`AuthenticatedMatcher::matches`,
/// source/extensions/filters/common/rbac/matchers.cc). See
/// docs/istio-rules.md (review H10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerCertificate {
    /// MUTUAL, ISTIO_MUTUAL: no certificate, no connection.
    Required,
    /// OPTIONAL_MUTUAL: asked for, and one that verifies is used.
    Optional,
    /// SIMPLE (and the pass-through modes, where the gateway sees no TLS).
    NotRequested,
}

impl PeerCertificate {
    /// From what Envoy enforces on the server's chain
    /// (`policy::envoy::tls::client_cert`: SAN matchers or pins make a
    /// certificate required even on OPTIONAL_MUTUAL), not from the mode.
    pub fn of(client_cert: ClientCertExpectation) -> PeerCertificate {
        match client_cert {
            ClientCertExpectation::Required => PeerCertificate::Required,
            ClientCertExpectation::Optional => PeerCertificate::Optional,
            ClientCertExpectation::NotRequested => PeerCertificate::NotRequested,
        }
    }
}

/// The authorization and JWT requests for the Gateway `gateway`'s server:
/// the policies selecting its workload, probed with each identity when the
/// server asks for client certificates (a server that does not ask never
/// sees one: the identities are left out with a note), and with none
/// unless a certificate is required; the JWT probes present the first
/// identity, and are left out with a note when a server requiring a
/// certificate gets no identity. `sni` is the Host of requests that name
/// none.
pub fn plan_authz(
    policy: &DeclaredPolicy,
    gateway: &str,
    peer: PeerCertificate,
    sni: Option<&str>,
    identities: &[NamedIdentity],
    jwt: Option<&GivenJwt>,
) -> AuthzPlan {
    let workloads: Vec<Workload> = Workload::named(policy, gateway).into_iter().collect();
    let host = sni.unwrap_or(DEFAULT_REQUEST_HOST);
    let selected = selection::authorization_policies(policy, &workloads);
    let probed = selected.built_from();
    let policies = selected.applied;
    let presentable = if peer == PeerCertificate::NotRequested {
        &[]
    } else {
        identities
    };
    let mut ids: Vec<ProbeIdentity> = presentable.iter().map(probe_identity).collect();
    if peer != PeerCertificate::Required {
        ids.push(no_identity());
    }
    let planned = authz::plan_with(&probed, &policies, &ids, host, policy.mesh_authz.as_ref());
    let mut out = AuthzPlan {
        probes: planned.probes,
        jwt_probes: Vec::new(),
        notes: selected.notes,
    };
    out.notes.extend(planned.notes);
    if presentable.is_empty() && !identities.is_empty() && !policies.is_empty() {
        let names: Vec<&str> = identities.iter().map(|i| i.name.as_str()).collect();
        out.notes.push(format!(
            "identities {} not probed for authorization: the server does not ask for a client \
             certificate, so no principal reaches its filters (requests are judged as without one)",
            names.join(", ")
        ));
    }
    let authn = selection::request_authentications(policy, &workloads);
    out.notes.extend(authn.notes);
    let authns = authn.applied;
    if authns.is_empty() {
        return out;
    }
    let presented = match presentable.first() {
        Some(i) => probe_identity(i),
        None if peer != PeerCertificate::Required => no_identity(),
        None => {
            out.notes.push(
                "JWT not probed: the gateway requires a client certificate and no --identity \
                 was given"
                    .to_owned(),
            );
            return out;
        }
    };
    let given = jwt.and_then(|g| g.request_principal.as_deref());
    let planned = policy_jwt::plan_jwt(
        &authns,
        &policies,
        &presented,
        given,
        host,
        policy.mesh_authz.as_ref(),
    );
    out.jwt_probes = planned.probes;
    out.notes.extend(planned.notes);
    out
}

fn probe_identity(i: &NamedIdentity) -> ProbeIdentity {
    ProbeIdentity {
        name: i.name.clone(),
        principal: i.principal.clone(),
    }
}

fn no_identity() -> ProbeIdentity {
    ProbeIdentity {
        name: Identity::None.name().to_owned(),
        principal: None,
    }
}

/// Each pattern must name at least one client profile.
///
/// # Errors
/// [`PlanError::NoClient`] for the first that names none.
pub fn check_client_patterns(flag: &'static str, patterns: &[String]) -> Result<(), PlanError> {
    match patterns
        .iter()
        .find(|p| crate::clients::matching(p).is_empty())
    {
        Some(p) => Err(PlanError::NoClient {
            flag,
            pattern: p.clone(),
        }),
        None => Ok(()),
    }
}

/// `--ca`, else the public web PKI.
///
/// # Errors
/// [`PlanError::Ca`] when the file cannot be read or holds no certificate.
pub fn trust_roots(ca: Option<&Path>) -> Result<TrustRoots, PlanError> {
    match ca {
        Some(path) => cert::load_ca_file(path).map_err(|source| PlanError::Ca {
            path: path.display().to_string(),
            source,
        }),
        None => Ok(TrustRoots::Public),
    }
}

/// Each `--sni` as a [`ServerName`].
///
/// # Errors
/// [`PlanError::Sni`] for the first that is not one.
pub fn server_names(given: &[String]) -> Result<Vec<ServerName>, PlanError> {
    given
        .iter()
        .map(|n| ServerName::parse(n).map_err(PlanError::Sni))
        .collect()
}

/// A declared host about to go on the wire, validated; the error names the
/// server entry's file:line.
fn declared_name(name: &str, origin: &Origin) -> Result<ServerName, PlanError> {
    ServerName::parse(name).map_err(|error| PlanError::DeclaredHost {
        origin: origin.clone(),
        error,
    })
}

fn read(path: &Path) -> Result<String, PlanError> {
    std::fs::read_to_string(path).map_err(|e| PlanError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// With `--sni`, only the declared servers that answer that name; with
/// `--no-sni`, those that answer a client without SNI.
fn select_by_sni<'a>(
    chosen: Vec<&'a Expectation>,
    sni: Option<&ServerName>,
    no_sni: bool,
) -> Vec<&'a Expectation> {
    if no_sni {
        chosen.into_iter().filter(|e| e.serves(None)).collect()
    } else if let Some(first) = sni {
        chosen
            .into_iter()
            .filter(|e| e.serves(Some(first.as_str())))
            .collect()
    } else {
        chosen
    }
}

fn policy_context(
    policy: &DeclaredPolicy,
    files: &[PathBuf],
    chosen: &[&Expectation],
    istio_version: IstioVersion,
) -> PolicyContext {
    let describe = |d: &crate::policy::DocumentSummary| {
        format!(
            "{} {} ({}:{})",
            d.kind, d.name, d.origin.file, d.origin.line
        )
    };
    PolicyContext {
        files: files.iter().map(|p| p.display().to_string()).collect(),
        documents: policy
            .documents
            .iter()
            .filter(|d| d.skipped.is_none())
            .map(describe)
            .collect(),
        skipped: policy
            .documents
            .iter()
            .filter_map(|d| {
                d.skipped
                    .as_ref()
                    .map(|why| format!("{}: {why}", describe(d)))
            })
            .collect(),
        servers: chosen.iter().map(|e| e.label()).collect(),
        baselines: Vec::new(),
        istio_version: Some(istio_version.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(target: &'a str, sni: &'a [String]) -> ScanRequest<'a> {
        ScanRequest {
            target,
            sni,
            no_sni: false,
            policy_files: &[],
            declared_port: None,
            istio_version: IstioVersion::DEFAULT,
            baselines: &[],
            require_client: &[],
            identities: &[],
            jwt: None,
            ca: None,
            ca_key: None,
            checks: Checks::ALL,
            timeout: Duration::from_secs(3),
            target_deadline: None,
            max_connections: 8,
            clients: None,
            fail_on: Severity::High,
            min_grade: None,
            json: None,
            junit: None,
            pacing: Pacing::default(),
            until: None,
        }
    }

    fn no_policy(_: &[PathBuf]) -> Result<DeclaredPolicy, PolicyError> {
        unreachable!("no --policy given")
    }

    #[test]
    fn without_a_policy_one_server_with_the_names_given() {
        let sni = vec!["a.example".to_owned(), "b.example".to_owned()];
        let plan = build(&request("127.0.0.1:8443", &sni), no_policy).expect("plans");
        let [server] = &plan.servers[..] else {
            panic!("{:?}", plan.servers)
        };
        let ServerKind::Tls(tls) = &server.kind else {
            panic!("{server:?}")
        };
        assert_eq!(tls.sni.as_ref().map(ServerName::as_str), Some("a.example"));
        assert_eq!(tls.cert_names.len(), 2);
        assert!(tls.authz.is_none() && tls.expectation.is_none());
        // The host is the SNI when none is given.
        let plan = build(&request("gw.example:443", &[]), no_policy).expect("plans");
        let ServerKind::Tls(tls) = &plan.servers[0].kind else {
            panic!()
        };
        assert_eq!(tls.sni.as_ref().map(ServerName::as_str), Some("gw.example"));
    }

    #[test]
    fn invalid_flags_are_refused_at_plan_time() {
        let long = vec!["a".repeat(300)];
        assert!(matches!(
            build(&request("127.0.0.1:1", &long), no_policy),
            Err(PlanError::Sni(ServerNameError::TooLong { len: 300, .. }))
        ));
        let mut req = request("127.0.0.1:1", &[]);
        let patterns = vec!["no-such-client-xyz".to_owned()];
        req.require_client = &patterns;
        assert!(matches!(
            build(&req, no_policy),
            Err(PlanError::NoClient { .. })
        ));
        assert!(matches!(
            build(&request("bad host", &[]), no_policy),
            Err(PlanError::Target(_))
        ));
    }

    #[test]
    fn authorization_is_planned_from_the_policy_not_while_probing() {
        let policy = crate::policy::load_str(
            "authz.yaml",
            include_str!("../fixtures/policy/asm-mtls-authz-004.yaml"),
        )
        .expect("seed 004 parses");
        let gateway = policy.gateways[0].qualified_name();
        // MUTUAL and no identity: nothing can be probed, and it says so.
        let plan = plan_authz(
            &policy,
            &gateway,
            PeerCertificate::Required,
            Some("test.com"),
            &[],
            None,
        );
        assert!(plan.probes.is_empty());
        assert!(!plan.notes.is_empty(), "{plan:?}");
        // Not MUTUAL: the requests without a client certificate are planned.
        let plan = plan_authz(
            &policy,
            &gateway,
            PeerCertificate::NotRequested,
            Some("test.com"),
            &[],
            None,
        );
        assert!(plan
            .probes
            .iter()
            .all(|p| p.identity == Identity::None.name()));
    }
}
