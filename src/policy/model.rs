//! The declared policy, normalised: what a team wrote in its Kubernetes YAML,
//! reduced to the fields that decide TLS, mTLS and authorization behaviour,
//! each remembering where it was written (file, line, field path) so every
//! finding and lint message can point back at the line to change.
//!
//! Values are kept as written (cipher names, versions, modes) — deciding what
//! Istio and Envoy make of them is `effective`'s job, not the reader's.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::wire::ProtocolVersion;

/// Where something was declared: the file as given on the command line, the
/// 1-based line and column, and the field path inside its document (e.g.
/// `spec.servers[1].tls.minProtocolVersion`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Origin {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub field: String,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, " ({})", self.field)?;
        }
        Ok(())
    }
}

impl From<&Origin> for crate::finding::FindingLocation {
    fn from(o: &Origin) -> Self {
        crate::finding::FindingLocation {
            file: o.file.clone(),
            line: o.line,
            column: o.column,
            field: o.field.clone(),
        }
    }
}

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Located<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Located<T> {
    pub fn new(value: T, origin: Origin) -> Self {
        Located { value, origin }
    }
}

/// Everything read from all `--policy` files, in file then document order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DeclaredPolicy {
    /// One entry per YAML document (List items count one each), used or not.
    pub documents: Vec<DocumentSummary>,
    pub gateways: Vec<GatewayDecl>,
    /// Mesh-wide TLS defaults (MeshConfig `tlsDefaults`, from an
    /// IstioOperator, the `istio` ConfigMap or a ServiceMeshControlPlane).
    /// When several documents set them, later ones win field by field.
    pub mesh_tls: Option<MeshTlsDefaults>,
    pub authorization_policies: Vec<AuthorizationPolicyDecl>,
    pub request_authentications: Vec<RequestAuthenticationDecl>,
    pub peer_authentications: Vec<PeerAuthenticationDecl>,
    /// `networking.istio.io` VirtualServices, read only as far as istiod's
    /// gateway listener builder looks at them (R-M5).
    pub virtual_services: Vec<VirtualServiceDecl>,
    /// Gateway API `ReferenceGrant`s (cross-namespace certificate refs).
    pub reference_grants: Vec<ReferenceGrantDecl>,
    /// Things a reader noticed but that are not errors: unknown fields (a
    /// typo such as `minProtocolVerison` is pruned by the API server, so the
    /// setting silently does nothing), values of the wrong kind Istio ignores.
    pub warnings: Vec<PolicyWarning>,
    /// The MeshConfig fields istiod's authorization builder reads; `None`
    /// when no document gave any (istiod's defaults are then assumed only
    /// where they cannot change an answer).
    pub mesh_authz: Option<MeshAuthz>,
}

/// How one YAML document was treated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentSummary {
    pub api_version: String,
    pub kind: String,
    /// `namespace/name`, or `name` when no namespace was given.
    pub name: String,
    pub origin: Origin,
    /// `None` when used; why it was skipped otherwise (unknown kind, …).
    pub skipped: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyWarning {
    pub origin: Origin,
    pub message: String,
}

/// A VirtualService as far as a gateway's TCP and terminated-TLS servers
/// need it: whether it binds to the Gateway, covers the server's hosts and
/// has a `tcp` route matching the server's port (istiod builds such a
/// server's filter chain only from that route, R-M5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VirtualServiceDecl {
    pub name: String,
    pub namespace: Option<String>,
    pub origin: Origin,
    pub hosts: Vec<String>,
    /// `spec.gateways` as written (short names are the VirtualService's
    /// namespace's).
    pub gateways: Vec<String>,
    pub tcp: Vec<L4RouteDecl>,
    /// How many `tls` routes it has (SNI routes for passthrough servers).
    pub tls_routes: usize,
}

