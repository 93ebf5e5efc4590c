//! The report as data: the serde types every renderer shares and the JSON
//! contract of DESIGN.md. Paths here are what CI scripts read; extend freely,
//! never rename or change a meaning without bumping [`SCHEMA_VERSION`].

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::registry::{GroupKind, Strength};
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
}

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

/// Everything observed (and judged) about one target.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct TargetReport {
    /// The target as given, normalised (`host:port`, `[v6]:port`).
    pub address: String,
    /// The address actually scanned; `null` when the name did not resolve.
    pub ip: Option<String>,
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
    pub findings: Vec<Finding>,
    pub stats: Stats,
}

impl TargetReport {
    pub fn new(address: String, port: u16, sni: Option<String>) -> Self {
        TargetReport {
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
            client_simulations: Vec::new(),
            client_simulation_stats: None,
            authorization: Vec::new(),
            authorization_notes: Vec::new(),
            redirects: Vec::new(),
            findings: Vec::new(),
            stats: Stats::default(),
        }
    }

    /// Whether `version` was seen offered.
    pub fn offers(&self, version: ProtocolVersion) -> bool {
        self.protocols
            .iter()
            .any(|p| p.version == version && p.offered == Some(true))
    }
}

/// Whether one protocol version is offered, and what showed it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct ProtocolResult {
    pub version: ProtocolVersion,
    /// `true` offered, `false` not offered, `null` could not be determined.
    pub offered: Option<bool>,
    /// What the probe saw: negotiated version and suite, alert name, reset…
    pub evidence: String,
    /// The version the server answered with, when it answered at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negotiated: Option<ProtocolVersion>,
    /// The suite the server picked from the broad offer (IANA name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cipher: Option<String>,
}

impl ProtocolResult {
    pub fn offered(
        version: ProtocolVersion,
        evidence: String,
        negotiated: Option<ProtocolVersion>,
        cipher: Option<String>,
    ) -> Self {
        ProtocolResult {
            version,
            offered: Some(true),
            evidence,
            negotiated,
            cipher,
        }
    }

    pub fn not_offered(version: ProtocolVersion, evidence: String) -> Self {
        ProtocolResult {
            version,
            offered: Some(false),
            evidence,
            negotiated: None,
            cipher: None,
        }
    }

    pub fn unknown(version: ProtocolVersion, evidence: String) -> Self {
        ProtocolResult {
            version,
            offered: None,
            evidence,
            negotiated: None,
            cipher: None,
        }
    }
}

/// One accepted cipher suite.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct SuiteResult {
    pub protocol: ProtocolVersion,
    /// Upper-case hex, `0xC02F`.
    pub code: String,
    pub iana: String,
    pub openssl: Option<String>,
    pub strength: Strength,
    /// Key exchange as the registry names it (ECDHE, DHE, RSA, any …).
    pub kx: String,
    /// Symmetric key bits.
    pub bits: u16,
    /// Group the server used with it (`x25519`, `ffdhe2048` …), when seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// DH prime size for DHE suites, when seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dh_bits: Option<u32>,
}

impl SuiteResult {
    /// A registry suite accepted in `protocol`; `group` and `dh_bits` are
    /// filled in by whoever saw the key exchange.
    pub fn new(protocol: ProtocolVersion, suite: &crate::registry::CipherSuite) -> Self {
        SuiteResult {
            protocol,
            code: suite.code_hex(),
            iana: suite.iana.clone(),
            openssl: suite.openssl.clone(),
            strength: suite.strength(),
            kx: suite.kx.clone(),
            bits: suite.bits,
            group: None,
            dh_bits: None,
        }
    }
}

/// The server's suite preference for one protocol.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct PreferenceResult {
    pub protocol: ProtocolVersion,
    /// `true`: the server picks by its own order; `false`: it follows the
    /// client's; `null`: too few suites to tell.
    pub server_enforces: Option<bool>,
    /// The server's order as tiers of IANA names, most preferred first; a
    /// tier of several names is an equal-preference group (BoringSSL
    /// `[A|B]`), inside which the client's order decides.
    pub order: Vec<Vec<String>>,
    pub evidence: String,
}

/// One accepted key-exchange group.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct GroupResult {
    pub protocol: ProtocolVersion,
    /// Upper-case hex, `0x11EC`.
    pub code: String,
    pub name: String,
    pub kind: GroupKind,
    /// 1 = most preferred by the server, in the order found.
    pub rank: u32,
    /// How it was seen: `hello_retry_request`, `key_share`, `server_key_exchange`.
    pub via: String,
}

