//! What Envoy's `jwt_authn` filter does with a request's token under the
//! providers istiod writes ([`crate::policy::istiod::jwt_authn`]): where
//! it looks for a token, and whether the request goes on (no token, or a
//! verified one whose payload becomes metadata) or is refused with 401.
//!
//! Envoy's rules (docs/istio-rules.md R-J2, R-J4):
//! - `source/extensions/filters/http/jwt_authn/extractor.cc`
//!   `ExtractorImpl::addProvider`: a provider reads its `from_headers`,
//!   `from_params` and `from_cookies`; only when all three are empty does
//!   it read the defaults, header `Authorization` with prefix `Bearer `
//!   and query parameter `access_token`. Header names are case-insensitive;
//!   a value prefix is case-sensitive and found anywhere in the value (a
//!   header without it holds no token);
//! - `authenticator.cc` `startVerify` / `doneWithStatus`: no token in any
//!   location → `JwtMissed`, which `allow_missing` forgives; a token that
//!   is present is checked (parse → issuer → time, 60 s skew → audience →
//!   key) and any failure is 401 — `allow_missing` forgives only a
//!   missing token.

use serde_json::{json, Value};

use crate::policy::istiod::jwt_authn::{JwtAuthn, JwtProvider};

/// A place a token can be read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A header (name case-insensitive), with the value prefix before the
    /// token (`None`: the whole value).
    Header {
        name: String,
        prefix: Option<String>,
    },
    Query(String),
    Cookie(String),
}

/// Where `provider` looks for its token.
pub fn locations(provider: &JwtProvider) -> Vec<Location> {
    if provider.from_headers.is_empty()
        && provider.from_params.is_empty()
        && provider.from_cookies.is_empty()
    {
        return vec![
            Location::Header {
                name: "Authorization".to_owned(),
                prefix: Some("Bearer ".to_owned()),
            },
            Location::Query("access_token".to_owned()),
        ];
    }
    let mut out: Vec<Location> = provider
        .from_headers
        .iter()
        .map(|(name, prefix)| Location::Header {
            name: name.clone(),
            prefix: prefix.clone(),
        })
        .collect();
    out.extend(provider.from_params.iter().cloned().map(Location::Query));
    out.extend(provider.from_cookies.iter().cloned().map(Location::Cookie));
    out
}

/// What a token says, or that it is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// Not `header.payload.signature`.
    Malformed,
    Jwt {
        iss: String,
        sub: Option<String>,
        aud: Vec<String>,
        expired: bool,
        /// Signed by a key of the issuer's JWKS.
        known_key: bool,
    },
}

/// Where the client put a token: a header with its whole value, a query
/// parameter or a cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    Header { name: String, value_prefix: String },
    Query(String),
    Cookie(String),
}

impl Placement {
    /// Whether `location` reads a token placed here.
    fn read_by(&self, location: &Location) -> bool {
        match (self, location) {
            (Placement::Header { name, value_prefix }, Location::Header { name: n, prefix }) => {
                name.eq_ignore_ascii_case(n)
                    && prefix
                        .as_deref()
                        .is_none_or(|p| value_prefix.contains(p) || p.is_empty())
            }
            (Placement::Query(a), Location::Query(b)) => a == b,
            (Placement::Cookie(a), Location::Cookie(b)) => a == b,
            _ => false,
        }
    }
}

/// `jwt_authn`'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthnOutcome {
    /// No token where a provider reads: passes (`allow_missing`), no
    /// payload. `ignored`: a token was sent where no provider reads.
    Missing { ignored: bool },
    /// Verified by `provider`; its payload is in the metadata.
    Verified { provider: String, payload: Value },
    /// 401 with Envoy's body.
    Rejected { body: &'static str },
}

pub const BODY_MALFORMED: &str =
    "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections";
pub const BODY_EXPIRED: &str = "Jwt is expired";
pub const BODY_UNKNOWN_ISSUER: &str = "Jwt issuer is not configured";
pub const BODY_AUDIENCE: &str = "Audiences in Jwt are not allowed";
/// Envoy says one or the other, depending on whether the JWKS holds a key
/// of the token's `kid` / `alg` at all (seen on the lab: the latter).
pub const BODY_VERIFICATION_FAILS: &str =
    "Jwt verification fails / Jwks doesn't have key to match kid or alg from Jwt";

