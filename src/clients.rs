//! Client simulation profiles: real clients' exact ClientHellos and the
//! limits they enforce, as data (`clients/*.toml`, one file per client,
//! embedded at build time by `build.rs`).
//!
//! This module loads and validates the files and builds a client's hello
//! for a target (SNI and fresh key shares filled in). It does no I/O: the
//! live simulation is in `scan`. A malformed profile is a build-time bug
//! caught by the unit test that loads every file, so loading panics naming
//! the file rather than returning an error.

use std::fmt;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::registry;
use crate::wire::{self, ClientHelloSpec, Extension, KeyShareEntry, ProtocolVersion};

/// The embedded files: (file name, contents), sorted by file name.
const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/client_profiles.rs"));

/// Marker for a GREASE value in a parsed list; the hello builder replaces it
/// with a concrete RFC 8701 value per list.
pub const GREASE: u16 = 0x0A0A;

/// What kind of client a profile is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Browser,
    Mobile,
    Legacy,
    Library,
    Mesh,
    Healthcheck,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Browser => "browser",
            Category::Mobile => "mobile",
            Category::Legacy => "legacy",
            Category::Library => "library",
            Category::Mesh => "mesh",
            Category::Healthcheck => "healthcheck",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One ClientHello extension as a profile lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtensionKind {
    /// A GREASE extension (RFC 8701). The first is sent empty, any later one
    /// with a one-byte body, as BoringSSL does.
    Grease,
    ServerName,
    StatusRequest,
    SupportedGroups,
    EcPointFormats,
    SignatureAlgorithms,
    Heartbeat,
    Alpn,
    SignedCertificateTimestamp,
    /// Always written last (RFC 7685, BoringSSL / NSS rule: a hello of
    /// 256..=511 bytes is padded to 512).
    Padding,
    EncryptThenMac,
    ExtendedMasterSecret,
    CompressCertificate,
    RecordSizeLimit,
    DelegatedCredentials,
    SessionTicket,
    SupportedVersions,
    PskKeyExchangeModes,
    PostHandshakeAuth,
    SignatureAlgorithmsCert,
    KeyShare,
    NextProtocolNegotiation,
    /// ALPS, code point 17513 (Chrome 91 to 130).
    ApplicationSettings,
    /// ALPS, code point 17613 (Chrome 131 on).
    ApplicationSettingsNew,
    ChannelId,
    /// A GREASE ECH extension (draft-ietf-tls-esni): a well-formed outer
    /// ECHClientHello no server can decrypt.
    EncryptedClientHello,
    RenegotiationInfo,
    /// Any other code point, sent empty.
    Other(u16),
}

const EXTENSION_NAMES: &[(&str, ExtensionKind)] = &[
    ("grease", ExtensionKind::Grease),
    ("server_name", ExtensionKind::ServerName),
    ("status_request", ExtensionKind::StatusRequest),
    ("supported_groups", ExtensionKind::SupportedGroups),
    ("ec_point_formats", ExtensionKind::EcPointFormats),
    ("signature_algorithms", ExtensionKind::SignatureAlgorithms),
    ("heartbeat", ExtensionKind::Heartbeat),
    ("alpn", ExtensionKind::Alpn),
    (
        "signed_certificate_timestamp",
        ExtensionKind::SignedCertificateTimestamp,
    ),
    ("padding", ExtensionKind::Padding),
    ("encrypt_then_mac", ExtensionKind::EncryptThenMac),
    (
        "extended_master_secret",
        ExtensionKind::ExtendedMasterSecret,
    ),
    ("compress_certificate", ExtensionKind::CompressCertificate),
    ("record_size_limit", ExtensionKind::RecordSizeLimit),
    ("delegated_credentials", ExtensionKind::DelegatedCredentials),
    ("session_ticket", ExtensionKind::SessionTicket),
    ("supported_versions", ExtensionKind::SupportedVersions),
    ("psk_key_exchange_modes", ExtensionKind::PskKeyExchangeModes),
    ("post_handshake_auth", ExtensionKind::PostHandshakeAuth),
    (
        "signature_algorithms_cert",
        ExtensionKind::SignatureAlgorithmsCert,
    ),
    ("key_share", ExtensionKind::KeyShare),
    (
        "next_protocol_negotiation",
        ExtensionKind::NextProtocolNegotiation,
    ),
    ("application_settings", ExtensionKind::ApplicationSettings),
    (
        "application_settings_new",
        ExtensionKind::ApplicationSettingsNew,
    ),
    ("channel_id", ExtensionKind::ChannelId),
    (
        "encrypted_client_hello",
        ExtensionKind::EncryptedClientHello,
    ),
    ("renegotiation_info", ExtensionKind::RenegotiationInfo),
];

