//! One HTTP/1.1 request over our own TLS session: the handshake is made
//! with a chosen client identity (or none) by `tls_client`, which hands the
//! session over with what the handshake showed, and hyper speaks HTTP over
//! it, so the request is what a client holding that certificate would send
//! (`Host` = the name asked for). [`tls_http_exchange`] is that one path,
//! for the mTLS probes (which report the handshake too) and, through
//! [`http_exchange`], the authorization and JWT probes.
//!
//! The answer is an observation, never judged here: the status, a few
//! headers and the first bytes of the body; or how the connection ended
//! without one — a TLS refusal (in TLS 1.3 a `certificate_required` alert
//! arrives on the first read, after a handshake the client saw complete),
//! a close without an answer (how a TCP proxy denies), a timeout.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::observe::HttpAnswer;
use crate::tls_client::{
    handshake_for_data, tls_error_in, CertificateRequestSeen, ClientIdentity, HandshakeFailure,
    HandshakeOptions, HandshakeRecord, TlsClientError,
};
use crate::wire::AlertDescription;

/// Headers probe reports and evidence show (lower-case).
pub const KEPT_HEADERS: [&str; 4] = ["server", "content-type", "www-authenticate", "location"];
/// Further headers an answer keeps for the header and vulnerability checks
/// (HSTS, compression, upgrades, the security headers), not shown in
/// evidence. Each occurrence is kept (a doubled HSTS header is a finding).
pub const FACT_HEADERS: [&str; 17] = [
    "strict-transport-security",
    "content-encoding",
    "upgrade",
    "connection",
    "vary",
    "x-frame-options",
    "x-content-type-options",
    "content-security-policy",
    "referrer-policy",
    "permissions-policy",
    "cross-origin-opener-policy",
    "cross-origin-resource-policy",
    "cross-origin-embedder-policy",
    "x-xss-protection",
    "cache-control",
    "x-powered-by",
    "alt-svc",
];
/// At most this many occurrences of one header are kept.
const MAX_OCCURRENCES: usize = 4;
/// A kept header value is cut at this many bytes.
const MAX_HEADER_VALUE: usize = 1024;
/// Body bytes kept.
pub const SNIPPET_BYTES: usize = 200;

/// The request to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    pub host: String,
    /// Extra headers (e.g. a JWT), sent as given; never logged.
    pub headers: Vec<(String, String)>,
}

/// How the exchange ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpOutcome {
    /// An HTTP answer.
    Response {
        status: u16,
        /// The status line as the server sent it (`HTTP/1.0 200 ok`):
        /// hyper keeps a reason phrase that is not the standard one.
        status_line: String,
        /// [`KEPT_HEADERS`] then [`FACT_HEADERS`] that were present, in
        /// that order, each occurrence (at most a few, values cut at 1 KiB).
        headers: Vec<(String, String)>,
        /// The first [`SNIPPET_BYTES`] of the body, lossily decoded.
        body_snippet: String,
    },
    /// The server refused at the TLS level: a fatal alert (`alert`) or a
    /// broken handshake. `during_handshake` is false for a TLS 1.3 refusal
    /// on the first read.
    Refused {
        alert: Option<u8>,
        during_handshake: bool,
        reason: String,
    },
    /// The connection closed (or was reset) without an answer after the
    /// handshake.
    Closed { reason: String },
    /// No answer in time, or another failure (`reason`).
    Failed { reason: String },
}

/// An outcome as probe reports record it.
pub struct ReportFields {
    pub status: Option<u16>,
    pub kind: HttpAnswer,
    pub body_snippet: Option<String>,
    /// The kept headers, lower-case names.
    pub headers: Vec<(String, String)>,
}

impl ReportFields {
    /// A kept header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl HttpOutcome {
    /// What a probe report keeps of an outcome.
    pub fn report_fields(&self) -> ReportFields {
        let (status, kind, body_snippet, headers) = match self {
            HttpOutcome::Response {
                status,
                headers,
                body_snippet,
                ..
            } => (
                Some(*status),
                HttpAnswer::Answered,
                Some(body_snippet.clone()),
                described(headers),
            ),
            HttpOutcome::Refused { .. } => (None, HttpAnswer::Refused, None, Vec::new()),
            HttpOutcome::Closed { .. } => (None, HttpAnswer::Closed, None, Vec::new()),
            HttpOutcome::Failed { .. } => (None, HttpAnswer::Error, None, Vec::new()),
        };
        ReportFields {
            status,
            kind,
            body_snippet,
            headers,
        }
    }

