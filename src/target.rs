//! What the user points the scanner at: `HOST[:PORT]` parsed into a host and
//! port, the SNI name that goes with it, and the addresses it resolves to.
//!
//! Parsing is strict and typed so a bad argument becomes one clear line (exit
//! 64) and an unresolvable name one clear line (exit 2), never a panic.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// The port a bare host name means, as for `https://`.
pub const DEFAULT_PORT: u16 = 443;

/// A host as the user wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Ip(IpAddr),
    Name(String),
}

impl Host {
    /// The host as an HTTP `Host` header or a URL authority carries it:
    /// see [`host_for_header`]; a name as given.
    pub fn for_header(&self) -> String {
        match self {
            Host::Ip(ip) => host_for_header(*ip),
            Host::Name(name) => name.clone(),
        }
    }
}

/// `ip` as an HTTP `Host` header or a URL authority carries it: an IPv6
/// address in brackets (RFC 3986 §3.2.2), so that its colons do not read
/// as a port separator; IPv4 as dotted decimal.
pub fn host_for_header(ip: IpAddr) -> String {
    match ip {
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    }
}

/// A parsed `HOST[:PORT]` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetSpec {
    pub host: Host,
    pub port: u16,
}

/// Why a target could not be parsed or resolved.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    #[error("empty target address")]
    Empty,
    #[error("invalid port {port:?} in target {input:?} (expected 1-65535)")]
    BadPort { input: String, port: String },
    #[error("invalid host name {host:?} in target {input:?}")]
    BadHost { input: String, host: String },
    #[error("unterminated IPv6 address in {0:?} (write it as [::1]:443)")]
    BadBracket(String),
    #[error("cannot resolve {host}: {reason}")]
    Unresolvable { host: String, reason: String },
}

impl TargetSpec {
    /// Parses `host`, `host:port`, `1.2.3.4:443`, `[::1]:8443`, a bare IPv6
    /// address, or an `https://host:port/path` URL (scheme and path ignored).
    pub fn parse(input: &str) -> Result<Self, TargetError> {
        let trimmed = input.trim();
        let mut rest = trimmed;
        if let Some(idx) = rest.find("://") {
            rest = &rest[idx + 3..];
            if let Some(slash) = rest.find('/') {
                rest = &rest[..slash];
            }
        }
        if rest.is_empty() {
            return Err(TargetError::Empty);
        }
        let bad_port = |port: &str| TargetError::BadPort {
            input: trimmed.to_string(),
            port: port.to_string(),
        };
        let parse_port = |port: &str| match port.parse::<u16>() {
            Ok(0) | Err(_) => Err(bad_port(port)),
            Ok(p) => Ok(p),
        };

        if let Some(after) = rest.strip_prefix('[') {
            let close = after
                .find(']')
                .ok_or_else(|| TargetError::BadBracket(trimmed.to_string()))?;
            let ip: IpAddr = after[..close].parse().map_err(|_| TargetError::BadHost {
                input: trimmed.to_string(),
                host: after[..close].to_string(),
            })?;
            let tail = &after[close + 1..];
            let port = match tail.strip_prefix(':') {
                Some(p) => parse_port(p)?,
                None if tail.is_empty() => DEFAULT_PORT,
                None => return Err(bad_port(tail)),
            };
            return Ok(TargetSpec {
                host: Host::Ip(ip),
                port,
            });
        }
        // Two or more colons without brackets: a bare IPv6 address.
        if rest.matches(':').count() >= 2 {
            let ip: IpAddr = rest.parse().map_err(|_| TargetError::BadHost {
                input: trimmed.to_string(),
                host: rest.to_string(),
            })?;
            return Ok(TargetSpec {
                host: Host::Ip(ip),
                port: DEFAULT_PORT,
            });
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (h, parse_port(p)?),
            None => (rest, DEFAULT_PORT),
        };
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(TargetSpec {
                host: Host::Ip(ip),
                port,
            });
        }
        if !is_valid_hostname(host) {
            return Err(TargetError::BadHost {
                input: trimmed.to_string(),
                host: host.to_string(),
            });
        }
        Ok(TargetSpec {
            host: Host::Name(host.trim_end_matches('.').to_ascii_lowercase()),
            port,
        })
    }

    /// The SNI a client would send: the host name, or none for an IP literal
    /// (RFC 6066 forbids IP addresses in server_name).
    pub fn default_sni(&self) -> Option<String> {
        match &self.host {
            Host::Name(name) => Some(name.clone()),
            Host::Ip(_) => None,
        }
    }

    /// Resolves to socket addresses, IP literals without any lookup.
    ///
    /// Errors with [`TargetError::Unresolvable`] when DNS gives nothing.
    pub async fn resolve(&self) -> Result<Vec<SocketAddr>, TargetError> {
        match &self.host {
            Host::Ip(ip) => Ok(vec![SocketAddr::new(*ip, self.port)]),
            Host::Name(name) => {
                let unresolvable = |reason: String| TargetError::Unresolvable {
                    host: name.clone(),
                    reason,
                };
                let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), self.port))
                    .await
                    .map_err(|e| unresolvable(e.to_string()))?
                    .collect();
                if addrs.is_empty() {
                    return Err(unresolvable("no addresses".into()));
                }
                Ok(addrs)
            }
        }
    }
}

