//! ServerHello and HelloRetryRequest bodies (RFC 5246 7.4.1.3, RFC 8446
//! 4.1.3): decoded once into plain fields, with accessors for the extensions
//! a scanner asks about. Extensions are kept raw and in order; accessors
//! parse them on demand and answer `None` when one is absent or malformed,
//! because a server's odd extension is an observation, not a decode failure.

use super::codec::{Need, Reader};
use super::hello::ext;
use super::WireError;

/// SHA-256("HelloRetryRequest"): a ServerHello with this random is an HRR.
pub const HELLO_RETRY_REQUEST_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// A ServerHello (or HelloRetryRequest, which shares its layout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    pub legacy_version: u16,
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    pub cipher_suite: u16,
    pub compression: u8,
    /// `(type, body)` in the order sent; empty when the hello had no
    /// extensions block.
    pub extensions: Vec<(u16, Vec<u8>)>,
}

impl ServerHello {
    /// Decodes a ServerHello body (without the 4-byte handshake header).
    pub fn decode(body: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(body);
        let legacy_version = r.u16().need("server_version")?;
        let random = r.array::<32>().need("server random")?;
        let mut sid = r.sub_u8().need("session_id")?;
        if sid.left() > 32 {
            return Err(WireError::Malformed("session_id longer than 32 bytes"));
        }
        let session_id = sid.rest().to_vec();
        let cipher_suite = r.u16().need("cipher_suite")?;
        let compression = r.u8().need("compression_method")?;
        let mut extensions = Vec::new();
        // SSLv3 and early TLS servers end the hello here.
        if !r.is_empty() {
            let mut exts = r.sub_u16().need("extensions")?;
            let mut types = std::collections::HashSet::new();
            while !exts.is_empty() {
                let typ = exts.u16().need("extension type")?;
                let data = exts.sub_u16().need("extension body")?.rest();
                // RFC 5246 7.4.1.4 / RFC 8446 4.2: one of each type. Two
                // supported_versions (or key_shares) would make the answer
                // whatever the first lookup finds, so a client aborts, and
                // so does the decode.
                if !types.insert(typ) {
                    return Err(WireError::Malformed("duplicate extension in ServerHello"));
                }
                extensions.push((typ, data.to_vec()));
            }
        }
        r.expect_empty("ServerHello")?;
        Ok(ServerHello {
            legacy_version,
            random,
            session_id,
            cipher_suite,
            compression,
            extensions,
        })
    }

    /// The body of the first extension of type `typ`.
    pub fn extension(&self, typ: u16) -> Option<&[u8]> {
        self.extensions
            .iter()
            .find(|(t, _)| *t == typ)
            .map(|(_, d)| d.as_slice())
    }

    pub fn has_extension(&self, typ: u16) -> bool {
        self.extension(typ).is_some()
    }

    /// The version the server chose: supported_versions if it sent a
    /// well-formed one (TLS 1.3), else `legacy_version`.
    pub fn negotiated_version(&self) -> u16 {
        self.extension(ext::SUPPORTED_VERSIONS)
            .and_then(|d| <[u8; 2]>::try_from(d).ok())
            .map(u16::from_be_bytes)
            .unwrap_or(self.legacy_version)
    }

    /// The group of the key_share extension: the server's share in a
    /// ServerHello, the group it asks for in a HelloRetryRequest.
    pub fn key_share_group(&self) -> Option<u16> {
        Reader::new(self.extension(ext::KEY_SHARE)?).u16()
    }

    /// The protocol the server selected with ALPN (RFC 7301: exactly one).
    pub fn alpn(&self) -> Option<Vec<u8>> {
        let mut r = Reader::new(self.extension(ext::ALPN)?);
        let mut list = r.sub_u16()?;
        let name = list.sub_u8()?.rest().to_vec();
        (list.is_empty() && r.is_empty() && !name.is_empty()).then_some(name)
    }

