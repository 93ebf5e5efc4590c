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
//!   an exact host not matching `host:port` (Istio's docs: add `host:*`);
//! - any ALLOW policy makes the gateway deny by default (an ALLOW filter
//!   with no policy that matches denies); AUDIT is ignored;
//! - a denied request gets Envoy's `403` `RBAC: access denied`;
//! - each `jwtRules[]` entry is a provider `origins-<i>` with
//!   `payload_in_metadata: payload` (and `scope`/`permission` normalised as
//!   space-delimited lists), required as `requires_any [provider,
//!   allow_missing]` (several providers: Istio's OR/AND nesting):
//!   an invalid token is `401` (`Jwt verification fails`, `Jwt is
//!   expired`), a missing one passes (only a `requestPrincipals` rule denies
//!   it, `403`);
//! - `requestPrincipals: [iss/sub]` is split at the last `/` into `iss` and
//!   `sub` matchers on `jwt_authn`'s `[payload, iss]` / `[payload, sub]`
//!   metadata; `request.auth.claims[…]` likewise (a list holding the value,
//!   or the value itself). Istio renders `Principal.metadata`, deprecated
//!   in Envoy 1.40; the lab renders its replacement `sourced_metadata`.
//! - a rule with a value the lab cannot render fails as a whole for ALLOW
//!   and loses only that field for DENY (Istio's `checkError`), with a note.
//!
//! Differences kept small and said out loud: `ports` / `destination.port`
//! compare with the *declared* port of the listener (the lab binds other
//! ports); a policy applies when its selector is empty or a subset of a
//! Gateway's `selector` on that port (namespaces are not considered); a
//! rule using something the lab cannot render (e.g. an unknown `when` key)
//! is skipped with a note, never silently.

use std::path::Path;

use serde_json::{json, Value};

