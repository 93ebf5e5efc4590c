//! What Envoy 1.40 (BoringSSL) decides with the downstream TLS context
//! istiod writes ([`crate::policy::istiod::tls`]): whether a client
//! certificate is really required, whether a presented one is verified,
//! and which listeners it refuses to load.
//!
//! Client certificates follow envoyproxy/envoy
//! `source/common/tls/cert_validator/default_validator.cc`
//! (`DefaultCertValidator::initializeSslContexts` and
//! `verifyCertAndUpdateStatus`, @0ce4e8aa; R-T6 in docs/istio-rules.md).
//! The curve and cipher names Envoy accepts were observed on the lab's
//! Envoy 1.40.0 (`envoy --mode validate`, BoringSSL build 9e558093) and are
//! re-checked by `tests/lab_envoy_decides.rs`.

use std::collections::HashSet;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Serialize;

use crate::policy::istiod::{DownstreamTls, FilterChain, Listener, TlsParams};
use crate::policy::TlsMode;

/// Whether the server asks for / insists on a client certificate, as
/// Envoy enforces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientCertExpectation {
    Required,
    Optional,
    NotRequested,
}

/// Envoy's handling of client certificates on one chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClientCertPolicy {
    pub client_cert: ClientCertExpectation,
    /// A presented certificate's chain must verify against the CA (a CA is
    /// configured and ACCEPT_UNTRUSTED is not).
    pub chain_verified: bool,
    /// SAN matchers or pins decide on their own (no CA: SIMPLE +
    /// subjectAltNames), so any self-signed certificate with a matching SAN
    /// passes.
    pub matchers_only: bool,
    /// `trust_chain_verification: ACCEPT_UNTRUSTED`: every presented
    /// certificate is accepted.
    pub accept_untrusted: bool,
}

/// How Envoy would treat client certificates on a chain it loads (a chain
/// whose validation context it refuses is [`chain_rejected`]: SAN matchers
/// without a CA, i.e. SIMPLE + credentialName + subjectAltNames, never
/// load on Envoy 1.40, so "matchers only" describes Envoy's code path, not a
/// listener that can exist).
///
/// `initializeSslContexts`: a trusted CA makes Envoy request a certificate;
/// a SAN matcher, hash or SPKI pin makes it request one and fail without
/// one; ACCEPT_UNTRUSTED requests one and never fails for its absence;
/// `require_client_certificate` adds "fail without one" on top
/// (`ServerContextImpl`), which only counts once a certificate is requested. `verifyCertAndUpdateStatus`: with a CA the chain
/// must verify and the matchers must not fail, without one the matchers
/// must succeed; ACCEPT_UNTRUSTED lets every certificate through.
pub fn client_cert(tls: Option<&DownstreamTls>) -> ClientCertPolicy {
    let none = ClientCertPolicy {
        client_cert: ClientCertExpectation::NotRequested,
        chain_verified: false,
        matchers_only: false,
        accept_untrusted: false,
    };
    let Some(tls) = tls else { return none };
    let v = tls.validation.as_ref();
    let has_ca = v.is_some_and(|v| v.ca.is_some());
    let accept_untrusted = v.is_some_and(|v| v.accept_untrusted);
    let matchers =
        v.is_some_and(|v| !v.san_exact.is_empty() || !v.spki.is_empty() || !v.hash.is_empty());
    let requested = has_ca || accept_untrusted || matchers;
    // BoringSSL ignores "fail if no peer cert" unless a certificate is
    // requested at all: `require_client_certificate` without a CA, matcher
    // or ACCEPT_UNTRUSTED requests nothing (observed on Envoy 1.40 (lab)).
    let fails_without =
        requested && (tls.require_client_certificate || (matchers && !accept_untrusted));
    ClientCertPolicy {
        client_cert: if fails_without {
            ClientCertExpectation::Required
        } else if requested {
            ClientCertExpectation::Optional
        } else {
            ClientCertExpectation::NotRequested
        },
        chain_verified: has_ca && !accept_untrusted,
        matchers_only: !has_ca && matchers && !accept_untrusted,
        accept_untrusted,
    }
}

