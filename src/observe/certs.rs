//! The certificate chain served per requested name, as fetched.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::wire::ProtocolVersion;

/// What a client gets for one requested server name.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct CertificateResult {
    /// The server_name sent; `null` for no SNI.
    pub sni: Option<String>,
    /// Which kind of name was sent.
    pub request: CertRequest,
    /// Why no certificate was served (handshake refused), if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    /// Why the certificate could not be read although the server did not
    /// refuse (our TLS stack gave up on what it sent, or no answer in
    /// time), if so: not known, rather than not served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
    /// How the chain was read when the usual full handshake could not
    /// read it (a raw TLS 1.2 flight), if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_via: Option<String>,
    /// Key type the chain was fetched for (`RSA`, `ECDSA`) when the server
    /// serves several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_type: Option<String>,
    pub protocol: Option<ProtocolVersion>,
    /// The chain as presented, leaf first.
    pub chain: Vec<CertificateInfo>,
    /// Trusted against `--ca` or the public roots; `null` when not checked.
    pub trusted: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_error: Option<String>,
    /// The leaf is valid for the requested name; `null` without a name.
    pub hostname_match: Option<bool>,
    /// Days until the leaf expires (negative once expired).
    pub days_left: Option<i64>,
    pub ocsp_stapled: bool,
    /// Chain order problems: wrong order, missing or extra certificates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain_problems: Vec<String>,
}

/// One certificate of a chain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct CertificateInfo {
    pub subject: String,
    pub issuer: String,
    /// Upper-case hex.
    pub serial: String,
    pub sans: Vec<String>,
    /// RFC 3339.
    pub not_before: String,
    pub not_after: String,
    pub days_left: i64,
    /// `RSA`, `ECDSA`, `Ed25519` …
    pub key_type: String,
    /// RSA modulus bits or curve size.
    pub key_bits: u32,
    /// `P-256` etc. for EC keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
    pub signature_algorithm: String,
    /// Upper-case hex SHA-256 of the DER.
    pub sha256: String,
    pub self_signed: bool,
    pub is_ca: bool,
}

/// Which kind of server name a certificate was fetched with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CertRequest {
    /// A name the user asked for (or the policy declares).
    Requested,
    /// No SNI at all.
    None,
    /// A name the gateway cannot know (`.invalid`): default-certificate
    /// exposure.
    Unknown,
}

impl CertRequest {
    pub fn name(self) -> &'static str {
        match self {
            CertRequest::Requested => "requested",
            CertRequest::None => "none",
            CertRequest::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for CertRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}
