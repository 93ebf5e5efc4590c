//! `policy explain`: what Istio and Envoy make of each declared server,
//! rendered for a person (the derivation itself is `policy::effective`).

use std::fmt::Write;

use crate::policy::effective::{CertKeyTypes, ClientCertExpectation, Expectation};
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
        let _ = writeln!(out, "  client certificate: {client}");
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
