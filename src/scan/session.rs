//! Session and extension probes (see `observe::SessionFacts`), each with
//! the fewest connections that answer it:
//!
//! - one raw TLS 1.2 hello (the protocol scan's, offering session_ticket
//!   and extended_master_secret): the ServerHello's echo of
//!   extended_master_secret and of session_ticket (RFC 5077 3.2: a
//!   server that echoes it sends a ticket);
//! - TLS 1.2 by session ID: a full rustls handshake offering no ticket
//!   (a server that issues a ticket may send an empty ID, RFC 5077 3.4,
//!   so the ID question is asked without one), then [`RESUME_ATTEMPTS`]
//!   new connections presenting the same ID, concurrently;
//! - TLS 1.2 by ticket, when one is issued: the same with tickets;
//! - TLS 1.3: a full handshake offering certificate compression (made
//!   again without it if the server compressed: we only record, see
//!   `tls_client::resume`), its tickets and their early-data allowance,
//!   then [`RESUME_ATTEMPTS`] resumptions in turn (TLS 1.3 tickets cannot
//!   be copied, each attempt takes the newest), the first with early data
//!   when the tickets allow it;
//! - PQ preference: one raw TLS 1.3 hello listing X25519MLKEM768 and
//!   X25519 with a key share for X25519 only (testssl.sh #3116), and, when
//!   the server takes X25519, one more offering only X25519MLKEM768 to
//!   tell "supports it but does not prefer it" from "does not support it".
//!
//! testssl.sh's `sub_session_resumption` asks the same with `openssl
//! s_client -sess_out/-sess_in` (one resumption each for ID and ticket);
//! `run_server_defaults` reads the ticket and EMS from `s_client`'s text.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::observe::{Answer, EarlyData, Fact, Resumption, SessionFacts};
use crate::probe::{Outcome, StopAt};
use crate::registry;
use crate::tls_client::{compression_name, ResumedHandshake, ResumingClient, Tls12Mode};
use crate::wire::{self, ClientHelloSpec, ProtocolVersion, ServerHello};

use super::hellos::{hello_for, HelloSize};
use super::Prober;

/// Resumption attempts per mechanism, each on a new TCP connection: enough
/// to see that replicas behind one address do not share sessions (a
/// client landing on a random one of N resumes about 1/N of the time).
pub const RESUME_ATTEMPTS: u32 = 4;

const X25519: u16 = 0x001d;
const X25519_MLKEM768: u16 = 0x11ec;
const EXT_SESSION_TICKET: u16 = 35;
const EXT_EXTENDED_MASTER_SECRET: u16 = 23;

/// Resumption, EMS, certificate compression, 0-RTT and PQ preference.
pub async fn probe_session(
    prober: &Prober,
    sni: Option<&str>,
    offered: &[ProtocolVersion],
) -> SessionFacts {
    let count = AtomicU32::new(0);
    let run = Run {
        prober,
        sni,
        count: &count,
    };
    let tls12 = offered.contains(&ProtocolVersion::Tls12);
    let tls13 = offered.contains(&ProtocolVersion::Tls13);
    let ((ems, session_id, session_ticket), (tls13_psk, compression, early_data), pq_preference) = tokio::join!(
        async {
            if tls12 {
                run.tls12().await
            } else {
                let why = "TLS 1.2 not offered";
                (
                    Fact::not_applicable(why),
                    Resumption::not_applicable(why),
                    Resumption::not_applicable(why),
                )
            }
        },
        async {
            if tls13 {
                run.tls13().await
            } else {
                let why = "TLS 1.3 not offered";
                (
                    Resumption::not_applicable(why),
                    (Fact::not_applicable(why), None),
                    EarlyData {
                        offered: Fact::not_applicable(why),
                        max_early_data_size: None,
                        accepted: Fact::not_applicable(why),
                    },
                )
            }
        },
        async {
            if tls13 {
                run.pq_preference().await
            } else {
                Fact::not_applicable("TLS 1.3 not offered")
            }
        },
    );
    SessionFacts {
        session_id,
        session_ticket,
        tls13_psk,
        extended_master_secret: ems,
        certificate_compression: compression.0,
        certificate_compression_algorithm: compression.1,
        early_data,
        pq_preference,
        handshakes: count.load(Ordering::Relaxed),
    }
}

struct Run<'a> {
    prober: &'a Prober,
    sni: Option<&'a str>,
    count: &'a AtomicU32,
}

