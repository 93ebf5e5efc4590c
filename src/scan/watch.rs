//! `tlsposture watch`: which certificate a gateway serves right now for one
//! name ([`fetch_served`], one full handshake, no state), and the polling
//! loop that compares fingerprints to catch an SDS rotation the moment it
//! lands ([`watch`]). Printing is the caller's: the loop reports
//! [`WatchEvent`]s and how it ended, never writes to a terminal.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use time::OffsetDateTime;

use crate::cert;
use crate::probe::{self, ProbeTimeouts};
use crate::tls_client::{record_handshake, HandshakeOptions};

/// The served leaf, reduced to what a rotation changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedCert {
    pub sni: Option<String>,
    /// Upper-case hex SHA-256 of the leaf's DER.
    pub sha256: String,
    pub subject: String,
    /// RFC 3339.
    pub not_after: String,
}

/// Connects to `addr`, handshakes (TLS 1.2 or 1.3, `sni` or none) and
/// describes the leaf.
///
/// # Errors
/// A sentence: connection refused or timed out, handshake refused, no
/// certificate, or a leaf that does not parse.
pub async fn fetch_served(
    addr: SocketAddr,
    sni: Option<&str>,
    timeouts: ProbeTimeouts,
) -> Result<ServedCert, String> {
    let stream = probe::connect(addr, timeouts.connect)
        .await
        .map_err(|e| e.to_string())?;
    let opts = HandshakeOptions {
        sni: sni.map(str::to_owned),
        ..HandshakeOptions::default()
    };
    let record = match record_handshake(stream, &opts, timeouts.read).await {
        Ok(record) => record,
        // A client-certificate refusal after the server's Certificate
        // still shows which certificate is served.
        Err(e) => match e.seen() {
            Some(seen) if !seen.chain.is_empty() => seen.clone(),
            _ => return Err(e.to_string()),
        },
    };
    let leaf = record
        .chain
        .first()
        .ok_or_else(|| "the server sent no certificate".to_owned())?;
    let info = cert::describe(leaf, OffsetDateTime::now_utc()).map_err(|e| e.to_string())?;
    Ok(ServedCert {
        sni: sni.map(str::to_owned),
        sha256: info.sha256,
        subject: info.subject,
        not_after: info.not_after,
    })
}

/// How [`watch`] polls.
#[derive(Debug, Clone, Copy)]
pub struct WatchOptions {
    /// Time between polls.
    pub interval: Duration,
    /// Stop after this long, counted from the end of the first round.
    pub timeout: Option<Duration>,
    /// End at the first change.
    pub until_change: bool,
    /// Per handshake.
    pub timeouts: ProbeTimeouts,
}

/// Something a watch saw, for the caller to print.
#[derive(Debug)]
pub enum WatchEvent<'a> {
    /// First round: the certificate served for `sni`.
    Served {
        sni: Option<&'a str>,
        cert: &'a ServedCert,
    },
    /// First round: nothing could be fetched for `sni`.
    Failed {
        sni: Option<&'a str>,
        error: &'a str,
    },
    /// A later round served another certificate than the last one seen.
    Changed {
        sni: Option<&'a str>,
        before: Option<&'a str>,
        cert: &'a ServedCert,
    },
}

/// How a watch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchEnd {
    /// The first round fetched no certificate at all.
    Unreachable,
    /// `stop` completed (Ctrl-C).
    Stopped,
    /// A certificate changed (with `until_change`).
    Changed,
    /// The timeout passed (with no change, when `until_change`).
    TimedOut,
}

/// Fetches the certificate of each name (`None`: no SNI), then polls every
/// `interval` and reports each change, until `stop` completes, the timeout
/// passes, or (with `until_change`) the first change. A failed poll is
/// skipped: a rotation restarts nothing, but a blip must not count as one.
pub async fn watch(
    addr: SocketAddr,
    names: &[Option<String>],
    options: &WatchOptions,
    stop: impl Future<Output = ()>,
    mut on_event: impl FnMut(WatchEvent<'_>),
) -> WatchEnd {
    let mut current: Vec<Option<String>> = Vec::new();
    for sni in names {
        match fetch_served(addr, sni.as_deref(), options.timeouts).await {
            Ok(served) => {
                on_event(WatchEvent::Served {
                    sni: sni.as_deref(),
                    cert: &served,
                });
                current.push(Some(served.sha256));
            }
            Err(error) => {
                on_event(WatchEvent::Failed {
                    sni: sni.as_deref(),
                    error: &error,
                });
                current.push(None);
            }
        }
    }
    if current.iter().all(Option::is_none) {
        return WatchEnd::Unreachable;
    }
    let deadline = options.timeout.map(|t| tokio::time::Instant::now() + t);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(options.interval) => {}
            _ = &mut stop => return WatchEnd::Stopped,
        }
        if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
            return WatchEnd::TimedOut;
        }
        for (sni, seen) in names.iter().zip(current.iter_mut()) {
            let Ok(served) = fetch_served(addr, sni.as_deref(), options.timeouts).await else {
                continue;
            };
            if seen.as_deref() != Some(served.sha256.as_str()) {
                on_event(WatchEvent::Changed {
                    sni: sni.as_deref(),
                    before: seen.as_deref(),
                    cert: &served,
                });
                *seen = Some(served.sha256);
                if options.until_change {
                    return WatchEnd::Changed;
                }
            }
        }
    }
}
