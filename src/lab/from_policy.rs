//! Lab listeners from a declared policy: the resolved model
//! ([`crate::policy::istiod::resolve`], what istiod generates) rendered as
//! Envoy listeners, so a policy can be tried on loopback before it ships.
//! Nothing here decides what Istio does; every choice below is the model's
//! or a limit of the lab:
//! - one lab listener per model listener (port, bind), its filter chains
//!   the model's, with the model's server names (a chain without names is
//!   the catch-all; a client whose SNI no chain names is refused, as on a
//!   real gateway);
//! - each chain's TLS parameters, `require_client_certificate`, SAN
//!   matchers, SPKI/hash pins, ACCEPT_UNTRUSTED and ALPN exactly as the
//!   model has them; where the model names a CA (the `<credential>-cacert`
//!   secret, `caCertificates`, `caCertCredentialName`, the mesh root) the lab
//!   CA stands in for it; CRLs are not rendered;
//! - plain HTTP chains become plain HTTP listeners; `httpsRedirect` answers
//!   301 to `https://` (the model's `require_tls: ALL`);
//! - every listener gets the `jwt_authn` and `rbac` filters from
//!   [`super::authz::http_policy`].
//!
//! Skipped with a note: servers the model drops (with its reason),
//! PASSTHROUGH / AUTO_PASSTHROUGH and plain TCP chains (the backend's TLS is
//! what a client would see; the lab has no backend), a plain HTTP chain on a
//! port that also terminates TLS, and listeners Envoy refuses
//! ([`crate::policy::envoy::tls::listener_rejected`]) unless
//! [`PolicyLabOptions::render_rejected`] asks to render them anyway (to watch
//! Envoy refuse them). Certificates are the lab CA's, one per chain, for the
//! chain's hosts. Pure: nothing is generated or started until
//! [`Lab::start`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::authz;
use super::certs::CertFiles;
use super::config::{
    self, CertKinds, ClientAuth, ClientValidation, ConfigError, HostChain, ListenerSpec, PlainHttp,
};
use super::{jwt, Lab, LabError, LabOptions};
use crate::policy::effective::{
    ClientCertExpectation, EnvoyTlsParams, ENVOY_DEFAULT_SERVER_MAX, ENVOY_DEFAULT_SERVER_MIN,
};
use crate::policy::envoy::tls as envoy_tls;
use crate::policy::istiod::{self, ChainKind, FilterChain, IstioVersion};
use crate::policy::selection::Workload;
use crate::policy::{DeclaredPolicy, Origin, TlsMode};

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
    /// Which Istio release's rules the model applies.
    pub istio_version: IstioVersion,
    /// Render listeners Envoy will refuse (then [`Lab::start`] fails the
    /// way a gateway's Envoy does) instead of skipping them with a note.
    pub render_rejected: bool,
}

