//! The TLS / SSL wire codec: encodes the ClientHellos the scanner crafts and
//! decodes what servers send back. No sockets, no clocks, no policy. Every
//! decoder is total: any byte string gives a value or a typed error, never a
//! panic. The only impurity is [`key_share`], which draws OS randomness.

pub mod alert;
pub mod codec;
mod error;
pub mod hello;
pub mod key_exchange;
pub mod key_share;
pub mod records;
pub mod rsa_kx;
pub mod server;
pub mod server_hello;
pub mod sslv2;
mod version;

#[cfg(test)]
mod flight_fixtures;
#[cfg(test)]
pub(crate) use flight_fixtures::hex as fixture_hex;

pub use alert::{Alert, AlertDescription};
pub use codec::{Need, Reader, Writer};
pub use error::{EncodeError, WireError};
pub use hello::{
    encode_client_hello, encode_sslv2_client_hello, ClientHelloSpec, Extension, KeyShareEntry,
};
pub use key_exchange::{DheParams, EcdheParams, ServerKeyExchange};
pub use key_share::{fresh_random, generate_key_share};
pub use server::{FlightDecoder, ServerMessage};
pub use server_hello::ServerHello;
pub use sslv2::Sslv2ServerHello;
pub use version::ProtocolVersion;
