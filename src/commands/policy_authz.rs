//! `tlsposture policy authz`: what the gateway would answer one request,
//! offline. The same evaluation as the live authorization probes: the
//! filters istiod generates (`policy::istiod::{rbac, jwt_authn}`) judged as
//! Envoy does (`policy::envoy::{rbac, jwt}`).

use anyhow::anyhow;
use serde_json::{json, Value};
use tlsposture::plan::PeerCertificate as Asks;
use tlsposture::policy::envoy::jwt::{self as envoy_jwt, AuthnOutcome, Placement, Token};
use tlsposture::policy::envoy::rbac::{self as envoy_rbac, Connection, HttpRequest, Verdict};
use tlsposture::policy::envoy::tls as envoy_tls;
use tlsposture::policy::istiod::{self, jwt_authn, rbac, IstioVersion};
use tlsposture::policy::jwt::TokenLocation;
use tlsposture::policy::selection::{self, Workload};
use tlsposture::policy::{
    AuthorizationPolicyDecl, DeclaredPolicy, GatewayDecl, ServerDecl, TlsMode,
};
use tlsposture::verdict::exit;

use super::output::write_outputs;
use super::{load_policy, usage, Failure};
use crate::cli::AuthzArgs;

/// The answer, as the JSON contract spells it.
struct Answer {
    decision: &'static str,
    status: Option<u16>,
    by: Option<Value>,
    notes: Vec<String>,
}

pub fn run(args: AuthzArgs) -> Result<i32, Failure> {
    let policy = load_policy(&args.files)?;
    let answer = decide(&policy, &args).map_err(|e| usage(anyhow!(e)))?;
    let text = {
        let mut t = match answer.status {
            Some(s) => format!("{} ({s})", answer.decision),
            None => answer.decision.to_owned(),
        };
        if let Some(by) = &answer.by {
            let rule = match by["rule"].as_u64() {
                Some(i) => format!("rules[{i}]"),
                None => "(no rule matches: deny by default)".to_owned(),
            };
            t.push_str(&format!(
                " by {} {} {rule}",
                by["action"].as_str().unwrap_or(""),
                by["policy"].as_str().unwrap_or(""),
            ));
        }
        t.push('\n');
        for n in &answer.notes {
            t.push_str(&format!("  note: {n}\n"));
        }
        t
    };
    let json = || {
        serde_json::to_string_pretty(&json!({
            "decision": answer.decision,
            "status": answer.status,
            "by": answer.by,
            "notes": answer.notes,
        }))
        .unwrap_or_default()
            + "\n"
    };
    write_outputs(&text, json, args.json.as_deref())?;
    Ok(exit::CLEAN)
}

/// What the RBAC filter of a server's chain sees: an HTTP request, a TCP
/// connection, or nothing (AUTO_PASSTHROUGH chains get no RBAC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChainKind {
    Http,
    Tcp,
    AutoPassthrough,
}

impl ChainKind {
    /// From the chain istiod builds (`policy::istiod`: HTTPS servers it
    /// terminates and plain HTTP get an HTTP connection manager; TLS
    /// terminate, PASSTHROUGH and TCP a `tcp_proxy`).
    fn of(kind: istiod::ChainKind) -> ChainKind {
        match kind {
            istiod::ChainKind::HttpsTerminate | istiod::ChainKind::PlainHttp { .. } => {
                ChainKind::Http
            }
            istiod::ChainKind::AutoPassthrough => ChainKind::AutoPassthrough,
            istiod::ChainKind::TlsTerminate
            | istiod::ChainKind::Passthrough
            | istiod::ChainKind::Tcp => ChainKind::Tcp,
        }
    }
}

/// The server the request goes to and the Gateway that declares it.
fn server<'p>(
    policy: &'p DeclaredPolicy,
    port: Option<u16>,
    gateway: Option<&str>,
) -> Result<(&'p GatewayDecl, &'p ServerDecl), String> {
    let http = |s: &ServerDecl| {
        let p = s.protocol.to_ascii_uppercase();
        p == "HTTPS" || p == "HTTP"
    };
    let gateways: Vec<&GatewayDecl> = match gateway {
        Some(name) => {
            let g: Vec<_> = policy
                .gateways
                .iter()
                .filter(|g| g.qualified_name() == name)
                .collect();
            if g.is_empty() {
                return Err(format!("--gateway {name}: no such Gateway is declared"));
            }
            g
        }
        None => policy.gateways.iter().collect(),
    };
    // Default: the first HTTPS server (where client certificates and
    // tokens matter), else the first plain HTTP one.
    let first = |protocol: &str| {
        gateways
            .iter()
            .flat_map(|g| &g.servers)
            .find(|s| s.protocol.eq_ignore_ascii_case(protocol))
            .map(|s| s.port)
    };
    let port = match port {
        Some(p) => p,
        None => first("HTTPS")
            .or_else(|| first("HTTP"))
            .ok_or("no HTTPS or HTTP server is declared (give --port)")?,
    };
    // An HTTP(S) server on the port first, else any server declared on it.
    let on_port = |want: &dyn Fn(&ServerDecl) -> bool| {
        gateways.iter().find_map(|g| {
            g.servers
                .iter()
                .find(|s| s.port == port && want(s))
                .map(|s| (*g, s))
        })
    };
    on_port(&http)
        .or_else(|| on_port(&|_| true))
        .ok_or_else(|| format!("--port {port}: no server is declared on it"))
}

