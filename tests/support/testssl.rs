//! How tlsposture runs testssl.sh as its yardstick: protocols (`-p`) and
//! each protocol's accepted suites (`-E`), one target. Shared by
//! `tests/differential_testssl.rs` (through `mod support`) and
//! `benches/peers.rs` (through `#[path]`), so the test compares with and the
//! bench times the same run.

use std::net::SocketAddr;
use std::process::{Command, Stdio};

/// testssl.sh's name here: Debian's package installs `testssl`, a checkout
/// `testssl.sh`. `None` when neither runs.
pub fn binary() -> Option<&'static str> {
    ["testssl", "testssl.sh"].into_iter().find(|name| {
        Command::new(name)
            .arg("--version")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    })
}

/// The arguments after the binary: quiet and uncoloured, no DNS beyond the
/// minimum, `-p -E`, a JSON file when `jsonfile` is given, then the target.
/// With `sni`, the URI's host is that name (testssl.sh sends it as SNI) and
/// `--ip` says where to connect.
pub fn protocols_and_suites_args(
    addr: SocketAddr,
    sni: Option<&str>,
    jsonfile: Option<&str>,
) -> Vec<String> {
    let mut args: Vec<String> = [
        "--quiet",
        "--color",
        "0",
        "--warnings",
        "off",
        "--nodns",
        "min",
        "-p",
        "-E",
    ]
    .map(str::to_owned)
    .to_vec();
    if let Some(path) = jsonfile {
        args.extend(["--jsonfile".to_owned(), path.to_owned()]);
    }
    match sni {
        Some(name) => args.extend([
            "--ip".to_owned(),
            addr.ip().to_string(),
            format!("{name}:{}", addr.port()),
        ]),
        None => args.push(addr.to_string()),
    }
    args
}
