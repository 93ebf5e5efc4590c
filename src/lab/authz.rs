//! AuthorizationPolicy and RequestAuthentication as Istio renders them for
//! a gateway: Envoy's `jwt_authn` filter, then one `rbac` filter per action
//! (CUSTOM, DENY, ALLOW — CUSTOM is never rendered here, it needs an
//! external authorizer), then the router.
//!
//! Follows istio/istio `pilot/pkg/security/authz/builder` and
//! `pilot/pkg/security/authn`:
//! - each rule is one RBAC policy: its `to` as the permission, its `from`
//!   and `when` as the principal (everything ANDed, entries of a list ORed);
//! - `principals: [test.client]` matches the mTLS peer's URI SAN
//!   `spiffe://test.client` (`authenticated.principal_name`); `x*` is a
//!   prefix, `*x` a suffix, `*` presence (`.+`);
//! - paths are `url_path` matchers (exact, `/x/*` prefix `/x/`, `*x` suffix,
//!   `*` presence); methods `:method`; hosts `:authority`, case-insensitive,
//!   with or without `:port`;
//! - any ALLOW policy makes the gateway deny by default (an ALLOW filter
//!   with no policy that matches denies); AUDIT is ignored;
//! - a denied request gets Envoy's `403` `RBAC: access denied`;
//! - each `jwtRules[]` entry is a provider with `payload_in_metadata` set to
//!   its issuer and the requirement `requires_any [provider…, allow_missing]`:
//!   an invalid token is `401` (`Jwt verification fails`, `Jwt is
//!   expired`), a missing one passes (only a `requestPrincipals` rule denies
//!   it, `403`);
//! - `requestPrincipals: [iss/sub]` matches the verified payload: Istio's
//!   own `istio_authn` filter (not in upstream Envoy) joins `iss/sub`; the
//!   lab matches `sub` under the issuer's payload metadata of
//!   `envoy.filters.http.jwt_authn` instead, which accepts the same tokens.
//!
//! Differences kept small and said out loud: `ports` / `destination.port`
//! compare with the *declared* port of the listener (the lab binds other
//! ports); a policy applies when its selector is empty or a subset of a
//! Gateway's `selector` on that port (namespaces are not considered); a
//! rule using something the lab cannot render (e.g. an unknown `when` key)
//! is skipped with a note, never silently.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use super::jwt::{issuer_slug, IssuerFiles};
use crate::policy::{
    AuthorizationPolicyDecl, AuthzAction, AuthzCondition, AuthzOperation, AuthzRule, AuthzSource,
    DeclaredPolicy,
};

/// Envoy's filter names.
pub const JWT_FILTER: &str = "envoy.filters.http.jwt_authn";
pub const RBAC_FILTER: &str = "envoy.filters.http.rbac";

/// The HTTP authentication and authorization filters of one listener.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpPolicy {
    pub jwt_providers: Vec<JwtProvider>,
    /// In filter order: DENY, then ALLOW.
    pub rbac: Vec<RbacFilter>,
    /// What was left out and why, one line each.
    pub notes: Vec<String>,
}

impl HttpPolicy {
    pub fn is_empty(&self) -> bool {
        self.jwt_providers.is_empty() && self.rbac.is_empty()
    }

    /// One line per rendered RBAC rule and JWT provider, then the notes.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
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
}

impl RbacAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RbacAction::Allow => "ALLOW",
            RbacAction::Deny => "DENY",
        }
    }
}

/// One `envoy.filters.http.rbac` filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RbacFilter {
    pub action: RbacAction,
    pub rules: Vec<RbacRule>,
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

/// Whether a policy `selector` applies to a gateway with `gateway` labels:
/// empty, or every label equal.
pub fn selector_applies(
    selector: &BTreeMap<String, String>,
    gateway: &BTreeMap<String, String>,
) -> bool {
    selector.iter().all(|(k, v)| gateway.get(k) == Some(v))
}

