//! Whether the gateway requests / requires a client certificate (mutual
//! TLS): a handshake with no certificate, and — only when the server sent a
//! CertificateRequest — one with a certificate from a CA generated for the
//! scan, which no gateway can trust.
//!
//! Each probe sends one HTTP request after the handshake, whatever
//! happened: in TLS 1.3 a server that requires a certificate lets the
//! client finish its handshake and refuses (alert `certificate_required`,
//! or `unknown_ca` for an untrusted one) on the first read; in TLS 1.2 the
//! handshake itself fails with an alert.
//!
//! Observation only: whether mTLS should be required is `verdict`'s
//! question.

use std::sync::OnceLock;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::FromDer;
use x509_parser::x509::X509Name;

use super::http::{tls_http_exchange, HttpOutcome, HttpRequest, TlsHttpExchange};
use super::Prober;
use crate::observe::{Identity, MtlsOutcome, MtlsProbe, MtlsResult};
use crate::tls_client::{ClientIdentity, HandshakeOptions};
use crate::wire::{AlertDescription, ProtocolVersion};

/// The only identity of the unknown-CA client certificate (URI SAN):
/// `.invalid` is reserved (RFC 2606), so no mesh can know it.
pub const UNKNOWN_CA_SPIFFE_ID: &str = "spiffe://tlsposture.invalid/unknown-ca";

/// One or two handshakes (see the module docs) under the prober's limit,
/// with `sni` (or the IP address) as server name and HTTP `Host`. Never
/// fails: what could not be told is `null` with the reason in `evidence`.
pub async fn scan_client_auth(
    prober: &Prober,
    sni: Option<&str>,
    offered: &[ProtocolVersion],
) -> MtlsResult {
    let versions = crate::tls_client::rustls_versions(offered);
    if versions.is_empty() {
        return MtlsResult {
            client_cert_required: None,
            client_cert_requested: None,
            acceptable_ca_names: Vec::new(),
            required_by_http: None,
            evidence: "not tested: client certificates are probed over TLS 1.2 or 1.3, and \
                       neither is offered"
                .to_owned(),
            probes: Vec::new(),
        };
    }
    let opts = HandshakeOptions {
        sni: sni.map(str::to_owned),
        alpn: Vec::new(),
        versions,
        signature_schemes: None,
    };
    let request = root_request(prober, sni);

    let without = exchange(prober, &opts, None, &request).await;
    let (none_probe, none_exchange) = match without {
        Ok(x) => (probe_result(Identity::None, &x), Some(x)),
        Err(why) => (error_probe(Identity::None, why), None),
    };
    let mut result = classify(none_exchange.as_ref(), &none_probe);
    result.probes.push(none_probe);

    if result.client_cert_requested == Some(true) {
        let probe = match unknown_ca_identity() {
            Ok(identity) => match exchange(prober, &opts, Some(&identity), &request).await {
                Ok(x) => probe_result(Identity::UnknownCa, &x),
                Err(why) => error_probe(Identity::UnknownCa, why),
            },
            Err(why) => error_probe(
                Identity::UnknownCa,
                format!("could not generate the client certificate: {why}"),
            ),
        };
        result.probes.push(probe);
    }
    if result.client_cert_required.is_none() {
        prober.note_unanswered(format!(
            "mtls: whether a client certificate is required is unknown ({})",
            result.evidence
        ));
    }
    result
}

/// One handshake (and request) presenting `identity`, reported as
/// `name`: a MUTUAL gateway must accept each identity its users hold.
pub async fn probe_identity(
    prober: &Prober,
    sni: Option<&str>,
    name: Identity,
    identity: &ClientIdentity,
) -> MtlsProbe {
    let opts = HandshakeOptions {
        sni: sni.map(str::to_owned),
        ..HandshakeOptions::default()
    };
    let request = root_request(prober, sni);
    match exchange(prober, &opts, Some(identity), &request).await {
        Ok(x) => probe_result(name, &x),
        Err(why) => error_probe(name, why),
    }
}

/// `GET /` with `sni` (or the address) as `Host`; `scan::http` closes
/// the connection after the answer.
fn root_request(prober: &Prober, sni: Option<&str>) -> HttpRequest {
    let host = match sni {
        Some(name) => name.to_owned(),
        None => crate::target::host_for_header(prober.addr().ip()),
    };
    HttpRequest {
        method: "GET".to_owned(),
        path: "/".to_owned(),
        host,
        headers: Vec::new(),
    }
}