use super::jwt::{issuer_slug, IssuerFiles};
use crate::policy::matching::StringPattern;
use crate::policy::selection::{self, Workload};
use crate::policy::{AuthorizationPolicyDecl, AuthzAction, AuthzRule, DeclaredPolicy};

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
/// `workloads` (one per Gateway with a server on that port). Which
/// policies reach them is `policy::selection`'s decision, not the lab's.
pub fn http_policy(
    policy: &DeclaredPolicy,
    workloads: &[Workload],
    declared_port: u16,
) -> HttpPolicy {
    let mut out = HttpPolicy::default();
    let authns = selection::request_authentications(policy, workloads);
    let authzs = selection::authorization_policies(policy, workloads);
    out.notes.extend(authns.notes);
    out.notes.extend(authzs.notes);

    let mut slugs: Vec<(String, String)> = Vec::new();
    for ra in authns.applied {
        let name = qualified(&ra.namespace, &ra.name);
        for (i, rule) in ra.jwt_rules.iter().enumerate() {
            let source = format!("requestauthentication {name} jwtRules[{i}]");
            if rule.issuer.is_empty() {
                out.notes.push(format!("{source}: no issuer, skipped"));
                continue;
            }
            let jwks = match &rule.jwks {
                Some(inline) => {
                    out.notes.push(format!(
                        "{source}: inline jwks used as declared; the lab has no private key for \
                         it, so it writes no tokens for {} (only missing and invalid tokens can \
                         be tried)",
                        rule.issuer
                    ));
                    JwksSource::Inline(inline.clone())
                }
                None => {
                    // One key pair per issuer, whichever rules name it.
                    let known = slugs.iter().find(|(iss, _)| *iss == rule.issuer);
                    let slug = match known {
                        Some((_, slug)) => slug.clone(),
                        None => {
                            let mut slug = issuer_slug(&rule.issuer);
                            if slugs.iter().any(|(_, s)| *s == slug) {
                                slug = format!("{slug}-{}", slugs.len());
                            }
                            slugs.push((rule.issuer.clone(), slug.clone()));
                            slug
                        }
                    };
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
                from_cookies: rule.from_cookies.clone(),
                forward: rule.forward_original_token,
                source,
            });
        }
    }
    let ctx = Ctx {
        port: declared_port,
    };

    let mut deny = Vec::new();
    let mut allow = Vec::new();
    let mut any_allow = false;
    for ap in authzs.applied {
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
            AuthzAction::Deny => {
                if ap.rules.is_empty() {
                    out.notes.push(format!(
                        "authorizationpolicy {name}: DENY with no rules matches nothing \
                         (denies no request)"
                    ));
                }
                &mut deny
            }
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
    ctx: &Ctx,
    target: &mut Vec<RbacRule>,
    notes: &mut Vec<String>,
) {
    let ns = ap.namespace.as_deref().unwrap_or("default");
    let deny = ap.action == AuthzAction::Deny;
    for (i, rule) in ap.rules.iter().enumerate() {
        let at = format!(
            "authorizationpolicy {} rules[{i}] ({})",
            qualified(&ap.namespace, &ap.name),
            rule.origin
        );
        let mut dropped = Vec::new();
        match render_rule(rule, ctx, deny, &mut dropped) {
            Ok((policy, summary)) => {
                for d in dropped {
                    notes.push(format!(
                        "{at}: {d} left out; Istio does the same for a DENY rule (a wider deny)"
                    ));
                }
                target.push(RbacRule {
                    name: format!("ns[{ns}]-policy[{}]-rule[{i}]", ap.name),
                    summary,
                    policy,
                });
            }
            Err(reason) => notes.push(format!("{at}: skipped, {reason}")),
        }
    }
}

struct Ctx {
    port: u16,
}

type Gen<'a> = &'a dyn Fn(&str) -> Result<Value, String>;

/// One rule as Istio's authz model builds it (`pilot/pkg/security/authz/
/// model/model.go`): one permission per `to[]` entry and one principal per
/// `from[]` entry, each the AND of its fields (values ORed, notValues as
/// NOT(OR)), the `when` conditions appended to every one of them.
struct RuleBuilder<'a> {
    deny: bool,
    dropped: &'a mut Vec<String>,
    summary: Vec<String>,
}

impl RuleBuilder<'_> {
    /// Adds `values` / `not_values` of one field to `out`. A value the lab
    /// cannot render fails the whole rule for ALLOW and drops only this
    /// field for DENY (Istio's `checkError`).
    fn field(
        &mut self,
        out: &mut Vec<Value>,
        perm: bool,
        name: &str,
        values: &[String],
        not_values: &[String],
        gen: Gen<'_>,
    ) -> Result<(), String> {
        let render = |vs: &[String]| vs.iter().map(|v| gen(v)).collect::<Result<Vec<_>, _>>();
        let (yes, no) = match (render(values), render(not_values)) {
            (Ok(y), Ok(n)) => (y, n),
            (Err(e), _) | (_, Err(e)) => {
                if self.deny {
                    self.dropped.push(format!("{name} ({e})"));
                    return Ok(());
                }
                return Err(e);
            }
        };
        let or = |alts: Vec<Value>| {
            if perm {
                json!({"or_rules": {"rules": alts}})
            } else {
                json!({"or_ids": {"ids": alts}})
            }
        };
        if !yes.is_empty() {
            out.push(or(yes));
            self.summary
                .push(format!("{name} [{}]", shown(name, values)));
        }
        if !no.is_empty() {
            let inner = or(no);
            out.push(if perm {
                json!({"not_rule": inner})
            } else {
                json!({"not_id": inner})
            });
            self.summary
                .push(format!("{} [{}]", not_name(name), shown(name, not_values)));
        }
        Ok(())
    }
}

fn not_name(name: &str) -> String {
    if name.starts_with("when ") {
        format!("{name} not in")
    } else {
        let mut c = name.chars();
        let first = c.next().map(|f| f.to_ascii_uppercase()).unwrap_or_default();
        format!("not{first}{}", c.as_str())
    }
}

