//! The SSL Labs grade (rating guide 2009r, as testssl.sh's `run_rating`
//! implements it; anchors-2 §2), with every cap and warning and the rule
//! that applied.
//!
//! CONTRACT SKELETON: the grade helper owns this file. The type names and
//! the serde names of `Grade` (`grade`, `score`, `caps[{grade, reason}]`,
//! `warnings`) are the report contract.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::observe::{TargetObservation, Vulnerability};

use super::ClientSimulation;

/// A grade letter, best first.
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

/// One cap on the grade and why it applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GradeCap {
    pub grade: Letter,
    pub reason: String,
}

/// The target's grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Grade {
    pub grade: Letter,
    /// The weighted total, 0–100; `None` when a certificate pre-check (T,
    /// M) decides the grade and no score is computed.
    pub score: Option<u32>,
    pub caps: Vec<GradeCap>,
    pub warnings: Vec<String>,
}

/// The grade of one target, or why it cannot be graded (a check the
/// rating needs did not run or could not be done).
pub fn grade(
    observed: &TargetObservation,
    simulations: &[ClientSimulation],
    vulnerabilities: &[Vulnerability],
    trust_anchor: Option<&str>,
) -> Result<Grade, String> {
    let _ = (observed, simulations, vulnerabilities, trust_anchor);
    Err("not graded yet".to_owned())
}
