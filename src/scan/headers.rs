//! HTTP security headers per host (see `observe::HeaderProbe`).
//!
//! CONTRACT SKELETON: the session/headers helper owns this file.

use crate::observe::HeaderProbe;

use super::Prober;

/// GET `/` and a random path on `host` over TLS (SNI `sni`), with the
/// headers of each answer.
pub async fn probe_headers(prober: &Prober, sni: Option<&str>, host: &str) -> Vec<HeaderProbe> {
    let _ = (prober, sni, host);
    Vec::new()
}
