//! `tlsposture policy lint`: what is wrong with a declared policy before any
//! gateway is scanned. No network: every finding comes from the YAML and
//! from what Istio will really do with it (`effective`), so a message can
//! say "Istio drops it and Envoy never sees it" rather than only "invalid".
//!
//! Finding ids are stable (CI rules match on them); messages may improve.

use std::collections::BTreeSet;

use serde::Serialize;

use super::effective::{
    mesh_ciphers, mesh_curves, suites_in_entry, EnvoyTlsParams, ISTIO_VALID_CIPHERS,
    ISTIO_VALID_CURVES,
};
use super::envoy::tls as envoy_tls;
use super::istiod::{self, IstioVersion};
use super::model::*;
use super::parse::node::{closest, shown};
use crate::finding::Severity;
use crate::registry::{self, Strength};
use crate::wire::ProtocolVersion;

/// One problem in a declared policy, pointing at the line to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LintFinding {
    /// Stable identifier, e.g. `lint.invalid_cipher_name`.
    pub id: String,
    pub severity: Severity,
    pub origin: Origin,
    pub message: String,
    /// The YAML field to change and to what.
    pub remedy: String,
}

/// Every lint finding for `policy` by the default Istio release's rules.
pub fn lint(policy: &DeclaredPolicy) -> Vec<LintFinding> {
    lint_at(policy, IstioVersion::DEFAULT)
}

/// Every lint finding for `policy` by `version`'s rules, sorted by file,
/// line, column and id; the same declaration reached from several servers
/// is reported once.
pub fn lint_at(policy: &DeclaredPolicy, version: IstioVersion) -> Vec<LintFinding> {
    let mut out = Lints::default();
    for warning in &policy.warnings {
        out.push(
            "lint.unknown_field",
            Severity::Medium,
            &warning.origin,
            warning.message.clone(),
            match warning
                .message
                .split("did you mean `")
                .nth(1)
                .and_then(|rest| rest.split('`').next())
            {
                Some(known) => format!("rename `{}` to `{known}`", warning.origin.field),
                None => format!("remove `{}`", warning.origin.field),
            },
        );
    }
    for gateway in &policy.gateways {
        for server in &gateway.servers {
            lint_server(&mut out, server, policy.mesh_tls.as_ref(), version);
        }
    }
    if let Some(mesh) = &policy.mesh_tls {
        lint_mesh_curves(&mut out, mesh);
    }
    let resolved = istiod::resolve(policy, version);
    for dropped in &resolved.dropped {
        // HTTPS/TLS without `tls` and MUTUAL without a CA have their own
        // findings.
        if dropped.reason.contains("without tls settings")
            || dropped.reason.contains("MUTUAL TLS without a client CA")
        {
            continue;
        }
        out.push(
            "declared.server_dropped",
            Severity::Medium,
            &dropped.server,
            format!(
                "istiod drops this server (port {}, hosts {}): {}",
                dropped.port,
                dropped.hosts.join(", "),
                dropped.reason
            ),
            format!(
                "fix what the reason names in `{}`, or remove the server",
                dropped.server.field
            ),
        );
    }
    for listener in &resolved.listeners {
        let Some(reason) = envoy_tls::listener_rejected(listener) else {
            continue;
        };
        for chain in listener.chains.iter().filter(|c| c.mode.is_some()) {
            out.push(
                "declared.envoy_rejects",
                Severity::High,
                &chain.origin.origin,
                format!(
                    "Envoy refuses the whole listener on port {} this server is on, so none of \
                     its servers is served: {reason}",
                    listener.port
                ),
                "fix the setting named in the reason (see `policy explain`)".into(),
            );
        }
    }
    let mut findings = out.findings;
    findings.sort_by(|a, b| {
        (&a.origin.file, a.origin.line, a.origin.column, &a.id).cmp(&(
            &b.origin.file,
            b.origin.line,
            b.origin.column,
            &b.id,
        ))
    });
    findings
}

#[derive(Default)]
struct Lints {
    findings: Vec<LintFinding>,
    seen: BTreeSet<(String, String, usize, usize, String)>,
}