impl ExtensionKind {
    fn parse(text: &str) -> Result<Self, String> {
        if let Some((_, k)) = EXTENSION_NAMES.iter().find(|(n, _)| *n == text) {
            return Ok(*k);
        }
        if text.starts_with("0x") {
            return registry_hex(text).map(ExtensionKind::Other);
        }
        Err(format!("unknown extension {text:?}"))
    }

    /// The name used in profile files.
    pub fn name(self) -> String {
        match self {
            ExtensionKind::Other(code) => format!("0x{code:04X}"),
            k => EXTENSION_NAMES
                .iter()
                .find(|(_, x)| *x == k)
                .map_or_else(String::new, |(n, _)| (*n).to_string()),
        }
    }
}

/// Limits a client enforces on what the server sends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Smallest RSA certificate key accepted.
    pub min_rsa_bits: Option<u32>,
    /// Smallest DHE prime accepted.
    pub min_dh_bits: Option<u32>,
    /// Largest DHE prime the client can handle (Java 7: 1024).
    pub max_dh_bits: Option<u32>,
    /// Refuses SHA-1-signed certificates.
    #[serde(default)]
    pub requires_sha2: bool,
    /// Certificate key types accepted (`RSA`, `ECDSA`, `Ed25519`); empty
    /// means any.
    #[serde(default)]
    pub cert_key_types: Vec<String>,
}

/// One client's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientProfile {
    /// The file stem, e.g. `chrome-131-win11`.
    pub id: String,
    /// A short display name, unique, e.g. `Chrome 131 / Win 11`.
    pub name: String,
    pub family: String,
    pub version: String,
    pub platform: String,
    pub year: u16,
    pub category: Category,
    /// Where the facts come from (URLs, documents).
    pub sources: Vec<String>,
    pub record_version: u16,
    pub legacy_version: u16,
    /// Length of the (random) legacy session id: 0 or 32.
    pub session_id_len: u8,
    /// supported_versions in order ([`GREASE`] where sent); empty when the
    /// client sends no such extension.
    pub supported_versions: Vec<u16>,
    pub cipher_suites: Vec<u16>,
    pub compression_methods: Vec<u8>,
    pub extensions: Vec<ExtensionKind>,
    pub supported_groups: Vec<u16>,
    /// Groups that get a key share in the first hello, in order.
    pub key_shares: Vec<u16>,
    pub signature_algorithms: Vec<u16>,
    pub signature_algorithms_cert: Vec<u16>,
    pub alpn: Vec<String>,
    /// Whether the client sends server_name (when the target has one).
    pub sni: bool,
    pub ec_point_formats: Vec<u8>,
    pub psk_key_exchange_modes: Vec<u8>,
    pub compress_certificate: Vec<u16>,
    pub application_settings: Vec<String>,
    pub record_size_limit: u16,
    pub limits: Limits,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    name: String,
    family: String,
    version: String,
    platform: String,
    year: u16,
    category: Category,
    sources: Vec<String>,
    hello: HelloFile,
    #[serde(default)]
    limits: Limits,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HelloFile {
    record_version: String,
    legacy_version: String,
    #[serde(default)]
    session_id_len: u8,
    #[serde(default)]
    supported_versions: Vec<String>,
    cipher_suites: Vec<String>,
    #[serde(default = "null_compression")]
    compression_methods: Vec<u8>,
    #[serde(default)]
    extensions: Vec<String>,
    #[serde(default)]
    supported_groups: Vec<String>,
    #[serde(default)]
    key_shares: Vec<String>,
    #[serde(default)]
    signature_algorithms: Vec<String>,
    #[serde(default)]
    signature_algorithms_cert: Vec<String>,
    #[serde(default)]
    alpn: Vec<String>,
    #[serde(default = "yes")]
    sni: bool,
    #[serde(default = "uncompressed")]
    ec_point_formats: Vec<u8>,
    #[serde(default = "psk_dhe_ke")]
    psk_key_exchange_modes: Vec<u8>,
    #[serde(default)]
    compress_certificate: Vec<String>,
    #[serde(default)]
    application_settings: Vec<String>,
    #[serde(default = "record_limit")]
    record_size_limit: u16,
}

