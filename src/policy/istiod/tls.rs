//! The downstream TLS context istiod writes for one gateway server: TLS
//! parameters, whether a client certificate is required, the validation
//! context and ALPN. Everything here is istiod's; what Envoy then does with
//! it is [`crate::policy::envoy::tls`].
//!
//! Sources (istio/istio @86c9f01f unless a release is named):
//! `pilot/pkg/networking/core/gateway.go` `buildGatewayListenerTLSContext`,
//! `pilot/pkg/networking/core/listener.go` `BuildListenerTLSContext`,
//! `applyDownstreamTLSDefaults`, `applyServerTLSSettings`,
//! `pkg/config/security/security.go` `FilterCipherSuites`,
//! `pilot/pkg/security/model/authentication.go` `ApplyToCommonTLSContext`,
//! `ApplyCredentialSDSToServerCommonTLSContext`; tests
//! `TestBuildGatewayListenerTlsContext` (gateway_test.go),
//! `TestApplyDownstreamTLSDefaults`, `TestBuildListenerTLSContext`
//! (listener_test.go). docs/istio-rules.md R-T1..R-T8 has the derivations.

use serde::Serialize;

use super::version::IstioVersion;
use crate::policy::model::*;
use crate::registry::{self, CipherSuite};
use crate::wire::ProtocolVersion;

/// Cipher names Istio accepts in a server's `cipherSuites`
/// (`pkg/config/security/security.go` `ValidCipherSuites`). Anything else
/// that starts with a letter or digit is dropped before it reaches Envoy;
/// entries starting with another character (`[a|b]` groups, `-x`, `+x`,
/// `!x`) pass unchecked (`IsValidCipherSuite`).
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

/// Curve names Istio's validation knows (`ValidECDHCurves`); it only warns
/// about others (`pkg/config/validation/agent/validation.go`
/// `ValidateMeshTLSDefaults`) and passes them to Envoy anyway.
pub const ISTIO_VALID_CURVES: &[&str] = &[
    "P-224",
    "P-256",
    "P-384",
    "P-521",
    "X25519",
    "X25519Kyber768Draft00",
    "X25519MLKEM768",
];

/// Envoy's `TlsParameters` as istiod writes them: each `None` when istiod
/// leaves it unset (Envoy's default applies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct TlsParams {
    pub min: Option<ProtocolVersion>,
    pub max: Option<ProtocolVersion>,
    pub cipher_suites: Option<Vec<String>>,
    pub ecdh_curves: Option<Vec<String>>,
}

/// A declared value that never reaches Envoy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DroppedSetting {
    pub value: String,
    pub origin: Origin,
    pub reason: String,
}

/// Where the client CA of a validation context comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaSource {
    /// `caCertificates` (a file on the gateway pod).
    File(String),
    /// An SDS secret: `kubernetes://<credentialName>-cacert` or
    /// `caCertCredentialName`.
    Sds(String),
    /// ISTIO_MUTUAL: the mesh root (`ROOTCA`).
    MeshRoot,
}

/// The default validation context istiod writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct ValidationContext {
    /// `None`: no trusted CA (SIMPLE + credentialName + subjectAltNames).
    pub ca: Option<CaSource>,
    /// `subjectAltNames`, each an exact SAN matcher.
    pub san_exact: Vec<String>,
    /// `verifyCertificateSpki` / `verifyCertificateHash`: only on the
    /// credentialName path.
    pub spki: Vec<String>,
    pub hash: Vec<String>,
    pub crl: Option<String>,
    /// `insecureSkipVerify` → `trust_chain_verification: ACCEPT_UNTRUSTED`.
    pub accept_untrusted: bool,
}

/// The `DownstreamTlsContext` of one terminating filter chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct DownstreamTls {
    /// `None` when istiod writes no `tls_params` at all.
    pub params: Option<TlsParams>,
    pub require_client_certificate: bool,
    pub validation: Option<ValidationContext>,
    pub alpn: Vec<String>,
    /// What Istio dropped on the way (filtered ciphers, ignored fields).
    pub dropped: Vec<DroppedSetting>,
}

/// Istio's server cipher filter: valid names once, in order
/// (`FilterCipherSuites`). Returns (kept, dropped with reasons).
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

fn is_smcp(mesh: &MeshTlsDefaults) -> bool {
    matches!(mesh.source, MeshTlsSource::SmcpV1 | MeshTlsSource::SmcpV2)
}

/// The mesh ciphers as Envoy gets them: verbatim for MeshConfig
/// (`applyDownstreamTLSDefaults`), translated for an SMCP.
pub fn mesh_ciphers(mesh: &MeshTlsDefaults) -> Vec<Located<String>> {
    if !is_smcp(mesh) {
        return mesh.cipher_suites.clone();
    }
    mesh.cipher_suites
        .iter()
        .map(|c| Located::new(smcp_cipher_to_boringssl(&c.value), c.origin.clone()))
        .collect()
}