/// `--peer`: NONE, a SPIFFE ID, or `cert:FILE`.
fn peer(text: &str) -> Result<Option<envoy_rbac::PeerCertificate>, String> {
    if text == "NONE" {
        return Ok(None);
    }
    if text.starts_with("spiffe://") {
        return Ok(Some(envoy_rbac::PeerCertificate {
            uri_sans: vec![text.to_owned()],
            ..envoy_rbac::PeerCertificate::default()
        }));
    }
    let Some(file) = text.strip_prefix("cert:") else {
        return Err(format!(
            "--peer {text:?}: expected NONE, spiffe://… or cert:FILE"
        ));
    };
    let pem = std::fs::read(file).map_err(|e| format!("--peer {file}: cannot read: {e}"))?;
    let (_, pem) = x509_parser::pem::parse_x509_pem(&pem)
        .map_err(|e| format!("--peer {file}: not a PEM certificate: {e}"))?;
    let cert = pem
        .parse_x509()
        .map_err(|e| format!("--peer {file}: not an X.509 certificate: {e}"))?;
    let mut out = envoy_rbac::PeerCertificate::default();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                x509_parser::extensions::GeneralName::URI(u) => out.uri_sans.push((*u).to_owned()),
                x509_parser::extensions::GeneralName::DNSName(d) => {
                    out.dns_sans.push((*d).to_owned())
                }
                _ => {}
            }
        }
    }
    // RFC 2253 as Envoy prints the subject: last RDN first, comma-joined.
    let rdns: Vec<String> = cert
        .subject()
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|a| {
                    let key = x509_parser::objects::oid2abbrev(
                        a.attr_type(),
                        x509_parser::objects::oid_registry(),
                    )
                    .map(str::to_owned)
                    .unwrap_or_else(|_| a.attr_type().to_id_string());
                    format!("{key}={}", a.as_str().unwrap_or(""))
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    out.subject = rdns.into_iter().rev().collect::<Vec<_>>().join(",");
    Ok(Some(out))
}

/// `--token-in`.
fn placement(text: &str) -> Result<Placement, String> {
    match text.split_once(':') {
        Some(("header", name)) if !name.is_empty() => Ok(Placement::Header {
            name: name.to_owned(),
            value_prefix: if name.eq_ignore_ascii_case("authorization") {
                "Bearer ".to_owned()
            } else {
                String::new()
            },
        }),
        Some(("query", name)) if !name.is_empty() => Ok(Placement::Query(name.to_owned())),
        Some(("cookie", name)) if !name.is_empty() => Ok(Placement::Cookie(name.to_owned())),
        _ => Err(format!(
            "--token-in {text:?}: expected header:NAME, query:NAME or cookie:NAME"
        )),
    }
}

