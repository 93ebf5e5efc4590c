//! TLS cipher suites: `registry/cipher_suites.csv` (every IANA-assigned
//! suite plus the pre-IANA ones deployed servers still know) and the two
//! signalling values that share the code space but are never suites.
//!
//! Lookups are by code, by name, or by protocol version in offering order.
//! Nothing here decides what a scan probes; `scan/` does, using this order.

use std::cmp::Reverse;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::strength::{classify, Strength};
use super::{load_table, non_empty, parse_hex16};
use crate::wire::ProtocolVersion;

/// Secure renegotiation signal (RFC 5746); carried in the cipher list, not a suite.
pub const TLS_EMPTY_RENEGOTIATION_INFO_SCSV: u16 = 0x00FF;
/// Downgrade signal (RFC 7507); carried in the cipher list, not a suite.
pub const TLS_FALLBACK_SCSV: u16 = 0x5600;

const SUITES_FILE: &str = "cipher_suites.csv";
const SUITES_CSV: &str = include_str!("../../registry/cipher_suites.csv");
const SCSV_FILE: &str = "cipher_suite_scsvs.csv";
const SCSV_CSV: &str = include_str!("../../registry/cipher_suite_scsvs.csv");

/// One cipher suite as the registry describes it.
///
/// `kx` is the key exchange (`RSA`, `DHE`, `ECDHE`, `DH`, `ECDH`, `PSK`,
/// `DHE_PSK`, `ECDHE_PSK`, `RSA_PSK`, `SRP`, `KRB5`, `ECCPWD`, `GOST`,
/// `any` for TLS 1.3, `NULL`); anonymous DH/ECDH suites have `kx` `DHE` /
/// `ECDHE` (their keys are ephemeral) and `auth` `anon`. `bits` is the
/// effective key strength (3DES counts 112, export 40 or 56). `mac` is
/// `AEAD` for AEAD ciphers, whose name suffix is only the PRF hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CipherSuite {
    pub code: u16,
    pub iana: String,
    pub openssl: Option<String>,
    pub min_version: ProtocolVersion,
    pub max_version: ProtocolVersion,
    pub kx: String,
    pub auth: String,
    pub cipher: String,
    pub bits: u16,
    pub mac: String,
    pub aead: bool,
    pub forward_secrecy: bool,
    pub export: bool,
    pub iana_assigned: bool,
}

impl CipherSuite {
    /// The suite's strength class, derived from its attributes.
    pub fn strength(&self) -> Strength {
        classify(self)
    }

    /// Whether a server may negotiate this suite at version `v`, per the
    /// specifications (inclusive range `min_version..=max_version`).
    pub fn valid_for(&self, v: ProtocolVersion) -> bool {
        self.min_version <= v && v <= self.max_version
    }

    /// The code as reports print it: `0xC02F`.
    pub fn code_hex(&self) -> String {
        format!("0x{:04X}", self.code)
    }
}

#[derive(Deserialize)]
struct SuiteRow {
    code: String,
    iana: String,
    openssl: String,
    min_version: String,
    max_version: String,
    kx: String,
    auth: String,
    cipher: String,
    bits: u16,
    mac: String,
    aead: bool,
    fs: bool,
    export: bool,
    iana_assigned: bool,
}

fn parse_version(text: &str) -> Result<ProtocolVersion, String> {
    ProtocolVersion::parse_name(text).ok_or_else(|| format!("unknown protocol version {text:?}"))
}

fn suite_from_row(row: SuiteRow) -> Result<CipherSuite, String> {
    let suite = CipherSuite {
        code: parse_hex16(&row.code)?,
        iana: row.iana,
        openssl: non_empty(row.openssl),
        min_version: parse_version(&row.min_version)?,
        max_version: parse_version(&row.max_version)?,
        kx: row.kx,
        auth: row.auth,
        cipher: row.cipher,
        bits: row.bits,
        mac: row.mac,
        aead: row.aead,
        forward_secrecy: row.fs,
        export: row.export,
        iana_assigned: row.iana_assigned,
    };
    if suite.min_version > suite.max_version {
        return Err(format!("{}: min_version after max_version", suite.iana));
    }
    Ok(suite)
}

