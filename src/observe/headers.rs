//! HTTP response headers of the target, per host and path: HSTS parsed,
//! the server banner, the security headers.
//!
//! CONTRACT SKELETON: the session/headers helper owns this file and fills
//! it in; `Hsts` and the listed `HeaderProbe` fields are the contract the
//! grade reads.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A Strict-Transport-Security header, parsed (RFC 6797).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Hsts {
    /// The header as sent.
    pub raw: String,
    /// `max-age` in seconds; `None` when missing or not a number.
    pub max_age: Option<u64>,
    pub include_subdomains: bool,
    pub preload: bool,
    /// What is wrong with it (missing or invalid max-age, duplicates …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// One HTTP request over TLS and the headers its answer carried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HeaderProbe {
    /// The Host asked for.
    pub host: String,
    pub path: String,
    /// The answer's status; `None` when there was no HTTP answer.
    pub status: Option<u16>,
    /// Why there was no answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `None`: no Strict-Transport-Security header.
    pub hsts: Option<Hsts>,
}
