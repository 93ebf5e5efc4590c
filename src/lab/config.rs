//! The lab's listeners and the Envoy v3 bootstrap (JSON) that serves them.
//!
//! Owns [`ListenerSpec`] (one TLS listener shaped like an Istio ingress
//! gateway port: one server, or several told apart by SNI), the seed and
//! "everything offered" scenarios, and [`render_bootstrap`]. Rendering is
//! pure: it reads no files and starts nothing. A TLS parameter the spec leaves
//! unset is left out of the JSON, exactly as Istio leaves it out, so the
//! listener shows Envoy's own default — which is what a scan must observe.
//!
//! Certificates reach Envoy through file-based SDS (one secret file per
//! certificate, watched by Envoy), as Istio's gateway gets them from istiod:
//! that is what lets the lab rotate a certificate without a restart.

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use thiserror::Error;

use super::authz::{self, HttpPolicy};
use super::certs::KeyKind;
use crate::wire::ProtocolVersion;

/// The host every seed listener serves (and the SNI a scan sends).
pub const SEED_HOST: &str = "gateway.lab.test";

/// Body of the lab backend's catch-all route (any path but `/status/<code>`,
/// `/headers` and `/get`, see [`backend_routes`]), like a gateway's backend answer.
pub const RESPONSE_BODY: &str = "tlsposture lab: ok\n";

/// Which server certificates a listener presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertKinds {
    Rsa,
    Ecdsa,
    /// Both, as Envoy allows: it picks ECDSA only for clients offering P-256.
    RsaAndEcdsa,
}

impl CertKinds {
    /// The key kinds to issue, RSA first.
    pub fn key_kinds(self) -> &'static [KeyKind] {
        match self {
            CertKinds::Rsa => &[KeyKind::Rsa2048],
            CertKinds::Ecdsa => &[KeyKind::EcdsaP256],
            CertKinds::RsaAndEcdsa => &[KeyKind::Rsa2048, KeyKind::EcdsaP256],
        }
    }
}

/// Whether (and how) a seed listener asks for a client certificate,
/// verified against the lab CA. Listeners built from a policy render the
/// resolved model's validation context instead ([`ClientValidation`]) and
/// carry this only as the label of what Envoy enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ClientAuth {
    /// No CertificateRequest.
    #[default]
    None,
    /// A CertificateRequest; a client without a certificate is let in, one
    /// with a certificate the lab CA did not sign is refused.
    Optional,
    /// `require_client_certificate: true`: a client without a certificate is
    /// refused (TLS 1.2: during the handshake; TLS 1.3: alert 116
    /// `certificate_required` on the client's first read).
    Required,
}

impl ClientAuth {
    /// From a "required" and a "requested" flag.
    pub fn from_flags(require: bool, request: bool) -> Self {
        if require {
            ClientAuth::Required
        } else if request {
            ClientAuth::Optional
        } else {
            ClientAuth::None
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ClientAuth::None => "none",
            ClientAuth::Optional => "optional",
            ClientAuth::Required => "required",
        }
    }
}

/// A validation context given explicitly (the resolved model's, rendered
/// as is) instead of derived from [`ClientAuth`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ClientValidation {
    /// `require_client_certificate`.
    pub require_client_certificate: bool,
    /// `trusted_ca`: the lab CA (standing in for whatever CA the real
    /// configuration names). `false`: no CA at all.
    pub trusted_ca: bool,
    /// Exact SAN matchers (URI and DNS).
    pub san_exact: Vec<String>,
    /// `verify_certificate_spki` / `verify_certificate_hash`, verbatim.
    pub spki: Vec<String>,
    pub hash: Vec<String>,
    /// `trust_chain_verification: ACCEPT_UNTRUSTED`.
    pub accept_untrusted: bool,
}

/// A listener without TLS, like an Istio Gateway `HTTP` server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PlainHttp {
    /// Serves the lab backend ([`backend_routes`]: httpbin-like `/status/<code>`, else
    /// [`RESPONSE_BODY`]).
    Serve,
    /// `tls.httpsRedirect: true`: every request gets a 301 to the same
    /// host and path over `https` (Istio's `require_tls: ALL`).
    RedirectToHttps,
}

/// One TLS listener, shaped like an Istio Gateway `servers[]` entry in
/// `SIMPLE` mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerSpec {
    /// Unique; also the Envoy listener name.
    pub name: String,
    /// One line for humans: what this listener is meant to demonstrate.
    pub summary: String,
    /// `tls_minimum_protocol_version`; `None` leaves Envoy's default.
    pub min_version: Option<ProtocolVersion>,
    /// `tls_maximum_protocol_version`; `None` leaves Envoy's default.
    pub max_version: Option<ProtocolVersion>,
    /// OpenSSL-style names (BoringSSL's); empty leaves Envoy's default list.
    pub cipher_suites: Vec<String>,
    /// Empty leaves Envoy's default groups.
    pub ecdh_curves: Vec<String>,
    pub certificates: CertKinds,
    /// Certificate SANs; the first is the SNI to use. Empty: a `localhost`
    /// certificate and no SNI.
    pub hosts: Vec<String>,
    /// Client certificate validation against the lab CA.
    pub client_auth: ClientAuth,
    /// Istio's `subjectAltNames`: when non-empty (and `client_auth` is not
    /// `None`), a client certificate must carry one of these as a URI or DNS
    /// SAN (Envoy `match_typed_subject_alt_names`, exact match).
    pub client_san_match: Vec<String>,
    /// `Some`: render exactly this validation context (and
    /// `require_client_certificate`), ignoring `client_auth` and
    /// `client_san_match`.
    pub validation: Option<ClientValidation>,
    /// ALPN protocols; empty: `h2, http/1.1`.
    pub alpn: Vec<String>,
    /// 0 = ephemeral (what tests use, so they never collide).
    pub port: u16,
    /// Istio renders `filter_chain_match.server_names` for every TLS server
    /// whose hosts are not `*`, even alone on its port: a client sending
    /// another SNI (or none) is refused. `true` renders that form for a
    /// single server too (see [`ListenerSpec::is_multi_host`]).
    pub match_sni: bool,
    /// `Some`: no TLS at all (no certificates, the TLS fields are ignored).
    pub plaintext: Option<PlainHttp>,
    /// More Gateway servers on the same port. Empty: the single-server form
    /// above, one filter chain matching any SNI. Non-empty: Istio's
    /// multi-server form — a `tls_inspector` and one filter chain per server
    /// matched by `server_names`, the fields above being the first server
    /// (its `server_names` are [`ListenerSpec::hosts`]); a client whose SNI
    /// no chain names is refused unless one chain has no hosts (the default
    /// chain, Istio's `hosts: '*'`).
    pub extra_hosts: Vec<HostChain>,
    /// Istio's authentication and authorization filters (`jwt_authn`,
    /// `rbac`) before the router; empty: every request reaches the routes.
    pub http_policy: HttpPolicy,
}

