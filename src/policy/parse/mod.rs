//! Reading Kubernetes YAML into a [`DeclaredPolicy`].
//!
//! Each file is parsed into span-carrying documents (`node`), then each
//! document is dispatched on `apiVersion`/`kind` to a small reader per kind.
//! Kinds tlsposture does not use are recorded as skipped, never errors; a
//! value Istio would reject is an error naming file, line, column and field.

mod gateway_api;
mod istio_gateway;
mod mesh;
pub(crate) mod node;
mod security;
mod virtual_service;

use std::collections::BTreeMap;
use std::path::Path;

use node::{join, Ctx, Node, NodeKind};

use super::model::*;
use super::PolicyError;

/// Reads every file (labelled with the path as given) and merges them in order.
pub fn load_files(paths: &[impl AsRef<Path>]) -> Result<DeclaredPolicy, PolicyError> {
    let mut policy = DeclaredPolicy::default();
    for path in paths {
        let path = path.as_ref();
        let label = path.display().to_string();
        let text = read_file(path, &label)?;
        merge(&mut policy, load_str(&label, &text)?);
    }
    Ok(policy)
}

/// The largest policy file read, per file. Parsing costs far more memory
/// than the file's size on hostile input (the review measured 2.2 GB and
/// 52 s for 10 MB of YAML), while a cluster-wide `kubectl get -o yaml`
/// export of thousands of Gateways and policies at 1–2 KiB each stays well
/// under this; so a larger file is refused before any parsing.
pub const MAX_POLICY_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// Reads one policy file, refusing what is not a regular file and what is
/// larger than [`MAX_POLICY_FILE_BYTES`].
///
/// The type is checked with `metadata` before opening, so a FIFO with no
/// writer is refused instead of blocking in `open`; the file is opened
/// non-blocking and checked again on the open handle, so one swapped in
/// between the two steps cannot hang us either. At most cap + 1 bytes are
/// read, so a file that grows while read (or a size the metadata got
/// wrong) stays bounded.
fn read_file(path: &Path, label: &str) -> Result<String, PolicyError> {
    use std::io::Read;

    let read_error = |source| PolicyError::Read {
        file: label.to_owned(),
        source,
    };
    let check = |meta: &std::fs::Metadata| -> Result<(), PolicyError> {
        if !meta.is_file() {
            return Err(PolicyError::NotAFile {
                file: label.to_owned(),
                kind: file_kind(meta),
            });
        }
        if meta.len() > MAX_POLICY_FILE_BYTES {
            return Err(PolicyError::TooLarge {
                file: label.to_owned(),
                limit: MAX_POLICY_FILE_BYTES,
            });
        }
        Ok(())
    };
    check(&std::fs::metadata(path).map_err(read_error)?)?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(read_error)?;
    check(&file.metadata().map_err(read_error)?)?;
    let mut bytes = Vec::new();
    file.take(MAX_POLICY_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_POLICY_FILE_BYTES {
        return Err(PolicyError::TooLarge {
            file: label.to_owned(),
            limit: MAX_POLICY_FILE_BYTES,
        });
    }
    String::from_utf8(bytes).map_err(|_| {
        read_error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ))
    })
}

/// What a file that is not a regular file is, for the message.
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    let kind = meta.file_type();
    if kind.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

/// Reads one YAML stream; `file_label` names it in every origin.
pub fn load_str(file_label: &str, text: &str) -> Result<DeclaredPolicy, PolicyError> {
    let documents = node::parse_stream(file_label, text)?;
    let mut ctx = Ctx::new(file_label, text);
    let mut policy = DeclaredPolicy::default();
    for doc in &documents {
        read_document(&mut ctx, doc, &mut policy)?;
    }
    policy.warnings.append(&mut ctx.warnings);
    Ok(policy)
}

/// Appends `other` to `into`; mesh TLS defaults merge field by field, later wins.
pub fn merge(into: &mut DeclaredPolicy, other: DeclaredPolicy) {
    into.documents.extend(other.documents);
    into.gateways.extend(other.gateways);
    into.authorization_policies
        .extend(other.authorization_policies);
    into.request_authentications
        .extend(other.request_authentications);
    into.peer_authentications.extend(other.peer_authentications);
    into.virtual_services.extend(other.virtual_services);
    into.reference_grants.extend(other.reference_grants);
    into.warnings.extend(other.warnings);
    if let Some(mesh) = other.mesh_tls {
        merge_mesh(&mut into.mesh_tls, mesh);
    }
    if let Some(authz) = other.mesh_authz {
        mesh::merge_mesh_authz(&mut into.mesh_authz, authz);
    }
}

/// Later mesh defaults win field by field. The source (and so how names
/// are translated) is the later document's.
pub(crate) fn merge_mesh(into: &mut Option<MeshTlsDefaults>, later: MeshTlsDefaults) {
    let Some(earlier) = into.take() else {
        *into = Some(later);
        return;
    };
    let mut merged = later;
    if merged.min_protocol_version.is_none() {
        merged.min_protocol_version = earlier.min_protocol_version;
    }
    if merged.max_protocol_version.is_none() {
        merged.max_protocol_version = earlier.max_protocol_version;
    }
    if merged.cipher_suites.is_empty() {
        merged.cipher_suites = earlier.cipher_suites;
    }
    if merged.ecdh_curves.is_empty() {
        merged.ecdh_curves = earlier.ecdh_curves;
    }
    if merged.mesh_mtls.is_none() {
        merged.mesh_mtls = earlier.mesh_mtls;
    }
    *into = Some(merged);
}

