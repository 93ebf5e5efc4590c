//! The lab's listeners and the Envoy v3 bootstrap (JSON) that serves them.
//!
//! Owns [`ListenerSpec`] (one TLS listener shaped like an Istio ingress
//! gateway server), the seed scenarios, and [`render_bootstrap`]. Rendering is
//! pure: it reads no files and starts nothing. A TLS parameter the spec leaves
//! unset is left out of the JSON, exactly as Istio leaves it out, so the
//! listener shows Envoy's own default — which is what a scan must observe.

use std::collections::HashSet;
use std::net::IpAddr;

use serde_json::{json, Value};
use thiserror::Error;

use super::certs::{CertFiles, KeyKind};
use crate::wire::ProtocolVersion;

/// The host every seed listener serves (and the SNI a scan sends).
pub const SEED_HOST: &str = "gateway.lab.test";

/// Body of the lab's direct-response route, like a gateway's backend answer.
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
    /// 0 = ephemeral (what tests use, so they never collide).
    pub port: u16,
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
            port: 0,
        }
    }

    /// The SNI a client should send: the first host, if any.
    pub fn sni(&self) -> Option<&str> {
        self.hosts.first().map(String::as_str)
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
        for version in [spec.min_version, spec.max_version].into_iter().flatten() {
            envoy_version_name(version).ok_or_else(|| ConfigError::UnsupportedVersion {
                listener: spec.name.clone(),
                version,
            })?;
        }
        if let (Some(min), Some(max)) = (spec.min_version, spec.max_version) {
            if min > max {
                return Err(ConfigError::VersionRange {
                    listener: spec.name.clone(),
                    min,
                    max,
                });
            }
        }
        for value in spec.cipher_suites.iter().chain(&spec.ecdh_curves) {
            let single = !value.is_empty()
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_+.[]|".contains(c));
            if !single {
                return Err(ConfigError::BadName {
                    listener: spec.name.clone(),
                    value: value.clone(),
                });
            }
        }
    }
    Ok(())
}

/// A listener with the certificate files issued for it, in
/// [`CertKinds::key_kinds`] order.
#[derive(Debug, Clone)]
pub struct ListenerFiles<'a> {
    pub spec: &'a ListenerSpec,
    pub certificates: Vec<CertFiles>,
}

/// The Envoy v3 bootstrap for `listeners`, every one bound on `bind`; the
/// admin interface listens on `bind` port 0 (its real port is read from
/// `--admin-address-path`).
///
/// # Errors
/// What [`validate`] finds, or a certificate count that does not match the
/// spec's [`CertKinds`].
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

fn render_listener(bind: IpAddr, files: &ListenerFiles<'_>) -> Result<Value, ConfigError> {
    let spec = files.spec;
    let expected = spec.certificates.key_kinds().len();
    if files.certificates.len() != expected {
        return Err(ConfigError::CertificateCount {
            listener: spec.name.clone(),
            expected,
            got: files.certificates.len(),
        });
    }

    let mut tls_params = serde_json::Map::new();
    if let Some(v) = spec.min_version.and_then(envoy_version_name) {
        tls_params.insert("tls_minimum_protocol_version".into(), v.into());
    }
    if let Some(v) = spec.max_version.and_then(envoy_version_name) {
        tls_params.insert("tls_maximum_protocol_version".into(), v.into());
    }
    if !spec.cipher_suites.is_empty() {
        tls_params.insert("cipher_suites".into(), json!(spec.cipher_suites));
    }
    if !spec.ecdh_curves.is_empty() {
        tls_params.insert("ecdh_curves".into(), json!(spec.ecdh_curves));
    }

    let certificates: Vec<Value> = files
        .certificates
        .iter()
        .map(|c| {
            json!({
                "certificate_chain": {"filename": c.cert.display().to_string()},
                "private_key": {"filename": c.key.display().to_string()},
            })
        })
        .collect();

    let mut common = json!({
        // Istio's gateway advertises both for HTTPS servers.
        "alpn_protocols": ["h2", "http/1.1"],
        "tls_certificates": certificates,
    });
    if !tls_params.is_empty() {
        common["tls_params"] = Value::Object(tls_params);
    }

    let stat_prefix = spec.name.replace(|c: char| !c.is_ascii_alphanumeric(), "_");
    Ok(json!({
        "name": spec.name,
        "address": socket_address(bind, spec.port),
        "filter_chains": [{
            "transport_socket": {
                "name": "envoy.transport_sockets.tls",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
                    "common_tls_context": common,
                },
            },
            "filters": [{
                "name": "envoy.filters.network.http_connection_manager",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    "stat_prefix": stat_prefix,
                    "codec_type": "AUTO",
                    "route_config": {
                        "name": format!("{}-routes", spec.name),
                        "virtual_hosts": [{
                            "name": "gateway",
                            "domains": ["*"],
                            "routes": [{
                                "match": {"prefix": "/"},
                                "direct_response": {
                                    "status": 200,
                                    "body": {"inline_string": RESPONSE_BODY},
                                },
                            }],
                        }],
                    },
                    "http_filters": [{
                        "name": "envoy.filters.http.router",
                        "typed_config": {
                            "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
                        },
                    }],
                },
            }],
        }],
    }))
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
        let certificates = spec
            .certificates
            .key_kinds()
            .iter()
            .map(|k| CertFiles {
                cert: PathBuf::from(format!("/lab/{}.pem", k.label())),
                key: PathBuf::from(format!("/lab/{}.key", k.label())),
            })
            .collect();
        ListenerFiles { spec, certificates }
    }

    fn tls_params(spec: &ListenerSpec) -> Value {
        let boot = render_bootstrap(Ipv4Addr::LOCALHOST.into(), &[files(spec)]).unwrap();
        boot["static_resources"]["listeners"][0]["filter_chains"][0]["transport_socket"]
            ["typed_config"]["common_tls_context"]["tls_params"]
            .clone()
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
            ["common_tls_context"]["tls_certificates"];
        assert_eq!(certs.as_array().unwrap().len(), 2);
        assert_eq!(boot["admin"]["address"]["socket_address"]["port_value"], 0);
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

        let spec = ListenerSpec::new("a", "");
        let wrong = ListenerFiles {
            spec: &spec,
            certificates: vec![],
        };
        assert!(matches!(
            render_bootstrap(Ipv4Addr::LOCALHOST.into(), &[wrong]),
            Err(ConfigError::CertificateCount { .. })
        ));
    }
}
