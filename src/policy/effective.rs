//! What a client will observe on the wire for each declared gateway
//! server, derived from the resolved model ([`super::istiod::resolve`]:
//! what istiod generates) and Envoy's decisions on it
//! ([`super::envoy::tls`]): which versions are negotiable, which suites,
//! groups, whether a client certificate is required — given BoringSSL's
//! behaviour (TLS 1.3 suites fixed, suites need a matching certificate,
//! TLS 1.0/1.1 need a suite that exists before TLS 1.2). No Istio rule
//! lives here: servers istiod drops have no expectation, a listener Envoy
//! refuses is marked `rejected`.

use std::collections::BTreeSet;

use serde::Serialize;

use super::envoy::tls as envoy_tls;
use super::istiod::{self, FilterChain, IstioVersion, Resolved, TlsParams};
use super::model::*;
use crate::registry::{self, CipherSuite};
use crate::wire::ProtocolVersion;

pub use super::envoy::tls::ClientCertExpectation;
pub use super::istiod::servers::bare_host;
pub use super::istiod::tls::{
    filter_istio_ciphers, mesh_ciphers, mesh_curves, DroppedSetting, ISTIO_VALID_CIPHERS,
    ISTIO_VALID_CURVES,
};

/// Envoy's server-side default `cipher_suites` (Envoy API
/// `extensions.transport_sockets.tls.v3.TlsParameters.cipher_suites`,
/// "Default server cipher list"): ECDHE with AEAD only, each
/// AES-128-GCM/ChaCha pair at equal preference.
pub const ENVOY_DEFAULT_SERVER_CIPHERS: &[&str] = &[
    "[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]",
    "[ECDHE-RSA-AES128-GCM-SHA256|ECDHE-RSA-CHACHA20-POLY1305]",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
];

/// Envoy's default downstream version range (Envoy API `TlsParameters`:
/// "Defaults to TLSv1_2 for servers", "Defaults to TLSv1_3").
pub const ENVOY_DEFAULT_SERVER_MIN: ProtocolVersion = ProtocolVersion::Tls12;
pub const ENVOY_DEFAULT_SERVER_MAX: ProtocolVersion = ProtocolVersion::Tls13;

/// The resolved TLS parameters of one chain, flattened for consumers that
/// want lists (empty / `None` = Envoy's default, exactly as in the config).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct EnvoyTlsParams {
    pub min_version: Option<ProtocolVersion>,
    pub max_version: Option<ProtocolVersion>,
    /// BoringSSL cipher strings as istiod writes them; empty = Envoy default.
    pub cipher_suites: Vec<String>,
    /// Curve names as istiod writes them; empty = Envoy default.
    pub ecdh_curves: Vec<String>,
    /// `require_client_certificate` as istiod writes it.
    pub require_client_certificate: bool,
    /// Envoy sends a CertificateRequest ([`envoy_tls::client_cert`]).
    pub request_client_certificate: bool,
    /// What Istio dropped on the way, with where it was written and why.
    pub dropped: Vec<DroppedSetting>,
}

impl EnvoyTlsParams {
    /// The flattened view of one chain's context.
    pub fn of(chain: &FilterChain) -> Self {
        Self::from_tls(chain.tls.as_ref())
    }

    /// The flattened view of a downstream context (`None`: not terminated).
    pub fn from_tls(tls: Option<&istiod::DownstreamTls>) -> Self {
        let Some(tls) = tls else {
            return EnvoyTlsParams::default();
        };
        let p = tls.params.clone().unwrap_or_default();
        let cert = envoy_tls::client_cert(Some(tls));
        EnvoyTlsParams {
            min_version: p.min,
            max_version: p.max,
            cipher_suites: p.cipher_suites.unwrap_or_default(),
            ecdh_curves: p.ecdh_curves.unwrap_or_default(),
            require_client_certificate: tls.require_client_certificate,
            request_client_certificate: cert.client_cert != ClientCertExpectation::NotRequested,
            dropped: tls.dropped.clone(),
        }
    }
}

/// Suites named by one Envoy cipher string entry: a plain name, or an
/// equal-preference group `[a|b]`. Operators (`-x`, `!x`, `+x`) name none.
pub fn suites_in_entry(entry: &str) -> Vec<&'static CipherSuite> {
    let inner = entry
        .strip_prefix('[')
        .and_then(|e| e.strip_suffix(']'))
        .unwrap_or(entry);
    inner
        .split('|')
        .filter_map(|name| registry::cipher_suite_by_name(name.trim()))
        .collect()
}

