//! Mesh-wide TLS defaults: MeshConfig `tlsDefaults` (IstioOperator, Sail
//! `Istio`, the `istio` ConfigMap) and OpenShift `ServiceMeshControlPlane`
//! (maistra.io v1 and v2). Values are kept as written; `effective`
//! translates SMCP's Go spellings.
//!
//! The `istio` ConfigMap holds MeshConfig as a YAML string in `data.mesh`.
//! It is parsed as its own document. When it is a block scalar (`mesh: |`,
//! how Istio always writes it), lines inside it are reported as lines of
//! the file (the `mesh:` line plus the line inside the block) and columns
//! include the block's indentation, so origins point at the real place.
//! For a quoted or single-line string, every origin inside it is the
//! position of the string itself.

use super::node::{parse_stream, Ctx, Fields, Node, NodeKind};
use super::{merge_mesh, spec_of, Meta};
use crate::policy::model::*;
use crate::policy::PolicyError;

const TLS_DEFAULTS_FIELDS: &[&str] = &["minProtocolVersion", "ecdhCurves", "cipherSuites"];
const SMCP_TLS_FIELDS: &[&str] = &[
    "minProtocolVersion",
    "maxProtocolVersion",
    "cipherSuites",
    "ecdhCurves",
];
const MESH_VERSIONS: &[&str] = &["TLS_AUTO", "TLSV1_2", "TLSV1_3"];
const SMCP_VERSIONS: &[&str] = &["TLS_AUTO", "TLSv1_0", "TLSv1_1", "TLSv1_2", "TLSv1_3"];

/// Why a mesh document was read but contributed nothing.
fn nothing(what: &str) -> Option<String> {
    Some(format!("sets no {what}"))
}

/// `spec.meshConfig.tlsDefaults` of an `install.istio.io` IstioOperator.
pub(super) fn read_istio_operator(
    ctx: &mut Ctx,
    doc: &Node,
    policy: &mut DeclaredPolicy,
) -> Result<Option<String>, PolicyError> {
    let spec = spec_of(ctx, doc, &[])?;
    let mesh_config = ctx.sub(&spec, "meshConfig", &[])?;
    let authz = read_mesh_authz(ctx, &mesh_config, policy)?;
    read_tls_defaults(ctx, &mesh_config, MeshTlsSource::IstioOperator, policy).map(|found| {
        if found || authz {
            None
        } else {
            nothing("meshConfig.tlsDefaults")
        }
    })
}

/// `spec.values.meshConfig.tlsDefaults` of a Sail operator `Istio`.
pub(super) fn read_sail_istio(
    ctx: &mut Ctx,
    doc: &Node,
    policy: &mut DeclaredPolicy,
) -> Result<Option<String>, PolicyError> {
    let spec = spec_of(ctx, doc, &[])?;
    let values = ctx.sub(&spec, "values", &[])?;
    let mesh_config = ctx.sub(&values, "meshConfig", &[])?;
    let authz = read_mesh_authz(ctx, &mesh_config, policy)?;
    read_tls_defaults(ctx, &mesh_config, MeshTlsSource::IstioOperator, policy).map(|found| {
        if found || authz {
            None
        } else {
            nothing("values.meshConfig.tlsDefaults")
        }
    })
}

