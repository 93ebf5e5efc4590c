//! `tlsposture diff OLD NEW`: what moved between two runs' reports, and
//! (`--fail-on-new`) a gate on what is new. Reads the files and prints;
//! the comparison is `verdict::diff`'s, the rendering `report::diff`'s.

use std::path::Path;

use anyhow::Context;
use tlsposture::report::diff::{self, ReportDiff};
use tlsposture::report::model::Report;
use tlsposture::report::read::parse_reports;
use tlsposture::verdict::exit;

use super::output::{text_style, write_outputs};
use super::{usage, Failure};
use crate::cli::DiffArgs;

pub fn run(args: DiffArgs, color: bool) -> Result<i32, Failure> {
    let old = read_reports(&args.old)?;
    let new = read_reports(&args.new)?;
    let compared = diff::compare(&old, &new);
    let style = text_style(color, args.json.as_deref() == Some(Path::new("-")));
    write_outputs(
        &diff::render(&compared, style),
        || diff::render_json(&compared),
        args.json.as_deref(),
    )?;
    Ok(exit_code(&compared, args.fail_on_new))
}

/// 1 when something new is at or above the threshold; 0 otherwise, and
/// always 0 without one (a report, not a gate).
fn exit_code(compared: &ReportDiff, fail_on_new: Option<tlsposture::finding::Severity>) -> i32 {
    match (fail_on_new, compared.summary.worst_new()) {
        (Some(threshold), Some(worst)) if worst >= threshold => exit::FINDINGS,
        _ => exit::CLEAN,
    }
}

/// The reports in a `--json` or JSONL file.
///
/// # Errors
/// A usage error (64) naming the file, and the line and column where it
/// stops being a report.
pub fn read_reports(path: &Path) -> Result<Vec<Report>, Failure> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the report {}", path.display()))
        .map_err(usage)?;
    parse_reports(&path.display().to_string(), &text).map_err(usage)
}
