//! Target discovery from `kubectl get … -o yaml` output
//! (`fleet::discover`), on a realistic export (fixtures/k8s/cluster.yaml)
//! read with and without the declared policy, and on arbitrary input,
//! which must give targets or an error, never a panic.

use proptest::prelude::*;
use tlsposture::fleet::discover::{
    discover, istio_port_protocol, port_is_tls, DiscoverError, Discovery, GatewayKind, Options,
    PortProtocol,
};
use tlsposture::target::TargetSpec;

const CLUSTER: &str = include_str!("../fixtures/k8s/cluster.yaml");
const FILE: &str = "cluster.yaml";

fn without_policy() -> Discovery {
    discover(FILE, CLUSTER, None, &Options::default()).expect("the fixture reads")
}

fn with_policy(options: &Options) -> Discovery {
    let policy = tlsposture::policy::load_str(FILE, CLUSTER).expect("the fixture is a policy too");
    discover(FILE, CLUSTER, Some(&policy), options).expect("the fixture reads")
}

/// The line (1-based) of the first fixture line containing `needle` after
/// the first one containing `after`: the fixture, not the test, says where
/// things are.
fn line_of(after: &str, needle: &str) -> usize {
    let start = CLUSTER
        .lines()
        .position(|l| l.contains(after))
        .unwrap_or_else(|| panic!("{after:?} in the fixture"));
    start
        + 1
        + CLUSTER
            .lines()
            .skip(start)
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle:?} after {after:?}"))
}

#[test]
fn every_tls_address_and_port_becomes_one_target() {
    let found = without_policy();
    let lines: Vec<String> = found.targets.iter().map(|t| t.targets_line()).collect();
    assert_eq!(
        lines,
        [
            "203.0.113.10:443",
            "a1b2c3-1234567890.eu-west-1.elb.example.com:443",
            "203.0.113.10:15443",
            "a1b2c3-1234567890.eu-west-1.elb.example.com:15443",
            // The Service Istio deployed for Gateway `shop` and the
            // Gateway's own status name the same addresses: one target
            // each, with the listeners' plain hostnames as SNI.
            "198.51.100.7:443 shop.example.com",
            "[2001:db8::7]:443 shop.example.com",
            "198.51.100.7:8443 api.shop.example.com",
            "[2001:db8::7]:8443 api.shop.example.com",
        ]
    );
    for t in &found.targets {
        let spec = TargetSpec::parse(&t.address).expect("every address parses as a target");
        assert!(
            t.address.ends_with(&format!(":{}", spec.port)),
            "{}",
            t.address
        );
        assert!(t.gateways.is_empty() && t.declared_port.is_none(), "{t:?}");
    }
}

#[test]
fn sources_name_the_object_port_and_line() {
    let found = without_policy();
    let https = &found.targets[0];
    assert_eq!(
        https.sources,
        [format!(
            "Service istio-system/istio-ingressgateway port https 443 ({FILE}:{})",
            line_of("name: istio-ingressgateway", "- name: https")
        )]
    );
    let shop = &found.targets[4];
    assert_eq!(shop.sources.len(), 3, "{:?}", shop.sources);
    assert!(shop.sources[0].starts_with("Service shop/shop-istio port web 443 ("));
    assert_eq!(
        shop.sources[1],
        format!(
            "Gateway shop/shop listener web 443 ({FILE}:{})",
            line_of("kind: Gateway", "- name: web")
        )
    );
    assert!(shop.sources[2].starts_with("Gateway shop/shop listener web-wildcard 443 ("));
}

#[test]
fn a_wildcard_or_missing_hostname_sends_no_sni_and_says_so() {
    let found = without_policy();
    let shop = &found.targets[4];
    assert_eq!(shop.sni, ["shop.example.com"]);
    assert!(
        shop.notes
            .iter()
            .any(|n| n.contains("*.shop.example.com is a wildcard, so no SNI is sent")),
        "{:?}",
        shop.notes
    );
}

