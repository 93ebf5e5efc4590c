//! `security.istio.io` (v1beta1, v1): AuthorizationPolicy,
//! RequestAuthentication, PeerAuthentication.

use std::collections::BTreeMap;

use super::node::{Ctx, Node};
use super::{spec_of, Meta};
use crate::policy::model::*;
use crate::policy::PolicyError;

const AUTHZ_FIELDS: &[&str] = &[
    "selector",
    "targetRef",
    "targetRefs",
    "action",
    "provider",
    "rules",
];
const RULE_FIELDS: &[&str] = &["from", "to", "when"];
const SOURCE_FIELDS: &[&str] = &[
    "principals",
    "notPrincipals",
    "requestPrincipals",
    "notRequestPrincipals",
    "namespaces",
    "notNamespaces",
    "ipBlocks",
    "notIpBlocks",
    "remoteIpBlocks",
    "notRemoteIpBlocks",
    "serviceAccounts",
    "notServiceAccounts",
    "trustDomains",
    "notTrustDomains",
];
const OPERATION_FIELDS: &[&str] = &[
    "hosts",
    "notHosts",
    "ports",
    "notPorts",
    "methods",
    "notMethods",
    "paths",
    "notPaths",
];
const CONDITION_FIELDS: &[&str] = &["key", "values", "notValues"];
const ACTIONS: &[&str] = &["ALLOW", "DENY", "AUDIT", "CUSTOM"];

const REQUEST_AUTHN_FIELDS: &[&str] = &["selector", "targetRef", "targetRefs", "jwtRules"];
const JWT_FIELDS: &[&str] = &[
    "issuer",
    "audiences",
    "jwksUri",
    "jwks",
    "fromHeaders",
    "fromParams",
    "fromCookies",
    "outputPayloadToHeader",
    "forwardOriginalToken",
    "outputClaimToHeaders",
    "timeout",
];

const PEER_AUTHN_FIELDS: &[&str] = &["selector", "mtls", "portLevelMtls"];
const MTLS_MODES: &[&str] = &["UNSET", "DISABLE", "PERMISSIVE", "STRICT"];

fn parse_action(text: &str) -> Option<AuthzAction> {
    Some(match text.trim().to_ascii_uppercase().as_str() {
        "ALLOW" => AuthzAction::Allow,
        "DENY" => AuthzAction::Deny,
        "AUDIT" => AuthzAction::Audit,
        "CUSTOM" => AuthzAction::Custom,
        _ => return None,
    })
}

fn parse_mtls_mode(text: &str) -> Option<String> {
    let upper = text.trim().to_ascii_uppercase();
    MTLS_MODES.contains(&upper.as_str()).then_some(upper)
}

/// `targetRef` then each `targetRefs[]` entry.
fn target_refs(ctx: &mut Ctx, spec: &super::node::Fields) -> Result<Vec<TargetRef>, PolicyError> {
    const REF_FIELDS: &[&str] = &["group", "kind", "name", "namespace"];
    let mut refs = Vec::new();
    let mut read = |ctx: &mut Ctx, f: &super::node::Fields| -> Result<(), PolicyError> {
        refs.push(TargetRef {
            group: ctx.opt_string(f, "group")?.unwrap_or_default(),
            kind: ctx.opt_string(f, "kind")?.unwrap_or_default(),
            name: ctx.opt_string(f, "name")?.unwrap_or_default(),
            namespace: ctx.opt_string(f, "namespace")?,
        });
        Ok(())
    };
    if spec.get("targetRef").is_some() {
        let one = ctx.sub(spec, "targetRef", REF_FIELDS)?;
        read(ctx, &one)?;
    }
    for (node, path) in ctx.items(spec, "targetRefs")? {
        let each = ctx.fields(Some(node), &path, REF_FIELDS)?;
        read(ctx, &each)?;
    }
    Ok(refs)
}

