//! The `tlsposture` binary: parses flags, runs a command, and owns the exit
//! code contract (0 clean, 1 findings, 2 could not scan, 64 usage). Errors are
//! printed once, as one line, with their causes (`{:#}`).

mod cli;

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, Context};
use clap::Parser;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::signal::unix::{signal, SignalKind};

use cli::{
    CertType, Cli, ClientsCommand, Command, DemoArgs, ExplainArgs, LabArgs, LintArgs,
    PolicyCommand, ScanArgs, ScanFlags, SimulateArgs, WatchArgs,
};
use tlsposture::cert::{self, TrustRoots};
use tlsposture::lab::{self, CertKinds, Lab, LabOptions, PolicyLab, PolicyLabOptions};
use tlsposture::policy::baseline::{self, Baseline};
use tlsposture::policy::effective::{self, Expectation};
use tlsposture::policy::TlsMode;
use tlsposture::policy::{self, DeclaredPolicy};
use tlsposture::probe::ProbeTimeouts;
use tlsposture::report::model::{PolicyContext, Report, TargetReport, ToolInfo, SCHEMA_VERSION};
use tlsposture::report::{explain, json, junit, simulation, terminal};
use tlsposture::scan::authz::{self, AuthzContext, NamedIdentity};
use tlsposture::scan::jwt::GivenJwt;
use tlsposture::scan::{fetch_served, scan_target, ScanOptions};
use tlsposture::scan::{mint, redirect};
use tlsposture::target::{Host, ServerName, TargetSpec};
use tlsposture::verdict::{self, exit};

/// A failure that ends the run, with the exit code it means.
struct Failure {
    code: i32,
    error: anyhow::Error,
}

fn usage(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: exit::USAGE,
        error: error.into(),
    }
}

fn unscannable(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: exit::UNSCANNABLE,
        error: error.into(),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and --version are not errors; everything else is usage (64),
            // not clap's own exit code 2, which means "could not scan" here.
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::CLEAN
            };
            let _ = e.print();
            return ExitCode::from(code as u8);
        }
    };
    init_tracing(cli.verbose);
    let color = !cli.no_color && std::env::var_os("NO_COLOR").is_none();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tlsposture: cannot start the async runtime: {e}");
            return ExitCode::from(exit::UNSCANNABLE as u8);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Scan(args) => run_scan(args, color).await,
            Command::Watch(args) => run_watch(args).await,
            Command::Lab(args) => run_lab(args).await,
            Command::Demo(args) => run_demo(args, color).await,
            Command::Policy(PolicyCommand::Lint(args)) => run_policy_lint(args),
            Command::Policy(PolicyCommand::Explain(args)) => run_policy_explain(args),
            Command::Clients(ClientsCommand::List { pattern }) => {
                run_clients_list(pattern.as_deref())
            }
            Command::Simulate(args) => run_simulate(args),
        }
    });
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(Failure { code, error }) => {
            eprintln!("tlsposture: {error:#}");
            ExitCode::from(code as u8)
        }
    }
}

fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

fn now() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

fn scan_options(flags: &ScanFlags, snis: Vec<String>, roots: TrustRoots) -> ScanOptions {
    ScanOptions {
        sni: snis.first().cloned(),
        cert_names: snis,
        roots,
        checks: flags.checks,
        timeouts: ProbeTimeouts {
            connect: flags.timeout,
            read: flags.timeout,
        },
        max_connections: usize::from(flags.max_connections),
        clients: flags.clients.clone(),
    }
}

/// `--require-client`: each pattern must name a profile (else usage), the
/// required clients are simulated even outside `--clients`, and the
/// clients check runs even when `--checks` left it out.
fn require_clients(options: &mut ScanOptions, patterns: &[String]) -> Result<(), Failure> {
    if patterns.is_empty() {
        return Ok(());
    }
    check_client_patterns("--require-client", patterns)?;
    options.checks.clients = true;
    if let Some(chosen) = &options.clients {
        options.clients = Some(format!("{chosen},{}", patterns.join(",")));
    }
    Ok(())
}

