//! The authorization probes derived from the declared
//! `AuthorizationPolicy` set — which request, with which client identity,
//! the gateway must let through or refuse — and [`evaluate`], the one
//! decision they and `tlsposture policy authz` share.
//!
//! [`evaluate`] holds no rule of its own: it asks the resolved model what
//! istiod generates (`policy::istiod::rbac`: filters CUSTOM, AUDIT, DENY,
//! ALLOW; dry-run policies as shadow rules; each field as the Envoy matcher
//! Istio writes) and how Envoy judges it (`policy::envoy::rbac`). [`plan`]
//! derives, for every rule, requests with an identity the rule names and
//! one it does not, to each path / method / host it names plus a control
//! path, and takes each probe's expected outcome from [`evaluate`] over the
//! whole set, so probes and expectations never disagree.
//!
//! Pure: no I/O, no clock. What a scanner cannot know (the client address
//! the gateway sees, the listener's target port, headers Envoy adds, a
//! CUSTOM authorizer) makes a decision `Unknown`; a probe whose outcome
//! depends on one is skipped with a note, never guessed.

use std::fmt;

use super::envoy::rbac as envoy_rbac;
use super::istiod::rbac as istiod_rbac;
use super::model::{
    AuthorizationPolicyDecl, AuthzAction, AuthzOperation, AuthzRule, MeshAuthz, Origin,
};

/// One HTTP request as the gateway's RBAC filter sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// The client certificate's identity as Istio matches it: the
    /// `spiffe://` URI SAN without the scheme; `None` without a
    /// certificate (or one without such a SAN).
    pub principal: Option<&'a str>,
    /// The JWT's `iss/sub` once RequestAuthentication validated it; `None`
    /// without a (valid) token.
    pub request_principal: Option<&'a str>,
    pub method: &'a str,
    /// Path without the query string.
    pub path: &'a str,
    /// The `Host` / `:authority` header.
    pub host: &'a str,
}

/// What the gateway must do with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allow,
    Deny,
    /// Depends on something a scanner cannot see or decide (a CUSTOM
    /// authorizer, `when` conditions, IP blocks …).
    Unknown,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Deny => "deny",
            Outcome::Unknown => "unknown",
        }
    }
}

/// A policy's rule: indices into the slice given to [`evaluate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleRef {
    pub policy: usize,
    /// `None` for a policy without rules.
    pub rule: Option<usize>,
}

/// [`evaluate`]'s answer and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub outcome: Outcome,
    /// The rule that decided, when one did (a DENY or ALLOW match).
    pub by: Option<RuleRef>,
    /// One line, e.g. `DENY istio-system/test rules[0] matches`.
    pub reason: String,
}

/// `policy` name as reports show it: `namespace/name`.
pub fn policy_name(policy: &AuthorizationPolicyDecl) -> String {
    match &policy.namespace {
        Some(ns) => format!("{ns}/{}", policy.name),
        None => policy.name.clone(),
    }
}

/// `istio-system/test rules[0]`, or `istio-system/test (no rules)`.
pub fn rule_label(policies: &[&AuthorizationPolicyDecl], r: RuleRef) -> String {
    let p = policies[r.policy];
    match r.rule {
        Some(i) => format!("{} rules[{i}]", policy_name(p)),
        None => format!("{} (no rules)", policy_name(p)),
    }
}

/// Where a rule (or a rule-less policy) was written.
pub fn rule_origin(policies: &[&AuthorizationPolicyDecl], r: RuleRef) -> Origin {
    let p = policies[r.policy];
    match r.rule {
        Some(i) => p.rules[i].origin.clone(),
        None => p.origin.clone(),
    }
}

// Which policies apply to a gateway is `policy::selection`'s decision.

/// What the declared AuthorizationPolicies and RequestAuthentications ask
/// of one gateway server, already planned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthzPlan {
    pub probes: Vec<PlannedProbe>,
    /// Sent presenting the first identity (or none when not MUTUAL).
    pub jwt_probes: Vec<super::jwt::PlannedJwtProbe>,
    /// What could not be probed, and why.
    pub notes: Vec<String>,
}

