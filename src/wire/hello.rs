//! ClientHello encoders for every dialect the scanner speaks: SSLv2's
//! CLIENT-HELLO, SSLv3, and TLS 1.0 to 1.3, with extensions written in exactly
//! the order the caller lists them (client simulation profiles depend on it).
//!
//! This module only builds bytes. It does not choose what to offer (that is
//! the probe's and the client profiles' business), does no I/O, and never
//! draws randomness itself except through [`ClientHelloSpec::for_version`],
//! which asks [`super::key_share::fresh_random`] for the hello random.

use super::codec::Writer;
use super::key_share::fresh_random;
use super::EncodeError;
use super::ProtocolVersion;

/// Handshake message type of ClientHello (RFC 8446 4).
pub const HANDSHAKE_CLIENT_HELLO: u8 = 1;
/// Record content type of handshake records.
pub const CONTENT_HANDSHAKE: u8 = 22;
/// The largest plaintext record fragment (RFC 8446 5.1).
pub const MAX_FRAGMENT: usize = 1 << 14;

/// Extension code points (IANA "TLS ExtensionType Values").
pub mod ext {
    pub const SERVER_NAME: u16 = 0;
    pub const STATUS_REQUEST: u16 = 5;
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const ALPN: u16 = 16;
    pub const SIGNED_CERTIFICATE_TIMESTAMP: u16 = 18;
    pub const PADDING: u16 = 21;
    pub const ENCRYPT_THEN_MAC: u16 = 22;
    pub const EXTENDED_MASTER_SECRET: u16 = 23;
    pub const SESSION_TICKET: u16 = 35;
    pub const SUPPORTED_VERSIONS: u16 = 43;
    pub const PSK_KEY_EXCHANGE_MODES: u16 = 45;
    pub const SIGNATURE_ALGORITHMS_CERT: u16 = 50;
    pub const KEY_SHARE: u16 = 51;
    pub const RENEGOTIATION_INFO: u16 = 0xff01;
}

/// One offered key share: a named group and the client's public value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyShareEntry {
    pub group: u16,
    pub public: Vec<u8>,
}

/// A ClientHello extension. Lists are written as given, so GREASE values
/// and unregistered code points are ordinary data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extension {
    ServerName(String),
    SupportedVersions(Vec<u16>),
    SupportedGroups(Vec<u16>),
    /// An empty list is legal: it asks a TLS 1.3 server for a HelloRetryRequest.
    KeyShare(Vec<KeyShareEntry>),
    SignatureAlgorithms(Vec<u16>),
    SignatureAlgorithmsCert(Vec<u16>),
    EcPointFormats(Vec<u8>),
    Alpn(Vec<Vec<u8>>),
    /// Empty renegotiation_info (RFC 5746): an initial handshake.
    RenegotiationInfo,
    /// Empty session ticket: "I support tickets, I have none".
    SessionTicket,
    /// OCSP status_request with no responder ids and no extensions.
    StatusRequest,
    ExtendedMasterSecret,
    EncryptThenMac,
    PskKeyExchangeModes(Vec<u8>),
    SignedCertificateTimestamp,
    /// Anything else, GREASE included: type and body as given.
    Raw {
        typ: u16,
        data: Vec<u8>,
    },
}

impl Extension {
    /// The extension's code point.
    pub fn typ(&self) -> u16 {
        match self {
            Extension::ServerName(_) => ext::SERVER_NAME,
            Extension::SupportedVersions(_) => ext::SUPPORTED_VERSIONS,
            Extension::SupportedGroups(_) => ext::SUPPORTED_GROUPS,
            Extension::KeyShare(_) => ext::KEY_SHARE,
            Extension::SignatureAlgorithms(_) => ext::SIGNATURE_ALGORITHMS,
            Extension::SignatureAlgorithmsCert(_) => ext::SIGNATURE_ALGORITHMS_CERT,
            Extension::EcPointFormats(_) => ext::EC_POINT_FORMATS,
            Extension::Alpn(_) => ext::ALPN,
            Extension::RenegotiationInfo => ext::RENEGOTIATION_INFO,
            Extension::SessionTicket => ext::SESSION_TICKET,
            Extension::StatusRequest => ext::STATUS_REQUEST,
            Extension::ExtendedMasterSecret => ext::EXTENDED_MASTER_SECRET,
            Extension::EncryptThenMac => ext::ENCRYPT_THEN_MAC,
            Extension::PskKeyExchangeModes(_) => ext::PSK_KEY_EXCHANGE_MODES,
            Extension::SignedCertificateTimestamp => ext::SIGNED_CERTIFICATE_TIMESTAMP,
            Extension::Raw { typ, .. } => *typ,
        }
    }

