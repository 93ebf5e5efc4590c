//! Scan targets discovered in a cluster's own objects: the output of
//! `kubectl get gateways.gateway.networking.k8s.io,services -A -o yaml`
//! (a `kind: List`, or multi-document YAML) read into `address:port`
//! targets with their SNI names, and, given the declared policy, the
//! Gateway resources each address serves.
//!
//! Pure: the caller reads the file and hands its text here; nothing is
//! resolved or dialled. Objects that give no target (a ClusterIP Service,
//! an HTTP listener, a Gateway not programmed yet) are reported in
//! [`Discovery::skipped`] with the reason, never silently dropped. A value
//! of the wrong type is an error naming file, line, column and field.
//!
//! Where the rules come from (istio/istio @86c9f01fd735):
//! - Which Service ports carry TLS: `pkg/config/kube/conversion.go`
//!   `ConvertProtocol` (appProtocol if set, else the port name up to its
//!   first `-`, case-insensitive) then `pkg/config/protocol/instance.go`
//!   `Parse` and `Instance.IsTLS` (HTTPS and TLS only). See
//!   [`istio_port_protocol`].
//! - Which Istio `Gateway` configures which gateway pods:
//!   `pilot/pkg/model/push_context.go` `PushContext.mergeGateways`: no
//!   selector applies to every gateway; otherwise
//!   `labels.Instance(gw.GetSelector()).SubsetOf(proxy.Labels)`; with
//!   `PILOT_SCOPE_GATEWAY_TO_NAMESPACE` (`pilot/pkg/features/pilot.go`,
//!   off by default) only Gateways of the pods' own namespace. A
//!   `kubectl get` export has no pod labels, so the Service's
//!   `spec.selector` stands in for them: every pod behind the Service
//!   carries those labels, so a Gateway selector that is a subset of the
//!   Service selector certainly selects its pods (one that names a label
//!   the Service does not select on may or may not; it is not paired).
//! - A Gateway's `servers[].port.number` is the Service port
//!   (`pilot/pkg/model/gateway.go` `resolvePorts` translates it to the
//!   target port), so a Service port pairs with the servers on that number.
//! - Istio's automated deployment for a Gateway API `Gateway` selects its
//!   pods with `gateway.networking.k8s.io/gateway-name: <name>` in the
//!   Gateway's namespace
//!   (`manifests/charts/istio-control/istio-discovery/files/kube-gateway.yaml`),
//!   so such a Service pairs with that Gateway, and its address (the same
//!   as the Gateway's `status.addresses`) merges into one target.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use serde::Serialize;
use thiserror::Error;

use crate::policy::matching::selector_matches;
use crate::policy::parse::node::{parse_stream, Ctx, Fields, Node, NodeKind};
use crate::policy::selection::GATEWAY_NAME_LABEL;
use crate::policy::{
    DeclaredPolicy, GatewayDecl, GatewayFlavor, Origin, PolicyError, MAX_POLICY_FILE_BYTES,
};
use crate::target::{host_for_header, ServerName, TargetSpec};

/// The largest input read: the policy reader's cap, for the same reason
/// (parsing costs far more memory than the text on hostile input). A
/// cluster-wide `kubectl get services -A -o yaml` of ≈ 1.5 KiB a Service
/// stays under it up to ≈ 5,000 Services; a larger one can be narrowed
/// with `-l` or per namespace.
pub const MAX_DISCOVERY_BYTES: u64 = MAX_POLICY_FILE_BYTES;

/// Why the YAML gave no targets at all. Each variant names the file and,
/// where there is one, the line, column and field.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DiscoverError {
    #[error("{file}: larger than {} MiB, the most a discovery file may be; narrow the kubectl query (-l, -n)", .limit / (1024 * 1024))]
    TooLarge { file: String, limit: u64 },
    /// The YAML itself is malformed.
    #[error("{origin}: invalid YAML: {message}")]
    Yaml { origin: Origin, message: String },
    /// Well-formed YAML with a field that is not what Kubernetes allows
    /// (a port that is not a number, a list that is a string, …).
    #[error("{origin}: {message}")]
    Invalid { origin: Origin, message: String },
}

