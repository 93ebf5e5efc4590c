//! Renderer snapshots (insta): the terminal table and the JSON report for a
//! fixed set of observations, so any change in what users or CI scripts read
//! is reviewed.

use std::ops::{Deref, DerefMut};

use tlsposture::observe::{
    AlpnResult, AuthzRequest, CertRequest, CertificateInfo, CertificateResult, Expected,
    GroupResult, GroupVia, HttpAnswer, Identity, MtlsOutcome, MtlsProbe, MtlsResult,
    PreferenceResult, ProtocolResult, SignatureResult, Stats, SuiteResult, TargetObservation,
};
use tlsposture::registry::{self, GroupKind};
use tlsposture::report::model::{Report, TargetReport, ToolInfo, SCHEMA_VERSION};
use tlsposture::report::{json, terminal};
use tlsposture::verdict::{self, Against, ClientSimulation, Judged};
use tlsposture::wire::ProtocolVersion::*;

/// A target's observations, and client simulation results as the verdict
/// would give them (the renderer only prints them).
struct Case {
    observed: TargetObservation,
    client_simulations: Vec<ClientSimulation>,
}

impl Deref for Case {
    type Target = TargetObservation;
    fn deref(&self) -> &TargetObservation {
        &self.observed
    }
}

impl DerefMut for Case {
    fn deref_mut(&mut self) -> &mut TargetObservation {
        &mut self.observed
    }
}

impl Case {
    fn new(address: &str, port: u16, sni: Option<&str>) -> Case {
        Case {
            observed: TargetObservation::new(address.into(), port, sni.map(Into::into)),
            client_simulations: Vec::new(),
        }
    }
}

/// Judges each case against `against`, and the report of them all.
fn judged_report(
    cases: Vec<Case>,
    against: Against<'_>,
    fail_on: tlsposture::finding::Severity,
    scope: Judged<'_>,
) -> Report {
    let judged: Vec<_> = cases
        .into_iter()
        .map(|case| {
            let mut judgement = verdict::judge(&case.observed, &against);
            if !case.client_simulations.is_empty() {
                judgement.client_simulations = case.client_simulations;
            }
            (case.observed, judgement)
        })
        .collect();
    let judgements: Vec<_> = judged.iter().map(|(_, j)| j).collect();
    let summary = verdict::summarize(&judgements, fail_on, scope);
    Report {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo {
            name: "tlsposture".into(),
            version: "0.0.0-test".into(),
        },
        started_at: "2026-11-22T21:00:00Z".into(),
        finished_at: "2026-11-22T21:00:01Z".into(),
        targets: judged
            .into_iter()
            .map(|(o, j)| TargetReport::new(o, j))
            .collect(),
        policy: None,
        summary,
        interrupted: None,
    }
}

fn legacy_target() -> Case {
    let mut t = Case::new("127.0.0.1:8446", 8446, Some("gateway.lab.test"));
    t.ip = Some([127, 0, 0, 1].into());
    t.label = Some("legacy-tls10".into());
    t.reachable = true;
    t.protocols = vec![
        ProtocolResult::not_offered(Ssl2, "connection closed without an answer".into()),
        ProtocolResult::not_offered(Ssl3, "alert protocol_version".into()),
        ProtocolResult::offered(
            Tls10,
            "ServerHello TLS1.0, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA".into(),
            Some(Tls10),
            Some("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA".into()),
        ),
        ProtocolResult::offered(
            Tls11,
            "ServerHello TLS1.1, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA".into(),
            Some(Tls11),
            Some("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA".into()),
        ),
        ProtocolResult::offered(
            Tls12,
            "ServerHello TLS1.2, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into(),
            Some(Tls12),
            Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into()),
        ),
        ProtocolResult::offered(
            Tls13,
            "ServerHello TLS1.3, TLS_AES_128_GCM_SHA256".into(),
            Some(Tls13),
            Some("TLS_AES_128_GCM_SHA256".into()),
        ),
    ];
    t.stats = Stats {
        handshakes: 6,
        elapsed_ms: 9,
        ..Stats::default()
    };
    t
}

fn suite(
    protocol: tlsposture::wire::ProtocolVersion,
    code: u16,
    group: Option<&str>,
) -> SuiteResult {
    SuiteResult {
        group: group.map(str::to_string),
        ..SuiteResult::new(
            protocol,
            registry::cipher_suite(code).expect("registry suite"),
        )
    }
}

