//! Which declared servers istiod keeps, and how Gateway API listeners
//! become servers.
//!
//! Merging follows `pilot/pkg/model/gateway.go` `mergeGateways` (istio/istio
//! @86c9f01f; tests `TestMergeGateways`, `TestMergeGatewaysHttpsFirstBug`,
//! gateway_simulation_test.go `TestGatewayConflicts`):
//! - R-M1: a server with `tls` whose (sanitised) hosts repeat one already
//!   seen on the same port and bind is skipped whole (`CheckDuplicates`);
//!   hosts compare as strings after `sanitizeServerHostNamespace`, so
//!   `istio-system/*` and `default/*` are different hosts.
//! - R-M2/R-M3: once a plain-text server (anything that is not a TLS server:
//!   HTTP, TCP, HTTP with only `httpsRedirect`) holds a port, a later server
//!   on the same bind is kept only if both are HTTP (`canMergeProtocols`);
//!   a TLS server first and plain HTTP after are both kept.
//! - R-M4: a second HTTPS server with the same RDS route name (same port
//!   name in the same Gateway, same bind) is skipped ("non unique port
//!   name").
//!
//! Istio orders Gateways by creation time (`sortConfigByCreationTime`:
//! oldest first, then name, then namespace). Offline there is no creation
//! time, so document order stands in for it; when two Gateways conflict,
//! the one written first is the one kept.
//!
//! Not modelled: R-M5 (TCP/TLS servers without a matching VirtualService
//! route get no chain — VirtualServices are not read), R-M6 (ports below
//! 1024 on unprivileged pods — the pod is not known), `targetPort`.

use serde::Serialize;

use super::version::IstioVersion;
use crate::policy::model::*;

/// A declared server istiod drops, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DroppedServer {
    /// `namespace/name` of the Gateway.
    pub gateway: String,
    pub server: Origin,
    pub port: u16,
    /// Declared hosts, `namespace/` stripped.
    pub hosts: Vec<String>,
    pub reason: String,
    /// `gateway default/gw servers[1]`, for messages.
    #[serde(skip)]
    pub label: String,
    /// (Gateway, server) index: document order.
    #[serde(skip)]
    pub order: (usize, usize),
}

