//! The commands of the binary, one module each. Each turns its flags into
//! work through the library and returns an exit code or a [`Failure`]; none
//! prints errors itself (`main` does, once). What is shared lives here: the
//! failure type and its exit codes, policy loading with its stderr notes,
//! and the clock.

pub mod clients;
pub mod demo;
pub mod diff;
pub mod interrupt;
pub mod lab;
pub mod merge;
pub mod output;
pub mod policy;
pub mod policy_authz;
pub mod scan;
pub mod simulate;
pub mod stream;
pub mod watch;

use std::path::PathBuf;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tlsposture::policy::{self as declared, DeclaredPolicy, PolicyError};
use tlsposture::verdict::exit;

/// A failure that ends the run, with the exit code it means.
pub struct Failure {
    pub code: i32,
    pub error: anyhow::Error,
}

pub fn usage(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: exit::USAGE,
        error: error.into(),
    }
}

pub fn unscannable(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: exit::UNSCANNABLE,
        error: error.into(),
    }
}

pub fn now() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// Reads `--policy` files; skipped documents and warnings go to stderr, so
/// CI logs show what was not used.
///
/// # Errors
/// The first unreadable or invalid file, naming file, line and field.
pub fn read_policy(paths: &[PathBuf]) -> Result<DeclaredPolicy, PolicyError> {
    let policy = declared::load_files(paths)?;
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

/// [`read_policy`], an error being a usage error (64).
pub fn load_policy(paths: &[PathBuf]) -> Result<DeclaredPolicy, Failure> {
    read_policy(paths).map_err(usage)
}
