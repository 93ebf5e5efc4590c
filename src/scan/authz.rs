//! Runs the authorization probes an [`AuthzPlan`] lists (one TLS connection
//! and one HTTP request each, with the planned client identity) and adds
//! each given identity to the mTLS probes. Observation only: what to probe
//! was decided by `plan` (this module never sees the declared policy), and
//! whether a probe passed is `verdict::authz`'s call.
//!
//! Client identities come from `--identity NAME=CERT,KEY`; the key is read
//! into memory and never printed (`ClientIdentity`'s `Debug` hides it).

use std::path::Path;

use x509_parser::extensions::GeneralName;

use super::http::{http_exchange, HttpOutcome, HttpRequest};
use super::jwt::{self, GivenJwt};
use super::{probe_identity, Prober};
use crate::observe::{AuthzRequest, Expected, Identity, TargetObservation};
use crate::policy::authz;
use crate::policy::authz::AuthzPlan;
use crate::tls_client::{ClientIdentity, HandshakeOptions};

/// A client identity to present, with its report name and the principal
/// Istio sees in its certificate.
#[derive(Debug, Clone)]
pub struct NamedIdentity {
    pub name: String,
    /// The `spiffe://` URI SAN without the scheme, when there is one.
    pub principal: Option<String>,
    pub identity: ClientIdentity,
}

/// Why an `--identity` cannot be used. Messages name the files, never
/// the key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("{spec:?}: expected [NAME=]CERT,KEY")]
    Spec { spec: String },
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{cert} / {key}: {reason}")]
    Unusable {
        cert: String,
        key: String,
        reason: String,
    },
    #[error("{cert}: no spiffe:// URI SAN to name the identity; use NAME={cert},{key}")]
    NoName { cert: String, key: String },
    #[error(
        "{name:?} is reserved for the scan's own probes ({reserved}); name the identity otherwise"
    )]
    Reserved { name: String, reserved: String },
    #[error("{name:?} is given twice; each identity needs its own name")]
    Duplicate { name: String },
    #[error(
        "{name:?} is the name of the certificate minted with --ca-key; name the identity otherwise"
    )]
    MintedName { name: String },
}

impl NamedIdentity {
    /// Parses `NAME=CERT,KEY` or `CERT,KEY` (the name is then the
    /// certificate's principal) and reads both PEM files.
    ///
    /// # Errors
    /// Naming the file that cannot be read or parsed, a key that is not
    /// the certificate's, or the missing name when the certificate has no
    /// `spiffe://` URI SAN.
    pub fn load(spec: &str) -> Result<NamedIdentity, IdentityError> {
        let (name, files) = match spec.split_once('=') {
            Some((n, f)) if !n.is_empty() => (Some(n.to_owned()), f),
            _ => (None, spec),
        };
        let (cert, key) = files.split_once(',').ok_or_else(|| IdentityError::Spec {
            spec: spec.to_owned(),
        })?;
        let read = |p: &str| {
            std::fs::read_to_string(Path::new(p)).map_err(|e| IdentityError::Read {
                path: p.to_owned(),
                reason: e.to_string(),
            })
        };
        let (cert_pem, key_pem) = (read(cert)?, read(key)?);
        let unusable = |reason: String| IdentityError::Unusable {
            cert: cert.to_owned(),
            key: key.to_owned(),
            reason,
        };
        let identity =
            ClientIdentity::from_pem(&cert_pem, &key_pem).map_err(|e| unusable(e.to_string()))?;
        // A key that is not the certificate's would fail every mTLS probe
        // at the server's CertificateVerify check, reported as a refusal
        // of the certificate: refuse it here, where the cause is known.
        key_matches_certificate(&cert_pem, &key_pem).map_err(unusable)?;
        let principal = spiffe_principal(identity.leaf_der());
        let name = name
            .or_else(|| principal.clone())
            .ok_or_else(|| IdentityError::NoName {
                cert: cert.to_owned(),
                key: key.to_owned(),
            })?;
        // The report names probes by identity; a given one called like a
        // probe of the scan's own (no certificate, unknown CA, expired)
        // would be read as that probe.
        if Identity::RESERVED.contains(&name.as_str()) {
            return Err(IdentityError::Reserved {
                name,
                reserved: Identity::RESERVED.join(", "),
            });
        }
        Ok(NamedIdentity {
            name,
            principal,
            identity,
        })
    }
}

