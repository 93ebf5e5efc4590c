//! The decoder for everything a server sends in reply to a hello: TLS
//! records (SSLv3 to TLS 1.3) or SSLv2 records, reassembled into
//! [`ServerMessage`]s.
//!
//! [`FlightDecoder`] owns a buffer and is fed bytes as they arrive. It tells
//! "not enough bytes yet" (`Ok(None)`) apart from "these bytes are wrong"
//! (`Err`), handles records split across reads, several handshake messages in
//! one record and one message spread over several records. It never reads a
//! socket or a clock: deciding when a flight is over, or that a silent server
//! timed out, is the probe's job. It never panics on any input.

use std::collections::VecDeque;

use super::alert::Alert;
use super::codec::{Need, Reader};
use super::key_exchange::ServerKeyExchange;
use super::server_hello::ServerHello;
use super::sslv2::{self, Sslv2ServerHello};
use super::WireError;

/// Largest record body accepted: 2^14 plus the ciphertext expansion TLS 1.2
/// allows (RFC 5246 6.2.3).
pub const MAX_RECORD: usize = (1 << 14) + 2048;
/// Largest handshake message buffered. Certificate chains are the only big
/// ones and stay far below this; a larger length is a hostile or broken
/// peer, and buffering it would let one peer exhaust memory.
pub const MAX_HANDSHAKE: usize = 1 << 18;

pub mod content_type {
    pub const CHANGE_CIPHER_SPEC: u8 = 20;
    pub const ALERT: u8 = 21;
    pub const HANDSHAKE: u8 = 22;
    pub const APPLICATION_DATA: u8 = 23;
    pub const HEARTBEAT: u8 = 24;
}

pub mod handshake_type {
    pub const SERVER_HELLO: u8 = 2;
    pub const CERTIFICATE: u8 = 11;
    pub const SERVER_KEY_EXCHANGE: u8 = 12;
    pub const CERTIFICATE_REQUEST: u8 = 13;
    pub const SERVER_HELLO_DONE: u8 = 14;
    pub const CERTIFICATE_STATUS: u8 = 22;
}

/// One thing the server said, in the order it said it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMessage {
    ServerHello(ServerHello),
    /// Recognised by its fixed random (RFC 8446 4.1.3).
    HelloRetryRequest(ServerHello),
    /// A TLS 1.2-or-older Certificate: DER certificates, leaf first.
    Certificate(Vec<Vec<u8>>),
    ServerKeyExchange(ServerKeyExchange),
    /// The CertificateRequest body, raw (its layout differs by version).
    CertificateRequest(Vec<u8>),
    /// The CertificateStatus body, raw: status_type (1 = ocsp) then the
    /// u24-prefixed OCSP response.
    CertificateStatus(Vec<u8>),
    ServerHelloDone,
    /// Any other handshake message, body raw.
    OtherHandshake {
        msg_type: u8,
        body: Vec<u8>,
    },
    ChangeCipherSpec,
    Alert(Alert),
    /// A record the decoder cannot read because it is encrypted: any
    /// application_data record (TLS 1.3 sends its handshake this way), and
    /// handshake or alert records after a TLS 1.2 ChangeCipherSpec.
    EncryptedRecord {
        len: usize,
    },
    /// A heartbeat record (RFC 6520), payload as sent.
    Heartbeat(Vec<u8>),
    Sslv2ServerHello(Sslv2ServerHello),
    /// An SSLv2 ERROR message with its error code.
    Sslv2Error(u16),
}

/// Which record layer the peer speaks; fixed by its first record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Tls,
    Sslv2,
}

/// Incremental decoder of one connection's server-to-client bytes.
#[derive(Debug, Default)]
pub struct FlightDecoder {
    /// Bytes received and not yet formed into a whole record.
    buf: Vec<u8>,
    /// Handshake bytes not yet formed into a whole message.
    handshake: Vec<u8>,
    /// Messages decoded from one record that hold more than one (alerts).
    ready: VecDeque<ServerMessage>,
    dialect: Option<Dialect>,
    /// The ServerHello chose TLS 1.3, where ChangeCipherSpec is a
    /// compatibility no-op rather than the switch to encryption.
    tls13: bool,
    /// A TLS 1.2-or-older ChangeCipherSpec was seen: what follows is sealed.
    encrypted: bool,
    failed: Option<WireError>,
    /// Whole records consumed so far, so a reader can budget records that
    /// produce no message (handshake fragments) or only ignorable ones.
    records: usize,
}