/// Versions a server configured with `min..=max` can negotiate, given the
/// TLS 1.2-and-earlier suites it has: TLS 1.0/1.1 need a suite that is not
/// TLS 1.2-only (no GCM, ChaCha20 or SHA-256/384 MAC), or BoringSSL finds no
/// shared suite for them.
pub fn negotiable_versions(
    min: ProtocolVersion,
    max: ProtocolVersion,
    suites: &[&CipherSuite],
) -> BTreeSet<ProtocolVersion> {
    let legacy_capable = suites
        .iter()
        .any(|s| s.min_version <= ProtocolVersion::Tls11);
    ProtocolVersion::ALL
        .into_iter()
        .filter(|v| *v >= min && *v <= max)
        .filter(|v| match v {
            ProtocolVersion::Ssl2 | ProtocolVersion::Ssl3 => false,
            ProtocolVersion::Tls10 | ProtocolVersion::Tls11 => legacy_capable,
            ProtocolVersion::Tls12 => !suites.is_empty(),
            ProtocolVersion::Tls13 => true,
        })
        .collect()
}

/// TLS 1.3 suites BoringSSL always offers; `cipherSuites` cannot change them
/// (Envoy API `TlsParameters.cipher_suites`: "has no effect when negotiating
/// TLS 1.3").
pub const TLS13_SUITES: &[u16] = &[0x1301, 0x1302, 0x1303];

/// Envoy 1.40's default groups as observed on the wire (lab, HelloRetryRequest
/// enumeration): X25519MLKEM768 is added for TLS 1.3 only; TLS 1.2 gets
/// X25519 and P-256 (Envoy `TlsParameters.ecdh_curves` default "X25519:P-256").
pub const ENVOY_DEFAULT_GROUPS_TLS12: &[u16] = &[0x001D, 0x0017];
pub const ENVOY_DEFAULT_GROUPS_TLS13: &[u16] = &[0x11EC, 0x001D, 0x0017];

/// Which server certificates a gateway presents, by key type. Suites are only
/// negotiable with a certificate their authentication can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct CertKeyTypes {
    pub rsa: bool,
    pub ecdsa: bool,
}

impl CertKeyTypes {
    pub const RSA: CertKeyTypes = CertKeyTypes {
        rsa: true,
        ecdsa: false,
    };

    /// Whether a suite with this registry `auth` can be used.
    pub fn allows(self, suite: &CipherSuite) -> bool {
        match suite.auth.as_str() {
            "RSA" => self.rsa,
            "ECDSA" => self.ecdsa,
            _ => false,
        }
    }
}

/// Where one effective value came from, for evidence and remedies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleSource {
    /// `min_version`, `max_version`, `cipher_suites`, `ecdh_curves`, `mode`;
    /// `assumption` for what the model assumed (value: the assumption,
    /// from: what was missing from the input).
    pub setting: &'static str,
    /// The value as Envoy gets it.
    pub value: String,
    /// `server.tls`, `meshConfig.tlsDefaults` (or the SMCP field), or
    /// `Envoy default`.
    pub from: String,
    /// Where it was written; `None` for defaults.
    pub origin: Option<Origin>,
}

/// What one declared (port, server) should look like on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expectation {
    /// `namespace/name` of the Gateway.
    pub gateway: String,
    /// The server entry (`spec.servers[i]` / `spec.listeners[i]`).
    pub server: Origin,
    pub port: u16,
    /// SNI hosts with any `namespace/` prefix removed; `*` matches any SNI
    /// and no SNI.
    pub hosts: Vec<String>,
    pub mode: TlsMode,
    pub min_version: ProtocolVersion,
    pub max_version: ProtocolVersion,
    /// TLS ≤ 1.2 suite codes in configured order (Envoy's list expanded;
    /// names BoringSSL does not know are left out).
    pub suites: Vec<u16>,
    /// Groups for TLS 1.2 and TLS 1.3, in configured order.
    pub groups_tls12: Vec<u16>,
    pub groups_tls13: Vec<u16>,
    pub client_cert: ClientCertExpectation,
    /// The credential the certificate comes from, with where it was named
    /// (`credentialName "test.com" at gw.yaml:20:23`).
    pub credential: Option<String>,
    pub params: EnvoyTlsParams,
    pub sources: Vec<RuleSource>,
    /// The `TlsParameters` exactly as istiod writes them (`None`: no
    /// `tls_params` at all).
    pub istiod_params: Option<TlsParams>,
    /// `trust_chain_verification: ACCEPT_UNTRUSTED`.
    pub accept_untrusted: bool,
    /// A presented client certificate's chain is verified against a CA.
    pub chain_verified: bool,
    /// Envoy's reason for refusing the listener this server is on.
    pub rejected: Option<String>,
    pub alpn: Vec<String>,
}