/// Decides `request` under `policies` (those that apply to the workload)
/// with the one model of what istiod generates
/// ([`super::istiod::rbac::build`]) and what Envoy does with it
/// ([`super::envoy::rbac::decide`]): the live probes and `policy authz`
/// share this evaluation.
///
/// The request reaches Envoy over TLS; `principal` is a certificate whose
/// URI SAN is `spiffe://<principal>` (`None`: no certificate, which Envoy's
/// authenticated matcher sees as the empty subject); the listener's port
/// is not known (port conditions are `Unknown`).
pub fn evaluate(policies: &[&AuthorizationPolicyDecl], request: &Request<'_>) -> Decision {
    evaluate_with(policies, request, None)
}

/// As [`evaluate`], with the mesh's trust domain, aliases and CUSTOM
/// providers (`DeclaredPolicy::mesh_authz`) as istiod applies them.
pub fn evaluate_with(
    policies: &[&AuthorizationPolicyDecl],
    request: &Request<'_>,
    mesh: Option<&MeshAuthz>,
) -> Decision {
    let config = istiod_rbac::build_with(
        policies,
        &istiod_rbac::BuildOptions {
            chain: istiod_rbac::Chain::Http,
            mesh,
        },
    );
    let pre_jwt = envoy_request(request, None);
    let with_jwt = envoy_request(
        request,
        request.request_principal.map(request_principal_payload),
    );
    decision(envoy_rbac::decide(&config, &pre_jwt, &with_jwt))
}

/// [`envoy_rbac::RbacDecision`] as this module's [`Decision`].
pub fn decision(d: envoy_rbac::RbacDecision) -> Decision {
    Decision {
        outcome: match d.verdict {
            envoy_rbac::Verdict::Allow => Outcome::Allow,
            envoy_rbac::Verdict::Deny => Outcome::Deny,
            envoy_rbac::Verdict::Unknown => Outcome::Unknown,
        },
        by: d.by.map(|(_, s)| RuleRef {
            policy: s.policy,
            rule: s.rule,
        }),
        reason: d.reason,
    }
}

/// The payload of a verified token whose request principal is `iss/sub`
/// (split at the last `/`, as Istio splits `requestPrincipals`).
pub fn request_principal_payload(rp: &str) -> serde_json::Value {
    match rp.rsplit_once('/') {
        Some((iss, sub)) => serde_json::json!({"iss": iss, "sub": sub}),
        None => serde_json::json!({"iss": rp}),
    }
}

fn envoy_request(request: &Request<'_>, jwt: Option<serde_json::Value>) -> envoy_rbac::HttpRequest {
    envoy_rbac::HttpRequest {
        connection: envoy_rbac::Connection::Tls {
            peer: request.principal.map(|p| envoy_rbac::PeerCertificate {
                uri_sans: vec![format!("{}{p}", istiod_rbac::SPIFFE_PREFIX)],
                ..envoy_rbac::PeerCertificate::default()
            }),
            sni: envoy_rbac::Sni::Unknown,
        },
        method: request.method.to_owned(),
        authority: request.host.to_owned(),
        path: request.path.to_owned(),
        listener_port: None,
        jwt_payload: jwt,
        // Only iss/sub of a given token are known.
        jwt_payload_complete: false,
    }
}

/// A client identity the scanner can present: its name in reports and the
/// principal Istio sees (`None`: no certificate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeIdentity {
    pub name: String,
    pub principal: Option<String>,
}

/// One request the scanner will make, and what the gateway must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedProbe {
    pub identity: String,
    pub method: String,
    pub path: String,
    pub host: String,
    /// Allow or Deny, never Unknown (those are skipped with a note).
    pub expected: Outcome,
    /// The rule this probe exercises: `istio-system/test rules[0]`.
    pub rule: String,
    /// Where that rule was written.
    pub origin: Origin,
    /// Why [`evaluate`] expects what it does.
    pub because: String,
}

/// Probes and what could not be probed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub probes: Vec<PlannedProbe>,
    pub notes: Vec<String>,
}

/// The path segment put into wildcard paths and hosts.
pub const PROBE_SEGMENT: &str = "tlsposture-probe";
/// A path no rule is expected to name.
pub const CONTROL_PATH: &str = "/tlsposture-control";