/// Every real cipher suite, sorted by code. Signalling values are not here.
pub fn cipher_suites() -> &'static [CipherSuite] {
    static TABLE: OnceLock<Vec<CipherSuite>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut suites = load_table(SUITES_FILE, SUITES_CSV, suite_from_row);
        suites.sort_by_key(|s| s.code);
        suites
    })
}

/// The suite with this code; `None` for unassigned codes, GREASE and SCSVs.
pub fn cipher_suite(code: u16) -> Option<&'static CipherSuite> {
    super::find_by_code(cipher_suites(), code, |s| s.code)
}

/// The suite with this name: the IANA name (which Go's `crypto/tls` also
/// uses), the Java-style `SSL_` spelling of it, or the OpenSSL/BoringSSL
/// name (which Istio's `cipherSuites` use). Matching is case-sensitive, as
/// OpenSSL's is; `None` when no suite has that name.
pub fn cipher_suite_by_name(name: &str) -> Option<&'static CipherSuite> {
    let tls_spelling = name.strip_prefix("SSL_").map(|rest| format!("TLS_{rest}"));
    cipher_suites().iter().find(|s| {
        s.iana == name
            || s.openssl.as_deref() == Some(name)
            || tls_spelling.as_deref() == Some(s.iana.as_str())
    })
}

/// Whether `code` is a signalling value (`TLS_EMPTY_RENEGOTIATION_INFO_SCSV`,
/// `TLS_FALLBACK_SCSV`) rather than a suite a server could select.
pub fn is_scsv(code: u16) -> bool {
    scsvs().iter().any(|&(c, _)| c == code)
}

fn scsvs() -> &'static [(u16, String)] {
    #[derive(Deserialize)]
    struct ScsvRow {
        code: String,
        name: String,
    }
    static TABLE: OnceLock<Vec<(u16, String)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        load_table(SCSV_FILE, SCSV_CSV, |row: ScsvRow| {
            Ok((parse_hex16(&row.code)?, row.name))
        })
    })
}

/// Every suite valid for `version`, in offering order: strongest class
/// first, and within a class the suites servers most often enable (ECDHE,
/// then DHE, then static RSA; AES-GCM and ChaCha20 before the national and
/// niche ciphers; IANA before pre-IANA), so a ClientHello truncated to its
/// first N suites still meets common servers. Empty for SSLv2, whose cipher
/// kinds are a separate table.
///
/// Sorted once per version: every hello the scan builds asks for this
/// list, and ranking (string matching, the strength classification) per
/// call was most of a fleet scan's own CPU.
pub fn suites_for(version: ProtocolVersion) -> Vec<&'static CipherSuite> {
    static SORTED: OnceLock<Vec<(ProtocolVersion, Vec<&'static CipherSuite>)>> = OnceLock::new();
    let sorted = SORTED.get_or_init(|| {
        ProtocolVersion::ALL
            .into_iter()
            .map(|v| {
                let mut suites: Vec<&'static CipherSuite> =
                    cipher_suites().iter().filter(|s| s.valid_for(v)).collect();
                suites.sort_by_cached_key(|s| offer_rank(s));
                (v, suites)
            })
            .collect()
    });
    sorted
        .iter()
        .find(|(v, _)| *v == version)
        .map(|(_, suites)| suites.clone())
        .unwrap_or_default()
}