    /// One line for evidence, e.g. `403 (server: envoy) "RBAC: access
    /// denied"` or `alert certificate_required after handshake`.
    pub fn describe(&self) -> String {
        match self {
            HttpOutcome::Response {
                status,
                headers,
                body_snippet,
                ..
            } => {
                let mut s = status.to_string();
                let headers = described(headers);
                if !headers.is_empty() {
                    let h: Vec<String> = headers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                    s.push_str(&format!(" ({})", h.join(", ")));
                }
                if !body_snippet.is_empty() {
                    s.push_str(&format!(" {:?}", body_snippet.trim_end()));
                }
                s
            }
            HttpOutcome::Refused {
                alert,
                during_handshake,
                reason,
            } => {
                let when = if *during_handshake {
                    "during handshake"
                } else {
                    "after handshake"
                };
                match alert {
                    Some(code) => {
                        format!("alert {} {when}", AlertDescription::from_u8(*code).name())
                    }
                    None => format!("{reason} {when}"),
                }
            }
            HttpOutcome::Closed { reason } => format!("closed without an answer: {reason}"),
            HttpOutcome::Failed { reason } => reason.clone(),
        }
    }
}

/// The first occurrence of each [`KEPT_HEADERS`] entry: what reports and
/// evidence show of an answer.
fn described(headers: &[(String, String)]) -> Vec<(String, String)> {
    KEPT_HEADERS
        .iter()
        .filter_map(|name| headers.iter().find(|(k, _)| k == name).cloned())
        .collect()
}

/// One request over our own TLS session, and what the handshake showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsHttpExchange {
    /// What the server showed (version, suite, ALPN, chain), also when it
    /// refused.
    pub handshake: HandshakeRecord,
    /// `Some` when the server sent a CertificateRequest.
    pub certificate_request: Option<CertificateRequestSeen>,
    /// The handshake completed on the client's side (the request was
    /// then always made).
    pub handshake_complete: bool,
    /// Request bytes went into the TLS session (the server may still
    /// refuse on reading them).
    pub request_sent: bool,
    /// `Some(limit)` when the ending was a timeout: of the handshake when
    /// it did not complete, else of the answer.
    pub timed_out: Option<Duration>,
    /// The server closed with close_notify (a TLS end of stream) before
    /// any answer.
    pub closed_cleanly: bool,
    pub outcome: HttpOutcome,
}

/// Handshake on `stream` with `identity` (or none), then — whatever the
/// server asked for — one request. ALPN is `opts.alpn` as given. `timeout`
/// applies to the handshake and to the answer, each. Every ending is in
/// the result.
///
/// # Errors
/// Only when the TLS client cannot be built (no TLS 1.2/1.3 to offer, an
/// invalid server name).
pub async fn tls_http_exchange(
    stream: TcpStream,
    opts: &HandshakeOptions,
    identity: Option<&ClientIdentity>,
    request: &HttpRequest,
    timeout: Duration,
) -> Result<TlsHttpExchange, TlsClientError> {
    let shaken = handshake_for_data(stream, opts, identity, timeout).await?;
    let mut exchange = TlsHttpExchange {
        handshake: shaken.handshake,
        certificate_request: shaken.certificate_request,
        handshake_complete: false,
        request_sent: false,
        timed_out: None,
        closed_cleanly: false,
        outcome: HttpOutcome::Failed {
            reason: String::new(),
        },
    };
    let tls = match shaken.session {
        Ok(tls) => tls,
        Err(HandshakeFailure::Broken {
            reason,
            violation: true,
            ..
        }) => {
            // Our client gave up on the server's bytes: no refusal was
            // made, and an expected deny must not pass on it.
            exchange.outcome = HttpOutcome::Failed {
                reason: format!("the server broke the TLS handshake: {reason}"),
            };
            return Ok(exchange);
        }
        Err(HandshakeFailure::Broken { alert, reason, .. }) => {
            exchange.outcome = HttpOutcome::Refused {
                alert,
                during_handshake: true,
                reason,
            };
            return Ok(exchange);
        }
        Err(HandshakeFailure::TimedOut { limit }) => {
            exchange.timed_out = Some(limit);
            // No answer is not a refusal: an expected deny must not pass
            // because the handshake never completed (a slow or stalled
            // server, a proxy that drops the connection attempt).
            exchange.outcome = HttpOutcome::Failed {
                reason: format!("no complete handshake within {} ms", limit.as_millis()),
            };
            return Ok(exchange);
        }
    };
    exchange.handshake_complete = true;
    let watched = Watched::new(tls);
    let seen = watched.seen.clone();
    exchange.outcome = match tokio::time::timeout(timeout, exchange_watched(watched, request)).await
    {
        Ok(outcome) => outcome,
        Err(_) => {
            exchange.timed_out = Some(timeout);
            HttpOutcome::Failed {
                reason: format!("no answer within {} ms", timeout.as_millis()),
            }
        }
    };
    let seen = lock(&seen).seen;
    exchange.request_sent = seen.wrote;
    exchange.closed_cleanly = seen.eof && !matches!(exchange.outcome, HttpOutcome::Response { .. });
    Ok(exchange)
}

