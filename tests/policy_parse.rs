//! Every policy fixture reads into the expected `DeclaredPolicy`; origins
//! point at the lines that hold the values (found by searching the fixture
//! text, not hard-coded); every invalid fixture fails naming file, line and
//! field; no input makes the reader panic.

use std::path::{Path, PathBuf};

use tlsposture::policy::{
    load_files, load_str, AuthzAction, GatewayFlavor, MeshTlsSource, PolicyError, TlsMode,
    TlsVersionSetting,
};
use tlsposture::wire::ProtocolVersion;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/policy")
        .join(name)
}

fn text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).expect("fixture exists")
}

/// 1-based line of the `nth` (0-based) line containing `needle`.
fn line_of(text: &str, needle: &str, nth: usize) -> usize {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .nth(nth)
        .map(|(i, _)| i + 1)
        .unwrap_or_else(|| panic!("{needle:?} #{nth} not in fixture"))
}

/// 1-based column where `needle` starts on `line`.
fn column_of(text: &str, line: usize, needle: &str) -> usize {
    let l = text.lines().nth(line - 1).expect("line exists");
    l.find(needle).expect("needle on line") + 1
}

fn load(name: &str) -> tlsposture::policy::DeclaredPolicy {
    load_str(name, &text(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_fixture_parses() {
    let dir = fixture("");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            load_files(&[&path]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            count += 1;
        }
    }
    assert!(count >= 14, "{count} fixtures");
}

#[test]
fn asm_min_tls12_reads_one_gateway_and_its_virtual_service() {
    let name = "asm-min-tls12.yaml";
    let t = text(name);
    let p = load(name);
    assert_eq!(p.documents.len(), 2);
    assert_eq!(p.documents[0].kind, "Gateway");
    assert_eq!(p.documents[0].skipped, None);
    // The VirtualService is read for its L4 routes (R-M5), not skipped.
    assert_eq!(p.documents[1].skipped, None);
    assert_eq!(p.virtual_services.len(), 1);
    assert_eq!(p.gateways.len(), 1);
    let gw = &p.gateways[0];
    assert_eq!(gw.name, "mysdsgateway");
    assert_eq!(gw.flavor, GatewayFlavor::Istio);
    assert_eq!(
        gw.selector.get("istio").map(String::as_str),
        Some("ingressgateway")
    );
    let server = &gw.servers[0];
    assert_eq!((server.port, server.protocol.as_str()), (443, "HTTPS"));
    assert_eq!(server.port_name.as_deref(), Some("https"));
    assert_eq!(server.hosts, vec!["*"]);
    let tls = server.tls.as_ref().unwrap();
    assert_eq!(tls.mode.as_ref().unwrap().value, TlsMode::Simple);
    assert_eq!(
        tls.credential_name.as_ref().unwrap().value,
        "myexample-credential"
    );
    let min = tls.min_protocol_version.as_ref().unwrap();
    assert_eq!(
        min.value,
        TlsVersionSetting::Version(ProtocolVersion::Tls12)
    );
    let line = line_of(&t, "minProtocolVersion", 0);
    assert_eq!(min.origin.line, line);
    assert_eq!(min.origin.column, column_of(&t, line, "TLSV1_2"));
    assert_eq!(min.origin.field, "spec.servers[0].tls.minProtocolVersion");
    assert_eq!(min.origin.file, name);
    assert_eq!(tls.origin.line, line_of(&t, "tls:", 0));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn min_max_only_fixtures() {
    for (name, v) in [
        ("asm-tls12-only.yaml", ProtocolVersion::Tls12),
        ("asm-tls13-only.yaml", ProtocolVersion::Tls13),
    ] {
        let p = load(name);
        let tls = p.gateways[0].servers[0].tls.clone().unwrap();
        assert_eq!(tls.min_protocol_version.unwrap().value.version(), Some(v));
        assert_eq!(tls.max_protocol_version.unwrap().value.version(), Some(v));
        assert_eq!(p.gateways[0].namespace.as_deref(), Some("default"));
    }
}

#[test]
fn cipher_suite_origins_name_the_list_item() {
    let name = "invalid-cipher-name.yaml";
    let t = text(name);
    let p = load(name);
    let ciphers = &p.gateways[0].servers[0].tls.as_ref().unwrap().cipher_suites;
    assert_eq!(ciphers.len(), 3);
    assert_eq!(ciphers[1].value, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
    assert_eq!(
        ciphers[1].origin.field,
        "spec.servers[0].tls.cipherSuites[1]"
    );
    let line = line_of(&t, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0);
    assert_eq!(ciphers[1].origin.line, line);
    assert_eq!(ciphers[1].origin.column, column_of(&t, line, "TLS_ECDHE"));
}

#[test]
fn smcp_v1_comma_separated_lists() {
    let name = "smcp-v1-tls.yaml";
    let t = text(name);
    let p = load(name);
    let mesh = p.mesh_tls.as_ref().expect("mesh defaults");
    assert_eq!(mesh.source, MeshTlsSource::SmcpV1);
    assert_eq!(
        mesh.min_protocol_version.as_ref().unwrap().value,
        TlsVersionSetting::Version(ProtocolVersion::Tls12)
    );
    assert_eq!(
        mesh.max_protocol_version.as_ref().unwrap().value,
        TlsVersionSetting::Version(ProtocolVersion::Tls13)
    );
    let names: Vec<&str> = mesh
        .cipher_suites
        .iter()
        .map(|c| c.value.as_str())
        .collect();
    assert_eq!(names.len(), 4);
    assert_eq!(names[1], "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    // Items of the comma-separated string point at themselves.
    let line = line_of(&t, "cipherSuites:", 0);
    assert_eq!(mesh.cipher_suites[1].origin.line, line);
    assert_eq!(
        mesh.cipher_suites[1].origin.column,
        column_of(&t, line, "TLS_ECDHE_ECDSA_WITH_AES_128")
    );
    assert_eq!(
        mesh.cipher_suites[1].origin.field,
        "spec.istio.global.tls.cipherSuites[1]"
    );
    let curves: Vec<&str> = mesh.ecdh_curves.iter().map(|c| c.value.as_str()).collect();
    assert_eq!(curves, ["CurveP256", "CurveP384", "X25519"]);
    assert_eq!(mesh.mesh_mtls.as_ref().map(|m| m.value), Some(true));
    assert_eq!(p.gateways.len(), 1);
    assert_eq!(p.documents.len(), 2);
}

#[test]
fn smcp_v2_lists() {
    let p = load("smcp-v2-tls.yaml");
    let mesh = p.mesh_tls.as_ref().expect("mesh defaults");
    assert_eq!(mesh.source, MeshTlsSource::SmcpV2);
    assert_eq!(mesh.cipher_suites.len(), 4);
    assert_eq!(mesh.ecdh_curves.len(), 2);
    assert_eq!(mesh.max_protocol_version, None);
    assert_eq!(mesh.mesh_mtls.as_ref().map(|m| m.value), Some(true));
    assert_eq!(
        mesh.cipher_suites[0].origin.field,
        "spec.security.controlPlane.tls.cipherSuites[0]"
    );
}

#[test]
fn mesh_config_map_lines_are_file_lines() {
    let name = "mesh-configmap.yaml";
    let t = text(name);
    let p = load(name);
    let mesh = p.mesh_tls.as_ref().expect("mesh defaults");
    // The ConfigMap comes later and wins.
    assert_eq!(mesh.source, MeshTlsSource::ConfigMap);
    let min = mesh.min_protocol_version.as_ref().unwrap();
    assert_eq!(
        min.value,
        TlsVersionSetting::Version(ProtocolVersion::Tls13)
    );
    let line = line_of(&t, "TLSV1_3", 0);
    assert_eq!(min.origin.line, line);
    assert_eq!(min.origin.column, column_of(&t, line, "TLSV1_3"));
    assert_eq!(min.origin.field, "data.mesh:tlsDefaults.minProtocolVersion");
    assert_eq!(mesh.ecdh_curves.len(), 2);
    assert_eq!(
        mesh.cipher_suites[1].origin.line,
        line_of(&t, "- ECDHE-RSA-AES256-GCM-SHA384", 0)
    );
    assert!(p.documents.iter().all(|d| d.skipped.is_none()));
}

#[test]
fn mutual_with_files_and_jwt() {
    let p = load("istio-mutual-003.yaml");
    let tls = p.gateways[0].servers[0].tls.as_ref().unwrap();
    assert_eq!(tls.mode.as_ref().unwrap().value, TlsMode::Mutual);
    assert_eq!(
        tls.ca_certificates.as_ref().unwrap().value,
        "/etc/istio/ingressgateway-ca-certs/ca-chain.cert.pem"
    );
    assert!(tls.server_certificate.is_some() && tls.private_key.is_some());
    assert_eq!(p.request_authentications.len(), 1);
    let rule = &p.request_authentications[0].jwt_rules[0];
    assert_eq!(rule.issuer, "testing@secure.istio.io");
    assert!(rule.jwks_uri.as_deref().unwrap().ends_with("jwks.json"));
    assert_eq!(p.authorization_policies.len(), 1);
    assert_eq!(
        p.authorization_policies[0].rules[0].from[0].request_principals,
        ["testing@secure.istio.io/*"]
    );
}

#[test]
fn mtls_authz_fixture() {
    let name = "asm-mtls-authz-004.yaml";
    let t = text(name);
    let p = load(name);
    let gw = &p.gateways[0];
    assert_eq!(gw.servers.len(), 2);
    assert_eq!(
        (gw.servers[0].port, gw.servers[0].tls.is_none()),
        (80, true)
    );
    let tls = gw.servers[1].tls.as_ref().unwrap();
    assert_eq!(tls.mode.as_ref().unwrap().value, TlsMode::Mutual);
    assert_eq!(tls.credential_name.as_ref().unwrap().value, "test.com");
    assert_eq!(gw.servers[1].hosts, ["test.com"]);
    assert_eq!(gw.servers[1].origin.field, "spec.servers[1]");
    let authz = &p.authorization_policies[0];
    assert_eq!(authz.action, AuthzAction::Deny);
    assert_eq!(authz.namespace.as_deref(), Some("istio-system"));
    assert_eq!(authz.rules.len(), 1);
    assert_eq!(authz.rules[0].from[0].principals, ["test.client"]);
    assert_eq!(authz.rules[0].to[0].paths, ["/status/418"]);
    assert_eq!(authz.rules[0].origin.line, line_of(&t, "- from:", 0));
    assert_eq!(authz.selector.get("istio").unwrap(), "ingressgateway");
}

#[test]
fn sds_multi_host_has_two_servers() {
    let p = load("sds-multi-host.yaml");
    let servers = &p.gateways[0].servers;
    assert_eq!(servers.len(), 2);
    assert_eq!(servers[0].hosts, ["myexample.com"]);
    assert_eq!(servers[1].hosts, ["bookinfo.com"]);
    assert_eq!(
        servers[1]
            .tls
            .as_ref()
            .unwrap()
            .credential_name
            .as_ref()
            .unwrap()
            .value,
        "bookinfo-credential"
    );
}

#[test]
fn gateway_api_listeners_become_servers() {
    let p = load("gateway-api.yaml");
    let gw = &p.gateways[0];
    assert_eq!(gw.flavor, GatewayFlavor::GatewayApi);
    assert_eq!(gw.servers.len(), 2);
    let https = &gw.servers[0];
    assert_eq!((https.port, https.protocol.as_str()), (443, "HTTPS"));
    assert_eq!(https.hosts, ["httpbin.example.com"]);
    let tls = https.tls.as_ref().unwrap();
    assert_eq!(tls.mode.as_ref().unwrap().value, TlsMode::Simple);
    assert_eq!(
        tls.credential_name.as_ref().unwrap().value,
        "httpbin-credential"
    );
    assert_eq!(gw.servers[1].hosts, ["*"]);
    assert!(gw.servers[1].tls.is_none());
}

#[test]
fn kubectl_list_items_are_documents() {
    let name = "kubectl-list.yaml";
    let t = text(name);
    let p = load(name);
    assert_eq!(p.documents.len(), 2);
    assert_eq!(p.documents[1].kind, "VirtualService");
    assert_eq!(p.virtual_services.len(), 1);
    assert_eq!(p.documents[0].name, "default/listed-gateway");
    let tls = p.gateways[0].servers[0].tls.as_ref().unwrap();
    let cred = tls.credential_name.as_ref().unwrap();
    assert_eq!(
        cred.origin.field,
        "items[0].spec.servers[0].tls.credentialName"
    );
    assert_eq!(cred.origin.line, line_of(&t, "credentialName", 0));
}

#[test]
fn typo_field_is_a_warning_with_a_suggestion() {
    let name = "typo-field.yaml";
    let t = text(name);
    let p = load(name);
    assert_eq!(p.warnings.len(), 1, "{:#?}", p.warnings);
    let w = &p.warnings[0];
    assert_eq!(w.origin.line, line_of(&t, "minProtocolVerison:", 0));
    assert_eq!(w.origin.field, "spec.servers[0].tls.minProtocolVerison");
    assert_eq!(
        w.message,
        "unknown field `minProtocolVerison` in spec.servers[0].tls (did you mean `minProtocolVersion`?); \
         the API server prunes it, so it has no effect"
    );
    let tls = p.gateways[0].servers[0].tls.as_ref().unwrap();
    assert!(tls.min_protocol_version.is_none());
}

#[test]
fn files_merge_in_order() {
    let p = load_files(&[
        fixture("asm-min-tls12.yaml"),
        fixture("sds-multi-host.yaml"),
    ])
    .unwrap();
    assert_eq!(p.gateways.len(), 2);
    assert_eq!(p.documents.len(), 3);
    assert!(p.gateways[1].origin.file.ends_with("sds-multi-host.yaml"));
}

fn error_of(name: &str) -> PolicyError {
    let path = fixture(name);
    load_files(&[&path]).expect_err(name)
}

#[test]
fn invalid_yaml_names_file_and_line() {
    match error_of("invalid/bad-yaml.yaml") {
        PolicyError::Yaml { origin, message } => {
            assert!(origin.file.ends_with("invalid/bad-yaml.yaml"));
            assert!(
                origin.line >= 7 && origin.column > 0,
                "{origin:?} {message}"
            );
            assert!(!message.is_empty());
        }
        other => panic!("{other}"),
    }
}

#[test]
fn bad_mode_lists_valid_modes() {
    let t = text("invalid/bad-mode.yaml");
    match error_of("invalid/bad-mode.yaml") {
        PolicyError::Invalid { origin, message } => {
            assert_eq!(origin.line, line_of(&t, "SIMPL", 0));
            assert_eq!(origin.field, "spec.servers[0].tls.mode");
            assert!(message.contains("did you mean SIMPLE?"), "{message}");
            assert!(message.contains("PASSTHROUGH, SIMPLE, MUTUAL"), "{message}");
        }
        other => panic!("{other}"),
    }
}

#[test]
fn bad_version_lists_valid_versions() {
    match error_of("invalid/bad-version.yaml") {
        PolicyError::Invalid { origin, message } => {
            assert_eq!(origin.field, "spec.servers[0].tls.minProtocolVersion");
            assert!(message.contains("TLSV1_9"), "{message}");
            assert!(message.contains("TLS_AUTO, TLSV1_0"), "{message}");
        }
        other => panic!("{other}"),
    }
}

#[test]
fn port_string_is_an_error() {
    let t = text("invalid/port-string.yaml");
    let e = error_of("invalid/port-string.yaml");
    let shown = e.to_string();
    match e {
        PolicyError::Invalid { origin, message } => {
            assert_eq!(origin.line, line_of(&t, "number: abc", 0));
            assert_eq!(origin.field, "spec.servers[0].port.number");
            assert!(message.contains("must be a number"), "{message}");
        }
        other => panic!("{other}"),
    }
    assert!(
        shown.contains(
            "port-string.yaml:10:15 (spec.servers[0].port.number): port must be a number"
        ),
        "{shown}"
    );
}

#[test]
fn hosts_not_a_list_is_an_error() {
    match error_of("invalid/hosts-not-list.yaml") {
        PolicyError::Invalid { origin, message } => {
            assert_eq!(origin.field, "spec.servers[0].hosts");
            assert_eq!(message, "`hosts` must be a list, found a string");
        }
        other => panic!("{other}"),
    }
}

#[test]
fn document_without_kind_is_an_error() {
    let t = text("invalid/no-kind.yaml");
    match error_of("invalid/no-kind.yaml") {
        PolicyError::Invalid { origin, message } => {
            assert_eq!(origin.line, line_of(&t, "metadata:", 1));
            assert!(message.contains("apiVersion and kind"), "{message}");
        }
        other => panic!("{other}"),
    }
}

#[test]
fn unreadable_file_is_a_read_error() {
    match load_files(&["/nonexistent/gw.yaml"]).expect_err("missing") {
        PolicyError::Read { file, .. } => assert_eq!(file, "/nonexistent/gw.yaml"),
        other => panic!("{other}"),
    }
}

/// Every prefix of every fixture, and a few byte mutations, read without
/// panicking (errors are fine).
#[test]
fn truncated_and_mutated_fixtures_never_panic() {
    let mut texts = Vec::new();
    for dir in [fixture(""), fixture("invalid")] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                texts.push(std::fs::read_to_string(path).unwrap());
            }
        }
    }
    let replacements = [":", "-", "[", "{", "\"", " ", "\n", "'", "*", "&a", "!!int"];
    for t in &texts {
        let chars: Vec<(usize, char)> = t.char_indices().collect();
        for (i, _) in chars.iter().step_by(3) {
            let _ = load_str("cut.yaml", &t[..*i]);
        }
        for (n, (i, c)) in chars.iter().enumerate().step_by(7) {
            let r = replacements[n % replacements.len()];
            let mutated = format!("{}{}{}", &t[..*i], r, &t[*i + c.len_utf8()..]);
            let _ = load_str("mutated.yaml", &mutated);
        }
    }
}

mod props {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn arbitrary_text_never_panics(s in "(apiVersion|kind|spec|servers|tls|port|number|-|:| |\n|\\[|\\]|\\{|\\}|'|\"|[a-zA-Z0-9_]{1,6}){0,60}") {
            let _ = tlsposture::policy::load_str("prop.yaml", &s);
        }
    }
}

/// A multi-megabyte enum value (review P4: 333 MB and a 3 MB error line)
/// gives exit 64 and one short line that still names file, line, column and
/// field, through the binary users run.
#[test]
fn huge_enum_value_gives_one_short_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge-version.yaml");
    let copies = (3 << 20) / "TLSV1_9".len();
    let t = text("invalid/bad-version.yaml").replace("TLSV1_9", &"TLSV1_9".repeat(copies));
    assert!(t.len() > 3_000_000);
    std::fs::write(&file, &t).unwrap();
    let line = line_of(&t, "minProtocolVersion", 0);
    let column = column_of(&t, line, "TLSV1_9");

    let started = std::time::Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tlsposture"))
        .args(["policy", "lint"])
        .arg(&file)
        .output()
        .expect("tlsposture runs");
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(64),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let lines: Vec<&str> = stderr.lines().chain(stdout.lines()).collect();
    assert_eq!(lines.len(), 1, "one line expected: {} bytes", stderr.len());
    let line_text = lines[0];
    assert!(
        line_text.len() < 300,
        "{} bytes: {line_text}",
        line_text.len()
    );
    assert!(
        line_text.contains(&format!(
            "huge-version.yaml:{line}:{column} (spec.servers[0].tls.minProtocolVersion)"
        )),
        "{line_text}"
    );
    assert!(
        line_text.contains(&format!("({} bytes)", 7 * copies)),
        "{line_text}"
    );
    assert!(elapsed < std::time::Duration::from_secs(20), "{elapsed:?}");
}
