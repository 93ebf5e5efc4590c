//! RSA key transport as ROBOT (Böck, Somorovsky, Young 2018) probes it:
//! the five premaster encodings of the paper (and testssl.sh
//! `run_robot`), textbook RSA encryption of them under the server's key,
//! and the ClientKeyExchange / Finished-like records that carry them. A
//! server that is no padding oracle answers all five the same way, because
//! each ends in a Finished it cannot decrypt.

use num_bigint::BigUint;

use super::records::CONTENT_CHANGE_CIPHER_SPEC;

/// ClientKeyExchange (RFC 5246 7.4.7).
const CLIENT_KEY_EXCHANGE: u8 = 16;

/// One premaster encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RobotVariant {
    /// PKCS#1 v1.5 done right: 00 02, nonzero padding, 00, version, 46 bytes.
    Correct,
    /// The first two bytes are not 00 02 (41 17).
    WrongFirstBytes,
    /// 00 02 with the 00 separator too early (the premaster then has the
    /// wrong length).
    ZeroMisplaced,
    /// 00 02 and no 00 separator at all.
    NoZero,
    /// Correct padding, wrong client version in the premaster (02 02).
    WrongVersion,
}

impl RobotVariant {
    pub const ALL: [RobotVariant; 5] = [
        RobotVariant::Correct,
        RobotVariant::WrongFirstBytes,
        RobotVariant::ZeroMisplaced,
        RobotVariant::NoZero,
        RobotVariant::WrongVersion,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RobotVariant::Correct => "correct padding",
            RobotVariant::WrongFirstBytes => "wrong first bytes",
            RobotVariant::ZeroMisplaced => "0x00 misplaced",
            RobotVariant::NoZero => "no 0x00",
            RobotVariant::WrongVersion => "wrong version",
        }
    }

    /// The padded premaster for a `k`-byte modulus (`k` ≥ 64), built
    /// from `filler` (random bytes; zeros in it are replaced, so padding
    /// stays nonzero where PKCS#1 wants it).
    pub fn encode(self, k: usize, client_version: u16, filler: &[u8]) -> Vec<u8> {
        let mut m: Vec<u8> = (0..k)
            .map(|i| match filler.get(i % filler.len().max(1)).copied() {
                Some(0) | None => 0x5a,
                Some(b) => b,
            })
            .collect();
        if k < 64 {
            return m;
        }
        let sep = k - 49;
        m[0] = 0x00;
        m[1] = 0x02;
        m[sep] = 0x00;
        let [v0, v1] = client_version.to_be_bytes();
        m[sep + 1] = v0;
        m[sep + 2] = v1;
        match self {
            RobotVariant::Correct => {}
            RobotVariant::WrongFirstBytes => {
                m[0] = 0x41;
                m[1] = 0x17;
            }
            RobotVariant::ZeroMisplaced => {
                // Inside the padding, well after its 8-byte minimum for
                // real key sizes: the premaster comes out too long.
                m[sep] = 0x5a;
                m[sep / 2] = 0x00;
            }
            RobotVariant::NoZero => {
                m[sep] = 0x5a;
            }
            RobotVariant::WrongVersion => {
                m[sep + 1] = 0x02;
                m[sep + 2] = 0x02;
            }
        }
        m
    }
}

/// Textbook RSA: `m^e mod n`, big-endian, left-padded to the modulus size.
/// `None` when the key is degenerate (n of zero) or `m` ≥ n.
pub fn rsa_encrypt(modulus: &[u8], exponent: &[u8], m: &[u8]) -> Option<Vec<u8>> {
    let n = BigUint::from_bytes_be(modulus);
    let e = BigUint::from_bytes_be(exponent);
    let m = BigUint::from_bytes_be(m);
    if n.bits() == 0 || m >= n {
        return None;
    }
    let c = m.modpow(&e, &n).to_bytes_be();
    let k = modulus.iter().skip_while(|b| **b == 0).count();
    let mut out = vec![0u8; k.saturating_sub(c.len())];
    out.extend(c);
    Some(out)
}

/// ClientKeyExchange (TLS: u16-prefixed ciphertext), ChangeCipherSpec and
/// a Finished-like handshake record of `finished_len` bytes the server
/// cannot decrypt, as three records of `record_version`.
pub fn robot_records(record_version: u16, ciphertext: &[u8], finished_len: usize) -> Vec<u8> {
    let [v0, v1] = record_version.to_be_bytes();
    let mut cke = vec![CLIENT_KEY_EXCHANGE];
    let body_len = ciphertext.len() + 2;
    cke.extend_from_slice(&(body_len as u32).to_be_bytes()[1..]);
    cke.extend_from_slice(&(ciphertext.len() as u16).to_be_bytes());
    cke.extend_from_slice(ciphertext);
    let mut out = Vec::new();
    let mut rec = |ty: u8, body: &[u8]| {
        out.extend_from_slice(&[ty, v0, v1]);
        out.extend_from_slice(&(body.len() as u16).to_be_bytes());
        out.extend_from_slice(body);
    };
    rec(22, &cke);
    rec(CONTENT_CHANGE_CIPHER_SPEC, &[1]);
    rec(22, &vec![0x42; finished_len]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_differ_where_the_paper_says() {
        let filler: Vec<u8> = (0..=255).collect();
        let k = 256;
        let ok = RobotVariant::Correct.encode(k, 0x0303, &filler);
        assert_eq!(&ok[..2], &[0, 2]);
        assert!(ok[2..k - 49].iter().all(|b| *b != 0));
        assert_eq!(&ok[k - 49..k - 46], &[0, 3, 3]);
        let w = RobotVariant::WrongFirstBytes.encode(k, 0x0303, &filler);
        assert_eq!(&w[..2], &[0x41, 0x17]);
        let z = RobotVariant::ZeroMisplaced.encode(k, 0x0303, &filler);
        assert_eq!(z[(k - 49) / 2], 0);
        assert_ne!(z[k - 49], 0);
        let n = RobotVariant::NoZero.encode(k, 0x0303, &filler);
        assert!(n[2..].iter().all(|b| *b != 0));
        let v = RobotVariant::WrongVersion.encode(k, 0x0303, &filler);
        assert_eq!(&v[k - 48..k - 46], &[2, 2]);
        for variant in RobotVariant::ALL {
            assert_eq!(variant.encode(k, 0x0303, &filler).len(), k);
            assert_eq!(
                variant.encode(10, 0x0303, &[]).len(),
                10,
                "total for tiny keys"
            );
        }
    }

    #[test]
    fn textbook_rsa_on_a_toy_key() {
        // n = 61 * 53 = 3233, e = 17: 65^17 mod 3233 = 2790.
        let c = rsa_encrypt(&3233u16.to_be_bytes(), &[17], &[65]).unwrap();
        assert_eq!(c, 2790u16.to_be_bytes().to_vec());
        assert_eq!(rsa_encrypt(&[0], &[3], &[1]), None);
        assert_eq!(rsa_encrypt(&[5], &[3], &[9]), None, "m ≥ n");
        let r = robot_records(0x0303, &[1, 2, 3], 40);
        assert_eq!(&r[..11], &[22, 3, 3, 0, 9, 16, 0, 0, 5, 0, 3]);
        assert_eq!(&r[14..20], &[20, 3, 3, 0, 1, 1]);
        assert_eq!(r.len(), 14 + 6 + 5 + 40);
    }
}
