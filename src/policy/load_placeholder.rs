//! Placeholder until the YAML reader lands; removed when it does.
use std::path::Path;

use super::{DeclaredPolicy, PolicyError};

pub fn load_files(paths: &[impl AsRef<Path>]) -> Result<DeclaredPolicy, PolicyError> {
    Err(PolicyError::Read {
        file: paths
            .first()
            .map(|p| p.as_ref().display().to_string())
            .unwrap_or_default(),
        source: std::io::Error::other("the policy reader is not built yet"),
    })
}
