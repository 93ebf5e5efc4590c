//! The RBAC HTTP filters istiod generates for a gateway's HTTP filter
//! chain, as typed data: Envoy's `rbac` filter configurations with Istio's
//! policy names and, per rule, the Permission / Principal trees of Envoy
//! matchers Istio writes. [`super::super::envoy::rbac`] evaluates them for
//! one request; the lab renders them to JSON. Nobody else holds an
//! authorization rule.
//!
//! Read in istio/istio @86c9f01fd735 (docs/istio-rules.md §2):
//! - filter order CUSTOM, AUDIT, DENY, ALLOW, one filter per action
//!   (`pilot/pkg/networking/core/listener_builder.go`
//!   `buildHTTPConnectionManager`; `pilot/pkg/security/authz/builder/
//!   builder.go` `BuildHTTP`) — R-A4;
//! - one Envoy policy per rule named `ns[NS]-policy[NAME]-rule[i]`
//!   (`builder.go` `policyName`); a policy without rules is one policy
//!   `…-rule[0]` that never matches (`rbacPolicyMatchNever`; builder tests
//!   `allow-nil-rule`), a rule `{}` is any/any (`allow-empty-rule`,
//!   `deny-empty-rule`) — R-A9;
//! - dry-run policies (`istio.io/dry-run`, Go `ParseBool`) go to
//!   `shadow_rules`; `rules` exist only when at least one policy of the
//!   action is enforced (`builder.go` `build`, `isDryRun`; tests
//!   `dry-run-allow`, `dry-run-mix`, `dry-run-allow-and-deny`) — R-A10;
//! - a rule is OR over `from` × OR over `to`, each entry the AND of its
//!   fields in Istio's order, values ORed, `notValues` as NOT(OR)
//!   (`pilot/pkg/security/authz/model/model.go` `New`, `Generate`) — R-A5;
//! - each field's matcher is written by its generator
//!   (`model/generator.go`, `matcher/string.go`, `matcher/header.go`,
//!   `matcher/template.go`, `model/util.go`), tested by builder testdata
//!   `http/allow-full-rule` — R-A5, R-A7, R-A8;
//! - a value a generator refuses drops the whole rule for ALLOW and only
//!   that value for DENY / AUDIT (`model.go` `rule.checkError`); an
//!   unknown `when` key skips the rule whatever the action (`model.go`
//!   `New` "unknown attribute", `builder.go` "skipped invalid rule").
//!
//! - TCP filter chains (`builder.go` `BuildTCP`, `Generate(forTCP=true)`):
//!   an HTTP-only field (hosts, methods, paths, requestPrincipals, request
//!   headers, JWT claims, audiences, presenter) is an error, so it drops the
//!   rule for ALLOW and only that field for DENY/AUDIT (builder tests
//!   `TestGenerator_GenerateTCP` `allow-only-http`, `deny-both-http-tcp`);
//!   CUSTOM with an HTTP-only provider writes no filter (`buildTCP`
//!   "ignored CUSTOM action with HTTP provider", test `custom-only-http`);
//! - trust-domain aliases (`model.go` `MigrateTrustDomain`,
//!   `pilot/pkg/security/trustdomain/bundle.go`): source principals are
//!   rewritten for the mesh's trust domain and every alias, trustDomains
//!   values expanded (tests `trust-domain-one-alias`,
//!   `trust-domain-multiple-aliases`, `trust-domain-wildcard-in-principal`);
//! - a CUSTOM provider istiod cannot resolve, or several CUSTOM providers
//!   on one workload, becomes an enforcing DENY of those rules
//!   (`builder.go` `buildHTTP`/`buildTCP`, `getBadCustomDenyRules`;
//!   `extauthz.go` `getExtAuthz`; tests `custom-bad-invalid-config`,
//!   `custom-bad-multiple-providers`).
//!
//! Gateways match `authenticated` principals (`UseFilterState` is false
//! outside waypoints, `pilot/pkg/networking/plugin/authz/authorization.go`).
//! Not modelled: the CUSTOM `ext_authz` filters themselves (only which
//! requests they would see); whether a provider's `service` exists.

use std::net::IpAddr;

use crate::policy::model::{
    AuthorizationPolicyDecl, AuthzAction, AuthzCondition, AuthzRule, ExtensionProviderKind,
    MeshAuthz,
};

/// `envoy.filters.http.jwt_authn`, whose dynamic metadata JWT matchers read.
pub const JWT_FILTER: &str = "envoy.filters.http.jwt_authn";
/// Istio's `payload_in_metadata` key (`filters.EnvoyJwtFilterPayload`).
pub const JWT_PAYLOAD: &str = "payload";
/// `spiffe.URIPrefix`.
pub const SPIFFE_PREFIX: &str = "spiffe://";

/// Envoy's `StringMatcher` as Istio writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringMatcher {
    pub pattern: Pattern,
    pub ignore_case: bool,
}

/// The `match_pattern` of a `StringMatcher`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    Exact(String),
    Prefix(String),
    Suffix(String),
    /// `safe_regex` (RE2, matched against the whole value).
    Regex(String),
}

impl StringMatcher {
    fn new(pattern: Pattern) -> Self {
        StringMatcher {
            pattern,
            ignore_case: false,
        }
    }
    fn regex(r: impl Into<String>) -> Self {
        Self::new(Pattern::Regex(r.into()))
    }
}

/// Istio's `matcher.StringMatcherWithPrefix` (`matcher/string.go`): `*` is
/// the regex `.+` *without* the prefix; `*x` a suffix (with a prefix: the
/// regex `<prefix>.*<quoted x>`); `x*` the prefix `<prefix>x`; else exact
/// `<prefix>v`. The prefix is added even to a value that already has it.
pub fn string_matcher_with_prefix(v: &str, prefix: &str) -> StringMatcher {
    if v == "*" {
        StringMatcher::regex(".+")
    } else if let Some(s) = v.strip_prefix('*') {
        if prefix.is_empty() {
            StringMatcher::new(Pattern::Suffix(s.to_owned()))
        } else {
            StringMatcher::regex(format!("{prefix}.*{}", quote_meta(s)))
        }
    } else if let Some(p) = v.strip_suffix('*') {
        StringMatcher::new(Pattern::Prefix(format!("{prefix}{p}")))
    } else {
        StringMatcher::new(Pattern::Exact(format!("{prefix}{v}")))
    }
}

/// `matcher.StringMatcher`: [`string_matcher_with_prefix`] without one.
pub fn string_matcher(v: &str) -> StringMatcher {
    string_matcher_with_prefix(v, "")
}

/// Envoy's `HeaderMatcher` as Istio writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMatcher {
    pub name: String,
    /// `None`: `present_match: true`.
    pub string_match: Option<StringMatcher>,
}

/// `matcher.HeaderMatcher` (`ignore_case` false) and `matcher.HostMatcher`
/// (`ignore_case` true): `*` present, `*x` suffix, `x*` prefix, else exact
/// (`matcher/header.go`). No port handling for hosts (R-A8).
fn header_matcher(name: &str, v: &str, ignore_case: bool) -> HeaderMatcher {
    let pattern = if v == "*" {
        None
    } else if let Some(s) = v.strip_prefix('*') {
        Some(Pattern::Suffix(s.to_owned()))
    } else if let Some(p) = v.strip_suffix('*') {
        Some(Pattern::Prefix(p.to_owned()))
    } else {
        Some(Pattern::Exact(v.to_owned()))
    };
    HeaderMatcher {
        name: name.to_owned(),
        string_match: pattern.map(|pattern| StringMatcher {
            pattern,
            ignore_case,
        }),
    }
}

/// Envoy's `ValueMatcher` (the subset Istio writes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueMatcher {
    String(StringMatcher),
    /// `list_match.one_of`: a list value with one element that matches.
    ListOneOf(Box<ValueMatcher>),
    Or(Vec<ValueMatcher>),
}

/// Envoy's `MetadataMatcher`: dynamic metadata of `filter` at `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataMatcher {
    pub filter: String,
    pub path: Vec<String>,
    pub value: ValueMatcher,
}

/// An address block (`util.AddrStrToCidrRange`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub address: IpAddr,
    pub prefix_len: u32,
}