#[test]
fn what_gives_no_target_is_listed_with_its_reason_and_line() {
    let found = without_policy();
    let skipped: Vec<String> = found
        .skipped
        .iter()
        .map(|s| format!("{}: {}", s.what, s.reason))
        .collect();
    let expect = [
        "Service istio-system/istio-ingressgateway port status-port 15021: its name and appProtocol name no protocol (Istio sniffs it), so it is not taken for TLS",
        "Service istio-system/istio-ingressgateway port http2 80: Istio reads its protocol as Http2, not TLS",
        "Service default/kubernetes: type ClusterIP has no external address (only LoadBalancer Services are scanned)",
        "Service shop/shop-istio port status-port 15021: Istio reads its protocol as Tcp, not TLS",
        "Service shop/shop-istio port plain 80: Istio reads its protocol as Http, not TLS",
        "Gateway shop/shop listener plain 80: protocol \"HTTP\" is not TLS",
        "Gateway billing/billing listener web 443: the Gateway has no status.addresses: not programmed yet",
        "Gateway istio-system/public: an Istio Gateway has no address of its own: its addresses are those of the LoadBalancer Services it selects; pass it with --policy to pair it with them",
    ];
    assert_eq!(skipped, expect);
    let status = &found.skipped[0];
    assert_eq!(status.origin.file, FILE);
    assert_eq!(
        status.origin.line,
        line_of("name: istio-ingressgateway", "- name: status-port")
    );
    assert_eq!(status.origin.field, "items[0].spec.ports[0]");
    assert_eq!(found.skipped[2].origin.field, "items[1]");
    let billing = &found.skipped[6];
    assert_eq!(billing.origin.line, line_of("name: billing", "- name: web"));
}

#[test]
fn with_the_policy_each_address_names_the_gateways_that_serve_it() {
    let found = with_policy(&Options::default());
    let by_address = |a: &str| {
        found
            .targets
            .iter()
            .find(|t| t.address == a)
            .unwrap_or_else(|| panic!("{a} discovered"))
    };
    // The Istio Gateway's selector `istio: ingressgateway` is a subset of
    // the Service's selector, and it declares a server on 443.
    for a in [
        "203.0.113.10:443",
        "a1b2c3-1234567890.eu-west-1.elb.example.com:443",
    ] {
        let t = by_address(a);
        let names: Vec<String> = t.gateways.iter().map(|g| g.to_string()).collect();
        assert_eq!(names, ["Gateway.networking.istio.io istio-system/public"]);
        assert_eq!(t.declared_port, Some(443));
    }
    // Nothing declares 15443: unpaired, and the target says so.
    let passthrough = by_address("203.0.113.10:15443");
    assert!(passthrough.gateways.is_empty());
    assert_eq!(passthrough.declared_port, None);
    assert!(
        passthrough.notes.iter().any(|n| n
            .contains("no Gateway in the --policy files selects it with a server on port 15443")),
        "{:?}",
        passthrough.notes
    );
    // The Gateway API Gateway pairs with itself, through its own status
    // and through the Service deployed for it.
    for a in ["198.51.100.7:8443", "[2001:db8::7]:443"] {
        let t = by_address(a);
        assert_eq!(t.gateways.len(), 1, "{t:?}");
        assert_eq!(t.gateways[0].flavor, GatewayKind::GatewayApi);
        assert_eq!(
            t.gateways[0].to_string(),
            "Gateway.gateway.networking.k8s.io shop/shop"
        );
        assert!(t.declared_port.is_some());
    }
}

#[test]
fn scoping_gateways_to_their_namespace_unpairs_a_gateway_elsewhere() {
    let text = CLUSTER.replace(
        "    name: public\n    namespace: istio-system",
        "    name: public\n    namespace: shop",
    );
    let policy = tlsposture::policy::load_str(FILE, &text).expect("policy");
    let scoped = Options {
        scope_gateway_to_namespace: true,
    };
    let unscoped = discover(FILE, &text, Some(&policy), &Options::default()).unwrap();
    assert_eq!(unscoped.targets[0].gateways.len(), 1);
    let found = discover(FILE, &text, Some(&policy), &scoped).unwrap();
    assert!(
        found.targets[0].gateways.is_empty(),
        "{:?}",
        found.targets[0]
    );
}

#[test]
fn a_gateway_selector_label_the_service_lacks_does_not_pair() {
    let text = CLUSTER.replace(
        "    selector:\n      istio: ingressgateway\n",
        "    selector:\n      istio: ingressgateway\n      zone: blue\n",
    );
    assert_ne!(text, CLUSTER, "the fixture's Istio Gateway selector");
    let policy = tlsposture::policy::load_str(FILE, &text).expect("policy");
    let found = discover(FILE, &text, Some(&policy), &Options::default()).unwrap();
    assert!(
        found.targets[0].gateways.is_empty(),
        "{:?}",
        found.targets[0]
    );
}

