//! `tlsposture simulate`: the offline what-if (which clients would connect
//! to Envoy configured from a policy), or the diff between two policies
//! (`policy::simulate::diff`), with the `--require-client` gate.

use anyhow::anyhow;
use tlsposture::clients::ClientProfile;
use tlsposture::plan;
use tlsposture::policy::effective::{self, Expectation};
use tlsposture::policy::simulate::{diff, simulate, ServerCert, SimClient};
use tlsposture::report::simulation;
use tlsposture::verdict::{self, exit, ClientSimulation};

use super::output::write_outputs;
use super::{load_policy, usage, Failure};
use crate::cli::SimulateArgs;

/// Every chosen client against every TLS server of a policy (on
/// `declared_port` when given).
fn simulate_policy(
    files: &[std::path::PathBuf],
    args: &SimulateArgs,
    profiles: &[&'static ClientProfile],
) -> Result<Vec<simulation::ServerRows>, Failure> {
    let policy = load_policy(files)?;
    let resolved = tlsposture::policy::istiod::resolve(&policy, args.istio_version);
    let all = effective::expectations_of(&policy, &resolved);
    let chosen: Vec<&Expectation> = match args.declared_port {
        Some(port) => effective::for_port(&all, port, Some(port)).map_err(|e| usage(anyhow!(e)))?,
        None => all.iter().collect(),
    };
    let cert = ServerCert {
        types: args.cert_type.into(),
        ..ServerCert::default()
    };
    Ok(chosen
        .iter()
        .map(|exp| simulation::ServerRows {
            server: exp.label(),
            port: exp.port,
            hosts: exp.hosts.clone(),
            clients: profiles
                .iter()
                .map(|p| simulation::ClientRow {
                    client: p.name.clone(),
                    category: p.category.as_str().to_string(),
                    outcome: simulate(&SimClient::from(*p), exp, cert),
                })
                .collect(),
        })
        .collect())
}

/// `simulate`: the offline what-if, or the diff between two policies.
pub fn run(args: SimulateArgs) -> Result<i32, Failure> {
    let pattern = args.clients.clone().unwrap_or_else(|| "all".into());
    plan::check_client_patterns("--clients", std::slice::from_ref(&pattern)).map_err(usage)?;
    plan::check_client_patterns("--require-client", &args.require_client).map_err(usage)?;
    // The required clients are simulated even outside `--clients`, as in
    // a live scan: the gate must not count a client it never tried.
    let mut profiles = tlsposture::clients::matching(&pattern);
    for required in &args.require_client {
        for profile in tlsposture::clients::matching(required) {
            if !profiles.iter().any(|p| p.id == profile.id) {
                profiles.push(profile);
            }
        }
    }
    let (text, json, judged) = if args.from.is_empty() {
        let servers = simulate_policy(&args.policy, &args, &profiles)?;
        let text = simulation::render(&servers);
        let json = serde_json::json!({ "servers": servers });
        (text, json, servers)
    } else {
        let before = simulate_policy(&args.from, &args, &profiles)?;
        let after = simulate_policy(&args.to, &args, &profiles)?;
        let (changes, compared) = diff(&before, &after);
        let text = simulation::render_changes(&changes, compared);
        let json = serde_json::json!({ "changes": changes, "after": after });
        (text, json, after)
    };
    // The client gate is the live scan's (`verdict::clients`), applied to
    // the predicted outcomes.
    let mut text = text;
    let mut failing = 0;
    for server in &judged {
        let predicted: Vec<ClientSimulation> = server
            .clients
            .iter()
            .map(|row| ClientSimulation {
                client: row.client.clone(),
                category: row.category.clone(),
                connected: row.outcome.connected,
                protocol: row.outcome.protocol,
                cipher: row.outcome.cipher.clone(),
                group: row.outcome.group.clone(),
                hello_retry: row.outcome.hello_retry,
                reason: row.outcome.reason.clone(),
            })
            .collect();
        for finding in verdict::clients::required_findings(&predicted, &args.require_client) {
            failing += 1;
            text.push_str(&format!(
                "{}: {} on {} ({})\n",
                finding.severity, finding.title, server.server, finding.evidence
            ));
        }
    }
    write_outputs(
        &text,
        || serde_json::to_string_pretty(&json).unwrap_or_default() + "\n",
        args.json.as_deref(),
    )?;
    Ok(if failing == 0 {
        exit::CLEAN
    } else {
        exit::FINDINGS
    })
}
