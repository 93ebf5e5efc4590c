//! How much a negotiated cipher suite protects a connection, as one ordered
//! verdict derived from the suite's attributes. It is derived here, in one
//! function, and never stored in the table, so a table edit cannot make a
//! suite's attributes and its strength disagree.

use serde::{Deserialize, Serialize};

use super::CipherSuite;

/// A cipher suite's strength, weakest first: `Ord` ranks suites, so
/// `Strength::Cbc < Strength::AeadWithFs`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub enum Strength {
    /// No encryption at all (NULL ciphers, integrity-only suites).
    #[serde(rename = "null")]
    Null,
    /// Encrypted but unauthenticated: anyone in the middle can be the server.
    #[serde(rename = "anonymous")]
    Anonymous,
    /// Deliberately weakened export-grade keys (40 or 56 bits).
    #[serde(rename = "export")]
    Export,
    /// Broken or obsolete primitives: RC4, DES, 3DES and other 64-bit block
    /// ciphers (Sweet32), or an MD5 MAC.
    #[serde(rename = "weak")]
    Weak,
    /// A sound block cipher in MAC-then-encrypt mode (CBC, or CTR with a
    /// separate MAC), whatever the key exchange.
    #[serde(rename = "cbc")]
    Cbc,
    /// AEAD without forward secrecy (static RSA, fixed DH, plain PSK).
    #[serde(rename = "aead_no_fs")]
    AeadWithoutFs,
    /// AEAD with an ephemeral key exchange: the modern baseline.
    #[serde(rename = "aead_fs")]
    AeadWithFs,
}

impl Strength {
    /// The report name (`"aead_fs"`), the same as the serde name.
    pub fn name(self) -> &'static str {
        match self {
            Strength::Null => "null",
            Strength::Anonymous => "anonymous",
            Strength::Export => "export",
            Strength::Weak => "weak",
            Strength::Cbc => "cbc",
            Strength::AeadWithoutFs => "aead_no_fs",
            Strength::AeadWithFs => "aead_fs",
        }
    }
}

impl std::fmt::Display for Strength {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Ciphers whose block is 64 bits or whose design is broken, by the prefix
/// of their table name (`DES` covers `DES-CBC`, `DES40-CBC`, `DES-CBC-40`).
const WEAK_CIPHER_PREFIXES: [&str; 7] = ["RC4", "RC2", "DES", "3DES", "IDEA", "MAGMA", "GOST28147"];

/// The one place strength is decided. The checks run from the worst flaw
/// down, so a suite lands in the class of its worst property: an anonymous
/// export suite is `Anonymous`, an ECDHE suite with 3DES is `Weak`.
pub(super) fn classify(suite: &CipherSuite) -> Strength {
    if suite.cipher == "NULL" {
        Strength::Null
    } else if suite.auth == "anon" {
        Strength::Anonymous
    } else if suite.export {
        Strength::Export
    } else if WEAK_CIPHER_PREFIXES
        .iter()
        .any(|p| suite.cipher.starts_with(p))
        || suite.mac == "MD5"
        || suite.bits < 112
    {
        Strength::Weak
    } else if !suite.aead {
        Strength::Cbc
    } else if suite.forward_secrecy {
        Strength::AeadWithFs
    } else {
        Strength::AeadWithoutFs
    }
}

#[cfg(test)]
mod tests {
    use super::super::cipher_suite;
    use super::*;

    fn strength_of(code: u16) -> Strength {
        cipher_suite(code)
            .unwrap_or_else(|| panic!("0x{code:04X} is in the registry"))
            .strength()
    }

    #[test]
    fn spot_checks() {
        assert_eq!(strength_of(0xC02F), Strength::AeadWithFs);
        assert_eq!(strength_of(0x1301), Strength::AeadWithFs);
        assert_eq!(strength_of(0xCCA8), Strength::AeadWithFs);
        assert_eq!(strength_of(0x009C), Strength::AeadWithoutFs);
        assert_eq!(strength_of(0xC013), Strength::Cbc);
        assert_eq!(strength_of(0x002F), Strength::Cbc);
        assert_eq!(strength_of(0x000A), Strength::Weak);
        assert_eq!(strength_of(0xC012), Strength::Weak);
        assert_eq!(strength_of(0x0005), Strength::Weak);
        assert_eq!(strength_of(0x0003), Strength::Export);
        assert_eq!(strength_of(0x0062), Strength::Export);
        assert_eq!(strength_of(0x0018), Strength::Anonymous);
        assert_eq!(strength_of(0xC018), Strength::Anonymous);
        assert_eq!(strength_of(0x0002), Strength::Null);
        assert_eq!(strength_of(0x0000), Strength::Null);
        assert_eq!(strength_of(0xC0B4), Strength::Null);
    }

    #[test]
    fn order_is_weakest_first() {
        assert!(Strength::Null < Strength::Anonymous);
        assert!(Strength::Weak < Strength::Cbc);
        assert!(Strength::AeadWithoutFs < Strength::AeadWithFs);
    }

    #[test]
    fn serde_names_match_report_names() {
        for s in [
            Strength::Null,
            Strength::Anonymous,
            Strength::Export,
            Strength::Weak,
            Strength::Cbc,
            Strength::AeadWithoutFs,
            Strength::AeadWithFs,
        ] {
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.name())
            );
        }
    }
}