fn null_compression() -> Vec<u8> {
    vec![0]
}
fn yes() -> bool {
    true
}
fn uncompressed() -> Vec<u8> {
    vec![0]
}
fn psk_dhe_ke() -> Vec<u8> {
    vec![1]
}
fn record_limit() -> u16 {
    0x4001
}

/// `0x1234` (upper- or lower-case hex digits).
fn registry_hex(text: &str) -> Result<u16, String> {
    text.strip_prefix("0x")
        .and_then(|d| u16::from_str_radix(d, 16).ok())
        .ok_or_else(|| format!("{text:?} is not a 0x-prefixed 16-bit code"))
}

/// A list of code points, `GREASE` allowed.
fn codes(list: &[String]) -> Result<Vec<u16>, String> {
    list.iter()
        .map(|t| {
            if t == "GREASE" {
                Ok(GREASE)
            } else {
                registry_hex(t)
            }
        })
        .collect()
}

impl ClientProfile {
    /// Parses one profile file; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Self, String> {
        let f: ProfileFile = toml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
        let h = &f.hello;
        let err = |e: String| format!("{file}: {e}");
        let profile = ClientProfile {
            id: file.trim_end_matches(".toml").to_string(),
            name: f.name,
            family: f.family,
            version: f.version,
            platform: f.platform,
            year: f.year,
            category: f.category,
            sources: f.sources,
            record_version: registry_hex(&h.record_version).map_err(err)?,
            legacy_version: registry_hex(&h.legacy_version).map_err(err)?,
            session_id_len: h.session_id_len,
            supported_versions: codes(&h.supported_versions).map_err(err)?,
            cipher_suites: codes(&h.cipher_suites).map_err(err)?,
            compression_methods: h.compression_methods.clone(),
            extensions: h
                .extensions
                .iter()
                .map(|e| ExtensionKind::parse(e))
                .collect::<Result<_, _>>()
                .map_err(err)?,
            supported_groups: codes(&h.supported_groups).map_err(err)?,
            key_shares: codes(&h.key_shares).map_err(err)?,
            signature_algorithms: codes(&h.signature_algorithms).map_err(err)?,
            signature_algorithms_cert: codes(&h.signature_algorithms_cert).map_err(err)?,
            alpn: h.alpn.clone(),
            sni: h.sni,
            ec_point_formats: h.ec_point_formats.clone(),
            psk_key_exchange_modes: h.psk_key_exchange_modes.clone(),
            compress_certificate: codes(&h.compress_certificate).map_err(err)?,
            application_settings: h.application_settings.clone(),
            record_size_limit: h.record_size_limit,
            limits: f.limits,
        };
        profile.check().map_err(err)?;
        Ok(profile)
    }

    /// Consistency rules every profile must follow.
    fn check(&self) -> Result<(), String> {
        if self.name.trim().is_empty() || self.sources.is_empty() {
            return Err("a profile needs a name and at least one source".into());
        }
        if self.cipher_suites.is_empty() {
            return Err("no cipher suites".into());
        }
        let has = |k: ExtensionKind| self.extensions.contains(&k);
        let mut seen = Vec::new();
        for e in &self.extensions {
            if *e != ExtensionKind::Grease && seen.contains(e) {
                return Err(format!("extension {} listed twice", e.name()));
            }
            seen.push(*e);
        }
        if let Some(pos) = self
            .extensions
            .iter()
            .position(|e| *e == ExtensionKind::Padding)
        {
            if pos + 1 != self.extensions.len() {
                return Err("padding must be the last extension".into());
            }
        }
        let pairs: [(ExtensionKind, bool, &str); 6] = [
            (
                ExtensionKind::SupportedVersions,
                !self.supported_versions.is_empty(),
                "supported_versions",
            ),
            (
                ExtensionKind::SupportedGroups,
                !self.supported_groups.is_empty(),
                "supported_groups",
            ),
            (
                ExtensionKind::SignatureAlgorithms,
                !self.signature_algorithms.is_empty(),
                "signature_algorithms",
            ),
            (ExtensionKind::Alpn, !self.alpn.is_empty(), "alpn"),
            (
                ExtensionKind::CompressCertificate,
                !self.compress_certificate.is_empty(),
                "compress_certificate",
            ),
            (
                ExtensionKind::SignatureAlgorithmsCert,
                !self.signature_algorithms_cert.is_empty(),
                "signature_algorithms_cert",
            ),
        ];
        for (kind, listed, field) in pairs {
            if has(kind) != listed {
                return Err(format!(
                    "the {field} list and the {} extension go together",
                    kind.name()
                ));
            }
        }
        if has(ExtensionKind::KeyShare) != self.offers(ProtocolVersion::Tls13) {
            return Err("key_share goes with TLS 1.3 in supported_versions".into());
        }
        for g in &self.key_shares {
            if !self.supported_groups.contains(g) {
                return Err(format!("key share 0x{g:04X} not in supported_groups"));
            }
            if *g != GREASE && wire::generate_key_share(*g).is_none() {
                return Err(format!("no key share can be made for 0x{g:04X}"));
            }
        }
        if self.sni != has(ExtensionKind::ServerName) {
            return Err("sni = true goes with the server_name extension".into());
        }
        if self.versions().is_empty() {
            return Err("offers no protocol version".into());
        }
        Ok(())
    }

    /// The protocol versions the client can negotiate, oldest first.
    pub fn versions(&self) -> Vec<ProtocolVersion> {
        let mut out: Vec<ProtocolVersion> = if self.supported_versions.is_empty() {
            let floor = if self.record_version <= 0x0300 {
                0x0300
            } else {
                0x0301
            };
            (floor..=self.legacy_version.min(0x0303))
                .filter_map(ProtocolVersion::from_wire)
                .collect()
        } else {
            self.supported_versions
                .iter()
                .filter_map(|v| ProtocolVersion::from_wire(*v))
                .collect()
        };
        out.sort();
        out.dedup();
        out
    }

    pub fn offers(&self, version: ProtocolVersion) -> bool {
        self.versions().contains(&version)
    }

    /// The newest version offered.
    pub fn max_version(&self) -> ProtocolVersion {
        self.versions()
            .last()
            .copied()
            .unwrap_or(ProtocolVersion::Tls10)
    }

    /// Real (non-GREASE, non-SCSV) suites offered.
    pub fn real_suites(&self) -> impl Iterator<Item = u16> + '_ {
        self.cipher_suites
            .iter()
            .copied()
            .filter(|c| !registry::is_grease(*c) && !registry::is_scsv(*c))
    }

    /// The client's hello for a target: `sni` is sent when the client sends
    /// server_name; key shares are fresh. Extensions are in the profile's
    /// order; a hello of 256..=511 bytes is padded when the profile lists
    /// padding.
    pub fn hello(&self, sni: Option<&str>) -> ClientHelloSpec {
        let random = wire::fresh_random();
        // Distinct GREASE values per list, derived from the random as
        // BoringSSL derives them from its per-connection seed.
        let grease = |i: usize| {
            let n = random[i] & 0xf0 | 0x0a;
            u16::from_be_bytes([n, n])
        };
        let suite_grease = grease(0);
        let group_grease = grease(1);
        let version_grease = grease(2);
        let ext_grease_first = grease(3);
        let mut ext_grease_last = grease(4);
        if ext_grease_last == ext_grease_first {
            ext_grease_last ^= 0x1010;
        }
        let sub = |list: &[u16], g: u16| -> Vec<u16> {
            list.iter()
                .map(|c| if registry::is_grease(*c) { g } else { *c })
                .collect()
        };
        let key_shares: Vec<KeyShareEntry> = self
            .key_shares
            .iter()
            .filter_map(|g| {
                if registry::is_grease(*g) {
                    Some(KeyShareEntry {
                        group: group_grease,
                        public: vec![0],
                    })
                } else {
                    wire::generate_key_share(*g)
                }
            })
            .collect();
        let mut extensions = Vec::new();
        let mut greases = 0;
        for kind in &self.extensions {
            let e = match kind {
                ExtensionKind::Grease => {
                    greases += 1;
                    if greases == 1 {
                        raw(ext_grease_first, vec![])
                    } else {
                        raw(ext_grease_last, vec![0])
                    }
                }
                ExtensionKind::ServerName => match sni {
                    Some(name) => Extension::ServerName(name.to_string()),
                    None => continue,
                },
                ExtensionKind::StatusRequest => Extension::StatusRequest,
                ExtensionKind::SupportedGroups => {
                    Extension::SupportedGroups(sub(&self.supported_groups, group_grease))
                }
                ExtensionKind::EcPointFormats => {
                    Extension::EcPointFormats(self.ec_point_formats.clone())
                }
                ExtensionKind::SignatureAlgorithms => {
                    Extension::SignatureAlgorithms(self.signature_algorithms.clone())
                }
                ExtensionKind::SignatureAlgorithmsCert => {
                    Extension::SignatureAlgorithmsCert(self.signature_algorithms_cert.clone())
                }
                ExtensionKind::Heartbeat => raw(15, vec![1]),
                ExtensionKind::Alpn => {
                    Extension::Alpn(self.alpn.iter().map(|p| p.as_bytes().to_vec()).collect())
                }
                ExtensionKind::SignedCertificateTimestamp => Extension::SignedCertificateTimestamp,
                ExtensionKind::Padding => continue,
                ExtensionKind::EncryptThenMac => Extension::EncryptThenMac,
                ExtensionKind::ExtendedMasterSecret => Extension::ExtendedMasterSecret,
                ExtensionKind::CompressCertificate => {
                    let mut body = vec![(self.compress_certificate.len() * 2) as u8];
                    for a in &self.compress_certificate {
                        body.extend(a.to_be_bytes());
                    }
                    raw(27, body)
                }
                ExtensionKind::RecordSizeLimit => {
                    raw(28, self.record_size_limit.to_be_bytes().to_vec())
                }
                ExtensionKind::DelegatedCredentials => {
                    let mut body = u16_be(self.signature_algorithms.len() * 2);
                    for s in &self.signature_algorithms {
                        body.extend(s.to_be_bytes());
                    }
                    raw(34, body)
                }
                ExtensionKind::SessionTicket => Extension::SessionTicket,
                ExtensionKind::SupportedVersions => {
                    Extension::SupportedVersions(sub(&self.supported_versions, version_grease))
                }
                ExtensionKind::PskKeyExchangeModes => {
                    Extension::PskKeyExchangeModes(self.psk_key_exchange_modes.clone())
                }
                ExtensionKind::PostHandshakeAuth => raw(49, vec![]),
                ExtensionKind::KeyShare => Extension::KeyShare(key_shares.clone()),
                ExtensionKind::NextProtocolNegotiation => raw(13172, vec![]),
                ExtensionKind::ApplicationSettings => raw(17513, alps(&self.application_settings)),
                ExtensionKind::ApplicationSettingsNew => {
                    raw(17613, alps(&self.application_settings))
                }
                ExtensionKind::ChannelId => raw(30032, vec![]),
                ExtensionKind::EncryptedClientHello => raw(0xfe0d, grease_ech(&random)),
                ExtensionKind::RenegotiationInfo => Extension::RenegotiationInfo,
                ExtensionKind::Other(code) => raw(*code, vec![]),
            };
            extensions.push(e);
        }
        let session_id = match self.session_id_len {
            0 => Vec::new(),
            n => random
                .iter()
                .rev()
                .copied()
                .cycle()
                .take(n.into())
                .collect(),
        };
        ClientHelloSpec {
            record_version: self.record_version,
            client_version: self.legacy_version,
            random,
            session_id,
            cipher_suites: sub(&self.cipher_suites, suite_grease),
            compression_methods: self.compression_methods.clone(),
            extensions,
            pad_to_avoid_f5_bug: self.extensions.contains(&ExtensionKind::Padding),
        }
    }

    /// The hello as records, ready to send.
    ///
    /// # Errors
    /// When a list of the profile is too long for its length field.
    pub fn hello_bytes(&self, sni: Option<&str>) -> Result<Vec<u8>, wire::EncodeError> {
        wire::encode_client_hello(&self.hello(sni))
    }
}

