//! What istiod generates for one gateway workload: the resolved model.
//!
//! One step, no I/O: the declared documents ([`super::DeclaredPolicy`])
//! in, the configuration istiod would push to the gateway's Envoy out — per
//! listener its filter chains (server names, downstream TLS context, ALPN,
//! redirect), the RBAC and `jwt_authn` HTTP filters, the servers istiod
//! drops with why, and the release of Istio the rules are taken from.
//!
//! Every rule here is read from istio/istio's own source and unit tests and
//! cites them (docs/istio-rules.md keeps the derivations). What Envoy then
//! does with this configuration lives in [`super::envoy`]; the predictor
//! (`policy`, `verdict`) and the lab (`lab`) consume this model and hold no
//! Istio rule of their own.

pub mod jwt_authn;
pub mod rbac;
pub mod servers;
pub mod tls;
pub mod version;

use serde::Serialize;

pub use servers::DroppedServer;
pub use tls::{CaSource, DownstreamTls, DroppedSetting, TlsParams, ValidationContext};
pub use version::{IstioVersion, VersionError};

use super::model::*;

/// The gateway configuration istiod would generate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolved {
    pub istio_version: IstioVersion,
    /// One per (workload, port, bind), in order of first declaration.
    pub listeners: Vec<Listener>,
    /// Servers istiod drops, in document order.
    pub dropped: Vec<DroppedServer>,
}

/// One Envoy listener (`buildGatewayListener`: one per port and bind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listener {
    /// The gateway workload ([`servers::workload_of`]).
    pub workload: String,
    pub port: u16,
    pub bind: Option<String>,
    /// In Envoy's match order: chains naming exact hosts, then chains with
    /// only wildcard names, then the catch-all (no server names), each
    /// group in document order; a plain-text chain last.
    pub chains: Vec<FilterChain>,
}

/// Which declared server a chain comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerRef {
    /// `namespace/name` of the Gateway.
    pub gateway: String,
    pub flavor: GatewayFlavor,
    /// Index of the Gateway in [`DeclaredPolicy::gateways`].
    pub gateway_index: usize,
    /// Index in `spec.servers` / `spec.listeners`.
    pub index: usize,
    pub origin: Origin,
}

impl ServerRef {
    /// `gateway default/gw servers[0]` (Gateway API: `listeners[0]`).
    pub fn label(&self) -> String {
        let list = match self.flavor {
            GatewayFlavor::Istio => "servers",
            GatewayFlavor::GatewayApi => "listeners",
        };
        format!("gateway {} {list}[{}]", self.gateway, self.index)
    }
}

/// What a filter chain does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainKind {
    /// HTTPS server terminating TLS: HCM behind the TLS context.
    HttpsTerminate,
    /// TLS (or other non-HTTP) server terminating TLS: TCP proxy.
    TlsTerminate,
    Passthrough,
    AutoPassthrough,
    /// Plain HTTP; `tls.httpsRedirect` sets `require_tls: ALL` (R-T10).
    PlainHttp {
        https_redirect: bool,
    },
    /// Plain TCP.
    Tcp,
}

/// One filter chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilterChain {
    /// `filter_chain_match.server_names`: the hosts, `namespace/` stripped,
    /// sorted, deduplicated (`GetSNIHostsForServer`); empty when any host
    /// is `*` (the catch-all).
    pub server_names: Vec<String>,
    /// The declared hosts, `namespace/` stripped, as written.
    pub hosts: Vec<String>,
    pub kind: ChainKind,
    pub origin: ServerRef,
    pub protocol: String,
    /// The TLS mode istiod uses (after the Gateway API translation); `None`
    /// for plain chains.
    pub mode: Option<TlsMode>,
    /// The server's TLS settings after the Gateway API translation.
    pub declared_tls: Option<ServerTls>,
    /// `None` for passthrough and plain chains.
    pub tls: Option<DownstreamTls>,
}