    pub fn is_hello_retry_request(&self) -> bool {
        self.random == HELLO_RETRY_REQUEST_RANDOM
    }

    /// The RFC 8446 4.1.3 downgrade sentinel in the last 8 bytes of the
    /// random: `Some(0x0303)` for "DOWNGRD\x01" (a TLS 1.3 server answering
    /// with 1.2), `Some(0x0302)` for "DOWNGRD\x00" (1.1 or below).
    pub fn downgrade_sentinel(&self) -> Option<u16> {
        match &self.random[24..] {
            b"DOWNGRD\x01" => Some(0x0303),
            b"DOWNGRD\x00" => Some(0x0302),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::codec::Writer;

    fn body(exts: Option<&[(u16, &[u8])]>, random: [u8; 32]) -> Vec<u8> {
        let mut w = Writer::new();
        w.u16(0x0303).bytes(&random);
        w.u8_prefixed(|w| {
            w.bytes(&[7; 32]);
        });
        w.u16(0x1301).u8(0);
        if let Some(exts) = exts {
            w.u16_prefixed(|w| {
                for (t, d) in exts {
                    w.u16(*t).u16_prefixed(|w| {
                        w.bytes(d);
                    });
                }
            });
        }
        w.into_inner()
    }

    #[test]
    fn tls13_hello_accessors() {
        let b = body(
            Some(&[
                (43, &[3, 4]),
                (51, &[0x11, 0xec, 0, 1, 9]),
                (16, &[0, 3, 2, b'h', b'2']),
            ]),
            [1; 32],
        );
        let sh = ServerHello::decode(&b).unwrap();
        assert_eq!(sh.negotiated_version(), 0x0304);
        assert_eq!(sh.key_share_group(), Some(0x11ec));
        assert_eq!(sh.alpn(), Some(b"h2".to_vec()));
        assert!(sh.has_extension(43) && !sh.has_extension(0));
        assert!(!sh.is_hello_retry_request());
        assert_eq!(sh.downgrade_sentinel(), None);
    }

    #[test]
    fn hello_without_extensions_and_hrr() {
        let mut random = [0; 32];
        random[24..].copy_from_slice(b"DOWNGRD\x01");
        let sh = ServerHello::decode(&body(None, random)).unwrap();
        assert_eq!(sh.negotiated_version(), 0x0303);
        assert!(sh.extensions.is_empty());
        assert_eq!(sh.downgrade_sentinel(), Some(0x0303));
        let hrr = ServerHello::decode(&body(Some(&[(51, &[0, 0x17])]), HELLO_RETRY_REQUEST_RANDOM))
            .unwrap();
        assert!(hrr.is_hello_retry_request());
        assert_eq!(hrr.key_share_group(), Some(0x17));
    }

    #[test]
    fn broken_hellos_are_typed_errors() {
        let good = body(Some(&[(43, &[3, 4])]), [0; 32]);
        // A hello cut right after compression_method is a valid extension-less one.
        let without_extensions = good.len() - 8;
        for cut in (0..good.len()).filter(|&c| c != without_extensions) {
            assert!(ServerHello::decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = good.clone();
        long.push(0);
        assert_eq!(
            ServerHello::decode(&long),
            Err(WireError::TrailingBytes("ServerHello"))
        );
    }

    #[test]
    fn a_duplicate_extension_is_malformed() {
        // TLS 1.3 first, TLS 1.2 second: which one a lookup finds would
        // decide the version credited.
        let twice = body(
            Some(&[(43, &[3, 4]), (51, &[0, 0x1d]), (43, &[3, 3])]),
            [1; 32],
        );
        assert_eq!(
            ServerHello::decode(&twice),
            Err(WireError::Malformed("duplicate extension in ServerHello"))
        );
        let once_each = body(Some(&[(43, &[3, 4]), (51, &[0, 0x1d])]), [1; 32]);
        assert!(ServerHello::decode(&once_each).is_ok());
    }
}
