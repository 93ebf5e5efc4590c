//! Lab listeners from a declared policy: every Gateway server (Istio and
//! Gateway API) becomes the Envoy listener istiod would build for it, so a
//! policy can be tried on loopback before it ships.
//!
//! The translation follows Istio's gateway listener builder:
//! - one Envoy listener per declared port, every gateway's servers on that
//!   port merged into it;
//! - each TLS server is one filter chain matched by its hosts
//!   (`server_names`, the `namespace/` prefix stripped, `*.example.com` kept
//!   as a wildcard); a server with `hosts: ['*']` is the default chain, and
//!   a client whose SNI no chain names is refused (as on a real gateway);
//! - its TLS parameters are exactly [`envoy_tls_params`]: mesh `tlsDefaults`
//!   then the server's own fields, after Istio's cipher-name filter;
//! - MUTUAL / ISTIO_MUTUAL require, OPTIONAL_MUTUAL requests a client
//!   certificate, verified against the lab CA (standing in for the
//!   `<credential>-cacert` secret or the mesh CA), with `subjectAltNames` as
//!   SAN matchers;
//! - HTTP servers become plain HTTP listeners; `tls.httpsRedirect: true`
//!   answers 301 to `https://` (Istio's `require_tls: ALL`).
//!
//! - every listener gets the `jwt_authn` and `rbac` filters of the
//!   RequestAuthentications and AuthorizationPolicies whose selector is empty
//!   or a subset of the `selector` of a Gateway with a server on its port
//!   (see [`super::authz`]; namespaces are not considered).
//!
//! PASSTHROUGH / AUTO_PASSTHROUGH servers, plain TCP, HTTPS without `tls`,
//! and servers conflicting with an earlier one on the same port are skipped
//! with a note. Certificates are the lab CA's, one per server, for the
//! server's hosts (`credentialName` and friends are only names here). Pure:
//! nothing is generated or started until [`Lab::start`].

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::authz;
use super::certs::CertFiles;
use super::config::{self, CertKinds, ClientAuth, ConfigError, HostChain, ListenerSpec, PlainHttp};
use super::{jwt, Lab, LabError, LabOptions};
use crate::policy::effective::{
    envoy_tls_params, EnvoyTlsParams, ENVOY_DEFAULT_SERVER_MAX, ENVOY_DEFAULT_SERVER_MIN,
};
use crate::policy::selection::Workload;
use crate::policy::{
    DeclaredPolicy, GatewayDecl, GatewayFlavor, Located, Origin, ServerDecl, TlsMode,
};

/// The identity given to clients when the policy names no principal.
pub const DEFAULT_CLIENT_IDENTITY: &str = "spiffe://test.client";

/// The identity no policy names, issued beside the named ones so a scan can
/// probe the non-matching side of every rule (`--identity` it as well).
pub const OTHER_CLIENT_IDENTITY: &str = "spiffe://other.client";

/// How to turn a policy into a lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyLabOptions {
    /// `None`: ephemeral ports (tests). `Some(n)`: the first declared port
    /// binds `n`, the next `n + 1`, … in order of first declaration.
    pub port_base: Option<u16>,
    /// Must be loopback ([`Lab::start`] refuses anything else).
    pub bind: IpAddr,
    /// Server certificate key type(s) for every TLS server.
    pub cert_type: CertKinds,
}

impl Default for PolicyLabOptions {
    fn default() -> Self {
        PolicyLabOptions {
            port_base: None,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            cert_type: CertKinds::Rsa,
        }
    }
}

/// Why a policy cannot become a lab.
#[derive(Debug, Error)]
pub enum FromPolicyError {
    /// Every server was skipped (or there were none).
    #[error("the policy declares no gateway server the lab can serve{}", skipped_list(.skipped))]
    NothingToServe { skipped: Vec<SkippedServer> },
    #[error("--port-base {base} leaves no room for {count} listeners")]
    PortRange { base: u16, count: usize },
    /// What istiod would have rendered, Envoy (or the lab) cannot take; e.g.
    /// a minimum version above the maximum.
    #[error("{origin}: {source} ({server})")]
    Invalid {
        server: String,
        origin: Box<Origin>,
        #[source]
        source: Box<ConfigError>,
    },
}

/// Every listener and what was left out.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyLab {
    /// In order of each port's first declaration.
    pub listeners: Vec<PolicyListener>,
    pub skipped: Vec<SkippedServer>,
    /// `spiffe://` URIs to issue client certificates for: every principal
    /// the AuthorizationPolicies name (wildcards left out) and
    /// [`OTHER_CLIENT_IDENTITY`], which none names; else
    /// [`DEFAULT_CLIENT_IDENTITY`].
    pub client_identities: Vec<String>,
    pub bind: IpAddr,
}

