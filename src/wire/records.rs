//! Single client records the vulnerability checks send after a hello: a
//! heartbeat request (RFC 6520) and a ChangeCipherSpec (RFC 5246 7.1).

/// Record content types (RFC 5246 6.2.1, RFC 6520 3).
pub const CONTENT_CHANGE_CIPHER_SPEC: u8 = 20;
pub const CONTENT_HEARTBEAT: u8 = 24;

/// A heartbeat_request record whose `payload_length` claims `claimed`
/// bytes while carrying none: a server that answers echoes memory it
/// never received (Heartbleed, CVE-2014-0160). RFC 6520 4 says a
/// correct server discards it silently.
pub fn heartbeat_request(record_version: u16, claimed: u16) -> Vec<u8> {
    let [v0, v1] = record_version.to_be_bytes();
    let [c0, c1] = claimed.to_be_bytes();
    // type heartbeat_request(1), payload_length, no payload, no padding.
    vec![CONTENT_HEARTBEAT, v0, v1, 0, 3, 1, c0, c1]
}

/// A ChangeCipherSpec record.
pub fn change_cipher_spec(record_version: u16) -> Vec<u8> {
    let [v0, v1] = record_version.to_be_bytes();
    vec![CONTENT_CHANGE_CIPHER_SPEC, v0, v1, 0, 1, 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        assert_eq!(
            heartbeat_request(0x0303, 0x4000),
            vec![24, 3, 3, 0, 3, 1, 0x40, 0]
        );
        assert_eq!(change_cipher_spec(0x0301), vec![20, 3, 1, 0, 1, 1]);
    }
}