/// [`tls_http_exchange`] for the probes that need only the answer: ALPN
/// `http/1.1`. A client that cannot be built is our failure, not the
/// server's refusal: it is `Failed` (no conclusive answer). Never fails.
pub async fn http_exchange(
    stream: TcpStream,
    opts: &HandshakeOptions,
    identity: Option<&ClientIdentity>,
    request: &HttpRequest,
    timeout: Duration,
) -> HttpOutcome {
    let opts = HandshakeOptions {
        alpn: vec![b"http/1.1".to_vec()],
        ..opts.clone()
    };
    match tls_http_exchange(stream, &opts, identity, request, timeout).await {
        Ok(exchange) => exchange.outcome,
        Err(e) => HttpOutcome::Failed {
            reason: format!("our TLS client could not make the request: {e}"),
        },
    }
}

/// One plain-HTTP/1.1 request on `stream` (no TLS: a declared `HTTP`
/// server). `timeout` applies to the answer. Never fails.
pub async fn plain_http_exchange(
    stream: TcpStream,
    request: &HttpRequest,
    timeout: Duration,
) -> HttpOutcome {
    match tokio::time::timeout(timeout, exchange_watched(Watched::new(stream), request)).await {
        Ok(outcome) => outcome,
        Err(_) => HttpOutcome::Failed {
            reason: format!("no answer within {} ms", timeout.as_millis()),
        },
    }
}

/// The response reader every exchange goes through: `request` on `io`,
/// then the status line, [`KEPT_HEADERS`] and the first [`SNIPPET_BYTES`]
/// of the body, or how the connection failed. No timeout of its own: the
/// callers above bound it in time.
///
/// Public so that the fuzz target (`fuzz/fuzz_targets/http_response.rs`)
/// can drive it over an in-memory stream; probes use [`http_exchange`] or
/// [`plain_http_exchange`]. Needs a tokio runtime (it spawns the
/// connection task).
pub async fn exchange_over<S>(io: S, request: &HttpRequest) -> HttpOutcome
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    exchange_watched(Watched::new(io), request).await
}

/// [`exchange_over`] on a stream already watched (the TLS path watches
/// from the handshake on).
async fn exchange_watched<S>(io: Watched<S>, request: &HttpRequest) -> HttpOutcome
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let seen = io.seen.clone();
    let (mut sender, connection) =
        match hyper::client::conn::http1::handshake(TokioIo::new(io)).await {
            Ok(pair) => pair,
            Err(e) => {
                return HttpOutcome::Failed {
                    reason: format!("HTTP/1.1 client: {e}"),
                }
            }
        };
    // The connection task ends with the exchange: its error, if any, is
    // the same one the request sees.
    let mut driver = tokio::spawn(connection);
    let mut builder = http::Request::builder()
        .method(request.method.as_str())
        .uri(request.path.as_str())
        .header(http::header::HOST, request.host.as_str())
        .header(http::header::USER_AGENT, "tlsposture")
        .header(http::header::CONNECTION, "close");
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let built = builder.body(Empty::<Bytes>::new());
    let built = match built {
        Ok(r) => r,
        Err(e) => {
            driver.abort();
            return HttpOutcome::Failed {
                reason: format!("cannot build the request: {e}"),
            };
        }
    };
    let outcome = match sender.send_request(built).await {
        Ok(response) => {
            let status = response.status().as_u16();
            let reason = response
                .extensions()
                .get::<hyper::ext::ReasonPhrase>()
                .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
                .or_else(|| response.status().canonical_reason().map(str::to_owned))
                .unwrap_or_default();
            let status_line = format!("{:?} {status} {reason}", response.version())
                .trim_end()
                .to_owned();
            let headers = KEPT_HEADERS
                .iter()
                .chain(FACT_HEADERS.iter())
                .flat_map(|name| {
                    response
                        .headers()
                        .get_all(*name)
                        .iter()
                        .take(MAX_OCCURRENCES)
                        .map(|v| {
                            let bytes = &v.as_bytes()[..v.len().min(MAX_HEADER_VALUE)];
                            (
                                (*name).to_owned(),
                                String::from_utf8_lossy(bytes).into_owned(),
                            )
                        })
                })
                .collect();
            let body_snippet = snippet(response.into_body()).await;
            HttpOutcome::Response {
                status,
                status_line,
                headers,
                body_snippet,
            }
        }
        Err(e) => {
            // The request may only see "canceled"; the connection task
            // holds the cause (e.g. TLS 1.3's certificate_required alert).
            let cause = match tokio::time::timeout(Duration::from_secs(1), &mut driver).await {
                Ok(Ok(Err(conn_err))) => tls_error_in(&conn_err).cloned(),
                _ => None,
            };
            connection_failure(e, cause, lock(&seen).seen.answer_bytes)
        }
    };
    driver.abort();
    outcome
}

