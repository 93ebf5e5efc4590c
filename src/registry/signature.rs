//! Signature schemes (`signature_algorithms`), from
//! `registry/signature_schemes.csv`: the TLS 1.3 `SignatureScheme` registry
//! plus the TLS 1.2 hash/signature pairs (`0x0101` md5+rsa … `0x0602`
//! sha512+dsa) that TLS 1.3 retired but old servers still send.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::{load_table, parse_hex16};

const FILE: &str = "signature_schemes.csv";
const CSV: &str = include_str!("../../registry/signature_schemes.csv");

/// One signature scheme code point.
///
/// `hash` is the digest (`sha256`, `md5`, …; `intrinsic` for EdDSA and
/// ML-DSA, which hash internally). `kind` is the algorithm family:
/// `rsa_pkcs1`, `rsa_pss_rsae`, `rsa_pss_pss`, `ecdsa`, `eddsa`, `dsa`,
/// `sm2`, `gost`, `ibc`, `mldsa`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureScheme {
    pub code: u16,
    pub name: String,
    pub hash: String,
    pub kind: String,
    /// Allowed in a TLS 1.3 CertificateVerify.
    pub tls13: bool,
}

#[derive(Deserialize)]
struct Row {
    code: String,
    name: String,
    hash: String,
    kind: String,
    tls13: bool,
}

/// Every signature scheme, sorted by code.
pub fn signature_schemes() -> &'static [SignatureScheme] {
    static TABLE: OnceLock<Vec<SignatureScheme>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut schemes = load_table(FILE, CSV, |row: Row| {
            Ok(SignatureScheme {
                code: parse_hex16(&row.code)?,
                name: row.name,
                hash: row.hash,
                kind: row.kind,
                tls13: row.tls13,
            })
        });
        schemes.sort_by_key(|s| s.code);
        schemes
    })
}

/// The scheme with this code; `None` for unassigned codes and GREASE.
pub fn signature_scheme(code: u16) -> Option<&'static SignatureScheme> {
    super::find_by_code(signature_schemes(), code, |s| s.code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn table_loads_with_unique_codes_and_names() {
        let schemes = signature_schemes();
        assert!(schemes.windows(2).all(|w| w[0].code < w[1].code));
        let names: HashSet<&str> = schemes.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names.len(), schemes.len());
        assert_eq!(schemes.len(), 47);
    }

    #[test]
    fn tls13_usability_follows_rfc8446() {
        for s in signature_schemes() {
            if matches!(s.hash.as_str(), "md5" | "sha1" | "sha224") || s.kind == "dsa" {
                assert!(!s.tls13, "{} is not allowed in TLS 1.3", s.name);
            }
            if s.kind.starts_with("rsa_pss") || s.kind == "eddsa" || s.kind == "mldsa" {
                assert!(s.tls13, "{}", s.name);
            }
        }
        assert!(
            !signature_scheme(0x0401).unwrap().tls13,
            "PKCS#1 v1.5 only in certificates"
        );
        assert_eq!(
            signature_scheme(0x0807).map(|s| s.name.as_str()),
            Some("ed25519")
        );
        assert_eq!(
            signature_scheme(0x0804).map(|s| s.hash.as_str()),
            Some("sha256")
        );
    }
}
