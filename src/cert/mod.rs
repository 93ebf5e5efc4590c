//! Certificate analysis from DER bytes: what a certificate says
//! ([`describe`]), whether it is valid for a name ([`hostname_matches`]),
//! what is wrong with a chain's order or completeness ([`chain_problems`],
//! [`missing_issuer`]) and whether it chains to trusted roots
//! ([`verify_trust`]). [`mint`] makes the client certificates the lab and
//! the mTLS probes present.
//!
//! Pure: no sockets and no clock of its own — the caller passes `now`. The
//! only file read is [`load_ca_file`], at the CLI edge. Certificates come
//! from servers, so every function here is total: a certificate that does
//! not parse is an error value or a problem string, never a panic.

mod chain;
pub mod mint;
mod names;
mod trust;

pub use chain::{chain_problems, missing_issuer};
pub use mint::{mint_client_cert, ClientLeafSpec, MintError, MintedCert};
pub use names::hostname_matches;
pub use trust::{load_ca_file, verify_trust, TrustRoots};

use std::net::IpAddr;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, GeneralName, ParsedExtension, X509Certificate};
use x509_parser::public_key::PublicKey;

use crate::observe::CertificateInfo;

/// Why a certificate or CA file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("certificate does not parse: {0}")]
    Parse(String),
    #[error("{} bytes follow the certificate", .0)]
    TrailingData(usize),
    #[error("cannot read CA file {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("CA file {0} holds no PEM certificate")]
    NoCertificates(String),
}

/// Parses one DER certificate, refusing trailing bytes (a chain entry is
/// exactly one certificate).
pub(crate) fn parse(der: &[u8]) -> Result<X509Certificate<'_>, CertError> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        Ok((rest, _)) => Err(CertError::TrailingData(rest.len())),
        Err(e) => Err(CertError::Parse(e.to_string())),
    }
}

/// Everything the report shows about one certificate.
///
/// `days_left` is whole days from `now` to notAfter, rounded down, so it
/// turns negative as soon as the certificate has expired.
///
/// # Errors
/// [`CertError::Parse`] / [`CertError::TrailingData`] when `der` is not
/// exactly one X.509 certificate.
pub fn describe(der: &[u8], now: OffsetDateTime) -> Result<CertificateInfo, CertError> {
    let cert = parse(der)?;
    let validity = cert.validity();
    let not_after = validity.not_after.to_datetime();
    let key = key_info(&cert);
    Ok(CertificateInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: hex_upper(cert.raw_serial()),
        sans: sans(&cert),
        not_before: rfc3339(validity.not_before.to_datetime()),
        not_after: rfc3339(not_after),
        days_left: days_between(now, not_after),
        key_type: key.kind,
        key_bits: key.bits,
        curve: key.curve,
        signature_algorithm: signature_algorithm_name(&cert),
        sha256: sha256_hex(der),
        self_signed: is_self_signed(&cert),
        is_ca: is_ca(&cert),
    })
}

/// Upper-case hex SHA-256 of `der`: the certificate fingerprint, as the
/// report shows it and `openssl x509 -fingerprint` prints it (without the
/// colons). The lab's fingerprints come from here too, so a lab and a scan
/// of it compare as plain strings.
pub fn sha256_hex(der: &[u8]) -> String {
    hex_upper(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der).as_ref())
}

/// Whole days from `now` to `then`, rounded towards minus infinity.
pub fn days_between(now: OffsetDateTime, then: OffsetDateTime) -> i64 {
    (then - now).whole_seconds().div_euclid(86_400)
}

fn rfc3339(t: OffsetDateTime) -> String {
    // Only years beyond 9999 fail to format; show them rather than fail.
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// SANs as `DNS:name`, `IP:addr`, `URI:uri`, `email:addr`; other kinds are
/// left out (gateways match on the first three).
pub(crate) fn sans(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(ext)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    ext.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(d) => Some(format!("DNS:{d}")),
            GeneralName::IPAddress(bytes) => ip_from(bytes).map(|ip| format!("IP:{ip}")),
            GeneralName::URI(u) => Some(format!("URI:{u}")),
            GeneralName::RFC822Name(e) => Some(format!("email:{e}")),
            _ => None,
        })
        .collect()
}

