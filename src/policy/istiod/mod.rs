//! What istiod generates for one gateway workload: the resolved model.
//!
//! One step, no I/O: the declared documents ([`super::DeclaredPolicy`])
//! in, the configuration istiod would push to the gateway's Envoy out — per
//! listener its filter chains (server names, downstream TLS context, ALPN,
//! redirect), the RBAC and `jwt_authn` HTTP filters, the servers istiod
//! drops with why, and the release of Istio the rules are taken from.
//!
//! Every rule here is read from istio/istio's own source and unit tests and
//! cites them (docs/istio-rules.md keeps the derivations). What Envoy then
//! does with this configuration lives in [`super::envoy`]; the predictor
//! (`policy`, `verdict`) and the lab (`lab`) consume this model and hold no
//! Istio rule of their own.

pub mod jwt_authn;
pub mod rbac;
pub mod servers;
pub mod tls;
pub mod version;