/// Each pattern must name at least one client profile; else a usage error.
fn check_client_patterns(flag: &str, patterns: &[String]) -> Result<(), Failure> {
    match patterns
        .iter()
        .find(|p| tlsposture::clients::matching(p).is_empty())
    {
        Some(p) => Err(usage(anyhow!(
            "{flag} {p:?} matches no client profile (see `tlsposture clients list`)"
        ))),
        None => Ok(()),
    }
}

/// `clients list [PATTERN]`: the embedded profiles as a table.
fn run_clients_list(pattern: Option<&str>) -> Result<i32, Failure> {
    let profiles = tlsposture::clients::matching(pattern.unwrap_or("all"));
    if profiles.is_empty() {
        return Err(usage(anyhow!(
            "no client profile matches {:?}",
            pattern.unwrap_or_default()
        )));
    }
    print!("{}", terminal::client_list(&profiles));
    Ok(exit::CLEAN)
}

fn trust_roots(flags: &ScanFlags) -> Result<TrustRoots, Failure> {
    match &flags.ca {
        Some(path) => cert::load_ca_file(path)
            .with_context(|| format!("--ca {}", path.display()))
            .map_err(usage),
        None => Ok(TrustRoots::Public),
    }
}

/// The names to send: `--sni` as given, else the host when it is a name.
fn sni_names(given: &[String], no_sni: bool, spec: &TargetSpec) -> Vec<String> {
    if no_sni {
        Vec::new()
    } else if given.is_empty() {
        spec.default_sni().into_iter().collect()
    } else {
        given.to_vec()
    }
}

/// Each `--sni` as a [`ServerName`]; the first invalid one is a usage
/// error.
fn given_names(given: &[String]) -> Result<Vec<ServerName>, Failure> {
    given
        .iter()
        .map(|n| ServerName::parse(n).map_err(|e| usage(anyhow!("--sni: {e}"))))
        .collect()
}

/// A declared host about to go on the wire (SNI or Host) must be a valid
/// server name; else a usage error naming the server's file:line.
fn declared_names(names: &[String], origin: &policy::Origin) -> Result<(), Failure> {
    for name in names {
        ServerName::parse(name).map_err(|e| {
            usage(anyhow!(
                "{}:{}: declared host in {}.hosts: {e}",
                origin.file,
                origin.line,
                origin.field
            ))
        })?;
    }
    Ok(())
}