impl fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host.for_header(), self.port)
    }
}

/// RFC 1123 host names (letters, digits, hyphens, dots; labels ≤ 63), plus
/// underscores, which real service names carry.
fn is_valid_hostname(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

/// The most bytes of a rejected name an error message repeats: enough to
/// recognise it, never a 70 kB line on a CI log.
const SHOWN_BYTES: usize = 64;

/// A DNS name that may go on the wire as a TLS `server_name` (RFC 6066) or
/// an HTTP `Host`: non-empty, at most 253 bytes, dot-separated labels of
/// 1-63 bytes made of ASCII letters, digits, `-` and `_` (RFC 1123 plus the
/// underscore real service names carry), no label starting or ending with
/// `-`, and no empty label (so no leading, trailing or doubled dot).
///
/// Built once, at plan time, so the hello encoder never sees a name its
/// 2-byte length prefix cannot hold (the encoder asserts instead of
/// failing). Case is kept as given: SNI matching is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerName(String);

/// Which rule a server name broke. `shown` is the name cut to 64 bytes.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ServerNameError {
    #[error("empty server name")]
    Empty,
    #[error("server name {shown:?} is {len} bytes; a DNS name is at most 253")]
    TooLong { shown: String, len: usize },
    #[error("server name {shown:?} has an empty label (a leading, trailing or doubled dot)")]
    EmptyLabel { shown: String },
    #[error("server name {shown:?} has a label of {len} bytes; a label is 1-63 bytes")]
    LabelTooLong { shown: String, len: usize },
    #[error(
        "server name {shown:?} contains {found:?}; only ASCII letters, digits, '-' and '_' are allowed"
    )]
    BadCharacter { shown: String, found: char },
    #[error("server name {shown:?} has a label that starts or ends with '-'")]
    EdgeHyphen { shown: String },
}

impl ServerName {
    /// The maximum length of a DNS name in bytes (RFC 1035 §2.3.4).
    pub const MAX_LEN: usize = 253;
    /// The maximum length of one label in bytes.
    pub const MAX_LABEL: usize = 63;

