//! Differential checks of the cipher suite registry against the tools on
//! this machine: every suite the local OpenSSL knows must be in the registry
//! with the same OpenSSL name, minimum version and core attributes, and
//! testssl.sh's cipher mapping must agree except where a difference is
//! listed and explained below. These read tool output only; they never
//! touch the network.

use std::process::Command;

use tlsposture::registry::{cipher_suite, cipher_suites, CipherSuite};
use tlsposture::wire::ProtocolVersion;

/// Runs `openssl` with `args`; `None` if OpenSSL rejects the arguments (e.g.
/// a provider this build lacks). A missing binary fails the test: these
/// checks are the registry's evidence and must not pass vacuously.
fn openssl(args: &[&str]) -> Option<String> {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `openssl` ({e}): apt-get install openssl"));
    output
        .status
        .success()
        .then(|| String::from_utf8(output.stdout).expect("openssl prints UTF-8"))
}

/// One line of `openssl ciphers -V`:
/// `0xC0,0x2F - ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 Kx=ECDH Au=RSA Enc=AESGCM(128) Mac=AEAD`.
struct OpensslCipher {
    code: u16,
    name: String,
    min_version: String,
    kx: String,
    au: String,
    enc_bits: u16,
    mac: String,
}

fn parse_ciphers_v(text: &str) -> Vec<OpensslCipher> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [code, "-", name, version, rest @ ..] = fields.as_slice() else {
                panic!("unexpected `openssl ciphers -V` line: {line:?}");
            };
            let (hi, lo) = code.split_once(',').expect("code is 0xHH,0xLL");
            let byte = |b: &str| u8::from_str_radix(b.trim_start_matches("0x"), 16).unwrap();
            let field = |key: &str| {
                rest.iter()
                    .find_map(|f| f.strip_prefix(key))
                    .unwrap_or_else(|| panic!("no {key} in {line:?}"))
                    .to_string()
            };
            let enc = field("Enc=");
            // `Enc=None` is the NULL cipher: no key at all.
            let enc_bits = (enc == "None")
                .then_some(0)
                .or_else(|| {
                    enc.rsplit_once('(')
                        .and_then(|(_, b)| b.trim_end_matches(')').parse().ok())
                })
                .unwrap_or_else(|| panic!("no key size in {enc:?}"));
            OpensslCipher {
                code: u16::from_be_bytes([byte(hi), byte(lo)]),
                name: name.to_string(),
                min_version: version.to_string(),
                kx: field("Kx="),
                au: field("Au="),
                enc_bits,
                mac: field("Mac="),
            }
        })
        .collect()
}

/// The registry's key exchange as OpenSSL's `Kx=` column spells it.
fn openssl_kx(s: &CipherSuite) -> String {
    match s.kx.as_str() {
        "ECDHE" => "ECDH".into(),
        "DHE" => "DH".into(),
        other => other.replace('_', ""),
    }
}

fn assert_agrees(listing: &str, ciphers: &[OpensslCipher]) {
    assert!(!ciphers.is_empty(), "{listing}: OpenSSL listed no ciphers");
    let mut problems = Vec::new();
    for c in ciphers {
        let Some(s) = cipher_suite(c.code) else {
            problems.push(format!(
                "0x{:04X} {} missing from the registry",
                c.code, c.name
            ));
            continue;
        };
        let id = format!("{} {}", s.code_hex(), c.name);
        if s.openssl.as_deref() != Some(c.name.as_str()) {
            problems.push(format!("{id}: registry OpenSSL name {:?}", s.openssl));
        }
        let min = ProtocolVersion::parse_name(&c.min_version)
            .or_else(|| (c.min_version == "TLSv1").then_some(ProtocolVersion::Tls10))
            .unwrap_or_else(|| panic!("unknown OpenSSL version {:?}", c.min_version));
        if s.min_version != min {
            problems.push(format!(
                "{id}: min_version {} vs OpenSSL {min}",
                s.min_version
            ));
        }
        if openssl_kx(s) != c.kx {
            problems.push(format!("{id}: kx {} vs OpenSSL Kx={}", s.kx, c.kx));
        }
        if (s.auth == "anon") != (c.au == "None") {
            problems.push(format!("{id}: auth {} vs OpenSSL Au={}", s.auth, c.au));
        }
        // OpenSSL prints 3DES as 168; the registry records its effective 112.
        let openssl_bits = if s.cipher.starts_with("3DES") {
            112
        } else {
            c.enc_bits
        };
        if s.bits != openssl_bits {
            problems.push(format!("{id}: bits {} vs OpenSSL {}", s.bits, c.enc_bits));
        }
        if s.aead != (c.mac == "AEAD") {
            problems.push(format!("{id}: aead {} vs OpenSSL Mac={}", s.aead, c.mac));
        }
    }
    assert!(problems.is_empty(), "{listing}:\n{}", problems.join("\n"));
}

