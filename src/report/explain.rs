//! `policy explain`: what Istio and Envoy make of each declared server,
//! rendered for a person (the derivation itself is `policy::effective`).

use std::fmt::Write;

use serde::Serialize;

use crate::policy::effective::{CertKeyTypes, ClientCertExpectation, Expectation, RuleSource};
use crate::policy::istiod::{DroppedServer, IstioVersion};
use crate::policy::Origin;
use crate::registry;
use crate::wire::ProtocolVersion;

fn suite_names(codes: &[u16]) -> String {
    if codes.is_empty() {
        return "none".into();
    }
    codes
        .iter()
        .map(|c| {
            registry::cipher_suite(*c)
                .map(|s| s.openssl.clone().unwrap_or_else(|| s.iana.clone()))
                .unwrap_or_else(|| format!("0x{c:04X}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn group_names(codes: &[u16]) -> String {
    codes
        .iter()
        .map(|c| {
            registry::named_group(*c)
                .map(|g| g.name.clone())
                .unwrap_or_else(|| format!("0x{c:04X}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One block per declared server: the effective versions, suites per
/// version, groups and client-certificate behaviour for a gateway serving
/// `certs`, then where each setting came from and what Istio dropped.
pub fn render(expectations: &[Expectation], certs: CertKeyTypes) -> String {
    render_with(IstioVersion::DEFAULT, expectations, &[], certs)
}

/// [`render`] with the Istio release the rules came from and the servers
/// istiod drops.
pub fn render_with(
    version: IstioVersion,
    expectations: &[Expectation],
    dropped: &[DroppedServer],
    certs: CertKeyTypes,
) -> String {
    let mut out = format!("Istio {version} rules\n\n");
    out.push_str(&render_servers(expectations, certs));
    for d in dropped {
        let _ = writeln!(
            out,
            "dropped: gateway {} {} port {}  hosts: {}\n  declared at {}:{}\n  {}\n",
            d.gateway,
            d.server.field.rsplit('.').next().unwrap_or(&d.server.field),
            d.port,
            d.hosts.join(", "),
            d.server.file,
            d.server.line,
            d.reason
        );
    }
    out
}

fn render_servers(expectations: &[Expectation], certs: CertKeyTypes) -> String {
    let mut out = String::new();
    let cert_label = match (certs.rsa, certs.ecdsa) {
        (true, true) => "RSA and ECDSA certificates",
        (false, true) => "an ECDSA certificate",
        _ => "an RSA certificate",
    };
    if expectations.is_empty() {
        out.push_str("no TLS server declared (no Gateway server with tls)\n");
        return out;
    }
    for exp in expectations {
        let _ = writeln!(out, "{}  hosts: {}", exp.label(), exp.hosts.join(", "));
        let _ = writeln!(out, "  declared at {}:{}", exp.server.file, exp.server.line);
        if let Some(reason) = &exp.rejected {
            let _ = writeln!(out, "  REJECTED by Envoy (the whole listener): {reason}");
        }
        if !exp.mode.terminates() {
            let _ = writeln!(
                out,
                "  {}: the gateway does not terminate TLS; the backend's TLS is what clients see",
                exp.mode
            );
            out.push('\n');
            continue;
        }
        let versions = exp.versions(certs);
        let _ = writeln!(
            out,
            "  mode {}; with {cert_label} clients can negotiate: {}",
            exp.mode,
            if versions.is_empty() {
                "nothing".to_string()
            } else {
                versions
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
        for v in versions.iter().rev() {
            let _ = writeln!(out, "    {v}: {}", suite_names(&exp.suites_at(*v, certs)));
        }
        if versions.contains(&ProtocolVersion::Tls12) {
            let _ = writeln!(out, "  groups TLS1.2: {}", group_names(&exp.groups_tls12));
        }
        if versions.contains(&ProtocolVersion::Tls13) {
            let _ = writeln!(out, "  groups TLS1.3: {}", group_names(&exp.groups_tls13));
        }
        let client = match exp.client_cert {
            ClientCertExpectation::Required => "required",
            ClientCertExpectation::Optional => "requested, optional",
            ClientCertExpectation::NotRequested => "not requested",
        };
        let untrusted = if exp.accept_untrusted {
            " (ACCEPT_UNTRUSTED: any certificate is accepted, the chain is not verified)"
        } else {
            ""
        };
        let _ = writeln!(out, "  client certificate: {client}{untrusted}");
        let _ = writeln!(out, "  ALPN: {}", exp.alpn.join(", "));
        if let Some(credential) = &exp.credential {
            let _ = writeln!(out, "  certificate from {credential}");
        }
        out.push_str("  because:\n");
        for source in &exp.sources {
            let at = source
                .origin
                .as_ref()
                .map(|o| format!(" at {}:{}", o.file, o.line))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "    {:<13} {} ({}{at})",
                source.setting, source.value, source.from
            );
        }
        for dropped in &exp.params.dropped {
            let _ = writeln!(
                out,
                "    dropped {:?} at {}:{}: {}",
                dropped.value, dropped.origin.file, dropped.origin.line, dropped.reason
            );
        }
        out.push('\n');
    }
    out
}

/// Envoy's `TlsParameters` enum spelling.
fn envoy_version(v: ProtocolVersion) -> &'static str {
    match v {
        ProtocolVersion::Tls10 => "TLSv1_0",
        ProtocolVersion::Tls11 => "TLSv1_1",
        ProtocolVersion::Tls12 => "TLSv1_2",
        ProtocolVersion::Tls13 => "TLSv1_3",
        ProtocolVersion::Ssl2 | ProtocolVersion::Ssl3 => "TLS_AUTO",
    }
}

/// istiod's `TlsParameters` as the contract spells them: each `null` when
/// istiod leaves it unset.
#[derive(Debug, Clone, Serialize)]
pub struct ParamsJson {
    pub tls_minimum_protocol_version: Option<&'static str>,
    pub tls_maximum_protocol_version: Option<&'static str>,
    pub cipher_suites: Option<Vec<String>>,
    pub ecdh_curves: Option<Vec<String>>,
}

/// One server of `policy explain --json` (docs: tools/contracts.md).
#[derive(Debug, Clone, Serialize)]
pub struct ServerJson {
    pub gateway: String,
    pub server: Origin,
    pub port: u16,
    pub hosts: Vec<String>,
    /// Istio's spelling (`SIMPLE`, `OPTIONAL_MUTUAL`, …).
    pub mode: &'static str,
    pub params: ParamsJson,
    pub client_cert: ClientCertExpectation,
    pub accept_untrusted: bool,
    pub rejected: Option<String>,
    pub alpn: Vec<String>,
    pub min_version: ProtocolVersion,
    pub max_version: ProtocolVersion,
    pub suites: Vec<u16>,
    pub groups_tls12: Vec<u16>,
    pub groups_tls13: Vec<u16>,
    pub credential: Option<String>,
    pub sources: Vec<RuleSource>,
}

/// `policy explain --json`: one object.
#[derive(Debug, Clone, Serialize)]
pub struct ExplainJson {
    pub istio_version: IstioVersion,
    pub servers: Vec<ServerJson>,
    pub dropped: Vec<DroppedServer>,
}

/// The JSON view of the expectations and what istiod dropped.
pub fn json(
    version: IstioVersion,
    expectations: &[Expectation],
    dropped: &[DroppedServer],
) -> ExplainJson {
    let servers = expectations
        .iter()
        .map(|e| {
            let p = e.istiod_params.clone().unwrap_or_default();
            ServerJson {
                gateway: e.gateway.clone(),
                server: e.server.clone(),
                port: e.port,
                hosts: e.hosts.clone(),
                mode: e.mode.as_str(),
                params: ParamsJson {
                    tls_minimum_protocol_version: p.min.map(envoy_version),
                    tls_maximum_protocol_version: p.max.map(envoy_version),
                    cipher_suites: p.cipher_suites,
                    ecdh_curves: p.ecdh_curves,
                },
                client_cert: e.client_cert,
                accept_untrusted: e.accept_untrusted,
                rejected: e.rejected.clone(),
                alpn: e.alpn.clone(),
                min_version: e.min_version,
                max_version: e.max_version,
                suites: e.suites.clone(),
                groups_tls12: e.groups_tls12.clone(),
                groups_tls13: e.groups_tls13.clone(),
                credential: e.credential.clone(),
                sources: e.sources.clone(),
            }
        })
        .collect();
    ExplainJson {
        istio_version: version,
        servers,
        dropped: dropped.to_vec(),
    }
}
