//! Where each cap, warning and score comes from: the SSL Labs rating guide
//! (2009r and the revisions it builds on) and the line of testssl.sh's
//! `run_rating` family that implements it (testssl.sh 3.3dev at 9fdf8028,
//! as anchors-2 §2.3 numbers them; the testssl 3.0.8 installed here has no
//! rating). A report names the rule next to each reason, so a reader can
//! check the decision against its source.

pub const SCORE: &str = "rating guide: protocol (best+worst)/2, key exchange = weakest of certificate key and DH group, cipher (strongest+weakest)/2; weighted 30/30/40 with integer division; any category 0 makes the total 0 (testssl.sh run_rating, set_key_str_score, set_ciph_str_score)";

pub const NAME_MISMATCH: &str =
    "rating guide: certificate name mismatch → M (testssl.sh line 10103)";
pub const UNTRUSTED: &str = "rating guide: certificate not trusted → T (testssl.sh line 10218)";
pub const EXPIRED: &str = "rating guide: expired certificate → T (testssl.sh line 10268)";
pub const SELF_SIGNED: &str = "rating guide: self-signed certificate → T (testssl.sh line 10554)";
pub const SHA1_LEAF: &str =
    "rating guide 2009e on: SHA-1 certificate signature → T (testssl.sh line 9664)";
pub const MD5_LEAF: &str =
    "rating guide 2009e: MD2/MD5 certificate signature insecure → F (testssl.sh lines 9749, 9758)";

pub const SSL2: &str = "rating guide 2009c: SSL 2.0 offered → F (testssl.sh lines 5887-5918)";
pub const SSL3_BEST: &str = "testssl.sh line 24913: SSL 3.0 is the best protocol → F";
pub const SSL3: &str = "SSL 3.0 offered → B (testssl.sh line 5946)";
pub const TLS10_11: &str =
    "rating guide 2009q (2020-01-31): TLS 1.0 or 1.1 offered → B (testssl.sh lines 6016-6148)";
pub const NO_TLS12: &str =
    "Qualys 2015-05-22: no TLS 1.2 (and not TLS 1.3) → C (testssl.sh lines 6226-6270)";
pub const NO_TLS13: &str = "rating guide 2009r (2025-05-16): TLS 1.3 not supported → warning, grade at most A- (testssl.sh lines 6381-6417)";

pub const KX_INSECURE: &str = "rating guide: key exchange score ≤ 40 (key or DH group < 1024 bits, export or anonymous) → F (testssl.sh line 24940)";
pub const KX_WEAK: &str = "Qualys 2014-01-21: key exchange score ≤ 80 (key or DH group < 2048 bits) → B (testssl.sh line 24942)";

pub const CIPHER_WEAK: &str =
    "rating guide: suite weaker than 112 bits → F (testssl.sh set_ciph_str_score, line 1240)";
pub const EXPORT: &str = "export suite offered → F (testssl.sh line 6743)";
pub const RC4: &str = "Qualys 2015-05-22: RC4 offered → B (testssl.sh line 20509)";
pub const RC4_TLS11: &str =
    "Qualys 2015-05-22: RC4 with TLS 1.1 or later → C (testssl.sh line 20427)";
pub const TRIPLE_DES: &str = "Qualys 2016-11-16: 3DES negotiated with TLS 1.1 or later → C, decided from the client simulation (anchors-2 §2.4; testssl.sh run_sweet32 line 18840 caps whenever offered)";
pub const TRIPLE_DES_OFFERED: &str = "testssl.sh run_sweet32 line 18840: 64-bit block suite offered with TLS 1.1 or later → C (used because no client simulation ran)";
pub const NO_FS: &str = "Qualys 2018-02-02: no forward secrecy with clients that support it → B, decided from the client simulation: a client sharing a forward-secret suite with the server is given one without (anchors-2 §2.4; testssl.sh line 11375 caps only when none is offered)";
pub const NO_FS_OFFERED: &str = "Qualys 2018-02-02: no forward secrecy → B; no forward-secret suite is offered, so no client gets one (testssl.sh line 11375)";
pub const NO_AEAD: &str = "Qualys 2018-02-02: no AEAD with clients that support it → B, decided from the client simulation: a client sharing a forward-secret AEAD suite with the server is given a non-AEAD one (anchors-2 §2.4; testssl.sh line 6744 caps only when none is offered)";
pub const NO_AEAD_OFFERED: &str = "Qualys 2018-02-02: no AEAD → B; no AEAD suite is offered, so no client gets one (testssl.sh line 6744)";

pub const HEARTBLEED: &str = "rating guide: Heartbleed → F (testssl.sh line 17716)";
pub const CCS: &str = "rating guide: CCS injection (CVE-2014-0224) → F (testssl.sh line 17876)";
pub const TICKETBLEED: &str = "Ticketbleed (CVE-2016-9244) → F (testssl.sh line 18186)";
pub const DROWN: &str = "rating guide: DROWN → F (testssl.sh line 19659)";
pub const ROBOT: &str = "Qualys 2018-02-02: ROBOT → F (testssl.sh line 21243)";
pub const CRIME: &str = "rating guide: CRIME (TLS compression) → C (testssl.sh line 18548)";
pub const POODLE: &str = "POODLE (SSL 3.0 with CBC) → C (testssl.sh lines 18927, 19184)";
pub const SECURE_RENEGOTIATION: &str =
    "rating guide: secure renegotiation (RFC 5746) not supported → warning (testssl.sh line 18304)";
pub const INSECURE_RENEGOTIATION: &str = "rating guide 2009c: insecure renegotiation → F (testssl.sh documents it as not implemented); read here as no RFC 5746 and client-initiated renegotiation accepted";

pub const HSTS_SHORT: &str = "rating guide 2009r: HSTS disabled or invalid → warning, A- (testssl.sh lines 3029-3050; HSTS_MIN 180 days, line 217)";
pub const A_PLUS: &str = "Qualys 2014-01-21: A+ needs no warnings and HSTS with max-age ≥ 180 days; absent HSTS keeps the best grade at A (SSL Labs; testssl.sh 3.3dev awards A+ without it, anchors-2 §2.4)";
pub const A_MINUS: &str = "rating guide 2009e: an A with warnings is A- (testssl.sh run_rating)";