fn raw(typ: u16, data: Vec<u8>) -> Extension {
    Extension::Raw { typ, data }
}

fn u16_be(n: usize) -> Vec<u8> {
    u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes().to_vec()
}

/// ALPS body: a u16-prefixed list of u8-prefixed protocol names.
fn alps(protocols: &[String]) -> Vec<u8> {
    let mut list = Vec::new();
    for p in protocols {
        list.push(p.len() as u8);
        list.extend(p.as_bytes());
    }
    let mut body = u16_be(list.len());
    body.extend(list);
    body
}

/// A GREASE ECH outer extension (BoringSSL's shape): type outer (0),
/// HKDF-SHA256 / AES-128-GCM, a random config id, a 32-byte X25519 `enc`,
/// and a random payload of 144 bytes.
fn grease_ech(random: &[u8; 32]) -> Vec<u8> {
    let mut body = vec![0, 0, 1, 0, 1, random[5]];
    body.extend(u16_be(32));
    body.extend(random.iter().map(|b| b ^ 0x5c));
    body.extend(u16_be(144));
    body.extend(random.iter().cycle().take(144).map(|b| b ^ 0x36));
    body
}

/// Every embedded profile, by category (browsers first, as declared in
/// [`Category`]), then family, then year.
///
/// # Panics
/// On the first call if a profile file is malformed (the unit test that
/// loads them all catches that before a release).
pub fn profiles() -> &'static [ClientProfile] {
    static PROFILES: OnceLock<Vec<ClientProfile>> = OnceLock::new();
    PROFILES.get_or_init(|| {
        let mut all: Vec<ClientProfile> = FILES
            .iter()
            .map(|(file, text)| {
                ClientProfile::parse(file, text).unwrap_or_else(|e| panic!("clients/{e}"))
            })
            .collect();
        all.sort_by(|a, b| {
            (a.category, a.family.to_lowercase(), a.year, &a.name).cmp(&(
                b.category,
                b.family.to_lowercase(),
                b.year,
                &b.name,
            ))
        });
        all
    })
}