/// The mesh curves as Envoy gets them: verbatim for MeshConfig (an
/// unknown name is not removed, R-T2), translated for an SMCP.
pub fn mesh_curves(mesh: &MeshTlsDefaults) -> Vec<Located<String>> {
    if !is_smcp(mesh) {
        return mesh.ecdh_curves.clone();
    }
    mesh.ecdh_curves
        .iter()
        .map(|c| Located::new(smcp_curve_to_boringssl(&c.value), c.origin.clone()))
        .collect()
}

/// Mesh `minProtocolVersion`: TLS_AUTO leaves it, TLSV1_3 is 1.3, anything
/// else 1.2 (`authn/utils.GetMinTLSVersion`, applied since istio/istio#58912
/// — 1.27.9, 1.28.4, 1.29.1). An SMCP's versions are maistra's and kept.
fn mesh_min(mesh: &MeshTlsDefaults) -> Option<ProtocolVersion> {
    let v = mesh.min_protocol_version.as_ref()?.value.version()?;
    if is_smcp(mesh) {
        return Some(v);
    }
    Some(if v == ProtocolVersion::Tls13 {
        ProtocolVersion::Tls13
    } else {
        ProtocolVersion::Tls12
    })
}

/// Only an SMCP has a mesh maximum; MeshConfig has none.
fn mesh_max(mesh: &MeshTlsDefaults) -> Option<ProtocolVersion> {
    if !is_smcp(mesh) {
        return None;
    }
    mesh.max_protocol_version.as_ref()?.value.version()
}

/// `TlsParameters` for a SIMPLE / MUTUAL / OPTIONAL_MUTUAL server
/// (`isSimpleOrMutual`): mesh `tlsDefaults` first, then the server
/// (R-T2, R-T3, R-T8). `None` when nothing sets a field. Server
/// `ecdhCurves` exist from 1.32 (master, istio/istio#61189); before, the
/// field is unknown to the API and dropped.
pub fn tls_params(
    tls: &ServerTls,
    mesh: Option<&MeshTlsDefaults>,
    version: IstioVersion,
    dropped: &mut Vec<DroppedSetting>,
) -> Option<TlsParams> {
    let mut p = TlsParams::default();
    if let Some(mesh) = mesh {
        let curves = mesh_curves(mesh);
        if !curves.is_empty() {
            p.ecdh_curves = Some(curves.iter().map(|c| c.value.trim().to_owned()).collect());
        }
        let ciphers = mesh_ciphers(mesh);
        if !ciphers.is_empty() {
            p.cipher_suites = Some(ciphers.iter().map(|c| c.value.trim().to_owned()).collect());
        }
        p.min = mesh_min(mesh);
        p.max = mesh_max(mesh);
    }
    if let Some(v) = tls
        .min_protocol_version
        .as_ref()
        .and_then(|v| v.value.version())
    {
        p.min = Some(v);
    }
    if !tls.ecdh_curves.is_empty() {
        if version.at_least(1, 32) {
            p.ecdh_curves = Some(
                tls.ecdh_curves
                    .iter()
                    .map(|c| c.value.trim().to_owned())
                    .collect(),
            );
        } else {
            for c in &tls.ecdh_curves {
                dropped.push(DroppedSetting {
                    value: c.value.clone(),
                    origin: c.origin.clone(),
                    reason: format!(
                        "server tls.ecdhCurves does not exist in Istio {version} (added after \
                         1.31, istio/istio#61189); the API server prunes it"
                    ),
                });
            }
        }
    }
    // Only the server list is filtered (`buildGatewayListenerTLSContext`);
    // a list the filter empties is no list, so the mesh list stays (R-T3).
    let (kept, filtered) = filter_istio_ciphers(&tls.cipher_suites);
    dropped.extend(filtered);
    if !kept.is_empty() {
        p.cipher_suites = Some(kept);
    }
    if let Some(v) = tls
        .max_protocol_version
        .as_ref()
        .and_then(|v| v.value.version())
    {
        p.max = Some(v);
    }
    (p != TlsParams::default()).then_some(p)
}

/// ALPN istiod advertises on a terminating chain (R-T5): `h2, http/1.1`,
/// and `istio-peer-exchange` first for an ISTIO_MUTUAL server terminating
/// TLS for TCP (`IsTCPServerWithTLSTermination`).
fn alpn(mode: TlsMode, protocol: &str) -> Vec<String> {
    let tcp_termination = !matches!(protocol, "HTTP" | "HTTPS" | "HTTP2" | "GRPC" | "GRPC-WEB");
    let mut out = Vec::new();
    if mode == TlsMode::IstioMutual && tcp_termination {
        out.push("istio-peer-exchange".to_owned());
    }
    out.extend(["h2".to_owned(), "http/1.1".to_owned()]);
    out
}