#[test]
fn multi_document_yaml_reads_like_a_list() {
    let docs = "---\napiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: ns}\nspec:\n  type: LoadBalancer\n  ports: [{name: https-main, port: 9443}]\nstatus: {loadBalancer: {ingress: [{ip: 192.0.2.1}]}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: b, namespace: ns}\nspec:\n  type: LoadBalancer\n  ports: [{name: web, port: 8443, appProtocol: TLS}]\nstatus: {loadBalancer: {ingress: [{ip: 192.0.2.2}]}}\n";
    let found = discover("d.yaml", docs, None, &Options::default()).unwrap();
    let lines: Vec<String> = found.targets.iter().map(|t| t.targets_line()).collect();
    assert_eq!(lines, ["192.0.2.1:9443", "192.0.2.2:8443"]);
    assert!(
        found.targets[1].sources[0].ends_with("(d.yaml:15)"),
        "{:?}",
        found.targets[1]
    );
}

#[test]
fn a_bad_field_is_an_error_naming_file_line_and_field() {
    let bad = CLUSTER.replacen("      port: 443\n", "      port: \"443\"\n", 1);
    let err = discover(FILE, &bad, None, &Options::default()).unwrap_err();
    let line = line_of("- name: https", "port: 443");
    match &err {
        DiscoverError::Invalid { origin, message } => {
            assert_eq!((origin.file.as_str(), origin.line), (FILE, line));
            assert_eq!(origin.field, "items[0].spec.ports[2].port");
            assert!(message.contains("write 443 without quotes"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().starts_with(&format!("{FILE}:{line}:")),
        "{err}"
    );

    let bad = CLUSTER.replacen("      - ip: 203.0.113.10", "      - ip: 203.0.113.10 x", 1);
    let err = discover(FILE, &bad, None, &Options::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("(items[0].status.loadBalancer.ingress[0].ip)"),
        "{err}"
    );

    let bad = CLUSTER.replacen(
        "hostname: shop.example.com",
        "hostname: shop..example.com",
        1,
    );
    let err = discover(FILE, &bad, None, &Options::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{FILE}:{}:17 (items[3].spec.listeners[0].hostname): server name \"shop..example.com\" has an empty label (a leading, trailing or doubled dot)",
            line_of("kind: Gateway", "hostname: shop.example.com")
        )
    );

    let err = discover(FILE, "kind: [", None, &Options::default()).unwrap_err();
    assert!(matches!(err, DiscoverError::Yaml { .. }), "{err:?}");
    let err = discover(FILE, "- 1\n- 2\n", None, &Options::default()).unwrap_err();
    assert!(err.to_string().contains("must be a mapping"), "{err}");
}

#[test]
fn an_oversized_export_is_refused_before_parsing() {
    let limit = tlsposture::fleet::discover::MAX_DISCOVERY_BYTES as usize;
    let text = "#".repeat(limit + 1);
    let err = discover(FILE, &text, None, &Options::default()).unwrap_err();
    assert!(matches!(err, DiscoverError::TooLarge { .. }), "{err:?}");
}

/// (port, name, protocol, appProtocol) → what Istio's `ConvertProtocol`
/// (`pkg/config/kube/conversion.go`) returns, and whether it is scanned.
type PortCase = (
    u16,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    PortProtocol,
    bool,
);

/// The cases that decide TLS: names and prefixes, appProtocol over the
/// name, Kubernetes' own appProtocol names, UDP, well-known ports, 443.
#[test]
fn istio_port_protocols_follow_convert_protocol() {
    use PortProtocol::*;
    let cases: &[PortCase] = &[
        (443, Some("https"), None, None, Https, true),
        (8443, Some("HTTPS-admin"), None, None, Https, true),
        (9000, Some("tls"), None, None, Tls, true),
        (9000, Some("tls-passthrough"), None, None, Tls, true),
        (9000, Some("web"), None, Some("https"), Https, true),
        (9000, Some("https"), None, Some("http"), Http, false),
        (9000, None, None, Some("kubernetes.io/wss"), Https, true),
        (9000, Some("grpc-web-x"), None, None, GrpcWeb, false),
        (9000, Some("http2"), None, None, Http2, false),
        (9000, Some("https"), Some("UDP"), None, Udp, false),
        (15021, Some("status-port"), None, None, Unsupported, false),
        (3306, Some("db"), None, None, Tcp, false),
        (443, Some("web"), None, None, Unsupported, true),
        (443, Some("tcp"), None, None, Tcp, true),
        (443, Some("http"), None, None, Http, false),
    ];
    for &(port, name, transport, app, protocol, tls) in cases {
        let got = istio_port_protocol(port, name, transport, app);
        assert_eq!(got, protocol, "{port} {name:?} {transport:?} {app:?}");
        assert_eq!(port_is_tls(port, got), tls, "{port} {name:?} {app:?}");
    }
}

/// Pieces of Kubernetes YAML, combined at random: the reader must answer
/// Ok or an error for each, never panic.
fn yaml_fragments() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "apiVersion: v1\n",
        "apiVersion: gateway.networking.k8s.io/v1\n",
        "kind: Service\n",
        "kind: Gateway\n",
        "kind: List\n",
        "items:\n- ",
        "metadata: {name: x, namespace: y}\n",
        "metadata: 3\n",
        "spec:\n  type: LoadBalancer\n",
        "spec: []\n",
        "  ports: [{name: https, port: 443}]\n",
        "  ports: [{port: 70000}]\n",
        "  ports: {a: 1}\n",
        "  listeners: [{port: 443, protocol: TLS, hostname: '*.x'}]\n",
        "  listeners: [{protocol: HTTPS}]\n",
        "status: {loadBalancer: {ingress: [{ip: 192.0.2.1}, {hostname: h}, {}]}}\n",
        "status: {addresses: [{value: '::1'}, {type: NamedAddress, value: n}, {type: IPAddress}]}\n",
        "status: {addresses: [{value: 'not an ip'}]}\n",
        "---\n",
        "- ",
        "  ",
        "&a [*a]\n",
        "{",
        ": :\n",
        "\t",
        "'\n",
    ]);
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

