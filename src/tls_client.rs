//! Every rustls `ClientConfig` of the project, and the one full handshake
//! built on them: [`record_handshake`] runs a real TLS 1.2/1.3 handshake on
//! an open TCP stream and records what the server showed — version, suite,
//! ALPN, certificate chain, stapled OCSP and the signature scheme it signed
//! with.
//!
//! It never judges what it saw (trust, names and expiry are `cert`'s job)
//! and never connects on its own: the caller brings the stream, so the
//! per-target connection limit and handshake count stay in `scan::Prober`.
//! TLS 1.0/1.1 are out of reach here (rustls does not speak them); the raw
//! hellos of `wire` cover those.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, SupportedProtocolVersion};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::wire::ProtocolVersion;

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
    },
    #[error("no complete handshake within {} ms", .limit.as_millis())]
    Timeout {
        limit: Duration,
        seen: Box<HandshakeRecord>,
    },
}

impl TlsClientError {
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
    let config = client_config(opts, recorder.clone())?;
    let name = server_name(opts.sni.as_deref(), &stream)?;
    let _ = stream.set_nodelay(true);
    let connector = TlsConnector::from(Arc::new(config));
    let result = tokio::time::timeout(timeout, connector.connect(name, stream)).await;
    match result {
        Ok(Ok(tls)) => {
            let (tcp, conn) = tls.get_ref();
            let mut record = recorder.take();
            record.protocol = conn.protocol_version().and_then(our_version);
            record.suite = conn.negotiated_cipher_suite().map(|s| u16::from(s.suite()));
            record.alpn = conn.alpn_protocol().map(<[u8]>::to_vec);
            abort(tcp);
            Ok(record)
        }
        Ok(Err(e)) => Err(TlsClientError::Handshake {
            reason: reason(&e),
            seen: Box::new(recorder.take()),
        }),
        Err(_) => Err(TlsClientError::Timeout {
            limit: timeout,
            seen: Box::new(recorder.take()),
        }),
    }
}

/// The `ClientConfig` for one handshake: every suite and group of the
/// aws-lc-rs provider, the requested versions and ALPN, and a verifier that
/// records instead of judging.
fn client_config(
    opts: &HandshakeOptions,
    verifier: Arc<dyn ServerCertVerifier>,
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
        // common, so offer P-521 and the ML-KEM groups too.
        kx_groups: rustls::crypto::aws_lc_rs::ALL_KX_GROUPS.to_vec(),
        ..rustls::crypto::aws_lc_rs::default_provider()
    };
    let mut config = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&versions)
        .map_err(|e| TlsClientError::Config(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
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

/// The rustls error inside tokio-rustls's `io::Error`, in rustls's words.
fn reason(e: &std::io::Error) -> String {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(tls) => tls.to_string(),
        None if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            "connection closed during the handshake".to_owned()
        }
        None => e.to_string(),
    }
}

/// Reset rather than close, like the raw probes: nothing stays in TIME_WAIT.
fn abort(tcp: &TcpStream) {
    #[allow(deprecated)]
    let _ = tcp.set_linger(Some(Duration::ZERO));
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
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