pub(crate) fn ip_from(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

struct KeyInfo {
    kind: String,
    bits: u32,
    curve: Option<String>,
}

fn key_info(cert: &X509Certificate<'_>) -> KeyInfo {
    let spki = cert.public_key();
    let oid = spki.algorithm.algorithm.to_id_string();
    let (kind, fixed_bits) = match oid.as_str() {
        "1.2.840.113549.1.1.1" => ("RSA", None),
        "1.2.840.113549.1.1.10" => ("RSA-PSS", None),
        "1.2.840.10045.2.1" => ("ECDSA", None),
        "1.3.101.112" => ("Ed25519", Some(256)),
        "1.3.101.113" => ("Ed448", Some(456)),
        "1.2.840.10040.4.1" => ("DSA", None),
        _ => ("unknown", None),
    };
    let curve = (kind == "ECDSA")
        .then(|| {
            spki.algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| curve_name(&o.to_id_string()))
        })
        .flatten();
    let bits = fixed_bits.unwrap_or_else(|| match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => significant_bits(rsa.modulus),
        Ok(PublicKey::DSA(y)) => significant_bits(y),
        Ok(other) => match curve.as_deref() {
            Some("P-256") => 256,
            Some("P-384") => 384,
            Some("P-521") => 521,
            _ => u32::try_from(other.key_size()).unwrap_or(0),
        },
        Err(_) => 0,
    });
    KeyInfo {
        kind: if kind == "unknown" {
            oid
        } else {
            kind.to_owned()
        },
        bits,
        curve,
    }
}

fn curve_name(oid: &str) -> String {
    match oid {
        "1.2.840.10045.3.1.7" => "P-256".to_owned(),
        "1.3.132.0.34" => "P-384".to_owned(),
        "1.3.132.0.35" => "P-521".to_owned(),
        "1.3.132.0.10" => "secp256k1".to_owned(),
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1".to_owned(),
        "1.3.36.3.3.2.8.1.1.11" => "brainpoolP384r1".to_owned(),
        "1.3.36.3.3.2.8.1.1.13" => "brainpoolP512r1".to_owned(),
        other => other.to_owned(),
    }
}

/// Bit length of a big-endian unsigned integer (DER may add a zero byte).
fn significant_bits(bytes: &[u8]) -> u32 {
    let trimmed = match bytes.iter().position(|b| *b != 0) {
        Some(i) => &bytes[i..],
        None => return 0,
    };
    let len = u32::try_from(trimmed.len()).unwrap_or(u32::MAX / 8);
    (len - 1) * 8 + (8 - trimmed[0].leading_zeros())
}

fn signature_algorithm_name(cert: &X509Certificate<'_>) -> String {
    let oid = cert.signature_algorithm.algorithm.to_id_string();
    let name = match oid.as_str() {
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.2.840.10040.4.3" => "dsa-with-SHA1",
        "2.16.840.1.101.3.4.3.2" => "dsa-with-SHA256",
        _ => return oid,
    };
    name.to_owned()
}

/// Issued by itself: the names match and its own key verifies its
/// signature. (Name equality alone would call a CA's same-named
/// cross-certificate self-signed.)
pub(crate) fn is_self_signed(cert: &X509Certificate<'_>) -> bool {
    cert.subject().as_raw() == cert.issuer().as_raw() && cert.verify_signature(None).is_ok()
}

pub(crate) fn is_ca(cert: &X509Certificate<'_>) -> bool {
    cert.iter_extensions()
        .any(|ext| matches!(ext.parsed_extension(), ParsedExtension::BasicConstraints(bc) if bc.ca))
}

