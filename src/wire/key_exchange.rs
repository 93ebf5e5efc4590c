//! ServerKeyExchange parameters (RFC 4492 5.4, RFC 8422 5.4, RFC 5246
//! 7.4.3): the group or DH prime a server chose, and the signature scheme it
//! signed them with. The body's layout depends on the cipher suite's key
//! exchange, which only the caller knows, so the message is kept raw and
//! interpreted on request. Signatures are measured, never verified.

use super::codec::{Need, Reader};
use super::WireError;

/// A ServerKeyExchange message, body as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerKeyExchange {
    pub body: Vec<u8>,
}

/// What an ECDHE ServerKeyExchange says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcdheParams {
    /// The named group (e.g. 0x001d x25519).
    pub group: u16,
    pub public_len: usize,
    /// The TLS 1.2 SignatureScheme; `None` before TLS 1.2 (no scheme on the
    /// wire) and for anonymous suites (no signature at all).
    pub sig_scheme: Option<u16>,
}

/// What a DHE ServerKeyExchange says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DheParams {
    /// Size of the prime p in bits, leading zero bytes and bits ignored.
    pub prime_bits: usize,
    pub generator_len: usize,
    pub public_len: usize,
    /// As in [`EcdheParams::sig_scheme`].
    pub sig_scheme: Option<u16>,
    /// The prime itself, so callers can recognise well-known (shared) primes.
    pub prime: Vec<u8>,
}

const NAMED_CURVE: u8 = 3;

impl ServerKeyExchange {
    /// Reads the body as ECDHE parameters with a named curve.
    ///
    /// The signature part is recognised by its layout: TLS 1.2
    /// (`scheme(2) len(2) sig`), TLS 1.0/1.1 (`len(2) sig`) or none
    /// (anonymous suites). Fails on explicit curves, which no TLS 1.2+ client
    /// offers, and on any length that does not add up.
    pub fn as_ecdhe(&self) -> Result<EcdheParams, WireError> {
        let mut r = Reader::new(&self.body);
        if r.u8().need("ECParameters curve_type")? != NAMED_CURVE {
            return Err(WireError::Malformed(
                "ECDHE parameters without a named curve",
            ));
        }
        let group = r.u16().need("ECDHE named_curve")?;
        let public_len = r.sub_u8().need("ECDHE public point")?.left();
        if public_len == 0 {
            return Err(WireError::Malformed("empty ECDHE public point"));
        }
        let sig_scheme = read_signature_guessing(&mut r)?;
        Ok(EcdheParams {
            group,
            public_len,
            sig_scheme,
        })
    }

    /// Reads the body as DHE parameters (`p`, `g`, `Ys`, then the signature).
    /// `tls12` says whether the signature carries a SignatureScheme (TLS 1.2)
    /// or not (SSLv3 to TLS 1.1); an empty signature part means an anonymous
    /// suite.
    pub fn as_dhe(&self, tls12: bool) -> Result<DheParams, WireError> {
        let mut r = Reader::new(&self.body);
        let prime = r.sub_u16().need("DH prime")?.rest();
        let generator_len = r.sub_u16().need("DH generator")?.left();
        let public_len = r.sub_u16().need("DH public value")?.left();
        let prime_bits = bit_length(prime);
        if prime_bits == 0 || generator_len == 0 || public_len == 0 {
            return Err(WireError::Malformed("empty DH parameter"));
        }
        let sig_scheme = if r.is_empty() {
            None
        } else if tls12 {
            let scheme = r.u16().need("signature scheme")?;
            r.sub_u16().need("signature")?;
            Some(scheme)
        } else {
            r.sub_u16().need("signature")?;
            None
        };
        r.expect_empty("ServerKeyExchange")?;
        Ok(DheParams {
            prime_bits,
            generator_len,
            public_len,
            sig_scheme,
            prime: prime.to_vec(),
        })
    }
}

/// Reads what follows ECDHE parameters. The two signed layouts can only be
/// confused if a TLS 1.2 scheme code equals the signature length plus two,
/// and the next two bytes equal that length again; the TLS 1.2 reading wins.
fn read_signature_guessing(r: &mut Reader<'_>) -> Result<Option<u16>, WireError> {
    if r.is_empty() {
        return Ok(None);
    }
    let mut tls12 = r.clone();
    if let (Some(scheme), Some(_)) = (tls12.u16(), tls12.sub_u16()) {
        if tls12.is_empty() {
            *r = tls12;
            return Ok(Some(scheme));
        }
    }
    r.sub_u16().need("signature")?;
    r.expect_empty("ServerKeyExchange")?;
    Ok(None)
}

fn bit_length(big_endian: &[u8]) -> usize {
    match big_endian.iter().position(|&b| b != 0) {
        None => 0,
        Some(i) => {
            let rest = big_endian.len() - i - 1;
            let top = big_endian.get(i).copied().unwrap_or(0);
            rest * 8 + (8 - top.leading_zeros() as usize)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::codec::Writer;

    fn ecdhe(sig: &[u8]) -> ServerKeyExchange {
        let mut w = Writer::new();
        w.u8(3).u16(0x001d).u8_prefixed(|w| {
            w.bytes(&[9; 32]);
        });
        w.bytes(sig);
        ServerKeyExchange {
            body: w.into_inner(),
        }
    }

    #[test]
    fn ecdhe_signature_layouts() {
        let tls12 = ecdhe(&[0x08, 0x04, 0, 3, 1, 2, 3]).as_ecdhe().unwrap();
        assert_eq!(
            tls12,
            EcdheParams {
                group: 0x001d,
                public_len: 32,
                sig_scheme: Some(0x0804)
            }
        );
        assert_eq!(ecdhe(&[0, 3, 1, 2, 3]).as_ecdhe().unwrap().sig_scheme, None);
        assert_eq!(ecdhe(&[]).as_ecdhe().unwrap().sig_scheme, None);
        assert!(ecdhe(&[0, 3, 1, 2]).as_ecdhe().is_err());
        assert!(ecdhe(&[0x08, 0x04, 0, 3, 1, 2, 3, 4]).as_ecdhe().is_err());
        let explicit = ServerKeyExchange {
            body: vec![1, 0, 0],
        };
        assert!(explicit.as_ecdhe().is_err());
    }

    #[test]
    fn dhe_prime_bits_ignore_leading_zeros() {
        let mut w = Writer::new();
        w.u16_prefixed(|w| {
            w.bytes(&[0x00, 0x7f]).bytes(&[0xff; 127]);
        });
        w.u16_prefixed(|w| {
            w.u8(2);
        });
        w.u16_prefixed(|w| {
            w.bytes(&[5; 128]);
        });
        w.u16(0x0401).u16_prefixed(|w| {
            w.bytes(&[0; 256]);
        });
        let ske = ServerKeyExchange {
            body: w.into_inner(),
        };
        let p = ske.as_dhe(true).unwrap();
        assert_eq!(p.prime_bits, 1023);
        assert_eq!((p.generator_len, p.public_len), (1, 128));
        assert_eq!(p.sig_scheme, Some(0x0401));
        // Read as pre-1.2, the scheme bytes become a length that does not fit.
        assert!(ske.as_dhe(false).is_err());
    }

    #[test]
    fn bit_lengths() {
        for (bytes, bits) in [
            (&[][..], 0),
            (&[0, 0][..], 0),
            (&[1][..], 1),
            (&[0x80, 0][..], 16),
            (&[0, 0x0f, 0xff][..], 12),
        ] {
            assert_eq!(bit_length(bytes), bits);
        }
    }
}