/// The `istio` ConfigMap (`istio-<revision>` too): `data.mesh` is MeshConfig
/// as a YAML string.
pub(super) fn read_config_map(
    ctx: &mut Ctx,
    doc: &Node,
    meta: &Meta,
    policy: &mut DeclaredPolicy,
) -> Result<Option<String>, PolicyError> {
    if meta.name != "istio" && !meta.name.starts_with("istio-") {
        return Ok(Some(format!(
            "ConfigMap {} is not Istio's mesh config (named `istio`)",
            meta.name
        )));
    }
    let top = ctx.fields(
        Some(doc),
        "",
        &[
            "apiVersion",
            "kind",
            "metadata",
            "data",
            "binaryData",
            "immutable",
        ],
    )?;
    let data = ctx.sub(&top, "data", &[])?;
    let Some((key, value)) = data.entry("mesh") else {
        return Ok(Some("ConfigMap has no data.mesh".into()));
    };
    let path = data.path_of("mesh");
    let text = ctx.string(value, &path)?;

    // Where lines of the embedded text are in the file (see module docs).
    let block = value.line > key.line
        || ctx.text.is_some_and(|t| {
            t.lines()
                .nth(key.line.saturating_sub(1))
                .and_then(|l| l.split_once("mesh:"))
                .is_some_and(|(_, rest)| {
                    let rest = rest.trim_start();
                    rest.starts_with('|') || rest.starts_with('>')
                })
        });
    let indent = ctx
        .text
        .and_then(|t| t.lines().nth(key.line))
        .map(|l| l.len() - l.trim_start().len())
        .unwrap_or(0);
    let inner_docs = match parse_stream(ctx.file, &text) {
        Ok(docs) => docs,
        Err(PolicyError::Yaml {
            mut origin,
            message,
        }) => {
            if block {
                origin.line += key.line;
                origin.column += indent;
            } else {
                origin.line = value.line;
                origin.column = value.column;
            }
            origin.field = format!("{}{path}", ctx.path_prefix);
            return Err(PolicyError::Yaml { origin, message });
        }
        Err(other) => return Err(other),
    };
    let Some(inner) = inner_docs.first() else {
        return Ok(Some("data.mesh is empty".into()));
    };
    let inner = if block {
        inner.clone()
    } else {
        flatten_positions(inner.clone(), value.line, value.column)
    };
    let mut embedded = Ctx {
        file: ctx.file,
        text: None,
        line_offset: if block { key.line } else { 0 },
        column_offset: if block { indent } else { 0 },
        path_prefix: format!("{}{path}:", ctx.path_prefix),
        warnings: Vec::new(),
    };
    let mesh_config = embedded.fields(Some(&inner), "", &[])?;
    let authz = read_mesh_authz(&mut embedded, &mesh_config, policy);
    let found = read_tls_defaults(
        &mut embedded,
        &mesh_config,
        MeshTlsSource::ConfigMap,
        policy,
    );
    ctx.warnings.append(&mut embedded.warnings);
    let authz = authz?;
    found.map(|found| {
        if found || authz {
            None
        } else {
            nothing("tlsDefaults in data.mesh")
        }
    })
}

/// Gives every node of an embedded single-line string the string's position.
fn flatten_positions(mut node: Node, line: usize, column: usize) -> Node {
    node.line = line;
    node.column = column;
    node.kind = match node.kind {
        NodeKind::Seq(items) => NodeKind::Seq(
            items
                .into_iter()
                .map(|n| flatten_positions(n, line, column))
                .collect(),
        ),
        NodeKind::Map(entries) => NodeKind::Map(
            entries
                .into_iter()
                .map(|(k, v)| {
                    (
                        flatten_positions(k, line, column),
                        flatten_positions(v, line, column),
                    )
                })
                .collect(),
        ),
        other => other,
    };
    node
}

