//! How Envoy's RBAC filters judge one request with the matchers istiod
//! generates ([`crate::policy::istiod::rbac`]): three-valued — a matcher
//! matches, does not, or depends on something a scanner cannot know (the
//! client's address as Envoy sees it, other filters' metadata, headers the
//! client or Envoy adds), said with the reason.
//!
//! Envoy's rules (envoyproxy/envoy @021ce639, docs/istio-rules.md §A.6):
//! - `AuthenticatedMatcher::matches` (`source/extensions/filters/common/
//!   rbac/matchers.cc`): no TLS → false; no `principal_name` → true; else
//!   each URI SAN, then each DNS SAN, then the subject of the peer
//!   certificate — the empty string when there is none
//!   (`connection_info_impl_base.cc`), so a TLS client without a
//!   certificate matches only a matcher that accepts `""`;
//! - `url_path` matches the path with query and fragment removed
//!   (`PathMatcher`); `uri_template` per the uri_template extension;
//! - `destination_port` is the listener's local port;
//! - `safe_regex` is RE2, matched against the whole value;
//! - metadata matchers on `jwt_authn`'s payload see nothing when no token
//!   was verified (no metadata: no match);
//! - the filters run in order: a CUSTOM match goes to the external
//!   authorizer (unknown here), AUDIT only logs, a DENY match is 403, and
//!   an ALLOW filter with enforced rules denies (403) what none matches;
//!   shadow rules never decide (`rbac_filter.cc` `decodeHeaders`);
//! - the network RBAC filter of a TCP chain decides the same way on the
//!   connection and closes it on a denial (`source/extensions/filters/
//!   network/rbac/rbac_filter.cc` `onData`: no HTTP status); on a
//!   PASSTHROUGH chain Envoy holds no TLS session, so no authenticated
//!   matcher matches, while `requested_server_name` is the SNI
//!   `tls_inspector` read.

use serde_json::Value;

use crate::policy::istiod::rbac::{
    FilterAction, HeaderMatcher, MetadataMatcher, Pattern, Permission, Principal, RbacConfig,
    RbacPolicy, RuleSource, StringMatcher, ValueMatcher, JWT_FILTER,
};

/// The peer certificate as Envoy's authenticated matcher reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerCertificate {
    pub uri_sans: Vec<String>,
    pub dns_sans: Vec<String>,
    /// RFC 2253 subject, as Envoy prints it (`CN=a,O=b`).
    pub subject: String,
}

/// The connection under the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Plain HTTP: no authenticated matcher matches.
    Plaintext,
    /// TLS terminated by the gateway; `peer` is the client certificate that
    /// reached Envoy (none on a server that does not ask for one).
    Tls {
        peer: Option<PeerCertificate>,
        sni: Sni,
    },
    /// TLS the gateway forwards without terminating (PASSTHROUGH): Envoy
    /// has no TLS session of its own, so no authenticated matcher matches;
    /// `tls_inspector` still reads the SNI.
    Passthrough { sni: Sni },
}

/// The server name the client sent, as `requested_server_name` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sni {
    /// None sent: the empty string.
    Absent,
    Name(String),
    /// Not known to the caller (`connection.sni` conditions are unknown).
    Unknown,
}

/// One request as the RBAC filters see it.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub connection: Connection,
    pub method: String,
    pub authority: String,
    /// `:path` as sent (a query string is cut for `url_path`).
    pub path: String,
    /// The listener's local port, when known (a gateway's Service may map
    /// the declared port to another target port).
    pub listener_port: Option<u16>,
    /// The payload `jwt_authn` verified and put in its metadata; `None`
    /// without a (verified) token.
    pub jwt_payload: Option<Value>,
    /// The payload holds every claim of the token; false when only some
    /// are known (a real token given to a scan: its `iss` and `sub`), so a
    /// claim not in it is unknown rather than absent.
    pub jwt_payload_complete: bool,
}

/// Three-valued match, combined as in Kleene logic; `Unknown` carries why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    Yes,
    No,
    Unknown(String),
}

