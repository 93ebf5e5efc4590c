//! The report as data: the JSON contract of DESIGN.md, assembled from the
//! observations (`observe`) and the verdict (`verdict`) and nothing else.
//! Paths here are what CI scripts read; extend freely, never rename or
//! change a meaning without bumping [`SCHEMA_VERSION`].
//!
//! Building a report decides nothing: every judged field (a client
//! "connected", a probe's verdict, the findings, the summary's policy
//! verdict) is copied from a [`Judgement`] or [`Summary`].

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::finding::{Finding, Severity, SeverityCounts};
pub use crate::observe::{
    AlpnResult, AuthzRequest, CertRequest, CertificateInfo, CertificateResult, Expected,
    GroupResult, GroupVia, HttpAnswer, Identity, MtlsOutcome, MtlsProbe, MtlsResult,
    PreferenceResult, ProtocolResult, RedirectRequest, SignatureResult, Stats, SuiteResult,
};
pub use crate::observe::{HeaderProbe, Hsts, SessionFacts, VulnId, VulnStatus, Vulnerability};
pub use crate::plan::PolicyContext;
pub use crate::verdict::{
    BaselineVerdict, ClientSimulation, Judgement, PolicyVerdict, ProbeVerdict, RedirectExpected,
    RedirectJudgement, Summary,
};
pub use crate::verdict::{Grade, GradeCap, Letter};

use crate::observe::TargetObservation;
use crate::wire::ProtocolVersion;

/// Version of the JSON report contract.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole run: one or more targets.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Report {
    pub schema_version: u32,
    pub tool: ToolInfo,
    pub started_at: String,
    pub finished_at: String,
    pub targets: Vec<TargetReport>,
    /// What the targets were judged against, when a policy or baseline was
    /// given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyContext>,
    pub summary: Summary,
    /// Set when a signal ended the run early: the report is partial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<Interruption>,
}

/// How a run was cut short: what stopped it and what it did not get to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
pub struct Interruption {
    /// `SIGINT` or `SIGTERM`.
    pub signal: String,
    /// The planned servers not scanned to the end (the one in progress
    /// included), by label; the report holds only the others.
    pub unscanned: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

impl Default for ToolInfo {
    fn default() -> Self {
        ToolInfo {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// Everything observed and judged about one target.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct TargetReport {
    /// The target as given, normalised (`host:port`, `[v6]:port`).
    pub address: String,
    /// The address actually scanned; `null` when the name did not resolve.
    #[schemars(with = "Option<String>")]
    pub ip: Option<IpAddr>,
    pub port: u16,
    pub sni: Option<String>,
    /// A name for the target when it has one (e.g. the lab listener).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub reachable: bool,
    /// Why the target could not be scanned; absent when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// All six versions, oldest first, once the target was scanned.
    pub protocols: Vec<ProtocolResult>,
    /// Every suite the server accepts, per protocol, in the server's order
    /// when it enforces one (else in the order found).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cipher_suites: Vec<SuiteResult>,
    /// Whether the server enforces its suite order, per protocol.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub server_preference: Vec<PreferenceResult>,
    /// Key-exchange groups the server accepts, per protocol, in its order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupResult>,
    /// Signature schemes the server signs with, per protocol.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signature_algorithms: Vec<SignatureResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpn: Option<AlpnResult>,
    /// The certificate served per requested name (and with no / an unknown SNI).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<CertificateResult>,
    /// Whether the server requests / requires a client certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtls: Option<MtlsResult>,
    /// What each simulated client (`clients/`) got: connected or not, and
    /// why not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_simulations: Vec<ClientSimulation>,
    /// Handshakes and time the client simulation took (part of `stats`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_simulation_stats: Option<Stats>,
    /// One request per authorization probe derived from the declared
    /// AuthorizationPolicies (with `--policy` and `--identity`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization: Vec<AuthzProbe>,
    /// What could not be probed for authorization, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_notes: Vec<String>,
    /// One plain-HTTP request per declared host of a plain-HTTP server
    /// (with `--policy` on a declared `HTTP` port): the `httpsRedirect`
    /// check.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<RedirectProbe>,
    /// The vulnerability battery (the `vulns` check): every check, with
    /// `not_vulnerable`, `vulnerable`, `not_applicable` or `unknown` and
    /// the evidence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vulnerabilities: Vec<Vulnerability>,
    /// Resumption and extension facts (the `session` check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionFacts>,
    /// HTTP response headers per host and path (the `headers` check).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub http_headers: Vec<HeaderProbe>,
    /// The SSL Labs grade (rating guide 2009r), when the target could be
    /// graded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<Grade>,
    /// Why the target was not graded (a check the rating needs did not
    /// run or could not be done).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade_unavailable: Option<String>,
    pub findings: Vec<Finding>,
    pub stats: Stats,
}

impl TargetReport {
    /// The report of one target: its observations with the verdict on
    /// them. The judged lists are zipped in order: the verdict has one
    /// entry per authorization and redirect request.
    pub fn new(observed: TargetObservation, judged: Judgement) -> Self {
        let authorization = observed
            .authorization
            .into_iter()
            .zip(judged.authorization)
            .map(|(request, (verdict, note))| AuthzProbe::new(request, verdict, &note))
            .collect();
        let redirects = observed
            .redirects
            .into_iter()
            .zip(judged.redirects)
            .map(|(request, judged)| RedirectProbe { request, judged })
            .collect();
        TargetReport {
            address: observed.address,
            ip: observed.ip,
            port: observed.port,
            sni: observed.sni,
            label: observed.label,
            reachable: observed.reachable,
            error: observed.error,
            protocols: observed.protocols,
            cipher_suites: observed.cipher_suites,
            server_preference: observed.server_preference,
            groups: observed.groups,
            signature_algorithms: observed.signature_algorithms,
            alpn: observed.alpn,
            certificates: observed.certificates,
            mtls: observed.mtls,
            client_simulations: judged.client_simulations,
            client_simulation_stats: observed.client_simulation_stats,
            authorization,
            authorization_notes: observed.authorization_notes,
            redirects,
            vulnerabilities: judged.vulnerabilities,
            session: observed.session,
            http_headers: observed.http_headers,
            grade: judged.grade.clone().and_then(Result::ok),
            grade_unavailable: judged.grade.and_then(Result::err),
            findings: judged.findings,
            stats: observed.stats,
        }
    }

    /// Whether `version` was seen offered.
    pub fn offers(&self, version: ProtocolVersion) -> bool {
        self.protocols
            .iter()
            .any(|p| p.version == version && p.offered == Some(true))
    }
}

/// One authorization probe: the request made, what the declared policy
/// says must happen, what did, and the verdict.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct AuthzProbe {
    #[serde(flatten)]
    pub request: AuthzRequest,
    /// `pass`, `fail`, or `error` (no conclusive answer: see `evidence`).
    pub verdict: ProbeVerdict,
}

impl AuthzProbe {
    /// The request with its verdict; the verdict's note (if any) is
    /// appended to the evidence.
    pub fn new(mut request: AuthzRequest, verdict: ProbeVerdict, note: &str) -> Self {
        if !note.is_empty() {
            request.evidence.push_str("; ");
            request.evidence.push_str(note);
        }
        AuthzProbe { request, verdict }
    }
}

/// One plain-HTTP request to a declared plain-HTTP server, and whether the
/// answer is the declared `httpsRedirect`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct RedirectProbe {
    #[serde(flatten)]
    pub request: RedirectRequest,
    #[serde(flatten)]
    pub judged: RedirectJudgement,
}
