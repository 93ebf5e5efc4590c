//! The SSL Labs grade (rating guide 2009r, as testssl.sh's `run_rating`
//! implements it; anchors-2 §2), with every cap and warning and the rule
//! that applied.
//!
//! The type names and the serde names of `Grade` (`grade`, `score`,
//! `caps[{grade, reason}]`, `warnings`) are the report contract; the other
//! fields are additions.
//!
//! Inputs and what happens without them: the rating needs the protocols,
//! the suites, the certificates and the vulnerability battery (testssl.sh's
//! `set_rating_state` disables its rating without them), so without any of
//! these [`grade`] returns why instead of a grade. The client simulation
//! and the HTTP headers are optional: without the simulation the FS, AEAD
//! and 3DES caps fall back to testssl.sh's "offered at all" reading, and
//! without HSTS the best grade is A; both say so in `basis`/`not_checked`.
//! A battery check that came back `unknown` (or is missing) caps nothing
//! and is listed in `not_checked`: the grade is then an upper bound.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

mod assess;
mod rules;
pub mod score;

use crate::observe::{TargetObservation, Vulnerability};

use super::ClientSimulation;

pub use crate::finding::Letter;

/// One cap on the grade, why it applies and the rule that says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GradeCap {
    pub grade: Letter,
    pub reason: String,
    /// The rating-guide revision or Qualys announcement, and the
    /// testssl.sh line, the cap comes from.
    #[serde(default)]
    pub rule: String,
}

/// One warning (an A with warnings is an A-) and its rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GradeWarning {
    pub reason: String,
    #[serde(default)]
    pub rule: String,
}

impl std::fmt::Display for GradeWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// The target's grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Grade {
    pub grade: Letter,
    /// The weighted total, 0–100; `None` when a certificate pre-check (T,
    /// M) decides the grade and no score is computed.
    pub score: Option<u32>,
    pub caps: Vec<GradeCap>,
    pub warnings: Vec<GradeWarning>,
    /// Category 1, 0–100 before weighting (30 %).
    pub protocol_score: u32,
    /// Category 2, 0–100 before weighting (30 %).
    pub key_exchange_score: u32,
    /// Category 3, 0–100 before weighting (40 %).
    pub cipher_score: u32,
    /// What the certificate chain was trusted by: `public roots`, or the
    /// `--ca` file (a private mesh CA is trusted, not "T").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_by: Option<String>,
    /// How a rule was decided where the guide leaves a choice (client
    /// simulation or offered suites, HSTS), and the score's inputs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub basis: Vec<String>,
    /// Rules that could not be evaluated (a check that did not run or came
    /// back unknown): the grade is the best it can be without them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_checked: Vec<String>,
}

/// The grade of one target, or why it cannot be graded (a check the
/// rating needs did not run or could not be done).
pub fn grade(
    observed: &TargetObservation,
    simulations: &[ClientSimulation],
    vulnerabilities: &[Vulnerability],
    trust_anchor: Option<&str>,
) -> Result<Grade, String> {
    assess::grade(observed, simulations, vulnerabilities, trust_anchor)
}
