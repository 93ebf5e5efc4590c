#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = tlsposture::wire::FlightDecoder::decode_all(data);
});