/// Reads `trustDomain`, `trustDomainAliases` and `extensionProviders`
/// under a MeshConfig mapping; `false` when none is written. Each provider
/// is checked as istiod's authorization builder checks it before building
/// an `ext_authz` filter (istio/istio @86c9f01 `pilot/pkg/security/authz/
/// builder/extauthz.go` `processExtensionProvider`, `validateProviderName`,
/// `parsePort`, `parseStatusOnError`, `buildExtAuthzHTTP`): a problem makes
/// istiod deny what the CUSTOM policy names. Whether the provider's
/// `service` exists (`model.LookupCluster`) is not known here.
fn read_mesh_authz(
    ctx: &mut Ctx,
    mesh_config: &Fields,
    policy: &mut DeclaredPolicy,
) -> Result<bool, PolicyError> {
    let td = ctx.opt_string(mesh_config, "trustDomain")?;
    let aliases_given = mesh_config.get("trustDomainAliases").is_some();
    let aliases = ctx.list(mesh_config, "trustDomainAliases", false)?;
    let providers_entry = mesh_config.entry("extensionProviders");
    if td.is_none() && !aliases_given && providers_entry.is_none() {
        return Ok(false);
    }
    let providers = match providers_entry {
        None => None,
        Some(_) => {
            let mut out: Vec<ExtensionProvider> = Vec::new();
            for (i, (node, path)) in ctx
                .items(mesh_config, "extensionProviders")?
                .into_iter()
                .enumerate()
            {
                let f = ctx.fields(Some(node), &path, &[])?;
                let name = ctx.opt_string(&f, "name")?.unwrap_or_default();
                let mut problems = Vec::new();
                if name.is_empty() {
                    problems.push(format!("extensionProviders[{i}] has no name"));
                } else {
                    if out.iter().any(|p| p.name == name) {
                        problems.push(format!("provider name {name:?} is not unique"));
                    }
                    if let Some(why) = provider_name_problem(&name) {
                        problems.push(format!("invalid provider name {name:?}: {why}"));
                    }
                }
                let (kind, key) = if f.get("envoyExtAuthzHttp").is_some() {
                    (ExtensionProviderKind::ExtAuthzHttp, "envoyExtAuthzHttp")
                } else if f.get("envoyExtAuthzGrpc").is_some() {
                    (ExtensionProviderKind::ExtAuthzGrpc, "envoyExtAuthzGrpc")
                } else {
                    (ExtensionProviderKind::Other, "")
                };
                if kind != ExtensionProviderKind::Other {
                    let c = ctx.sub(&f, key, &[])?;
                    let port = match c.get("port") {
                        Some(n) => ctx.scalar_text(n, &c.path_of("port"))?,
                        None => "0".to_owned(),
                    };
                    if !port.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p)) {
                        problems.push(format!(
                            "port must be in the range [1, 65535], found: {port}"
                        ));
                    }
                    if let Some(n) = c.get("statusOnError") {
                        let st = ctx.scalar_text(n, &c.path_of("statusOnError"))?;
                        if !st.is_empty() && !envoy_status_code(&st) {
                            problems.push(format!("unsupported statusOnError {st}"));
                        }
                    }
                    if kind == ExtensionProviderKind::ExtAuthzHttp {
                        let prefix = ctx.opt_string(&c, "pathPrefix")?.unwrap_or_default();
                        if !prefix.is_empty() && !prefix.starts_with('/') {
                            problems
                                .push(format!("pathPrefix must begin with `/`, found: {prefix:?}"));
                        }
                        for field in [
                            "includeRequestHeadersInCheck",
                            "includeHeadersInCheck",
                            "headersToDownstreamOnDeny",
                            "headersToDownstreamOnAllow",
                            "headersToUpstreamOnAllow",
                        ] {
                            if ctx.list(&c, field, true)?.iter().any(|v| v == "*") {
                                problems.push(format!(
                                    "a single wildcard (\"*\") is not supported: {field}"
                                ));
                            }
                        }
                    }
                }
                out.push(ExtensionProvider {
                    name,
                    origin: ctx.origin(node, &path),
                    kind,
                    problems,
                });
            }
            Some(out)
        }
    };
    let origin = match mesh_config.entries().first() {
        Some((k, _)) => ctx.origin(k, &mesh_config.path),
        None => Origin::default(),
    };
    let later = MeshAuthz {
        origin,
        trust_domain: td,
        trust_domain_aliases: aliases,
        extension_providers: providers,
    };
    merge_mesh_authz(&mut policy.mesh_authz, later);
    Ok(true)
}

