//! AuthorizationPolicy and RequestAuthentication on the lab's Envoy: the
//! `jwt_authn` and RBAC filters istiod generates
//! ([`crate::policy::istiod::rbac`], [`crate::policy::istiod::jwt_authn`]),
//! rendered to Envoy's JSON. The lab holds no Istio rule of its own: which
//! policies apply, what each rule becomes and in which order the filters
//! run all come from the model; here is only the JSON spelling and the
//! lab's own concerns:
//! - CUSTOM is not rendered (the lab has no external authorizer), with a
//!   note;
//! - `Principal.metadata` (what Istio writes) is deprecated in Envoy 1.40;
//!   the lab writes its replacement `sourced_metadata`, which matches the
//!   same;
//! - JWKS: an inline `jwks` is used as declared; otherwise the lab makes a
//!   key pair per issuer and reads `jwt/<slug>/jwks.json` (no `jwksUri` is
//!   fetched);
//! - `destination_port`: the lab's listener stands for a gateway listener
//!   on the declared port, but Envoy binds an ephemeral one, which the
//!   renderer does not see (`lab::config` owns the addresses). So a
//!   `destination_port` equal to the declared port is rendered as `any`
//!   and any other as `not any` — what Envoy would decide on a listener
//!   bound to the declared port.

use std::path::Path;

use serde_json::{json, Value};

use super::jwt::{issuer_slug, IssuerFiles};
use crate::policy::istiod::jwt_authn::{self, Jwks, Requirement};
use crate::policy::istiod::rbac::{
    self as model, Cidr, FilterAction, HeaderMatcher, MetadataMatcher, Pattern, Permission,
    Principal, RbacPolicy, StringMatcher, ValueMatcher,
};
use crate::policy::selection::{self, Workload};
use crate::policy::{AuthorizationPolicyDecl, AuthzRule, DeclaredPolicy};

/// Envoy's filter names.
pub const JWT_FILTER: &str = model::JWT_FILTER;
pub const RBAC_FILTER: &str = "envoy.filters.http.rbac";
/// Where `jwt_authn` puts a verified payload (the model's key).
pub const JWT_PAYLOAD: &str = model::JWT_PAYLOAD;

/// The HTTP authentication and authorization filters of one listener.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpPolicy {
    /// The deny istiod writes in CUSTOM's place for a provider it cannot
    /// resolve (`FilterAction::CustomDeny`): rendered before `jwt_authn`,
    /// where the CUSTOM filters sit (`listener_builder.go`).
    pub pre_authn: Vec<RbacFilter>,
    pub jwt_providers: Vec<JwtProvider>,
    /// Enforced rules, one filter per action in the model's order.
    pub rbac: Vec<RbacFilter>,
    /// Dry-run (`shadow_rules`), per action; rendered into the filter of
    /// the same action (alone when nothing of that action is enforced).
    pub shadow: Vec<RbacFilter>,
    /// What was left out and why, one line each.
    pub notes: Vec<String>,
}

impl HttpPolicy {
    pub fn is_empty(&self) -> bool {
        self.jwt_providers.is_empty()
            && self.rbac.is_empty()
            && self.shadow.is_empty()
            && self.pre_authn.is_empty()
    }

    /// One line per rendered RBAC rule and JWT provider, then the notes.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for f in &self.pre_authn {
            for r in &f.rules {
                lines.push(format!(
                    "DENY {}  ({}: the CUSTOM provider cannot be resolved, istiod denies)",
                    r.summary, r.name
                ));
            }
        }
        for f in &self.rbac {
            if f.action == RbacAction::Allow {
                lines.push(
                    "ALLOW policies present: requests no ALLOW rule matches are denied (403)"
                        .to_owned(),
                );
            }
            for r in &f.rules {
                lines.push(format!("{} {}  ({})", f.action.as_str(), r.summary, r.name));
            }
        }
        for f in &self.shadow {
            for r in &f.rules {
                lines.push(format!(
                    "dry-run {} {}  ({}, shadow rules: enforce nothing)",
                    f.action.as_str(),
                    r.summary,
                    r.name
                ));
            }
        }
        for p in &self.jwt_providers {
            let keys = match &p.jwks {
                JwksSource::Inline(_) => "inline jwks as declared".to_owned(),
                JwksSource::Lab { slug } => format!("keys made by the lab (jwt/{slug}/)"),
            };
            let aud = if p.audiences.is_empty() {
                String::new()
            } else {
                format!(", audiences [{}]", p.audiences.join(", "))
            };
            lines.push(format!(
                "JWT issuer {} ({}): {keys}{aud}; no token passes authentication, an invalid \
                 one is 401",
                p.issuer, p.source
            ));
        }
        lines.extend(self.notes.iter().map(|n| format!("note: {n}")));
        lines
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RbacAction {
    Allow,
    Deny,
    /// AUDIT: Envoy's `LOG`, never denies.
    Log,
}

