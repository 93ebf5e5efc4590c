//! Certificates for the lab: one throw-away CA, server leaves for the
//! gateway's host names (RSA 2048 and ECDSA P-256), and SPIFFE client
//! certificates for mTLS scenarios.
//!
//! Everything is generated in memory with rcgen and written as PEM only when
//! asked. It must not be used for anything but the lab: keys are unprotected
//! files and the CA is trusted by nothing else.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, PKCS_RSA_SHA256,
};
use thiserror::Error;
use time::{Duration, OffsetDateTime};

use crate::cert::{mint_client_cert, ClientLeafSpec, MintError};

/// Why a certificate could not be made or written.
#[derive(Debug, Error)]
pub enum CertError {
    /// rcgen refused the parameters (e.g. a host name that is not IA5).
    #[error("could not generate {what}")]
    Generate {
        what: String,
        #[source]
        source: rcgen::Error,
    },
    /// A client identity that is not a `spiffe://` URI.
    #[error("client identity {0:?} is not a spiffe:// URI")]
    NotSpiffe(String),
    #[error("could not write {}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The key algorithm of a leaf certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    Rsa2048,
    EcdsaP256,
}

impl KeyKind {
    /// Short label used in file names (`rsa`, `ecdsa`).
    pub fn label(self) -> &'static str {
        match self {
            KeyKind::Rsa2048 => "rsa",
            KeyKind::EcdsaP256 => "ecdsa",
        }
    }
}

/// A certificate and its private key, both PEM, and the certificate's DER.
#[derive(Debug, Clone)]
pub struct IssuedCert {
    pub cert_pem: String,
    pub key_pem: String,
    /// What goes on the wire in the Certificate message.
    pub cert_der: Vec<u8>,
}

/// Where an [`IssuedCert`] was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl IssuedCert {
    /// SHA-256 of the DER, upper-case hex without separators: the
    /// fingerprint a scan reports for the leaf ([`crate::cert::sha256_hex`]).
    pub fn sha256_hex(&self) -> String {
        crate::cert::sha256_hex(&self.cert_der)
    }

    /// Writes `<stem>.pem` and `<stem>.key` into `dir`.
    ///
    /// # Errors
    /// [`CertError::Write`] naming the file that failed.
    pub fn write(&self, dir: &Path, stem: &str) -> Result<CertFiles, CertError> {
        let files = CertFiles {
            cert: dir.join(format!("{stem}.pem")),
            key: dir.join(format!("{stem}.key")),
        };
        write_file(&files.cert, &self.cert_pem)?;
        write_file(&files.key, &self.key_pem)?;
        Ok(files)
    }
}

/// The lab's certificate authority: an ECDSA P-256 root valid for a year.
pub struct LabCa {
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
}

impl std::fmt::Debug for LabCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The signing key stays out of logs.
        f.debug_struct("LabCa").finish_non_exhaustive()
    }
}

impl LabCa {
    /// Generates a fresh CA named `tlsposture lab CA`.
    ///
    /// # Errors
    /// [`CertError::Generate`] if rcgen fails (not expected with these fixed parameters).
    pub fn generate() -> Result<Self, CertError> {
        let what = || "the lab CA".to_owned();
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(gen_err(what))?;
        let mut params = CertificateParams::default();
        params.distinguished_name = name("tlsposture lab CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        set_validity(&mut params);
        let cert = params.self_signed(&key).map_err(gen_err(what))?;
        Ok(LabCa {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA certificate, PEM: what a client trusts to verify lab servers.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A server certificate for `hosts` (DNS names or IP addresses, all in
    /// the SAN; the first is also the CN). An empty list gets `localhost`.
    ///
    /// # Errors
    /// [`CertError::Generate`] when a host is not a valid SAN value.
    pub fn issue_server_cert(
        &self,
        hosts: &[String],
        kind: KeyKind,
    ) -> Result<IssuedCert, CertError> {
        let hosts: Vec<String> = if hosts.is_empty() {
            vec!["localhost".to_owned()]
        } else {
            hosts.to_vec()
        };
        let what = || {
            format!(
                "{} server certificate for {}",
                kind.label(),
                hosts.join(",")
            )
        };
        let mut params = CertificateParams::new(hosts.clone()).map_err(gen_err(what))?;
        params.distinguished_name = name(&hosts[0]);
        params.key_usages = match kind {
            // RSA key exchange (TLS_RSA_*) suites in the legacy scenario need
            // keyEncipherment; ECDSA keys cannot encipher.
            KeyKind::Rsa2048 => vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ],
            KeyKind::EcdsaP256 => vec![KeyUsagePurpose::DigitalSignature],
        };
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.sign(params, kind, what)
    }

    fn sign(
        &self,
        mut params: CertificateParams,
        kind: KeyKind,
        what: impl Fn() -> String + Copy,
    ) -> Result<IssuedCert, CertError> {
        let key = match kind {
            KeyKind::Rsa2048 => KeyPair::generate_for(&PKCS_RSA_SHA256),
            KeyKind::EcdsaP256 => KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256),
        }
        .map_err(gen_err(what))?;
        params.use_authority_key_identifier_extension = true;
        set_validity(&mut params);
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(gen_err(what))?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().to_vec(),
        })
    }
}

/// A client certificate whose only identity is the `spiffe://` URI SAN, the
/// way Istio's workload certificates carry it (empty subject, ECDSA P-256,
/// clientAuth and serverAuth), valid as long as the lab's server leaves.
///
/// # Errors
/// [`CertError::NotSpiffe`] unless `spiffe_uri` starts with `spiffe://`;
/// [`CertError::Generate`] when rcgen rejects it.
pub fn issue_client_cert(ca: &LabCa, spiffe_uri: &str) -> Result<IssuedCert, CertError> {
    let (not_before, not_after) = validity();
    let spec = ClientLeafSpec {
        spiffe_uri,
        not_before,
        not_after,
        server_auth: true,
    };
    let minted = mint_client_cert(&ca.issuer, &spec).map_err(|e| match e {
        MintError::NotSpiffe(uri) => CertError::NotSpiffe(uri),
        MintError::Generate { what, reason } => CertError::Generate {
            what,
            source: reason,
        },
    })?;
    Ok(IssuedCert {
        cert_pem: minted.cert_pem,
        key_pem: minted.key_pem,
        cert_der: minted.cert_der,
    })
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "tlsposture lab");
    dn.push(DnType::CommonName, common_name);
    dn
}

