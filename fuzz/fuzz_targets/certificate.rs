#![no_main]
//! What the scanner reads out of the certificates a server sends: the
//! report's description, name matching, the CA names of a
//! CertificateRequest and the SPIFFE identity. The bytes are also split
//! into a chain (u16 length prefixes) for the chain checks.
use tlsposture::cert::{chain_problems, describe, hostname_matches};
use tlsposture::scan::authz::spiffe_principal;
use tlsposture::scan::readable_name;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let now = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    let _ = describe(data, now);
    let _ = hostname_matches(data, "test.com");
    let _ = hostname_matches(data, "*.example.com");
    let _ = readable_name(data);
    let _ = spiffe_principal(data);

    let mut chain = Vec::new();
    let mut rest = data;
    while rest.len() >= 2 {
        let n = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        chain.push(rest[2..2 + n].to_vec());
        rest = &rest[2 + n..];
    }
    let _ = chain_problems(&chain);
});