#[cfg(test)]
pub(crate) mod test_certs {
    //! rcgen-made certificates for the unit tests of this module.

    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
        SanType, PKCS_ECDSA_P256_SHA256, PKCS_RSA_SHA256,
    };
    use time::{Duration, OffsetDateTime};

    pub struct Ca {
        pub der: Vec<u8>,
        pub pem: String,
        pub issuer: Issuer<'static, KeyPair>,
    }

    fn named(cn: &str) -> DistinguishedName {
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, cn);
        dn
    }

    fn validity(params: &mut CertificateParams, days: i64) {
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(2);
        params.not_after = now + Duration::days(days);
    }

    /// A self-signed ECDSA CA.
    pub fn root(cn: &str) -> Ca {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name = named(cn);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        validity(&mut params, 3650);
        let cert = params.self_signed(&key).unwrap();
        Ca {
            der: cert.der().to_vec(),
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// An intermediate CA signed by `parent`.
    pub fn intermediate(cn: &str, parent: &Ca) -> Ca {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name = named(cn);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        validity(&mut params, 1000);
        let cert = params.signed_by(&key, &parent.issuer).unwrap();
        Ca {
            der: cert.der().to_vec(),
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf for `sans` (DNS names, IPs or `spiffe://` URIs), CN = first.
    pub fn leaf(sans: &[&str], rsa: bool, days: i64, parent: &Ca) -> Vec<u8> {
        let alg = if rsa {
            &PKCS_RSA_SHA256
        } else {
            &PKCS_ECDSA_P256_SHA256
        };
        let key = KeyPair::generate_for(alg).unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name = named(sans.first().copied().unwrap_or("leaf"));
        params.subject_alt_names = sans.iter().map(|s| san(s)).collect();
        validity(&mut params, days);
        params
            .signed_by(&key, &parent.issuer)
            .unwrap()
            .der()
            .to_vec()
    }

    /// A self-signed leaf with only a CN (no SAN at all).
    pub fn cn_only(cn: &str) -> Vec<u8> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name = named(cn);
        validity(&mut params, 30);
        params.self_signed(&key).unwrap().der().to_vec()
    }

    fn san(s: &str) -> SanType {
        if let Ok(ip) = s.parse() {
            SanType::IpAddress(ip)
        } else if s.contains("://") {
            SanType::URI(s.try_into().unwrap())
        } else {
            SanType::DnsName(s.try_into().unwrap())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_certs::*;
    use super::*;

    #[test]
    fn sha256_hex_is_the_upper_case_fips_180_vector() {
        // FIPS 180-2 appendix B.1, in the case `openssl x509 -fingerprint` prints.
        assert_eq!(
            sha256_hex(b"abc"),
            "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"
        );
    }

    #[test]
    fn describe_reads_names_key_validity_and_fingerprint() {
        let ca = root("test root");
        let der = leaf(
            &[
                "gw.example.test",
                "127.0.0.1",
                "spiffe://cluster.local/ns/a/sa/b",
            ],
            true,
            90,
            &ca,
        );
        let info = describe(&der, OffsetDateTime::now_utc()).unwrap();
        assert_eq!(info.subject, "CN=gw.example.test");
        assert_eq!(info.issuer, "CN=test root");
        assert_eq!(
            info.sans,
            [
                "DNS:gw.example.test",
                "IP:127.0.0.1",
                "URI:spiffe://cluster.local/ns/a/sa/b"
            ]
        );
        assert_eq!((info.key_type.as_str(), info.key_bits), ("RSA", 2048));
        assert_eq!(info.curve, None);
        assert_eq!(info.signature_algorithm, "ecdsa-with-SHA256");
        assert!((88..=90).contains(&info.days_left), "{}", info.days_left);
        assert_eq!(info.sha256.len(), 64);
        assert!(info
            .sha256
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
        assert!(!info.serial.is_empty());
        assert!(info.not_after.ends_with('Z'), "{}", info.not_after);
        assert!(!info.self_signed && !info.is_ca);

        let root_info = describe(&ca.der, OffsetDateTime::now_utc()).unwrap();
        assert!(root_info.self_signed && root_info.is_ca);
        assert_eq!(root_info.key_type, "ECDSA");
        assert_eq!(root_info.curve.as_deref(), Some("P-256"));
        assert_eq!(root_info.key_bits, 256);
    }

    #[test]
    fn describe_counts_days_left_negative_once_expired() {
        let ca = root("r");
        let der = leaf(&["old.test"], false, 10, &ca);
        let later = OffsetDateTime::now_utc() + time::Duration::days(12);
        let info = describe(&der, later).unwrap();
        assert!(info.days_left < 0, "{}", info.days_left);
    }

    #[test]
    fn describe_refuses_garbage_and_trailing_bytes() {
        assert!(matches!(
            describe(b"", OffsetDateTime::now_utc()),
            Err(CertError::Parse(_))
        ));
        assert!(describe(&[0x30, 0x82, 0xff, 0xff, 1], OffsetDateTime::now_utc()).is_err());
        let mut der = root("r").der;
        der.push(0);
        assert!(matches!(
            describe(&der, OffsetDateTime::now_utc()),
            Err(CertError::TrailingData(1))
        ));
    }

    #[test]
    fn significant_bits_ignores_the_der_sign_byte() {
        assert_eq!(significant_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(significant_bits(&[0x01]), 1);
        assert_eq!(significant_bits(&[0, 0]), 0);
    }
}
