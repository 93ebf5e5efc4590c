//! Every rustls `ClientConfig` of the project, and the one full handshake
//! built on them: [`record_handshake`] runs a real TLS 1.2/1.3 handshake on
//! an open TCP stream and records what the server showed — version, suite,
//! ALPN, certificate chain, stapled OCSP and the signature scheme it signed
//! with.
//!
//! [`handshake_for_data`] is the variant for requests: it records whether
//! the server sent a CertificateRequest (and which issuers it accepts),
//! answers with a given [`ClientIdentity`] or none, and hands the finished
//! session over for HTTP (`scan::http` runs hyper over it) — in TLS 1.3 a
//! server that requires a certificate refuses only after the handshake, on
//! the first read, so the handshake record must outlive the handshake.
//!
//! The handshake is driven by hand over the TCP stream (not through
//! tokio-rustls) so that what the connection learnt before a refusal —
//! version, suite, ALPN, the chain — is still there to report.
//!
//! It never judges what it saw (trust, names and expiry are `cert`'s job)
//! and never connects on its own: the caller brings the stream, so the
//! per-target connection limit and handshake count stay in `scan::Prober`.
//! TLS 1.0/1.1 are out of reach here (rustls does not speak them); the raw
//! hellos of `wire` cover those.

pub mod kx_groups;

use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::ServerCertVerifier;
use rustls::client::ResolvesClientCert;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, ClientConnection, SignatureScheme, SupportedProtocolVersion};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::wire::ProtocolVersion;

mod resume;
pub use resume::{compression_name, ResumedHandshake, ResumingClient, Tls12Mode};

/// What one completed (or partly completed) handshake showed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandshakeRecord {
    /// Negotiated version; `None` when the handshake did not get that far.
    pub protocol: Option<ProtocolVersion>,
    /// Negotiated cipher suite code point.
    pub suite: Option<u16>,
    /// The ALPN protocol the server agreed to.
    pub alpn: Option<Vec<u8>>,
    /// DER certificates, leaf first, exactly as presented.
    pub chain: Vec<Vec<u8>>,
    /// Stapled OCSP response, when the server sent one.
    pub ocsp: Option<Vec<u8>>,
    /// The scheme of the TLS 1.3 CertificateVerify or the TLS 1.2
    /// ServerKeyExchange signature (absent for TLS 1.2 RSA key exchange).
    pub signature_scheme: Option<u16>,
    /// Key type of the leaf (`RSA`, `ECDSA` …), when it parses.
    pub key_type: Option<String>,
    /// Set when the handshake did not complete: why. Everything else in
    /// the record was seen before that (e.g. the version, ALPN and chain
    /// of a TLS 1.2 server that then refused for want of a client
    /// certificate).
    pub broken_off: Option<String>,
}

/// What to offer in one handshake.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandshakeOptions {
    /// server_name to send; `None` sends no SNI.
    pub sni: Option<String>,
    /// ALPN protocols to offer, in order; empty offers no ALPN.
    pub alpn: Vec<Vec<u8>>,
    /// TLS 1.2 and/or TLS 1.3; empty means both. Other versions are ignored.
    pub versions: Vec<ProtocolVersion>,
    /// Restrict the advertised `signature_algorithms` to these code points
    /// (any, known to rustls or not); `None` advertises every scheme the
    /// aws-lc-rs provider can verify.
    pub signature_schemes: Option<Vec<u16>>,
}

/// Why a handshake did not complete.
#[derive(Debug, thiserror::Error)]
pub enum TlsClientError {
    #[error("no version to offer: rustls speaks only TLS 1.2 and TLS 1.3")]
    NoVersions,
    #[error("cannot build the TLS client: {0}")]
    Config(String),
    /// The server refused or broke off (alert, close, reset, bad message).
    /// `seen` holds what was recorded before that, e.g. the chain when the
    /// failure came after the server's Certificate.
    #[error("{reason}")]
    Handshake {
        reason: String,
        seen: Box<HandshakeRecord>,
        /// The server ended it (a fatal alert, a close, a reset); `false`
        /// when rustls gave up on what the server sent (too large, not
        /// understood, not verifiable): then the server did not refuse,
        /// we could not follow, and the outcome is unknown.
        by_server: bool,
        /// The fatal alert the server sent, when it sent one.
        alert: Option<u8>,
    },
    #[error("no complete handshake within {} ms", .limit.as_millis())]
    Timeout {
        limit: Duration,
        seen: Box<HandshakeRecord>,
    },
}

