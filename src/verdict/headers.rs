//! Findings from the HTTP header probes (`observe::HeaderProbe`): HSTS
//! missing, invalid or short, and a server banner that names a version.
//! One finding per kind for the target, the hosts and paths it applies to
//! in its evidence: the same missing header on `/` and on a random path
//! is one fact about the gateway, not two.

use crate::finding::{Finding, Severity};
use crate::observe::{HeaderProbe, Hsts};

/// `headers.hsts_missing` (low), `headers.hsts_invalid` (medium: clients
/// keep nothing from it), `headers.hsts_short` (low: under 180 days),
/// `headers.hsts_duplicate` (low), `headers.server_banner` (info).
/// Probes without an HTTP answer give none (nothing was seen).
pub fn findings(probes: &[HeaderProbe]) -> Vec<Finding> {
    let answered: Vec<&HeaderProbe> = probes.iter().filter(|p| p.status.is_some()).collect();
    let mut out = Vec::new();
    let missing: Vec<String> = answered
        .iter()
        .filter(|p| p.hsts.is_none())
        .map(|p| where_(p))
        .collect();
    if !missing.is_empty() {
        out.push(Finding {
            id: "headers.hsts_missing".to_owned(),
            severity: Severity::Low,
            title: "No Strict-Transport-Security header".to_owned(),
            expected: serde_json::json!("Strict-Transport-Security: max-age>=15552000"),
            observed: serde_json::Value::Null,
            evidence: format!("no HSTS header on {}", missing.join(", ")),
            remedy: "Add Strict-Transport-Security to every answer, the gateway's own \
                     (local replies, 404s) included: on Envoy a response_headers_to_add \
                     on the route configuration or virtual host rather than on a route"
                .to_owned(),
            location: None,
        });
    }
    let with = |pick: fn(&Hsts) -> bool| -> Vec<(String, &Hsts)> {
        answered
            .iter()
            .filter_map(|p| p.hsts.as_ref().map(|h| (where_(p), h)))
            .filter(|(_, h)| pick(h))
            .collect()
    };
    let invalid = with(|h| !h.is_valid());
    if let Some((_, first)) = invalid.first() {
        out.push(hsts_finding(
            "headers.hsts_invalid",
            Severity::Medium,
            "Strict-Transport-Security header that clients ignore or that clears HSTS",
            first,
            &invalid,
        ));
    }
    let short = with(|h| {
        h.is_valid()
            && h.max_age
                .is_some_and(|a| a < crate::observe::HSTS_MIN_MAX_AGE)
    });
    if let Some((_, first)) = short.first() {
        out.push(hsts_finding(
            "headers.hsts_short",
            Severity::Low,
            "Strict-Transport-Security max-age shorter than 180 days",
            first,
            &short,
        ));
    }
    let doubled = with(|h| h.occurrences > 1);
    if let Some((_, first)) = doubled.first() {
        out.push(hsts_finding(
            "headers.hsts_duplicate",
            Severity::Low,
            "More than one Strict-Transport-Security header",
            first,
            &doubled,
        ));
    }
    let banners: Vec<String> = answered
        .iter()
        .filter_map(|p| {
            let shown: Vec<&str> = [p.server.as_deref(), p.powered_by.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            (!shown.is_empty()).then(|| format!("{:?} on {}", shown.join(", "), where_(p)))
        })
        .collect();
    if !banners.is_empty() {
        out.push(Finding {
            id: "headers.server_banner".to_owned(),
            severity: Severity::Info,
            title: "Server banner in HTTP answers".to_owned(),
            expected: serde_json::Value::Null,
            observed: serde_json::json!(answered
                .iter()
                .find_map(|p| p.server.as_deref().or(p.powered_by.as_deref()))),
            evidence: banners.join("; "),
            remedy: "Nothing needed for `envoy`; a banner with a product version helps an \
                     attacker pick exploits: drop or genericise it (Envoy: server_header_transformation)"
                .to_owned(),
            location: None,
        });
    }
    out
}

fn hsts_finding(
    id: &str,
    severity: Severity,
    title: &str,
    first: &Hsts,
    all: &[(String, &Hsts)],
) -> Finding {
    let evidence: Vec<String> = all
        .iter()
        .map(|(at, h)| {
            let problems = if h.problems.is_empty() {
                String::new()
            } else {
                format!(" ({})", h.problems.join("; "))
            };
            format!("{at}: {:?}{problems}", h.raw)
        })
        .collect();
    Finding {
        id: id.to_owned(),
        severity,
        title: title.to_owned(),
        expected: serde_json::json!("max-age>=15552000, a single header"),
        observed: serde_json::json!(first.raw),
        evidence: evidence.join("; "),
        remedy: "Send one Strict-Transport-Security header with max-age of at least 15552000 \
                 (180 days; 31536000 or more for preload)"
            .to_owned(),
        location: None,
    }
}

fn where_(p: &HeaderProbe) -> String {
    let status = p.status.map_or(String::new(), |s| format!(" ({s})"));
    format!("{}{}{status}", p.host, p.path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(hsts: &[&str], server: Option<&str>) -> HeaderProbe {
        let mut headers: Vec<(String, String)> = hsts
            .iter()
            .map(|v| ("strict-transport-security".to_owned(), (*v).to_owned()))
            .collect();
        if let Some(s) = server {
            headers.push(("server".to_owned(), s.to_owned()));
        }
        HeaderProbe::answered("example.com", "/", false, 200, &headers)
    }

    fn ids(p: &[HeaderProbe]) -> Vec<String> {
        findings(p).into_iter().map(|f| f.id).collect()
    }

    #[test]
    fn each_kind_of_problem_has_its_finding() {
        assert_eq!(
            ids(&[probe(&["max-age=63072000"], None)]),
            Vec::<String>::new()
        );
        assert_eq!(ids(&[probe(&[], None)]), ["headers.hsts_missing"]);
        assert_eq!(
            ids(&[probe(&["max-age=x"], None)]),
            ["headers.hsts_invalid"]
        );
        assert_eq!(
            ids(&[probe(&["max-age=0"], None)]),
            ["headers.hsts_invalid"]
        );
        assert_eq!(
            ids(&[probe(&["max-age=600"], None)]),
            ["headers.hsts_short"]
        );
        assert_eq!(
            ids(&[probe(&["max-age=63072000", "max-age=63072000"], None)]),
            ["headers.hsts_duplicate"]
        );
        assert_eq!(
            ids(&[probe(&["max-age=63072000"], Some("nginx/1.26.3"))]),
            ["headers.server_banner"]
        );
        let failed = HeaderProbe::failed("h", "/", false, "refused".to_owned());
        assert!(findings(&[failed]).is_empty());
    }

    #[test]
    fn one_finding_names_every_place() {
        let mut random = probe(&[], None);
        random.path = "/tlsposture-00".to_owned();
        random.random_path = true;
        let f = findings(&[probe(&[], None), random]);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].evidence.contains("example.com/ (200)"),
            "{}",
            f[0].evidence
        );
        assert!(
            f[0].evidence.contains("/tlsposture-00"),
            "{}",
            f[0].evidence
        );
    }
}
