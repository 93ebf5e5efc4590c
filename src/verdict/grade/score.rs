//! The numeric core of the rating guide: three category scores (0–100),
//! their weighted total and the letter it gives. Identical in the guide
//! and testssl.sh (anchors-2 §2.2).

use crate::wire::ProtocolVersion;

use super::Letter;

/// Category 1: one protocol version (SSL 2.0 scores 0 as in testssl.sh;
/// the 2009e guide said 20, which no longer changes a grade: SSL 2.0 caps F).
pub fn protocol(version: ProtocolVersion) -> u32 {
    match version {
        ProtocolVersion::Ssl2 => 0,
        ProtocolVersion::Ssl3 => 80,
        ProtocolVersion::Tls10 => 90,
        ProtocolVersion::Tls11 => 95,
        ProtocolVersion::Tls12 | ProtocolVersion::Tls13 => 100,
    }
}

/// Category 2 for an RSA, DSA or DH key of `bits` (testssl.sh
/// `set_key_str_score`, the non-EC branch).
pub fn finite_field_key(bits: u32) -> u32 {
    match bits {
        0..=511 => 20,
        512..=1023 => 40,
        1024..=2047 => 80,
        2048..=4095 => 90,
        _ => 100,
    }
}

/// Category 2 for an EC or EdDSA key of `bits` (testssl.sh
/// `set_key_str_score`, the EC branch: P-256 scores 100).
pub fn elliptic_key(bits: u32) -> u32 {
    match bits {
        0..=109 => 20,
        110..=122 => 40,
        123..=162 => 80,
        163..=224 => 90,
        _ => 100,
    }
}

/// Category 3 for a symmetric cipher of `bits` (as OpenSSL counts them:
/// 3DES is 168, see [`scored_bits`]).
pub fn cipher(bits: u32) -> u32 {
    match bits {
        0 => 0,
        1..=127 => 20,
        128..=255 => 80,
        _ => 100,
    }
}

/// The key size a suite is scored with: OpenSSL's `Enc=3DES(168)`, which
/// testssl.sh uses and which gives the score SSL Labs gives (it displays
/// 112 bits but scores 3DES like a 128-bit cipher, ssllabs-scan #259).
pub fn scored_bits(cipher_name: &str, bits: u16) -> u32 {
    if cipher_name.starts_with("3DES") {
        168
    } else {
        u32::from(bits)
    }
}

/// The weighted total: 0 when any category is 0, else each category
/// weighted with integer division and summed.
pub fn total(protocol: u32, key_exchange: u32, cipher: u32) -> u32 {
    if protocol == 0 || key_exchange == 0 || cipher == 0 {
        return 0;
    }
    protocol * 30 / 100 + key_exchange * 30 / 100 + cipher * 40 / 100
}

/// The letter a total gives before caps.
pub fn letter(total: u32) -> Letter {
    match total {
        80.. => Letter::A,
        65..=79 => Letter::B,
        50..=64 => Letter::C,
        35..=49 => Letter::D,
        20..=34 => Letter::E,
        _ => Letter::F,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worked_totals_of_anchors_2() {
        // Envoy defaults, RSA-2048: 30 + 27 + 36.
        assert_eq!(total(100, finite_field_key(2048), (100 + 80) / 2), 93);
        // ECDSA P-256: 30 + 30 + 36.
        assert_eq!(total(100, elliptic_key(256), 90), 96);
        // TLS 1.0 added: (100 + 90) / 2 = 95 → 28.
        assert_eq!(total((100 + 90) / 2, 90, 90), 91);
        assert_eq!(cipher(scored_bits("3DES-EDE-CBC", 112)), 80);
        assert_eq!(total(100, 90, 0), 0);
        assert_eq!(letter(80), Letter::A);
        assert_eq!(letter(79), Letter::B);
        assert_eq!(letter(19), Letter::F);
    }
}
