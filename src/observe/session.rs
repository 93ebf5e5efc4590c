//! Session and extension facts: resumption (TLS 1.2 session IDs and
//! tickets, TLS 1.3 PSK, across several connections), extended master
//! secret, certificate compression, 0-RTT, and whether the server prefers
//! a post-quantum group it was offered without a key share.
//!
//! Every fact is an answer with its evidence; `unknown` when the probe
//! could not tell (never a silent "no"), `not_applicable` when the
//! question does not arise (no TLS 1.2 for session IDs, no TLS 1.3 for
//! PSK). Nothing here judges: a gateway without session IDs is not worse
//! for it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Yes,
    No,
    NotApplicable,
    #[default]
    Unknown,
}

impl Answer {
    pub fn name(self) -> &'static str {
        match self {
            Answer::Yes => "yes",
            Answer::No => "no",
            Answer::NotApplicable => "n/a",
            Answer::Unknown => "unknown",
        }
    }

    pub fn from_bool(b: bool) -> Answer {
        if b {
            Answer::Yes
        } else {
            Answer::No
        }
    }
}

/// An answer and what it was read from (what was sent, what came back).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Fact {
    pub answer: Answer,
    pub evidence: String,
}

impl Fact {
    pub fn new(answer: Answer, evidence: impl Into<String>) -> Fact {
        Fact {
            answer,
            evidence: evidence.into(),
        }
    }

    pub fn not_applicable(why: impl Into<String>) -> Fact {
        Fact::new(Answer::NotApplicable, why)
    }

    pub fn unknown(why: impl Into<String>) -> Fact {
        Fact::new(Answer::Unknown, why)
    }
}

/// One resumption mechanism: whether the server hands out what resumes
/// (a session ID, a ticket), whether it accepts it back, and how many of
/// several attempts on new connections resumed. Behind one address a
/// gateway may be several replicas; a session one replica issued resumes
/// on another only when they share a cache or ticket keys, so the ratio
/// (`4/4`, `1/4`) says whether clients keep the benefit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Resumption {
    /// The server issued an ID / a ticket on a full handshake.
    pub issued: Fact,
    /// A new connection presenting it resumed (an abbreviated handshake).
    pub accepted: Fact,
    /// Resumption attempts made (each on a new TCP connection).
    pub attempts: u32,
    /// Of those, how many resumed.
    pub resumed: u32,
}

impl Resumption {
    /// `3/4 resumed`, or `None` when no attempt was made.
    pub fn ratio(&self) -> Option<String> {
        (self.attempts > 0).then(|| format!("{}/{} resumed", self.resumed, self.attempts))
    }

    pub fn not_applicable(why: &str) -> Resumption {
        Resumption {
            issued: Fact::not_applicable(why),
            accepted: Fact::not_applicable(why),
            attempts: 0,
            resumed: 0,
        }
    }
}

/// TLS 1.3 0-RTT.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EarlyData {
    /// The server's tickets allow early data (max_early_data_size > 0).
    pub offered: Fact,
    /// The ticket's max_early_data_size, when a ticket was seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_early_data_size: Option<u32>,
    /// Early data sent on a resumption was accepted.
    pub accepted: Fact,
}

/// What the session probes saw of one target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SessionFacts {
    /// TLS 1.2 resumption by session ID (RFC 5246 7.4.1.2).
    pub session_id: Resumption,
    /// TLS 1.2 resumption by session ticket (RFC 5077).
    pub session_ticket: Resumption,
    /// TLS 1.3 resumption by PSK from a NewSessionTicket (RFC 8446 2.2).
    pub tls13_psk: Resumption,
    /// The server echoed extended_master_secret (RFC 7627) in a TLS 1.2
    /// ServerHello.
    pub extended_master_secret: Fact,
    /// The server compressed its certificate (RFC 8879) when offered
    /// zlib, brotli and zstd in a TLS 1.3 hello.
    pub certificate_compression: Fact,
    /// The algorithm it compressed with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_compression_algorithm: Option<String>,
    pub early_data: EarlyData,
    /// Offered X25519MLKEM768 in supported_groups with a key share for
    /// X25519 only, the server asked for ML-KEM (HelloRetryRequest):
    /// `yes`; it took X25519: `no` (when it supports ML-KEM at all).
    pub pq_preference: Fact,
    /// Connections the session probes made.
    pub handshakes: u32,
}