/// istiod's translation of a Gateway API listener's TLS
/// (`pilot/pkg/config/kube/gateway/conversion.go` `buildTLS`, R-G2/R-G3),
/// for `version`. `Err` is istiod's reason for not programming the
/// listener (its server then does not exist).
///
/// - Terminate → SIMPLE; option `gateway.istio.io/tls-terminate-mode`
///   `MUTUAL` / `OPTIONAL_MUTUAL` set the mode, `ISTIO_SIMPLE` is SIMPLE
///   with `credentialName: builtin://`, `ISTIO_MUTUAL` is ISTIO_MUTUAL (both
///   return at once: no certificates, no cipher option); any other value is
///   ignored (the `switch` has no default).
/// - More than 2 certificateRefs: refused.
/// - The Gateway's `spec.tls.frontend` CA ref (1.28+, `resolveGatewayTLS`;
///   1.27 has no frontend validation): more than one ref is refused; else
///   MUTUAL with `caCertCredentialName`. From 1.31 (istio/istio#60824,
///   tag 1.31.0-alpha.2) `validation.mode: AllowInsecureFallback` makes it
///   OPTIONAL_MUTUAL + `insecureSkipVerify`, and the terminate-mode option
///   MUTUAL / OPTIONAL_MUTUAL then overrides the mode and resets
///   `insecureSkipVerify`; in 1.28–1.30 the CA ref forces MUTUAL whatever
///   the option says (checked at tags 1.28.10, 1.29.6, 1.30.3).
/// - The cipher option exists from 1.29 (absent at 1.28.10).
/// - Passthrough → PASSTHROUGH, or AUTO_PASSTHROUGH for an east-west
///   listener ([`is_auto_passthrough`]).
pub fn gateway_api_tls(declared: &ServerTls, version: IstioVersion) -> Result<ServerTls, String> {
    let Some(raw) = &declared.gateway_api else {
        return Ok(declared.clone());
    };
    let mut out = declared.clone();
    let origin = declared
        .mode
        .as_ref()
        .map_or_else(|| declared.origin.clone(), |m| m.origin.clone());
    if raw.passthrough {
        let mode = if is_auto_passthrough(raw) {
            TlsMode::AutoPassthrough
        } else {
            TlsMode::Passthrough
        };
        out.mode = Some(Located::new(mode, origin));
        return Ok(out);
    }
    out.mode = Some(Located::new(TlsMode::Simple, origin));
    if !version.at_least(1, 29) {
        out.cipher_suites.clear();
    }
    let option = raw.terminate_mode.as_ref();
    let option_mode = option.and_then(|o| match o.value.as_str() {
        "MUTUAL" => Some(TlsMode::Mutual),
        "OPTIONAL_MUTUAL" => Some(TlsMode::OptionalMutual),
        _ => None,
    });
    if let Some(o) = option {
        match o.value.as_str() {
            "ISTIO_SIMPLE" => {
                return Ok(ServerTls {
                    mode: Some(Located::new(TlsMode::Simple, o.origin.clone())),
                    credential_name: Some(Located::new("builtin://".into(), o.origin.clone())),
                    gateway_api: declared.gateway_api.clone(),
                    origin: declared.origin.clone(),
                    ..ServerTls::default()
                })
            }
            "ISTIO_MUTUAL" => {
                return Ok(ServerTls {
                    mode: Some(Located::new(TlsMode::IstioMutual, o.origin.clone())),
                    gateway_api: declared.gateway_api.clone(),
                    origin: declared.origin.clone(),
                    ..ServerTls::default()
                })
            }
            _ => {}
        }
        if let Some(m) = option_mode {
            out.mode = Some(Located::new(m, o.origin.clone()));
        }
    }
    let certs = declared
        .credential_names
        .len()
        .max(usize::from(declared.credential_name.is_some()));
    if certs > 2 {
        return Err(
            "TLS mode can only support up to 2 server certificates (istiod buildTLS)".into(),
        );
    }
    if !version.at_least(1, 28) {
        return Ok(out);
    }
    let Some(ca) = &raw.frontend_ca else {
        return Ok(out);
    };
    if raw.frontend_ca_count > 1 {
        return Err("only one caCertificateRef is supported (istiod buildTLS)".into());
    }
    out.mode = Some(Located::new(TlsMode::Mutual, ca.origin.clone()));
    out.ca_cert_credential_name = Some(ca.clone());
    out.insecure_skip_verify = Some(Located::new(false, ca.origin.clone()));
    if version.at_least(1, 31) {
        if let Some(m) = raw
            .frontend_mode
            .as_ref()
            .filter(|m| m.value == "AllowInsecureFallback")
        {
            out.mode = Some(Located::new(TlsMode::OptionalMutual, m.origin.clone()));
            out.insecure_skip_verify = Some(Located::new(true, m.origin.clone()));
        }
        if let (Some(m), Some(o)) = (option_mode, option) {
            out.mode = Some(Located::new(m, o.origin.clone()));
            out.insecure_skip_verify = Some(Located::new(false, o.origin.clone()));
        }
    }
    Ok(out)
}

/// `sanitizeServerHostNamespace`: `./h` → `<ns>/h`, `*/h` → `h`, `*/*`
/// makes the hosts `[*]`. Gateway API hosts are `<ns>/<hostname>` (R-G1).
pub fn sanitized_hosts(gateway: &GatewayDecl, server: &ServerDecl) -> Vec<String> {
    let ns = gateway.namespace.as_deref().unwrap_or("default");
    let mut out = Vec::new();
    for host in &server.hosts {
        let host = match gateway.flavor {
            GatewayFlavor::GatewayApi if host == "*" => "*/*".to_owned(),
            GatewayFlavor::GatewayApi if !host.contains('/') => format!("{ns}/{host}"),
            _ => host.clone(),
        };
        match host.split_once('/') {
            Some((".", h)) => out.push(format!("{ns}/{h}")),
            Some(("*", "*")) => return vec!["*".to_owned()],
            Some(("*", h)) => out.push(h.to_owned()),
            _ => out.push(host),
        }
    }
    out
}

