//! The grade table: each configuration of `tests/grade_table/cases.toml`
//! (the worked examples of anchors-2 §2.5 and more) is built as the
//! observations a scan would make of it, graded through
//! `tlsposture::verdict::grade::grade`, and compared with the grade, score,
//! category scores and rules the SSL Labs rating guide gives it. The
//! expected values are worked out from the guide in the data file.

use std::collections::BTreeMap;

use serde::Deserialize;
use tlsposture::observe::{
    CertRequest, CertificateInfo, CertificateResult, HeaderProbe, PreferenceResult, ProtocolResult,
    SuiteResult, TargetObservation, VulnId, VulnStatus, Vulnerability,
};
use tlsposture::registry;
use tlsposture::verdict::grade::{grade, Grade};
use tlsposture::verdict::ClientSimulation;
use tlsposture::wire::ProtocolVersion;

#[derive(Deserialize)]
struct File {
    sets: BTreeMap<String, Vec<String>>,
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    source: String,
    protocols: Vec<ProtocolVersion>,
    suites: Vec<String>,
    #[serde(default)]
    certs: Vec<Cert>,
    hsts: Option<toml::Value>,
    #[serde(default)]
    clients: Vec<String>,
    #[serde(default)]
    vulns: BTreeMap<VulnId, VulnStatus>,
    #[serde(default = "yes")]
    vulns_ran: bool,
    trust_anchor: Option<String>,
    /// The server follows the client's suite order (TLS 1.2).
    #[serde(default)]
    client_order: bool,
    expect: Expect,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Cert {
    key: Option<String>,
    bits: Option<u32>,
    sig: Option<String>,
    trusted: Option<bool>,
    matches: Option<bool>,
    days: Option<i64>,
    self_signed: bool,
}

#[derive(Deserialize)]
struct Expect {
    grade: Option<String>,
    score: Option<toml::Value>,
    protocol: Option<u32>,
    key_exchange: Option<u32>,
    cipher: Option<u32>,
    #[serde(default)]
    caps: Vec<String>,
    #[serde(default)]
    warnings: usize,
    #[serde(default)]
    rules: Vec<String>,
    #[serde(default)]
    basis: Vec<String>,
    #[serde(default)]
    not_checked: Vec<String>,
    trusted_by: Option<String>,
    error: Option<String>,
}

fn expand<'a>(sets: &'a BTreeMap<String, Vec<String>>, items: &'a [String]) -> Vec<&'a str> {
    items
        .iter()
        .flat_map(|item| match item.strip_prefix('@') {
            Some(set) => sets
                .get(set)
                .unwrap_or_else(|| panic!("no set {set}"))
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            None => vec![item.as_str()],
        })
        .collect()
}

fn version(text: &str) -> ProtocolVersion {
    serde_json::from_value(serde_json::json!(text)).unwrap_or_else(|_| panic!("version {text}"))
}

fn suite(spec: &str) -> SuiteResult {
    let mut words = spec.split_whitespace();
    let protocol = version(words.next().expect("version"));
    let name = words.next().expect("suite name");
    let entry = registry::cipher_suite_by_name(name).unwrap_or_else(|| panic!("suite {name}"));
    let mut s = SuiteResult::new(protocol, entry);
    for extra in words {
        let bits = extra.strip_prefix("dh=").expect("dh=BITS");
        s.dh_bits = Some(bits.parse().unwrap());
    }
    s
}

fn certificate(c: &Cert) -> CertificateResult {
    let key = c.key.clone().unwrap_or_else(|| "RSA".into());
    let days = c.days.unwrap_or(90);
    let leaf = CertificateInfo {
        subject: "CN=gateway.example.test".into(),
        issuer: if c.self_signed {
            "CN=gateway.example.test".into()
        } else {
            "CN=Example CA".into()
        },
        serial: "01".into(),
        sans: vec!["gateway.example.test".into()],
        not_before: "2026-09-01T00:00:00Z".into(),
        not_after: "2027-03-01T00:00:00Z".into(),
        days_left: days,
        curve: (key == "ECDSA").then(|| "P-256".into()),
        key_type: key,
        key_bits: c.bits.unwrap_or(2048),
        signature_algorithm: c
            .sig
            .clone()
            .unwrap_or_else(|| "sha256WithRSAEncryption".into()),
        sha256: "00".into(),
        self_signed: c.self_signed,
        is_ca: false,
    };
    CertificateResult {
        sni: Some("gateway.example.test".into()),
        request: CertRequest::Requested,
        refused: None,
        unknown: None,
        read_via: None,
        key_type: None,
        protocol: Some(ProtocolVersion::Tls13),
        chain: vec![leaf],
        trusted: Some(c.trusted.unwrap_or(true)),
        trust_error: c
            .trusted
            .is_some_and(|t| !t)
            .then(|| "UnknownIssuer".into()),
        hostname_match: Some(c.matches.unwrap_or(true)),
        days_left: Some(days),
        ocsp_stapled: false,
        chain_problems: Vec::new(),
    }
}

fn simulation(spec: &str) -> ClientSimulation {
    let parts: Vec<&str> = spec.split('|').collect();
    let [client, protocol, cipher] = parts[..] else {
        panic!("client spec {spec}: NAME|VERSION|SUITE");
    };
    let profile = tlsposture::clients::by_name(client)
        .unwrap_or_else(|| panic!("no client profile {client}"));
    ClientSimulation {
        client: profile.name.clone(),
        category: profile.category.to_string(),
        connected: true,
        protocol: Some(version(protocol)),
        cipher: Some(cipher.to_owned()),
        group: None,
        hello_retry: false,
        reason: None,
    }
}

fn observation(file: &File, case: &Case) -> TargetObservation {
    let mut o = TargetObservation::new(
        "gateway.example.test:443".into(),
        443,
        Some("gateway.example.test".into()),
    );
    o.reachable = true;
    o.protocols = ProtocolVersion::ALL
        .into_iter()
        .map(|v| {
            if case.protocols.contains(&v) {
                ProtocolResult::offered(v, "table".into(), Some(v), None)
            } else {
                ProtocolResult::not_offered(v, "table".into())
            }
        })
        .collect();
    o.cipher_suites = expand(&file.sets, &case.suites)
        .into_iter()
        .map(suite)
        .collect();
    o.certificates = if case.certs.is_empty() {
        vec![certificate(&Cert::default())]
    } else {
        case.certs.iter().map(certificate).collect()
    };
    if case.client_order {
        o.server_preference = vec![PreferenceResult {
            protocol: ProtocolVersion::Tls12,
            server_enforces: Some(false),
            order: Vec::new(),
            evidence: "table".into(),
        }];
    }
    o.http_headers = match &case.hsts {
        None => Vec::new(),
        Some(value) => {
            let headers: Vec<(String, String)> = match value {
                toml::Value::String(s) if s == "absent" => Vec::new(),
                toml::Value::Integer(age) => vec![(
                    "strict-transport-security".to_owned(),
                    format!("max-age={age}"),
                )],
                other => panic!("{}: hsts {other}", case.name),
            };
            vec![HeaderProbe::answered(
                "gateway.example.test",
                "/",
                false,
                200,
                &headers,
            )]
        }
    };
    o.vulnerabilities = case.vulns_ran.then(|| {
        VulnId::ALL
            .into_iter()
            .map(|id| {
                let status = case
                    .vulns
                    .get(&id)
                    .copied()
                    .unwrap_or(VulnStatus::NotVulnerable);
                Vulnerability::new(id, status, "table")
            })
            .collect()
    });
    o
}

fn check(case: &Case, got: &Result<Grade, String>) -> Vec<String> {
    let mut wrong = Vec::new();
    let e = &case.expect;
    let g = match (got, &e.error) {
        (Err(why), Some(want)) => {
            if !why.contains(want.as_str()) {
                wrong.push(format!("error {why:?} lacks {want:?}"));
            }
            return wrong;
        }
        (Err(why), None) => return vec![format!("not graded: {why}")],
        (Ok(g), Some(_)) => return vec![format!("graded {} but expected an error", g.grade)],
        (Ok(g), None) => g,
    };
    if let Some(want) = &e.grade {
        if g.grade.name() != want {
            wrong.push(format!("grade {} != {want}", g.grade));
        }
    }
    match &e.score {
        Some(toml::Value::Integer(s)) if g.score != Some(u32::try_from(*s).unwrap()) => {
            wrong.push(format!("score {:?} != {s}", g.score));
        }
        Some(toml::Value::String(s)) if s == "none" && g.score.is_some() => {
            wrong.push(format!("score {:?}, expected none", g.score));
        }
        _ => {}
    }
    for (what, want, have) in [
        ("protocol", e.protocol, g.protocol_score),
        ("key exchange", e.key_exchange, g.key_exchange_score),
        ("cipher", e.cipher, g.cipher_score),
    ] {
        if let Some(want) = want {
            if want != have {
                wrong.push(format!("{what} score {have} != {want}"));
            }
        }
    }
    let mut caps: Vec<&str> = g.caps.iter().map(|c| c.grade.name()).collect();
    let mut want_caps: Vec<&str> = e.caps.iter().map(String::as_str).collect();
    caps.sort_unstable();
    want_caps.sort_unstable();
    if caps != want_caps {
        wrong.push(format!("caps {caps:?} != {want_caps:?}"));
    }
    if g.warnings.len() != e.warnings {
        wrong.push(format!("{} warnings != {}", g.warnings.len(), e.warnings));
    }
    let rules: Vec<&str> = g
        .caps
        .iter()
        .map(|c| c.rule.as_str())
        .chain(g.warnings.iter().map(|w| w.rule.as_str()))
        .collect();
    for want in &e.rules {
        if !rules.iter().any(|r| r.contains(want.as_str())) {
            wrong.push(format!("no cap or warning with rule {want:?}"));
        }
    }
    for want in &e.basis {
        if !g.basis.iter().any(|b| b.contains(want.as_str())) {
            wrong.push(format!("no basis note {want:?}"));
        }
    }
    for want in &e.not_checked {
        if !g.not_checked.iter().any(|b| b.contains(want.as_str())) {
            wrong.push(format!("no not_checked note {want:?}"));
        }
    }
    if e.trusted_by.is_some() && g.trusted_by != e.trusted_by {
        wrong.push(format!(
            "trusted_by {:?} != {:?}",
            g.trusted_by, e.trusted_by
        ));
    }
    // Every cap and warning names the rule it comes from.
    if let Some(bare) = rules.iter().find(|r| r.is_empty()) {
        wrong.push(format!("a cap or warning without a rule {bare:?}"));
    }
    wrong
}

#[test]
fn every_configuration_gets_the_grade_the_rating_guide_gives_it() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/grade_table/cases.toml");
    let file: File = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(
        file.case.len() >= 16,
        "the worked examples and at least 10 more"
    );
    let mut failures = Vec::new();
    for case in &file.case {
        assert!(!case.source.is_empty(), "{}: cite the rule", case.name);
        let observed = observation(&file, case);
        let sims: Vec<ClientSimulation> = expand(&file.sets, &case.clients)
            .into_iter()
            .map(simulation)
            .collect();
        let got = grade(
            &observed,
            &sims,
            &observed_vulns(&observed),
            case.trust_anchor.as_deref(),
        );
        let wrong = check(case, &got);
        if !wrong.is_empty() {
            failures.push(format!(
                "{} ({}):\n    {}\n    got: {}",
                case.name,
                case.source,
                wrong.join("\n    "),
                serde_json::to_string(&got.as_ref().ok()).unwrap()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from the rating guide:\n{}",
        failures.len(),
        file.case.len(),
        failures.join("\n")
    );
}

fn observed_vulns(o: &TargetObservation) -> Vec<Vulnerability> {
    o.vulnerabilities.clone().unwrap_or_default()
}

#[test]
fn the_grade_serialises_with_the_contract_names() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/grade_table/cases.toml");
    let file: File = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let case = file
        .case
        .iter()
        .find(|c| c.name == "envoy-min-tls10")
        .unwrap();
    let observed = observation(&file, case);
    let g = grade(&observed, &[], &observed_vulns(&observed), None).unwrap();
    let json = serde_json::to_value(&g).unwrap();
    assert_eq!(json["grade"], "B");
    assert_eq!(json["score"], 91);
    assert_eq!(json["caps"][0]["grade"], "B");
    assert!(json["caps"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("TLS1.0"));
    assert!(json["caps"][0]["rule"].as_str().unwrap().contains("2009q"));
    assert!(json["warnings"].as_array().unwrap().is_empty());
    let back: Grade = serde_json::from_value(json).unwrap();
    assert_eq!(back, g);
}
