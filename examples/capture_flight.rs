//! Captures a server's reply to one crafted hello as a hex fixture for
//! `fixtures/flights/`. Loopback only: this is a test-fixture tool, not a
//! scanner.
//!
//! ```text
//! cargo run --example capture_flight -- 127.0.0.1:4433 tls12 [--sni NAME]
//!     [--suites c02f,c030] [--groups 001d,0017] [--shares 11ec] [--note TEXT] > out.hex
//! ```
//! Hellos: `tls10`, `tls12`, `tls13`, `tls13-hrr` (empty key_share), `sslv2`.
//! Reads until the flight is complete (ServerHelloDone, an alert, a
//! HelloRetryRequest, an SSLv2 reply, a decode error) or the server has been
//! quiet for 300 ms, at most about 1.5 s, and prints what it read as hex
//! with `#` comment lines saying how it was captured.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use tlsposture::wire::{
    encode_client_hello, encode_sslv2_client_hello, generate_key_share, ClientHelloSpec,
    FlightDecoder, ProtocolVersion, ServerMessage,
};

const SIG_ALGS: [u16; 11] = [
    0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0203, 0x0201,
];
const TLS12_SUITES: [u16; 14] = [
    0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0x009e, 0x009f, 0xc013, 0xc014, 0x0033, 0x0039,
    0x009c, 0x002f,
];
const TLS10_SUITES: [u16; 8] = [
    0xc013, 0xc014, 0xc009, 0xc00a, 0x0033, 0x0039, 0x002f, 0x000a,
];
const TLS13_SUITES: [u16; 3] = [0x1301, 0x1302, 0x1303];

fn hex_list(text: &str) -> Vec<u16> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| u16::from_str_radix(s.trim_start_matches("0x"), 16).expect("hex code point"))
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(addr), Some(kind)) = (args.first(), args.get(1)) else {
        eprintln!("usage: capture_flight ADDR HELLO [--sni N] [--suites ..] [--groups ..] [--shares ..] [--note T]");
        std::process::exit(64);
    };
    let addr: SocketAddr = addr.parse().expect("ADDR must be ip:port");
    assert!(
        addr.ip().is_loopback(),
        "only loopback addresses are captured"
    );
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let sni = opt("--sni");
    let groups = opt("--groups").map_or(vec![0x001d, 0x0017, 0x0018], |g| hex_list(&g));
    let shares = opt("--shares").map_or(vec![0x001d], |g| hex_list(&g));

    let (hello, described) = match kind.as_str() {
        "sslv2" => {
            let kinds = [
                0x010080, 0x020080, 0x030080, 0x040080, 0x050080, 0x060040, 0x0700c0,
            ];
            (
                encode_sslv2_client_hello(&kinds, &[0x5a; 16]).expect("the capture hellos encode"),
                "SSLv2 CLIENT-HELLO with the 7 SSLv2 cipher kinds".to_owned(),
            )
        }
        "tls10" | "tls12" | "tls13" | "tls13-hrr" => {
            let (version, default_suites) = match kind.as_str() {
                "tls10" => (ProtocolVersion::Tls10, &TLS10_SUITES[..]),
                "tls12" => (ProtocolVersion::Tls12, &TLS12_SUITES[..]),
                _ => (ProtocolVersion::Tls13, &TLS13_SUITES[..]),
            };
            let suites = opt("--suites").map_or(default_suites.to_vec(), |s| hex_list(&s));
            let key_shares = if kind == "tls13" {
                shares
                    .iter()
                    .map(|g| generate_key_share(*g).expect("key share group"))
                    .collect()
            } else {
                vec![]
            };
            let spec = ClientHelloSpec::for_version(
                version,
                suites.clone(),
                sni.as_deref(),
                key_shares,
                groups.clone(),
                SIG_ALGS.to_vec(),
            );
            let fmt = |l: &[u16]| {
                l.iter()
                    .map(|v| format!("{v:04x}"))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let mut d = format!(
                "ClientHelloSpec::for_version({version}) suites={} groups={} sni={}",
                fmt(&suites),
                fmt(&groups),
                sni.as_deref().unwrap_or("-")
            );
            if kind == "tls13" {
                d += &format!(" key_shares={}", fmt(&shares));
            } else if kind == "tls13-hrr" {
                d += " key_shares=(empty)";
            }
            (
                encode_client_hello(&spec).expect("the capture hellos encode"),
                d,
            )
        }
        other => panic!("unknown hello {other}"),
    };

    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).expect("connect");
    stream.write_all(&hello).expect("send hello");
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let start = Instant::now();
    let mut got = Vec::new();
    let mut decoder = FlightDecoder::new();
    let mut done = false;
    let mut buf = [0u8; 16384];
    while !done && start.elapsed() < Duration::from_millis(1500) {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                decoder.feed(&buf[..n]);
                loop {
                    match decoder.next_message() {
                        Ok(Some(
                            ServerMessage::ServerHelloDone
                            | ServerMessage::Alert(_)
                            | ServerMessage::HelloRetryRequest(_)
                            | ServerMessage::Sslv2ServerHello(_)
                            | ServerMessage::Sslv2Error(_),
                        ))
                        | Err(_) => done = true,
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                    }
                }
            }
            // Quiet for the read timeout: the server has said its piece.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if !got.is_empty() {
                    break;
                }
            }
            Err(_) => break,
        }
    }

    let mut out = String::new();
    if let Some(note) = opt("--note") {
        out += &format!("# {note}\n");
    }
    out +=
        &format!("# captured: cargo run --example capture_flight -- {addr} {kind} (port as run)\n");
    out += &format!("# hello sent: {described}\n");
    out += &format!("# {} bytes received\n", got.len());
    for line in got.chunks(32) {
        let hex: Vec<String> = line.iter().map(|b| format!("{b:02x}")).collect();
        out += &hex.join(" ");
        out.push('\n');
    }
    print!("{out}");
}
