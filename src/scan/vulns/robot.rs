//! ROBOT (CVE-2017-13099 and siblings): is the server a Bleichenbacher
//! padding oracle? Five ClientKeyExchanges (`wire::rsa_kx::RobotVariant`),
//! each followed by ChangeCipherSpec and a Finished the server cannot
//! decrypt, one connection each; a server that treats bad padding like
//! good answers all five alike. Different answers are rechecked once with
//! the same five before the server is called vulnerable (testssl.sh
//! `run_robot` also reruns). At most 10 connections, and none without an
//! RSA key-transport suite.

use std::time::Duration;

use x509_parser::public_key::PublicKey;

use crate::observe::{SuiteResult, VulnId, VulnStatus, Vulnerability};
use crate::probe::{Outcome, Reply, StopAt};
use crate::wire::rsa_kx::{robot_records, rsa_encrypt, RobotVariant};
use crate::wire::{self, ClientHelloSpec, ProtocolVersion, ServerMessage};

use super::{v, Prober, VulnContext};

/// How long one variant waits for the server's verdict: an oracle that
/// answers one variant with silence shows as a timeout.
const WAIT: Duration = Duration::from_secs(2);

/// RSA key-transport suites accepted in TLS 1.0–1.2, GCM first.
fn rsa_suites<'a>(cx: &VulnContext<'a>) -> Vec<&'a SuiteResult> {
    let mut found: Vec<&SuiteResult> = cx
        .suites
        .iter()
        .filter(|s| {
            (ProtocolVersion::Tls10..=ProtocolVersion::Tls12).contains(&s.protocol)
                && s.kx.eq_ignore_ascii_case("RSA")
                && s.iana_code().is_some()
                && !s.registry_entry().is_some_and(|c| c.export)
        })
        .collect();
    found.sort_by_key(|s| (std::cmp::Reverse(s.protocol), !s.iana.contains("GCM")));
    found
}

pub(super) async fn robot(prober: &Prober, cx: &VulnContext<'_>) -> Vulnerability {
    let id = VulnId::Robot;
    let candidates = rsa_suites(cx);
    let Some(suite) = candidates.first() else {
        if cx.suites.is_empty() {
            return v(
                id,
                VulnStatus::Unknown,
                "cannot tell: suite enumeration found no suite",
            );
        }
        return v(
            id,
            VulnStatus::NotApplicable,
            "no RSA key-transport suite accepted (0 connections)",
        );
    };
    let name = suite.openssl.as_deref().unwrap_or(&suite.iana).to_owned();
    let first = match round(prober, cx, suite).await {
        Ok(r) => r,
        Err(e) => {
            return v(
                id,
                VulnStatus::Unknown,
                format!("cannot tell with {name}: {e}"),
            )
        }
    };
    let uniform = |r: &[String]| r.iter().all(|a| *a == r[0]);
    if uniform(&first) {
        return v(
            id,
            VulnStatus::NotVulnerable,
            format!(
                "{name} ({}): all five ClientKeyExchange variants + CCS + Finished answered alike: {}",
                suite.protocol.name(),
                first[0]
            ),
        );
    }
    let second = match round(prober, cx, suite).await {
        Ok(r) => r,
        Err(e) => {
            return v(
                id,
                VulnStatus::Unknown,
                format!("cannot tell with {name}: {e}"),
            )
        }
    };
    let listed = |r: &[String]| {
        RobotVariant::ALL
            .iter()
            .zip(r)
            .map(|(var, a)| format!("{}: {a}", var.name()))
            .collect::<Vec<_>>()
            .join("; ")
    };
    if first == second {
        v(
            id,
            VulnStatus::Vulnerable,
            format!(
                "{name} ({}): the answers depend on the premaster's padding, the same in two rounds ({}): a Bleichenbacher oracle",
                suite.protocol.name(),
                listed(&first)
            ),
        )
    } else if uniform(&second) {
        v(
            id,
            VulnStatus::NotVulnerable,
            format!(
                "{name}: one round differed ({}), the rerun answered alike ({}): not an oracle",
                listed(&first),
                second[0]
            ),
        )
    } else {
        v(
            id,
            VulnStatus::Unknown,
            format!(
                "cannot tell: {name}: the answers differed and changed between rounds ({} / {})",
                listed(&first),
                listed(&second)
            ),
        )
    }
}

/// One answer per variant, each on its own connection.
async fn round(
    prober: &Prober,
    cx: &VulnContext<'_>,
    suite: &SuiteResult,
) -> Result<Vec<String>, String> {
    let runs = RobotVariant::ALL.map(|variant| one(prober, cx, suite, variant));
    let answers = futures::future::join_all(runs).await;
    answers.into_iter().collect()
}

async fn one(
    prober: &Prober,
    cx: &VulnContext<'_>,
    suite: &SuiteResult,
    variant: RobotVariant,
) -> Result<String, String> {
    let version = suite.protocol;
    let code = suite.iana_code().unwrap_or_default();
    let spec = ClientHelloSpec::for_version(
        version,
        vec![code, crate::registry::TLS_EMPTY_RENEGOTIATION_INFO_SCSV],
        cx.sni,
        Vec::new(),
        Vec::new(),
        crate::registry::signature_schemes()
            .iter()
            .map(|s| s.code)
            .collect(),
    );
    let (outcome, conv) =
        super::converse(prober, wire::encode_client_hello(&spec), StopAt::FlightEnd).await?;
    let (Outcome::Hello(flight), Some(mut conv)) = (&outcome, conv) else {
        return Err(format!("the hello was refused: {}", outcome.describe()));
    };
    let leaf = flight.messages.iter().find_map(|m| match m {
        ServerMessage::Certificate(chain) => chain.first().cloned(),
        _ => None,
    });
    let Some(leaf) = leaf else {
        conv.close();
        return Err("no certificate in the flight".into());
    };
    let Some((n, e)) = rsa_key(&leaf) else {
        conv.close();
        return Err("the leaf certificate has no RSA key".into());
    };
    let k = n.iter().skip_while(|b| **b == 0).count();
    let filler = wire::fresh_random();
    let m = variant.encode(k, version.wire(), &filler);
    let Some(c) = rsa_encrypt(&n, &e, &m) else {
        conv.close();
        return Err("the RSA key is degenerate".into());
    };
    // A GCM Finished is 8 (nonce) + 16 + 16 (tag) bytes; a CBC one a
    // few blocks: either way the server cannot decrypt it.
    let finished_len = if suite.iana.contains("GCM") { 40 } else { 64 };
    let reply = conv
        .send(&robot_records(version.wire(), &c, finished_len), WAIT)
        .await;
    conv.close();
    Ok(match &reply {
        Reply::Messages(_) => reply.describe(),
        Reply::Timeout => "no answer".into(),
        other => other.describe(),
    })
}

fn rsa_key(der: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    match cert.public_key().parsed().ok()? {
        PublicKey::RSA(rsa) => Some((rsa.modulus.to_vec(), rsa.exponent.to_vec())),
        _ => None,
    }
}
