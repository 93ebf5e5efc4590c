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
    /// What the model assumed for this chain, e.g. that a TCP or
    /// terminated-TLS server is routed when no VirtualService was given
    /// ([`servers::L4Routing::Assumed`]).
    pub assumptions: Vec<String>,
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
    let (kept, mut dropped) = servers::merge(policy, version);
    let mut listeners: Vec<Listener> = Vec::new();
    let mut late_drops = false;
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
        let mut assumptions = Vec::new();
        // R-M5 for Istio Gateways; a Gateway API listener's routes are
        // TCPRoute/TLSRoute objects, which are not read.
        if matches!(kind, ChainKind::Tcp | ChainKind::TlsTerminate)
            && k.gateway.flavor == GatewayFlavor::Istio
        {
            match servers::l4_routing(policy, k.gateway, k.server) {
                servers::L4Routing::Routed => {}
                servers::L4Routing::Unrouted(why) => {
                    dropped.push(servers::dropped_server(&k, why));
                    late_drops = true;
                    continue;
                }
                servers::L4Routing::Assumed => assumptions.push(
                    "no VirtualService given: assumed routed (istiod builds a TCP or \
                     terminated-TLS server's chain only from a matching VirtualService tcp \
                     route, R-M5)"
                        .to_owned(),
                ),
            }
        }
        if let Some(note) = k
            .tls
            .as_ref()
            .and_then(|t| servers::unchecked_references(policy, k.gateway, t))
        {
            assumptions.push(note);
        }
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
            assumptions,
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
    if late_drops {
        dropped.sort_by_key(|d| d.order);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::load_str;
    use crate::wire::ProtocolVersion;

    fn gateway(ns: &str, name: &str, servers: &str) -> String {
        format!(
            "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  selector: {{istio: ingressgateway}}\n  servers:\n{servers}---\n"
        )
    }

    fn resolve_yaml(text: &str, version: IstioVersion) -> Resolved {
        resolve(&load_str("t.yaml", text).expect("policy"), version)
    }

    const SIMPLE_443: &str = "  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [HOST]\n    tls: {mode: SIMPLE, credentialName: c}\n";

    /// R-M1: a later server repeating a host on the same port is dropped
    /// whole; `ns/*` hosts of two namespaces are not duplicates to istiod
    /// (gateway_simulation_test.go TestGatewayConflicts "duplicate tls
    /// gateway").
    #[test]
    fn duplicate_hosts_drop_the_later_server() {
        let text = gateway("a", "one", &SIMPLE_443.replace("HOST", "x.example"))
            + &gateway("b", "two", &SIMPLE_443.replace("HOST", "x.example"));
        let r = resolve_yaml(&text, IstioVersion::DEFAULT);
        assert_eq!(r.listeners[0].chains.len(), 1);
        assert_eq!(r.dropped.len(), 1);
        assert_eq!(r.dropped[0].gateway, "b/two");
        assert!(r.dropped[0].reason.contains("R-M1"));

        let text = gateway("istio-system", "one", &SIMPLE_443.replace("HOST", "./*"))
            + &gateway("default", "two", &SIMPLE_443.replace("HOST", "./*"));
        let r = resolve_yaml(&text, IstioVersion::DEFAULT);
        assert!(r.dropped.is_empty());
        assert_eq!(r.listeners[0].chains.len(), 2);
        assert!(r.listeners[0].chains.iter().all(FilterChain::is_catch_all));
    }

    /// R-M2: plain HTTP first, then HTTPS on the same port: HTTPS dropped;
    /// HTTPS first, then HTTP: both kept (TestMergeGatewaysHttpsFirstBug).
    #[test]
    fn http_and_https_on_one_port_depend_on_order() {
        let http = "  - port: {number: 8080, name: http, protocol: HTTP}\n    hosts: ['*']\n";
        let https = "  - port: {number: 8080, name: https, protocol: HTTPS}\n    hosts: ['*']\n    tls: {mode: SIMPLE, credentialName: c}\n";
        let r = resolve_yaml(
            &gateway("a", "g", &(http.to_owned() + https)),
            IstioVersion::DEFAULT,
        );
        assert_eq!(r.dropped.len(), 1);
        assert!(r.dropped[0]
            .reason
            .contains("plain-text HTTP server came first"));
        let r = resolve_yaml(
            &gateway("a", "g", &(https.to_owned() + http)),
            IstioVersion::DEFAULT,
        );
        assert!(r.dropped.is_empty(), "{:?}", r.dropped);
        let kinds: Vec<ChainKind> = r.listeners[0].chains.iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            [
                ChainKind::HttpsTerminate,
                ChainKind::PlainHttp {
                    https_redirect: false
                }
            ]
        );
    }

    /// R-M5: a terminated-TLS server needs a bound VirtualService with a
    /// tcp route for its port (short gateway names are the VirtualService's
    /// namespace's, resolveGatewayName); HTTPS is unaffected; with no
    /// VirtualService at all the server is kept and the assumption said.
    #[test]
    fn tcp_and_tls_servers_need_a_tcp_route() {
        let servers = "  - port: {number: 9443, name: tls, protocol: TLS}\n    hosts: [t.example]\n    tls: {mode: SIMPLE, credentialName: c}\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [h.example]\n    tls: {mode: SIMPLE, credentialName: c}\n";
        let vs = |port: u16| {
            format!("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: v, namespace: a}}\nspec:\n  hosts: ['*.example']\n  gateways: [g]\n  tcp:\n  - match: [{{port: {port}}}]\n    route: [{{destination: {{host: b}}}}]\n")
        };
        let kinds = |r: &Resolved| -> Vec<(u16, usize)> {
            r.listeners
                .iter()
                .map(|l| (l.port, l.chains.len()))
                .collect()
        };
        let r = resolve_yaml(
            &(gateway("a", "g", servers) + &vs(9443)),
            IstioVersion::DEFAULT,
        );
        assert_eq!(kinds(&r), [(9443, 1), (443, 1)]);
        assert!(r.listeners[0].chains[0].assumptions.is_empty());
        let r = resolve_yaml(
            &(gateway("a", "g", servers) + &vs(9000)),
            IstioVersion::DEFAULT,
        );
        assert_eq!(kinds(&r), [(443, 1)], "no listener without chains");
        assert!(r.dropped[0].reason.contains("R-M5"), "{:?}", r.dropped);
        let r = resolve_yaml(&gateway("a", "g", servers), IstioVersion::DEFAULT);
        assert_eq!(kinds(&r), [(9443, 1), (443, 1)]);
        assert!(r.listeners[0].chains[0].assumptions[0].contains("assumed routed"));
        assert!(r.listeners[1].chains[0].assumptions.is_empty());
    }

    /// R-G1 references (buildTLS): a cross-namespace certificateRef needs
    /// a ReferenceGrant, a CA ref must be a Secret or ConfigMap the input
    /// holds; with no Secret/ConfigMap/ReferenceGrant in the input at all
    /// the references are assumed to resolve (the kind is always checked).
    #[test]
    fn gateway_api_references() {
        let gw = |ca_kind: &str| {
            format!("apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: g, namespace: a}}\nspec:\n  tls: {{frontend: {{default: {{validation: {{caCertificateRefs: [{{group: '', kind: {ca_kind}, name: ca}}]}}}}}}}}\n  listeners:\n  - {{name: l, port: 443, protocol: HTTPS, hostname: x.example, tls: {{certificateRefs: [{{name: c, namespace: other}}]}}}}\n---\n")
        };
        let secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: c, namespace: other}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: ca, namespace: a}\n---\n";
        let grant = "apiVersion: gateway.networking.k8s.io/v1beta1\nkind: ReferenceGrant\nmetadata: {name: r, namespace: other}\nspec:\n  from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: a}]\n  to: [{group: '', kind: Secret}]\n";
        let r = resolve_yaml(&gw("ConfigMap"), IstioVersion::DEFAULT);
        assert!(r.dropped.is_empty(), "assumed: {:?}", r.dropped);
        assert!(r.listeners[0].chains[0].assumptions[0].contains("assumed to exist"));
        let r = resolve_yaml(&(gw("ConfigMap") + secret), IstioVersion::DEFAULT);
        assert!(
            r.dropped[0].reason.contains("ReferenceGrant"),
            "{:?}",
            r.dropped
        );
        let r = resolve_yaml(&(gw("ConfigMap") + secret + grant), IstioVersion::DEFAULT);
        assert!(r.dropped.is_empty(), "{:?}", r.dropped);
        assert!(r.listeners[0].chains[0].assumptions.is_empty());
        let r = resolve_yaml(&gw("Service"), IstioVersion::DEFAULT);
        assert!(r.dropped[0].reason.contains("only secret and configmap"));
        let missing = secret.replace("name: ca,", "name: other-ca,");
        let r = resolve_yaml(&(gw("ConfigMap") + &missing + grant), IstioVersion::DEFAULT);
        assert!(r.dropped[0].reason.contains("not found"), "{:?}", r.dropped);
    }

    /// R-M4: two HTTPS servers of one Gateway with the same port name
    /// ("non unique port name for HTTPS port", mergeGateways).
    #[test]
    fn https_servers_need_unique_port_names() {
        let text = gateway(
            "a",
            "g",
            &(SIMPLE_443.replace("HOST", "x.example") + &SIMPLE_443.replace("HOST", "y.example")),
        );
        let r = resolve_yaml(&text, IstioVersion::DEFAULT);
        assert_eq!(r.dropped.len(), 1);
        assert!(r.dropped[0].reason.contains("R-M4"));
    }

    /// Chains in Envoy's match order: exact names, wildcards, catch-all.
    #[test]
    fn chains_are_in_match_order_and_workloads_apart() {
        let servers = ["'*'", "'*.example.com'", "b.example.com"]
            .iter()
            .enumerate()
            .map(|(i, h)| {
                format!("  - port: {{number: 443, name: s{i}, protocol: HTTPS}}\n    hosts: [{h}]\n    tls: {{mode: SIMPLE, credentialName: c}}\n")
            })
            .collect::<String>();
        let api = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: api\n  namespace: a\nspec:\n  listeners:\n  - {name: l, port: 443, protocol: HTTPS, hostname: b.example.com, tls: {certificateRefs: [{name: c}]}}\n";
        let r = resolve_yaml(&(gateway("a", "g", &servers) + api), IstioVersion::DEFAULT);
        let names: Vec<Vec<String>> = r.listeners[0]
            .chains
            .iter()
            .map(|c| c.server_names.clone())
            .collect();
        assert_eq!(
            names,
            [
                vec!["b.example.com".to_owned()],
                vec!["*.example.com".to_owned()],
                vec![]
            ]
        );
        // The Gateway API Gateway is its own workload: no clash with b.example.com.
        assert_eq!(r.listeners.len(), 2);
        assert!(r.dropped.is_empty());
    }

    /// R-T2/R-T8/R-T5 in one: ISTIO_MUTUAL gets no TlsParams and the peer
    /// exchange ALPN on a TLS (TCP) server ("mesh SDS enabled, tcp server,
    /// tls mode ISTIO_MUTUAL"); server ecdhCurves replace the mesh curves
    /// only from 1.32 (master, istio/istio#61189); mesh minProtocolVersion
    /// TLSV1_3 is 1.3 (TestApplyDownstreamTLSDefaults).
    #[test]
    fn tls_contexts_as_istiod_writes_them() {
        let mesh = "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata:\n  name: x\nspec:\n  meshConfig:\n    tlsDefaults:\n      minProtocolVersion: TLSV1_3\n      ecdhCurves: [P-256]\n---\n";
        let servers = "  - port: {number: 9443, name: tls, protocol: TLS}\n    hosts: [m.example]\n    tls: {mode: ISTIO_MUTUAL}\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [s.example]\n    tls: {mode: SIMPLE, credentialName: c, ecdhCurves: [X25519]}\n";
        let text = mesh.to_owned() + &gateway("a", "g", servers);
        let r = resolve_yaml(&text, IstioVersion::DEFAULT);
        let mutual = r.listeners[0].chains[0].tls.as_ref().unwrap();
        assert_eq!(mutual.params, None);
        assert_eq!(mutual.alpn, ["istio-peer-exchange", "h2", "http/1.1"]);
        assert!(mutual.require_client_certificate);
        assert_eq!(
            mutual.validation.as_ref().unwrap().ca,
            Some(CaSource::MeshRoot)
        );
        let simple = r.listeners[1].chains[0].tls.as_ref().unwrap();
        let params = simple.params.as_ref().unwrap();
        assert_eq!(params.min, Some(ProtocolVersion::Tls13));
        assert_eq!(
            params.ecdh_curves.as_deref(),
            Some(&["P-256".to_owned()][..])
        );
        assert_eq!(simple.dropped.len(), 1, "server ecdhCurves unknown to 1.30");
        let master = resolve_yaml(&text, IstioVersion::new(1, 32));
        let params = master.listeners[1].chains[0]
            .tls
            .as_ref()
            .unwrap()
            .params
            .clone()
            .unwrap();
        assert_eq!(
            params.ecdh_curves.as_deref(),
            Some(&["X25519".to_owned()][..])
        );
    }

    /// R-T4/R-T7: the credentialName path's validation context: CA from
    /// `<credential>-cacert` (or caCertCredentialName), SANs, pins,
    /// ACCEPT_UNTRUSTED; pins ignored on the file path
    /// (TestBuildGatewayListenerTlsContext "credential name verify spki key
    /// and cert tls MUTUAL", "… verify hash …").
    #[test]
    fn validation_contexts_per_path() {
        let servers = "  - port: {number: 443, name: a, protocol: HTTPS}\n    hosts: [a.example]\n    tls: {mode: MUTUAL, credentialName: cred, subjectAltNames: [spiffe://x], verifyCertificateSpki: [abc], verifyCertificateHash: [def], insecureSkipVerify: true}\n  - port: {number: 443, name: b, protocol: HTTPS}\n    hosts: [b.example]\n    tls: {mode: OPTIONAL_MUTUAL, serverCertificate: /c, privateKey: /k, caCertificates: /ca, verifyCertificateSpki: [abc]}\n";
        let r = resolve_yaml(&gateway("a", "g", servers), IstioVersion::DEFAULT);
        let a = r.listeners[0].chains[0].tls.as_ref().unwrap();
        let v = a.validation.as_ref().unwrap();
        assert_eq!(v.ca, Some(CaSource::Sds("cred-cacert".into())));
        assert_eq!(
            (v.spki.len(), v.hash.len(), v.accept_untrusted),
            (1, 1, true)
        );
        let b = r.listeners[0].chains[1].tls.as_ref().unwrap();
        assert!(!b.require_client_certificate);
        let v = b.validation.as_ref().unwrap();
        assert_eq!(v.ca, Some(CaSource::File("/ca".into())));
        assert!(v.spki.is_empty());
        assert_eq!(b.dropped.len(), 1);
    }
}
