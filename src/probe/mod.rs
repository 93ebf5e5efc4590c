//! The only place that touches the network for raw handshakes: connect, send
//! a crafted hello, read the server's flight under one deadline, and classify
//! what came back as a typed [`Outcome`].
//!
//! A refusal (alert, close, reset, silence) is an observation, not an error;
//! only failing to reach the server at all is a [`ConnectError`]. Probes never
//! decide what an outcome means for the posture — `scan` does.

pub mod conversation;
mod outcome;

pub use conversation::{Conversation, Reply};
pub use outcome::{FlightBudget, Outcome, ServerFlight};

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
    #[error("not connecting to {addr}: the target's scan deadline ({ms} ms) has passed")]
    Deadline { addr: SocketAddr, ms: u128 },
    /// Not the server's doing: the hello could not be built (a list
    /// longer than its length field), so nothing was sent.
    #[error("hello not sent: {reason}")]
    NotEncodable { reason: String },
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
    // Small hellos must leave at once, not after Nagle's delay (streams
    // from `connect` have it off already; others may not).
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
        Ok(Ok(s)) => {
            // Every connection sends small writes and waits for the answer
            // (a TLS client's flight is several records, an HTTP request
            // follows a handshake): with Nagle's algorithm on, the last one
            // waits for the server's delayed ACK, 40 ms on Linux, which
            // was most of a full scan's vulnerability step.
            let _ = s.set_nodelay(true);
            Ok(s)
        }
    }
}