/// Curve names Envoy 1.40 accepts in `ecdh_curves`, with the group each
/// names (aliases name the same group). Observed on Envoy 1.40 (lab).
pub const ENVOY_CURVES: &[(&str, u16)] = &[
    ("P-256", 0x0017),
    ("prime256v1", 0x0017),
    ("P-384", 0x0018),
    ("secp384r1", 0x0018),
    ("P-521", 0x0019),
    ("secp521r1", 0x0019),
    ("X25519", 0x001D),
    ("x25519", 0x001D),
    ("X25519MLKEM768", 0x11EC),
    ("MLKEM1024", 0x0202),
];

/// Curve names Envoy 1.40 refuses (the listener fails to load: "Failed to
/// initialize ECDH curves"), observed on Envoy 1.40 (lab). Names are
/// case-sensitive; BoringSSL removed P-224 and the Kyber draft. Any name
/// not in [`ENVOY_CURVES`] is refused the same way; these are the ones the
/// live test re-checks.
pub const ENVOY_REJECTED_CURVES: &[&str] = &[
    "P-224",
    "secp224r1",
    "secp256r1",
    "p-256",
    "X25519Kyber768Draft00",
    "X25519Kyber768",
    "SecP256r1MLKEM768",
    "P-999",
];

/// OpenSSL-style cipher names Envoy 1.40's BoringSSL accepts, observed on
/// Envoy 1.40 (lab) by loading every OpenSSL name in the registry one at a
/// time. BoringSSL also accepts the standard (IANA) name of each, and
/// `ALL`.
pub const ENVOY_CIPHERS: &[&str] = &[
    "AES128-GCM-SHA256",
    "AES128-SHA",
    "AES256-GCM-SHA384",
    "AES256-SHA",
    "DES-CBC3-SHA",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES128-SHA",
    "ECDHE-ECDSA-AES128-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-AES256-SHA",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-PSK-AES128-CBC-SHA",
    "ECDHE-PSK-AES256-CBC-SHA",
    "ECDHE-PSK-CHACHA20-POLY1305",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-SHA",
    "ECDHE-RSA-AES128-SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-SHA",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "PSK-AES128-CBC-SHA",
    "PSK-AES256-CBC-SHA",
];

/// Why Envoy refuses a curve list, if it does: an unknown name, or one
/// group named twice (also through an alias: `P-256`, `prime256v1`).
/// Observed on Envoy 1.40 (lab).
pub fn curves_rejected(curves: &[String]) -> Option<String> {
    let mut groups = HashSet::new();
    for name in curves.iter().filter(|c| !c.is_empty()) {
        let Some((_, group)) = ENVOY_CURVES.iter().find(|(n, _)| n == name) else {
            return Some(format!(
                "ecdh_curves {:?}: BoringSSL does not know the curve {name:?} (\"Failed to \
                 initialize ECDH curves\")",
                curves.join(":")
            ));
        };
        if !groups.insert(*group) {
            return Some(format!(
                "ecdh_curves {:?}: {name:?} names a group already in the list; BoringSSL \
                 refuses duplicates (\"Failed to initialize ECDH curves\")",
                curves.join(":")
            ));
        }
    }
    None
}

fn cipher_known(name: &str) -> bool {
    name == "ALL"
        || ENVOY_CIPHERS.contains(&name)
        || crate::registry::cipher_suite_by_name(name).is_some_and(|s| {
            s.iana == name
                && s.openssl
                    .as_deref()
                    .is_some_and(|o| ENVOY_CIPHERS.contains(&o))
        })
}

