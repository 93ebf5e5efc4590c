//! Setup shared by the benches (`mod common;`): a runtime and a lab with
//! every seed and "everything offered" listener, so each bench measures the
//! same servers.

use std::path::{Path, PathBuf};
use std::process::Command;

use tlsposture::lab::{offered_listeners, seed_listeners, Lab, LabOptions};

/// A multi-threaded runtime for one bench run.
#[allow(dead_code)]
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// The lab with every seed and offered listener; panics with the reason
/// when Envoy cannot start (`scripts/setup.sh` installs it).
#[allow(dead_code)]
pub async fn start_lab() -> Lab {
    let mut listeners = seed_listeners();
    listeners.extend(offered_listeners());
    Lab::start(LabOptions {
        listeners,
        ..LabOptions::default()
    })
    .await
    .unwrap_or_else(|e| panic!("cannot start the lab: {e}"))
}

/// The release binary, built first (benches that time the whole process,
/// start-up included, run it rather than the library).
#[allow(dead_code)]
pub fn release_binary() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--bin", "tlsposture"])
        .current_dir(root)
        .status()
        .expect("cargo build");
    assert!(status.success(), "building the release binary failed");
    target.join("release").join("tlsposture")
}
