//! The one gate every connection to a target goes through: the per-target
//! connection limit, the handshake count, the target's whole-scan
//! deadline, and what to do when the target stops answering.
//!
//! Why it retries: a rate limiter, a serial server behind a queue or an
//! overloaded replica makes connections fail or go silent for a while.
//! Read as answers, those silences turn into "not offered" and a scan
//! that exits 0 with most of its findings gone (review H4/H5). So a
//! silence (close or reset without a word, no answer in time, a failed
//! connect once the target was reached) is checked against a hello the
//! target is known to accept (the canary, set after the protocol scan):
//! if the canary is answered, the silence was this hello's own answer; if
//! not, the target is struggling, and the probe is repeated after a
//! backoff with fewer connections in flight. What still gets no answer,
//! what a budget cut, and what the deadline left unprobed is counted in a
//! ledger the report carries, so the verdict can say the scan is
//! incomplete instead of clean.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

use super::pace::{FleetGate, FleetSlot, Spacing};
use super::Pacing;
use crate::observe::Incomplete;
use crate::probe::{self, ConnectError, FlightBudget, Outcome, ProbeTimeouts, StopAt};
use crate::wire::EncodeError;

/// How often one probe is repeated after the target went silent.
const MAX_RETRIES: u32 = 3;
/// The first backoff; each retry doubles it.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// How long a canary that got no answer stands for the silences that
/// follow (each is retried after a backoff anyway). An answered canary
/// stands only for probes that began before it: see
/// [`Prober::still_answering`].
const HEALTH_FRESH: Duration = Duration::from_millis(500);
/// Distinct reasons kept for the report; the counts hold the rest.
const MAX_REASONS: usize = 4;

/// Runs raw and full handshakes against one address under one connection
/// limit, counts them, and keeps the ledger of what could not be done.
pub struct Prober {
    addr: SocketAddr,
    timeouts: ProbeTimeouts,
    /// When the target's scan must be over; `None`: no deadline (library
    /// callers and tests that build a `Prober` by hand).
    deadline: Option<(Instant, Duration)>,
    limit: Semaphore,
    /// Connections allowed at once now; lowered when the target struggles.
    allowed: AtomicUsize,
    /// Permits to retire as they come back: the limit was lowered while
    /// they were in use.
    to_retire: AtomicUsize,
    handshakes: AtomicU32,
    canary: OnceLock<Vec<u8>>,
    /// The last canary check (when it began, when it ended, answered),
    /// serialised: one runs at a time.
    health: tokio::sync::Mutex<Option<Health>>,
    ledger: Mutex<Ledger>,
    /// The run's shared limit and rate, when it scans several targets.
    fleet: Option<std::sync::Arc<FleetGate>>,
    /// `--rate`: spacing between this target's connection starts.
    rate: Option<Spacing>,
}

/// One canary check.
#[derive(Debug, Clone, Copy)]
struct Health {
    began: Instant,
    ended: Instant,
    answered: bool,
}

#[derive(Debug, Default)]
struct Ledger {
    retries: u32,
    unanswered: u32,
    truncated: u32,
    skipped: u32,
    reasons: Vec<String>,
}

impl Ledger {
    fn reason(&mut self, why: String) {
        if self.reasons.len() < MAX_REASONS && !self.reasons.contains(&why) {
            self.reasons.push(why);
        }
    }
}

/// A connection slot, released (or retired, when the limit was lowered
/// meanwhile) when dropped. Keep it for as long as the connection is used.
pub struct Slot<'a> {
    permit: Option<SemaphorePermit<'a>>,
    _fleet: Option<FleetSlot<'a>>,
    prober: &'a Prober,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let retire = self
            .prober
            .to_retire
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok();
        if let (true, Some(permit)) = (retire, self.permit.take()) {
            permit.forget();
        }
    }
}