#[test]
fn every_cipher_openssl_knows_is_registered_with_its_name() {
    let spec = "ALL:COMPLEMENTOFALL:@SECLEVEL=0";
    let listing = openssl(&["ciphers", "-V", spec]).expect("openssl ciphers -V accepts ALL");
    assert_agrees("openssl ciphers -V ALL", &parse_ciphers_v(&listing));

    // The legacy provider adds SEED (and, on builds with weak ciphers, more).
    // Debian's libssl3 ships it (ossl-modules/legacy.so), so its absence is
    // a broken install, not a build without it: fail rather than skip.
    let legacy = [
        "ciphers",
        "-V",
        "-provider",
        "legacy",
        "-provider",
        "default",
        spec,
    ];
    let listing = openssl(&legacy).unwrap_or_else(|| {
        panic!(
            "`openssl {}` failed: OpenSSL's legacy provider (legacy.so in \
             /usr/lib/<arch>/ossl-modules, from Debian's libssl3) is missing; \
             apt-get install --reinstall libssl3 openssl",
            legacy.join(" ")
        )
    });
    let ciphers = parse_ciphers_v(&listing);
    assert!(
        ciphers.iter().any(|c| c.name.contains("SEED")),
        "the legacy provider loaded but lists no SEED suite, so SEED is not \
         cross-checked:\n{listing}"
    );
    assert_agrees("openssl ciphers -V (legacy provider)", &ciphers);
}

#[test]
fn every_tls13_ciphersuite_openssl_knows_is_registered() {
    let suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:\
                  TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256";
    let listing = openssl(&["ciphers", "-V", "-s", "-tls1_3", "-ciphersuites", suites])
        .expect("openssl knows the five RFC 8446 suites");
    let ciphers = parse_ciphers_v(&listing);
    assert_eq!(ciphers.len(), 5, "{listing}");
    assert_agrees("openssl ciphers -V -s -tls1_3", &ciphers);
}

/// testssl.sh's mapping (Debian package `testssl.sh`). We compare, never copy.
fn testssl_mapping() -> String {
    let paths = [
        "/etc/testssl/cipher-mapping.txt",
        "/usr/share/testssl/etc/cipher-mapping.txt",
    ];
    paths
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_else(|| panic!("no cipher-mapping.txt in {paths:?}: apt-get install testssl.sh"))
}

#[test]
fn testssl_mapping_agrees_except_where_explained() {
    // Codes testssl.sh knows that the registry leaves out on purpose: the
    // OpenSSL 1.0 GOST engine's private-use suites (0xFF00-0xFF03, 0xFF85,
    // 0xFF87; 0xFF85 would also duplicate 0xC102's IANA name), Google's
    // 2016 CECPQ1 experiment (0x16B7-0x16BA), and Netscape's first FIPS
    // codes (0xFFE0, 0xFFE1), superseded by 0xFEFF/0xFEFE which we list.
    let not_registered: &[u16] = &[
        0xFF00, 0xFF01, 0xFF02, 0xFF03, 0xFF85, 0xFF87, 0x16B7, 0x16B8, 0x16B9, 0x16BA, 0xFFE0,
        0xFFE1,
    ];
    // OpenSSL names that differ: testssl.sh keeps OpenSSL 1.0.2's `EDH-`
    // spelling; OpenSSL 1.1.0 renamed these two (still shipped) to `DHE-`.
    let renamed: &[(u16, &str, &str)] = &[
        (0x0013, "EDH-DSS-DES-CBC3-SHA", "DHE-DSS-DES-CBC3-SHA"),
        (0x0016, "EDH-RSA-DES-CBC3-SHA", "DHE-RSA-DES-CBC3-SHA"),
    ];
    // The 56-bit export draft (draft-ietf-tls-56-bit-ciphersuites-01) names
    // 0x0061 with `RC2_CBC_56`; testssl.sh drops the `CBC`.
    let iana_spelling: &[u16] = &[0x0061];

    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for line in testssl_mapping().lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [code, "-", openssl_name, iana_name, ..] = fields.as_slice() else {
            continue;
        };
        let bytes: Vec<u8> = code
            .split(',')
            .map(|b| u8::from_str_radix(b.trim_start_matches("0x"), 16).expect("hex byte"))
            .collect();
        let [hi, lo] = bytes[..] else {
            continue; // three-byte SSLv2 kinds live in their own table
        };
        let code = u16::from_be_bytes([hi, lo]);
        seen.push(code);
        let Some(s) = cipher_suite(code) else {
            if !not_registered.contains(&code) {
                problems.push(format!("0x{code:04X} {openssl_name} {iana_name}: missing"));
            }
            continue;
        };
        if !iana_spelling.contains(&code) && *iana_name != "-" && *iana_name != s.iana {
            problems.push(format!(
                "{}: IANA {} vs testssl {iana_name}",
                s.code_hex(),
                s.iana
            ));
        }
        // testssl.sh invents OpenSSL-style names for suites OpenSSL never
        // shipped (ARIA-CBC, fixed-DH Camellia-SHA256, `NULL` for 0x0000);
        // the registry leaves those empty, so compare only where both name one.
        if let (Some(ours), false) = (&s.openssl, *openssl_name == "-") {
            let expected = match renamed.iter().find(|(c, _, _)| *c == code) {
                Some((_, theirs, ours)) => {
                    if theirs != openssl_name {
                        problems.push(format!("0x{code:04X}: testssl now says {openssl_name}"));
                    }
                    *ours
                }
                None => *openssl_name,
            };
            if ours != expected {
                problems.push(format!(
                    "{}: OpenSSL {ours} vs testssl {openssl_name}",
                    s.code_hex()
                ));
            }
        }
    }
    for code in not_registered {
        assert!(
            seen.contains(code),
            "0x{code:04X} no longer in testssl.sh; drop it from the list"
        );
    }
    // Suites newer than testssl.sh's table must all be IANA-assigned.
    for s in cipher_suites().iter().filter(|s| !seen.contains(&s.code)) {
        assert!(
            s.iana_assigned,
            "{} {} is known to neither IANA nor testssl.sh",
            s.code_hex(),
            s.iana
        );
    }
    assert!(
        problems.is_empty(),
        "testssl.sh disagrees:\n{}",
        problems.join("\n")
    );
}