/// The metadata every reader records.
pub(crate) struct Meta {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub origin: Origin,
    /// `metadata.annotations`.
    pub annotations: BTreeMap<String, String>,
}

impl Meta {
    pub fn qualified(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }
}

fn read_document(
    ctx: &mut Ctx,
    doc: &Node,
    policy: &mut DeclaredPolicy,
) -> Result<(), PolicyError> {
    if !matches!(doc.kind, NodeKind::Map(_)) {
        return Err(PolicyError::Yaml {
            origin: ctx.origin(doc, ""),
            message: format!(
                "a Kubernetes object must be a mapping with apiVersion and kind, found {}",
                doc.kind.describe()
            ),
        });
    }
    let api_version = doc.get("apiVersion");
    let kind = doc.get("kind");
    let (Some(api_version), Some(kind)) = (api_version, kind) else {
        let missing = match (api_version, kind) {
            (None, None) => "apiVersion and kind",
            (None, _) => "apiVersion",
            _ => "kind",
        };
        return Err(ctx.invalid(
            doc,
            "",
            format!("document has no {missing}; every Kubernetes object needs both"),
        ));
    };
    let api_version = ctx.string(api_version, "apiVersion")?;
    let kind_text = ctx.string(kind, "kind")?;

    if kind_text == "List" || (kind_text.ends_with("List") && doc.get("items").is_some()) {
        let list = ctx.fields(Some(doc), "", &[])?;
        let saved = ctx.path_prefix.clone();
        for (item, path) in ctx.items(&list, "items")? {
            ctx.path_prefix = format!("{saved}{path}.");
            let result = read_document(ctx, item, policy);
            ctx.path_prefix = saved.clone();
            result?;
        }
        return Ok(());
    }

    let metadata = ctx.fields(doc.get("metadata"), "metadata", &[])?;
    let name = ctx.opt_string(&metadata, "name")?.unwrap_or_default();
    let namespace = ctx.opt_string(&metadata, "namespace")?;
    let annotations = ctx.string_map(&metadata, "annotations")?;
    let meta = Meta {
        api_version: api_version.clone(),
        kind: kind_text.clone(),
        name,
        namespace,
        origin: ctx.origin(doc, ""),
        annotations,
    };
    let group = api_version.split('/').next().unwrap_or("");
    let skipped = match (group, kind_text.as_str()) {
        ("networking.istio.io", "Gateway") => {
            istio_gateway::read(ctx, doc, &meta, policy)?;
            None
        }
        ("gateway.networking.k8s.io", "ReferenceGrant") => {
            gateway_api::read_reference_grant(ctx, doc, &meta, policy)?;
            None
        }
        ("gateway.networking.k8s.io", "Gateway") => {
            gateway_api::read(ctx, doc, &meta, policy)?;
            None
        }
        ("networking.istio.io", "VirtualService") => {
            virtual_service::read(ctx, doc, &meta, policy)?;
            None
        }
        ("security.istio.io", "AuthorizationPolicy") => {
            security::read_authorization(ctx, doc, &meta, policy)?;
            None
        }
        ("security.istio.io", "RequestAuthentication") => {
            security::read_request_authentication(ctx, doc, &meta, policy)?;
            None
        }
        ("security.istio.io", "PeerAuthentication") => {
            security::read_peer_authentication(ctx, doc, &meta, policy)?;
            None
        }
        ("install.istio.io", "IstioOperator") => mesh::read_istio_operator(ctx, doc, policy)?,
        ("sailoperator.io", "Istio") => mesh::read_sail_istio(ctx, doc, policy)?,
        ("maistra.io", "ServiceMeshControlPlane") => mesh::read_smcp(ctx, doc, &meta, policy)?,
        ("v1", "ConfigMap") => mesh::read_config_map(ctx, doc, &meta, policy)?,
        _ => Some(format!("kind {kind_text} is not used by tlsposture")),
    };
    policy.documents.push(DocumentSummary {
        api_version: meta.api_version.clone(),
        kind: meta.kind.clone(),
        name: meta.qualified(),
        origin: meta.origin.clone(),
        skipped,
    });
    Ok(())
}

/// Top-level fields of a custom resource.
pub(crate) const OBJECT_FIELDS: &[&str] = &["apiVersion", "kind", "metadata", "spec", "status"];

/// Checks the top-level keys (so `spce:` is reported) and returns `spec`.
pub(crate) fn spec_of<'n>(
    ctx: &mut Ctx,
    doc: &'n Node,
    known: &[&str],
) -> Result<node::Fields<'n>, PolicyError> {
    let top = ctx.fields(Some(doc), "", OBJECT_FIELDS)?;
    ctx.fields(top.get("spec"), &join("", "spec"), known)
}

#[cfg(test)]
mod tests;