fn uses_credential(tls: &ServerTls) -> bool {
    tls.credential_name
        .as_ref()
        .is_some_and(|c| !c.value.is_empty())
        || !tls.credential_names.is_empty()
}

/// The first credential name (`credentialName`, else `credentialNames[0]`).
fn first_credential(tls: &ServerTls) -> Option<&str> {
    tls.credential_name
        .as_ref()
        .map(|c| c.value.as_str())
        .filter(|c| !c.is_empty())
        .or_else(|| tls.credential_names.first().map(|c| c.value.as_str()))
}

fn values(list: &[Located<String>]) -> Vec<String> {
    list.iter().map(|l| l.value.clone()).collect()
}

/// The validation context (R-T4, R-T7):
/// - ISTIO_MUTUAL: mesh root CA, SAN matchers, CRL, ACCEPT_UNTRUSTED from
///   `insecureSkipVerify`; `credentialName` ignored;
/// - credentialName path, MUTUAL / OPTIONAL_MUTUAL: CA from
///   `caCertCredentialName` or `<credentialName>-cacert`, SAN matchers,
///   SPKI and hash pins, ACCEPT_UNTRUSTED;
/// - credentialName path, SIMPLE with `subjectAltNames`: SAN matchers only,
///   no CA;
/// - file path, MUTUAL / OPTIONAL_MUTUAL: `caCertificates`, SAN matchers,
///   CRL, ACCEPT_UNTRUSTED; pins are ignored there.
fn validation(
    mode: TlsMode,
    tls: &ServerTls,
    dropped: &mut Vec<DroppedSetting>,
) -> Option<ValidationContext> {
    let validate_client = matches!(
        mode,
        TlsMode::Mutual | TlsMode::OptionalMutual | TlsMode::IstioMutual
    );
    let skip = tls.insecure_skip_verify.as_ref().is_some_and(|v| v.value);
    let crl = tls.ca_crl.as_ref().map(|c| c.value.clone());
    let sans = values(&tls.subject_alt_names);
    if mode == TlsMode::IstioMutual {
        return Some(ValidationContext {
            ca: Some(CaSource::MeshRoot),
            san_exact: sans,
            crl,
            accept_untrusted: skip,
            ..ValidationContext::default()
        });
    }
    if uses_credential(tls) {
        if validate_client {
            let ca = tls
                .ca_cert_credential_name
                .as_ref()
                .map(|c| c.value.clone())
                .or_else(|| first_credential(tls).map(|c| format!("{c}-cacert")));
            return Some(ValidationContext {
                ca: ca.map(CaSource::Sds),
                san_exact: sans,
                spki: values(&tls.verify_certificate_spki),
                hash: values(&tls.verify_certificate_hash),
                crl,
                accept_untrusted: skip,
            });
        }
        if !sans.is_empty() {
            return Some(ValidationContext {
                san_exact: sans,
                ..ValidationContext::default()
            });
        }
        return None;
    }
    if !validate_client {
        return None;
    }
    for pin in tls
        .verify_certificate_spki
        .iter()
        .chain(&tls.verify_certificate_hash)
    {
        dropped.push(DroppedSetting {
            value: pin.value.clone(),
            origin: pin.origin.clone(),
            reason: "certificate pins are honoured only with credentialName; with files \
                     (ApplyToCommonTLSContext) istiod ignores them"
                .into(),
        });
    }
    Some(ValidationContext {
        ca: tls
            .ca_certificates
            .as_ref()
            .map(|c| CaSource::File(c.value.clone())),
        san_exact: sans,
        crl,
        accept_untrusted: skip,
        ..ValidationContext::default()
    })
}

/// The context istiod builds for a terminating server (`mode` already
/// resolved); `None` for PASSTHROUGH / AUTO_PASSTHROUGH (R-T1).
pub fn downstream_tls(
    mode: TlsMode,
    protocol: &str,
    tls: &ServerTls,
    mesh: Option<&MeshTlsDefaults>,
    version: IstioVersion,
) -> Option<DownstreamTls> {
    if !mode.terminates() {
        return None;
    }
    let mut dropped = Vec::new();
    let params = if mode == TlsMode::IstioMutual {
        // Mesh tlsDefaults do not apply to ISTIO_MUTUAL (R-T8, "…with, tls
        // mode ISTIO_MUTUAL" has no TlsParams).
        None
    } else {
        tls_params(tls, mesh, version, &mut dropped)
    };
    let validation = validation(mode, tls, &mut dropped);
    Some(DownstreamTls {
        params,
        require_client_certificate: matches!(mode, TlsMode::Mutual | TlsMode::IstioMutual),
        validation,
        alpn: alpn(mode, protocol),
        dropped,
    })
}
