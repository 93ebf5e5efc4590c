//! The `jwt_authn` HTTP filter istiod generates for a gateway from the
//! RequestAuthentications that select it, as typed data: providers and the
//! requirement. [`crate::policy::envoy::jwt`] says what Envoy does with a
//! token under it; the lab renders it to JSON.
//!
//! Read in istio/istio @86c9f01fd735 (docs/istio-rules.md §3):
//! - R-J1 (`pilot/pkg/security/authn/policy_applier.go`
//!   `newPolicyApplier`, `convertToEnvoyJwtConfig`): every `jwtRules`
//!   entry of every selected policy, sorted by issuer (`slices.SortBy`;
//!   equal issuers keep no promised order — here their declared order), is
//!   one provider `origins-<i>` with `issuer`, `audiences`, `forward =
//!   forwardOriginalToken`, `payload_in_metadata: payload`;
//! - R-J2: `fromHeaders` (name, `prefix` as `value_prefix`), `fromParams`,
//!   `fromCookies` copied as given — Envoy's defaults apply only when all
//!   three are empty ([`crate::policy::envoy::jwt::locations`]);
//! - R-J3: one provider → `requires_any[provider, allow_missing]`; several
//!   → `requires_any[P1, …, Pn, requires_all[requires_any[Pi,
//!   allow_missing]…]]`, for the rule `match: {prefix: /}`, with
//!   `bypass_cors_preflight` (tests `policy_applier_test.go TestJwtFilter`,
//!   `TestConvertToEnvoyJwtConfig`).

use crate::policy::model::{JwtRule, RequestAuthenticationDecl};

pub use super::rbac::{JWT_FILTER, JWT_PAYLOAD};

/// Where a provider's keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Jwks {
    /// `jwks` inline, as istiod passes it.
    Inline(String),
    /// `jwksUri` (istiod fetches it, or lets Envoy).
    Uri(String),
    /// Neither: istiod resolves the issuer's OpenID discovery document.
    Discovered,
}

/// Which declared rule a provider came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderSource {
    /// Index into the RequestAuthentications given to [`build`].
    pub policy: usize,
    /// Index in its `jwtRules`.
    pub rule: usize,
}

/// One `jwt_authn` provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtProvider {
    /// `origins-<i>`.
    pub name: String,
    pub issuer: String,
    pub audiences: Vec<String>,
    pub jwks: Jwks,
    /// `(name, value_prefix)`.
    pub from_headers: Vec<(String, Option<String>)>,
    pub from_params: Vec<String>,
    pub from_cookies: Vec<String>,
    pub forward: bool,
    /// Always [`JWT_PAYLOAD`].
    pub payload_in_metadata: &'static str,
    pub source: ProviderSource,
}

/// A `JwtRequirement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    Provider(String),
    AllowMissing,
    Any(Vec<Requirement>),
    All(Vec<Requirement>),
}

/// The filter, when any provider exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtAuthn {
    pub providers: Vec<JwtProvider>,
    /// For `match: {prefix: "/"}`.
    pub requires: Requirement,
}

/// `convertToEnvoyJwtConfig` over `authns` (those `policy::selection`
/// applies); `None` without any jwt rule.
pub fn build(authns: &[&RequestAuthenticationDecl]) -> Option<JwtAuthn> {
    let mut rules: Vec<(ProviderSource, &JwtRule)> = authns
        .iter()
        .enumerate()
        .flat_map(|(pi, a)| {
            a.jwt_rules.iter().enumerate().map(move |(ri, r)| {
                (
                    ProviderSource {
                        policy: pi,
                        rule: ri,
                    },
                    r,
                )
            })
        })
        .collect();
    if rules.is_empty() {
        return None;
    }
    rules.sort_by(|a, b| a.1.issuer.cmp(&b.1.issuer));
    let providers: Vec<JwtProvider> = rules
        .iter()
        .enumerate()
        .map(|(i, (source, r))| JwtProvider {
            name: format!("origins-{i}"),
            issuer: r.issuer.clone(),
            audiences: r.audiences.clone(),
            jwks: match (&r.jwks, &r.jwks_uri) {
                (Some(inline), _) => Jwks::Inline(inline.clone()),
                (None, Some(uri)) => Jwks::Uri(uri.clone()),
                (None, None) => Jwks::Discovered,
            },
            from_headers: r.from_headers.clone(),
            from_params: r.from_params.clone(),
            from_cookies: r.from_cookies.clone(),
            forward: r.forward_original_token,
            payload_in_metadata: JWT_PAYLOAD,
            source: *source,
        })
        .collect();
    let names: Vec<String> = providers.iter().map(|p| p.name.clone()).collect();
    let requires = requirement(&names);
    Some(JwtAuthn {
        providers,
        requires,
    })
}

/// R-J3: the requirement over the providers `names` (in order): one →
/// `requires_any[it, allow_missing]`; several → `requires_any[P1, …, Pn,
/// requires_all[requires_any[Pi, allow_missing]…]]`.
pub fn requirement(names: &[String]) -> Requirement {
    let either = |name: &str| {
        Requirement::Any(vec![
            Requirement::Provider(name.to_owned()),
            Requirement::AllowMissing,
        ])
    };
    match names {
        [only] => either(only),
        many => {
            let mut outer: Vec<Requirement> = many
                .iter()
                .map(|n| Requirement::Provider(n.clone()))
                .collect();
            outer.push(Requirement::All(many.iter().map(|n| either(n)).collect()));
            Requirement::Any(outer)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authn(issuers: &[&str]) -> RequestAuthenticationDecl {
        RequestAuthenticationDecl {
            name: "ra".into(),
            jwt_rules: issuers
                .iter()
                .map(|i| JwtRule {
                    issuer: (*i).into(),
                    ..JwtRule::default()
                })
                .collect(),
            ..RequestAuthenticationDecl::default()
        }
    }

    /// J01, J02, J03.
    #[test]
    fn providers_sorted_by_issuer_and_nested_requirement() {
        let one = build(&[&authn(&["b"])]).unwrap();
        assert_eq!(
            one.requires,
            Requirement::Any(vec![
                Requirement::Provider("origins-0".into()),
                Requirement::AllowMissing
            ])
        );
        let (x, y) = (authn(&["b"]), authn(&["a"]));
        let two = build(&[&x, &y]).unwrap();
        assert_eq!(two.providers[0].issuer, "a");
        assert_eq!(two.providers[0].source.policy, 1);
        assert_eq!(two.providers[1].name, "origins-1");
        let Requirement::Any(outer) = &two.requires else {
            panic!()
        };
        assert_eq!(outer.len(), 3);
        assert!(matches!(&outer[2], Requirement::All(inner) if inner.len() == 2));
        assert!(build(&[]).is_none());
    }
}
