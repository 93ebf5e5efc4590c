//! The only place that touches the network for raw handshakes: connect, send
//! a crafted hello, read the server's flight under one deadline, and classify
//! what came back as a typed [`Outcome`].
//!
//! A refusal (alert, close, reset, silence) is an observation, not an error;
//! only failing to reach the server at all is a [`ConnectError`]. Probes never
//! decide what an outcome means for the posture — `scan` does.

mod outcome;

pub use outcome::{Outcome, ServerFlight};

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};

use crate::wire::{FlightDecoder, ServerMessage};

/// Deadlines for one probe.
#[derive(Debug, Clone, Copy)]
pub struct ProbeTimeouts {
    /// How long the TCP connect may take.
    pub connect: Duration,
    /// How long the whole answer may take, from the moment the hello is sent.
    pub read: Duration,
}

impl Default for ProbeTimeouts {
    fn default() -> Self {
        ProbeTimeouts {
            connect: Duration::from_secs(3),
            read: Duration::from_secs(3),
        }
    }
}

/// How much of the server's flight a probe waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopAt {
    /// Stop at the ServerHello (or HelloRetryRequest / SSLv2 SERVER-HELLO):
    /// enough to know the version, suite and group.
    ServerHello,
    /// Read on to ServerHelloDone (TLS ≤ 1.2) to get Certificate and
    /// ServerKeyExchange; TLS 1.3 stops at the ServerHello anyway because the
    /// rest is encrypted.
    FlightEnd,
}

/// The server could not be reached at all.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectError {
    #[error("connection refused by {0}")]
    Refused(SocketAddr),
    #[error("no TCP answer from {addr} within {ms} ms")]
    Timeout { addr: SocketAddr, ms: u128 },
    #[error("cannot connect to {addr}: {reason}")]
    Other { addr: SocketAddr, reason: String },
}

/// Connects to `addr`, sends `hello` and classifies the answer.
///
/// Returns `Err` only when no TCP connection could be made (refused,
/// unreachable, connect timeout). Everything after the connection — alerts,
/// resets, silence, garbage — is an [`Outcome`].
pub async fn handshake(
    addr: SocketAddr,
    hello: &[u8],
    stop: StopAt,
    timeouts: ProbeTimeouts,
) -> Result<Outcome, ConnectError> {
    let stream = connect(addr, timeouts.connect).await?;
    Ok(exchange(stream, hello, stop, timeouts.read).await)
}

/// Sends `hello` on an open connection and reads the answer under one
/// deadline of `read` from now, then aborts the connection.
pub async fn exchange(
    mut stream: TcpStream,
    hello: &[u8],
    stop: StopAt,
    read: Duration,
) -> Outcome {
    // Small hellos must leave at once, not after Nagle's delay.
    let _ = stream.set_nodelay(true);
    if let Err(e) = stream.write_all(hello).await {
        return classify_io_error(&e);
    }
    let outcome = read_flight(&mut stream, stop, Instant::now() + read).await;
    // RST rather than FIN: neither side keeps the aborted handshake in
    // TIME_WAIT, which matters when thousands of probes run. A zero linger
    // never blocks, which is what tokio's deprecation warns about.
    #[allow(deprecated)]
    let _ = stream.set_linger(Some(Duration::ZERO));
    outcome
}

/// Opens a TCP connection under a deadline.
pub async fn connect(addr: SocketAddr, limit: Duration) -> Result<TcpStream, ConnectError> {
    match tokio::time::timeout(limit, TcpStream::connect(addr)).await {
        Err(_) => Err(ConnectError::Timeout {
            addr,
            ms: limit.as_millis(),
        }),
        Ok(Err(e)) if e.kind() == ErrorKind::ConnectionRefused => Err(ConnectError::Refused(addr)),
        Ok(Err(e)) => Err(ConnectError::Other {
            addr,
            reason: e.to_string(),
        }),
        Ok(Ok(s)) => Ok(s),
    }
}

async fn read_flight(stream: &mut TcpStream, stop: StopAt, deadline: Instant) -> Outcome {
    let mut decoder = FlightDecoder::new();
    let mut flight = ServerFlight::default();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        // Drain every complete message before reading more.
        loop {
            match decoder.next_message() {
                Ok(Some(message)) => {
                    if let Some(done) = flight.push(message, stop) {
                        return done;
                    }
                }
                Ok(None) => break,
                Err(e) => return flight.malformed(e),
            }
        }
        let n = match timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return flight.timed_out(),
            Ok(Err(e)) => return flight.interrupted(classify_io_error(&e)),
            Ok(Ok(0)) => return flight.interrupted(Outcome::Closed),
            Ok(Ok(n)) => n,
        };
        decoder.feed(&buf[..n]);
    }
}

fn classify_io_error(e: &std::io::Error) -> Outcome {
    match e.kind() {
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::BrokenPipe => {
            Outcome::Reset
        }
        _ => Outcome::IoError(e.to_string()),
    }
}

/// Messages that end a flight early whatever `StopAt` says.
pub(crate) fn is_terminal(message: &ServerMessage) -> bool {
    matches!(
        message,
        ServerMessage::Alert(_) | ServerMessage::Sslv2ServerHello(_) | ServerMessage::Sslv2Error(_)
    )
}
