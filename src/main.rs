//! The `tlsposture` binary: parses flags, dispatches to a command
//! (`commands::*`, one module each), and owns the exit code contract (0
//! clean, 1 findings, 2 could not scan, 64 usage). Errors are printed once,
//! as one line, with their causes (`{:#}`). No scanning, planning or
//! judging happens here.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, ClientsCommand, Command, PolicyCommand};
use commands::Failure;
use tlsposture::verdict::exit;

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
            Command::Scan(args) => commands::scan::run(*args, color).await,
            Command::Watch(args) => commands::watch::run(args).await,
            Command::Lab(args) => commands::lab::run(args).await,
            Command::Demo(args) => commands::demo::run(args, color).await,
            Command::Policy(PolicyCommand::Lint(args)) => commands::policy::lint(args),
            Command::Policy(PolicyCommand::Explain(args)) => commands::policy::explain(args),
            Command::Policy(PolicyCommand::Authz(args)) => commands::policy_authz::run(*args),
            Command::Clients(ClientsCommand::List { pattern }) => {
                commands::clients::list(pattern.as_deref())
            }
            Command::Simulate(args) => commands::simulate::run(args),
            Command::Merge(args) => commands::merge::run(args, color),
            Command::Diff(args) => commands::diff::run(args, color),
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