/// Why Envoy refuses a cipher list, if it does: a plain or grouped
/// (`[a|b]`) name BoringSSL does not know ("Failed to initialize cipher
/// suites"). Entries with an operator (`-x`, `!x`, `+x`) are not judged:
/// whether the list they leave is empty depends on BoringSSL's rule
/// expansion, which is not modelled. Observed on Envoy 1.40 (lab).
pub fn ciphers_rejected(ciphers: &[String]) -> Option<String> {
    for entry in ciphers {
        if entry.starts_with(['-', '!', '+']) || entry.is_empty() {
            continue;
        }
        let inner = entry
            .strip_prefix('[')
            .and_then(|e| e.strip_suffix(']'))
            .unwrap_or(entry);
        if let Some(bad) = inner.split('|').find(|n| !cipher_known(n.trim())) {
            return Some(format!(
                "cipher_suites: BoringSSL does not know {bad:?} (\"Failed to initialize \
                 cipher suites\")"
            ));
        }
    }
    None
}

/// Why Envoy refuses a validation context: SAN matchers without a trusted
/// CA ("SAN-based verification of peer certificates without trusted CA is
/// insecure and not allowed", also with ACCEPT_UNTRUSTED, also for the
/// deprecated `match_subject_alt_names` istiod writes — observed on Envoy
/// 1.40 (lab)); pins that do not decode (`default_validator.cc
/// initializeSslContexts`: a hash must be hex SHA-256, 64 digits or the
/// 95-character colon form, an SPKI pin base64 of 32 bytes). Pins alone
/// without a CA load.
fn validation_rejected(tls: &DownstreamTls) -> Option<String> {
    let v = tls.validation.as_ref()?;
    if !v.san_exact.is_empty() && v.ca.is_none() {
        return Some(format!(
            "subjectAltNames {:?} give a SAN matcher without a trusted CA (SIMPLE with \
             credentialName writes no CA): Envoy refuses it (\"SAN-based verification of peer \
             certificates without trusted CA is insecure and not allowed\")",
            v.san_exact
        ));
    }
    for hash in &v.hash {
        let hex: String = if hash.len() == 95 {
            hash.chars().filter(|c| *c != ':').collect()
        } else {
            hash.clone()
        };
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Some(format!(
                "verify_certificate_hash {hash:?} is not a hex-encoded SHA-256 (\"Invalid \
                 hex-encoded SHA-256\")"
            ));
        }
    }
    for spki in &v.spki {
        if STANDARD.decode(spki).map_or(true, |d| d.len() != 32) {
            return Some(format!(
                "verify_certificate_spki {spki:?} is not a base64-encoded SHA-256 (\"Invalid \
                 base64-encoded SHA-256\")"
            ));
        }
    }
    None
}

fn params_rejected(params: &TlsParams) -> Option<String> {
    if let Some(reason) = params.ecdh_curves.as_deref().and_then(curves_rejected) {
        return Some(reason);
    }
    if let Some(reason) = params.cipher_suites.as_deref().and_then(ciphers_rejected) {
        return Some(reason);
    }
    // A minimum above the maximum loads (observed on Envoy 1.40 (lab));
    // every handshake then fails instead.
    None
}

/// Why Envoy refuses one chain's TLS context, if it does.
pub fn chain_rejected(chain: &FilterChain) -> Option<String> {
    let tls = chain.tls.as_ref()?;
    tls.params
        .as_ref()
        .and_then(params_rejected)
        .or_else(|| validation_rejected(tls))
        .map(|r| format!("{}: {r}", chain.origin.label()))
}

