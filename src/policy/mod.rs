//! The declared policy: Kubernetes YAML (Istio `Gateway`, MeshConfig
//! `tlsDefaults`, OpenShift `ServiceMeshControlPlane`, `AuthorizationPolicy`,
//! `RequestAuthentication`, `PeerAuthentication`, Gateway API `Gateway`) read
//! into one [`DeclaredPolicy`], and the posture Istio and Envoy will really
//! give each (port, host) derived from it (`effective`). No I/O besides
//! reading the files named on the command line.

pub mod authz;
pub mod baseline;
pub mod effective;
pub mod envoy;
pub mod istiod;
pub mod jwt;
pub mod lint;
pub mod matching;
pub mod model;
pub(crate) mod parse;
pub mod selection;
pub mod simulate;

pub use model::*;
pub use parse::{load_files, load_str, merge, MAX_POLICY_FILE_BYTES};

use thiserror::Error;

/// Why a policy file could not be used. Every variant names the file, and
/// where possible the line, column and field, so the CLI can print one line
/// a user can jump to (exit 64).
#[derive(Debug, Error)]
pub enum PolicyError {
    #[error("{file}: cannot read: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// A directory, FIFO, device or socket: refused by type before it is
    /// opened for reading, so nothing blocks or reads without end.
    #[error("{file}: is {kind}, not a regular file")]
    NotAFile { file: String, kind: &'static str },
    /// Larger than the cap; refused before parsing (see
    /// [`MAX_POLICY_FILE_BYTES`] for why).
    #[error("{file}: larger than {} MiB, the most a policy file may be", .limit / (1024 * 1024))]
    TooLarge { file: String, limit: u64 },
    /// The YAML itself is malformed (or not a mapping where one is needed).
    #[error("{origin}: invalid YAML: {message}")]
    Yaml { origin: Origin, message: String },
    /// Well-formed YAML with a field Istio would reject (unknown enum value,
    /// a port that is not a number, …).
    #[error("{origin}: {message}")]
    Invalid { origin: Origin, message: String },
}