async fn run_scan(args: ScanArgs, color: bool) -> Result<i32, Failure> {
    let spec = TargetSpec::parse(&args.target).map_err(usage)?;
    given_names(&args.sni)?;
    let roots = trust_roots(&args.common)?;
    let baselines: Vec<&'static Baseline> = args
        .baseline
        .iter()
        .filter_map(|name| baseline::baseline(name))
        .collect();
    let declared = if args.policy.is_empty() {
        None
    } else {
        Some(load_policy(&args.policy)?)
    };
    let mut identities = args
        .identity
        .iter()
        .map(|spec| NamedIdentity::load(spec).map_err(|e| usage(anyhow!("--identity {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let minted = match (&args.ca_key, &args.common.ca) {
        (Some(key), Some(ca)) => {
            let read = |p: &Path| {
                std::fs::read_to_string(p)
                    .map_err(|e| usage(anyhow!("cannot read {}: {e}", p.display())))
            };
            let minted = mint::mint(&read(ca)?, &read(key)?)
                .map_err(|e| usage(anyhow!("--ca-key {}: {e}", key.display())))?;
            identities.push(minted.wrong_san.clone());
            Some(minted.expired)
        }
        _ => None,
    };
    let jwt = args
        .jwt
        .as_deref()
        .map(GivenJwt::parse)
        .transpose()
        .map_err(|e| usage(anyhow!("--jwt: {e}")))?;
    let started_at = now();
    let mut targets = Vec::new();
    let mut context = None;
    match &declared {
        None => {
            let mut options = scan_options(
                &args.common,
                sni_names(&args.sni, args.no_sni, &spec),
                roots,
            );
            require_clients(&mut options, &args.require_client)?;
            let mut target = scan_one(&spec, &options).await;
            identity_probes(&mut target, &identities, &args.common).await;
            judge_baselines(&mut target, &baselines);
            targets.push(target);
        }
        Some(policy) => {
            let all = effective::expectations(policy);
            let wanted = args.declared_port.unwrap_or(spec.port);
            let plain: Vec<_> = effective::expectations_http(policy)
                .into_iter()
                .filter(|e| e.port == wanted)
                .collect();
            if !plain.is_empty() && !all.iter().any(|e| e.port == wanted) {
                let mut ctx = policy_context(policy, &args.policy, &[]);
                for exp in &plain {
                    let hosts = if args.sni.is_empty() {
                        exp.request_hosts(&host_header(&spec))
                    } else {
                        args.sni.clone()
                    };
                    if args.sni.is_empty() {
                        let declared: Vec<String> = exp
                            .request_hosts("")
                            .into_iter()
                            .filter(|h| !h.is_empty())
                            .collect();
                        declared_names(&declared, &exp.server)?;
                    }
                    let mut target =
                        redirect::scan_plain_http(&spec, &hosts, args.common.timeout).await;
                    if let Some(error) = &target.error {
                        eprintln!("tlsposture: {spec}: {error}");
                    }
                    target.label = Some(exp.label());
                    verdict::redirect::apply(&mut target, exp);
                    ctx.servers.push(exp.label());
                    targets.push(target);
                }
                context = Some(ctx);
            } else {
                let chosen =
                    effective::for_port(&all, spec.port, args.declared_port).map_err(|e| {
                        usage(anyhow!(
                            "{}: {e}",
                            args.policy
                                .iter()
                                .map(|p| p.display().to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    })?;
                let chosen = select_by_sni(chosen, &args.sni, args.no_sni);
                if chosen.is_empty() {
                    return Err(usage(anyhow!(
                        "no server declared on that port serves SNI {}",
                        args.sni.first().map(String::as_str).unwrap_or("(none)")
                    )));
                }
                if args.sni.is_empty() {
                    for exp in &chosen {
                        declared_names(&exp.probe_names(), &exp.server)?;
                    }
                }
                for exp in &chosen {
                    let names = if args.sni.is_empty() {
                        exp.probe_names()
                    } else {
                        args.sni.clone()
                    };
                    let mut options = scan_options(&args.common, names, roots.clone());
                    require_clients(&mut options, &args.require_client)?;
                    let mut target = scan_one(&spec, &options).await;
                    target.label = Some(exp.label());
                    verdict::policy::apply(&mut target, exp);
                    let given = (&identities[..], jwt.as_ref(), minted.as_ref());
                    authorize(&mut target, policy, exp, given, &args.common).await;
                    judge_baselines(&mut target, &baselines);
                    targets.push(target);
                }
                context = Some(policy_context(policy, &args.policy, &chosen));
            }
        }
    }
    if !baselines.is_empty() {
        let ctx = context.get_or_insert_with(PolicyContext::default);
        ctx.baselines = baselines.iter().map(|b| b.name.clone()).collect();
    }
    for target in &mut targets {
        verdict::clients::require_clients(target, &args.require_client);
    }
    let mut report = assemble(targets, started_at, &args.common);
    report.policy = context;
    emit(&report, &args.common, color)?;
    Ok(report.summary.exit_code)
}

/// The `Host` of a plain-HTTP request to a server declared for `*`: the
/// target's host as given (an IPv6 address in brackets).
fn host_header(spec: &TargetSpec) -> String {
    match &spec.host {
        Host::Ip(std::net::IpAddr::V6(ip)) => format!("[{ip}]"),
        Host::Ip(ip) => ip.to_string(),
        Host::Name(name) => name.clone(),
    }
}

/// The mTLS probes of each `--identity` and the authorization probes the
/// declared AuthorizationPolicies call for, judged.
async fn authorize(
    target: &mut TargetReport,
    policy: &DeclaredPolicy,
    exp: &Expectation,
    (identities, jwt, expired): (&[NamedIdentity], Option<&GivenJwt>, Option<&NamedIdentity>),
    flags: &ScanFlags,
) {
    let mutual = exp.mode == TlsMode::Mutual;
    let sni = target.sni.clone();
    let ctx = AuthzContext {
        policy,
        gateway: &exp.gateway,
        mutual,
        sni: sni.as_deref(),
        jwt,
        expired,
    };
    let timeouts = ProbeTimeouts {
        connect: flags.timeout,
        read: flags.timeout,
    };
    let limit = usize::from(flags.max_connections);
    authz::authorize_target(target, &ctx, identities, timeouts, limit).await;
    verdict::authz::apply(target, mutual);
}

/// Without a policy: each `--identity` through the mTLS probe; a gateway
/// that requires client certificates must accept them.
async fn identity_probes(
    target: &mut TargetReport,
    identities: &[NamedIdentity],
    flags: &ScanFlags,
) {
    let timeouts = ProbeTimeouts {
        connect: flags.timeout,
        read: flags.timeout,
    };
    let limit = usize::from(flags.max_connections);
    authz::probe_identities_target(target, identities, timeouts, limit).await;
    let required = target
        .mtls
        .as_ref()
        .is_some_and(|m| m.client_cert_required == Some(true));
    verdict::authz::apply(target, required);
}

/// Reads `--policy` files; an unreadable or invalid file is a usage error
/// (64) naming file, line and field. Skipped documents and warnings go to
/// stderr, so CI logs show what was not used.
fn load_policy(paths: &[std::path::PathBuf]) -> Result<DeclaredPolicy, Failure> {
    let policy = policy::load_files(paths).map_err(usage)?;
    for doc in &policy.documents {
        if let Some(why) = &doc.skipped {
            eprintln!(
                "tlsposture: {}:{}: skipped {} {}: {why}",
                doc.origin.file, doc.origin.line, doc.kind, doc.name
            );
        }
    }
    for warning in &policy.warnings {
        eprintln!(
            "tlsposture: {}: warning: {}",
            warning.origin, warning.message
        );
    }
    Ok(policy)
}

/// With `--sni`, only the declared servers that answer that name; with
/// `--no-sni`, those that answer a client without SNI.
fn select_by_sni<'a>(
    chosen: Vec<&'a Expectation>,
    sni: &[String],
    no_sni: bool,
) -> Vec<&'a Expectation> {
    if no_sni {
        chosen.into_iter().filter(|e| e.serves(None)).collect()
    } else if let Some(first) = sni.first() {
        chosen
            .into_iter()
            .filter(|e| e.serves(Some(first)))
            .collect()
    } else {
        chosen
    }
}

fn policy_context(
    policy: &DeclaredPolicy,
    files: &[std::path::PathBuf],
    chosen: &[&Expectation],
) -> PolicyContext {
    let describe = |d: &tlsposture::policy::DocumentSummary| {
        format!(
            "{} {} ({}:{})",
            d.kind, d.name, d.origin.file, d.origin.line
        )
    };
    PolicyContext {
        files: files.iter().map(|p| p.display().to_string()).collect(),
        documents: policy
            .documents
            .iter()
            .filter(|d| d.skipped.is_none())
            .map(describe)
            .collect(),
        skipped: policy
            .documents
            .iter()
            .filter_map(|d| {
                d.skipped
                    .as_ref()
                    .map(|why| format!("{}: {why}", describe(d)))
            })
            .collect(),
        servers: chosen.iter().map(|e| e.label()).collect(),
        baselines: Vec::new(),
    }
}

fn judge_baselines(target: &mut TargetReport, baselines: &[&Baseline]) {
    if target.error.is_some() {
        return;
    }
    for b in baselines {
        let found = verdict::baseline::baseline_findings(target, b);
        target.findings.extend(found);
    }
    target
        .findings
        .sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
}

/// Scans and judges one target; a target that could not be scanned is
/// reported (one line on stderr) and kept in the report with its error.
async fn scan_one(spec: &TargetSpec, options: &ScanOptions) -> TargetReport {
    let mut target = match scan_target(spec, options).await {
        Ok(target) => target,
        Err((target, error)) => {
            eprintln!("tlsposture: {spec}: {error}");
            target
        }
    };
    verdict::judge(&mut target);
    target
}

fn assemble(targets: Vec<TargetReport>, started_at: String, flags: &ScanFlags) -> Report {
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

/// Prints the report: the table on stdout (stderr when the JSON goes to
/// stdout), the JSON wherever `--json` says.
fn emit(report: &Report, flags: &ScanFlags, color: bool) -> Result<(), Failure> {
    if let Some(path) = &flags.junit {
        std::fs::write(path, junit::render(report, flags.fail_on))
            .with_context(|| format!("cannot write the JUnit report to {}", path.display()))
            .map_err(usage)?;
    }
    let json_to_stdout = flags.json.as_deref() == Some(Path::new("-"));
    let style = terminal::Style {
        color: color
            && if json_to_stdout {
                std::io::stderr().is_terminal()
            } else {
                std::io::stdout().is_terminal()
            },
        width: terminal_width(),
    };
    write_outputs(
        &terminal::render(report, style),
        || json::render(report),
        flags.json.as_deref(),
    )
}

/// Every command's output contract: with `--json -` the JSON alone on
/// stdout and the text on stderr; otherwise the text on stdout and the
/// JSON, if asked for, in its file.
fn write_outputs(
    text: &str,
    json: impl FnOnce() -> String,
    json_path: Option<&Path>,
) -> Result<(), Failure> {
    match json_path {
        Some(path) if path == Path::new("-") => {
            eprint!("{text}");
            let mut out = std::io::stdout().lock();
            out.write_all(json().as_bytes())
                .and_then(|_| out.flush())
                .map_err(|e| unscannable(anyhow!("cannot write the JSON report to stdout: {e}")))
        }
        other => {
            print!("{text}");
            match other {
                Some(path) => std::fs::write(path, json())
                    .with_context(|| format!("cannot write the JSON report to {}", path.display()))
                    .map_err(usage),
                None => Ok(()),
            }
        }
    }
}

/// `policy explain`: the effective posture per declared server, no network.
fn run_policy_explain(args: ExplainArgs) -> Result<i32, Failure> {
    let policy = load_policy(&args.files)?;
    let expectations = effective::expectations(&policy);
    write_outputs(
        &explain::render(&expectations, cert_types(args.cert_type)),
        || serde_json::to_string_pretty(&expectations).unwrap_or_default() + "\n",
        args.json.as_deref(),
    )?;
    Ok(exit::CLEAN)
}

fn cert_types(cert_type: CertType) -> effective::CertKeyTypes {
    use tlsposture::policy::effective::CertKeyTypes;
    match cert_type {
        CertType::Rsa => CertKeyTypes::RSA,
        CertType::Ecdsa => CertKeyTypes {
            rsa: false,
            ecdsa: true,
        },
        CertType::Both => CertKeyTypes {
            rsa: true,
            ecdsa: true,
        },
    }
}

/// Every chosen client against every TLS server of a policy (on
/// `declared_port` when given).
fn simulate_policy(
    files: &[std::path::PathBuf],
    args: &SimulateArgs,
    profiles: &[&'static tlsposture::clients::ClientProfile],
) -> Result<Vec<simulation::ServerRows>, Failure> {
    use tlsposture::policy::simulate::{simulate, ServerCert, SimClient};
    let policy = load_policy(files)?;
    let all = effective::expectations(&policy);
    let chosen: Vec<&Expectation> = match args.declared_port {
        Some(port) => effective::for_port(&all, port, Some(port)).map_err(|e| usage(anyhow!(e)))?,
        None => all.iter().collect(),
    };
    let cert = ServerCert {
        types: cert_types(args.cert_type),
        ..ServerCert::default()
    };
    Ok(chosen
        .iter()
        .map(|exp| simulation::ServerRows {
            server: exp.label(),
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
fn run_simulate(args: SimulateArgs) -> Result<i32, Failure> {
    let pattern = args.clients.clone().unwrap_or_else(|| "all".into());
    check_client_patterns("--clients", std::slice::from_ref(&pattern))?;
    check_client_patterns("--require-client", &args.require_client)?;
    let profiles = tlsposture::clients::matching(&pattern);
    let (text, json, judged) = if args.from.is_empty() {
        let servers = simulate_policy(&args.policy, &args, &profiles)?;
        let text = simulation::render(&servers);
        let json = serde_json::json!({ "servers": servers });
        (text, json, servers)
    } else {
        let before = simulate_policy(&args.from, &args, &profiles)?;
        let after = simulate_policy(&args.to, &args, &profiles)?;
        let mut changes = Vec::new();
        let mut compared = 0;
        for new in &after {
            // The same server in the old policy: same port and hosts, else
            // the old policy's server on that port (a rename or re-host).
            let port = new.server.rsplit(' ').next();
            let old = before
                .iter()
                .find(|o| o.server == new.server && o.hosts == new.hosts)
                .or_else(|| before.iter().find(|o| o.server.rsplit(' ').next() == port));
            let Some(old) = old else { continue };
            for (b, a) in old.clients.iter().zip(&new.clients) {
                compared += 1;
                let kind = match (b.outcome.connected, a.outcome.connected) {
                    (true, false) => "breaks",
                    (false, true) => "fixed",
                    (true, true)
                        if (b.outcome.protocol, &b.outcome.cipher)
                            != (a.outcome.protocol, &a.outcome.cipher) =>
                    {
                        "changes"
                    }
                    _ => continue,
                };
                changes.push(simulation::Change {
                    server: new.server.clone(),
                    client: a.client.clone(),
                    kind: kind.into(),
                    before: b.outcome.clone(),
                    after: a.outcome.clone(),
                });
            }
        }
        let text = simulation::render_changes(&changes, compared);
        let json = serde_json::json!({ "changes": changes, "after": after });
        (text, json, after)
    };
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

/// `policy lint`: read every file (64 on the first unreadable or invalid
/// one, naming file:line:col and field), lint, print, exit 0 or 1.
fn run_policy_lint(args: LintArgs) -> Result<i32, Failure> {
    use tlsposture::policy::{self, lint};
    use tlsposture::report::lint as render;

    let policy = policy::load_files(&args.files).map_err(usage)?;
    let findings = lint::lint(&policy);
    let code = if findings.iter().any(|f| f.severity >= args.fail_on) {
        exit::FINDINGS
    } else {
        exit::CLEAN
    };
    write_outputs(
        &render::render_text(&findings, &policy),
        || render::render_json(&findings, &policy, code),
        args.json.as_deref(),
    )?;
    Ok(code)
}

fn terminal_width() -> u16 {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(110)
}

async fn start_lab(
    envoy: Option<std::path::PathBuf>,
    port_base: u16,
    bind: std::net::IpAddr,
) -> Result<Lab, Failure> {
    let mut listeners = lab::seed_listeners();
    if port_base != 0 {
        for (i, l) in listeners.iter_mut().enumerate() {
            l.port = port_base.checked_add(i as u16).ok_or_else(|| {
                usage(anyhow!(
                    "--port-base {port_base} leaves no room for {} listeners",
                    i + 1
                ))
            })?;
        }
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
        cert_type: match args.cert_type {
            CertType::Rsa => CertKinds::Rsa,
            CertType::Ecdsa => CertKinds::Ecdsa,
            CertType::Both => CertKinds::RsaAndEcdsa,
        },
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

async fn run_lab(args: LabArgs) -> Result<i32, Failure> {
    let plab = if args.policy.is_empty() {
        None
    } else {
        Some(policy_lab(&args)?)
    };
    let lab = match &plab {
        None => start_lab(args.envoy.envoy.clone(), args.port_base, args.bind).await?,
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

async fn run_demo(args: DemoArgs, color: bool) -> Result<i32, Failure> {
    let started = Instant::now();
    let lab = start_lab(args.envoy.envoy, 0, std::net::IpAddr::from([127, 0, 0, 1])).await?;
    eprintln!(
        "lab up in {} ms: Envoy {}, {} listeners",
        started.elapsed().as_millis(),
        lab.envoy_version(),
        lab.listeners().len()
    );
    let started_at = now();
    let mut targets = Vec::new();
    // The lab's own CA, unless the user asked for another: the demo's
    // certificates are then trusted, as a gateway's are by its clients.
    let roots = match &args.common.ca {
        Some(_) => trust_roots(&args.common)?,
        None => TrustRoots::from_pem(lab.ca_pem()).map_err(unscannable)?,
    };
    for listener in lab.listeners() {
        let spec = TargetSpec::parse(&listener.addr.to_string()).map_err(unscannable)?;
        let options = scan_options(
            &args.common,
            listener.sni.clone().into_iter().collect(),
            roots.clone(),
        );
        let mut target = scan_one(&spec, &options).await;
        target.label = Some(listener.name.clone());
        targets.push(target);
    }
    let report = assemble(targets, started_at, &args.common);
    let stopped = lab.stop().await;
    emit(&report, &args.common, color)?;
    stopped.context("stopping the lab").map_err(unscannable)?;
    // The demo shows findings; only a listener it could not scan fails it.
    Ok(if report.summary.exit_code == exit::UNSCANNABLE {
        exit::UNSCANNABLE
    } else {
        exit::CLEAN
    })
}

async fn run_watch(args: WatchArgs) -> Result<i32, Failure> {
    let spec = TargetSpec::parse(&args.target).map_err(usage)?;
    given_names(&args.sni)?;
    let addr = *spec
        .resolve()
        .await
        .map_err(unscannable)?
        .first()
        .ok_or_else(|| unscannable(anyhow!("{spec} resolves to no address")))?;
    let names: Vec<Option<String>> = {
        let snis = sni_names(&args.sni, false, &spec);
        if snis.is_empty() {
            vec![None]
        } else {
            snis.into_iter().map(Some).collect()
        }
    };
    let timeouts = ProbeTimeouts {
        connect: args.handshake_timeout,
        read: args.handshake_timeout,
    };
    let label = |sni: &Option<String>| sni.clone().unwrap_or_else(|| "(no SNI)".into());
    let mut current: Vec<Option<String>> = Vec::new();
    let mut reachable = false;
    for sni in &names {
        match fetch_served(addr, sni.as_deref(), timeouts).await {
            Ok(served) => {
                reachable = true;
                println!(
                    "{} {}: {} {} (until {})",
                    now(),
                    label(sni),
                    served.sha256,
                    served.subject,
                    served.not_after
                );
                current.push(Some(served.sha256));
            }
            Err(e) => {
                eprintln!("tlsposture: {spec} {}: {e}", label(sni));
                current.push(None);
            }
        }
    }
    if !reachable {
        return Err(unscannable(anyhow!(
            "{spec}: no certificate could be fetched"
        )));
    }
    let _ = std::io::stdout().flush();
    let deadline = args.timeout.map(|t| tokio::time::Instant::now() + t);
    let mut interrupt = signal(SignalKind::interrupt())
        .context("cannot listen for Ctrl-C")
        .map_err(unscannable)?;
    loop {
        let sleep = tokio::time::sleep(args.interval);
        tokio::select! {
            _ = sleep => {}
            _ = interrupt.recv() => return Ok(exit::CLEAN),
        }
        if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
            eprintln!("tlsposture: no certificate change within the timeout");
            return Ok(if args.until_change {
                exit::FINDINGS
            } else {
                exit::CLEAN
            });
        }
        for (sni, seen) in names.iter().zip(current.iter_mut()) {
            let Ok(served) = fetch_served(addr, sni.as_deref(), timeouts).await else {
                continue;
            };
            if seen.as_deref() != Some(served.sha256.as_str()) {
                println!(
                    "{} {}: changed {} -> {} {} (until {})",
                    now(),
                    label(sni),
                    seen.as_deref().unwrap_or("(none)"),
                    served.sha256,
                    served.subject,
                    served.not_after
                );
                let _ = std::io::stdout().flush();
                *seen = Some(served.sha256);
                if args.until_change {
                    return Ok(exit::CLEAN);
                }
            }
        }
    }
}