/// Why Envoy refuses the whole listener, if it does: a chain whose TLS
/// context cannot be built fails the listener; two TLS chains that share a
/// server name (compared case-insensitively: `a.com` and `A.com` are
/// "multiple filter chains with overlapping matching rules"), or two
/// catch-all chains ("filter chain … has the same matching rules"), are
/// refused — observed on Envoy 1.40 (lab); Istio simulation "duplicate tls
/// gateway" (R-M1) is the cross-namespace case.
pub fn listener_rejected(listener: &Listener) -> Option<String> {
    if let Some(reason) = listener.chains.iter().find_map(chain_rejected) {
        return Some(reason);
    }
    // Only terminating chains: a passthrough server's chains come from its
    // VirtualService `tls` routes' SNI hosts (not read here), not from the
    // server's hosts.
    let tls_chains: Vec<&FilterChain> = listener
        .chains
        .iter()
        .filter(|c| c.mode.is_some_and(TlsMode::terminates))
        .collect();
    for (i, a) in tls_chains.iter().enumerate() {
        let names_a: HashSet<String> = a
            .server_names
            .iter()
            .map(|n| n.to_ascii_lowercase())
            .collect();
        let clash = tls_chains[..i].iter().find_map(|b| {
            if a.server_names.is_empty() && b.server_names.is_empty() {
                return Some((b, "no server names (both catch-all)".to_owned()));
            }
            b.server_names
                .iter()
                .find(|n| names_a.contains(&n.to_ascii_lowercase()))
                .map(|n| (b, format!("server name {n}")))
        });
        if let Some((b, what)) = clash {
            return Some(format!(
                "{} and {} both give port {} a filter chain with {what}; Envoy refuses \
                 filter chains with the same or overlapping matching rules (names compare \
                 case-insensitively)",
                b.origin.label(),
                a.origin.label(),
                listener.port
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::istiod::{CaSource, ValidationContext};

    fn ctx(require: bool, v: Option<ValidationContext>) -> DownstreamTls {
        DownstreamTls {
            require_client_certificate: require,
            validation: v,
            ..DownstreamTls::default()
        }
    }

    #[test]
    fn matchers_and_pins_require_a_certificate_unless_untrusted_is_accepted() {
        let ca = || Some(CaSource::Sds("cred-cacert".into()));
        let optional = client_cert(Some(&ctx(
            false,
            Some(ValidationContext {
                ca: ca(),
                ..Default::default()
            }),
        )));
        assert_eq!(optional.client_cert, ClientCertExpectation::Optional);
        assert!(optional.chain_verified);
        let with_san = client_cert(Some(&ctx(
            false,
            Some(ValidationContext {
                ca: ca(),
                san_exact: vec!["spiffe://a".into()],
                ..Default::default()
            }),
        )));
        assert_eq!(with_san.client_cert, ClientCertExpectation::Required);
        let simple_san = client_cert(Some(&ctx(
            false,
            Some(ValidationContext {
                san_exact: vec!["a.example".into()],
                ..Default::default()
            }),
        )));
        assert_eq!(simple_san.client_cert, ClientCertExpectation::Required);
        assert!(simple_san.matchers_only && !simple_san.chain_verified);
        let untrusted = client_cert(Some(&ctx(
            false,
            Some(ValidationContext {
                ca: ca(),
                san_exact: vec!["spiffe://a".into()],
                accept_untrusted: true,
                ..Default::default()
            }),
        )));
        assert_eq!(untrusted.client_cert, ClientCertExpectation::Optional);
        assert!(untrusted.accept_untrusted && !untrusted.chain_verified);
        assert_eq!(
            client_cert(Some(&ctx(true, None))).client_cert,
            ClientCertExpectation::NotRequested
        );
        assert_eq!(
            client_cert(None).client_cert,
            ClientCertExpectation::NotRequested
        );
    }

    #[test]
    fn curve_and_cipher_names_as_envoy_140_takes_them() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(curves_rejected(&s(&["X25519", "P-256", "secp384r1"])), None);
        assert!(curves_rejected(&s(&["P-256", "prime256v1"]))
            .unwrap()
            .contains("already"));
        assert!(curves_rejected(&s(&["P-224"]))
            .unwrap()
            .contains("does not know"));
        assert_eq!(
            ciphers_rejected(&s(&[
                "[ECDHE-RSA-AES128-GCM-SHA256|ECDHE-RSA-CHACHA20-POLY1305]",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "-AES128-SHA"
            ])),
            None
        );
        assert!(ciphers_rejected(&s(&["ECDHE-RSA-AES256-SHA384"])).is_some());
        assert!(ciphers_rejected(&s(&["AES128-SHA256"])).is_some());
    }
}
