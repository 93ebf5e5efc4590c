//! `tlsposture simulate`: the offline what-if (which clients would connect
//! to Envoy configured from a policy), or the diff between two policies
//! (`policy::simulate::diff`), with the `--require-client` gate.

use anyhow::anyhow;
use tlsposture::clients::ClientProfile;
use tlsposture::plan;
use tlsposture::policy::effective::{self, Expectation};
use tlsposture::policy::simulate::{diff, simulate, ServerCert, SimClient};
use tlsposture::report::simulation;
use tlsposture::verdict::exit;

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
    let all = effective::expectations(&policy);
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
    let profiles = tlsposture::clients::matching(&pattern);
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
    // issue 10: one client gate (verdict)
    let mut failing = Vec::new();
    for p in &args.require_client {
        let wanted = tlsposture::clients::matching(p);
        for server in &judged {
            for row in &server.clients {
                if !row.outcome.connected && wanted.iter().any(|w| w.name == row.client) {
                    failing.push(format!(
                        "{} cannot connect to {}",
                        row.client, server.server
                    ));
                }
            }
        }
    }
    let mut text = text;
    for f in &failing {
        text.push_str(&format!("required client: {f}\n"));
    }
    write_outputs(
        &text,
        || serde_json::to_string_pretty(&json).unwrap_or_default() + "\n",
        args.json.as_deref(),
    )?;
    Ok(if failing.is_empty() {
        exit::CLEAN
    } else {
        exit::FINDINGS
    })
}