/// One `spec.tcp[]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct L4RouteDecl {
    pub matches: Vec<L4MatchDecl>,
    /// `route` has at least one destination.
    pub has_destination: bool,
    pub origin: Origin,
}

/// One `match[]` entry of an L4 route: the predicates a gateway server is
/// checked against (`l4SingleMatch`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct L4MatchDecl {
    pub port: Option<u16>,
    pub gateways: Vec<String>,
}

/// Which API a gateway was declared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum GatewayFlavor {
    /// `networking.istio.io` v1alpha3 / v1beta1 / v1 `Gateway`.
    Istio,
    /// `gateway.networking.k8s.io` `Gateway` (listeners).
    GatewayApi,
}

/// A policy's `targetRef`: the resource it attaches to instead of a
/// workload selector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct TargetRef {
    /// Empty for the core group.
    pub group: String,
    pub kind: String,
    pub name: String,
    /// Unset: the policy's own namespace.
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GatewayDecl {
    pub name: String,
    pub namespace: Option<String>,
    pub api_version: String,
    pub flavor: GatewayFlavor,
    pub selector: BTreeMap<String, String>,
    pub origin: Origin,
    pub servers: Vec<ServerDecl>,
}

impl GatewayDecl {
    /// `namespace/name`, or `name`.
    pub fn qualified_name(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// One `servers[]` entry (or one Gateway API listener).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerDecl {
    pub port: u16,
    pub port_name: Option<String>,
    /// Upper-cased: HTTP, HTTPS, GRPC, HTTP2, TCP, TLS, MONGO …
    pub protocol: String,
    /// `bind`: the address the listener binds (`None`: 0.0.0.0). Istio
    /// keys listeners and duplicate-host checks by (port, bind).
    pub bind: Option<String>,
    /// As written: `*`, `*.example.com`, `ns/host`, `example.com`. The
    /// `namespace/` prefix Istio allows is kept; `effective` strips it.
    pub hosts: Vec<String>,
    pub tls: Option<ServerTls>,
    /// The server entry itself (`spec.servers[i]`).
    pub origin: Origin,
}

/// `ServerTLSSettings`, each field with its origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct ServerTls {
    /// Unset is Istio's enum zero, PASSTHROUGH.
    pub mode: Option<Located<TlsMode>>,
    pub https_redirect: Option<Located<bool>>,
    pub credential_name: Option<Located<String>>,
    pub credential_names: Vec<Located<String>>,
    pub server_certificate: Option<Located<String>>,
    pub private_key: Option<Located<String>>,
    pub ca_certificates: Option<Located<String>>,
    pub ca_crl: Option<Located<String>>,
    pub subject_alt_names: Vec<Located<String>>,
    pub verify_certificate_spki: Vec<Located<String>>,
    pub verify_certificate_hash: Vec<Located<String>>,
    pub min_protocol_version: Option<Located<TlsVersionSetting>>,
    pub max_protocol_version: Option<Located<TlsVersionSetting>>,
    /// As written, in order, duplicates and unknown names kept.
    pub cipher_suites: Vec<Located<String>>,
    /// `ecdhCurves`, as written; non-empty replaces the mesh curves.
    pub ecdh_curves: Vec<Located<String>>,
    /// `insecureSkipVerify`: the chain is not verified (ACCEPT_UNTRUSTED).
    pub insecure_skip_verify: Option<Located<bool>>,
    /// `caCertCredentialName`: the secret holding the client CA.
    pub ca_cert_credential_name: Option<Located<String>>,
    /// A Gateway API listener's TLS inputs as written; istiod's translation
    /// of them into this block depends on the release
    /// (`policy::istiod::gateway_api`), so they are kept raw.
    pub gateway_api: Option<GatewayApiTls>,
    /// The whole `tls:` block.
    pub origin: Origin,
}

