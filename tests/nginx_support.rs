//! The nginx test server starts, serves TLS with its gzip and HSTS
//! settings, and is gone when dropped.

mod support;

use support::{https_get, Nginx};

#[test]
fn nginx_serves_tls_with_the_given_directives() {
    let nginx = Nginx::start(
        "add_header Strict-Transport-Security \"max-age=31536000; includeSubDomains\" always;",
    );
    let answer = https_get(nginx.addr(), Some("localhost"), "/");
    assert!(
        answer.contains("hello from nginx"),
        "{answer}\n{}",
        nginx.error_log()
    );
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("strict-transport-security: max-age=31536000; includesubdomains"),
        "{answer}"
    );
    let addr = nginx.addr();
    drop(nginx);
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "nginx still listens on {addr}"
    );
}