impl Match {
    fn from(b: bool) -> Match {
        if b {
            Match::Yes
        } else {
            Match::No
        }
    }
    fn not(self) -> Match {
        match self {
            Match::Yes => Match::No,
            Match::No => Match::Yes,
            u => u,
        }
    }
    fn and(items: impl IntoIterator<Item = Match>) -> Match {
        let mut unknown = None;
        for m in items {
            match m {
                Match::No => return Match::No,
                Match::Unknown(w) => {
                    unknown.get_or_insert(w);
                }
                Match::Yes => {}
            }
        }
        unknown.map_or(Match::Yes, Match::Unknown)
    }
    fn or(items: impl IntoIterator<Item = Match>) -> Match {
        let mut unknown = None;
        for m in items {
            match m {
                Match::Yes => return Match::Yes,
                Match::Unknown(w) => {
                    unknown.get_or_insert(w);
                }
                Match::No => {}
            }
        }
        unknown.map_or(Match::No, Match::Unknown)
    }
}

/// Envoy's `StringMatcher::match`.
pub fn string_matches(m: &StringMatcher, value: &str) -> bool {
    let fold = |s: &str| {
        if m.ignore_case {
            s.to_ascii_lowercase()
        } else {
            s.to_owned()
        }
    };
    match &m.pattern {
        Pattern::Exact(e) => fold(value) == fold(e),
        Pattern::Prefix(p) => fold(value).starts_with(&fold(p)),
        Pattern::Suffix(s) => fold(value).ends_with(&fold(s)),
        Pattern::Regex(r) => full_match(r, value),
    }
}

/// RE2 full match; a regex Envoy would refuse matches nothing.
fn full_match(re: &str, value: &str) -> bool {
    regex::Regex::new(&format!("^(?:{re})$")).is_ok_and(|r| r.is_match(value))
}

fn header(h: &HeaderMatcher, request: &HttpRequest) -> Match {
    let value = match h.name.as_str() {
        ":authority" | "host" => Some(request.authority.as_str()),
        ":method" => Some(request.method.as_str()),
        ":path" => Some(request.path.as_str()),
        other => {
            return Match::Unknown(format!(
                "header {other}: the client's other headers and those Envoy adds are not modelled"
            ))
        }
    };
    match (&h.string_match, value) {
        (None, v) => Match::from(v.is_some()),
        (Some(m), Some(v)) => Match::from(string_matches(m, v)),
        (Some(_), None) => Match::No,
    }
}

fn metadata(m: &MetadataMatcher, request: &HttpRequest) -> Match {
    if m.filter != JWT_FILTER {
        return Match::Unknown(format!(
            "metadata of {}: set by filters a scanner cannot see",
            m.filter
        ));
    }
    let Some(payload) = &request.jwt_payload else {
        return Match::No;
    };
    // [payload, claim, …]: the first segment is the payload key itself.
    let mut v = payload;
    for seg in m.path.iter().skip(1) {
        match v.get(seg) {
            Some(next) => v = next,
            None if request.jwt_payload_complete => return Match::No,
            None => {
                return Match::Unknown(format!(
                    "claim {} of the given token is not known",
                    m.path[1..].join(".")
                ))
            }
        }
    }
    Match::from(value_matches(&m.value, v))
}

fn value_matches(m: &ValueMatcher, v: &Value) -> bool {
    match m {
        ValueMatcher::String(s) => v.as_str().is_some_and(|v| string_matches(s, v)),
        ValueMatcher::ListOneOf(inner) => v
            .as_array()
            .is_some_and(|a| a.iter().any(|e| value_matches(inner, e))),
        ValueMatcher::Or(ms) => ms.iter().any(|m| value_matches(m, v)),
    }
}

/// `authenticated` as `AuthenticatedMatcher::matches` decides it.
fn authenticated(m: &Option<StringMatcher>, request: &HttpRequest) -> Match {
    let Connection::Tls { peer, .. } = &request.connection else {
        return Match::No;
    };
    let Some(m) = m else {
        return Match::Yes;
    };
    let empty = PeerCertificate::default();
    let peer = peer.as_ref().unwrap_or(&empty);
    Match::from(
        peer.uri_sans.iter().any(|s| string_matches(m, s))
            || peer.dns_sans.iter().any(|s| string_matches(m, s))
            || string_matches(m, &peer.subject),
    )
}

