//! The `--targets FILE` format: one target per line, `HOST[:PORT] [SNI...]`,
//! `#` starting a comment, blank lines ignored. It is the smallest format a
//! shell loop or `kubectl … -o jsonpath` can write, and what sslscan's and
//! testssl.sh's `--file` users already keep (anchors-2 §1).
//!
//! Every line is validated before the first connection, so a typo on line
//! 900 is a usage error naming the file and line, not a target that fails
//! after 899 were scanned.

use crate::target::{ServerName, ServerNameError, TargetError, TargetSpec};

/// One target of a run and where it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetEntry {
    /// `HOST[:PORT]` as written (validated by [`TargetSpec::parse`]).
    pub target: String,
    /// Names to send, the first for the protocol and suite probes; empty:
    /// the run's `--sni` (or the host's own name).
    pub sni: Vec<String>,
    /// `file:line` or `argument N`: what an error or a report names.
    pub source: String,
    /// The declared port the target serves, when discovery knows it (the
    /// Service port of a port-forward or load balancer); `None`: the
    /// run's `--declared-port`.
    pub declared_port: Option<u16>,
    /// The Gateways (`namespace/name`) that select this address, when
    /// discovery paired it with the policy; `None`: every declared one.
    pub gateways: Option<Vec<String>>,
}

impl TargetEntry {
    /// An entry from the command line.
    pub fn argument(target: &str, position: usize) -> Result<TargetEntry, TargetListError> {
        let source = format!("argument {position}");
        check_target(target, &source)?;
        Ok(TargetEntry {
            target: target.to_owned(),
            sni: Vec::new(),
            source,
            declared_port: None,
            gateways: None,
        })
    }

    /// The key a shard assignment and a report match on: the target and
    /// its names, normalised so that `a.example:443` and `A.example:443`
    /// are one target.
    pub fn key(&self) -> String {
        let target = TargetSpec::parse(&self.target)
            .map(|t| t.to_string())
            .unwrap_or_else(|_| self.target.clone());
        if self.sni.is_empty() {
            target
        } else {
            format!("{target} {}", self.sni.join(","))
        }
    }
}

/// A line of a targets file that is not a target.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetListError {
    #[error("{at}: {error}")]
    Target {
        at: String,
        #[source]
        error: TargetError,
    },
    #[error("{at}: SNI {name:?}: {error}")]
    Sni {
        at: String,
        name: String,
        #[source]
        error: ServerNameError,
    },
    #[error("{at}: line longer than {max} bytes")]
    LineTooLong { at: String, max: usize },
}

/// Longer lines are refused: no target and its names come near it, and a
/// binary file given by mistake then fails at its first line.
pub const MAX_LINE: usize = 4096;

/// Parses one line of `file` (`line` counted from 1); `Ok(None)` for a
/// blank or comment line.
///
/// # Errors
/// The target or a name that does not parse, naming `file:line`.
pub fn parse_line(
    text: &str,
    file: &str,
    line: usize,
) -> Result<Option<TargetEntry>, TargetListError> {
    let source = format!("{file}:{line}");
    if text.len() > MAX_LINE {
        return Err(TargetListError::LineTooLong {
            at: source,
            max: MAX_LINE,
        });
    }
    let content = text.split('#').next().unwrap_or("");
    let mut words = content.split_whitespace();
    let Some(target) = words.next() else {
        return Ok(None);
    };
    check_target(target, &source)?;
    let sni = words
        .map(|name| {
            ServerName::parse(name)
                .map(|n| n.to_string())
                .map_err(|error| TargetListError::Sni {
                    at: source.clone(),
                    name: name.to_owned(),
                    error,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(TargetEntry {
        target: target.to_owned(),
        sni,
        source,
        declared_port: None,
        gateways: None,
    }))
}

/// Every entry of a targets file's text.
///
/// # Errors
/// The first line that is not a target.
pub fn parse_list(text: &str, file: &str) -> Result<Vec<TargetEntry>, TargetListError> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| parse_line(line, file, i + 1).transpose())
        .collect()
}

fn check_target(target: &str, source: &str) -> Result<(), TargetListError> {
    TargetSpec::parse(target)
        .map(|_| ())
        .map_err(|error| TargetListError::Target {
            at: source.to_owned(),
            error,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_carry_targets_names_and_comments() {
        let text = "# fleet\n\n127.0.0.1:8443 a.example b.example # the lab\n  [::1]:9443\n";
        let entries = parse_list(text, "t.txt").unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].target, "127.0.0.1:8443");
        assert_eq!(entries[0].sni, ["a.example", "b.example"]);
        assert_eq!(entries[0].source, "t.txt:3");
        assert_eq!(entries[1].target, "[::1]:9443");
        assert!(entries[1].sni.is_empty());
        assert_eq!(entries[1].source, "t.txt:4");
    }

    #[test]
    fn a_bad_line_names_its_file_and_line() {
        let err = parse_list("127.0.0.1:443\nhost:99999\n", "f").unwrap_err();
        assert!(err.to_string().starts_with("f:2: invalid port"), "{err}");
        let err = parse_list("127.0.0.1:443 bad..name\n", "f").unwrap_err();
        assert!(
            err.to_string().starts_with("f:1: SNI \"bad..name\""),
            "{err}"
        );
        let long = "a".repeat(MAX_LINE + 1);
        assert!(matches!(
            parse_line(&long, "f", 7),
            Err(TargetListError::LineTooLong { .. })
        ));
    }

    #[test]
    fn keys_are_normalised() {
        let a = parse_line("GW.Example:443", "f", 1).unwrap().unwrap();
        let b = parse_line("gw.example", "f", 2).unwrap().unwrap();
        assert_eq!(a.key(), b.key());
        let c = parse_line("gw.example x.example", "f", 3).unwrap().unwrap();
        assert_ne!(a.key(), c.key());
    }
}