/// A legacy listener with everything-offered sections filled in.
fn full_target() -> Case {
    let mut t = legacy_target();
    t.cipher_suites = vec![
        suite(Tls12, 0xC02F, Some("x25519")),
        suite(Tls12, 0xCCA8, Some("x25519")),
        suite(Tls12, 0xC013, Some("x25519")),
        suite(Tls12, 0x000A, None),
        suite(Tls13, 0x1301, Some("X25519MLKEM768")),
    ];
    t.server_preference = vec![PreferenceResult {
        protocol: Tls12,
        server_enforces: Some(true),
        order: vec![
            vec![
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".into(),
                "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256".into(),
            ],
            vec!["TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA".into()],
            vec!["TLS_RSA_WITH_3DES_EDE_CBC_SHA".into()],
        ],
        evidence: "forward and reversed offers".into(),
    }];
    t.groups = vec![
        GroupResult {
            protocol: Tls13,
            code: 0x11EC,
            name: "X25519MLKEM768".into(),
            kind: GroupKind::HybridPq,
            rank: 1,
            via: GroupVia::HelloRetryRequest,
        },
        GroupResult {
            protocol: Tls13,
            code: 0x001D,
            name: "x25519".into(),
            kind: GroupKind::Ecdhe,
            rank: 2,
            via: GroupVia::HelloRetryRequest,
        },
    ];
    t.signature_algorithms = vec![SignatureResult {
        protocol: Tls13,
        code: 0x0804,
        name: "rsa_pss_rsae_sha256".into(),
        key_type: Some("RSA".into()),
    }];
    t.alpn = Some(AlpnResult {
        h2: Some(true),
        http11: Some(true),
        evidence: "agreed".into(),
    });
    let leaf = CertificateInfo {
        subject: "CN=gateway.lab.test".into(),
        issuer: "CN=tlsposture lab CA".into(),
        serial: "01AB".into(),
        sans: vec!["DNS:gateway.lab.test".into()],
        not_before: "2026-11-22T20:00:00Z".into(),
        not_after: "2027-11-22T20:00:00Z".into(),
        days_left: 365,
        key_type: "RSA".into(),
        key_bits: 1024,
        curve: None,
        signature_algorithm: "ecdsa-with-SHA256".into(),
        sha256: "AB".repeat(32),
        self_signed: false,
        is_ca: false,
    };
    t.certificates = vec![
        CertificateResult {
            sni: Some("gateway.lab.test".into()),
            request: CertRequest::Requested,
            refused: None,
            unknown: None,
            read_via: None,
            key_type: None,
            protocol: Some(Tls13),
            chain: vec![leaf.clone()],
            trusted: Some(false),
            trust_error: Some("unknown issuer".into()),
            hostname_match: Some(true),
            days_left: Some(365),
            ocsp_stapled: false,
            chain_problems: vec![],
        },
        CertificateResult {
            sni: Some("tlsposture-probe.invalid".into()),
            request: CertRequest::Unknown,
            refused: Some("alert unrecognized_name".into()),
            unknown: None,
            read_via: None,
            key_type: None,
            protocol: None,
            chain: vec![],
            trusted: None,
            trust_error: None,
            hostname_match: None,
            days_left: None,
            ocsp_stapled: false,
            chain_problems: vec![],
        },
    ];
    t.mtls = Some(MtlsResult {
        client_cert_required: Some(true),
        client_cert_requested: Some(true),
        acceptable_ca_names: vec!["O=tlsposture lab, CN=tlsposture lab CA".into()],
        required_by_http: None,
        evidence: "required: without a certificate: alert certificate_required after handshake (TLS1.3)"
            .into(),
        probes: vec![
            MtlsProbe {
                identity: Identity::None,
                outcome: MtlsOutcome::Refused,
                protocol: Some(Tls13),
                http_status: None,
                evidence: "CertificateRequest naming 1 acceptable CA(s), no certificate sent; \
                           alert certificate_required after handshake (TLS1.3)"
                    .into(),
            },
            MtlsProbe {
                identity: Identity::UnknownCa,
                outcome: MtlsOutcome::Refused,
                protocol: Some(Tls13),
                http_status: None,
                evidence: "CertificateRequest, certificate sent; alert unknown_ca after handshake (TLS1.3)"
                    .into(),
            },
        ],
    });
    let sim = |client: &str,
               category: &str,
               connected: bool,
               protocol,
               cipher: Option<&str>,
               group: Option<&str>,
               reason: Option<&str>| ClientSimulation {
        client: client.into(),
        category: category.into(),
        connected,
        protocol,
        cipher: cipher.map(Into::into),
        group: group.map(Into::into),
        hello_retry: false,
        reason: reason.map(Into::into),
    };
    t.client_simulations = vec![
        sim(
            "Chrome 131 / Win 11",
            "browser",
            true,
            Some(Tls13),
            Some("TLS_AES_128_GCM_SHA256"),
            Some("X25519MLKEM768"),
            None,
        ),
        sim(
            "Java 8u31",
            "library",
            true,
            Some(Tls12),
            Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
            Some("secp256r1"),
            None,
        ),
        ClientSimulation {
            hello_retry: true,
            reason: Some("via HelloRetryRequest (one more round trip)".into()),
            ..sim(
                "Java 17",
                "library",
                true,
                Some(Tls13),
                Some("TLS_AES_256_GCM_SHA384"),
                Some("secp384r1"),
                None,
            )
        },
        sim(
            "Java 7u25",
            "legacy",
            false,
            Some(Tls10),
            Some("TLS_DHE_RSA_WITH_AES_128_CBC_SHA"),
            Some("DH 2048"),
            Some("DH group of 2048 bits, the client handles at most 1024"),
        ),
        sim(
            "IE 8 / XP",
            "legacy",
            false,
            None,
            None,
            None,
            Some("no shared protocol version (alert protocol_version)"),
        ),
    ];
    t.client_simulation_stats = Some(Stats {
        handshakes: 5,
        elapsed_ms: 3,
        ..Stats::default()
    });
    t
}