/// A concrete path a path pattern matches: `/x/*` → `/x/tlsposture-probe`,
/// `*.png` → `/tlsposture-probe.png`, `*` → `/tlsposture-probe`.
pub fn concrete_path(pattern: &str) -> String {
    if pattern.contains("{*}") || pattern.contains("{**}") {
        pattern
            .replace("{**}", PROBE_SEGMENT)
            .replace("{*}", PROBE_SEGMENT)
    } else if pattern == "*" {
        format!("/{PROBE_SEGMENT}")
    } else if let Some(suffix) = pattern.strip_prefix('*') {
        format!("/{PROBE_SEGMENT}{suffix}")
    } else if let Some(prefix) = pattern.strip_suffix('*') {
        format!("{prefix}{PROBE_SEGMENT}")
    } else {
        pattern.to_owned()
    }
}

/// A concrete host a host pattern matches: `*.example.com` →
/// `tlsposture-probe.example.com`, `*` → the default host.
fn concrete_host(pattern: &str, default_host: &str) -> String {
    if pattern == "*" {
        default_host.to_owned()
    } else if let Some(suffix) = pattern.strip_prefix('*') {
        format!("{PROBE_SEGMENT}{suffix}")
    } else if let Some(prefix) = pattern.strip_suffix('*') {
        format!("{prefix}{PROBE_SEGMENT}")
    } else {
        pattern.to_owned()
    }
}

/// The requests (method, path, host) that exercise one rule: each path,
/// notPath, method, notMethod and host it names (varied one at a time, so
/// the count stays linear), plus the control path.
pub(crate) fn requests_for(
    rule: Option<&AuthzRule>,
    default_host: &str,
) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = Vec::new();
    let mut push = |m: &str, p: &str, h: &str| {
        let r = (m.to_owned(), p.to_owned(), h.to_owned());
        if !out.contains(&r) {
            out.push(r);
        }
    };
    let ops: Vec<&AuthzOperation> = rule.map(|r| r.to.iter().collect()).unwrap_or_default();
    if ops.is_empty() {
        push("GET", "/", default_host);
    }
    for op in &ops {
        let paths: Vec<String> = op
            .paths
            .iter()
            .chain(&op.not_paths)
            .map(|p| concrete_path(p))
            .collect();
        let methods: Vec<&str> = op
            .methods
            .iter()
            .chain(&op.not_methods)
            .map(String::as_str)
            .collect();
        let hosts: Vec<String> = op
            .hosts
            .iter()
            .chain(&op.not_hosts)
            .map(|h| concrete_host(h, default_host))
            .collect();
        let path0 = paths.first().cloned().unwrap_or_else(|| "/".to_owned());
        let method0 = methods.first().copied().unwrap_or("GET");
        let host0 = hosts
            .first()
            .cloned()
            .unwrap_or_else(|| default_host.to_owned());
        push(method0, &path0, &host0);
        for p in &paths {
            push(method0, p, &host0);
        }
        for m in &methods {
            push(m, &path0, &host0);
        }
        for h in &hosts {
            push(method0, &path0, h);
        }
        // The control: a path the operation does not name.
        push(method0, CONTROL_PATH, &host0);
    }
    out
}

/// Whether the rule's `from` sources accept `identity`'s principal (a
/// rule without `from` accepts everyone), as the principals istiod
/// generates for it match a certificate of that identity.
fn from_matches(
    rule: &AuthzRule,
    identity: &ProbeIdentity,
    mesh: Option<&MeshAuthz>,
) -> envoy_rbac::Match {
    if rule.from.is_empty() {
        return envoy_rbac::Match::Yes;
    }
    let only_from = AuthorizationPolicyDecl {
        action: AuthzAction::Deny,
        rules: vec![AuthzRule {
            from: rule.from.clone(),
            ..AuthzRule::default()
        }],
        ..AuthorizationPolicyDecl::default()
    };
    let config = istiod_rbac::build_with(
        &[&only_from],
        &istiod_rbac::BuildOptions {
            chain: istiod_rbac::Chain::Http,
            mesh,
        },
    );
    let request = envoy_request(
        &Request {
            principal: identity.principal.as_deref(),
            request_principal: None,
            method: "GET",
            path: "/",
            host: "",
        },
        None,
    );
    match config
        .filters
        .first()
        .and_then(|f| f.rules.as_ref())
        .and_then(|r| r.first())
    {
        Some(p) => envoy_rbac::policy_matches(p, &request),
        None => envoy_rbac::Match::Unknown("no principal generated".to_owned()),
    }
}