/// The [`DroppedServer`] for a server a later step (R-M5) drops.
pub(super) fn dropped_server(kept: &Kept, reason: String) -> DroppedServer {
    let list = match kept.gateway.flavor {
        GatewayFlavor::Istio => "servers",
        GatewayFlavor::GatewayApi => "listeners",
    };
    DroppedServer {
        order: (kept.gateway_index, kept.index),
        label: format!(
            "gateway {} {list}[{}]",
            kept.gateway.qualified_name(),
            kept.index
        ),
        gateway: kept.gateway.qualified_name(),
        server: kept.server.origin.clone(),
        port: kept.server.port,
        hosts: kept
            .server
            .hosts
            .iter()
            .map(|h| bare_host(h).to_owned())
            .collect(),
        reason,
    }
}

/// `kube.IsAutoPassthrough` (pilot/pkg/serviceregistry/kube/
/// conversion.go, the same at 1.27.9–master): the listener option
/// `gateway.istio.io/listener-protocol: auto-passthrough`, or the Gateway
/// labelled `topology.istio.io/network` and the listener on port 15443
/// (or the `networking.istio.io/gatewayPort` label's port); TestConvertResources
/// eastwest-tlsoption.
pub fn is_auto_passthrough(raw: &GatewayApiTls) -> bool {
    if raw
        .listener_protocol
        .as_ref()
        .is_some_and(|o| o.value == "auto-passthrough")
    {
        return true;
    }
    if !raw.gateway_labels.contains_key("topology.istio.io/network") {
        return false;
    }
    let expected = raw
        .gateway_labels
        .get("networking.istio.io/gatewayPort")
        .map_or("15443", String::as_str);
    raw.port.to_string() == expected
}

/// Whether the input holds cluster objects a Gateway API listener's
/// references can be checked against (any Secret, ConfigMap or
/// ReferenceGrant). Without them a reference is assumed to resolve: a
/// Gateway file on its own says nothing about which Secrets exist.
fn references_checkable(policy: &DeclaredPolicy) -> bool {
    policy
        .documents
        .iter()
        .any(|d| matches!(d.kind.as_str(), "Secret" | "ConfigMap" | "ReferenceGrant"))
}

/// `ReferenceGrants.SecretAllowed`: a grant in `target_ns` lets Gateways
/// of `gateway_ns` reference a `kind` object named `name`.
fn grant_allows(
    policy: &DeclaredPolicy,
    gateway_ns: &str,
    target_ns: &str,
    kind: &str,
    name: &str,
) -> bool {
    policy.reference_grants.iter().any(|g| {
        g.namespace.as_deref().unwrap_or("default") == target_ns
            && g.from.iter().any(|(group, k, ns)| {
                group == "gateway.networking.k8s.io" && k == "Gateway" && ns == gateway_ns
            })
            && g.to.iter().any(|(group, k, n)| {
                group.is_empty() && k == kind && n.as_deref().is_none_or(|n| n == name)
            })
    })
}

/// The core kind a reference names (`NormalizeReference`: group `""`).
fn core_kind(r: &ObjectRefDecl, default: Option<&str>) -> Option<String> {
    let group = r.group.as_deref().unwrap_or("");
    if !group.is_empty() {
        return None;
    }
    r.kind.clone().or(default.map(str::to_owned))
}

