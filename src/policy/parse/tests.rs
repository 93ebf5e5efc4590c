use super::*;

fn load(text: &str) -> DeclaredPolicy {
    load_str("t.yaml", text).unwrap_or_else(|e| panic!("{e}"))
}

const AUTHZ: &str =
    "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: a\nspec:\n";

#[test]
fn authz_rules_absent_empty_and_match_all() {
    let absent = load(AUTHZ);
    assert!(absent.authorization_policies[0].rules.is_empty());
    assert_eq!(absent.authorization_policies[0].action, AuthzAction::Allow);
    let empty = load(&format!("{AUTHZ}  rules: []\n"));
    assert!(empty.authorization_policies[0].rules.is_empty());
    let all = load(&format!("{AUTHZ}  rules: [{{}}]\n"));
    assert_eq!(all.authorization_policies[0].rules.len(), 1);
    assert_eq!(all.authorization_policies[0].rules[0].from, vec![]);
}

#[test]
fn authz_when_and_ports() {
    let p = load(&format!(
        "{AUTHZ}  action: CUSTOM\n  provider:\n    name: ext\n  rules:\n  - to:\n    - operation:\n        ports: [8080, \"9090\"]\n        notMethods: [POST]\n    when:\n    - key: request.headers[x]\n      notValues: [a]\n"
    ));
    let a = &p.authorization_policies[0];
    assert_eq!(a.action, AuthzAction::Custom);
    assert_eq!(a.provider.as_deref(), Some("ext"));
    assert_eq!(a.rules[0].to[0].ports, ["8080", "9090"]);
    assert_eq!(a.rules[0].to[0].not_methods, ["POST"]);
    assert_eq!(a.rules[0].when[0].key, "request.headers[x]");
    assert_eq!(a.rules[0].when[0].not_values, ["a"]);
}

#[test]
fn bad_action_is_an_error() {
    let e = load_str("t.yaml", &format!("{AUTHZ}  action: DENNY\n")).unwrap_err();
    assert!(e.to_string().contains("did you mean DENY?"), "{e}");
}

#[test]
fn peer_authentication_modes() {
    let p = load(
        "apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata:\n  name: p\n  namespace: istio-system\nspec:\n  mtls:\n    mode: STRICT\n  portLevelMtls:\n    8080:\n      mode: PERMISSIVE\n",
    );
    let pa = &p.peer_authentications[0];
    assert_eq!(pa.mtls_mode.as_deref(), Some("STRICT"));
    assert_eq!(
        pa.port_level_mtls.get(&8080).map(String::as_str),
        Some("PERMISSIVE")
    );
}

#[test]
fn request_authentication_headers() {
    let p = load(
        "apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata:\n  name: r\nspec:\n  jwtRules:\n  - issuer: iss\n    audiences: [a, b]\n    fromHeaders:\n    - name: x-jwt\n      prefix: 'Bearer '\n    fromParams: [token]\n    forwardOriginalToken: true\n",
    );
    let r = &p.request_authentications[0].jwt_rules[0];
    assert_eq!(r.audiences, ["a", "b"]);
    assert_eq!(
        r.from_headers,
        [("x-jwt".to_string(), Some("Bearer ".to_string()))]
    );
    assert_eq!(r.from_params, ["token"]);
    assert!(r.forward_original_token);
}

