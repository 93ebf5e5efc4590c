//! `tlsposture demo`: start the seed lab, scan every listener, print the
//! results, stop. Only a listener it could not scan fails the demo.

use std::time::Instant;

use anyhow::{anyhow, Context};
use tlsposture::cert::TrustRoots;
use tlsposture::plan::{self, ProbeSettings, ServerKind, ServerPlan, TlsPlan};
use tlsposture::probe::ProbeTimeouts;
use tlsposture::run;
use tlsposture::target::{ServerName, TargetSpec};
use tlsposture::verdict::{self, exit, Against, Judged};

use super::output::{emit, ReportOutputs};
use super::scan::assemble;
use super::{lab, now, unscannable, usage, Failure};
use crate::cli::DemoArgs;

pub async fn run(args: DemoArgs, color: bool) -> Result<i32, Failure> {
    // The fleet flags `scan` shares with the demo mean nothing for four
    // listeners scanned in turn: refused rather than silently ignored.
    let c = &args.common;
    let fleet_only = [
        ("--jsonl", c.jsonl.is_some()),
        ("--baseline-report", c.baseline_report.is_some()),
        ("--deadline", c.deadline.is_some()),
        ("--rate", c.rate.is_some()),
        ("--rate-total", c.rate_total.is_some()),
    ];
    if let Some((flag, _)) = fleet_only.iter().find(|(_, given)| *given) {
        return Err(usage(anyhow!(
            "demo does not take {flag}: scan the lab's listeners with `tlsposture scan` for that"
        )));
    }
    let started = Instant::now();
    let lab =
        lab::start_seed_lab(args.envoy.envoy, 0, std::net::IpAddr::from([127, 0, 0, 1])).await?;
    eprintln!(
        "lab up in {} ms: Envoy {}, {} listeners",
        started.elapsed().as_millis(),
        lab.envoy_version(),
        lab.listeners().len()
    );
    let started_at = now();
    let mut judged = Vec::new();
    // The lab's own CA, unless the user asked for another: the demo's
    // certificates are then trusted, as a gateway's are by its clients.
    let roots = match &args.common.ca {
        Some(path) => plan::trust_roots(Some(path)).map_err(usage)?,
        None => TrustRoots::from_pem(lab.ca_pem()).map_err(unscannable)?,
    };
    let settings = ProbeSettings {
        checks: args.common.checks,
        timeouts: ProbeTimeouts {
            connect: args.common.timeout,
            read: args.common.timeout,
        },
        target_deadline: args.common.target_deadline,
        max_connections: usize::from(args.common.max_connections),
        roots,
        clients: args.common.clients.clone(),
        ..ProbeSettings::default()
    };
    for listener in lab.listeners() {
        let spec = TargetSpec::parse(&listener.addr.to_string()).map_err(unscannable)?;
        let names = listener
            .sni
            .iter()
            .map(|n| ServerName::parse(n))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| unscannable(anyhow!("lab listener {}: {e}", listener.name)))?;
        let server = ServerPlan {
            label: Some(listener.name.clone()),
            kind: ServerKind::Tls(Box::new(TlsPlan::with_names(names))),
        };
        let target = run::execute(&spec, &server, &settings).await;
        if let Some(error) = &target.error {
            eprintln!("tlsposture: {spec}: {error}");
        }
        let judgement = verdict::judge(&target, &Against::default());
        judged.push((target, judgement));
    }
    let report = assemble(judged, started_at, &args.common, Judged::default());
    let stopped = lab.stop().await;
    let outputs = ReportOutputs {
        json: args.common.json.as_deref(),
        junit: args.common.junit.as_deref(),
        sarif: args.common.sarif.as_deref(),
        html: args.common.html.as_deref(),
        fail_on: args.common.fail_on,
    };
    emit(&report, &outputs, color)?;
    stopped.context("stopping the lab").map_err(unscannable)?;
    // The demo shows findings; only a listener it could not scan fails it.
    Ok(if report.summary.exit_code == exit::UNSCANNABLE {
        exit::UNSCANNABLE
    } else {
        exit::CLEAN
    })
}