impl Lints {
    fn push(
        &mut self,
        id: &str,
        severity: Severity,
        origin: &Origin,
        message: String,
        remedy: String,
    ) {
        let key = (
            id.to_string(),
            origin.file.clone(),
            origin.line,
            origin.column,
            origin.field.clone(),
        );
        if self.seen.insert(key) {
            self.findings.push(LintFinding {
                id: id.to_string(),
                severity,
                origin: origin.clone(),
                message,
                remedy,
            });
        }
    }
}

fn version_name(v: ProtocolVersion) -> &'static str {
    v.name()
}

/// A mesh curve BoringSSL does not know reaches Envoy as written (istiod
/// only warns, R-T2), and the listener is refused.
fn lint_mesh_curves(out: &mut Lints, mesh: &MeshTlsDefaults) {
    for curve in mesh_curves(mesh) {
        if envoy_tls::curves_rejected(std::slice::from_ref(&curve.value)).is_none() {
            continue;
        }
        let hint = closest(&curve.value, ISTIO_VALID_CURVES)
            .map(|c| format!("write {c}"))
            .unwrap_or_else(|| format!("use one of {}", ISTIO_VALID_CURVES.join(", ")));
        out.push(
            "lint.invalid_curve_name",
            Severity::High,
            &curve.origin,
            format!(
                "{} is not a curve name Envoy's BoringSSL accepts; istiod passes mesh curves \
                 through as written, so Envoy refuses every listener that gets them",
                shown(&curve.value)
            ),
            format!("`{}`: {hint}", curve.origin.field),
        );
    }
}

fn lint_server(
    out: &mut Lints,
    server: &ServerDecl,
    mesh: Option<&MeshTlsDefaults>,
    version: IstioVersion,
) {
    let translated = server
        .tls
        .as_ref()
        .map(|t| istiod::servers::gateway_api_tls(t, version).unwrap_or_else(|_| t.clone()));
    let Some(tls) = &translated else {
        if matches!(server.protocol.as_str(), "HTTPS" | "TLS") {
            out.push(
                "lint.https_without_tls",
                Severity::High,
                &server.origin,
                format!(
                    "port {} is {} but the server has no `tls` block: Istio rejects the Gateway (HTTPS and TLS servers need TLS settings)",
                    server.port, server.protocol
                ),
                format!(
                    "add `{}.tls` with `mode: SIMPLE` and `credentialName: <secret>`",
                    server.origin.field
                ),
            );
        }
        return;
    };
    let mode = tls.mode.as_ref().map(|m| m.value);
    let tls_field = &tls.origin.field;

    // ValidateGateway (pkg/config/validation/validation.go) warns:
    // "tls.httpsRedirect should only be used with http servers"; istiod
    // then ignores it (TestValidateGateway "invalid https httpsRedirect").
    if let Some(redirect) = tls.https_redirect.as_ref().filter(|r| r.value) {
        if !istiod::servers::is_http(&server.protocol) {
            out.push(
                "lint.https_redirect_ignored",
                Severity::Low,
                &redirect.origin,
                format!(
                    "httpsRedirect only applies to plain HTTP servers; on this {} server Istio warns and it does nothing",
                    if server.protocol.is_empty() { "non-HTTP" } else { server.protocol.as_str() }
                ),
                format!("remove `{}` (redirect from a separate HTTP server on port 80)", redirect.origin.field),
            );
        }
    }

    if mode.is_none() {
        out.push(
            "lint.mode_unset",
            Severity::Low,
            &tls.origin,
            "`tls` has no `mode`: Istio treats it as PASSTHROUGH, so the gateway does not terminate TLS and none of its certificate or cipher settings apply".into(),
            format!("set `{tls_field}.mode: SIMPLE` (or MUTUAL) to terminate TLS, or PASSTHROUGH to say so"),
        );
    }

    lint_credentials(out, tls, mode);

    let downstream =
        mode.and_then(|m| istiod::tls::downstream_tls(m, &server.protocol, tls, mesh, version));
    let params = EnvoyTlsParams::from_tls(downstream.as_ref());
    let server_min = tls
        .min_protocol_version
        .as_ref()
        .filter(|v| v.value.version().is_some());
    let server_max = tls
        .max_protocol_version
        .as_ref()
        .filter(|v| v.value.version().is_some());
    let mesh_min = mesh.and_then(|m| m.min_protocol_version.as_ref());
    let mesh_max = mesh.and_then(|m| m.max_protocol_version.as_ref());

    if let Some(min) = params.min_version {
        if min < ProtocolVersion::Tls12 {
            if let Some(origin) = server_min.or(mesh_min).map(|v| &v.origin) {
                out.push(
                    "lint.min_below_tls12",
                    Severity::High,
                    origin,
                    format!(
                        "the minimum TLS version is {}: TLS 1.0 and 1.1 are deprecated (RFC 8996) and Envoy will accept them from clients",
                        version_name(min)
                    ),
                    format!("set `{}: TLSV1_2` (or TLSV1_3)", origin.field),
                );
            }
        }
    }
    if let (Some(min), Some(max)) = (params.min_version, params.max_version) {
        if max < min {
            if let Some(origin) = server_max.or(mesh_max).map(|v| &v.origin) {
                out.push(
                    "lint.max_below_min",
                    Severity::High,
                    origin,
                    format!(
                        "the maximum TLS version ({}) is below the minimum ({}): no version is left, and Envoy refuses every handshake",
                        version_name(max),
                        version_name(min)
                    ),
                    format!(
                        "raise `{}` to at least {} (or lower the minimum)",
                        origin.field,
                        TlsVersionSetting::Version(min).istio_name()
                    ),
                );
            }
        }
    }

    // The cipher list Istio filters: the server's own, else the mesh's.
    let declared: Vec<Located<String>> = if !tls.cipher_suites.is_empty() {
        tls.cipher_suites.clone()
    } else if let (Some(mesh), true) = (
        mesh,
        params.request_client_certificate || mode == Some(TlsMode::Simple),
    ) {
        mesh_ciphers(mesh)
    } else {
        Vec::new()
    };
    let terminating = matches!(
        mode,
        Some(TlsMode::Simple) | Some(TlsMode::Mutual) | Some(TlsMode::OptionalMutual)
    );
    if !terminating {
        return;
    }
    lint_ciphers(out, &declared, &params);
    for dropped in &params.dropped {
        if dropped.origin.field.contains("ecdhCurves") {
            out.push(
                "lint.field_ignored",
                Severity::Medium,
                &dropped.origin,
                format!("{}: {}", shown(&dropped.value), dropped.reason),
                format!(
                    "remove `{}` or target an Istio release that has it (--istio-version)",
                    dropped.origin.field
                ),
            );
        }
    }
    for curve in &tls.ecdh_curves {
        if envoy_tls::curves_rejected(std::slice::from_ref(&curve.value)).is_some()
            && !params.dropped.iter().any(|d| d.origin == curve.origin)
        {
            out.push(
                "lint.invalid_curve_name",
                Severity::High,
                &curve.origin,
                format!(
                    "{} is not a curve name Envoy's BoringSSL accepts; istiod passes it \
                     through, so Envoy refuses the listener",
                    shown(&curve.value)
                ),
                format!(
                    "`{}`: use one of {}",
                    curve.origin.field,
                    ISTIO_VALID_CURVES.join(", ")
                ),
            );
        }
    }
}

