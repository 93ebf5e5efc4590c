//! Loopback ports for servers that must be told a port (gnutls-serv,
//! nginx, lighttpd, Envoy's static listeners) and for ports nobody may
//! listen on.
//!
//! Binding port 0 and releasing it hands out a port from the kernel's
//! ephemeral range, which the scanner's own outgoing connections draw from
//! too: between the release and the server's bind, a probe of a test
//! running beside it can take the port, or a second test can be given the
//! same one (a CI run once scanned another test's server). These ports come
//! from below the ephemeral range instead, which connect() never uses, each
//! handed out once per test process; test binaries run one at a time.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};

/// First port handed out; the kernel's ephemeral range starts at 32768.
const FIRST: u16 = 20_000;
/// Ports each test process may hand out.
const SPAN: u16 = 2_000;
/// Start points, so a port a previous binary left in TIME_WAIT is not the
/// next binary's first.
const BLOCKS: u16 = 6;

static NEXT: AtomicU16 = AtomicU16::new(0);

/// A loopback port that no other caller in this process gets, free when
/// handed out (checked with a bind).
pub fn free_port() -> u16 {
    let block = u16::try_from(std::process::id() % u32::from(BLOCKS)).unwrap_or(0);
    for _ in 0..SPAN {
        let n = NEXT.fetch_add(1, Ordering::Relaxed) % SPAN;
        let port = FIRST + (block * (SPAN / BLOCKS) + n) % SPAN;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port in {FIRST}..{}", FIRST + SPAN);
}

/// A loopback port nobody listens on, and none of this process's servers
/// will: for targets that must refuse the connection.
pub fn closed_port() -> u16 {
    free_port()
}