impl From<PolicyError> for DiscoverError {
    fn from(error: PolicyError) -> Self {
        match error {
            PolicyError::Yaml { origin, message } => DiscoverError::Yaml { origin, message },
            PolicyError::Invalid { origin, message } => DiscoverError::Invalid { origin, message },
            // The tree readers never read files; keep the message anyway.
            other => DiscoverError::Invalid {
                origin: Origin::default(),
                message: other.to_string(),
            },
        }
    }
}

/// Choices istiod makes from its environment, which an export cannot show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// istiod's `PILOT_SCOPE_GATEWAY_TO_NAMESPACE` (off by default): an
    /// Istio Gateway pairs only with Services of its own namespace.
    pub scope_gateway_to_namespace: bool,
}

/// Everything one file gave: the targets in the order first seen, and what
/// gave none, with why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Discovery {
    pub targets: Vec<DiscoveredTarget>,
    pub skipped: Vec<Skipped>,
}

/// One address to scan. Several objects may name the same address (a
/// Gateway API Gateway and the Service deployed for it; two listeners on
/// one port with different hostnames): they merge into one target whose
/// lists hold every contribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiscoveredTarget {
    /// `host:port`, an IPv6 address in brackets; parses with
    /// [`TargetSpec::parse`].
    pub address: String,
    /// Server names to send, in the order found (plain listener
    /// hostnames); empty: no name came from the cluster, and the scan's
    /// default applies (with `--policy`, the hosts each declared server on
    /// `declared_port` serves; a LoadBalancer Service never names any).
    pub sni: Vec<String>,
    /// The port the policy declares for this address (the Service port, or
    /// the listener port), when a paired Gateway declares a server on it.
    pub declared_port: Option<u16>,
    /// The declared Gateways serving this address; filled only when a
    /// policy was given.
    pub gateways: Vec<GatewayRef>,
    /// Where the address came from, e.g. `Service
    /// istio-system/istio-ingressgateway port https 443 (cluster.yaml:57)`.
    pub sources: Vec<String>,
    /// What the user should know about how the target was formed
    /// (a wildcard hostname sent no SNI, nothing in the policy pairs, …).
    pub notes: Vec<String>,
}

impl DiscoveredTarget {
    /// The target as a `--targets` file line: `HOST:PORT [SNI...]`.
    pub fn targets_line(&self) -> String {
        std::iter::once(self.address.as_str())
            .chain(self.sni.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A declared Gateway resource, as the policy names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct GatewayRef {
    pub flavor: GatewayKind,
    pub namespace: Option<String>,
    pub name: String,
}

/// Which API declared a [`GatewayRef`] (`policy::GatewayFlavor`, ordered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum GatewayKind {
    /// `networking.istio.io` `Gateway`.
    Istio,
    /// `gateway.networking.k8s.io` `Gateway`.
    GatewayApi,
}

impl fmt::Display for GatewayRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let api = match self.flavor {
            GatewayKind::Istio => "networking.istio.io",
            GatewayKind::GatewayApi => "gateway.networking.k8s.io",
        };
        match &self.namespace {
            Some(ns) => write!(f, "Gateway.{api} {ns}/{}", self.name),
            None => write!(f, "Gateway.{api} {}", self.name),
        }
    }
}

/// An object (or a part of one) that gave no target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub origin: Origin,
    /// `Service default/kubernetes`, `Gateway shop/web listener http 80`.
    pub what: String,
    pub reason: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.origin, self.what, self.reason)
    }
}

/// Reads `text` (the contents of `file`, which only labels messages) into
/// scan targets.
///
/// `policy` is the declared policy (`--policy`), when given: each target is
/// then paired with the Gateways serving it ([`DiscoveredTarget::gateways`],
/// `declared_port`); without it those stay empty. `options` holds istiod
/// settings the export cannot show (`Options::default()` is istiod's).
///
/// Errors: a text over [`MAX_DISCOVERY_BYTES`], malformed YAML, a document
/// that is not a Kubernetes object, or a field of a read kind that has the
/// wrong type (with file, line, column and field). Kinds that give no
/// targets are not errors: they land in [`Discovery::skipped`].
pub fn discover(
    file: &str,
    text: &str,
    policy: Option<&DeclaredPolicy>,
    options: &Options,
) -> Result<Discovery, DiscoverError> {
    if text.len() as u64 > MAX_DISCOVERY_BYTES {
        return Err(DiscoverError::TooLarge {
            file: file.to_owned(),
            limit: MAX_DISCOVERY_BYTES,
        });
    }
    let documents = parse_stream(file, text)?;
    let mut reader = Reader {
        ctx: Ctx::new(file, text),
        policy,
        options,
        out: Discovery::default(),
        by_address: BTreeMap::new(),
    };
    for doc in &documents {
        reader.document(doc)?;
    }
    Ok(reader.out)
}

