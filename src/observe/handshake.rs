//! Protocol versions, cipher suites and their order, groups, signature
//! schemes and ALPN, as the raw handshakes saw them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::registry::{GroupKind, Strength};
use crate::wire::ProtocolVersion;

/// Whether one protocol version is offered, and what showed it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct ProtocolResult {
    pub version: ProtocolVersion,
    /// `true` offered, `false` not offered, `null` could not be determined.
    pub offered: Option<bool>,
    /// What the probe saw: negotiated version and suite, alert name, reset…
    pub evidence: String,
    /// The version the server answered with, when it answered at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negotiated: Option<ProtocolVersion>,
    /// The suite the server picked from the broad offer (IANA name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cipher: Option<String>,
    /// Set when only a compact hello got this version's answer: the broad
    /// hello (every suite, group and signature scheme) was refused in a way
    /// that shows intolerance of its size or shape, not of the version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

impl ProtocolResult {
    pub fn offered(
        version: ProtocolVersion,
        evidence: String,
        negotiated: Option<ProtocolVersion>,
        cipher: Option<String>,
    ) -> Self {
        ProtocolResult {
            version,
            offered: Some(true),
            evidence,
            negotiated,
            cipher,
            fallback: None,
        }
    }

    pub fn not_offered(version: ProtocolVersion, evidence: String) -> Self {
        ProtocolResult {
            version,
            offered: Some(false),
            evidence,
            negotiated: None,
            cipher: None,
            fallback: None,
        }
    }

    pub fn unknown(version: ProtocolVersion, evidence: String) -> Self {
        ProtocolResult {
            version,
            offered: None,
            evidence,
            negotiated: None,
            cipher: None,
            fallback: None,
        }
    }
}

/// One accepted cipher suite.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct SuiteResult {
    pub protocol: ProtocolVersion,
    /// The IANA code point (`0xC02F` in JSON), or the 24-bit SSLv2 cipher
    /// kind (`0x010080`).
    #[serde(with = "super::code::suite")]
    #[schemars(with = "String")]
    pub code: u32,
    pub iana: String,
    pub openssl: Option<String>,
    pub strength: Strength,
    /// Key exchange as the registry names it (ECDHE, DHE, RSA, any …).
    pub kx: String,
    /// Symmetric key bits.
    pub bits: u16,
    /// Group the server used with it (`x25519`, `ffdhe2048` …), when seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// DH prime size for DHE suites, when seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dh_bits: Option<u32>,
}

impl SuiteResult {
    /// A registry suite accepted in `protocol`; `group` and `dh_bits` are
    /// filled in by whoever saw the key exchange.
    pub fn new(protocol: ProtocolVersion, suite: &crate::registry::CipherSuite) -> Self {
        SuiteResult {
            protocol,
            code: u32::from(suite.code),
            iana: suite.iana.clone(),
            openssl: suite.openssl.clone(),
            strength: suite.strength(),
            kx: suite.kx.clone(),
            bits: suite.bits,
            group: None,
            dh_bits: None,
        }
    }
}

impl SuiteResult {
    /// The 16-bit IANA code; `None` for an SSLv2 cipher kind.
    pub fn iana_code(&self) -> Option<u16> {
        u16::try_from(self.code).ok()
    }

    /// The registry's entry for this suite; `None` for an SSLv2 cipher
    /// kind or a code the registry does not know.
    pub fn registry_entry(&self) -> Option<&'static crate::registry::CipherSuite> {
        self.iana_code().and_then(crate::registry::cipher_suite)
    }
}

/// The server's suite preference for one protocol.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct PreferenceResult {
    pub protocol: ProtocolVersion,
    /// `true`: the server picks by its own order; `false`: it follows the
    /// client's; `null`: too few suites to tell.
    pub server_enforces: Option<bool>,
    /// The server's order as tiers of IANA names, most preferred first; a
    /// tier of several names is an equal-preference group (BoringSSL
    /// `[A|B]`), inside which the client's order decides.
    pub order: Vec<Vec<String>>,
    pub evidence: String,
}

/// One accepted key-exchange group.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct GroupResult {
    pub protocol: ProtocolVersion,
    /// The IANA code point (`0x11EC` in JSON).
    #[serde(with = "super::code")]
    #[schemars(with = "String")]
    pub code: u16,
    pub name: String,
    pub kind: GroupKind,
    /// 1 = most preferred by the server, in the order found.
    pub rank: u32,
    /// How it was seen.
    pub via: GroupVia,
}

/// A signature scheme the server signed its handshake with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct SignatureResult {
    pub protocol: ProtocolVersion,
    /// The IANA code point (`0x0804` in JSON).
    #[serde(with = "super::code")]
    #[schemars(with = "String")]
    pub code: u16,
    pub name: String,
    /// Key type of the certificate that signed (`RSA`, `ECDSA` …), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_type: Option<String>,
}

/// Application protocols (ALPN) the server agrees to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct AlpnResult {
    /// `null` when it could not be tested.
    pub h2: Option<bool>,
    pub http11: Option<bool>,
    pub evidence: String,
}

/// Which server message showed a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupVia {
    /// TLS 1.3: the group a HelloRetryRequest asked for.
    HelloRetryRequest,
    /// TLS 1.3: the server's key share.
    KeyShare,
    /// TLS ≤ 1.2: the curve of the ServerKeyExchange.
    ServerKeyExchange,
}

impl GroupVia {
    pub fn name(self) -> &'static str {
        match self {
            GroupVia::HelloRetryRequest => "hello_retry_request",
            GroupVia::KeyShare => "key_share",
            GroupVia::ServerKeyExchange => "server_key_exchange",
        }
    }
}

impl std::fmt::Display for GroupVia {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}
