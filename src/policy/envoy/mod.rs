//! What Envoy (1.40, BoringSSL) decides with the configuration istiod
//! generates ([`super::istiod`]): whether a client certificate is really
//! required, which listeners it refuses to load, how its RBAC matchers and
//! `jwt_authn` extractors judge one request. No I/O. Each rule cites
//! envoyproxy/envoy source or was observed on the lab's real Envoy (and
//! says so).

pub mod jwt;
pub mod rbac;
pub mod tls;
