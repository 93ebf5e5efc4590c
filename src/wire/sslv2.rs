//! SSLv2 server messages (draft-hickman-netscape-ssl-00): SERVER-HELLO and
//! ERROR, the only two a server sends in clear before the client's
//! CLIENT-MASTER-KEY. A scanner needs nothing else to tell whether SSLv2 is
//! offered and with which cipher kinds.

use super::codec::{Need, Reader};
use super::WireError;

pub const MSG_ERROR: u8 = 0;
pub const MSG_SERVER_HELLO: u8 = 4;

/// An SSLv2 SERVER-HELLO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sslv2ServerHello {
    pub session_id_hit: bool,
    /// 1 = X.509 certificate.
    pub certificate_type: u8,
    /// Usually 0x0002.
    pub version: u16,
    pub certificate: Vec<u8>,
    /// 3-byte cipher kinds, in the server's order.
    pub cipher_kinds: Vec<u32>,
    pub connection_id: Vec<u8>,
}

impl Sslv2ServerHello {
    /// Decodes the message after its type byte.
    pub fn decode(body: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(body);
        let session_id_hit = r.u8().need("SSLv2 session_id_hit")? != 0;
        let certificate_type = r.u8().need("SSLv2 certificate_type")?;
        let version = r.u16().need("SSLv2 server_version")?;
        let cert_len = r.u16().need("SSLv2 certificate_length")?;
        let specs_len = r.u16().need("SSLv2 cipher_specs_length")?;
        let conn_len = r.u16().need("SSLv2 connection_id_length")?;
        let certificate = r.take(cert_len.into()).need("SSLv2 certificate")?.to_vec();
        let mut specs = r.sub(specs_len.into()).need("SSLv2 cipher specs")?;
        if specs_len % 3 != 0 {
            return Err(WireError::Malformed(
                "SSLv2 cipher specs not a multiple of 3",
            ));
        }
        let mut cipher_kinds = Vec::with_capacity(usize::from(specs_len / 3));
        while let Some(kind) = specs.u24() {
            cipher_kinds.push(kind);
        }
        let connection_id = r
            .take(conn_len.into())
            .need("SSLv2 connection_id")?
            .to_vec();
        r.expect_empty("SSLv2 SERVER-HELLO")?;
        Ok(Sslv2ServerHello {
            session_id_hit,
            certificate_type,
            version,
            certificate,
            cipher_kinds,
            connection_id,
        })
    }
}

/// Decodes an SSLv2 ERROR message body (after the type byte): the error code.
pub fn decode_error(body: &[u8]) -> Result<u16, WireError> {
    let mut r = Reader::new(body);
    let code = r.u16().need("SSLv2 error code")?;
    r.expect_empty("SSLv2 ERROR")?;
    Ok(code)
}
