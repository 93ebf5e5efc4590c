//! The report as data: the serde types every renderer shares and the JSON
//! contract of DESIGN.md. Paths here are what CI scripts read; extend freely,
//! never rename or change a meaning without bumping [`SCHEMA_VERSION`].

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    pub summary: Summary,
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