/// The note for a kept Gateway API listener whose references
/// [`gateway_api_refs`] could not check (the input holds no Secret,
/// ConfigMap or ReferenceGrant): a frontend CA ref, or a certificateRef to
/// another namespace, is assumed to resolve.
pub fn unchecked_references(
    policy: &DeclaredPolicy,
    gateway: &GatewayDecl,
    tls: &ServerTls,
) -> Option<String> {
    let raw = tls.gateway_api.as_ref().filter(|r| !r.passthrough)?;
    if references_checkable(policy) {
        return None;
    }
    let gw_ns = gateway.namespace.as_deref().unwrap_or("default");
    let cross = raw
        .certificate_refs
        .iter()
        .any(|r| r.namespace.as_deref().is_some_and(|ns| ns != gw_ns));
    (cross || raw.frontend_ca_ref.is_some()).then(|| {
        "no Secret, ConfigMap or ReferenceGrant given: the listener's certificate and CA \
         references are assumed to exist and be permitted (istiod buildTLS drops a listener \
         whose references do not resolve, R-G1)"
            .to_owned()
    })
}

/// What `buildTLS` (pilot/pkg/config/kube/gateway/conversion.go) refuses
/// about a Gateway API listener's references, making the listener get no
/// server (R-G1): a certificateRef not to a Secret, or to another
/// namespace without a ReferenceGrant (no valid certificate left); a
/// frontend caCertificateRef to another namespace without a grant, of a
/// kind other than Secret/ConfigMap, or to an object the input lacks
/// (TestConvertResources frontend-tls-invalid, reference-policy-tls).
/// Presence and grants are only checked when [`references_checkable`].
pub fn gateway_api_refs(
    policy: &DeclaredPolicy,
    gateway: &GatewayDecl,
    tls: &ServerTls,
) -> Result<(), String> {
    let Some(raw) = &tls.gateway_api else {
        return Ok(());
    };
    let istio_certs = raw
        .terminate_mode
        .as_ref()
        .is_some_and(|m| matches!(m.value.as_str(), "ISTIO_SIMPLE" | "ISTIO_MUTUAL"));
    if raw.passthrough || istio_certs {
        return Ok(());
    }
    let checkable = references_checkable(policy);
    let gw_ns = gateway.namespace.as_deref().unwrap_or("default");
    let mut problems = Vec::new();
    let mut valid = 0;
    for r in &raw.certificate_refs {
        let ns = r.namespace.as_deref().unwrap_or(gw_ns);
        if checkable && ns != gw_ns && !grant_allows(policy, gw_ns, ns, "Secret", &r.name) {
            problems.push(format!(
                "certificateRef {}/{ns} not accessible to a Gateway in namespace {gw_ns:?} \
                 (missing a ReferenceGrant?)",
                r.name
            ));
            continue;
        }
        if core_kind(r, Some("Secret")).as_deref() != Some("Secret") {
            problems.push(format!(
                "invalid certificate reference {}, only secret is allowed",
                r.name
            ));
            continue;
        }
        valid += 1;
    }
    if valid == 0 && !raw.certificate_refs.is_empty() {
        return Err(problems.join("; "));
    }
    let Some(ca) = &raw.frontend_ca_ref else {
        return Ok(());
    };
    let ns = ca.namespace.as_deref().unwrap_or(gw_ns);
    let kind = core_kind(ca, None);
    if checkable && ns != gw_ns {
        let grant_kind = if kind.as_deref() == Some("Secret") {
            "Secret"
        } else {
            "ConfigMap"
        };
        if !grant_allows(policy, gw_ns, ns, grant_kind, &ca.name) {
            return Err(format!(
                "caCertificateRef {ns}/{} not accessible to a Gateway in namespace {gw_ns:?} \
                 (missing a ReferenceGrant?)",
                ca.name
            ));
        }
    }
    let Some(kind) = kind.filter(|k| k == "Secret" || k == "ConfigMap") else {
        return Err(format!(
            "invalid CA certificate reference {}, only secret and configmap are allowed",
            ca.name
        ));
    };
    let present = policy.documents.iter().any(|d| {
        let qualified = if d.name.contains('/') {
            d.name.clone()
        } else {
            format!("default/{}", d.name)
        };
        d.kind == kind && qualified == format!("{ns}/{}", ca.name)
    });
    if checkable && !present {
        return Err(format!(
            "invalid CA certificate reference {}, {} {ns}/{} not found in the input",
            ca.name,
            kind.to_ascii_lowercase(),
            ca.name
        ));
    }
    Ok(())
}

