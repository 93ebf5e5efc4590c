//! What Envoy decides with the configuration istiod generates, checked on
//! the lab's real Envoy 1.40: the resolved model (`policy::istiod`) is
//! rendered by the lab, and what `policy::envoy::tls` predicts for each
//! listener (client certificate required / optional, chain verified or not,
//! listener refused) is compared with what a real TLS client observes.
//! The curve and cipher name tables `policy::envoy::tls` holds as "observed
//! on Envoy 1.40" are re-checked against the installed Envoy, so they
//! cannot rot silently.

mod support;

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};

use tlsposture::lab::{self, config::RESPONSE_BODY, issue_client_cert, Lab, LabCa, LabError};
use tlsposture::policy::effective::{self, ClientCertExpectation, Expectation};
use tlsposture::policy::envoy::tls::{
    ciphers_rejected, curves_rejected, ENVOY_CIPHERS, ENVOY_CURVES, ENVOY_REJECTED_CURVES,
};
use tlsposture::policy::istiod::{self, IstioVersion};

/// `GET /` over `openssl s_client` with `args`; whether the lab backend
/// answered, and s_client's diagnostics.
fn served(addr: SocketAddr, sni: &str, args: &[&str]) -> (bool, String) {
    assert!(addr.ip().is_loopback(), "tests only connect to loopback");
    let connect = addr.to_string();
    let mut child = Command::new("timeout")
        .args(["5", "openssl", "s_client", "-quiet", "-connect", &connect])
        .args(["-servername", sni])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run openssl s_client ({e}): apt-get install openssl"));
    let request = format!("GET / HTTP/1.1\r\nHost: {sni}\r\nConnection: close\r\n\r\n");
    let _ = child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(request.as_bytes());
    let out = child.wait_with_output().expect("waiting for s_client");
    let response = String::from_utf8_lossy(&out.stdout);
    (
        response.starts_with("HTTP/1.1 200") && response.contains(RESPONSE_BODY),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Whether the server sends a CertificateRequest (TLS 1.2, no client
/// certificate): OpenSSL then prints the CA names (or that none were sent).
fn certificate_requested(addr: SocketAddr, sni: &str) -> bool {
    assert!(addr.ip().is_loopback(), "tests only connect to loopback");
    let out = Command::new("timeout")
        .args([
            "5",
            "openssl",
            "s_client",
            "-tls1_2",
            "-connect",
            &addr.to_string(),
        ])
        .args(["-servername", sni])
        .stdin(Stdio::null())
        .output()
        .expect("openssl s_client");
    let text = String::from_utf8_lossy(&out.stdout);
    text.contains("client certificate CA names")
}

fn cert_args<'a>(cert: &'a Path, key: &'a Path) -> [&'a str; 4] {
    [
        "-cert",
        cert.to_str().unwrap(),
        "-key",
        key.to_str().unwrap(),
    ]
}

fn start(plab: &lab::PolicyLab) -> Result<Lab, LabError> {
    let rt = support::runtime();
    let mut opts = plab.lab_options(None);
    opts.startup_timeout = std::time::Duration::from_secs(30);
    rt.block_on(rt.spawn(Lab::start(opts)))
        .expect("lab start-up task")
}

const POLICY: &str = "apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: gw
  namespace: istio-system
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8002, name: optional-san, protocol: HTTPS}
    hosts: [optional.example]
    tls: {mode: OPTIONAL_MUTUAL, credentialName: b, subjectAltNames: [spiffe://test.client]}
  - port: {number: 8003, name: untrusted, protocol: HTTPS}
    hosts: [untrusted.example]
    tls: {mode: MUTUAL, credentialName: c, insecureSkipVerify: true}
  - port: {number: 8004, name: optional, protocol: HTTPS}
    hosts: [optional-plain.example]
    tls: {mode: OPTIONAL_MUTUAL, credentialName: d}
";

/// What a client observes on one listener.
#[derive(Debug, PartialEq, Eq)]
struct Observed {
    client_cert: ClientCertExpectation,
    /// A certificate from a CA the gateway does not trust, with the
    /// matching SAN, is let in.
    foreign_accepted: bool,
}

#[test]
fn client_certificates_as_envoy_enforces_the_model() {
    let policy = tlsposture::policy::load_str("envoy-decides.yaml", POLICY).expect("policy");
    let resolved = istiod::resolve(&policy, IstioVersion::DEFAULT);
    let expectations = effective::expectations_of(&policy, &resolved);
    let plab =
        lab::listeners_from_policy(&policy, &lab::PolicyLabOptions::default()).expect("listeners");
    assert!(plab.skipped.is_empty(), "{:?}", plab.skipped);
    let lab = start(&plab).expect("the lab starts");

    let trusted = lab
        .write_client_identity("spiffe://test.client", "test.client")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let foreign_ca = LabCa::generate().unwrap();
    let foreign = issue_client_cert(&foreign_ca, "spiffe://test.client")
        .unwrap()
        .write(dir.path(), "foreign")
        .unwrap();
    let wrong_san = issue_client_cert(&foreign_ca, "spiffe://someone.else")
        .unwrap()
        .write(dir.path(), "wrong")
        .unwrap();

    let observe = |exp: &Expectation| -> Observed {
        let addr = plab.addr(&lab, exp.port).expect("listener address");
        let sni = exp.hosts[0].as_str();
        let (without, diag) = served(addr, sni, &[]);
        let (with_trusted, diag_t) = served(addr, sni, &cert_args(&trusted.cert, &trusted.key));
        assert!(
            with_trusted,
            "{}: a lab-CA certificate with the SAN: {diag_t}",
            exp.label()
        );
        let (with_foreign, _) = served(addr, sni, &cert_args(&foreign.cert, &foreign.key));
        let requested = certificate_requested(addr, sni) || !without;
        eprintln!(
            "{}: without a certificate served={without} ({diag})",
            exp.label()
        );
        Observed {
            client_cert: if !without {
                ClientCertExpectation::Required
            } else if requested {
                ClientCertExpectation::Optional
            } else {
                ClientCertExpectation::NotRequested
            },
            foreign_accepted: with_foreign,
        }
    };

    let mut seen = Vec::new();
    for exp in &expectations {
        let predicted = Observed {
            client_cert: exp.client_cert,
            foreign_accepted: !exp.chain_verified
                && exp.client_cert != ClientCertExpectation::NotRequested,
        };
        let observed = observe(exp);
        assert_eq!(predicted, observed, "{}: prediction vs Envoy", exp.label());
        seen.push((exp.port, observed));
    }
    // What the table says, written out (R-T6, R-T7; T40, T41, T42):
    use ClientCertExpectation::{Optional, Required};
    assert_eq!(
        seen,
        [
            // OPTIONAL_MUTUAL + SAN matchers: required in practice.
            (
                8002,
                Observed {
                    client_cert: Required,
                    foreign_accepted: false
                }
            ),
            // MUTUAL + insecureSkipVerify: ACCEPT_UNTRUSTED.
            (
                8003,
                Observed {
                    client_cert: Required,
                    foreign_accepted: true
                }
            ),
            (
                8004,
                Observed {
                    client_cert: Optional,
                    foreign_accepted: false
                }
            ),
        ]
    );
    // The SAN matcher refuses a lab-CA certificate with another SAN.
    let other = lab
        .write_client_identity("spiffe://someone.else", "someone.else")
        .unwrap();
    let addr = plab.addr(&lab, 8002).unwrap();
    let (ok, diag) = served(
        addr,
        "optional.example",
        &cert_args(&other.cert, &other.key),
    );
    assert!(
        !ok,
        "a certificate without the SAN on OPTIONAL_MUTUAL+SAN: {diag}"
    );
    // ACCEPT_UNTRUSTED lets even a SAN-less-match foreign certificate in.
    let addr = plab.addr(&lab, 8003).unwrap();
    let (ok, diag) = served(
        addr,
        "untrusted.example",
        &cert_args(&wrong_san.cert, &wrong_san.key),
    );
    assert!(ok, "ACCEPT_UNTRUSTED with any certificate: {diag}");
}

/// Renders `text` with the model's rejected listeners kept and starts the
/// lab: the real Envoy's refusal.
fn envoy_refusal(text: &str) -> (String, String) {
    let policy = tlsposture::policy::load_str("rejected.yaml", text).expect("policy");
    let resolved = istiod::resolve(&policy, IstioVersion::DEFAULT);
    let expectations = effective::expectations_of(&policy, &resolved);
    let predicted = expectations[0]
        .rejected
        .clone()
        .expect("predicted rejected");
    // By default the lab skips it, saying why.
    let err = lab::listeners_from_policy(&policy, &lab::PolicyLabOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains("Envoy refuses the listener"),
        "{err}"
    );
    // Rendered anyway, the real Envoy refuses to load it.
    let opts = lab::PolicyLabOptions {
        render_rejected: true,
        ..lab::PolicyLabOptions::default()
    };
    let plab = lab::listeners_from_policy(&policy, &opts).expect("rendered");
    match start(&plab) {
        Ok(_) => panic!("Envoy loaded a listener the model says it refuses: {predicted}"),
        Err(e) => (predicted, e.to_string()),
    }
}

const SIMPLE: &str = "apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: gw
  namespace: istio-system
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8001, name: simple, protocol: HTTPS}
    hosts: [simple.example]
    tls: {mode: SIMPLE, credentialName: a}
";

/// A mesh `ecdhCurves` name BoringSSL does not know reaches Envoy verbatim
/// (R-T2); the model predicts the listener is refused, and the real Envoy
/// refuses it the same way.
#[test]
fn a_mesh_curve_envoy_does_not_know_refuses_the_listener() {
    let text = format!(
        "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata:\n  name: x\nspec:\n  meshConfig:\n    tlsDefaults:\n      ecdhCurves: [X25519Kyber768Draft00]\n---\n{SIMPLE}"
    );
    let (predicted, observed) = envoy_refusal(&text);
    assert!(predicted.contains("X25519Kyber768Draft00"), "{predicted}");
    assert!(
        observed.contains("Failed to initialize ECDH curves"),
        "{observed}"
    );
}

/// SIMPLE + credentialName + subjectAltNames: istiod writes SAN matchers
/// and no CA (`ApplyCredentialSDSToServerCommonTLSContext`; R-T4), which
/// Envoy 1.40 refuses to load — the listener never serves, rather than
/// requiring a certificate as docs/istio-rules.md R-T6 expected.
#[test]
fn simple_with_subject_alt_names_is_refused_by_envoy() {
    let text = SIMPLE.replace(
        "credentialName: a}",
        "credentialName: a, subjectAltNames: [spiffe://test.client]}",
    );
    let (predicted, observed) = envoy_refusal(&text);
    assert!(predicted.contains("without a trusted CA"), "{predicted}");
    assert!(
        observed.contains("SAN-based verification of peer certificates without trusted CA"),
        "{observed}"
    );
}

/// `envoy --mode validate` on one listener with `field: values`: whether
/// Envoy accepts it.
fn envoy_accepts(envoy: &Path, dir: &Path, field: &str, values: &[&str]) -> bool {
    let list: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    let cert = dir.join("c.pem");
    let key = dir.join("k.pem");
    let config = format!(
        "static_resources:\n  listeners:\n  - name: l\n    address: {{socket_address: {{address: 127.0.0.1, port_value: 0}}}}\n    filter_chains:\n    - transport_socket:\n        name: envoy.transport_sockets.tls\n        typed_config:\n          \"@type\": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext\n          common_tls_context:\n            tls_params: {{{field}: [{}]}}\n            tls_certificates: [{{certificate_chain: {{filename: {}}}, private_key: {{filename: {}}}}}]\n      filters:\n      - name: envoy.filters.network.echo\n        typed_config: {{\"@type\": type.googleapis.com/envoy.extensions.filters.network.echo.v3.Echo}}\n",
        list.join(", "),
        cert.display(),
        key.display()
    );
    let path = dir.join("validate.yaml");
    std::fs::write(&path, config).unwrap();
    let out = Command::new(envoy)
        .args(["--mode", "validate", "-l", "error", "-c"])
        .arg(&path)
        .output()
        .expect("run envoy --mode validate");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    out.status.success() && text.contains("OK")
}

/// The curve and cipher tables of `policy::envoy::tls`, re-checked on the
/// installed Envoy (the lab's 1.40): every accepted name loads, every
/// listed refused name and every duplicate group is refused, and what the
/// model's rule says matches for each.
#[test]
fn envoy_name_tables_match_the_installed_envoy() {
    let envoy = lab::envoy::locate(None).expect("Envoy (scripts/setup.sh)");
    let dir = tempfile::tempdir().unwrap();
    let ca = LabCa::generate().unwrap();
    let leaf = issue_client_cert(&ca, "spiffe://server.example").unwrap();
    leaf.write(dir.path(), "c").unwrap();
    std::fs::rename(dir.path().join("c.key"), dir.path().join("k.pem")).unwrap();
    let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();

    for (name, _) in ENVOY_CURVES {
        assert!(
            envoy_accepts(&envoy, dir.path(), "ecdh_curves", &[name]),
            "{name} refused"
        );
        assert_eq!(curves_rejected(&owned(&[name])), None);
    }
    for name in ENVOY_REJECTED_CURVES {
        assert!(
            !envoy_accepts(&envoy, dir.path(), "ecdh_curves", &[name]),
            "{name} accepted"
        );
        assert!(curves_rejected(&owned(&[name])).is_some());
    }
    for pair in [
        ["P-256", "P-256"],
        ["P-256", "prime256v1"],
        ["X25519", "x25519"],
    ] {
        assert!(
            !envoy_accepts(&envoy, dir.path(), "ecdh_curves", &pair),
            "{pair:?} accepted"
        );
        assert!(curves_rejected(&owned(&pair)).is_some(), "{pair:?}");
    }
    for name in ENVOY_CIPHERS {
        assert!(
            envoy_accepts(&envoy, dir.path(), "cipher_suites", &[name]),
            "{name} refused"
        );
    }
    for (list, accepted) in [
        (&["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"][..], true),
        (
            &["[ECDHE-RSA-AES128-GCM-SHA256|ECDHE-RSA-CHACHA20-POLY1305]"],
            true,
        ),
        (
            &["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256"],
            true,
        ),
        (&["ALL"], true),
        (&["AES128-SHA256"], false),
        (&["ECDHE-RSA-AES256-SHA384"], false),
        (&["TLS_RSA_WITH_AES_128_CBC_SHA256"], false),
        (&["ECDHE-RSA-AES128-GCM-SHA256", "BOGUS"], false),
    ] {
        assert_eq!(
            envoy_accepts(&envoy, dir.path(), "cipher_suites", list),
            accepted,
            "{list:?}"
        );
        assert_eq!(
            ciphers_rejected(&owned(list)).is_none(),
            accepted,
            "{list:?}"
        );
    }
}