    fn encode_body(&self, w: &mut Writer) {
        match self {
            Extension::ServerName(name) => {
                w.u16_prefixed(|w| {
                    w.u8(0).u16_prefixed(|w| {
                        w.bytes(name.as_bytes());
                    });
                });
            }
            Extension::SupportedVersions(versions) => {
                w.u8_prefixed(|w| u16_list(w, versions));
            }
            Extension::SupportedGroups(list)
            | Extension::SignatureAlgorithms(list)
            | Extension::SignatureAlgorithmsCert(list) => {
                w.u16_prefixed(|w| u16_list(w, list));
            }
            Extension::KeyShare(shares) => {
                w.u16_prefixed(|w| {
                    for share in shares {
                        w.u16(share.group).u16_prefixed(|w| {
                            w.bytes(&share.public);
                        });
                    }
                });
            }
            Extension::EcPointFormats(list) | Extension::PskKeyExchangeModes(list) => {
                w.u8_prefixed(|w| {
                    w.bytes(list);
                });
            }
            Extension::Alpn(protocols) => {
                w.u16_prefixed(|w| {
                    for p in protocols {
                        w.u8_prefixed(|w| {
                            w.bytes(p);
                        });
                    }
                });
            }
            Extension::RenegotiationInfo => {
                w.u8(0);
            }
            Extension::StatusRequest => {
                // status_type ocsp(1), empty responder_id_list, empty request_extensions.
                w.u8(1).u16(0).u16(0);
            }
            Extension::SessionTicket
            | Extension::ExtendedMasterSecret
            | Extension::EncryptThenMac
            | Extension::SignedCertificateTimestamp => {}
            Extension::Raw { data, .. } => {
                w.bytes(data);
            }
        }
    }

    fn encode(&self, w: &mut Writer) {
        w.u16(self.typ()).u16_prefixed(|w| self.encode_body(w));
    }
}

fn u16_list(w: &mut Writer, list: &[u16]) {
    for v in list {
        w.u16(*v);
    }
}

/// Everything that goes into one ClientHello, field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHelloSpec {
    /// Record-layer version: 0x0301 is what most clients send; 0x0300 for
    /// an SSLv3 hello.
    pub record_version: u16,
    /// `legacy_version` in the hello body.
    pub client_version: u16,
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    pub cipher_suites: Vec<u16>,
    pub compression_methods: Vec<u8>,
    /// Written in this order. Empty means no extensions block at all, as in a
    /// classic SSLv3 hello.
    pub extensions: Vec<Extension>,
    /// RFC 7685 padding: keep the handshake message out of 256..=511 bytes,
    /// which some F5 load balancers mishandle, by padding it to 512. Only
    /// applies when there is an extensions block and no padding extension.
    pub pad_to_avoid_f5_bug: bool,
}

