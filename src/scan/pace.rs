//! Politeness across a fleet: a connection limit and a rate shared by
//! every target of a run, and a rate per target, on top of each
//! [`super::Prober`]'s own per-target limit.
//!
//! Why both: the per-target limit protects one gateway; a fleet of 200
//! listeners behind one load balancer, or one Envoy serving them all,
//! also needs a ceiling on the sum, or "16 connections each" becomes 3,200
//! at once. The rates are spacings between connection starts rather than
//! token buckets with bursts: a rate limiter in front of a gateway counts
//! starts, and an even spacing never trips it while a burst can.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// New connections per second, as `--rate` gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    per_second: f64,
}

impl Rate {
    /// `50/s`, `600/m`, or a bare number (per second).
    ///
    /// # Errors
    /// Not a positive number with an optional `/s` or `/m`.
    pub fn parse(text: &str) -> Result<Rate, String> {
        let t = text.trim();
        let (number, per) = if let Some(n) = t.strip_suffix("/s") {
            (n, 1.0)
        } else if let Some(n) = t.strip_suffix("/m") {
            (n, 60.0)
        } else {
            (t, 1.0)
        };
        let value: f64 = number
            .trim()
            .parse()
            .map_err(|_| format!("invalid rate {text:?} (e.g. 50/s, 600/m)"))?;
        let per_second = value / per;
        if !per_second.is_finite() || per_second <= 0.0 || per_second > 1_000_000.0 {
            return Err(format!(
                "rate {text:?} out of range (more than 0, at most 1000000/s)"
            ));
        }
        Ok(Rate { per_second })
    }

    pub fn per_second(self) -> f64 {
        self.per_second
    }

    fn interval(self) -> Duration {
        Duration::from_secs_f64(1.0 / self.per_second)
    }
}

/// Evenly spaced starts: each caller gets the next free instant and
/// sleeps until it.
#[derive(Debug)]
pub struct Spacing {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl Spacing {
    pub fn new(rate: Rate) -> Spacing {
        Spacing {
            interval: rate.interval(),
            next: Mutex::new(None),
        }
    }

    /// Waits for this caller's turn.
    pub async fn wait(&self) {
        let at = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let at = next.map_or(now, |n| n.max(now));
            *next = Some(at + self.interval);
            at
        };
        if at > Instant::now() {
            tokio::time::sleep_until(at).await;
        }
    }
}

/// What every target of one run shares: `--max-connections-total` and
/// `--rate-total`.
#[derive(Debug, Default)]
pub struct FleetGate {
    connections: Option<Semaphore>,
    rate: Option<Spacing>,
    /// The most connections seen open at once (for the run's stats).
    peak: std::sync::atomic::AtomicUsize,
    open: std::sync::atomic::AtomicUsize,
}

/// A fleet-wide connection slot; frees itself when dropped.
pub struct FleetSlot<'a> {
    _permit: Option<SemaphorePermit<'a>>,
    gate: &'a FleetGate,
}

impl Drop for FleetSlot<'_> {
    fn drop(&mut self) {
        self.gate
            .open
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

impl FleetGate {
    pub fn new(max_connections: Option<usize>, rate: Option<Rate>) -> FleetGate {
        FleetGate {
            connections: max_connections.map(|n| Semaphore::new(n.max(1))),
            rate: rate.map(Spacing::new),
            ..FleetGate::default()
        }
    }

    /// A slot under the fleet's limit, taken after the target's own (so a
    /// target waiting for itself holds nothing of the fleet's).
    pub async fn slot(&self) -> FleetSlot<'_> {
        // The semaphore is never closed, so acquire cannot fail.
        let permit = match &self.connections {
            Some(s) => s.acquire().await.ok(),
            None => None,
        };
        let open = self.open.fetch_add(1, std::sync::atomic::Ordering::AcqRel) + 1;
        self.peak
            .fetch_max(open, std::sync::atomic::Ordering::AcqRel);
        FleetSlot {
            _permit: permit,
            gate: self,
        }
    }

    /// Waits for the fleet's next connection start.
    pub async fn paced(&self) {
        if let Some(rate) = &self.rate {
            rate.wait().await;
        }
    }

    /// The most connections that were open at once across the fleet.
    pub fn peak_connections(&self) -> usize {
        self.peak.load(std::sync::atomic::Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse() {
        assert_eq!(Rate::parse("50/s").unwrap().per_second(), 50.0);
        assert_eq!(Rate::parse("600/m").unwrap().per_second(), 10.0);
        assert_eq!(Rate::parse("2.5").unwrap().per_second(), 2.5);
        assert!(Rate::parse("0/s").is_err());
        assert!(Rate::parse("-1").is_err());
        assert!(Rate::parse("fast").is_err());
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn spacing_spreads_starts_evenly() {
        let spacing = Spacing::new(Rate::parse("10/s").unwrap());
        let start = Instant::now();
        for _ in 0..5 {
            spacing.wait().await;
        }
        // Starts at 0, 100, 200, 300 and 400 ms.
        assert_eq!(start.elapsed(), Duration::from_millis(400));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_fleet_limit_holds_and_its_peak_is_counted() {
        let gate = std::sync::Arc::new(FleetGate::new(Some(2), None));
        let a = gate.slot().await;
        let b = gate.slot().await;
        let waiting = {
            let gate = gate.clone();
            tokio::spawn(async move {
                let _c = gate.slot().await;
            })
        };
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(a);
        waiting.await.unwrap();
        drop(b);
        assert_eq!(gate.peak_connections(), 2);
    }
}