impl TlsClientError {
    /// Whether the server refused (alert, close, reset) rather than our
    /// side failing or running out of time.
    pub fn by_server(&self) -> bool {
        matches!(
            self,
            TlsClientError::Handshake {
                by_server: true,
                ..
            }
        )
    }

    /// The fatal alert that ended the handshake, if the server sent one
    /// (a close or reset has none).
    pub fn alert(&self) -> Option<u8> {
        match self {
            TlsClientError::Handshake { alert, .. } => *alert,
            _ => None,
        }
    }

    /// What was recorded before the failure (empty when nothing was).
    pub fn seen(&self) -> Option<&HandshakeRecord> {
        match self {
            TlsClientError::Handshake { seen, .. } | TlsClientError::Timeout { seen, .. } => {
                Some(seen)
            }
            _ => None,
        }
    }
}

/// Runs one TLS handshake on `stream` and records it; the connection is
/// dropped (with a reset) afterwards — no application data is exchanged.
///
/// With `opts.sni = None` the peer's IP address is given to rustls as the
/// server name, and rustls sends no SNI for IP addresses.
///
/// # Errors
/// [`TlsClientError::NoVersions`] when `opts.versions` names neither TLS 1.2
/// nor 1.3; [`TlsClientError::Handshake`] when the server refuses (the
/// reason is rustls's, e.g. `received fatal alert: HandshakeFailure`);
/// [`TlsClientError::Timeout`] when `timeout` passes first.
pub async fn record_handshake(
    stream: TcpStream,
    opts: &HandshakeOptions,
    timeout: Duration,
) -> Result<HandshakeRecord, TlsClientError> {
    let recorder = Arc::new(danger::RecordingVerifier::new(
        opts.signature_schemes.clone(),
    ));
    let config = client_config(opts, recorder.clone(), None)?;
    let name = server_name(opts.sni.as_deref(), &stream)?;
    let mut session = Session::new(Arc::new(config), name, stream)?;
    let result = tokio::time::timeout(timeout, session.handshake()).await;
    let mut record = recorder.take();
    session.fill(&mut record);
    session.abort();
    match result {
        Ok(Ok(())) => Ok(record),
        Ok(Err(broken)) => {
            let reason = broken.reason();
            record.broken_off = Some(reason.clone());
            // A close or reset after the ServerHello is no refusal: a
            // server refusing mid-handshake says so with an alert.
            let by_server =
                broken.by_server() && (broken.alert().is_some() || record.protocol.is_none());
            Err(TlsClientError::Handshake {
                reason,
                seen: Box::new(record),
                by_server,
                alert: broken.alert(),
            })
        }
        Err(_) => {
            record.broken_off = Some(format!("timeout after {} ms", timeout.as_millis()));
            Err(TlsClientError::Timeout {
                limit: timeout,
                seen: Box::new(record),
            })
        }
    }
}

/// A client certificate and its key, ready to be offered.
#[derive(Clone)]
pub struct ClientIdentity {
    key: Arc<CertifiedKey>,
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of logs.
        f.debug_struct("ClientIdentity").finish_non_exhaustive()
    }
}

impl ClientIdentity {
    /// From DER certificates (leaf first) and a PKCS#8 / PKCS#1 / SEC1 key.
    ///
    /// # Errors
    /// [`TlsClientError::Config`] when the chain is empty or the key is not
    /// one the aws-lc-rs provider can sign with.
    pub fn from_der(chain: Vec<Vec<u8>>, key_der: Vec<u8>) -> Result<Self, TlsClientError> {
        let key = PrivateKeyDer::try_from(key_der)
            .map_err(|e| TlsClientError::Config(format!("client key: {e}")))?;
        Self::build(chain.into_iter().map(CertificateDer::from).collect(), key)
    }

    /// From PEM text: the certificates (leaf first) and the private key.
    ///
    /// # Errors
    /// [`TlsClientError::Config`] when either does not parse.
    pub fn from_pem(chain_pem: &str, key_pem: &str) -> Result<Self, TlsClientError> {
        let chain = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsClientError::Config(format!("client certificate: {e}")))?;
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
            .map_err(|e| TlsClientError::Config(format!("client key: {e}")))?;
        Self::build(chain, key)
    }

    fn build(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, TlsClientError> {
        if chain.is_empty() {
            return Err(TlsClientError::Config(
                "client identity without a certificate".to_owned(),
            ));
        }
        let signer = rustls::crypto::aws_lc_rs::default_provider()
            .key_provider
            .load_private_key(key)
            .map_err(|e| TlsClientError::Config(format!("client key: {e}")))?;
        Ok(ClientIdentity {
            key: Arc::new(CertifiedKey::new(chain, signer)),
        })
    }

    /// The leaf certificate, DER.
    pub fn leaf_der(&self) -> &[u8] {
        self.key.cert[0].as_ref()
    }
}