/// The handshake and the request on the HTTP probes' one path; ALPN as
/// `opts` says (none for these probes, as a plain TLS client would).
async fn exchange(
    prober: &Prober,
    opts: &HandshakeOptions,
    identity: Option<&ClientIdentity>,
    request: &HttpRequest,
) -> Result<TlsHttpExchange, String> {
    let (stream, _permit) = prober.connect().await.map_err(|e| e.to_string())?;
    tls_http_exchange(stream, opts, identity, request, prober.timeouts().read)
        .await
        .map_err(|e| e.to_string())
}

/// The verdict-free conclusion from the no-certificate probe.
fn classify(exchange: Option<&TlsHttpExchange>, probe: &MtlsProbe) -> MtlsResult {
    let mut result = MtlsResult {
        client_cert_required: None,
        client_cert_requested: None,
        acceptable_ca_names: Vec::new(),
        required_by_http: None,
        evidence: String::new(),
        probes: Vec::new(),
    };
    let Some(x) = exchange else {
        result.evidence = format!("unknown: {}", probe.evidence);
        return result;
    };
    // The probe's last note is how it ended.
    let ending = probe.evidence.rsplit("; ").next().unwrap_or_default();
    match &x.certificate_request {
        Some(request) => {
            result.client_cert_requested = Some(true);
            result.acceptable_ca_names = request
                .acceptable_issuers
                .iter()
                .map(|der| readable_name(der))
                .collect();
            match probe.outcome {
                MtlsOutcome::Refused => {
                    result.client_cert_required = Some(true);
                    result.evidence = format!("required: without a certificate: {ending}");
                }
                MtlsOutcome::Accepted => match refused_for_certificate(&x.outcome) {
                    Some(answer) => {
                        result.client_cert_required = Some(true);
                        result.evidence = format!(
                            "required, by the HTTP layer: the handshake completes without a \
                             certificate, the request is refused: {answer}"
                        );
                        result.required_by_http = Some(answer);
                    }
                    None => {
                        result.client_cert_required = Some(false);
                        result.evidence =
                            format!("optional: requested, but without a certificate: {ending}");
                    }
                },
                MtlsOutcome::Error => {
                    result.evidence = format!("unknown: requested, then {ending}");
                }
            }
        }
        // The CertificateRequest comes before the server's Finished: a
        // completed handshake without one means none was sent.
        None if x.handshake_complete => {
            result.client_cert_requested = Some(false);
            result.client_cert_required = Some(false);
            result.evidence = format!("not requested: {ending}");
        }
        None => {
            result.evidence =
                format!("unknown: the handshake ended before it could show: {ending}");
        }
    }
    result
}

/// An HTTP answer that refuses a request for want of a client
/// certificate, after a handshake that asked for one and completed
/// without: 400/403/495/496 whose status line or body names the
/// certificate (nginx answers `400 No required SSL certificate was
/// sent`; 495/496 are nginx's own codes for it).
fn refused_for_certificate(outcome: &HttpOutcome) -> Option<String> {
    let HttpOutcome::Response {
        status,
        status_line,
        body_snippet,
        ..
    } = outcome
    else {
        return None;
    };
    let says = |text: &str| text.to_ascii_lowercase().contains("certificate");
    let refused =
        matches!(status, 400 | 403 | 495 | 496) && (says(status_line) || says(body_snippet));
    refused.then(|| format!("{status} {:?}", first_line(body_snippet)))
}

/// The first non-empty line of a body snippet, without HTML tags.
fn first_line(body: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && l.to_ascii_lowercase().contains("certificate"))
        .or_else(|| text.lines().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    words.join(" ")
}

