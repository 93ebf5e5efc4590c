//! `tlsposture scan`: flags → the targets (arguments, `--targets` files,
//! `--targets-from` discovery, `--shard`) → [`plan::prepare`] once and
//! [`plan::plan_target`] per target → [`run::execute`] per planned server,
//! several targets at once under the run's limits → `verdict::judge` →
//! each finished target streamed to the outputs ([`super::stream`]). This
//! module only sequences those steps; what to probe is `plan`'s decision,
//! how is `scan`'s, and what it means is `verdict`'s.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use futures::StreamExt;
use tlsposture::fleet::discover;
use tlsposture::fleet::targets::{self, TargetEntry};
use tlsposture::observe::TargetObservation;
use tlsposture::plan::{
    self, PolicyContext, RunPlan, ScanPlan, ScanRequest, ServerKind, ServerPlan, TargetRequest,
};
use tlsposture::report::diff as report_diff;
use tlsposture::report::model::{Interruption, Report, TargetReport, ToolInfo, SCHEMA_VERSION};
use tlsposture::run;
use tlsposture::scan::pace::FleetGate;
use tlsposture::scan::Pacing;
use tlsposture::verdict::{self, exit, Against, Judged, Judgement};

use super::stream::{Destinations, Sink};
use super::{interrupt, now, read_policy, usage, Failure};
use crate::cli::ScanArgs;

/// How long after `--deadline` the run waits for the targets in flight,
/// whose probes the deadline has already cut, to be judged and written.
const DEADLINE_GRACE: Duration = Duration::from_millis(500);

