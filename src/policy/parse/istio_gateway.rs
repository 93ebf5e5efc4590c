//! `networking.istio.io` `Gateway` (v1alpha3, v1beta1, v1): servers and
//! their `ServerTLSSettings`.

use super::node::{Ctx, Node};
use super::{spec_of, Meta};
use crate::policy::model::*;
use crate::policy::PolicyError;

const SPEC_FIELDS: &[&str] = &["selector", "servers"];
const SERVER_FIELDS: &[&str] = &["port", "bind", "hosts", "tls", "defaultEndpoint", "name"];
const PORT_FIELDS: &[&str] = &["number", "protocol", "name", "targetPort"];
const TLS_FIELDS: &[&str] = &[
    "httpsRedirect",
    "mode",
    "serverCertificate",
    "privateKey",
    "caCertificates",
    "caCrl",
    "credentialName",
    "credentialNames",
    "caCertCredentialName",
    "tlsCertificates",
    "subjectAltNames",
    "verifyCertificateSpki",
    "verifyCertificateHash",
    "minProtocolVersion",
    "maxProtocolVersion",
    "cipherSuites",
    "ecdhCurves",
    "insecureSkipVerify",
];

pub(crate) const TLS_MODES: &[&str] = &[
    "PASSTHROUGH",
    "SIMPLE",
    "MUTUAL",
    "AUTO_PASSTHROUGH",
    "ISTIO_MUTUAL",
    "OPTIONAL_MUTUAL",
];

pub(crate) const TLS_VERSIONS: &[&str] = &["TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3"];

pub(super) fn read(
    ctx: &mut Ctx,
    doc: &Node,
    meta: &Meta,
    policy: &mut DeclaredPolicy,
) -> Result<(), PolicyError> {
    let spec = spec_of(ctx, doc, SPEC_FIELDS)?;
    let selector = ctx.string_map(&spec, "selector")?;
    let mut servers = Vec::new();
    for (node, path) in ctx.items(&spec, "servers")? {
        servers.push(read_server(ctx, node, &path)?);
    }
    policy.gateways.push(GatewayDecl {
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        api_version: meta.api_version.clone(),
        flavor: GatewayFlavor::Istio,
        selector,
        origin: meta.origin.clone(),
        servers,
    });
    Ok(())
}

fn read_server(ctx: &mut Ctx, node: &Node, path: &str) -> Result<ServerDecl, PolicyError> {
    let server = ctx.fields(Some(node), path, SERVER_FIELDS)?;
    let Some((port_key, _)) = server.entry("port") else {
        return Err(ctx.invalid(node, path, "server has no `port`; Istio rejects it"));
    };
    let port = ctx.sub(&server, "port", PORT_FIELDS)?;
    let number = port.get("number").ok_or_else(|| {
        ctx.invalid(
            port_key,
            &port.path,
            "server port has no `number`; Istio rejects it",
        )
    })?;
    let number = ctx.port(number, &port.path_of("number"))?;
    let protocol = ctx
        .opt_string(&port, "protocol")?
        .unwrap_or_default()
        .to_ascii_uppercase();
    let port_name = ctx.opt_string(&port, "name")?;
    let hosts = ctx
        .located_list(&server, "hosts")?
        .into_iter()
        .map(|h| h.value)
        .collect();
    let bind = ctx.opt_string(&server, "bind")?.filter(|b| !b.is_empty());
    let tls = match server.entry("tls") {
        Some((key, _)) => Some(read_tls(ctx, &server, key)?),
        None => None,
    };
    Ok(ServerDecl {
        port: number,
        port_name,
        protocol,
        bind,
        hosts,
        tls,
        origin: ctx.origin(node, path),
    })
}

fn read_tls(
    ctx: &mut Ctx,
    server: &super::node::Fields,
    key: &Node,
) -> Result<ServerTls, PolicyError> {
    let tls = ctx.sub(server, "tls", TLS_FIELDS)?;
    Ok(ServerTls {
        mode: ctx.located_enum(&tls, "mode", TlsMode::parse, TLS_MODES)?,
        https_redirect: ctx.located_bool(&tls, "httpsRedirect")?,
        credential_name: ctx.located_string(&tls, "credentialName")?,
        credential_names: ctx.located_list(&tls, "credentialNames")?,
        server_certificate: ctx.located_string(&tls, "serverCertificate")?,
        private_key: ctx.located_string(&tls, "privateKey")?,
        ca_certificates: ctx.located_string(&tls, "caCertificates")?,
        ca_crl: ctx.located_string(&tls, "caCrl")?,
        subject_alt_names: ctx.located_list(&tls, "subjectAltNames")?,
        verify_certificate_spki: ctx.located_list(&tls, "verifyCertificateSpki")?,
        verify_certificate_hash: ctx.located_list(&tls, "verifyCertificateHash")?,
        min_protocol_version: ctx.located_enum(
            &tls,
            "minProtocolVersion",
            TlsVersionSetting::parse,
            TLS_VERSIONS,
        )?,
        max_protocol_version: ctx.located_enum(
            &tls,
            "maxProtocolVersion",
            TlsVersionSetting::parse,
            TLS_VERSIONS,
        )?,
        cipher_suites: ctx.located_list(&tls, "cipherSuites")?,
        ecdh_curves: ctx.located_list(&tls, "ecdhCurves")?,
        insecure_skip_verify: ctx.located_bool(&tls, "insecureSkipVerify")?,
        ca_cert_credential_name: ctx.located_string(&tls, "caCertCredentialName")?,
        gateway_api: None,
        origin: ctx.origin(key, &tls.path),
    })
}