/// One Gateway server sharing a multi-server listener's port: its own
/// hosts, certificate(s) and TLS parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostChain {
    /// `filter_chain_match.server_names` and the certificate's SANs (wildcards
    /// such as `*.lab.test` match as Envoy matches them). Empty: the default
    /// chain, with a `localhost` certificate.
    pub hosts: Vec<String>,
    pub certificates: CertKinds,
    pub min_version: Option<ProtocolVersion>,
    pub max_version: Option<ProtocolVersion>,
    pub cipher_suites: Vec<String>,
    pub ecdh_curves: Vec<String>,
    pub client_auth: ClientAuth,
    pub client_san_match: Vec<String>,
    pub validation: Option<ClientValidation>,
    pub alpn: Vec<String>,
}

impl HostChain {
    /// A server for `hosts` with an RSA certificate and Envoy's defaults;
    /// `&[]` makes the default chain.
    pub fn new(hosts: &[&str]) -> Self {
        HostChain {
            hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
            certificates: CertKinds::Rsa,
            min_version: None,
            max_version: None,
            cipher_suites: Vec::new(),
            ecdh_curves: Vec::new(),
            client_auth: ClientAuth::None,
            client_san_match: Vec::new(),
            validation: None,
            alpn: Vec::new(),
        }
    }

    /// Matches any SNI (and none) that no other chain names.
    pub fn is_default(&self) -> bool {
        self.hosts.is_empty()
    }
}

impl ListenerSpec {
    /// A listener with every TLS parameter at Envoy's default.
    pub fn new(name: &str, summary: &str) -> Self {
        ListenerSpec {
            name: name.to_owned(),
            summary: summary.to_owned(),
            min_version: None,
            max_version: None,
            cipher_suites: Vec::new(),
            ecdh_curves: Vec::new(),
            certificates: CertKinds::Rsa,
            hosts: vec![SEED_HOST.to_owned()],
            client_auth: ClientAuth::None,
            client_san_match: Vec::new(),
            validation: None,
            alpn: Vec::new(),
            port: 0,
            match_sni: false,
            plaintext: None,
            extra_hosts: Vec::new(),
            http_policy: HttpPolicy::default(),
        }
    }

    /// The SNI a client should send: the first host, if any.
    pub fn sni(&self) -> Option<&str> {
        self.hosts.first().map(String::as_str)
    }

    /// Whether Envoy gets one filter chain per server, matched by SNI
    /// (several servers, or [`ListenerSpec::match_sni`]).
    pub fn is_multi_host(&self) -> bool {
        self.plaintext.is_none() && (!self.extra_hosts.is_empty() || self.match_sni)
    }

    /// Every TLS server on this listener, the first built from the spec's
    /// own fields, then [`ListenerSpec::extra_hosts`] in order; none for a
    /// plain HTTP listener.
    pub fn chains(&self) -> Vec<HostChain> {
        if self.plaintext.is_some() {
            return Vec::new();
        }
        let first = HostChain {
            hosts: self.hosts.clone(),
            certificates: self.certificates,
            min_version: self.min_version,
            max_version: self.max_version,
            cipher_suites: self.cipher_suites.clone(),
            ecdh_curves: self.ecdh_curves.clone(),
            client_auth: self.client_auth,
            client_san_match: self.client_san_match.clone(),
            validation: self.validation.clone(),
            alpn: self.alpn.clone(),
        };
        std::iter::once(first)
            .chain(self.extra_hosts.iter().cloned())
            .collect()
    }
}

/// The scenarios of the ASM "minimum TLS version" seed, plus a legacy
/// listener that still speaks TLS 1.0 with CBC and RSA key exchange suites.
pub fn seed_listeners() -> Vec<ListenerSpec> {
    use ProtocolVersion::{Tls10, Tls12, Tls13};
    let versions = |name: &str, summary: &str, min, max| ListenerSpec {
        min_version: min,
        max_version: max,
        ..ListenerSpec::new(name, summary)
    };
    vec![
        versions(
            "min-tls12",
            "minProtocolVersion TLSV1_2, max unset: accepts TLS 1.2 and TLS 1.3",
            Some(Tls12),
            None,
        ),
        versions(
            "tls12-only",
            "minProtocolVersion = maxProtocolVersion = TLSV1_2: accepts TLS 1.2 only",
            Some(Tls12),
            Some(Tls12),
        ),
        versions(
            "tls13-only",
            "minProtocolVersion = maxProtocolVersion = TLSV1_3: accepts TLS 1.3 only",
            Some(Tls13),
            Some(Tls13),
        ),
        ListenerSpec {
            cipher_suites: LEGACY_CIPHERS.iter().map(|c| (*c).to_owned()).collect(),
            ..versions(
                "legacy-tls10",
                "minProtocolVersion TLSV1_0, maxProtocolVersion TLSV1_3, weak cipherSuites: \
                 the drift the seed warns about",
                Some(Tls10),
                Some(Tls13),
            )
        },
    ]
}

