//! Who a probe presented itself as: no client certificate, the scan's own
//! unknown-CA certificate, the expired certificate minted under the user's
//! CA, or a named identity (`--identity`, or the minted wrong-SAN one).
//! One type, so no module compares identity strings with another module's
//! constants.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A probe's client identity; serialised as the report names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identity {
    /// No client certificate (`none`).
    None,
    /// A certificate from a CA generated for the scan (`unknown-ca`).
    UnknownCa,
    /// A certificate from the user's CA that expired yesterday (`expired-cert`).
    Expired,
    /// A given identity, by its report name.
    Named(String),
}

impl Identity {
    /// The names reserved for the scan's own identities; a given identity
    /// may not take one.
    pub const RESERVED: [&'static str; 3] = ["none", "unknown-ca", "expired-cert"];

    pub fn name(&self) -> &str {
        match self {
            Identity::None => "none",
            Identity::UnknownCa => "unknown-ca",
            Identity::Expired => "expired-cert",
            Identity::Named(name) => name,
        }
    }

    /// Reads a report name back (the inverse of [`Identity::name`]).
    pub fn from_name(name: &str) -> Identity {
        match name {
            "none" => Identity::None,
            "unknown-ca" => Identity::UnknownCa,
            "expired-cert" => Identity::Expired,
            other => Identity::Named(other.to_owned()),
        }
    }

    /// A certificate the user gave (or the wrong-SAN one minted under the
    /// user's CA): one a MUTUAL gateway must accept.
    pub fn is_given(&self) -> bool {
        matches!(self, Identity::Named(_))
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

impl Serialize for Identity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Identity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Identity::from_name(&String::deserialize(deserializer)?))
    }
}

impl JsonSchema for Identity {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Identity".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(generator)
    }
}
