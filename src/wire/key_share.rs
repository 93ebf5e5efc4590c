//! Real key shares for the groups a scanner offers, made with `aws-lc-rs`.
//!
//! This is the one place in `wire` that touches the OS random number
//! generator (for key pairs and hello randoms); it opens no sockets and keeps
//! no state. The private halves are dropped at once: the scanner reads the
//! server's answer to a hello and never completes a key exchange. Servers do
//! validate key shares (point on curve, ML-KEM key well-formed), which is why
//! these are real keys and not random bytes.

use aws_lc_rs::agreement::{self, PrivateKey};
use aws_lc_rs::kem::{self, DecapsulationKey};

use super::hello::KeyShareEntry;

/// Named group code points (IANA "TLS Supported Groups").
pub mod group {
    pub const SECP256R1: u16 = 0x0017;
    pub const SECP384R1: u16 = 0x0018;
    pub const SECP521R1: u16 = 0x0019;
    pub const X25519: u16 = 0x001d;
    pub const X448: u16 = 0x001e;
    pub const SECP256R1_MLKEM768: u16 = 0x11eb;
    pub const X25519_MLKEM768: u16 = 0x11ec;
    pub const SECP384R1_MLKEM1024: u16 = 0x11ed;
    /// X25519Kyber768Draft00 (Chrome 124 to 130), withdrawn.
    pub const X25519_KYBER768_DRAFT00: u16 = 0x6399;
}

/// A fresh key share for `group`, or `None` when this build cannot make one
/// (X448, finite-field groups, unknown code points) or the RNG failed.
///
/// EC points are uncompressed (`04 || X || Y`). Hybrid groups follow
/// draft-ietf-tls-ecdhe-mlkem: X25519MLKEM768 is the ML-KEM-768
/// encapsulation key then the X25519 key (1216 bytes); the SecP*MLKEM groups
/// put the EC point first (1249 and 1665 bytes). X25519Kyber768Draft00 is
/// X25519 then a 1184-byte Kyber-768 key (1216 bytes).
pub fn generate_key_share(group: u16) -> Option<KeyShareEntry> {
    let public = match group {
        group::X25519 => ecdh_public(&agreement::X25519)?,
        group::SECP256R1 => ecdh_public(&agreement::ECDH_P256)?,
        group::SECP384R1 => ecdh_public(&agreement::ECDH_P384)?,
        group::SECP521R1 => ecdh_public(&agreement::ECDH_P521)?,
        group::X25519_MLKEM768 => [
            mlkem_public(&kem::ML_KEM_768)?,
            ecdh_public(&agreement::X25519)?,
        ]
        .concat(),
        // Kyber-768 round 3 public keys have ML-KEM-768's encoding (t, rho;
        // 1184 bytes), so an ML-KEM key is a well-formed Kyber key share;
        // X25519 comes first in this draft.
        group::X25519_KYBER768_DRAFT00 => [
            ecdh_public(&agreement::X25519)?,
            mlkem_public(&kem::ML_KEM_768)?,
        ]
        .concat(),
        group::SECP256R1_MLKEM768 => [
            ecdh_public(&agreement::ECDH_P256)?,
            mlkem_public(&kem::ML_KEM_768)?,
        ]
        .concat(),
        group::SECP384R1_MLKEM1024 => [
            ecdh_public(&agreement::ECDH_P384)?,
            mlkem_public(&kem::ML_KEM_1024)?,
        ]
        .concat(),
        _ => return None,
    };
    Some(KeyShareEntry { group, public })
}

/// 32 fresh random bytes for a hello random.
///
/// # Panics
/// If the OS RNG fails, which on Linux means the process cannot do any
/// cryptography at all.
pub fn fresh_random() -> [u8; 32] {
    let mut out = [0u8; 32];
    aws_lc_rs::rand::fill(&mut out).expect("OS random number generator failed");
    out
}

fn ecdh_public(alg: &'static agreement::Algorithm) -> Option<Vec<u8>> {
    let key = PrivateKey::generate(alg).ok()?;
    Some(key.compute_public_key().ok()?.as_ref().to_vec())
}

fn mlkem_public(alg: &'static kem::Algorithm<kem::AlgorithmId>) -> Option<Vec<u8>> {
    let key = DecapsulationKey::generate(alg).ok()?;
    Some(
        key.encapsulation_key()
            .ok()?
            .key_bytes()
            .ok()?
            .as_ref()
            .to_vec(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_have_the_lengths_servers_expect() {
        let cases = [
            (group::X25519, 32),
            (group::SECP256R1, 65),
            (group::SECP384R1, 97),
            (group::SECP521R1, 133),
            (group::X25519_MLKEM768, 1184 + 32),
            (group::SECP256R1_MLKEM768, 65 + 1184),
            (group::SECP384R1_MLKEM1024, 97 + 1568),
            (group::X25519_KYBER768_DRAFT00, 32 + 1184),
        ];
        for (g, len) in cases {
            let share = generate_key_share(g).unwrap_or_else(|| panic!("group {g:#06x}"));
            assert_eq!(share.group, g);
            assert_eq!(share.public.len(), len, "group {g:#06x}");
        }
        assert_eq!(generate_key_share(group::SECP256R1).unwrap().public[0], 4);
        assert_eq!(
            generate_key_share(group::SECP256R1_MLKEM768)
                .unwrap()
                .public[0],
            4
        );
    }

    #[test]
    fn shares_are_fresh_and_unknown_groups_are_none() {
        let a = generate_key_share(group::X25519).unwrap();
        let b = generate_key_share(group::X25519).unwrap();
        assert_ne!(a.public, b.public);
        assert_eq!(generate_key_share(group::X448), None);
        assert_eq!(generate_key_share(0x0100), None);
        assert_eq!(generate_key_share(0x0a0a), None);
        assert_ne!(fresh_random(), fresh_random());
    }
}