/// The filters for a listener serving `declared_port`, whose Gateways have
/// `selectors`.
pub fn http_policy(
    policy: &DeclaredPolicy,
    selectors: &[&BTreeMap<String, String>],
    declared_port: u16,
) -> HttpPolicy {
    let applies =
        |sel: &BTreeMap<String, String>| selectors.iter().any(|g| selector_applies(sel, g));
    let mut out = HttpPolicy::default();

    let mut slugs: Vec<String> = Vec::new();
    for ra in policy
        .request_authentications
        .iter()
        .filter(|r| applies(&r.selector))
    {
        let name = qualified(&ra.namespace, &ra.name);
        for (i, rule) in ra.jwt_rules.iter().enumerate() {
            let source = format!("requestauthentication {name} jwtRules[{i}]");
            if rule.issuer.is_empty() {
                out.notes.push(format!("{source}: no issuer, skipped"));
                continue;
            }
            if out.jwt_providers.iter().any(|p| p.issuer == rule.issuer) {
                out.notes.push(format!(
                    "{source}: issuer {} already has a provider, skipped",
                    rule.issuer
                ));
                continue;
            }
            let jwks = match &rule.jwks {
                Some(inline) => JwksSource::Inline(inline.clone()),
                None => {
                    let mut slug = issuer_slug(&rule.issuer);
                    if slugs.contains(&slug) {
                        slug = format!("{slug}-{}", slugs.len());
                    }
                    slugs.push(slug.clone());
                    if let Some(uri) = &rule.jwks_uri {
                        out.notes.push(format!(
                            "{source}: jwksUri {uri} is not fetched (no internet in the lab); \
                             the lab signs tokens for {} with its own key",
                            rule.issuer
                        ));
                    }
                    JwksSource::Lab { slug }
                }
            };
            out.jwt_providers.push(JwtProvider {
                name: format!("origins-{}", out.jwt_providers.len()),
                issuer: rule.issuer.clone(),
                audiences: rule.audiences.clone(),
                jwks,
                from_headers: rule.from_headers.clone(),
                from_params: rule.from_params.clone(),
                forward: rule.forward_original_token,
                source,
            });
        }
    }
    let issuers: Vec<String> = out.jwt_providers.iter().map(|p| p.issuer.clone()).collect();
    let ctx = Ctx {
        issuers: &issuers,
        port: declared_port,
    };

    let mut deny = Vec::new();
    let mut allow = Vec::new();
    let mut any_allow = false;
    for ap in policy
        .authorization_policies
        .iter()
        .filter(|p| applies(&p.selector))
    {
        let name = qualified(&ap.namespace, &ap.name);
        let target = match ap.action {
            AuthzAction::Audit => {
                out.notes.push(format!(
                    "authorizationpolicy {name}: AUDIT only logs; nothing rendered"
                ));
                continue;
            }
            AuthzAction::Custom => {
                out.notes.push(format!(
                    "authorizationpolicy {name}: CUSTOM (provider {}) needs an external \
                     authorizer the lab does not have; skipped",
                    ap.provider.as_deref().unwrap_or("unset")
                ));
                continue;
            }
            AuthzAction::Deny => &mut deny,
            AuthzAction::Allow => {
                any_allow = true;
                if ap.rules.is_empty() {
                    out.notes.push(format!(
                        "authorizationpolicy {name}: ALLOW with no rules matches nothing \
                         (denies every request)"
                    ));
                }
                &mut allow
            }
        };
        render_policy(ap, &ctx, target, &mut out.notes);
    }
    if !deny.is_empty() {
        out.rbac.push(RbacFilter {
            action: RbacAction::Deny,
            rules: deny,
        });
    }
    if any_allow {
        out.rbac.push(RbacFilter {
            action: RbacAction::Allow,
            rules: allow,
        });
    }
    out
}

fn qualified(ns: &Option<String>, name: &str) -> String {
    match ns {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_owned(),
    }
}

