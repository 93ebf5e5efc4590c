//! Key-exchange groups rustls's aws-lc-rs provider lacks, for the full
//! handshakes (`tls_client`): secp521r1 (aws-lc-rs's own ECDH) and the RFC
//! 7919 FFDHE groups (modular exponentiation with num-bigint). Without
//! them a server whose groups exclude X25519, P-256 and P-384 gets no
//! certificate, ALPN or mTLS probe from a TLS 1.3 handshake, and the
//! failure was read as the server's refusal (issue 14, defect 2).
//!
//! A scanner's handshake needs no constant-time arithmetic: the secret
//! protects nothing but one probe. X448 stays out: neither aws-lc-rs nor
//! rustls has it; such a server is reached by raw hellos only.

use std::fmt;

use aws_lc_rs::agreement;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use num_bigint::BigUint;
use rustls::crypto::{ActiveKeyExchange, SharedSecret, SupportedKxGroup};
use rustls::ffdhe_groups::{self, FfdheGroup};
use rustls::{Error, NamedGroup, PeerMisbehaved};

/// secp521r1, then FFDHE 2048 … 8192, as extra groups for a client config.
pub static EXTRA_KX_GROUPS: &[&dyn SupportedKxGroup] = &[
    &SECP521R1,
    &Ffdhe {
        name: NamedGroup::FFDHE2048,
        group: ffdhe_groups::FFDHE2048,
    },
    &Ffdhe {
        name: NamedGroup::FFDHE3072,
        group: ffdhe_groups::FFDHE3072,
    },
    &Ffdhe {
        name: NamedGroup::FFDHE4096,
        group: ffdhe_groups::FFDHE4096,
    },
    &Ffdhe {
        name: NamedGroup::FFDHE6144,
        group: ffdhe_groups::FFDHE6144,
    },
    &Ffdhe {
        name: NamedGroup::FFDHE8192,
        group: ffdhe_groups::FFDHE8192,
    },
];

/// Whether a full handshake (`tls_client`) can negotiate `group`: the
/// provider's groups and these.
pub fn full_handshakes_support(group: u16) -> bool {
    rustls::crypto::aws_lc_rs::ALL_KX_GROUPS
        .iter()
        .chain(EXTRA_KX_GROUPS)
        .any(|g| u16::from(g.name()) == group)
}

static SECP521R1: Secp521r1 = Secp521r1;

struct Secp521r1;

impl fmt::Debug for Secp521r1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("secp521r1")
    }
}

impl SupportedKxGroup for Secp521r1 {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        let rng = SystemRandom::new();
        let private = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P521, &rng)
            .map_err(|_| Error::General("P-521 key generation failed".into()))?;
        let public = private
            .compute_public_key()
            .map_err(|_| Error::General("P-521 public key failed".into()))?
            .as_ref()
            .to_vec();
        Ok(Box::new(Secp521r1Exchange { private, public }))
    }

    fn ffdhe_group(&self) -> Option<FfdheGroup<'static>> {
        None
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::secp521r1
    }
}

struct Secp521r1Exchange {
    private: agreement::EphemeralPrivateKey,
    public: Vec<u8>,
}

impl ActiveKeyExchange for Secp521r1Exchange {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, Error> {
        // An uncompressed point, as RFC 8446 4.2.8.2 requires.
        if peer.first() != Some(&0x04) {
            return Err(PeerMisbehaved::InvalidKeyShare.into());
        }
        let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P521, peer);
        agreement::agree_ephemeral(
            self.private,
            peer,
            Error::from(PeerMisbehaved::InvalidKeyShare),
            |secret| Ok(SharedSecret::from(secret)),
        )
    }

    fn pub_key(&self) -> &[u8] {
        &self.public
    }

    fn ffdhe_group(&self) -> Option<FfdheGroup<'static>> {
        None
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::secp521r1
    }
}

/// One RFC 7919 group.
struct Ffdhe {
    name: NamedGroup,
    group: FfdheGroup<'static>,
}

