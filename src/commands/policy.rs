//! `tlsposture policy lint` and `policy explain`: the declared policy
//! offline, no network.

use anyhow::Context;
use tlsposture::policy::{self, effective, istiod, lint};
use tlsposture::report::explain;
use tlsposture::report::lint as render;
use tlsposture::report::sarif;
use tlsposture::verdict::exit;

use super::output::write_outputs;
use super::{load_policy, usage, Failure};
use crate::cli::{ExplainArgs, LintArgs};

/// `policy lint`: read every file (64 on the first unreadable or invalid
/// one, naming file:line:col and field), lint, print, exit 0 or 1.
pub fn lint(args: LintArgs) -> Result<i32, Failure> {
    let policy = policy::load_files(&args.files).map_err(usage)?;
    let findings = lint::lint_at(&policy, args.istio_version);
    let code = if findings.iter().any(|f| f.severity >= args.fail_on) {
        exit::FINDINGS
    } else {
        exit::CLEAN
    };
    if let Some(path) = &args.sarif {
        std::fs::write(path, sarif::render_lint(&findings, args.fail_on, code))
            .with_context(|| format!("cannot write the SARIF log to {}", path.display()))
            .map_err(usage)?;
    }
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
    let resolved = istiod::resolve(&policy, args.istio_version);
    let expectations = effective::expectations_of(&policy, &resolved);
    write_outputs(
        &explain::render_with(
            args.istio_version,
            &expectations,
            &resolved.dropped,
            args.cert_type.into(),
        ),
        || {
            let view = explain::json(args.istio_version, &expectations, &resolved.dropped);
            serde_json::to_string_pretty(&view).unwrap_or_default() + "\n"
        },
        args.json.as_deref(),
    )?;
    Ok(exit::CLEAN)
}
