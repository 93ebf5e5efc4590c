//! One simulated client's handshake: the profile's exact hello was sent
//! once, and these are the facts of the server's answer that the client's
//! own decision depends on. Whether that client would have connected is
//! `verdict::clients`' call.

use super::CertificateInfo;
use crate::clients::ClientProfile;
use crate::wire::AlertDescription;

/// A profile and what its hello got.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientHandshake {
    pub profile: &'static ClientProfile,
    pub outcome: ClientOutcome,
}

/// How the server answered one client's hello.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientOutcome {
    /// No answer like TLS: connection failure, reset, timeout, garbage
    /// (the probe's own description).
    Failed(String),
    /// A fatal alert instead of a ServerHello.
    Alert(AlertDescription),
    /// The flight ended before a ServerHello could be read.
    Incomplete,
    /// A ServerHello (and, in TLS ≤ 1.2, the rest of the flight).
    Answered(Box<ClientAnswer>),
}

/// The facts of a server flight a client checks.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientAnswer {
    /// The version chosen, as on the wire (`supported_versions` for 1.3).
    pub version: u16,
    pub suite: u16,
    /// TLS 1.3: the key share group (or the one a HelloRetryRequest asked for).
    pub key_share_group: Option<u16>,
    /// The answer was a HelloRetryRequest.
    pub hello_retry: bool,
    /// TLS ≤ 1.2: the leaf certificate of the Certificate message, parsed.
    pub leaf: Option<CertificateInfo>,
    /// TLS ≤ 1.2: what the ServerKeyExchange showed.
    pub key_exchange: Option<KeyExchangeSeen>,
    /// An alert that followed the server's hello flight.
    pub trailing_alert: Option<AlertDescription>,
    /// The flight held a CertificateRequest.
    pub certificate_requested: bool,
}

/// The key exchange of a TLS ≤ 1.2 ServerKeyExchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyExchangeSeen {
    Ecdhe {
        group: u16,
        signature_scheme: Option<u16>,
    },
    Dhe {
        prime_bits: u32,
    },
}
