//! TLS alerts: the level and a description that knows every code point of
//! RFC 5246, RFC 8446 and their updates, with the RFC's own names so that
//! reports say `protocol_version`, not `70`. Unregistered codes are data
//! (`Unknown`), never errors.

use super::codec::{Need, Reader};
use super::WireError;

/// Alert level `warning` (RFC 5246 7.2).
pub const LEVEL_WARNING: u8 = 1;
/// Alert level `fatal`.
pub const LEVEL_FATAL: u8 = 2;

/// One alert as the server sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Alert {
    /// 1 = warning, 2 = fatal; other values are kept as sent.
    pub level: u8,
    pub description: AlertDescription,
}

impl Alert {
    pub fn is_fatal(&self) -> bool {
        self.level == LEVEL_FATAL
    }

    /// Whether a client must stop at this alert, as OpenSSL and rustls do.
    ///
    /// RFC 5246 7.2: only a fatal alert ends the connection; a warning
    /// (`unrecognized_name`, `no_renegotiation`, ...) is informational and
    /// a client goes on reading, so a scanner that stopped there would call
    /// a reachable version refused. `close_notify` at any level is the
    /// peer's end of the connection. A level that is neither 1 nor 2 counts
    /// as fatal: no RFC defines it, OpenSSL aborts the handshake on it
    /// (`SSL_R_UNKNOWN_ALERT_TYPE`), so no client would connect, and reading
    /// past it would credit a broken peer with a handshake.
    pub fn ends_handshake(&self) -> bool {
        self.level != LEVEL_WARNING || self.description == AlertDescription::CloseNotify
    }

    /// Decodes a two-byte alert; the caller splits records into alerts.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let level = r.u8().need("alert level")?;
        let description = AlertDescription::from_u8(r.u8().need("alert description")?);
        Ok(Alert { level, description })
    }
}

impl std::fmt::Display for Alert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.level {
            LEVEL_WARNING => write!(f, "warning alert {}", self.description),
            LEVEL_FATAL => write!(f, "fatal alert {}", self.description),
            // The number, so a report shows what the peer actually sent.
            other => write!(f, "alert {} of unknown level {other}", self.description),
        }
    }
}

macro_rules! alert_descriptions {
    ($($variant:ident = $code:literal, $name:literal;)*) => {
        /// An alert description (IANA "TLS Alerts" registry).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum AlertDescription {
            $($variant,)*
            /// A code no RFC this crate knows assigns.
            Unknown(u8),
        }

        impl AlertDescription {
            pub fn from_u8(code: u8) -> Self {
                match code {
                    $($code => AlertDescription::$variant,)*
                    other => AlertDescription::Unknown(other),
                }
            }

            pub fn to_u8(self) -> u8 {
                match self {
                    $(AlertDescription::$variant => $code,)*
                    AlertDescription::Unknown(code) => code,
                }
            }

            /// The RFC's name, e.g. `handshake_failure`; `unknown` for
            /// unregistered codes.
            pub fn name(&self) -> &'static str {
                match self {
                    $(AlertDescription::$variant => $name,)*
                    AlertDescription::Unknown(_) => "unknown",
                }
            }
        }
    };
}

alert_descriptions! {
    CloseNotify = 0, "close_notify";
    UnexpectedMessage = 10, "unexpected_message";
    BadRecordMac = 20, "bad_record_mac";
    DecryptionFailed = 21, "decryption_failed";
    RecordOverflow = 22, "record_overflow";
    DecompressionFailure = 30, "decompression_failure";
    HandshakeFailure = 40, "handshake_failure";
    NoCertificate = 41, "no_certificate";
    BadCertificate = 42, "bad_certificate";
    UnsupportedCertificate = 43, "unsupported_certificate";
    CertificateRevoked = 44, "certificate_revoked";
    CertificateExpired = 45, "certificate_expired";
    CertificateUnknown = 46, "certificate_unknown";
    IllegalParameter = 47, "illegal_parameter";
    UnknownCa = 48, "unknown_ca";
    AccessDenied = 49, "access_denied";
    DecodeError = 50, "decode_error";
    DecryptError = 51, "decrypt_error";
    ExportRestriction = 60, "export_restriction";
    ProtocolVersion = 70, "protocol_version";
    InsufficientSecurity = 71, "insufficient_security";
    InternalError = 80, "internal_error";
    InappropriateFallback = 86, "inappropriate_fallback";
    UserCanceled = 90, "user_canceled";
    NoRenegotiation = 100, "no_renegotiation";
    MissingExtension = 109, "missing_extension";
    UnsupportedExtension = 110, "unsupported_extension";
    CertificateUnobtainable = 111, "certificate_unobtainable";
    UnrecognizedName = 112, "unrecognized_name";
    BadCertificateStatusResponse = 113, "bad_certificate_status_response";
    BadCertificateHashValue = 114, "bad_certificate_hash_value";
    UnknownPskIdentity = 115, "unknown_psk_identity";
    CertificateRequired = 116, "certificate_required";
    GeneralError = 117, "general_error";
    NoApplicationProtocol = 120, "no_application_protocol";
    EchRequired = 121, "ech_required";
}

impl std::fmt::Display for AlertDescription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AlertDescription::Unknown(code) => write!(f, "unknown({code})"),
            known => f.write_str(known.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for code in 0..=u8::MAX {
            assert_eq!(AlertDescription::from_u8(code).to_u8(), code);
        }
    }

    #[test]
    fn names_are_the_rfc_names() {
        let table = [
            (40, "handshake_failure"),
            (70, "protocol_version"),
            (71, "insufficient_security"),
            (86, "inappropriate_fallback"),
            (112, "unrecognized_name"),
            (116, "certificate_required"),
            (120, "no_application_protocol"),
        ];
        for (code, name) in table {
            assert_eq!(AlertDescription::from_u8(code).name(), name);
        }
        assert_eq!(
            AlertDescription::from_u8(200),
            AlertDescription::Unknown(200)
        );
        assert_eq!(AlertDescription::Unknown(200).to_string(), "unknown(200)");
    }

    #[test]
    fn only_non_close_warnings_let_the_handshake_go_on() {
        let alert = |level, code| Alert {
            level,
            description: AlertDescription::from_u8(code),
        };
        assert!(!alert(1, 112).ends_handshake(), "warning unrecognized_name");
        assert!(!alert(1, 100).ends_handshake(), "warning no_renegotiation");
        assert!(alert(1, 0).ends_handshake(), "warning close_notify");
        assert!(alert(2, 112).ends_handshake(), "fatal unrecognized_name");
        assert!(alert(2, 40).ends_handshake());
        assert!(alert(7, 112).ends_handshake(), "unknown level");
        assert!(alert(0, 112).ends_handshake(), "unknown level 0");
        assert_eq!(
            alert(7, 112).to_string(),
            "alert unrecognized_name of unknown level 7"
        );
        assert_eq!(alert(1, 112).to_string(), "warning alert unrecognized_name");
    }
}
