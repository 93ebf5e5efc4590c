//! Kubernetes Gateway API `Gateway` (`gateway.networking.k8s.io` v1, v1beta1):
//! each listener becomes a [`ServerDecl`] (istio/istio
//! `pilot/pkg/config/kube/gateway` `buildListener`): no `hostname` → `*`,
//! `certificateRefs[0].name` → `credentialName` (with two refs all names
//! also go to `credentialNames`), the `gateway.istio.io/tls-cipher-suites`
//! option → `cipherSuites`. The TLS inputs whose meaning depends on the
//! Istio release (the terminate-mode option, the Gateway's
//! `spec.tls.frontend` client validation) are kept as written in
//! [`GatewayApiTls`]; the mode shown here is istiod's translation for the
//! default release ([`crate::policy::istiod::servers::gateway_api_tls`]),
//! and `istiod::resolve` translates again for the release asked for.

use std::collections::BTreeMap;

use super::node::{Ctx, Node};
use super::{spec_of, Meta};
use crate::policy::istiod::version::IstioVersion;
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
const GATEWAY_TLS_FIELDS: &[&str] = &["frontend", "backend"];
const FRONTEND_FIELDS: &[&str] = &["default", "perPort"];
const PORT_TLS_FIELDS: &[&str] = &["port", "tls"];
const FRONTEND_TLS_FIELDS: &[&str] = &["validation"];

/// `tls.options` key Istio reads to pick the terminate mode.
pub(crate) const TERMINATE_MODE_OPTION: &str = "gateway.istio.io/tls-terminate-mode";
/// `tls.options` key naming the listener mode (`auto-passthrough`).
pub(crate) const LISTENER_PROTOCOL_OPTION: &str = "gateway.istio.io/listener-protocol";
/// `tls.options` key Istio (1.29+) reads for a comma-separated cipher list.
pub(crate) const CIPHER_SUITES_OPTION: &str = "gateway.istio.io/tls-cipher-suites";

