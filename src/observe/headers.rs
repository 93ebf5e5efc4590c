//! HTTP response headers of the target, per host and path: HSTS parsed,
//! the server banner, the security headers.
//!
//! `Hsts` and the `HeaderProbe` fields `host`, `path`, `status`, `hsts`
//! are the contract the grade reads. Nothing here judges: what is wrong
//! with an HSTS header is recorded as `problems` (the words testssl.sh's
//! `run_hsts` uses for the same cases), the verdict decides what that is
//! worth.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// HSTS shorter than this (180 days, in seconds) is what testssl.sh's
/// `run_hsts` (`HSTS_MIN`) and SSL Labs' A+ rule call too short.
pub const HSTS_MIN_MAX_AGE: u64 = 15_552_000;

/// The problem that makes clients ignore the whole header (RFC 6797 6.1).
const REPEATED: &str = "appears more than once (clients ignore the header)";

/// A Strict-Transport-Security header, parsed (RFC 6797).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Hsts {
    /// The header as sent (the first one when there were several).
    pub raw: String,
    /// `max-age` in seconds; `None` when missing or not a number.
    pub max_age: Option<u64>,
    pub include_subdomains: bool,
    pub preload: bool,
    /// What is wrong with it (missing or invalid max-age, duplicates …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// How many Strict-Transport-Security headers the answer carried
    /// (RFC 6797 8.1: a client uses only the first).
    #[serde(default = "one")]
    pub occurrences: u32,
}

fn one() -> u32 {
    1
}

impl Hsts {
    /// Parses every occurrence of the header in one answer (`values` in
    /// the order sent; at least one). RFC 6797 6.1: directives are
    /// case-insensitive, separated by `;`, values may be quoted strings;
    /// `max-age` is required and is a non-negative integer; a directive
    /// that appears twice makes the header invalid. A client applies only
    /// the first header (8.1), so the fields come from the first; the
    /// others only add a problem.
    pub fn parse(values: &[&str]) -> Option<Hsts> {
        let first = *values.first()?;
        let mut hsts = Hsts {
            raw: first.to_owned(),
            max_age: None,
            include_subdomains: false,
            preload: false,
            problems: Vec::new(),
            occurrences: u32::try_from(values.len()).unwrap_or(u32::MAX),
        };
        if values.len() > 1 {
            let identical = values.iter().all(|v| v == &first);
            hsts.problems.push(format!(
                "{} Strict-Transport-Security headers{} (a client uses only the first)",
                values.len(),
                if identical {
                    ", identical"
                } else {
                    ", differing"
                }
            ));
        }
        let mut seen: Vec<String> = Vec::new();
        let mut max_age_seen = false;
        for directive in split_directives(first) {
            let (name, value) = match directive.split_once('=') {
                Some((n, v)) => (n.trim(), Some(unquote(v.trim()))),
                None => (directive.trim(), None),
            };
            if name.is_empty() {
                continue;
            }
            let lower = name.to_ascii_lowercase();
            if seen.contains(&lower) {
                hsts.problems.push(format!("directive {name} {REPEATED}"));
                continue;
            }
            seen.push(lower.clone());
            match lower.as_str() {
                "max-age" => {
                    max_age_seen = true;
                    match value {
                        Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
                            // More digits than a u64 holds is still a
                            // (very long) number.
                            let age = v.parse::<u64>().unwrap_or(u64::MAX);
                            hsts.max_age = Some(age);
                            if age == 0 {
                                hsts.problems.push(
                                    "max-age=0: tells clients to forget HSTS for this host"
                                        .to_owned(),
                                );
                            } else if age < HSTS_MIN_MAX_AGE {
                                hsts.problems.push(format!(
                                    "max-age={age} is shorter than 180 days ({HSTS_MIN_MAX_AGE} s)"
                                ));
                            }
                        }
                        Some(v) => hsts.problems.push(format!("max-age {v:?} is not a number")),
                        None => hsts.problems.push("max-age without a value".to_owned()),
                    }
                }
                "includesubdomains" => hsts.include_subdomains = true,
                "preload" => hsts.preload = true,
                _ => {}
            }
        }
        if !max_age_seen {
            hsts.problems
                .push("no max-age (required by RFC 6797 6.1.1)".to_owned());
        }
        Some(hsts)
    }

    /// Whether clients would keep HSTS from it: a numeric max-age > 0 and
    /// no directive twice.
    pub fn is_valid(&self) -> bool {
        self.max_age.is_some_and(|a| a > 0) && !self.problems.iter().any(|p| p.contains(REPEATED))
    }
}

/// `;`-separated directives, a `;` inside a quoted string not splitting.
fn split_directives(header: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in header.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                parts.push(&header[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&header[start..]);
    parts
}

/// A quoted-string's content (RFC 7230 3.2.6), or the token as is.
fn unquote(value: &str) -> String {
    match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::new();
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    if let Some(next) = chars.next() {
                        out.push(next);
                    }
                } else {
                    out.push(c);
                }
            }
            out
        }
        None => value.to_owned(),
    }
}

/// The security headers looked for, lower-case, in report order.
pub const SECURITY_HEADERS: [&str; 8] = [
    "x-frame-options",
    "x-content-type-options",
    "content-security-policy",
    "referrer-policy",
    "permissions-policy",
    "cross-origin-opener-policy",
    "cross-origin-resource-policy",
    "cross-origin-embedder-policy",
];

/// One security header as the answer carried it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HeaderValue {
    /// Lower-case name.
    pub name: String,
    pub value: String,
}