/// Envoy's uri_template match on the path without query: each `/`-led
/// segment literal, `*` one non-empty segment, `**` any run including `/`
/// (envoy `source/extensions/path/match/uri_template`, pattern_template
/// converts templates to a regex this way; its pchar set is approximated
/// by "anything but `/`").
fn uri_template(template: &str, path: &str) -> bool {
    let mut re = String::new();
    for (i, seg) in template.split('/').enumerate() {
        if i > 0 {
            re.push('/');
        }
        match seg {
            "**" => re.push_str(".*"),
            "*" => re.push_str("[^/]+"),
            lit => re.push_str(&regex::escape(lit)),
        }
    }
    full_match(&re, path)
}

fn url_path(path: &str) -> &str {
    path.split(['?', '#']).next().unwrap_or(path)
}

/// Whether `p` matches `request`.
pub fn permission_matches(p: &Permission, request: &HttpRequest) -> Match {
    match p {
        Permission::Any => Match::Yes,
        Permission::And(v) => Match::and(v.iter().map(|p| permission_matches(p, request))),
        Permission::Or(v) => Match::or(v.iter().map(|p| permission_matches(p, request))),
        Permission::Not(p) => permission_matches(p, request).not(),
        Permission::Header(h) => header(h, request),
        Permission::UrlPath(m) => Match::from(string_matches(m, url_path(&request.path))),
        Permission::UriTemplate(t) => Match::from(uri_template(t, url_path(&request.path))),
        Permission::DestinationPort(port) => match request.listener_port {
            Some(l) => Match::from(u32::from(l) == *port),
            None => Match::Unknown(format!(
                "ports [{port}]: compared with the listener's own port (the gateway \
                 Service's target port), which the declared policy does not give"
            )),
        },
        Permission::DestinationIp(c) => Match::Unknown(format!(
            "destination.ip {}/{}: the gateway pod's address is not known",
            c.address, c.prefix_len
        )),
        Permission::RequestedServerName(m) => match &request.connection {
            Connection::Tls {
                sni: Sni::Name(s), ..
            } => Match::from(string_matches(m, s)),
            Connection::Tls {
                sni: Sni::Unknown, ..
            }
            | Connection::Passthrough { sni: Sni::Unknown } => {
                Match::Unknown("connection.sni: the server name sent is not known here".into())
            }
            Connection::Passthrough { sni: Sni::Name(s) } => Match::from(string_matches(m, s)),
            _ => Match::from(string_matches(m, "")),
        },
        Permission::Metadata(m) => metadata(m, request),
    }
}

/// Whether `p` matches `request`.
pub fn principal_matches(p: &Principal, request: &HttpRequest) -> Match {
    match p {
        Principal::Any => Match::Yes,
        Principal::And(v) => Match::and(v.iter().map(|p| principal_matches(p, request))),
        Principal::Or(v) => Match::or(v.iter().map(|p| principal_matches(p, request))),
        Principal::Not(p) => principal_matches(p, request).not(),
        Principal::Authenticated(m) => authenticated(m, request),
        Principal::DirectRemoteIp(c) => Match::Unknown(format!(
            "ipBlocks {}/{}: the client address the gateway sees (NAT, load balancers) is \
             not known",
            c.address, c.prefix_len
        )),
        Principal::RemoteIp(c) => Match::Unknown(format!(
            "remoteIpBlocks {}/{}: depends on X-Forwarded-For / PROXY and numTrustedProxies",
            c.address, c.prefix_len
        )),
        Principal::Header(h) => header(h, request),
        Principal::Metadata(m) => metadata(m, request),
    }
}

/// An Envoy `Policy`: any permission and any principal.
pub fn policy_matches(p: &RbacPolicy, request: &HttpRequest) -> Match {
    Match::and([
        Match::or(p.permissions.iter().map(|x| permission_matches(x, request))),
        Match::or(p.principals.iter().map(|x| principal_matches(x, request))),
    ])
}

/// The first policy of `policies` that matches, else the first unknown.
fn first_match(policies: &[RbacPolicy], request: &HttpRequest) -> (Match, Option<RuleSource>) {
    let mut unknown = None;
    for p in policies {
        match policy_matches(p, request) {
            Match::Yes => return (Match::Yes, Some(p.source)),
            Match::Unknown(w) => {
                unknown.get_or_insert((w, p.source));
            }
            Match::No => {}
        }
    }
    match unknown {
        Some((w, s)) => (Match::Unknown(w), Some(s)),
        None => (Match::No, None),
    }
}

