//! JWT probes derived from the declared `RequestAuthentication`s and the
//! AuthorizationPolicy rules that name `requestPrincipals`: which token to
//! send on which request, and what Envoy's `jwt_authn` and RBAC filters, as
//! istiod configures them, must answer.
//!
//! Istio's behaviour, from its RequestAuthentication reference and Envoy's
//! jwt_authn status messages: a request *without* a token passes
//! authentication (it only has no request principal), so only an
//! AuthorizationPolicy can refuse it (403); a token that is present but
//! invalid is refused by authentication itself with 401 — malformed
//! (`Jwt is not in the form of Header.Payload.Signature…`), expired (`Jwt
//! is expired`: the time check comes before the signature's), or signed by
//! a key the issuer's JWKS does not hold (`Jwt verification fails`, or
//! `Jwks doesn't have key to match kid or alg from Jwt`). Only the 401 is
//! judged; the message is evidence. A
//! valid token (`--jwt`) carries the request principal `iss/sub`.
//!
//! Pure: the tokens themselves are minted by `scan::jwt`.

use super::authz::{self, Outcome, ProbeIdentity, Request};
use super::envoy::jwt as envoy_jwt;
use super::model::{AuthorizationPolicyDecl, Origin, RequestAuthenticationDecl};

/// Which token a probe sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// No token at all.
    Missing,
    /// Not three dot-separated base64url parts.
    Malformed,
    /// Well-formed, the rule's issuer and audience, signed by a key made up
    /// for the scan.
    UnknownKey,
    /// Like `UnknownKey`, expired an hour ago.
    Expired,
    /// The token given with `--jwt`.
    Given,
}

impl TokenKind {
    pub fn name(self) -> &'static str {
        match self {
            TokenKind::Missing => "none",
            TokenKind::Malformed => "malformed",
            TokenKind::UnknownKey => "unknown-key",
            TokenKind::Expired => "expired",
            TokenKind::Given => "given",
        }
    }
}

/// What a JWT probe must get back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtExpectation {
    /// 401 from authentication, with this body.
    Reject(&'static str),
    /// Through authentication; then RBAC's outcome (Allow, or Deny = 403).
    Authorized(Outcome),
}

/// Envoy's 401 bodies, from the one model of its jwt_authn filter.
pub use super::envoy::jwt::{BODY_EXPIRED, BODY_MALFORMED, BODY_VERIFICATION_FAILS};

/// One JWT probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedJwtProbe {
    pub token: TokenKind,
    /// The client identity presented with it (the gateway may be MUTUAL).
    pub identity: String,
    pub method: String,
    pub path: String,
    pub host: String,
    /// Where the token goes: where the gateway's provider reads it.
    pub location: TokenLocation,
    /// Claims for minted tokens.
    pub issuer: String,
    pub audience: Option<String>,
    pub expected: JwtExpectation,
    /// `istio-system/jwt jwtRules[0]`.
    pub rule: String,
    pub origin: Origin,
    pub because: String,
}

/// Where a JWT probe puts its token.
///
/// istiod copies `fromHeaders` (prefix as `value_prefix`), `fromParams`
/// and `fromCookies` into the jwt_authn provider as written; only when all
/// three are empty does Envoy read its defaults, `Authorization: Bearer`
/// and the `access_token` query parameter (docs/istio-rules.md R-J2;
/// envoy `jwt_authn/extractor.cc` `ExtractorImpl::addProvider`). A token
/// anywhere else is no token to the gateway, so an invalid one sent there
/// would pass as missing: the probe uses the first location the rule
/// declares, headers first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenLocation {
    /// The header and the prefix its value starts with.
    Header { name: String, prefix: String },
    /// A query parameter.
    Query { name: String },
    /// A cookie.
    Cookie { name: String },
}

impl TokenLocation {
    /// Where a request carrying a token for `rule` puts it: the first
    /// location Envoy reads for its provider
    /// ([`super::envoy::jwt::locations`]).
    pub fn for_rule(rule: &crate::policy::model::JwtRule) -> TokenLocation {
        let authn = crate::policy::model::RequestAuthenticationDecl {
            jwt_rules: vec![rule.clone()],
            ..Default::default()
        };
        let first = super::istiod::jwt_authn::build(&[&authn]).and_then(|f| {
            super::envoy::jwt::locations(&f.providers[0])
                .into_iter()
                .next()
        });
        match first {
            Some(envoy_jwt::Location::Header { name, prefix }) => TokenLocation::Header {
                name,
                prefix: prefix.unwrap_or_default(),
            },
            Some(envoy_jwt::Location::Query(name)) => TokenLocation::Query { name },
            Some(envoy_jwt::Location::Cookie(name)) => TokenLocation::Cookie { name },
            None => TokenLocation::Header {
                name: "Authorization".to_owned(),
                prefix: "Bearer ".to_owned(),
            },
        }
    }

