#![no_main]
//! The policy reader on any UTF-8 text, then every pure step the CLI takes
//! after it: lint (and its text / JSON reports), the effective posture and
//! `policy explain`, the HTTP-redirect expectations, the client simulation
//! and the authorization and JWT probe plans.
use std::sync::OnceLock;

use tlsposture::policy::authz::{self, ProbeIdentity};
use tlsposture::policy::effective::{self, CertKeyTypes};
use tlsposture::policy::envoy::tls as envoy_tls;
use tlsposture::policy::istiod;
use tlsposture::policy::simulate::{simulate, ServerCert, SimClient};
use tlsposture::policy::{jwt, lint, load_str, selection};
use tlsposture::report;
use tlsposture::wire::ProtocolVersion;

/// A handful of real client profiles, spread over the list.
fn clients() -> &'static [SimClient] {
    static CLIENTS: OnceLock<Vec<SimClient>> = OnceLock::new();
    CLIENTS.get_or_init(|| {
        tlsposture::clients::matching("all")
            .into_iter()
            .step_by(16)
            .map(SimClient::from)
            .collect()
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let policy = match load_str("fuzz.yaml", text) {
        Ok(policy) => policy,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };

    let findings = lint::lint(&policy);
    let _ = report::lint::render_text(&findings, &policy);
    let _ = report::lint::render_json(&findings, &policy, 1);

    let expectations = effective::expectations(&policy);
    let both = CertKeyTypes {
        rsa: true,
        ecdsa: true,
    };
    for certs in [CertKeyTypes::RSA, both] {
        let _ = report::explain::render(&expectations, certs);
        for exp in &expectations {
            for v in exp.versions(certs) {
                let _ = exp.suites_at(v, certs);
            }
            let _ = exp.suites_at(ProtocolVersion::Tls13, certs);
        }
    }
    let _ = serde_json::to_string(&expectations);
    for exp in &expectations {
        let _ = (exp.probe_names(), exp.label(), exp.serves(None));
        let _ = exp.serves(Some("test.com"));
        let _ = effective::for_port(&expectations, exp.port, None);
    }
    let _ = effective::for_port(&expectations, 443, Some(8443));

    for redirect in effective::expectations_http(&policy) {
        let _ = (redirect.label(), redirect.request_hosts("test.com"));
        let _ = redirect.accepts(301, Some("https://test.com/"));
    }

    for client in clients() {
        for exp in &expectations {
            let _ = simulate(client, exp, ServerCert::default());
        }
    }

    let workloads: Vec<_> = policy
        .gateways
        .iter()
        .map(selection::Workload::of)
        .collect();
    let _ = selection::authorization_policies(&policy, &workloads);
    let _ = selection::request_authentications(&policy, &workloads);

    let policies: Vec<_> = policy.authorization_policies.iter().collect();
    let identities = [
        ProbeIdentity {
            name: "spiffe".to_owned(),
            principal: Some("cluster.local/ns/default/sa/client".to_owned()),
        },
        ProbeIdentity {
            name: "none".to_owned(),
            principal: None,
        },
    ];
    let _ = authz::plan(&policies, &identities, "test.com");
    let authns: Vec<_> = policy.request_authentications.iter().collect();
    let _ = jwt::plan_jwt(
        &authns,
        &policies,
        &identities[0],
        Some("issuer/subject"),
        "test.com",
        policy.mesh_authz.as_ref(),
    );
    let _ = jwt::plan_jwt(
        &authns,
        &policies,
        &identities[1],
        None,
        "test.com",
        policy.mesh_authz.as_ref(),
    );

    // The resolved model at the oldest and newest release modelled, and
    // what Envoy decides on each chain.
    for version in ["1.27", "1.32"] {
        let Ok(version) = version.parse::<istiod::IstioVersion>() else {
            continue;
        };
        let resolved = istiod::resolve(&policy, version);
        for listener in &resolved.listeners {
            let _ = envoy_tls::listener_rejected(listener);
            for chain in &listener.chains {
                let _ = envoy_tls::client_cert(chain.tls.as_ref());
            }
        }
    }
});
