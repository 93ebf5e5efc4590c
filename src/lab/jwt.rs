//! JWT keys and tokens for the lab's `RequestAuthentication` issuers.
//!
//! The lab has no internet: a `jwtRules[].jwksUri` is never fetched. For
//! each such issuer the lab makes its own ES256 (P-256) key pair, gives
//! Envoy's `jwt_authn` the public half as a local JWKS file, and writes
//! tokens a client can send: a valid one (ten years), an expired one, and
//! one whose signature another key made (same `kid`). Everything stays in
//! the lab workdir (`jwt/<issuer-slug>/`).
//!
//! Signing uses aws-lc-rs directly (already in the tree for rustls and
//! rcgen); no JWT crate is needed for ES256 compact serialisation. The
//! base64 in tokens, JWKS and PEM is the `base64` crate's.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::PrivatePkcs8KeyDer;
use serde_json::{json, Value};
use thiserror::Error;

/// The `sub` of every token the lab writes.
pub const LAB_SUBJECT: &str = "lab-user";
/// The `groups` claim of every token the lab writes (as Istio's sample).
pub const LAB_GROUPS: &[&str] = &["group1", "group2"];

const VALID_FOR_SECS: u64 = 10 * 365 * 24 * 3600;
const EXPIRED_AGO_SECS: u64 = 3600;

