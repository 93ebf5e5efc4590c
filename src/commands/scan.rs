//! `tlsposture scan`: flags → [`plan::build`] → [`scan::execute`] per
//! planned server → [`judge`] once per target → report. This module only
//! sequences those steps and prints; what to probe is `plan`'s decision,
//! how is `scan`'s, and what it means is `verdict`'s.

use tlsposture::plan::{self, ScanPlan, ScanRequest, ServerKind, ServerPlan};
use tlsposture::report::model::{Report, TargetReport, ToolInfo, SCHEMA_VERSION};
use tlsposture::scan;
use tlsposture::verdict;

use super::output::{emit, ReportOutputs};
use super::{now, read_policy, usage, Failure};
use crate::cli::{ScanArgs, ScanFlags};

pub async fn run(args: ScanArgs, color: bool) -> Result<i32, Failure> {
    let request = ScanRequest {
        target: &args.target,
        sni: &args.sni,
        no_sni: args.no_sni,
        policy_files: &args.policy,
        declared_port: args.declared_port,
        baselines: &args.baseline,
        require_client: &args.require_client,
        identities: &args.identity,
        jwt: args.jwt.as_deref(),
        ca: args.common.ca.as_deref(),
        ca_key: args.ca_key.as_deref(),
        checks: args.common.checks,
        timeout: args.common.timeout,
        max_connections: args.common.max_connections,
        clients: args.common.clients.as_deref(),
        fail_on: args.common.fail_on,
        json: args.common.json.as_deref(),
        junit: args.common.junit.as_deref(),
    };
    let plan = plan::build(&request, read_policy).map_err(usage)?;
    let started_at = now();
    let mut targets = Vec::new();
    for server in &plan.servers {
        let mut target = scan::execute(&plan.target, server, &plan.probing).await;
        if let Some(error) = &target.error {
            eprintln!("tlsposture: {}: {error}", plan.target);
        }
        judge(&mut target, server, &plan);
        targets.push(target);
    }
    let mut report = assemble(targets, started_at, &args.common);
    report.policy = plan.context.clone();
    let outputs = ReportOutputs {
        json: plan.outputs.json.as_deref(),
        junit: plan.outputs.junit.as_deref(),
        fail_on: plan.fail_on,
    };
    emit(&report, &outputs, color)?;
    Ok(report.summary.exit_code)
}

/// Every judgement of one target, after all its probes ran: the
/// observations, the declared server, the authorization and mTLS probes,
/// the baselines and the client gate. Called once per target.
pub fn judge(target: &mut TargetReport, server: &ServerPlan, plan: &ScanPlan) {
    match &server.kind {
        ServerKind::PlainHttp(plain) => verdict::redirect::apply(target, &plain.expectation),
        ServerKind::Tls(tls) => {
            verdict::judge(target);
            match &tls.expectation {
                Some(exp) => {
                    verdict::policy::apply(target, exp);
                    verdict::authz::apply(target, tls.mutual);
                }
                None => {
                    // Without a policy, a gateway that requires client
                    // certificates must accept the given identities.
                    let required = target
                        .mtls
                        .as_ref()
                        .is_some_and(|m| m.client_cert_required == Some(true));
                    verdict::authz::apply(target, required);
                }
            }
            if target.error.is_none() {
                for b in &plan.baselines {
                    let found = verdict::baseline::baseline_findings(target, b);
                    target.findings.extend(found);
                }
                // `verdict` has no public sort helper (its own sort is inside
                // `verdict::judge`): the findings added since are put in the
                // same order here, once.
                target
                    .findings
                    .sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
            }
        }
    }
    verdict::clients::require_clients(target, &plan.require_client);
}

/// The report of a run: its targets and their summary.
pub fn assemble(targets: Vec<TargetReport>, started_at: String, flags: &ScanFlags) -> Report {
    let summary = verdict::summarize(&targets, flags.fail_on);
    Report {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo::default(),
        started_at,
        finished_at: now(),
        targets,
        policy: None,
        summary,
    }
}
