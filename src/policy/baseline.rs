//! Baselines: published server-side TLS recommendations (Mozilla's
//! modern / intermediate / old), for a scan without a declared policy or in
//! addition to one. Data lives in `baselines/mozilla.json`, embedded at build
//! time; this module only resolves its names against the registry.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::registry::{self, GroupKind};
use crate::wire::ProtocolVersion;

const MOZILLA: &str = include_str!("../../baselines/mozilla.json");

#[derive(Debug, Deserialize)]
struct File {
    source: String,
    profiles: BTreeMap<String, RawProfile>,
}

#[derive(Debug, Deserialize)]
struct RawProfile {
    summary: String,
    protocols: Vec<ProtocolVersion>,
    tls12_suites: Vec<String>,
    tls13_suites: Vec<String>,
    groups: Vec<String>,
    certificate_types: Vec<String>,
    rsa_key_size: Option<u32>,
    dh_param_size: Option<u32>,
}

/// One recommendation profile, resolved to code points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    pub name: String,
    pub summary: String,
    pub source: String,
    pub protocols: Vec<ProtocolVersion>,
    /// Suites allowed for TLS 1.0–1.2 (the profile names one list for all).
    pub suites: Vec<u16>,
    pub tls13_suites: Vec<u16>,
    pub groups: Vec<u16>,
    /// `RSA`, `ECDSA`: key types the leaf certificate may have.
    pub certificate_types: Vec<String>,
    pub rsa_key_size: Option<u32>,
    pub dh_param_size: Option<u32>,
}

impl Baseline {
    /// Whether a group is allowed: listed, or a post-quantum hybrid (which
    /// the profiles predate; a hybrid is at least as strong as its classical
    /// half, and that half is on every list).
    pub fn allows_group(&self, code: u16) -> bool {
        self.groups.contains(&code)
            || registry::named_group(code).is_some_and(|g| g.kind == GroupKind::HybridPq)
    }
}

fn resolve() -> Result<BTreeMap<String, Baseline>, String> {
    let file: File =
        serde_json::from_str(MOZILLA).map_err(|e| format!("baselines/mozilla.json: {e}"))?;
    let suite = |name: &String| {
        registry::cipher_suite_by_name(name)
            .map(|s| s.code)
            .ok_or_else(|| format!("baselines/mozilla.json: unknown suite {name}"))
    };
    let group = |name: &String| {
        registry::named_groups()
            .iter()
            .find(|g| g.name.eq_ignore_ascii_case(name))
            .map(|g| g.code)
            .ok_or_else(|| format!("baselines/mozilla.json: unknown group {name}"))
    };
    let mut out = BTreeMap::new();
    for (name, raw) in file.profiles {
        let baseline = Baseline {
            name: name.clone(),
            summary: raw.summary,
            source: file.source.clone(),
            protocols: raw.protocols,
            suites: raw
                .tls12_suites
                .iter()
                .map(suite)
                .collect::<Result<_, _>>()?,
            tls13_suites: raw
                .tls13_suites
                .iter()
                .map(suite)
                .collect::<Result<_, _>>()?,
            groups: raw.groups.iter().map(group).collect::<Result<_, _>>()?,
            certificate_types: raw.certificate_types,
            rsa_key_size: raw.rsa_key_size,
            dh_param_size: raw.dh_param_size,
        };
        out.insert(name, baseline);
    }
    Ok(out)
}

fn all() -> &'static BTreeMap<String, Baseline> {
    static BASELINES: OnceLock<BTreeMap<String, Baseline>> = OnceLock::new();
    // The data is compiled in and checked by a unit test, so a failure here
    // is a build defect, not user input.
    BASELINES.get_or_init(|| resolve().expect("embedded baselines resolve"))
}

/// The names `--baseline` accepts.
pub fn names() -> Vec<&'static str> {
    all().keys().map(String::as_str).collect()
}

/// A baseline by name (`mozilla-intermediate`).
pub fn baseline(name: &str) -> Option<&'static Baseline> {
    all().get(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_profiles_resolve_against_the_registry() {
        let all = resolve().unwrap();
        assert_eq!(
            all.keys().collect::<Vec<_>>(),
            ["mozilla-intermediate", "mozilla-modern", "mozilla-old"]
        );
        let intermediate = &all["mozilla-intermediate"];
        assert_eq!(
            intermediate.protocols,
            [ProtocolVersion::Tls12, ProtocolVersion::Tls13]
        );
        assert!(intermediate.suites.contains(&0xC02F));
        assert!(!intermediate.suites.contains(&0x000A));
        assert!(all["mozilla-old"].suites.contains(&0x000A));
        assert!(all["mozilla-modern"].suites.is_empty());
        assert!(intermediate.allows_group(0x11EC));
        assert!(!intermediate.allows_group(0x0019));
    }
}