/// The profile named `name` (exact, case-insensitive) or with that id.
pub fn by_name(name: &str) -> Option<&'static ClientProfile> {
    profiles()
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name) || p.id.eq_ignore_ascii_case(name))
}

/// Profiles whose name, id, family or category matches `pattern`:
/// case-insensitive, a substring, or a glob when it holds `*` or `?`.
/// Several patterns may be given separated by commas. An empty pattern or
/// `all` matches every profile.
pub fn matching(pattern: &str) -> Vec<&'static ClientProfile> {
    let patterns: Vec<String> = pattern
        .split(',')
        .map(|p| p.trim().to_lowercase())
        .filter(|p| !p.is_empty())
        .collect();
    if patterns.is_empty() || patterns.iter().any(|p| p == "all") {
        return profiles().iter().collect();
    }
    profiles()
        .iter()
        .filter(|profile| {
            let fields = [
                profile.name.to_lowercase(),
                profile.id.to_lowercase(),
                profile.family.to_lowercase(),
                profile.category.as_str().to_string(),
            ];
            patterns.iter().any(|p| {
                fields.iter().any(|f| {
                    if p.contains(['*', '?']) {
                        glob(p.as_bytes(), f.as_bytes())
                    } else {
                        f.contains(p.as_str())
                    }
                })
            })
        })
        .collect()
}

