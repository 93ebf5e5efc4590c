//! Properties of the battery's wire pieces: the ROBOT premaster variants
//! always fill the modulus and keep PKCS#1's shape where the paper says,
//! textbook RSA is total (any key, any message), and a ciphertext is never
//! longer than the modulus.

use proptest::prelude::*;
use tlsposture::wire::records::{change_cipher_spec, heartbeat_request};
use tlsposture::wire::rsa_kx::{robot_records, rsa_encrypt, RobotVariant};

proptest! {
    #[test]
    fn premasters_fill_the_modulus(k in prop_oneof![0usize..70, 60usize..600], filler in proptest::collection::vec(any::<u8>(), 0..64), version in any::<u16>()) {
        for variant in RobotVariant::ALL {
            let m = variant.encode(k, version, &filler);
            prop_assert_eq!(m.len(), k);
            if k >= 64 {
                let header_ok = m[0] == 0 && m[1] == 2;
                prop_assert_eq!(header_ok, variant != RobotVariant::WrongFirstBytes);
                let zero_at_sep = m[k - 49] == 0;
                let zeros_before = m[2..k - 49].iter().filter(|b| **b == 0).count();
                prop_assert_eq!(zeros_before, usize::from(variant == RobotVariant::ZeroMisplaced));
                prop_assert_eq!(
                    zero_at_sep,
                    !matches!(variant, RobotVariant::ZeroMisplaced | RobotVariant::NoZero)
                );
            }
        }
    }

    #[test]
    fn textbook_rsa_is_total(n in proptest::collection::vec(any::<u8>(), 0..80), e in proptest::collection::vec(any::<u8>(), 0..4), m in proptest::collection::vec(any::<u8>(), 0..80)) {
        if let Some(c) = rsa_encrypt(&n, &e, &m) {
            let k = n.iter().skip_while(|b| **b == 0).count();
            prop_assert!(c.len() <= k.max(1));
        }
    }

    #[test]
    fn records_have_their_stated_lengths(c in proptest::collection::vec(any::<u8>(), 0..600), fin in 0usize..100, v in any::<u16>(), claim in any::<u16>()) {
        let r = robot_records(v, &c, fin);
        let mut at = 0;
        let mut count = 0;
        while at + 5 <= r.len() {
            let len = usize::from(u16::from_be_bytes([r[at + 3], r[at + 4]]));
            at += 5 + len;
            count += 1;
        }
        prop_assert_eq!((at, count), (r.len(), 3));
        prop_assert_eq!(heartbeat_request(v, claim).len(), 8);
        prop_assert_eq!(change_cipher_spec(v).len(), 6);
    }
}
