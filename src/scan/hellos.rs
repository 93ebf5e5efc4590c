//! The hellos the protocol scan sends: one per version, each offering every
//! suite the registry defines for that version, every group and every
//! signature scheme, so a server that accepts only one odd suite is still
//! found.

use crate::registry;
use crate::wire::{self, ClientHelloSpec, KeyShareEntry, ProtocolVersion};

/// Groups a TLS 1.3 hello carries key shares for, as modern browsers send
/// them: the ML-KEM hybrid Envoy prefers, then x25519 and P-256, so nearly
/// every server answers with a ServerHello rather than a HelloRetryRequest.
pub const OFFERED_KEY_SHARES: [u16; 3] = [0x11EC, 0x001d, 0x0017];

/// Groups listed first, in the order modern clients send them; the rest of
/// the registry follows so no server-only group is missed.
const PREFERRED_GROUPS: [u16; 5] = [0x11EC, 0x001d, 0x0017, 0x0018, 0x0019];

/// How much a hello offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelloSize {
    /// Every suite for the version, every group and signature scheme.
    Full,
    /// [`HelloSize::Full`] with an empty TLS 1.3 key_share, the protocol
    /// scan's hello: a TLS 1.3 server answers with a HelloRetryRequest,
    /// which names its version and suite as well as a ServerHello would,
    /// but costs it no key exchange and no signature (with an RSA
    /// certificate, the signatures were most of a gateway's CPU in a fleet
    /// scan) and costs the scanner no key generation.
    Broad,
    /// At most [`COMPACT_SUITES`] suites (strongest and most common first,
    /// as the registry orders them) and the common groups only: for servers
    /// and middleboxes that drop large hellos or more than 128 suites.
    Compact,
}

/// Suites in a compact hello: under the 128-suite limit some stacks have.
pub const COMPACT_SUITES: usize = 120;

/// The hello (record bytes) that tests whether `version` is offered.
pub fn hello_for(
    version: ProtocolVersion,
    sni: Option<&str>,
    size: HelloSize,
) -> Result<Vec<u8>, wire::EncodeError> {
    if version == ProtocolVersion::Ssl2 {
        let kinds: Vec<u32> = registry::sslv2_cipher_kinds()
            .iter()
            .map(|k| k.code)
            .collect();
        let mut challenge = [0u8; 16];
        challenge.copy_from_slice(&wire::fresh_random()[..16]);
        return wire::encode_sslv2_client_hello(&kinds, &challenge);
    }
    let mut suites: Vec<u16> = registry::suites_for(version)
        .iter()
        .map(|s| s.code)
        .collect();
    let mut key_shares: Vec<KeyShareEntry> = Vec::new();
    if version == ProtocolVersion::Tls13 {
        // A server capped at TLS 1.2 answers from the legacy version (or
        // from 1.2 in supported_versions, below): offering the TLS 1.2
        // suites too lets the probe see that downgrade instead of a bare
        // handshake_failure.
        suites.extend(
            registry::suites_for(ProtocolVersion::Tls12)
                .iter()
                .map(|s| s.code),
        );
        key_shares = key_shares_for(size)
            .iter()
            .filter_map(|g| wire::generate_key_share(*g))
            .collect();
    }
    let groups = match size {
        HelloSize::Full | HelloSize::Broad => offered_groups(),
        HelloSize::Compact => {
            suites.truncate(COMPACT_SUITES);
            PREFERRED_GROUPS.to_vec()
        }
    };
    // Secure renegotiation is signalled once: by the renegotiation_info
    // extension from TLS 1.0 on, by the SCSV in an SSLv3 hello (no
    // extensions). wolfSSL 5.5 answers handshake_failure to both at once.
    if version == ProtocolVersion::Ssl3 {
        suites.push(registry::TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
    }
    let mut spec = ClientHelloSpec::for_version(
        version,
        suites,
        sni,
        key_shares,
        groups,
        // Modern schemes first: wolfSSL 5.5 reads only the head of a long
        // list, and in the registry's order that head is MD5 and SHA-1.
        super::removal::all_sigalgs(),
    );
    if version == ProtocolVersion::Tls13 {
        // Listing 1.2 too lets a 1.3-aware server capped at 1.2 answer with
        // a visible downgrade rather than a bare protocol_version alert.
        spec = spec.with_supported_versions(vec![0x0304, 0x0303]);
    }
    wire::encode_client_hello(&spec)
}

/// Why `hello` (the answer to `hello_for(version, _, size)`) picks what
/// that hello never offered, if it does: a suite, a key share's group or a
/// HelloRetryRequest's group. No client would go on with such an answer
/// (RFC 8446 4.1.3/4.1.4: illegal_parameter), so it is a broken answer,
/// not a version offered.
pub fn unoffered_pick(
    version: ProtocolVersion,
    size: HelloSize,
    hello: &wire::ServerHello,
    hello_retry: bool,
) -> Option<String> {
    if version == ProtocolVersion::Ssl2 {
        return None;
    }
    let mut suites: Vec<u16> = registry::suites_for(version)
        .iter()
        .map(|s| s.code)
        .collect();
    if version == ProtocolVersion::Tls13 {
        suites.extend(
            registry::suites_for(ProtocolVersion::Tls12)
                .iter()
                .map(|s| s.code),
        );
    }
    let groups = match size {
        HelloSize::Full | HelloSize::Broad => offered_groups(),
        HelloSize::Compact => {
            suites.truncate(COMPACT_SUITES);
            PREFERRED_GROUPS.to_vec()
        }
    };
    if !suites.contains(&hello.cipher_suite) {
        return Some(format!(
            "picked suite 0x{:04X}, which the hello did not offer",
            hello.cipher_suite
        ));
    }
    let tls13 = hello.negotiated_version() == 0x0304;
    match hello.key_share_group() {
        Some(g) if tls13 && hello_retry && !groups.contains(&g) => Some(format!(
            "asked to retry with group 0x{g:04X}, which the hello did not offer"
        )),
        Some(g) if tls13 && !hello_retry && !key_shares_for(size).contains(&g) => Some(format!(
            "answered a key share for group 0x{g:04X}, which the hello did not send"
        )),
        _ => None,
    }
}

/// The groups a TLS 1.3 hello of `size` sends key shares for.
fn key_shares_for(size: HelloSize) -> &'static [u16] {
    match size {
        HelloSize::Full | HelloSize::Compact => &OFFERED_KEY_SHARES,
        HelloSize::Broad => &[],
    }
}

fn offered_groups() -> Vec<u16> {
    let mut groups: Vec<u16> = PREFERRED_GROUPS.to_vec();
    groups.extend(
        registry::named_groups()
            .iter()
            .map(|g| g.code)
            .filter(|c| !PREFERRED_GROUPS.contains(c)),
    );
    groups
}