/// Envoy's RBAC `Permission` (what is asked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permission {
    Any,
    And(Vec<Permission>),
    Or(Vec<Permission>),
    Not(Box<Permission>),
    Header(HeaderMatcher),
    /// `url_path`: the path without query and fragment.
    UrlPath(StringMatcher),
    /// `uri_template` with Envoy's `*` / `**` (from `{*}` / `{**}`).
    UriTemplate(String),
    /// The listener's local port.
    DestinationPort(u32),
    DestinationIp(Cidr),
    RequestedServerName(StringMatcher),
    Metadata(MetadataMatcher),
}

/// Envoy's RBAC `Principal` (who asks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Any,
    And(Vec<Principal>),
    Or(Vec<Principal>),
    Not(Box<Principal>),
    /// `authenticated.principal_name`; `None`: any TLS peer.
    Authenticated(Option<StringMatcher>),
    DirectRemoteIp(Cidr),
    RemoteIp(Cidr),
    Header(HeaderMatcher),
    Metadata(MetadataMatcher),
}

/// Which declared rule an Envoy policy came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleSource {
    /// Index into the policies given to [`build`].
    pub policy: usize,
    /// `None` for a policy without rules.
    pub rule: Option<usize>,
}

/// One Envoy RBAC `Policy` (permissions ORed, principals ORed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RbacPolicy {
    /// `ns[istio-system]-policy[deny]-rule[0]`.
    pub name: String,
    pub source: RuleSource,
    pub permissions: Vec<Permission>,
    pub principals: Vec<Principal>,
}

/// The action of one filter, in the order istiod places them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FilterAction {
    /// Marks requests for `ext_authz`; the external authorizer decides.
    Custom,
    /// In CUSTOM's place, an enforcing DENY of the CUSTOM rules istiod
    /// could not give to an authorizer (`getBadCustomDenyRules`: policy
    /// names suffixed `-deny-due-to-bad-CUSTOM-action`).
    CustomDeny,
    /// `RBAC_LOG`: never denies.
    Audit,
    Deny,
    Allow,
}

impl FilterAction {
    /// Envoy's `RBAC.Action` spelling (CUSTOM: Istio's action name).
    pub fn as_str(self) -> &'static str {
        match self {
            FilterAction::Custom => "CUSTOM",
            FilterAction::CustomDeny => "DENY",
            FilterAction::Audit => "LOG",
            FilterAction::Deny => "DENY",
            FilterAction::Allow => "ALLOW",
        }
    }

    /// The stat prefix istiod gives a filter's `shadow_rules` (istio/istio
    /// @86c9f01 `pilot/pkg/security/authz/model/model.go`
    /// `RBACShadowRules{Allow,Deny}StatPrefix`, set by `builder.go`
    /// `shadowRuleStatPrefix`; testdata `http/dry-run-*-out.yaml`): the
    /// dry-run result shows only in these stats, never in an answer.
    pub fn shadow_stat_prefix(self) -> &'static str {
        match self {
            FilterAction::Allow => "istio_dry_run_allow_",
            _ => "istio_dry_run_deny_",
        }
    }

    /// The AuthorizationPolicy action it comes from.
    pub fn policy_action(self) -> &'static str {
        match self {
            FilterAction::Custom | FilterAction::CustomDeny => "CUSTOM",
            FilterAction::Audit => "AUDIT",
            FilterAction::Deny => "DENY",
            FilterAction::Allow => "ALLOW",
        }
    }

    fn of(action: AuthzAction) -> FilterAction {
        match action {
            AuthzAction::Custom => FilterAction::Custom,
            AuthzAction::Audit => FilterAction::Audit,
            AuthzAction::Deny => FilterAction::Deny,
            AuthzAction::Allow => FilterAction::Allow,
        }
    }
}

/// One `envoy.filters.http.rbac` filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RbacFilter {
    pub action: FilterAction,
    /// Enforced; `None` when every policy of the action is dry-run (Envoy
    /// then enforces nothing). For CUSTOM these are the policies whose
    /// matches are sent to the external authorizer.
    pub rules: Option<Vec<RbacPolicy>>,
    /// Dry-run: logged, never decide.
    pub shadow_rules: Option<Vec<RbacPolicy>>,
}

/// What istiod generates for one gateway HTTP chain, and what it skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RbacConfig {
    /// In filter order.
    pub filters: Vec<RbacFilter>,
    /// Names (`ns/name`) of the policies given, by [`RuleSource::policy`].
    pub policy_names: Vec<String>,
    /// One line per rule or value istiod leaves out.
    pub notes: Vec<String>,
}

impl RbacConfig {
    /// The filter of `action`, if istiod writes one.
    pub fn filter(&self, action: FilterAction) -> Option<&RbacFilter> {
        self.filters.iter().find(|f| f.action == action)
    }
}

/// `ns/name` as reports show a policy.
pub fn qualified_name(p: &AuthorizationPolicyDecl) -> String {
    match &p.namespace {
        Some(ns) => format!("{ns}/{}", p.name),
        None => p.name.clone(),
    }
}

/// Which kind of filter chain the filters are for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Chain {
    /// An HTTP connection manager: `envoy.filters.http.rbac`.
    #[default]
    Http,
    /// TLS passthrough / TCP: `envoy.filters.network.rbac` (`forTCP`).
    Tcp,
}

/// What the builder reads besides the policies.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildOptions<'a> {
    pub chain: Chain,
    /// MeshConfig's trust domain, aliases and extension providers; `None`
    /// when no MeshConfig was given (trust domain `cluster.local` without
    /// aliases, istiod's default, changes no principal; CUSTOM providers
    /// are then not known).
    pub mesh: Option<&'a MeshAuthz>,
}

/// `trustdomain.NewBundle(mesh.TrustDomain, mesh.TrustDomainAliases)`
/// (`plugin/authz/authorization.go`): the trust domain first.
fn trust_domain_bundle(mesh: Option<&MeshAuthz>) -> Vec<String> {
    let Some(m) = mesh else {
        return Vec::new();
    };
    let td = m
        .trust_domain
        .clone()
        .unwrap_or_else(|| "cluster.local".to_owned());
    std::iter::once(td)
        .chain(m.trust_domain_aliases.iter().cloned())
        .collect()
}

/// `trustdomain.stringMatch` / `prefixMatch` / `suffixMatch`.
fn td_suffix_match(a: &str, pattern: &str) -> bool {
    pattern.strip_prefix('*').is_some_and(|p| a.ends_with(p))
}
fn td_prefix_match(a: &str, pattern: &str) -> bool {
    pattern.strip_suffix('*').is_some_and(|p| a.starts_with(p))
}
fn td_string_match(a: &str, list: &[String]) -> bool {
    list.iter().any(|s| {
        a == s
            || s == "*"
            || td_prefix_match(a, s)
            || td_prefix_match(s, a)
            || td_suffix_match(a, s)
            || td_suffix_match(s, a)
    })
}

/// `Bundle.ReplaceTrustDomainAliases`: a `td/ns/x/sa/y` principal whose
/// trust domain is in the bundle (or is `cluster.local`, the local trust
/// domain's pointer) becomes one principal per trust domain of the bundle
/// (kept as written for one its `*` prefix matches); others stay.
fn replace_trust_domain_aliases(values: &[String], bundle: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for v in values {
        let parts: Vec<&str> = v.split('/').collect();
        if parts.len() != 5 || parts[0] == "*" {
            out.push(v.clone());
            continue;
        }
        let from = parts[0];
        if !(td_string_match(from, bundle) || from == "cluster.local") {
            out.push(v.clone());
            continue;
        }
        let mut these: Vec<String> = Vec::new();
        for td in bundle {
            let p = if td_suffix_match(td, from) {
                v.clone()
            } else {
                format!("{td}/{}", parts[1..].join("/"))
            };
            if !these.contains(&p) {
                these.push(p);
            }
        }
        out.extend(these);
    }
    out
}

