//! Setup shared by the benches (`mod common;`): a runtime and a lab with
//! every seed and "everything offered" listener, so each bench measures the
//! same servers.

use tlsposture::lab::{offered_listeners, seed_listeners, Lab, LabOptions};

/// A multi-threaded runtime for one bench run.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// The lab with every seed and offered listener; panics with the reason
/// when Envoy cannot start (`scripts/setup.sh` installs it).
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
