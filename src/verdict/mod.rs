//! Judging: observations in, findings out, and the exit code they add up
//! to. No I/O and no rendering.
//!
//! Severities are the tool's contract with CI: SSLv2/SSLv3 offered is
//! critical (DROWN, POODLE), TLS 1.0/1.1 medium (RFC 8996 deprecates them),
//! no TLS 1.2 or 1.3 at all high, TLS 1.3 missing info; suites and
//! certificates have their own tables in `suites` and `certificates`.

pub mod authz;
pub mod baseline;
mod certificates;
pub mod clients;
pub mod policy;
mod protocols;
pub mod redirect;
mod suites;

pub use certificates::certificate_findings;
pub use protocols::protocol_findings;
pub use suites::suite_findings;

use crate::report::model::{Severity, Summary, TargetReport};

/// Exit codes of the CI contract (DESIGN.md).
pub mod exit {
    /// Scanned; no finding at or above `--fail-on`.
    pub const CLEAN: i32 = 0;
    /// Scanned; at least one finding at or above `--fail-on`.
    pub const FINDINGS: i32 = 1;
    /// Could not scan (unreachable, DNS, not TLS, no answer).
    pub const UNSCANNABLE: i32 = 2;
    /// Usage error or invalid input file.
    pub const USAGE: i32 = 64;
}

/// Adds every finding the observations support to a scanned target.
pub fn judge(target: &mut TargetReport) {
    if target.error.is_some() {
        return;
    }
    target.findings = protocol_findings(&target.protocols);
    target
        .findings
        .extend(suite_findings(&target.cipher_suites));
    target
        .findings
        .extend(certificate_findings(&target.certificates));
    target
        .findings
        .sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
}

/// Counts findings and decides the exit code: 2 if any target could not be
/// scanned (never reported as compliant), else 1 if any finding is at or
/// above `fail_on`, else 0.
pub fn summarize(targets: &[TargetReport], fail_on: Severity) -> Summary {
    let mut summary = Summary::default();
    let mut failing = false;
    for finding in targets.iter().flat_map(|t| &t.findings) {
        summary.findings.add(finding.severity);
        failing |= finding.severity >= fail_on;
    }
    summary.exit_code = if targets.is_empty() || targets.iter().any(|t| t.error.is_some()) {
        exit::UNSCANNABLE
    } else if failing {
        exit::FINDINGS
    } else {
        exit::CLEAN
    };
    summary
}
