//! The TLS / SSL wire codec: encodes the ClientHellos the scanner crafts and
//! decodes what servers send back. No sockets, no clocks, no policy. Every
//! decoder is total: any byte string gives a value or a typed error.

mod version;

pub use version::ProtocolVersion;
