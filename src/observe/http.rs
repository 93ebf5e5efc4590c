//! HTTP requests made over the scanner's own TLS session (authorization and
//! JWT probes) or over plain TCP (the `httpsRedirect` check), with what the
//! plan expected of each and what came back. Whether the answer is what
//! was expected is `verdict`'s call.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Identity;

/// How an HTTP exchange ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HttpAnswer {
    /// The server answered (see the status).
    Answered,
    /// A fatal TLS alert, during the handshake or on the first read.
    Refused,
    /// The connection closed without an answer.
    Closed,
    /// Timeout or another failure.
    Error,
}

impl HttpAnswer {
    pub fn name(self) -> &'static str {
        match self {
            HttpAnswer::Answered => "answered",
            HttpAnswer::Refused => "refused",
            HttpAnswer::Closed => "closed",
            HttpAnswer::Error => "error",
        }
    }
}

impl std::fmt::Display for HttpAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// What the declared policy says must happen to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Expected {
    /// 403 `RBAC: access denied` (or a closed connection for a TCP server).
    Deny,
    /// Any answer that is not 401/403.
    Allow,
    /// 401 from JWT authentication.
    Reject,
}

impl Expected {
    pub fn name(self) -> &'static str {
        match self {
            Expected::Deny => "deny",
            Expected::Allow => "allow",
            Expected::Reject => "reject",
        }
    }
}

impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// One authorization (or JWT) request: what the plan sent and expected,
/// and what came back.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct AuthzRequest {
    /// The client identity presented (`--identity` name), or `none`.
    pub identity: Identity,
    pub method: String,
    pub path: String,
    /// The `Host` header sent.
    pub host: String,
    /// The JWT sent: `none`, `malformed`, `unknown-key`, `expired`, or
    /// `given sha256:…` (a fingerprint, never the token); absent for
    /// requests that are not about JWTs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// What the declared policy says must happen.
    pub expected: Expected,
    /// HTTP status, when the server answered.
    pub status: Option<u16>,
    pub outcome: HttpAnswer,
    /// The first bytes of the body (at most 200), lossily decoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_snippet: Option<String>,
    /// `server`, `content-type`, `www-authenticate`, `location` when present.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// The rule the probe exercises, e.g. `istio-system/test rules[0]`.
    pub rule: String,
    /// Where that rule is declared (`file:line`).
    pub declared_at: String,
    /// Why the policy expects what it does, then what was seen.
    pub evidence: String,
}

/// One plain-HTTP request to a declared plain-HTTP server, and its answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct RedirectRequest {
    /// The `Host` header sent (a declared host, or the target's address
    /// for `*`).
    pub host: String,
    pub path: String,
    /// HTTP status, when the server answered.
    pub status: Option<u16>,
    /// The `location` header, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// `answered`, `closed` (no answer) or `error`.
    pub outcome: HttpAnswer,
    /// What was seen: status, location, body snippet or why no answer.
    pub evidence: String,
}