/// Hosts of the multi-host scenarios.
pub const HOST_A: &str = "a.lab.test";
pub const HOST_B: &str = "b.lab.test";

/// Scenarios for the "everything offered" scan: a restricted TLS 1.2
/// listener, RSA + ECDSA certificates, and two multi-server ports (with and
/// without a default chain).
pub fn offered_listeners() -> Vec<ListenerSpec> {
    use ProtocolVersion::Tls12;
    let multi = |name: &str, summary: &str| ListenerSpec {
        hosts: vec![HOST_A.to_owned()],
        extra_hosts: vec![HostChain::new(&[HOST_B])],
        ..ListenerSpec::new(name, summary)
    };
    let mut with_default = multi(
        "multi-host-default",
        "servers a.lab.test and b.lab.test plus hosts '*': any other SNI (or none) \
         gets the default chain's localhost certificate",
    );
    with_default.extra_hosts.push(HostChain::new(&[]));
    vec![
        ListenerSpec {
            min_version: Some(Tls12),
            max_version: Some(Tls12),
            cipher_suites: RESTRICTED_CIPHERS.iter().map(|c| (*c).to_owned()).collect(),
            ecdh_curves: vec!["P-256".to_owned()],
            ..ListenerSpec::new(
                "tls12-restricted",
                "TLS 1.2 only, three ECDHE-RSA AEAD suites, P-256 only",
            )
        },
        ListenerSpec {
            certificates: CertKinds::RsaAndEcdsa,
            ..ListenerSpec::new(
                "dual-cert",
                "RSA and ECDSA certificates, Envoy defaults: ECDSA only for clients offering it",
            )
        },
        multi(
            "multi-host",
            "servers a.lab.test and b.lab.test on one port, each its own certificate; \
             any other SNI (or none) is refused",
        ),
        with_default,
    ]
}

/// The `tls12-restricted` suites, server order.
pub const RESTRICTED_CIPHERS: &[&str] = &[
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-RSA-CHACHA20-POLY1305",
];

/// Every name here is one BoringSSL in Envoy 1.40 accepts (Envoy refuses to
/// start on an unknown name; it rejects e.g. `RC4-SHA` and `AES128-SHA256`).
/// `DES-CBC3-SHA` (SWEET32) is still accepted and negotiated when a client
/// offers it; the lab test checks that with a raw hello.
const LEGACY_CIPHERS: &[&str] = &[
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "ECDHE-ECDSA-AES128-SHA",
    "ECDHE-RSA-AES128-SHA",
    "ECDHE-ECDSA-AES256-SHA",
    "ECDHE-RSA-AES256-SHA",
    "AES128-GCM-SHA256",
    "AES256-GCM-SHA384",
    "AES128-SHA",
    "AES256-SHA",
    "DES-CBC3-SHA",
];

/// Why a set of listener specs cannot become an Envoy configuration.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("listener name must not be empty")]
    EmptyName,
    #[error("two listeners are named {0:?}")]
    DuplicateName(String),
    #[error("listeners {first:?} and {second:?} both ask for port {port}")]
    DuplicatePort {
        port: u16,
        first: String,
        second: String,
    },
    /// Envoy's TLS stack has no SSLv2/SSLv3.
    #[error("listener {listener:?}: Envoy cannot be configured for {version}")]
    UnsupportedVersion {
        listener: String,
        version: ProtocolVersion,
    },
    #[error("listener {listener:?}: minimum {min} is above maximum {max}")]
    VersionRange {
        listener: String,
        min: ProtocolVersion,
        max: ProtocolVersion,
    },
    /// Envoy joins names with `:`; a name containing one would smuggle in
    /// more. BoringSSL's equal-preference groups (`[A|B]`) are allowed.
    #[error("listener {listener:?}: {value:?} is not a single cipher or curve name")]
    BadName { listener: String, value: String },
    /// Envoy refuses two filter chains with the same match.
    #[error("listener {listener:?}: host {host:?} is served by two chains")]
    DuplicateServerName { listener: String, host: String },
    #[error("listener {0:?}: more than one default chain (a server with no hosts)")]
    TwoDefaultChains(String),
    #[error("listener {listener:?}: expected {expected} certificate(s), got {got}")]
    CertificateCount {
        listener: String,
        expected: usize,
        got: usize,
    },
}

/// Checks what Envoy would otherwise reject with a less helpful message.
///
/// # Errors
/// The first problem found, naming the listener.
pub fn validate(specs: &[ListenerSpec]) -> Result<(), ConfigError> {
    let mut names = HashSet::new();
    let mut ports: Vec<(u16, &str)> = Vec::new();
    for spec in specs {
        if spec.name.is_empty() {
            return Err(ConfigError::EmptyName);
        }
        if !names.insert(spec.name.as_str()) {
            return Err(ConfigError::DuplicateName(spec.name.clone()));
        }
        if spec.port != 0 {
            if let Some((_, first)) = ports.iter().find(|(p, _)| *p == spec.port) {
                return Err(ConfigError::DuplicatePort {
                    port: spec.port,
                    first: (*first).to_owned(),
                    second: spec.name.clone(),
                });
            }
            ports.push((spec.port, &spec.name));
        }
        let chains = spec.chains();
        for chain in &chains {
            validate_chain(&spec.name, chain)?;
        }
        if spec.is_multi_host() {
            if chains.iter().filter(|c| c.is_default()).count() > 1 {
                return Err(ConfigError::TwoDefaultChains(spec.name.clone()));
            }
            let mut seen = HashSet::new();
            for host in chains.iter().flat_map(|c| &c.hosts) {
                if !seen.insert(host.to_ascii_lowercase()) {
                    return Err(ConfigError::DuplicateServerName {
                        listener: spec.name.clone(),
                        host: host.clone(),
                    });
                }
            }
        }
    }
    Ok(())
}

