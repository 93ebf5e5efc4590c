//! Client-certificate (mutual TLS) handshakes, as made.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Identity;
use crate::wire::ProtocolVersion;

/// Client-certificate (mutual TLS) behaviour: a handshake without a
/// certificate and, when the server asked for one, one with a certificate
/// from a CA nobody trusts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct MtlsResult {
    /// `true`: refused without a client certificate (after asking for
    /// one); `false`: served without one (optional, or not requested);
    /// `null`: could not be told (see `evidence`).
    pub client_cert_required: Option<bool>,
    /// Whether the server sent a CertificateRequest; `null` when the
    /// handshake did not get far enough to tell.
    pub client_cert_requested: Option<bool>,
    /// The issuer names the CertificateRequest listed as acceptable, e.g.
    /// `O=tlsposture lab, CN=tlsposture lab CA`; often empty (the server
    /// leaves the choice to the client).
    pub acceptable_ca_names: Vec<String>,
    /// Set when the certificate is required by the HTTP layer rather than
    /// the handshake: the handshake completes without one and the answer
    /// refuses the request for it (nginx `ssl_verify_client on`: `400 No
    /// required SSL certificate was sent`). Holds that answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_by_http: Option<String>,
    /// One line: what was concluded and why.
    pub evidence: String,
    /// Each handshake made, in order.
    pub probes: Vec<MtlsProbe>,
}

/// One handshake (and request) with one client identity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct MtlsProbe {
    /// Who the client presented itself as.
    pub identity: Identity,
    pub outcome: MtlsOutcome,
    /// The version negotiated, when the handshake got that far.
    pub protocol: Option<ProtocolVersion>,
    /// Status of the HTTP answer, when there was one.
    pub http_status: Option<u16>,
    /// What was seen, e.g. `alert certificate_required after handshake
    /// (TLS1.3)` or `alert handshake_failure during handshake (TLS1.2)`.
    pub evidence: String,
}

/// How one mTLS handshake (and its request) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MtlsOutcome {
    /// An HTTP answer, or a clean close after the handshake.
    Accepted,
    /// A fatal alert, during or after the handshake.
    Refused,
    /// Timeout, reset, anything else (see `evidence`).
    Error,
}

impl MtlsOutcome {
    pub fn name(self) -> &'static str {
        match self {
            MtlsOutcome::Accepted => "accepted",
            MtlsOutcome::Refused => "refused",
            MtlsOutcome::Error => "error",
        }
    }
}

impl std::fmt::Display for MtlsOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}