fn render_policy(
    ap: &AuthorizationPolicyDecl,
    ctx: &Ctx<'_>,
    target: &mut Vec<RbacRule>,
    notes: &mut Vec<String>,
) {
    let ns = ap.namespace.as_deref().unwrap_or("default");
    for (i, rule) in ap.rules.iter().enumerate() {
        match render_rule(rule, ctx) {
            Ok((policy, summary)) => target.push(RbacRule {
                name: format!("ns[{ns}]-policy[{}]-rule[{i}]", ap.name),
                summary,
                policy,
            }),
            Err(reason) => notes.push(format!(
                "authorizationpolicy {} rules[{i}] ({}): skipped, {reason}",
                qualified(&ap.namespace, &ap.name),
                rule.origin
            )),
        }
    }
}

struct Ctx<'a> {
    issuers: &'a [String],
    port: u16,
}

type Rendered = Result<(Value, Value), String>;

/// The Envoy `Policy` for one rule and its summary.
fn render_rule(rule: &AuthzRule, ctx: &Ctx<'_>) -> Result<(Value, String), String> {
    let mut summary = Vec::new();
    let mut ids: Vec<Value> = Vec::new();
    let mut perms: Vec<Value> = Vec::new();
    if !rule.from.is_empty() {
        let mut alts = Vec::new();
        for (i, source) in rule.from.iter().enumerate() {
            let mut s = Vec::new();
            alts.push(and_ids(source_ids(source, ctx, &mut s)?));
            summary.push(prefixed(rule.from.len(), "from", i, s));
        }
        ids.push(or_ids(alts));
    }
    if !rule.to.is_empty() {
        let mut alts = Vec::new();
        for (i, op) in rule.to.iter().enumerate() {
            let mut s = Vec::new();
            alts.push(and_rules(operation_rules(op, ctx, &mut s)?));
            summary.push(prefixed(rule.to.len(), "to", i, s));
        }
        perms.push(or_rules(alts));
    }
    for cond in &rule.when {
        let (side, is_perm) = condition(cond, ctx)?;
        summary.push(format!(
            "when {}{}{}",
            cond.key,
            list(" in", &cond.values),
            list(" not in", &cond.not_values)
        ));
        if is_perm {
            perms.push(side);
        } else {
            ids.push(side);
        }
    }
    let summary = summary
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let policy = json!({
        "permissions": [and_rules(perms)],
        "principals": [and_ids(ids)],
    });
    let summary = if summary.is_empty() {
        "every request".to_owned()
    } else {
        summary
    };
    Ok((policy, summary))
}

fn prefixed(count: usize, what: &str, i: usize, parts: Vec<String>) -> String {
    let body = parts.join(" ");
    if count > 1 {
        format!("{what}[{i}]: {body};")
    } else {
        body
    }
}

fn list(label: &str, values: &[String]) -> String {
    if values.is_empty() {
        String::new()
    } else {
        format!("{label} [{}]", values.join(", "))
    }
}

