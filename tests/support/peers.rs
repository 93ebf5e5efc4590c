//! Scripted hostile peers on loopback for the hostile-server suite: a
//! listener whose every connection runs a script (raw bytes, or a real
//! rustls server session followed by a hostile HTTP answer), and the TLS
//! byte builders the scripts use. No real server misbehaves on demand, so
//! the misbehaviour is scripted; whatever can be real is real (rustls
//! server sessions, OpenSSL flights from `fixtures/flights`).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// How long a script waits on a scanner that went quiet before giving up
/// its thread; far past any scan in the suite.
const PEER_PATIENCE: Duration = Duration::from_secs(60);

/// Listens on `bind` (`127.0.0.1:0`, `[::1]:0`) and runs `script` on a
/// thread per connection, with the connection's index (0-based, in accept
/// order). Threads end when the scanner hangs up or the process exits.
pub fn serve(bind: &str, script: impl Fn(TcpStream, usize) + Send + Sync + 'static) -> SocketAddr {
    let listener = TcpListener::bind(bind).unwrap_or_else(|e| panic!("bind {bind}: {e}"));
    let addr = listener.local_addr().expect("bound address");
    let script = Arc::new(script);
    thread::spawn(move || {
        for (index, stream) in listener.incoming().enumerate() {
            let Ok(stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(PEER_PATIENCE));
            let _ = stream.set_nodelay(true);
            let script = script.clone();
            thread::spawn(move || script(stream, index));
        }
    });
    addr
}

/// Reads the client's first TLS record (its ClientHello) whole, or, for
/// an SSLv2-format hello, what one read gives. `None` when the client
/// closed first.
pub fn read_client_hello(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut header = [0u8; 5];
    stream.read_exact(&mut header[..1]).ok()?;
    if header[0] & 0x80 != 0 {
        let mut rest = [0u8; 4096];
        let n = stream.read(&mut rest).ok()?;
        return Some([&header[..1], &rest[..n]].concat());
    }
    stream.read_exact(&mut header[1..]).ok()?;
    let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).ok()?;
    Some([&header[..], &body].concat())
}

/// Reads and discards until the client hangs up (or PEER_PATIENCE).
pub fn drain(stream: &mut TcpStream) {
    let mut buf = [0u8; 4096];
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}

/// What a scanner's ClientHello offered, for answers that must pick
/// something it did not.
#[derive(Debug, Default, Clone)]
pub struct Offer {
    pub session_id: Vec<u8>,
    pub suites: Vec<u16>,
    pub groups: Vec<u16>,
    /// Groups of the TLS 1.3 key_share entries (empty when none were sent).
    pub key_shares: Vec<u16>,
}

