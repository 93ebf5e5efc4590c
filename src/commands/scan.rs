//! `tlsposture scan`: flags → [`plan::build`] → [`run::execute`] per
//! planned server → `verdict::judge` once per target → report. This module only
//! sequences those steps and prints; what to probe is `plan`'s decision,
//! how is `scan`'s, and what it means is `verdict`'s.

use tlsposture::observe::TargetObservation;
use tlsposture::plan::{self, ScanPlan, ScanRequest, ServerKind, ServerPlan};
use tlsposture::report::model::{Report, TargetReport, ToolInfo, SCHEMA_VERSION};
use tlsposture::run;
use tlsposture::verdict::{self, Against, Judged, Judgement};

use super::output::{emit, ReportOutputs};
use super::{interrupt, now, read_policy, usage, Failure};
use crate::cli::{ScanArgs, ScanFlags};

pub async fn run(args: ScanArgs, color: bool) -> Result<i32, Failure> {
    let request = ScanRequest {
        target: &args.target,
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
    };
    let plan = plan::build(&request, read_policy).map_err(usage)?;
    let started_at = now();
    let mut judged = Vec::new();
    let signal = interrupt::first_signal();
    tokio::pin!(signal);
    let mut interrupted = None;
    for server in &plan.servers {
        let target = tokio::select! {
            target = run::execute(&plan.target, server, &plan.probing) => target,
            name = &mut signal => {
                interrupted = Some(name);
                break;
            }
        };
        if let Some(error) = &target.error {
            eprintln!("tlsposture: {}: {error}", plan.target);
        }
        let judgement = verdict::judge(&target, &against(server, &plan));
        judged.push((target, judgement));
    }
    let done = judged.len();
    let baselines: Vec<String> = plan.baselines.iter().map(|b| b.name.clone()).collect();
    let scope = Judged {
        policy: plan.context.as_ref().is_some_and(|c| !c.files.is_empty()),
        baselines: &baselines,
    };
    let mut report = assemble(judged, started_at, &args.common, scope);
    report.policy = plan.context.clone();
    if let Some(name) = interrupted {
        let unscanned = plan.servers[done..]
            .iter()
            .map(|s| s.label.clone().unwrap_or_else(|| plan.target.to_string()))
            .collect();
        interrupt::mark(&mut report, name, unscanned);
        eprintln!("tlsposture: interrupted by {name}: writing the partial report");
    }
    let outputs = ReportOutputs {
        json: plan.outputs.json.as_deref(),
        junit: plan.outputs.junit.as_deref(),
        html: args.common.html.as_deref(),
        fail_on: plan.fail_on,
    };
    emit(&report, &outputs, color)?;
    Ok(report.summary.exit_code)
}

/// What one planned server is judged against: its declaration (a TLS
/// server, or a plain-HTTP one and its `httpsRedirect`), the baselines and
/// the client gate. `verdict::judge` decides everything else.
pub fn against<'a>(server: &'a ServerPlan, plan: &'a ScanPlan) -> Against<'a> {
    let (server, redirect) = match &server.kind {
        ServerKind::PlainHttp(plain) => (None, Some(&plain.expectation)),
        ServerKind::Tls(tls) => (tls.expectation.as_ref(), None),
    };
    Against {
        server,
        redirect,
        baselines: &plan.baselines,
        required_clients: &plan.require_client,
        min_grade: plan.min_grade,
        trust_anchor: plan.trust_anchor.as_deref(),
    }
}

/// The report of a run: the summary decided once over every target's
/// judgement, then each target's observations with its verdict.
pub fn assemble(
    judged: Vec<(TargetObservation, Judgement)>,
    started_at: String,
    flags: &ScanFlags,
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