/// A failed request: a fatal alert in its error (or, failing that, in the
/// connection's: `cause`) is a refusal after the handshake, its reason in
/// rustls's words. A close is an answer of its own (how a proxy denies)
/// only when no byte of an answer came before it: `answer_bytes` of a
/// status line or headers cut off mid-way are an answer that was lost,
/// not a refusal.
fn connection_failure(
    e: hyper::Error,
    cause: Option<rustls::Error>,
    answer_bytes: usize,
) -> HttpOutcome {
    match tls_error_in(&e).cloned().or(cause) {
        Some(tls @ rustls::Error::AlertReceived(alert)) => HttpOutcome::Refused {
            alert: Some(u8::from(alert)),
            during_handshake: false,
            reason: tls.to_string(),
        },
        _ if answer_bytes > 0 && e.is_incomplete_message() => HttpOutcome::Failed {
            reason: format!(
                "answer cut off after {answer_bytes} bytes: {}",
                error_chain(&e)
            ),
        },
        _ if e.is_incomplete_message() || e.is_canceled() || e.is_closed() => HttpOutcome::Closed {
            reason: error_chain(&e),
        },
        _ => HttpOutcome::Failed {
            reason: error_chain(&e),
        },
    }
}

/// The first [`SNIPPET_BYTES`] of the body; what arrived before an error.
async fn snippet(mut body: hyper::body::Incoming) -> String {
    let mut got: Vec<u8> = Vec::new();
    while got.len() < SNIPPET_BYTES {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    got.extend_from_slice(data);
                }
            }
            _ => break,
        }
    }
    got.truncate(SNIPPET_BYTES);
    String::from_utf8_lossy(&got).into_owned()
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut next = e.source();
    while let Some(inner) = next {
        parts.push(inner.to_string());
        next = inner.source();
    }
    parts.join(": ")
}

/// What the transport under hyper saw: whether request bytes went out,
/// and whether a read met the end of the stream (over TLS: close_notify;
/// tokio-rustls reports an EOF without it as an error). hyper's errors
/// name neither reliably, and they survive a timeout that drops hyper.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    wrote: bool,
    eof: bool,
    /// Bytes of the answer read (plaintext, over TLS).
    answer_bytes: usize,
}

#[derive(Debug, Default)]
struct TransportSeen {
    seen: Seen,
    /// A read waiting for the request to go out.
    reader: Option<std::task::Waker>,
}

struct Watched<S> {
    inner: S,
    seen: Arc<Mutex<TransportSeen>>,
}

impl<S> Watched<S> {
    fn new(inner: S) -> Self {
        Watched {
            inner,
            seen: Arc::default(),
        }
    }

    /// Notes that request bytes went out, and lets a waiting read go on.
    fn wrote(&self) {
        let mut seen = lock(&self.seen);
        seen.seen.wrote = true;
        if let Some(reader) = seen.reader.take() {
            reader.wake();
        }
    }
}

fn lock(m: &Mutex<TransportSeen>) -> std::sync::MutexGuard<'_, TransportSeen> {
    // Plain flags: a panic elsewhere leaves them readable.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // The request goes out before the first read, as with a plain
        // client: hyper also reads an idle connection, and a TLS 1.3 server
        // refusing the certificate sends its alert without waiting, which
        // would end the exchange before the request was made.
        {
            let mut seen = lock(&self.seen);
            if !seen.seen.wrote {
                seen.reader = Some(cx.waker().clone());
                return Poll::Pending;
            }
        }
        let before = buf.filled().len();
        let wanted = buf.remaining() > 0;
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let got = buf.filled().len() - before;
            let mut seen = lock(&self.seen);
            if wanted && got == 0 {
                seen.seen.eof = true;
            }
            seen.seen.answer_bytes = seen.seen.answer_bytes.saturating_add(got);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = polled {
            if n > 0 {
                self.wrote();
            }
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = polled {
            if n > 0 {
                self.wrote();
            }
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
