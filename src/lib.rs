//! tlsposture: a TLS posture scanner for service-mesh ingress gateways.
//!
//! Data flows one way (see DESIGN.md and the module map in README.md):
//! flags and declared policy (`policy`) → plan → probes (`scan`, `probe`,
//! which crafts hellos with `wire`) → observations (`observe`) → judgement
//! (`verdict`, with `finding`'s vocabulary) → renderers (`report`).
//! `wire`, `registry`, `policy`, `observe` and `verdict` never do I/O;
//! `report` only renders; no module imports from one further along.

pub mod cert;
pub mod clients;
pub mod finding;
pub mod fleet;
pub mod lab;
pub mod observe;
pub mod plan;
pub mod policy;
pub mod probe;
pub mod registry;
pub mod report;
pub mod run;
pub mod scan;
pub mod target;
pub mod tls_client;
pub mod verdict;
pub mod wire;