/// `Bundle.ExpandTrustDomainAliases`: a value that is one of the bundle's
/// trust domains becomes all of them; duplicates removed.
fn expand_trust_domain_aliases(values: &[String], bundle: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let add: Vec<String> = if bundle.contains(v) {
            bundle.to_vec()
        } else {
            vec![v.clone()]
        };
        for a in add {
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    out
}

/// `Model.MigrateTrustDomain` on one rule: `principals` / `source.principal`
/// replaced, `trustDomains` / `source.trustDomain` expanded.
fn migrate_trust_domain(rule: &AuthzRule, bundle: &[String]) -> AuthzRule {
    let mut r = rule.clone();
    if bundle.is_empty() {
        return r;
    }
    let rep = |v: &mut Vec<String>| {
        if !v.is_empty() {
            *v = replace_trust_domain_aliases(v, bundle)
        }
    };
    let exp = |v: &mut Vec<String>| {
        if !v.is_empty() {
            *v = expand_trust_domain_aliases(v, bundle)
        }
    };
    for s in &mut r.from {
        rep(&mut s.principals);
        rep(&mut s.not_principals);
        exp(&mut s.trust_domains);
        exp(&mut s.not_trust_domains);
    }
    for c in &mut r.when {
        match c.key.trim() {
            "source.principal" => {
                rep(&mut c.values);
                rep(&mut c.not_values);
            }
            "source.trustDomain" => {
                exp(&mut c.values);
                exp(&mut c.not_values);
            }
            _ => {}
        }
    }
    r
}

/// Whether istiod can give a CUSTOM policy's matches to `provider`
/// (`getExtAuthz`), and on a TCP chain whether it has a network filter:
/// `Ok(true)` an authorizer decides, `Ok(false)` no filter at all (an
/// HTTP provider on a TCP chain), `Err(why)` deny instead, `None` not
/// known (no MeshConfig given).
fn custom_provider(
    mesh: Option<&MeshAuthz>,
    provider: &str,
    chain: Chain,
) -> Option<Result<bool, String>> {
    let m = mesh?;
    let Some(providers) = &m.extension_providers else {
        return Some(Err(
            "extension provider is either invalid or undefined".to_owned()
        ));
    };
    let authorizers: Vec<_> = providers
        .iter()
        .filter(|p| p.kind != ExtensionProviderKind::Other)
        .collect();
    if authorizers.is_empty() {
        return Some(Err(
            "extension provider is either invalid or undefined".to_owned()
        ));
    }
    let Some(p) = authorizers.iter().find(|p| p.name == provider) else {
        let names: Vec<&str> = authorizers.iter().map(|p| p.name.as_str()).collect();
        return Some(Err(format!(
            "available providers are {names:?} but found {provider:?}"
        )));
    };
    // A duplicate name: istiod keeps the later entry's errors.
    let last = authorizers
        .iter()
        .rev()
        .find(|p| p.name == provider)
        .unwrap_or(p);
    if !last.problems.is_empty() {
        return Some(Err(format!(
            "found errors in provider {provider}: {}",
            last.problems.join("; ")
        )));
    }
    Some(Ok(
        chain == Chain::Http || last.kind == ExtensionProviderKind::ExtAuthzGrpc
    ))
}

/// The RBAC filters for a gateway HTTP chain whose workload `policies`
/// select (`policy::selection`: enforced and dry-run alike; each policy's
/// `dry_run` says where its rules go), with istiod's defaults.
pub fn build(policies: &[&AuthorizationPolicyDecl]) -> RbacConfig {
    build_with(policies, &BuildOptions::default())
}

/// As [`build`], for a chain of `opts.chain` with the mesh's settings.
pub fn build_with(policies: &[&AuthorizationPolicyDecl], opts: &BuildOptions<'_>) -> RbacConfig {
    let mut out = RbacConfig {
        policy_names: policies.iter().map(|p| qualified_name(p)).collect(),
        ..RbacConfig::default()
    };
    let bundle = trust_domain_bundle(opts.mesh);
    let for_tcp = opts.chain == Chain::Tcp;
    // CUSTOM: one provider per workload unless
    // PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS (default false).
    let mut custom_providers: Vec<&str> = policies
        .iter()
        .filter(|p| p.action == AuthzAction::Custom)
        .map(|p| p.provider.as_deref().unwrap_or(""))
        .collect();
    custom_providers.sort_unstable();
    custom_providers.dedup();
    let custom_fate: Vec<(&str, Option<Result<bool, String>>)> = custom_providers
        .iter()
        .map(|name| {
            let fate = if custom_providers.len() > 1 {
                Some(Err(format!(
                    "multiple CUSTOM authorization providers per workload need                      PILOT_ENABLE_MULTIPLE_CUSTOM_AUTHZ_PROVIDERS, found {custom_providers:?}"
                )))
            } else {
                custom_provider(opts.mesh, name, opts.chain)
            };
            (*name, fate)
        })
        .collect();
    for (name, fate) in &custom_fate {
        match fate {
            Some(Err(why)) => out.notes.push(format!(
                "CUSTOM provider {name:?}: {why}: istiod denies what its rules match instead"
            )),
            Some(Ok(false)) => out.notes.push(format!(
                "CUSTOM provider {name:?} is an HTTP authorizer: istiod writes no filter for it \
                 on a TCP chain, its policies refuse nothing there"
            )),
            None => out.notes.push(format!(
                "CUSTOM provider {name:?}: no MeshConfig extensionProviders given, so whether \
                 istiod can resolve it is not known"
            )),
            Some(Ok(true)) => {}
        }
    }
    let fate_of = |p: &AuthorizationPolicyDecl| {
        let name = p.provider.as_deref().unwrap_or("");
        custom_fate
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, f)| f.clone())
    };
    for action in [
        FilterAction::Custom,
        FilterAction::CustomDeny,
        FilterAction::Audit,
        FilterAction::Deny,
        FilterAction::Allow,
    ] {
        let mut rules: Option<Vec<RbacPolicy>> = None;
        let mut shadow: Option<Vec<RbacPolicy>> = None;
        for (pi, p) in policies.iter().enumerate() {
            let here = match action {
                FilterAction::Custom => {
                    p.action == AuthzAction::Custom && matches!(fate_of(p), None | Some(Ok(true)))
                }
                // Only enforced CUSTOM policies' rules are denied
                // (`getBadCustomDenyRules(providerRules)`).
                FilterAction::CustomDeny => {
                    p.action == AuthzAction::Custom
                        && !p.dry_run
                        && matches!(fate_of(p), Some(Err(_)))
                }
                a => FilterAction::of(p.action) == a,
            };
            if !here {
                continue;
            }
            // CUSTOM dry-run still reaches ext_authz (a limitation the
            // builder's source notes); kept with the enforced ones.
            let target = if p.dry_run
                && action != FilterAction::Custom
                && action != FilterAction::CustomDeny
            {
                shadow.get_or_insert_with(Vec::new)
            } else {
                rules.get_or_insert_with(Vec::new)
            };
            let ns = p.namespace.as_deref().unwrap_or("default");
            let suffix = if action == FilterAction::CustomDeny {
                "-deny-due-to-bad-CUSTOM-action"
            } else {
                ""
            };
            if p.rules.is_empty() {
                target.push(RbacPolicy {
                    name: format!("ns[{ns}]-policy[{}]-rule[0]{suffix}", p.name),
                    source: RuleSource {
                        policy: pi,
                        rule: None,
                    },
                    permissions: vec![Permission::Not(Box::new(Permission::Any))],
                    principals: vec![Principal::Not(Box::new(Principal::Any))],
                });
                continue;
            }
            for (ri, rule) in p.rules.iter().enumerate() {
                let name = format!("ns[{ns}]-policy[{}]-rule[{ri}]{suffix}", p.name);
                let at = format!("{} rules[{ri}] ({})", qualified_name(p), rule.origin);
                let rule = &migrate_trust_domain(rule, &bundle);
                let chain = if for_tcp { " on a TCP chain" } else { "" };
                match generate(rule, ns, action, for_tcp, &mut |m| {
                    out.notes.push(format!(
                        "{at}: {m} left out{chain}, as istiod does for a {} rule (a wider match)",
                        action.policy_action()
                    ))
                }) {
                    Ok((permissions, principals)) => target.push(RbacPolicy {
                        name,
                        source: RuleSource {
                            policy: pi,
                            rule: Some(ri),
                        },
                        permissions,
                        principals,
                    }),
                    Err(why) => out
                        .notes
                        .push(format!("{at}: skipped by istiod{chain} ({why})")),
                }
            }
        }
        if rules.is_some() || shadow.is_some() {
            out.filters.push(RbacFilter {
                action,
                rules,
                shadow_rules: shadow,
            });
        }
    }
    out
}

