//! Runs the JWT probes `policy::jwt` planned (through `plan`): mints the tokens (malformed,
//! signed by an ES256 key made up for the scan, expired), sends each in the
//! header the jwtRule reads, and records what came back. The `--jwt` token
//! is sent as given and reported only by fingerprint.

use std::sync::OnceLock;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

use base64::engine::general_purpose::{URL_SAFE_NO_PAD, URL_SAFE_NO_PAD_INDIFFERENT};
use base64::Engine;

use super::authz::{AuthzContext, NamedIdentity};
use super::http::{http_exchange, HttpOutcome, HttpRequest};
use super::Prober;
use crate::observe::{AuthzRequest, Expected, Identity, TargetObservation};
use crate::policy::jwt::{JwtExpectation, PlannedJwtProbe, TokenKind, TokenLocation};
use crate::tls_client::HandshakeOptions;

/// A token given with `--jwt`: kept in memory, shown only as a
/// fingerprint.
#[derive(Clone)]
pub struct GivenJwt {
    token: String,
    /// `iss/sub` of its payload, as Istio builds request principals.
    pub request_principal: Option<String>,
    /// `sha256:` and the first 12 hex digits of the token's hash.
    pub fingerprint: String,
}

impl std::fmt::Debug for GivenJwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GivenJwt")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// Why a `--jwt` is not a token. Messages never echo the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtArgError {
    #[error("not a JWT (three dot-separated parts)")]
    NotJwt,
    #[error("payload is not base64url")]
    NotBase64url,
    #[error("payload is not JSON: {0}")]
    NotJson(String),
}

impl GivenJwt {
    /// Reads the payload's `iss` and `sub` (the signature is the gateway's
    /// to check).
    ///
    /// # Errors
    /// When the token is not three base64url parts with a JSON payload.
    pub fn parse(token: &str) -> Result<GivenJwt, JwtArgError> {
        let token = token.trim();
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() != 3 {
            return Err(JwtArgError::NotJwt);
        }
        let payload = base64url_decode(parts[1]).ok_or(JwtArgError::NotBase64url)?;
        let claims: serde_json::Value =
            serde_json::from_slice(&payload).map_err(|e| JwtArgError::NotJson(e.to_string()))?;
        let iss = claims["iss"].as_str();
        let sub = claims["sub"].as_str();
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
        let hex: String = digest.as_ref()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(GivenJwt {
            token: token.to_owned(),
            request_principal: iss.zip(sub).map(|(i, s)| format!("{i}/{s}")),
            fingerprint: format!("sha256:{hex}"),
        })
    }
}

/// The planned JWT probes (`ctx.plan.jwt_probes`), presenting the first
/// identity, appended to `target.authorization`.
pub async fn scan_jwt(
    prober: &Prober,
    target: &mut TargetObservation,
    ctx: &AuthzContext<'_>,
    identities: &[NamedIdentity],
) {
    if ctx.plan.jwt_probes.is_empty() {
        return;
    }
    let identity = identities.first().map(|i| &i.identity);
    let opts = HandshakeOptions {
        sni: ctx.sni.map(str::to_owned),
        ..HandshakeOptions::default()
    };
    let runs = ctx.plan.jwt_probes.iter().map(|planned| {
        let opts = &opts;
        async move {
            let token = match planned.token {
                TokenKind::Missing => None,
                TokenKind::Given => ctx.jwt.map(|g| g.token.clone()),
                kind => Some(mint(kind, &planned.issuer, planned.audience.as_deref())),
            };
            let request = with_token(planned, token.as_deref());
            let outcome = match prober.connect().await {
                Ok((stream, _permit)) => {
                    http_exchange(stream, opts, identity, &request, prober.timeouts().read).await
                }
                Err(e) => HttpOutcome::Failed {
                    reason: e.to_string(),
                },
            };
            observed(planned, ctx.jwt, &outcome)
        }
    });
    let probes = futures::future::join_all(runs).await;
    target.authorization.extend(probes);
}

/// The probe's request, its token (if any) where the rule reads it.
fn with_token(planned: &PlannedJwtProbe, token: Option<&str>) -> HttpRequest {
    let mut request = HttpRequest {
        method: planned.method.clone(),
        path: planned.path.clone(),
        host: planned.host.clone(),
        headers: Vec::new(),
    };
    let Some(token) = token else {
        return request;
    };
    match &planned.location {
        TokenLocation::Header { name, prefix } => {
            request
                .headers
                .push((name.clone(), format!("{prefix}{token}")));
        }
        TokenLocation::Query { name } => {
            let joiner = if request.path.contains('?') { '&' } else { '?' };
            request.path = format!("{}{joiner}{name}={token}", request.path);
        }
        TokenLocation::Cookie { name } => {
            request
                .headers
                .push(("Cookie".to_owned(), format!("{name}={token}")));
        }
    }
    request
}