/// Whether the private key in `key_pem` is the one of the leaf (first)
/// certificate in `cert_pem`: rustls compares the key's public key with
/// the certificate's SubjectPublicKeyInfo. Messages never include the key.
fn key_matches_certificate(cert_pem: &str, key_pem: &str) -> Result<(), String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use rustls::sign::CertifiedKey;
    use rustls::InconsistentKeys;

    let leaf = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .next()
        .ok_or("no certificate")?
        .map_err(|e| format!("client certificate: {e}"))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| format!("client key: {e}"))?;
    let signer = rustls::crypto::aws_lc_rs::default_provider()
        .key_provider
        .load_private_key(key)
        .map_err(|e| format!("client key: {e}"))?;
    match CertifiedKey::new(vec![leaf], signer).keys_match() {
        Ok(()) => Ok(()),
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => Err(
            "the private key does not match the certificate's public key".to_owned(),
        ),
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::Unknown)) => Err(
            "cannot tell whether the private key matches the certificate (key type without a public key)".to_owned(),
        ),
        Err(e) => Err(format!("client certificate: {e}")),
    }
}

/// The certificate's first `spiffe://` URI SAN without the scheme, as
/// Istio matches `principals`.
pub fn spiffe_principal(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let san = cert.subject_alternative_name().ok()??;
    san.value.general_names.iter().find_map(|n| match n {
        GeneralName::URI(uri) => uri.strip_prefix("spiffe://").map(str::to_owned),
        _ => None,
    })
}

/// What the authorization step needs, all of it planned before probing
/// (`plan::plan_authz`): the declared policy itself is not here.
#[derive(Debug, Clone, Copy)]
pub struct AuthzContext<'a> {
    /// The server name and Host for requests that name no host.
    pub sni: Option<&'a str>,
    /// The requests to make and the notes on what could not be planned.
    pub plan: &'a AuthzPlan,
    /// The valid token given with `--jwt`.
    pub jwt: Option<&'a GivenJwt>,
    /// An expired certificate from the gateway's client CA (`--ca-key`):
    /// probed for mTLS only, it must be refused.
    pub expired: Option<&'a NamedIdentity>,
}

/// Each identity through the mTLS probe, then every planned request.
/// Results go into `target.mtls.probes`, `target.authorization` and
/// `target.authorization_notes`; the connections count on `prober`.
pub async fn scan_authorization(
    prober: &Prober,
    target: &mut TargetObservation,
    ctx: &AuthzContext<'_>,
    identities: &[NamedIdentity],
) {
    if let Some(mtls) = target.mtls.as_mut() {
        let named = identities
            .iter()
            .map(|id| (Identity::Named(id.name.clone()), id));
        let expired = ctx.expired.map(|id| (Identity::Expired, id));
        for (name, id) in named.chain(expired) {
            let probe = probe_identity(prober, ctx.sni, name, &id.identity).await;
            mtls.probes.push(probe);
        }
    }
    target
        .authorization_notes
        .extend(ctx.plan.notes.iter().cloned());
    let opts = HandshakeOptions {
        sni: ctx.sni.map(str::to_owned),
        ..HandshakeOptions::default()
    };
    let runs = ctx.plan.probes.iter().map(|planned| {
        let identity = identities
            .iter()
            .find(|i| i.name == planned.identity)
            .map(|i| &i.identity);
        let opts = &opts;
        async move {
            let request = HttpRequest {
                method: planned.method.clone(),
                path: planned.path.clone(),
                host: planned.host.clone(),
                headers: Vec::new(),
            };
            let outcome = match prober.connect().await {
                Ok((stream, _permit)) => {
                    http_exchange(stream, opts, identity, &request, prober.timeouts().read).await
                }
                Err(e) => HttpOutcome::Failed {
                    reason: e.to_string(),
                },
            };
            observed(planned, &outcome)
        }
    });
    target.authorization = futures::future::join_all(runs).await;
    jwt::scan_jwt(prober, target, ctx, identities).await;
}

