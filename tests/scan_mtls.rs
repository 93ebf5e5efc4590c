//! Client-certificate (mTLS) probes against real `openssl s_server`s on
//! loopback: required (`-Verify 1`), optional (`-verify 1`) and no client
//! auth, each in TLS 1.2 only and TLS 1.3; and the other rustls-based
//! checks (certificates, ALPN, TLS 1.3 signatures) against a server that
//! requires a certificate.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use tlsposture::probe::ProbeTimeouts;
use tlsposture::report::model::MtlsResult;
use tlsposture::scan::{self, Prober};
use tlsposture::wire::ProtocolVersion::{self, Tls12, Tls13};

use support::{runtime, ClientVerify, OpensslServer};

fn prober(addr: SocketAddr) -> Prober {
    let timeouts = ProbeTimeouts {
        connect: Duration::from_secs(2),
        read: Duration::from_secs(3),
    };
    Prober::new(addr, timeouts, 8)
}

fn mtls(server: &OpensslServer, offered: &[ProtocolVersion]) -> (MtlsResult, u32) {
    let prober = prober(server.addr());
    let result = runtime().block_on(scan::scan_client_auth(&prober, None, offered));
    (result, prober.handshakes())
}

#[test]
fn explore() {
    for (name, verify, args) in [
        (
            "required 1.2",
            Some(ClientVerify::Required),
            &["-tls1_2"][..],
        ),
        (
            "required 1.3",
            Some(ClientVerify::Required),
            &["-tls1_3"][..],
        ),
        (
            "optional 1.2",
            Some(ClientVerify::Optional),
            &["-tls1_2"][..],
        ),
        (
            "optional 1.3",
            Some(ClientVerify::Optional),
            &["-tls1_3"][..],
        ),
        ("none 1.3", None, &["-tls1_3"][..]),
    ] {
        let server = match verify {
            Some(v) => OpensslServer::start_with_client_auth(v, args),
            None => OpensslServer::start(args),
        };
        let (r, n) = mtls(&server, &[Tls12, Tls13]);
        println!(
            "{name}: {n} handshakes\n{}",
            serde_json::to_string_pretty(&r).unwrap()
        );
    }
}