    /// The same place, as Envoy's extractor is asked about it.
    pub fn placement(&self) -> envoy_jwt::Placement {
        match self {
            TokenLocation::Header { name, prefix } => envoy_jwt::Placement::Header {
                name: name.clone(),
                value_prefix: prefix.clone(),
            },
            TokenLocation::Query { name } => envoy_jwt::Placement::Query(name.clone()),
            TokenLocation::Cookie { name } => envoy_jwt::Placement::Cookie(name.clone()),
        }
    }
}

/// JWT probes and what could not be probed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JwtPlan {
    pub probes: Vec<PlannedJwtProbe>,
    pub notes: Vec<String>,
}

/// The probes for `authns` and `policies` (both already those applying to
/// the workload). `identity`: what to present (its principal counts in
/// RBAC); `given`: the request principal (`iss/sub`) of the `--jwt` token.
pub fn plan_jwt(
    authns: &[&RequestAuthenticationDecl],
    policies: &[&AuthorizationPolicyDecl],
    identity: &ProbeIdentity,
    given: Option<&str>,
    default_host: &str,
    mesh: Option<&crate::policy::model::MeshAuthz>,
) -> JwtPlan {
    let mut plan = JwtPlan::default();
    // The requests the requestPrincipals rules are about, else `/`.
    let mut requests: Vec<(String, String, String)> = Vec::new();
    for p in policies {
        for rule in &p.rules {
            let names_jwt = rule
                .from
                .iter()
                .any(|s| !s.request_principals.is_empty() || !s.not_request_principals.is_empty());
            if names_jwt {
                if let Some(r) = authz::requests_for(Some(rule), default_host)
                    .into_iter()
                    .next()
                {
                    if !requests.contains(&r) {
                        requests.push(r);
                    }
                }
            }
        }
    }
    if requests.is_empty() {
        requests.push(("GET".into(), "/".into(), default_host.to_owned()));
    }
    let filter = super::istiod::jwt_authn::build(authns);
    for authn in authns {
        let name = match &authn.namespace {
            Some(ns) => format!("{ns}/{}", authn.name),
            None => authn.name.clone(),
        };
        for (i, jwt) in authn.jwt_rules.iter().enumerate() {
            let rule = format!("{name} jwtRules[{i}]");
            let location = TokenLocation::for_rule(jwt);
            let mut kinds = vec![
                TokenKind::Missing,
                TokenKind::Malformed,
                TokenKind::UnknownKey,
                TokenKind::Expired,
            ];
            if given.is_some() {
                kinds.push(TokenKind::Given);
            }
            for (method, path, host) in &requests {
                for &token in &kinds {
                    let sent = match token {
                        TokenKind::Missing | TokenKind::Given => None,
                        TokenKind::Malformed => Some(envoy_jwt::Token::Malformed),
                        TokenKind::UnknownKey | TokenKind::Expired => Some(envoy_jwt::Token::Jwt {
                            iss: jwt.issuer.clone(),
                            sub: Some("lab-user".to_owned()),
                            aud: jwt.audiences.first().cloned().into_iter().collect(),
                            expired: token == TokenKind::Expired,
                            known_key: false,
                        }),
                    };
                    let placement = location.placement();
                    let outcome = envoy_jwt::authenticate(
                        filter.as_ref(),
                        sent.as_ref().map(|t| (&placement, t)),
                    );
                    let (expected, because) = match outcome {
                        envoy_jwt::AuthnOutcome::Rejected { body } => (
                            JwtExpectation::Reject(body),
                            match token {
                                TokenKind::UnknownKey => format!(
                                    "a token of issuer {} signed by a key its JWKS does not hold \
                                     is refused by authentication (401)",
                                    jwt.issuer
                                ),
                                TokenKind::Expired => {
                                    "an expired token is refused by authentication (401)".to_owned()
                                }
                                _ => {
                                    "an invalid token is refused by authentication (401)".to_owned()
                                }
                            },
                        ),
                        envoy_jwt::AuthnOutcome::Missing { .. }
                        | envoy_jwt::AuthnOutcome::Verified { .. } => {
                            let request_principal = if token == TokenKind::Given {
                                given
                            } else {
                                None
                            };
                            let d = authz::evaluate_with(
                                policies,
                                &Request {
                                    principal: identity.principal.as_deref(),
                                    request_principal,
                                    method,
                                    path,
                                    host,
                                },
                                mesh,
                            );
                            if d.outcome == Outcome::Unknown {
                                plan.notes.push(format!(
                                    "{rule}: token {} on {method} {host}{path} not probed: {}",
                                    token.name(),
                                    d.reason
                                ));
                                continue;
                            }
                            let lead = match token {
                                TokenKind::Missing => "no token passes authentication; ",
                                TokenKind::Given => "the given token passes authentication; ",
                                _ => "the token is not where the provider reads (no token); ",
                            };
                            (
                                JwtExpectation::Authorized(d.outcome),
                                format!("{lead}{}", d.reason),
                            )
                        }
                    };
                    plan.probes.push(PlannedJwtProbe {
                        token,
                        identity: identity.name.clone(),
                        method: method.clone(),
                        path: path.clone(),
                        host: host.clone(),
                        location: location.clone(),
                        issuer: jwt.issuer.clone(),
                        audience: jwt.audiences.first().cloned(),
                        expected,
                        rule: rule.clone(),
                        origin: jwt.origin.clone(),
                        because,
                    });
                }
            }
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::load_str;

    const SEED_003: &str = include_str!("../../fixtures/policy/istio-mutual-003.yaml");

    #[test]
    fn seed_003_missing_token_is_403_invalid_ones_401() {
        let policy = load_str("003.yaml", SEED_003).expect("parses");
        let authns: Vec<_> = policy.request_authentications.iter().collect();
        let policies: Vec<_> = policy.authorization_policies.iter().collect();
        let id = ProbeIdentity {
            name: "test.client".into(),
            principal: Some("test.client".into()),
        };
        let plan = plan_jwt(
            &authns,
            &policies,
            &id,
            Some("testing@secure.istio.io/testing@secure.istio.io"),
            "httpbin.example.com",
            None,
        );
        let got: Vec<(&str, JwtExpectation)> = plan
            .probes
            .iter()
            .map(|p| (p.token.name(), p.expected))
            .collect();
        assert_eq!(
            got,
            [
                ("none", JwtExpectation::Authorized(Outcome::Deny)),
                ("malformed", JwtExpectation::Reject(BODY_MALFORMED)),
                (
                    "unknown-key",
                    JwtExpectation::Reject(BODY_VERIFICATION_FAILS)
                ),
                ("expired", JwtExpectation::Reject(BODY_EXPIRED)),
                ("given", JwtExpectation::Authorized(Outcome::Allow)),
            ],
            "{:#?}",
            plan
        );
        assert!(plan.probes[0].rule.ends_with("jwtRules[0]"));
        assert_eq!(
            plan.probes[0].location,
            TokenLocation::Header {
                name: "Authorization".into(),
                prefix: "Bearer ".into()
            }
        );
    }

    /// R-J2: the declared locations replace Envoy's defaults, headers
    /// first, then query parameters, then cookies.
    #[test]
    fn the_token_goes_where_the_rule_reads_it() {
        use crate::policy::model::JwtRule;
        let rule = |headers: &[&str], params: &[&str], cookies: &[&str]| JwtRule {
            from_headers: headers.iter().map(|h| ((*h).to_owned(), None)).collect(),
            from_params: params.iter().map(|p| (*p).to_owned()).collect(),
            from_cookies: cookies.iter().map(|c| (*c).to_owned()).collect(),
            ..JwtRule::default()
        };
        assert_eq!(
            TokenLocation::for_rule(&rule(&[], &["token"], &["session"])),
            TokenLocation::Query {
                name: "token".into()
            }
        );
        assert_eq!(
            TokenLocation::for_rule(&rule(&[], &[], &["session"])),
            TokenLocation::Cookie {
                name: "session".into()
            }
        );
        assert_eq!(
            TokenLocation::for_rule(&rule(&["x-jwt"], &["token"], &[])),
            TokenLocation::Header {
                name: "x-jwt".into(),
                prefix: String::new()
            }
        );
    }
}