/// The protocol Istio gives a Service port (`ConvertProtocol`, see the
/// module doc). Only what the port's own fields say; whether it is scanned
/// is [`port_is_tls`]'s call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortProtocol {
    Tcp,
    Udp,
    Grpc,
    GrpcWeb,
    Http,
    HttpProxy,
    Http2,
    Https,
    Tls,
    Mongo,
    Redis,
    MySql,
    /// No protocol in the name: Istio sniffs it.
    Unsupported,
}

/// `protocol.Parse`'s table (lower-cased names).
const PROTOCOL_NAMES: &[(&str, PortProtocol)] = &[
    ("tcp", PortProtocol::Tcp),
    ("udp", PortProtocol::Udp),
    ("grpc", PortProtocol::Grpc),
    ("grpc-web", PortProtocol::GrpcWeb),
    ("http", PortProtocol::Http),
    ("http_proxy", PortProtocol::HttpProxy),
    ("http2", PortProtocol::Http2),
    ("https", PortProtocol::Https),
    ("tls", PortProtocol::Tls),
    ("mongo", PortProtocol::Mongo),
    ("redis", PortProtocol::Redis),
    ("mysql", PortProtocol::MySql),
];

/// Kubernetes' standard appProtocol names, which Istio maps before the table.
const KUBERNETES_APP_PROTOCOLS: &[(&str, PortProtocol)] = &[
    ("kubernetes.io/h2c", PortProtocol::Http2),
    ("kubernetes.io/ws", PortProtocol::Http),
    ("kubernetes.io/wss", PortProtocol::Https),
];

/// Ports Istio never sniffs (`wellKnownPorts`: SMTP, DNS, MySQL, MongoDB):
/// a port there with no protocol in its name is TCP.
const WELL_KNOWN_TCP_PORTS: &[u16] = &[25, 53, 3306, 27017];

/// The port every TLS front end listens on; scanned when its fields name
/// no protocol (or plain TCP, which TLS passthrough is) — see [`port_is_tls`].
const HTTPS_PORT: u16 = 443;

/// Istio's `ConvertProtocol(port, name, protocol, appProtocol)`.
pub fn istio_port_protocol(
    port: u16,
    name: Option<&str>,
    transport: Option<&str>,
    app_protocol: Option<&str>,
) -> PortProtocol {
    if transport == Some("UDP") {
        return PortProtocol::Udp;
    }
    let mut word = name.unwrap_or("");
    if let Some(app) = app_protocol {
        if let Some((_, p)) = KUBERNETES_APP_PROTOCOLS.iter().find(|(n, _)| *n == app) {
            return *p;
        }
        word = app;
    }
    // `grpc-web` holds the separator, so it is matched as a prefix first.
    let lower = word.to_ascii_lowercase();
    if lower.starts_with("grpc-web") {
        return PortProtocol::GrpcWeb;
    }
    let prefix = lower.split('-').next().unwrap_or("");
    match PROTOCOL_NAMES.iter().find(|(n, _)| *n == prefix) {
        Some((_, p)) => *p,
        None if WELL_KNOWN_TCP_PORTS.contains(&port) => PortProtocol::Tcp,
        None => PortProtocol::Unsupported,
    }
}

/// Whether a Service port is scanned: Istio calls it TLS (`IsTLS`: HTTPS,
/// TLS), or it is port 443 and its fields name no protocol or plain TCP
/// (TLS passthrough is TCP to Istio). An explicit HTTP, gRPC, UDP or
/// database protocol is believed, even on 443.
pub fn port_is_tls(port: u16, protocol: PortProtocol) -> bool {
    match protocol {
        PortProtocol::Https | PortProtocol::Tls => true,
        PortProtocol::Unsupported | PortProtocol::Tcp => port == HTTPS_PORT,
        _ => false,
    }
}

/// Gateway API listener protocols that are TLS on the wire.
const TLS_LISTENER_PROTOCOLS: &[&str] = &["HTTPS", "TLS"];

