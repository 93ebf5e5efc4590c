//! Baselines: published server-side TLS recommendations (Mozilla's
//! modern / intermediate / old, NIST SP 800-52r2, BSI TR-02102-2, PCI DSS
//! 4.0), for a scan without a declared policy or in addition to one. Data
//! lives in `baselines/*.json`, embedded at build time; this module only
//! resolves its names against the registry. Each profile may cite the
//! section each of its rules comes from (`sources`, keyed by the rule's
//! field name).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::registry::{self, GroupKind};
use crate::wire::ProtocolVersion;

/// Every embedded file, by its path (for errors).
const FILES: [(&str, &str); 4] = [
    (
        "baselines/mozilla.json",
        include_str!("../../baselines/mozilla.json"),
    ),
    (
        "baselines/nist-sp800-52r2.json",
        include_str!("../../baselines/nist-sp800-52r2.json"),
    ),
    (
        "baselines/bsi-tr-02102-2.json",
        include_str!("../../baselines/bsi-tr-02102-2.json"),
    ),
    (
        "baselines/pci-dss-4.json",
        include_str!("../../baselines/pci-dss-4.json"),
    ),
];

#[derive(Debug, Deserialize)]
struct File {
    source: String,
    profiles: BTreeMap<String, RawProfile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    summary: String,
    /// Rule (field name) → the section of the source it comes from.
    #[serde(default)]
    sources: BTreeMap<String, String>,
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
    /// Rule (`protocols`, `tls12_suites` …) → the section it comes from.
    pub sources: BTreeMap<String, String>,
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

/// The fields a profile's `sources` may cite.
const RULES: [&str; 7] = [
    "protocols",
    "tls12_suites",
    "tls13_suites",
    "groups",
    "certificate_types",
    "rsa_key_size",
    "dh_param_size",
];

fn resolve() -> Result<BTreeMap<String, Baseline>, String> {
    let mut out = BTreeMap::new();
    for (path, text) in FILES {
        for (name, baseline) in resolve_file(path, text)? {
            if out.insert(name.clone(), baseline).is_some() {
                return Err(format!("{path}: profile {name} defined twice"));
            }
        }
    }
    Ok(out)
}

fn resolve_file(path: &str, text: &str) -> Result<BTreeMap<String, Baseline>, String> {
    let file: File = serde_json::from_str(text).map_err(|e| format!("{path}: {e}"))?;
    let suite = |name: &String| {
        registry::cipher_suite_by_name(name)
            .map(|s| s.code)
            .ok_or_else(|| format!("{path}: unknown suite {name}"))
    };
    let group = |name: &String| {
        registry::named_groups()
            .iter()
            .find(|g| g.name.eq_ignore_ascii_case(name))
            .map(|g| g.code)
            .ok_or_else(|| format!("{path}: unknown group {name}"))
    };
    let mut out = BTreeMap::new();
    for (name, raw) in file.profiles {
        if let Some(rule) = raw.sources.keys().find(|k| !RULES.contains(&k.as_str())) {
            return Err(format!("{path}: {name}: sources names no rule {rule:?}"));
        }
        let baseline = Baseline {
            name: name.clone(),
            summary: raw.summary,
            source: file.source.clone(),
            sources: raw.sources,
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
            [
                "bsi-tr-02102-2",
                "mozilla-intermediate",
                "mozilla-modern",
                "mozilla-old",
                "nist-800-52r2",
                "pci-dss-4.0"
            ]
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
        // The profiles beyond Mozilla cite a section for every rule.
        for name in ["nist-800-52r2", "bsi-tr-02102-2", "pci-dss-4.0"] {
            let b = &all[name];
            for rule in RULES {
                assert!(b.sources.contains_key(rule), "{name}: no source for {rule}");
            }
            assert!(!b.suites.contains(&0x000A), "{name}: 3DES");
            assert!(!b.protocols.contains(&ProtocolVersion::Tls10), "{name}");
        }
        assert_eq!(all["bsi-tr-02102-2"].rsa_key_size, Some(3000));
        assert!(all["bsi-tr-02102-2"].allows_group(0x001A)); // brainpoolP256r1
        assert!(!all["nist-800-52r2"].allows_group(0x001D)); // x25519
        assert!(all["pci-dss-4.0"].allows_group(0x001D));
    }

    #[test]
    fn a_source_for_a_rule_that_does_not_exist_is_refused() {
        let text = r#"{"source": "s", "profiles": {"p": {"summary": "x", "sources": {"ciphers": "§1"},
            "protocols": ["TLS1.2"], "tls12_suites": [], "tls13_suites": [], "groups": [],
            "certificate_types": ["RSA"], "rsa_key_size": null, "dh_param_size": null}}}"#;
        let err = resolve_file("t.json", text).unwrap_err();
        assert!(err.contains("ciphers"), "{err}");
    }
}
