//! What Istio and Envoy really do with a declared gateway server: the one
//! place where Istio's translation rules and Envoy/BoringSSL's defaults live,
//! each with its source.
//!
//! Two steps, kept apart because the lab needs the first and the verdict the
//! second:
//! 1. [`envoy_tls_params`]: the `TlsParameters` istiod writes into Envoy's
//!    downstream TLS context for a server (Istio's `buildGatewayListenerTLSContext`,
//!    `applyDownstreamTLSDefaults`, `applyServerTLSSettings`,
//!    `FilterCipherSuites` in istio/istio `pilot/pkg/networking/core` and
//!    `pkg/config/security`).
//! 2. [`expectations`]: what a client will then observe on the wire —
//!    which versions are negotiable, which suites, groups — given BoringSSL's
//!    behaviour (TLS 1.3 suites fixed, suites need a matching certificate,
//!    TLS 1.0/1.1 need a suite that exists before TLS 1.2).

use std::collections::BTreeSet;

use serde::Serialize;

use super::model::*;
use crate::registry::{self, CipherSuite};
use crate::wire::ProtocolVersion;

/// Cipher names Istio accepts in `cipherSuites` (istio/istio
/// `pkg/config/security/security.go`, `ValidCipherSuites`: "bssl ciphers
/// -openssl-name ALL" minus PSK). Anything else that starts with a letter or
/// digit is dropped before it reaches Envoy (Envoy would NACK it). Entries
/// starting with another character (`[a|b]` groups, `-x`, `+x`, `!x`) are
/// passed through unchecked.
pub const ISTIO_VALID_CIPHERS: &[&str] = &[
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

/// Curve names MeshConfig `tlsDefaults.ecdhCurves` accepts (istio/istio
/// `ValidECDHCurves`, from BoringSSL's `ssl_key_share.cc` name table).
pub const ISTIO_VALID_CURVES: &[&str] = &[
    "P-224",
    "P-256",
    "P-384",
    "P-521",
    "X25519",
    "X25519Kyber768Draft00",
    "X25519MLKEM768",
];

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

/// The `TlsParameters` istiod hands Envoy for one server, as Envoy strings.
/// Empty / `None` fields mean "Envoy's default" exactly as in the real
/// config, so the lab can render them unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct EnvoyTlsParams {
    pub min_version: Option<ProtocolVersion>,
    pub max_version: Option<ProtocolVersion>,
    /// BoringSSL cipher strings after Istio's filter; empty = Envoy default.
    pub cipher_suites: Vec<String>,
    /// BoringSSL curve names; empty = Envoy default.
    pub ecdh_curves: Vec<String>,
    /// `require_client_certificate` (MUTUAL, ISTIO_MUTUAL).
    pub require_client_certificate: bool,
    /// A validation context is configured (MUTUAL, OPTIONAL_MUTUAL,
    /// ISTIO_MUTUAL): the server sends a CertificateRequest.
    pub request_client_certificate: bool,
    /// What Istio dropped on the way, with where it was written and why.
    pub dropped: Vec<DroppedSetting>,
}

/// A declared value that never reaches Envoy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DroppedSetting {
    pub value: String,
    pub origin: Origin,
    pub reason: String,
}

/// Istio's filter: keeps valid names once, in order (istio/istio
/// `FilterCipherSuites`). Returns (kept, dropped with reasons).
pub fn filter_istio_ciphers(declared: &[Located<String>]) -> (Vec<String>, Vec<DroppedSetting>) {
    let mut kept: Vec<String> = Vec::new();
    let mut dropped = Vec::new();
    for name in declared {
        let value = name.value.trim();
        let starts_alnum = value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        let valid = value.is_empty()
            || value == "ALL"
            || !starts_alnum
            || ISTIO_VALID_CIPHERS.contains(&value);
        if !valid {
            let hint = match registry::cipher_suite_by_name(value) {
                Some(s)
                    if s.openssl
                        .as_deref()
                        .is_some_and(|o| ISTIO_VALID_CIPHERS.contains(&o)) =>
                {
                    format!(
                        "not a name Istio accepts (it wants BoringSSL names: {})",
                        s.openssl.as_deref().unwrap_or_default()
                    )
                }
                Some(_) => "not supported by Envoy/BoringSSL".to_string(),
                None => "unknown cipher suite name".to_string(),
            };
            dropped.push(DroppedSetting {
                value: value.to_string(),
                origin: name.origin.clone(),
                reason: format!("{hint}; Istio drops it"),
            });
        } else if kept.iter().any(|k| k == value) {
            dropped.push(DroppedSetting {
                value: value.to_string(),
                origin: name.origin.clone(),
                reason: "duplicate; Istio keeps the first".into(),
            });
        } else if !value.is_empty() {
            kept.push(value.to_string());
        }
    }
    (kept, dropped)
}