pub(super) fn read(
    ctx: &mut Ctx,
    doc: &Node,
    meta: &Meta,
    policy: &mut DeclaredPolicy,
) -> Result<(), PolicyError> {
    let spec = spec_of(ctx, doc, SPEC_FIELDS)?;
    let frontend = read_frontend(ctx, &spec)?;
    let metadata = ctx.fields(doc.get("metadata"), "metadata", &[])?;
    let labels = ctx.string_map(&metadata, "labels")?;
    let mut servers = Vec::new();
    for (node, path) in ctx.items(&spec, "listeners")? {
        servers.push(read_listener(ctx, node, &path, &frontend, &labels)?);
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

/// One `spec.tls.frontend` validation entry: the first CA ref's name,
/// how many refs, and `validation.mode`.
#[derive(Debug, Clone, Default)]
struct FrontendValidation {
    ca: Option<Located<String>>,
    ca_ref: Option<ObjectRefDecl>,
    count: usize,
    mode: Option<Located<String>>,
}

/// `spec.tls.frontend`: the default entry and the per-port ones (istiod's
/// `resolveGatewayTLS` picks `perPort[port]`, else `default`).
#[derive(Debug, Clone, Default)]
struct Frontend {
    default: Option<FrontendValidation>,
    per_port: Vec<(u16, FrontendValidation)>,
}

impl Frontend {
    fn for_port(&self, port: u16) -> Option<&FrontendValidation> {
        self.per_port
            .iter()
            .find(|(p, _)| *p == port)
            .map(|(_, v)| v)
            .or(self.default.as_ref())
    }
}

fn read_frontend(ctx: &mut Ctx, spec: &super::node::Fields) -> Result<Frontend, PolicyError> {
    let tls = ctx.sub(spec, "tls", GATEWAY_TLS_FIELDS)?;
    let frontend = ctx.sub(&tls, "frontend", FRONTEND_FIELDS)?;
    let mut out = Frontend::default();
    if frontend.get("default").is_some() {
        let entry = ctx.sub(&frontend, "default", FRONTEND_TLS_FIELDS)?;
        out.default = Some(read_validation(ctx, &entry)?);
    }
    for (node, path) in ctx.items(&frontend, "perPort")? {
        let entry = ctx.fields(Some(node), &path, PORT_TLS_FIELDS)?;
        let Some(port_node) = entry.get("port") else {
            return Err(ctx.invalid(node, &path, "perPort entry has no `port`"));
        };
        let port = ctx.port(port_node, &entry.path_of("port"))?;
        let tls = ctx.sub(&entry, "tls", FRONTEND_TLS_FIELDS)?;
        out.per_port.push((port, read_validation(ctx, &tls)?));
    }
    Ok(out)
}

fn read_validation(
    ctx: &mut Ctx,
    entry: &super::node::Fields,
) -> Result<FrontendValidation, PolicyError> {
    let validation = ctx.sub(entry, "validation", VALIDATION_FIELDS)?;
    let refs = ctx.items(&validation, "caCertificateRefs")?;
    let mut ca = None;
    let mut ca_ref = None;
    if let Some((node, path)) = refs.first() {
        ca_ref = object_ref(ctx, node, path)?;
        ca = ca_ref
            .as_ref()
            .map(|r: &ObjectRefDecl| Located::new(r.name.clone(), r.origin.clone()));
    }
    Ok(FrontendValidation {
        ca,
        ca_ref,
        count: refs.len(),
        mode: ctx.located_string(&validation, "mode")?,
    })
}

fn read_listener(
    ctx: &mut Ctx,
    node: &Node,
    path: &str,
    frontend: &Frontend,
    labels: &BTreeMap<String, String>,
) -> Result<ServerDecl, PolicyError> {
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
        Some((key, _)) => {
            let mut tls = read_tls(ctx, &listener, key, frontend.for_port(port))?;
            if let Some(raw) = tls.gateway_api.as_mut() {
                raw.port = port;
                raw.gateway_labels = labels.clone();
            }
            Some(tls)
        }
        None => None,
    };
    Ok(ServerDecl {
        port,
        port_name,
        protocol,
        bind: None,
        hosts: vec![hostname],
        tls,
        origin: ctx.origin(node, path),
    })
}

fn read_tls(
    ctx: &mut Ctx,
    listener: &super::node::Fields,
    key: &Node,
    frontend: Option<&FrontendValidation>,
) -> Result<ServerTls, PolicyError> {
    let tls = ctx.sub(listener, "tls", TLS_FIELDS)?;
    let mode_path = tls.path_of("mode");
    let (passthrough, mode_origin) = match tls.get("mode") {
        None => (false, ctx.origin(key, &tls.path)),
        Some(n) => {
            let text = ctx.string(n, &mode_path)?;
            let passthrough = match text.as_str() {
                "Terminate" => false,
                "Passthrough" => true,
                other => {
                    return Err(ctx.invalid(
                        n,
                        &mode_path,
                        format!("unknown mode {other:?}; valid values: Terminate, Passthrough"),
                    ))
                }
            };
            (passthrough, ctx.origin(n, &mode_path))
        }
    };

    let mut credential_name = None;
    let mut credential_names = Vec::new();
    let mut certificate_refs = Vec::new();
    let refs = ctx.items(&tls, "certificateRefs")?;
    for (i, (node, path)) in refs.iter().enumerate() {
        if let Some(r) = object_ref(ctx, node, path)? {
            certificate_refs.push(r);
        }
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

    // Istio never reads a listener-level `tls.frontendValidation` (it reads
    // the Gateway's `spec.tls.frontend`, `resolveGatewayTLS`); say so.
    if let Some(node) = tls.get("frontendValidation") {
        ctx.warn(
            node,
            &tls.path_of("frontendValidation"),
            "Istio ignores a listener's tls.frontendValidation; client certificate validation \
             is read from the Gateway's spec.tls.frontend (default or perPort)",
        );
    }

    let options = ctx.sub(&tls, "options", &[])?;
    let terminate_mode = ctx.located_string(&options, TERMINATE_MODE_OPTION)?;
    let listener_protocol = ctx.located_string(&options, LISTENER_PROTOCOL_OPTION)?;
    let cipher_suites = ctx.list_or_csv(&options, CIPHER_SUITES_OPTION)?;
    let raw = GatewayApiTls {
        passthrough,
        terminate_mode,
        frontend_ca: frontend.and_then(|f| f.ca.clone()),
        frontend_ca_count: frontend.map_or(0, |f| f.count),
        frontend_mode: frontend.and_then(|f| f.mode.clone()),
        frontend_ca_ref: frontend.and_then(|f| f.ca_ref.clone()),
        certificate_refs,
        listener_protocol,
        port: 0,
        gateway_labels: BTreeMap::new(),
    };
    let declared = ServerTls {
        mode: Some(Located::new(
            if passthrough {
                TlsMode::Passthrough
            } else {
                TlsMode::Simple
            },
            mode_origin,
        )),
        credential_name,
        credential_names,
        cipher_suites,
        gateway_api: Some(raw),
        origin: ctx.origin(key, &tls.path),
        ..ServerTls::default()
    };
    Ok(
        crate::policy::istiod::servers::gateway_api_tls(&declared, IstioVersion::DEFAULT)
            .unwrap_or(declared),
    )
}

/// One object reference; `None` without a name.
fn object_ref(
    ctx: &mut Ctx,
    node: &Node,
    path: &str,
) -> Result<Option<ObjectRefDecl>, PolicyError> {
    let r = ctx.fields(Some(node), path, &["name", "namespace", "kind", "group"])?;
    let Some(name) = ctx.located_string(&r, "name")? else {
        return Ok(None);
    };
    Ok(Some(ObjectRefDecl {
        group: ctx.opt_string(&r, "group")?,
        kind: ctx.opt_string(&r, "kind")?,
        namespace: ctx.opt_string(&r, "namespace")?,
        name: name.value,
        origin: ctx.origin(node, path),
    }))
}

const GRANT_FIELDS: &[&str] = &["from", "to"];
const GRANT_FROM_FIELDS: &[&str] = &["group", "kind", "namespace"];
const GRANT_TO_FIELDS: &[&str] = &["group", "kind", "name"];

/// `ReferenceGrant` (v1beta1 / v1): who may reference what in its namespace.
pub(super) fn read_reference_grant(
    ctx: &mut Ctx,
    doc: &Node,
    meta: &Meta,
    policy: &mut DeclaredPolicy,
) -> Result<(), PolicyError> {
    let spec = spec_of(ctx, doc, GRANT_FIELDS)?;
    let mut from = Vec::new();
    for (node, path) in ctx.items(&spec, "from")? {
        let f = ctx.fields(Some(node), &path, GRANT_FROM_FIELDS)?;
        from.push((
            ctx.opt_string(&f, "group")?.unwrap_or_default(),
            ctx.opt_string(&f, "kind")?.unwrap_or_default(),
            ctx.opt_string(&f, "namespace")?.unwrap_or_default(),
        ));
    }
    let mut to = Vec::new();
    for (node, path) in ctx.items(&spec, "to")? {
        let t = ctx.fields(Some(node), &path, GRANT_TO_FIELDS)?;
        to.push((
            ctx.opt_string(&t, "group")?.unwrap_or_default(),
            ctx.opt_string(&t, "kind")?.unwrap_or_default(),
            ctx.opt_string(&t, "name")?,
        ));
    }
    policy.reference_grants.push(ReferenceGrantDecl {
        namespace: meta.namespace.clone(),
        from,
        to,
    });
    Ok(())
}
