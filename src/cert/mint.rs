//! Client certificates made here rather than read: the lab's SPIFFE
//! workload certificates, the scan's expired and wrong-SAN certificates
//! under the user's CA, and the unknown-CA probe's certificate. One
//! construction so that all of them look like what Istio issues (empty
//! subject, the `spiffe://` URI SAN as the only identity, ECDSA P-256),
//! and a difference between them is a parameter, not a second copy.
//!
//! No clock of its own, like the rest of `cert`: the caller picks the
//! validity window (an expired certificate is one of the things minted).

use rcgen::{
    CertificateParams, DistinguishedName, ExtendedKeyUsagePurpose, Issuer, KeyPair,
    KeyUsagePurpose, SanType, SigningKey, PKCS_ECDSA_P256_SHA256,
};
use time::OffsetDateTime;

/// Why a client certificate could not be minted.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    /// The identity is not a `spiffe://` URI with something after the scheme.
    #[error("client identity {0:?} is not a spiffe:// URI")]
    NotSpiffe(String),
    /// rcgen refused (a URI that is not IA5, a key the issuer cannot sign with).
    #[error("could not generate {what}: {reason}")]
    Generate { what: String, reason: rcgen::Error },
}

/// What the minted certificate says.
#[derive(Debug, Clone, Copy)]
pub struct ClientLeafSpec<'a> {
    /// The only identity, as a URI SAN: `spiffe://trust-domain/…`.
    pub spiffe_uri: &'a str,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// Also the serverAuth extended key usage, as Istio's workload
    /// certificates carry (a sidecar serves and calls with the same one).
    /// Probe certificates only ever act as clients and leave it out.
    pub server_auth: bool,
}

/// A minted certificate and its fresh private key, as DER and as PEM.
#[derive(Debug, Clone)]
pub struct MintedCert {
    /// What goes on the wire in the Certificate message.
    pub cert_der: Vec<u8>,
    pub cert_pem: String,
    /// PKCS#8.
    pub key_der: Vec<u8>,
    pub key_pem: String,
}

/// A client leaf under `issuer`, with a new ECDSA P-256 key, as `spec`
/// says. The authority key identifier names the issuer's key, so a
/// verifier finds the path even when several CAs share a name.
///
/// # Errors
/// [`MintError::NotSpiffe`] unless `spec.spiffe_uri` is `spiffe://…`;
/// [`MintError::Generate`] when rcgen refuses the URI or cannot sign.
pub fn mint_client_cert(
    issuer: &Issuer<'_, impl SigningKey>,
    spec: &ClientLeafSpec<'_>,
) -> Result<MintedCert, MintError> {
    let uri = spec.spiffe_uri;
    if !uri.starts_with("spiffe://") || uri.len() == "spiffe://".len() {
        return Err(MintError::NotSpiffe(uri.to_owned()));
    }
    let err = |reason| MintError::Generate {
        what: format!("client certificate for {uri}"),
        reason,
    };
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.subject_alt_names = vec![SanType::URI(
        rcgen::string::Ia5String::try_from(uri).map_err(err)?,
    )];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    if spec.server_auth {
        params
            .extended_key_usages
            .push(ExtendedKeyUsagePurpose::ServerAuth);
    }
    params.use_authority_key_identifier_extension = true;
    params.not_before = spec.not_before;
    params.not_after = spec.not_after;
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(err)?;
    let cert = params.signed_by(&key, issuer).map_err(err)?;
    Ok(MintedCert {
        cert_der: cert.der().to_vec(),
        cert_pem: cert.pem(),
        key_der: key.serialize_der(),
        key_pem: key.serialize_pem(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, IsCa};
    use time::Duration;
    use x509_parser::extensions::GeneralName;

    fn issuer() -> Issuer<'static, KeyPair> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::default();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        Issuer::new(params, key)
    }

    fn spec(uri: &str, server_auth: bool) -> ClientLeafSpec<'_> {
        let now = OffsetDateTime::now_utc();
        ClientLeafSpec {
            spiffe_uri: uri,
            not_before: now - Duration::days(2),
            not_after: now - Duration::days(1),
            server_auth,
        }
    }

    #[test]
    fn leaf_carries_only_the_spiffe_uri_and_the_asked_window() {
        let uri = "spiffe://cluster.local/ns/a/sa/b";
        let want = spec(uri, false);
        let minted = mint_client_cert(&issuer(), &want).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&minted.cert_der).unwrap();
        assert_eq!(cert.subject().to_string(), "", "empty subject, as Istio");
        let san = cert.subject_alternative_name().unwrap().unwrap();
        assert_eq!(san.value.general_names, vec![GeneralName::URI(uri)]);
        let eku = cert.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.client_auth && !eku.server_auth);
        assert_eq!(
            cert.validity().not_after.timestamp(),
            want.not_after.unix_timestamp(),
            "an expired window stays expired"
        );
        assert!(minted.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(minted.key_pem.contains("PRIVATE KEY"));

        let both = mint_client_cert(&issuer(), &spec(uri, true)).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&both.cert_der).unwrap();
        let eku = cert.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.client_auth && eku.server_auth);
    }

    #[test]
    fn only_spiffe_uris_are_minted() {
        for bad in ["https://x", "spiffe://", ""] {
            assert!(matches!(
                mint_client_cert(&issuer(), &spec(bad, false)),
                Err(MintError::NotSpiffe(_))
            ));
        }
        assert!(matches!(
            mint_client_cert(&issuer(), &spec("spiffe://caf\u{e9}", false)),
            Err(MintError::Generate { .. })
        ));
    }
}