/// Later MeshConfig wins field by field (aliases: when it lists any).
pub(super) fn merge_mesh_authz(into: &mut Option<MeshAuthz>, later: MeshAuthz) {
    let earlier = into.take().unwrap_or_default();
    *into = Some(MeshAuthz {
        origin: later.origin,
        trust_domain: later.trust_domain.or(earlier.trust_domain),
        trust_domain_aliases: if later.trust_domain_aliases.is_empty() {
            earlier.trust_domain_aliases
        } else {
            later.trust_domain_aliases
        },
        extension_providers: later.extension_providers.or(earlier.extension_providers),
    });
}

/// `validateProviderName`: a DNS-1123 label of at most 63 characters.
fn provider_name_problem(name: &str) -> Option<String> {
    if name.len() > 63 {
        return Some(format!("too long (max 63 characters): {}", name.len()));
    }
    if let Some((i, c)) = name
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!("invalid character {c:?} at position {i}"));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Some("cannot start or end with a hyphen".to_owned());
    }
    None
}

/// Whether `s` is one of Envoy's `type.v3.StatusCode` values
/// (`parseStatusOnError` looks it up in `StatusCode_name`; the list is
/// envoyproxy/envoy `api/envoy/type/v3/http_status.proto`).
fn envoy_status_code(s: &str) -> bool {
    const CODES: &[u32] = &[
        0, 100, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305,
        307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415,
        416, 417, 421, 422, 423, 424, 426, 428, 429, 431, 500, 501, 502, 503, 504, 505, 506, 507,
        508, 510, 511,
    ];
    s.parse::<u32>().is_ok_and(|c| CODES.contains(&c))
}

/// Reads `tlsDefaults` under a MeshConfig mapping; `false` when absent.
fn read_tls_defaults(
    ctx: &mut Ctx,
    mesh_config: &Fields,
    source: MeshTlsSource,
    policy: &mut DeclaredPolicy,
) -> Result<bool, PolicyError> {
    let Some((key, _)) = mesh_config.entry("tlsDefaults") else {
        return Ok(false);
    };
    let tls = ctx.sub(mesh_config, "tlsDefaults", TLS_DEFAULTS_FIELDS)?;
    let defaults = MeshTlsDefaults {
        source,
        origin: ctx.origin(key, &tls.path),
        min_protocol_version: ctx.located_enum(
            &tls,
            "minProtocolVersion",
            |t| {
                // MeshConfig's TLSProtocol enum has no TLS 1.0/1.1.
                TlsVersionSetting::parse(t).filter(|_| {
                    MESH_VERSIONS
                        .iter()
                        .any(|v| v.eq_ignore_ascii_case(t.trim()))
                })
            },
            MESH_VERSIONS,
        )?,
        max_protocol_version: None,
        cipher_suites: ctx.located_list(&tls, "cipherSuites")?,
        ecdh_curves: ctx.located_list(&tls, "ecdhCurves")?,
        mesh_mtls: None,
    };
    merge_mesh(&mut policy.mesh_tls, defaults);
    Ok(true)
}

