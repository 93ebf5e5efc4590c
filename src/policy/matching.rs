//! The `selector.matchLabels` ⊆ workload labels rule, which
//! `policy::selection` applies to every policy kind.
//!
//! AuthorizationPolicy value patterns (`*`, `prefix*`, `*suffix`) are no
//! longer read here: istiod turns them into Envoy matchers in one place,
//! `policy::istiod::rbac` (`string_matcher_with_prefix`, `HostMatcher`,
//! …), and `policy::envoy::rbac` evaluates those.

use std::collections::BTreeMap;

/// Whether a policy `selector` (`matchLabels`) selects a workload with
/// `labels`: empty, or every selector label present with the same value.
pub fn selector_matches(
    selector: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_is_a_subset_of_the_labels() {
        let labels: BTreeMap<String, String> = [("istio", "ingressgateway"), ("app", "gw")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .into();
        let sel = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        assert!(selector_matches(&sel(&[]), &labels));
        assert!(selector_matches(
            &sel(&[("istio", "ingressgateway")]),
            &labels
        ));
        assert!(!selector_matches(&sel(&[("istio", "other")]), &labels));
        assert!(!selector_matches(
            &sel(&[("istio", "ingressgateway"), ("x", "y")]),
            &labels
        ));
    }
}
