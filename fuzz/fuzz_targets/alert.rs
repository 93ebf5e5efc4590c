#![no_main]
//! Alert records: as many two-byte alerts as the bytes hold, each shown the
//! way reports show them.
use tlsposture::wire::{Alert, Reader};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    while let Ok(alert) = Alert::read(&mut r) {
        let _ = (alert.is_fatal(), alert.ends_handshake(), alert.to_string());
        let code = alert.description.to_u8();
        assert_eq!(
            tlsposture::wire::AlertDescription::from_u8(code),
            alert.description
        );
        let _ = alert.description.name();
    }
});
