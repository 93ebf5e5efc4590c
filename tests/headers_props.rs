//! The HSTS parser takes whatever a server sends: it never panics, and
//! what it reports is consistent with the header it was given.

use proptest::prelude::*;
use tlsposture::observe::{HeaderProbe, Hsts};

proptest! {
    #[test]
    fn any_header_parses_without_panicking(values in proptest::collection::vec(".{0,80}", 1..4)) {
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        let hsts = Hsts::parse(&refs).expect("at least one value");
        prop_assert_eq!(&hsts.raw, &values[0]);
        prop_assert_eq!(hsts.occurrences as usize, values.len());
        // A header without a number for max-age always says so.
        if hsts.max_age.is_none() {
            prop_assert!(!hsts.problems.is_empty());
        }
        prop_assert_eq!(values.len() > 1, hsts.problems.iter().any(|p| p.contains("Strict-Transport-Security headers")));
    }

    #[test]
    fn directives_in_any_case_and_order(age in 0u64..100_000_000, sub in any::<bool>(), pre in any::<bool>(), upper in any::<bool>()) {
        let mut parts = vec![format!("max-age={age}")];
        if sub { parts.push("includeSubDomains".to_owned()); }
        if pre { parts.push("preload".to_owned()); }
        parts.reverse();
        let mut header = parts.join("; ");
        if upper { header = header.to_ascii_uppercase(); }
        let hsts = Hsts::parse(&[&header]).unwrap();
        prop_assert_eq!(hsts.max_age, Some(age));
        prop_assert_eq!((hsts.include_subdomains, hsts.preload), (sub, pre));
        prop_assert_eq!(hsts.problems.is_empty(), age >= 15_552_000);
    }

    #[test]
    fn any_answer_headers_make_a_probe(headers in proptest::collection::vec(("[a-zA-Z-]{1,30}", ".{0,60}"), 0..12)) {
        let headers: Vec<(String, String)> = headers.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
        let p = HeaderProbe::answered("h", "/", false, 200, &headers);
        prop_assert_eq!(p.security_headers.len() + p.missing_headers.len(), tlsposture::observe::SECURITY_HEADERS.len());
    }
}
