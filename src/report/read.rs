//! Reading reports back: the JSON a scan writes (`--json`), or JSONL (one
//! single-target report per line, as fleet runs stream them), for `diff`
//! and `scan --baseline-report`. Parses text it is given; opening the file
//! is the caller's business.

use thiserror::Error;

use super::model::{Report, SCHEMA_VERSION};

/// Why a file is not a report this tool can read.
#[derive(Debug, Error, PartialEq)]
pub enum ReadError {
    /// Not JSON, or JSON that is not a report (a missing or mistyped field).
    #[error("{file}:{line}:{column}: not a tlsposture report: {message}")]
    Invalid {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: empty: no report in it")]
    Empty { file: String },
    /// Written by a newer tool whose fields may mean something else.
    #[error(
        "{file}:{line}: schema_version {found} is newer than this tool reads ({SCHEMA_VERSION})"
    )]
    Newer {
        file: String,
        line: usize,
        found: u32,
    },
}

/// Every report in `text` (`file` names it in errors): one JSON document,
/// or several one after the other as in JSONL. Lines and columns in errors
/// are the file's, so a bad JSONL record is named by its line.
///
/// # Errors
/// The first record that is not a report, an empty file, or a report with
/// a newer `schema_version`.
pub fn parse_reports(file: &str, text: &str) -> Result<Vec<Report>, ReadError> {
    let mut reports = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Report>();
    loop {
        // The record starts after the whitespace that precedes it.
        let skipped = text[stream.byte_offset()..]
            .find(|c: char| !c.is_whitespace())
            .map_or(text.len(), |n| stream.byte_offset() + n);
        let Some(next) = stream.next() else { break };
        let report = next.map_err(|e| ReadError::Invalid {
            file: file.to_owned(),
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        })?;
        if report.schema_version > SCHEMA_VERSION {
            return Err(ReadError::Newer {
                file: file.to_owned(),
                line: text[..skipped].matches('\n').count() + 1,
                found: report.schema_version,
            });
        }
        reports.push(report);
    }
    if reports.is_empty() {
        return Err(ReadError::Empty {
            file: file.to_owned(),
        });
    }
    Ok(reports)
}

/// serde_json ends its messages with " at line L column C", which the
/// error already puts first.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report_json(address: &str) -> String {
        let report = Report {
            schema_version: SCHEMA_VERSION,
            tool: Default::default(),
            started_at: "2026-12-02T00:00:00Z".into(),
            finished_at: "2026-12-02T00:00:01Z".into(),
            targets: Vec::new(),
            policy: None,
            summary: Default::default(),
            interrupted: None,
        };
        let mut value = serde_json::to_value(report).unwrap();
        value["tool"]["name"] = address.into();
        serde_json::to_string(&value).unwrap()
    }

    #[test]
    fn one_json_document_or_one_report_per_line() {
        let pretty = serde_json::to_string_pretty(
            &serde_json::from_str::<serde_json::Value>(&report_json("a")).unwrap(),
        )
        .unwrap();
        assert_eq!(parse_reports("a.json", &pretty).unwrap().len(), 1);
        let lines = format!("{}\n{}\n", report_json("a"), report_json("b"));
        let reports = parse_reports("fleet.jsonl", &lines).unwrap();
        let names: Vec<&str> = reports.iter().map(|r| r.tool.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn errors_name_the_file_and_the_line() {
        let text = format!("{}\n{{\"schema_version\": 1}}\n", report_json("a"));
        let err = parse_reports("fleet.jsonl", &text).unwrap_err();
        match &err {
            ReadError::Invalid { line, message, .. } => {
                assert_eq!(*line, 2);
                assert!(message.contains("missing field"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().starts_with("fleet.jsonl:2:"), "{err}");
        assert_eq!(
            parse_reports("e.json", " \n"),
            Err(ReadError::Empty {
                file: "e.json".into()
            })
        );
        let newer = format!(
            "{}\n{}",
            report_json("a"),
            report_json("b").replace("\"schema_version\":1", "\"schema_version\":9")
        );
        assert_eq!(
            parse_reports("n.jsonl", &newer),
            Err(ReadError::Newer {
                file: "n.jsonl".into(),
                line: 2,
                found: 9
            })
        );
    }
}