/// How one field's values become matchers: a per-value generator, or an
/// "extended" one taking all values at once (`extendedGenerator`). Each
/// gets the field's key and the policy's namespace.
enum Gen<T> {
    Each(fn(&Ctx<'_>, &str) -> Result<T, String>),
    All(fn(&Ctx<'_>, &[String]) -> Result<T, String>),
}

/// What a generator may read besides the value.
struct Ctx<'a> {
    key: &'a str,
    policy_ns: &'a str,
    /// `forTCP`: HTTP-only generators refuse.
    for_tcp: bool,
}

impl Ctx<'_> {
    /// `"<key>" is HTTP only` on a TCP chain.
    fn http_only(&self) -> Result<(), String> {
        if self.for_tcp {
            Err(format!("{:?} is HTTP only", self.key))
        } else {
            Ok(())
        }
    }
}

impl<T> Clone for Gen<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Gen<T> {}

/// One field of a rule (`model.go` `rule`), before generation.
struct Field<'a, T> {
    key: &'a str,
    values: &'a [String],
    not_values: &'a [String],
    gen: Gen<T>,
}

impl<T> Clone for Field<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Field<'_, T> {}

/// AND / OR / NOT over one matcher tree type.
trait Tree: Sized {
    fn any() -> Self;
    fn and(v: Vec<Self>) -> Self;
    fn or(v: Vec<Self>) -> Self;
    fn not(v: Self) -> Self;
}

impl Tree for Permission {
    fn any() -> Self {
        Permission::Any
    }
    fn and(v: Vec<Self>) -> Self {
        Permission::And(v)
    }
    fn or(v: Vec<Self>) -> Self {
        Permission::Or(v)
    }
    fn not(v: Self) -> Self {
        Permission::Not(Box::new(v))
    }
}

impl Tree for Principal {
    fn any() -> Self {
        Principal::Any
    }
    fn and(v: Vec<Self>) -> Self {
        Principal::And(v)
    }
    fn or(v: Vec<Self>) -> Self {
        Principal::Or(v)
    }
    fn not(v: Self) -> Self {
        Principal::Not(Box::new(v))
    }
}

/// `generatePermission` / `generatePrincipal`: the AND of the fields
/// (`any` when none), with `rule.checkError` applied per value.
fn and_of<T: Tree>(
    fields: &[Field<'_, T>],
    policy_ns: &str,
    action: FilterAction,
    for_tcp: bool,
    dropped: &mut dyn FnMut(String),
) -> Result<T, String> {
    let mut and = Vec::new();
    let mut check = |r: Result<T, String>, key: &str, v: &str| -> Result<Option<T>, String> {
        match r {
            Ok(t) => Ok(Some(t)),
            Err(e) if action == FilterAction::Allow => Err(e),
            Err(e) => {
                dropped(format!("{key} {v:?} ({e})"));
                Ok(None)
            }
        }
    };
    for f in fields {
        let ctx = Ctx {
            key: f.key,
            policy_ns,
            for_tcp,
        };
        for (values, negate) in [(f.values, false), (f.not_values, true)] {
            if values.is_empty() {
                continue;
            }
            let m = match f.gen {
                Gen::All(g) => check(g(&ctx, values), f.key, &values.join(","))?,
                Gen::Each(g) => {
                    let mut or = Vec::new();
                    for v in values {
                        if let Some(t) = check(g(&ctx, v), f.key, v)? {
                            or.push(t);
                        }
                    }
                    (!or.is_empty()).then(|| T::or(or))
                }
            };
            if let Some(m) = m {
                and.push(if negate { T::not(m) } else { m });
            }
        }
    }
    if and.is_empty() {
        and.push(T::any());
    }
    Ok(T::and(and))
}

/// `model.New` + `Generate(forTCP, useAuthenticated=true, action)` for
/// one rule: its permissions and principals.
fn generate(
    rule: &AuthzRule,
    policy_ns: &str,
    action: FilterAction,
    for_tcp: bool,
    dropped: &mut dyn FnMut(String),
) -> Result<(Vec<Permission>, Vec<Principal>), String> {
    let mut base_perm: Vec<Field<'_, Permission>> = Vec::new();
    let mut base_prin: Vec<Field<'_, Principal>> = Vec::new();
    for c in &rule.when {
        let key = c.key.trim();
        fn field<'a, T>(key: &'a str, c: &'a AuthzCondition, gen: Gen<T>) -> Field<'a, T> {
            Field {
                key,
                values: &c.values,
                not_values: &c.not_values,
                gen,
            }
        }
        let field_perm = |gen| field(key, c, gen);
        let field_prin = |gen| field(key, c, gen);
        match key {
            "destination.ip" => base_perm.push(field_perm(Gen::Each(dest_ip))),
            "destination.port" => base_perm.push(field_perm(Gen::Each(dest_port))),
            "connection.sni" => base_perm.push(field_perm(Gen::Each(sni))),
            "source.ip" => base_prin.push(field_prin(Gen::Each(src_ip))),
            "remote.ip" => base_prin.push(field_prin(Gen::Each(remote_ip))),
            "source.namespace" => base_prin.push(field_prin(Gen::Each(namespace))),
            "source.trustDomain" => base_prin.push(field_prin(Gen::Each(trust_domain))),
            "source.serviceAccount" => base_prin.push(field_prin(Gen::Each(service_account))),
            "source.principal" => base_prin.push(field_prin(Gen::Each(principal))),
            "request.auth.principal" => base_prin.push(field_prin(Gen::All(request_principals))),
            "request.auth.audiences" => base_prin.push(field_prin(Gen::All(audiences))),
            "request.auth.presenter" => base_prin.push(field_prin(Gen::All(presenter))),
            _ if key.starts_with("experimental.envoy.filters.") => {
                envoy_filter_key(key).ok_or_else(|| format!("invalid key: {key}"))?;
                base_perm.push(field_perm(Gen::All(envoy_filter)))
            }
            _ if key.starts_with("request.headers") => {
                bracketed(key, "request.headers")
                    .ok_or_else(|| format!("bad brackets in {key:?}"))?;
                base_prin.push(field_prin(Gen::Each(request_header)))
            }
            _ if key.starts_with("request.auth.claims") => {
                bracketed(key, "request.auth.claims")
                    .ok_or_else(|| format!("bad brackets in {key:?}"))?;
                base_prin.push(field_prin(Gen::All(claims)))
            }
            other => return Err(format!("unknown attribute {other}")),
        }
    }

    let mut principals = Vec::new();
    for s in &rule.from {
        // insertFront order: principals, requestPrincipals,
        // serviceAccounts, trustDomains, namespaces, remoteIpBlocks,
        // ipBlocks, then the `when` principals (`model.go` `New`).
        let field = |key, values, not_values, gen| Field {
            key,
            values,
            not_values,
            gen,
        };
        let mut fields: Vec<Field<'_, Principal>> = vec![
            field(
                "principals",
                &s.principals,
                &s.not_principals,
                Gen::Each(principal),
            ),
            field(
                "requestPrincipals",
                &s.request_principals,
                &s.not_request_principals,
                Gen::All(request_principals),
            ),
            field(
                "serviceAccounts",
                &s.service_accounts,
                &s.not_service_accounts,
                Gen::Each(service_account),
            ),
            field(
                "trustDomains",
                &s.trust_domains,
                &s.not_trust_domains,
                Gen::Each(trust_domain),
            ),
            field(
                "namespaces",
                &s.namespaces,
                &s.not_namespaces,
                Gen::Each(namespace),
            ),
            field(
                "remoteIpBlocks",
                &s.remote_ip_blocks,
                &s.not_remote_ip_blocks,
                Gen::Each(remote_ip),
            ),
            field(
                "ipBlocks",
                &s.ip_blocks,
                &s.not_ip_blocks,
                Gen::Each(src_ip),
            ),
        ];
        fields.extend(base_prin.iter().copied());
        principals.push(and_of(&fields, policy_ns, action, for_tcp, dropped)?);
    }
    if rule.from.is_empty() {
        principals.push(and_of(&base_prin, policy_ns, action, for_tcp, dropped)?);
    }

    let mut permissions = Vec::new();
    for o in &rule.to {
        let field = |key, values, not_values, gen| Field {
            key,
            values,
            not_values,
            gen,
        };
        let mut fields: Vec<Field<'_, Permission>> = vec![
            field("hosts", &o.hosts, &o.not_hosts, Gen::Each(host)),
            field("methods", &o.methods, &o.not_methods, Gen::Each(method)),
            field("paths", &o.paths, &o.not_paths, Gen::Each(path)),
            field("ports", &o.ports, &o.not_ports, Gen::Each(dest_port)),
        ];
        fields.extend(base_perm.iter().copied());
        permissions.push(and_of(&fields, policy_ns, action, for_tcp, dropped)?);
    }
    if rule.to.is_empty() {
        permissions.push(and_of(&base_perm, policy_ns, action, for_tcp, dropped)?);
    }
    Ok((permissions, principals))
}

