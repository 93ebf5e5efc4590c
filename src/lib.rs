//! tlsposture: a TLS posture scanner for service-mesh ingress gateways.
//!
//! Data flows one way (see DESIGN.md): targets → scan plan (`plan`) → probes
//! (`probe`, which crafts hellos with `wire`) → observations (`report::model`)
//! → findings (`verdict`) → renderers (`report`). `wire`, `registry` and
//! `verdict` never do I/O; `report` only renders.

pub mod cert;
pub mod clients;
pub mod lab;
pub mod plan;
pub mod policy;
pub mod probe;
pub mod registry;
pub mod report;
pub mod scan;
pub mod target;
pub mod tls_client;
pub mod verdict;
pub mod wire;