#[test]
fn gateway_api_mutual_from_option_and_validation() {
    let base = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: g\nspec:\n  listeners:\n  - name: l\n    port: 443\n    protocol: HTTPS\n    tls:\n      certificateRefs:\n      - name: a\n      - name: b\n";
    let p = load(&format!(
        "{base}      options:\n        gateway.istio.io/tls-terminate-mode: MUTUAL\n        gateway.istio.io/tls-cipher-suites: ECDHE-RSA-AES128-GCM-SHA256,ECDHE-RSA-AES256-GCM-SHA384\n"
    ));
    let tls = p.gateways[0].servers[0].tls.clone().unwrap();
    assert_eq!(tls.mode.unwrap().value, TlsMode::Mutual);
    assert_eq!(tls.credential_name.unwrap().value, "a");
    assert_eq!(tls.credential_names.len(), 2);
    assert_eq!(tls.cipher_suites.len(), 2);
    // A listener-level `frontendValidation` is not where istiod looks: a
    // warning, and the listener stays SIMPLE (R-G3).
    let p = load(&format!(
        "{base}      frontendValidation:\n        caCertificateRefs:\n        - kind: ConfigMap\n          name: ca\n"
    ));
    let tls = p.gateways[0].servers[0].tls.clone().unwrap();
    assert_eq!(tls.mode.unwrap().value, TlsMode::Simple);
    assert!(p
        .warnings
        .iter()
        .any(|w| w.message.contains("spec.tls.frontend")));
    // Unknown terminate-mode values are ignored, not an error (R-G2).
    let p = load(&format!(
        "{base}      options:\n        gateway.istio.io/tls-terminate-mode: SIMPLE\n"
    ));
    assert_eq!(
        p.gateways[0].servers[0]
            .tls
            .clone()
            .unwrap()
            .mode
            .unwrap()
            .value,
        TlsMode::Simple
    );
    let p = load(&format!(
        "{base}      options:\n        gateway.istio.io/tls-terminate-mode: ISTIO_SIMPLE\n"
    ));
    let tls = p.gateways[0].servers[0].tls.clone().unwrap();
    assert_eq!(tls.mode.unwrap().value, TlsMode::Simple);
    assert_eq!(tls.credential_name.unwrap().value, "builtin://");
    let p = load(&format!("{base}      mode: Passthrough\n"));
    let tls = p.gateways[0].servers[0].tls.clone().unwrap();
    assert_eq!(tls.mode.unwrap().value, TlsMode::Passthrough);
}

#[test]
fn sail_istio_and_inline_config_map() {
    let p = load(
        "apiVersion: sailoperator.io/v1\nkind: Istio\nmetadata:\n  name: default\nspec:\n  values:\n    meshConfig:\n      tlsDefaults:\n        ecdhCurves: [P-256]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio\ndata:\n  mesh: \"tlsDefaults: {minProtocolVersion: TLSV1_3}\"\n",
    );
    let mesh = p.mesh_tls.unwrap();
    assert_eq!(mesh.source, MeshTlsSource::ConfigMap);
    // Field by field: curves from the Sail Istio, the minimum from the ConfigMap.
    assert_eq!(mesh.ecdh_curves[0].value, "P-256");
    let min = mesh.min_protocol_version.unwrap();
    // A one-line string: origins inside it are the string's position.
    assert_eq!((min.origin.line, min.origin.column), (16, 9));
}

