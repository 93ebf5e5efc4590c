//! `tlsposture policy lint` and `policy explain`: the declared policy
//! offline, no network.

use tlsposture::policy::{self, effective, lint};
use tlsposture::report::explain;
use tlsposture::report::lint as render;
use tlsposture::verdict::exit;

use super::output::write_outputs;
use super::{load_policy, usage, Failure};
use crate::cli::{ExplainArgs, LintArgs};

/// `policy lint`: read every file (64 on the first unreadable or invalid
/// one, naming file:line:col and field), lint, print, exit 0 or 1.
pub fn lint(args: LintArgs) -> Result<i32, Failure> {
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

/// `policy explain`: the effective posture per declared server.
pub fn explain(args: ExplainArgs) -> Result<i32, Failure> {
    let policy = load_policy(&args.files)?;
    let expectations = effective::expectations(&policy);
    write_outputs(
        &explain::render(&expectations, args.cert_type.into()),
        || serde_json::to_string_pretty(&expectations).unwrap_or_default() + "\n",
        args.json.as_deref(),
    )?;
    Ok(exit::CLEAN)
}