/// Real dates rather than rcgen's 1975–4096 default, so certificate checks
/// (days left, not yet valid) see what a freshly issued certificate looks like.
/// The hour of back-dating absorbs clock skew between tools.
fn set_validity(params: &mut CertificateParams) {
    (params.not_before, params.not_after) = validity();
}

/// An hour ago to a year from now.
fn validity() -> (OffsetDateTime, OffsetDateTime) {
    let now = OffsetDateTime::now_utc();
    (now - Duration::hours(1), now + Duration::days(365))
}

fn gen_err<W: Fn() -> String>(what: W) -> impl FnOnce(rcgen::Error) -> CertError {
    move |source| CertError::Generate {
        what: what(),
        source,
    }
}

fn write_file(path: &Path, contents: &str) -> Result<(), CertError> {
    std::fs::write(path, contents).map_err(|source| CertError::Write {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_certs_of_both_kinds() {
        let ca = LabCa::generate().unwrap();
        assert!(ca.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        let hosts = vec!["gateway.lab.test".to_owned(), "127.0.0.1".to_owned()];
        for kind in [KeyKind::Rsa2048, KeyKind::EcdsaP256] {
            let leaf = ca.issue_server_cert(&hosts, kind).unwrap();
            assert!(leaf.cert_pem.contains("BEGIN CERTIFICATE"));
            assert!(leaf.key_pem.contains("PRIVATE KEY"));
            assert_eq!(leaf.cert_der.first(), Some(&0x30), "a DER SEQUENCE");
            assert_eq!(leaf.sha256_hex().len(), 64);
        }
    }

    #[test]
    fn bad_host_is_an_error_not_a_panic() {
        let ca = LabCa::generate().unwrap();
        let err = ca
            .issue_server_cert(&["bad\u{e9}host".to_owned()], KeyKind::EcdsaP256)
            .unwrap_err();
        assert!(matches!(err, CertError::Generate { .. }), "{err:?}");
    }

    #[test]
    fn client_cert_requires_spiffe() {
        let ca = LabCa::generate().unwrap();
        let ok = issue_client_cert(&ca, "spiffe://cluster.local/ns/default/sa/test.client");
        assert!(ok.is_ok(), "{ok:?}");
        for bad in ["https://x", "spiffe://", ""] {
            assert!(matches!(
                issue_client_cert(&ca, bad),
                Err(CertError::NotSpiffe(_))
            ));
        }
    }

    #[test]
    fn writes_pem_files() {
        let ca = LabCa::generate().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let leaf = ca
            .issue_server_cert(&["a.test".to_owned()], KeyKind::EcdsaP256)
            .unwrap();
        let files = leaf.write(dir.path(), "a").unwrap();
        assert_eq!(std::fs::read_to_string(&files.cert).unwrap(), leaf.cert_pem);
        assert_eq!(std::fs::read_to_string(&files.key).unwrap(), leaf.key_pem);
    }
}