impl RbacAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RbacAction::Allow => "ALLOW",
            RbacAction::Deny => "DENY",
            RbacAction::Log => "LOG",
        }
    }
}

/// One `envoy.filters.http.rbac` filter's rules (enforced or shadow).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RbacFilter {
    pub action: RbacAction,
    pub rules: Vec<RbacRule>,
    /// The model's stat prefix for these rules when they are shadow rules.
    pub shadow_stat_prefix: &'static str,
}

/// One rendered rule: an Envoy RBAC policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RbacRule {
    /// Istio's name: `ns[istio-system]-policy[test]-rule[0]`.
    pub name: String,
    /// `principals [spiffe://test.client] paths [/status/418]`.
    pub summary: String,
    /// The Envoy `Policy` (`permissions`, `principals`).
    pub policy: Value,
}

/// One `jwt_authn` provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtProvider {
    /// `origins-0`, …
    pub name: String,
    pub issuer: String,
    pub audiences: Vec<String>,
    pub jwks: JwksSource,
    pub from_headers: Vec<(String, Option<String>)>,
    pub from_params: Vec<String>,
    pub from_cookies: Vec<String>,
    pub forward: bool,
    /// `requestauthentication istio-system/x jwtRules[0]`.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// `jwtRules[].jwks` as written.
    Inline(String),
    /// `jwksUri` (or nothing): the lab makes a key pair and writes
    /// `jwt/<slug>/` at start (see [`super::jwt::write_issuer`]).
    Lab { slug: String },
}

/// The filters for a listener serving `declared_port` to the gateway
/// `workloads` (one per Gateway with a server on that port): the model of
/// what istiod generates for the policies `policy::selection` applies.
pub fn http_policy(
    policy: &DeclaredPolicy,
    workloads: &[Workload],
    declared_port: u16,
) -> HttpPolicy {
    let mut out = HttpPolicy::default();
    let authns = selection::request_authentications(policy, workloads);
    let authzs = selection::authorization_policies(policy, workloads);
    out.notes.extend(authns.notes);
    out.notes.extend(authzs.notes.iter().cloned());

    if let Some(filter) = jwt_authn::build(&authns.applied) {
        let mut slugs: Vec<(String, String)> = Vec::new();
        for p in filter.providers {
            let ra = authns.applied[p.source.policy];
            let name = qualified(&ra.namespace, &ra.name);
            let source = format!("requestauthentication {name} jwtRules[{}]", p.source.rule);
            if p.issuer.is_empty() {
                out.notes.push(format!(
                    "{source}: no issuer; the lab cannot make keys for it, skipped"
                ));
                continue;
            }
            let jwks = match &p.jwks {
                Jwks::Inline(inline) => {
                    out.notes.push(format!(
                        "{source}: inline jwks used as declared; the lab has no private key for \
                         it, so it writes no tokens for {} (only missing and invalid tokens can \
                         be tried)",
                        p.issuer
                    ));
                    JwksSource::Inline(inline.clone())
                }
                other => {
                    // One key pair per issuer, whichever rules name it.
                    let known = slugs.iter().find(|(iss, _)| *iss == p.issuer);
                    let slug = match known {
                        Some((_, slug)) => slug.clone(),
                        None => {
                            let mut slug = issuer_slug(&p.issuer);
                            if slugs.iter().any(|(_, s)| *s == slug) {
                                slug = format!("{slug}-{}", slugs.len());
                            }
                            slugs.push((p.issuer.clone(), slug.clone()));
                            slug
                        }
                    };
                    if let Jwks::Uri(uri) = other {
                        out.notes.push(format!(
                            "{source}: jwksUri {uri} is not fetched (no internet in the lab); \
                             the lab signs tokens for {} with its own key",
                            p.issuer
                        ));
                    }
                    JwksSource::Lab { slug }
                }
            };
            out.jwt_providers.push(JwtProvider {
                name: p.name,
                issuer: p.issuer,
                audiences: p.audiences,
                jwks,
                from_headers: p.from_headers,
                from_params: p.from_params,
                from_cookies: p.from_cookies,
                forward: p.forward,
                source,
            });
        }
    }

    let selected: Vec<&AuthorizationPolicyDecl> = authzs.built_from();
    let config = model::build_with(
        &selected,
        &model::BuildOptions {
            chain: model::Chain::Http,
            mesh: policy.mesh_authz.as_ref(),
        },
    );
    for n in &config.notes {
        out.notes.push(format!("authorizationpolicy {n}"));
    }
    for f in &config.filters {
        let action = match f.action {
            FilterAction::Custom => {
                for p in f.rules.iter().flatten() {
                    let ap = selected[p.source.policy];
                    out.notes.push(format!(
                        "authorizationpolicy {}: CUSTOM (provider {}) needs an external \
                         authorizer the lab does not have; skipped",
                        qualified(&ap.namespace, &ap.name),
                        ap.provider.as_deref().unwrap_or("unset")
                    ));
                }
                continue;
            }
            FilterAction::Audit => RbacAction::Log,
            FilterAction::Deny | FilterAction::CustomDeny => RbacAction::Deny,
            FilterAction::Allow => RbacAction::Allow,
        };
        let render = |policies: &[RbacPolicy]| RbacFilter {
            action,
            shadow_stat_prefix: f.action.shadow_stat_prefix(),
            rules: policies
                .iter()
                .map(|p| rendered(p, &selected, declared_port))
                .collect(),
        };
        if let Some(rules) = &f.rules {
            if f.action == FilterAction::CustomDeny {
                out.pre_authn.push(render(rules));
            } else {
                out.rbac.push(render(rules));
            }
        }
        if let Some(shadow) = &f.shadow_rules {
            out.shadow.push(render(shadow));
        }
    }
    out
}