/// A LoadBalancer Service with random ports and ingress addresses, and
/// the (name, number) of each port.
fn random_service() -> impl Strategy<Value = (String, Vec<(String, u16)>, usize)> {
    let name = prop::sample::select(vec![
        "https",
        "https-web",
        "tls",
        "TLS-x",
        "http",
        "http2",
        "status-port",
        "tcp",
        "grpc-web",
        "",
        "web",
    ]);
    let port = prop_oneof![Just(443u16), Just(15021), 1u16..=65535];
    let host = prop_oneof![
        any::<[u8; 4]>().prop_map(|b| std::net::Ipv4Addr::from(b).to_string()),
        any::<[u16; 8]>().prop_map(|w| std::net::Ipv6Addr::from(w).to_string()),
        "[a-z]{1,10}(\\.[a-z]{1,10}){0,3}",
    ];
    (
        prop::collection::vec((name, port), 0..6),
        prop::collection::vec(host, 0..4),
    )
        .prop_map(|(ports, hosts)| {
            let mut text = String::from(
                "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: ns}\nspec:\n  type: LoadBalancer\n  ports:\n",
            );
            for (name, number) in &ports {
                text.push_str(&format!("  - {{name: '{name}', port: {number}}}\n"));
            }
            text.push_str("status:\n  loadBalancer:\n    ingress:\n");
            for h in &hosts {
                let field = if h.parse::<std::net::IpAddr>().is_ok() { "ip" } else { "hostname" };
                text.push_str(&format!("    - {field}: '{h}'\n"));
            }
            let ports = ports.into_iter().map(|(n, p)| (n.to_owned(), p)).collect();
            (text, ports, hosts.len())
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Every target is one of the Service's ports on one of its addresses,
    /// and a port named `https…`/`tls…` is always scanned on every address.
    #[test]
    fn service_targets_are_its_ports_on_its_addresses((text, ports, hosts) in random_service()) {
        let found = discover("s.yaml", &text, None, &Options::default()).unwrap();
        let numbers: Vec<u16> = ports.iter().map(|(_, p)| *p).collect();
        for t in &found.targets {
            let spec = TargetSpec::parse(&t.address).unwrap();
            prop_assert!(numbers.contains(&spec.port), "{} not a port of {numbers:?}", t.address);
        }
        let tls: std::collections::BTreeSet<u16> = ports
            .iter()
            .filter(|(n, _)| {
                let n = n.to_ascii_lowercase();
                n == "https" || n.starts_with("https-") || n == "tls" || n.starts_with("tls-")
            })
            .map(|(_, p)| *p)
            .collect();
        for port in tls {
            let on_port = found
                .targets
                .iter()
                .filter(|t| t.address.ends_with(&format!(":{port}")))
                .count();
            // Addresses may repeat (random hosts), so at most, and at least one
            // when there is any address.
            prop_assert!(on_port <= hosts && (hosts == 0 || on_port >= 1), "{port}: {on_port} of {hosts}");
        }
    }

    #[test]
    fn any_yaml_gives_targets_or_an_error(text in yaml_fragments()) {
        let _ = discover("p.yaml", &text, None, &Options::default());
    }

    #[test]
    fn any_text_gives_targets_or_an_error(text in "\\PC{0,200}") {
        let _ = discover("p.yaml", &text, None, &Options::default());
    }

    #[test]
    fn every_discovered_address_parses(text in yaml_fragments()) {
        if let Ok(found) = discover("p.yaml", &text, None, &Options::default()) {
            for t in found.targets {
                prop_assert!(TargetSpec::parse(&t.address).is_ok(), "{}", t.address);
            }
        }
    }
}
