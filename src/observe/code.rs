//! Serde for 16-bit registry codes (suites, groups, signature schemes):
//! numbers in memory, upper-case `0xC02F` strings in the JSON contract.

use serde::{Deserialize, Deserializer, Serializer};

/// `0xC02F` for 0xC02F.
pub fn hex(code: u16) -> String {
    format!("0x{code:04X}")
}

/// Reads `0xC02F` (or `C02F`, any case) back.
pub fn parse(text: &str) -> Option<u16> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    u16::from_str_radix(digits, 16).ok()
}

/// Cipher suite codes: 16-bit IANA codes as `0xC02F`, the 24-bit SSLv2
/// cipher kinds as `0x010080`.
pub mod suite {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn hex(code: u32) -> String {
        match u16::try_from(code) {
            Ok(short) => super::hex(short),
            Err(_) => format!("0x{code:06X}"),
        }
    }

    pub fn serialize<S: Serializer>(code: &u32, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex(*code))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
        let text = String::deserialize(deserializer)?;
        let digits = text.strip_prefix("0x").unwrap_or(&text);
        u32::from_str_radix(digits, 16)
            .ok()
            .filter(|c| *c <= 0xFF_FFFF)
            .ok_or_else(|| serde::de::Error::custom(format!("not a suite code: {text:?}")))
    }
}

pub fn serialize<S: Serializer>(code: &u16, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&hex(*code))
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u16, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse(&text).ok_or_else(|| serde::de::Error::custom(format!("not a 16-bit hex code: {text:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_print_and_parse_back() {
        assert_eq!(hex(0xC02F), "0xC02F");
        assert_eq!(hex(0x1D), "0x001D");
        assert_eq!(parse("0xC02F"), Some(0xC02F));
        assert_eq!(parse("0x11ec"), Some(0x11EC));
        assert_eq!(parse("0x1_0000"), None);
        assert_eq!(parse("0xZZ"), None);
        assert_eq!(suite::hex(0xC02F), "0xC02F");
        assert_eq!(suite::hex(0x01_0080), "0x010080");
    }
}
