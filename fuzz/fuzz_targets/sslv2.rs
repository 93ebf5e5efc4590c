#![no_main]
//! SSLv2 SERVER-HELLO and ERROR bodies (after the message type byte).
use tlsposture::wire::sslv2::{decode_error, Sslv2ServerHello};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(hello) = Sslv2ServerHello::decode(data) {
        assert_eq!(
            hello.cipher_kinds.len() * 3 + hello.certificate.len() + hello.connection_id.len() + 10,
            data.len()
        );
    }
    let _ = decode_error(data);
});