#[derive(Debug, Error)]
pub enum JwtError {
    #[error("generating an ES256 key failed")]
    KeyGen,
    #[error("signing a token failed")]
    Sign,
    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

/// An ES256 signing key for one issuer.
pub struct JwtSigner {
    key: EcdsaKeyPair,
    kid: String,
    issuer: String,
}

impl std::fmt::Debug for JwtSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtSigner")
            .field("kid", &self.kid)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl JwtSigner {
    /// A fresh P-256 key pair for `issuer`, known by `kid`.
    ///
    /// # Errors
    /// [`JwtError::KeyGen`].
    pub fn generate(issuer: &str, kid: &str) -> Result<Self, JwtError> {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(|_| JwtError::KeyGen)?;
        Ok(JwtSigner {
            key,
            kid: kid.to_owned(),
            issuer: issuer.to_owned(),
        })
    }

    /// The signer behind lab-made tokens, from the files
    /// [`write_issuer`] wrote: to mint tokens with other claims (another
    /// `sub`, a wrong `aud`, …) that the lab's Envoy verifies.
    ///
    /// # Errors
    /// [`JwtError::Io`] when the key file cannot be read, [`JwtError::KeyGen`]
    /// when it is not a P-256 PKCS#8 key.
    pub fn load(files: &IssuerFiles) -> Result<Self, JwtError> {
        let pem = std::fs::read_to_string(&files.key).map_err(|source| JwtError::Io {
            context: format!("reading {}", files.key.display()),
            source,
        })?;
        let der =
            PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes()).map_err(|_| JwtError::KeyGen)?;
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der.secret_pkcs8_der())
                .map_err(|_| JwtError::KeyGen)?;
        Ok(JwtSigner {
            key,
            kid: lab_kid(&files.slug),
            issuer: files.issuer.clone(),
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK Set (`{"keys": [ … ]}`), as Envoy's
    /// `local_jwks` takes it.
    pub fn jwks(&self) -> Value {
        // Uncompressed point: 0x04 || X (32) || Y (32).
        let point = self.key.public_key().as_ref();
        json!({"keys": [{
            "kty": "EC",
            "crv": "P-256",
            "alg": "ES256",
            "use": "sig",
            "kid": self.kid,
            "x": b64url(&point[1..33]),
            "y": b64url(&point[33..65]),
        }]})
    }

    /// The private key, PKCS#8 PEM (to mint more tokens by hand).
    ///
    /// # Errors
    /// [`JwtError::KeyGen`] when the key cannot be serialised.
    pub fn private_key_pem(&self) -> Result<String, JwtError> {
        let der = self.key.to_pkcs8v1().map_err(|_| JwtError::KeyGen)?;
        let b64 = STANDARD.encode(der.as_ref());
        let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
        for line in b64.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str("-----END PRIVATE KEY-----\n");
        Ok(pem)
    }

    /// Signs `claims` as a compact ES256 JWS with this key's `kid`.
    ///
    /// # Errors
    /// [`JwtError::Sign`].
    pub fn sign(&self, claims: &Value) -> Result<String, JwtError> {
        let header = json!({"alg": "ES256", "typ": "JWT", "kid": self.kid});
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let sig = self
            .key
            .sign(&SystemRandom::new(), input.as_bytes())
            .map_err(|_| JwtError::Sign)?;
        Ok(format!("{input}.{}", b64url(sig.as_ref())))
    }

    /// The lab's standard claims: `iss`, `sub` [`LAB_SUBJECT`], `aud` (the
    /// first of `audiences`, if any), `groups`, `iat` and `exp` relative to
    /// now (`exp_offset` seconds; negative for an expired token).
    pub fn claims(&self, audiences: &[String], exp_offset: i64) -> Value {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let now = i64::try_from(now).unwrap_or(i64::MAX / 2);
        let mut claims = json!({
            "iss": self.issuer,
            "sub": LAB_SUBJECT,
            "groups": LAB_GROUPS,
            "iat": now.min(now + exp_offset - 60),
            "exp": now + exp_offset,
        });
        if let Some(aud) = audiences.first() {
            claims["aud"] = json!(aud);
        }
        claims
    }
}

/// What [`write_issuer`] wrote for one issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerFiles {
    pub issuer: String,
    pub slug: String,
    pub dir: PathBuf,
    /// The JWK Set Envoy verifies with.
    pub jwks: PathBuf,
    /// Valid for ten years: authentication passes.
    pub token: PathBuf,
    /// Expired an hour ago: `401 Jwt is expired`.
    pub expired: PathBuf,
    /// Same claims and `kid`, another key: `401 Jwt verification fails`.
    pub bad_signature: PathBuf,
    /// PKCS#8 PEM of the signing key.
    pub key: PathBuf,
}

impl IssuerFiles {
    /// The paths for `slug` under `jwt_dir`, written or not.
    pub fn paths(jwt_dir: &Path, issuer: &str, slug: &str) -> Self {
        let dir = jwt_dir.join(slug);
        IssuerFiles {
            issuer: issuer.to_owned(),
            slug: slug.to_owned(),
            jwks: dir.join("jwks.json"),
            token: dir.join("token.jwt"),
            expired: dir.join("expired.jwt"),
            bad_signature: dir.join("bad-signature.jwt"),
            key: dir.join("signing-key.pem"),
            dir,
        }
    }
}

/// Makes a key pair for `issuer` and writes its JWKS, the three tokens and
/// the key under `jwt_dir/<slug>/`.
///
/// # Errors
/// Key generation, signing or file errors.
pub fn write_issuer(
    jwt_dir: &Path,
    issuer: &str,
    slug: &str,
    audiences: &[String],
) -> Result<IssuerFiles, JwtError> {
    let files = IssuerFiles::paths(jwt_dir, issuer, slug);
    let kid = lab_kid(slug);
    let signer = JwtSigner::generate(issuer, &kid)?;
    let impostor = JwtSigner::generate(issuer, &kid)?;
    std::fs::create_dir_all(&files.dir).map_err(|e| io_err(&files.dir, e))?;
    let valid = signer.sign(&signer.claims(audiences, VALID_FOR_SECS as i64))?;
    let expired = signer.sign(&signer.claims(audiences, -(EXPIRED_AGO_SECS as i64)))?;
    let bad = impostor.sign(&signer.claims(audiences, VALID_FOR_SECS as i64))?;
    for (path, text) in [
        (&files.jwks, signer.jwks().to_string()),
        (&files.token, valid),
        (&files.expired, expired),
        (&files.bad_signature, bad),
        (&files.key, signer.private_key_pem()?),
    ] {
        std::fs::write(path, text).map_err(|e| io_err(path, e))?;
    }
    Ok(files)
}

/// A directory name for `issuer`: lower-case ASCII letters and digits,
/// runs of anything else as one `-`.
pub fn issuer_slug(issuer: &str) -> String {
    let mut slug = String::new();
    for c in issuer.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-').to_owned();
    if slug.is_empty() {
        "issuer".to_owned()
    } else {
        slug
    }
}

fn lab_kid(slug: &str) -> String {
    format!("lab-{slug}")
}

fn io_err(path: &Path, source: io::Error) -> JwtError {
    JwtError::Io {
        context: format!("writing {}", path.display()),
        source,
    }
}

/// Base64url without padding (RFC 7515 §2).
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jws_base64_is_url_safe_and_unpadded() {
        // 0xfb 0xff uses both URL-alphabet characters and needs padding in
        // standard base64 ("+/8="): RFC 7515 §2 wants "-_8".
        assert_eq!(b64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn tokens_verify_with_the_jwks_key() {
        use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
        let signer = JwtSigner::generate("testing@secure.istio.io", "k1").unwrap();
        let token = signer.sign(&signer.claims(&["aud1".into()], 60)).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let point = signer.key.public_key().as_ref().to_vec();
        let sig = decode_url(parts[2]);
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .unwrap();
        let claims: Value = serde_json::from_slice(&decode_url(parts[1])).unwrap();
        assert_eq!(claims["iss"], "testing@secure.istio.io");
        assert_eq!(claims["aud"], "aud1");
        let jwks = signer.jwks();
        assert_eq!(jwks["keys"][0]["kid"], "k1");
        assert_eq!(decode_url(jwks["keys"][0]["x"].as_str().unwrap()).len(), 32);
        assert!(signer
            .private_key_pem()
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----\n"));
    }

    #[test]
    fn written_key_signs_again() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_issuer(dir.path(), "iss", "iss", &[]).unwrap();
        let signer = JwtSigner::load(&files).unwrap();
        assert_eq!(signer.kid(), "lab-iss");
        let jwks: Value =
            serde_json::from_str(&std::fs::read_to_string(&files.jwks).unwrap()).unwrap();
        assert_eq!(
            signer.jwks(),
            jwks,
            "same key as the JWKS Envoy verifies with"
        );
    }

    #[test]
    fn slugs() {
        assert_eq!(
            issuer_slug("testing@secure.istio.io"),
            "testing-secure-istio-io"
        );
        assert_eq!(
            issuer_slug("https://accounts.example.com/"),
            "https-accounts-example-com"
        );
        assert_eq!(issuer_slug("@@"), "issuer");
    }

    fn decode_url(text: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(text).unwrap()
    }
}
