//! The typed result of one raw handshake, and the small state machine that
//! decides when a flight is complete.

use crate::wire::{
    Alert, AlertDescription, ServerHello, ServerMessage, Sslv2ServerHello, WireError,
};

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
    /// A TLS alert before any ServerHello that ends the handshake (see
    /// [`Alert::ends_handshake`]): fatal, of an unknown level, or
    /// `close_notify`. Warnings are read past and kept on the flight.
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
    /// ServerHello plus warning alerts anywhere in the answer (each empty
    /// application_data, ChangeCipherSpec or heartbeat record is one, and
    /// so is each warning). Warnings count from the first byte because one
    /// alert record can hold thousands of them: the record budget alone
    /// would let a single record fill the warning list.
    Messages,
    /// More than [`FlightBudget::MAX_BYTES`] bytes read from the socket.
    /// Above one handshake message's own cap (256 KiB), so a legal maximal
    /// Certificate still fits.
    Bytes,
    /// More than [`FlightBudget::MAX_RECORDS`] records, counted whether or
    /// not they produced a message (1-byte handshake fragments produce
    /// none until the message is whole).
    Records,
    /// The exchange deadline passed after the ServerHello and before the
    /// flight ended, on a probe that needed the whole flight (a server
    /// that drips bytes, or is merely slower than `--timeout`).
    Deadline,
    /// The target's whole-scan deadline passed before or during this
    /// probe: it was not made, or its wait was cut.
    ScanDeadline,
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
            FlightBudget::Deadline => f.write_str("the exchange deadline"),
            FlightBudget::ScanDeadline => f.write_str("the target's scan deadline"),
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
    /// An alert that followed the ServerHello and ended the flight (e.g. a
    /// failure after it); never a warning, which is in `warnings`.
    pub trailing_alert: Option<Alert>,
    /// Warning alerts read past, before or within the flight, in order
    /// (e.g. `unrecognized_name` for an SNI the server does not know). A
    /// client goes on after them, so they do not decide the outcome, but
    /// they are evidence of what the server said.
    pub warnings: Vec<AlertDescription>,
    /// Set when a flight needed to its end stopped after the ServerHello:
    /// the connection closed or reset, or the bytes stopped making sense.
    /// The ServerHello stands (it picked a version and suite); what should
    /// have followed (certificate, key exchange) is missing, not absent.
    pub cut: Option<String>,
}

impl ServerFlight {
    /// Records a message; returns the final outcome once the flight is done.
    pub(crate) fn push(&mut self, message: ServerMessage, stop: StopAt) -> Option<Outcome> {
        if let ServerMessage::Alert(a) = &message {
            if !a.ends_handshake() {
                return self.warn(a.description);
            }
        }
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
            _ if self.kept() >= FlightBudget::MAX_MESSAGES => Some(Outcome::Truncated {
                budget: FlightBudget::Messages,
            }),
            other => {
                let terminal = super::is_terminal(&other);
                self.messages.push(other);
                terminal.then(|| Outcome::Hello(std::mem::take(self)))
            }
        }
    }

    /// Keeps a warning alert and reads on, unless the message budget is
    /// spent: a warning flood is cut like any other.
    fn warn(&mut self, warning: AlertDescription) -> Option<Outcome> {
        if self.kept() >= FlightBudget::MAX_MESSAGES {
            return Some(Outcome::Truncated {
                budget: FlightBudget::Messages,
            });
        }
        self.warnings.push(warning);
        None
    }

    /// The ServerHello part of [`Outcome::describe`].
    fn describe_hello(&self) -> String {
        match &self.hello {
            Some(h) if self.hello_retry => format!(
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
        }
    }

    /// What the message budget counts.
    fn kept(&self) -> usize {
        self.messages.len() + self.warnings.len()
    }

    /// The outcome when the deadline passes. Without a ServerHello the
    /// server did not answer. With one, a probe that stops there has what
    /// it asked for; one that needed the whole flight (certificates, key
    /// exchange) did not get it, and a partial flight read as a normal one
    /// would let a server that drips bytes pass as "no certificate" or
    /// "no key exchange", so the answer is cut at the deadline instead.
    pub(crate) fn timed_out(self, stop: StopAt) -> Outcome {
        match (&self.hello, stop) {
            (None, _) => Outcome::Timeout,
            (Some(_), StopAt::ServerHello) => Outcome::Hello(self),
            (Some(_), StopAt::FlightEnd) => Outcome::Truncated {
                budget: FlightBudget::Deadline,
            },
        }
    }

    /// The outcome when the connection ends early. After a ServerHello
    /// this only happens to a probe that needed the whole flight (one that
    /// stops at the ServerHello is done by then): the flight is `cut`.
    pub(crate) fn interrupted(mut self, why: Outcome) -> Outcome {
        if self.hello.is_some() {
            self.cut = Some(why.describe());
            Outcome::Hello(self)
        } else {
            why
        }
    }

    /// The outcome when the bytes stop making sense; after a ServerHello,
    /// a `cut` flight as in [`ServerFlight::interrupted`].
    pub(crate) fn malformed(mut self, e: WireError) -> Outcome {
        if self.hello.is_some() {
            self.cut = Some(format!("malformed after the ServerHello: {e}"));
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
            Outcome::Hello(f) if !f.warnings.is_empty() => {
                let names: Vec<&str> = f.warnings.iter().map(|w| w.name()).collect();
                format!(
                    "{} (after warning alert {})",
                    f.describe_hello(),
                    names.join(", ")
                )
            }
            Outcome::Hello(f) => f.describe_hello(),
            Outcome::Sslv2(h) => format!(
                "SSLv2 SERVER-HELLO with {} cipher kinds",
                h.cipher_kinds.len()
            ),
            Outcome::Sslv2Error(code) => format!("SSLv2 ERROR 0x{code:04X}"),
            Outcome::Alert(a) if a.is_fatal() => {
                format!("alert {}", a.description.name())
            }
            // A close_notify warning or an unknown level: say which.
            Outcome::Alert(a) => a.to_string(),
            Outcome::Closed => "connection closed without an answer".into(),
            Outcome::Reset => "connection reset".into(),
            Outcome::Timeout => "no answer before the deadline".into(),
            Outcome::Malformed(e) => format!("malformed answer: {e}"),
            Outcome::IoError(e) => format!("socket error: {e}"),
            Outcome::Truncated {
                budget: FlightBudget::Deadline,
            } => "answer cut off: the flight after the ServerHello did not end before the deadline"
                .into(),
            Outcome::Truncated { budget } => {
                format!("answer cut off: the server sent more than {budget} in one flight")
            }
        }
    }
}