/// Whether istiod finds a route for a TCP or terminated-TLS server (R-M5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum L4Routing {
    /// A VirtualService `tcp` route matches: the server gets its chain.
    Routed,
    /// None does: no chain (`createGatewayTCPFilterChainOpts` returns none,
    /// "listener missed network filter"), and why.
    Unrouted(String),
    /// The input holds no VirtualService at all, so the routes are not
    /// known: the server is kept, assumed routed (a Gateway file on its own
    /// is the common input; dropping every TCP server then would be a
    /// guess, not what the cluster does).
    Assumed,
}

/// `resolveGatewayName` (pilot/pkg/model/config.go): `gw` and `./gw` are
/// the VirtualService's namespace's; `name.ns.svc…` is the legacy FQDN form.
fn resolve_gateway_name(name: &str, vs_namespace: &str) -> String {
    match name.split_once('/') {
        Some((".", gw)) => format!("{vs_namespace}/{gw}"),
        Some(_) => name.to_owned(),
        None => match name.split_once('.') {
            None => format!("{vs_namespace}/{name}"),
            Some((gw, rest)) => {
                let ns = rest.split('.').next().unwrap_or(rest);
                format!("{ns}/{gw}")
            }
        },
    }
}

/// `host.Name.Matches`: the two names overlap (`*` and `*.x` wildcards on
/// either side).
fn hosts_overlap(a: &str, b: &str) -> bool {
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    if a == "*" || b == "*" {
        return true;
    }
    match (a.strip_prefix('*'), b.strip_prefix('*')) {
        (Some(sa), Some(sb)) => sa.ends_with(sb) || sb.ends_with(sa),
        (Some(sa), None) => b.ends_with(sa),
        (None, Some(sb)) => a.ends_with(sb),
        (None, None) => a == b,
    }
}

/// R-M5, `buildGatewayNetworkFiltersFromTCPRoutes` (pilot/pkg/networking/
/// core/gateway.go): a VirtualService bound to the Gateway
/// (`VirtualServicesForGateway`), with a host the server's hosts cover
/// (`pickMatchingGatewayHosts`: a `ns/` host only for VirtualServices of
/// that namespace), and a `tcp` route whose `match` is empty or has an
/// entry with the server's port (or none) and the Gateway (or none)
/// (`l4MultiMatch`); a matching route without destinations is skipped.
/// TestBuildGatewayListeners "gateway TLS terminate server with VS TCP
/// empty route" / "gateway with multiple TLS HTTPS TCP servers". (The
/// TLSRoute fallback concerns Gateway API routes, which are not read.)
pub fn l4_routing(
    policy: &DeclaredPolicy,
    gateway: &GatewayDecl,
    server: &ServerDecl,
) -> L4Routing {
    if policy.virtual_services.is_empty() {
        return L4Routing::Assumed;
    }
    let gw_ns = gateway.namespace.as_deref().unwrap_or("default");
    let gateway_name = format!("{gw_ns}/{}", gateway.name);
    let hosts = sanitized_hosts(gateway, server);
    for vs in &policy.virtual_services {
        let vs_ns = vs.namespace.as_deref().unwrap_or("default");
        let bound = vs
            .gateways
            .iter()
            .any(|g| resolve_gateway_name(g, vs_ns) == gateway_name);
        let covers = hosts.iter().any(|h| {
            let bare = match h.split_once('/') {
                Some((ns, _)) if ns != vs_ns => return false,
                Some((_, bare)) => bare,
                None => h.as_str(),
            };
            vs.hosts.iter().any(|v| hosts_overlap(bare, v))
        });
        if !bound || !covers {
            continue;
        }
        let matching = vs.tcp.iter().find(|route| {
            route.has_destination
                && (route.matches.is_empty()
                    || route.matches.iter().any(|m| {
                        m.port.is_none_or(|p| p == server.port)
                            && (m.gateways.is_empty()
                                || m.gateways
                                    .iter()
                                    .any(|g| resolve_gateway_name(g, vs_ns) == gateway_name))
                    }))
        });
        if matching.is_some() {
            return L4Routing::Routed;
        }
    }
    L4Routing::Unrouted(format!(
        "no VirtualService bound to {gateway_name} has a tcp route with a destination for          port {} and hosts {:?}: istiod builds no filter chain for this {} server          (buildGatewayNetworkFiltersFromTCPRoutes) (R-M5)",
        server.port,
        server.hosts,
        server.protocol
    ))
}