fn observed(
    planned: &PlannedJwtProbe,
    given: Option<&GivenJwt>,
    outcome: &HttpOutcome,
) -> AuthzRequest {
    let crate::scan::http::ReportFields {
        status,
        kind,
        body_snippet: body,
        headers,
    } = outcome.report_fields();
    let token = match planned.token {
        TokenKind::Given => format!(
            "given {}",
            given.map(|g| g.fingerprint.as_str()).unwrap_or("?")
        ),
        kind => kind.name().to_owned(),
    };
    let expected = match planned.expected {
        JwtExpectation::Reject(body) => (Expected::Reject, format!(" (401 {body:?})")),
        JwtExpectation::Authorized(decision) => (super::authz::expected(decision), String::new()),
    };
    AuthzRequest {
        identity: Identity::from_name(&planned.identity),
        method: planned.method.clone(),
        path: planned.path.clone(),
        host: planned.host.clone(),
        token: Some(token),
        expected: expected.0,
        status,
        outcome: kind,
        body_snippet: body,
        headers,
        rule: planned.rule.clone(),
        declared_at: format!("{}:{}", planned.origin.file, planned.origin.line),
        evidence: format!(
            "{}{}; observed {}",
            planned.because,
            expected.1,
            outcome.describe()
        ),
    }
}

/// A token of `kind` (not `Missing` / `Given`) for `issuer`.
fn mint(kind: TokenKind, issuer: &str, audience: Option<&str>) -> String {
    if kind == TokenKind::Malformed {
        return "tlsposture.malformed-token".to_owned();
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (iat, exp) = if kind == TokenKind::Expired {
        (now - 7200, now - 3600)
    } else {
        (now - 60, now + 3600)
    };
    let mut claims = serde_json::json!({
        "iss": issuer,
        "sub": "tlsposture-probe",
        "iat": iat,
        "exp": exp,
    });
    if let Some(aud) = audience {
        claims["aud"] = serde_json::json!(aud);
    }
    let header = serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": "tlsposture-unknown"});
    let signing_input = format!(
        "{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(claims.to_string().as_bytes())
    );
    let signature = match made_up_key() {
        Some(key) => key
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map(|s| s.as_ref().to_vec())
            .unwrap_or_default(),
        None => Vec::new(),
    };
    format!("{signing_input}.{}", base64url(&signature))
}

/// One P-256 key per process, known to no JWKS.
fn made_up_key() -> Option<&'static EcdsaKeyPair> {
    static KEY: OnceLock<Option<EcdsaKeyPair>> = OnceLock::new();
    KEY.get_or_init(|| {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .ok()?;
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).ok()
    })
    .as_ref()
}

/// base64url without padding (RFC 7515).
fn base64url(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// base64url, padded or not (some issuers pad).
fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD_INDIFFERENT.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips() {
        for data in [&b""[..], b"f", b"fo", b"foo", b"foob", b"\xff\xfe\x00"] {
            assert_eq!(base64url_decode(&base64url(data)).as_deref(), Some(data));
        }
        assert_eq!(base64url(b"\xfb\xff"), "-_8");
    }

    #[test]
    fn minted_tokens_are_well_formed_and_carry_the_claims() {
        let t = mint(TokenKind::Expired, "issuer@example", Some("aud1"));
        let given = GivenJwt::parse(&t).expect("parses");
        assert_eq!(
            given.request_principal.as_deref(),
            Some("issuer@example/tlsposture-probe")
        );
        let payload: serde_json::Value = serde_json::from_slice(
            &base64url_decode(t.split('.').nth(1).expect("payload")).expect("b64"),
        )
        .expect("json");
        assert!(payload["exp"].as_i64() < Some(time::OffsetDateTime::now_utc().unix_timestamp()));
        assert_eq!(payload["aud"], "aud1");
        // ES256: a 64-byte fixed signature.
        let sig = base64url_decode(t.split('.').nth(2).expect("sig")).expect("b64");
        assert_eq!(sig.len(), 64);
        assert!(GivenJwt::parse("tlsposture.malformed-token").is_err());
        assert!(!format!("{given:?}").contains(&t));
    }
}
