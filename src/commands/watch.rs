//! `tlsposture watch`: prints the certificate served per SNI, then each
//! change, with a timestamp. The polling loop is `scan::watch`'s; this
//! module validates the flags, prints its events and maps how it ended to
//! an exit code.

use anyhow::{anyhow, Context};
use tlsposture::plan;
use tlsposture::probe::ProbeTimeouts;
use tlsposture::scan::{self, ServedCert, WatchEnd, WatchEvent, WatchOptions};
use tlsposture::target::TargetSpec;
use tlsposture::verdict::exit;
use tokio::signal::unix::{signal, SignalKind};

use super::{now, unscannable, usage, Failure};
use crate::cli::WatchArgs;

pub async fn run(args: WatchArgs) -> Result<i32, Failure> {
    let spec = TargetSpec::parse(&args.target).map_err(usage)?;
    let given = plan::server_names(&args.sni).map_err(usage)?;
    let addr = *spec
        .resolve()
        .await
        .map_err(unscannable)?
        .first()
        .ok_or_else(|| unscannable(anyhow!("{spec} resolves to no address")))?;
    let names: Vec<Option<String>> = if !given.is_empty() {
        given.iter().map(|n| Some(n.to_string())).collect()
    } else {
        match spec.default_sni() {
            Some(name) => vec![Some(name)],
            None => vec![None],
        }
    };
    let options = WatchOptions {
        interval: args.interval,
        timeout: args.timeout,
        until_change: args.until_change,
        timeouts: ProbeTimeouts {
            connect: args.handshake_timeout,
            read: args.handshake_timeout,
        },
    };
    let mut interrupt = signal(SignalKind::interrupt())
        .context("cannot listen for Ctrl-C")
        .map_err(unscannable)?;
    let stop = async move {
        interrupt.recv().await;
    };
    let label = |sni: Option<&str>| sni.unwrap_or("(no SNI)").to_owned();
    let served = |cert: &ServedCert| {
        format!(
            "{} {} (until {})",
            cert.sha256, cert.subject, cert.not_after
        )
    };
    let end = scan::watch(addr, &names, &options, stop, |event| match event {
        WatchEvent::Served { sni, cert } => {
            println!("{} {}: {}", now(), label(sni), served(cert));
        }
        WatchEvent::Failed { sni, error } => {
            eprintln!("tlsposture: {spec} {}: {error}", label(sni));
        }
        WatchEvent::Changed { sni, before, cert } => {
            println!(
                "{} {}: changed {} -> {}",
                now(),
                label(sni),
                before.unwrap_or("(none)"),
                served(cert)
            );
        }
    })
    .await;
    match end {
        WatchEnd::Unreachable => Err(unscannable(anyhow!(
            "{spec}: no certificate could be fetched"
        ))),
        WatchEnd::Stopped | WatchEnd::Changed => Ok(exit::CLEAN),
        WatchEnd::TimedOut => {
            eprintln!("tlsposture: no certificate change within the timeout");
            Ok(if args.until_change {
                exit::FINDINGS
            } else {
                exit::CLEAN
            })
        }
    }
}