fn validate_chain(listener: &str, chain: &HostChain) -> Result<(), ConfigError> {
    for version in [chain.min_version, chain.max_version].into_iter().flatten() {
        envoy_version_name(version).ok_or_else(|| ConfigError::UnsupportedVersion {
            listener: listener.to_owned(),
            version,
        })?;
    }
    if let (Some(min), Some(max)) = (chain.min_version, chain.max_version) {
        if min > max {
            return Err(ConfigError::VersionRange {
                listener: listener.to_owned(),
                min,
                max,
            });
        }
    }
    if chain.client_san_match.iter().any(String::is_empty) {
        return Err(ConfigError::BadName {
            listener: listener.to_owned(),
            value: String::new(),
        });
    }
    for value in chain.cipher_suites.iter().chain(&chain.ecdh_curves) {
        let single = !value.is_empty()
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_+.[]|".contains(c));
        if !single {
            return Err(ConfigError::BadName {
                listener: listener.to_owned(),
                value: value.clone(),
            });
        }
    }
    Ok(())
}

/// A certificate as Envoy receives it: an SDS secret `name` read from the
/// file `path` (see [`render_secret`]), which Envoy watches for a rename.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretFile {
    pub name: String,
    pub path: PathBuf,
}

/// A listener with its certificates' secret files: one list per
/// [`ListenerSpec::chains`] entry, in [`CertKinds::key_kinds`] order.
#[derive(Debug, Clone)]
pub struct ListenerFiles<'a> {
    pub spec: &'a ListenerSpec,
    pub secrets: Vec<Vec<SecretFile>>,
    /// PEM file of the CA client certificates are verified against (used by
    /// chains whose [`ClientAuth`] is not `None`).
    pub client_ca: PathBuf,
    /// Where lab-made JWKS live (`<jwt_dir>/<slug>/jwks.json`).
    pub jwt_dir: PathBuf,
}

/// The Envoy v3 bootstrap for `listeners`, every one bound on `bind`; the
/// admin interface listens on `bind` port 0 (its real port is read from
/// `--admin-address-path`).
///
/// # Errors
/// What [`validate`] finds, or secret lists that do not match the spec's
/// chains and [`CertKinds`].
pub fn render_bootstrap(
    bind: IpAddr,
    listeners: &[ListenerFiles<'_>],
) -> Result<Value, ConfigError> {
    let specs: Vec<ListenerSpec> = listeners.iter().map(|l| l.spec.clone()).collect();
    validate(&specs)?;
    let rendered = listeners
        .iter()
        .map(|l| render_listener(bind, l))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(json!({
        "node": {"id": "tlsposture-lab", "cluster": "tlsposture-lab"},
        "admin": {"address": socket_address(bind, 0)},
        "static_resources": {"listeners": rendered},
    }))
}

/// The file-based SDS response Envoy reads for secret `name`: a
/// `DiscoveryResponse` holding one `Secret` with the PEMs inline (so one
/// rename replaces certificate and key together, never a mismatched pair).
pub fn render_secret(name: &str, cert_pem: &str, key_pem: &str) -> Value {
    json!({
        "resources": [{
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
            "name": name,
            "tls_certificate": {
                "certificate_chain": {"inline_string": cert_pem},
                "private_key": {"inline_string": key_pem},
            },
        }],
    })
}

fn render_listener(bind: IpAddr, files: &ListenerFiles<'_>) -> Result<Value, ConfigError> {
    let spec = files.spec;
    let chains = spec.chains();
    let expected: usize = chains
        .iter()
        .map(|c| c.certificates.key_kinds().len())
        .sum();
    let got: usize = files.secrets.iter().map(Vec::len).sum();
    let shapes_match = files.secrets.len() == chains.len()
        && chains
            .iter()
            .zip(&files.secrets)
            .all(|(c, s)| c.certificates.key_kinds().len() == s.len());
    if !shapes_match {
        return Err(ConfigError::CertificateCount {
            listener: spec.name.clone(),
            expected,
            got,
        });
    }

    if let Some(plain) = spec.plaintext {
        return Ok(json!({
            "name": spec.name,
            "stat_prefix": listener_stat_prefix(&spec.name),
            "address": socket_address(bind, spec.port),
            "filter_chains": [{
                "filters": [http_connection_manager(
                    spec,
                    plain == PlainHttp::RedirectToHttps,
                    &files.jwt_dir,
                )],
            }],
        }));
    }

    let filter_chains: Vec<Value> = chains
        .iter()
        .zip(&files.secrets)
        .map(|(chain, secrets)| {
            let mut rendered = render_chain(spec, chain, secrets, files);
            if spec.is_multi_host() && !chain.is_default() {
                rendered["filter_chain_match"] = json!({"server_names": chain.hosts});
            }
            rendered
        })
        .collect();

    let mut listener = json!({
        "name": spec.name,
        // Envoy otherwise names listener stats after the configured address,
        // and every ephemeral-port listener is configured as `<bind>_0`: their
        // counters would be summed under one name.
        "stat_prefix": listener_stat_prefix(&spec.name),
        "address": socket_address(bind, spec.port),
        "filter_chains": filter_chains,
    });
    if spec.is_multi_host() {
        // Envoy no longer adds it on its own; without it `server_names`
        // never matches. Istio renders it for every gateway listener.
        listener["listener_filters"] = json!([{
            "name": "envoy.filters.listener.tls_inspector",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector",
            },
        }]);
    }
    Ok(listener)
}