/// The sort key behind `suites_for`; smaller sorts earlier.
fn offer_rank(s: &CipherSuite) -> impl Ord {
    let kx = match s.kx.as_str() {
        "any" | "ECDHE" => 0,
        "DHE" => 1,
        "RSA" => 2,
        "ECDH" => 3,
        "DH" => 4,
        "ECDHE_PSK" | "DHE_PSK" | "PSK" | "RSA_PSK" => 5,
        "SRP" => 6,
        _ => 7,
    };
    let cipher = match s.cipher.as_str() {
        c if c.starts_with("AES-") && c.ends_with("-GCM") => 0,
        "CHACHA20-POLY1305" => 1,
        c if c.starts_with("AES-") && c.contains("-CCM") => 2,
        c if c.starts_with("AES-") => 3,
        c if c.starts_with("CAMELLIA") => 4,
        c if c.starts_with("ARIA") => 5,
        _ => 6,
    };
    let auth = match s.auth.as_str() {
        "ECDSA" | "RSA" | "any" => 0,
        "DSS" => 1,
        _ => 2,
    };
    // CBC suites with SHA-1 are far more often enabled than their SHA-256 twins.
    let mac = match s.mac.as_str() {
        "AEAD" | "SHA1" => 0,
        "SHA256" | "SHA384" => 1,
        _ => 2,
    };
    (
        Reverse(s.strength()),
        !s.iana_assigned,
        Reverse(s.forward_secrecy),
        kx,
        cipher,
        auth,
        Reverse(s.bits),
        mac,
        s.code,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn table_loads_sorted_with_unique_codes_and_names() {
        let suites = cipher_suites();
        assert!(
            suites.windows(2).all(|w| w[0].code < w[1].code),
            "duplicate or unsorted codes"
        );
        let mut iana = HashSet::new();
        let mut openssl = HashSet::new();
        for s in suites {
            assert!(iana.insert(&s.iana), "duplicate IANA name {}", s.iana);
            if let Some(name) = &s.openssl {
                assert!(openssl.insert(name), "duplicate OpenSSL name {name}");
            }
        }
    }

    #[test]
    fn iana_assigned_count_matches_the_registry() {
        // The IANA "TLS Cipher Suites" registry lists 350 suites (0x0000
        // through 0xD005, GOST and AEGIS included), not counting the two SCSVs
        // and the GREASE reservations.
        let assigned = cipher_suites().iter().filter(|s| s.iana_assigned).count();
        assert_eq!(assigned, 350);
    }

    #[test]
    fn attributes_are_consistent() {
        let known_kx = [
            "RSA",
            "DHE",
            "ECDHE",
            "DH",
            "ECDH",
            "PSK",
            "DHE_PSK",
            "ECDHE_PSK",
            "RSA_PSK",
            "SRP",
            "KRB5",
            "ECCPWD",
            "GOST",
            "any",
            "NULL",
        ];
        for s in cipher_suites() {
            let id = format!("{} {}", s.code_hex(), s.iana);
            assert!(known_kx.contains(&s.kx.as_str()), "{id}: kx {}", s.kx);
            assert!(
                s.min_version >= ProtocolVersion::Ssl3,
                "{id}: SSLv2 has its own table"
            );
            assert_eq!(s.aead, s.mac == "AEAD", "{id}: aead flag and mac disagree");
            if s.max_version == ProtocolVersion::Tls13 || s.min_version == ProtocolVersion::Tls13 {
                assert_eq!(
                    s.min_version, s.max_version,
                    "{id}: TLS 1.3 suites are 1.3 only"
                );
                assert_eq!((s.kx.as_str(), s.auth.as_str()), ("any", "any"), "{id}");
                assert!(s.forward_secrecy, "{id}");
            }
            if (s.code >> 8) == 0x13 {
                assert_eq!(s.min_version, ProtocolVersion::Tls13, "{id}");
            }
            if s.aead && s.kx != "any" {
                assert_eq!(
                    s.min_version,
                    ProtocolVersion::Tls12,
                    "{id}: AEAD needs TLS 1.2"
                );
            }
            if s.export {
                assert!(
                    s.max_version <= ProtocolVersion::Tls10,
                    "{id}: TLS 1.1 forbids export"
                );
                assert!(s.bits <= 56, "{id}");
            }
            if matches!(
                s.kx.as_str(),
                "DHE" | "ECDHE" | "DHE_PSK" | "ECDHE_PSK" | "any"
            ) {
                assert!(s.forward_secrecy, "{id}: ephemeral key exchange");
            }
            if matches!(
                s.kx.as_str(),
                "RSA" | "DH" | "ECDH" | "PSK" | "RSA_PSK" | "KRB5"
            ) {
                assert!(!s.forward_secrecy, "{id}: static key exchange");
            }
            assert_eq!(
                s.cipher == "NULL",
                s.bits == 0,
                "{id}: NULL cipher iff 0 bits"
            );
        }
    }

    #[test]
    fn pre_iana_suites_are_the_known_deployed_ones() {
        // Export-1024 drafts and DHE-DSS-RC4 (0x0060-0x0066), the CryptoPro
        // GOST drafts (0x0080-0x0083), ChaCha20 before RFC 7905
        // (0xCC13-0xCC15) and Netscape's FIPS suites (0xFEFE-0xFEFF).
        let pre_iana: Vec<u16> = cipher_suites()
            .iter()
            .filter(|s| !s.iana_assigned)
            .map(|s| s.code)
            .collect();
        let expected: Vec<u16> = (0x0060..=0x0066)
            .chain(0x0080..=0x0083)
            .chain(0xCC13..=0xCC15)
            .chain(0xFEFE..=0xFEFF)
            .collect();
        assert_eq!(pre_iana, expected);
    }

    #[test]
    fn scsvs_are_flagged_and_never_suites() {
        assert!(is_scsv(TLS_EMPTY_RENEGOTIATION_INFO_SCSV));
        assert!(is_scsv(TLS_FALLBACK_SCSV));
        assert_eq!(scsvs().len(), 2);
        for (code, name) in scsvs() {
            assert!(cipher_suite(*code).is_none(), "{name} must not be a suite");
            assert!(cipher_suite_by_name(name).is_none());
        }
        assert!(!is_scsv(0xC02F));
    }

    #[test]
    fn lookups_by_code_and_name() {
        let s = cipher_suite(0xC02F).expect("0xC02F");
        assert_eq!(s.iana, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assert_eq!(s.openssl.as_deref(), Some("ECDHE-RSA-AES128-GCM-SHA256"));
        assert_eq!(s.code_hex(), "0xC02F");
        assert_eq!(cipher_suite_by_name("ECDHE-RSA-AES128-GCM-SHA256"), Some(s));
        assert_eq!(
            cipher_suite_by_name("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
            Some(s)
        );
        assert_eq!(cipher_suite_by_name("ecdhe-rsa-aes128-gcm-sha256"), None);
        assert_eq!(
            cipher_suite_by_name("SSL_RSA_WITH_3DES_EDE_CBC_SHA").map(|s| s.code),
            Some(0x000A)
        );
        assert_eq!(
            cipher_suite_by_name("TLS_AES_128_GCM_SHA256").map(|s| s.code),
            Some(0x1301)
        );
        assert_eq!(cipher_suite(0x0A0A), None);
        assert_eq!(
            cipher_suite(0x0001).map(|s| s.code_hex()),
            Some("0x0001".into())
        );
    }

    #[test]
    fn versions_partition_as_specified() {
        let tls13 = suites_for(ProtocolVersion::Tls13);
        assert!(tls13.iter().all(|s| s.kx == "any"));
        assert!(tls13.iter().any(|s| s.code == 0x1301));
        assert!(suites_for(ProtocolVersion::Tls12)
            .iter()
            .all(|s| s.kx != "any"));
        assert!(suites_for(ProtocolVersion::Ssl2).is_empty());
        let tls11 = suites_for(ProtocolVersion::Tls11);
        assert!(tls11.iter().all(|s| !s.aead && !s.export));
        assert!(tls11.iter().any(|s| s.code == 0xC013));
        let ssl3 = suites_for(ProtocolVersion::Ssl3);
        assert!(
            ssl3.iter().any(|s| s.code == 0x0003),
            "export suites in SSLv3"
        );
        assert!(
            ssl3.iter().all(|s| !s.kx.contains("ECDH")),
            "RFC 4492 is TLS-only"
        );
    }

    #[test]
    fn offering_order_puts_common_strong_suites_first_and_null_last() {
        let tls12 = suites_for(ProtocolVersion::Tls12);
        let strengths: Vec<Strength> = tls12.iter().map(|s| s.strength()).collect();
        assert!(
            strengths.windows(2).all(|w| w[0] >= w[1]),
            "sorted by strength"
        );
        let first: Vec<u16> = tls12.iter().take(6).map(|s| s.code).collect();
        for code in [0xC02B, 0xC02C, 0xC02F, 0xC030, 0xCCA8, 0xCCA9] {
            assert!(
                first.contains(&code),
                "0x{code:04X} among the first six: {first:04X?}"
            );
        }
        assert_eq!(tls12.last().map(|s| s.strength()), Some(Strength::Null));
        let position = |code: u16| tls12.iter().position(|s| s.code == code).unwrap();
        assert!(
            position(0xC013) < position(0x002F),
            "CBC with FS before static RSA CBC"
        );
        assert!(position(0x009C) < position(0xC013), "AEAD before CBC");
        assert!(
            position(0xC013) < position(0xC027),
            "SHA-1 CBC before its SHA-256 twin"
        );
    }
}