fn shown(name: &str, values: &[String]) -> String {
    let principal = name == "principals" || name == "when source.principal";
    values
        .iter()
        .map(|v| if principal { spiffe(v) } else { v.clone() })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The Envoy `Policy` for one rule and its summary.
fn render_rule(
    rule: &AuthzRule,
    ctx: &Ctx,
    deny: bool,
    dropped: &mut Vec<String>,
) -> Result<(Value, String), String> {
    let mut b = RuleBuilder {
        deny,
        dropped,
        summary: Vec::new(),
    };
    let port = |v: &str| port_rule(v, ctx.port);
    let rp = |v: &str| Ok(request_principal_id(v));
    let direct_ip = |v: &str| cidr(v).map(|c| json!({"direct_remote_ip": c}));
    let remote_ip = |v: &str| cidr(v).map(|c| json!({"remote_ip": c}));

    // `when`: an unknown key fails the rule whatever the action (Istio's
    // model.New returns "unknown attribute").
    let mut when_perm = Vec::new();
    let mut when_prin = Vec::new();
    for c in &rule.when {
        let key = c.key.trim();
        let name = format!("when {key}");
        let (vals, nots) = (&c.values[..], &c.not_values[..]);
        if let Some(h) = bracketed(key, "request.headers") {
            let h = h.join("][");
            let gen = |v: &str| Ok(header_matcher(&h, v));
            b.field(&mut when_prin, false, &name, vals, nots, &gen)?;
        } else if let Some(path) = bracketed(key, "request.auth.claims") {
            let gen = |v: &str| Ok(claim_id(&path, v));
            b.field(&mut when_prin, false, &name, vals, nots, &gen)?;
        } else {
            let aud = |v: &str| Ok(claim_id(&["aud".to_owned()], v));
            let azp = |v: &str| Ok(claim_id(&["azp".to_owned()], v));
            let sni = |v: &str| Ok(json!({"requested_server_name": string_matcher(v)}));
            let (perm, gen): (bool, Gen<'_>) = match key {
                "destination.port" => (true, &port),
                "connection.sni" => (true, &sni),
                "source.ip" => (false, &direct_ip),
                "remote.ip" => (false, &remote_ip),
                "source.namespace" => (false, &namespace_id),
                "source.principal" => (false, &principal_id),
                "request.auth.principal" => (false, &rp),
                "request.auth.audiences" => (false, &aud),
                "request.auth.presenter" => (false, &azp),
                other => return Err(format!("when key {other:?} is not supported by the lab")),
            };
            let out = if perm { &mut when_perm } else { &mut when_prin };
            b.field(out, perm, &name, vals, nots, gen)?;
        }
    }
    let when_summary = std::mem::take(&mut b.summary);

    let mut principals = Vec::new();
    let many_from = rule.from.len() > 1;
    for (i, s) in rule.from.iter().enumerate() {
        let mut ids = Vec::new();
        b.field(
            &mut ids,
            false,
            "principals",
            &s.principals,
            &s.not_principals,
            &principal_id,
        )?;
        b.field(
            &mut ids,
            false,
            "requestPrincipals",
            &s.request_principals,
            &s.not_request_principals,
            &rp,
        )?;
        b.field(
            &mut ids,
            false,
            "namespaces",
            &s.namespaces,
            &s.not_namespaces,
            &namespace_id,
        )?;
        b.field(
            &mut ids,
            false,
            "remoteIpBlocks",
            &s.remote_ip_blocks,
            &s.not_remote_ip_blocks,
            &remote_ip,
        )?;
        b.field(
            &mut ids,
            false,
            "ipBlocks",
            &s.ip_blocks,
            &s.not_ip_blocks,
            &direct_ip,
        )?;
        ids.extend(when_prin.iter().cloned());
        principals.push(and_ids(ids));
        if many_from {
            let part = std::mem::take(&mut b.summary).join(" ");
            b.summary.push(format!("from[{i}]: {part};"));
        }
    }
    if rule.from.is_empty() {
        principals.push(and_ids(when_prin));
    }

    let mut permissions = Vec::new();
    let many_to = rule.to.len() > 1;
    let from_summary = std::mem::take(&mut b.summary);
    for (i, op) in rule.to.iter().enumerate() {
        let mut rules = Vec::new();
        let host = |v: &str| Ok(host_rule(v));
        let method = |v: &str| Ok(header_matcher(":method", v));
        b.field(&mut rules, true, "hosts", &op.hosts, &op.not_hosts, &host)?;
        b.field(
            &mut rules,
            true,
            "methods",
            &op.methods,
            &op.not_methods,
            &method,
        )?;
        b.field(
            &mut rules,
            true,
            "paths",
            &op.paths,
            &op.not_paths,
            &path_rule,
        )?;
        b.field(&mut rules, true, "ports", &op.ports, &op.not_ports, &port)?;
        rules.extend(when_perm.iter().cloned());
        permissions.push(and_rules(rules));
        if many_to {
            let part = std::mem::take(&mut b.summary).join(" ");
            b.summary.push(format!("to[{i}]: {part};"));
        }
    }
    if rule.to.is_empty() {
        permissions.push(and_rules(when_perm));
    }
    let mut summary = from_summary;
    summary.append(&mut b.summary);
    summary.extend(when_summary);
    let summary = if summary.is_empty() {
        "every request".to_owned()
    } else {
        summary.join(" ")
    };
    Ok((
        json!({"permissions": permissions, "principals": principals}),
        summary,
    ))
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
    if v == "*" || v.starts_with('*') || v.starts_with("spiffe://") {
        v.to_owned()
    } else {
        format!("spiffe://{v}")
    }
}

/// Istio's `StringMatcher`: `*` presence (`.+`), `x*` prefix, `*x` suffix,
/// else exact.
fn string_matcher(v: &str) -> Value {
    string_matcher_with_prefix(v, "")
}

/// Istio's `StringMatcherWithPrefix` (principals get `spiffe://`): a
/// suffix pattern becomes the regex `<prefix>.*<suffix>`.
fn string_matcher_with_prefix(v: &str, prefix: &str) -> Value {
    match StringPattern::parse(v) {
        StringPattern::Any => json!({"safe_regex": {"regex": ".+"}}),
        StringPattern::Suffix(s) if prefix.is_empty() => json!({"suffix": s}),
        StringPattern::Suffix(s) => json!({"safe_regex": {"regex": format!("{prefix}.*{s}")}}),
        StringPattern::Prefix(p) => json!({"prefix": format!("{prefix}{p}")}),
        StringPattern::Exact(e) => json!({"exact": format!("{prefix}{e}")}),
    }
}

fn principal_id(v: &str) -> Result<Value, String> {
    // Istio adds the prefix to what users write without it; a value already
    // written as a URI is taken as is.
    let prefix = if v.starts_with("spiffe://") {
        ""
    } else {
        "spiffe://"
    };
    Ok(json!({"authenticated": {"principal_name": string_matcher_with_prefix(v, prefix)}}))
}

/// Istio: `.*/ns/<ns>/.*`, each `*` as `.*`.
fn namespace_id(v: &str) -> Result<Value, String> {
    let ns = v.replace('*', ".*");
    Ok(
        json!({"authenticated": {"principal_name": {"safe_regex": {"regex": format!(".*/ns/{ns}/.*")}}}}),
    )
}

/// Istio's `HeaderMatcher`: `*` presence, `*x` suffix, `x*` prefix, else
/// exact (case-sensitive).
fn header_matcher(name: &str, v: &str) -> Value {
    if v == "*" {
        json!({"header": {"name": name, "present_match": true}})
    } else {
        json!({"header": {"name": name, "string_match": string_matcher(v)}})
    }
}

/// Istio's `HostMatcher` on `:authority`: case-insensitive exact, `*x`
/// suffix, `x*` prefix, `*` presence. An exact host does not match
/// `host:port` (Istio's docs tell users to add `host:*`).
fn host_rule(v: &str) -> Value {
    let m = match StringPattern::parse(v) {
        StringPattern::Any => {
            return json!({"header": {"name": ":authority", "present_match": true}});
        }
        StringPattern::Suffix(s) => json!({"suffix": s, "ignore_case": true}),
        StringPattern::Prefix(p) => json!({"prefix": p, "ignore_case": true}),
        StringPattern::Exact(e) => json!({"exact": e, "ignore_case": true}),
    };
    json!({"header": {"name": ":authority", "string_match": m}})
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

/// Where `jwt_authn` puts a verified token's payload (Istio's
/// `EnvoyJwtFilterPayload`): `payload_in_metadata: payload` for every
/// provider, matched at `[payload, <claim>…]`.
pub const JWT_PAYLOAD: &str = "payload";

/// A matcher on the verified token's payload: `claims` under
/// [`JWT_PAYLOAD`] of the `jwt_authn` filter's dynamic metadata.
fn metadata(claims: &[&str], value: Value) -> Value {
    let path: Vec<Value> = std::iter::once(JWT_PAYLOAD)
        .chain(claims.iter().copied())
        .map(|k| json!({"key": k}))
        .collect();
    // `Principal.metadata` (what Istio renders) is deprecated in Envoy 1.40
    // and logs a warning; `sourced_metadata` with the default DYNAMIC source
    // is its replacement and matches the same.
    json!({"sourced_metadata": {"metadata_matcher": {"filter": JWT_FILTER, "path": path, "value": value}}})
}

/// A `requestPrincipals` value as Istio's `requestPrincipalGenerator`
/// splits it: at the last `/` into `iss` and `sub` matchers (`*` alone:
/// any; `*x/sub`: iss suffix; `iss/x*`: sub prefix; no `/`: the whole
/// value against `iss` with any `sub`), both on the verified payload.
fn request_principal_id(value: &str) -> Value {
    let any = || json!({"safe_regex": {"regex": ".+"}});
    let (iss, sub, found) = match value.rfind('/') {
        Some(i) => (&value[..i], &value[i + 1..], true),
        None => (value, "", false),
    };
    let (m_iss, m_sub) = if value == "*" {
        (any(), any())
    } else if value.starts_with('*') {
        if found {
            let m_iss = if iss == "*" {
                any()
            } else {
                json!({"suffix": iss.trim_start_matches('*')})
            };
            (m_iss, json!({"exact": sub}))
        } else {
            (any(), json!({"suffix": value.trim_start_matches('*')}))
        }
    } else if value.ends_with('*') {
        if found {
            let m_sub = if sub == "*" {
                any()
            } else {
                json!({"prefix": sub.trim_end_matches('*')})
            };
            (json!({"exact": iss}), m_sub)
        } else {
            (json!({"prefix": value.trim_end_matches('*')}), any())
        }
    } else {
        (json!({"exact": iss}), json!({"exact": sub}))
    };
    and_ids(vec![
        metadata(&["iss"], json!({"string_match": m_iss})),
        metadata(&["sub"], json!({"string_match": m_sub})),
    ])
}

/// A claim of the verified payload (`request.auth.claims[a][b]`,
/// audiences, presenter): Istio matches a list holding the value; upstream
/// `jwt_authn` keeps a string claim a string, so either form matches here.
fn claim_id(path: &[String], v: &str) -> Value {
    let m = string_matcher(v);
    let keys: Vec<&str> = path.iter().map(String::as_str).collect();
    or_ids(vec![
        metadata(
            &keys,
            json!({"list_match": {"one_of": {"string_match": m}}}),
        ),
        metadata(&keys, json!({"string_match": m})),
    ])
}

fn or_ids(mut ids: Vec<Value>) -> Value {
    match ids.len() {
        0 => json!({"any": true}),
        1 => ids.remove(0),
        _ => json!({"or_ids": {"ids": ids}}),
    }
}

/// Istio's `principalAnd`: always an `and_ids`, `[any]` when empty.
fn and_ids(mut ids: Vec<Value>) -> Value {
    if ids.is_empty() {
        ids.push(json!({"any": true}));
    }
    json!({"and_ids": {"ids": ids}})
}

/// Istio's `permissionAnd`: always an `and_rules`, `[any]` when empty.
fn and_rules(mut rules: Vec<Value>) -> Value {
    if rules.is_empty() {
        rules.push(json!({"any": true}));
    }
    json!({"and_rules": {"rules": rules}})
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
        // Istio's policy applier: one provider → any of {it, allow_missing};
        // several → any of {P1, P2, …, all of {any of {Pi, allow_missing}}}:
        // a token, if present, must be valid for some provider.
        let either = |name: &str| {
            json!({"requires_any": {"requirements": [
                {"provider_name": name},
                {"allow_missing": {}},
            ]}})
        };
        let requires = match policy.jwt_providers.as_slice() {
            [only] => either(&only.name),
            many => {
                let mut outer: Vec<Value> = many
                    .iter()
                    .map(|p| json!({"provider_name": p.name}))
                    .collect();
                let inner: Vec<Value> = many.iter().map(|p| either(&p.name)).collect();
                outer.push(json!({"requires_all": {"requirements": inner}}));
                json!({"requires_any": {"requirements": outer}})
            }
        };
        filters.push(json!({
            "name": JWT_FILTER,
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
                "providers": providers,
                "rules": [{
                    "match": {"prefix": "/"},
                    "requires": requires,
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
    use crate::policy::{
        AuthzCondition, AuthzOperation, AuthzSource, JwtRule, Origin, RequestAuthenticationDecl,
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
                key: "experimental.envoy.filters.x[y]".into(),
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
        assert!(h.notes[1].contains("bad prefix length"));

        let mut policy = allow(vec![bad_when, bad_cidr]);
        policy.authorization_policies[0].action = AuthzAction::Deny;
        let h = http_policy(&policy, std::slice::from_ref(&gw), 443);
        assert_eq!(h.rbac[0].action, RbacAction::Deny);
        assert_eq!(h.rbac[0].rules.len(), 1);
        assert_eq!(h.rbac[0].rules[0].summary, "principals [spiffe://a]");
        assert!(h.notes[1].contains("ipBlocks") && h.notes[1].contains("wider deny"));
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
        let iss = "testing@secure.istio.io";
        let pair = |i: Value, s: Value| {
            and_ids(vec![
                metadata(&["iss"], json!({"string_match": i})),
                metadata(&["sub"], json!({"string_match": s})),
            ])
        };
        let any = json!({"safe_regex": {"regex": ".+"}});
        assert_eq!(
            request_principal_id("testing@secure.istio.io/*"),
            pair(json!({"exact": iss}), any.clone())
        );
        assert_eq!(
            request_principal_id("https://a.example/x/u1"),
            pair(
                json!({"exact": "https://a.example/x"}),
                json!({"exact": "u1"})
            )
        );
        assert_eq!(
            request_principal_id("*/u1"),
            pair(any.clone(), json!({"exact": "u1"}))
        );
        assert_eq!(
            metadata(&["sub"], json!({"present_match": true}))["sourced_metadata"]
                ["metadata_matcher"]["path"],
            json!([{"key": "payload"}, {"key": "sub"}])
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
        assert_eq!(
            bracketed("request.auth.claims[a][b]", "request.auth.claims").unwrap(),
            ["a", "b"]
        );
    }
}
