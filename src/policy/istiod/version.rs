//! Which Istio release's rules to apply.
//!
//! Most gateway rules in this model hold unchanged across the supported
//! range; the ones that differ carry the range they hold for and ask
//! [`IstioVersion::at_least`]. The range was checked against the release
//! tags of istio/istio (`git show 1.27.9:…`, `1.28.10:…`, `1.29.6:…`,
//! `1.30.3:…`, `1.31.0-rc.0:…`) and master at 86c9f01f, which is past the
//! 1.31 branch cut and is modelled as 1.32 (unreleased). The default is the
//! newest GA release in that mirror, 1.30 (tag 1.30.3).
//!
//! A minor stands for its newest patch: e.g. the mesh `minProtocolVersion`
//! mapping fixed by istio/istio#58912 reached 1.27.9, 1.28.4 and 1.29.1, so
//! earlier patches of those minors are not modelled.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use thiserror::Error;

/// An Istio minor release (`1.29`); patch releases do not change the
/// rules modelled here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IstioVersion {
    pub major: u16,
    pub minor: u16,
}

impl IstioVersion {
    pub const fn new(major: u16, minor: u16) -> Self {
        IstioVersion { major, minor }
    }

    /// The oldest release modelled.
    pub const OLDEST: IstioVersion = IstioVersion::new(1, 27);
    /// The newest: istio/istio master at 86c9f01f (1.32 in development).
    pub const NEWEST: IstioVersion = IstioVersion::new(1, 32);
    /// The newest GA release modelled (tag 1.30.3 in the mirror).
    pub const DEFAULT: IstioVersion = IstioVersion::new(1, 30);

    pub fn at_least(self, major: u16, minor: u16) -> bool {
        self >= IstioVersion::new(major, minor)
    }

    /// `1.27–1.32`, for error messages and help text.
    pub fn supported_range() -> String {
        format!("{}–{}", Self::OLDEST, Self::NEWEST)
    }
}

impl Default for IstioVersion {
    fn default() -> Self {
        IstioVersion::DEFAULT
    }
}

impl fmt::Display for IstioVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl Serialize for IstioVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Why `--istio-version` was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VersionError {
    #[error("{0:?} is not an Istio version (expected MAJOR.MINOR, e.g. 1.29)")]
    Malformed(String),
    #[error(
        "Istio {given} is not modelled; supported: {}",
        IstioVersion::supported_range()
    )]
    Unsupported { given: IstioVersion },
}

impl FromStr for IstioVersion {
    type Err = VersionError;

    /// `1.29`, also `1.29.3` and `v1.29` (the patch is ignored).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = || VersionError::Malformed(text.to_owned());
        let trimmed = text.trim();
        let trimmed = trimmed.strip_prefix('v').unwrap_or(trimmed);
        let mut parts = trimmed.split('.');
        let number = |p: Option<&str>| -> Result<u16, VersionError> {
            p.filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|p| p.parse().ok())
                .ok_or_else(malformed)
        };
        let major = number(parts.next())?;
        let minor = number(parts.next())?;
        if let Some(patch) = parts.next() {
            number(Some(patch))?;
        }
        if parts.next().is_some() {
            return Err(malformed());
        }
        let given = IstioVersion::new(major, minor);
        if given < IstioVersion::OLDEST || given > IstioVersion::NEWEST {
            return Err(VersionError::Unsupported { given });
        }
        Ok(given)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_minor_releases_and_names_the_range() {
        assert_eq!("1.28".parse(), Ok(IstioVersion::new(1, 28)));
        assert_eq!("v1.29.4".parse(), Ok(IstioVersion::new(1, 29)));
        assert_eq!(IstioVersion::default().to_string(), "1.30");
        let err = "1.12".parse::<IstioVersion>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "Istio 1.12 is not modelled; supported: 1.27–1.32"
        );
        for bad in ["", "1", "1.x", "1.29.", "1.29.1.1", "one.two"] {
            assert!(
                matches!(bad.parse::<IstioVersion>(), Err(VersionError::Malformed(_))),
                "{bad}"
            );
        }
    }
}
