//! One HTTP/1.1 request over our own TLS session: the connection is made
//! with a chosen client identity (or none) through `tls_client`, and hyper
//! speaks HTTP over it, so the request is what a client holding that
//! certificate would send (`Host` = the name asked for, ALPN `http/1.1`).
//!
//! The answer is an observation, never judged here: the status, a few
//! headers and the first bytes of the body; or how the connection ended
//! without one — a TLS refusal (in TLS 1.3 a `certificate_required` alert
//! arrives on the first read, after a handshake the client saw complete),
//! a close without an answer (how a TCP proxy denies), a timeout.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::observe::HttpAnswer;
use crate::tls_client::{alert_in, connect_for_data, ClientIdentity, HandshakeOptions};
use crate::wire::AlertDescription;

/// Headers worth keeping from an answer (lower-case).
pub const KEPT_HEADERS: [&str; 4] = ["server", "content-type", "www-authenticate", "location"];
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
        /// [`KEPT_HEADERS`] that were present, in that order.
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
            } => (
                Some(*status),
                HttpAnswer::Answered,
                Some(body_snippet.clone()),
                headers.clone(),
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
            } => {
                let mut s = status.to_string();
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

/// Handshake on `stream` with `identity` (or none), then one request.
/// `opts.alpn` is replaced by `http/1.1`. `timeout` applies to the
/// handshake and to the answer, each. Never fails: every ending is an
/// [`HttpOutcome`].
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
    let tls = match connect_for_data(stream, &opts, identity, timeout).await {
        Ok(tls) => tls,
        Err((e, alert)) => {
            return HttpOutcome::Refused {
                alert,
                during_handshake: true,
                reason: e.to_string(),
            }
        }
    };
    match tokio::time::timeout(timeout, exchange(tls, request)).await {
        Ok(outcome) => outcome,
        Err(_) => HttpOutcome::Failed {
            reason: format!("no answer within {} ms", timeout.as_millis()),
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
    match tokio::time::timeout(timeout, exchange(stream, request)).await {
        Ok(outcome) => outcome,
        Err(_) => HttpOutcome::Failed {
            reason: format!("no answer within {} ms", timeout.as_millis()),
        },
    }
}

async fn exchange<S>(io: S, request: &HttpRequest) -> HttpOutcome
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
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
            let headers = KEPT_HEADERS
                .iter()
                .filter_map(|name| {
                    response.headers().get(*name).map(|v| {
                        (
                            (*name).to_owned(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                })
                .collect();
            let body_snippet = snippet(response.into_body()).await;
            HttpOutcome::Response {
                status,
                headers,
                body_snippet,
            }
        }
        Err(e) => {
            // The request may only see "canceled"; the connection task
            // holds the cause (e.g. TLS 1.3's certificate_required alert).
            let cause = match tokio::time::timeout(Duration::from_secs(1), &mut driver).await {
                Ok(Ok(Err(conn_err))) => alert_in(&conn_err),
                _ => None,
            };
            connection_failure(e, cause)
        }
    };
    driver.abort();
    outcome
}

fn connection_failure(e: hyper::Error, cause: Option<u8>) -> HttpOutcome {
    match alert_in(&e).or(cause) {
        Some(code) => HttpOutcome::Refused {
            alert: Some(code),
            during_handshake: false,
            reason: e.to_string(),
        },
        None if e.is_incomplete_message() || e.is_canceled() || e.is_closed() => {
            HttpOutcome::Closed {
                reason: error_chain(&e),
            }
        }
        None => HttpOutcome::Failed {
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