/// A listener that asks for a client certificate but serves without one.
fn optional_mtls_target() -> Case {
    let mut t = legacy_target();
    t.label = Some("optional-mtls".into());
    t.mtls = Some(MtlsResult {
        client_cert_required: Some(false),
        client_cert_requested: Some(true),
        acceptable_ca_names: vec![],
        required_by_http: None,
        evidence: "optional: requested, but without a certificate: answered \"HTTP/1.1 200 OK\" (TLS1.3)".into(),
        probes: vec![
            MtlsProbe {
                identity: Identity::None,
                outcome: MtlsOutcome::Accepted,
                protocol: Some(Tls13),
                http_status: Some(200),
                evidence: "CertificateRequest naming 0 acceptable CA(s), no certificate sent; \
                           answered \"HTTP/1.1 200 OK\" (TLS1.3)"
                    .into(),
            },
            MtlsProbe {
                identity: Identity::UnknownCa,
                outcome: MtlsOutcome::Refused,
                protocol: Some(Tls12),
                http_status: None,
                evidence: "CertificateRequest, certificate sent; alert unknown_ca during handshake (TLS1.2)"
                    .into(),
            },
        ],
    });
    t
}

/// Seed 004 on a MUTUAL gateway: test.client denied on /status/418 as
/// declared, and another identity let through where an ALLOW policy's
/// default deny should keep it out.
fn authz_target() -> Case {
    let mut t = full_target();
    t.label = Some("gateway default/httpbin servers[1] port 443".into());
    if let Some(mtls) = t.mtls.as_mut() {
        mtls.probes.push(MtlsProbe {
            identity: Identity::Named("test.client".into()),
            outcome: MtlsOutcome::Accepted,
            protocol: Some(Tls13),
            http_status: Some(200),
            evidence: "CertificateRequest, certificate sent; answered \"HTTP/1.1 200 OK\" (TLS1.3)"
                .into(),
        });
    }
    let probe = |identity: &str,
                 path: &str,
                 expected: &str,
                 status: u16,
                 body: &str,
                 rule: &str,
                 line: u32| AuthzRequest {
        identity: Identity::Named(identity.into()),
        method: "GET".into(),
        path: path.into(),
        host: "test.com".into(),
        token: None,
        expected: match expected {
            "deny" => Expected::Deny,
            "reject" => Expected::Reject,
            _ => Expected::Allow,
        },
        status: Some(status),
        outcome: HttpAnswer::Answered,
        body_snippet: Some(body.into()),
        headers: vec![("server".into(), "envoy".into())],
        rule: rule.into(),
        declared_at: format!("authz.yaml:{line}"),
        evidence: format!("policy says {expected}; observed {status} {body:?}"),
    };
    t.authorization = vec![
        probe(
            "test.client",
            "/status/418",
            "deny",
            403,
            "RBAC: access denied",
            "istio-system/test rules[0]",
            36,
        ),
        probe(
            "test.client",
            "/tlsposture-control",
            "allow",
            200,
            "",
            "istio-system/test rules[0]",
            36,
        ),
        probe(
            "other.client",
            "/status/418",
            "allow",
            418,
            "-=[ teapot ]=-",
            "istio-system/test rules[0]",
            36,
        ),
        probe(
            "other.client",
            "/admin",
            "deny",
            200,
            "admin page",
            "istio-system/admins rules[0]",
            52,
        ),
    ];
    let mut expired = probe(
        "test.client",
        "/",
        "reject",
        401,
        "Jwt is expired",
        "istio-system/jwt jwtRules[0]",
        62,
    );
    expired.token = Some("expired".into());
    t.authorization.push(expired);
    t.authorization_notes = vec![
        "istio-system/jwt rules[0] (authz.yaml:70): no given identity matches its sources; only a non-matching one is probed".into(),
    ];
    t
}