impl ClientHelloSpec {
    /// A broad hello for `version`, with a fresh random.
    ///
    /// SSLv3 to TLS 1.2: `client_version` is that version, the record version
    /// 0x0300 for SSLv3 and 0x0301 otherwise. SSLv3 gets no extensions. The
    /// others get, in order: server_name (if `sni`), supported_groups and
    /// ec_point_formats (if `groups` is not empty), signature_algorithms (TLS
    /// 1.2 and 1.3, if `sig_algs` is not empty), renegotiation_info,
    /// session_ticket, extended_master_secret.
    ///
    /// TLS 1.3: `client_version` 0x0303, a 32-byte session id (middlebox
    /// compatibility, RFC 8446 D.4), the extensions above, then
    /// supported_versions [0x0304] (change it with
    /// [`ClientHelloSpec::with_supported_versions`]), key_share (`key_shares`,
    /// possibly empty) and psk_key_exchange_modes [psk_dhe_ke].
    ///
    /// `Ssl2` has no ClientHello of this shape (see
    /// [`encode_sslv2_client_hello`]); it is treated as SSLv3. Padding is
    /// enabled. Cipher suites, SCSVs included, are used as given.
    pub fn for_version(
        version: ProtocolVersion,
        suites: Vec<u16>,
        sni: Option<&str>,
        key_shares: Vec<KeyShareEntry>,
        groups: Vec<u16>,
        sig_algs: Vec<u16>,
    ) -> Self {
        let random = fresh_random();
        let (record_version, client_version) = match version {
            ProtocolVersion::Ssl2 | ProtocolVersion::Ssl3 => (0x0300, 0x0300),
            ProtocolVersion::Tls13 => (0x0301, 0x0303),
            v => (0x0301, v.wire()),
        };
        let mut extensions = Vec::new();
        if version >= ProtocolVersion::Tls10 {
            if let Some(name) = sni {
                extensions.push(Extension::ServerName(name.to_owned()));
            }
            if !groups.is_empty() {
                extensions.push(Extension::SupportedGroups(groups));
                extensions.push(Extension::EcPointFormats(vec![0]));
            }
            if version >= ProtocolVersion::Tls12 && !sig_algs.is_empty() {
                extensions.push(Extension::SignatureAlgorithms(sig_algs));
            }
            // No status_request: wolfSSL 5.5 (Debian 12's lighttpd) closes
            // without an alert on any hello carrying it, and the raw probes
            // never read a stapled response (the full handshakes do).
            extensions.extend([
                Extension::RenegotiationInfo,
                Extension::SessionTicket,
                Extension::ExtendedMasterSecret,
            ]);
        }
        let mut session_id = Vec::new();
        if version == ProtocolVersion::Tls13 {
            extensions.push(Extension::SupportedVersions(vec![0x0304]));
            extensions.push(Extension::KeyShare(key_shares));
            extensions.push(Extension::PskKeyExchangeModes(vec![1]));
            // Any 32 bytes will do; reusing the random avoids a second RNG call.
            session_id = random.to_vec();
        }
        ClientHelloSpec {
            record_version,
            client_version,
            random,
            session_id,
            cipher_suites: suites,
            compression_methods: vec![0],
            extensions,
            pad_to_avoid_f5_bug: true,
        }
    }

    /// Replaces the supported_versions list (adding the extension, before
    /// key_share if there is one, when absent). Lets a TLS 1.3 probe also
    /// offer 1.2, or offer GREASE and drafts.
    pub fn with_supported_versions(mut self, versions: Vec<u16>) -> Self {
        let new = Extension::SupportedVersions(versions);
        if let Some(e) = self
            .extensions
            .iter_mut()
            .find(|e| matches!(e, Extension::SupportedVersions(_)))
        {
            *e = new;
        } else {
            let at = self
                .extensions
                .iter()
                .position(|e| matches!(e, Extension::KeyShare(_)))
                .unwrap_or(self.extensions.len());
            self.extensions.insert(at, new);
        }
        self
    }

    /// The ClientHello handshake message (4-byte header included), without
    /// the record layer.
    ///
    /// # Errors
    /// When a list or name does not fit its length field.
    pub fn encode_handshake(&self) -> Result<Vec<u8>, EncodeError> {
        let unpadded = self.encode_handshake_with_padding(None)?;
        let wants_padding = self.pad_to_avoid_f5_bug
            && !self.extensions.is_empty()
            && !self.extensions.iter().any(|e| e.typ() == ext::PADDING);
        if wants_padding && (256..512).contains(&unpadded.len()) {
            // RFC 7685 via BoringSSL's rule: fill up to 512, but the padding
            // extension has a 4-byte header, so when fewer than 5 bytes are
            // missing add a 1-byte one and overshoot 512 slightly.
            let missing = 512 - unpadded.len();
            let body = if missing >= 5 { missing - 4 } else { 1 };
            self.encode_handshake_with_padding(Some(body))
        } else {
            Ok(unpadded)
        }
    }