/// A signature scheme the server signed its handshake with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct SignatureResult {
    pub protocol: ProtocolVersion,
    pub code: String,
    pub name: String,
    /// Key type of the certificate that signed (`RSA`, `ECDSA` …), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_type: Option<String>,
}

/// Application protocols (ALPN) the server agrees to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct AlpnResult {
    /// `null` when it could not be tested.
    pub h2: Option<bool>,
    pub http11: Option<bool>,
    pub evidence: String,
}

/// What a client gets for one requested server name.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct CertificateResult {
    /// The server_name sent; `null` for no SNI.
    pub sni: Option<String>,
    /// `requested` (a name the user asked for), `none` (no SNI) or
    /// `unknown` (a name the gateway cannot know).
    pub request: String,
    /// Why no certificate was served (handshake refused), if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    /// Key type the chain was fetched for (`RSA`, `ECDSA`) when the server
    /// serves several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_type: Option<String>,
    pub protocol: Option<ProtocolVersion>,
    /// The chain as presented, leaf first.
    pub chain: Vec<CertificateInfo>,
    /// Trusted against `--ca` or the public roots; `null` when not checked.
    pub trusted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_error: Option<String>,
    /// The leaf is valid for the requested name; `null` without a name.
    pub hostname_match: Option<bool>,
    /// Days until the leaf expires (negative once expired).
    pub days_left: Option<i64>,
    pub ocsp_stapled: bool,
    /// Chain order problems: wrong order, missing or extra certificates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain_problems: Vec<String>,
}

/// One certificate of a chain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct CertificateInfo {
    pub subject: String,
    pub issuer: String,
    /// Upper-case hex.
    pub serial: String,
    pub sans: Vec<String>,
    /// RFC 3339.
    pub not_before: String,
    pub not_after: String,
    pub days_left: i64,
    /// `RSA`, `ECDSA`, `Ed25519` …
    pub key_type: String,
    /// RSA modulus bits or curve size.
    pub key_bits: u32,
    /// `P-256` etc. for EC keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
    pub signature_algorithm: String,
    /// Upper-case hex SHA-256 of the DER.
    pub sha256: String,
    pub self_signed: bool,
    pub is_ca: bool,
}

/// Client-certificate (mutual TLS) behaviour: a handshake without a
/// certificate and, when the server asked for one, one with a certificate
/// from a CA nobody trusts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct MtlsResult {
    /// `true`: refused without a client certificate (after asking for
    /// one); `false`: served without one (optional, or not requested);
    /// `null`: could not be told (see `evidence`).
    pub client_cert_required: Option<bool>,
    /// Whether the server sent a CertificateRequest; `null` when the
    /// handshake did not get far enough to tell.
    pub client_cert_requested: Option<bool>,
    /// The issuer names the CertificateRequest listed as acceptable, e.g.
    /// `O=tlsposture lab, CN=tlsposture lab CA`; often empty (the server
    /// leaves the choice to the client).
    pub acceptable_ca_names: Vec<String>,
    /// One line: what was concluded and why.
    pub evidence: String,
    /// Each handshake made, in order.
    pub probes: Vec<MtlsProbe>,
}

/// One handshake (and request) with one client identity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct MtlsProbe {
    /// `none` (no certificate) or `unknown-ca` (a certificate from a CA
    /// generated for the scan).
    pub identity: String,
    /// `accepted` (an HTTP answer or a clean close), `refused` (a fatal
    /// alert, during or after the handshake) or `error` (timeout, reset,
    /// anything else: see `evidence`).
    pub outcome: String,
    /// The version negotiated, when the handshake got that far.
    pub protocol: Option<ProtocolVersion>,
    /// Status of the HTTP answer, when there was one.
    pub http_status: Option<u16>,
    /// What was seen, e.g. `alert certificate_required after handshake
    /// (TLS1.3)` or `alert handshake_failure during handshake (TLS1.2)`.
    pub evidence: String,
}