/// OpenShift `ServiceMeshControlPlane`: maistra.io/v1 `spec.istio.global.tls`
/// and `.mtls.enabled`; maistra.io/v2 `spec.security.controlPlane.tls` and
/// `spec.security.dataPlane.mtls`.
pub(super) fn read_smcp(
    ctx: &mut Ctx,
    doc: &Node,
    meta: &Meta,
    policy: &mut DeclaredPolicy,
) -> Result<Option<String>, PolicyError> {
    let spec = spec_of(ctx, doc, &[])?;
    let (source, tls_parent, mtls) = if meta.api_version == "maistra.io/v1" {
        let istio = ctx.sub(&spec, "istio", &[])?;
        let global = ctx.sub(&istio, "global", &[])?;
        let mtls = ctx.sub(&global, "mtls", &[])?;
        let enabled = ctx.located_bool(&mtls, "enabled")?;
        (MeshTlsSource::SmcpV1, global, enabled)
    } else {
        let security = ctx.sub(&spec, "security", &[])?;
        let control_plane = ctx.sub(&security, "controlPlane", &[])?;
        let data_plane = ctx.sub(&security, "dataPlane", &[])?;
        let mtls = ctx.located_bool(&data_plane, "mtls")?;
        (MeshTlsSource::SmcpV2, control_plane, mtls)
    };
    let tls_key = tls_parent.entry("tls").map(|(k, _)| k);
    if tls_key.is_none() && mtls.is_none() {
        let at = if source == MeshTlsSource::SmcpV1 {
            "spec.istio.global.tls or .mtls"
        } else {
            "spec.security.controlPlane.tls or dataPlane.mtls"
        };
        return Ok(nothing(at));
    }
    let tls = ctx.sub(&tls_parent, "tls", SMCP_TLS_FIELDS)?;
    let origin = match tls_key {
        Some(k) => ctx.origin(k, &tls.path),
        None => meta.origin.clone(),
    };
    let defaults = MeshTlsDefaults {
        source,
        origin,
        min_protocol_version: ctx.located_enum(
            &tls,
            "minProtocolVersion",
            TlsVersionSetting::parse,
            SMCP_VERSIONS,
        )?,
        max_protocol_version: ctx.located_enum(
            &tls,
            "maxProtocolVersion",
            TlsVersionSetting::parse,
            SMCP_VERSIONS,
        )?,
        cipher_suites: ctx.list_or_csv(&tls, "cipherSuites")?,
        ecdh_curves: ctx.list_or_csv(&tls, "ecdhCurves")?,
        mesh_mtls: mtls,
    };
    merge_mesh(&mut policy.mesh_tls, defaults);
    Ok(None)
}

#[cfg(test)]
mod tests {
    use crate::policy::model::ExtensionProviderKind;

    fn load(text: &str) -> crate::policy::model::DeclaredPolicy {
        super::super::load_str("t.yaml", text).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The ConfigMap form (`data.mesh`) and field-by-field merging with a
    /// later IstioOperator; providers checked as `extauthz.go` does, with
    /// builder_test.go's `meshConfigInvalid` as the bad one.
    #[test]
    fn trust_domains_and_extension_providers() {
        let p = load(concat!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio\ndata:\n  mesh: |\n",
            "    trustDomain: td1\n    trustDomainAliases: [cluster.local, old]\n",
            "    extensionProviders:\n",
            "    - name: good\n      envoyExtAuthzGrpc: {service: a/b.a.svc.cluster.local, port: 9000}\n",
            "    - name: default\n      envoyExtAuthzHttp: {service: foo/my-custom-ext-authz, ",
            "port: 999999, pathPrefix: check, statusOnError: '999'}\n",
            "    - name: Bad_Name\n      envoyExtAuthzHttp: {service: x, port: 80}\n",
            "    - name: tracer\n      zipkin: {service: z, port: 9411}\n",
            "---\napiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\n",
            "metadata: {name: i}\nspec:\n  meshConfig:\n    trustDomain: td2\n",
        ));
        let m = p.mesh_authz.unwrap();
        assert_eq!(m.trust_domain.as_deref(), Some("td2"));
        assert_eq!(m.trust_domain_aliases, ["cluster.local", "old"]);
        let providers = m.extension_providers.unwrap();
        let kinds: Vec<_> = providers
            .iter()
            .map(|p| (p.name.as_str(), p.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                ("good", ExtensionProviderKind::ExtAuthzGrpc),
                ("default", ExtensionProviderKind::ExtAuthzHttp),
                ("Bad_Name", ExtensionProviderKind::ExtAuthzHttp),
                ("tracer", ExtensionProviderKind::Other),
            ]
        );
        assert!(providers[0].problems.is_empty(), "{:?}", providers[0]);
        assert_eq!(
            providers[1].problems.len(),
            3,
            "{:?}",
            providers[1].problems
        );
        assert!(providers[2].problems[0].contains("invalid provider name"));
        // The documents are used, not skipped as "sets no tlsDefaults".
        assert!(
            p.documents.iter().all(|d| d.skipped.is_none()),
            "{:?}",
            p.documents
        );
    }
}
