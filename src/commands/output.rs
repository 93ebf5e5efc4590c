//! Where every command's output goes: the text/JSON contract shared by all
//! commands, and the scan report's renderers (table, JSON, JUnit, SARIF,
//! HTML). Renders what it is given; decides nothing.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{anyhow, Context};
use tlsposture::report::model::Report;
use tlsposture::report::model::Severity;
use tlsposture::report::{html, json, junit, sarif, terminal};

use super::{unscannable, usage, Failure};

/// Where a scan report goes besides the terminal.
pub struct ReportOutputs<'a> {
    pub json: Option<&'a Path>,
    pub junit: Option<&'a Path>,
    pub sarif: Option<&'a Path>,
    pub html: Option<&'a Path>,
    pub fail_on: Severity,
}

/// The terminal width the tables wrap at (`COLUMNS`, else 110).
pub(super) fn terminal_width() -> u16 {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(110)
}

/// The style of the text report: colour only when asked for and when the
/// stream the text goes to (stderr while the JSON takes stdout) is a
/// terminal, so no escape code lands in a file or a pipe.
pub(super) fn text_style(color: bool, text_on_stderr: bool) -> terminal::Style {
    let tty = if text_on_stderr {
        std::io::stderr().is_terminal()
    } else {
        std::io::stdout().is_terminal()
    };
    terminal::Style {
        color: color && tty,
        width: terminal_width(),
    }
}

/// Prints the report: the table on stdout (stderr when the JSON goes to
/// stdout), the JSON wherever `--json` says, the JUnit and HTML files if
/// asked for.
pub fn emit(report: &Report, outputs: &ReportOutputs<'_>, color: bool) -> Result<(), Failure> {
    if let Some(path) = outputs.junit {
        std::fs::write(path, junit::render(report, outputs.fail_on))
            .with_context(|| format!("cannot write the JUnit report to {}", path.display()))
            .map_err(usage)?;
    }
    if let Some(path) = outputs.sarif {
        std::fs::write(path, sarif::render(report, outputs.fail_on))
            .with_context(|| format!("cannot write the SARIF log to {}", path.display()))
            .map_err(usage)?;
    }
    if let Some(path) = outputs.html {
        std::fs::write(path, html::render(report, outputs.fail_on))
            .with_context(|| format!("cannot write the HTML report to {}", path.display()))
            .map_err(usage)?;
    }
    let style = text_style(color, outputs.json == Some(Path::new("-")));
    write_outputs(
        &terminal::render(report, style),
        || json::render(report),
        outputs.json,
    )
}

/// Writes `text` to stdout. A closed pipe or a full disk is an error the
/// run reports (one line, exit 2: the result did not reach its reader),
/// never a panic as `print!` would give.
pub fn print_text(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| unscannable(anyhow!("cannot write to stdout: {e}")))
}

/// Every command's output contract: with `--json -` the JSON alone on
/// stdout and the text on stderr; otherwise the text on stdout and the
/// JSON, if asked for, in its file.
pub fn write_outputs(
    text: &str,
    json: impl FnOnce() -> String,
    json_path: Option<&Path>,
) -> Result<(), Failure> {
    match json_path {
        Some(path) if path == Path::new("-") => {
            // The text is a courtesy on stderr; the JSON on stdout is the
            // output, and failing to write it is an error.
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
            let mut out = std::io::stdout().lock();
            out.write_all(json().as_bytes())
                .and_then(|_| out.flush())
                .map_err(|e| unscannable(anyhow!("cannot write the JSON report to stdout: {e}")))
        }
        other => {
            print_text(text)?;
            match other {
                Some(path) => std::fs::write(path, json())
                    .with_context(|| format!("cannot write the JSON report to {}", path.display()))
                    .map_err(usage),
                None => Ok(()),
            }
        }
    }
}