/// The listener's stats live under `listener.<this>.`: its name, with what
/// Envoy's stat names reserve (`.`, `:`) and anything unusual as `_`.
pub fn listener_stat_prefix(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn render_chain(
    spec: &ListenerSpec,
    chain: &HostChain,
    secrets: &[SecretFile],
    files: &ListenerFiles<'_>,
) -> Value {
    let client_ca = &files.client_ca;
    let mut tls_params = serde_json::Map::new();
    if let Some(v) = chain.min_version.and_then(envoy_version_name) {
        tls_params.insert("tls_minimum_protocol_version".into(), v.into());
    }
    if let Some(v) = chain.max_version.and_then(envoy_version_name) {
        tls_params.insert("tls_maximum_protocol_version".into(), v.into());
    }
    if !chain.cipher_suites.is_empty() {
        tls_params.insert("cipher_suites".into(), json!(chain.cipher_suites));
    }
    if !chain.ecdh_curves.is_empty() {
        tls_params.insert("ecdh_curves".into(), json!(chain.ecdh_curves));
    }

    let sds: Vec<Value> = secrets
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "sds_config": {
                    // Envoy watches the file for a rename onto it (inotify
                    // IN_MOVED_TO), which is how a rotation is delivered.
                    "path_config_source": {"path": s.path.display().to_string()},
                    "resource_api_version": "V3",
                },
            })
        })
        .collect();

    let alpn: Vec<String> = if chain.alpn.is_empty() {
        // Hand-built lab listeners (no model behind them) speak both.
        vec!["h2".into(), "http/1.1".into()]
    } else {
        chain.alpn.clone()
    };
    let mut common = json!({
        "alpn_protocols": alpn,
        "tls_certificate_sds_secret_configs": sds,
    });
    if !tls_params.is_empty() {
        common["tls_params"] = Value::Object(tls_params);
    }
    let explicit = chain.validation.clone().or_else(|| {
        (chain.client_auth != ClientAuth::None).then(|| ClientValidation {
            require_client_certificate: chain.client_auth == ClientAuth::Required,
            trusted_ca: true,
            san_exact: chain.client_san_match.clone(),
            ..ClientValidation::default()
        })
    });
    let mut require = false;
    if let Some(v) = explicit {
        require = v.require_client_certificate;
        let mut validation = serde_json::Map::new();
        if v.trusted_ca {
            validation.insert(
                "trusted_ca".into(),
                json!({"filename": client_ca.display().to_string()}),
            );
        }
        if !v.san_exact.is_empty() {
            let matchers: Vec<Value> = v
                .san_exact
                .iter()
                .flat_map(|san| {
                    ["URI", "DNS"].map(|kind| json!({"san_type": kind, "matcher": {"exact": san}}))
                })
                .collect();
            validation.insert(
                "match_typed_subject_alt_names".into(),
                Value::Array(matchers),
            );
        }
        if !v.spki.is_empty() {
            validation.insert("verify_certificate_spki".into(), json!(v.spki));
        }
        if !v.hash.is_empty() {
            validation.insert("verify_certificate_hash".into(), json!(v.hash));
        }
        if v.accept_untrusted {
            validation.insert("trust_chain_verification".into(), json!("ACCEPT_UNTRUSTED"));
        }
        common["validation_context"] = Value::Object(validation);
    }

    let mut tls_context = json!({
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
        "common_tls_context": common,
    });
    if require {
        tls_context["require_client_certificate"] = json!(true);
    }
    json!({
        "transport_socket": {
            "name": "envoy.transport_sockets.tls",
            "typed_config": tls_context,
        },
        "filters": [http_connection_manager(spec, false, &files.jwt_dir)],
    })
}

/// Codes `/status/<code>` answers, as httpbin (the seeds' backend) would.
pub const STATUS_CODES: &[u16] = &[
    200, 201, 202, 204, 301, 302, 304, 400, 401, 403, 404, 405, 409, 418, 429, 500, 502, 503, 504,
];

/// httpbin's `/status/418` body.
pub const TEAPOT_BODY: &str = "\n    -=[ teapot ]=-\n\n       _...._\n     .'  _ _ `.\n    | .\"` ^ `\". _,\n    \\_;`\"---\"`|//\n      |       ;/\n      \\_     _/\n        `\"\"\"`\n";

/// The fixed JSON `/headers` and `/get` answer (Envoy cannot echo the
/// request in a direct response; the body names the lab).
pub const HEADERS_BODY: &str =
    "{\n  \"headers\": {\n    \"X-Tlsposture-Lab\": \"direct response\"\n  }\n}\n";

/// The httpbin-like backend, all direct responses: `/status/<code>` for
/// [`STATUS_CODES`] (empty bodies but 418's teapot; 3xx with a `location`),
/// `/headers` and `/get` a fixed JSON, anything else 200 [`RESPONSE_BODY`].
pub fn backend_routes() -> Vec<Value> {
    let mut routes = Vec::new();
    for &code in STATUS_CODES {
        let mut direct = json!({"status": code});
        match code {
            418 => direct["body"] = json!({"inline_string": TEAPOT_BODY}),
            204 | 304 => {}
            _ => direct["body"] = json!({"inline_string": ""}),
        }
        let mut route = json!({
            "match": {"path": format!("/status/{code}")},
            "direct_response": direct,
        });
        if code == 418 {
            route["response_headers_to_add"] = json!([{
                "header": {"key": "x-more-info", "value": "http://tools.ietf.org/html/rfc2324"},
            }]);
        }
        if let Some(kind) = match code {
            301 => Some("MOVED_PERMANENTLY"),
            302 => Some("FOUND"),
            _ => None,
        } {
            // A direct response's 3xx would point back at itself; httpbin
            // sends clients to /redirect/1.
            route = json!({
                "match": {"path": format!("/status/{code}")},
                "redirect": {"path_redirect": "/redirect/1", "response_code": kind},
            });
        }
        routes.push(route);
    }
    for path in ["/headers", "/get"] {
        routes.push(json!({
            "match": {"path": path},
            "direct_response": {"status": 200, "body": {"inline_string": HEADERS_BODY}},
            "response_headers_to_add": [{
                "header": {"key": "content-type", "value": "application/json"},
            }],
        }));
    }
    routes.push(json!({
        "match": {"prefix": "/"},
        "direct_response": {
            "status": 200,
            "body": {"inline_string": RESPONSE_BODY},
        },
    }));
    routes
}

