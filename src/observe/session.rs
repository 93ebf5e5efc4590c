//! Session and extension facts: resumption (TLS 1.2 session IDs and
//! tickets, TLS 1.3 PSK, across several connections), extended master
//! secret, certificate compression, 0-RTT, and whether the server prefers
//! a post-quantum group it was offered without a key share.
//!
//! CONTRACT SKELETON: the session helper owns this file and fills it in.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What the session probes saw of one target.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SessionFacts {}
