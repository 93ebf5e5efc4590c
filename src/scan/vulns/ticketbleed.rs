//! Ticketbleed (CVE-2016-9244, F5 BIG-IP): a server resuming a session
//! ticket echoes the client's session ID at a fixed 32 bytes, so a 1-byte
//! ID comes back with 31 bytes of the server's memory. As testssl.sh's
//! `run_ticketbleed`: get a real TLS 1.2 ticket, then resume it with a
//! 1-byte session ID and look at the ID echoed.
//!
//! The ticket comes from a full rustls TLS 1.2 handshake whose server
//! bytes are tapped: in TLS 1.2 the NewSessionTicket is sent before the
//! server's ChangeCipherSpec, in clear, so the flight decoder reads it.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::observe::{VulnId, VulnStatus, Vulnerability};
use crate::probe::{Outcome, StopAt};
use crate::wire::{self, Extension, FlightDecoder, ProtocolVersion, ServerMessage};

use super::{base_hello, v, Prober, VulnContext};

/// The server bytes kept from the ticket handshake: a flight with a long
/// chain fits, a flood does not.
const TAP_LIMIT: usize = 256 * 1024;
/// The 1-byte session ID sent with the ticket.
const SESSION_ID: u8 = 0x5a;
/// NewSessionTicket (RFC 5077 3.3).
const NEW_SESSION_TICKET: u8 = 4;

/// Copies what the server sends (up to [`TAP_LIMIT`]).
struct Tap<S> {
    inner: S,
    seen: Arc<Mutex<Vec<u8>>>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Tap<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let new = &buf.filled()[before..];
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            let room = TAP_LIMIT.saturating_sub(seen.len());
            seen.extend_from_slice(&new[..new.len().min(room)]);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tap<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Accepts any certificate: the ticket is what matters, not the chain.
#[derive(Debug)]
struct AnyCert(Vec<SignatureScheme>);

impl ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.clone()
    }
}

/// A TLS 1.2 ticket from one full handshake; `Err` says why there is none.
async fn ticket(prober: &Prober, cx: &VulnContext<'_>) -> Result<Option<Vec<u8>>, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let schemes = provider
        .signature_verification_algorithms
        .supported_schemes();
    let config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCert(schemes)))
        .with_no_client_auth();
    let (stream, _slot) = prober.connect().await.map_err(|e| e.to_string())?;
    let name = match cx.sni {
        Some(n) => ServerName::try_from(n.to_owned()).map_err(|e| e.to_string())?,
        None => ServerName::IpAddress(prober.addr().ip().into()),
    };
    let seen = Arc::new(Mutex::new(Vec::new()));
    let tap = Tap {
        inner: stream,
        seen: seen.clone(),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let done = tokio::time::timeout(prober.timeouts().read, connector.connect(name, tap)).await;
    match done {
        Err(_) => return Err("the TLS 1.2 handshake for a ticket timed out".into()),
        Ok(Err(e)) => return Err(format!("the TLS 1.2 handshake for a ticket failed: {e}")),
        Ok(Ok(_)) => {}
    }
    let bytes = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let (messages, _) = FlightDecoder::decode_all(&bytes);
    Ok(messages.into_iter().find_map(|m| match m {
        ServerMessage::OtherHandshake { msg_type, body } if msg_type == NEW_SESSION_TICKET => {
            // lifetime_hint (4), then the u16-prefixed ticket.
            let mut r = wire::Reader::new(&body);
            r.u32()?;
            let t = r.sub_u16()?.rest().to_vec();
            (!t.is_empty()).then_some(t)
        }
        _ => None,
    }))
}

pub(super) async fn ticketbleed(prober: &Prober, cx: &VulnContext<'_>) -> Vulnerability {
    let id = VulnId::Ticketbleed;
    if !cx.offered.contains(&ProtocolVersion::Tls12) {
        return v(
            id,
            VulnStatus::NotApplicable,
            "TLS1.2 not offered: Ticketbleed is a TLS 1.2 ticket resumption bug",
        );
    }
    let ticket = match ticket(prober, cx).await {
        Ok(Some(t)) => t,
        Ok(None) => {
            return v(
                id,
                VulnStatus::NotApplicable,
                "a full TLS1.2 handshake got no NewSessionTicket: the server issues no tickets",
            )
        }
        Err(e) => return v(id, VulnStatus::Unknown, format!("cannot tell: {e}")),
    };
    let mut spec = base_hello(cx, ProtocolVersion::Tls12, &[]);
    spec.session_id = vec![SESSION_ID];
    for e in spec.extensions.iter_mut() {
        if matches!(e, Extension::SessionTicket) {
            *e = Extension::Raw {
                typ: wire::hello::ext::SESSION_TICKET,
                data: ticket.clone(),
            };
        }
    }
    let outcome = prober
        .send(wire::encode_client_hello(&spec), StopAt::ServerHello)
        .await;
    let sent = format!(
        "resumed a {}-byte ticket with a 1-byte session ID 0x{SESSION_ID:02x}",
        ticket.len()
    );
    match outcome {
        Ok(Outcome::Hello(f)) => match f.hello {
            Some(h) if h.session_id.len() > 1 && h.session_id.first() == Some(&SESSION_ID) => v(
                id,
                VulnStatus::Vulnerable,
                format!(
                    "{sent}: the server echoed a {}-byte session ID starting with it ({} bytes of its memory)",
                    h.session_id.len(),
                    h.session_id.len() - 1
                ),
            ),
            Some(h) if h.session_id == [SESSION_ID] => v(
                id,
                VulnStatus::NotVulnerable,
                format!("{sent}: the server resumed and echoed exactly that ID"),
            ),
            Some(h) => v(
                id,
                VulnStatus::NotVulnerable,
                format!(
                    "{sent}: the server answered with a {}-byte session ID of its own (no resumption echo)",
                    h.session_id.len()
                ),
            ),
            None => v(id, VulnStatus::Unknown, format!("cannot tell: {sent}: no ServerHello")),
        },
        Ok(other) => v(
            id,
            VulnStatus::Unknown,
            format!("cannot tell: {sent}: {}", other.describe()),
        ),
        Err(e) => v(id, VulnStatus::Unknown, format!("cannot tell: {e}")),
    }
}