/// Istio reads `istio.io/dry-run` with Go's `strconv.ParseBool`; anything
/// it cannot parse counts as false (`isDryRun`,
/// pilot/pkg/security/authz/builder/builder.go @86c9f01).
fn dry_run(meta: &Meta) -> bool {
    matches!(
        meta.annotations.get("istio.io/dry-run").map(String::as_str),
        Some("1" | "t" | "T" | "true" | "TRUE" | "True")
    )
}

fn selector(
    ctx: &mut Ctx,
    spec: &super::node::Fields,
) -> Result<BTreeMap<String, String>, PolicyError> {
    let selector = ctx.sub(spec, "selector", &["matchLabels"])?;
    ctx.string_map(&selector, "matchLabels")
}

pub(super) fn read_authorization(
    ctx: &mut Ctx,
    doc: &Node,
    meta: &Meta,
    policy: &mut DeclaredPolicy,
) -> Result<(), PolicyError> {
    let spec = spec_of(ctx, doc, AUTHZ_FIELDS)?;
    let action = ctx
        .located_enum(&spec, "action", parse_action, ACTIONS)?
        .map(|a| a.value)
        .unwrap_or(AuthzAction::Allow);
    let provider = ctx.sub(&spec, "provider", &["name"])?;
    let provider = ctx.opt_string(&provider, "name")?;
    let selector = selector(ctx, &spec)?;
    let target_refs = target_refs(ctx, &spec)?;
    let mut rules = Vec::new();
    for (node, path) in ctx.items(&spec, "rules")? {
        let rule = ctx.fields(Some(node), &path, RULE_FIELDS)?;
        let mut from = Vec::new();
        for (node, path) in ctx.items(&rule, "from")? {
            let entry = ctx.fields(Some(node), &path, &["source"])?;
            let s = ctx.sub(&entry, "source", SOURCE_FIELDS)?;
            from.push(AuthzSource {
                principals: ctx.list(&s, "principals", false)?,
                not_principals: ctx.list(&s, "notPrincipals", false)?,
                request_principals: ctx.list(&s, "requestPrincipals", false)?,
                not_request_principals: ctx.list(&s, "notRequestPrincipals", false)?,
                namespaces: ctx.list(&s, "namespaces", false)?,
                not_namespaces: ctx.list(&s, "notNamespaces", false)?,
                ip_blocks: ctx.list(&s, "ipBlocks", false)?,
                not_ip_blocks: ctx.list(&s, "notIpBlocks", false)?,
                remote_ip_blocks: ctx.list(&s, "remoteIpBlocks", false)?,
                not_remote_ip_blocks: ctx.list(&s, "notRemoteIpBlocks", false)?,
                service_accounts: ctx.list(&s, "serviceAccounts", false)?,
                not_service_accounts: ctx.list(&s, "notServiceAccounts", false)?,
                trust_domains: ctx.list(&s, "trustDomains", false)?,
                not_trust_domains: ctx.list(&s, "notTrustDomains", false)?,
            });
        }
        let mut to = Vec::new();
        for (node, path) in ctx.items(&rule, "to")? {
            let entry = ctx.fields(Some(node), &path, &["operation"])?;
            let o = ctx.sub(&entry, "operation", OPERATION_FIELDS)?;
            to.push(AuthzOperation {
                hosts: ctx.list(&o, "hosts", false)?,
                not_hosts: ctx.list(&o, "notHosts", false)?,
                ports: ctx.list(&o, "ports", true)?,
                not_ports: ctx.list(&o, "notPorts", true)?,
                methods: ctx.list(&o, "methods", false)?,
                not_methods: ctx.list(&o, "notMethods", false)?,
                paths: ctx.list(&o, "paths", false)?,
                not_paths: ctx.list(&o, "notPaths", false)?,
            });
        }
        let mut when = Vec::new();
        for (node, path) in ctx.items(&rule, "when")? {
            let c = ctx.fields(Some(node), &path, CONDITION_FIELDS)?;
            when.push(AuthzCondition {
                key: ctx.opt_string(&c, "key")?.unwrap_or_default(),
                values: ctx.list(&c, "values", true)?,
                not_values: ctx.list(&c, "notValues", true)?,
            });
        }
        rules.push(AuthzRule {
            origin: ctx.origin(node, &path),
            from,
            to,
            when,
        });
    }
    policy.authorization_policies.push(AuthorizationPolicyDecl {
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        origin: meta.origin.clone(),
        target_refs,
        dry_run: dry_run(meta),
        action,
        selector,
        provider,
        rules,
    });
    Ok(())
}