impl FilterChain {
    pub fn is_catch_all(&self) -> bool {
        self.server_names.is_empty()
    }
}

fn server_names(hosts: &[String]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for h in hosts {
        let h = servers::bare_host(h).trim().to_owned();
        if h == "*" || h.is_empty() {
            return Vec::new();
        }
        if !names.contains(&h) {
            names.push(h);
        }
    }
    names.sort();
    names
}

/// Envoy's precedence group of a chain (exact < wildcard < catch-all <
/// plain text); stable sorting keeps document order inside a group.
fn match_rank(chain: &FilterChain) -> u8 {
    match chain.kind {
        ChainKind::PlainHttp { .. } | ChainKind::Tcp => 3,
        _ if chain.is_catch_all() => 2,
        _ if chain.server_names.iter().all(|n| n.starts_with('*')) => 1,
        _ => 0,
    }
}

/// The resolved model for every Gateway in `policy` (one gateway workload:
/// every Gateway is assumed to select it, as the scan targets one).
pub fn resolve(policy: &DeclaredPolicy, version: IstioVersion) -> Resolved {
    let (kept, dropped) = servers::merge(policy, version);
    let mut listeners: Vec<Listener> = Vec::new();
    for k in kept {
        let mode = k
            .tls
            .as_ref()
            .map(|t| t.mode.as_ref().map_or(TlsMode::Passthrough, |m| m.value));
        let plain_http = servers::is_http(&k.server.protocol);
        let kind = match mode {
            _ if plain_http => ChainKind::PlainHttp {
                https_redirect: k
                    .tls
                    .as_ref()
                    .and_then(|t| t.https_redirect.as_ref())
                    .is_some_and(|r| r.value),
            },
            None => ChainKind::Tcp,
            Some(TlsMode::Passthrough) => ChainKind::Passthrough,
            Some(TlsMode::AutoPassthrough) => ChainKind::AutoPassthrough,
            Some(_) if k.server.protocol == "HTTPS" => ChainKind::HttpsTerminate,
            Some(_) => ChainKind::TlsTerminate,
        };
        let chain_mode = if plain_http { None } else { mode };
        let tls = match (chain_mode, &k.tls) {
            (Some(m), Some(t)) => {
                tls::downstream_tls(m, &k.server.protocol, t, policy.mesh_tls.as_ref(), version)
            }
            _ => None,
        };
        let chain = FilterChain {
            server_names: server_names(&k.hosts),
            hosts: k
                .server
                .hosts
                .iter()
                .map(|h| servers::bare_host(h).to_owned())
                .collect(),
            kind,
            origin: ServerRef {
                gateway: k.gateway.qualified_name(),
                flavor: k.gateway.flavor,
                gateway_index: k.gateway_index,
                index: k.index,
                origin: k.server.origin.clone(),
            },
            protocol: k.server.protocol.clone(),
            mode: chain_mode,
            declared_tls: k.tls.clone(),
            tls,
        };
        match listeners.iter_mut().find(|l| {
            l.workload == k.workload && l.port == k.server.port && l.bind == k.server.bind
        }) {
            Some(l) => l.chains.push(chain),
            None => listeners.push(Listener {
                workload: k.workload.clone(),
                port: k.server.port,
                bind: k.server.bind.clone(),
                chains: vec![chain],
            }),
        }
    }
    for l in &mut listeners {
        l.chains.sort_by_key(match_rank);
    }
    Resolved {
        istio_version: version,
        listeners,
        dropped,
    }
}

impl Resolved {
    /// Every chain with the listener it is on, in listener then document
    /// order of the declared servers.
    pub fn chains_in_document_order(&self) -> Vec<(&Listener, &FilterChain)> {
        let mut all: Vec<(&Listener, &FilterChain)> = self
            .listeners
            .iter()
            .flat_map(|l| l.chains.iter().map(move |c| (l, c)))
            .collect();
        all.sort_by_key(|(_, c)| (c.origin.gateway_index, c.origin.index));
        all
    }
}