/// Derives the probes for `policies` (those that apply to the workload)
/// with the given identities; `default_host` is the Host for operations
/// that name none (the SNI).
pub fn plan(
    policies: &[&AuthorizationPolicyDecl],
    identities: &[ProbeIdentity],
    default_host: &str,
) -> Plan {
    plan_with(policies, policies, identities, default_host, None)
}

/// As [`plan`], with the requests drawn from the rules of `policies` and
/// their expected answers decided by `enforced` alone: a dry-run policy's
/// rules are probed (so a gateway that does enforce them shows as drift)
/// while nothing it says is expected of the gateway. `mesh`: the
/// MeshConfig settings istiod applies ([`evaluate_with`]).
pub fn plan_with(
    policies: &[&AuthorizationPolicyDecl],
    enforced: &[&AuthorizationPolicyDecl],
    identities: &[ProbeIdentity],
    default_host: &str,
    mesh: Option<&MeshAuthz>,
) -> Plan {
    let mut plan = Plan::default();
    if identities.is_empty() {
        if !policies.is_empty() {
            plan.notes.push(
                "authorization not probed: no client identity to present (--identity)".to_owned(),
            );
        }
        return plan;
    }
    for (pi, policy) in policies.iter().enumerate() {
        if policy.action == AuthzAction::Audit {
            continue;
        }
        let refs: Vec<(RuleRef, Option<&AuthzRule>)> = if policy.rules.is_empty() {
            // ALLOW without rules denies everything; DENY / CUSTOM without
            // rules never match — either way a request shows it.
            vec![(
                RuleRef {
                    policy: pi,
                    rule: None,
                },
                None,
            )]
        } else {
            policy
                .rules
                .iter()
                .enumerate()
                .map(|(ri, r)| {
                    (
                        RuleRef {
                            policy: pi,
                            rule: Some(ri),
                        },
                        Some(r),
                    )
                })
                .collect()
        };
        for (r, rule) in refs {
            let label = rule_label(policies, r);
            let origin = rule_origin(policies, r);
            let chosen: Vec<&ProbeIdentity> = match rule {
                None => identities.iter().take(1).collect(),
                Some(rule) => {
                    let matching = identities
                        .iter()
                        .find(|i| from_matches(rule, i, mesh) == envoy_rbac::Match::Yes);
                    let other = identities
                        .iter()
                        .find(|i| from_matches(rule, i, mesh) == envoy_rbac::Match::No);
                    let about_jwt = rule.from.iter().any(|s| {
                        !s.request_principals.is_empty() || !s.not_request_principals.is_empty()
                    });
                    if matching.is_none() && about_jwt {
                        plan.notes.push(format!(
                            "{label} ({}:{}): its sources name requestPrincipals: requests \
                             without a token are probed here, with tokens by the JWT probes",
                            origin.file, origin.line
                        ));
                    } else if matching.is_none() {
                        plan.notes.push(format!(
                            "{label} ({}:{}): no given identity matches its sources; \
                             only a non-matching one is probed",
                            origin.file, origin.line
                        ));
                    } else if other.is_none() && !rule.from.is_empty() {
                        plan.notes.push(format!(
                            "{label} ({}:{}): every given identity matches its sources; \
                             give one that does not (--identity) to probe the other side",
                            origin.file, origin.line
                        ));
                    }
                    matching.into_iter().chain(other).collect()
                }
            };
            for identity in chosen {
                for (method, path, host) in requests_for(rule, default_host) {
                    let request = Request {
                        principal: identity.principal.as_deref(),
                        request_principal: None,
                        method: &method,
                        path: &path,
                        host: &host,
                    };
                    let decision = evaluate_with(enforced, &request, mesh);
                    let duplicate = plan.probes.iter().any(|p| {
                        p.identity == identity.name
                            && p.method == method
                            && p.path == path
                            && p.host == host
                    });
                    if duplicate {
                        continue;
                    }
                    if decision.outcome == Outcome::Unknown {
                        plan.notes.push(format!(
                            "{label}: {} {method} {host}{path} not probed: {}",
                            identity.name, decision.reason
                        ));
                        continue;
                    }
                    plan.probes.push(PlannedProbe {
                        identity: identity.name.clone(),
                        method,
                        path,
                        host,
                        expected: decision.outcome,
                        rule: label.clone(),
                        origin: origin.clone(),
                        because: decision.reason,
                    });
                }
            }
        }
    }
    plan
}