/// Without a declared policy: each identity through the mTLS probe only
/// (when the mtls check ran), with the target's SNI.
pub async fn probe_identities(
    prober: &Prober,
    target: &mut TargetObservation,
    identities: &[NamedIdentity],
) {
    if target.mtls.is_none() || identities.is_empty() {
        return;
    }
    let sni = target.sni.clone();
    for id in identities {
        let name = Identity::Named(id.name.clone());
        let probe = probe_identity(prober, sni.as_deref(), name, &id.identity).await;
        if let Some(mtls) = target.mtls.as_mut() {
            mtls.probes.push(probe);
        }
    }
}

/// The request as made and answered; `verdict::authz` judges it.
fn observed(planned: &authz::PlannedProbe, outcome: &HttpOutcome) -> AuthzRequest {
    let crate::scan::http::ReportFields {
        status,
        kind,
        body_snippet: body,
        headers,
    } = outcome.report_fields();
    AuthzRequest {
        identity: Identity::from_name(&planned.identity),
        method: planned.method.clone(),
        path: planned.path.clone(),
        host: planned.host.clone(),
        token: None,
        expected: expected(planned.expected),
        status,
        outcome: kind,
        body_snippet: body,
        headers,
        rule: planned.rule.clone(),
        declared_at: format!("{}:{}", planned.origin.file, planned.origin.line),
        evidence: format!("{}; observed {}", planned.because, outcome.describe()),
    }
}

/// What a planned decision asks of the answer. Planning never lists a
/// request whose outcome it cannot decide (`Unknown` is a note instead);
/// should one reach here, "anything but a refusal" is the weaker claim.
pub(crate) fn expected(decision: authz::Outcome) -> Expected {
    match decision {
        authz::Outcome::Deny => Expected::Deny,
        authz::Outcome::Allow | authz::Outcome::Unknown => Expected::Allow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{issue_client_cert, LabCa};

    #[test]
    fn identities_are_named_after_their_spiffe_san_unless_named() {
        let ca = LabCa::generate().expect("CA");
        let issued = issue_client_cert(&ca, "spiffe://cluster.local/ns/a/sa/b").expect("cert");
        let dir = tempfile::tempdir().expect("tempdir");
        let files = issued.write(dir.path(), "c").expect("write");
        let (cert, key) = (files.cert.display(), files.key.display());
        let id = NamedIdentity::load(&format!("{cert},{key}")).expect("loads");
        assert_eq!(id.name, "cluster.local/ns/a/sa/b");
        assert_eq!(id.principal.as_deref(), Some("cluster.local/ns/a/sa/b"));
        let id = NamedIdentity::load(&format!("alice={cert},{key}")).expect("loads");
        assert_eq!(id.name, "alice");
        assert_eq!(id.principal.as_deref(), Some("cluster.local/ns/a/sa/b"));
        assert!(matches!(
            NamedIdentity::load(&cert.to_string()),
            Err(IdentityError::Spec { .. })
        ));
        let missing = NamedIdentity::load("/nonexistent.pem,/nonexistent.key").unwrap_err();
        assert!(
            matches!(&missing, IdentityError::Read { path, .. } if path == "/nonexistent.pem"),
            "{missing}"
        );
        // The key stays out of Debug output.
        assert!(!format!("{id:?}").contains("PRIVATE"));
    }
}