/// The server's CertificateRequest, as the client saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateRequestSeen {
    /// The acceptable issuer names, DER X.500 `Name`s as sent (often
    /// empty: the server leaves the choice to the client).
    pub acceptable_issuers: Vec<Vec<u8>>,
    /// Whether a certificate went back: an identity was given and its key
    /// can sign with a scheme the server accepts.
    pub certificate_sent: bool,
}

/// Why [`handshake_for_data`] has no session to hand over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeFailure {
    /// The handshake broke: a fatal alert (`alert`, its code point), or
    /// reset / EOF / a protocol error (`alert` is `None`); `reason` in
    /// rustls's words.
    Broken {
        alert: Option<u8>,
        reason: String,
        /// Our client gave up on what the server sent (a second
        /// HelloRetryRequest, a message too large or malformed): the server
        /// broke the protocol, it refused nothing. A probe that reads a
        /// refusal as a deny must not read this one as a deny.
        violation: bool,
    },
    TimedOut {
        limit: Duration,
    },
}

/// One handshake offering a client certificate (or none), and what it
/// showed: kept whether or not a session came of it, because a refusal
/// (TLS 1.2 during the handshake, TLS 1.3 on the first read) is the
/// answer the mTLS probes look for.
pub struct DataHandshake {
    /// What the server showed (version, suite, ALPN, chain), also when it
    /// refused.
    pub handshake: HandshakeRecord,
    /// `Some` when the server sent a CertificateRequest.
    pub certificate_request: Option<CertificateRequestSeen>,
    /// The session for requests, when the handshake completed on the
    /// client's side.
    pub session: Result<DataStream, HandshakeFailure>,
}

impl std::fmt::Debug for DataHandshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataHandshake")
            .field("handshake", &self.handshake)
            .field("certificate_request", &self.certificate_request)
            .field("session", &self.session.as_ref().map(|_| "open"))
            .finish()
    }
}

/// Runs one handshake on `stream` offering `identity` (or no certificate)
/// when the server asks for one, and hands the session over for requests.
/// `timeout` bounds the handshake.
///
/// The handshake is driven by hand (like [`record_handshake`]) so that a
/// refusal still leaves the version, suite, ALPN and chain to report; the
/// finished connection then moves into a tokio-rustls stream, which any
/// `AsyncRead + AsyncWrite` client (hyper) can use.
///
/// A refusal is part of the result, not an error.
///
/// # Errors
/// Only [`TlsClientError::NoVersions`] / [`TlsClientError::Config`]: the
/// client could not be built.
pub async fn handshake_for_data(
    stream: TcpStream,
    opts: &HandshakeOptions,
    identity: Option<&ClientIdentity>,
    timeout: Duration,
) -> Result<DataHandshake, TlsClientError> {
    let recorder = Arc::new(danger::RecordingVerifier::new(
        opts.signature_schemes.clone(),
    ));
    let resolver = Arc::new(RecordingResolver {
        identity: identity.map(|i| i.key.clone()),
        seen: Mutex::default(),
    });
    let config = Arc::new(client_config(
        opts,
        recorder.clone(),
        Some(resolver.clone()),
    )?);
    let name = server_name(opts.sni.as_deref(), &stream)?;
    let mut session = Session::new(config.clone(), name.clone(), stream)?;
    let ended = tokio::time::timeout(timeout, session.handshake()).await;
    let mut handshake = recorder.take();
    session.fill(&mut handshake);
    let certificate_request = lock_any(&resolver.seen).take();
    let failure = match ended {
        Ok(Ok(())) => None,
        Ok(Err(broken)) => {
            let reason = broken.reason();
            handshake.broken_off = Some(reason.clone());
            // A close or reset after the ServerHello with no alert is no
            // refusal either: a refusing TLS server says why (its alert is
            // read before a reset that follows it), and a proxy that
            // refuses closes before any ServerHello. FIN or RST depends
            // only on whether the peer left our bytes unread.
            let violation = broken.is_violation()
                || (matches!(broken, Broken::Eof | Broken::Io(_)) && handshake.protocol.is_some());
            Some(HandshakeFailure::Broken {
                alert: broken.alert(),
                reason,
                violation,
            })
        }
        Err(_) => Some(HandshakeFailure::TimedOut { limit: timeout }),
    };
    let session = match failure {
        Some(failure) => {
            session.abort();
            Err(failure)
        }
        None => session.into_data_stream(config, name).await,
    };
    Ok(DataHandshake {
        handshake,
        certificate_request,
        session,
    })
}