/// The gateway's HTTP side: the spec's authn/authz filters, then every
/// request answered by [`backend_routes`], or — `require_tls`, Istio's
/// rendering of `httpsRedirect` — with a 301 to `https://` on a plain
/// connection.
fn http_connection_manager(spec: &ListenerSpec, require_tls: bool, jwt_dir: &Path) -> Value {
    let stat_prefix = spec.name.replace(|c: char| !c.is_ascii_alphanumeric(), "_");
    let mut virtual_host = json!({
        "name": "gateway",
        "domains": ["*"],
        "routes": backend_routes(),
    });
    if require_tls {
        virtual_host["require_tls"] = json!("ALL");
    }
    let mut http_filters = authz::render_filters(&spec.http_policy, jwt_dir);
    http_filters.push(json!({
        "name": "envoy.filters.http.router",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
        },
    }));
    json!({
            "name": "envoy.filters.network.http_connection_manager",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                "stat_prefix": stat_prefix,
                "codec_type": "AUTO",
                "route_config": {
                    "name": format!("{}-routes", spec.name),
                    "virtual_hosts": [virtual_host],
                },
                "http_filters": http_filters,
            },
    })
}

fn socket_address(ip: IpAddr, port: u16) -> Value {
    json!({"socket_address": {"address": ip.to_string(), "port_value": port}})
}

