#![no_main]
//! The flight decoder fed in pieces, as a socket delivers bytes, must say
//! what it says when given the whole capture at once: records split across
//! reads are the normal case, not an edge case. The first byte picks the
//! piece sizes; the rest is the server's bytes.
use tlsposture::wire::{FlightDecoder, WireError};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&seed, bytes)) = data.split_first() else {
        return;
    };
    let (whole, whole_err) = FlightDecoder::decode_all(bytes);

    let mut d = FlightDecoder::new();
    let mut pieces = Vec::new();
    let mut err = None;
    let mut rest = bytes;
    let mut state = u32::from(seed) | 0x100;
    'feed: while !rest.is_empty() {
        // xorshift: piece sizes 1..=32, varied but reproducible.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let n = (state as usize % 32 + 1).min(rest.len());
        d.feed(&rest[..n]);
        rest = &rest[n..];
        loop {
            match d.next_message() {
                Ok(Some(m)) => pieces.push(m),
                Ok(None) => break,
                Err(e) => {
                    err = Some(e);
                    break 'feed;
                }
            }
        }
    }
    assert_eq!(pieces, whole, "messages differ when fed in pieces");
    match (&err, &whole_err) {
        // The hint quotes what was buffered when the bytes proved not TLS,
        // which depends on how much had arrived.
        (Some(WireError::NotTls { .. }), Some(WireError::NotTls { .. })) => {}
        _ => assert_eq!(err, whole_err, "error differs when fed in pieces"),
    }
    // The decoder stays failed with the same error.
    if let Some(e) = err {
        assert_eq!(d.next_message(), Err(e));
    }
});