fn decide(policy: &DeclaredPolicy, args: &AuthzArgs) -> Result<Answer, String> {
    let mut notes = Vec::new();
    let kind = args.token.as_str();
    if !["none", "valid", "malformed", "expired", "unknown-key"].contains(&kind) {
        return Err(format!(
            "--token {kind:?}: expected none, valid, malformed, expired or unknown-key"
        ));
    }
    let rp = match &args.request_principal {
        Some(rp) => Some(
            rp.rsplit_once('/')
                .filter(|(i, s)| !i.is_empty() && !s.is_empty())
                .ok_or_else(|| format!("--request-principal {rp:?}: expected ISS/SUB"))?,
        ),
        None => None,
    };
    let kind = if rp.is_some() { "valid" } else { kind };
    let given_peer = peer(&args.peer)?;
    let (gateway, server) = server(policy, args.port, args.gateway.as_deref())?;
    let workloads: Vec<Workload> = vec![Workload::of(gateway)];
    let version = match &args.istio_version {
        Some(v) => v.parse::<IstioVersion>().map_err(|e| e.to_string())?,
        None => IstioVersion::DEFAULT,
    };
    let resolved = istiod::resolve(policy, version);
    let at = (
        policy
            .gateways
            .iter()
            .position(|g| std::ptr::eq(g, gateway))
            .unwrap_or_default(),
        gateway
            .servers
            .iter()
            .position(|s| std::ptr::eq(s, server))
            .unwrap_or_default(),
    );
    if let Some(d) = resolved.dropped.iter().find(|d| d.order == at) {
        notes.push(format!(
            "istiod drops {} ({}): the request reaches whatever else serves port {}, if anything",
            d.label, d.reason, server.port
        ));
        return Ok(Answer {
            decision: "unknown",
            status: None,
            by: None,
            notes,
        });
    }
    let found = resolved.listeners.iter().find_map(|l| {
        l.chains
            .iter()
            .find(|c| (c.origin.gateway_index, c.origin.index) == at)
            .map(|c| (l, c))
    });
    let Some((listener, model_chain)) = found else {
        return Err(format!(
            "--port {}: the model builds no filter chain for this server",
            server.port
        ));
    };
    if let Some(reason) = envoy_tls::listener_rejected(listener) {
        notes.push(format!(
            "Envoy refuses the listener on port {}: {reason}; no connection is accepted",
            server.port
        ));
        return Ok(Answer {
            decision: "deny",
            status: None,
            by: None,
            notes,
        });
    }
    let chain = ChainKind::of(model_chain.kind);
    let mode = model_chain.mode;
    if chain == ChainKind::AutoPassthrough {
        notes.push(format!(
            "the server on port {} is AUTO_PASSTHROUGH: istiod builds its filter chains with no \
             RBAC filter (gateway.go builtAutoPassthroughFilterChains), so no \
             AuthorizationPolicy applies; the connection is forwarded by SNI",
            server.port
        ));
        notes.push(
            "method, host and path are not seen by the gateway on this chain (a TCP connection)"
                .to_owned(),
        );
        return Ok(Answer {
            decision: "allow",
            status: None,
            by: None,
            notes,
        });
    }
    if chain == ChainKind::Tcp {
        notes.push(format!(
            "the server on port {} ({}{}) is a TCP chain: the network RBAC filter judges the \
             connection; method, host and path are not seen (the host is taken as the SNI)",
            server.port,
            server.protocol,
            mode.map_or(String::new(), |m| format!(" {}", m.as_str()))
        ));
        if kind != "none" {
            notes.push("no jwt_authn runs on a TCP chain: the token is not read".to_owned());
        }
    }

    // The connection: which certificate reaches Envoy.
    let sni = || envoy_rbac::Sni::Name(args.host.split(':').next().unwrap_or("").to_owned());
    let connection = match model_chain.kind {
        istiod::ChainKind::PlainHttp { .. } | istiod::ChainKind::Tcp => Connection::Plaintext,
        istiod::ChainKind::Passthrough | istiod::ChainKind::AutoPassthrough => {
            if given_peer.is_some() {
                notes.push(format!(
                    "the server on port {} is PASSTHROUGH: the gateway does not terminate TLS, \
                     so the client certificate never reaches its RBAC filter",
                    server.port
                ));
            }
            Connection::Passthrough { sni: sni() }
        }
        istiod::ChainKind::HttpsTerminate | istiod::ChainKind::TlsTerminate => {
            let mode = mode.unwrap_or(TlsMode::Simple).as_str();
            let asks = Asks::of(envoy_tls::client_cert(model_chain.tls.as_ref()).client_cert);
            let peer = match asks {
                Asks::NotRequested => {
                    if given_peer.is_some() {
                        notes.push(format!(
                            "the server on port {} is {mode}: it asks for no client certificate, \
                             so none reaches Envoy (the peer is effectively NONE)",
                            server.port,
                        ));
                    }
                    None
                }
                Asks::Required if given_peer.is_none() => {
                    notes.push(format!(
                        "the server on port {} ({mode}) requires a client certificate: without \
                         one the TLS handshake is refused and no request is sent",
                        server.port,
                    ));
                    return Ok(Answer {
                        decision: "deny",
                        status: None,
                        by: None,
                        notes,
                    });
                }
                _ => {
                    if given_peer.is_some() {
                        notes.push(
                            "the client certificate is taken to verify against the server's CA"
                                .to_owned(),
                        );
                    }
                    given_peer.clone()
                }
            };
            // A client sends the Host's name as SNI.
            Connection::Tls { peer, sni: sni() }
        }
    };
    if matches!(connection, Connection::Plaintext) && given_peer.is_some() {
        notes.push(format!(
            "the server on port {} is plain HTTP: no certificate is sent",
            server.port
        ));
    }

    // jwt_authn (HTTP chains only).
    let authns = selection::request_authentications(policy, &workloads);
    let filter = if chain == ChainKind::Http {
        jwt_authn::build(&authns.applied)
    } else {
        None
    };
    let first_rule = authns.applied.iter().flat_map(|a| &a.jwt_rules).next();
    let sent = if kind == "none" || chain == ChainKind::Tcp {
        if args.token_in.is_some() {
            return Err("--token-in needs --token (or --request-principal)".to_owned());
        }
        None
    } else {
        let place = match (&args.token_in, first_rule) {
            (Some(t), _) => placement(t)?,
            (None, Some(rule)) => TokenLocation::for_rule(rule).placement(),
            (None, None) => placement("header:Authorization")?,
        };
        let issuer = first_rule.map(|r| r.issuer.clone()).unwrap_or_default();
        let aud: Vec<String> = first_rule
            .and_then(|r| r.audiences.first().cloned())
            .into_iter()
            .collect();
        let token = match kind {
            "malformed" => Token::Malformed,
            _ => Token::Jwt {
                iss: rp.map_or(issuer, |(i, _)| i.to_owned()),
                sub: Some(rp.map_or("lab-user", |(_, s)| s).to_owned()),
                aud,
                expired: kind == "expired",
                known_key: kind != "unknown-key",
            },
        };
        Some((place, token))
    };
    let outcome = envoy_jwt::authenticate(filter.as_ref(), sent.as_ref().map(|(p, t)| (p, t)));
    let payload = match outcome {
        AuthnOutcome::Rejected { body } => {
            notes.push(format!(
                "jwt_authn refuses the token: {body} (401, before any AuthorizationPolicy)"
            ));
            return Ok(Answer {
                decision: "deny",
                status: Some(401),
                by: None,
                notes,
            });
        }
        AuthnOutcome::Missing { ignored } => {
            if ignored {
                notes.push(
                    "the token is where no jwt_authn provider reads it: it is no token to the \
                     gateway (passes authentication, no request principal)"
                        .to_owned(),
                );
            }
            None
        }
        AuthnOutcome::Verified { provider, payload } => {
            notes.push(format!("the token is verified by provider {provider}"));
            Some(payload)
        }
    };

    // RBAC.
    let authzs = selection::authorization_policies(policy, &workloads);
    let selected: Vec<&AuthorizationPolicyDecl> = authzs.built_from();
    let config = rbac::build_with(
        &selected,
        &rbac::BuildOptions {
            chain: if chain == ChainKind::Tcp {
                rbac::Chain::Tcp
            } else {
                rbac::Chain::Http
            },
            mesh: policy.mesh_authz.as_ref(),
        },
    );
    notes.extend(config.notes.iter().cloned());
    let request = HttpRequest {
        connection,
        method: args.method.clone(),
        authority: args.host.clone(),
        path: args.path.clone(),
        listener_port: args.listener_port,
        jwt_payload: None,
        // The command mints the token: its payload is all there is.
        jwt_payload_complete: true,
    };
    let with_jwt = HttpRequest {
        jwt_payload: payload,
        ..request.clone()
    };
    let d = envoy_rbac::decide(&config, &request, &with_jwt);
    notes.push(d.reason.clone());
    for f in &config.filters {
        for p in f.shadow_rules.iter().flatten() {
            if envoy_rbac::policy_matches(p, &with_jwt) == envoy_rbac::Match::Yes {
                notes.push(format!(
                    "dry-run {} {} matches: shadow rules only log, they decide nothing",
                    f.action.policy_action(),
                    p.name
                ));
            }
        }
    }
    let by = d.by.map(|(action, s)| {
        json!({
            "policy": config.policy_names.get(s.policy),
            "rule": s.rule,
            "action": action.policy_action(),
        })
    });
    let tcp = chain == ChainKind::Tcp;
    let (decision, status) = match d.verdict {
        Verdict::Allow => ("allow", (!tcp).then_some(200)),
        Verdict::Deny => ("deny", (!tcp).then_some(403)),
        Verdict::Unknown => ("unknown", None),
    };
    match d.verdict {
        Verdict::Allow if tcp => notes.push(
            "the connection passes the network RBAC filter and is forwarded (no HTTP status)"
                .into(),
        ),
        Verdict::Allow => {
            notes.push("200 stands for whatever the route answers once RBAC lets it through".into())
        }
        Verdict::Deny if tcp => notes.push(
            "connection closed by RBAC (the network filter has no HTTP status to send)".into(),
        ),
        _ => {}
    }
    Ok(Answer {
        decision,
        status,
        by,
        notes,
    })
}