/// One Envoy listener: a declared port and the servers merged into it.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyListener {
    pub declared_port: u16,
    /// `spec.port` is the port to bind (0 = ephemeral).
    pub spec: ListenerSpec,
    /// In [`ListenerSpec::chains`] order for TLS listeners; for a plain
    /// HTTP listener, every HTTP server on the port.
    pub servers: Vec<PolicyServer>,
}

/// One declared server as the lab serves it.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyServer {
    /// `gateway default/mysdsgateway servers[0]` (Gateway API:
    /// `gateway … listeners[0]`).
    pub source: String,
    pub origin: Origin,
    /// As Envoy matches them (`namespace/` stripped); `["*"]` for the
    /// default chain.
    pub hosts: Vec<String>,
    /// `None` for a plain HTTP server.
    pub mode: Option<TlsMode>,
    /// What istiod gives Envoy (for TLS servers).
    pub tls: EnvoyTlsParams,
    pub client_auth: ClientAuth,
    pub https_redirect: bool,
}

/// A server the lab does not serve, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedServer {
    pub source: String,
    pub origin: Origin,
    pub port: u16,
    pub reason: String,
}

/// A client certificate written into the lab workdir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    pub uri: String,
    pub files: CertFiles,
}

enum Kind {
    Tls(TlsMode),
    Http { redirect: bool },
}

/// Consecutive ports from `base`, one per listener in order: the one rule
/// for `lab --port-base`, seed listeners and policy listeners alike.
///
/// # Errors
/// [`FromPolicyError::PortRange`] (with the number of listeners) when they
/// do not all fit below 65536.
pub fn assign_ports<'a>(
    listeners: impl ExactSizeIterator<Item = &'a mut ListenerSpec>,
    base: u16,
) -> Result<(), FromPolicyError> {
    let count = listeners.len();
    for (i, l) in listeners.enumerate() {
        l.port = u16::try_from(i)
            .ok()
            .and_then(|i| base.checked_add(i))
            .filter(|p| *p != 0)
            .ok_or(FromPolicyError::PortRange { base, count })?;
    }
    Ok(())
}