impl FlightDecoder {
    pub fn new() -> Self {
        FlightDecoder::default()
    }

    /// Appends bytes read from the peer.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole message.
    ///
    /// `Ok(None)`: the bytes so far end in the middle of a record or message
    /// (or there are none); feed more. `Err`: the bytes are malformed or not
    /// TLS at all; the decoder then stays failed and returns the same error
    /// on every later call.
    pub fn next_message(&mut self) -> Result<Option<ServerMessage>, WireError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let step = self.step();
        if let Err(e) = &step {
            self.failed = Some(e.clone());
        }
        step
    }

    /// How many whole records have been consumed.
    pub fn records_taken(&self) -> usize {
        self.records
    }

    /// Bytes received but not yet part of a returned message. Non-zero when
    /// the peer closes means its last record or message was cut short.
    pub fn pending_bytes(&self) -> usize {
        self.buf.len() + self.handshake.len()
    }

    /// Decodes `bytes` as one complete capture: every whole message, then
    /// the error that stopped decoding if any. Trailing partial data is left
    /// unreported; see [`FlightDecoder::pending_bytes`].
    pub fn decode_all(bytes: &[u8]) -> (Vec<ServerMessage>, Option<WireError>) {
        let mut d = FlightDecoder::new();
        d.feed(bytes);
        let mut out = Vec::new();
        loop {
            match d.next_message() {
                Ok(Some(m)) => out.push(m),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    fn step(&mut self) -> Result<Option<ServerMessage>, WireError> {
        loop {
            if let Some(m) = self.ready.pop_front() {
                return Ok(Some(m));
            }
            if let Some(m) = self.take_handshake_message()? {
                return Ok(Some(m));
            }
            // Each pass consumes a whole record or returns, so this ends.
            if !self.take_record()? {
                return Ok(None);
            }
        }
    }

    /// Consumes one whole record into `handshake` or `ready`. `Ok(false)`
    /// when no whole record is buffered.
    fn take_record(&mut self) -> Result<bool, WireError> {
        let Some(&first) = self.buf.first() else {
            return Ok(false);
        };
        let dialect = if first & 0x80 != 0 {
            Dialect::Sslv2
        } else if (content_type::CHANGE_CIPHER_SPEC..=content_type::HEARTBEAT).contains(&first) {
            Dialect::Tls
        } else {
            return Err(match self.dialect {
                None => not_tls(&self.buf),
                Some(_) => WireError::BadContentType(first),
            });
        };
        match (self.dialect, dialect) {
            (None, _) => {}
            (Some(Dialect::Tls), Dialect::Sslv2) => return Err(WireError::BadContentType(first)),
            (Some(Dialect::Sslv2), Dialect::Tls) => {
                return Err(WireError::Malformed("TLS record after an SSLv2 record"))
            }
            _ => {}
        }
        let mut r = Reader::new(&self.buf);
        let (typ, body) = match dialect {
            Dialect::Sslv2 => {
                // 2-byte header: the high bit is the marker, 15 bits of length.
                // (The 3-byte header only frames padded, encrypted records,
                // which a server never sends before the client's key.)
                let Some(header) = r.u16() else {
                    return Ok(false);
                };
                let len = usize::from(header & 0x7fff);
                if len == 0 {
                    return Err(WireError::Malformed("empty SSLv2 record"));
                }
                let Some(body) = r.take(len) else {
                    return Ok(false);
                };
                (None, body)
            }
            Dialect::Tls => {
                let Some(typ) = r.u8() else {
                    return Ok(false);
                };
                let Some(major) = r.u8() else {
                    return Ok(false);
                };
                if major != 3 {
                    return Err(match self.dialect {
                        None => not_tls(&self.buf),
                        Some(_) => WireError::Malformed("record version is not 3.x"),
                    });
                }
                let (Some(_minor), Some(len)) = (r.u8(), r.u16()) else {
                    return Ok(false);
                };
                let len = usize::from(len);
                if len > MAX_RECORD {
                    return Err(WireError::RecordTooLong(len));
                }
                let Some(body) = r.take(len) else {
                    return Ok(false);
                };
                (Some(typ), body)
            }
        };
        let body = body.to_vec();
        let consumed = self.buf.len() - r.left();
        self.buf.drain(..consumed);
        self.records += 1;
        self.dialect = Some(dialect);
        match typ {
            None => self.absorb_sslv2(&body),
            Some(typ) => self.absorb_tls(typ, body),
        }
        .map(|()| true)
    }

    fn absorb_sslv2(&mut self, record: &[u8]) -> Result<(), WireError> {
        let mut r = Reader::new(record);
        let msg = match r.u8().need("SSLv2 message type")? {
            sslv2::MSG_SERVER_HELLO => {
                ServerMessage::Sslv2ServerHello(Sslv2ServerHello::decode(r.rest())?)
            }
            sslv2::MSG_ERROR => ServerMessage::Sslv2Error(sslv2::decode_error(r.rest())?),
            _ => return Err(WireError::Malformed("unexpected SSLv2 message type")),
        };
        self.ready.push_back(msg);
        Ok(())
    }

    fn absorb_tls(&mut self, typ: u8, body: Vec<u8>) -> Result<(), WireError> {
        if typ != content_type::HANDSHAKE && !self.handshake.is_empty() {
            // RFC 8446 5.1: a fragmented handshake message must not be
            // interleaved with other record types.
            return Err(WireError::Malformed(
                "record interleaved with a fragmented handshake message",
            ));
        }
        if body.is_empty() && typ != content_type::APPLICATION_DATA {
            return Err(WireError::Malformed("empty record"));
        }
        let sealed = ServerMessage::EncryptedRecord { len: body.len() };
        match typ {
            content_type::HANDSHAKE | content_type::ALERT if self.encrypted => {
                self.ready.push_back(sealed)
            }
            content_type::HANDSHAKE => {
                self.handshake.extend_from_slice(&body);
            }
            content_type::CHANGE_CIPHER_SPEC => {
                if body != [1] {
                    return Err(WireError::Malformed("ChangeCipherSpec body is not [1]"));
                }
                self.encrypted = !self.tls13;
                self.ready.push_back(ServerMessage::ChangeCipherSpec);
            }
            content_type::ALERT => {
                // TLS 1.2 allows several alerts in one record; none allows half of one.
                if body.len() % 2 != 0 {
                    return Err(WireError::Malformed("alert record of odd length"));
                }
                let mut r = Reader::new(&body);
                while !r.is_empty() {
                    self.ready
                        .push_back(ServerMessage::Alert(Alert::read(&mut r)?));
                }
            }
            content_type::APPLICATION_DATA => self.ready.push_back(sealed),
            _ => self.ready.push_back(ServerMessage::Heartbeat(body)),
        }
        Ok(())
    }

    fn take_handshake_message(&mut self) -> Result<Option<ServerMessage>, WireError> {
        let mut r = Reader::new(&self.handshake);
        let (Some(msg_type), Some(len)) = (r.u8(), r.u24()) else {
            return Ok(None);
        };
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len > MAX_HANDSHAKE {
            return Err(WireError::HandshakeTooLong(len));
        }
        let Some(body) = r.take(len) else {
            return Ok(None);
        };
        let msg = decode_handshake(msg_type, body)?;
        let consumed = self.handshake.len() - r.left();
        self.handshake.drain(..consumed);
        if let ServerMessage::ServerHello(sh) | ServerMessage::HelloRetryRequest(sh) = &msg {
            self.tls13 = sh.negotiated_version() == 0x0304;
        }
        Ok(Some(msg))
    }
}

fn decode_handshake(msg_type: u8, body: &[u8]) -> Result<ServerMessage, WireError> {
    Ok(match msg_type {
        handshake_type::SERVER_HELLO => {
            let sh = ServerHello::decode(body)?;
            if sh.is_hello_retry_request() {
                ServerMessage::HelloRetryRequest(sh)
            } else {
                ServerMessage::ServerHello(sh)
            }
        }
        handshake_type::CERTIFICATE => ServerMessage::Certificate(decode_certificates(body)?),
        handshake_type::SERVER_KEY_EXCHANGE => {
            ServerMessage::ServerKeyExchange(ServerKeyExchange {
                body: body.to_vec(),
            })
        }
        handshake_type::CERTIFICATE_REQUEST => ServerMessage::CertificateRequest(body.to_vec()),
        handshake_type::SERVER_HELLO_DONE => {
            Reader::new(body).expect_empty("ServerHelloDone")?;
            ServerMessage::ServerHelloDone
        }
        handshake_type::CERTIFICATE_STATUS => ServerMessage::CertificateStatus(body.to_vec()),
        msg_type => ServerMessage::OtherHandshake {
            msg_type,
            body: body.to_vec(),
        },
    })
}

fn decode_certificates(body: &[u8]) -> Result<Vec<Vec<u8>>, WireError> {
    let mut r = Reader::new(body);
    let mut list = r.sub_u24().need("certificate_list")?;
    r.expect_empty("Certificate")?;
    let mut certs = Vec::new();
    while !list.is_empty() {
        certs.push(list.sub_u24().need("certificate")?.rest().to_vec());
    }
    Ok(certs)
}

fn not_tls(bytes: &[u8]) -> WireError {
    let head = &bytes[..bytes.len().min(64)];
    let text = String::from_utf8_lossy(head);
    let printable = !head.is_empty()
        && head
            .iter()
            .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace());
    let hint = if bytes.starts_with(b"HTTP/") {
        "the server speaks plain HTTP".to_owned()
    } else if printable
        && text.trim_start().starts_with('<')
        && text.to_ascii_lowercase().contains("html")
    {
        // Python's http.server and others answer an unparseable request
        // line with a bare HTML error page, no status line.
        "the server speaks plain HTTP (it sent an HTML page)".to_owned()
    } else if bytes.starts_with(b"SSH-") {
        "the server speaks SSH".to_owned()
    } else if printable {
        let line = text.lines().next().unwrap_or_default();
        format!("the server sent text: {line:?}")
    } else {
        let hex: Vec<String> = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("first bytes {}", hex.join(" "))
    };
    WireError::NotTls { hint }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::alert::AlertDescription;
    use crate::wire::codec::Writer;

    fn record(typ: u8, body: &[u8]) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(typ).u16(0x0303).u16_prefixed(|w| {
            w.bytes(body);
        });
        w.into_inner()
    }

    fn handshake(typ: u8, body: &[u8]) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(typ).u24_prefixed(|w| {
            w.bytes(body);
        });
        w.into_inner()
    }

    fn server_hello_body() -> Vec<u8> {
        let mut w = Writer::new();
        w.u16(0x0303).bytes(&[3; 32]).u8(0).u16(0xc02f).u8(0);
        w.into_inner()
    }

    fn tls12_flight() -> Vec<u8> {
        let certs = {
            let mut w = Writer::new();
            w.u24_prefixed(|w| {
                w.u24_prefixed(|w| {
                    w.bytes(b"leaf");
                })
                .u24_prefixed(|w| {
                    w.bytes(b"ca");
                });
            });
            w.into_inner()
        };
        let hs = [
            handshake(2, &server_hello_body()),
            handshake(11, &certs),
            handshake(14, &[]),
        ]
        .concat();
        // The handshake bytes straddle two records on purpose.
        let (a, b) = hs.split_at(10);
        [record(22, a), record(22, b)].concat()
    }

    #[test]
    fn fragmented_and_coalesced_handshake_messages() {
        let (msgs, err) = FlightDecoder::decode_all(&tls12_flight());
        assert_eq!(err, None);
        assert!(matches!(&msgs[0], ServerMessage::ServerHello(sh) if sh.cipher_suite == 0xc02f));
        assert_eq!(
            msgs[1],
            ServerMessage::Certificate(vec![b"leaf".to_vec(), b"ca".to_vec()])
        );
        assert_eq!(msgs[2], ServerMessage::ServerHelloDone);
        assert_eq!(msgs.len(), 3);
    }

    #[test]
    fn byte_at_a_time_is_incomplete_until_whole() {
        let flight = tls12_flight();
        let mut d = FlightDecoder::new();
        let mut msgs = Vec::new();
        for b in &flight {
            d.feed(std::slice::from_ref(b));
            while let Some(m) = d.next_message().unwrap() {
                msgs.push(m);
            }
        }
        assert_eq!(msgs, FlightDecoder::decode_all(&flight).0);
        assert_eq!(d.pending_bytes(), 0);
    }

    #[test]
    fn alerts_ccs_and_sealed_records() {
        let bytes = [
            record(21, &[2, 70, 1, 0]),
            record(20, &[1]),
            record(22, &[0xaa; 40]),
            record(23, &[0xbb; 17]),
        ]
        .concat();
        let (msgs, err) = FlightDecoder::decode_all(&bytes);
        assert_eq!(err, None);
        let alert = |level, d| {
            ServerMessage::Alert(Alert {
                level,
                description: d,
            })
        };
        assert_eq!(
            msgs,
            vec![
                alert(2, AlertDescription::ProtocolVersion),
                alert(1, AlertDescription::CloseNotify),
                ServerMessage::ChangeCipherSpec,
                // After a TLS 1.2 CCS, handshake records are sealed.
                ServerMessage::EncryptedRecord { len: 40 },
                ServerMessage::EncryptedRecord { len: 17 },
            ]
        );
    }

    #[test]
    fn a_warning_alert_before_the_server_hello_is_decoded_in_order() {
        // The decoder reports the warning as a message like any other; the
        // probe decides to read past it (probe::ServerFlight::push).
        let bytes = [record(21, &[1, 112]), tls12_flight()].concat();
        let (msgs, err) = FlightDecoder::decode_all(&bytes);
        assert_eq!(err, None);
        assert_eq!(
            msgs[0],
            ServerMessage::Alert(Alert {
                level: 1,
                description: AlertDescription::UnrecognizedName,
            })
        );
        assert!(matches!(&msgs[1], ServerMessage::ServerHello(sh) if sh.cipher_suite == 0xc02f));
        assert_eq!(msgs.last(), Some(&ServerMessage::ServerHelloDone));
        assert_eq!(msgs.len(), 4);
    }

    #[test]
    fn sslv2_server_hello_and_error() {
        let mut body = Writer::new();
        body.u8(4).u8(0).u8(1).u16(2).u16(3).u16(6).u16(16);
        body.bytes(b"crt")
            .bytes(&[1, 0, 0x80, 7, 0, 0xc0])
            .bytes(&[9; 16]);
        let body = body.into_inner();
        let mut rec = vec![0x80 | (body.len() >> 8) as u8, body.len() as u8];
        rec.extend(&body);
        rec.extend([0x80, 3, 0, 0, 1]);
        let (msgs, err) = FlightDecoder::decode_all(&rec);
        assert_eq!(err, None);
        assert_eq!(
            msgs,
            vec![
                ServerMessage::Sslv2ServerHello(Sslv2ServerHello {
                    session_id_hit: false,
                    certificate_type: 1,
                    version: 2,
                    certificate: b"crt".to_vec(),
                    cipher_kinds: vec![0x010080, 0x0700c0],
                    connection_id: vec![9; 16],
                }),
                ServerMessage::Sslv2Error(1),
            ]
        );
    }

    #[test]
    fn not_tls_is_named_and_sticky() {
        let mut d = FlightDecoder::new();
        d.feed(b"HTTP/1.1 400 Bad Request\r\n\r\n");
        let want = WireError::NotTls {
            hint: "the server speaks plain HTTP".into(),
        };
        assert_eq!(d.next_message(), Err(want.clone()));
        d.feed(&record(21, &[2, 40]));
        assert_eq!(d.next_message(), Err(want), "a failed decoder stays failed");

        let (_, err) = FlightDecoder::decode_all(&[0x00, 0x01, 0x02]);
        assert_eq!(
            err,
            Some(WireError::NotTls {
                hint: "first bytes 00 01 02".into()
            })
        );
        let (_, err) = FlightDecoder::decode_all(&[0x16, 0xfe, 0xfd, 0, 0]);
        assert!(
            matches!(err, Some(WireError::NotTls { .. })),
            "DTLS is not TLS"
        );
    }

    #[test]
    fn limits_and_structural_errors() {
        let cases: Vec<(Vec<u8>, WireError)> = vec![
            (vec![22, 3, 3, 0x48, 1], WireError::RecordTooLong(0x4801)),
            (
                record(22, &[2, 0x10, 0, 0]),
                WireError::HandshakeTooLong(0x100000),
            ),
            (
                [record(21, &[2, 40]), vec![99, 3, 3, 0, 0]].concat(),
                WireError::BadContentType(99),
            ),
            (
                [record(22, &[2, 0, 0]), record(21, &[2, 40])].concat(),
                WireError::Malformed("record interleaved with a fragmented handshake message"),
            ),
            (
                record(21, &[2]),
                WireError::Malformed("alert record of odd length"),
            ),
            (
                record(20, &[2]),
                WireError::Malformed("ChangeCipherSpec body is not [1]"),
            ),
            (record(22, &[]), WireError::Malformed("empty record")),
            (
                record(22, &handshake(14, &[0])),
                WireError::TrailingBytes("ServerHelloDone"),
            ),
            (
                record(22, &handshake(2, &[3, 3])),
                WireError::Truncated("server random"),
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(FlightDecoder::decode_all(&bytes).1, Some(want));
        }
    }

    #[test]
    fn a_tls_alert_answers_an_sslv2_hello() {
        let (msgs, err) = FlightDecoder::decode_all(&[0x15, 3, 0, 0, 2, 2, 40]);
        assert_eq!(err, None);
        assert!(matches!(
            msgs.as_slice(),
            [ServerMessage::Alert(a)] if a.description == crate::wire::AlertDescription::HandshakeFailure
        ));
    }
}