/// What the filter does with `token` placed at `placement` (or no token).
pub fn authenticate(filter: Option<&JwtAuthn>, sent: Option<(&Placement, &Token)>) -> AuthnOutcome {
    let Some((placement, token)) = sent else {
        return AuthnOutcome::Missing { ignored: false };
    };
    let Some(filter) = filter else {
        return AuthnOutcome::Missing { ignored: true };
    };
    let readers: Vec<&JwtProvider> = filter
        .providers
        .iter()
        .filter(|p| locations(p).iter().any(|l| placement.read_by(l)))
        .collect();
    if readers.is_empty() {
        return AuthnOutcome::Missing { ignored: true };
    }
    let Token::Jwt {
        iss,
        sub,
        aud,
        expired,
        known_key,
    } = token
    else {
        return AuthnOutcome::Rejected {
            body: BODY_MALFORMED,
        };
    };
    let Some(p) = readers.iter().find(|p| p.issuer == *iss) else {
        return AuthnOutcome::Rejected {
            body: BODY_UNKNOWN_ISSUER,
        };
    };
    if *expired {
        return AuthnOutcome::Rejected { body: BODY_EXPIRED };
    }
    if !p.audiences.is_empty() && !aud.iter().any(|a| p.audiences.contains(a)) {
        return AuthnOutcome::Rejected {
            body: BODY_AUDIENCE,
        };
    }
    if !known_key {
        return AuthnOutcome::Rejected {
            body: BODY_VERIFICATION_FAILS,
        };
    }
    let mut payload = json!({"iss": iss});
    if let Some(sub) = sub {
        payload["sub"] = json!(sub);
    }
    if !aud.is_empty() {
        payload["aud"] = json!(aud);
    }
    AuthnOutcome::Verified {
        provider: p.name.clone(),
        payload,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::istiod::jwt_authn::build;
    use crate::policy::model::{JwtRule, RequestAuthenticationDecl};

    fn filter(rule: JwtRule) -> JwtAuthn {
        let ra = RequestAuthenticationDecl {
            jwt_rules: vec![rule],
            ..RequestAuthenticationDecl::default()
        };
        build(&[&ra]).unwrap()
    }

    fn bearer() -> Placement {
        Placement::Header {
            name: "authorization".into(),
            value_prefix: "Bearer ".into(),
        }
    }

    /// J05, J06, J07.
    #[test]
    fn defaults_only_without_declared_locations() {
        let only_params = filter(JwtRule {
            issuer: "i".into(),
            from_params: vec!["t".into()],
            ..JwtRule::default()
        });
        assert_eq!(
            authenticate(Some(&only_params), Some((&bearer(), &Token::Malformed))),
            AuthnOutcome::Missing { ignored: true }
        );
        let defaults = filter(JwtRule {
            issuer: "i".into(),
            ..JwtRule::default()
        });
        assert_eq!(
            authenticate(
                Some(&defaults),
                Some((&Placement::Query("access_token".into()), &Token::Malformed))
            ),
            AuthnOutcome::Rejected {
                body: BODY_MALFORMED
            }
        );
        let lower = Placement::Header {
            name: "Authorization".into(),
            value_prefix: "bearer ".into(),
        };
        assert_eq!(
            authenticate(Some(&defaults), Some((&lower, &Token::Malformed))),
            AuthnOutcome::Missing { ignored: true }
        );
    }

    #[test]
    fn present_tokens_are_checked_in_envoys_order() {
        let f = filter(JwtRule {
            issuer: "i".into(),
            audiences: vec!["a".into()],
            ..JwtRule::default()
        });
        let jwt = |iss: &str, aud: &[&str], expired, known_key| Token::Jwt {
            iss: iss.into(),
            sub: Some("s".into()),
            aud: aud.iter().map(|s| (*s).to_owned()).collect(),
            expired,
            known_key,
        };
        let run = |t: Token| authenticate(Some(&f), Some((&bearer(), &t)));
        assert_eq!(
            run(jwt("x", &["a"], false, true)),
            AuthnOutcome::Rejected {
                body: BODY_UNKNOWN_ISSUER
            }
        );
        assert_eq!(
            run(jwt("i", &["a"], true, false)),
            AuthnOutcome::Rejected { body: BODY_EXPIRED }
        );
        assert_eq!(
            run(jwt("i", &["b"], false, true)),
            AuthnOutcome::Rejected {
                body: BODY_AUDIENCE
            }
        );
        assert!(matches!(
            run(jwt("i", &["a"], false, true)),
            AuthnOutcome::Verified { .. }
        ));
    }
}
