//! The vulnerability battery's results: one entry per check, with what was
//! sent and what came back. The ids and status names are a contract
//! (`targets[].vulnerabilities[]` in the JSON report): scripts match on them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A check of the battery; the serde names are the report's ids.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum VulnId {
    Heartbleed,
    CcsInjection,
    Ticketbleed,
    Robot,
    SecureRenegotiation,
    ClientRenegotiation,
    Crime,
    Breach,
    PoodleSsl,
    FallbackScsv,
    Sweet32,
    Freak,
    Logjam,
    Drown,
    Beast,
    Lucky13,
    Rc4,
    Opossum,
}

impl VulnId {
    /// Every check, in the order reports list them (testssl.sh's order).
    pub const ALL: [VulnId; 18] = [
        VulnId::Heartbleed,
        VulnId::CcsInjection,
        VulnId::Ticketbleed,
        VulnId::Robot,
        VulnId::SecureRenegotiation,
        VulnId::ClientRenegotiation,
        VulnId::Crime,
        VulnId::Breach,
        VulnId::PoodleSsl,
        VulnId::FallbackScsv,
        VulnId::Sweet32,
        VulnId::Freak,
        VulnId::Logjam,
        VulnId::Drown,
        VulnId::Beast,
        VulnId::Lucky13,
        VulnId::Rc4,
        VulnId::Opossum,
    ];

    /// The report id (`ccs_injection`).
    pub fn name(self) -> &'static str {
        match self {
            VulnId::Heartbleed => "heartbleed",
            VulnId::CcsInjection => "ccs_injection",
            VulnId::Ticketbleed => "ticketbleed",
            VulnId::Robot => "robot",
            VulnId::SecureRenegotiation => "secure_renegotiation",
            VulnId::ClientRenegotiation => "client_renegotiation",
            VulnId::Crime => "crime",
            VulnId::Breach => "breach",
            VulnId::PoodleSsl => "poodle_ssl",
            VulnId::FallbackScsv => "fallback_scsv",
            VulnId::Sweet32 => "sweet32",
            VulnId::Freak => "freak",
            VulnId::Logjam => "logjam",
            VulnId::Drown => "drown",
            VulnId::Beast => "beast",
            VulnId::Lucky13 => "lucky13",
            VulnId::Rc4 => "rc4",
            VulnId::Opossum => "opossum",
        }
    }
}

impl std::fmt::Display for VulnId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// The answer of one check. `Unknown` is a check that could not be done
/// (the reason is in the evidence), never a clean result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum VulnStatus {
    NotVulnerable,
    Vulnerable,
    /// The check cannot apply to this target (e.g. ROBOT without RSA key
    /// transport, TLS_FALLBACK_SCSV with a single protocol version).
    NotApplicable,
    Unknown,
}

impl VulnStatus {
    pub fn name(self) -> &'static str {
        match self {
            VulnStatus::NotVulnerable => "not_vulnerable",
            VulnStatus::Vulnerable => "vulnerable",
            VulnStatus::NotApplicable => "not_applicable",
            VulnStatus::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for VulnStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// One check's result: what was sent and what came back, in `evidence`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Vulnerability {
    pub id: VulnId,
    pub status: VulnStatus,
    pub evidence: String,
}

impl Vulnerability {
    pub fn new(id: VulnId, status: VulnStatus, evidence: impl Into<String>) -> Self {
        Vulnerability {
            id,
            status,
            evidence: evidence.into(),
        }
    }
}