pub(super) fn read_request_authentication(
    ctx: &mut Ctx,
    doc: &Node,
    meta: &Meta,
    policy: &mut DeclaredPolicy,
) -> Result<(), PolicyError> {
    let spec = spec_of(ctx, doc, REQUEST_AUTHN_FIELDS)?;
    let selector = selector(ctx, &spec)?;
    let target_refs = target_refs(ctx, &spec)?;
    let mut jwt_rules = Vec::new();
    for (node, path) in ctx.items(&spec, "jwtRules")? {
        let r = ctx.fields(Some(node), &path, JWT_FIELDS)?;
        let mut from_headers = Vec::new();
        for (node, path) in ctx.items(&r, "fromHeaders")? {
            let h = ctx.fields(Some(node), &path, &["name", "prefix"])?;
            let name = ctx.opt_string(&h, "name")?.unwrap_or_default();
            from_headers.push((name, ctx.opt_string(&h, "prefix")?));
        }
        let forward = ctx
            .located_bool(&r, "forwardOriginalToken")?
            .is_some_and(|b| b.value);
        jwt_rules.push(JwtRule {
            origin: ctx.origin(node, &path),
            issuer: ctx.opt_string(&r, "issuer")?.unwrap_or_default(),
            audiences: ctx.list(&r, "audiences", false)?,
            jwks_uri: ctx.opt_string(&r, "jwksUri")?,
            jwks: ctx.opt_string(&r, "jwks")?,
            from_headers,
            from_params: ctx.list(&r, "fromParams", false)?,
            from_cookies: ctx.list(&r, "fromCookies", false)?,
            forward_original_token: forward,
        });
    }
    policy
        .request_authentications
        .push(RequestAuthenticationDecl {
            name: meta.name.clone(),
            namespace: meta.namespace.clone(),
            origin: meta.origin.clone(),
            target_refs,
            selector,
            jwt_rules,
        });
    Ok(())
}

pub(super) fn read_peer_authentication(
    ctx: &mut Ctx,
    doc: &Node,
    meta: &Meta,
    policy: &mut DeclaredPolicy,
) -> Result<(), PolicyError> {
    let spec = spec_of(ctx, doc, PEER_AUTHN_FIELDS)?;
    let selector = selector(ctx, &spec)?;
    let mtls = ctx.sub(&spec, "mtls", &["mode"])?;
    let mtls_mode = ctx
        .located_enum(&mtls, "mode", parse_mtls_mode, MTLS_MODES)?
        .map(|m| m.value);
    let mut port_level_mtls = BTreeMap::new();
    let ports = ctx.sub(&spec, "portLevelMtls", &[])?;
    for (key, value) in ports.entries() {
        let path = ports.path_of(&key.key_text());
        let port = match key.key_text().trim().parse::<u16>() {
            Ok(p) if p != 0 => p,
            _ => {
                return Err(ctx.invalid(
                    key,
                    &path,
                    format!(
                        "portLevelMtls key {:?} is not a port number",
                        key.key_text()
                    ),
                ))
            }
        };
        let entry = ctx.fields(Some(value), &path, &["mode"])?;
        if let Some(mode) = ctx.located_enum(&entry, "mode", parse_mtls_mode, MTLS_MODES)? {
            port_level_mtls.insert(port, mode.value);
        }
    }
    policy.peer_authentications.push(PeerAuthenticationDecl {
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        origin: meta.origin.clone(),
        selector,
        mtls_mode,
        port_level_mtls,
    });
    Ok(())
}