impl Prober {
    pub fn new(addr: SocketAddr, timeouts: ProbeTimeouts, max_connections: usize) -> Self {
        let max = max_connections.max(1);
        Prober {
            addr,
            timeouts,
            deadline: None,
            limit: Semaphore::new(max),
            allowed: AtomicUsize::new(max),
            to_retire: AtomicUsize::new(0),
            handshakes: AtomicU32::new(0),
            canary: OnceLock::new(),
            health: tokio::sync::Mutex::new(None),
            ledger: Mutex::new(Ledger::default()),
            fleet: None,
            rate: None,
        }
    }

    /// Puts the prober under the run's shared limits and this target's
    /// rate.
    pub fn with_pacing(mut self, pacing: &Pacing) -> Self {
        self.fleet = pacing.fleet.clone();
        self.rate = pacing.rate.map(Spacing::new);
        self
    }

    /// Ends every probe `limit` from now: later probes are not made, and
    /// the ones in flight are cut at that moment.
    pub fn with_deadline(mut self, limit: Duration) -> Self {
        self.deadline = Some((Instant::now() + limit, limit));
        self
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A hello this target answered with a ServerHello: what a silence is
    /// checked against. Set once, after the protocol scan.
    pub fn set_canary(&self, hello: Vec<u8>) {
        let _ = self.canary.set(hello);
    }

    /// The per-probe timeouts, shortened to what is left of the deadline.
    pub fn timeouts(&self) -> ProbeTimeouts {
        let left = self.left().unwrap_or(Duration::ZERO);
        ProbeTimeouts {
            connect: self.timeouts.connect.min(left),
            read: self.timeouts.read.min(left),
        }
    }

    pub fn handshakes(&self) -> u32 {
        self.handshakes.load(Ordering::Relaxed)
    }

    /// Connections allowed at once now (lower than asked when the target
    /// struggled).
    pub fn allowed_connections(&self) -> usize {
        self.allowed.load(Ordering::Relaxed)
    }

    /// Probes repeated because the target had gone silent.
    pub fn retries(&self) -> u32 {
        self.ledger().retries
    }

    /// What the scan could not do, or `None` when it did everything.
    pub fn incomplete(&self) -> Option<Incomplete> {
        let ledger = self.ledger();
        if ledger.unanswered + ledger.truncated + ledger.skipped == 0 {
            return None;
        }
        Some(Incomplete {
            unanswered: ledger.unanswered,
            truncated: ledger.truncated,
            skipped: ledger.skipped,
            deadline_ms: self
                .deadline
                .map(|(_, limit)| u64::try_from(limit.as_millis()).unwrap_or(u64::MAX)),
            reasons: ledger.reasons.clone(),
        })
    }

    /// Notes a probe a caller could not finish although the target did not
    /// refuse it: a full handshake that timed out or that our TLS stack
    /// gave up on, whose check is then unknown.
    pub fn note_unanswered(&self, why: String) {
        let mut ledger = self.ledger();
        ledger.unanswered += 1;
        ledger.reason(why);
    }

    /// Notes a probe whose answer a caller found cut short (a rustls
    /// handshake or an HTTP exchange stopped by a budget).
    pub fn note_truncated(&self, why: String) {
        let mut ledger = self.ledger();
        ledger.truncated += 1;
        ledger.reason(why);
    }

    /// One raw handshake, waiting for a connection slot first. Only
    /// connections that were made count as handshakes.
    ///
    /// A silence is checked against the canary and, when the target has
    /// stopped answering, the probe is repeated (see the module comment);
    /// the last outcome is returned either way. After the deadline the
    /// probe is not made: `Truncated { ScanDeadline }`.
    pub async fn probe(&self, hello: &[u8], stop: StopAt) -> Result<Outcome, ConnectError> {
        let mut retries = 0;
        loop {
            let began = Instant::now();
            let Some(result) = self.attempt(hello, stop).await else {
                return Ok(self.skipped());
            };
            if let Ok(Outcome::Truncated { budget }) = &result {
                self.note_truncated(format!("an answer cut at {budget}"));
                return result;
            }
            let silence = match &result {
                Ok(outcome) => is_silence(outcome),
                // Before the target was ever reached, a failed connect is
                // the answer (unreachable); afterwards, the target struggles.
                Err(_) => self.handshakes() > 0,
            };
            if !silence {
                return result;
            }
            let healthy = match (&result, self.canary.get()) {
                (Err(_), _) => false,
                (Ok(_), None) => return result,
                (Ok(_), Some(canary)) if canary.as_slice() == hello => false,
                (Ok(_), Some(_)) => self.still_answering(began).await,
            };
            if healthy {
                return result;
            }
            if retries == MAX_RETRIES || !self.back_off(retries).await {
                let mut ledger = self.ledger();
                ledger.unanswered += 1;
                ledger.reason(match &result {
                    Ok(outcome) => {
                        format!("no answer after {retries} retries: {}", outcome.describe())
                    }
                    Err(e) => format!("no connection after {retries} retries: {e}"),
                });
                return result;
            }
            retries += 1;
        }
    }

    /// [`Prober::probe`] for a hello that may not have been buildable:
    /// an encoding failure is a [`ConnectError::NotEncodable`], no exchange.
    pub async fn send(
        &self,
        hello: Result<Vec<u8>, EncodeError>,
        stop: StopAt,
    ) -> Result<Outcome, ConnectError> {
        match hello {
            Ok(bytes) => self.probe(&bytes, stop).await,
            Err(e) => Err(ConnectError::NotEncodable {
                reason: e.to_string(),
            }),
        }
    }

    /// One connection for a full (rustls) handshake, under the same limit
    /// as [`Prober::probe`] and counted the same way; a failed connect to
    /// a target already reached is retried like a silent probe. Keep the
    /// slot until the handshake is over: dropping it frees it.
    pub async fn connect(&self) -> Result<(TcpStream, Slot<'_>), ConnectError> {
        let mut retries = 0;
        loop {
            let Some(left) = self.left() else {
                return Err(self.deadline_error());
            };
            let slot = self.slot().await;
            let Some(left) = self.left().map(|l| l.min(left)) else {
                drop(slot);
                return Err(self.deadline_error());
            };
            match probe::connect(self.addr, self.timeouts.connect.min(left)).await {
                Ok(stream) => {
                    self.handshakes.fetch_add(1, Ordering::Relaxed);
                    return Ok((stream, slot));
                }
                Err(e) => {
                    drop(slot);
                    let reached = self.handshakes() > 0;
                    if !reached || retries == MAX_RETRIES || !self.back_off(retries).await {
                        if reached {
                            let mut ledger = self.ledger();
                            ledger.unanswered += 1;
                            ledger.reason(format!("no connection after {retries} retries: {e}"));
                        }
                        return Err(e);
                    }
                    retries += 1;
                }
            }
        }
    }

    /// One connect-and-exchange; `None` when the deadline has passed.
    async fn attempt(&self, hello: &[u8], stop: StopAt) -> Option<Result<Outcome, ConnectError>> {
        self.left()?;
        let _slot = self.slot().await;
        let left = self.left()?;
        let stream = match probe::connect(self.addr, self.timeouts.connect.min(left)).await {
            Ok(stream) => stream,
            Err(e) => return Some(Err(e)),
        };
        self.handshakes.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let left = self.left().unwrap_or(Duration::ZERO);
        let outcome = probe::exchange(stream, hello, stop, self.timeouts.read.min(left)).await;
        tracing::debug!(
            addr = %self.addr,
            hello_bytes = hello.len(),
            elapsed_us = started.elapsed().as_micros() as u64,
            "{}",
            outcome.describe()
        );
        // A wait the deadline cut short is not the server's silence.
        if matches!(outcome, Outcome::Timeout) && self.left().is_none() {
            return None;
        }
        Some(Ok(outcome))
    }

    /// Whether the target still answers its canary, as evidence about a
    /// probe that began at `since` and got silence. An answered canary
    /// counts only if it began after that probe: a server that queues
    /// connections (one at a time, the rest waiting) serves them in order,
    /// so a canary sent later and answered shows the probe was served and
    /// its silence was the answer. A canary that began earlier proves
    /// nothing about it: it may have got through just before the queue
    /// grew, and taking it as evidence once read a whole burst of queued
    /// timeouts as refusals (suites lost without a word). One check runs
    /// at a time; the silences waiting for it are all answered by it.
    async fn still_answering(&self, since: Instant) -> bool {
        let Some(canary) = self.canary.get() else {
            return true;
        };
        let mut last = self.health.lock().await;
        if let Some(h) = *last {
            if h.answered && h.began >= since {
                return true;
            }
            if !h.answered && h.ended.elapsed() < HEALTH_FRESH {
                return false;
            }
        }
        let began = Instant::now();
        let healthy = matches!(
            self.attempt(canary, StopAt::ServerHello).await,
            Some(Ok(Outcome::Hello(_) | Outcome::Sslv2(_)))
        );
        *last = Some(Health {
            began,
            ended: Instant::now(),
            answered: healthy,
        });
        healthy
    }

    /// Lowers the connection limit and waits before retry `n + 1`; `false`
    /// when the deadline comes first.
    async fn back_off(&self, n: u32) -> bool {
        self.lower_limit();
        let wait = FIRST_BACKOFF * 2u32.pow(n);
        match self.left() {
            Some(left) if left > wait => {
                self.ledger().retries += 1;
                tokio::time::sleep(wait).await;
                true
            }
            _ => false,
        }
    }

    /// Halves the connections allowed at once (never below one): a
    /// struggling target gets fewer at a time, and stays at that.
    fn lower_limit(&self) {
        let Ok(before) = self
            .allowed
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n > 1).then_some(n.div_ceil(2))
            })
        else {
            return;
        };
        let drop_by = before - before.div_ceil(2);
        let forgotten = self.limit.forget_permits(drop_by);
        self.to_retire
            .fetch_add(drop_by - forgotten, Ordering::AcqRel);
        tracing::debug!(addr = %self.addr, allowed = before.div_ceil(2), "target struggles: fewer connections");
    }

    /// A connection slot: the target's own limit first, then the fleet's
    /// (a probe waiting for its target holds nothing of the fleet's),
    /// then the target's and the fleet's rates.
    async fn slot(&self) -> Slot<'_> {
        // The semaphore is never closed, so acquire cannot fail.
        let permit = self.limit.acquire().await.ok();
        let fleet = match &self.fleet {
            Some(gate) => Some(gate.slot().await),
            None => None,
        };
        if let Some(rate) = &self.rate {
            rate.wait().await;
        }
        if let Some(gate) = &self.fleet {
            gate.paced().await;
        }
        Slot {
            permit,
            _fleet: fleet,
            prober: self,
        }
    }

    /// What is left of the deadline; `None` once it has passed.
    fn left(&self) -> Option<Duration> {
        match self.deadline {
            None => Some(Duration::MAX),
            Some((at, _)) => {
                let left = at.saturating_duration_since(Instant::now());
                (!left.is_zero()).then_some(left)
            }
        }
    }

    /// A raw probe the deadline left undone, ledgered.
    fn skipped(&self) -> Outcome {
        self.note_skipped();
        Outcome::Truncated {
            budget: FlightBudget::ScanDeadline,
        }
    }

    /// A connection the deadline left unmade, ledgered.
    fn deadline_error(&self) -> ConnectError {
        self.note_skipped();
        ConnectError::Deadline {
            addr: self.addr,
            ms: self.deadline.map_or(0, |(_, limit)| limit.as_millis()),
        }
    }

    fn note_skipped(&self) {
        let mut ledger = self.ledger();
        ledger.skipped += 1;
        ledger.reason("the target's scan deadline passed".to_owned());
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        // A panic while holding it leaves counts, still worth reading.
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An outcome that may be the target's refusal or may be it not
/// answering at all: the canary tells which.
fn is_silence(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Closed | Outcome::Reset | Outcome::Timeout)
}