/// What a Gateway API listener (and its Gateway's `spec.tls.frontend`)
/// says about TLS, before istiod's translation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct GatewayApiTls {
    /// `tls.mode` was `Passthrough`.
    pub passthrough: bool,
    /// `tls.options["gateway.istio.io/tls-terminate-mode"]`, as written.
    pub terminate_mode: Option<Located<String>>,
    /// The first `caCertificateRefs` entry of `spec.tls.frontend.perPort`
    /// for this port, else of `spec.tls.frontend.default`.
    pub frontend_ca: Option<Located<String>>,
    /// How many `caCertificateRefs` that frontend entry lists (Istio
    /// refuses more than one).
    pub frontend_ca_count: usize,
    /// That entry's `validation.mode` (`AllowInsecureFallback`, …).
    pub frontend_mode: Option<Located<String>>,
    /// That first `caCertificateRefs` entry in full (kind and namespace
    /// decide whether istiod accepts it).
    pub frontend_ca_ref: Option<ObjectRefDecl>,
    /// `tls.certificateRefs`, in order.
    pub certificate_refs: Vec<ObjectRefDecl>,
    /// `tls.options["gateway.istio.io/listener-protocol"]`, as written.
    pub listener_protocol: Option<Located<String>>,
    /// The listener's port and its Gateway's `metadata.labels` (the
    /// east-west auto-passthrough rule reads both).
    pub port: u16,
    pub gateway_labels: BTreeMap<String, String>,
}

/// A Gateway API object reference (`certificateRefs[]`,
/// `caCertificateRefs[]`), fields as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectRefDecl {
    pub group: Option<String>,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: String,
    pub origin: Origin,
}

/// A Gateway API `ReferenceGrant`: objects of the `to` kinds in its own
/// namespace may be referenced by the `from` objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferenceGrantDecl {
    pub namespace: Option<String>,
    /// (group, kind, namespace).
    pub from: Vec<(String, String, String)>,
    /// (group, kind, name; `None` = any name).
    pub to: Vec<(String, String, Option<String>)>,
}

/// `ServerTLSSettings.TLSmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum TlsMode {
    Passthrough,
    Simple,
    Mutual,
    AutoPassthrough,
    IstioMutual,
    OptionalMutual,
}

impl TlsMode {
    /// Istio's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Passthrough => "PASSTHROUGH",
            TlsMode::Simple => "SIMPLE",
            TlsMode::Mutual => "MUTUAL",
            TlsMode::AutoPassthrough => "AUTO_PASSTHROUGH",
            TlsMode::IstioMutual => "ISTIO_MUTUAL",
            TlsMode::OptionalMutual => "OPTIONAL_MUTUAL",
        }
    }

    /// Parses Istio's spelling (case-insensitive, as the API server's enum
    /// handling is for these CRDs' string form).
    pub fn parse(text: &str) -> Option<TlsMode> {
        Some(match text.trim().to_ascii_uppercase().as_str() {
            "PASSTHROUGH" => TlsMode::Passthrough,
            "SIMPLE" => TlsMode::Simple,
            "MUTUAL" => TlsMode::Mutual,
            "AUTO_PASSTHROUGH" => TlsMode::AutoPassthrough,
            "ISTIO_MUTUAL" => TlsMode::IstioMutual,
            "OPTIONAL_MUTUAL" => TlsMode::OptionalMutual,
            _ => return None,
        })
    }

    /// Whether the gateway terminates TLS itself (and so its own TLS
    /// parameters are what a scanner sees).
    pub fn terminates(self) -> bool {
        matches!(
            self,
            TlsMode::Simple | TlsMode::Mutual | TlsMode::OptionalMutual | TlsMode::IstioMutual
        )
    }
}

impl fmt::Display for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `TLS_AUTO` or a version. Istio spells them `TLSV1_2`; OpenShift's SMCP
/// `TLSv1_2`; both are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum TlsVersionSetting {
    Auto,
    Version(ProtocolVersion),
}