impl fmt::Display for PlannedProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}{} → {} ({})",
            self.identity,
            self.method,
            self.host,
            self.path,
            self.expected.name(),
            self.because
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::model::AuthzSource;

    fn policy(action: AuthzAction, rules: Vec<AuthzRule>) -> AuthorizationPolicyDecl {
        AuthorizationPolicyDecl {
            name: "test".into(),
            namespace: Some("istio-system".into()),
            origin: Origin::default(),
            action,
            selector: std::collections::BTreeMap::from([("istio".into(), "ingressgateway".into())]),
            provider: None,
            rules,
            ..AuthorizationPolicyDecl::default()
        }
    }

    fn rule(principals: &[&str], paths: &[&str]) -> AuthzRule {
        AuthzRule {
            from: if principals.is_empty() {
                vec![]
            } else {
                vec![AuthzSource {
                    principals: principals.iter().map(|s| s.to_string()).collect(),
                    ..AuthzSource::default()
                }]
            },
            to: if paths.is_empty() {
                vec![]
            } else {
                vec![AuthzOperation {
                    paths: paths.iter().map(|s| s.to_string()).collect(),
                    ..AuthzOperation::default()
                }]
            },
            ..AuthzRule::default()
        }
    }

    fn req<'a>(principal: Option<&'a str>, method: &'a str, path: &'a str) -> Request<'a> {
        Request {
            principal,
            request_principal: None,
            method,
            path,
            host: "test.com",
        }
    }

    fn outcome(p: &[&AuthorizationPolicyDecl], r: Request<'_>) -> Outcome {
        evaluate(p, &r).outcome
    }

    #[test]
    fn seed_004_denies_test_client_on_418_only() {
        let p = policy(
            AuthzAction::Deny,
            vec![rule(&["test.client"], &["/status/418"])],
        );
        let set = [&p];
        let d = evaluate(&set, &req(Some("test.client"), "GET", "/status/418"));
        assert_eq!(d.outcome, Outcome::Deny);
        assert_eq!(d.reason, "DENY istio-system/test rules[0] matches");
        assert_eq!(
            outcome(&set, req(Some("test.client"), "GET", "/status/200")),
            Outcome::Allow
        );
        assert_eq!(
            outcome(&set, req(Some("other.client"), "GET", "/status/418")),
            Outcome::Allow
        );
        assert_eq!(
            outcome(&set, req(None, "GET", "/status/418")),
            Outcome::Allow
        );
    }

    #[test]
    fn seed_004_plan_probes_both_identities_and_a_control() {
        let p = policy(
            AuthzAction::Deny,
            vec![rule(&["test.client"], &["/status/418"])],
        );
        let ids = [
            ProbeIdentity {
                name: "test.client".into(),
                principal: Some("test.client".into()),
            },
            ProbeIdentity {
                name: "other".into(),
                principal: Some("example.org/other".into()),
            },
        ];
        let plan = plan(&[&p], &ids, "test.com");
        let lines: Vec<String> = plan
            .probes
            .iter()
            .map(|p| {
                format!(
                    "{} {} {} {}",
                    p.identity,
                    p.method,
                    p.path,
                    p.expected.name()
                )
            })
            .collect();
        assert_eq!(
            lines,
            [
                "test.client GET /status/418 deny",
                "test.client GET /tlsposture-control allow",
                "other GET /status/418 allow",
                "other GET /tlsposture-control allow",
            ]
        );
        assert!(plan
            .probes
            .iter()
            .all(|p| p.rule == "istio-system/test rules[0]"));
        assert!(plan.notes.is_empty(), "{:?}", plan.notes);
    }

    #[test]
    fn allow_policy_denies_by_default() {
        let p = policy(
            AuthzAction::Allow,
            vec![rule(&["good.client"], &["/api/*"])],
        );
        let set = [&p];
        assert_eq!(
            outcome(&set, req(Some("good.client"), "GET", "/api/x")),
            Outcome::Allow
        );
        let d = evaluate(&set, &req(Some("good.client"), "GET", "/other"));
        assert_eq!(d.outcome, Outcome::Deny);
        assert!(d.reason.contains("deny by default"), "{}", d.reason);
        assert_eq!(
            outcome(&set, req(Some("bad.client"), "GET", "/api/x")),
            Outcome::Deny
        );
        // ALLOW with no rules: nothing is allowed.
        let none = policy(AuthzAction::Allow, vec![]);
        assert_eq!(outcome(&[&none], req(Some("a"), "GET", "/")), Outcome::Deny);
        // DENY with no rules: matches nothing.
        let deny_none = policy(AuthzAction::Deny, vec![]);
        assert_eq!(
            outcome(&[&deny_none], req(Some("a"), "GET", "/")),
            Outcome::Allow
        );
    }

    #[test]
    fn deny_wins_over_allow() {
        let allow = policy(AuthzAction::Allow, vec![rule(&[], &[])]);
        let deny = policy(AuthzAction::Deny, vec![rule(&[], &["/admin"])]);
        let set = [&allow, &deny];
        assert_eq!(outcome(&set, req(None, "GET", "/admin")), Outcome::Deny);
        assert_eq!(outcome(&set, req(None, "GET", "/x")), Outcome::Allow);
    }

    #[test]
    fn not_paths_and_methods() {
        let mut r = rule(&[], &[]);
        r.to = vec![AuthzOperation {
            methods: vec!["GET".into()],
            not_paths: vec!["/private/*".into()],
            ..AuthzOperation::default()
        }];
        let p = policy(AuthzAction::Allow, vec![r]);
        let set = [&p];
        assert_eq!(outcome(&set, req(None, "GET", "/public")), Outcome::Allow);
        assert_eq!(outcome(&set, req(None, "GET", "/private/a")), Outcome::Deny);
        assert_eq!(outcome(&set, req(None, "POST", "/public")), Outcome::Deny);

        let mut r = rule(&[], &[]);
        r.to = vec![AuthzOperation {
            not_methods: vec!["DELETE".into()],
            ..AuthzOperation::default()
        }];
        let p = policy(AuthzAction::Allow, vec![r]);
        assert_eq!(outcome(&[&p], req(None, "DELETE", "/")), Outcome::Deny);
        assert_eq!(outcome(&[&p], req(None, "PUT", "/")), Outcome::Allow);
    }

    #[test]
    fn principal_prefix_suffix_presence_and_not_principals() {
        let p = policy(
            AuthzAction::Deny,
            vec![
                rule(&["cluster.local/ns/bad/*"], &[]),
                rule(&["*.evil"], &[]),
            ],
        );
        let set = [&p];
        assert_eq!(
            outcome(&set, req(Some("cluster.local/ns/bad/sa/x"), "GET", "/")),
            Outcome::Deny
        );
        assert_eq!(
            outcome(&set, req(Some("x.evil"), "GET", "/")),
            Outcome::Deny
        );
        assert_eq!(
            outcome(&set, req(Some("cluster.local/ns/good/sa/x"), "GET", "/")),
            Outcome::Allow
        );
        // `*` means "has a certificate identity".
        let any = policy(AuthzAction::Allow, vec![rule(&["*"], &[])]);
        assert_eq!(outcome(&[&any], req(None, "GET", "/")), Outcome::Deny);
        assert_eq!(outcome(&[&any], req(Some("a"), "GET", "/")), Outcome::Allow);
        // notPrincipals: everyone but test.client is denied.
        let mut r = rule(&[], &[]);
        r.from = vec![AuthzSource {
            not_principals: vec!["test.client".into()],
            ..AuthzSource::default()
        }];
        let p = policy(AuthzAction::Deny, vec![r]);
        assert_eq!(
            outcome(&[&p], req(Some("test.client"), "GET", "/")),
            Outcome::Allow
        );
        assert_eq!(
            outcome(&[&p], req(Some("other"), "GET", "/")),
            Outcome::Deny
        );
        assert_eq!(outcome(&[&p], req(None, "GET", "/")), Outcome::Deny);
    }

    #[test]
    fn paths_exact_prefix_suffix_and_concrete_forms() {
        let allows = |pattern: &str, path: &str| {
            let p = policy(AuthzAction::Allow, vec![rule(&[], &[pattern])]);
            outcome(&[&p], req(None, "GET", path)) == Outcome::Allow
        };
        assert!(allows("/x/*", "/x/y"));
        assert!(!allows("/x/*", "/x"));
        assert!(allows("*.png", "/a/b.png"));
        assert!(allows("*", "/"));
        assert!(!allows("/a", "/a/"));
        // `{*}` / `{**}` are uri_templates (R-A5), not literals.
        assert!(allows("/t/{*}/x", "/t/seg/x"));
        assert!(!allows("/t/{*}/x", "/t/{*}/x/y"));
        assert!(allows("/t/{**}", "/t/a/b"));
        assert_eq!(concrete_path("/x/*"), "/x/tlsposture-probe");
        assert_eq!(concrete_path("*.png"), "/tlsposture-probe.png");
        assert_eq!(concrete_path("*"), "/tlsposture-probe");
        assert_eq!(concrete_path("/t/{*}/x"), "/t/tlsposture-probe/x");
        for pattern in ["/x/*", "*.png", "*", "/exact", "/t/{*}/x", "/{**}/y"] {
            assert!(allows(pattern, &concrete_path(pattern)), "{pattern}");
        }
    }

    #[test]
    fn hosts_and_unknowable_conditions() {
        let mut r = rule(&[], &[]);
        r.to = vec![AuthzOperation {
            hosts: vec!["*.example.com".into()],
            ..AuthzOperation::default()
        }];
        let p = policy(AuthzAction::Deny, vec![r]);
        let mut q = req(None, "GET", "/");
        q.host = "A.Example.com";
        assert_eq!(outcome(&[&p], q.clone()), Outcome::Deny);
        // The port is part of the authority Envoy matches (R-A8): the
        // suffix no longer matches, and the request gets through.
        q.host = "a.example.com:443";
        assert_eq!(outcome(&[&p], q.clone()), Outcome::Allow);
        q.host = "test.com";
        assert_eq!(outcome(&[&p], q), Outcome::Allow);

        let mut r = rule(&["test.client"], &[]);
        r.when = vec![crate::policy::model::AuthzCondition {
            key: "request.headers[x]".into(),
            values: vec!["1".into()],
            not_values: vec![],
        }];
        let p = policy(AuthzAction::Deny, vec![r]);
        assert_eq!(
            outcome(&[&p], req(Some("test.client"), "GET", "/")),
            Outcome::Unknown
        );
        // A condition on a rule whose principal does not match is moot.
        assert_eq!(outcome(&[&p], req(Some("x"), "GET", "/")), Outcome::Allow);
    }

    #[test]
    fn no_identity_matching_a_principal_is_noted() {
        let p = policy(
            AuthzAction::Deny,
            vec![rule(&["test.client"], &["/status/418"])],
        );
        let ids = [ProbeIdentity {
            name: "other".into(),
            principal: Some("other".into()),
        }];
        let plan = plan(&[&p], &ids, "test.com");
        assert_eq!(plan.notes.len(), 1, "{:?}", plan.notes);
        assert!(plan.probes.iter().all(|p| p.expected == Outcome::Allow));
    }

    /// What the probe request does not carry is unknown, not absent: the
    /// SNI sent, and claims of a given token beyond `iss` / `sub`.
    #[test]
    fn sni_and_unseen_claims_are_unknown() {
        let cond = |key: &str| crate::policy::model::AuthzCondition {
            key: key.into(),
            values: vec!["x".into()],
            not_values: vec![],
        };
        for key in ["connection.sni", "request.auth.claims[groups]"] {
            let mut r = rule(&[], &[]);
            r.when = vec![cond(key)];
            let p = policy(AuthzAction::Deny, vec![r]);
            let mut q = req(None, "GET", "/");
            q.request_principal = Some("iss/sub");
            let d = evaluate(&[&p], &q);
            assert_eq!(d.outcome, Outcome::Unknown, "{key}: {}", d.reason);
        }
        // Without a token there is no claim at all: the DENY cannot match.
        let mut r = rule(&[], &[]);
        r.when = vec![cond("request.auth.claims[groups]")];
        let p = policy(AuthzAction::Deny, vec![r]);
        assert_eq!(outcome(&[&p], req(None, "GET", "/")), Outcome::Allow);
    }
}
