//! The vulnerability battery's active probes (the checks that need hellos
//! or requests of their own); the checks derived from what enumeration saw
//! are `verdict::vulns`' call.
//!
//! CONTRACT SKELETON: the vulns helper owns this file.

use crate::observe::{ProtocolResult, SuiteResult, Vulnerability};
use crate::wire::ProtocolVersion;

use super::Prober;

/// What the battery may reuse of the scan so far.
#[derive(Debug, Clone, Copy)]
pub struct VulnContext<'a> {
    /// The server_name to send; `None` sends no SNI.
    pub sni: Option<&'a str>,
    /// The Host of the HTTP probes (BREACH, Opossum).
    pub host: &'a str,
    pub offered: &'a [ProtocolVersion],
    /// The protocol scan's results.
    pub protocols: &'a [ProtocolResult],
    /// Every suite enumeration found (the `vulns` check turns `suites` on).
    pub suites: &'a [SuiteResult],
}

/// The active checks, each a [`Vulnerability`] (the derived ones are left
/// to `verdict::vulns::assess`).
pub async fn probe_vulnerabilities(prober: &Prober, cx: &VulnContext<'_>) -> Vec<Vulnerability> {
    let _ = (prober, cx);
    Vec::new()
}