fn source_ids(
    s: &AuthzSource,
    ctx: &Ctx<'_>,
    summary: &mut Vec<String>,
) -> Result<Vec<Value>, String> {
    let mut ids = Vec::new();
    let mut field = |name: &str,
                     values: &[String],
                     negate: bool,
                     f: &dyn Fn(&str) -> Result<Value, String>|
     -> Result<(), String> {
        if values.is_empty() {
            return Ok(());
        }
        let alts = values.iter().map(|v| f(v)).collect::<Result<Vec<_>, _>>()?;
        let shown: Vec<String> = values
            .iter()
            .map(|v| {
                if name.ends_with("principals") && !name.contains("request") {
                    spiffe(v)
                } else {
                    v.clone()
                }
            })
            .collect();
        summary.push(format!("{name} [{}]", shown.join(", ")));
        let id = or_ids(alts);
        ids.push(if negate { json!({"not_id": id}) } else { id });
        Ok(())
    };
    field("principals", &s.principals, false, &principal_id)?;
    field("notPrincipals", &s.not_principals, true, &principal_id)?;
    field("requestPrincipals", &s.request_principals, false, &|v| {
        Ok(request_principal_id(v, ctx.issuers))
    })?;
    field(
        "notRequestPrincipals",
        &s.not_request_principals,
        true,
        &|v| Ok(request_principal_id(v, ctx.issuers)),
    )?;
    field("namespaces", &s.namespaces, false, &namespace_id)?;
    field("notNamespaces", &s.not_namespaces, true, &namespace_id)?;
    field("ipBlocks", &s.ip_blocks, false, &|v| {
        cidr(v).map(|c| json!({"direct_remote_ip": c}))
    })?;
    field("notIpBlocks", &s.not_ip_blocks, true, &|v| {
        cidr(v).map(|c| json!({"direct_remote_ip": c}))
    })?;
    field("remoteIpBlocks", &s.remote_ip_blocks, false, &|v| {
        cidr(v).map(|c| json!({"remote_ip": c}))
    })?;
    field("notRemoteIpBlocks", &s.not_remote_ip_blocks, true, &|v| {
        cidr(v).map(|c| json!({"remote_ip": c}))
    })?;
    Ok(ids)
}

fn operation_rules(
    op: &AuthzOperation,
    ctx: &Ctx<'_>,
    summary: &mut Vec<String>,
) -> Result<Vec<Value>, String> {
    let mut rules = Vec::new();
    let mut field = |name: &str,
                     values: &[String],
                     negate: bool,
                     f: &dyn Fn(&str) -> Result<Value, String>|
     -> Result<(), String> {
        if values.is_empty() {
            return Ok(());
        }
        let alts = values.iter().map(|v| f(v)).collect::<Result<Vec<_>, _>>()?;
        summary.push(format!("{name} [{}]", values.join(", ")));
        let rule = or_rules(alts);
        rules.push(if negate {
            json!({"not_rule": rule})
        } else {
            rule
        });
        Ok(())
    };
    let port = |v: &str| port_rule(v, ctx.port);
    field("hosts", &op.hosts, false, &|v| Ok(host_rule(v)))?;
    field("notHosts", &op.not_hosts, true, &|v| Ok(host_rule(v)))?;
    field("ports", &op.ports, false, &port)?;
    field("notPorts", &op.not_ports, true, &port)?;
    field("methods", &op.methods, false, &|v| {
        Ok(header(":method", string_matcher(v)))
    })?;
    field("notMethods", &op.not_methods, true, &|v| {
        Ok(header(":method", string_matcher(v)))
    })?;
    field("paths", &op.paths, false, &path_rule)?;
    field("notPaths", &op.not_paths, true, &path_rule)?;
    Ok(rules)
}