fn probe_result(identity: Identity, x: &TlsHttpExchange) -> MtlsProbe {
    let protocol = x.handshake.protocol;
    let version = protocol.map(|v| v.name()).unwrap_or("version unknown");
    let mut notes: Vec<String> = Vec::new();
    match (&x.certificate_request, &identity) {
        (None, _) if x.handshake_complete => notes.push("no CertificateRequest".to_owned()),
        (Some(r), Identity::None) => notes.push(format!(
            "CertificateRequest naming {} acceptable CA(s), no certificate sent",
            r.acceptable_issuers.len()
        )),
        (Some(r), _) if !r.certificate_sent => notes.push(
            "CertificateRequest, but the certificate could not be sent (no common signature \
             scheme)"
                .to_owned(),
        ),
        (Some(_), _) => notes.push("CertificateRequest, certificate sent".to_owned()),
        (None, _) => {}
    }
    let stage = |during: bool| {
        if during {
            "during handshake"
        } else {
            "after handshake"
        }
    };
    let (outcome, http_status) = match (&x.outcome, x.timed_out) {
        (_, Some(limit)) => {
            notes.push(format!(
                "no answer within {} ms {} ({version})",
                limit.as_millis(),
                stage(!x.handshake_complete)
            ));
            (MtlsOutcome::Error, None)
        }
        (
            HttpOutcome::Response {
                status,
                status_line,
                ..
            },
            None,
        ) => {
            notes.push(format!("answered {status_line:?} ({version})"));
            (MtlsOutcome::Accepted, Some(*status))
        }
        (
            HttpOutcome::Refused {
                during_handshake,
                alert: Some(code),
                ..
            },
            None,
        ) => {
            notes.push(format!(
                "alert {} {} ({version})",
                AlertDescription::from_u8(*code).name(),
                stage(*during_handshake)
            ));
            (MtlsOutcome::Refused, None)
        }
        _ if x.closed_cleanly => {
            notes.push(format!(
                "closed cleanly without an answer after handshake ({version})"
            ));
            (MtlsOutcome::Accepted, None)
        }
        (
            HttpOutcome::Refused { reason, .. }
            | HttpOutcome::Closed { reason }
            | HttpOutcome::Failed { reason },
            None,
        ) => {
            notes.push(format!(
                "{reason} {} ({version})",
                stage(!x.handshake_complete)
            ));
            (MtlsOutcome::Error, None)
        }
    };
    MtlsProbe {
        identity,
        outcome,
        protocol,
        http_status,
        evidence: notes.join("; "),
    }
}

fn error_probe(identity: Identity, why: String) -> MtlsProbe {
    MtlsProbe {
        identity,
        outcome: MtlsOutcome::Error,
        protocol: None,
        http_status: None,
        evidence: why,
    }
}

/// A DER X.500 Name as `O=…, CN=…`; hex when it does not parse.
pub fn readable_name(der: &[u8]) -> String {
    match X509Name::from_der(der) {
        Ok((_, name)) => name.to_string(),
        Err(_) => format!(
            "unparsable name 0x{}",
            der.iter().map(|b| format!("{b:02X}")).collect::<String>()
        ),
    }
}

/// The unknown-CA client identity: generated once per process, only when
/// first needed, and kept in memory only.
fn unknown_ca_identity() -> Result<ClientIdentity, String> {
    static IDENTITY: OnceLock<Result<ClientIdentity, String>> = OnceLock::new();
    IDENTITY.get_or_init(generate_unknown_ca).clone()
}

/// A fresh ECDSA P-256 CA named `tlsposture unknown CA` and a client leaf
/// under it whose only identity is [`UNKNOWN_CA_SPIFFE_ID`].
fn generate_unknown_ca() -> Result<ClientIdentity, String> {
    let err = |e: rcgen::Error| e.to_string();
    let now = OffsetDateTime::now_utc();
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(err)?;
    let mut ca = CertificateParams::default();
    ca.distinguished_name = DistinguishedName::new();
    ca.distinguished_name
        .push(DnType::OrganizationName, "tlsposture");
    ca.distinguished_name
        .push(DnType::CommonName, "tlsposture unknown CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.not_before = now - Duration::hours(1);
    ca.not_after = now + Duration::days(7);
    // Self-signing fixes the CA's name and key in `issuer`; the CA
    // certificate itself is never sent.
    ca.self_signed(&ca_key).map_err(err)?;
    let issuer = Issuer::new(ca, ca_key);

    let leaf = crate::cert::ClientLeafSpec {
        spiffe_uri: UNKNOWN_CA_SPIFFE_ID,
        not_before: now - Duration::hours(1),
        not_after: now + Duration::days(7),
        server_auth: false,
    };
    let minted = crate::cert::mint_client_cert(&issuer, &leaf).map_err(|e| e.to_string())?;
    ClientIdentity::from_der(vec![minted.cert_der], minted.key_der).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_ca_identity_is_a_spiffe_client_certificate() {
        let identity = unknown_ca_identity().expect("generated");
        let (_, cert) = x509_parser::parse_x509_certificate(identity.leaf_der()).expect("parses");
        assert_eq!(
            cert.issuer().to_string(),
            "O=tlsposture, CN=tlsposture unknown CA"
        );
        let san = cert
            .subject_alternative_name()
            .expect("valid")
            .expect("present");
        assert!(
            format!("{:?}", san.value).contains(UNKNOWN_CA_SPIFFE_ID),
            "{san:?}"
        );
        // Generated once: the same certificate the second time.
        let again = unknown_ca_identity().expect("generated");
        assert_eq!(again.leaf_der(), identity.leaf_der());
    }

    #[test]
    fn readable_name_of_garbage_is_hex() {
        assert_eq!(readable_name(&[0x01, 0x02]), "unparsable name 0x0102");
    }
}
