//! Protocol versions as the scanner names them, and their wire encodings.
//!
//! One enum for every module: the report names (`TLS1.2`), the wire values
//! (`0x0303`) and the ordering (SSLv2 < … < TLS 1.3) all come from here.

use serde::{Deserialize, Serialize};

/// A protocol version the scanner can probe, oldest first.
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
pub enum ProtocolVersion {
    #[serde(rename = "SSLv2")]
    Ssl2,
    #[serde(rename = "SSLv3")]
    Ssl3,
    #[serde(rename = "TLS1.0")]
    Tls10,
    #[serde(rename = "TLS1.1")]
    Tls11,
    #[serde(rename = "TLS1.2")]
    Tls12,
    #[serde(rename = "TLS1.3")]
    Tls13,
}

impl ProtocolVersion {
    /// Every version, oldest first: the order of the report's `protocols` list.
    pub const ALL: [ProtocolVersion; 6] = [
        ProtocolVersion::Ssl2,
        ProtocolVersion::Ssl3,
        ProtocolVersion::Tls10,
        ProtocolVersion::Tls11,
        ProtocolVersion::Tls12,
        ProtocolVersion::Tls13,
    ];

    /// The two-byte value carried in hellos (`0x0002` for SSLv2's CLIENT-HELLO).
    pub fn wire(self) -> u16 {
        match self {
            ProtocolVersion::Ssl2 => 0x0002,
            ProtocolVersion::Ssl3 => 0x0300,
            ProtocolVersion::Tls10 => 0x0301,
            ProtocolVersion::Tls11 => 0x0302,
            ProtocolVersion::Tls12 => 0x0303,
            ProtocolVersion::Tls13 => 0x0304,
        }
    }

    /// The version a wire value names; `None` for anything else (drafts, GREASE).
    pub fn from_wire(value: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.wire() == value)
    }

    /// The name used in reports and tables: `SSLv2`, `TLS1.2`, …
    pub fn name(self) -> &'static str {
        match self {
            ProtocolVersion::Ssl2 => "SSLv2",
            ProtocolVersion::Ssl3 => "SSLv3",
            ProtocolVersion::Tls10 => "TLS1.0",
            ProtocolVersion::Tls11 => "TLS1.1",
            ProtocolVersion::Tls12 => "TLS1.2",
            ProtocolVersion::Tls13 => "TLS1.3",
        }
    }

    /// Parses a report name (`TLS1.2`), case-insensitively, also accepting
    /// `TLSv1.2` and `TLS 1.2`.
    pub fn parse_name(text: &str) -> Option<Self> {
        let norm: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase()
            .replace("TLSV", "TLS");
        Self::ALL
            .into_iter()
            .find(|v| v.name().to_ascii_uppercase() == norm)
    }
}

impl std::fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_values_round_trip() {
        for v in ProtocolVersion::ALL {
            assert_eq!(ProtocolVersion::from_wire(v.wire()), Some(v));
        }
        assert_eq!(ProtocolVersion::from_wire(0x7f1c), None);
    }

    #[test]
    fn names_parse_in_common_spellings() {
        assert_eq!(
            ProtocolVersion::parse_name("TLSv1.2"),
            Some(ProtocolVersion::Tls12)
        );
        assert_eq!(
            ProtocolVersion::parse_name("tls 1.3"),
            Some(ProtocolVersion::Tls13)
        );
        assert_eq!(
            ProtocolVersion::parse_name("SSLv3"),
            Some(ProtocolVersion::Ssl3)
        );
        assert_eq!(ProtocolVersion::parse_name("TLS1.4"), None);
    }
}