fn unreachable_target() -> Case {
    let mut t = Case::new("127.0.0.1:1", 1, None);
    t.ip = Some([127, 0, 0, 1].into());
    t.error = Some("connection refused by 127.0.0.1:1".into());
    t.stats = Stats {
        handshakes: 0,
        elapsed_ms: 1,
        ..Stats::default()
    };
    t
}

fn report(cases: Vec<Case>) -> Report {
    judged_report(
        cases,
        Against::default(),
        tlsposture::finding::Severity::Medium,
        Judged::default(),
    )
}

#[test]
fn terminal_report() {
    let r = report(vec![legacy_target()]);
    insta::assert_snapshot!(terminal::render(&r, terminal::Style::default()));
}

#[test]
fn terminal_report_everything_offered() {
    let r = report(vec![full_target()]);
    insta::assert_snapshot!(terminal::render(&r, terminal::Style::default()));
}

#[test]
fn json_report_everything_offered() {
    let r = report(vec![full_target()]);
    insta::assert_snapshot!(json::render(&r));
}

#[test]
fn terminal_report_optional_mtls() {
    let r = report(vec![optional_mtls_target()]);
    insta::assert_snapshot!(terminal::render(&r, terminal::Style::default()));
}

#[test]
fn terminal_report_mtls_and_authorization() {
    let mut r = judged_report(
        vec![authz_target()],
        Against::default(),
        tlsposture::finding::Severity::Medium,
        Judged {
            policy: true,
            baselines: &[],
        },
    );
    r.policy = Some(tlsposture::report::model::PolicyContext {
        files: vec!["authz.yaml".into()],
        ..Default::default()
    });
    insta::assert_snapshot!(terminal::render(&r, terminal::Style::default()));
}

#[test]
fn terminal_report_unreachable() {
    let r = report(vec![unreachable_target()]);
    insta::assert_snapshot!(terminal::render(&r, terminal::Style::default()));
}

#[test]
fn json_report() {
    let r = report(vec![legacy_target(), unreachable_target()]);
    insta::assert_snapshot!(json::render(&r));
}

#[test]
fn json_report_round_trips() {
    let r = report(vec![legacy_target()]);
    let back: Report = serde_json::from_str(&json::render(&r)).unwrap();
    assert_eq!(back, r);
}

/// The legacy listener judged against a declaration of Envoy's defaults
/// (TLS 1.2+, ECDHE-AEAD): drift findings with what was seen and the YAML
/// line to fix, and the closing line naming the policy.
#[test]
fn terminal_report_policy_drift() {
    let yaml = "\
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: mysdsgateway
  namespace: default
spec:
  selector:
    istio: ingressgateway
  servers:
  - hosts:
    - gateway.lab.test
    port:
      name: https
      number: 443
      protocol: HTTPS
    tls:
      mode: SIMPLE
      credentialName: myexample-credential
      minProtocolVersion: TLSV1_2
";
    let policy = tlsposture::policy::load_str("gateway.yaml", yaml).expect("valid policy");
    let expectations = tlsposture::policy::effective::expectations(&policy);
    let mut target = legacy_target();
    target.label = Some(expectations[0].label());
    let against = Against {
        server: Some(&expectations[0]),
        ..Against::default()
    };
    let scope = Judged {
        policy: true,
        baselines: &[],
    };
    let mut r = judged_report(
        vec![target],
        against,
        tlsposture::finding::Severity::High,
        scope,
    );
    r.policy = Some(tlsposture::report::model::PolicyContext {
        files: vec!["gateway.yaml".into()],
        documents: vec!["Gateway default/mysdsgateway (gateway.yaml:1)".into()],
        servers: vec![expectations[0].label()],
        ..Default::default()
    });
    insta::assert_snapshot!(terminal::render(&r, terminal::Style::default()));
}

