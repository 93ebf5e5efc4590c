//! Whether a chain leads to a trusted root: rustls-webpki path building
//! (the verifier rustls itself uses) against `--ca` roots or the Mozilla
//! set from webpki-roots, with the reason in words when it does not.

use std::path::Path;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use time::OffsetDateTime;
use webpki::{EndEntityCert, KeyUsage};

use super::CertError;

/// The roots a chain is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustRoots {
    /// The Mozilla root program (webpki-roots), what public clients trust.
    Public,
    /// DER certificates from `--ca`: a mesh or private CA.
    Custom(Vec<Vec<u8>>),
}

impl TrustRoots {
    /// Whether a root's subject equals `name_der` (a whole DER Name, tag and
    /// length included, as x509-parser's `as_raw` gives it).
    pub(crate) fn has_subject(&self, name_der: &[u8]) -> bool {
        match self {
            TrustRoots::Public => {
                // webpki keeps the Name's contents without its SEQUENCE header.
                let Some(value) = der_value(name_der) else {
                    return false;
                };
                webpki_roots::TLS_SERVER_ROOTS
                    .iter()
                    .any(|a| a.subject.as_ref() == value)
            }
            TrustRoots::Custom(certs) => certs
                .iter()
                .any(|der| super::parse(der).is_ok_and(|c| c.subject().as_raw() == name_der)),
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            TrustRoots::Public => "the public (Mozilla) roots",
            TrustRoots::Custom(_) => "the --ca roots",
        }
    }
}

/// Reads every PEM certificate of `path` (a CA bundle).
///
/// # Errors
/// [`CertError::CaFile`] when the file cannot be read or a PEM block is
/// broken; [`CertError::NoCertificates`] when it holds none.
pub fn load_ca_file(path: &Path) -> Result<TrustRoots, CertError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| CertError::CaFile {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    roots_from_pem(&bytes, &shown)
}

impl TrustRoots {
    /// Roots from PEM text already in memory (e.g. the lab's CA).
    pub fn from_pem(pem: &str) -> Result<TrustRoots, CertError> {
        roots_from_pem(pem.as_bytes(), "PEM text")
    }
}

fn roots_from_pem(bytes: &[u8], shown: &str) -> Result<TrustRoots, CertError> {
    let certs = CertificateDer::pem_slice_iter(bytes)
        .map(|c| c.map(|c| c.as_ref().to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CertError::CaFile {
            path: shown.to_string(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(CertError::NoCertificates(shown.to_string()));
    }
    Ok(TrustRoots::Custom(certs))
}

/// Builds a path from `chain[0]` (the leaf) through the other certificates
/// (in any order) to one of `roots`, valid at `now` for TLS server use, and
/// — when `name` is given — for that DNS name or IP address.
///
/// # Errors
/// A sentence saying why: unknown issuer, expired, not yet valid, name
/// mismatch, bad signature, or a root in `--ca` that does not parse.
pub fn verify_trust(
    chain: &[Vec<u8>],
    roots: &TrustRoots,
    name: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), String> {
    let Some((leaf, rest)) = chain.split_first() else {
        return Err("no certificate sent".to_owned());
    };
    let leaf_der = CertificateDer::from(leaf.as_slice());
    let ee = EndEntityCert::try_from(&leaf_der).map_err(|e| why(e, roots, name))?;
    let intermediates: Vec<CertificateDer<'_>> = rest
        .iter()
        .map(|d| CertificateDer::from(d.as_slice()))
        .collect();
    let custom_ders: Vec<CertificateDer<'_>>;
    let custom_anchors: Vec<TrustAnchor<'_>>;
    let anchors: &[TrustAnchor<'_>] = match roots {
        TrustRoots::Public => webpki_roots::TLS_SERVER_ROOTS,
        TrustRoots::Custom(ders) => {
            custom_ders = ders
                .iter()
                .map(|d| CertificateDer::from(d.as_slice()))
                .collect();
            custom_anchors = custom_ders
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    webpki::anchor_from_trusted_cert(d)
                        .map(|a| a.to_owned())
                        .map_err(|e| format!("--ca certificate {} is unusable: {e:?}", i + 1))
                })
                .collect::<Result<_, _>>()?;
            &custom_anchors
        }
    };
    let secs = u64::try_from(now.unix_timestamp()).unwrap_or(0);
    let time = UnixTime::since_unix_epoch(Duration::from_secs(secs));
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        anchors,
        &intermediates,
        time,
        KeyUsage::server_auth(),
        None,
        None,
    )
    .map_err(|e| why(e, roots, name))?;
    if let Some(name) = name {
        let server_name = ServerName::try_from(name.trim_end_matches('.'))
            .map_err(|_| format!("{name:?} is neither a DNS name nor an IP address"))?;
        ee.verify_is_valid_for_subject_name(&server_name)
            .map_err(|e| why(e, roots, Some(name)))?;
    }
    Ok(())
}

