//! `tlsposture lab`: a real Envoy on loopback, with the seed listeners or
//! the Gateways a policy declares, until Ctrl-C. Printing what it serves is
//! here; building and running the lab is `tlsposture::lab`'s.

use std::io::Write;

use anyhow::Context;
use tlsposture::lab::{self, Lab, LabOptions, PolicyLab, PolicyLabOptions};
use tlsposture::verdict::exit;
use tokio::signal::unix::{signal, SignalKind};

use super::{load_policy, unscannable, usage, Failure};
use crate::cli::LabArgs;

/// The seed listeners from `port_base` on (0: ephemeral ports).
pub async fn start_seed_lab(
    envoy: Option<std::path::PathBuf>,
    port_base: u16,
    bind: std::net::IpAddr,
) -> Result<Lab, Failure> {
    let mut listeners = lab::seed_listeners();
    if port_base != 0 {
        lab::assign_ports(listeners.iter_mut(), port_base).map_err(usage)?;
    }
    let options = LabOptions {
        envoy,
        listeners,
        bind,
        ..LabOptions::default()
    };
    Lab::start(options)
        .await
        .context("cannot start the lab")
        .map_err(unscannable)
}

fn print_listeners(lab: &Lab) {
    println!("Envoy {} is serving:", lab.envoy_version());
    for l in lab.listeners() {
        let sni = l
            .sni
            .as_deref()
            .map(|s| format!(" --sni {s}"))
            .unwrap_or_default();
        println!("  {:<14} {:<22} {}", l.name, l.addr, l.summary);
        println!("  {:<14} tlsposture scan {}{sni}", "", l.addr);
    }
}

/// The lab listeners a policy declares; every problem is a usage error (64).
fn policy_lab(args: &LabArgs) -> Result<PolicyLab, Failure> {
    let policy = load_policy(&args.policy)?;
    let options = PolicyLabOptions {
        port_base: (args.port_base != 0).then_some(args.port_base),
        bind: args.bind,
        cert_type: args.cert_type.into(),
        istio_version: args.istio_version,
        render_rejected: false,
    };
    lab::listeners_from_policy(&policy, &options).map_err(usage)
}

/// Per server: where it listens and what Envoy got; then what was skipped,
/// the CA and the client identities (written into the lab workdir).
fn print_policy_lab(plab: &PolicyLab, lab: &Lab) -> Result<(), Failure> {
    println!("Envoy {} is serving:", lab.envoy_version());
    for line in plab.describe(Some(lab)) {
        println!("  {line}");
    }
    for skipped in &plab.skipped {
        println!(
            "  skipped {} (port {}, {}): {}",
            skipped.source, skipped.port, skipped.origin, skipped.reason
        );
    }
    let identities = plab
        .write_client_identities(lab)
        .context("writing client identities")
        .map_err(unscannable)?;
    println!(
        "CA (trust it: --ca / curl --cacert): {}",
        lab.ca_path().display()
    );
    for identity in &identities {
        println!(
            "client identity {}: --cert {} --key {}",
            identity.uri,
            identity.files.cert.display(),
            identity.files.key.display()
        );
    }
    Ok(())
}

pub async fn run(args: LabArgs) -> Result<i32, Failure> {
    let plab = if args.policy.is_empty() {
        None
    } else {
        Some(policy_lab(&args)?)
    };
    let lab = match &plab {
        None => start_seed_lab(args.envoy.envoy.clone(), args.port_base, args.bind).await?,
        Some(plab) => Lab::start(plab.lab_options(args.envoy.envoy.clone()))
            .await
            .context("cannot start the lab")
            .map_err(unscannable)?,
    };
    // Register for SIGINT/SIGTERM before saying "press Ctrl-C": a signal
    // that arrives in between must stop the lab, not kill the process.
    let mut interrupt = signal(SignalKind::interrupt())
        .context("cannot listen for Ctrl-C")
        .map_err(unscannable)?;
    let mut terminate = signal(SignalKind::terminate())
        .context("cannot listen for SIGTERM")
        .map_err(unscannable)?;
    match &plab {
        None => print_listeners(&lab),
        Some(plab) => print_policy_lab(plab, &lab)?,
    }
    println!(
        "Lab files in {}. Press Ctrl-C to stop.",
        lab.workdir().display()
    );
    let _ = std::io::stdout().flush();
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
    lab.stop()
        .await
        .context("stopping the lab")
        .map_err(unscannable)?;
    eprintln!("lab stopped");
    Ok(exit::CLEAN)
}