#[test]
fn mesh_config_rejects_tls10() {
    let e = load_str(
        "t.yaml",
        "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata:\n  name: x\nspec:\n  meshConfig:\n    tlsDefaults:\n      minProtocolVersion: TLSV1_0\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("TLS_AUTO, TLSV1_2, TLSV1_3"), "{e}");
}

#[test]
fn other_config_maps_and_unknown_kinds_are_skipped() {
    let p = load("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata: {}\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n");
    assert_eq!(p.documents.len(), 2);
    assert!(p.documents.iter().all(|d| d.skipped.is_some()));
}

#[test]
fn misspelt_spec_is_a_warning() {
    let p = load("apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: g\nspce:\n  servers: []\n");
    assert_eq!(p.warnings.len(), 1);
    assert!(p.warnings[0].message.contains("did you mean `spec`?"));
}

#[test]
fn quoted_port_suggests_the_fix() {
    let e = load_str(
        "t.yaml",
        "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: g\nspec:\n  servers:\n  - port: {number: \"443\"}\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("write 443 without quotes"), "{e}");
}

#[test]
fn a_scalar_document_is_an_error() {
    assert!(matches!(
        load_str("t.yaml", "just a string\n"),
        Err(PolicyError::Yaml { .. })
    ));
}

/// R-G3 by release: `spec.tls.frontend` gives MUTUAL from 1.28; from 1.31
/// `AllowInsecureFallback` gives OPTIONAL_MUTUAL + insecureSkipVerify and
/// the terminate-mode option overrides the CA's MUTUAL (istio/istio
/// conversion.go `buildTLS` at tags 1.27.9, 1.28.10, 1.30.3 and master
/// 86c9f01f; goldens tls.yaml.golden "terminate-mtls-frontendvalidation-*",
/// "terminate-optional-mtls-frontendvalidation").
#[test]
fn gateway_api_frontend_validation_by_release() {
    use crate::policy::istiod::servers::gateway_api_tls;
    use crate::policy::istiod::IstioVersion;
    let gw = |options: &str, validation_mode: &str| {
        format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: g\n  namespace: ns\nspec:\n  tls:\n    frontend:\n      default:\n        validation:\n          caCertificateRefs:\n          - {{kind: ConfigMap, name: ca}}\n{validation_mode}      perPort:\n      - port: 8443\n        tls:\n          validation:\n            caCertificateRefs: [{{name: a}}, {{name: b}}]\n  listeners:\n  - name: l\n    port: 443\n    protocol: HTTPS\n    tls:\n      certificateRefs: [{{name: cert}}]\n{options}  - name: m\n    port: 8443\n    protocol: HTTPS\n    tls:\n      certificateRefs: [{{name: cert}}]\n"
        )
    };
    let at = |text: &str, v: (u16, u16)| {
        let p = load(text);
        let tls = p.gateways[0].servers[0].tls.clone().unwrap();
        gateway_api_tls(&tls, IstioVersion::new(v.0, v.1)).unwrap()
    };
    let fallback = "          mode: AllowInsecureFallback\n";
    let plain = gw("", "");
    assert_eq!(at(&plain, (1, 27)).mode.unwrap().value, TlsMode::Simple);
    let m = at(&plain, (1, 28));
    assert_eq!(m.mode.unwrap().value, TlsMode::Mutual);
    assert_eq!(m.ca_cert_credential_name.unwrap().value, "ca");
    assert!(!m.insecure_skip_verify.unwrap().value);
    let insecure = gw("", fallback);
    assert_eq!(at(&insecure, (1, 30)).mode.unwrap().value, TlsMode::Mutual);
    let f = at(&insecure, (1, 31));
    assert_eq!(f.mode.unwrap().value, TlsMode::OptionalMutual);
    assert!(f.insecure_skip_verify.unwrap().value);
    let option = gw(
        "      options: {gateway.istio.io/tls-terminate-mode: OPTIONAL_MUTUAL}\n",
        fallback,
    );
    assert_eq!(at(&option, (1, 30)).mode.unwrap().value, TlsMode::Mutual);
    let o = at(&option, (1, 32));
    assert_eq!(o.mode.unwrap().value, TlsMode::OptionalMutual);
    assert!(!o.insecure_skip_verify.unwrap().value);
    // perPort 8443 lists two CA refs: istiod refuses that listener.
    let p = load(&plain);
    let tls = p.gateways[0].servers[1].tls.clone().unwrap();
    assert!(gateway_api_tls(&tls, IstioVersion::new(1, 30))
        .unwrap_err()
        .contains("only one caCertificateRef"));
    assert!(gateway_api_tls(&tls, IstioVersion::new(1, 27)).is_ok());
}

/// Server `ecdhCurves`, `insecureSkipVerify`, `caCertCredentialName` and
/// `bind` are read.
#[test]
fn istio_server_tls_fields() {
    let p = load("apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: g\nspec:\n  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    bind: 10.0.0.1\n    hosts: [a.example]\n    tls:\n      mode: MUTUAL\n      credentialName: c\n      caCertCredentialName: ca\n      insecureSkipVerify: true\n      ecdhCurves: [P-256, X25519]\n");
    let s = &p.gateways[0].servers[0];
    assert_eq!(s.bind.as_deref(), Some("10.0.0.1"));
    let tls = s.tls.as_ref().unwrap();
    assert_eq!(tls.ecdh_curves.len(), 2);
    assert!(tls.insecure_skip_verify.as_ref().unwrap().value);
    assert_eq!(tls.ca_cert_credential_name.as_ref().unwrap().value, "ca");
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

/// A VirtualService is read as far as R-M5 needs: hosts, gateways, each
/// tcp route's port/gateway predicates and whether it has destinations;
/// a bad port is an error naming the field.
#[test]
fn virtual_service_l4_routes() {
    let vs = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v, namespace: ns}\nspec:\n  hosts: [a.example]\n  gateways: [gw, other/gw2]\n  http: [{route: [{destination: {host: h}}]}]\n  tcp:\n  - match: [{port: 9443, gateways: [gw]}]\n    route: [{destination: {host: b}}]\n  - match: [{port: 8000}]\n  tls: [{match: [{sniHosts: [a.example]}]}]\n";
    let p = load(vs);
    let v = &p.virtual_services[0];
    assert_eq!((v.hosts.len(), v.gateways.len(), v.tls_routes), (1, 2, 1));
    assert_eq!(v.tcp.len(), 2);
    assert_eq!(v.tcp[0].matches[0].port, Some(9443));
    assert_eq!(v.tcp[0].matches[0].gateways, ["gw"]);
    assert!(v.tcp[0].has_destination && !v.tcp[1].has_destination);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let err = load_str("t.yaml", &vs.replace("port: 8000", "port: 70000")).unwrap_err();
    assert!(
        err.to_string().contains("spec.tcp[1].match[0].port"),
        "{err}"
    );
}