fn why(e: webpki::Error, roots: &TrustRoots, name: Option<&str>) -> String {
    use webpki::Error as E;
    let at = |t: UnixTime| {
        i64::try_from(t.as_secs())
            .ok()
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| format!("{} s after the epoch", t.as_secs()))
    };
    match e {
        E::UnknownIssuer => format!(
            "unknown issuer: the chain does not lead to any of {}",
            roots.describe()
        ),
        E::CertExpired { not_after, .. } => {
            format!(
                "expired: a certificate of the chain expired at {}",
                at(not_after)
            )
        }
        E::CertNotValidYet { not_before, .. } => format!(
            "not yet valid: a certificate of the chain is valid from {}",
            at(not_before)
        ),
        E::CertNotValidForName(_) => format!(
            "name mismatch: the leaf is not valid for {}",
            name.unwrap_or("the requested name")
        ),
        E::InvalidSignatureForPublicKey => {
            "bad signature: a certificate is not signed by the key of its issuer".to_owned()
        }
        E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            "unsupported signature algorithm in the chain (e.g. SHA-1 or RSA < 2048)".to_owned()
        }
        E::CaUsedAsEndEntity => "the leaf is a CA certificate".to_owned(),
        E::RequiredEkuNotFoundContext(_) => {
            "the leaf's extended key usage does not allow TLS server authentication".to_owned()
        }
        E::BadDer | E::BadDerTime => "a certificate of the chain is not valid DER".to_owned(),
        other => format!("{other:?}"),
    }
}

/// The contents of one DER TLV (header stripped), if `der` is exactly one.
fn der_value(der: &[u8]) -> Option<&[u8]> {
    let (&first_len, rest) = der.get(1..)?.split_first()?;
    let (len, body) = if first_len < 0x80 {
        (usize::from(first_len), rest)
    } else {
        let n = usize::from(first_len & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    (body.len() == len).then_some(body)
}

#[cfg(test)]
mod tests {
    use super::super::test_certs::*;
    use super::*;

    #[test]
    fn chain_to_custom_root_is_trusted_and_name_checked() {
        let root = root("Root");
        let inter = intermediate("Inter", &root);
        let leaf = leaf(&["a.test"], true, 30, &inter);
        let roots = TrustRoots::Custom(vec![root.der.clone()]);
        let now = OffsetDateTime::now_utc();
        let chain = vec![leaf.clone(), inter.der.clone()];
        assert_eq!(verify_trust(&chain, &roots, Some("a.test"), now), Ok(()));
        assert_eq!(verify_trust(&chain, &roots, None, now), Ok(()));
        let mismatch = verify_trust(&chain, &roots, Some("b.test"), now).unwrap_err();
        assert!(mismatch.starts_with("name mismatch"), "{mismatch}");
        let missing = verify_trust(std::slice::from_ref(&leaf), &roots, None, now).unwrap_err();
        assert!(missing.starts_with("unknown issuer"), "{missing}");
        let public = verify_trust(&chain, &TrustRoots::Public, None, now).unwrap_err();
        assert!(public.contains("public (Mozilla) roots"), "{public}");
        let later = now + time::Duration::days(40);
        let expired = verify_trust(&chain, &roots, None, later).unwrap_err();
        assert!(expired.starts_with("expired"), "{expired}");
    }

    #[test]
    fn root_subjects_are_found_in_both_root_sets() {
        let root = root("Root");
        let parsed = super::super::parse(&root.der).unwrap();
        let name = parsed.subject().as_raw();
        assert!(TrustRoots::Custom(vec![root.der.clone()]).has_subject(name));
        assert!(!TrustRoots::Public.has_subject(name));
        // A real Mozilla root's subject, rebuilt with its SEQUENCE header.
        let anchor = &webpki_roots::TLS_SERVER_ROOTS[0];
        let value = anchor.subject.as_ref();
        let mut whole = vec![0x30];
        if value.len() < 0x80 {
            whole.push(value.len() as u8);
        } else {
            whole.extend([0x82, (value.len() >> 8) as u8, value.len() as u8]);
        }
        whole.extend_from_slice(value);
        assert!(TrustRoots::Public.has_subject(&whole));
    }

    #[test]
    fn ca_file_loads_pem_and_refuses_empty_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = root("Root");
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, &root.pem).unwrap();
        assert_eq!(
            load_ca_file(&path).unwrap(),
            TrustRoots::Custom(vec![root.der])
        );
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        assert!(matches!(
            load_ca_file(&empty),
            Err(CertError::NoCertificates(_))
        ));
        assert!(matches!(
            load_ca_file(&dir.path().join("missing.pem")),
            Err(CertError::CaFile { .. })
        ));
    }
}
