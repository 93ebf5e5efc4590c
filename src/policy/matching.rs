//! Istio's match vocabulary, written once: the string pattern of
//! AuthorizationPolicy values (`*`, `prefix*`, `*suffix`, exact) and the
//! `selector.matchLabels` ⊆ workload labels rule. `policy::authz`
//! evaluates with it and the lab renders Envoy RBAC from it, so the
//! prediction and the lab cannot read a pattern two ways.
//!
//! Only what both sides mean identically lives here. Host matching (a bare
//! `hosts` entry against a `host:port` authority) is not: the evaluator and
//! the lab still disagree on it (see the code review, issue 11).

use std::collections::BTreeMap;

/// How Istio reads one AuthorizationPolicy string value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringPattern<'a> {
    /// `*`: the value is present.
    Any,
    /// `x*`.
    Prefix(&'a str),
    /// `*x` (checked before `x*`, so `*x*` is a suffix `x*`, as in Istio).
    Suffix(&'a str),
    /// Anything else, compared as is.
    Exact(&'a str),
}

impl<'a> StringPattern<'a> {
    /// Classifies `pattern` the way istio/istio's `StringMatcher` does.
    pub fn parse(pattern: &'a str) -> Self {
        if pattern == "*" {
            StringPattern::Any
        } else if let Some(suffix) = pattern.strip_prefix('*') {
            StringPattern::Suffix(suffix)
        } else if let Some(prefix) = pattern.strip_suffix('*') {
            StringPattern::Prefix(prefix)
        } else {
            StringPattern::Exact(pattern)
        }
    }

    /// Whether a present `value` matches (case-sensitive).
    pub fn matches(self, value: &str) -> bool {
        match self {
            StringPattern::Any => true,
            StringPattern::Prefix(p) => value.starts_with(p),
            StringPattern::Suffix(s) => value.ends_with(s),
            StringPattern::Exact(e) => value == e,
        }
    }
}

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
    fn patterns_classify_as_istio_does() {
        use StringPattern::*;
        assert_eq!(StringPattern::parse("*"), Any);
        assert_eq!(StringPattern::parse("/x/*"), Prefix("/x/"));
        assert_eq!(StringPattern::parse("*.png"), Suffix(".png"));
        assert_eq!(StringPattern::parse("*x*"), Suffix("x*"));
        assert_eq!(StringPattern::parse("/a"), Exact("/a"));
        assert!(Suffix(".png").matches("/a/b.png"));
        assert!(!Prefix("/x/").matches("/x"));
        assert!(!Exact("/a").matches("/a/"));
    }

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
