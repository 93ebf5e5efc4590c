//! The terminal section for the vulnerability battery: one row per check,
//! in the report's order, so a reader sees what was tested as well as what
//! was found (a missing row would read as "not checked").

use comfy_table::{Attribute, Cell, Color};

use super::model::TargetReport;
use super::terminal::{new_table, Style};
use crate::observe::VulnStatus;

/// Appends the section to `out` (nothing when there is nothing to show).
pub(super) fn render(out: &mut String, target: &TargetReport, style: Style) {
    if target.vulnerabilities.is_empty() {
        return;
    }
    out.push_str("Vulnerabilities\n");
    let mut table = new_table(style, vec!["Check", "Status", "Evidence"]);
    for v in &target.vulnerabilities {
        let mut status = Cell::new(v.status.name());
        if style.color {
            let color = match v.status {
                VulnStatus::Vulnerable => Color::Red,
                VulnStatus::NotVulnerable => Color::Green,
                VulnStatus::Unknown => Color::Yellow,
                VulnStatus::NotApplicable => Color::Reset,
            };
            status = status.fg(color);
            if v.status == VulnStatus::Vulnerable {
                status = status.add_attribute(Attribute::Bold);
            }
        }
        table.add_row(vec![Cell::new(v.id.name()), status, Cell::new(&v.evidence)]);
    }
    out.push_str(&table.to_string());
    out.push('\n');
}