impl TlsVersionSetting {
    pub fn parse(text: &str) -> Option<TlsVersionSetting> {
        Some(match text.trim().to_ascii_uppercase().as_str() {
            "TLS_AUTO" => TlsVersionSetting::Auto,
            "TLSV1_0" => TlsVersionSetting::Version(ProtocolVersion::Tls10),
            "TLSV1_1" => TlsVersionSetting::Version(ProtocolVersion::Tls11),
            "TLSV1_2" => TlsVersionSetting::Version(ProtocolVersion::Tls12),
            "TLSV1_3" => TlsVersionSetting::Version(ProtocolVersion::Tls13),
            _ => return None,
        })
    }

    /// `None` for TLS_AUTO.
    pub fn version(self) -> Option<ProtocolVersion> {
        match self {
            TlsVersionSetting::Auto => None,
            TlsVersionSetting::Version(v) => Some(v),
        }
    }

    /// Istio's spelling, for remedies.
    pub fn istio_name(self) -> &'static str {
        match self {
            TlsVersionSetting::Auto => "TLS_AUTO",
            TlsVersionSetting::Version(ProtocolVersion::Tls10) => "TLSV1_0",
            TlsVersionSetting::Version(ProtocolVersion::Tls11) => "TLSV1_1",
            TlsVersionSetting::Version(ProtocolVersion::Tls12) => "TLSV1_2",
            TlsVersionSetting::Version(ProtocolVersion::Tls13) => "TLSV1_3",
            TlsVersionSetting::Version(_) => "TLS_AUTO",
        }
    }
}

/// Where mesh-wide TLS defaults came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MeshTlsSource {
    /// `spec.meshConfig.tlsDefaults` of an IstioOperator (or Sail `Istio`'s
    /// `spec.values.meshConfig.tlsDefaults`).
    IstioOperator,
    /// `data.mesh` (a YAML string) of the `istio` ConfigMap.
    ConfigMap,
    /// maistra.io v1 `spec.istio.global.tls`.
    SmcpV1,
    /// maistra.io v2 `spec.security.controlPlane.tls`.
    SmcpV2,
}

/// MeshConfig `tlsDefaults` (and the SMCP equivalents): applied by Istio to
/// every SIMPLE/MUTUAL gateway server before the server's own `tls` fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeshTlsDefaults {
    pub source: MeshTlsSource,
    pub origin: Origin,
    pub min_protocol_version: Option<Located<TlsVersionSetting>>,
    /// Only SMCP has a maximum; MeshConfig has none.
    pub max_protocol_version: Option<Located<TlsVersionSetting>>,
    /// As written: BoringSSL names in MeshConfig, Go names
    /// (`TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`) in an SMCP.
    pub cipher_suites: Vec<Located<String>>,
    /// As written: `P-256`/`X25519` in MeshConfig, `CurveP256` in an SMCP.
    pub ecdh_curves: Vec<Located<String>>,
    /// SMCP v1 `global.mtls.enabled` / v2 `security.dataPlane.mtls`.
    pub mesh_mtls: Option<Located<bool>>,
}