/// A `when` condition: the matcher and whether it is a permission (else a
/// principal).
fn condition(c: &AuthzCondition, ctx: &Ctx<'_>) -> Result<(Value, bool), String> {
    let key = c.key.trim();
    let side = |f: &dyn Fn(&str) -> Result<Value, String>, perm: bool| -> Rendered {
        let build = |values: &[String]| -> Result<Option<Value>, String> {
            if values.is_empty() {
                return Ok(None);
            }
            let alts = values.iter().map(|v| f(v)).collect::<Result<Vec<_>, _>>()?;
            Ok(Some(if perm { or_rules(alts) } else { or_ids(alts) }))
        };
        let mut parts = Vec::new();
        if let Some(v) = build(&c.values)? {
            parts.push(v);
        }
        if let Some(v) = build(&c.not_values)? {
            parts.push(if perm {
                json!({"not_rule": v})
            } else {
                json!({"not_id": v})
            });
        }
        if parts.is_empty() {
            return Err(format!("when {key} has neither values nor notValues"));
        }
        Ok(if perm {
            (and_rules(parts), Value::Null)
        } else {
            (and_ids(parts), Value::Null)
        })
    };
    let id = |f: &dyn Fn(&str) -> Result<Value, String>| side(f, false).map(|(v, _)| (v, false));
    let perm = |f: &dyn Fn(&str) -> Result<Value, String>| side(f, true).map(|(v, _)| (v, true));
    if let Some(name) = bracketed(key, "request.headers") {
        let name = name.first().cloned().unwrap_or_default();
        return id(&|v| Ok(header(&name, string_matcher(v))));
    }
    if let Some(path) = bracketed(key, "request.auth.claims") {
        return id(&|v| Ok(claim_id(&path, v, ctx.issuers)));
    }
    match key {
        "source.principal" => id(&principal_id),
        "source.namespace" => id(&namespace_id),
        "source.ip" => id(&|v| cidr(v).map(|c| json!({"direct_remote_ip": c}))),
        "remote.ip" => id(&|v| cidr(v).map(|c| json!({"remote_ip": c}))),
        "request.auth.principal" => id(&|v| Ok(request_principal_id(v, ctx.issuers))),
        "request.auth.audiences" => id(&|v| Ok(claim_id(&["aud".to_owned()], v, ctx.issuers))),
        "request.auth.presenter" => id(&|v| Ok(claim_id(&["azp".to_owned()], v, ctx.issuers))),
        "destination.port" => perm(&|v| port_rule(v, ctx.port)),
        "connection.sni" => perm(&|v| Ok(json!({"requested_server_name": string_matcher(v)}))),
        other => Err(format!("when key {other:?} is not supported by the lab")),
    }
}

/// `request.auth.claims[a][b]` → `["a", "b"]`.
fn bracketed(key: &str, prefix: &str) -> Option<Vec<String>> {
    let rest = key.strip_prefix(prefix)?;
    let mut parts = Vec::new();
    let mut rest = rest;
    while let Some(r) = rest.strip_prefix('[') {
        let end = r.find(']')?;
        parts.push(r[..end].to_owned());
        rest = &r[end + 1..];
    }
    (rest.is_empty() && !parts.is_empty()).then_some(parts)
}

fn spiffe(v: &str) -> String {
    if v == "*" || v.starts_with("spiffe://") || v.starts_with('*') {
        v.to_owned()
    } else {
        format!("spiffe://{v}")
    }
}

/// Istio's string matcher: `*` presence, `x*` prefix, `*x` suffix, else exact.
fn string_matcher(v: &str) -> Value {
    if v == "*" {
        json!({"safe_regex": {"regex": ".+"}})
    } else if let Some(p) = v.strip_suffix('*') {
        json!({"prefix": p})
    } else if let Some(s) = v.strip_prefix('*') {
        json!({"suffix": s})
    } else {
        json!({"exact": v})
    }
}

fn principal_id(v: &str) -> Result<Value, String> {
    let m = if v == "*" || v.starts_with('*') {
        string_matcher(v)
    } else {
        string_matcher(&spiffe(v))
    };
    Ok(json!({"authenticated": {"principal_name": m}}))
}

fn namespace_id(v: &str) -> Result<Value, String> {
    if v.contains('*') && v != "*" {
        return Err(format!(
            "namespace pattern {v:?} is not supported by the lab"
        ));
    }
    let ns = if v == "*" {
        "[^/]+".to_owned()
    } else {
        regex_escape(v)
    };
    Ok(
        json!({"authenticated": {"principal_name": {"safe_regex": {"regex": format!(".*/ns/{ns}/.*")}}}}),
    )
}

fn header(name: &str, m: Value) -> Value {
    json!({"header": {"name": name, "string_match": m}})
}

fn host_rule(v: &str) -> Value {
    let re = if v == "*" {
        ".+".to_owned()
    } else if let Some(s) = v.strip_prefix('*') {
        format!("(?i).*{}(:[0-9]+)?", regex_escape(s))
    } else if let Some(p) = v.strip_suffix('*') {
        format!("(?i){}.*", regex_escape(p))
    } else {
        format!("(?i){}(:[0-9]+)?", regex_escape(v))
    };
    header(":authority", json!({"safe_regex": {"regex": re}}))
}

