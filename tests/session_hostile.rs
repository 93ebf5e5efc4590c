//! The session and header probes against servers that do not play along:
//! one that closes every connection on the ClientHello, one that answers
//! over TLS with bytes that are not HTTP. Every fact is
//! then `unknown` (never a clean `no`), no header probe has an answer, and
//! nothing panics.

mod support;

use std::time::Duration;

use tlsposture::observe::Answer;
use tlsposture::probe::ProbeTimeouts;
use tlsposture::scan::headers::probe_headers;
use tlsposture::scan::session::probe_session;
use tlsposture::scan::Prober;
use tlsposture::verdict::headers::findings;
use tlsposture::wire::ProtocolVersion;

fn timeouts() -> ProbeTimeouts {
    ProbeTimeouts {
        connect: Duration::from_secs(2),
        read: Duration::from_secs(2),
    }
}

#[test]
fn a_server_that_closes_on_the_hello_leaves_every_fact_unknown() {
    let addr = support::peers::serve("127.0.0.1:0", |mut tcp, _| {
        let _ = support::peers::read_client_hello(&mut tcp);
    });
    let (facts, headers) = support::runtime().block_on(async {
        let prober = Prober::new(addr, timeouts(), 4);
        let offered = [ProtocolVersion::Tls12, ProtocolVersion::Tls13];
        (
            probe_session(&prober, Some("localhost"), &offered).await,
            probe_headers(&prober, Some("localhost"), "localhost").await,
        )
    });
    for (name, fact) in [
        ("session_id.issued", &facts.session_id.issued),
        ("session_ticket.issued", &facts.session_ticket.issued),
        ("tls13_psk.issued", &facts.tls13_psk.issued),
        ("ems", &facts.extended_master_secret),
        ("compression", &facts.certificate_compression),
        ("early data", &facts.early_data.offered),
        ("pq", &facts.pq_preference),
    ] {
        assert_eq!(fact.answer, Answer::Unknown, "{name}: {facts:#?}");
    }
    assert!(
        headers
            .iter()
            .all(|p| p.status.is_none() && p.error.is_some()),
        "{headers:#?}"
    );
    assert!(findings(&headers).is_empty());
}

#[test]
fn a_server_answering_garbage_over_tls_gives_no_http_answer() {
    use std::io::Write;
    // A real TLS server (rustls) that answers the request with bytes that
    // are no HTTP status line.
    let addr = support::peers::serve("127.0.0.1:0", |tcp, _| {
        if let Some((mut tls, _head)) = support::peers::accept_https(tcp) {
            let _ = tls.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n");
            let _ = tls.flush();
        }
    });
    let headers = support::runtime().block_on(async {
        let prober = Prober::new(addr, timeouts(), 4);
        probe_headers(&prober, Some("test.com"), "test.com").await
    });
    assert!(
        headers
            .iter()
            .all(|p| p.status.is_none() && p.error.is_some()),
        "{headers:#?}"
    );
    assert!(findings(&headers).is_empty());
}
