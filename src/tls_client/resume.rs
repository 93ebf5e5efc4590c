//! Handshakes that resume: one rustls configuration with a session store
//! the caller can inspect, so a full handshake's session (TLS 1.2 ID or
//! ticket, TLS 1.3 tickets) can be presented again on new connections and
//! each connection says whether it resumed (`ClientConnection::
//! handshake_kind`). Also what the session probes read on the way: the
//! tickets' early-data allowance, whether early data was accepted, and
//! whether the server compressed its certificate (RFC 8879).
//!
//! The store freezes the first TLS 1.2 session it is given, so every
//! later attempt presents the same ID or ticket (what a client pool
//! spreading over replicas does); TLS 1.3 tickets are single values
//! rustls cannot copy, so they are handed out newest first as received.
//!
//! Each connection ends with close_notify and reads the server's answer
//! to it: a server that sees an unclean end may drop the session from its
//! cache (OpenSSL's `ssl_clear_bad_session`), and TLS 1.3 tickets arrive
//! after the handshake, before the server's close.

use std::cell::Cell;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::{
    ClientSessionStore, Resumption, Tls12ClientSessionValue, Tls13ClientSessionValue,
};
use rustls::compress::{CertDecompressor, DecompressionFailed};
use rustls::pki_types::ServerName;
use rustls::{CertificateCompressionAlgorithm, ClientConfig, HandshakeKind, NamedGroup};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::{
    client_config, danger, lock_any, server_name, HandshakeOptions, Session, TlsClientError,
};
use crate::wire::ProtocolVersion;

/// Which TLS 1.2 mechanism to offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls12Mode {
    /// No session_ticket extension: the server can only resume by ID.
    SessionIdOnly,
    /// The session_ticket extension: a ticket if the server issues one.
    Tickets,
}

/// What one connection of a [`ResumingClient`] showed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResumedHandshake {
    pub protocol: Option<ProtocolVersion>,
    /// The handshake resumed a session.
    pub resumed: bool,
    /// Early data was written and the server accepted it; `None` when no
    /// early data was sent.
    pub early_data_accepted: Option<bool>,
    /// TLS 1.3 tickets received on this connection.
    pub tickets_received: u32,
    /// The server sent a CompressedCertificate with this algorithm.
    pub compressed_with: Option<u16>,
    /// Why the handshake did not complete.
    pub error: Option<String>,
    /// How the connection ended after a complete handshake when not with
    /// the server's close_notify or EOF (e.g. TLS 1.3's
    /// certificate_required alert: no ticket then says nothing).
    pub ended_after_handshake: Option<String>,
}

/// A rustls client for one target and server name whose connections
/// share one session store.
pub struct ResumingClient {
    config: Arc<ClientConfig>,
    /// Same verifier and store, offering certificate compression (a
    /// session is only resumed by a config with the same verifier).
    compressing: Arc<ClientConfig>,
    /// Same, offering early data.
    early: Arc<ClientConfig>,
    store: Arc<FrozenStore>,
    sni: Option<String>,
}

impl ResumingClient {
    /// `version` TLS 1.2 (with `mode`) or TLS 1.3.
    ///
    /// # Errors
    /// When rustls cannot be configured (a version it does not speak).
    pub fn new(
        sni: Option<&str>,
        version: ProtocolVersion,
        mode: Tls12Mode,
    ) -> Result<ResumingClient, TlsClientError> {
        let opts = HandshakeOptions {
            sni: sni.map(str::to_owned),
            versions: vec![version],
            ..HandshakeOptions::default()
        };
        let verifier = Arc::new(danger::RecordingVerifier::new(None));
        let mut config = client_config(&opts, verifier, None)?;
        let store = Arc::new(FrozenStore::default());
        config.resumption = Resumption::store(store.clone()).tls12_resumption(match mode {
            Tls12Mode::SessionIdOnly => rustls::client::Tls12Resumption::SessionIdOnly,
            Tls12Mode::Tickets => rustls::client::Tls12Resumption::SessionIdOrTickets,
        });
        config.cert_decompressors = Vec::new();
        let mut compressing = config.clone();
        compressing.cert_decompressors = vec![&ZLIB, &BROTLI, &ZSTD];
        let mut early = config.clone();
        early.enable_early_data = true;
        Ok(ResumingClient {
            config: Arc::new(config),
            compressing: Arc::new(compressing),
            early: Arc::new(early),
            store,
            sni: sni.map(str::to_owned),
        })
    }

