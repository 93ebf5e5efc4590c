//! Client-initiated renegotiation (a CPU denial of service, and the door
//! CVE-2009-3555 used before RFC 5746): after a full handshake, the client
//! asks for a new one on the same connection. rustls cannot renegotiate,
//! so this one check uses the system OpenSSL (`SSL_renegotiate`) on the
//! prober's connection, in a blocking task with the probe's timeouts.
//! testssl.sh (`run_renego`) does the same with `s_client` and "R".

use std::net::TcpStream;
use std::time::Duration;

use foreign_types::ForeignTypeRef;
use openssl::ssl::{Ssl, SslContext, SslMethod, SslVerifyMode, SslVersion};

use crate::observe::{VulnId, VulnStatus, Vulnerability};
use crate::wire::ProtocolVersion;

use super::{v, Prober, VulnContext};

// openssl-sys binds no SSL_renegotiate; libssl (which openssl-sys links)
// has it since 0.9.
extern "C" {
    fn SSL_renegotiate(s: *mut openssl_sys::SSL) -> std::os::raw::c_int;
}

pub(super) async fn client_renegotiation(
    prober: &Prober,
    cx: &VulnContext<'_>,
    version: ProtocolVersion,
) -> Vulnerability {
    let id = VulnId::ClientRenegotiation;
    let ssl_version = match version {
        ProtocolVersion::Tls10 => SslVersion::TLS1,
        ProtocolVersion::Tls11 => SslVersion::TLS1_1,
        ProtocolVersion::Tls12 => SslVersion::TLS1_2,
        other => {
            return v(
                id,
                VulnStatus::Unknown,
                format!(
                    "cannot tell: renegotiation over {} is not tested",
                    other.name()
                ),
            )
        }
    };
    let (stream, _slot) = match prober.connect().await {
        Ok(x) => x,
        Err(e) => return v(id, VulnStatus::Unknown, format!("cannot tell: {e}")),
    };
    let timeout = prober.timeouts().read;
    let sni = cx.sni.map(str::to_owned);
    let std = match stream.into_std() {
        Ok(s) => s,
        Err(e) => return v(id, VulnStatus::Unknown, format!("cannot tell: {e}")),
    };
    let name = version.name();
    let joined =
        tokio::task::spawn_blocking(move || renegotiate(std, sni, ssl_version, timeout)).await;
    match joined {
        Ok(Ok(Renegotiation::Accepted)) => v(
            id,
            VulnStatus::Vulnerable,
            format!(
                "{name} handshake, then a client-initiated renegotiation: the server completed it"
            ),
        ),
        Ok(Ok(Renegotiation::Refused(how))) => v(
            id,
            VulnStatus::NotVulnerable,
            format!("{name} handshake, then a client-initiated renegotiation: refused ({how})"),
        ),
        Ok(Err(e)) => v(id, VulnStatus::Unknown, format!("cannot tell: {e}")),
        Err(e) => v(
            id,
            VulnStatus::Unknown,
            format!("cannot tell: the task failed: {e}"),
        ),
    }
}

enum Renegotiation {
    Accepted,
    Refused(String),
}

fn renegotiate(
    tcp: TcpStream,
    sni: Option<String>,
    version: SslVersion,
    timeout: Duration,
) -> Result<Renegotiation, String> {
    tcp.set_nonblocking(false).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    tcp.set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    // A bare context: SslConnector would load the system CA store, tens
    // of ms for a chain nobody checks here.
    let mut b = SslContext::builder(SslMethod::tls_client()).map_err(|e| e.to_string())?;
    b.set_verify(SslVerifyMode::NONE);
    // Whatever the server accepts: the renegotiation is the question.
    b.set_cipher_list("ALL:@SECLEVEL=0")
        .map_err(|e| e.to_string())?;
    b.set_min_proto_version(Some(version))
        .map_err(|e| e.to_string())?;
    b.set_max_proto_version(Some(version))
        .map_err(|e| e.to_string())?;
    let mut ssl = Ssl::new(&b.build()).map_err(|e| e.to_string())?;
    if let Some(name) = sni.as_deref() {
        ssl.set_hostname(name).map_err(|e| e.to_string())?;
    }
    let stream = ssl
        .connect(tcp)
        .map_err(|e| format!("the first handshake failed: {e}"))?;
    let ssl = stream.ssl().as_ptr();
    // SAFETY: `ssl` belongs to `stream`, alive until the end of this
    // function; both calls only drive that SSL object on its own socket.
    let (started, done) = unsafe {
        let started = SSL_renegotiate(ssl);
        let done = if started == 1 {
            openssl_sys::SSL_do_handshake(ssl)
        } else {
            0
        };
        (started, done)
    };
    if started != 1 {
        return Err("OpenSSL would not start a renegotiation".into());
    }
    if done == 1 {
        return Ok(Renegotiation::Accepted);
    }
    // SAFETY: as above.
    let code = unsafe { openssl_sys::SSL_get_error(ssl, done) };
    let errors = openssl::error::ErrorStack::get();
    let how = match code {
        openssl_sys::SSL_ERROR_WANT_READ | openssl_sys::SSL_ERROR_WANT_WRITE => {
            format!("no answer within {} ms", timeout.as_millis())
        }
        openssl_sys::SSL_ERROR_ZERO_RETURN => "close_notify".to_owned(),
        openssl_sys::SSL_ERROR_SYSCALL => "connection closed or reset".to_owned(),
        _ if errors.errors().is_empty() => format!("OpenSSL error {code}"),
        _ => errors
            .errors()
            .iter()
            .filter_map(|e| e.reason())
            .collect::<Vec<_>>()
            .join(", "),
    };
    Ok(Renegotiation::Refused(how))
}
