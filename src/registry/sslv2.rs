//! SSLv2 cipher kinds (three-byte codes, RFC-less Netscape spec), from
//! `registry/sslv2_cipher_kinds.csv`. Kept apart from TLS cipher suites
//! because the code space and width differ: an SSLv2 code is never a TLS one.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::{load_table, non_empty, parse_hex};

const FILE: &str = "sslv2_cipher_kinds.csv";
const CSV: &str = include_str!("../../registry/sslv2_cipher_kinds.csv");

/// One SSLv2 cipher kind. `bits` is the effective key strength (DES-EDE3 112).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sslv2CipherKind {
    pub code: u32,
    pub name: String,
    pub openssl: Option<String>,
    pub bits: u16,
    pub export: bool,
}

#[derive(Deserialize)]
struct Row {
    code: String,
    name: String,
    openssl: String,
    bits: u16,
    export: bool,
}

/// Every SSLv2 cipher kind, sorted by code.
pub fn sslv2_cipher_kinds() -> &'static [Sslv2CipherKind] {
    static TABLE: OnceLock<Vec<Sslv2CipherKind>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut kinds = load_table(FILE, CSV, |row: Row| {
            let code = parse_hex(&row.code)?;
            if code > 0xFF_FFFF {
                return Err(format!("code {} is wider than three bytes", row.code));
            }
            Ok(Sslv2CipherKind {
                code,
                name: row.name,
                openssl: non_empty(row.openssl),
                bits: row.bits,
                export: row.export,
            })
        });
        kinds.sort_by_key(|k| k.code);
        kinds
    })
}

/// The cipher kind with this three-byte code; `None` if unknown.
pub fn sslv2_cipher_kind(code: u32) -> Option<&'static Sslv2CipherKind> {
    sslv2_cipher_kinds().iter().find(|k| k.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_loads_the_netscape_kinds() {
        let kinds = sslv2_cipher_kinds();
        assert_eq!(kinds.len(), 8);
        assert!(kinds.windows(2).all(|w| w[0].code < w[1].code));
        for k in kinds {
            assert_eq!(
                k.export,
                k.bits == 40,
                "{}: export kinds are 40-bit",
                k.name
            );
        }
        let des3 = sslv2_cipher_kind(0x0700C0).expect("DES-EDE3");
        assert_eq!(
            (des3.openssl.as_deref(), des3.bits),
            (Some("DES-CBC3-MD5"), 112)
        );
        assert!(sslv2_cipher_kind(0x020080).is_some_and(|k| k.export));
        assert_eq!(sslv2_cipher_kind(0x000000), None);
    }
}