/// `*` (any run) and `?` (one character) over bytes.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|i| glob(rest, &text[i..])),
        Some((b'?', rest)) => !text.is_empty() && glob(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && glob(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::codec::Reader;

    fn all_codes_known(p: &ClientProfile) -> Result<(), String> {
        for c in &p.cipher_suites {
            if !registry::is_grease(*c)
                && !registry::is_scsv(*c)
                && registry::cipher_suite(*c).is_none()
            {
                return Err(format!("suite 0x{c:04X}"));
            }
        }
        for g in p.supported_groups.iter().chain(&p.key_shares) {
            if !registry::is_grease(*g) && registry::named_group(*g).is_none() {
                return Err(format!("group 0x{g:04X}"));
            }
        }
        for s in p
            .signature_algorithms
            .iter()
            .chain(&p.signature_algorithms_cert)
        {
            if registry::signature_scheme(*s).is_none() {
                return Err(format!("signature scheme 0x{s:04X}"));
            }
        }
        for v in &p.supported_versions {
            if !registry::is_grease(*v) && ProtocolVersion::from_wire(*v).is_none() {
                return Err(format!("version 0x{v:04X}"));
            }
        }
        Ok(())
    }

    #[test]
    fn every_profile_loads_and_every_code_is_known() {
        let all = profiles();
        assert!(all.len() >= 60, "only {} profiles", all.len());
        let mut names = std::collections::HashSet::new();
        for p in all {
            assert!(
                names.insert(p.name.to_lowercase()),
                "duplicate name {}",
                p.name
            );
            all_codes_known(p).unwrap_or_else(|e| panic!("{}: unknown {e}", p.id));
            for (what, list) in [
                ("cipher_suites", &p.cipher_suites),
                ("supported_groups", &p.supported_groups),
                ("key_shares", &p.key_shares),
                ("signature_algorithms", &p.signature_algorithms),
                ("supported_versions", &p.supported_versions),
            ] {
                let mut real: Vec<u16> = list
                    .iter()
                    .copied()
                    .filter(|c| !registry::is_grease(*c))
                    .collect();
                let n = real.len();
                real.sort_unstable();
                real.dedup();
                assert_eq!(real.len(), n, "{}: duplicate in {what}", p.id);
            }
            assert!((1995..=2026).contains(&p.year), "{}: year", p.id);
        }
        for category in [
            Category::Browser,
            Category::Mobile,
            Category::Legacy,
            Category::Library,
            Category::Mesh,
            Category::Healthcheck,
        ] {
            assert!(
                all.iter().any(|p| p.category == category),
                "no {category} profile"
            );
        }
    }

    /// Reads the extension types of an encoded hello back from its bytes.
    fn extension_types(records: &[u8]) -> (u16, Vec<u16>, usize) {
        let mut r = Reader::new(records);
        let mut message = Vec::new();
        let mut record_version = 0;
        while !r.is_empty() {
            assert_eq!(r.u8(), Some(22));
            record_version = r.u16().unwrap();
            message.extend_from_slice(r.sub_u16().unwrap().rest());
        }
        let mut m = Reader::new(&message);
        assert_eq!(m.u8(), Some(1));
        let mut h = m.sub_u24().unwrap();
        h.take(2 + 32).unwrap();
        h.sub_u8().unwrap();
        h.sub_u16().unwrap();
        h.sub_u8().unwrap();
        let mut types = Vec::new();
        if !h.is_empty() {
            let mut e = h.sub_u16().unwrap();
            while !e.is_empty() {
                types.push(e.u16().unwrap());
                e.sub_u16().unwrap();
            }
        }
        assert!(h.is_empty());
        (record_version, types, message.len())
    }

    #[test]
    fn every_hello_encodes_and_reads_back_in_profile_order() {
        for p in profiles() {
            let spec = p.hello(Some("test.example"));
            let (record_version, types, len) =
                extension_types(&wire::encode_client_hello(&spec).expect("profile hellos encode"));
            assert_eq!(record_version, p.record_version, "{}", p.id);
            let expected: Vec<u16> = p
                .extensions
                .iter()
                .filter(|e| **e != ExtensionKind::Padding)
                .map(|e| spec_type(*e))
                .collect();
            let sent: Vec<u16> = types
                .iter()
                .copied()
                .filter(|t| *t != wire::hello::ext::PADDING)
                .map(|t| if registry::is_grease(t) { GREASE } else { t })
                .collect();
            assert_eq!(sent, expected, "{}: extension order", p.id);
            let greases: Vec<u16> = types
                .iter()
                .copied()
                .filter(|t| registry::is_grease(*t))
                .collect();
            if greases.len() == 2 {
                assert_ne!(greases[0], greases[1], "{}: GREASE extensions differ", p.id);
            }
            assert_eq!(
                spec.cipher_suites
                    .iter()
                    .filter(|c| registry::is_grease(**c))
                    .count(),
                p.cipher_suites
                    .iter()
                    .filter(|c| registry::is_grease(**c))
                    .count()
            );
            if p.extensions.contains(&ExtensionKind::Padding) {
                assert!(!(256..512).contains(&len), "{}: {len} bytes", p.id);
            } else {
                assert!(!types.contains(&wire::hello::ext::PADDING), "{}", p.id);
            }
        }
    }

    /// The code point a profile extension is sent with ([`GREASE`] for any
    /// GREASE value).
    fn spec_type(kind: ExtensionKind) -> u16 {
        match kind {
            ExtensionKind::Grease => GREASE,
            ExtensionKind::ServerName => 0,
            ExtensionKind::StatusRequest => 5,
            ExtensionKind::SupportedGroups => 10,
            ExtensionKind::EcPointFormats => 11,
            ExtensionKind::SignatureAlgorithms => 13,
            ExtensionKind::Heartbeat => 15,
            ExtensionKind::Alpn => 16,
            ExtensionKind::SignedCertificateTimestamp => 18,
            ExtensionKind::Padding => 21,
            ExtensionKind::EncryptThenMac => 22,
            ExtensionKind::ExtendedMasterSecret => 23,
            ExtensionKind::CompressCertificate => 27,
            ExtensionKind::RecordSizeLimit => 28,
            ExtensionKind::DelegatedCredentials => 34,
            ExtensionKind::SessionTicket => 35,
            ExtensionKind::SupportedVersions => 43,
            ExtensionKind::PskKeyExchangeModes => 45,
            ExtensionKind::PostHandshakeAuth => 49,
            ExtensionKind::SignatureAlgorithmsCert => 50,
            ExtensionKind::KeyShare => 51,
            ExtensionKind::NextProtocolNegotiation => 13172,
            ExtensionKind::ApplicationSettings => 17513,
            ExtensionKind::ApplicationSettingsNew => 17613,
            ExtensionKind::ChannelId => 30032,
            ExtensionKind::EncryptedClientHello => 0xfe0d,
            ExtensionKind::RenegotiationInfo => 0xff01,
            ExtensionKind::Other(code) => code,
        }
    }

    #[test]
    fn no_sni_drops_server_name_only() {
        let p = by_name("Chrome 131 / Win 11").expect("profile");
        let with = p.hello(Some("a.test"));
        let without = p.hello(None);
        assert_eq!(with.extensions.len(), without.extensions.len() + 1);
        assert!(with
            .extensions
            .iter()
            .any(|e| matches!(e, Extension::ServerName(n) if n == "a.test")));
    }

    #[test]
    fn matching_by_substring_glob_family_and_category() {
        assert!(matching("ie 11").iter().all(|p| p.name.contains("IE 11")));
        assert!(!matching("ie 11").is_empty());
        let mesh = matching("mesh");
        assert!(!mesh.is_empty() && mesh.iter().all(|p| p.category == Category::Mesh));
        assert_eq!(matching("").len(), profiles().len());
        assert_eq!(matching("all").len(), profiles().len());
        let java = matching("java *");
        assert!(java.len() >= 5);
        assert!(matching("no-such-client-xyz").is_empty());
        assert!(glob(b"a*c", b"abbbc") && !glob(b"a?c", b"abbc"));
    }

    #[test]
    fn legacy_facts_hold() {
        let ie11 = by_name("IE 11 / Win 7").unwrap();
        assert_eq!(ie11.max_version(), ProtocolVersion::Tls12);
        assert!(!ie11.supported_groups.contains(&0x001D), "no X25519");
        assert!(!ie11.real_suites().any(|s| s == 0xCCA8 || s == 0xCCA9));
        let java7 = by_name("Java 7u25").unwrap();
        assert_eq!(java7.max_version(), ProtocolVersion::Tls10);
        assert_eq!(java7.limits.max_dh_bits, Some(1024));
        assert!(!java7
            .real_suites()
            .any(|s| registry::cipher_suite(s).is_some_and(|c| c.aead)));
    }

    #[test]
    fn bad_profiles_are_refused_with_the_reason() {
        let base = r#"
name = "X"
family = "X"
version = "1"
platform = "p"
year = 2020
category = "library"
sources = ["s"]
[hello]
record_version = "0x0301"
legacy_version = "0x0303"
cipher_suites = ["0xC02F"]
extensions = ["server_name", "padding", "renegotiation_info"]
"#;
        let e = ClientProfile::parse("x.toml", base).unwrap_err();
        assert!(e.contains("padding must be the last"), "{e}");
        let unknown = base.replace("\"padding\", ", "\"nonsense\", ");
        assert!(ClientProfile::parse("x.toml", &unknown)
            .unwrap_err()
            .contains("unknown extension"));
        let fine = base.replace("\"padding\", ", "");
        let p = ClientProfile::parse("x.toml", &fine).unwrap();
        assert_eq!(
            p.versions(),
            vec![
                ProtocolVersion::Tls10,
                ProtocolVersion::Tls11,
                ProtocolVersion::Tls12
            ]
        );
    }
}