fn qualified(ns: &Option<String>, name: &str) -> String {
    match ns {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_owned(),
    }
}

fn rendered(p: &RbacPolicy, selected: &[&AuthorizationPolicyDecl], port: u16) -> RbacRule {
    let ap = selected[p.source.policy];
    let summary = match p.source.rule {
        Some(i) => summary(&ap.rules[i]),
        None => "nothing (a policy without rules matches no request)".to_owned(),
    };
    RbacRule {
        name: p.name.clone(),
        summary,
        policy: json!({
            "permissions": p.permissions.iter().map(|x| permission(x, port)).collect::<Vec<_>>(),
            "principals": p.principals.iter().map(principal).collect::<Vec<_>>(),
        }),
    }
}

/// The declared rule in one line, for the lab's description.
fn summary(rule: &AuthzRule) -> String {
    let mut parts: Vec<String> = Vec::new();
    let field = |parts: &mut Vec<String>, name: &str, values: &[String], nots: &[String]| {
        let shown = |vs: &[String]| {
            vs.iter()
                .map(|v| {
                    if name == "principals" && !v.starts_with('*') {
                        format!("{}{v}", model::SPIFFE_PREFIX)
                    } else {
                        v.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !values.is_empty() {
            parts.push(format!("{name} [{}]", shown(values)));
        }
        if !nots.is_empty() {
            let mut c = name.chars();
            let first = c.next().map(|f| f.to_ascii_uppercase()).unwrap_or_default();
            parts.push(format!("not{first}{} [{}]", c.as_str(), shown(nots)));
        }
    };
    let many_from = rule.from.len() > 1;
    for (i, s) in rule.from.iter().enumerate() {
        let mut p = Vec::new();
        field(&mut p, "principals", &s.principals, &s.not_principals);
        field(
            &mut p,
            "requestPrincipals",
            &s.request_principals,
            &s.not_request_principals,
        );
        field(
            &mut p,
            "serviceAccounts",
            &s.service_accounts,
            &s.not_service_accounts,
        );
        field(
            &mut p,
            "trustDomains",
            &s.trust_domains,
            &s.not_trust_domains,
        );
        field(&mut p, "namespaces", &s.namespaces, &s.not_namespaces);
        field(
            &mut p,
            "remoteIpBlocks",
            &s.remote_ip_blocks,
            &s.not_remote_ip_blocks,
        );
        field(&mut p, "ipBlocks", &s.ip_blocks, &s.not_ip_blocks);
        if many_from {
            parts.push(format!("from[{i}]: {};", p.join(" ")));
        } else {
            parts.extend(p);
        }
    }
    let many_to = rule.to.len() > 1;
    for (i, o) in rule.to.iter().enumerate() {
        let mut p = Vec::new();
        field(&mut p, "hosts", &o.hosts, &o.not_hosts);
        field(&mut p, "methods", &o.methods, &o.not_methods);
        field(&mut p, "paths", &o.paths, &o.not_paths);
        field(&mut p, "ports", &o.ports, &o.not_ports);
        if many_to {
            parts.push(format!("to[{i}]: {};", p.join(" ")));
        } else {
            parts.extend(p);
        }
    }
    for c in &rule.when {
        if !c.values.is_empty() {
            parts.push(format!("when {} [{}]", c.key, c.values.join(", ")));
        }
        if !c.not_values.is_empty() {
            parts.push(format!(
                "when {} not in [{}]",
                c.key,
                c.not_values.join(", ")
            ));
        }
    }
    if parts.is_empty() {
        "every request".to_owned()
    } else {
        parts.join(" ")
    }
}

fn string_matcher(m: &StringMatcher) -> Value {
    let mut v = match &m.pattern {
        Pattern::Exact(e) => json!({"exact": e}),
        Pattern::Prefix(p) => json!({"prefix": p}),
        Pattern::Suffix(s) => json!({"suffix": s}),
        Pattern::Regex(r) => json!({"safe_regex": {"regex": r}}),
    };
    if m.ignore_case {
        v["ignore_case"] = json!(true);
    }
    v
}

fn header(h: &HeaderMatcher) -> Value {
    match &h.string_match {
        None => json!({"header": {"name": h.name, "present_match": true}}),
        Some(m) => json!({"header": {"name": h.name, "string_match": string_matcher(m)}}),
    }
}

fn cidr(c: &Cidr) -> Value {
    json!({"address_prefix": c.address.to_string(), "prefix_len": c.prefix_len})
}

fn value_matcher(v: &ValueMatcher) -> Value {
    match v {
        ValueMatcher::String(m) => json!({"string_match": string_matcher(m)}),
        ValueMatcher::ListOneOf(inner) => json!({"list_match": {"one_of": value_matcher(inner)}}),
        ValueMatcher::Or(ms) => {
            json!({"or_match": {"value_matchers": ms.iter().map(value_matcher).collect::<Vec<_>>()}})
        }
    }
}

fn metadata_matcher(m: &MetadataMatcher) -> Value {
    json!({
        "filter": m.filter,
        "path": m.path.iter().map(|k| json!({"key": k})).collect::<Vec<_>>(),
        "value": value_matcher(&m.value),
    })
}

fn permission(p: &Permission, declared_port: u16) -> Value {
    let all = |v: &[Permission]| {
        v.iter()
            .map(|x| permission(x, declared_port))
            .collect::<Vec<_>>()
    };
    match p {
        Permission::Any => json!({"any": true}),
        Permission::And(v) => json!({"and_rules": {"rules": all(v)}}),
        Permission::Or(v) => json!({"or_rules": {"rules": all(v)}}),
        Permission::Not(x) => json!({"not_rule": permission(x, declared_port)}),
        Permission::Header(h) => header(h),
        Permission::UrlPath(m) => json!({"url_path": {"path": string_matcher(m)}}),
        Permission::UriTemplate(t) => json!({"uri_template": {
            "name": "uri-template",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig",
                "path_template": t,
            },
        }}),
        // See the module doc: the listener stands for the declared port.
        Permission::DestinationPort(port) if *port == u32::from(declared_port) => {
            json!({"any": true})
        }
        Permission::DestinationPort(_) => json!({"not_rule": {"any": true}}),
        Permission::DestinationIp(c) => json!({"destination_ip": cidr(c)}),
        Permission::RequestedServerName(m) => json!({"requested_server_name": string_matcher(m)}),
        Permission::Metadata(m) => json!({"metadata": metadata_matcher(m)}),
    }
}

fn principal(p: &Principal) -> Value {
    let all = |v: &[Principal]| v.iter().map(principal).collect::<Vec<_>>();
    match p {
        Principal::Any => json!({"any": true}),
        Principal::And(v) => json!({"and_ids": {"ids": all(v)}}),
        Principal::Or(v) => json!({"or_ids": {"ids": all(v)}}),
        Principal::Not(x) => json!({"not_id": principal(x)}),
        Principal::Authenticated(None) => json!({"authenticated": {}}),
        Principal::Authenticated(Some(m)) => {
            json!({"authenticated": {"principal_name": string_matcher(m)}})
        }
        Principal::DirectRemoteIp(c) => json!({"direct_remote_ip": cidr(c)}),
        Principal::RemoteIp(c) => json!({"remote_ip": cidr(c)}),
        Principal::Header(h) => header(h),
        // Envoy 1.40's spelling of `metadata` (see the module doc).
        Principal::Metadata(m) => {
            json!({"sourced_metadata": {"metadata_matcher": metadata_matcher(m)}})
        }
    }
}

fn requirement(r: &Requirement) -> Value {
    match r {
        Requirement::Provider(name) => json!({"provider_name": name}),
        Requirement::AllowMissing => json!({"allow_missing": {}}),
        Requirement::Any(v) => {
            json!({"requires_any": {"requirements": v.iter().map(requirement).collect::<Vec<_>>()}})
        }
        Requirement::All(v) => {
            json!({"requires_all": {"requirements": v.iter().map(requirement).collect::<Vec<_>>()}})
        }
    }
}

/// The HTTP filters before the router: `jwt_authn` (when there are
/// providers), then the RBAC filters. Lab-made JWKS are read from
/// `jwt_dir/<slug>/jwks.json`.
pub fn render_filters(policy: &HttpPolicy, jwt_dir: &Path) -> Vec<Value> {
    let mut filters = Vec::new();
    for f in &policy.pre_authn {
        let policies: serde_json::Map<String, Value> = f
            .rules
            .iter()
            .map(|r| (r.name.clone(), r.policy.clone()))
            .collect();
        filters.push(json!({"name": RBAC_FILTER, "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
            "rules": {"action": RbacAction::Deny.as_str(), "policies": policies},
        }}));
    }
    if !policy.jwt_providers.is_empty() {
        let mut providers = serde_json::Map::new();
        for p in &policy.jwt_providers {
            let jwks = match &p.jwks {
                JwksSource::Inline(text) => json!({"inline_string": text}),
                JwksSource::Lab { slug } => {
                    let files = IssuerFiles::paths(jwt_dir, &p.issuer, slug);
                    json!({"filename": files.jwks.display().to_string()})
                }
            };
            let mut provider = json!({
                "issuer": p.issuer,
                "local_jwks": jwks,
                "forward": p.forward,
                "payload_in_metadata": JWT_PAYLOAD,
                "normalize_payload_in_metadata": {"space_delimited_claims": ["permission", "scope"]},
            });
            if !p.audiences.is_empty() {
                provider["audiences"] = json!(p.audiences);
            }
            if !p.from_headers.is_empty() {
                provider["from_headers"] = p
                    .from_headers
                    .iter()
                    .map(|(name, prefix)| match prefix {
                        Some(prefix) => json!({"name": name, "value_prefix": prefix}),
                        None => json!({"name": name}),
                    })
                    .collect();
            }
            if !p.from_params.is_empty() {
                provider["from_params"] = json!(p.from_params);
            }
            if !p.from_cookies.is_empty() {
                provider["from_cookies"] = json!(p.from_cookies);
            }
            providers.insert(p.name.clone(), provider);
        }
        let names: Vec<String> = policy
            .jwt_providers
            .iter()
            .map(|p| p.name.clone())
            .collect();
        filters.push(json!({
            "name": JWT_FILTER,
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
                "providers": providers,
                "rules": [{
                    "match": {"prefix": "/"},
                    "requires": requirement(&jwt_authn::requirement(&names)),
                }],
                "bypass_cors_preflight": true,
            },
        }));
    }
    let as_map = |f: &RbacFilter| -> serde_json::Map<String, Value> {
        f.rules
            .iter()
            .map(|r| (r.name.clone(), r.policy.clone()))
            .collect()
    };
    for action in [RbacAction::Log, RbacAction::Deny, RbacAction::Allow] {
        let enforced = policy.rbac.iter().find(|f| f.action == action);
        let shadow = policy.shadow.iter().find(|f| f.action == action);
        if enforced.is_none() && shadow.is_none() {
            continue;
        }
        let mut config = json!({
            "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
        });
        if let Some(f) = enforced {
            config["rules"] = json!({"action": action.as_str(), "policies": as_map(f)});
        }
        if let Some(f) = shadow {
            config["shadow_rules"] = json!({"action": action.as_str(), "policies": as_map(f)});
            config["shadow_rules_stat_prefix"] = json!(f.shadow_stat_prefix);
        }
        filters.push(json!({"name": RBAC_FILTER, "typed_config": config}));
    }
    filters
}

/// Every lab-made issuer (slug, issuer, audiences) of `policies`, once.
pub fn lab_issuers<'a>(
    policies: impl IntoIterator<Item = &'a HttpPolicy>,
) -> Vec<(String, String, Vec<String>)> {
    let mut out: Vec<(String, String, Vec<String>)> = Vec::new();
    for p in policies.into_iter().flat_map(|h| &h.jwt_providers) {
        if let JwksSource::Lab { slug } = &p.jwks {
            if !out.iter().any(|(s, _, _)| s == slug) {
                out.push((slug.clone(), p.issuer.clone(), p.audiences.clone()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{
        AuthzAction, AuthzCondition, AuthzOperation, AuthzSource, JwtRule, Origin,
        RequestAuthenticationDecl,
    };
    use std::collections::BTreeMap;

    fn labels() -> BTreeMap<String, String> {
        [("istio".to_owned(), "ingressgateway".to_owned())].into()
    }

    /// A classic gateway's pods with `labels`, in the root namespace.
    fn workload(labels: BTreeMap<String, String>) -> Workload {
        Workload {
            namespace: selection::ROOT_NAMESPACE.to_owned(),
            labels,
            gateway_api_name: None,
            namespace_assumed: true,
        }
    }

    fn deny_004() -> AuthorizationPolicyDecl {
        AuthorizationPolicyDecl {
            name: "test".into(),
            namespace: Some("istio-system".into()),
            origin: Origin::default(),
            action: AuthzAction::Deny,
            selector: labels(),
            provider: None,
            target_refs: Vec::new(),
            dry_run: false,
            rules: vec![AuthzRule {
                from: vec![AuthzSource {
                    principals: vec!["test.client".into()],
                    ..AuthzSource::default()
                }],
                to: vec![AuthzOperation {
                    paths: vec!["/status/418".into()],
                    ..AuthzOperation::default()
                }],
                ..AuthzRule::default()
            }],
        }
    }

    #[test]
    fn seed_004_deny_renders_like_istio() {
        let policy = DeclaredPolicy {
            authorization_policies: vec![deny_004()],
            ..DeclaredPolicy::default()
        };
        let gw = workload(labels());
        let h = http_policy(&policy, std::slice::from_ref(&gw), 443);
        assert_eq!(h.rbac.len(), 1);
        let rule = &h.rbac[0].rules[0];
        assert_eq!(rule.name, "ns[istio-system]-policy[test]-rule[0]");
        assert_eq!(
            rule.summary,
            "principals [spiffe://test.client] paths [/status/418]"
        );
        // Istio's shape: and(or(…)) for every field.
        assert_eq!(
            rule.policy,
            json!({
                "permissions": [{"and_rules": {"rules": [
                    {"or_rules": {"rules": [{"url_path": {"path": {"exact": "/status/418"}}}]}},
                ]}}],
                "principals": [{"and_ids": {"ids": [
                    {"or_ids": {"ids": [{"authenticated": {"principal_name": {"exact": "spiffe://test.client"}}}]}},
                ]}}],
            })
        );
        assert_eq!(
            h.describe()[0],
            "DENY principals [spiffe://test.client] paths [/status/418]  \
             (ns[istio-system]-policy[test]-rule[0])"
        );
        // Another gateway's selector: not applied.
        let other: BTreeMap<String, String> = [("app".to_owned(), "x".to_owned())].into();
        assert!(http_policy(&policy, &[workload(other)], 443).is_empty());
    }

    fn allow(rules: Vec<AuthzRule>) -> DeclaredPolicy {
        let mut ap = deny_004();
        ap.action = AuthzAction::Allow;
        ap.rules = rules;
        DeclaredPolicy {
            authorization_policies: vec![ap],
            ..DeclaredPolicy::default()
        }
    }

    #[test]
    fn matchers_are_istios() {
        let policy = allow(vec![AuthzRule {
            from: vec![AuthzSource {
                principals: vec!["*/sa/bookinfo".into(), "cluster.local/ns/a/*".into()],
                not_principals: vec!["*".into()],
                namespaces: vec!["prod-*".into()],
                ..AuthzSource::default()
            }],
            to: vec![AuthzOperation {
                paths: vec!["/x/*".into(), "*.png".into(), "*".into()],
                methods: vec!["GET".into()],
                ports: vec!["443".into()],
                not_ports: vec!["8080".into()],
                hosts: vec!["Test.com".into(), "*.example.com".into()],
                ..AuthzOperation::default()
            }],
            when: vec![AuthzCondition {
                key: "request.headers[x-team]".into(),
                values: vec!["blue*".into()],
                not_values: vec![],
            }],
            ..AuthzRule::default()
        }]);
        let gw = workload(labels());
        let h = http_policy(&policy, std::slice::from_ref(&gw), 443);
        let rule = &h.rbac[0].rules[0];
        let perm = &rule.policy["permissions"][0]["and_rules"]["rules"];
        assert_eq!(
            perm[0]["or_rules"]["rules"],
            json!([
                {"header": {"name": ":authority", "string_match": {"exact": "Test.com", "ignore_case": true}}},
                {"header": {"name": ":authority", "string_match": {"suffix": ".example.com", "ignore_case": true}}},
            ])
        );
        assert_eq!(
            perm[2]["or_rules"]["rules"],
            json!([
                {"url_path": {"path": {"prefix": "/x/"}}},
                {"url_path": {"path": {"suffix": ".png"}}},
                {"url_path": {"path": {"safe_regex": {"regex": ".+"}}}},
            ])
        );
        assert_eq!(perm[3]["or_rules"]["rules"][0], json!({"any": true}));
        assert_eq!(
            perm[4],
            json!({"not_rule": {"or_rules": {"rules": [{"not_rule": {"any": true}}]}}})
        );
        let ids = &rule.policy["principals"][0]["and_ids"]["ids"];
        let name = |i: usize| ids[0]["or_ids"]["ids"][i]["authenticated"]["principal_name"].clone();
        assert_eq!(
            name(0),
            json!({"safe_regex": {"regex": "spiffe://.*/sa/bookinfo"}})
        );
        assert_eq!(name(1), json!({"prefix": "spiffe://cluster.local/ns/a/"}));
        assert_eq!(
            ids[1]["not_id"]["or_ids"]["ids"][0]["authenticated"]["principal_name"],
            json!({"safe_regex": {"regex": ".+"}})
        );
        assert_eq!(
            ids[2]["or_ids"]["ids"][0]["authenticated"]["principal_name"]["safe_regex"]["regex"],
            ".*/ns/prod-.*/.*"
        );
        assert_eq!(
            ids[3]["or_ids"]["ids"][0],
            json!({"header": {"name": "x-team", "string_match": {"prefix": "blue"}}})
        );
        assert_eq!(
            rule.summary,
            "principals [*/sa/bookinfo, spiffe://cluster.local/ns/a/*] notPrincipals [*] \
             namespaces [prod-*] hosts [Test.com, *.example.com] methods [GET] \
             paths [/x/*, *.png, *] ports [443] notPorts [8080] when request.headers[x-team] [blue*]"
        );
    }

    #[test]
    fn unsupported_fails_an_allow_rule_but_narrows_a_deny_rule() {
        let bad_when = AuthzRule {
            when: vec![AuthzCondition {
                key: "request.nope".into(),
                values: vec!["1".into()],
                not_values: vec![],
            }],
            ..AuthzRule::default()
        };
        let bad_cidr = AuthzRule {
            from: vec![AuthzSource {
                ip_blocks: vec!["10.0.0.0/99".into()],
                principals: vec!["a".into()],
                ..AuthzSource::default()
            }],
            ..AuthzRule::default()
        };
        let gw = workload(labels());
        let policy = allow(vec![
            bad_when.clone(),
            bad_cidr.clone(),
            AuthzRule::default(),
        ]);
        let h = http_policy(&policy, std::slice::from_ref(&gw), 443);
        assert_eq!(h.rbac[0].rules.len(), 1, "only the empty rule is left");
        assert_eq!(h.rbac[0].rules[0].summary, "every request");
        assert_eq!(h.notes.len(), 2, "{:?}", h.notes);
        assert!(h.notes[0].contains("rules[0]") && h.notes[0].contains("skipped"));
        assert!(h.notes[1].contains("invalid prefix length"));

        let mut policy = allow(vec![bad_when, bad_cidr]);
        policy.authorization_policies[0].action = AuthzAction::Deny;
        let h = http_policy(&policy, std::slice::from_ref(&gw), 443);
        assert_eq!(h.rbac[0].action, RbacAction::Deny);
        assert_eq!(h.rbac[0].rules.len(), 1);
        assert_eq!(
            h.rbac[0].rules[0].policy["principals"][0]["and_ids"]["ids"]
                .as_array()
                .map(Vec::len),
            Some(1),
            "only the principal is left"
        );
        assert!(h.notes[0].contains("unknown attribute"), "{:?}", h.notes);
        assert!(h.notes[1].contains("ipBlocks") && h.notes[1].contains("wider match"));
    }

    #[test]
    fn request_principals_match_issuer_payload() {
        let policy = DeclaredPolicy {
            request_authentications: vec![RequestAuthenticationDecl {
                name: "ra".into(),
                namespace: Some("istio-system".into()),
                origin: Origin::default(),
                target_refs: Vec::new(),
                selector: labels(),
                jwt_rules: vec![JwtRule {
                    issuer: "testing@secure.istio.io".into(),
                    jwks_uri: Some("https://example/jwks.json".into()),
                    ..JwtRule::default()
                }],
            }],
            ..DeclaredPolicy::default()
        };
        let gw = workload(labels());
        let h = http_policy(&policy, std::slice::from_ref(&gw), 443);
        assert_eq!(
            h.jwt_providers[0].jwks,
            JwksSource::Lab {
                slug: "testing-secure-istio-io".into()
            }
        );
        assert!(h.notes[0].contains("not fetched"));
        // requestPrincipals: the model's iss/sub matchers, in Envoy 1.40's
        // `sourced_metadata` spelling.
        let mut with_rp = policy.clone();
        let mut ap = deny_004();
        ap.rules[0].from[0] = AuthzSource {
            request_principals: vec!["https://a.example/x/u1".into()],
            ..AuthzSource::default()
        };
        with_rp.authorization_policies = vec![ap];
        let r = http_policy(&with_rp, std::slice::from_ref(&gw), 443);
        let ids =
            &r.rbac[0].rules[0].policy["principals"][0]["and_ids"]["ids"][0]["and_ids"]["ids"];
        assert_eq!(
            ids[0],
            json!({"sourced_metadata": {"metadata_matcher": {
                "filter": JWT_FILTER,
                "path": [{"key": "payload"}, {"key": "iss"}],
                "value": {"string_match": {"exact": "https://a.example/x"}},
            }}})
        );
        assert_eq!(
            ids[1]["sourced_metadata"]["metadata_matcher"]["value"],
            json!({"string_match": {"exact": "u1"}})
        );
        let filters = render_filters(&h, Path::new("/lab/jwt"));
        let cfg = &filters[0]["typed_config"];
        assert_eq!(
            cfg["providers"]["origins-0"]["local_jwks"]["filename"],
            "/lab/jwt/testing-secure-istio-io/jwks.json"
        );
        assert_eq!(
            cfg["providers"]["origins-0"]["payload_in_metadata"],
            "payload"
        );
        assert_eq!(
            cfg["rules"][0]["requires"]["requires_any"]["requirements"][1],
            json!({"allow_missing": {}})
        );

        // Two providers: Istio's nesting.
        let mut two = h.clone();
        let mut second = two.jwt_providers[0].clone();
        second.name = "origins-1".into();
        second.issuer = "other".into();
        two.jwt_providers.push(second);
        let filters = render_filters(&two, Path::new("/lab/jwt"));
        let reqs =
            &filters[0]["typed_config"]["rules"][0]["requires"]["requires_any"]["requirements"];
        assert_eq!(reqs[0], json!({"provider_name": "origins-0"}));
        assert_eq!(reqs[1], json!({"provider_name": "origins-1"}));
        assert_eq!(
            reqs[2]["requires_all"]["requirements"][1],
            json!({"requires_any": {"requirements": [
                {"provider_name": "origins-1"}, {"allow_missing": {}},
            ]}})
        );
    }

    /// R-A10: a dry-run policy is rendered as `shadow_rules` only, which
    /// Envoy logs and never enforces; an enforced one beside it keeps
    /// `rules`.
    #[test]
    fn dry_run_renders_shadow_rules() {
        let mut dry = deny_004();
        dry.dry_run = true;
        let policy = DeclaredPolicy {
            authorization_policies: vec![dry],
            ..DeclaredPolicy::default()
        };
        let gw = workload(labels());
        let h = http_policy(&policy, std::slice::from_ref(&gw), 443);
        assert!(h.rbac.is_empty());
        let filters = render_filters(&h, Path::new("/lab/jwt"));
        assert_eq!(filters.len(), 1);
        let cfg = &filters[0]["typed_config"];
        assert!(cfg.get("rules").is_none(), "{cfg:#}");
        assert_eq!(cfg["shadow_rules"]["action"], "DENY");
        assert!(
            cfg["shadow_rules"]["policies"]["ns[istio-system]-policy[test]-rule[0]"].is_object()
        );
        assert_eq!(cfg["shadow_rules_stat_prefix"], "istio_dry_run_deny_");
    }

    /// A CUSTOM policy whose provider the mesh does not define: istiod's
    /// deny (`getBadCustomDenyRules`) sits before `jwt_authn`, and the
    /// workload's own DENY filter is still rendered after it.
    #[test]
    fn bad_custom_provider_renders_a_deny_before_authentication() {
        let mut custom = deny_004();
        custom.name = "ext".into();
        custom.action = AuthzAction::Custom;
        custom.provider = Some("missing".into());
        let policy = DeclaredPolicy {
            authorization_policies: vec![custom, deny_004()],
            mesh_authz: Some(crate::policy::model::MeshAuthz::default()),
            ..DeclaredPolicy::default()
        };
        let gw = workload(labels());
        let h = http_policy(&policy, std::slice::from_ref(&gw), 443);
        let filters = render_filters(&h, Path::new("/lab/jwt"));
        assert_eq!(filters.len(), 2, "{filters:#?}");
        let first = &filters[0]["typed_config"]["rules"];
        assert_eq!(first["action"], "DENY");
        assert!(
            first["policies"]["ns[istio-system]-policy[ext]-rule[0]-deny-due-to-bad-CUSTOM-action"]
                .is_object(),
            "{first:#}"
        );
        let second = &filters[1]["typed_config"]["rules"];
        assert!(second["policies"]["ns[istio-system]-policy[test]-rule[0]"].is_object());
        assert!(h.describe().iter().any(|l| l.contains("CUSTOM provider")));
    }
}