/// Parses the offer of a TLS-format ClientHello record; `None` for
/// anything else (an SSLv2 hello, a fragment).
pub fn parse_offer(record: &[u8]) -> Option<Offer> {
    let body = record.get(5..)?;
    if record.first() != Some(&0x16) || body.first() != Some(&1) {
        return None;
    }
    let mut at = 4 + 2 + 32;
    let sid_len = usize::from(*body.get(at)?);
    let session_id = body.get(at + 1..at + 1 + sid_len)?.to_vec();
    at += 1 + sid_len;
    let suites_len = usize::from(u16::from_be_bytes([*body.get(at)?, *body.get(at + 1)?]));
    let suites = body
        .get(at + 2..at + 2 + suites_len)?
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    at += 2 + suites_len;
    let comp_len = usize::from(*body.get(at)?);
    at += 1 + comp_len;
    let mut groups = Vec::new();
    let mut key_shares = Vec::new();
    if let Some(ext_len) = body.get(at..at + 2) {
        let end = at + 2 + usize::from(u16::from_be_bytes([ext_len[0], ext_len[1]]));
        at += 2;
        while at + 4 <= end.min(body.len()) {
            let ty = u16::from_be_bytes([body[at], body[at + 1]]);
            let len = usize::from(u16::from_be_bytes([body[at + 2], body[at + 3]]));
            let data = body.get(at + 4..at + 4 + len)?;
            if ty == 10 && data.len() >= 2 {
                groups = data[2..]
                    .chunks(2)
                    .filter(|c| c.len() == 2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect();
            }
            if ty == 51 && data.len() >= 2 {
                let mut entry = 2;
                while let (Some(g), Some(l)) =
                    (data.get(entry..entry + 2), data.get(entry + 2..entry + 4))
                {
                    key_shares.push(u16::from_be_bytes([g[0], g[1]]));
                    entry += 4 + usize::from(u16::from_be_bytes([l[0], l[1]]));
                }
            }
            at += 4 + len;
        }
    }
    Some(Offer {
        session_id,
        suites,
        groups,
        key_shares,
    })
}

/// A TLS record of `content_type` with record version `version`. The body
/// must fit one record; [`handshake_records`] splits larger messages.
pub fn record(content_type: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let len = u16::try_from(body.len()).expect("a record body fits 2 bytes");
    [
        &[content_type][..],
        &version.to_be_bytes(),
        &len.to_be_bytes(),
        body,
    ]
    .concat()
}

/// A handshake message: type, 3-byte length, body.
pub fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let len = u32::try_from(body.len())
        .expect("fits 3 bytes")
        .to_be_bytes();
    assert_eq!(len[0], 0, "a handshake body fits 3 bytes");
    [&[msg_type][..], &len[1..], body].concat()
}

/// Handshake bytes as TLS 1.2 handshake records of at most 2^14 bytes.
pub fn handshake_records(bytes: &[u8]) -> Vec<u8> {
    bytes
        .chunks(16384)
        .flat_map(|c| record(0x16, 0x0303, c))
        .collect()
}

/// One extension: type, 2-byte length, data.
pub fn extension(ty: u16, data: &[u8]) -> Vec<u8> {
    let len = u16::try_from(data.len()).expect("fits 2 bytes");
    [&ty.to_be_bytes()[..], &len.to_be_bytes(), data].concat()
}

/// A ServerHello body (legacy version 0x0303): `random`, the echoed
/// session id, `suite`, no compression and `extensions` (already encoded,
/// the 2-byte block length is written here when they fit it, else the
/// caller's lie stands: pass `ext_len` to state one).
pub fn server_hello_body(
    random: [u8; 32],
    session_id: &[u8],
    suite: u16,
    extensions: &[u8],
    ext_len: Option<u16>,
) -> Vec<u8> {
    let stated = ext_len.unwrap_or_else(|| u16::try_from(extensions.len()).unwrap_or(u16::MAX));
    [
        &[0x03, 0x03][..],
        &random,
        &[u8::try_from(session_id.len()).expect("session id ≤ 32")],
        session_id,
        &suite.to_be_bytes(),
        &[0],
        &stated.to_be_bytes(),
        extensions,
    ]
    .concat()
}

/// A plain ServerHello random: not the HelloRetryRequest value and no
/// downgrade sentinel.
pub const RANDOM: [u8; 32] = [0x5a; 32];

/// SHA-256("HelloRetryRequest"), the random that makes a ServerHello an
/// HRR (RFC 8446 4.1.3).
pub const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// The records of a captured flight in `fixtures/flights`, split at
/// record boundaries.
pub fn flight_records(name: &str) -> Vec<Vec<u8>> {
    let bytes = super::fixture_flight(name);
    let mut out = Vec::new();
    let mut at = 0;
    while at + 5 <= bytes.len() {
        let len = usize::from(u16::from_be_bytes([bytes[at + 3], bytes[at + 4]]));
        out.push(bytes[at..at + 5 + len].to_vec());
        at += 5 + len;
    }
    out
}