impl Run<'_> {
    fn timeout(&self) -> Duration {
        self.prober.timeouts().read
    }

    /// One handshake of `client` on a new connection of the prober.
    async fn handshake(
        &self,
        client: &ResumingClient,
        compress: bool,
        early_data: Option<&[u8]>,
    ) -> ResumedHandshake {
        match self.prober.connect().await {
            Ok((stream, _slot)) => {
                self.count.fetch_add(1, Ordering::Relaxed);
                client
                    .handshake(stream, compress, early_data, self.timeout())
                    .await
            }
            Err(e) => ResumedHandshake {
                error: Some(e.to_string()),
                ..ResumedHandshake::default()
            },
        }
    }

    /// One raw hello; the ServerHello or a description of the answer.
    async fn raw(
        &self,
        hello: Result<Vec<u8>, wire::EncodeError>,
    ) -> Result<(ServerHello, bool), String> {
        let outcome = self.prober.send(hello, StopAt::ServerHello).await;
        if !matches!(
            outcome,
            Err(crate::probe::ConnectError::NotEncodable { .. }
                | crate::probe::ConnectError::Deadline { .. })
        ) {
            self.count.fetch_add(1, Ordering::Relaxed);
        }
        match outcome {
            Ok(Outcome::Hello(flight)) => match flight.hello {
                Some(hello) => Ok((hello, flight.hello_retry)),
                None => Err("no ServerHello".to_owned()),
            },
            Ok(other) => Err(other.describe()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// EMS, resumption by ID, resumption by ticket.
    async fn tls12(&self) -> (Fact, Resumption, Resumption) {
        let hello = hello_for(ProtocolVersion::Tls12, self.sni, HelloSize::Full);
        let (raw, by_id) =
            tokio::join!(self.raw(hello), self.tls12_series(Tls12Mode::SessionIdOnly));
        let (ems, ticket_issued) = match &raw {
            Ok((sh, _)) if sh.negotiated_version() == 0x0303 => {
                let ems = sh.has_extension(EXT_EXTENDED_MASTER_SECRET);
                let ticket = sh.has_extension(EXT_SESSION_TICKET);
                (
                    Fact::new(
                        Answer::from_bool(ems),
                        format!(
                            "TLS 1.2 hello offering extended_master_secret: the ServerHello {} it",
                            if ems { "echoed" } else { "did not echo" }
                        ),
                    ),
                    Fact::new(
                        Answer::from_bool(ticket),
                        format!(
                            "TLS 1.2 hello offering session_ticket: the ServerHello {}",
                            if ticket {
                                "echoed it (a NewSessionTicket follows)"
                            } else {
                                "did not echo it"
                            }
                        ),
                    ),
                )
            }
            Ok((sh, _)) => {
                let why = format!(
                    "TLS 1.2 hello answered with version 0x{:04X}",
                    sh.negotiated_version()
                );
                (Fact::unknown(why.clone()), Fact::unknown(why))
            }
            Err(why) => {
                let why = format!("TLS 1.2 hello: {why}");
                (Fact::unknown(why.clone()), Fact::unknown(why))
            }
        };
        let by_ticket = match ticket_issued.answer {
            Answer::Yes => {
                let mut r = self.tls12_series(Tls12Mode::Tickets).await;
                r.issued = ticket_issued;
                r
            }
            answer => Resumption {
                accepted: Fact::new(
                    if answer == Answer::No {
                        Answer::NotApplicable
                    } else {
                        Answer::Unknown
                    },
                    "no ticket to present",
                ),
                issued: ticket_issued,
                attempts: 0,
                resumed: 0,
            },
        };
        (ems, by_id, by_ticket)
    }

    /// A full TLS 1.2 handshake in `mode`, then the attempts with its
    /// session, concurrently.
    async fn tls12_series(&self, mode: Tls12Mode) -> Resumption {
        let what = match mode {
            Tls12Mode::SessionIdOnly => "session ID",
            Tls12Mode::Tickets => "session ticket",
        };
        let client = match ResumingClient::new(self.sni, ProtocolVersion::Tls12, mode) {
            Ok(c) => c,
            Err(e) => {
                let why = format!("our TLS client: {e}");
                return Resumption {
                    issued: Fact::unknown(why.clone()),
                    accepted: Fact::unknown(why),
                    attempts: 0,
                    resumed: 0,
                };
            }
        };
        let full = self.handshake(&client, false, None).await;
        if let Some(e) = full.error {
            let why = format!("full TLS 1.2 handshake failed: {e}");
            return Resumption {
                issued: Fact::unknown(why.clone()),
                accepted: Fact::unknown(why),
                attempts: 0,
                resumed: 0,
            };
        }
        if !client.has_tls12_session() {
            let issued = match mode {
                Tls12Mode::SessionIdOnly => Fact::new(
                    Answer::No,
                    "full TLS 1.2 handshake without session_ticket: empty session ID",
                ),
                Tls12Mode::Tickets => {
                    Fact::unknown("the ServerHello echoed session_ticket but no ticket came")
                }
            };
            return Resumption {
                issued,
                accepted: Fact::not_applicable(format!("no {what} to present")),
                attempts: 0,
                resumed: 0,
            };
        }
        let attempts = futures::future::join_all(
            (0..RESUME_ATTEMPTS).map(|_| self.handshake(&client, false, None)),
        )
        .await;
        let (made, resumed, errors) = tally(&attempts);
        let accepted = if made == 0 {
            Fact::unknown(format!(
                "no resumption attempt completed: {}",
                errors.join("; ")
            ))
        } else {
            Fact::new(
                Answer::from_bool(resumed > 0),
                format!(
                    "{resumed}/{made} new connections presenting the same {what} resumed{}",
                    failures(&errors)
                ),
            )
        };
        Resumption {
            issued: Fact::new(
                Answer::Yes,
                match mode {
                    Tls12Mode::SessionIdOnly => {
                        "full TLS 1.2 handshake without session_ticket: a session ID was issued"
                    }
                    Tls12Mode::Tickets => "a TLS 1.2 session ticket was issued",
                },
            ),
            accepted,
            attempts: made,
            resumed,
        }
    }

    /// TLS 1.3 PSK resumption, certificate compression, early data.
    async fn tls13(&self) -> (Resumption, (Fact, Option<String>), EarlyData) {
        let unknown_all = |why: String| {
            (
                Resumption {
                    issued: Fact::unknown(why.clone()),
                    accepted: Fact::unknown(why.clone()),
                    attempts: 0,
                    resumed: 0,
                },
                (Fact::unknown(why.clone()), None),
                EarlyData {
                    offered: Fact::unknown(why.clone()),
                    max_early_data_size: None,
                    accepted: Fact::unknown(why),
                },
            )
        };
        let client = match ResumingClient::new(self.sni, ProtocolVersion::Tls13, Tls12Mode::Tickets)
        {
            Ok(c) => c,
            Err(e) => return unknown_all(format!("our TLS client: {e}")),
        };
        let mut full = self.handshake(&client, true, None).await;
        let compression = match full.compressed_with {
            Some(alg) => {
                let name = compression_name(alg);
                // We cannot decompress: the handshake ended there; make it
                // again without offering compression.
                full = self.handshake(&client, false, None).await;
                (
                    Fact::new(
                        Answer::Yes,
                        format!(
                            "TLS 1.3 hello offering zlib, brotli and zstd: the server sent a {name}-compressed Certificate"
                        ),
                    ),
                    Some(name),
                )
            }
            None if full.error.is_none() => (
                Fact::new(
                    Answer::No,
                    "TLS 1.3 hello offering zlib, brotli and zstd: the Certificate came uncompressed",
                ),
                None,
            ),
            None => (
                Fact::unknown(format!(
                    "TLS 1.3 handshake offering certificate compression failed: {}",
                    full.error.clone().unwrap_or_default()
                )),
                None,
            ),
        };
        if let Some(e) = &full.error {
            let (psk, _, early) = unknown_all(format!("full TLS 1.3 handshake failed: {e}"));
            return (psk, compression, early);
        }
        let tickets = client.tls13_tickets();
        if let (0, Some(ended)) = (tickets, &full.ended_after_handshake) {
            let (psk, _, early) = unknown_all(format!(
                "no ticket: the server ended the connection after the TLS 1.3 handshake: {ended}"
            ));
            return (psk, compression, early);
        }
        if tickets == 0 {
            let no = "no NewSessionTicket after a full TLS 1.3 handshake (read until the server's close)";
            return (
                Resumption {
                    issued: Fact::new(Answer::No, no),
                    accepted: Fact::not_applicable("no ticket to present"),
                    attempts: 0,
                    resumed: 0,
                },
                compression,
                EarlyData {
                    offered: Fact::new(Answer::No, no),
                    max_early_data_size: None,
                    accepted: Fact::not_applicable("no ticket"),
                },
            );
        }
        let max_early = client.max_early_data_size().unwrap_or(0);
        let early_request = format!(
            "GET / HTTP/1.1\r\nHost: {}\r\nUser-Agent: tlsposture\r\nConnection: close\r\n\r\n",
            self.sni.unwrap_or("localhost")
        );
        let mut attempts = Vec::new();
        for i in 0..RESUME_ATTEMPTS {
            if client.tls13_tickets() == 0 {
                break;
            }
            let early = (i == 0 && max_early > 0).then_some(early_request.as_bytes());
            attempts.push(self.handshake(&client, false, early).await);
        }
        let (made, resumed, errors) = tally(&attempts);
        let accepted = if made == 0 {
            Fact::unknown(format!(
                "no resumption attempt completed: {}",
                errors.join("; ")
            ))
        } else {
            Fact::new(
                Answer::from_bool(resumed > 0),
                format!(
                    "{resumed}/{made} new connections, each presenting the newest ticket, resumed{}",
                    failures(&errors)
                ),
            )
        };
        let early_accepted = attempts.first().and_then(|a| a.early_data_accepted);
        let early = EarlyData {
            offered: Fact::new(
                Answer::from_bool(max_early > 0),
                format!("the tickets' max_early_data_size: {max_early}"),
            ),
            max_early_data_size: Some(max_early),
            accepted: match early_accepted {
                _ if max_early == 0 => Fact::not_applicable("the tickets allow no early data"),
                Some(ok) => Fact::new(
                    Answer::from_bool(ok),
                    format!(
                        "early data (an HTTP GET /) on a resumption: {}",
                        if ok { "accepted" } else { "rejected" }
                    ),
                ),
                None => Fact::unknown("no early data could be sent on the first resumption"),
            },
        };
        (
            Resumption {
                issued: Fact::new(
                    Answer::Yes,
                    format!("{tickets} NewSessionTicket(s) after a full TLS 1.3 handshake"),
                ),
                accepted,
                attempts: made,
                resumed,
            },
            compression,
            early,
        )
    }

    /// HelloRetryRequest for X25519MLKEM768 when offered only an X25519
    /// key share?
    async fn pq_preference(&self) -> Fact {
        let first = self
            .raw(tls13_hello(self.sni, &[X25519_MLKEM768, X25519], X25519))
            .await;
        let asked = "TLS 1.3 hello, supported_groups [X25519MLKEM768, X25519], key share X25519";
        match first {
            Ok((sh, true)) if sh.key_share_group() == Some(X25519_MLKEM768) => Fact::new(
                Answer::Yes,
                format!("{asked}: HelloRetryRequest for X25519MLKEM768"),
            ),
            Ok((sh, true)) => Fact::unknown(format!(
                "{asked}: HelloRetryRequest for group {:?}",
                sh.key_share_group().map(|g| format!("0x{g:04X}"))
            )),
            Ok((sh, false)) if sh.negotiated_version() != 0x0304 => Fact::unknown(format!(
                "{asked}: answered with version 0x{:04X}",
                sh.negotiated_version()
            )),
            Ok((sh, false)) if sh.key_share_group() == Some(X25519) => {
                let only = "TLS 1.3 hello with X25519MLKEM768 only";
                match self
                    .raw(tls13_hello(self.sni, &[X25519_MLKEM768], X25519_MLKEM768))
                    .await
                {
                    Ok((sh, false)) if sh.key_share_group() == Some(X25519_MLKEM768) => Fact::new(
                        Answer::No,
                        format!(
                            "{asked}: ServerHello with X25519; {only}: accepted, so it supports ML-KEM but takes the key share it was given"
                        ),
                    ),
                    Ok((sh, retry)) => Fact::not_applicable(format!(
                        "{asked}: ServerHello with X25519; {only}: {} {:?}: X25519MLKEM768 not accepted",
                        if retry { "HelloRetryRequest" } else { "ServerHello" },
                        sh.key_share_group().map(|g| format!("0x{g:04X}"))
                    )),
                    Err(why) => Fact::not_applicable(format!(
                        "{asked}: ServerHello with X25519; {only}: {why}: X25519MLKEM768 not accepted"
                    )),
                }
            }
            Ok((sh, false)) => Fact::unknown(format!(
                "{asked}: ServerHello with group {:?}",
                sh.key_share_group().map(|g| format!("0x{g:04X}"))
            )),
            Err(why) => Fact::unknown(format!("{asked}: {why}")),
        }
    }
}

/// Completed attempts, how many resumed, and why the others failed.
fn tally(attempts: &[ResumedHandshake]) -> (u32, u32, Vec<String>) {
    let mut made = 0;
    let mut resumed = 0;
    let mut errors = Vec::new();
    for a in attempts {
        match &a.error {
            Some(e) => errors.push(e.clone()),
            None => {
                made += 1;
                if a.resumed {
                    resumed += 1;
                }
            }
        }
    }
    (made, resumed, errors)
}

fn failures(errors: &[String]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!("; {} failed: {}", errors.len(), errors.join("; "))
    }
}

/// A TLS 1.3-only hello listing `groups` with one key share for `share`.
fn tls13_hello(
    sni: Option<&str>,
    groups: &[u16],
    share: u16,
) -> Result<Vec<u8>, wire::EncodeError> {
    let suites: Vec<u16> = registry::suites_for(ProtocolVersion::Tls13)
        .iter()
        .map(|s| s.code)
        .collect();
    let shares = wire::generate_key_share(share).into_iter().collect();
    let spec = ClientHelloSpec::for_version(
        ProtocolVersion::Tls13,
        suites,
        sni,
        shares,
        groups.to_vec(),
        registry::signature_schemes()
            .iter()
            .map(|s| s.code)
            .collect(),
    );
    wire::encode_client_hello(&spec)
}