    fn encode_handshake_with_padding(
        &self,
        padding: Option<usize>,
    ) -> Result<Vec<u8>, EncodeError> {
        let mut w = Writer::new();
        w.u8(HANDSHAKE_CLIENT_HELLO).u24_prefixed(|w| {
            w.u16(self.client_version).bytes(&self.random);
            w.u8_prefixed(|w| {
                w.bytes(&self.session_id);
            });
            w.u16_prefixed(|w| u16_list(w, &self.cipher_suites));
            w.u8_prefixed(|w| {
                w.bytes(&self.compression_methods);
            });
            if !self.extensions.is_empty() {
                w.u16_prefixed(|w| {
                    for e in &self.extensions {
                        e.encode(w);
                    }
                    if let Some(len) = padding {
                        w.u16(ext::PADDING).u16_prefixed(|w| {
                            w.bytes(&vec![0; len]);
                        });
                    }
                });
            }
        });
        w.finish()
    }
}

/// The complete ClientHello as TLS records, ready to send.
///
/// A hello longer than 2^14 bytes (many key shares, huge padding) is split
/// across several handshake records, as RFC 8446 5.1 allows.
///
/// # Errors
/// When a list is too long for its length prefix (e.g. more than 32767
/// cipher suites): such a hello cannot be expressed on the wire.
pub fn encode_client_hello(spec: &ClientHelloSpec) -> Result<Vec<u8>, EncodeError> {
    let message = spec.encode_handshake()?;
    let mut w = Writer::new();
    for chunk in message.chunks(MAX_FRAGMENT) {
        w.u8(CONTENT_HANDSHAKE)
            .u16(spec.record_version)
            .u16_prefixed(|w| {
                w.bytes(chunk);
            });
    }
    w.finish()
}

