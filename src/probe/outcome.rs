//! The typed result of one raw handshake, and the small state machine that
//! decides when a flight is complete.

use crate::wire::{Alert, ServerHello, ServerMessage, Sslv2ServerHello, WireError};

use super::StopAt;

/// What a server did with one crafted hello.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A ServerHello (TLS 1.3 HelloRetryRequests included), with everything
    /// else received up to the stop point.
    Hello(ServerFlight),
    /// An SSLv2 SERVER-HELLO.
    Sslv2(Sslv2ServerHello),
    /// An SSLv2 ERROR message (code).
    Sslv2Error(u16),
    /// A TLS alert before any ServerHello.
    Alert(Alert),
    /// The server closed the connection (FIN) without answering.
    Closed,
    /// The server reset the connection.
    Reset,
    /// No complete answer before the deadline.
    Timeout,
    /// The answer is not TLS, or is broken.
    Malformed(WireError),
    /// Another socket error after connecting.
    IoError(String),
    /// The server kept sending past a [`FlightBudget`], so the exchange was
    /// cut. Not an observation of the posture: what was kept is dropped, so
    /// no check can read a flood as a normal (if long) flight.
    Truncated { budget: FlightBudget },
}

/// The limits on what one exchange keeps and reads. A real TLS ≤ 1.2 flight
/// is a handful of messages in a few records and tens of KiB (a long
/// certificate chain included); these leave an order of magnitude of room
/// while holding a hostile flood to well under a MiB per probe, which with
/// 8 probes in flight keeps a scan inside its memory design (≤ 20 MB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlightBudget {
    /// More than [`FlightBudget::MAX_MESSAGES`] messages after the
    /// ServerHello (each empty application_data, ChangeCipherSpec or
    /// heartbeat record is one).
    Messages,
    /// More than [`FlightBudget::MAX_BYTES`] bytes read from the socket.
    /// Above one handshake message's own cap (256 KiB), so a legal maximal
    /// Certificate still fits.
    Bytes,
    /// More than [`FlightBudget::MAX_RECORDS`] records, counted whether or
    /// not they produced a message (1-byte handshake fragments produce
    /// none until the message is whole).
    Records,
}

impl FlightBudget {
    pub const MAX_MESSAGES: usize = 64;
    pub const MAX_BYTES: usize = 512 * 1024;
    pub const MAX_RECORDS: usize = 1024;
}

impl std::fmt::Display for FlightBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FlightBudget::Messages => write!(f, "{} messages", FlightBudget::MAX_MESSAGES),
            FlightBudget::Bytes => write!(f, "{} KiB", FlightBudget::MAX_BYTES / 1024),
            FlightBudget::Records => write!(f, "{} records", FlightBudget::MAX_RECORDS),
        }
    }
}

/// The messages of a server's answer, in order, and the ServerHello among
/// them.
#[derive(Debug, Clone, Default)]
pub struct ServerFlight {
    pub hello: Option<ServerHello>,
    pub hello_retry: bool,
    pub messages: Vec<ServerMessage>,
    /// An alert that followed the ServerHello (e.g. a failure after it).
    pub trailing_alert: Option<Alert>,
}

impl ServerFlight {
    /// Records a message; returns the final outcome once the flight is done.
    pub(crate) fn push(&mut self, message: ServerMessage, stop: StopAt) -> Option<Outcome> {
        if self.hello.is_none() {
            return match message {
                ServerMessage::ServerHello(h) => {
                    let tls13 = h.negotiated_version() >= 0x0304;
                    self.hello = Some(h);
                    if stop == StopAt::ServerHello || tls13 {
                        Some(Outcome::Hello(std::mem::take(self)))
                    } else {
                        None
                    }
                }
                ServerMessage::HelloRetryRequest(h) => {
                    self.hello = Some(h);
                    self.hello_retry = true;
                    Some(Outcome::Hello(std::mem::take(self)))
                }
                ServerMessage::Alert(a) => Some(Outcome::Alert(a)),
                ServerMessage::Sslv2ServerHello(h) => Some(Outcome::Sslv2(h)),
                ServerMessage::Sslv2Error(code) => Some(Outcome::Sslv2Error(code)),
                // Anything else before a ServerHello is a protocol violation.
                _ => Some(Outcome::Malformed(WireError::Malformed(
                    "server sent a handshake message before its ServerHello",
                ))),
            };
        }
        match message {
            ServerMessage::ServerHelloDone => {
                self.messages.push(message);
                Some(Outcome::Hello(std::mem::take(self)))
            }
            ServerMessage::Alert(a) => {
                self.trailing_alert = Some(a);
                Some(Outcome::Hello(std::mem::take(self)))
            }
            // The message budget: a flood of records that each decode to a
            // message (empty application_data, CCS, heartbeats) would
            // otherwise be kept one by one until the deadline.
            _ if self.messages.len() >= FlightBudget::MAX_MESSAGES => Some(Outcome::Truncated {
                budget: FlightBudget::Messages,
            }),
            other => {
                let terminal = super::is_terminal(&other);
                self.messages.push(other);
                terminal.then(|| Outcome::Hello(std::mem::take(self)))
            }
        }
    }

    /// The outcome when the deadline passes: a ServerHello already seen
    /// still counts (the rest of the flight was merely slow).
    pub(crate) fn timed_out(self) -> Outcome {
        if self.hello.is_some() {
            Outcome::Hello(self)
        } else {
            Outcome::Timeout
        }
    }

    /// The outcome when the connection ends early.
    pub(crate) fn interrupted(self, why: Outcome) -> Outcome {
        if self.hello.is_some() {
            Outcome::Hello(self)
        } else {
            why
        }
    }

    /// The outcome when the bytes stop making sense.
    pub(crate) fn malformed(self, e: WireError) -> Outcome {
        if self.hello.is_some() {
            Outcome::Hello(self)
        } else {
            Outcome::Malformed(e)
        }
    }
}

impl Outcome {
    /// A short human description, used as report evidence.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Hello(f) => match &f.hello {
                Some(h) if f.hello_retry => format!(
                    "HelloRetryRequest (0x{:04X}, suite 0x{:04X})",
                    h.negotiated_version(),
                    h.cipher_suite
                ),
                Some(h) => format!(
                    "ServerHello 0x{:04X}, suite 0x{:04X}",
                    h.negotiated_version(),
                    h.cipher_suite
                ),
                None => "incomplete flight".into(),
            },
            Outcome::Sslv2(h) => format!(
                "SSLv2 SERVER-HELLO with {} cipher kinds",
                h.cipher_kinds.len()
            ),
            Outcome::Sslv2Error(code) => format!("SSLv2 ERROR 0x{code:04X}"),
            Outcome::Alert(a) => format!("alert {}", a.description.name()),
            Outcome::Closed => "connection closed without an answer".into(),
            Outcome::Reset => "connection reset".into(),
            Outcome::Timeout => "no answer before the deadline".into(),
            Outcome::Malformed(e) => format!("malformed answer: {e}"),
            Outcome::IoError(e) => format!("socket error: {e}"),
            Outcome::Truncated { budget } => {
                format!("answer cut off: the server sent more than {budget} in one flight")
            }
        }
    }
}