/// OpenShift SMCP cipher names are Go's (`TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`);
/// maistra translates them to BoringSSL names before they reach Envoy.
fn smcp_cipher_to_boringssl(name: &str) -> String {
    match registry::cipher_suite_by_name(name.trim()) {
        Some(CipherSuite {
            openssl: Some(name),
            ..
        }) => name.clone(),
        _ => name.trim().to_string(),
    }
}

/// SMCP curve names (`CurveP256`, Go's) to BoringSSL's (`P-256`).
fn smcp_curve_to_boringssl(name: &str) -> String {
    match name.trim() {
        "CurveP256" => "P-256".into(),
        "CurveP384" => "P-384".into(),
        "CurveP521" => "P-521".into(),
        other => other.to_string(),
    }
}

/// The mesh defaults translated to Envoy names (a no-op for MeshConfig).
pub(crate) fn mesh_ciphers(mesh: &MeshTlsDefaults) -> Vec<Located<String>> {
    match mesh.source {
        MeshTlsSource::SmcpV1 | MeshTlsSource::SmcpV2 => mesh
            .cipher_suites
            .iter()
            .map(|c| Located::new(smcp_cipher_to_boringssl(&c.value), c.origin.clone()))
            .collect(),
        _ => mesh.cipher_suites.clone(),
    }
}

fn mesh_curves(mesh: &MeshTlsDefaults) -> Vec<Located<String>> {
    match mesh.source {
        MeshTlsSource::SmcpV1 | MeshTlsSource::SmcpV2 => mesh
            .ecdh_curves
            .iter()
            .map(|c| Located::new(smcp_curve_to_boringssl(&c.value), c.origin.clone()))
            .collect(),
        _ => mesh.ecdh_curves.clone(),
    }
}

/// The downstream `TlsParameters` istiod generates for `server`.
///
/// Rule order (istio/istio `buildGatewayListenerTLSContext`): for SIMPLE,
/// MUTUAL and OPTIONAL_MUTUAL, mesh `tlsDefaults` first (`ecdhCurves`,
/// `cipherSuites`, `minProtocolVersion`), then the server's own
/// `minProtocolVersion` / `maxProtocolVersion` / `cipherSuites` when set
/// (not TLS_AUTO, non-empty). Cipher names go through Istio's filter; a list
/// left empty by it means Envoy's default list. ISTIO_MUTUAL uses Istio's
/// own mesh settings (not modelled beyond Envoy's defaults).
pub fn envoy_tls_params(server: &ServerDecl, mesh: Option<&MeshTlsDefaults>) -> EnvoyTlsParams {
    let mut params = EnvoyTlsParams::default();
    let Some(tls) = &server.tls else {
        return params;
    };
    let mode = tls.mode.as_ref().map(|m| m.value);
    params.require_client_certificate =
        matches!(mode, Some(TlsMode::Mutual) | Some(TlsMode::IstioMutual));
    params.request_client_certificate = matches!(
        mode,
        Some(TlsMode::Mutual) | Some(TlsMode::IstioMutual) | Some(TlsMode::OptionalMutual)
    );
    let simple_or_mutual = matches!(
        mode,
        Some(TlsMode::Simple) | Some(TlsMode::Mutual) | Some(TlsMode::OptionalMutual)
    );
    if !simple_or_mutual {
        return params;
    }
    let mut ciphers: Vec<Located<String>> = Vec::new();
    if let Some(mesh) = mesh {
        let curves = mesh_curves(mesh);
        for curve in &curves {
            if ISTIO_VALID_CURVES.contains(&curve.value.as_str()) {
                if !params.ecdh_curves.contains(&curve.value) {
                    params.ecdh_curves.push(curve.value.clone());
                }
            } else {
                params.dropped.push(DroppedSetting {
                    value: curve.value.clone(),
                    origin: curve.origin.clone(),
                    reason: "unknown ECDH curve name; Istio drops it".into(),
                });
            }
        }
        ciphers = mesh_ciphers(mesh);
        if let Some(v) = mesh
            .min_protocol_version
            .as_ref()
            .and_then(|v| v.value.version())
        {
            params.min_version = Some(v);
        }
        if let Some(v) = mesh
            .max_protocol_version
            .as_ref()
            .and_then(|v| v.value.version())
        {
            params.max_version = Some(v);
        }
    }
    if let Some(v) = tls
        .min_protocol_version
        .as_ref()
        .and_then(|v| v.value.version())
    {
        params.min_version = Some(v);
    }
    if let Some(v) = tls
        .max_protocol_version
        .as_ref()
        .and_then(|v| v.value.version())
    {
        params.max_version = Some(v);
    }
    if !tls.cipher_suites.is_empty() {
        ciphers = tls.cipher_suites.clone();
    }
    let (kept, dropped) = filter_istio_ciphers(&ciphers);
    params.cipher_suites = kept;
    params.dropped.extend(dropped);
    params
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