/// Reads until the flight is complete, the deadline passes, or a
/// [`FlightBudget`] is spent.
///
/// The deadline is checked on every pass, not only while a read waits:
/// `timeout_at` polls the read first, so a peer that always has bytes ready
/// would never let it fire.
async fn read_flight(stream: &mut TcpStream, stop: StopAt, deadline: Instant) -> Outcome {
    let mut decoder = FlightDecoder::new();
    let mut flight = ServerFlight::default();
    let mut buf = vec![0u8; 16 * 1024];
    let mut bytes = 0usize;
    loop {
        if decoder.records_taken() > FlightBudget::MAX_RECORDS {
            return Outcome::Truncated {
                budget: FlightBudget::Records,
            };
        }
        if Instant::now() >= deadline {
            return flight.timed_out(stop);
        }
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
            Err(_) => return flight.timed_out(stop),
            Ok(Err(e)) => return flight.interrupted(classify_io_error(&e)),
            Ok(Ok(0)) => return flight.interrupted(Outcome::Closed),
            Ok(Ok(n)) => n,
        };
        bytes += n;
        if bytes > FlightBudget::MAX_BYTES {
            return Outcome::Truncated {
                budget: FlightBudget::Bytes,
            };
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Alert, AlertDescription};
    use tokio::net::TcpListener;

    /// The ServerHello record (first record) of a real OpenSSL TLS 1.2 flight.
    fn tls12_server_hello_record() -> Vec<u8> {
        let bytes = crate::wire::fixture_hex(include_str!(
            "../../fixtures/flights/openssl_tls12_ecdhe_rsa.hex"
        ));
        let len = usize::from(u16::from_be_bytes([bytes[3], bytes[4]]));
        bytes[..5 + len].to_vec()
    }

    /// A loopback peer that reads the hello, sends a real ServerHello, then
    /// writes `chunk` until the probe goes away.
    async fn flooding_peer(chunk: Vec<u8>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut hello = [0u8; 4096];
            let _ = s.read(&mut hello).await;
            let _ = s.write_all(&tls12_server_hello_record()).await;
            while s.write_all(&chunk).await.is_ok() {}
        });
        addr
    }

    async fn probe(addr: SocketAddr) -> (Outcome, Duration) {
        let started = std::time::Instant::now();
        let out = handshake(
            addr,
            b"\x16\x03\x01\x00\x00",
            StopAt::FlightEnd,
            ProbeTimeouts {
                connect: Duration::from_secs(2),
                read: Duration::from_secs(10),
            },
        )
        .await
        .expect("loopback connects");
        (out, started.elapsed())
    }

    fn budget(outcome: &Outcome) -> Option<FlightBudget> {
        match outcome {
            Outcome::Truncated { budget } => Some(*budget),
            _ => None,
        }
    }

    #[tokio::test]
    async fn empty_application_data_flood_spends_the_message_budget() {
        let addr = flooding_peer([0x17, 3, 3, 0, 0].repeat(1000)).await;
        let (out, took) = probe(addr).await;
        assert_eq!(budget(&out), Some(FlightBudget::Messages), "{out:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");
        assert!(out.describe().contains("64 messages"), "{}", out.describe());
    }

    #[tokio::test]
    async fn one_byte_handshake_fragments_spend_the_record_budget() {
        // A Certificate header claiming 200 KiB (under the 256 KiB message
        // cap), then its body one byte per record: no message ever forms.
        let mut chunk = Vec::new();
        for b in [11u8, 0x03, 0x20, 0x00] {
            chunk.extend_from_slice(&[0x16, 3, 3, 0, 1, b]);
        }
        let addr = {
            let mut body = chunk;
            for _ in 0..2000 {
                body.extend_from_slice(&[0x16, 3, 3, 0, 1, 0]);
            }
            flooding_peer(body).await
        };
        let (out, took) = probe(addr).await;
        assert_eq!(budget(&out), Some(FlightBudget::Records), "{out:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");
    }

    #[tokio::test]
    async fn large_records_spend_the_byte_budget() {
        // 16 KiB heartbeat records: one message each, so 32 of them reach
        // 512 KiB long before 64 messages.
        let mut record = vec![24u8, 3, 3, 0x40, 0x00];
        record.resize(5 + 0x4000, 0);
        let addr = flooding_peer(record).await;
        let (out, _) = probe(addr).await;
        assert_eq!(budget(&out), Some(FlightBudget::Bytes), "{out:?}");
    }

    /// The whole OpenSSL TLS 1.2 flight, ServerHello to ServerHelloDone.
    fn tls12_flight() -> Vec<u8> {
        crate::wire::fixture_hex(include_str!(
            "../../fixtures/flights/openssl_tls12_ecdhe_rsa.hex"
        ))
    }

    /// A loopback peer that reads the hello, writes `answer` and closes.
    async fn scripted_peer(answer: Vec<u8>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut hello = [0u8; 4096];
            let _ = s.read(&mut hello).await;
            let _ = s.write_all(&answer).await;
            let _ = s.shutdown().await;
            // Hold the socket until the probe hangs up, so the probe's
            // read sees the bytes and a FIN, never a reset.
            let _ = s.read(&mut hello).await;
        });
        addr
    }

    fn alert_record(body: &[u8]) -> Vec<u8> {
        let mut r = vec![21, 3, 3, 0, body.len() as u8];
        r.extend_from_slice(body);
        r
    }

    #[tokio::test]
    async fn a_warning_before_the_server_hello_is_kept_and_read_past() {
        let answer = [alert_record(&[1, 112]), tls12_flight()].concat();
        let (out, _) = probe(scripted_peer(answer).await).await;
        let Outcome::Hello(flight) = &out else {
            panic!("{out:?}");
        };
        assert_eq!(
            flight.hello.as_ref().map(|h| h.negotiated_version()),
            Some(0x0303)
        );
        assert_eq!(flight.warnings, vec![AlertDescription::UnrecognizedName]);
        assert_eq!(flight.trailing_alert, None);
        assert_eq!(
            flight.messages.last(),
            Some(&ServerMessage::ServerHelloDone),
            "the whole flight was read"
        );
        assert!(
            out.describe()
                .ends_with("(after warning alert unrecognized_name)"),
            "{}",
            out.describe()
        );
    }

    #[tokio::test]
    async fn a_warning_within_the_flight_does_not_end_it() {
        // The ServerHello record, a no_renegotiation warning, then the rest.
        let flight = tls12_flight();
        let first = 5 + usize::from(u16::from_be_bytes([flight[3], flight[4]]));
        let answer = [
            &flight[..first],
            &alert_record(&[1, 100])[..],
            &flight[first..],
        ]
        .concat();
        let (out, _) = probe(scripted_peer(answer).await).await;
        let Outcome::Hello(flight) = &out else {
            panic!("{out:?}");
        };
        assert_eq!(flight.warnings, vec![AlertDescription::NoRenegotiation]);
        assert_eq!(flight.trailing_alert, None);
        assert_eq!(
            flight.messages.last(),
            Some(&ServerMessage::ServerHelloDone)
        );
    }

    #[tokio::test]
    async fn alerts_that_end_the_handshake_are_the_answer() {
        // (level, description): fatal, close_notify as a warning, and a
        // level no RFC defines.
        for (level, code) in [(2u8, 40u8), (1, 0), (7, 112), (0, 112)] {
            let answer = [
                alert_record(&[1, 112]),
                alert_record(&[level, code]),
                tls12_flight(),
            ]
            .concat();
            let (out, _) = probe(scripted_peer(answer).await).await;
            match &out {
                Outcome::Alert(a) => {
                    assert_eq!((a.level, a.description.to_u8()), (level, code), "{out:?}")
                }
                other => panic!("level {level} code {code}: {other:?}"),
            }
        }
        let out = Outcome::Alert(Alert {
            level: 7,
            description: AlertDescription::UnrecognizedName,
        });
        assert_eq!(out.describe(), "alert unrecognized_name of unknown level 7");
    }

    #[tokio::test]
    async fn a_warning_flood_spends_the_message_budget() {
        // After the ServerHello, one warning per record, as many records as
        // the record budget allows.
        let addr = flooding_peer(alert_record(&[1, 112]).repeat(FlightBudget::MAX_RECORDS)).await;
        let (out, took) = probe(addr).await;
        assert_eq!(budget(&out), Some(FlightBudget::Messages), "{out:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");

        // Thousands of warnings in one record, before any ServerHello: the
        // record budget would not see them.
        let mut record = vec![21, 3, 3, 0x3e, 0x80];
        record.extend([1, 112].repeat(0x3e80 / 2));
        let (out, _) = probe(scripted_peer(record).await).await;
        assert_eq!(budget(&out), Some(FlightBudget::Messages), "{out:?}");
    }

    #[test]
    fn warnings_count_against_the_message_budget() {
        let mut flight = ServerFlight::default();
        let warning = || {
            ServerMessage::Alert(Alert {
                level: 1,
                description: AlertDescription::UnrecognizedName,
            })
        };
        for _ in 0..FlightBudget::MAX_MESSAGES {
            assert!(flight.push(warning(), StopAt::FlightEnd).is_none());
        }
        assert_eq!(flight.warnings.len(), FlightBudget::MAX_MESSAGES);
        assert!(matches!(
            flight.push(warning(), StopAt::FlightEnd),
            Some(Outcome::Truncated {
                budget: FlightBudget::Messages
            })
        ));
    }

    /// A loopback peer that sends a real ServerHello, then the rest of the
    /// flight one byte per 100 ms, then waits: the flight never ends within
    /// the probe's deadline.
    async fn dripping_peer() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut hello = [0u8; 4096];
                    let _ = s.read(&mut hello).await;
                    let hello_record = tls12_server_hello_record();
                    let _ = s.write_all(&hello_record).await;
                    for b in &tls12_flight()[hello_record.len()..] {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        if s.write_all(std::slice::from_ref(b)).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    #[tokio::test]
    async fn a_drip_after_the_server_hello_is_cut_at_the_deadline_when_the_flight_is_needed() {
        let addr = dripping_peer().await;
        let timeouts = ProbeTimeouts {
            connect: Duration::from_secs(2),
            read: Duration::from_millis(700),
        };
        let hello = b"\x16\x03\x01\x00\x00";
        let started = std::time::Instant::now();
        let out = handshake(addr, hello, StopAt::FlightEnd, timeouts)
            .await
            .unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(budget(&out), Some(FlightBudget::Deadline), "{out:?}");
        assert!(out.describe().contains("deadline"), "{}", out.describe());

        // A probe that only needs the ServerHello has its answer.
        let out = handshake(addr, hello, StopAt::ServerHello, timeouts)
            .await
            .unwrap();
        assert!(
            matches!(&out, Outcome::Hello(f) if f.hello.is_some()),
            "{out:?}"
        );
    }

    #[test]
    fn the_64th_message_is_kept_and_the_65th_cuts_the_flight() {
        let (messages, _) = FlightDecoder::decode_all(&tls12_server_hello_record());
        let mut flight = ServerFlight::default();
        for m in messages {
            assert!(flight.push(m, StopAt::FlightEnd).is_none());
        }
        for _ in 0..FlightBudget::MAX_MESSAGES {
            let m = ServerMessage::EncryptedRecord { len: 0 };
            assert!(flight.push(m, StopAt::FlightEnd).is_none());
        }
        assert_eq!(flight.messages.len(), FlightBudget::MAX_MESSAGES);
        let out = flight.push(ServerMessage::ChangeCipherSpec, StopAt::FlightEnd);
        assert!(matches!(
            out,
            Some(Outcome::Truncated {
                budget: FlightBudget::Messages
            })
        ));
    }
}