fn path_rule(v: &str) -> Result<Value, String> {
    if v.contains('{') {
        return Err(format!("path template {v:?} is not supported by the lab"));
    }
    Ok(json!({"url_path": {"path": string_matcher(v)}}))
}

fn port_rule(v: &str, declared: u16) -> Result<Value, String> {
    let port: u16 = v
        .trim()
        .parse()
        .map_err(|_| format!("port {v:?} is not a number"))?;
    Ok(if port == declared {
        json!({"any": true})
    } else {
        json!({"not_rule": {"any": true}})
    })
}

fn cidr(v: &str) -> Result<Value, String> {
    let (addr, len) = match v.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (v, None),
    };
    let ip: std::net::IpAddr = addr
        .trim()
        .parse()
        .map_err(|_| format!("{v:?} is not an IP address or CIDR block"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len: u32 = match len {
        Some(l) => l
            .trim()
            .parse()
            .ok()
            .filter(|l| *l <= max)
            .ok_or_else(|| format!("{v:?} has a bad prefix length"))?,
        None => max,
    };
    Ok(json!({"address_prefix": ip.to_string(), "prefix_len": len}))
}

fn metadata(path: &[&str], value: Value) -> Value {
    let path: Vec<Value> = path.iter().map(|k| json!({"key": k})).collect();
    // `Principal.metadata` is deprecated in Envoy 1.40 (it logs a warning);
    // `sourced_metadata` with the default DYNAMIC source is its replacement.
    json!({"sourced_metadata": {"metadata_matcher": {"filter": JWT_FILTER, "path": path, "value": value}}})
}

const PRESENT: fn() -> Value = || json!({"present_match": true});

fn never() -> Value {
    json!({"not_id": {"any": true}})
}

/// `requestPrincipals` pattern against every declared issuer's verified
/// payload (`iss/sub` in Istio).
fn request_principal_id(pattern: &str, issuers: &[String]) -> Value {
    let mut alts = Vec::new();
    for iss in issuers {
        let with_slash = format!("{iss}/");
        let iss_present = || metadata(&[iss, "iss"], PRESENT());
        if pattern == "*" {
            alts.push(iss_present());
        } else if let Some(p) = pattern.strip_suffix('*') {
            if let Some(sub) = p.strip_prefix(&with_slash) {
                alts.push(if sub.is_empty() {
                    iss_present()
                } else {
                    metadata(&[iss, "sub"], json!({"string_match": {"prefix": sub}}))
                });
            } else if with_slash.starts_with(p) {
                alts.push(iss_present());
            }
        } else if let Some(s) = pattern.strip_prefix('*') {
            alts.push(metadata(
                &[iss, "sub"],
                json!({"string_match": {"suffix": s}}),
            ));
            if let Some((x, y)) = s.rsplit_once('/') {
                if iss.ends_with(x) {
                    alts.push(metadata(
                        &[iss, "sub"],
                        json!({"string_match": {"exact": y}}),
                    ));
                }
            }
        } else if let Some(sub) = pattern.strip_prefix(&with_slash) {
            alts.push(metadata(
                &[iss, "sub"],
                json!({"string_match": {"exact": sub}}),
            ));
        }
    }
    if alts.is_empty() {
        never()
    } else {
        or_ids(alts)
    }
}

/// A claim (string, or a list holding the value) of any issuer's payload.
fn claim_id(path: &[String], v: &str, issuers: &[String]) -> Value {
    let m = string_matcher(v);
    let mut alts = Vec::new();
    for iss in issuers {
        let mut keys: Vec<&str> = vec![iss];
        keys.extend(path.iter().map(String::as_str));
        alts.push(metadata(&keys, json!({"string_match": m})));
        alts.push(metadata(
            &keys,
            json!({"list_match": {"one_of": {"string_match": m}}}),
        ));
    }
    if alts.is_empty() {
        never()
    } else {
        or_ids(alts)
    }
}

fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn or_ids(mut ids: Vec<Value>) -> Value {
    match ids.len() {
        0 => json!({"any": true}),
        1 => ids.remove(0),
        _ => json!({"or_ids": {"ids": ids}}),
    }
}

fn and_ids(mut ids: Vec<Value>) -> Value {
    match ids.len() {
        0 => json!({"any": true}),
        1 => ids.remove(0),
        _ => json!({"and_ids": {"ids": ids}}),
    }
}

fn or_rules(mut rules: Vec<Value>) -> Value {
    match rules.len() {
        0 => json!({"any": true}),
        1 => rules.remove(0),
        _ => json!({"or_rules": {"rules": rules}}),
    }
}

fn and_rules(mut rules: Vec<Value>) -> Value {
    match rules.len() {
        0 => json!({"any": true}),
        1 => rules.remove(0),
        _ => json!({"and_rules": {"rules": rules}}),
    }
}

/// The HTTP filters before the router: `jwt_authn` (when there are
/// providers), then the RBAC filters. Lab-made JWKS are read from
/// `jwt_dir/<slug>/jwks.json`.
pub fn render_filters(policy: &HttpPolicy, jwt_dir: &Path) -> Vec<Value> {
    let mut filters = Vec::new();
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
                "payload_in_metadata": p.issuer,
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
            providers.insert(p.name.clone(), provider);
        }
        let mut requirements: Vec<Value> = policy
            .jwt_providers
            .iter()
            .map(|p| json!({"provider_name": p.name}))
            .collect();
        requirements.push(json!({"allow_missing": {}}));
        filters.push(json!({
            "name": JWT_FILTER,
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
                "providers": providers,
                "rules": [{
                    "match": {"prefix": "/"},
                    "requires": {"requires_any": {"requirements": requirements}},
                }],
                "bypass_cors_preflight": true,
            },
        }));
    }
    for f in &policy.rbac {
        let policies: serde_json::Map<String, Value> = f
            .rules
            .iter()
            .map(|r| (r.name.clone(), r.policy.clone()))
            .collect();
        filters.push(json!({
            "name": RBAC_FILTER,
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
                "rules": {"action": f.action.as_str(), "policies": policies},
            },
        }));
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
    use crate::policy::{JwtRule, Origin, RequestAuthenticationDecl};

    fn labels() -> BTreeMap<String, String> {
        [("istio".to_owned(), "ingressgateway".to_owned())].into()
    }

    fn deny_004() -> AuthorizationPolicyDecl {
        AuthorizationPolicyDecl {
            name: "test".into(),
            namespace: Some("istio-system".into()),
            origin: Origin::default(),
            action: AuthzAction::Deny,
            selector: labels(),
            provider: None,
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
        let gw = labels();
        let h = http_policy(&policy, &[&gw], 443);
        assert_eq!(h.rbac.len(), 1);
        let rule = &h.rbac[0].rules[0];
        assert_eq!(rule.name, "ns[istio-system]-policy[test]-rule[0]");
        assert_eq!(
            rule.summary,
            "principals [spiffe://test.client] paths [/status/418]"
        );
        assert_eq!(
            rule.policy,
            json!({
                "permissions": [{"url_path": {"path": {"exact": "/status/418"}}}],
                "principals": [{"authenticated": {"principal_name": {"exact": "spiffe://test.client"}}}],
            })
        );
        assert_eq!(
            h.describe()[0],
            "DENY principals [spiffe://test.client] paths [/status/418]  \
             (ns[istio-system]-policy[test]-rule[0])"
        );
        // Another gateway's selector: not applied.
        let other: BTreeMap<String, String> = [("app".to_owned(), "x".to_owned())].into();
        assert!(http_policy(&policy, &[&other], 443).is_empty());
    }

    #[test]
    fn patterns_and_unsupported_rules() {
        let mut ap = deny_004();
        ap.action = AuthzAction::Allow;
        ap.rules = vec![
            AuthzRule {
                to: vec![AuthzOperation {
                    paths: vec!["/x/*".into(), "*.png".into(), "*".into()],
                    methods: vec!["GET".into()],
                    ports: vec!["443".into()],
                    hosts: vec!["Test.com".into()],
                    ..AuthzOperation::default()
                }],
                ..AuthzRule::default()
            },
            AuthzRule {
                when: vec![AuthzCondition {
                    key: "experimental.envoy.filters.x".into(),
                    values: vec!["1".into()],
                    not_values: vec![],
                }],
                ..AuthzRule::default()
            },
            AuthzRule::default(),
        ];
        let policy = DeclaredPolicy {
            authorization_policies: vec![ap],
            ..DeclaredPolicy::default()
        };
        let gw = labels();
        let h = http_policy(&policy, &[&gw], 443);
        let f = &h.rbac[0];
        assert_eq!(f.action, RbacAction::Allow);
        assert_eq!(f.rules.len(), 2);
        let perm = &f.rules[0].policy["permissions"][0]["and_rules"]["rules"];
        assert_eq!(
            perm[0]["header"]["string_match"]["safe_regex"]["regex"],
            "(?i)Test\\.com(:[0-9]+)?"
        );
        assert_eq!(perm[1], json!({"any": true}));
        assert_eq!(
            perm[3]["or_rules"]["rules"][0]["url_path"]["path"],
            json!({"prefix": "/x/"})
        );
        assert_eq!(
            perm[3]["or_rules"]["rules"][1]["url_path"]["path"],
            json!({"suffix": ".png"})
        );
        assert_eq!(f.rules[1].summary, "every request");
        assert_eq!(h.notes.len(), 1);
        assert!(
            h.notes[0].contains("rules[1]") && h.notes[0].contains("not supported"),
            "{:?}",
            h.notes
        );
    }

    #[test]
    fn request_principals_match_issuer_payload() {
        let policy = DeclaredPolicy {
            request_authentications: vec![RequestAuthenticationDecl {
                name: "ra".into(),
                namespace: Some("istio-system".into()),
                origin: Origin::default(),
                selector: labels(),
                jwt_rules: vec![JwtRule {
                    issuer: "testing@secure.istio.io".into(),
                    jwks_uri: Some("https://example/jwks.json".into()),
                    ..JwtRule::default()
                }],
            }],
            ..DeclaredPolicy::default()
        };
        let gw = labels();
        let h = http_policy(&policy, &[&gw], 443);
        assert_eq!(
            h.jwt_providers[0].jwks,
            JwksSource::Lab {
                slug: "testing-secure-istio-io".into()
            }
        );
        assert!(h.notes[0].contains("not fetched"));
        let issuers = vec!["testing@secure.istio.io".to_owned()];
        assert_eq!(
            request_principal_id("testing@secure.istio.io/*", &issuers),
            metadata(&["testing@secure.istio.io", "iss"], PRESENT())
        );
        assert_eq!(
            request_principal_id("testing@secure.istio.io/u1", &issuers),
            metadata(
                &["testing@secure.istio.io", "sub"],
                json!({"string_match": {"exact": "u1"}})
            )
        );
        assert_eq!(request_principal_id("other/x", &issuers), never());
        let filters = render_filters(&h, Path::new("/lab/jwt"));
        let cfg = &filters[0]["typed_config"];
        assert_eq!(
            cfg["providers"]["origins-0"]["local_jwks"]["filename"],
            "/lab/jwt/testing-secure-istio-io/jwks.json"
        );
        assert_eq!(
            cfg["rules"][0]["requires"]["requires_any"]["requirements"][1],
            json!({"allow_missing": {}})
        );
        assert_eq!(
            bracketed("request.auth.claims[a][b]", "request.auth.claims").unwrap(),
            ["a", "b"]
        );
    }
}
