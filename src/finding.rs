//! The vocabulary of judgement: a [`Finding`] and its [`Severity`], shared
//! by `verdict` (judging a scan) and `policy::lint` (judging a declaration
//! before any scan), the per-severity counts a summary adds up, and the
//! grade letters `--min-grade` names.
//!
//! Data only: nothing here decides what is a finding.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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

/// A grade letter (SSL Labs rating guide 2009r), best first: the
/// vocabulary of `--min-grade` (a plan input) and of `verdict::grade`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Letter {
    #[serde(rename = "A+")]
    APlus,
    A,
    #[serde(rename = "A-")]
    AMinus,
    B,
    C,
    D,
    E,
    F,
    /// Certificate not trusted (no cap can raise it).
    T,
    /// Certificate name mismatch.
    M,
}

impl Letter {
    pub const ALL: [Letter; 10] = [
        Letter::APlus,
        Letter::A,
        Letter::AMinus,
        Letter::B,
        Letter::C,
        Letter::D,
        Letter::E,
        Letter::F,
        Letter::T,
        Letter::M,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Letter::APlus => "A+",
            Letter::A => "A",
            Letter::AMinus => "A-",
            Letter::B => "B",
            Letter::C => "C",
            Letter::D => "D",
            Letter::E => "E",
            Letter::F => "F",
            Letter::T => "T",
            Letter::M => "M",
        }
    }

    /// Higher is better: A+ 9 … F 2, T 1, M 0. `--min-grade` compares
    /// these, so T and M fail any minimum.
    pub fn rank(self) -> u8 {
        match self {
            Letter::APlus => 9,
            Letter::A => 8,
            Letter::AMinus => 7,
            Letter::B => 6,
            Letter::C => 5,
            Letter::D => 4,
            Letter::E => 3,
            Letter::F => 2,
            Letter::T => 1,
            Letter::M => 0,
        }
    }

    /// `A+`, `a-`, `B` …
    pub fn parse(text: &str) -> Result<Letter, String> {
        let t = text.trim();
        Letter::ALL
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(t))
            .ok_or_else(|| format!("unknown grade {text:?} (use A+, A, A-, B, C, D, E, F, T or M)"))
    }
}

impl std::fmt::Display for Letter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
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
    /// The declared YAML setting the finding is about, when it comes from
    /// one: what SARIF annotates and CI links to. Absent for posture
    /// findings that no file declares (a weak suite the server offers on
    /// its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<FindingLocation>,
}

/// Where in a declared file the setting behind a finding is written.
// Its own type rather than `policy::Origin` so that `finding` stays the
// first stop of the flow (it imports nothing); `policy` converts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Hash, JsonSchema)]
pub struct FindingLocation {
    /// The file as given on the command line (`--policy`).
    pub file: String,
    /// 1-based line of the field, or of its server entry when the field
    /// is not written (then `field` names the one to add).
    pub line: usize,
    /// 1-based column, likewise.
    pub column: usize,
    /// The field path inside its document, e.g.
    /// `spec.servers[0].tls.minProtocolVersion`: stable where the line is
    /// not (editing above it moves the line).
    pub field: String,
}

impl std::fmt::Display for FindingLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, " ({})", self.field)?;
        }
        Ok(())
    }
}

impl Finding {
    /// Most severe first, then by id: the one order every report uses.
    pub fn sort(findings: &mut [Finding]) {
        findings.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
    }
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