/// Strips Istio's `namespace/` host prefix.
pub fn bare_host(host: &str) -> &str {
    host.split_once('/').map_or(host, |(_, h)| h)
}

/// `protocol.Instance.IsHTTP` (pkg/config/protocol/instance.go): the
/// protocols istiod serves with an HTTP connection manager (`protocol` is
/// upper-cased by the parser, as `protocol.Parse` is case-insensitive).
pub fn is_http(protocol: &str) -> bool {
    matches!(
        protocol,
        "HTTP" | "HTTP2" | "HTTP_PROXY" | "GRPC" | "GRPC-WEB"
    )
}

/// `gateway.IsTLSServer`: has `tls` and is not an HTTP protocol (so an
/// HTTP server with only `httpsRedirect` is plain text).
fn is_tls_server(server: &ServerDecl) -> bool {
    server.tls.is_some() && !is_http(&server.protocol)
}

/// What one kept server is, for the listener builder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Kept<'a> {
    pub workload: String,
    pub gateway_index: usize,
    pub gateway: &'a GatewayDecl,
    pub index: usize,
    pub server: &'a ServerDecl,
    /// The TLS settings after the Gateway API translation.
    pub tls: Option<ServerTls>,
    pub hosts: Vec<String>,
}

/// Which gateway workload a Gateway configures: a Gateway API Gateway has
/// its own deployment; Istio Gateways with the same `selector` select the
/// same pods. (Different selectors that happen to match one pod are taken
/// as different workloads: the pods' labels are not known offline.)
pub fn workload_of(gateway: &GatewayDecl) -> String {
    match gateway.flavor {
        GatewayFlavor::GatewayApi => format!("Gateway API {}", gateway.qualified_name()),
        GatewayFlavor::Istio => format!(
            "selector {{{}}}",
            gateway
                .selector
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `mergeGateways` per gateway workload, over its Gateways in document
/// order (see the module docs): the servers kept, and those dropped with
/// Istio's reason (in document order).
pub(super) fn merge(
    policy: &DeclaredPolicy,
    version: IstioVersion,
) -> (Vec<Kept<'_>>, Vec<DroppedServer>) {
    let mut workloads: Vec<String> = Vec::new();
    for g in &policy.gateways {
        let w = workload_of(g);
        if !workloads.contains(&w) {
            workloads.push(w);
        }
    }
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for workload in &workloads {
        merge_workload(policy, workload, version, &mut kept, &mut dropped);
    }
    dropped.sort_by_key(|d| d.order);
    (kept, dropped)
}

fn merge_workload<'a>(
    policy: &'a DeclaredPolicy,
    workload: &str,
    version: IstioVersion,
    kept: &mut Vec<Kept<'a>>,
    dropped: &mut Vec<DroppedServer>,
) {
    // (port, bind) → sanitised TLS hosts seen.
    let mut tls_hosts: Vec<(u16, Option<String>, String)> = Vec::new();
    // port → (protocol, bind) of the plain-text server holding it.
    let mut plain: Vec<(u16, String, Option<String>)> = Vec::new();
    let mut ports_seen: Vec<u16> = Vec::new();
    let mut route_names: Vec<String> = Vec::new();
    let start = kept.len();
    for (gateway_index, gateway) in policy.gateways.iter().enumerate() {
        if workload_of(gateway) != workload {
            continue;
        }
        for (index, server) in gateway.servers.iter().enumerate() {
            let hosts = sanitized_hosts(gateway, server);
            let list = match gateway.flavor {
                GatewayFlavor::Istio => "servers",
                GatewayFlavor::GatewayApi => "listeners",
            };
            let drop = |reason: String| DroppedServer {
                order: (gateway_index, index),
                label: format!("gateway {} {list}[{index}]", gateway.qualified_name()),
                gateway: gateway.qualified_name(),
                server: server.origin.clone(),
                port: server.port,
                hosts: server
                    .hosts
                    .iter()
                    .map(|h| bare_host(h).to_owned())
                    .collect(),
                reason,
            };
            let tls = match &server.tls {
                None => None,
                Some(t) => match gateway_api_tls(t, version)
                    .and_then(|t| gateway_api_refs(policy, gateway, &t).map(|()| t))
                {
                    Ok(t) => Some(t),
                    Err(why) => {
                        dropped.push(drop(format!(
                            "istiod does not program this listener: {why} (R-G1)"
                        )));
                        continue;
                    }
                },
            };
            if tls.is_none() && matches!(server.protocol.as_str(), "HTTPS" | "TLS") {
                dropped.push(drop(format!(
                    "{} server without tls settings: Istio's validation rejects it \
                     (validateServer)",
                    server.protocol
                )));
                continue;
            }
            if let Some(t) = &tls {
                let mode = t.mode.as_ref().map(|m| m.value);
                let credential = t
                    .credential_name
                    .as_ref()
                    .is_some_and(|c| !c.value.is_empty())
                    || !t.credential_names.is_empty();
                if matches!(mode, Some(TlsMode::Mutual) | Some(TlsMode::OptionalMutual))
                    && !credential
                    && t.ca_certificates.is_none()
                    && t.ca_cert_credential_name.is_none()
                {
                    dropped.push(drop(
                        "MUTUAL TLS without a client CA (no credentialName, caCertificates or \
                         caCertCredentialName): Istio's validation rejects it \
                         (validateTLSOptions \"MUTUAL TLS requires a client CA bundle\")"
                            .into(),
                    ));
                    continue;
                }
            }
            let bind = server.bind.clone();
            if tls.is_some() {
                let dup: Vec<&String> = hosts
                    .iter()
                    .filter(|h| {
                        tls_hosts
                            .iter()
                            .any(|(p, b, k)| *p == server.port && *b == bind && k == *h)
                    })
                    .collect();
                if let Some(first) = dup.first() {
                    let owner = kept[start..]
                        .iter()
                        .find(|k: &&Kept| {
                            k.server.port == server.port
                                && k.server.bind == bind
                                && k.hosts.contains(first)
                        })
                        .map(|k| {
                            let list = match k.gateway.flavor {
                                GatewayFlavor::Istio => "servers",
                                GatewayFlavor::GatewayApi => "listeners",
                            };
                            format!(
                                " by gateway {} {list}[{}]",
                                k.gateway.qualified_name(),
                                k.index
                            )
                        })
                        .unwrap_or_default();
                    dropped.push(drop(format!(
                        "duplicate host {first} on port {} already taken{owner}; istiod skips \
                         the whole later server (mergeGateways CheckDuplicates; Gateways in \
                         document order stand in for creation time) (R-M1)",
                        server.port
                    )));
                    continue;
                }
                for h in &hosts {
                    tls_hosts.push((server.port, bind.clone(), h.clone()));
                }
            }
            let tls_server = is_tls_server(server);
            let https_terminated = server.protocol == "HTTPS"
                && tls
                    .as_ref()
                    .and_then(|t| t.mode.as_ref())
                    .is_some_and(|m| m.value.terminates());
            // The RDS route name of an HTTPS server (`gatewayRDSRouteName`).
            let route = format!(
                "https.{}.{}.{}.{}{}",
                server.port,
                server.port_name.as_deref().unwrap_or(""),
                gateway.name,
                gateway.namespace.as_deref().unwrap_or("default"),
                bind.as_deref().map(|b| format!(".{b}")).unwrap_or_default()
            );
            if ports_seen.contains(&server.port) {
                if let Some((_, current, current_bind)) =
                    plain.iter().find(|(p, _, _)| *p == server.port)
                {
                    let mergeable = is_http(&server.protocol) && is_http(current);
                    if !mergeable && *current_bind == bind {
                        dropped.push(drop(format!(
                            "{} on port {} where a plain-text {current} server came first \
                             on the same bind; istiod skips it (mergeGateways \
                             canMergeProtocols) (R-M2/R-M3)",
                            server.protocol, server.port
                        )));
                        continue;
                    }
                } else if !tls_server && is_http(&server.protocol) {
                    plain.push((server.port, server.protocol.clone(), bind.clone()));
                } else if https_terminated {
                    if route_names.contains(&route) {
                        dropped.push(drop(format!(
                            "another HTTPS server of this Gateway uses port name {:?} on \
                             port {}; istiod skips it (non unique port name) (R-M4)",
                            server.port_name.as_deref().unwrap_or(""),
                            server.port
                        )));
                        continue;
                    }
                    route_names.push(route);
                } else if !tls_server {
                    plain.push((server.port, server.protocol.clone(), bind.clone()));
                }
            } else {
                ports_seen.push(server.port);
                if https_terminated {
                    route_names.push(route);
                }
                if !tls_server {
                    plain.push((server.port, server.protocol.clone(), bind.clone()));
                }
            }
            kept.push(Kept {
                workload: workload.to_owned(),
                gateway_index,
                gateway,
                index,
                server,
                tls,
                hosts,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `resolveGatewayName` forms (virtualservice_test.go
    /// TestResolveGatewayName) and `host.Name.Matches` overlaps.
    #[test]
    fn gateway_names_and_host_overlap() {
        assert_eq!(resolve_gateway_name("gw", "ns"), "ns/gw");
        assert_eq!(resolve_gateway_name("./gw", "ns"), "ns/gw");
        assert_eq!(resolve_gateway_name("other/gw", "ns"), "other/gw");
        assert_eq!(
            resolve_gateway_name("gw.other.svc.cluster.local", "ns"),
            "other/gw"
        );
        assert_eq!(resolve_gateway_name("gw.other", "ns"), "other/gw");
        assert!(hosts_overlap("*.example.com", "a.example.com"));
        assert!(hosts_overlap("a.example.com", "*.example.com"));
        assert!(hosts_overlap("*.a.example.com", "*.example.com"));
        assert!(!hosts_overlap("*.example.com", "example.com"));
        assert!(hosts_overlap("*", "x"));
        assert!(!hosts_overlap("a.example.com", "b.example.com"));
    }

    /// `kube.IsAutoPassthrough`: the option; the network label with port
    /// 15443, or with the gatewayPort label's port.
    #[test]
    fn auto_passthrough() {
        let mut raw = GatewayApiTls {
            passthrough: true,
            port: 15443,
            ..GatewayApiTls::default()
        };
        assert!(!is_auto_passthrough(&raw), "no label, no option");
        raw.gateway_labels
            .insert("topology.istio.io/network".into(), "n1".into());
        assert!(is_auto_passthrough(&raw));
        raw.gateway_labels
            .insert("networking.istio.io/gatewayPort".into(), "16443".into());
        assert!(!is_auto_passthrough(&raw));
        raw.port = 16443;
        assert!(is_auto_passthrough(&raw));
        let option = GatewayApiTls {
            passthrough: true,
            port: 1,
            listener_protocol: Some(Located::new("auto-passthrough".into(), Origin::default())),
            ..GatewayApiTls::default()
        };
        assert!(is_auto_passthrough(&option));
    }
}
