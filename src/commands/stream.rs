//! Where a report goes while it is being made: each finished target is
//! rendered at once (terminal, `--jsonl` line, its place in a streamed
//! `--json`) and then dropped, so a run of thousands of targets holds one
//! summary, not thousands of reports. Only the files that need the whole
//! report at the end (JUnit, SARIF, HTML) make the sink keep the targets.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tlsposture::report::model::{
    Interruption, PolicyContext, Report, Severity, Summary, TargetReport, ToolInfo, SCHEMA_VERSION,
};
use tlsposture::report::{html, json, junit, sarif, terminal};

use super::output::text_style;
use super::{now, unscannable, usage, Failure};

/// The files and streams a run writes.
#[derive(Debug, Clone, Default)]
pub struct Destinations {
    /// `--json FILE|-`: the whole report.
    pub json: Option<PathBuf>,
    /// `--jsonl FILE|-`: one single-target report per line.
    pub jsonl: Option<PathBuf>,
    /// `--junit FILE`.
    pub junit: Option<PathBuf>,
    /// `--sarif FILE`.
    pub sarif: Option<PathBuf>,
    /// `--html FILE`.
    pub html: Option<PathBuf>,
    pub fail_on: Option<Severity>,
}

impl Destinations {
    fn to_stdout(path: Option<&Path>) -> bool {
        path == Some(Path::new("-"))
    }

    /// Whether the terminal text moves to stderr (a machine format owns
    /// stdout).
    fn text_on_stderr(&self) -> bool {
        Self::to_stdout(self.json.as_deref()) || Self::to_stdout(self.jsonl.as_deref())
    }

    /// Whether the sink must keep every target for a file written at the
    /// end.
    fn keeps_targets(&self) -> bool {
        self.junit.is_some() || self.sarif.is_some() || self.html.is_some()
    }
}

type Out = Box<dyn Write + Send>;

fn open(path: &Path, what: &str) -> Result<Out, Failure> {
    if path == Path::new("-") {
        return Ok(Box::new(std::io::stdout()));
    }
    let file = File::create(path)
        .with_context(|| format!("cannot write the {what} to {}", path.display()))
        .map_err(usage)?;
    Ok(Box::new(BufWriter::new(file)))
}

/// The streaming writer of one run's report.
pub struct Sink {
    dest: Destinations,
    style: terminal::Style,
    text_to_stderr: bool,
    json: Option<Out>,
    jsonl: Option<Out>,
    started_at: String,
    summary: Summary,
    targets: usize,
    handshakes: u32,
    policy: Option<PolicyContext>,
    kept: Vec<TargetReport>,
    progress: ProgressBar,
}

