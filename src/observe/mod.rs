//! Observations: what the probes saw, as typed data and nothing more.
//!
//! `scan` fills these in; `verdict` reads them and decides; `report`
//! renders them together with the verdict. Nothing here judges (whether a
//! client "connected", whether a probe passed, whether the target drifts
//! from its declaration is `verdict`'s call), and nothing here renders
//! beyond the serde names of the JSON contract (DESIGN.md): codes are
//! numbers in memory and `0xC02F` strings on the wire, outcomes are enums
//! whose serde names are the strings the contract documents.
//!
//! Must not import `report` or `verdict`: the data flows from here to them.

mod certs;
mod clients;
pub mod code;
mod handshake;
mod headers;
mod http;
mod identity;
mod mtls;
mod session;
mod vulns;

pub use certs::{CertRequest, CertificateInfo, CertificateResult};
pub use clients::{ClientAnswer, ClientHandshake, ClientOutcome, KeyExchangeSeen};
pub use handshake::{
    AlpnResult, GroupResult, GroupVia, PreferenceResult, ProtocolResult, SignatureResult,
    SuiteResult,
};
pub use headers::{HeaderProbe, HeaderValue, Hsts, HSTS_MIN_MAX_AGE, SECURITY_HEADERS};
pub use http::{AuthzRequest, Expected, HttpAnswer, RedirectRequest};
pub use identity::Identity;
pub use mtls::{MtlsOutcome, MtlsProbe, MtlsResult};
pub use session::{Answer, EarlyData, Fact, Resumption, SessionFacts};
pub use vulns::{VulnId, VulnStatus, Vulnerability};

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::wire::ProtocolVersion;

/// Handshakes made and time taken, and what could not be done.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Stats {
    pub handshakes: u32,
    pub elapsed_ms: u64,
    /// Probes repeated because the target had stopped answering for a
    /// while (rate limiting, a queue, an overloaded replica).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: u32,
    /// Set when some probes could not be completed: the results miss what
    /// they would have shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<Incomplete>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The probes of a scan that did not get a usable answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, JsonSchema)]
pub struct Incomplete {
    /// No answer even after backing off and retrying, while a hello the
    /// target accepts went unanswered too.
    pub unanswered: u32,
    /// Answers cut by a budget (bytes, messages, records, the exchange
    /// deadline).
    pub truncated: u32,
    /// Probes not made (or cut) because the target's scan deadline passed.
    pub skipped: u32,
    /// That deadline, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
    /// A few distinct reasons, as evidence.
    pub reasons: Vec<String>,
}

impl Incomplete {
    pub fn probes(&self) -> u32 {
        self.unanswered + self.truncated + self.skipped
    }
}

/// Everything the probes saw of one target (one declared server, or the
/// target as given): the input of `verdict::judge`.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetObservation {
    /// The target as given, normalised (`host:port`, `[v6]:port`).
    pub address: String,
    /// The address actually scanned; `None` when the name did not resolve.
    pub ip: Option<IpAddr>,
    pub port: u16,
    pub sni: Option<String>,
    /// A name for the target when it has one (the declared server, the lab
    /// listener).
    pub label: Option<String>,
    pub reachable: bool,
    /// Why the target could not be scanned; `None` when it was.
    pub error: Option<String>,
    pub protocols: Vec<ProtocolResult>,
    pub cipher_suites: Vec<SuiteResult>,
    pub server_preference: Vec<PreferenceResult>,
    pub groups: Vec<GroupResult>,
    pub signature_algorithms: Vec<SignatureResult>,
    pub alpn: Option<AlpnResult>,
    pub certificates: Vec<CertificateResult>,
    pub mtls: Option<MtlsResult>,
    /// One per simulated client profile, in the order simulated.
    pub client_handshakes: Vec<ClientHandshake>,
    /// Handshakes and time the client simulation took (part of `stats`).
    pub client_simulation_stats: Option<Stats>,
    /// The planned authorization and JWT requests, as made.
    pub authorization: Vec<AuthzRequest>,
    /// What could not be probed for authorization, and why.
    pub authorization_notes: Vec<String>,
    /// The plain-HTTP requests to a declared plain-HTTP server.
    pub redirects: Vec<RedirectRequest>,
    /// The vulnerability battery's active probes; `None` when the `vulns`
    /// check did not run.
    pub vulnerabilities: Option<Vec<Vulnerability>>,
    /// Resumption and extension facts; `None` when the `session` check
    /// did not run.
    pub session: Option<SessionFacts>,
    /// The HTTP header probes (the `headers` check).
    pub http_headers: Vec<HeaderProbe>,
    pub stats: Stats,
}

impl TargetObservation {
    pub fn new(address: String, port: u16, sni: Option<String>) -> Self {
        TargetObservation {
            address,
            ip: None,
            port,
            sni,
            label: None,
            reachable: false,
            error: None,
            protocols: Vec::new(),
            cipher_suites: Vec::new(),
            server_preference: Vec::new(),
            groups: Vec::new(),
            signature_algorithms: Vec::new(),
            alpn: None,
            certificates: Vec::new(),
            mtls: None,
            client_handshakes: Vec::new(),
            client_simulation_stats: None,
            authorization: Vec::new(),
            authorization_notes: Vec::new(),
            redirects: Vec::new(),
            vulnerabilities: None,
            session: None,
            http_headers: Vec::new(),
            stats: Stats::default(),
        }
    }

    /// Whether `version` was seen offered.
    pub fn offers(&self, version: ProtocolVersion) -> bool {
        self.protocols
            .iter()
            .any(|p| p.version == version && p.offered == Some(true))
    }

    /// Whether the target was scanned at all (no error).
    pub fn scanned(&self) -> bool {
        self.error.is_none()
    }
}