/// An SSLv2 CLIENT-HELLO (version 0x0002) offering `cipher_kinds` (3-byte
/// SSLv2 cipher kinds, e.g. 0x010080 SSL_CK_RC4_128_WITH_MD5; the top byte
/// of each `u32` is ignored) with no session id, in a record with a 2-byte
/// header.
///
/// # Errors
/// When the message would exceed the 32767-byte SSLv2 record limit (more
/// than about 10900 cipher kinds).
pub fn encode_sslv2_client_hello(
    cipher_kinds: &[u32],
    challenge: &[u8; 16],
) -> Result<Vec<u8>, EncodeError> {
    let kinds_len = cipher_kinds.len().saturating_mul(3);
    let too_long = |len| EncodeError::TooLong { width: 2, len };
    let mut body = Writer::new();
    body.u8(1) // CLIENT-HELLO
        .u16(0x0002)
        .u16(u16::try_from(kinds_len).map_err(|_| too_long(kinds_len))?)
        .u16(0) // session id length
        .u16(16); // challenge length
    for kind in cipher_kinds {
        body.u24(kind & 0x00ff_ffff);
    }
    body.bytes(challenge);
    let body = body.finish()?;
    if body.len() > 0x7fff {
        return Err(too_long(body.len()));
    }
    let mut w = Writer::new();
    // 2-byte header: high bit set, 15-bit length, no padding.
    w.u16(0x8000 | body.len() as u16).bytes(&body);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::codec::Reader;

    /// A ClientHello read back with the crate's own Reader.
    struct Parsed {
        record_version: u16,
        client_version: u16,
        session_id: Vec<u8>,
        suites: Vec<u16>,
        compression: Vec<u8>,
        /// `None` when there is no extensions block.
        extensions: Option<Vec<(u16, Vec<u8>)>>,
        handshake_len: usize,
    }

    fn parse(records: &[u8]) -> Parsed {
        let mut r = Reader::new(records);
        let mut message = Vec::new();
        let mut record_version = None;
        while !r.is_empty() {
            assert_eq!(r.u8(), Some(CONTENT_HANDSHAKE));
            let v = r.u16().unwrap();
            assert_eq!(*record_version.get_or_insert(v), v);
            let body = r.sub_u16().unwrap().rest();
            assert!(!body.is_empty() && body.len() <= MAX_FRAGMENT);
            message.extend_from_slice(body);
        }
        let mut m = Reader::new(&message);
        assert_eq!(m.u8(), Some(HANDSHAKE_CLIENT_HELLO));
        let mut h = m.sub_u24().unwrap();
        m.expect_empty("handshake").unwrap();
        let client_version = h.u16().unwrap();
        h.take(32).unwrap();
        let session_id = h.sub_u8().unwrap().rest().to_vec();
        let mut s = h.sub_u16().unwrap();
        let mut suites = Vec::new();
        while let Some(v) = s.u16() {
            suites.push(v);
        }
        s.expect_empty("suites").unwrap();
        let compression = h.sub_u8().unwrap().rest().to_vec();
        let extensions = (!h.is_empty()).then(|| {
            let mut e = h.sub_u16().unwrap();
            let mut out = Vec::new();
            while !e.is_empty() {
                let t = e.u16().unwrap();
                out.push((t, e.sub_u16().unwrap().rest().to_vec()));
            }
            out
        });
        h.expect_empty("hello").unwrap();
        Parsed {
            record_version: record_version.unwrap(),
            client_version,
            session_id,
            suites,
            compression,
            extensions,
            handshake_len: message.len(),
        }
    }

    fn spec(suites: usize, extensions: Vec<Extension>) -> ClientHelloSpec {
        ClientHelloSpec {
            record_version: 0x0301,
            client_version: 0x0303,
            random: [0x42; 32],
            session_id: vec![],
            cipher_suites: (0..suites as u16).map(|i| 0x1000 + i).collect(),
            compression_methods: vec![0],
            extensions,
            pad_to_avoid_f5_bug: true,
        }
    }

    #[test]
    fn extensions_are_encoded_in_order_with_rfc_layouts() {
        let exts = vec![
            Extension::Raw {
                typ: 0x0a0a,
                data: vec![],
            },
            Extension::ServerName("test.com".into()),
            Extension::SupportedVersions(vec![0x0304, 0x0303]),
            Extension::SupportedGroups(vec![0x001d, 0x0017]),
            Extension::KeyShare(vec![KeyShareEntry {
                group: 0x001d,
                public: vec![7; 32],
            }]),
            Extension::SignatureAlgorithms(vec![0x0804]),
            Extension::SignatureAlgorithmsCert(vec![0x0401]),
            Extension::EcPointFormats(vec![0]),
            Extension::Alpn(vec![b"h2".to_vec(), b"http/1.1".to_vec()]),
            Extension::RenegotiationInfo,
            Extension::SessionTicket,
            Extension::StatusRequest,
            Extension::ExtendedMasterSecret,
            Extension::EncryptThenMac,
            Extension::PskKeyExchangeModes(vec![1]),
            Extension::SignedCertificateTimestamp,
            Extension::KeyShare(vec![]),
        ];
        let mut s = spec(3, exts);
        s.pad_to_avoid_f5_bug = false;
        let p = parse(&encode_client_hello(&s).unwrap());
        let mut key_share = vec![0, 36, 0, 0x1d, 0, 32];
        key_share.extend([7; 32]);
        let alpn = [&[0, 12, 2][..], b"h2", &[8], b"http/1.1"].concat();
        let expected: Vec<(u16, Vec<u8>)> = vec![
            (0x0a0a, vec![]),
            (0, [&[0, 11, 0, 0, 8][..], b"test.com"].concat()),
            (43, vec![4, 3, 4, 3, 3]),
            (10, vec![0, 4, 0, 0x1d, 0, 0x17]),
            (51, key_share),
            (13, vec![0, 2, 8, 4]),
            (50, vec![0, 2, 4, 1]),
            (11, vec![1, 0]),
            (16, alpn),
            (0xff01, vec![0]),
            (35, vec![]),
            (5, vec![1, 0, 0, 0, 0]),
            (23, vec![]),
            (22, vec![]),
            (45, vec![1, 1]),
            (18, vec![]),
            (51, vec![0, 0]),
        ];
        assert_eq!(p.extensions.unwrap(), expected);
        assert_eq!(p.suites, vec![0x1000, 0x1001, 0x1002]);
        assert_eq!((p.record_version, p.client_version), (0x0301, 0x0303));
        assert_eq!(p.compression, vec![0]);
    }

    #[test]
    fn padding_keeps_the_hello_out_of_256_to_511_for_every_size() {
        for suites in 0..400 {
            let s = spec(suites, vec![Extension::ServerName("a.example".into())]);
            let p = parse(&encode_client_hello(&s).unwrap());
            assert!(
                !(256..=511).contains(&p.handshake_len),
                "{suites} suites gave {} bytes",
                p.handshake_len
            );
            let exts = p.extensions.unwrap();
            let unpadded = s.encode_handshake_with_padding(None).unwrap().len();
            if (256..512).contains(&unpadded) {
                let (typ, body) = exts.last().unwrap();
                assert_eq!(*typ, ext::PADDING);
                assert!(body.iter().all(|&b| b == 0));
                assert!(p.handshake_len <= 512 + 4, "overshoot only for tiny gaps");
            } else {
                assert_eq!(p.handshake_len, unpadded, "no padding outside the range");
            }
        }
    }

    #[test]
    fn no_padding_when_disabled_or_without_extensions() {
        let mut s = spec(120, vec![Extension::SessionTicket]);
        s.pad_to_avoid_f5_bug = false;
        assert!((256..512).contains(&parse(&encode_client_hello(&s).unwrap()).handshake_len));
        let sslv3 = spec(120, vec![]);
        let p = parse(&encode_client_hello(&sslv3).unwrap());
        assert!(
            p.extensions.is_none(),
            "an SSLv3 hello has no extensions block"
        );
    }

    #[test]
    fn huge_hellos_are_split_into_records() {
        let mut s = spec(10, vec![]);
        s.extensions = vec![Extension::KeyShare(
            (0..20)
                .map(|i| KeyShareEntry {
                    group: i,
                    public: vec![i as u8; 1216],
                })
                .collect(),
        )];
        let records = encode_client_hello(&s).unwrap();
        let p = parse(&records);
        assert!(p.handshake_len > MAX_FRAGMENT);
        assert_eq!(
            records.get(3..5),
            Some(&[0x40, 0x00][..]),
            "the first record is full"
        );
    }

    #[test]
    fn for_version_builds_broad_hellos() {
        let sslv3 = ClientHelloSpec::for_version(
            ProtocolVersion::Ssl3,
            vec![0x000a],
            Some("x.test"),
            vec![],
            vec![0x17],
            vec![0x0401],
        );
        let p = parse(&encode_client_hello(&sslv3).unwrap());
        assert_eq!((p.record_version, p.client_version), (0x0300, 0x0300));
        assert!(p.extensions.is_none());

        let tls10 = ClientHelloSpec::for_version(
            ProtocolVersion::Tls10,
            vec![0xc013],
            Some("x.test"),
            vec![],
            vec![0x17],
            vec![0x0401],
        );
        let p = parse(&encode_client_hello(&tls10).unwrap());
        assert_eq!((p.record_version, p.client_version), (0x0301, 0x0301));
        let types: Vec<u16> = p.extensions.unwrap().iter().map(|e| e.0).collect();
        assert_eq!(types, vec![0, 10, 11, 0xff01, 35, 23]);

        let share = KeyShareEntry {
            group: 0x1d,
            public: vec![1; 32],
        };
        let tls13 = ClientHelloSpec::for_version(
            ProtocolVersion::Tls13,
            vec![0x1301],
            None,
            vec![share],
            vec![0x1d],
            vec![0x0804],
        )
        .with_supported_versions(vec![0x0304, 0x0303]);
        let p = parse(&encode_client_hello(&tls13).unwrap());
        assert_eq!((p.record_version, p.client_version), (0x0301, 0x0303));
        assert_eq!(p.session_id.len(), 32);
        let exts = p.extensions.unwrap();
        let types: Vec<u16> = exts.iter().map(|e| e.0).collect();
        assert_eq!(types, vec![10, 11, 13, 0xff01, 35, 23, 43, 51, 45]);
        assert_eq!(exts[6].1, vec![4, 3, 4, 3, 3]);
    }

    #[test]
    fn sslv2_hello_layout() {
        let challenge = [0xc5; 16];
        let bytes = encode_sslv2_client_hello(&[0x010080, 0x0700c0], &challenge).unwrap();
        let mut expected = vec![0x80, 9 + 6 + 16, 1, 0, 2, 0, 6, 0, 0, 0, 16];
        expected.extend([1, 0, 0x80, 7, 0, 0xc0]);
        expected.extend(challenge);
        assert_eq!(bytes, expected);
    }
}
