//! The terminal section for the vulnerability battery.
//!
//! CONTRACT SKELETON: the helper that owns `vulns` fills this in.

use super::model::TargetReport;
use super::terminal::Style;

/// Appends the section to `out` (nothing when there is nothing to show).
pub(super) fn render(out: &mut String, target: &TargetReport, style: Style) {
    let _ = (out, target, style);
}
