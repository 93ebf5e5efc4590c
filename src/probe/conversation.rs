//! Raw exchanges of more than one step: send a hello, read the flight,
//! then send more records (a heartbeat request, an early ChangeCipherSpec,
//! a ClientKeyExchange) and read what the server answers to them, under
//! the same budgets as a single probe.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};

use super::{classify_io_error, read_flight, FlightBudget, Outcome, StopAt};
use crate::wire::{FlightDecoder, ServerMessage};

/// A connection kept open after the server's first flight.
#[derive(Debug)]
pub struct Conversation {
    stream: TcpStream,
}

/// What the server did after the client's next records.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Messages read before the server stopped sending (at least one).
    Messages(Vec<ServerMessage>),
    /// A FIN with nothing before it.
    Closed,
    Reset,
    /// Nothing within the wait.
    Timeout,
    /// Bytes that are not TLS.
    Malformed(String),
    /// More than a [`FlightBudget`] allows.
    Truncated(FlightBudget),
    /// The client's records could not be written.
    SendFailed(String),
}

impl Reply {
    /// A short human description, for evidence.
    pub fn describe(&self) -> String {
        match self {
            Reply::Messages(m) => {
                let names: Vec<String> = m.iter().map(describe_message).collect();
                names.join(", ")
            }
            Reply::Closed => "connection closed".into(),
            Reply::Reset => "connection reset".into(),
            Reply::Timeout => "no answer".into(),
            Reply::Malformed(e) => format!("malformed answer: {e}"),
            Reply::Truncated(b) => format!("answer cut off at {b}"),
            Reply::SendFailed(e) => format!("could not send: {e}"),
        }
    }

    /// The first alert of the reply, if it has one.
    pub fn alert(&self) -> Option<crate::wire::Alert> {
        match self {
            Reply::Messages(m) => m.iter().find_map(|m| match m {
                ServerMessage::Alert(a) => Some(*a),
                _ => None,
            }),
            _ => None,
        }
    }
}

fn describe_message(m: &ServerMessage) -> String {
    match m {
        ServerMessage::Alert(a) => format!("alert {}", a.description.name()),
        ServerMessage::Heartbeat(p) => format!("heartbeat record of {} bytes", p.len()),
        ServerMessage::ChangeCipherSpec => "ChangeCipherSpec".into(),
        ServerMessage::EncryptedRecord { len } => format!("encrypted record of {len} bytes"),
        ServerMessage::ServerHello(_) => "ServerHello".into(),
        ServerMessage::ServerHelloDone => "ServerHelloDone".into(),
        ServerMessage::OtherHandshake { msg_type, .. } => format!("handshake message {msg_type}"),
        other => format!("{other:?}").chars().take(40).collect(),
    }
}

/// Sends `hello` on `stream`, reads the flight as [`super::exchange`]
/// does, and keeps the connection when the flight was a ServerHello, so
/// the caller can go on.
pub async fn open(
    mut stream: TcpStream,
    hello: &[u8],
    stop: StopAt,
    read: Duration,
) -> (Outcome, Option<Conversation>) {
    let _ = stream.set_nodelay(true);
    if let Err(e) = stream.write_all(hello).await {
        return (classify_io_error(&e), None);
    }
    let outcome = read_flight(&mut stream, stop, Instant::now() + read).await;
    let keep =
        matches!(&outcome, Outcome::Hello(f) if f.cut.is_none() && f.trailing_alert.is_none());
    if keep {
        (outcome, Some(Conversation { stream }))
    } else {
        abort(stream);
        (outcome, None)
    }
}

fn abort(stream: TcpStream) {
    #[allow(deprecated)]
    let _ = stream.set_linger(Some(Duration::ZERO));
}

impl Conversation {
    /// Sends `records` and reads the answer: everything that arrives until
    /// a short quiet after the first message, the connection ends, a
    /// budget is spent, or `wait` passes.
    pub async fn send(&mut self, records: &[u8], wait: Duration) -> Reply {
        if let Err(e) = self.stream.write_all(records).await {
            return match classify_io_error(&e) {
                Outcome::Reset => Reply::Reset,
                _ => Reply::SendFailed(e.to_string()),
            };
        }
        let deadline = Instant::now() + wait;
        let mut decoder = FlightDecoder::new();
        let mut messages = Vec::new();
        let mut buf = vec![0u8; 16 * 1024];
        let mut bytes = 0usize;
        loop {
            loop {
                match decoder.next_message() {
                    Ok(Some(m)) => {
                        if messages.len() >= FlightBudget::MAX_MESSAGES {
                            return Reply::Truncated(FlightBudget::Messages);
                        }
                        messages.push(m);
                    }
                    Ok(None) => break,
                    Err(e) => return Reply::Malformed(e.to_string()),
                }
            }
            if decoder.records_taken() > FlightBudget::MAX_RECORDS {
                return Reply::Truncated(FlightBudget::Records);
            }
            // A fatal alert is the answer; after other messages, wait only
            // a little for the rest.
            if messages
                .iter()
                .any(|m| matches!(m, ServerMessage::Alert(a) if a.ends_handshake()))
            {
                return Reply::Messages(messages);
            }
            let until = if messages.is_empty() {
                deadline
            } else {
                deadline.min(Instant::now() + Duration::from_millis(50))
            };
            if Instant::now() >= until {
                return done(messages, Reply::Timeout);
            }
            let n = match timeout_at(until, self.stream.read(&mut buf)).await {
                Err(_) => return done(messages, Reply::Timeout),
                Ok(Err(e)) => {
                    let end = match classify_io_error(&e) {
                        Outcome::Reset => Reply::Reset,
                        _ => Reply::Malformed(e.to_string()),
                    };
                    return done(messages, end);
                }
                Ok(Ok(0)) => return done(messages, Reply::Closed),
                Ok(Ok(n)) => n,
            };
            bytes += n;
            if bytes > FlightBudget::MAX_BYTES {
                return Reply::Truncated(FlightBudget::Bytes);
            }
            decoder.feed(&buf[..n]);
        }
    }

    /// Ends the connection with a reset (no TIME_WAIT).
    pub fn close(self) {
        abort(self.stream);
    }
}

fn done(messages: Vec<ServerMessage>, otherwise: Reply) -> Reply {
    if messages.is_empty() {
        otherwise
    } else {
        Reply::Messages(messages)
    }
}
