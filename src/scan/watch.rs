//! The core of `tlsposture watch`: which certificate a gateway serves right
//! now for one name. One full handshake per call, no state: the CLI polls
//! and compares fingerprints to catch an SDS rotation the moment it lands.

use std::net::SocketAddr;

use time::OffsetDateTime;

use crate::cert;
use crate::probe::{self, ProbeTimeouts};
use crate::tls_client::{record_handshake, HandshakeOptions};

/// The served leaf, reduced to what a rotation changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedCert {
    pub sni: Option<String>,
    /// Upper-case hex SHA-256 of the leaf's DER.
    pub sha256: String,
    pub subject: String,
    /// RFC 3339.
    pub not_after: String,
}

/// Connects to `addr`, handshakes (TLS 1.2 or 1.3, `sni` or none) and
/// describes the leaf.
///
/// # Errors
/// A sentence: connection refused or timed out, handshake refused, no
/// certificate, or a leaf that does not parse.
pub async fn fetch_served(
    addr: SocketAddr,
    sni: Option<&str>,
    timeouts: ProbeTimeouts,
) -> Result<ServedCert, String> {
    let stream = probe::connect(addr, timeouts.connect)
        .await
        .map_err(|e| e.to_string())?;
    let opts = HandshakeOptions {
        sni: sni.map(str::to_owned),
        ..HandshakeOptions::default()
    };
    let record = match record_handshake(stream, &opts, timeouts.read).await {
        Ok(record) => record,
        // A client-certificate refusal after the server's Certificate
        // still shows which certificate is served.
        Err(e) => match e.seen() {
            Some(seen) if !seen.chain.is_empty() => seen.clone(),
            _ => return Err(e.to_string()),
        },
    };
    let leaf = record
        .chain
        .first()
        .ok_or_else(|| "the server sent no certificate".to_owned())?;
    let info = cert::describe(leaf, OffsetDateTime::now_utc()).map_err(|e| e.to_string())?;
    Ok(ServedCert {
        sni: sni.map(str::to_owned),
        sha256: info.sha256,
        subject: info.subject,
        not_after: info.not_after,
    })
}
