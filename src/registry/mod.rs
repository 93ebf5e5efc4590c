//! The registry: what every code point on the wire means. IANA TLS cipher
//! suites (plus the pre-IANA export and draft suites real servers still
//! answer with), SSLv2 cipher kinds, named groups and signature schemes.
//!
//! The tables are data: CSV files under `registry/` at the crate root,
//! embedded with `include_str!` and parsed once on first use. This module
//! owns only that loading and small derived facts (strength, offering
//! order, GREASE). It must not do I/O, know about policy, or hard-code any
//! table row in Rust: a wrong row is fixed in the CSV, and a malformed CSV
//! is a bug caught by the unit test that loads every table, so loading
//! panics with the file and line rather than returning an error.

mod cipher_suite;
mod group;
mod signature;
mod sslv2;
mod strength;

pub use cipher_suite::{
    cipher_suite, cipher_suite_by_name, cipher_suites, is_scsv, suites_for, CipherSuite,
    TLS_EMPTY_RENEGOTIATION_INFO_SCSV, TLS_FALLBACK_SCSV,
};
pub use group::{group_name, named_group, named_groups, GroupKind, NamedGroup};
pub use signature::{signature_scheme, signature_schemes, SignatureScheme};
pub use sslv2::{sslv2_cipher_kind, sslv2_cipher_kinds, Sslv2CipherKind};
pub use strength::Strength;

/// Whether `code` is a GREASE value (RFC 8701): `0x?A?A` with both bytes
/// equal. The same sixteen values are reserved in the cipher suite, group,
/// signature scheme, version and extension registries, so one test serves
/// them all.
pub fn is_grease(code: u16) -> bool {
    let [hi, lo] = code.to_be_bytes();
    hi == lo && hi & 0x0f == 0x0a
}

/// Parses one embedded CSV table into rows, converting each with `convert`.
///
/// Panics naming the file and line on any malformed row: the tables are
/// compiled in, so a bad row is a build-time bug, never a runtime condition.
fn load_table<R, T>(file: &str, text: &str, convert: impl Fn(R) -> Result<T, String>) -> Vec<T>
where
    R: serde::de::DeserializeOwned,
{
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.deserialize::<R>() {
        let row = match record {
            Ok(row) => row,
            Err(e) => panic!("registry/{file}: malformed row: {e}"),
        };
        let line = rows.len() + 2; // header is line 1; tables hold no multi-line fields
        match convert(row) {
            Ok(value) => rows.push(value),
            Err(e) => panic!("registry/{file} line {line}: {e}"),
        }
    }
    rows
}

/// Parses a `0x`-prefixed hexadecimal code point as written in the tables.
fn parse_hex(text: &str) -> Result<u32, String> {
    let digits = text
        .strip_prefix("0x")
        .ok_or_else(|| format!("code {text:?} lacks the 0x prefix"))?;
    if digits.chars().any(|c| c.is_ascii_lowercase()) {
        return Err(format!("code {text:?} must be upper-case hex"));
    }
    u32::from_str_radix(digits, 16).map_err(|e| format!("code {text:?}: {e}"))
}

/// The row with `code` in a table sorted by code (the tables are sorted
/// once, when loaded).
fn find_by_code<T>(table: &'static [T], code: u16, key: impl Fn(&T) -> u16) -> Option<&'static T> {
    table
        .binary_search_by_key(&code, key)
        .ok()
        .and_then(|i| table.get(i))
}

fn parse_hex16(text: &str) -> Result<u16, String> {
    let value = parse_hex(text)?;
    u16::try_from(value).map_err(|_| format!("code {text:?} does not fit in two bytes"))
}

/// Empty cells mean "no such name" (e.g. a suite OpenSSL never implemented).
fn non_empty(text: String) -> Option<String> {
    if text.is_empty() {
        None
    } else {
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grease_values_are_the_sixteen_reserved_ones() {
        let grease: Vec<u16> = (0..=u16::MAX).filter(|&c| is_grease(c)).collect();
        assert_eq!(grease.len(), 16);
        assert_eq!(grease[0], 0x0A0A);
        assert_eq!(grease[15], 0xFAFA);
        assert!(!is_grease(0x0A1A));
        assert!(!is_grease(0xC02F));
    }

    #[test]
    fn hex_codes_parse_strictly() {
        assert_eq!(parse_hex16("0xC02F"), Ok(0xC02F));
        assert!(parse_hex16("C02F").is_err());
        assert!(parse_hex16("0xc02f").is_err());
        assert!(parse_hex16("0x010080").is_err());
        assert_eq!(parse_hex("0x0700C0"), Ok(0x0700C0));
    }

    #[test]
    fn no_table_lists_a_grease_value() {
        assert!(cipher_suites().iter().all(|s| !is_grease(s.code)));
        assert!(named_groups().iter().all(|g| !is_grease(g.code)));
        assert!(signature_schemes().iter().all(|s| !is_grease(s.code)));
    }
}