    /// One handshake on `stream`, resuming when the store holds a session.
    /// `compress` offers certificate compression; `early_data` is written
    /// as 0-RTT data when the ticket allows it. After the first complete
    /// handshake the TLS 1.2 session is frozen.
    pub async fn handshake(
        &self,
        stream: TcpStream,
        compress: bool,
        early_data: Option<&[u8]>,
        timeout: Duration,
    ) -> ResumedHandshake {
        let config = match (compress, early_data.is_some()) {
            (true, _) => self.compressing.clone(),
            (false, true) => self.early.clone(),
            (false, false) => self.config.clone(),
        };
        let mut record = ResumedHandshake::default();
        let name = match server_name(self.sni.as_deref(), &stream) {
            Ok(n) => n,
            Err(e) => {
                record.error = Some(e.to_string());
                return record;
            }
        };
        let mut session = match Session::new(config, name, stream) {
            Ok(s) => s,
            Err(e) => {
                record.error = Some(e.to_string());
                return record;
            }
        };
        let mut wrote_early = false;
        if let (Some(data), Some(mut early)) = (early_data, session.conn.early_data()) {
            wrote_early = early.write(data).is_ok_and(|n| n > 0);
        }
        let ended = tokio::time::timeout(timeout, drive(&mut session, &mut record)).await;
        record.protocol = session.conn.protocol_version().and_then(super::our_version);
        record.resumed = matches!(session.conn.handshake_kind(), Some(HandshakeKind::Resumed));
        record.tickets_received = session.conn.tls13_tickets_received();
        if wrote_early {
            record.early_data_accepted = Some(session.conn.is_early_data_accepted());
        }
        match ended {
            Ok(Ok(())) => {}
            Ok(Err(e)) => record.error = Some(e),
            Err(_) if session.conn.is_handshaking() => {
                record.error = Some(format!(
                    "no complete handshake within {} ms",
                    timeout.as_millis()
                ));
            }
            // Complete, but the server did not answer close_notify in
            // time: what counts (resumed or not, tickets) is known.
            Err(_) => {}
        }
        if record.error.is_none() {
            self.store.freeze();
        }
        session.abort();
        record
    }

    /// The first TLS 1.2 session is in the store.
    pub fn has_tls12_session(&self) -> bool {
        lock_any(&self.store.tls12).is_some()
    }

    /// TLS 1.3 tickets the store holds now.
    pub fn tls13_tickets(&self) -> usize {
        lock_any(&self.store.tls13).len()
    }

    /// The largest max_early_data_size of the tickets received so far.
    pub fn max_early_data_size(&self) -> Option<u32> {
        *lock_any(&self.store.max_early_data)
    }
}

/// Handshake, close_notify, then read until the server closes (its own
/// close_notify or EOF): the tickets that follow a TLS 1.3 handshake are
/// in by then.
async fn drive(session: &mut Session, record: &mut ResumedHandshake) -> Result<(), String> {
    loop {
        if let Err(e) = session.flush().await {
            // Our Finished not getting out after the server's: the server
            // already closed (nginx answers a 0-RTT request with
            // `Connection: close` before it), the handshake is done.
            if session.conn.is_handshaking() {
                return Err(e.to_string());
            }
            return Ok(());
        }
        if !session.conn.is_handshaking() {
            break;
        }
        if !read_recording(session, record).await? {
            return Err("connection closed during the handshake".to_owned());
        }
    }
    session.conn.send_close_notify();
    if session.flush().await.is_err() {
        // The server closed first: nothing more to read.
        return Ok(());
    }
    loop {
        // Drain plaintext (an early answer to early data) so reading goes on.
        let mut sink = [0u8; 4096];
        loop {
            match session.conn.reader().read(&mut sink) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => return Ok(()),
            }
        }
        match read_recording(session, record).await {
            Ok(true) => {}
            // EOF after our close_notify: done.
            Ok(false) => return Ok(()),
            Err(e) => {
                record.ended_after_handshake = Some(e);
                return Ok(());
            }
        }
    }
}