impl fmt::Debug for Ffdhe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.name)
    }
}

impl SupportedKxGroup for Ffdhe {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        let p = BigUint::from_bytes_be(self.group.p);
        let g = BigUint::from_bytes_be(self.group.g);
        // A private exponent of 512 bits: twice the strength of the
        // largest group (RFC 7919 §5.2 asks for at least twice).
        let mut bytes = [0u8; 64];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| Error::General("FFDHE key generation failed".into()))?;
        let x = BigUint::from_bytes_be(&bytes);
        let public = left_pad(&g.modpow(&x, &p).to_bytes_be(), self.group.p.len());
        Ok(Box::new(FfdheExchange {
            name: self.name,
            group: self.group,
            x,
            public,
        }))
    }

    fn ffdhe_group(&self) -> Option<FfdheGroup<'static>> {
        Some(self.group)
    }

    fn name(&self) -> NamedGroup {
        self.name
    }
}

struct FfdheExchange {
    name: NamedGroup,
    group: FfdheGroup<'static>,
    x: BigUint,
    public: Vec<u8>,
}

impl ActiveKeyExchange for FfdheExchange {
    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SharedSecret, Error> {
        let p = BigUint::from_bytes_be(self.group.p);
        let y = BigUint::from_bytes_be(peer);
        // RFC 7919 §5.1: 1 < y < p - 1, else the share is invalid.
        let one = BigUint::from(1u8);
        if peer.len() != self.group.p.len() || y <= one || y >= &p - &one {
            return Err(PeerMisbehaved::InvalidKeyShare.into());
        }
        let z = left_pad(&y.modpow(&self.x, &p).to_bytes_be(), self.group.p.len());
        Ok(SharedSecret::from(z))
    }

    fn pub_key(&self) -> &[u8] {
        &self.public
    }

    fn ffdhe_group(&self) -> Option<FfdheGroup<'static>> {
        Some(self.group)
    }

    fn group(&self) -> NamedGroup {
        self.name
    }
}

/// `bytes` left-padded with zeros to `len` (RFC 8446 7.4.1: the shared
/// secret and the share have the prime's length).
fn left_pad(bytes: &[u8], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len.saturating_sub(bytes.len())];
    out.extend_from_slice(bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two FFDHE parties agree, and a share outside 1 < y < p-1 is refused.
    #[test]
    fn ffdhe_parties_agree_and_bad_shares_are_refused() {
        let group = &EXTRA_KX_GROUPS[1];
        let a = group.start().unwrap();
        let b = group.start().unwrap();
        let (a_pub, b_pub) = (a.pub_key().to_vec(), b.pub_key().to_vec());
        assert_eq!(a_pub.len(), 256);
        let sa = a.complete(&b_pub).unwrap();
        let sb = b.complete(&a_pub).unwrap();
        assert_eq!(sa.secret_bytes(), sb.secret_bytes());
        let mut one = vec![0u8; 256];
        one[255] = 1;
        assert!(group.start().unwrap().complete(&one).is_err());
        assert!(group.start().unwrap().complete(&[0xff; 256]).is_err());
        assert!(group.start().unwrap().complete(&[2; 10]).is_err());
    }

    #[test]
    fn full_handshakes_support_the_extra_groups_but_not_x448() {
        for group in [0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x0104, 0x11ec] {
            assert!(full_handshakes_support(group), "0x{group:04X}");
        }
        assert!(!full_handshakes_support(0x001e), "x448");
    }

    #[test]
    fn p521_parties_agree() {
        let a = SECP521R1.start().unwrap();
        let b = SECP521R1.start().unwrap();
        let (a_pub, b_pub) = (a.pub_key().to_vec(), b.pub_key().to_vec());
        assert_eq!(a_pub.len(), 133);
        assert_eq!(
            a.complete(&b_pub).unwrap().secret_bytes(),
            b.complete(&a_pub).unwrap().secret_bytes()
        );
        assert!(SECP521R1.start().unwrap().complete(&[0x02; 67]).is_err());
    }
}