/// `srcPrincipalGenerator`: `StringMatcherWithPrefix(v, "spiffe://")`.
fn principal(_: &Ctx<'_>, v: &str) -> Result<Principal, String> {
    Ok(Principal::Authenticated(Some(string_matcher_with_prefix(
        v,
        SPIFFE_PREFIX,
    ))))
}

/// `srcNamespaceGenerator`: regex `.*/ns/<ns>/.*`, literal parts quoted,
/// each `*` as `.*`.
fn namespace(_: &Ctx<'_>, v: &str) -> Result<Principal, String> {
    let ns: Vec<String> = v.split('*').map(quote_meta).collect();
    Ok(Principal::Authenticated(Some(StringMatcher::regex(
        format!(".*/ns/{}/.*", ns.join(".*")),
    ))))
}

/// `serviceAccountRegex`: `ns/sa`, or `sa` in the policy's namespace.
fn service_account(ctx: &Ctx<'_>, v: &str) -> Result<Principal, String> {
    let (ns, sa) = v.split_once('/').unwrap_or((ctx.policy_ns, v));
    Ok(Principal::Authenticated(Some(StringMatcher::regex(
        format!(
            "spiffe://.+/ns/{}/(.+/|)sa/{}(/.+)?",
            quote_meta(ns),
            quote_meta(sa)
        ),
    ))))
}

/// `srcTrustDomainGenerator`.
fn trust_domain(_: &Ctx<'_>, v: &str) -> Result<Principal, String> {
    let m = if v == "*" {
        StringMatcher::new(Pattern::Prefix(SPIFFE_PREFIX.to_owned()))
    } else if !v.contains('*') {
        StringMatcher::new(Pattern::Prefix(format!("{SPIFFE_PREFIX}{v}/")))
    } else {
        let (a, b) = v.split_once('*').unwrap_or((v, ""));
        StringMatcher::regex(format!(
            "spiffe://{}[^/]*{}/.*",
            quote_meta(a),
            quote_meta(b)
        ))
    };
    Ok(Principal::Authenticated(Some(m)))
}

fn claim(name: &str, m: StringMatcher) -> Principal {
    Principal::Metadata(MetadataMatcher {
        filter: JWT_FILTER.to_owned(),
        path: vec![JWT_PAYLOAD.to_owned(), name.to_owned()],
        value: ValueMatcher::String(m),
    })
}

/// `requestPrincipalGenerator.extendedPrincipal`: each value split at the
/// last `/` into `iss` and `sub` string matchers on the JWT payload.
fn request_principals(ctx: &Ctx<'_>, values: &[String]) -> Result<Principal, String> {
    ctx.http_only()?;
    let any = || StringMatcher::regex(".+");
    let exact = |s: &str| StringMatcher::new(Pattern::Exact(s.to_owned()));
    let mut or = Vec::new();
    for value in values {
        let (iss, sub, found) = match value.rfind('/') {
            Some(i) => (&value[..i], &value[i + 1..], true),
            None => (value.as_str(), "", false),
        };
        let (mi, ms) = if value == "*" {
            (any(), any())
        } else if let Some(rest) = value.strip_prefix('*') {
            if found {
                let mi = if iss == "*" {
                    any()
                } else {
                    StringMatcher::new(Pattern::Suffix(iss[1..].to_owned()))
                };
                (mi, exact(sub))
            } else {
                (any(), StringMatcher::new(Pattern::Suffix(rest.to_owned())))
            }
        } else if let Some(stripped) = value.strip_suffix('*') {
            if found {
                let ms = if sub == "*" {
                    any()
                } else {
                    StringMatcher::new(Pattern::Prefix(sub[..sub.len() - 1].to_owned()))
                };
                (exact(iss), ms)
            } else {
                (
                    StringMatcher::new(Pattern::Prefix(stripped.to_owned())),
                    any(),
                )
            }
        } else {
            (exact(iss), exact(sub))
        };
        or.push(Principal::And(vec![claim("iss", mi), claim("sub", ms)]));
    }
    Ok(if or.len() == 1 {
        or.remove(0)
    } else {
        Principal::Or(or)
    })
}

/// `matcher.StringOrMatcher`.
fn string_or(values: &[String]) -> ValueMatcher {
    let mut ms: Vec<ValueMatcher> = values
        .iter()
        .map(|v| ValueMatcher::String(string_matcher(v)))
        .collect();
    if ms.len() == 1 {
        ms.remove(0)
    } else {
        ValueMatcher::Or(ms)
    }
}

/// `MetadataListValueMatcherForJWTClaims` (extended form): the claim is a
/// list holding a matching value, or the value itself.
fn jwt_claims(claims: &[String], values: &[String]) -> MetadataMatcher {
    let value = string_or(values);
    MetadataMatcher {
        filter: JWT_FILTER.to_owned(),
        path: std::iter::once(JWT_PAYLOAD.to_owned())
            .chain(claims.iter().cloned())
            .collect(),
        value: ValueMatcher::Or(vec![
            ValueMatcher::ListOneOf(Box::new(value.clone())),
            value,
        ]),
    }
}

/// `requestClaimGenerator`: `request.auth.claims[a][b]`.
fn claims(ctx: &Ctx<'_>, values: &[String]) -> Result<Principal, String> {
    ctx.http_only()?;
    let path = bracketed(ctx.key, "request.auth.claims")
        .ok_or_else(|| format!("bad brackets in {:?}", ctx.key))?;
    Ok(Principal::Metadata(jwt_claims(&path, values)))
}

/// `requestHeaderGenerator`: `HeaderMatcher(name, v)`, case-sensitive.
fn request_header(ctx: &Ctx<'_>, v: &str) -> Result<Principal, String> {
    ctx.http_only()?;
    let name = bracketed(ctx.key, "request.headers")
        .ok_or_else(|| format!("bad brackets in {:?}", ctx.key))?
        .join("][");
    Ok(Principal::Header(header_matcher(&name, v, false)))
}

/// `methodGenerator`: `HeaderMatcher(":method", v)`, case-sensitive.
fn method(ctx: &Ctx<'_>, v: &str) -> Result<Permission, String> {
    ctx.http_only()?;
    Ok(Permission::Header(header_matcher(":method", v, false)))
}

fn audiences(ctx: &Ctx<'_>, values: &[String]) -> Result<Principal, String> {
    ctx.http_only()?;
    Ok(Principal::Metadata(jwt_claims(&["aud".to_owned()], values)))
}

fn presenter(ctx: &Ctx<'_>, values: &[String]) -> Result<Principal, String> {
    ctx.http_only()?;
    Ok(Principal::Metadata(jwt_claims(&["azp".to_owned()], values)))
}

/// `envoyFilterGenerator.extendedPermission`: `[v]` a list element, else
/// the value, ORed.
fn envoy_filter(ctx: &Ctx<'_>, values: &[String]) -> Result<Permission, String> {
    let (filter, key) =
        envoy_filter_key(ctx.key).ok_or_else(|| format!("invalid key: {}", ctx.key))?;
    let ms: Vec<ValueMatcher> = values
        .iter()
        .map(|v| {
            if v.starts_with('[') && v.ends_with(']') {
                let inner = v.trim_matches(|c| c == '[' || c == ']');
                ValueMatcher::ListOneOf(Box::new(ValueMatcher::String(string_matcher(inner))))
            } else {
                ValueMatcher::String(string_matcher(v))
            }
        })
        .collect();
    let value = if ms.len() == 1 {
        ms.into_iter()
            .next()
            .unwrap_or(ValueMatcher::Or(Vec::new()))
    } else {
        ValueMatcher::Or(ms)
    };
    Ok(Permission::Metadata(MetadataMatcher {
        filter,
        path: vec![key],
        value,
    }))
}