fn lint_credentials(out: &mut Lints, tls: &ServerTls, mode: Option<TlsMode>) {
    let names = tls
        .credential_name
        .iter()
        .chain(tls.credential_names.iter());
    for name in names {
        let lower = name.value.to_ascii_lowercase();
        if lower.starts_with("istio") || lower.starts_with("prometheus") {
            out.push(
                "lint.credential_name_reserved",
                Severity::High,
                &name.origin,
                format!(
                    "credentialName {:?} starts with `istio` or `prometheus`: the gateway's secret fetcher ignores such secrets, so the server gets no certificate",
                    shown(&name.value)
                ),
                format!("rename the secret and `{}` (e.g. {}-credential)", name.origin.field, shown(name.value.trim_start_matches("istio-").trim_start_matches("prometheus-"))),
            );
        }
        if lower.contains("token") {
            out.push(
                "lint.credential_name_token",
                Severity::Medium,
                &name.origin,
                format!(
                    "credentialName {:?} contains `token`: Istio's gateway secret fetcher skips secrets named like service-account tokens",
                    shown(&name.value)
                ),
                format!("rename the secret and `{}` without `token`", name.origin.field),
            );
        }
    }
    let has_credential = tls.credential_name.is_some() || !tls.credential_names.is_empty();
    let tls_field = &tls.origin.field;
    // validateTLSOptions (pkg/config/validation/validation.go): "only one
    // of credential_name, credential_names, server_certificate/private_key
    // … should be specified" is an error (TestValidateTlsOptions "simple
    // sds with client bundle but with server cert").
    let file_pair = tls.server_certificate.is_some() && tls.private_key.is_some();
    let sources = [
        tls.credential_name.is_some(),
        !tls.credential_names.is_empty(),
        file_pair,
    ];
    if sources.iter().filter(|s| **s).count() > 1 {
        out.push(
            "lint.multiple_certificate_sources",
            Severity::High,
            &tls.origin,
            "more than one certificate source is set (credentialName, credentialNames, serverCertificate/privateKey): Istio's validation rejects the Gateway".into(),
            format!("keep one of them in `{tls_field}` (credentialName is the usual one)"),
        );
    }
    // The file path (no credential) needs both halves: "SIMPLE TLS
    // requires a private key" / "… a server certificate" are errors
    // (TestValidateTlsOptions "simple no private key").
    let terminating = matches!(
        mode,
        Some(TlsMode::Simple | TlsMode::Mutual | TlsMode::OptionalMutual)
    );
    if terminating && !has_credential {
        let missing = match (&tls.server_certificate, &tls.private_key) {
            (Some(cert), None) => Some(("privateKey", &cert.origin)),
            (None, Some(key)) => Some(("serverCertificate", &key.origin)),
            _ => None,
        };
        if let Some((field, origin)) = missing {
            out.push(
                "lint.certificate_half_missing",
                Severity::High,
                origin,
                format!("the server names a certificate file pair without `{field}`: Istio's validation rejects the Gateway"),
                format!("set `{tls_field}.{field}` (or use credentialName instead of files)"),
            );
        }
    }
    match mode {
        Some(TlsMode::Mutual) | Some(TlsMode::OptionalMutual)
            if !has_credential && tls.ca_certificates.is_none() =>
        {
            out.push(
                "lint.mutual_without_ca",
                Severity::High,
                tls.mode.as_ref().map(|m| &m.origin).unwrap_or(&tls.origin),
                "MUTUAL needs a CA to verify client certificates, but there is neither a credentialName (whose secret holds ca.crt) nor caCertificates: Istio rejects the server".into(),
                format!("set `{tls_field}.credentialName` to a secret with tls.crt, tls.key and ca.crt (or set caCertificates)"),
            );
        }
        Some(TlsMode::Simple) if !has_credential && tls.server_certificate.is_none() => {
            out.push(
                "lint.simple_without_certificate",
                Severity::High,
                tls.mode.as_ref().map(|m| &m.origin).unwrap_or(&tls.origin),
                "SIMPLE needs a server certificate, but there is neither a credentialName nor serverCertificate/privateKey: Istio rejects the server".into(),
                format!("set `{tls_field}.credentialName` to the secret holding the certificate"),
            );
        }
        Some(TlsMode::IstioMutual) => {
            let set: Vec<&Located<String>> = [
                &tls.server_certificate,
                &tls.private_key,
                &tls.ca_certificates,
                &tls.credential_name,
            ]
            .into_iter()
            .flatten()
            .collect();
            for field in set {
                let last = field.origin.field.rsplit('.').next().unwrap_or_default();
                out.push(
                    "lint.istio_mutual_with_certs",
                    Severity::High,
                    &field.origin,
                    format!(
                        "ISTIO_MUTUAL uses Istio's own workload certificates; `{last}` must not be set with it, and Istio rejects the server"
                    ),
                    format!("remove `{}` (or use mode MUTUAL with your own certificates)", field.origin.field),
                );
            }
        }
        _ => {}
    }
}