pub async fn run(args: ScanArgs, color: bool) -> Result<i32, Failure> {
    let started = Instant::now();
    let mut listed = arguments(&args)?;
    let declared = if args.policy.is_empty() {
        None
    } else {
        Some(read_policy(&args.policy).map_err(usage)?)
    };
    listed.extend(listed_and_discovered(&args, declared.as_ref())?);
    if listed.is_empty() {
        return Err(usage(anyhow!(
            "no targets: the --targets and --targets-from files list none"
        )));
    }
    let listed = listed;
    let total = listed.len();
    let entries: Vec<TargetEntry> = match args.shard {
        Some(shard) => listed.into_iter().filter(|e| shard.holds(e)).collect(),
        None => listed,
    };
    // One target given as an argument is the scan it always was: its
    // errors read as before, with no fleet line.
    let single = total == 1 && args.targets.is_empty() && args.targets_from.is_empty();
    let gate = Arc::new(FleetGate::new(
        Some(args.common.max_connections_total as usize),
        args.common.rate_total,
    ));
    let until = args.common.deadline.map(|d| Instant::now() + d);
    let request = ScanRequest {
        target: entries.first().map_or("", |e| e.target.as_str()),
        sni: &args.sni,
        no_sni: args.no_sni,
        policy_files: &args.policy,
        declared_port: args.declared_port,
        istio_version: args.istio_version,
        baselines: &args.baseline,
        require_client: &args.require_client,
        identities: &args.identity,
        jwt: args.jwt.as_deref(),
        ca: args.common.ca.as_deref(),
        ca_key: args.ca_key.as_deref(),
        checks: args.common.checks,
        timeout: args.common.timeout,
        target_deadline: args.common.target_deadline,
        max_connections: args.common.max_connections,
        clients: args.common.clients.as_deref(),
        fail_on: args.common.fail_on,
        min_grade: args.common.min_grade,
        json: args.common.json.as_deref(),
        junit: args.common.junit.as_deref(),
        pacing: Pacing {
            fleet: Some(Arc::clone(&gate)),
            rate: args.common.rate,
        },
        until,
    };
    // The policy was read once, above, for discovery's pairing too.
    let run_plan = plan::prepare(&request, |paths| match declared {
        Some(policy) => Ok(policy),
        None => read_policy(paths),
    });
    let run_plan = Arc::new(run_plan.map_err(usage)?);
    // `--baseline-report`: read before the first connection, so a bad file
    // is a usage error, not a scan thrown away.
    let known = match &args.common.baseline_report {
        Some(path) => Some(report_diff::known(
            &path.display().to_string(),
            &super::diff::read_reports(path)?,
        )),
        None => None,
    };
    let mut plans = Vec::with_capacity(entries.len());
    for entry in &entries {
        let one = TargetRequest {
            target: &entry.target,
            sni: &entry.sni,
            declared_port: entry.declared_port,
            gateways: entry.gateways.as_deref(),
        };
        let planned = plan::plan_target(&run_plan, &request, &one).map_err(|e| {
            if single {
                usage(e)
            } else {
                usage(anyhow!(e).context(format!("{} ({})", entry.target, entry.source)))
            }
        })?;
        plans.push(planned);
    }
    let dest = Destinations {
        json: args.common.json.clone(),
        jsonl: args.common.jsonl.clone(),
        junit: args.common.junit.clone(),
        sarif: args.common.sarif.clone(),
        html: args.common.html.clone(),
        fail_on: Some(args.common.fail_on),
    };
    let mut sink = Sink::open(dest, color, now(), plans.len(), !args.common.no_progress)?;
    let scope = Judged {
        policy: run_plan.has_policy(),
        baselines: &run_plan
            .baselines
            .iter()
            .map(|b| b.name.clone())
            .collect::<Vec<_>>(),
    };
    let names: Vec<Vec<String>> = plans.iter().map(server_names).collect();
    let mut finished = vec![false; plans.len()];
    let mut scans = futures::stream::iter(plans.into_iter().enumerate())
        .map(|(i, planned)| async move { (i, scan_target(planned).await) })
        .buffer_unordered(args.common.max_targets as usize);
    let signal = interrupt::first_signal();
    tokio::pin!(signal);
    let hard_stop = async {
        match until {
            Some(at) => tokio::time::sleep_until((at + DEADLINE_GRACE).into()).await,
            None => std::future::pending::<()>().await,
        }
    };
    tokio::pin!(hard_stop);
    let mut interrupted = None;
    let mut cut = false;
    loop {
        tokio::select! {
            next = scans.next() => match next {
                None => break,
                Some((i, judged)) => {
                    finished[i] = true;
                    for (target, judgement, context, declared) in judged {
                        if let Some(error) = &target.error {
                            sink.note(&format!("tlsposture: {}: {error}", target.address));
                        }
                        let scope = Judged { policy: scope.policy && declared, ..scope };
                        let mut part = part(target, judgement, context, &run_plan, scope);
                        if let Some(known) = &known {
                            report_diff::gate(known, &mut part, run_plan.fail_on);
                        }
                        sink.add(part)?;
                    }
                }
            },
            name = &mut signal => {
                interrupted = Some(name);
                break;
            }
            () = &mut hard_stop => {
                cut = true;
                break;
            }
        }
    }
    drop(scans);
    let unfinished = || {
        finished
            .iter()
            .zip(&names)
            .filter(|(done, _)| !**done)
            .flat_map(|(_, names)| names.iter().cloned())
    };
    let interruption = interrupted.map(|name| {
        eprintln!("tlsposture: interrupted by {name}: writing the partial report");
        Interruption {
            signal: name.to_owned(),
            unscanned: unfinished().collect(),
        }
    });
    if cut && interruption.is_none() {
        // What the run's deadline left unfinished is a target that could
        // not be scanned, reported as such (exit 2), not left out.
        for (i, done) in finished.iter().enumerate() {
            if !done {
                for name in &names[i] {
                    let target =
                        not_scanned(name, "the run's --deadline passed before its scan ended");
                    let judgement = verdict::judge(&target, &Against::default());
                    sink.add(part(target, judgement, None, &run_plan, scope))?;
                }
            }
        }
    }
    let fleet_line = (!single).then(|| {
        format!(
            "fleet: {} of {total} target(s){} in {:.2} s, at most {} connections at once",
            entries.len(),
            args.shard
                .map(|s| format!(" (shard {s})"))
                .unwrap_or_default(),
            started.elapsed().as_secs_f64(),
            gate.peak_connections()
        )
    });
    // A shard that holds none of the list's targets did its part.
    let empty_exit = if entries.is_empty() && total > 0 {
        exit::CLEAN
    } else {
        exit::UNSCANNABLE
    };
    sink.finish(interruption, empty_exit, fleet_line)
}

/// The targets given as arguments, each validated (exit 64).
fn arguments(args: &ScanArgs) -> Result<Vec<TargetEntry>, Failure> {
    let mut entries = Vec::new();
    for (i, target) in args.target.iter().enumerate() {
        let entry = TargetEntry::argument(target, i + 1).map_err(|e| {
            // One argument: the error it always gave.
            match tlsposture::target::TargetSpec::parse(target) {
                Err(inner) if args.target.len() == 1 => usage(inner),
                _ => usage(e),
            }
        })?;
        entries.push(entry);
    }
    Ok(entries)
}

/// The targets of `--targets` files and `--targets-from` discovery, every
/// one validated (exit 64 naming the file and line of the first bad one)
/// before any is scanned. Discovery pairs each address with the declared
/// Gateways that select it; what it skipped is said on stderr.
fn listed_and_discovered(
    args: &ScanArgs,
    declared: Option<&tlsposture::policy::DeclaredPolicy>,
) -> Result<Vec<TargetEntry>, Failure> {
    let mut entries = Vec::new();
    for path in &args.targets {
        let (text, name) = read_list(path)?;
        entries.extend(targets::parse_list(&text, &name).map_err(usage)?);
    }
    for path in &args.targets_from {
        let (text, name) = read_list(path)?;
        let found = discover::discover(&name, &text, declared, &discover::Options::default())
            .map_err(usage)?;
        for skipped in &found.skipped {
            eprintln!("tlsposture: {skipped}");
        }
        for target in found.targets {
            for note in &target.notes {
                eprintln!("tlsposture: {}: {note}", target.address);
            }
            entries.push(TargetEntry {
                target: target.address,
                sni: target.sni,
                source: target.sources.join("; "),
                declared_port: target.declared_port,
                // With a policy: exactly the Gateways that select it (none:
                // scanned, but judged against no declaration).
                gateways: declared.map(|_| {
                    target
                        .gateways
                        .iter()
                        .map(|g| match &g.namespace {
                            Some(ns) => format!("{ns}/{}", g.name),
                            None => g.name.clone(),
                        })
                        .collect()
                }),
            });
        }
    }
    Ok(entries)
}