/// Envoy's `TlsParameters.TlsProtocol` names; `None` for what Envoy lacks.
fn envoy_version_name(version: ProtocolVersion) -> Option<&'static str> {
    match version {
        ProtocolVersion::Ssl2 | ProtocolVersion::Ssl3 => None,
        ProtocolVersion::Tls10 => Some("TLSv1_0"),
        ProtocolVersion::Tls11 => Some("TLSv1_1"),
        ProtocolVersion::Tls12 => Some("TLSv1_2"),
        ProtocolVersion::Tls13 => Some("TLSv1_3"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::path::PathBuf;

    fn files(spec: &ListenerSpec) -> ListenerFiles<'_> {
        let secrets = spec
            .chains()
            .iter()
            .enumerate()
            .map(|(i, chain)| {
                chain
                    .certificates
                    .key_kinds()
                    .iter()
                    .map(|k| SecretFile {
                        name: format!("{i}-{}", k.label()),
                        path: PathBuf::from(format!("/lab/sds/{i}-{}.json", k.label())),
                    })
                    .collect()
            })
            .collect();
        ListenerFiles {
            spec,
            secrets,
            client_ca: PathBuf::from("/lab/ca.pem"),
            jwt_dir: PathBuf::from("/lab/jwt"),
        }
    }

    fn common(spec: &ListenerSpec, chain: usize) -> Value {
        let boot = render_bootstrap(Ipv4Addr::LOCALHOST.into(), &[files(spec)]).unwrap();
        boot["static_resources"]["listeners"][0]["filter_chains"][chain]["transport_socket"]
            ["typed_config"]["common_tls_context"]
            .clone()
    }

    fn tls_params(spec: &ListenerSpec) -> Value {
        common(spec, 0)["tls_params"].clone()
    }

    #[test]
    fn seed_names_are_the_seed_scenarios() {
        let names: Vec<String> = seed_listeners().into_iter().map(|l| l.name).collect();
        assert_eq!(
            names,
            ["min-tls12", "tls12-only", "tls13-only", "legacy-tls10"]
        );
        validate(&seed_listeners()).unwrap();
    }

    #[test]
    fn unset_parameters_are_left_out() {
        let seeds = seed_listeners();
        assert_eq!(
            tls_params(&seeds[0]),
            json!({"tls_minimum_protocol_version": "TLSv1_2"})
        );
        assert_eq!(
            tls_params(&seeds[2]),
            json!({"tls_minimum_protocol_version": "TLSv1_3", "tls_maximum_protocol_version": "TLSv1_3"})
        );
        assert_eq!(tls_params(&ListenerSpec::new("d", "defaults")), Value::Null);
        assert!(tls_params(&seeds[3])["cipher_suites"].is_array());
    }

    #[test]
    fn two_certificates_and_admin_on_bind() {
        let spec = ListenerSpec {
            certificates: CertKinds::RsaAndEcdsa,
            port: 8443,
            ..ListenerSpec::new("both", "")
        };
        let boot = render_bootstrap("::1".parse().unwrap(), &[files(&spec)]).unwrap();
        let listener = &boot["static_resources"]["listeners"][0];
        assert_eq!(listener["address"]["socket_address"]["port_value"], 8443);
        assert_eq!(listener["address"]["socket_address"]["address"], "::1");
        let certs = &listener["filter_chains"][0]["transport_socket"]["typed_config"]
            ["common_tls_context"]["tls_certificate_sds_secret_configs"];
        assert_eq!(certs.as_array().unwrap().len(), 2);
        assert_eq!(
            certs[1]["sds_config"]["path_config_source"]["path"],
            "/lab/sds/0-ecdsa.json"
        );
        assert_eq!(boot["admin"]["address"]["socket_address"]["port_value"], 0);
        // The single-server form stays one chain that matches any SNI.
        assert_eq!(listener["filter_chains"].as_array().unwrap().len(), 1);
        assert_eq!(listener["stat_prefix"], "both");
        assert!(listener.get("listener_filters").is_none());
        assert!(listener["filter_chains"][0]
            .get("filter_chain_match")
            .is_none());
    }

    #[test]
    fn offered_scenarios() {
        let offered = offered_listeners();
        let names: Vec<&str> = offered.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "tls12-restricted",
                "dual-cert",
                "multi-host",
                "multi-host-default"
            ]
        );
        let mut all = seed_listeners();
        all.extend(offered.clone());
        validate(&all).unwrap();
        assert_eq!(
            tls_params(&offered[0]),
            json!({
                "tls_minimum_protocol_version": "TLSv1_2",
                "tls_maximum_protocol_version": "TLSv1_2",
                "cipher_suites": RESTRICTED_CIPHERS,
                "ecdh_curves": ["P-256"],
            })
        );
        assert_eq!(offered[2].sni(), Some(HOST_A));
    }

    #[test]
    fn multi_host_renders_one_chain_per_server() {
        let mut spec = offered_listeners().remove(3);
        spec.extra_hosts[0].min_version = Some(ProtocolVersion::Tls13);
        spec.extra_hosts[0].certificates = CertKinds::Ecdsa;
        let boot = render_bootstrap(Ipv4Addr::LOCALHOST.into(), &[files(&spec)]).unwrap();
        let listener = &boot["static_resources"]["listeners"][0];
        assert_eq!(
            listener["listener_filters"][0]["name"],
            "envoy.filters.listener.tls_inspector"
        );
        let chains = listener["filter_chains"].as_array().unwrap();
        assert_eq!(chains.len(), 3);
        assert_eq!(
            chains[0]["filter_chain_match"],
            json!({"server_names": [HOST_A]})
        );
        assert_eq!(
            chains[1]["filter_chain_match"],
            json!({"server_names": [HOST_B]})
        );
        assert!(
            chains[2].get("filter_chain_match").is_none(),
            "default chain"
        );
        assert_eq!(tls_params(&spec), Value::Null);
        assert_eq!(
            common(&spec, 1)["tls_params"],
            json!({"tls_minimum_protocol_version": "TLSv1_3"})
        );
        assert_eq!(
            common(&spec, 1)["tls_certificate_sds_secret_configs"][0]["name"],
            "1-ecdsa"
        );
    }

    #[test]
    fn client_auth_renders_istio_validation_context() {
        let typed = |spec: &ListenerSpec, chain: usize| {
            let boot = render_bootstrap(Ipv4Addr::LOCALHOST.into(), &[files(spec)]).unwrap();
            boot["static_resources"]["listeners"][0]["filter_chains"][chain]["transport_socket"]
                ["typed_config"]
                .clone()
        };
        let plain = ListenerSpec::new("none", "");
        assert!(typed(&plain, 0).get("require_client_certificate").is_none());
        assert!(typed(&plain, 0)["common_tls_context"]
            .get("validation_context")
            .is_none());

        let mutual = ListenerSpec {
            client_auth: ClientAuth::Required,
            client_san_match: vec!["spiffe://test.client".into()],
            ..ListenerSpec::new("mutual", "")
        };
        let ctx = typed(&mutual, 0);
        assert_eq!(ctx["require_client_certificate"], true);
        assert_eq!(
            ctx["common_tls_context"]["validation_context"],
            json!({
                "trusted_ca": {"filename": "/lab/ca.pem"},
                "match_typed_subject_alt_names": [
                    {"san_type": "URI", "matcher": {"exact": "spiffe://test.client"}},
                    {"san_type": "DNS", "matcher": {"exact": "spiffe://test.client"}},
                ],
            })
        );

        let mut optional = offered_listeners().remove(2);
        optional.extra_hosts[0].client_auth = ClientAuth::Optional;
        assert!(typed(&optional, 0)["common_tls_context"]
            .get("validation_context")
            .is_none());
        let ctx = typed(&optional, 1);
        assert!(ctx.get("require_client_certificate").is_none());
        assert_eq!(
            ctx["common_tls_context"]["validation_context"],
            json!({"trusted_ca": {"filename": "/lab/ca.pem"}})
        );
        assert_eq!(ClientAuth::from_flags(true, true), ClientAuth::Required);
        assert_eq!(ClientAuth::from_flags(false, true), ClientAuth::Optional);
    }

    #[test]
    fn single_server_can_match_sni_and_plain_http_has_no_tls() {
        let strict = ListenerSpec {
            match_sni: true,
            ..ListenerSpec::new("strict", "")
        };
        assert!(strict.is_multi_host());
        let boot = render_bootstrap(Ipv4Addr::LOCALHOST.into(), &[files(&strict)]).unwrap();
        let listener = &boot["static_resources"]["listeners"][0];
        assert_eq!(
            listener["filter_chains"][0]["filter_chain_match"],
            json!({"server_names": [SEED_HOST]})
        );
        assert!(listener["listener_filters"].is_array());

        for (mode, require_tls) in [
            (PlainHttp::Serve, false),
            (PlainHttp::RedirectToHttps, true),
        ] {
            let spec = ListenerSpec {
                plaintext: Some(mode),
                match_sni: true,
                ..ListenerSpec::new("http", "")
            };
            assert!(spec.chains().is_empty() && !spec.is_multi_host());
            let boot = render_bootstrap(Ipv4Addr::LOCALHOST.into(), &[files(&spec)]).unwrap();
            let chain = &boot["static_resources"]["listeners"][0]["filter_chains"][0];
            assert!(chain.get("transport_socket").is_none());
            let vhost = &chain["filters"][0]["typed_config"]["route_config"]["virtual_hosts"][0];
            assert_eq!(vhost.get("require_tls").is_some(), require_tls, "{vhost}");
        }
    }

    #[test]
    fn backend_and_filter_order() {
        use super::super::authz::{JwksSource, JwtProvider, RbacAction, RbacFilter, RbacRule};
        let routes = backend_routes();
        let find = |path: &str| {
            routes
                .iter()
                .find(|r| r["match"]["path"] == path)
                .cloned()
                .unwrap_or_else(|| panic!("no route {path}"))
        };
        assert_eq!(find("/status/418")["direct_response"]["status"], 418);
        assert!(
            find("/status/418")["direct_response"]["body"]["inline_string"]
                .as_str()
                .unwrap()
                .contains("-=[ teapot ]=-")
        );
        assert!(find("/status/204")["direct_response"].get("body").is_none());
        assert_eq!(find("/status/302")["redirect"]["response_code"], "FOUND");
        assert_eq!(routes.last().unwrap()["match"], json!({"prefix": "/"}));

        let rule = RbacRule {
            name: "r".into(),
            summary: String::new(),
            policy: json!({"permissions": [{"any": true}], "principals": [{"any": true}]}),
        };
        let mut spec = ListenerSpec::new("authz", "");
        spec.http_policy.rbac = vec![
            RbacFilter {
                action: RbacAction::Deny,
                rules: vec![rule.clone()],
                shadow_stat_prefix: "",
            },
            RbacFilter {
                action: RbacAction::Allow,
                rules: vec![],
                shadow_stat_prefix: "",
            },
        ];
        spec.http_policy.jwt_providers.push(JwtProvider {
            name: "origins-0".into(),
            issuer: "iss".into(),
            audiences: vec![],
            jwks: JwksSource::Inline("{}".into()),
            from_headers: vec![("x-jwt".into(), None)],
            from_params: vec![],
            from_cookies: vec![],
            forward: false,
            source: String::new(),
        });
        let boot = render_bootstrap(Ipv4Addr::LOCALHOST.into(), &[files(&spec)]).unwrap();
        let filters = &boot["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
            ["typed_config"]["http_filters"];
        let names: Vec<&str> = filters
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "envoy.filters.http.jwt_authn",
                "envoy.filters.http.rbac",
                "envoy.filters.http.rbac",
                "envoy.filters.http.router"
            ]
        );
        assert_eq!(filters[1]["typed_config"]["rules"]["action"], "DENY");
        assert_eq!(
            filters[2]["typed_config"]["rules"],
            json!({"action": "ALLOW", "policies": {}})
        );
        assert_eq!(
            filters[0]["typed_config"]["providers"]["origins-0"]["from_headers"],
            json!([{"name": "x-jwt"}])
        );
    }

    #[test]
    fn secret_file_is_a_discovery_response() {
        let secret = render_secret("s", "CERT", "KEY");
        let resource = &secret["resources"][0];
        assert_eq!(resource["name"], "s");
        assert_eq!(
            resource["tls_certificate"]["certificate_chain"]["inline_string"],
            "CERT"
        );
        assert!(resource["@type"]
            .as_str()
            .unwrap()
            .ends_with("tls.v3.Secret"));
    }

    #[test]
    fn rejects_what_envoy_cannot_do() {
        let mut ssl3 = ListenerSpec::new("x", "");
        ssl3.min_version = Some(ProtocolVersion::Ssl3);
        assert!(matches!(
            validate(&[ssl3]),
            Err(ConfigError::UnsupportedVersion { .. })
        ));

        let mut inverted = ListenerSpec::new("x", "");
        inverted.min_version = Some(ProtocolVersion::Tls13);
        inverted.max_version = Some(ProtocolVersion::Tls12);
        assert!(matches!(
            validate(&[inverted]),
            Err(ConfigError::VersionRange { .. })
        ));

        let mut smuggled = ListenerSpec::new("x", "");
        smuggled.cipher_suites = vec!["AES128-SHA:NULL".into()];
        assert!(matches!(
            validate(&[smuggled]),
            Err(ConfigError::BadName { .. })
        ));

        let a = ListenerSpec::new("a", "");
        assert_eq!(
            validate(&[a.clone(), a]),
            Err(ConfigError::DuplicateName("a".into()))
        );

        let p = |n: &str| ListenerSpec {
            port: 9443,
            ..ListenerSpec::new(n, "")
        };
        assert!(matches!(
            validate(&[p("a"), p("b")]),
            Err(ConfigError::DuplicatePort { port: 9443, .. })
        ));

        let mut twice = offered_listeners().remove(2);
        twice.extra_hosts.push(HostChain::new(&["A.lab.test"]));
        assert!(matches!(
            validate(&[twice]),
            Err(ConfigError::DuplicateServerName { .. })
        ));
        let mut defaults = offered_listeners().remove(3);
        defaults.extra_hosts.push(HostChain::new(&[]));
        assert!(matches!(
            validate(&[defaults]),
            Err(ConfigError::TwoDefaultChains(_))
        ));
        let mut bad_extra = offered_listeners().remove(2);
        bad_extra.extra_hosts[0].ecdh_curves = vec!["P-256:X25519".into()];
        assert!(matches!(
            validate(&[bad_extra]),
            Err(ConfigError::BadName { .. })
        ));

        let spec = ListenerSpec::new("a", "");
        let wrong = ListenerFiles {
            spec: &spec,
            secrets: vec![],
            client_ca: PathBuf::from("/lab/ca.pem"),
            jwt_dir: PathBuf::from("/lab/jwt"),
        };
        assert!(matches!(
            render_bootstrap(Ipv4Addr::LOCALHOST.into(), &[wrong]),
            Err(ConfigError::CertificateCount { .. })
        ));
    }
}