fn lint_ciphers(out: &mut Lints, declared: &[Located<String>], params: &EnvoyTlsParams) {
    // Names Istio dropped, by why.
    for dropped in &params.dropped {
        if dropped.origin.field.contains("ecdhCurves") {
            continue;
        }
        if dropped.reason.starts_with("duplicate") {
            out.push(
                "lint.duplicate_cipher",
                Severity::Low,
                &dropped.origin,
                format!(
                    "{} is listed twice; Istio keeps the first and drops this one",
                    shown(&dropped.value)
                ),
                format!("remove `{}`", dropped.origin.field),
            );
            continue;
        }
        let suite = registry::cipher_suite_by_name(&dropped.value);
        if let Some(suite) = suite.filter(|s| s.min_version >= ProtocolVersion::Tls13) {
            out.push(
                "lint.tls13_ciphers_ignored",
                Severity::Low,
                &dropped.origin,
                format!(
                    "{} is a TLS 1.3 suite: TLS 1.3 suites cannot be configured in Envoy (BoringSSL fixes them), so Istio drops it and this entry does nothing",
                    suite.iana
                ),
                format!("remove `{}`", dropped.origin.field),
            );
            continue;
        }
        let field = &dropped.origin.field;
        let (fix, remedy) = match suite.and_then(|s| s.openssl.as_deref()) {
            Some(o) if ISTIO_VALID_CIPHERS.contains(&o) => {
                (format!("write {o}"), format!("set `{field}` to {o}"))
            }
            _ => match closest(&dropped.value, ISTIO_VALID_CIPHERS) {
                Some(c) => (
                    format!("did you mean {c}?"),
                    format!("set `{field}` to {c}"),
                ),
                None => (
                    format!("use one of {}", ISTIO_VALID_CIPHERS.join(", ")),
                    format!("remove `{field}` or replace it with a name Istio accepts"),
                ),
            },
        };
        let what = match suite {
            Some(s)
                if s.openssl
                    .as_deref()
                    .is_some_and(|o| ISTIO_VALID_CIPHERS.contains(&o)) =>
            {
                "is not a name Istio accepts (it wants BoringSSL/OpenSSL names)"
            }
            Some(_) => "is not supported by Envoy/BoringSSL",
            None => "is not a cipher suite name",
        };
        out.push(
            "lint.invalid_cipher_name",
            Severity::Medium,
            &dropped.origin,
            format!(
                "{} {what}; Istio drops it and Envoy never sees it — {fix}",
                shown(&dropped.value)
            ),
            remedy,
        );
    }
    let all_dropped = declared
        .iter()
        .all(|d| params.dropped.iter().any(|x| x.origin == d.origin));
    if !declared.is_empty() && all_dropped {
        let first = &declared[0].origin;
        // R-T3: an emptied server list leaves the mesh list, if any.
        let instead = if params.cipher_suites.is_empty() {
            "Envoy falls back to its default list"
        } else {
            "the mesh tlsDefaults.cipherSuites apply instead"
        };
        let list_field = first
            .field
            .rsplit_once('[')
            .map(|(f, _)| f.to_string())
            .unwrap_or_else(|| first.field.clone());
        out.push(
            "lint.all_ciphers_dropped",
            Severity::Medium,
            first,
            format!("every cipher name was dropped: {instead}, so the restriction you wrote has no effect"),
            format!("write valid names in `{list_field}` (e.g. ECDHE-RSA-AES256-GCM-SHA384)"),
        );
    }
    // Weak suites among the names that reach Envoy.
    for name in declared {
        let dropped = params.dropped.iter().any(|d| d.origin == name.origin);
        if dropped
            || !params
                .cipher_suites
                .contains(&name.value.trim().to_string())
        {
            continue;
        }
        for suite in suites_in_entry(name.value.trim()) {
            let (severity, reason) = match suite.strength() {
                Strength::AeadWithFs => continue,
                Strength::AeadWithoutFs => (
                    Severity::Medium,
                    "static RSA key exchange: no forward secrecy (a stolen key decrypts recorded traffic)",
                ),
                Strength::Cbc => (
                    Severity::Medium,
                    "CBC mode (MAC-then-encrypt, the Lucky13 and padding-oracle family)",
                ),
                _ if suite.cipher.contains("3DES") || suite.cipher.contains("DES") => (
                    Severity::High,
                    "3DES, a 64-bit block cipher (Sweet32)",
                ),
                _ => (Severity::High, "a broken or obsolete cipher"),
            };
            out.push(
                "lint.weak_cipher",
                severity,
                &name.origin,
                format!(
                    "{} ({}) is weak: {reason}",
                    shown(name.value.trim()),
                    suite.iana
                ),
                format!(
                    "remove `{}`; prefer ECDHE with AES-GCM or ChaCha20-Poly1305",
                    name.origin.field
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::load_str;

    const GW: &str = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: g\nspec:\n  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ['*']\n";

    fn ids(tls: &str) -> Vec<String> {
        let p = load_str("t.yaml", &format!("{GW}{tls}")).unwrap();
        lint(&p).into_iter().map(|f| f.id).collect()
    }

    #[test]
    fn clean_simple_server_has_no_findings() {
        assert!(
            ids("    tls: {mode: SIMPLE, credentialName: c, minProtocolVersion: TLSV1_2}\n")
                .is_empty()
        );
    }

    #[test]
    fn versions() {
        assert_eq!(
            ids("    tls: {mode: SIMPLE, credentialName: c, minProtocolVersion: TLSV1_0}\n"),
            ["lint.min_below_tls12"]
        );
        assert_eq!(
            ids("    tls: {mode: SIMPLE, credentialName: c, minProtocolVersion: TLSV1_3, maxProtocolVersion: TLSV1_2}\n"),
            ["lint.max_below_min"]
        );
    }

    #[test]
    fn ciphers() {
        let found = ids("    tls:\n      mode: SIMPLE\n      credentialName: c\n      cipherSuites: [DES-CBC3-SHA, AES128-SHA, AES128-GCM-SHA256, TLS_AES_128_GCM_SHA256, AES128-SHA]\n");
        assert_eq!(
            found,
            [
                "lint.weak_cipher",
                "lint.weak_cipher",
                "lint.weak_cipher",
                "lint.tls13_ciphers_ignored",
                "lint.duplicate_cipher"
            ]
        );
        let found = ids(
            "    tls:\n      mode: SIMPLE\n      credentialName: c\n      cipherSuites: [NOPE]\n",
        );
        assert_eq!(
            found,
            ["lint.all_ciphers_dropped", "lint.invalid_cipher_name"]
        );
    }

    #[test]
    fn modes_and_credentials() {
        assert_eq!(ids("    tls: {credentialName: c}\n"), ["lint.mode_unset"]);
        assert_eq!(ids("    tls: {mode: MUTUAL}\n"), ["lint.mutual_without_ca"]);
        assert_eq!(
            ids("    tls: {mode: SIMPLE}\n"),
            ["lint.simple_without_certificate"]
        );
        assert_eq!(
            ids("    tls: {mode: ISTIO_MUTUAL, credentialName: c}\n"),
            ["lint.istio_mutual_with_certs"]
        );
        assert_eq!(
            ids("    tls: {mode: SIMPLE, credentialName: istio-gw}\n"),
            ["lint.credential_name_reserved"]
        );
        assert_eq!(
            ids("    tls: {mode: SIMPLE, credentialName: my-token}\n"),
            ["lint.credential_name_token"]
        );
        assert_eq!(ids(""), ["lint.https_without_tls"]);
        assert_eq!(
            ids("    tls: {mode: SIMPLE, credentialName: c, serverCertificate: /c, privateKey: /k}\n"),
            ["lint.multiple_certificate_sources"]
        );
        assert_eq!(
            ids("    tls: {mode: SIMPLE, serverCertificate: /c}\n"),
            ["lint.certificate_half_missing"]
        );
        assert!(ids("    tls: {mode: SIMPLE, serverCertificate: /c, privateKey: /k}\n").is_empty());
        assert_eq!(
            ids("    tls: {mode: SIMPLE, credentialName: c, httpsRedirect: true}\n"),
            ["lint.https_redirect_ignored"]
        );
    }

    #[test]
    fn mesh_defaults_are_linted_once() {
        let text = "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata:\n  name: x\nspec:\n  meshConfig:\n    tlsDefaults:\n      ecdhCurves: [P-257]\n      cipherSuites: [ECDHE-RSA-AES128-SHA]\n---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: g\nspec:\n  servers:\n  - port: {number: 443, name: a, protocol: HTTPS}\n    tls: {mode: SIMPLE, credentialName: a}\n  - port: {number: 8443, name: b, protocol: HTTPS}\n    tls: {mode: SIMPLE, credentialName: b}\n";
        let found: Vec<String> = lint(&load_str("t.yaml", text).unwrap())
            .into_iter()
            .map(|f| f.id)
            .collect();
        // The unknown mesh curve reaches Envoy verbatim (R-T2): named once
        // where it is written, and each listener that gets it is refused.
        assert_eq!(
            found,
            [
                "lint.invalid_curve_name",
                "lint.weak_cipher",
                "declared.envoy_rejects",
                "declared.envoy_rejects"
            ]
        );
    }
}
