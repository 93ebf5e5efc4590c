//! Test client certificates minted under the user's own CA (`--ca` and
//! `--ca-key`): one that expired yesterday (a MUTUAL gateway must refuse
//! it) and one with a `spiffe://` identity no policy names (it must get in
//! at the TLS level, and be the "other" client of every authorization
//! rule). Kept in memory only.

use rcgen::{Issuer, KeyPair, PublicKeyData};
use time::{Duration, OffsetDateTime};

use super::authz::NamedIdentity;
use crate::cert::{mint_client_cert, ClientLeafSpec};
use crate::tls_client::ClientIdentity;

/// The report name of the expired certificate's probe.
pub const IDENTITY_EXPIRED: &str = "expired-cert";
/// The identity of the minted certificate no policy names.
pub const WRONG_SAN_PRINCIPAL: &str = "tlsposture.invalid/wrong-san";

/// Both minted identities.
#[derive(Debug, Clone)]
pub struct Minted {
    /// Valid from the user's CA an hour … a day ago, expired since.
    pub expired: NamedIdentity,
    /// Valid now, `spiffe://tlsposture.invalid/wrong-san`.
    pub wrong_san: NamedIdentity,
}

/// Why the `--ca-key` certificates cannot be minted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MintCaError {
    #[error("CA key: {0}")]
    Key(String),
    #[error("the key does not match the --ca certificate's public key (the first certificate in the file)")]
    KeyMismatch,
    #[error("CA certificate: {0}")]
    CaCertificate(String),
    #[error("cannot mint a client certificate: {0}")]
    Leaf(String),
}

/// Mints [`Minted`] under the CA certificate `ca_pem` (the first one in
/// the PEM text) and its key `key_pem`.
///
/// # Errors
/// When the CA certificate or key does not parse, the key is not the
/// CA's, or rcgen cannot sign with them.
pub fn mint(ca_pem: &str, key_pem: &str) -> Result<Minted, MintCaError> {
    let key = KeyPair::from_pem(key_pem).map_err(|e| MintCaError::Key(e.to_string()))?;
    // rcgen signs with any key and names the CA as issuer, so a key that
    // is not the CA's would mint certificates no gateway trusting the CA
    // can verify: the expired-cert probe would be refused for the wrong
    // reason and the wrong-SAN one would look like an mTLS failure.
    if key.subject_public_key_info() != ca_public_key(ca_pem)? {
        return Err(MintCaError::KeyMismatch);
    }
    let issuer = Issuer::from_ca_cert_pem(ca_pem, key)
        .map_err(|e| MintCaError::CaCertificate(e.to_string()))?;
    let now = OffsetDateTime::now_utc();
    let expired = leaf(
        &issuer,
        &format!("spiffe://{WRONG_SAN_PRINCIPAL}"),
        now - Duration::days(2),
        now - Duration::days(1),
    )?;
    let wrong_san = leaf(
        &issuer,
        &format!("spiffe://{WRONG_SAN_PRINCIPAL}"),
        now - Duration::hours(1),
        now + Duration::days(1),
    )?;
    Ok(Minted {
        expired: NamedIdentity {
            name: IDENTITY_EXPIRED.to_owned(),
            principal: Some(WRONG_SAN_PRINCIPAL.to_owned()),
            identity: expired,
        },
        wrong_san: NamedIdentity {
            name: "wrong-san".to_owned(),
            principal: Some(WRONG_SAN_PRINCIPAL.to_owned()),
            identity: wrong_san,
        },
    })
}

/// The SubjectPublicKeyInfo (DER) of the first certificate in `ca_pem`,
/// the one [`mint`] signs as.
fn ca_public_key(ca_pem: &str) -> Result<Vec<u8>, MintCaError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;

    let bad = |e: String| MintCaError::CaCertificate(e);
    let der = CertificateDer::pem_slice_iter(ca_pem.as_bytes())
        .next()
        .ok_or_else(|| bad("none in the file".to_owned()))?
        .map_err(|e| bad(e.to_string()))?;
    let (_, cert) =
        x509_parser::parse_x509_certificate(der.as_ref()).map_err(|e| bad(e.to_string()))?;
    Ok(cert.tbs_certificate.subject_pki.raw.to_vec())
}

fn leaf(
    issuer: &Issuer<'_, KeyPair>,
    uri: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> Result<ClientIdentity, MintCaError> {
    let spec = ClientLeafSpec {
        spiffe_uri: uri,
        not_before,
        not_after,
        server_auth: false,
    };
    let leaf_error = |e: String| MintCaError::Leaf(e);
    let minted = mint_client_cert(issuer, &spec).map_err(|e| leaf_error(e.to_string()))?;
    ClientIdentity::from_der(vec![minted.cert_der], minted.key_der)
        .map_err(|e| leaf_error(e.to_string()))
}