impl Expectation {
    /// Versions a client can negotiate with the given certificates.
    pub fn versions(&self, certs: CertKeyTypes) -> BTreeSet<ProtocolVersion> {
        if !self.mode.terminates() {
            return BTreeSet::new();
        }
        let usable: Vec<&CipherSuite> = self
            .suites
            .iter()
            .filter_map(|c| registry::cipher_suite(*c))
            .filter(|s| certs.allows(s))
            .collect();
        negotiable_versions(self.min_version, self.max_version, &usable)
    }

    /// Suite codes a client can negotiate at `version` with the given
    /// certificates, in configured order.
    pub fn suites_at(&self, version: ProtocolVersion, certs: CertKeyTypes) -> Vec<u16> {
        if !self.versions(certs).contains(&version) {
            return Vec::new();
        }
        if version == ProtocolVersion::Tls13 {
            return TLS13_SUITES.to_vec();
        }
        self.suites
            .iter()
            .copied()
            .filter(|c| {
                registry::cipher_suite(*c).is_some_and(|s| certs.allows(s) && s.valid_for(version))
            })
            .collect()
    }

    /// The (exact) names to request certificates for, first the one to use
    /// for protocol and suite probes. A wildcard host `*.example.com` is
    /// probed as `tlsposture-probe.example.com`; `*` adds no name (the scan
    /// always tries no SNI and an unknown name too).
    pub fn probe_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for host in &self.hosts {
            let name = if let Some(rest) = host.strip_prefix("*.") {
                format!("tlsposture-probe.{rest}")
            } else if host == "*" {
                continue;
            } else {
                host.clone()
            };
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// Whether this server answers a client sending `sni` (None = no SNI),
    /// by Istio's host matching.
    pub fn serves(&self, sni: Option<&str>) -> bool {
        self.hosts.iter().any(|h| match (h.as_str(), sni) {
            ("*", _) => true,
            (_, None) => false,
            (pattern, Some(name)) => host_matches(pattern, name),
        })
    }

    /// The source of a setting, for evidence lines.
    pub fn source(&self, setting: &str) -> Option<&RuleSource> {
        self.sources.iter().find(|s| s.setting == setting)
    }

    /// A one-line label: `gateway default/gw servers[0] port 443`.
    pub fn label(&self) -> String {
        let field = self
            .server
            .field
            .rsplit('.')
            .next()
            .unwrap_or(&self.server.field);
        format!("gateway {} {} port {}", self.gateway, field, self.port)
    }
}

/// Expands Envoy cipher strings to suite codes, in order, skipping
/// operators and names BoringSSL does not know.
fn suite_codes(entries: &[String]) -> Vec<u16> {
    let mut codes = Vec::new();
    for entry in entries {
        for suite in suites_in_entry(entry) {
            if !codes.contains(&suite.code) {
                codes.push(suite.code);
            }
        }
    }
    codes
}

/// Group codes for Envoy curve names (Envoy's own name table,
/// [`envoy_tls::ENVOY_CURVES`]), in order, per protocol: hybrid and
/// post-quantum groups exist only in TLS 1.3.
fn group_codes(curves: &[String]) -> (Vec<u16>, Vec<u16>) {
    let mut tls12 = Vec::new();
    let mut tls13 = Vec::new();
    for name in curves {
        let Some((_, code)) = envoy_tls::ENVOY_CURVES.iter().find(|(n, _)| n == name) else {
            continue;
        };
        let code = *code;
        if !tls13.contains(&code) {
            tls13.push(code);
        }
        if !matches!(code, 0x11EC | 0x0202) && !tls12.contains(&code) {
            tls12.push(code);
        }
    }
    (tls12, tls13)
}

/// Which layer set a value: the server's own `tls`, the mesh defaults, or
/// nobody (Envoy's default).
fn source_of<T>(
    setting: &'static str,
    value: String,
    server: Option<&Located<T>>,
    mesh: Option<(&MeshTlsDefaults, Option<&Located<T>>)>,
) -> RuleSource {
    if let Some(l) = server {
        return RuleSource {
            setting,
            value,
            from: "server.tls".into(),
            origin: Some(l.origin.clone()),
        };
    }
    if let Some((m, Some(l))) = mesh {
        return RuleSource {
            setting,
            value,
            from: mesh_label(m.source).into(),
            origin: Some(l.origin.clone()),
        };
    }
    RuleSource {
        setting,
        value,
        from: "Envoy default".into(),
        origin: None,
    }
}

fn mesh_label(source: MeshTlsSource) -> &'static str {
    match source {
        MeshTlsSource::IstioOperator | MeshTlsSource::ConfigMap => "meshConfig.tlsDefaults",
        MeshTlsSource::SmcpV1 => "ServiceMeshControlPlane spec.istio.global.tls",
        MeshTlsSource::SmcpV2 => "ServiceMeshControlPlane spec.security.controlPlane.tls",
    }
}