/// Builds the lab listeners for `policy` (see the module docs).
///
/// # Errors
/// [`FromPolicyError::NothingToServe`] when no server can be served,
/// [`FromPolicyError::PortRange`] when `port_base` overflows, and
/// [`FromPolicyError::Invalid`] for a server whose TLS settings Envoy
/// would refuse.
pub fn listeners_from_policy(
    policy: &DeclaredPolicy,
    opts: &PolicyLabOptions,
) -> Result<PolicyLab, FromPolicyError> {
    let mut listeners: Vec<PolicyListener> = Vec::new();
    let mut skipped = Vec::new();
    for gateway in &policy.gateways {
        for (index, server) in gateway.servers.iter().enumerate() {
            let source = server_source(gateway, index);
            let skip = |reason: String| SkippedServer {
                source: source.clone(),
                origin: server.origin.clone(),
                port: server.port,
                reason,
            };
            let kind = match classify(server, gateway.flavor) {
                Ok(kind) => kind,
                Err(reason) => {
                    skipped.push(skip(reason));
                    continue;
                }
            };
            let hosts = envoy_hosts(&server.hosts);
            let existing = listeners
                .iter_mut()
                .find(|l| l.declared_port == server.port);
            match kind {
                Kind::Http { redirect } => {
                    let served = PolicyServer {
                        source: source.clone(),
                        origin: server.origin.clone(),
                        hosts: display_hosts(&hosts),
                        mode: None,
                        tls: EnvoyTlsParams::default(),
                        client_auth: ClientAuth::None,
                        https_redirect: redirect,
                    };
                    let mode = if redirect {
                        PlainHttp::RedirectToHttps
                    } else {
                        PlainHttp::Serve
                    };
                    match existing {
                        None => listeners.push(PolicyListener {
                            declared_port: server.port,
                            spec: ListenerSpec {
                                hosts,
                                plaintext: Some(mode),
                                ..ListenerSpec::new(&listener_name(server.port), &source)
                            },
                            servers: vec![served],
                        }),
                        Some(l) => match l.spec.plaintext {
                            None => skipped.push(skip(format!(
                                "plain HTTP on port {} where {} already serves TLS; Istio \
                                 rejects the conflicting server",
                                server.port, l.servers[0].source
                            ))),
                            Some(first) if first != mode => skipped.push(skip(format!(
                                "httpsRedirect differs from {} on the same port; the lab \
                                 serves one HTTP behaviour per port",
                                l.servers[0].source
                            ))),
                            Some(_) => l.servers.push(served),
                        },
                    }
                }
                Kind::Tls(mode) => {
                    // A mode left to its default (Gateway API) is the one
                    // `classify` chose, for the TLS parameters too.
                    let mut resolved = server.clone();
                    if let Some(tls) = resolved.tls.as_mut() {
                        if tls.mode.is_none() {
                            tls.mode = Some(Located::new(mode, tls.origin.clone()));
                        }
                    }
                    let params = envoy_tls_params(&resolved, policy.mesh_tls.as_ref());
                    let client_auth = ClientAuth::from_flags(
                        params.require_client_certificate,
                        params.request_client_certificate,
                    );
                    let client_san_match = match &server.tls {
                        Some(tls) if client_auth != ClientAuth::None => tls
                            .subject_alt_names
                            .iter()
                            .map(|s| s.value.clone())
                            .collect(),
                        _ => Vec::new(),
                    };
                    let chain = HostChain {
                        hosts: hosts.clone(),
                        certificates: opts.cert_type,
                        min_version: params.min_version,
                        max_version: params.max_version,
                        cipher_suites: params.cipher_suites.clone(),
                        ecdh_curves: params.ecdh_curves.clone(),
                        client_auth,
                        client_san_match,
                    };
                    let served = PolicyServer {
                        source: source.clone(),
                        origin: server.origin.clone(),
                        hosts: display_hosts(&hosts),
                        mode: Some(mode),
                        tls: params,
                        client_auth,
                        https_redirect: false,
                    };
                    let single = ListenerSpec {
                        match_sni: true,
                        ..ListenerSpec::new(&listener_name(server.port), &source)
                    };
                    if let Err(source) =
                        config::validate(&[with_first_chain(single.clone(), &chain)])
                    {
                        return Err(FromPolicyError::Invalid {
                            server: served.source,
                            origin: Box::new(server.origin.clone()),
                            source: Box::new(source),
                        });
                    }
                    match existing {
                        None => listeners.push(PolicyListener {
                            declared_port: server.port,
                            spec: with_first_chain(single, &chain),
                            servers: vec![served],
                        }),
                        Some(l) if l.spec.plaintext.is_some() => skipped.push(skip(format!(
                            "TLS on port {} where {} already serves plain HTTP; Istio rejects \
                             the conflicting server",
                            server.port, l.servers[0].source
                        ))),
                        Some(l) => match conflict(&l.spec, &chain.hosts) {
                            Some(host) => {
                                let owner = l
                                    .spec
                                    .chains()
                                    .iter()
                                    .position(|c| {
                                        c.hosts.iter().any(|h| h.eq_ignore_ascii_case(&host))
                                            || (c.is_default() && host == "*")
                                    })
                                    .map(|i| l.servers[i].source.clone())
                                    .unwrap_or_default();
                                skipped.push(skip(format!(
                                    "host {host} on port {} is already served by {owner}; \
                                     Istio keeps the first server",
                                    server.port
                                )));
                            }
                            None => {
                                l.spec.extra_hosts.push(chain);
                                l.servers.push(served);
                            }
                        },
                    }
                }
            }
        }
    }
    if listeners.is_empty() {
        return Err(FromPolicyError::NothingToServe { skipped });
    }
    if let Some(base) = opts.port_base {
        assign_ports(listeners.iter_mut().map(|l| &mut l.spec), base)?;
    }
    for l in &mut listeners {
        let workloads: Vec<Workload> = policy
            .gateways
            .iter()
            .filter(|g| g.servers.iter().any(|s| s.port == l.declared_port))
            .map(Workload::of)
            .collect();
        l.spec.http_policy = authz::http_policy(policy, &workloads, l.declared_port);
        if l.servers.len() > 1 {
            l.spec.summary = format!("{} (+{} more)", l.servers[0].source, l.servers.len() - 1);
        }
    }
    Ok(PolicyLab {
        listeners,
        skipped,
        client_identities: client_identities(policy),
        bind: opts.bind,
    })
}

impl PolicyLab {
    /// Lab options for these listeners (`envoy`: `--envoy`, `None` searches).
    pub fn lab_options(&self, envoy: Option<PathBuf>) -> LabOptions {
        LabOptions {
            envoy,
            listeners: self.listeners.iter().map(|l| l.spec.clone()).collect(),
            bind: self.bind,
            ..LabOptions::default()
        }
    }

    /// The address Envoy bound for `declared_port` in a lab started from
    /// [`PolicyLab::lab_options`].
    pub fn addr(&self, lab: &Lab, declared_port: u16) -> Option<SocketAddr> {
        let listener = self
            .listeners
            .iter()
            .find(|l| l.declared_port == declared_port)?;
        lab.listener(&listener.spec.name).map(|l| l.addr)
    }

