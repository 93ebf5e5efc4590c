//! Named groups (the `supported_groups` registry): elliptic curves, FFDHE
//! groups, and the post-quantum and hybrid KEMs, from
//! `registry/named_groups.csv`.
//!
//! `bits` is the size scanners conventionally print, not a security level:
//! the curve's field size, the FFDHE modulus size, or the ML-KEM parameter
//! set (512/768/1024) for pure and hybrid KEMs.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::{load_table, non_empty, parse_hex16};

const FILE: &str = "named_groups.csv";
const CSV: &str = include_str!("../../registry/named_groups.csv");

/// What kind of key exchange a group performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    /// Elliptic-curve Diffie-Hellman (including x25519/x448).
    Ecdhe,
    /// Finite-field Diffie-Hellman groups of RFC 7919.
    Ffdhe,
    /// Classical ECDH combined with a post-quantum KEM (`X25519MLKEM768`).
    HybridPq,
    /// A post-quantum KEM alone (`MLKEM768`).
    Pq,
    /// Anything else (the explicit-curve placeholders).
    Other,
}

/// One `supported_groups` code point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedGroup {
    pub code: u16,
    /// The IANA name: `x25519`, `secp256r1`, `X25519MLKEM768`.
    pub name: String,
    /// The name OpenSSL's `-groups` accepts (`X25519`, `P-256`), if any.
    pub openssl: Option<String>,
    pub kind: GroupKind,
    pub bits: u16,
    /// Usable in TLS 1.3 (RFC 8446 dropped the binary and small prime curves).
    pub tls13: bool,
    /// IANA's "Recommended" column is `Y`.
    pub recommended: bool,
    /// IANA marks it discouraged (`D`), or it is an obsolete draft code point.
    pub deprecated: bool,
}

#[derive(Deserialize)]
struct Row {
    code: String,
    name: String,
    openssl: String,
    kind: GroupKind,
    bits: u16,
    tls13: bool,
    recommended: bool,
    deprecated: bool,
}

/// Every named group, sorted by code.
pub fn named_groups() -> &'static [NamedGroup] {
    static TABLE: OnceLock<Vec<NamedGroup>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut groups = load_table(FILE, CSV, |row: Row| {
            Ok(NamedGroup {
                code: parse_hex16(&row.code)?,
                name: row.name,
                openssl: non_empty(row.openssl),
                kind: row.kind,
                bits: row.bits,
                tls13: row.tls13,
                recommended: row.recommended,
                deprecated: row.deprecated,
            })
        });
        groups.sort_by_key(|g| g.code);
        groups
    })
}

/// The group with this code; `None` for unassigned codes and GREASE.
pub fn named_group(code: u16) -> Option<&'static NamedGroup> {
    super::find_by_code(named_groups(), code, |g| g.code)
}

/// The group's registry name (`x25519`, `X25519MLKEM768`), or its code as
/// `0x0A0A` for one the registry does not know (GREASE, private use).
pub fn group_name(code: u16) -> String {
    named_group(code).map_or_else(|| format!("0x{code:04X}"), |g| g.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn table_loads_with_unique_codes_and_names() {
        let groups = named_groups();
        assert!(groups.windows(2).all(|w| w[0].code < w[1].code));
        let names: HashSet<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names.len(), groups.len());
        // sect163k1..x448 (1-30), brainpool TLS 1.3 (31-33), GOST (34-40),
        // curveSM2, five FFDHE, three ML-KEM, three hybrids, two Kyber
        // drafts, two explicit-curve placeholders.
        assert_eq!(groups.len(), 56);
    }

    #[test]
    fn well_known_groups() {
        let x25519 = named_group(0x001D).expect("x25519");
        assert_eq!(
            (x25519.name.as_str(), x25519.kind),
            ("x25519", GroupKind::Ecdhe)
        );
        assert_eq!(x25519.openssl.as_deref(), Some("X25519"));
        assert!(x25519.tls13 && x25519.recommended && !x25519.deprecated);
        assert_eq!(
            named_group(0x0017).and_then(|g| g.openssl.as_deref()),
            Some("P-256")
        );
        let hybrid = named_group(0x11EC).expect("X25519MLKEM768");
        assert_eq!(
            (hybrid.name.as_str(), hybrid.kind),
            ("X25519MLKEM768", GroupKind::HybridPq)
        );
        assert_eq!(named_group(0x0201).map(|g| g.kind), Some(GroupKind::Pq));
        assert_eq!(
            named_group(0x0100).map(|g| (g.kind, g.bits)),
            Some((GroupKind::Ffdhe, 2048))
        );
        assert!(named_group(0x6399).is_some_and(|g| g.deprecated));
        assert!(named_group(0x0001).is_some_and(|g| g.deprecated && !g.tls13));
        assert_eq!(named_group(0x0A0A), None);
    }

    #[test]
    fn kinds_are_consistent() {
        for g in named_groups() {
            let id = format!("0x{:04X} {}", g.code, g.name);
            match g.kind {
                GroupKind::Ffdhe => assert!((0x0100..=0x01FF).contains(&g.code), "{id}"),
                GroupKind::HybridPq | GroupKind::Pq => {
                    assert!(g.tls13, "{id}: KEMs are TLS 1.3 only")
                }
                GroupKind::Ecdhe | GroupKind::Other => {}
            }
            assert!(!(g.recommended && g.deprecated), "{id}");
        }
    }
}
