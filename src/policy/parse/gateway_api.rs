//! Kubernetes Gateway API `Gateway` (`gateway.networking.k8s.io` v1, v1beta1):
//! each listener becomes a [`ServerDecl`] the way istiod translates it
//! (istio/istio `pilot/pkg/config/kube/gateway` `buildListener`):
//! - `tls.mode: Terminate` (the default) → SIMPLE; MUTUAL when
//!   `tls.frontendValidation.caCertificateRefs` is set; the
//!   `gateway.istio.io/tls-terminate-mode` option overrides both (Istio
//!   applies it after the CA refs, istio/istio#59098);
//! - `tls.mode: Passthrough` → PASSTHROUGH;
//! - no `hostname` → `*`;
//! - `certificateRefs[0].name` → `credentialName`; with two or more refs
//!   (dual RSA/ECDSA certificates) all names also go to `credentialNames`;
//! - the `gateway.istio.io/tls-cipher-suites` option (Istio 1.29, a
//!   comma-separated list) → `cipherSuites`.

use super::node::{Ctx, Node};
use super::{spec_of, Meta};
use crate::policy::model::*;
use crate::policy::PolicyError;

const SPEC_FIELDS: &[&str] = &[
    "gatewayClassName",
    "listeners",
    "addresses",
    "infrastructure",
    "backendTLS",
    "allowedListeners",
    "tls",
    "defaultScope",
];
const LISTENER_FIELDS: &[&str] = &[
    "name",
    "hostname",
    "port",
    "protocol",
    "tls",
    "allowedRoutes",
];
const TLS_FIELDS: &[&str] = &["mode", "certificateRefs", "options", "frontendValidation"];
const VALIDATION_FIELDS: &[&str] = &["caCertificateRefs", "mode"];

/// `tls.options` key Istio reads to pick the terminate mode.
pub(crate) const TERMINATE_MODE_OPTION: &str = "gateway.istio.io/tls-terminate-mode";
/// `tls.options` key Istio (1.29+) reads for a comma-separated cipher list.
pub(crate) const CIPHER_SUITES_OPTION: &str = "gateway.istio.io/tls-cipher-suites";

pub(super) fn read(
    ctx: &mut Ctx,
    doc: &Node,
    meta: &Meta,
    policy: &mut DeclaredPolicy,
) -> Result<(), PolicyError> {
    let spec = spec_of(ctx, doc, SPEC_FIELDS)?;
    let mut servers = Vec::new();
    for (node, path) in ctx.items(&spec, "listeners")? {
        servers.push(read_listener(ctx, node, &path)?);
    }
    policy.gateways.push(GatewayDecl {
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        api_version: meta.api_version.clone(),
        flavor: GatewayFlavor::GatewayApi,
        selector: Default::default(),
        origin: meta.origin.clone(),
        servers,
    });
    Ok(())
}

fn read_listener(ctx: &mut Ctx, node: &Node, path: &str) -> Result<ServerDecl, PolicyError> {
    let listener = ctx.fields(Some(node), path, LISTENER_FIELDS)?;
    let port_node = listener
        .get("port")
        .ok_or_else(|| ctx.invalid(node, path, "listener has no `port`"))?;
    let port = ctx.port(port_node, &listener.path_of("port"))?;
    let protocol = ctx
        .opt_string(&listener, "protocol")?
        .unwrap_or_default()
        .to_ascii_uppercase();
    let hostname = ctx
        .opt_string(&listener, "hostname")?
        .unwrap_or_else(|| "*".into());
    let port_name = ctx.opt_string(&listener, "name")?;
    let tls = match listener.entry("tls") {
        Some((key, _)) => Some(read_tls(ctx, &listener, key)?),
        None => None,
    };
    Ok(ServerDecl {
        port,
        port_name,
        protocol,
        hosts: vec![hostname],
        tls,
        origin: ctx.origin(node, path),
    })
}

fn read_tls(
    ctx: &mut Ctx,
    listener: &super::node::Fields,
    key: &Node,
) -> Result<ServerTls, PolicyError> {
    let tls = ctx.sub(listener, "tls", TLS_FIELDS)?;
    let mode_path = tls.path_of("mode");
    let (mode, mode_origin) = match tls.get("mode") {
        None => (TlsMode::Simple, ctx.origin(key, &tls.path)),
        Some(n) => {
            let text = ctx.string(n, &mode_path)?;
            let mode = match text.as_str() {
                "Terminate" => TlsMode::Simple,
                "Passthrough" => TlsMode::Passthrough,
                other => {
                    return Err(ctx.invalid(
                        n,
                        &mode_path,
                        format!("unknown mode {other:?}; valid values: Terminate, Passthrough"),
                    ))
                }
            };
            (mode, ctx.origin(n, &mode_path))
        }
    };
    let mut mode = Located::new(mode, mode_origin);

    let mut credential_name = None;
    let mut credential_names = Vec::new();
    let refs = ctx.items(&tls, "certificateRefs")?;
    for (i, (node, path)) in refs.iter().enumerate() {
        let r = ctx.fields(Some(node), path, &["name", "namespace", "kind", "group"])?;
        if let Some(name) = ctx.located_string(&r, "name")? {
            if i == 0 {
                credential_name = Some(name.clone());
            }
            if refs.len() > 1 {
                credential_names.push(name);
            }
        }
    }

    let validation = ctx.sub(&tls, "frontendValidation", VALIDATION_FIELDS)?;
    let mut ca_certificates = None;
    if let Some((node, path)) = ctx.items(&validation, "caCertificateRefs")?.first() {
        let r = ctx.fields(Some(node), path, &["name", "namespace", "kind", "group"])?;
        if let Some(name) = ctx.located_string(&r, "name")? {
            if mode.value == TlsMode::Simple {
                mode = Located::new(TlsMode::Mutual, name.origin.clone());
            }
            ca_certificates = Some(name);
        }
    }

    let options = ctx.sub(&tls, "options", &[])?;
    if let Some(option) = ctx.located_enum(
        &options,
        TERMINATE_MODE_OPTION,
        TlsMode::parse,
        &["SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL", "ISTIO_MUTUAL"],
    )? {
        if mode.value != TlsMode::Passthrough {
            mode = option;
        }
    }
    let cipher_suites = ctx.list_or_csv(&options, CIPHER_SUITES_OPTION)?;

    Ok(ServerTls {
        mode: Some(mode),
        credential_name,
        credential_names,
        ca_certificates,
        cipher_suites,
        origin: ctx.origin(key, &tls.path),
        ..ServerTls::default()
    })
}