/// Answers a CertificateRequest with the identity it holds (or none) and
/// remembers that one came, with its acceptable issuers.
#[derive(Debug)]
struct RecordingResolver {
    identity: Option<Arc<CertifiedKey>>,
    seen: Mutex<Option<CertificateRequestSeen>>,
}

impl ResolvesClientCert for RecordingResolver {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        let certificate_sent = self
            .identity
            .as_ref()
            .is_some_and(|k| k.key.choose_scheme(sigschemes).is_some());
        *lock_any(&self.seen) = Some(CertificateRequestSeen {
            acceptable_issuers: root_hint_subjects.iter().map(|n| n.to_vec()).collect(),
            certificate_sent,
        });
        self.identity.clone()
    }

    /// Always "yes": rustls then keeps what it needs to answer a request
    /// in every case, and an empty answer is still ours to give.
    fn has_certs(&self) -> bool {
        true
    }
}

/// How a hand-driven connection broke.
enum Broken {
    Tls(rustls::Error),
    Io(io::Error),
    Eof,
}

impl Broken {
    /// In rustls's words, as `record_handshake` has always said it.
    fn reason(&self) -> String {
        match self {
            Broken::Tls(e) => e.to_string(),
            Broken::Eof => "connection closed during the handshake".to_owned(),
            Broken::Io(e) => e.to_string(),
        }
    }

    fn alert(&self) -> Option<u8> {
        match self {
            Broken::Tls(rustls::Error::AlertReceived(a)) => Some(u8::from(*a)),
            _ => None,
        }
    }

    /// Whether the server ended the handshake, rather than rustls giving
    /// up on what it sent.
    fn by_server(&self) -> bool {
        match self {
            Broken::Tls(rustls::Error::AlertReceived(_)) | Broken::Eof => true,
            Broken::Tls(_) => false,
            Broken::Io(e) => matches!(
                e.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::UnexpectedEof
            ),
        }
    }

    fn is_violation(&self) -> bool {
        matches!(self, Broken::Tls(e) if is_violation(e))
    }
}

/// A rustls error of our own making on the server's bytes: anything but
/// the server's alert. Reset and EOF are not rustls errors: before the
/// ServerHello they stay refusals (a close is how some proxies refuse).
fn is_violation(e: &rustls::Error) -> bool {
    !matches!(e, rustls::Error::AlertReceived(_))
}

/// A rustls client connection on a TCP stream, driven by hand: after a
/// refusal the connection still knows what it negotiated.
struct Session {
    conn: ClientConnection,
    tcp: TcpStream,
    buf: Vec<u8>,
}