/// Which secret or files the server's certificate comes from.
fn credential_of(tls: &ServerTls) -> Option<String> {
    let named = |what: &str, l: &Located<String>| format!("{what} {:?} at {}", l.value, l.origin);
    tls.credential_name
        .as_ref()
        .map(|l| named("credentialName", l))
        .or_else(|| {
            tls.credential_names
                .first()
                .map(|l| named("credentialNames", l))
        })
        .or_else(|| {
            tls.server_certificate
                .as_ref()
                .map(|l| named("serverCertificate", l))
        })
}

/// One expectation per declared server that carries TLS (terminated or
/// passed through) and that istiod keeps, in document order, by the
/// default Istio release's rules. Plain HTTP/TCP servers have none.
pub fn expectations(policy: &DeclaredPolicy) -> Vec<Expectation> {
    expectations_of(policy, &istiod::resolve(policy, IstioVersion::DEFAULT))
}

/// [`expectations`] for a model already resolved (any release).
pub fn expectations_of(policy: &DeclaredPolicy, resolved: &Resolved) -> Vec<Expectation> {
    let mesh = policy.mesh_tls.as_ref();
    resolved
        .chains_in_document_order()
        .into_iter()
        .filter(|(_, c)| c.mode.is_some())
        .map(|(listener, chain)| {
            let rejected = envoy_tls::listener_rejected(listener);
            expectation_for(chain, listener.port, mesh, rejected)
        })
        .collect()
}

fn expectation_for(
    chain: &FilterChain,
    port: u16,
    mesh: Option<&MeshTlsDefaults>,
    rejected: Option<String>,
) -> Expectation {
    let default_tls = ServerTls::default();
    let tls = chain.declared_tls.as_ref().unwrap_or(&default_tls);
    let params = EnvoyTlsParams::of(chain);
    let cert = envoy_tls::client_cert(chain.tls.as_ref());
    let mode = chain.mode.unwrap_or(TlsMode::Passthrough);
    let min_version = params.min_version.unwrap_or(ENVOY_DEFAULT_SERVER_MIN);
    let max_version = params.max_version.unwrap_or(ENVOY_DEFAULT_SERVER_MAX);
    let default_ciphers: Vec<String> = ENVOY_DEFAULT_SERVER_CIPHERS
        .iter()
        .map(|s| s.to_string())
        .collect();
    let ciphers = if params.cipher_suites.is_empty() {
        &default_ciphers
    } else {
        &params.cipher_suites
    };
    let (groups_tls12, groups_tls13) = if params.ecdh_curves.is_empty() {
        (
            ENVOY_DEFAULT_GROUPS_TLS12.to_vec(),
            ENVOY_DEFAULT_GROUPS_TLS13.to_vec(),
        )
    } else {
        group_codes(&params.ecdh_curves)
    };
    // Where a value came from: the layers of `istiod::tls::tls_params`.
    let mesh_pair = |f: fn(&MeshTlsDefaults) -> Option<&Located<TlsVersionSetting>>| {
        mesh.map(|m| (m, f(m).filter(|l| l.value.version().is_some())))
    };
    let server_version = |l: &Option<Located<TlsVersionSetting>>| {
        l.as_ref().filter(|l| l.value.version().is_some()).cloned()
    };
    let server_min = server_version(&tls.min_protocol_version);
    let server_max = server_version(&tls.max_protocol_version);
    let mut sources = vec![
        source_of(
            "min_version",
            min_version.to_string(),
            server_min.as_ref(),
            mesh_pair(|m| m.min_protocol_version.as_ref()),
        ),
        source_of(
            "max_version",
            max_version.to_string(),
            server_max.as_ref(),
            mesh_pair(|m| m.max_protocol_version.as_ref()),
        ),
    ];
    let server_ciphers = tls
        .cipher_suites
        .first()
        .filter(|_| !filter_istio_ciphers(&tls.cipher_suites).0.is_empty());
    let mesh_ciphers_first = mesh.map(|m| (m, m.cipher_suites.first()));
    sources.push(source_of(
        "cipher_suites",
        ciphers.join(":"),
        server_ciphers,
        if params.cipher_suites.is_empty() {
            None
        } else {
            mesh_ciphers_first
        },
    ));
    let curves = if params.ecdh_curves.is_empty() {
        "X25519MLKEM768 (TLS 1.3 only), X25519, P-256".to_string()
    } else {
        params.ecdh_curves.join(":")
    };
    let server_curves = tls.ecdh_curves.first().filter(|_| {
        !params
            .dropped
            .iter()
            .any(|d| Some(&d.origin) == tls.ecdh_curves.first().map(|c| &c.origin))
    });
    sources.push(source_of(
        "ecdh_curves",
        curves,
        server_curves,
        mesh.map(|m| (m, m.ecdh_curves.first()))
            .filter(|_| !params.ecdh_curves.is_empty()),
    ));
    if let Some(m) = &tls.mode {
        sources.push(RuleSource {
            setting: "mode",
            value: m.value.to_string(),
            from: "server.tls".into(),
            origin: Some(m.origin.clone()),
        });
    }
    // What the model could not see and assumed (R-M5 without any
    // VirtualService, references without the objects), so a reader knows
    // the chain rests on it.
    for assumption in &chain.assumptions {
        let (what, why) = assumption
            .split_once(": ")
            .unwrap_or((assumption.as_str(), ""));
        sources.push(RuleSource {
            setting: "assumption",
            value: why.to_owned(),
            from: what.to_owned(),
            origin: None,
        });
    }
    Expectation {
        gateway: chain.origin.gateway.clone(),
        server: chain.origin.origin.clone(),
        port,
        hosts: chain.hosts.clone(),
        mode,
        min_version,
        max_version,
        suites: suite_codes(ciphers),
        groups_tls12,
        groups_tls13,
        client_cert: cert.client_cert,
        credential: credential_of(tls),
        istiod_params: chain.tls.as_ref().and_then(|t| t.params.clone()),
        accept_untrusted: cert.accept_untrusted,
        chain_verified: cert.chain_verified,
        rejected,
        alpn: chain
            .tls
            .as_ref()
            .map(|t| t.alpn.clone())
            .unwrap_or_default(),
        params,
        sources,
    }
}