/// `experimental.envoy.filters.a.b[c]` → (`envoy.filters.a.b`, `c`).
fn envoy_filter_key(key: &str) -> Option<(String, String)> {
    let rest = key.strip_prefix("experimental.")?;
    let rest = rest.strip_suffix(']').unwrap_or(rest);
    let (filter, k) = rest.split_once('[')?;
    Some((filter.to_owned(), k.to_owned()))
}

/// `hostGenerator`: `HostMatcher(":authority", v)`.
fn host(ctx: &Ctx<'_>, v: &str) -> Result<Permission, String> {
    ctx.http_only()?;
    Ok(Permission::Header(header_matcher(":authority", v, true)))
}

/// `pathGenerator`: `{*}` / `{**}` make a `uri_template`
/// (`security.ContainsPathTemplate`, `matcher.PathTemplateMatcher`), else
/// `url_path` with `StringMatcher` (`*` → `.+`).
fn path(ctx: &Ctx<'_>, v: &str) -> Result<Permission, String> {
    ctx.http_only()?;
    if v.contains("{*}") || v.contains("{**}") {
        Ok(Permission::UriTemplate(
            v.replace("{**}", "**").replace("{*}", "*"),
        ))
    } else {
        Ok(Permission::UrlPath(string_matcher(v)))
    }
}

/// `destPortGenerator` / `convertToPort`: 0..=65535.
fn dest_port(_: &Ctx<'_>, v: &str) -> Result<Permission, String> {
    v.parse::<u32>()
        .ok()
        .filter(|p| *p <= 65535)
        .map(Permission::DestinationPort)
        .ok_or_else(|| format!("invalid port {v}"))
}

fn sni(_: &Ctx<'_>, v: &str) -> Result<Permission, String> {
    Ok(Permission::RequestedServerName(string_matcher(v)))
}

fn dest_ip(_: &Ctx<'_>, v: &str) -> Result<Permission, String> {
    cidr(v).map(Permission::DestinationIp)
}

fn src_ip(_: &Ctx<'_>, v: &str) -> Result<Principal, String> {
    cidr(v).map(Principal::DirectRemoteIp)
}

fn remote_ip(_: &Ctx<'_>, v: &str) -> Result<Principal, String> {
    cidr(v).map(Principal::RemoteIp)
}

/// `util.AddrStrToCidrRange`: an address or `addr/len`.
fn cidr(v: &str) -> Result<Cidr, String> {
    let (addr, len) = match v.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (v, None),
    };
    let address: IpAddr = addr
        .parse()
        .map_err(|_| format!("invalid IP address {v:?}"))?;
    let max = if address.is_ipv4() { 32 } else { 128 };
    let prefix_len = match len {
        None => max,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|l| *l <= max)
            .ok_or_else(|| format!("invalid prefix length in {v:?}"))?,
    };
    Ok(Cidr {
        address,
        prefix_len,
    })
}