impl Sink {
    /// Opens every output (so an unwritable path fails before the first
    /// connection, exit 64) and starts the progress bar for `planned`
    /// targets.
    ///
    /// # Errors
    /// Two machine formats on stdout, or a file that cannot be created.
    pub fn open(
        dest: Destinations,
        color: bool,
        started_at: String,
        planned: usize,
        progress: bool,
    ) -> Result<Sink, Failure> {
        if Destinations::to_stdout(dest.json.as_deref())
            && Destinations::to_stdout(dest.jsonl.as_deref())
        {
            return Err(usage(anyhow!(
                "--json - and --jsonl - both want stdout: send one of them to a file"
            )));
        }
        let text_to_stderr = dest.text_on_stderr();
        let style = text_style(color, text_to_stderr);
        let mut json = match &dest.json {
            Some(path) => Some(open(path, "JSON report")?),
            None => None,
        };
        let jsonl = match &dest.jsonl {
            Some(path) => Some(open(path, "JSONL report")?),
            None => None,
        };
        if let Some(out) = json.as_mut() {
            write(
                out,
                &json::head(SCHEMA_VERSION, &ToolInfo::default(), &started_at),
                "JSON report",
            )?;
        }
        let progress = if progress && planned > 1 && std::io::stderr().is_terminal() {
            let bar =
                ProgressBar::with_draw_target(Some(planned as u64), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:40} {pos}/{len} targets {elapsed_precise} (eta {eta}) {msg}",
            ) {
                bar.set_style(style);
            }
            bar
        } else {
            ProgressBar::hidden()
        };
        Ok(Sink {
            dest,
            style,
            text_to_stderr,
            json,
            jsonl,
            started_at,
            summary: Summary::default(),
            targets: 0,
            handshakes: 0,
            policy: None,
            kept: Vec::new(),
            progress,
        })
    }

    /// Renders one finished part of the run (a report of one target, or a
    /// shard's whole report) everywhere it goes, and folds its summary in.
    ///
    /// # Errors
    /// An output that can no longer be written (exit 2: the result did
    /// not reach its reader).
    pub fn add(&mut self, part: Report) -> Result<(), Failure> {
        if let Some(out) = self.jsonl.as_mut() {
            write(out, &json::line(&part), "JSONL report")?;
            out.flush()
                .map_err(|e| unscannable(anyhow!("cannot write the JSONL report: {e}")))?;
        }
        let mut text = String::new();
        for target in &part.targets {
            text.push_str(&terminal::render_target(target, self.style));
            text.push('\n');
        }
        let to_stderr = self.text_to_stderr;
        self.progress.suspend(|| print_text(&text, to_stderr))?;
        if let Some(out) = self.json.as_mut() {
            for (i, target) in part.targets.iter().enumerate() {
                let first = self.targets + i == 0;
                write(out, &json::target(target, first), "JSON report")?;
            }
        }
        self.targets += part.targets.len();
        self.handshakes += part.targets.iter().map(|t| t.stats.handshakes).sum::<u32>();
        self.summary.combine(&part.summary);
        merge_context(&mut self.policy, part.policy);
        self.progress.inc(part.targets.len() as u64);
        if self.dest.keeps_targets() {
            self.kept.extend(part.targets);
        }
        Ok(())
    }

    /// A note under the progress bar (e.g. a target that failed).
    pub fn note(&self, line: &str) {
        self.progress.suspend(|| eprintln!("{line}"));
    }

    /// Ends the report: the summary (`empty_exit` is the exit code when no
    /// target was scanned at all), the interruption if any, the closing
    /// lines and the files that needed the whole report. Returns the
    /// run's exit code.
    ///
    /// # Errors
    /// An output that cannot be written.
    pub fn finish(
        mut self,
        interrupted: Option<Interruption>,
        empty_exit: i32,
        fleet_line: Option<String>,
    ) -> Result<i32, Failure> {
        self.progress.finish_and_clear();
        let mut summary = self.summary.clone();
        if self.targets == 0 {
            summary.exit_code = summary.exit_code.max(empty_exit);
        }
        let mut text = String::new();
        if let Some(cut) = &interrupted {
            super::interrupt::mark(&mut summary, &cut.signal);
            text.push_str(&format!(
                "INTERRUPTED by {}: partial report; not scanned: {}\n",
                cut.signal,
                cut.unscanned.join(", ")
            ));
        }
        text.push_str(&terminal::closing_line(
            &summary,
            self.targets,
            self.handshakes,
        ));
        text.push('\n');
        if let Some(line) = fleet_line {
            text.push_str(&line);
            text.push('\n');
        }
        if let Some(gate) = &summary.baseline_report {
            eprintln!("tlsposture: {}", tlsposture::report::diff::gate_line(gate));
        }
        print_text(&text, self.text_to_stderr)?;
        let finished_at = now();
        if let Some(out) = self.json.as_mut() {
            write(
                out,
                &json::tail(
                    &finished_at,
                    self.policy.as_ref(),
                    &summary,
                    interrupted.as_ref(),
                    self.targets == 0,
                ),
                "JSON report",
            )?;
            out.flush()
                .map_err(|e| unscannable(anyhow!("cannot write the JSON report: {e}")))?;
        }
        if let Some(out) = self.jsonl.as_mut() {
            out.flush()
                .map_err(|e| unscannable(anyhow!("cannot write the JSONL report: {e}")))?;
        }
        let exit_code = summary.exit_code;
        let report = Report {
            schema_version: SCHEMA_VERSION,
            tool: ToolInfo::default(),
            started_at: self.started_at,
            finished_at,
            targets: self.kept,
            policy: self.policy,
            summary,
            interrupted,
        };
        let fail_on = self.dest.fail_on.unwrap_or(Severity::High);
        if let Some(path) = &self.dest.junit {
            std::fs::write(path, junit::render(&report, fail_on))
                .with_context(|| format!("cannot write the JUnit report to {}", path.display()))
                .map_err(usage)?;
        }
        if let Some(path) = &self.dest.sarif {
            std::fs::write(path, sarif::render(&report, fail_on))
                .with_context(|| format!("cannot write the SARIF log to {}", path.display()))
                .map_err(usage)?;
        }
        if let Some(path) = &self.dest.html {
            std::fs::write(path, html::render(&report, fail_on))
                .with_context(|| format!("cannot write the HTML report to {}", path.display()))
                .map_err(usage)?;
        }
        Ok(exit_code)
    }
}

/// One policy context for the run: the first part's, with every part's
/// declared servers (the fleet compares different servers per address).
fn merge_context(ours: &mut Option<PolicyContext>, theirs: Option<PolicyContext>) {
    let Some(theirs) = theirs else { return };
    match ours {
        None => *ours = Some(theirs),
        Some(ours) => {
            for server in theirs.servers {
                if !ours.servers.contains(&server) {
                    ours.servers.push(server);
                }
            }
        }
    }
}

fn write(out: &mut Out, text: &str, what: &str) -> Result<(), Failure> {
    out.write_all(text.as_bytes())
        .map_err(|e| unscannable(anyhow!("cannot write the {what}: {e}")))
}

/// The terminal text, on stdout or (a machine format owns stdout) stderr.
/// A closed stdout is an error (exit 2); stderr is a courtesy.
fn print_text(text: &str, to_stderr: bool) -> Result<(), Failure> {
    if to_stderr {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
        return Ok(());
    }
    super::output::print_text(text)
}