    /// Issues one client certificate per [`PolicyLab::client_identities`]
    /// entry and writes it into the lab workdir (`clients/`).
    ///
    /// # Errors
    /// What [`Lab::write_client_identity`] returns.
    pub fn write_client_identities(&self, lab: &Lab) -> Result<Vec<ClientIdentity>, LabError> {
        self.client_identities
            .iter()
            .map(|uri| {
                let stem = uri.trim_start_matches("spiffe://");
                Ok(ClientIdentity {
                    uri: uri.clone(),
                    files: lab.write_client_identity(uri, stem)?,
                })
            })
            .collect()
    }

    /// One line per served server, e.g. `gateway default/gw servers[0]: port
    /// 443 → https://127.0.0.1:8443  hosts: *  TLS1.2–TLS1.3, ciphers:
    /// default, curves: default, client cert: required`; addresses from
    /// `lab` when given, else the ports to be bound.
    pub fn describe(&self, lab: Option<&Lab>) -> Vec<String> {
        let mut lines = Vec::new();
        for l in &self.listeners {
            let addr = lab
                .and_then(|lab| self.addr(lab, l.declared_port))
                .map(|a| a.to_string())
                .unwrap_or_else(|| match l.spec.port {
                    0 => format!("{}:(ephemeral)", SocketAddr::new(self.bind, 0).ip()),
                    port => SocketAddr::new(self.bind, port).to_string(),
                });
            for s in &l.servers {
                lines.push(describe_server(l, s, &addr));
            }
            for rule in l.spec.http_policy.describe() {
                lines.push(format!("port {}: {rule}", l.declared_port));
            }
        }
        let issuers = authz::lab_issuers(self.listeners.iter().map(|l| &l.spec.http_policy));
        for (slug, issuer, _) in issuers {
            let files = match lab {
                Some(lab) => lab
                    .jwt_issuers()
                    .iter()
                    .find(|f| f.slug == slug)
                    .cloned()
                    .unwrap_or_else(|| {
                        jwt::IssuerFiles::paths(&lab.workdir().join("jwt"), &issuer, &slug)
                    }),
                None => jwt::IssuerFiles::paths(Path::new("jwt"), &issuer, &slug),
            };
            lines.push(format!(
                "JWT issuer {issuer}: valid token {} (send as Authorization: Bearer), expired {}, \
                 bad signature {}, JWKS {}, signing key {}",
                files.token.display(),
                files.expired.display(),
                files.bad_signature.display(),
                files.jwks.display(),
                files.key.display()
            ));
        }
        lines
    }
}

fn describe_server(l: &PolicyListener, s: &PolicyServer, addr: &str) -> String {
    let hosts = s.hosts.join(",");
    let head = format!("{}: port {} →", s.source, l.declared_port);
    let Some(mode) = s.mode else {
        let what = if s.https_redirect {
            "plain HTTP, 301 to https"
        } else {
            "plain HTTP"
        };
        return format!("{head} http://{addr}  hosts: {hosts}  {what}");
    };
    let min = s.tls.min_version.unwrap_or(ENVOY_DEFAULT_SERVER_MIN);
    let max = s.tls.max_version.unwrap_or(ENVOY_DEFAULT_SERVER_MAX);
    let list = |v: &[String]| {
        if v.is_empty() {
            "default".to_owned()
        } else {
            v.join(":")
        }
    };
    let mut line = format!(
        "{head} https://{addr}  hosts: {hosts}  {mode}, {min}–{max}, ciphers: {}, curves: {}, \
         client cert: {}",
        list(&s.tls.cipher_suites),
        list(&s.tls.ecdh_curves),
        s.client_auth.label()
    );
    for d in &s.tls.dropped {
        line.push_str(&format!(
            "; dropped {:?} ({}): {}",
            d.value, d.origin, d.reason
        ));
    }
    line
}

fn skipped_list(skipped: &[SkippedServer]) -> String {
    skipped
        .iter()
        .map(|s| format!("; skipped {} ({}): {}", s.source, s.origin, s.reason))
        .collect()
}

fn server_source(gateway: &GatewayDecl, index: usize) -> String {
    let list = match gateway.flavor {
        GatewayFlavor::Istio => "servers",
        GatewayFlavor::GatewayApi => "listeners",
    };
    format!("gateway {} {list}[{index}]", gateway.qualified_name())
}

fn listener_name(port: u16) -> String {
    format!("port-{port}")
}