/// Gateway API versions whose `Gateway` is read (the served ones).
const GATEWAY_API_VERSIONS: &[&str] = &[
    "gateway.networking.k8s.io/v1",
    "gateway.networking.k8s.io/v1beta1",
];

/// Kinds the export may hold that give no target, with why (so the
/// reason a user reads is specific, not "unknown kind").
const NO_TARGET_KINDS: &[(&str, &str, &str)] = &[(
    "networking.istio.io",
    "Gateway",
    "an Istio Gateway has no address of its own: its addresses are those of the LoadBalancer Services it selects; pass it with --policy to pair it with them",
)];

struct Reader<'a> {
    ctx: Ctx<'a>,
    policy: Option<&'a DeclaredPolicy>,
    options: &'a Options,
    out: Discovery,
    /// Address → index in `out.targets`, to merge repeated addresses.
    by_address: BTreeMap<String, usize>,
}

/// A Kubernetes object's identity.
struct Object {
    kind: String,
    name: String,
    namespace: Option<String>,
}

impl Object {
    fn qualified(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }

    fn describe(&self) -> String {
        format!("{} {}", self.kind, self.qualified())
    }
}

/// One contribution to a target, before merging.
struct Found {
    address: String,
    sni: Option<String>,
    declared_port: Option<u16>,
    gateways: Vec<GatewayRef>,
    source: String,
    notes: Vec<String>,
}