/// A targets file's text and the name errors give it.
fn read_list(path: &Path) -> Result<(String, String), Failure> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| usage(anyhow!("cannot read the targets from stdin: {e}")))?;
        return Ok((text, "<stdin>".to_owned()));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| usage(anyhow!("cannot read {}: {e}", path.display())))?;
    Ok((text, path.display().to_string()))
}

/// The names under which a plan's servers are reported.
fn server_names(planned: &ScanPlan) -> Vec<String> {
    planned
        .servers
        .iter()
        .map(|s| {
            s.label
                .clone()
                .unwrap_or_else(|| planned.target.to_string())
        })
        .collect()
}

/// Every planned server of one target, scanned in turn and judged. A
/// target whose turn comes after the run's `--deadline` is not scanned
/// and says so.
async fn scan_target(
    planned: ScanPlan,
) -> Vec<(TargetObservation, Judgement, Option<PolicyContext>, bool)> {
    let mut judged = Vec::with_capacity(planned.servers.len());
    let settings = &planned.run.probing;
    for server in &planned.servers {
        let past_deadline = settings.until.is_some_and(|u| Instant::now() >= u);
        let target = if past_deadline {
            let mut target = not_scanned(
                &planned.target.to_string(),
                "the run's --deadline passed before its turn",
            );
            target.label = server.label.clone();
            target
        } else {
            run::execute(&planned.target, server, settings).await
        };
        let judgement = verdict::judge(&target, &against(server, &planned));
        judged.push((target, judgement, planned.context.clone(), planned.declared));
    }
    judged
}

/// A target the run did not get to scan, as a report entry that says why.
fn not_scanned(name: &str, why: &str) -> TargetObservation {
    let mut target = TargetObservation::new(name.to_owned(), 0, None);
    if let Ok(spec) = tlsposture::target::TargetSpec::parse(name) {
        target.port = spec.port;
    } else {
        target.label = Some(name.to_owned());
    }
    target.error = Some(format!("not scanned: {why}"));
    target
}

/// One target's part of the run's report: its observations and verdict,
/// with the summary of that target alone (the run's is their fold).
fn part(
    observed: TargetObservation,
    judgement: Judgement,
    context: Option<PolicyContext>,
    run_plan: &RunPlan,
    scope: Judged<'_>,
) -> Report {
    let mut summary = verdict::summarize(&[&judgement], run_plan.fail_on, scope);
    let target = TargetReport::new(observed, judgement);
    if target.error.is_some() {
        summary.unscanned.push(match &target.label {
            Some(label) => format!("{} ({label})", target.address),
            None => target.address.clone(),
        });
    }
    let now = now();
    Report {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo::default(),
        started_at: now.clone(),
        finished_at: now,
        targets: vec![target],
        policy: context,
        summary,
        interrupted: None,
    }
}

/// What one planned server is judged against: its declaration (a TLS
/// server, or a plain-HTTP one and its `httpsRedirect`), the baselines and
/// the client gate. `verdict::judge` decides everything else.
pub fn against<'a>(server: &'a ServerPlan, planned: &'a ScanPlan) -> Against<'a> {
    let (server, redirect) = match &server.kind {
        ServerKind::PlainHttp(plain) => (None, Some(&plain.expectation)),
        ServerKind::Tls(tls) => (tls.expectation.as_ref(), None),
    };
    let run = &planned.run;
    Against {
        server,
        redirect,
        baselines: &run.baselines,
        required_clients: &run.require_client,
        min_grade: run.min_grade,
        trust_anchor: run.trust_anchor.as_deref(),
    }
}

/// The report of a run held whole: the summary decided once over every
/// target's judgement, then each target's observations with its verdict
/// (the demo's report).
pub fn assemble(
    judged: Vec<(TargetObservation, Judgement)>,
    started_at: String,
    flags: &crate::cli::ScanFlags,
    scope: Judged<'_>,
) -> Report {
    let judgements: Vec<&Judgement> = judged.iter().map(|(_, j)| j).collect();
    let summary = verdict::summarize(&judgements, flags.fail_on, scope);
    let targets = judged
        .into_iter()
        .map(|(observed, judgement)| TargetReport::new(observed, judgement))
        .collect();
    Report {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo::default(),
        started_at,
        finished_at: now(),
        targets,
        policy: None,
        summary,
        interrupted: None,
    }
}