/// What the lab makes of a server, or why it skips it.
fn classify(server: &ServerDecl, flavor: GatewayFlavor) -> Result<Kind, String> {
    let protocol = server.protocol.to_ascii_uppercase();
    // An unset mode is Istio's enum zero, PASSTHROUGH; Gateway API's
    // default is Terminate.
    let unset = match flavor {
        GatewayFlavor::Istio => TlsMode::Passthrough,
        GatewayFlavor::GatewayApi => TlsMode::Simple,
    };
    let mode = server
        .tls
        .as_ref()
        .map(|t| t.mode.as_ref().map_or(unset, |m| m.value));
    match protocol.as_str() {
        "HTTP" | "HTTP2" | "GRPC" | "GRPC-WEB" => Ok(Kind::Http {
            redirect: server
                .tls
                .as_ref()
                .and_then(|t| t.https_redirect.as_ref())
                .is_some_and(|r| r.value),
        }),
        "HTTPS" | "TLS" => match mode {
            None => Err(format!(
                "{protocol} server without tls settings: Istio rejects it"
            )),
            Some(m) if m.terminates() => Ok(Kind::Tls(m)),
            Some(m) => Err(format!(
                "tls.mode {m}: the gateway does not terminate TLS (the backend's TLS is what \
                 a client sees), nothing for the lab to serve"
            )),
        },
        other => Err(format!(
            "protocol {other}: not TLS or HTTP, the lab serves neither"
        )),
    }
}

/// Server names as Envoy matches them: `namespace/` stripped, duplicates
/// removed; any `*` makes the default chain (no names).
fn envoy_hosts(declared: &[String]) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for h in declared {
        let h = h
            .rsplit_once('/')
            .map_or(h.as_str(), |(_, host)| host)
            .trim();
        if h == "*" || h.is_empty() {
            return Vec::new();
        }
        if !hosts.iter().any(|k| k.eq_ignore_ascii_case(h)) {
            hosts.push(h.to_owned());
        }
    }
    hosts
}

fn display_hosts(hosts: &[String]) -> Vec<String> {
    if hosts.is_empty() {
        vec!["*".to_owned()]
    } else {
        hosts.to_vec()
    }
}

/// The first host of `hosts` (`*` for the default chain) a listener
/// already serves.
fn conflict(spec: &ListenerSpec, hosts: &[String]) -> Option<String> {
    let chains = spec.chains();
    if hosts.is_empty() {
        return chains
            .iter()
            .any(HostChain::is_default)
            .then(|| "*".to_owned());
    }
    let served: HashSet<String> = chains
        .iter()
        .flat_map(|c| c.hosts.iter().map(|h| h.to_ascii_lowercase()))
        .collect();
    hosts
        .iter()
        .find(|h| served.contains(&h.to_ascii_lowercase()))
        .cloned()
}

fn with_first_chain(spec: ListenerSpec, chain: &HostChain) -> ListenerSpec {
    ListenerSpec {
        hosts: chain.hosts.clone(),
        certificates: chain.certificates,
        min_version: chain.min_version,
        max_version: chain.max_version,
        cipher_suites: chain.cipher_suites.clone(),
        ecdh_curves: chain.ecdh_curves.clone(),
        client_auth: chain.client_auth,
        client_san_match: chain.client_san_match.clone(),
        ..spec
    }
}