impl Session {
    fn new(
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        tcp: TcpStream,
    ) -> Result<Session, TlsClientError> {
        let conn = ClientConnection::new(config, name)
            .map_err(|e| TlsClientError::Config(e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        Ok(Session {
            conn,
            tcp,
            buf: vec![0; 16 * 1024],
        })
    }

    /// Writes whatever rustls has queued.
    async fn flush(&mut self) -> io::Result<()> {
        let mut out = Vec::new();
        while self.conn.wants_write() {
            self.conn.write_tls(&mut out)?;
        }
        if !out.is_empty() {
            self.tcp.write_all(&out).await?;
        }
        Ok(())
    }

    /// One socket read, fed to rustls and processed. `Ok(false)` at EOF.
    async fn read_once(&mut self) -> Result<bool, Broken> {
        let n = self.tcp.read(&mut self.buf).await.map_err(Broken::Io)?;
        if n == 0 {
            // Tells rustls the peer is gone (close_notify or not).
            let _ = self.conn.read_tls(&mut io::empty());
            self.conn.process_new_packets().map_err(Broken::Tls)?;
            return Ok(false);
        }
        let mut data = &self.buf[..n];
        while !data.is_empty() {
            self.conn.read_tls(&mut data).map_err(Broken::Io)?;
            self.conn.process_new_packets().map_err(Broken::Tls)?;
        }
        Ok(true)
    }

    async fn handshake(&mut self) -> Result<(), Broken> {
        loop {
            self.flush().await.map_err(Broken::Io)?;
            if !self.conn.is_handshaking() {
                return Ok(());
            }
            if !self.read_once().await? {
                return Err(Broken::Eof);
            }
        }
    }

    /// The finished connection as a tokio-rustls stream. tokio-rustls
    /// builds its streams only through a handshake; its `connect_with`
    /// hook may replace the fresh connection, and a connection that is no
    /// longer handshaking passes its handshake loop untouched (only
    /// flushed). Whatever rustls read past the handshake (a ticket, an
    /// alert) is inside the connection already and stays with it.
    async fn into_data_stream(
        self,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
    ) -> Result<DataStream, HandshakeFailure> {
        let Session { conn, tcp, .. } = self;
        tokio_rustls::TlsConnector::from(config)
            .connect_with(name, tcp, move |fresh| *fresh = conn)
            .await
            .map_err(|e| HandshakeFailure::Broken {
                alert: alert_in(&e),
                reason: e.to_string(),
                violation: tls_error_in(&e).is_some_and(is_violation),
            })
    }

    /// What the connection negotiated, as far as it got.
    fn fill(&self, record: &mut HandshakeRecord) {
        record.protocol = self.conn.protocol_version().and_then(our_version);
        record.suite = self
            .conn
            .negotiated_cipher_suite()
            .map(|s| u16::from(s.suite()));
        record.alpn = self.conn.alpn_protocol().map(<[u8]>::to_vec);
    }

    /// Reset rather than close, like the raw probes: nothing stays in
    /// TIME_WAIT.
    fn abort(&self) {
        #[allow(deprecated)]
        let _ = self.tcp.set_linger(Some(Duration::ZERO));
    }
}

/// The `ClientConfig` for one handshake: every suite and group of the
/// aws-lc-rs provider, the requested versions and ALPN, and a verifier that
/// records instead of judging.
fn client_config(
    opts: &HandshakeOptions,
    verifier: Arc<dyn ServerCertVerifier>,
    client_auth: Option<Arc<dyn ResolvesClientCert>>,
) -> Result<ClientConfig, TlsClientError> {
    let versions: Vec<&'static SupportedProtocolVersion> = if opts.versions.is_empty() {
        vec![&rustls::version::TLS13, &rustls::version::TLS12]
    } else {
        opts.versions
            .iter()
            .filter_map(|v| match v {
                ProtocolVersion::Tls13 => Some(&rustls::version::TLS13),
                ProtocolVersion::Tls12 => Some(&rustls::version::TLS12),
                _ => None,
            })
            .collect()
    };
    if versions.is_empty() {
        return Err(TlsClientError::NoVersions);
    }
    let provider = CryptoProvider {
        // A scanner wants a handshake with any server that has one group in
        // common, so offer the ML-KEM groups, P-521 and FFDHE too
        // (`kx_groups`: the provider has neither).
        kx_groups: rustls::crypto::aws_lc_rs::ALL_KX_GROUPS
            .iter()
            .chain(kx_groups::EXTRA_KX_GROUPS)
            .copied()
            .collect(),
        ..rustls::crypto::aws_lc_rs::default_provider()
    };
    let builder = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&versions)
        .map_err(|e| TlsClientError::Config(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match client_auth {
        Some(resolver) => builder.with_client_cert_resolver(resolver),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = opts.alpn.clone();
    // Each handshake must be a full one that shows the certificate.
    config.resumption = rustls::client::Resumption::disabled();
    Ok(config)
}

fn server_name(
    sni: Option<&str>,
    stream: &TcpStream,
) -> Result<ServerName<'static>, TlsClientError> {
    match sni {
        Some(name) => ServerName::try_from(name.to_owned())
            .map_err(|_| TlsClientError::Config(format!("{name:?} is not a valid server name"))),
        None => {
            let ip = stream
                .peer_addr()
                .map(|a| a.ip())
                .unwrap_or(IpAddr::from([127, 0, 0, 1]));
            Ok(ServerName::IpAddress(ip.into()))
        }
    }
}

fn our_version(v: rustls::ProtocolVersion) -> Option<ProtocolVersion> {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => Some(ProtocolVersion::Tls13),
        rustls::ProtocolVersion::TLSv1_2 => Some(ProtocolVersion::Tls12),
        rustls::ProtocolVersion::TLSv1_1 => Some(ProtocolVersion::Tls11),
        rustls::ProtocolVersion::TLSv1_0 => Some(ProtocolVersion::Tls10),
        _ => None,
    }
}

/// Every signature scheme the aws-lc-rs provider can verify: what a
/// handshake advertises unless told otherwise.
pub fn default_signature_schemes() -> Vec<u16> {
    rustls::crypto::aws_lc_rs::default_provider()
        .signature_verification_algorithms
        .supported_schemes()
        .into_iter()
        .map(u16::from)
        .collect()
}

pub mod danger {
    //! A certificate verifier that accepts every chain and signature: the
    //! scanner must see what any server presents, bad or not. It records
    //! instead of judging; `cert::verify_trust` judges afterwards. Never use
    //! it for a connection that carries data someone relies on.