/// One authorization probe: a request made with one client identity, what
/// the declared policy says must happen, and what did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct AuthzProbe {
    /// The client identity presented (`--identity` name), or `none`.
    pub identity: String,
    pub method: String,
    pub path: String,
    /// The `Host` header sent.
    pub host: String,
    /// The JWT sent: `none`, `malformed`, `unknown-key`, `expired`, or
    /// `given sha256:…` (a fingerprint, never the token); absent for
    /// requests that are not about JWTs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// `deny` (403 `RBAC: access denied`, or a closed connection for a
    /// TCP server), `allow` (any answer that is not 401/403) or `reject`
    /// (401 from JWT authentication).
    pub expected: String,
    /// HTTP status, when the server answered.
    pub status: Option<u16>,
    /// `answered`, `refused` (TLS alert), `closed` (no answer) or `error`.
    pub outcome: String,
    /// The first bytes of the body (at most 200), lossily decoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_snippet: Option<String>,
    /// `server`, `content-type`, `www-authenticate`, `location` when present.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// `pass`, `fail`, or `error` (no conclusive answer: see `evidence`).
    pub verdict: String,
    /// The rule the probe exercises, e.g. `istio-system/test rules[0]`.
    pub rule: String,
    /// Where that rule is declared (`file:line`).
    pub declared_at: String,
    /// Why the policy expects what it does, then what was seen.
    pub evidence: String,
}

/// One plain-HTTP request to a declared plain-HTTP server, and whether the
/// answer is the declared `httpsRedirect`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct RedirectProbe {
    /// The `Host` header sent (a declared host, or the target's address
    /// for `*`).
    pub host: String,
    pub path: String,
    /// `redirect to https` (`httpsRedirect: true`: 301 or 308 with
    /// `location: https://…`) or `any` (no redirect declared).
    pub expected: String,
    /// HTTP status, when the server answered.
    pub status: Option<u16>,
    /// The `location` header, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// `answered`, `closed` (no answer) or `error`.
    pub outcome: String,
    /// `pass`, `fail`, `error` (no answer), or `note` (nothing declared to
    /// check).
    pub verdict: String,
    /// Where `httpsRedirect` (else the server) is declared (`file:line`).
    pub declared_at: String,
    /// What was seen: status, location, body snippet or why no answer.
    pub evidence: String,
}

/// How bad a finding is; ordered so `>=` compares with `--fail-on`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|v| v.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown severity {s:?} (use info, low, medium, high or critical)")
            })
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One simulated client's handshake with the target: its exact hello from
/// `clients/`, one connection.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct ClientSimulation {
    /// The profile's display name, e.g. `Chrome 131 / Win 11`.
    pub client: String,
    /// browser, mobile, legacy, library, mesh or healthcheck.
    pub category: String,
    /// The client would complete the handshake.
    pub connected: bool,
    /// The version the server chose (also on a failure after its hello).
    pub protocol: Option<ProtocolVersion>,
    /// IANA name of the suite chosen.
    pub cipher: Option<String>,
    /// Key-exchange group: TLS 1.3 key_share / HelloRetryRequest, TLS 1.2
    /// ServerKeyExchange curve, or `DH 2048` for DHE.
    pub group: Option<String>,
    /// The server asked for another key share (HelloRetryRequest) for a
    /// group the client offers: one more round trip, then connected.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hello_retry: bool,
    /// Why the client fails (alert, no shared version / suite / group, a
    /// limit on the certificate or DH size), or a note on a success.
    pub reason: Option<String>,
}

/// One judged problem (or note) about a target.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Finding {
    /// Stable identifier CI rules can match on, e.g. `protocol.tls10_offered`.
    pub id: String,
    pub severity: Severity,
    pub title: String,
    pub expected: serde_json::Value,
    pub observed: serde_json::Value,
    pub evidence: String,
    pub remedy: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Stats {
    pub handshakes: u32,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct Summary {
    pub findings: SeverityCounts,
    pub exit_code: i32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct SeverityCounts {
    pub critical: u32,
    pub high: u32,
    pub medium: u32,
    pub low: u32,
    pub info: u32,
}

impl SeverityCounts {
    pub fn add(&mut self, severity: Severity) {
        *self.slot(severity) += 1;
    }

    pub fn get(&self, severity: Severity) -> u32 {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }

    pub fn total(&self) -> u32 {
        Severity::ALL.iter().map(|s| self.get(*s)).sum()
    }

    fn slot(&mut self, severity: Severity) -> &mut u32 {
        match severity {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
            Severity::Info => &mut self.info,
        }
    }
}