    /// Validates `name`.
    ///
    /// # Errors
    /// The first rule `name` breaks, in the order listed on [`ServerName`].
    pub fn parse(name: &str) -> Result<ServerName, ServerNameError> {
        if name.is_empty() {
            return Err(ServerNameError::Empty);
        }
        let shown = || shown(name);
        if name.len() > Self::MAX_LEN {
            return Err(ServerNameError::TooLong {
                shown: shown(),
                len: name.len(),
            });
        }
        for label in name.split('.') {
            if label.is_empty() {
                return Err(ServerNameError::EmptyLabel { shown: shown() });
            }
            if label.len() > Self::MAX_LABEL {
                return Err(ServerNameError::LabelTooLong {
                    shown: shown(),
                    len: label.len(),
                });
            }
            if let Some(found) = label
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
            {
                return Err(ServerNameError::BadCharacter {
                    shown: shown(),
                    found,
                });
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(ServerNameError::EdgeHyphen { shown: shown() });
            }
        }
        Ok(ServerName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ServerName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for ServerName {
    type Err = ServerNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ServerName::parse(s)
    }
}

/// At most [`SHOWN_BYTES`] of `name`, cut on a character boundary, with
/// `…` when something was cut.
fn shown(name: &str) -> String {
    if name.len() <= SHOWN_BYTES {
        return name.to_owned();
    }
    let mut end = SHOWN_BYTES;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &name[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn ok(input: &str) -> TargetSpec {
        TargetSpec::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"))
    }

    #[test]
    fn host_header_brackets_only_ipv6() {
        assert_eq!(host_for_header(IpAddr::V6(Ipv6Addr::LOCALHOST)), "[::1]");
        assert_eq!(
            host_for_header(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            "127.0.0.1"
        );
        assert_eq!(Host::Name("gw.test".into()).for_header(), "gw.test");
        let spec = TargetSpec::parse("[::1]:8443").unwrap();
        assert_eq!(spec.host.for_header(), "[::1]");
        assert_eq!(spec.to_string(), "[::1]:8443");
    }

    #[test]
    fn parses_the_forms_users_type() {
        let cases: &[(&str, Host, u16)] = &[
            ("127.0.0.1", Host::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST)), 443),
            (
                "127.0.0.1:8443",
                Host::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
                8443,
            ),
            (
                "[::1]:8443",
                Host::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST)),
                8443,
            ),
            ("[::1]", Host::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST)), 443),
            ("::1", Host::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST)), 443),
            ("Test.COM", Host::Name("test.com".into()), 443),
            (
                "gw.example.com:9443",
                Host::Name("gw.example.com".into()),
                9443,
            ),
            (
                "https://test.com:8443/productpage",
                Host::Name("test.com".into()),
                8443,
            ),
        ];
        for (input, host, port) in cases {
            let t = ok(input);
            assert_eq!(&t.host, host, "{input}");
            assert_eq!(t.port, *port, "{input}");
        }
    }

    #[test]
    fn rejects_bad_input_with_typed_errors() {
        assert_eq!(TargetSpec::parse(""), Err(TargetError::Empty));
        assert!(matches!(
            TargetSpec::parse("h:0"),
            Err(TargetError::BadPort { .. })
        ));
        assert!(matches!(
            TargetSpec::parse("h:70000"),
            Err(TargetError::BadPort { .. })
        ));
        assert!(matches!(
            TargetSpec::parse("h:abc"),
            Err(TargetError::BadPort { .. })
        ));
        assert!(matches!(
            TargetSpec::parse("[::1"),
            Err(TargetError::BadBracket(_))
        ));
        assert!(matches!(
            TargetSpec::parse("bad host"),
            Err(TargetError::BadHost { .. })
        ));
        assert!(matches!(
            TargetSpec::parse("-x.com"),
            Err(TargetError::BadHost { .. })
        ));
    }

    #[test]
    fn sni_defaults_to_names_only() {
        assert_eq!(ok("test.com").default_sni().as_deref(), Some("test.com"));
        assert_eq!(ok("127.0.0.1").default_sni(), None);
    }

    #[test]
    fn display_brackets_ipv6() {
        assert_eq!(ok("[::1]:8443").to_string(), "[::1]:8443");
    }

    #[test]
    fn server_names_follow_the_wire_rules() {
        for ok in [
            "test.com",
            "a",
            "_svc.example.com",
            "tlsposture-probe.x",
            "127.0.0.1",
        ] {
            assert_eq!(
                ServerName::parse(ok).map(|n| n.to_string()),
                Ok(ok.to_owned())
            );
        }
        assert_eq!(ServerName::parse(""), Err(ServerNameError::Empty));
        let long = "a".repeat(70_000);
        match ServerName::parse(&long) {
            Err(e @ ServerNameError::TooLong { len: 70_000, .. }) => {
                assert!(e.to_string().len() < 160, "{e}");
            }
            other => panic!("{other:?}"),
        }
        let label = format!("{}.com", "b".repeat(64));
        assert!(matches!(
            ServerName::parse(&label),
            Err(ServerNameError::LabelTooLong { len: 64, .. })
        ));
        for dots in [".a.com", "a.com.", "a..com"] {
            assert!(matches!(
                ServerName::parse(dots),
                Err(ServerNameError::EmptyLabel { .. })
            ));
        }
        assert!(matches!(
            ServerName::parse("*.example.com"),
            Err(ServerNameError::BadCharacter { found: '*', .. })
        ));
        assert!(matches!(
            ServerName::parse("-x.com"),
            Err(ServerNameError::EdgeHyphen { .. })
        ));
        // Cut on a character boundary, never inside one.
        let wide = "é".repeat(200);
        assert!(ServerName::parse(&wide)
            .unwrap_err()
            .to_string()
            .contains('…'));
    }
}
