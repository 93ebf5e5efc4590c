//! `tlsposture merge`: the shards of a fan-out (each a `--jsonl` or
//! `--json` report) as one report, with the fleet's exit code: the worst
//! over its parts, 2 when any target could not be scanned. The parts are
//! streamed through the same sink as a scan, so a merge of thousands of
//! targets holds one summary, not thousands of reports.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use anyhow::anyhow;
use tlsposture::report::model::{Report, SCHEMA_VERSION};

use super::stream::{Destinations, Sink};
use super::{now, usage, Failure};
use crate::cli::MergeArgs;

pub fn run(args: MergeArgs, color: bool) -> Result<i32, Failure> {
    let dest = Destinations {
        json: args.json.clone(),
        jsonl: args.jsonl.clone(),
        junit: args.junit.clone(),
        sarif: args.sarif.clone(),
        html: args.html.clone(),
        fail_on: Some(args.fail_on),
    };
    let mut sink = Sink::open(dest, color, now(), 0, false)?;
    let mut parts = 0usize;
    for path in &args.files {
        parts += merge_file(path, &mut sink)?;
    }
    let line = format!("merged {parts} report(s) from {} file(s)", args.files.len());
    sink.finish(None, tlsposture::verdict::exit::UNSCANNABLE, Some(line))
}

/// Every report in `path` (one pretty JSON report, or JSON lines), into
/// the sink; how many there were.
fn merge_file(path: &PathBuf, sink: &mut Sink) -> Result<usize, Failure> {
    let file =
        File::open(path).map_err(|e| usage(anyhow!("cannot read {}: {e}", path.display())))?;
    let reports = serde_json::Deserializer::from_reader(BufReader::new(file)).into_iter::<Report>();
    let mut count = 0;
    for report in reports {
        let report = report.map_err(|e| {
            usage(anyhow!(
                "{}:{}:{}: not a tlsposture report: {e}",
                path.display(),
                e.line(),
                e.column()
            ))
        })?;
        if report.schema_version > SCHEMA_VERSION {
            return Err(usage(anyhow!(
                "{}: report schema_version {} is newer than this tlsposture reads ({SCHEMA_VERSION}): upgrade it",
                path.display(),
                report.schema_version
            )));
        }
        count += 1;
        sink.add(report)?;
    }
    if count == 0 {
        // A shard that held none of the list's targets writes an empty
        // JSONL file (its scan did its part and exited 0): nothing to add.
        eprintln!(
            "tlsposture: {}: no target in it (a shard the list gave none to)",
            path.display()
        );
    }
    Ok(count)
}