/// A declared plain-HTTP server (`HTTP`, `HTTP2`, `GRPC` without TLS
/// termination): what a client speaking plain HTTP to it must get.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RedirectExpectation {
    pub gateway: String,
    pub server: Origin,
    pub port: u16,
    /// Declared hosts, `namespace/` stripped.
    pub hosts: Vec<String>,
    /// Where `tls.httpsRedirect: true` is written, when it is: Istio then
    /// sets the virtual host's `require_tls: ALL`, so Envoy answers every
    /// plain request with `301` and `location: https://…`.
    pub https_redirect: Option<Origin>,
}

impl RedirectExpectation {
    /// A one-line label: `gateway default/gw servers[0] port 80`.
    pub fn label(&self) -> String {
        let field = self
            .server
            .field
            .rsplit('.')
            .next()
            .unwrap_or(&self.server.field);
        format!("gateway {} {} port {}", self.gateway, field, self.port)
    }

    /// The `Host` of each request: each declared host, `*.d` as
    /// `tlsposture-probe.d`, `*` as `fallback` (the target's address);
    /// duplicates dropped.
    pub fn request_hosts(&self, fallback: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for host in &self.hosts {
            let name = match host.strip_prefix('*') {
                Some("") => fallback.to_owned(),
                Some(suffix) => format!("tlsposture-probe{suffix}"),
                None => host.clone(),
            };
            if !out.contains(&name) {
                out.push(name);
            }
        }
        if out.is_empty() {
            out.push(fallback.to_owned());
        }
        out
    }

    /// Whether an answer is what the declaration asks for: with
    /// `httpsRedirect`, a `301` or `308` whose `location` is `https://…`;
    /// without it, anything.
    pub fn accepts(&self, status: u16, location: Option<&str>) -> bool {
        self.https_redirect.is_none()
            || (matches!(status, 301 | 308)
                && location.is_some_and(|l| {
                    l.get(..8)
                        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
                }))
    }
}

/// One expectation per plain-HTTP server istiod keeps (HTTP without
/// `tls`, or with only `httpsRedirect`), in document order, by the default
/// release's rules.
pub fn expectations_http(policy: &DeclaredPolicy) -> Vec<RedirectExpectation> {
    expectations_http_of(&istiod::resolve(policy, IstioVersion::DEFAULT))
}

/// [`expectations_http`] for a model already resolved.
pub fn expectations_http_of(resolved: &Resolved) -> Vec<RedirectExpectation> {
    resolved
        .chains_in_document_order()
        .into_iter()
        .filter_map(|(listener, chain)| match chain.kind {
            istiod::ChainKind::PlainHttp { https_redirect } => Some(RedirectExpectation {
                gateway: chain.origin.gateway.clone(),
                server: chain.origin.origin.clone(),
                port: listener.port,
                hosts: chain.hosts.clone(),
                https_redirect: https_redirect
                    .then(|| {
                        chain
                            .declared_tls
                            .as_ref()
                            .and_then(|t| t.https_redirect.as_ref())
                            .map(|r| r.origin.clone())
                    })
                    .flatten(),
            }),
            _ => None,
        })
        .collect()
}