/// The handshake messages inside a flight's handshake records (records
/// reassembled), each with its 4-byte header.
pub fn flight_messages(name: &str) -> Vec<Vec<u8>> {
    let stream: Vec<u8> = flight_records(name)
        .into_iter()
        .filter(|r| r[0] == 0x16)
        .flat_map(|r| r[5..].to_vec())
        .collect();
    let mut out = Vec::new();
    let mut at = 0;
    while at + 4 <= stream.len() {
        let len = usize::from(stream[at + 1]) << 16
            | usize::from(stream[at + 2]) << 8
            | usize::from(stream[at + 3]);
        out.push(stream[at..at + 4 + len].to_vec());
        at += 4 + len;
    }
    out
}

/// A self-signed ECDSA certificate for `test.com`, made once per process
/// (rcgen), and the rustls server configuration that serves it with ALPN
/// `http/1.1`: a real TLS 1.2 / 1.3 server for the scripts that misbehave
/// only above TLS.
pub fn rustls_server_config() -> Arc<rustls::ServerConfig> {
    static CONFIG: OnceLock<Arc<rustls::ServerConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let certified = rcgen::generate_simple_self_signed(vec!["test.com".to_owned()])
                .expect("a test certificate");
            let chain = vec![CertificateDer::from(certified.cert.der().to_vec())];
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
                certified.signing_key.serialize_der(),
            ));
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let mut config = rustls::ServerConfig::builder_with_provider(provider)
                .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
                .expect("TLS 1.2 and 1.3")
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .expect("the certificate and its key");
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            Arc::new(config)
        })
        .clone()
}

/// A rustls server session over one accepted connection.
pub type Tls = rustls::StreamOwned<rustls::ServerConnection, TcpStream>;

/// Completes a real TLS handshake on `tcp` and reads one HTTP request head
/// (to the blank line). `None` when the client was a raw probe that never
/// finished the handshake, or hung up.
pub fn accept_https(tcp: TcpStream) -> Option<(Tls, String)> {
    let conn = rustls::ServerConnection::new(rustls_server_config()).ok()?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tls.read(&mut buf).ok()?;
        if n == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Some((tls, String::from_utf8_lossy(&head).into_owned()))
}

/// The request path of a request head (`GET /x HTTP/1.1`).
pub fn request_path(head: &str) -> &str {
    head.split_whitespace().nth(1).unwrap_or("")
}

/// Writes `bytes` then keeps writing `repeat` until the peer is gone:
/// a flood that ends only when the scanner hangs up.
pub fn flood(out: &mut impl Write, bytes: &[u8], repeat: &[u8]) {
    if out.write_all(bytes).and_then(|()| out.flush()).is_err() {
        return;
    }
    while out.write_all(repeat).is_ok() {}
}

/// Writes `bytes` one at a time, `every` apart, until done or the peer is
/// gone; then waits for the peer to leave.
pub fn drip(out: &mut impl Write, bytes: &[u8], every: Duration) -> io::Result<()> {
    for b in bytes {
        out.write_all(&[*b])?;
        out.flush()?;
        thread::sleep(every);
    }
    Ok(())
}

/// Drives a real rustls server session by hand up to its first flight and
/// returns that flight's bytes (ServerHello first) without sending them,
/// so a script can send only part of it. `None` when the client sent no
/// hello rustls would answer (a raw SSLv2 / TLS 1.0 probe).
pub fn rustls_first_flight(tcp: &mut TcpStream) -> Option<Vec<u8>> {
    let mut conn = rustls::ServerConnection::new(rustls_server_config()).ok()?;
    loop {
        match conn.read_tls(tcp) {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        if conn.process_new_packets().is_err() {
            // Its alert goes out, as a real server's would.
            let mut alert = Vec::new();
            let _ = conn.write_tls(&mut alert);
            let _ = tcp.write_all(&alert);
            return None;
        }
        if conn.wants_write() {
            break;
        }
    }
    let mut flight = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut flight).ok()?;
    }
    Some(flight)
}

/// The length of the first record in `bytes` (header included).
pub fn first_record_len(bytes: &[u8]) -> usize {
    5 + usize::from(u16::from_be_bytes([bytes[3], bytes[4]]))
}