/// What the RBAC filters do with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// 403 `RBAC: access denied`.
    Deny,
    Unknown,
}

/// The RBAC filters' answer, the rule that gave it and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RbacDecision {
    pub verdict: Verdict,
    /// The deciding rule and its filter (a DENY or ALLOW match, or an
    /// ALLOW filter's default denial: its first policy, `rule: None`).
    pub by: Option<(FilterAction, RuleSource)>,
    pub reason: String,
}

/// Runs `request` through `config`'s filters in order. `pre_jwt`: the
/// request as CUSTOM sees it (its filter runs before `jwt_authn`, so no
/// JWT metadata); the others see `request`.
pub fn decide(config: &RbacConfig, pre_jwt: &HttpRequest, request: &HttpRequest) -> RbacDecision {
    let label = |s: RuleSource| {
        let name = config
            .policy_names
            .get(s.policy)
            .cloned()
            .unwrap_or_default();
        match s.rule {
            Some(i) => format!("{name} rules[{i}]"),
            None => format!("{name} (no rules)"),
        }
    };
    let done = |verdict, by, reason| RbacDecision {
        verdict,
        by,
        reason,
    };
    let mut deny_unknown: Option<(RuleSource, String)> = None;
    for f in &config.filters {
        let Some(rules) = &f.rules else { continue };
        match f.action {
            FilterAction::Audit => {}
            FilterAction::Custom => match first_match(rules, pre_jwt) {
                (Match::No, _) => {}
                (m, Some(s)) => {
                    let why = match m {
                        Match::Unknown(w) => format!(" ({w})"),
                        _ => String::new(),
                    };
                    return done(
                        Verdict::Unknown,
                        Some((f.action, s)),
                        format!(
                            "CUSTOM {} may match{why}: the external authorizer decides",
                            label(s)
                        ),
                    );
                }
                _ => {}
            },
            // In CUSTOM's place, before jwt_authn.
            FilterAction::CustomDeny => match first_match(rules, pre_jwt) {
                (Match::Yes, Some(s)) => {
                    return done(
                        Verdict::Deny,
                        Some((f.action, s)),
                        format!(
                            "CUSTOM {} matches and istiod denies it (bad CUSTOM provider)",
                            label(s)
                        ),
                    )
                }
                (Match::Unknown(w), Some(s)) => {
                    deny_unknown.get_or_insert((s, w));
                }
                _ => {}
            },
            FilterAction::Deny => match first_match(rules, request) {
                (Match::Yes, Some(s)) => {
                    return done(
                        Verdict::Deny,
                        Some((f.action, s)),
                        format!("DENY {} matches", label(s)),
                    )
                }
                (Match::Unknown(w), Some(s)) => deny_unknown = Some((s, w)),
                _ => {}
            },
            FilterAction::Allow => {
                let decision = match first_match(rules, request) {
                    (Match::Yes, Some(s)) => done(
                        Verdict::Allow,
                        Some((f.action, s)),
                        format!("ALLOW {} matches", label(s)),
                    ),
                    (Match::Unknown(w), Some(s)) => done(
                        Verdict::Unknown,
                        Some((f.action, s)),
                        format!("ALLOW {} depends on {w}", label(s)),
                    ),
                    _ => {
                        let first = rules.first().map(|p| RuleSource {
                            policy: p.source.policy,
                            rule: None,
                        });
                        let mut names: Vec<String> = Vec::new();
                        for p in rules {
                            let n = config
                                .policy_names
                                .get(p.source.policy)
                                .cloned()
                                .unwrap_or_default();
                            if !names.contains(&n) {
                                names.push(n);
                            }
                        }
                        let applies = if names.is_empty() {
                            "ALLOW policies apply, none with a rule istiod kept".to_owned()
                        } else {
                            format!("ALLOW {} applies", names.join(", "))
                        };
                        done(
                            Verdict::Deny,
                            first.map(|s| (f.action, s)),
                            format!("no ALLOW rule matches ({applies}: deny by default)"),
                        )
                    }
                };
                return match (deny_unknown, decision.verdict) {
                    // Denied either way.
                    (Some(_), Verdict::Deny) => decision,
                    (Some((s, w)), _) => done(
                        Verdict::Unknown,
                        Some((FilterAction::Deny, s)),
                        format!("DENY {} depends on {w}", label(s)),
                    ),
                    (None, _) => decision,
                };
            }
        }
    }
    match deny_unknown {
        Some((s, w)) => done(
            Verdict::Unknown,
            Some((FilterAction::Deny, s)),
            format!("DENY {} depends on {w}", label(s)),
        ),
        None => done(
            Verdict::Allow,
            None,
            "no DENY rule matches and no enforced ALLOW policy applies".to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::istiod::rbac::{self, string_matcher_with_prefix, SPIFFE_PREFIX};
    use serde_json::json;

    fn request(peer: Option<PeerCertificate>) -> HttpRequest {
        HttpRequest {
            connection: Connection::Tls {
                peer,
                sni: Sni::Absent,
            },
            method: "GET".into(),
            authority: "example.com".into(),
            path: "/a?x=1".into(),
            listener_port: None,
            jwt_payload: None,
            jwt_payload_complete: true,
        }
    }

    fn cert(uri: &[&str], dns: &[&str], subject: &str) -> PeerCertificate {
        PeerCertificate {
            uri_sans: uri.iter().map(|s| (*s).to_owned()).collect(),
            dns_sans: dns.iter().map(|s| (*s).to_owned()).collect(),
            subject: subject.into(),
        }
    }

    /// §A.6: without a certificate on TLS, the subject is "" — `.+` and
    /// `exact spiffe://…` fail; NOT of them matches.
    #[test]
    fn authenticated_without_a_certificate_sees_the_empty_subject() {
        let any = Principal::Authenticated(Some(string_matcher_with_prefix("*", SPIFFE_PREFIX)));
        let named = Principal::Authenticated(Some(string_matcher_with_prefix(
            "test.client",
            SPIFFE_PREFIX,
        )));
        let r = request(None);
        assert_eq!(principal_matches(&any, &r), Match::No);
        assert_eq!(principal_matches(&named, &r), Match::No);
        assert_eq!(
            principal_matches(&Principal::Not(Box::new(named.clone())), &r),
            Match::Yes
        );
        let r = request(Some(cert(&["spiffe://test.client"], &[], "CN=x")));
        assert_eq!(principal_matches(&named, &r), Match::Yes);
        // A certificate with only a CN: `*` matches its subject (A38).
        let r = request(Some(cert(&[], &[], "CN=only")));
        assert_eq!(principal_matches(&any, &r), Match::Yes);
        assert_eq!(principal_matches(&named, &r), Match::No);
        let mut plain = request(None);
        plain.connection = Connection::Plaintext;
        assert_eq!(
            principal_matches(&Principal::Authenticated(None), &plain),
            Match::No
        );
    }

    #[test]
    fn paths_templates_and_query() {
        let r = request(None);
        let p = Permission::UrlPath(rbac::string_matcher("/a"));
        assert_eq!(permission_matches(&p, &r), Match::Yes);
        assert!(uri_template("/path/template/*", "/path/template/x"));
        assert!(!uri_template("/path/template/*", "/path/template/x/y"));
        assert!(uri_template("/**/path/template", "/a/b/path/template"));
    }

    #[test]
    fn jwt_claims_and_unknowns() {
        let mut r = request(None);
        r.jwt_payload = Some(json!({"iss": "i", "sub": "s", "groups": ["a", "b"]}));
        let m = MetadataMatcher {
            filter: JWT_FILTER.into(),
            path: vec!["payload".into(), "groups".into()],
            value: ValueMatcher::ListOneOf(Box::new(ValueMatcher::String(rbac::string_matcher(
                "b",
            )))),
        };
        assert_eq!(
            principal_matches(&Principal::Metadata(m.clone()), &r),
            Match::Yes
        );
        r.jwt_payload = None;
        assert_eq!(principal_matches(&Principal::Metadata(m), &r), Match::No);
        assert!(matches!(
            permission_matches(&Permission::DestinationPort(443), &r),
            Match::Unknown(_)
        ));
        r.listener_port = Some(443);
        assert_eq!(
            permission_matches(&Permission::DestinationPort(443), &r),
            Match::Yes
        );
    }
}