/// One socket read, fed to rustls; notes a certificate decompression
/// the processing asked for. `Ok(false)` at EOF.
async fn read_recording(
    session: &mut Session,
    record: &mut ResumedHandshake,
) -> Result<bool, String> {
    let n = session
        .tcp
        .read(&mut session.buf)
        .await
        .map_err(|e| e.to_string())?;
    if n == 0 {
        let _ = session.conn.read_tls(&mut io::empty());
        let processed = session.conn.process_new_packets().map(|_| ());
        note_decompression(record);
        processed.map_err(|e| e.to_string())?;
        return Ok(false);
    }
    let mut data = &session.buf[..n];
    while !data.is_empty() {
        session
            .conn
            .read_tls(&mut data)
            .map_err(|e| e.to_string())?;
        // The decompressor runs inside this call, on this thread, with no
        // await in between: the thread-local is this connection's.
        let processed = session.conn.process_new_packets().map(|_| ());
        note_decompression(record);
        processed.map_err(|e| e.to_string())?;
    }
    Ok(true)
}

fn note_decompression(record: &mut ResumedHandshake) {
    if let Some(alg) = DECOMPRESSED.with(Cell::take) {
        record.compressed_with = Some(alg);
    }
}

thread_local! {
    /// The algorithm the last certificate decompression was asked for.
    static DECOMPRESSED: Cell<Option<u16>> = const { Cell::new(None) };
}

/// A decompressor that only records: the project has no zlib, brotli or
/// zstd decoder, so the handshake that compresses ends there (rustls
/// fails it as an invalid compression) and is made again without
/// offering compression. The algorithm is the fact.
#[derive(Debug)]
struct Recorder(CertificateCompressionAlgorithm);

impl CertDecompressor for Recorder {
    fn decompress(&self, _input: &[u8], _output: &mut [u8]) -> Result<(), DecompressionFailed> {
        DECOMPRESSED.with(|c| c.set(Some(u16::from(self.0))));
        Err(DecompressionFailed)
    }

    fn algorithm(&self) -> CertificateCompressionAlgorithm {
        self.0
    }
}

static ZLIB: Recorder = Recorder(CertificateCompressionAlgorithm::Zlib);
static BROTLI: Recorder = Recorder(CertificateCompressionAlgorithm::Brotli);
static ZSTD: Recorder = Recorder(CertificateCompressionAlgorithm::Zstd);

/// The name of a certificate compression algorithm (RFC 8879 7.3).
pub fn compression_name(alg: u16) -> String {
    match alg {
        1 => "zlib".to_owned(),
        2 => "brotli".to_owned(),
        3 => "zstd".to_owned(),
        other => format!("0x{other:04X}"),
    }
}

/// A session store that keeps the first TLS 1.2 session once frozen (every
/// attempt presents the same ID or ticket) and TLS 1.3 tickets newest
/// first.
#[derive(Debug, Default)]
struct FrozenStore {
    frozen: Mutex<bool>,
    tls12: Mutex<Option<Tls12ClientSessionValue>>,
    tls13: Mutex<VecDeque<Tls13ClientSessionValue>>,
    max_early_data: Mutex<Option<u32>>,
    kx_hint: Mutex<Option<NamedGroup>>,
}

/// Tickets kept at most (a server may send many).
const MAX_TICKETS: usize = 8;

impl FrozenStore {
    fn freeze(&self) {
        if lock_any(&self.tls12).is_some() {
            *lock_any(&self.frozen) = true;
        }
    }
}

impl ClientSessionStore for FrozenStore {
    fn set_kx_hint(&self, _server_name: ServerName<'static>, group: NamedGroup) {
        *lock_any(&self.kx_hint) = Some(group);
    }

    fn kx_hint(&self, _server_name: &ServerName<'_>) -> Option<NamedGroup> {
        *lock_any(&self.kx_hint)
    }

    fn set_tls12_session(&self, _server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        if !*lock_any(&self.frozen) {
            *lock_any(&self.tls12) = Some(value);
        }
    }

    fn tls12_session(&self, _server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        lock_any(&self.tls12).clone()
    }

    fn remove_tls12_session(&self, _server_name: &ServerName<'static>) {
        if !*lock_any(&self.frozen) {
            *lock_any(&self.tls12) = None;
        }
    }

    fn insert_tls13_ticket(
        &self,
        _server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        let size = value.max_early_data_size();
        let mut max = lock_any(&self.max_early_data);
        *max = Some(max.map_or(size, |m| m.max(size)));
        let mut tickets = lock_any(&self.tls13);
        tickets.push_front(value);
        tickets.truncate(MAX_TICKETS);
    }

    fn take_tls13_ticket(
        &self,
        _server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        lock_any(&self.tls13).pop_front()
    }
}