impl Default for PolicyLabOptions {
    fn default() -> Self {
        PolicyLabOptions {
            port_base: None,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            cert_type: CertKinds::Rsa,
            istio_version: IstioVersion::DEFAULT,
            render_rejected: false,
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
    let resolved = istiod::resolve(policy, opts.istio_version);
    let mut listeners: Vec<PolicyListener> = Vec::new();
    let mut skipped: Vec<SkippedServer> = resolved
        .dropped
        .iter()
        .map(|d| SkippedServer {
            source: d.label.clone(),
            origin: d.server.clone(),
            port: d.port,
            reason: format!("istiod drops it: {}", d.reason),
        })
        .collect();
    for listener in &resolved.listeners {
        let rejected = envoy_tls::listener_rejected(listener);
        let name = match &listener.bind {
            None => listener_name(listener.port),
            Some(bind) => format!(
                "{}-{}",
                listener_name(listener.port),
                config::listener_stat_prefix(bind)
            ),
        };
        let mut served: Option<PolicyListener> = None;
        for chain in &listener.chains {
            let source = chain.origin.label();
            let skip = |reason: String| SkippedServer {
                source: source.clone(),
                origin: chain.origin.origin.clone(),
                port: listener.port,
                reason,
            };
            if let (Some(reason), false) = (&rejected, opts.render_rejected) {
                skipped.push(skip(format!("Envoy refuses the listener: {reason}")));
                continue;
            }
            match chain.kind {
                ChainKind::PlainHttp { https_redirect } => {
                    let mode = if https_redirect {
                        PlainHttp::RedirectToHttps
                    } else {
                        PlainHttp::Serve
                    };
                    let server = PolicyServer {
                        source: source.clone(),
                        origin: chain.origin.origin.clone(),
                        hosts: display_hosts(&chain.server_names),
                        mode: None,
                        tls: EnvoyTlsParams::default(),
                        client_auth: ClientAuth::None,
                        https_redirect,
                    };
                    match &mut served {
                        None => {
                            served = Some(PolicyListener {
                                declared_port: listener.port,
                                spec: ListenerSpec {
                                    hosts: chain.server_names.clone(),
                                    plaintext: Some(mode),
                                    ..ListenerSpec::new(&name, &source)
                                },
                                servers: vec![server],
                            })
                        }
                        Some(l) => match l.spec.plaintext {
                            None => skipped.push(skip(format!(
                                "plain HTTP beside TLS on port {}: istiod keeps both, the lab \
                                 serves one kind of listener per port",
                                listener.port
                            ))),
                            Some(first) if first != mode => skipped.push(skip(format!(
                                "httpsRedirect differs from {} on the same port; the lab \
                                 serves one HTTP behaviour per port",
                                l.servers[0].source
                            ))),
                            Some(_) => l.servers.push(server),
                        },
                    }
                }
                ChainKind::Tcp => skipped.push(skip(format!(
                    "protocol {}: plain TCP, the lab has no backend to forward to",
                    chain.protocol
                ))),
                ChainKind::Passthrough | ChainKind::AutoPassthrough => skipped.push(skip(format!(
                    "tls.mode {}: the gateway does not terminate TLS (the backend's TLS is what \
                     a client sees), nothing for the lab to serve",
                    chain.mode.unwrap_or(TlsMode::Passthrough)
                ))),
                ChainKind::HttpsTerminate | ChainKind::TlsTerminate => {
                    let (host_chain, server) = render_tls_chain(chain, opts.cert_type);
                    let single = ListenerSpec {
                        match_sni: true,
                        ..ListenerSpec::new(&name, &source)
                    };
                    if rejected.is_none() {
                        if let Err(source) =
                            config::validate(&[with_first_chain(single.clone(), &host_chain)])
                        {
                            return Err(FromPolicyError::Invalid {
                                server: server.source,
                                origin: Box::new(chain.origin.origin.clone()),
                                source: Box::new(source),
                            });
                        }
                    }
                    match &mut served {
                        None => {
                            served = Some(PolicyListener {
                                declared_port: listener.port,
                                spec: with_first_chain(single, &host_chain),
                                servers: vec![server],
                            })
                        }
                        Some(l) if l.spec.plaintext.is_some() => skipped.push(skip(format!(
                            "TLS beside plain HTTP on port {}: the lab serves one kind of \
                             listener per port",
                            listener.port
                        ))),
                        Some(l) => {
                            l.spec.extra_hosts.push(host_chain);
                            l.servers.push(server);
                        }
                    }
                }
            }
        }
        if let Some(l) = served {
            listeners.push(l);
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
    if let Some(v) = l
        .spec
        .chains()
        .iter()
        .find(|c| display_hosts(&c.hosts) == s.hosts)
        .and_then(|c| c.validation.clone())
    {
        if !v.san_exact.is_empty() {
            line.push_str(&format!(" (SAN {})", v.san_exact.join(",")));
        }
        if !v.spki.is_empty() || !v.hash.is_empty() {
            line.push_str(" (pinned)");
        }
        if v.accept_untrusted {
            line.push_str(" (ACCEPT_UNTRUSTED: chain not verified)");
        }
    }
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

fn listener_name(port: u16) -> String {
    format!("port-{port}")
}

fn display_hosts(hosts: &[String]) -> Vec<String> {
    if hosts.is_empty() {
        vec!["*".to_owned()]
    } else {
        hosts.to_vec()
    }
}

/// One terminating chain of the model as a lab chain: its parameters, its
/// validation context with the lab CA for whatever CA it names, its ALPN;
/// the label of what Envoy enforces comes from [`envoy_tls::client_cert`].
fn render_tls_chain(chain: &FilterChain, certificates: CertKinds) -> (HostChain, PolicyServer) {
    let params = EnvoyTlsParams::of(chain);
    let decision = envoy_tls::client_cert(chain.tls.as_ref());
    let client_auth = match decision.client_cert {
        ClientCertExpectation::Required => ClientAuth::Required,
        ClientCertExpectation::Optional => ClientAuth::Optional,
        ClientCertExpectation::NotRequested => ClientAuth::None,
    };
    let tls = chain.tls.as_ref();
    let validation = tls.and_then(|t| {
        t.validation.as_ref().map(|v| ClientValidation {
            require_client_certificate: t.require_client_certificate,
            trusted_ca: v.ca.is_some(),
            san_exact: v.san_exact.clone(),
            spki: v.spki.clone(),
            hash: v.hash.clone(),
            accept_untrusted: v.accept_untrusted,
        })
    });
    let host_chain = HostChain {
        hosts: chain.server_names.clone(),
        certificates,
        min_version: params.min_version,
        max_version: params.max_version,
        cipher_suites: params.cipher_suites.clone(),
        ecdh_curves: params.ecdh_curves.clone(),
        client_auth,
        client_san_match: Vec::new(),
        validation: Some(validation.unwrap_or_else(|| ClientValidation {
            require_client_certificate: tls.is_some_and(|t| t.require_client_certificate),
            ..ClientValidation::default()
        }))
        .filter(|v| *v != ClientValidation::default()),
        alpn: tls.map(|t| t.alpn.clone()).unwrap_or_default(),
    };
    let server = PolicyServer {
        source: chain.origin.label(),
        origin: chain.origin.origin.clone(),
        hosts: display_hosts(&chain.server_names),
        mode: chain.mode,
        tls: params,
        client_auth,
        https_redirect: false,
    };
    (host_chain, server)
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
        validation: chain.validation.clone(),
        alpn: chain.alpn.clone(),
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
        AuthorizationPolicyDecl, AuthzAction, AuthzRule, AuthzSource, GatewayDecl, GatewayFlavor,
        Located, MeshTlsDefaults, MeshTlsSource, ServerDecl, ServerTls, TlsVersionSetting,
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
            protocol: protocol.into(),
            // Istio requires a port name, and one unique per HTTPS port in a
            // Gateway (R-M4); one per host keeps these servers apart.
            port_name: Some(format!(
                "{}-{}",
                protocol.to_ascii_lowercase(),
                hosts.first().copied().unwrap_or_default()
            )),
            bind: None,
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
                    server(443, "HTTPS", &["a.com"], Some(tls(TlsMode::Simple))),
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
                // What istiod drops (the model's reasons), then what the lab
                // cannot serve.
                ("gateway default/one servers[2]", 443),
                ("gateway default/one servers[4]", 8443),
                ("gateway default/two servers[2]", 80),
                ("gateway default/one servers[3]", 15443),
                ("gateway default/one servers[5]", 9000),
                ("gateway default/one servers[6]", 9443),
            ]
        );
        assert!(
            lab.skipped[0].reason.contains(
                "duplicate host a.com on port 443 already taken by gateway default/one servers[0]"
            ),
            "{}",
            lab.skipped[0].reason
        );
        assert!(lab.skipped[1].reason.contains("without tls settings"));
        assert!(lab.skipped[2]
            .reason
            .contains("plain-text HTTP server came first"));
        assert!(lab.skipped[3].reason.contains("AUTO_PASSTHROUGH"));
        assert!(lab.skipped[5].reason.contains("PASSTHROUGH"));
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
        let validation = chains[1].validation.as_ref().unwrap();
        assert_eq!(validation.san_exact, ["spiffe://test.client"]);
        assert!(validation.require_client_certificate && validation.trusted_ca);
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
                    gateway_api: Some(crate::policy::GatewayApiTls::default()),
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
