#![no_main]
use tlsposture::wire::{ServerHello, ServerKeyExchange};

// The accessors interpret bodies the flight decoder keeps raw, so they get
// their own target.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(sh) = ServerHello::decode(data) {
        let _ = (sh.negotiated_version(), sh.key_share_group(), sh.alpn());
    }
    let ske = ServerKeyExchange {
        body: data.to_vec(),
    };
    let _ = (ske.as_ecdhe(), ske.as_dhe(true), ske.as_dhe(false));
});