#[test]
fn junit_report() {
    let r = report(vec![legacy_target(), unreachable_target()]);
    insta::assert_snapshot!(tlsposture::report::junit::render(
        &r,
        tlsposture::finding::Severity::Medium
    ));
}

/// The full target with the vulnerability battery's active results (the
/// derived checks are the verdict's), session facts and header probes:
/// the terminal sections and JSON fields of issue 12, and its grade.
fn battery_target() -> Case {
    use tlsposture::observe::{
        Answer, EarlyData, Fact, HeaderProbe, Resumption, SessionFacts, VulnId, VulnStatus,
        Vulnerability,
    };
    let mut t = full_target();
    let clean = |id, evidence: &str| Vulnerability::new(id, VulnStatus::NotVulnerable, evidence);
    t.vulnerabilities = Some(vec![
        clean(VulnId::Heartbleed, "heartbeat extension not echoed"),
        clean(
            VulnId::CcsInjection,
            "early ChangeCipherSpec: alert unexpected_message",
        ),
        Vulnerability::new(
            VulnId::Ticketbleed,
            VulnStatus::NotApplicable,
            "no session tickets issued",
        ),
        Vulnerability::new(
            VulnId::Robot,
            VulnStatus::NotApplicable,
            "no RSA key transport",
        ),
        clean(
            VulnId::SecureRenegotiation,
            "renegotiation_info echoed (RFC 5746)",
        ),
        clean(
            VulnId::ClientRenegotiation,
            "refused (alert no_renegotiation)",
        ),
        clean(VulnId::Crime, "null compression chosen"),
        Vulnerability::new(
            VulnId::Breach,
            VulnStatus::Vulnerable,
            "HTTP compression on gw.example.com/: content-encoding gzip",
        ),
        clean(
            VulnId::FallbackScsv,
            "TLS1.2 hello with TLS_FALLBACK_SCSV: alert inappropriate_fallback",
        ),
        clean(VulnId::Opossum, "Upgrade: TLS/1.0 answered 403"),
    ]);
    let yes = |e: &str| Fact::new(Answer::Yes, e);
    let resumed = Resumption {
        issued: yes("issued"),
        accepted: yes("accepted"),
        attempts: 4,
        resumed: 4,
    };
    t.session = Some(SessionFacts {
        session_id: resumed.clone(),
        session_ticket: resumed.clone(),
        tls13_psk: resumed,
        extended_master_secret: yes("extended_master_secret echoed"),
        certificate_compression: Fact::new(Answer::No, "certificate sent uncompressed"),
        certificate_compression_algorithm: None,
        early_data: EarlyData {
            offered: Fact::new(Answer::No, "tickets allow no early data"),
            max_early_data_size: None,
            accepted: Fact::not_applicable("not offered"),
        },
        pq_preference: yes("HelloRetryRequest for X25519MLKEM768"),
        handshakes: 17,
    });
    let hsts = [(
        "strict-transport-security".to_owned(),
        "max-age=31536000; includeSubDomains".to_owned(),
    )];
    t.http_headers = vec![
        HeaderProbe::answered("gw.example.com", "/", false, 200, &hsts),
        HeaderProbe::answered(
            "gw.example.com",
            "/tlsposture-0011223344556677",
            true,
            404,
            &[],
        ),
    ];
    t
}

#[test]
fn terminal_report_vulnerabilities_session_headers_grade() {
    let r = report(vec![battery_target()]);
    insta::assert_snapshot!(terminal::render(&r, terminal::Style::default()));
}

#[test]
fn json_report_vulnerabilities_session_headers_grade() {
    let r = report(vec![battery_target()]);
    insta::assert_snapshot!(json::render(&r));
}
