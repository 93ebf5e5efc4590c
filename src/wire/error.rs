//! The one error type of the wire codec. Every decoder in `wire` returns a
//! value or one of these; none of them panics. "Need more bytes" is not an
//! error here: the flight decoder says it with `Ok(None)`.

/// Why a byte string is not a well-formed TLS / SSL server flight.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The peer's first bytes cannot start a TLS or SSLv2 record. `hint`
    /// names the protocol when it is recognisable ("the server speaks plain
    /// HTTP"), otherwise it shows the first bytes in hex.
    #[error("not TLS: {hint}")]
    NotTls { hint: String },
    /// A record header announced more than 2^14 + 2048 bytes (RFC 5246 6.2.3).
    #[error("record length {0} exceeds 2^14 + 2048")]
    RecordTooLong(usize),
    /// A handshake message announced more than the decoder will buffer.
    #[error("handshake message length {0} exceeds the decoder's limit")]
    HandshakeTooLong(usize),
    /// A record after the first one carried a content type outside 20..=24.
    #[error("record content type {0} is not a TLS content type")]
    BadContentType(u8),
    /// A structure ended before a field it must contain.
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// A structure's fields contradict each other or the RFC.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// A structure was followed by bytes its length said were not there.
    #[error("trailing bytes after {0}")]
    TrailingBytes(&'static str),
}

/// Why a hello cannot be expressed on the wire: a list or name longer
/// than its length field can say. Inputs are validated before a hello is
/// built (a `ServerName` is at most 253 bytes, the registry's lists are
/// fixed), so this is a guard, returned instead of a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("a section of {len} bytes does not fit a {width}-byte length prefix")]
    TooLong { width: usize, len: usize },
    #[error("value {0:#x} does not fit in 24 bits")]
    Over24Bits(u32),
}