impl Reader<'_> {
    fn document(&mut self, doc: &Node) -> Result<(), DiscoverError> {
        if !matches!(doc.kind, NodeKind::Map(_)) {
            return Err(DiscoverError::Yaml {
                origin: self.ctx.origin(doc, ""),
                message: format!(
                    "a Kubernetes object must be a mapping with apiVersion and kind, found {}",
                    doc.kind.describe()
                ),
            });
        }
        let (Some(api_version), Some(kind)) = (doc.get("apiVersion"), doc.get("kind")) else {
            return Err(self
                .ctx
                .invalid(
                    doc,
                    "",
                    "document has no apiVersion or kind; every Kubernetes object needs both",
                )
                .into());
        };
        let api_version = self.ctx.string(api_version, "apiVersion")?;
        let kind = self.ctx.string(kind, "kind")?;
        if kind == "List" || (kind.ends_with("List") && doc.get("items").is_some()) {
            return self.list(doc);
        }
        let metadata = self.ctx.fields(doc.get("metadata"), "metadata", &[])?;
        let object = Object {
            name: self.ctx.opt_string(&metadata, "name")?.unwrap_or_default(),
            namespace: self.ctx.opt_string(&metadata, "namespace")?,
            kind: kind.clone(),
        };
        let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        match (api_version.as_str(), group, kind.as_str()) {
            ("v1", _, "Service") => self.service(doc, &object),
            (_, "gateway.networking.k8s.io", "Gateway")
                if GATEWAY_API_VERSIONS.contains(&api_version.as_str()) =>
            {
                self.gateway_api(doc, &object)
            }
            (_, "gateway.networking.k8s.io", "Gateway") => {
                self.skip(
                    doc,
                    "",
                    object.describe(),
                    format!(
                        "apiVersion {api_version} is not read (only {})",
                        GATEWAY_API_VERSIONS.join(", ")
                    ),
                );
                Ok(())
            }
            _ => {
                let reason = NO_TARGET_KINDS
                    .iter()
                    .find(|(g, k, _)| *g == group && *k == kind)
                    .map(|(_, _, why)| (*why).to_owned())
                    .unwrap_or_else(|| format!("kind {kind} ({api_version}) gives no scan target"));
                self.skip(doc, "", object.describe(), reason);
                Ok(())
            }
        }
    }

    fn list(&mut self, doc: &Node) -> Result<(), DiscoverError> {
        let list = self.ctx.fields(Some(doc), "", &[])?;
        let saved = self.ctx.path_prefix.clone();
        for (item, path) in self.ctx.items(&list, "items")? {
            self.ctx.path_prefix = format!("{saved}{path}.");
            let result = self.document(item);
            self.ctx.path_prefix = saved.clone();
            result?;
        }
        Ok(())
    }

    fn skip(&mut self, node: &Node, path: &str, what: String, reason: impl Into<String>) {
        let mut origin = self.ctx.origin(node, path);
        // A whole List item is `items[1].` + nothing: name it `items[1]`.
        if origin.field.ends_with('.') {
            origin.field.pop();
        }
        self.out.skipped.push(Skipped {
            origin,
            what,
            reason: reason.into(),
        });
    }

    /// `file:line` of a node, for `sources`.
    fn place(&self, node: &Node) -> String {
        let origin = self.ctx.origin(node, "");
        format!("{}:{}", origin.file, origin.line)
    }

    /// A `LoadBalancer` Service: each ingress address × each TLS port.
    fn service(&mut self, doc: &Node, object: &Object) -> Result<(), DiscoverError> {
        let spec = self.ctx.fields(doc.get("spec"), "spec", &[])?;
        let service_type = self
            .ctx
            .opt_string(&spec, "type")?
            .unwrap_or_else(|| "ClusterIP".to_owned());
        if service_type != "LoadBalancer" {
            self.skip(
                doc,
                "",
                object.describe(),
                format!("type {service_type} has no external address (only LoadBalancer Services are scanned)"),
            );
            return Ok(());
        }
        let selector = self.ctx.string_map(&spec, "selector")?;
        let status = self.ctx.fields(doc.get("status"), "status", &[])?;
        let balancer = self.ctx.sub(&status, "loadBalancer", &[])?;
        let mut hosts = Vec::new();
        for (item, path) in self.ctx.items(&balancer, "ingress")? {
            let entry = self.ctx.fields(Some(item), &path, &[])?;
            // A cloud may fill both; the IP is what the name resolves to.
            let host = match self.ctx.opt_string(&entry, "ip")? {
                Some(ip) => Some(("ip", ip)),
                None => self
                    .ctx
                    .opt_string(&entry, "hostname")?
                    .map(|h| ("hostname", h)),
            };
            match host {
                Some((field, host)) => hosts.push((host, item, entry.path_of(field))),
                None => self.skip(
                    item,
                    &path,
                    object.describe(),
                    "load balancer ingress entry has neither ip nor hostname",
                ),
            }
        }
        if hosts.is_empty() {
            self.skip(
                doc,
                "",
                object.describe(),
                "LoadBalancer has no address yet (status.loadBalancer.ingress is empty): not provisioned",
            );
            return Ok(());
        }
        let ports = self.ctx.items(&spec, "ports")?;
        if ports.is_empty() {
            self.skip(doc, "", object.describe(), "the Service has no ports");
        }
        for (port_node, path) in ports {
            let port = self.ctx.fields(Some(port_node), &path, &[])?;
            let number = self.required_port(port_node, &port)?;
            let name = self.ctx.opt_string(&port, "name")?;
            let transport = self.ctx.opt_string(&port, "protocol")?;
            let app_protocol = self.ctx.opt_string(&port, "appProtocol")?;
            let label = format!("port {} {number}", name.as_deref().unwrap_or("(unnamed)"));
            let protocol = istio_port_protocol(
                number,
                name.as_deref(),
                transport.as_deref(),
                app_protocol.as_deref(),
            );
            if !port_is_tls(number, protocol) {
                let why = match protocol {
                    PortProtocol::Unsupported => {
                        "its name and appProtocol name no protocol (Istio sniffs it), so it is not taken for TLS".to_owned()
                    }
                    other => format!("Istio reads its protocol as {other:?}, not TLS"),
                };
                self.skip(
                    port_node,
                    &path,
                    format!("{} {label}", object.describe()),
                    why,
                );
                continue;
            }
            let mut notes = Vec::new();
            if !matches!(protocol, PortProtocol::Https | PortProtocol::Tls) {
                notes.push(format!(
                    "{} {label}: taken for TLS because it is port 443; its name does not say so",
                    object.describe()
                ));
            }
            let source = format!("{} {label} ({})", object.describe(), self.place(port_node));
            let (gateways, declared_port) =
                self.pair_service(object, &selector, number, &mut notes);
            for (host, host_node, host_path) in &hosts {
                let address = self.address(host, number, host_node, host_path)?;
                self.add(Found {
                    address,
                    sni: None,
                    declared_port,
                    gateways: gateways.clone(),
                    source: source.clone(),
                    notes: notes.clone(),
                });
            }
        }
        Ok(())
    }

    /// A Gateway API `Gateway`: each status address × each TLS listener.
    fn gateway_api(&mut self, doc: &Node, object: &Object) -> Result<(), DiscoverError> {
        let spec = self.ctx.fields(doc.get("spec"), "spec", &[])?;
        let status = self.ctx.fields(doc.get("status"), "status", &[])?;
        let mut hosts = Vec::new();
        for (item, path) in self.ctx.items(&status, "addresses")? {
            let entry = self.ctx.fields(Some(item), &path, &[])?;
            // The API's default type is IPAddress.
            let kind = self
                .ctx
                .opt_string(&entry, "type")?
                .unwrap_or_else(|| "IPAddress".to_owned());
            let Some(value) = self.ctx.opt_string(&entry, "value")? else {
                return Err(self
                    .ctx
                    .invalid(item, &path, "a status address needs a `value`")
                    .into());
            };
            if kind == "IPAddress" || kind == "Hostname" {
                hosts.push((value, item, entry.path_of("value")));
            } else {
                self.skip(
                    item,
                    &path,
                    object.describe(),
                    format!("address {value:?} is of type {kind}, implementation-specific: it cannot be dialled"),
                );
            }
        }
        let (gateways, paired) = self.pair_gateway_api(object);
        for (listener_node, path) in self.ctx.items(&spec, "listeners")? {
            let listener = self.ctx.fields(Some(listener_node), &path, &[])?;
            let name = self.ctx.opt_string(&listener, "name")?;
            let number = self.required_port(listener_node, &listener)?;
            let protocol = self
                .ctx
                .opt_string(&listener, "protocol")?
                .unwrap_or_default();
            let hostname = self.ctx.opt_string(&listener, "hostname")?;
            let what = format!(
                "{} listener {} {number}",
                object.describe(),
                name.as_deref().unwrap_or("(unnamed)")
            );
            if !TLS_LISTENER_PROTOCOLS.contains(&protocol.as_str()) {
                self.skip(
                    listener_node,
                    &path,
                    what,
                    format!("protocol {protocol:?} is not TLS"),
                );
                continue;
            }
            if hosts.is_empty() {
                self.skip(
                    listener_node,
                    &path,
                    what,
                    "the Gateway has no status.addresses: not programmed yet",
                );
                continue;
            }
            let mut notes = Vec::new();
            if !paired && self.policy.is_some() {
                notes.push(format!(
                    "{}: not declared in the --policy files",
                    object.describe()
                ));
            }
            // A wildcard matches many names and names none: guessing a
            // label under it could pick a name no route serves, so nothing
            // is sent and the gateway's default certificate is what is seen.
            let sni = match hostname {
                Some(h) if h.contains('*') => {
                    notes.push(format!(
                        "{what}: hostname {h} is a wildcard, so no SNI is sent (the default certificate is scanned); give a name under it in a --targets file to scan that"
                    ));
                    None
                }
                Some(h) => {
                    // Checked here so a bad name is an error at its line,
                    // not one the scan reports about a target list.
                    if let Err(e) = ServerName::parse(&h) {
                        let node = listener.get("hostname").unwrap_or(listener_node);
                        return Err(self
                            .ctx
                            .invalid(node, &listener.path_of("hostname"), e.to_string())
                            .into());
                    }
                    Some(h)
                }
                None => {
                    notes.push(format!(
                        "{what}: no hostname (any name matches), so no SNI is sent"
                    ));
                    None
                }
            };
            let source = format!("{what} ({})", self.place(listener_node));
            for (host, host_node, host_path) in &hosts {
                let address = self.address(host, number, host_node, host_path)?;
                self.add(Found {
                    address,
                    sni: sni.clone(),
                    declared_port: paired.then_some(number),
                    gateways: gateways.clone(),
                    source: source.clone(),
                    notes: notes.clone(),
                });
            }
        }
        Ok(())
    }

    /// `port` of a Service port or listener: required, 1–65535.
    fn required_port(&self, node: &Node, fields: &Fields) -> Result<u16, DiscoverError> {
        match fields.get("port") {
            Some(p) => Ok(self.ctx.port(p, &fields.path_of("port"))?),
            None => Err(self
                .ctx
                .invalid(node, &fields.path, "`port` is required")
                .into()),
        }
    }

    /// `host:port` as a target, checked to parse as one.
    fn address(
        &self,
        host: &str,
        port: u16,
        node: &Node,
        path: &str,
    ) -> Result<String, DiscoverError> {
        let host = match host.parse::<IpAddr>() {
            Ok(ip) => host_for_header(ip),
            Err(_) => host.to_owned(),
        };
        let address = format!("{host}:{port}");
        match TargetSpec::parse(&address) {
            Ok(spec) if spec.port == port && !host.contains(char::is_whitespace) => Ok(address),
            Ok(_) => Err(self
                .ctx
                .invalid(node, path, format!("{host:?} is not an address"))
                .into()),
            Err(e) => Err(self.ctx.invalid(node, path, e.to_string()).into()),
        }
    }

    /// The Gateways serving a Service port: Istio Gateways whose selector
    /// the Service's selector satisfies, and the Gateway API Gateway whose
    /// automated deployment the Service is; each with a server on `port`.
    fn pair_service(
        &self,
        object: &Object,
        selector: &BTreeMap<String, String>,
        port: u16,
        notes: &mut Vec<String>,
    ) -> (Vec<GatewayRef>, Option<u16>) {
        let Some(policy) = self.policy else {
            return (Vec::new(), None);
        };
        let namespace = namespace_or_default(&object.namespace);
        let gateways: Vec<GatewayRef> = policy
            .gateways
            .iter()
            .filter(|g| g.servers.iter().any(|s| s.port == port))
            .filter(|g| match g.flavor {
                GatewayFlavor::Istio => {
                    (!self.options.scope_gateway_to_namespace
                        || namespace_or_default(&g.namespace) == namespace)
                        && selector_matches(&g.selector, selector)
                }
                GatewayFlavor::GatewayApi => {
                    selector.get(GATEWAY_NAME_LABEL) == Some(&g.name)
                        && namespace_or_default(&g.namespace) == namespace
                }
            })
            .map(gateway_ref)
            .collect();
        if gateways.is_empty() {
            notes.push(format!(
                "{}: no Gateway in the --policy files selects it with a server on port {port}",
                object.describe()
            ));
            return (gateways, None);
        }
        (gateways, Some(port))
    }

    /// A Gateway API Gateway pairs with itself, when the policy declares it.
    fn pair_gateway_api(&self, object: &Object) -> (Vec<GatewayRef>, bool) {
        let Some(policy) = self.policy else {
            return (Vec::new(), false);
        };
        let namespace = namespace_or_default(&object.namespace);
        let gateways: Vec<GatewayRef> = policy
            .gateways
            .iter()
            .filter(|g| {
                g.flavor == GatewayFlavor::GatewayApi
                    && g.name == object.name
                    && namespace_or_default(&g.namespace) == namespace
            })
            .map(gateway_ref)
            .collect();
        let paired = !gateways.is_empty();
        (gateways, paired)
    }

    fn add(&mut self, found: Found) {
        let Found {
            address,
            sni,
            declared_port,
            gateways,
            source,
            notes,
        } = found;
        let index = match self.by_address.get(&address) {
            Some(i) => *i,
            None => {
                self.by_address
                    .insert(address.clone(), self.out.targets.len());
                self.out.targets.push(DiscoveredTarget {
                    address,
                    sni: Vec::new(),
                    declared_port,
                    gateways: Vec::new(),
                    sources: Vec::new(),
                    notes: Vec::new(),
                });
                self.out.targets.len() - 1
            }
        };
        let target = &mut self.out.targets[index];
        push_new(&mut target.sni, sni);
        for g in gateways {
            push_new(&mut target.gateways, Some(g));
        }
        push_new(&mut target.sources, Some(source));
        for n in notes {
            push_new(&mut target.notes, Some(n));
        }
        if target.declared_port.is_none() {
            target.declared_port = declared_port;
        }
    }
}

/// Kubernetes puts an object with no namespace in `default`.
fn namespace_or_default(namespace: &Option<String>) -> &str {
    namespace.as_deref().unwrap_or("default")
}

fn gateway_ref(g: &GatewayDecl) -> GatewayRef {
    GatewayRef {
        flavor: match g.flavor {
            GatewayFlavor::Istio => GatewayKind::Istio,
            GatewayFlavor::GatewayApi => GatewayKind::GatewayApi,
        },
        namespace: g.namespace.clone(),
        name: g.name.clone(),
    }
}

fn push_new<T: PartialEq>(list: &mut Vec<T>, item: Option<T>) {
    if let Some(item) = item {
        if !list.contains(&item) {
            list.push(item);
        }
    }
}
