//! Whether a certificate is valid for a host name, the way browsers and
//! Envoy's clients decide it (RFC 6125 §6.4): DNS names from the SAN,
//! compared case-insensitively, with at most a whole left-most `*` label
//! that stands for exactly one label; IP addresses only against IP SANs; the
//! subject CN only when the certificate has no SAN extension at all.

use std::net::IpAddr;

use x509_parser::prelude::{GeneralName, X509Certificate};

/// `true` when the leaf is valid for `name` (a DNS name or an IP address).
/// A certificate that does not parse matches nothing.
pub fn hostname_matches(leaf_der: &[u8], name: &str) -> bool {
    let Ok(cert) = super::parse(leaf_der) else {
        return false;
    };
    let name = name.trim_end_matches('.');
    if name.is_empty() {
        return false;
    }
    let ip: Option<IpAddr> = name.parse().ok();
    match cert.subject_alternative_name() {
        Ok(Some(ext)) => ext.value.general_names.iter().any(|gn| match (gn, ip) {
            (GeneralName::IPAddress(bytes), Some(ip)) => super::ip_from(bytes) == Some(ip),
            (GeneralName::DNSName(pattern), None) => dns_matches(pattern, name),
            _ => false,
        }),
        // A SAN extension that does not parse is not a licence to fall
        // back to the CN.
        Err(_) => false,
        Ok(None) => ip.is_none() && common_names(&cert).any(|cn| dns_matches(cn, name)),
    }
}

fn common_names<'a>(cert: &'a X509Certificate<'_>) -> impl Iterator<Item = &'a str> {
    cert.subject()
        .iter_common_name()
        .filter_map(|attr| attr.as_str().ok())
}

/// One presented identifier against one reference name (both without the
/// trailing dot).
pub(crate) fn dns_matches(pattern: &str, name: &str) -> bool {
    let pattern = pattern.trim_end_matches('.');
    if let Some(suffix) = pattern.strip_prefix("*.") {
        // The wildcard must cover a whole label, and leave at least two
        // labels so `*.com` never matches; `*` never matches across dots.
        if suffix.contains('*') || suffix.split('.').filter(|l| !l.is_empty()).count() < 2 {
            return false;
        }
        return match name.split_once('.') {
            Some((first, rest)) => !first.is_empty() && rest.eq_ignore_ascii_case(suffix),
            None => false,
        };
    }
    // A `*` anywhere else (`f*.example.com`, `a.*.example.com`) is a partial
    // wildcard RFC 6125 lets clients refuse, and modern clients do.
    !pattern.contains('*') && pattern.eq_ignore_ascii_case(name)
}

#[cfg(test)]
mod tests {
    use super::super::test_certs::*;
    use super::*;

    #[test]
    fn wildcard_covers_exactly_one_left_most_label() {
        assert!(dns_matches("*.example.com", "a.example.com"));
        assert!(dns_matches("*.example.com", "A.EXAMPLE.com"));
        assert!(!dns_matches("*.example.com", "example.com"));
        assert!(!dns_matches("*.example.com", "a.b.example.com"));
        assert!(!dns_matches("*.com", "example.com"));
        assert!(!dns_matches("f*.example.com", "foo.example.com"));
        assert!(!dns_matches("a.*.example.com", "a.b.example.com"));
        assert!(!dns_matches("*.example.com", ".example.com"));
    }

    #[test]
    fn san_names_and_ips_match_case_insensitively() {
        let ca = root("r");
        let der = leaf(
            &["Gateway.Lab.Test", "*.apps.test", "10.0.0.1"],
            false,
            30,
            &ca,
        );
        assert!(hostname_matches(&der, "gateway.lab.test"));
        assert!(hostname_matches(&der, "gateway.lab.test."));
        assert!(hostname_matches(&der, "x.apps.test"));
        assert!(!hostname_matches(&der, "apps.test"));
        assert!(!hostname_matches(&der, "y.x.apps.test"));
        assert!(hostname_matches(&der, "10.0.0.1"));
        assert!(!hostname_matches(&der, "10.0.0.2"));
        assert!(!hostname_matches(&der, "other.test"));
        assert!(!hostname_matches(&der, ""));
    }

    #[test]
    fn common_name_counts_only_without_a_san() {
        let no_san = cn_only("legacy.test");
        assert!(hostname_matches(&no_san, "legacy.test"));
        assert!(!hostname_matches(&no_san, "other.test"));
    }

    #[test]
    fn garbage_matches_nothing() {
        assert!(!hostname_matches(b"not a certificate", "a.test"));
    }
}
