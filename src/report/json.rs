//! The JSON report (contract in DESIGN.md).

use super::model::Report;

/// The report as pretty-printed JSON with a trailing newline.
pub fn render(report: &Report) -> String {
    // Serialising plain data structs with string keys cannot fail.
    let mut out = serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\": \"report serialisation failed: {e}\"}}"));
    out.push('\n');
    out
}