/// One HTTP request over TLS and the headers its answer carried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HeaderProbe {
    /// The Host asked for.
    pub host: String,
    pub path: String,
    /// The answer's status; `None` when there was no HTTP answer.
    pub status: Option<u16>,
    /// Why there was no answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `None`: no Strict-Transport-Security header.
    pub hsts: Option<Hsts>,
    /// The path was a random one no application serves: the answer is
    /// the gateway's own (an Envoy local reply, a 404 page), which shows
    /// whether HSTS is added to every answer or only to the
    /// application's (envoyproxy/envoy#7554).
    #[serde(default)]
    pub random_path: bool,
    /// The `Server` header (a banner naming the software, maybe its
    /// version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// `X-Powered-By`, another banner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub powered_by: Option<String>,
    /// Of [`SECURITY_HEADERS`], those present (first occurrence each).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_headers: Vec<HeaderValue>,
    /// Of [`SECURITY_HEADERS`], those absent (only for an HTTP answer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_headers: Vec<String>,
}

impl HeaderProbe {
    /// A probe with no HTTP answer.
    pub fn failed(host: &str, path: &str, random_path: bool, error: String) -> HeaderProbe {
        HeaderProbe {
            host: host.to_owned(),
            path: path.to_owned(),
            status: None,
            error: Some(error),
            hsts: None,
            random_path,
            server: None,
            powered_by: None,
            security_headers: Vec::new(),
            missing_headers: Vec::new(),
        }
    }

    /// A probe from an HTTP answer's headers (lower-case names, each
    /// occurrence in order).
    pub fn answered(
        host: &str,
        path: &str,
        random_path: bool,
        status: u16,
        headers: &[(String, String)],
    ) -> HeaderProbe {
        let all = |name: &str| -> Vec<&str> {
            headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
                .collect()
        };
        let first = |name: &str| all(name).first().map(|v| (*v).to_owned());
        let mut security_headers = Vec::new();
        let mut missing_headers = Vec::new();
        for name in SECURITY_HEADERS {
            match first(name) {
                Some(value) => security_headers.push(HeaderValue {
                    name: name.to_owned(),
                    value,
                }),
                None => missing_headers.push(name.to_owned()),
            }
        }
        HeaderProbe {
            host: host.to_owned(),
            path: path.to_owned(),
            status: Some(status),
            error: None,
            hsts: Hsts::parse(&all("strict-transport-security")),
            random_path,
            server: first("server"),
            powered_by: first("x-powered-by"),
            security_headers,
            missing_headers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_header_parses() {
        let h = Hsts::parse(&["max-age=63072000; includeSubDomains; preload"]).unwrap();
        assert_eq!(h.max_age, Some(63_072_000));
        assert!(h.include_subdomains && h.preload);
        assert!(h.problems.is_empty(), "{:?}", h.problems);
        assert!(h.is_valid());
        assert_eq!(h.occurrences, 1);
    }

    #[test]
    fn directives_are_case_insensitive_and_values_may_be_quoted() {
        let h = Hsts::parse(&["MAX-AGE=\"31536000\" ;INCLUDESUBDOMAINS"]).unwrap();
        assert_eq!(h.max_age, Some(31_536_000));
        assert!(h.include_subdomains && !h.preload);
        assert!(h.problems.is_empty(), "{:?}", h.problems);
        // A `;` inside a quoted value does not split.
        let h = Hsts::parse(&["foo=\"a;b\"; max-age=15552000"]).unwrap();
        assert_eq!(h.max_age, Some(15_552_000));
        assert!(h.problems.is_empty(), "{:?}", h.problems);
    }

    #[test]
    fn problems_are_recorded() {
        let cases: [(&[&str], Option<u64>, &str); 7] = [
            (&["includeSubDomains"], None, "no max-age"),
            (&["max-age=abc"], None, "not a number"),
            (&["max-age=-1"], None, "not a number"),
            (&["max-age"], None, "without a value"),
            (&["max-age=0"], Some(0), "forget HSTS"),
            (&["max-age=86400"], Some(86_400), "shorter than 180 days"),
            (&["max-age=1; max-age=2"], Some(1), "more than once"),
        ];
        assert!(!Hsts::parse(&["max-age=31536000; preload; preload"])
            .unwrap()
            .is_valid());
        for (values, age, problem) in cases {
            let h = Hsts::parse(values).unwrap();
            assert_eq!(h.max_age, age, "{values:?}");
            assert!(
                h.problems.iter().any(|p| p.contains(problem)),
                "{values:?}: {:?}",
                h.problems
            );
        }
        let doubled = Hsts::parse(&["max-age=31536000", "max-age=10"]).unwrap();
        assert_eq!(doubled.max_age, Some(31_536_000));
        assert_eq!(doubled.occurrences, 2);
        assert!(doubled.problems[0].contains("2 Strict-Transport-Security headers, differing"));
        assert!(Hsts::parse(&[]).is_none());
    }

    #[test]
    fn an_answer_lists_present_and_missing_security_headers() {
        let headers = vec![
            ("server".to_owned(), "nginx/1.26".to_owned()),
            ("x-frame-options".to_owned(), "DENY".to_owned()),
            (
                "strict-transport-security".to_owned(),
                "max-age=1".to_owned(),
            ),
        ];
        let p = HeaderProbe::answered("h", "/", false, 200, &headers);
        assert_eq!(p.server.as_deref(), Some("nginx/1.26"));
        assert_eq!(p.security_headers.len(), 1);
        assert_eq!(p.missing_headers.len(), SECURITY_HEADERS.len() - 1);
        assert_eq!(p.hsts.unwrap().max_age, Some(1));
    }
}
