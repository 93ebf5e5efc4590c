//! The vulnerability battery's verdicts: the active probes' results
//! (`observe::TargetObservation::vulnerabilities`) completed with the
//! checks derived from enumeration (POODLE, SWEET32, FREAK, LOGJAM, DROWN,
//! BEAST, LUCKY13, RC4), in [`VulnId::ALL`] order, and a `vuln.*` finding
//! per vulnerable check.
//!
//! CONTRACT SKELETON: the vulns helper owns this file.

use crate::finding::Finding;
use crate::observe::{TargetObservation, Vulnerability};

/// Every check of the battery, in [`crate::observe::VulnId::ALL`] order;
/// empty when the `vulns` check did not run
/// (`observed.vulnerabilities` is `None`).
pub fn assess(observed: &TargetObservation) -> Vec<Vulnerability> {
    observed.vulnerabilities.clone().unwrap_or_default()
}

/// One `vuln.<id>` finding per vulnerable check.
pub fn findings(vulnerabilities: &[Vulnerability]) -> Vec<Finding> {
    let _ = vulnerabilities;
    Vec::new()
}