/// `AuthorizationPolicy.action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum AuthzAction {
    /// Unset is ALLOW.
    #[default]
    Allow,
    Deny,
    Audit,
    Custom,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct AuthorizationPolicyDecl {
    pub name: String,
    pub namespace: Option<String>,
    pub origin: Origin,
    /// `targetRef` / `targetRefs`, in order (the singular one first).
    pub target_refs: Vec<TargetRef>,
    /// Annotation `istio.io/dry-run` true: istiod renders the policy as
    /// shadow rules, which enforce nothing.
    pub dry_run: bool,
    /// Unset is ALLOW.
    pub action: AuthzAction,
    /// `selector.matchLabels`; empty applies to the whole namespace.
    pub selector: BTreeMap<String, String>,
    /// CUSTOM's `provider.name`.
    pub provider: Option<String>,
    /// `rules: []` or absent: an ALLOW policy with no rules denies everything;
    /// `rules: [{}]` matches everything.
    pub rules: Vec<AuthzRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct AuthzRule {
    pub origin: Origin,
    /// `from[].source`: any one entry matching is enough.
    pub from: Vec<AuthzSource>,
    /// `to[].operation`: any one entry matching is enough.
    pub to: Vec<AuthzOperation>,
    /// `when[]`: all must match.
    pub when: Vec<AuthzCondition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct AuthzSource {
    pub principals: Vec<String>,
    pub not_principals: Vec<String>,
    pub request_principals: Vec<String>,
    pub not_request_principals: Vec<String>,
    pub namespaces: Vec<String>,
    pub not_namespaces: Vec<String>,
    pub ip_blocks: Vec<String>,
    pub not_ip_blocks: Vec<String>,
    pub remote_ip_blocks: Vec<String>,
    pub not_remote_ip_blocks: Vec<String>,
    /// `serviceAccounts`: `ns/sa`, or `sa` in the policy's namespace.
    pub service_accounts: Vec<String>,
    pub not_service_accounts: Vec<String>,
    pub trust_domains: Vec<String>,
    pub not_trust_domains: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct AuthzOperation {
    pub hosts: Vec<String>,
    pub not_hosts: Vec<String>,
    pub ports: Vec<String>,
    pub not_ports: Vec<String>,
    pub methods: Vec<String>,
    pub not_methods: Vec<String>,
    pub paths: Vec<String>,
    pub not_paths: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct AuthzCondition {
    pub key: String,
    pub values: Vec<String>,
    pub not_values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct RequestAuthenticationDecl {
    pub name: String,
    pub namespace: Option<String>,
    pub origin: Origin,
    /// `targetRef` / `targetRefs`, in order (the singular one first).
    pub target_refs: Vec<TargetRef>,
    pub selector: BTreeMap<String, String>,
    pub jwt_rules: Vec<JwtRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct JwtRule {
    pub origin: Origin,
    pub issuer: String,
    pub audiences: Vec<String>,
    pub jwks_uri: Option<String>,
    /// Inline JWKS (a JSON string).
    pub jwks: Option<String>,
    /// `fromHeaders[].name` (+ prefix); empty means `Authorization: Bearer`.
    pub from_headers: Vec<(String, Option<String>)>,
    pub from_params: Vec<String>,
    pub from_cookies: Vec<String>,
    pub forward_original_token: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerAuthenticationDecl {
    pub name: String,
    pub namespace: Option<String>,
    pub origin: Origin,
    pub selector: BTreeMap<String, String>,
    /// `mtls.mode`: UNSET, DISABLE, PERMISSIVE, STRICT.
    pub mtls_mode: Option<String>,
    pub port_level_mtls: BTreeMap<u16, String>,
}

/// MeshConfig `trustDomain`, `trustDomainAliases` and `extensionProviders`
/// as the authorization builder uses them. When several documents set
/// them, later ones win field by field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct MeshAuthz {
    pub origin: Origin,
    pub trust_domain: Option<String>,
    pub trust_domain_aliases: Vec<String>,
    /// `None` when not written (no provider is then defined).
    pub extension_providers: Option<Vec<ExtensionProvider>>,
}

/// One `extensionProviders[]` entry: only what decides whether istiod can
/// build an `ext_authz` filter from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtensionProvider {
    pub name: String,
    pub origin: Origin,
    pub kind: ExtensionProviderKind,
    /// Why istiod would refuse it (empty: nothing we can check is wrong).
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ExtensionProviderKind {
    /// `envoyExtAuthzHttp`: an HTTP filter only.
    ExtAuthzHttp,
    /// `envoyExtAuthzGrpc`: HTTP and network (TCP) filters.
    ExtAuthzGrpc,
    /// Tracing, logging, …: not an authorizer.
    Other,
}