/// Go's `regexp.QuoteMeta`, which Istio uses: a backslash before each of
/// `\.+*?()|[]{}^$` (not `-`, unlike `regex::escape`), so the regexes read
/// as Istio writes them.
fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `request.auth.claims[a][b]` → `["a", "b"]` (`extractNameInNestedBrackets`).
fn bracketed(key: &str, prefix: &str) -> Option<Vec<String>> {
    let mut rest = key.strip_prefix(prefix)?;
    let mut parts = Vec::new();
    while let Some(r) = rest.strip_prefix('[') {
        let end = r.find(']')?;
        parts.push(r[..end].to_owned());
        rest = &r[end + 1..];
    }
    (rest.is_empty() && !parts.is_empty()).then_some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::model::{AuthzOperation, AuthzSource, ExtensionProvider};

    const CTX: Ctx<'static> = Ctx {
        key: "",
        policy_ns: "foo",
        for_tcp: false,
    };

    fn exact(s: &str) -> StringMatcher {
        StringMatcher::new(Pattern::Exact(s.into()))
    }

    fn policy(action: AuthzAction, rules: Vec<AuthzRule>) -> AuthorizationPolicyDecl {
        AuthorizationPolicyDecl {
            name: "p".into(),
            namespace: Some("foo".into()),
            action,
            rules,
            ..AuthorizationPolicyDecl::default()
        }
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    /// builder testdata http/allow-full-rule rule[1]: the principal forms.
    #[test]
    fn principal_forms_as_string_matcher_with_prefix() {
        let m = |v| string_matcher_with_prefix(v, SPIFFE_PREFIX);
        assert_eq!(m("principal"), exact("spiffe://principal"));
        assert_eq!(
            m("principal-prefix-*"),
            StringMatcher::new(Pattern::Prefix("spiffe://principal-prefix-".into()))
        );
        assert_eq!(
            m("*-suffix-principal"),
            StringMatcher::regex("spiffe://.*-suffix-principal")
        );
        assert_eq!(m("*"), StringMatcher::regex(".+"));
        // Istio adds the prefix whatever the value holds.
        assert_eq!(
            m("spiffe://td/ns/a/sa/b"),
            exact("spiffe://spiffe://td/ns/a/sa/b")
        );
    }

    /// allow-full-rule: namespaces, serviceAccounts, trustDomains.
    #[test]
    fn namespace_service_account_trust_domain_regexes() {
        let regex = |p: Principal| match p {
            Principal::Authenticated(Some(StringMatcher {
                pattern: Pattern::Regex(r),
                ..
            })) => r,
            other => panic!("{other:?}"),
        };
        assert_eq!(regex(namespace(&CTX, "ns").unwrap()), ".*/ns/ns/.*");
        assert_eq!(
            regex(namespace(&CTX, "ns-prefix-*").unwrap()),
            ".*/ns/ns-prefix-.*/.*"
        );
        assert_eq!(regex(namespace(&CTX, "a.b").unwrap()), ".*/ns/a\\.b/.*");
        assert_eq!(
            regex(service_account(&CTX, "my-ns/my-sa").unwrap()),
            "spiffe://.+/ns/my-ns/(.+/|)sa/my-sa(/.+)?"
        );
        assert_eq!(
            regex(service_account(&CTX, "sa-only").unwrap()),
            "spiffe://.+/ns/foo/(.+/|)sa/sa-only(/.+)?"
        );
        assert_eq!(
            trust_domain(&CTX, "td").unwrap(),
            Principal::Authenticated(Some(StringMatcher::new(Pattern::Prefix(
                "spiffe://td/".into()
            ))))
        );
    }

    /// `model.go` `New`: a source's serviceAccounts and trustDomains sit
    /// after principals/requestPrincipals and before namespaces; a bare
    /// service account is in the policy's namespace (A09c, A23b).
    #[test]
    fn source_service_accounts_and_trust_domains_in_istios_order() {
        let rule = AuthzRule {
            from: vec![AuthzSource {
                namespaces: strings(&["ns"]),
                service_accounts: strings(&["sa-only"]),
                not_trust_domains: strings(&["bad*"]),
                principals: strings(&["p"]),
                ..AuthzSource::default()
            }],
            ..AuthzRule::default()
        };
        let cfg = build(&[&policy(AuthzAction::Allow, vec![rule])]);
        let p = &cfg.filters[0].rules.as_ref().unwrap()[0];
        let auth = |r: &str| Principal::Authenticated(Some(StringMatcher::regex(r)));
        assert_eq!(
            p.principals,
            [Principal::And(vec![
                Principal::Or(vec![Principal::Authenticated(Some(exact("spiffe://p")))]),
                Principal::Or(vec![auth("spiffe://.+/ns/foo/(.+/|)sa/sa-only(/.+)?")]),
                Principal::Not(Box::new(Principal::Or(vec![auth("spiffe://bad[^/]*/.*")]))),
                Principal::Or(vec![auth(".*/ns/ns/.*")]),
            ])]
        );
    }

    /// istio `pilot/pkg/security/trustdomain/bundle_test.go`
    /// `TestReplaceTrustDomainAliases`, every case (bundle: trust domain
    /// first, then its aliases).
    #[test]
    fn trust_domain_aliases_replaced_as_istios_bundle_test() {
        let cases: &[(&[&str], &[&str], &[&str])] = &[
            (
                &["cluster.local"],
                &["cluster.local/ns/foo/sa/bar"],
                &["cluster.local/ns/foo/sa/bar"],
            ),
            (&["cluster.local"], &["*"], &["*"]),
            (
                &["cluster.local"],
                &["*/ns/foo/sa/bar"],
                &["*/ns/foo/sa/bar"],
            ),
            (
                &["td2", "td1"],
                &["td1/ns/foo/sa/bar"],
                &["td2/ns/foo/sa/bar", "td1/ns/foo/sa/bar"],
            ),
            (
                &["td1", "cluster.local"],
                &["cluster.local/ns/foo/sa/bar", "cluster.local/ns/yyy/sa/zzz"],
                &[
                    "td1/ns/foo/sa/bar",
                    "cluster.local/ns/foo/sa/bar",
                    "td1/ns/yyy/sa/zzz",
                    "cluster.local/ns/yyy/sa/zzz",
                ],
            ),
            (
                &["td1", "cluster.local"],
                &["*/ns/foo/sa/bar", "*sa/zzz", "*"],
                &["*/ns/foo/sa/bar", "*sa/zzz", "*"],
            ),
            (
                &["td2", "td1", "cluster.local"],
                &["cluster.local/ns/foo/sa/bar", "td1/ns/yyy/sa/zzz"],
                &[
                    "td2/ns/foo/sa/bar",
                    "td1/ns/foo/sa/bar",
                    "cluster.local/ns/foo/sa/bar",
                    "td2/ns/yyy/sa/zzz",
                    "td1/ns/yyy/sa/zzz",
                    "cluster.local/ns/yyy/sa/zzz",
                ],
            ),
            (
                &["td2", "foo-td1", "cluster.local"],
                &["*-td1/ns/foo/sa/bar"],
                &[
                    "td2/ns/foo/sa/bar",
                    "*-td1/ns/foo/sa/bar",
                    "cluster.local/ns/foo/sa/bar",
                ],
            ),
            (
                &["td1", "td2"],
                &["some-td/ns/foo/sa/bar"],
                &["some-td/ns/foo/sa/bar"],
            ),
            (
                &["td1", "td2", "some-td"],
                &["some-td/ns/foo/sa/bar"],
                &[
                    "td1/ns/foo/sa/bar",
                    "td2/ns/foo/sa/bar",
                    "some-td/ns/foo/sa/bar",
                ],
            ),
            (
                &["new-td", "td2", "td3"],
                &["td1/ns/some-ns/sa/some-sa", "td2/ns/foo/sa/bar"],
                &[
                    "td1/ns/some-ns/sa/some-sa",
                    "new-td/ns/foo/sa/bar",
                    "td2/ns/foo/sa/bar",
                    "td3/ns/foo/sa/bar",
                ],
            ),
            (
                &["new-td", "td2", "td3"],
                &["/ns/some-ns/sa/some-sa"],
                &["/ns/some-ns/sa/some-sa"],
            ),
            (
                &["new-td", "old-td"],
                &["*-td/ns/some-ns/sa/some-sa"],
                &["*-td/ns/some-ns/sa/some-sa"],
            ),
        ];
        for (bundle, principals, want) in cases {
            assert_eq!(
                replace_trust_domain_aliases(&strings(principals), &strings(bundle)),
                strings(want),
                "bundle {bundle:?}, principals {principals:?}"
            );
        }
        assert_eq!(
            expand_trust_domain_aliases(&strings(&["td1", "x", "td2"]), &strings(&["td1", "td2"])),
            strings(&["td1", "td2", "x"])
        );
    }

    fn mesh(providers: Option<Vec<ExtensionProvider>>) -> MeshAuthz {
        MeshAuthz {
            extension_providers: providers,
            ..MeshAuthz::default()
        }
    }

    fn provider(name: &str, kind: ExtensionProviderKind, problems: &[&str]) -> ExtensionProvider {
        ExtensionProvider {
            name: name.into(),
            origin: Default::default(),
            kind,
            problems: strings(problems),
        }
    }

    /// builder tests `TestGenerator_GenerateTCP` `allow-only-http` (every
    /// rule HTTP-only: ALLOW with no policy) and `deny-both-http-tcp` (the
    /// HTTP-only field dropped: the DENY rule becomes any).
    #[test]
    fn tcp_chains_drop_http_only_fields() {
        let tcp = BuildOptions {
            chain: Chain::Tcp,
            mesh: None,
        };
        let allow = policy(
            AuthzAction::Allow,
            vec![
                AuthzRule {
                    from: vec![AuthzSource {
                        request_principals: strings(&["id-1"]),
                        ..AuthzSource::default()
                    }],
                    ..AuthzRule::default()
                },
                AuthzRule {
                    to: vec![AuthzOperation {
                        hosts: strings(&["example.com"]),
                        ..AuthzOperation::default()
                    }],
                    ..AuthzRule::default()
                },
            ],
        );
        let cfg = build_with(&[&allow], &tcp);
        assert_eq!(cfg.filters[0].rules.as_ref().map(Vec::len), Some(0));
        assert_eq!(cfg.notes.len(), 2, "{:?}", cfg.notes);
        // The same policy on an HTTP chain keeps both rules.
        assert_eq!(
            build(&[&allow]).filters[0].rules.as_ref().map(Vec::len),
            Some(2)
        );

        let deny = policy(
            AuthzAction::Deny,
            vec![AuthzRule {
                to: vec![AuthzOperation {
                    methods: strings(&["GET"]),
                    ports: strings(&["8080"]),
                    ..AuthzOperation::default()
                }],
                ..AuthzRule::default()
            }],
        );
        let cfg = build_with(&[&deny], &tcp);
        let p = &cfg.filters[0].rules.as_ref().unwrap()[0];
        assert_eq!(
            p.permissions,
            [Permission::And(vec![Permission::Or(vec![
                Permission::DestinationPort(8080)
            ])])]
        );
    }

    /// `getExtAuthz` / `buildTCP`: which CUSTOM providers get an authorizer,
    /// no filter, or a deny.
    #[test]
    fn custom_providers_as_istiod_resolves_them() {
        use ExtensionProviderKind::*;
        let custom = |name: &str| AuthorizationPolicyDecl {
            provider: Some(name.into()),
            ..policy(AuthzAction::Custom, vec![AuthzRule::default()])
        };
        let actions = |cfg: &RbacConfig| cfg.filters.iter().map(|f| f.action).collect::<Vec<_>>();
        fn opts(m: &MeshAuthz, chain: Chain) -> BuildOptions<'_> {
            BuildOptions {
                chain,
                mesh: Some(m),
            }
        }
        let a = custom("a");
        let good = mesh(Some(vec![provider("a", ExtAuthzHttp, &[])]));
        assert_eq!(
            actions(&build_with(&[&a], &opts(&good, Chain::Http))),
            [FilterAction::Custom]
        );
        // An HTTP provider has nothing to attach to on a TCP chain.
        assert!(build_with(&[&a], &opts(&good, Chain::Tcp))
            .filters
            .is_empty());
        let grpc = mesh(Some(vec![provider("a", ExtAuthzGrpc, &[])]));
        assert_eq!(
            actions(&build_with(&[&a], &opts(&grpc, Chain::Tcp))),
            [FilterAction::Custom]
        );
        // Undefined, invalid, none at all: deny.
        for m in [
            mesh(None),
            mesh(Some(vec![provider("b", ExtAuthzHttp, &[])])),
            mesh(Some(vec![provider("a", ExtAuthzHttp, &["port"])])),
            mesh(Some(vec![provider("a", Other, &[])])),
        ] {
            let cfg = build_with(&[&a], &opts(&m, Chain::Http));
            assert_eq!(actions(&cfg), [FilterAction::CustomDeny], "{m:?}");
            assert!(cfg.filters[0].rules.as_ref().unwrap()[0]
                .name
                .ends_with("-deny-due-to-bad-CUSTOM-action"));
        }
        // Two providers on one workload: both denied.
        let two = mesh(Some(vec![
            provider("a", ExtAuthzHttp, &[]),
            provider("b", ExtAuthzHttp, &[]),
        ]));
        let b = custom("b");
        let cfg = build_with(&[&a, &b], &opts(&two, Chain::Http));
        assert_eq!(actions(&cfg), [FilterAction::CustomDeny]);
        assert_eq!(cfg.filters[0].rules.as_ref().unwrap().len(), 2);
        // No MeshConfig given: the authorizer is assumed, decided there.
        assert_eq!(actions(&build(&[&a])), [FilterAction::Custom]);
    }

    #[test]
    fn request_principal_split_at_the_last_slash() {
        let p = request_principals(&CTX, &strings(&["https://issuer.example.com/sub1"])).unwrap();
        assert_eq!(
            p,
            Principal::And(vec![
                claim("iss", exact("https://issuer.example.com")),
                claim("sub", exact("sub1")),
            ])
        );
    }

    /// Hosts: ignore_case, no port handling; paths: templates (A12, A15).
    #[test]
    fn hosts_paths_ports() {
        assert_eq!(
            host(&CTX, "example.com").unwrap(),
            Permission::Header(HeaderMatcher {
                name: ":authority".into(),
                string_match: Some(StringMatcher {
                    pattern: Pattern::Exact("example.com".into()),
                    ignore_case: true
                })
            })
        );
        assert_eq!(
            path(&CTX, "/path/template/{*}").unwrap(),
            Permission::UriTemplate("/path/template/*".into())
        );
        assert_eq!(
            path(&CTX, "/{**}/path/template").unwrap(),
            Permission::UriTemplate("/**/path/template".into())
        );
        assert_eq!(
            path(&CTX, "*").unwrap(),
            Permission::UrlPath(StringMatcher::regex(".+"))
        );
        assert!(dest_port(&CTX, "70000").is_err());
    }

    /// R-A4, R-A9, R-A10: order, names, never-match, dry-run.
    #[test]
    fn filters_order_names_and_dry_run() {
        let allow_dry = AuthorizationPolicyDecl {
            dry_run: true,
            ..policy(AuthzAction::Allow, vec![AuthzRule::default()])
        };
        let deny = policy(AuthzAction::Deny, vec![]);
        let audit = policy(AuthzAction::Audit, vec![AuthzRule::default()]);
        let cfg = build(&[&allow_dry, &deny, &audit]);
        let actions: Vec<FilterAction> = cfg.filters.iter().map(|f| f.action).collect();
        assert_eq!(
            actions,
            [FilterAction::Audit, FilterAction::Deny, FilterAction::Allow]
        );
        let allow = cfg.filter(FilterAction::Allow).unwrap();
        assert!(allow.rules.is_none());
        let shadow = allow.shadow_rules.as_ref().unwrap();
        assert_eq!(shadow[0].name, "ns[foo]-policy[p]-rule[0]");
        assert_eq!(
            shadow[0].permissions,
            [Permission::And(vec![Permission::Any])]
        );
        let deny = &cfg
            .filter(FilterAction::Deny)
            .unwrap()
            .rules
            .as_ref()
            .unwrap()[0];
        assert_eq!(deny.source.rule, None);
        assert_eq!(
            deny.permissions,
            [Permission::Not(Box::new(Permission::Any))]
        );
    }

    /// `checkError`: a bad port drops an ALLOW rule, only the value of a DENY.
    #[test]
    fn invalid_values_drop_allow_rules_and_deny_values() {
        let rule = AuthzRule {
            to: vec![AuthzOperation {
                ports: strings(&["x"]),
                paths: strings(&["/a"]),
                ..AuthzOperation::default()
            }],
            ..AuthzRule::default()
        };
        let allow = policy(AuthzAction::Allow, vec![rule.clone()]);
        let cfg = build(&[&allow]);
        assert_eq!(cfg.filters[0].rules.as_ref().unwrap().len(), 0);
        assert!(cfg.notes[0].contains("skipped"), "{:?}", cfg.notes);
        let deny = policy(AuthzAction::Deny, vec![rule]);
        let cfg = build(&[&deny]);
        let p = &cfg.filters[0].rules.as_ref().unwrap()[0];
        assert_eq!(
            p.permissions,
            [Permission::And(vec![Permission::Or(vec![
                Permission::UrlPath(exact("/a"))
            ])])]
        );
        // An unknown `when` key skips the rule whatever the action.
        let bad = AuthzRule {
            when: vec![AuthzCondition {
                key: "request.nope".into(),
                values: strings(&["1"]),
                not_values: vec![],
            }],
            from: vec![AuthzSource::default()],
            ..AuthzRule::default()
        };
        let cfg = build(&[&policy(AuthzAction::Deny, vec![bad])]);
        assert!(cfg.filters[0].rules.as_ref().unwrap().is_empty());
    }

    /// builder testdata `http/allow-full-rule` rule[1]'s operation and
    /// `when` (A13, A14, A16, A17): one AND, fields in Istio's order
    /// hosts, methods, paths, ports, then the `when` permissions.
    #[test]
    fn allow_full_rule_operation_matches_istios_testdata() {
        let rule = AuthzRule {
            to: vec![AuthzOperation {
                methods: strings(&["method", "method-prefix-*", "*-suffix-method", "*"]),
                ports: strings(&["80", "90"]),
                not_ports: strings(&["8000", "9000"]),
                paths: strings(&[
                    "/exact",
                    "/prefix/*",
                    "*/suffix",
                    "*",
                    "/path/template/{*}",
                    "/{**}/path/template",
                ]),
                ..AuthzOperation::default()
            }],
            when: vec![
                AuthzCondition {
                    key: "connection.sni".into(),
                    values: strings(&["exact.com", "*"]),
                    not_values: vec![],
                },
                AuthzCondition {
                    key: "experimental.envoy.filters.a.b[c]".into(),
                    values: strings(&["exact", "prefix-*"]),
                    not_values: vec![],
                },
            ],
            ..AuthzRule::default()
        };
        let cfg = build(&[&policy(AuthzAction::Allow, vec![rule])]);
        let p = &cfg.filters[0].rules.as_ref().unwrap()[0];
        let Permission::And(and) = &p.permissions[0] else {
            panic!("{:?}", p.permissions)
        };
        let m = |pattern| StringMatcher::new(pattern);
        let method = |sm: Option<StringMatcher>| {
            Permission::Header(HeaderMatcher {
                name: ":method".into(),
                string_match: sm,
            })
        };
        assert_eq!(
            and[0],
            Permission::Or(vec![
                method(Some(m(Pattern::Exact("method".into())))),
                method(Some(m(Pattern::Prefix("method-prefix-".into())))),
                method(Some(m(Pattern::Suffix("-suffix-method".into())))),
                method(None),
            ])
        );
        assert_eq!(
            and[1],
            Permission::Or(vec![
                Permission::UrlPath(exact("/exact")),
                Permission::UrlPath(m(Pattern::Prefix("/prefix/".into()))),
                Permission::UrlPath(m(Pattern::Suffix("/suffix".into()))),
                Permission::UrlPath(StringMatcher::regex(".+")),
                Permission::UriTemplate("/path/template/*".into()),
                Permission::UriTemplate("/**/path/template".into()),
            ])
        );
        assert_eq!(
            and[2],
            Permission::Or(vec![
                Permission::DestinationPort(80),
                Permission::DestinationPort(90)
            ])
        );
        assert_eq!(
            and[3],
            Permission::Not(Box::new(Permission::Or(vec![
                Permission::DestinationPort(8000),
                Permission::DestinationPort(9000)
            ])))
        );
        assert_eq!(
            and[4],
            Permission::Or(vec![
                Permission::RequestedServerName(exact("exact.com")),
                Permission::RequestedServerName(StringMatcher::regex(".+")),
            ])
        );
        assert_eq!(
            and[5],
            Permission::Metadata(MetadataMatcher {
                filter: "envoy.filters.a.b".into(),
                path: vec!["c".into()],
                value: ValueMatcher::Or(vec![
                    ValueMatcher::String(exact("exact")),
                    ValueMatcher::String(m(Pattern::Prefix("prefix-".into()))),
                ]),
            })
        );
        assert_eq!(and.len(), 6);
    }
}