/// Istio/Envoy SNI matching for a server host: exact (case-insensitive), or
/// `*.suffix` matching any name ending in `.suffix` (Envoy's `server_names`
/// wildcard is a suffix match, so it spans several labels).
pub fn host_matches(pattern: &str, name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let pattern = pattern.to_ascii_lowercase();
    match pattern.strip_prefix('*') {
        Some(suffix) if suffix.starts_with('.') => {
            name.len() > suffix.len() && name.ends_with(suffix)
        }
        Some("") => true,
        _ => pattern == name,
    }
}

/// The expectations a scan of `port` is judged against: the servers declared
/// on `declared_port` if given, else on `port`; when nothing is declared on
/// it and the policy has exactly one TLS port, that one (a lab or a port
/// forward usually maps 443 elsewhere). An error names the declared ports.
pub fn for_port(
    expectations: &[Expectation],
    port: u16,
    declared_port: Option<u16>,
) -> Result<Vec<&Expectation>, String> {
    let ports: BTreeSet<u16> = expectations.iter().map(|e| e.port).collect();
    let wanted = declared_port.unwrap_or(port);
    let chosen = if ports.contains(&wanted) {
        wanted
    } else if declared_port.is_none() && ports.len() == 1 {
        *ports.iter().next().unwrap_or(&wanted)
    } else if ports.is_empty() {
        return Err("the policy declares no TLS server (no Gateway server with tls)".into());
    } else {
        let list: Vec<String> = ports.iter().map(u16::to_string).collect();
        return Err(format!(
            "the policy declares no TLS server on port {wanted}; it declares {}: say which one this target is with --declared-port",
            list.join(", ")
        ));
    };
    Ok(expectations.iter().filter(|e| e.port == chosen).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(field: &str) -> Origin {
        Origin {
            file: "gw.yaml".into(),
            line: 1,
            column: 1,
            field: field.into(),
        }
    }

    fn loc<T>(value: T, field: &str) -> Located<T> {
        Located::new(value, at(field))
    }

    fn version(v: ProtocolVersion) -> TlsVersionSetting {
        TlsVersionSetting::Version(v)
    }

    fn gateway(tls: ServerTls) -> DeclaredPolicy {
        DeclaredPolicy {
            gateways: vec![GatewayDecl {
                name: "gw".into(),
                namespace: Some("default".into()),
                api_version: "networking.istio.io/v1beta1".into(),
                flavor: GatewayFlavor::Istio,
                selector: Default::default(),
                origin: at(""),
                servers: vec![ServerDecl {
                    port: 443,
                    port_name: Some("https".into()),
                    protocol: "HTTPS".into(),
                    bind: None,
                    hosts: vec!["ns/test.com".into()],
                    tls: Some(tls),
                    origin: at("spec.servers[0]"),
                }],
            }],
            ..DeclaredPolicy::default()
        }
    }

    fn simple(
        min: Option<ProtocolVersion>,
        max: Option<ProtocolVersion>,
        ciphers: &[&str],
    ) -> ServerTls {
        ServerTls {
            mode: Some(loc(TlsMode::Simple, "mode")),
            min_protocol_version: min.map(|v| loc(version(v), "minProtocolVersion")),
            max_protocol_version: max.map(|v| loc(version(v), "maxProtocolVersion")),
            cipher_suites: ciphers
                .iter()
                .map(|c| loc(c.to_string(), "cipherSuites"))
                .collect(),
            ..ServerTls::default()
        }
    }

    fn only(policy: &DeclaredPolicy) -> Expectation {
        let mut all = expectations(policy);
        assert_eq!(all.len(), 1);
        all.remove(0)
    }

    use ProtocolVersion::{Tls10, Tls11, Tls12, Tls13};

    #[test]
    fn envoy_defaults_give_tls12_and_13_with_ecdhe_aead() {
        let exp = only(&gateway(simple(Some(Tls12), None, &[])));
        assert_eq!(exp.hosts, ["test.com"]);
        assert_eq!(exp.versions(CertKeyTypes::RSA), [Tls12, Tls13].into());
        assert_eq!(
            exp.suites_at(Tls12, CertKeyTypes::RSA),
            [0xC02F, 0xCCA8, 0xC030]
        );
        assert_eq!(exp.suites_at(Tls13, CertKeyTypes::RSA), TLS13_SUITES);
        assert_eq!(exp.groups_tls13, [0x11EC, 0x001D, 0x0017]);
        assert_eq!(exp.client_cert, ClientCertExpectation::NotRequested);
        assert_eq!(exp.source("min_version").unwrap().from, "server.tls");
        assert_eq!(exp.source("cipher_suites").unwrap().from, "Envoy default");
    }

    #[test]
    fn a_minimum_below_tls12_without_legacy_suites_is_not_negotiable() {
        let exp = only(&gateway(simple(Some(Tls10), None, &[])));
        assert_eq!(exp.versions(CertKeyTypes::RSA), [Tls12, Tls13].into());
        let exp = only(&gateway(simple(
            Some(Tls10),
            None,
            &["ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES128-GCM-SHA256"],
        )));
        assert_eq!(
            exp.versions(CertKeyTypes::RSA),
            [Tls10, Tls11, Tls12, Tls13].into()
        );
        assert_eq!(exp.suites_at(Tls10, CertKeyTypes::RSA), [0xC013]);
        assert_eq!(exp.suites_at(Tls12, CertKeyTypes::RSA), [0xC013, 0xC02F]);
    }

    #[test]
    fn unknown_and_iana_names_are_dropped_and_an_empty_result_means_defaults() {
        let tls = simple(
            None,
            None,
            &[
                "ECDHE-RSA-AES128-GCM-SHA265",
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            ],
        );
        let policy = gateway(tls);
        let exp = only(&policy);
        assert!(exp.params.cipher_suites.is_empty());
        assert_eq!(exp.params.dropped.len(), 2);
        assert!(
            exp.params.dropped[1]
                .reason
                .contains("ECDHE-RSA-AES256-GCM-SHA384"),
            "{:?}",
            exp.params.dropped
        );
        assert_eq!(
            exp.suites_at(Tls12, CertKeyTypes::RSA),
            [0xC02F, 0xCCA8, 0xC030]
        );
        let exp = only(&gateway(simple(
            None,
            None,
            &[
                "ECDHE-RSA-AES256-GCM-SHA384",
                "bogus",
                "ECDHE-RSA-AES256-GCM-SHA384",
            ],
        )));
        assert_eq!(exp.params.cipher_suites, ["ECDHE-RSA-AES256-GCM-SHA384"]);
        assert_eq!(exp.suites_at(Tls12, CertKeyTypes::RSA), [0xC030]);
    }

    #[test]
    fn suites_need_a_matching_certificate() {
        let exp = only(&gateway(simple(
            None,
            None,
            &["ECDHE-ECDSA-AES128-GCM-SHA256"],
        )));
        assert_eq!(exp.versions(CertKeyTypes::RSA), [Tls13].into());
        let ecdsa = CertKeyTypes {
            rsa: false,
            ecdsa: true,
        };
        assert_eq!(exp.suites_at(Tls12, ecdsa), [0xC02B]);
    }

    #[test]
    fn mesh_defaults_apply_first_and_the_server_overrides() {
        let mut policy = gateway(simple(None, Some(Tls12), &[]));
        policy.mesh_tls = Some(MeshTlsDefaults {
            source: MeshTlsSource::SmcpV2,
            origin: at("spec.security.controlPlane.tls"),
            min_protocol_version: Some(loc(version(Tls11), "minProtocolVersion")),
            max_protocol_version: None,
            cipher_suites: vec![
                loc(
                    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA".into(),
                    "cipherSuites[0]",
                ),
                loc(
                    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into(),
                    "cipherSuites[1]",
                ),
            ],
            ecdh_curves: vec![loc("CurveP256".into(), "ecdhCurves[0]")],
            mesh_mtls: None,
        });
        let exp = only(&policy);
        assert_eq!(
            exp.params.cipher_suites,
            ["ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES128-GCM-SHA256"]
        );
        assert_eq!(exp.params.ecdh_curves, ["P-256"]);
        assert_eq!(exp.versions(CertKeyTypes::RSA), [Tls11, Tls12].into());
        assert_eq!(exp.groups_tls12, [0x0017]);
        assert_eq!(
            exp.source("min_version").unwrap().from,
            "ServiceMeshControlPlane spec.security.controlPlane.tls"
        );
        assert_eq!(exp.source("max_version").unwrap().from, "server.tls");
    }

    fn mesh_config_ciphers(names: &[&str]) -> MeshTlsDefaults {
        MeshTlsDefaults {
            source: MeshTlsSource::ConfigMap,
            origin: at("data.mesh.tlsDefaults"),
            min_protocol_version: None,
            max_protocol_version: None,
            cipher_suites: names
                .iter()
                .enumerate()
                .map(|(i, n)| loc((*n).to_owned(), &format!("cipherSuites[{i}]")))
                .collect(),
            ecdh_curves: Vec::new(),
            mesh_mtls: None,
        }
    }

    /// R-T2 (Istio's `TestBuildGatewayListenerTlsContext`, "ecdh curves and
    /// cipher suites specified in mesh config with tls SIMPLE"): mesh
    /// `cipherSuites` reach Envoy as written, not through the gateway's
    /// filter, so a name Istio's server-side list lacks still counts.
    #[test]
    fn mesh_ciphers_reach_envoy_as_written() {
        let mut policy = gateway(simple(None, None, &[]));
        policy.mesh_tls = Some(mesh_config_ciphers(&[
            "ECDHE-RSA-AES128-SHA256",
            "ECDHE-RSA-AES256-GCM-SHA384",
        ]));
        let exp = only(&policy);
        assert_eq!(
            exp.params.cipher_suites,
            ["ECDHE-RSA-AES128-SHA256", "ECDHE-RSA-AES256-GCM-SHA384"]
        );
        assert!(exp.params.dropped.is_empty(), "{:?}", exp.params.dropped);
    }

    /// R-T3: a server list Istio's filter empties is no list, so the mesh
    /// list stays (`applyServerTLSSettings` sets only non-empty lists),
    /// not Envoy's default.
    #[test]
    fn an_emptied_server_list_leaves_the_mesh_ciphers() {
        let mut policy = gateway(simple(None, None, &["bogus", "TLS_RSA_WITH_RC4"]));
        policy.mesh_tls = Some(mesh_config_ciphers(&["ECDHE-RSA-AES256-GCM-SHA384"]));
        let exp = only(&policy);
        assert_eq!(exp.params.cipher_suites, ["ECDHE-RSA-AES256-GCM-SHA384"]);
        assert_eq!(exp.params.dropped.len(), 2);
        assert_eq!(
            exp.source("cipher_suites").unwrap().from,
            "meshConfig.tlsDefaults"
        );
    }

    #[test]
    fn modes_map_to_client_certificate_behaviour() {
        for (mode, want, terminates) in [
            (TlsMode::Mutual, ClientCertExpectation::Required, true),
            (
                TlsMode::OptionalMutual,
                ClientCertExpectation::Optional,
                true,
            ),
            (TlsMode::Simple, ClientCertExpectation::NotRequested, true),
            (
                TlsMode::Passthrough,
                ClientCertExpectation::NotRequested,
                false,
            ),
        ] {
            let mut tls = simple(None, None, &[]);
            tls.mode = Some(loc(mode, "mode"));
            tls.credential_name = Some(loc("cred".into(), "credentialName"));
            let exp = only(&gateway(tls));
            assert_eq!(exp.client_cert, want, "{mode}");
            assert_eq!(exp.mode.terminates(), terminates);
        }
    }

    #[test]
    fn probe_names_and_sni_matching() {
        let mut policy = gateway(simple(None, None, &[]));
        policy.gateways[0].servers[0].hosts =
            vec!["*.aliyun.com".into(), "a.test".into(), "*".into()];
        let exp = only(&policy);
        assert_eq!(exp.probe_names(), ["tlsposture-probe.aliyun.com", "a.test"]);
        assert!(exp.serves(None));
        assert!(host_matches("*.aliyun.com", "x.y.aliyun.com"));
        assert!(!host_matches("*.aliyun.com", "aliyun.com"));
        assert!(host_matches("A.test", "a.TEST."));
    }

    #[test]
    fn port_selection_falls_back_to_the_only_tls_port() {
        let exp = expectations(&gateway(simple(None, None, &[])));
        assert_eq!(for_port(&exp, 8443, None).unwrap().len(), 1);
        assert!(for_port(&exp, 8443, Some(444))
            .unwrap_err()
            .contains("--declared-port"));
    }

    #[test]
    fn plain_http_servers_expect_a_redirect_only_when_declared() {
        let mut policy = gateway(ServerTls {
            https_redirect: Some(loc(true, "spec.servers[0].tls.httpsRedirect")),
            ..ServerTls::default()
        });
        policy.gateways[0].servers[0].protocol = "HTTP".into();
        policy.gateways[0].servers[0].port = 80;
        policy.gateways[0].servers[0].hosts = vec!["ns/test.com".into(), "*.example.com".into()];
        assert!(expectations(&policy).is_empty());
        let http = expectations_http(&policy);
        assert_eq!(http.len(), 1);
        let exp = &http[0];
        assert_eq!(exp.port, 80);
        assert!(exp.https_redirect.is_some());
        assert_eq!(
            exp.request_hosts("127.0.0.1"),
            ["test.com", "tlsposture-probe.example.com"]
        );
        assert!(exp.accepts(301, Some("https://test.com/")));
        assert!(exp.accepts(308, Some("HTTPS://test.com/x")));
        assert!(!exp.accepts(200, None));
        assert!(!exp.accepts(301, Some("http://test.com/")));
        assert!(!exp.accepts(302, Some("https://test.com/")));

        policy.gateways[0].servers[0].tls = None;
        policy.gateways[0].servers[0].hosts = vec!["*".into()];
        let http = expectations_http(&policy);
        assert_eq!(http[0].https_redirect, None);
        assert_eq!(http[0].request_hosts("10.0.0.1"), ["10.0.0.1"]);
        assert!(http[0].accepts(200, None));
    }
}