    use std::sync::{Arc, Mutex};

    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};

    use super::HandshakeRecord;

    /// Accepts anything, remembers the chain, OCSP and signature scheme.
    #[derive(Debug)]
    pub struct RecordingVerifier {
        advertised: Vec<SignatureScheme>,
        seen: Arc<Mutex<HandshakeRecord>>,
    }

    impl RecordingVerifier {
        /// Advertises `schemes` (code points) or, with `None`, everything the
        /// provider can verify.
        pub fn new(schemes: Option<Vec<u16>>) -> Self {
            let codes = schemes.unwrap_or_else(super::default_signature_schemes);
            RecordingVerifier {
                advertised: codes.into_iter().map(SignatureScheme::from).collect(),
                seen: Arc::default(),
            }
        }

        /// What was recorded so far (the record is left empty).
        pub fn take(&self) -> HandshakeRecord {
            std::mem::take(&mut *super::lock(&self.seen))
        }

        fn record_scheme(&self, dss: &DigitallySignedStruct) {
            super::lock(&self.seen).signature_scheme = Some(u16::from(dss.scheme));
        }
    }

    impl ServerCertVerifier for RecordingVerifier {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            ocsp_response: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            let mut seen = super::lock(&self.seen);
            seen.chain = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.as_ref().to_vec())
                .collect();
            seen.ocsp = (!ocsp_response.is_empty()).then(|| ocsp_response.to_vec());
            seen.key_type =
                crate::cert::describe(end_entity.as_ref(), time::OffsetDateTime::UNIX_EPOCH)
                    .ok()
                    .map(|info| info.key_type);
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            _message: &[u8],
            _cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            self.record_scheme(dss);
            Ok(HandshakeSignatureValid::assertion())
        }

        fn verify_tls13_signature(
            &self,
            _message: &[u8],
            _cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            self.record_scheme(dss);
            Ok(HandshakeSignatureValid::assertion())
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.advertised.clone()
        }
    }
}

/// A poisoned lock only means another handshake task panicked mid-record;
/// the record is still plain data.
fn lock(m: &Mutex<HandshakeRecord>) -> std::sync::MutexGuard<'_, HandshakeRecord> {
    lock_any(m)
}

fn lock_any<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A TLS stream for application data (the HTTP probes): the same
/// recording, accept-anything client as every other handshake here,
/// answering a CertificateRequest with the identity given (or no
/// certificate), driven by tokio-rustls so an HTTP client can run over it.
pub type DataStream = tokio_rustls::client::TlsStream<TcpStream>;

/// The fatal alert a connection failure was caused by, anywhere in the
/// error's chain (an `io::Error` wrapping a `rustls::Error`, as
/// tokio-rustls and hyper nest them).
pub fn alert_in(error: &(dyn std::error::Error + 'static)) -> Option<u8> {
    match tls_error_in(error)? {
        rustls::Error::AlertReceived(a) => Some(u8::from(*a)),
        _ => None,
    }
}

/// The first TLS error in `error`'s chain, looking inside `io::Error`s
/// too (their `source()` skips the error they wrap).
pub fn tls_error_in<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e rustls::Error> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = next {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(inner) = e.downcast_ref::<io::Error>().and_then(|io| io.get_ref()) {
            next = Some(inner);
            continue;
        }
        next = e.source();
    }
    None
}

/// The offered versions a full (rustls) handshake can use: TLS 1.2 and 1.3.
/// Older servers are reached through the raw-hello probes instead.
pub fn rustls_versions(offered: &[ProtocolVersion]) -> Vec<ProtocolVersion> {
    offered
        .iter()
        .copied()
        .filter(|v| matches!(v, ProtocolVersion::Tls12 | ProtocolVersion::Tls13))
        .collect()
}