/// Principals of every AuthorizationPolicy (`principals` and
/// `notPrincipals`, without wildcards) as `spiffe://` URIs, then
/// [`OTHER_CLIENT_IDENTITY`] (or a variant of it no policy names); else
/// [`DEFAULT_CLIENT_IDENTITY`].
fn client_identities(policy: &DeclaredPolicy) -> Vec<String> {
    let mut uris: Vec<String> = Vec::new();
    let named = policy
        .authorization_policies
        .iter()
        .flat_map(|p| &p.rules)
        .flat_map(|r| &r.from)
        .flat_map(|s| s.principals.iter().chain(&s.not_principals));
    for principal in named {
        let p = principal.trim();
        if p.is_empty() || p.contains('*') {
            continue;
        }
        let uri = if p.starts_with("spiffe://") {
            p.to_owned()
        } else {
            format!("spiffe://{p}")
        };
        if !uris.contains(&uri) {
            uris.push(uri);
        }
    }
    if uris.is_empty() {
        uris.push(DEFAULT_CLIENT_IDENTITY.to_owned());
        return uris;
    }
    let other = std::iter::successors(Some(OTHER_CLIENT_IDENTITY.to_owned()), |u| {
        Some(format!("{u}-unnamed"))
    })
    .find(|u| !uris.contains(u))
    .unwrap_or_else(|| OTHER_CLIENT_IDENTITY.to_owned());
    uris.push(other);
    uris
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{
        AuthorizationPolicyDecl, AuthzAction, AuthzRule, AuthzSource, MeshTlsDefaults,
        MeshTlsSource, ServerTls, TlsVersionSetting,
    };
    use crate::wire::ProtocolVersion::{Tls12, Tls13};

    fn at(field: &str) -> Origin {
        Origin {
            file: "gw.yaml".into(),
            line: 7,
            column: 3,
            field: field.into(),
        }
    }

    fn loc<T>(value: T) -> Located<T> {
        Located::new(value, at("x"))
    }

    fn tls(mode: TlsMode) -> ServerTls {
        ServerTls {
            mode: Some(loc(mode)),
            credential_name: Some(loc("cred".to_owned())),
            ..ServerTls::default()
        }
    }

    fn server(port: u16, protocol: &str, hosts: &[&str], tls: Option<ServerTls>) -> ServerDecl {
        ServerDecl {
            port,
            port_name: None,
            protocol: protocol.into(),
            hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
            tls,
            origin: at("spec.servers[0]"),
        }
    }

    fn gateway(name: &str, servers: Vec<ServerDecl>) -> GatewayDecl {
        GatewayDecl {
            name: name.into(),
            namespace: Some("default".into()),
            api_version: "networking.istio.io/v1".into(),
            flavor: GatewayFlavor::Istio,
            selector: Default::default(),
            origin: at(""),
            servers,
        }
    }

    fn policy(gateways: Vec<GatewayDecl>) -> DeclaredPolicy {
        DeclaredPolicy {
            gateways,
            ..DeclaredPolicy::default()
        }
    }

    fn version(v: crate::wire::ProtocolVersion) -> Option<Located<TlsVersionSetting>> {
        Some(loc(TlsVersionSetting::Version(v)))
    }

    #[test]
    fn asm_min_tls12_star_is_one_default_chain() {
        let p = policy(vec![gateway(
            "mysdsgateway",
            vec![server(
                443,
                "HTTPS",
                &["*"],
                Some(ServerTls {
                    min_protocol_version: version(Tls12),
                    ..tls(TlsMode::Simple)
                }),
            )],
        )]);
        let lab = listeners_from_policy(&p, &PolicyLabOptions::default()).unwrap();
        assert_eq!(lab.listeners.len(), 1);
        let l = &lab.listeners[0];
        assert_eq!(l.declared_port, 443);
        assert_eq!(l.spec.port, 0);
        assert_eq!(l.spec.chains().len(), 1);
        assert!(l.spec.chains()[0].is_default());
        assert_eq!(l.spec.min_version, Some(Tls12));
        assert_eq!(l.spec.max_version, None);
        assert_eq!(l.spec.client_auth, ClientAuth::None);
        assert_eq!(
            l.servers[0].source,
            "gateway default/mysdsgateway servers[0]"
        );
        assert_eq!(lab.client_identities, [DEFAULT_CLIENT_IDENTITY]);
        assert_eq!(
            lab.describe(None),
            ["gateway default/mysdsgateway servers[0]: port 443 → https://127.0.0.1:(ephemeral)  \
              hosts: *  SIMPLE, TLS1.2–TLS1.3, ciphers: default, curves: default, client cert: none"]
        );
    }

    #[test]
    fn servers_group_by_port_like_istio() {
        let mut wild = server(443, "HTTPS", &["*.wild.com"], Some(tls(TlsMode::Simple)));
        wild.tls.as_mut().unwrap().max_protocol_version = version(Tls12);
        let p = policy(vec![
            gateway(
                "one",
                vec![
                    server(
                        443,
                        "HTTPS",
                        &["prod/a.com", "a.com"],
                        Some(tls(TlsMode::Simple)),
                    ),
                    server(
                        80,
                        "HTTP",
                        &["*"],
                        Some(ServerTls {
                            https_redirect: Some(loc(true)),
                            ..ServerTls::default()
                        }),
                    ),
                    server(443, "HTTPS", &["A.com"], Some(tls(TlsMode::Simple))),
                    server(15443, "TLS", &["*"], Some(tls(TlsMode::AutoPassthrough))),
                    server(8443, "HTTPS", &["x.com"], None),
                    server(9000, "TCP", &["*"], None),
                    server(9443, "HTTPS", &["p.com"], Some(ServerTls::default())),
                ],
            ),
            gateway(
                "two",
                vec![
                    wild,
                    server(443, "HTTPS", &["*"], Some(tls(TlsMode::OptionalMutual))),
                    server(80, "HTTPS", &["late.com"], Some(tls(TlsMode::Simple))),
                ],
            ),
        ]);
        let opts = PolicyLabOptions {
            port_base: Some(8443),
            cert_type: CertKinds::RsaAndEcdsa,
            ..PolicyLabOptions::default()
        };
        let lab = listeners_from_policy(&p, &opts).unwrap();
        let ports: Vec<(u16, u16)> = lab
            .listeners
            .iter()
            .map(|l| (l.declared_port, l.spec.port))
            .collect();
        assert_eq!(ports, [(443, 8443), (80, 8444)]);

        let https = &lab.listeners[0].spec;
        let chains = https.chains();
        let hosts: Vec<&[String]> = chains.iter().map(|c| c.hosts.as_slice()).collect();
        assert_eq!(
            hosts,
            [&["a.com".to_owned()][..], &["*.wild.com".to_owned()], &[]]
        );
        assert!(chains
            .iter()
            .all(|c| c.certificates == CertKinds::RsaAndEcdsa));
        assert_eq!(chains[1].max_version, Some(Tls12));
        assert_eq!(chains[2].client_auth, ClientAuth::Optional);
        assert_eq!(lab.listeners[0].servers[2].hosts, ["*"]);
        assert_eq!(https.summary, "gateway default/one servers[0] (+2 more)");
        config::validate(std::slice::from_ref(https)).unwrap();

        let http = &lab.listeners[1];
        assert_eq!(http.spec.plaintext, Some(PlainHttp::RedirectToHttps));
        assert!(http.spec.chains().is_empty());

        let skipped: Vec<(&str, u16)> = lab
            .skipped
            .iter()
            .map(|s| (s.source.as_str(), s.port))
            .collect();
        assert_eq!(
            skipped,
            [
                ("gateway default/one servers[2]", 443),
                ("gateway default/one servers[3]", 15443),
                ("gateway default/one servers[4]", 8443),
                ("gateway default/one servers[5]", 9000),
                ("gateway default/one servers[6]", 9443),
                ("gateway default/two servers[2]", 80),
            ]
        );
        assert!(lab.skipped[0]
            .reason
            .contains("already served by gateway default/one servers[0]"));
        assert!(lab.skipped[1].reason.contains("AUTO_PASSTHROUGH"));
        assert!(lab.skipped[4].reason.contains("PASSTHROUGH"));
        assert!(lab.skipped[5].reason.contains("plain HTTP"));
        let lines = lab.describe(None);
        assert_eq!(lines.len(), 4, "{lines:#?}");
        assert!(
            lines[3]
                .ends_with("port 80 → http://127.0.0.1:8444  hosts: *  plain HTTP, 301 to https"),
            "{lines:#?}"
        );
    }

    #[test]
    fn tls_parameters_are_istios_including_the_cipher_filter() {
        let mut p = policy(vec![gateway(
            "gw",
            vec![
                server(
                    443,
                    "HTTPS",
                    &["ciphers.com"],
                    Some(ServerTls {
                        cipher_suites: vec![
                            loc("ECDHE-RSA-AES256-GCM-SHA384".to_owned()),
                            loc("TLS_BOGUS_WITH_NOTHING".to_owned()),
                        ],
                        ..tls(TlsMode::Simple)
                    }),
                ),
                server(
                    443,
                    "HTTPS",
                    &["test.com"],
                    Some(ServerTls {
                        subject_alt_names: vec![loc("spiffe://test.client".to_owned())],
                        min_protocol_version: version(Tls13),
                        ..tls(TlsMode::Mutual)
                    }),
                ),
            ],
        )]);
        p.mesh_tls = Some(MeshTlsDefaults {
            source: MeshTlsSource::IstioOperator,
            origin: at("meshConfig"),
            min_protocol_version: version(Tls12),
            max_protocol_version: None,
            cipher_suites: Vec::new(),
            ecdh_curves: vec![loc("P-256".to_owned())],
            mesh_mtls: None,
        });
        let lab = listeners_from_policy(&p, &PolicyLabOptions::default()).unwrap();
        let chains = lab.listeners[0].spec.chains();
        assert_eq!(chains[0].cipher_suites, ["ECDHE-RSA-AES256-GCM-SHA384"]);
        assert_eq!(chains[0].ecdh_curves, ["P-256"]);
        assert_eq!(chains[0].min_version, Some(Tls12));
        assert_eq!(chains[1].min_version, Some(Tls13));
        assert_eq!(chains[1].client_auth, ClientAuth::Required);
        assert_eq!(chains[1].client_san_match, ["spiffe://test.client"]);
        let server = &lab.listeners[0].servers[0];
        assert_eq!(server.tls.dropped.len(), 1);
        let line = &lab.describe(None)[0];
        assert!(
            line.contains("ciphers: ECDHE-RSA-AES256-GCM-SHA384, curves: P-256")
                && line.contains("dropped \"TLS_BOGUS_WITH_NOTHING\" (gw.yaml:7:3 (x))"),
            "{line}"
        );
        assert!(lab.describe(None)[1].contains("MUTUAL, TLS1.3–TLS1.3"));
    }

    #[test]
    fn gateway_api_listeners_terminate_by_default() {
        let mut gw = gateway(
            "api",
            vec![server(
                443,
                "HTTPS",
                &["api.com"],
                Some(ServerTls {
                    mode: None,
                    ..ServerTls::default()
                }),
            )],
        );
        gw.flavor = GatewayFlavor::GatewayApi;
        let mut p = policy(vec![gw]);
        p.mesh_tls = Some(MeshTlsDefaults {
            source: MeshTlsSource::IstioOperator,
            origin: at("meshConfig"),
            min_protocol_version: version(Tls13),
            max_protocol_version: None,
            cipher_suites: Vec::new(),
            ecdh_curves: Vec::new(),
            mesh_mtls: None,
        });
        let lab = listeners_from_policy(&p, &PolicyLabOptions::default()).unwrap();
        assert_eq!(
            lab.listeners[0].spec.min_version,
            Some(Tls13),
            "mesh tlsDefaults apply"
        );
        assert_eq!(
            lab.listeners[0].servers[0].source,
            "gateway default/api listeners[0]"
        );
        assert_eq!(lab.listeners[0].servers[0].mode, Some(TlsMode::Simple));
        assert_eq!(lab.listeners[0].spec.hosts, ["api.com"]);
    }

    #[test]
    fn client_identities_come_from_authorization_policies() {
        let mut p = policy(vec![gateway(
            "gw",
            vec![server(443, "HTTPS", &["*"], Some(tls(TlsMode::Simple)))],
        )]);
        let source = |principals: &[&str], not: &[&str]| AuthzSource {
            principals: principals.iter().map(|s| (*s).to_owned()).collect(),
            not_principals: not.iter().map(|s| (*s).to_owned()).collect(),
            ..AuthzSource::default()
        };
        p.authorization_policies.push(AuthorizationPolicyDecl {
            name: "deny".into(),
            namespace: None,
            origin: at(""),
            action: AuthzAction::Deny,
            selector: Default::default(),
            provider: None,
            target_refs: Vec::new(),
            dry_run: false,
            rules: vec![AuthzRule {
                from: vec![
                    source(&["test.client", "cluster.local/ns/a/sa/*"], &[]),
                    source(&["*"], &["spiffe://cluster.local/ns/b/sa/c", "test.client"]),
                ],
                ..AuthzRule::default()
            }],
        });
        let lab = listeners_from_policy(&p, &PolicyLabOptions::default()).unwrap();
        assert_eq!(
            lab.client_identities,
            [
                "spiffe://test.client",
                "spiffe://cluster.local/ns/b/sa/c",
                OTHER_CLIENT_IDENTITY
            ]
        );
    }

    #[test]
    fn errors_name_what_cannot_be_served() {
        let passthrough = policy(vec![gateway(
            "gw",
            vec![server(443, "TLS", &["*"], Some(tls(TlsMode::Passthrough)))],
        )]);
        let err = listeners_from_policy(&passthrough, &PolicyLabOptions::default()).unwrap_err();
        assert!(
            matches!(&err, FromPolicyError::NothingToServe { skipped } if skipped.len() == 1),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("; skipped gateway default/gw servers[0] (gw.yaml:7:3 (spec.servers[0])): tls.mode PASSTHROUGH"),
            "{err}"
        );
        assert!(
            listeners_from_policy(&DeclaredPolicy::default(), &PolicyLabOptions::default())
                .unwrap_err()
                .to_string()
                .ends_with("can serve")
        );

        let two_ports = policy(vec![gateway(
            "gw",
            vec![
                server(443, "HTTPS", &["*"], Some(tls(TlsMode::Simple))),
                server(80, "HTTP", &["*"], None),
            ],
        )]);
        let opts = PolicyLabOptions {
            port_base: Some(65535),
            ..PolicyLabOptions::default()
        };
        assert!(matches!(
            listeners_from_policy(&two_ports, &opts),
            Err(FromPolicyError::PortRange {
                base: 65535,
                count: 2
            })
        ));

        let inverted = policy(vec![gateway(
            "gw",
            vec![server(
                443,
                "HTTPS",
                &["*"],
                Some(ServerTls {
                    min_protocol_version: version(Tls13),
                    max_protocol_version: version(Tls12),
                    ..tls(TlsMode::Simple)
                }),
            )],
        )]);
        let err = listeners_from_policy(&inverted, &PolicyLabOptions::default()).unwrap_err();
        assert!(matches!(err, FromPolicyError::Invalid { .. }));
        assert!(err.to_string().starts_with("gw.yaml:7:3"), "{err}");
    }
}
