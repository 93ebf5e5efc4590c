//! Session and extension probes (see `observe::SessionFacts`).
//!
//! CONTRACT SKELETON: the session helper owns this file.

use crate::observe::SessionFacts;
use crate::wire::ProtocolVersion;

use super::Prober;

/// Resumption, EMS, certificate compression, 0-RTT and PQ preference.
pub async fn probe_session(
    prober: &Prober,
    sni: Option<&str>,
    offered: &[ProtocolVersion],
) -> SessionFacts {
    let _ = (prober, sni, offered);
    SessionFacts::default()
}
