//! The vulnerability battery's verdicts: the active probes' results
//! (`observe::TargetObservation::vulnerabilities`) completed with the
//! checks derived from enumeration (POODLE, SWEET32, FREAK, LOGJAM, DROWN,
//! BEAST, LUCKY13, RC4), in [`VulnId::ALL`] order, and a `vuln.*` finding
//! per vulnerable check.
//!
//! The derived checks cost no connection: they read the protocol and suite
//! scans, the way testssl.sh's `run_ssl_poodle`, `run_sweet32`,
//! `run_freak`, `run_logjam`, `run_drown`, `run_beast`, `run_lucky13` and
//! `run_rc4` send hellos of their own for the same facts. A fact the scan
//! could not establish (a protocol `unknown`, an offered protocol with no
//! suite found) makes the check `unknown` with the reason, never clean.
//!
//! LUCKY13 is decided here as "vulnerable, for information": any CBC suite
//! in TLS ≤ 1.2 is what testssl.sh (`run_lucky13`) calls "potentially
//! vulnerable", but OpenSSL (1.0.1d, Feb 2013) and BoringSSL (forked after
//! that fix) have constant-time CBC decoding, and the timing cannot be
//! measured remotely without thousands of connections; so the status says
//! the precondition holds and the finding is `info`, with that context.

use std::collections::BTreeMap;

use serde_json::json;

use crate::finding::{Finding, Severity};
use crate::observe::{
    ProtocolResult, SuiteResult, TargetObservation, VulnId, VulnStatus, Vulnerability,
};
use crate::wire::ProtocolVersion;

/// Words in BEAST's evidence when nothing above TLS 1.0 is offered: the
/// finding is then medium instead of low (testssl.sh `run_beast`).
const BEAST_NO_HIGHER: &str = "no protocol above TLS 1.0 is offered";

/// Every check of the battery, in [`crate::observe::VulnId::ALL`] order;
/// empty when the `vulns` check did not run
/// (`observed.vulnerabilities` is `None`).
pub fn assess(observed: &TargetObservation) -> Vec<Vulnerability> {
    let Some(active) = &observed.vulnerabilities else {
        return Vec::new();
    };
    let mut by_id: BTreeMap<VulnId, &Vulnerability> = BTreeMap::new();
    for v in active {
        by_id.entry(v.id).or_insert(v);
    }
    let facts = Facts::new(observed);
    VulnId::ALL
        .into_iter()
        .map(|id| match (derive(id, &facts), by_id.get(&id)) {
            (Some(derived), Some(probed)) => merge(derived, probed),
            (Some(derived), None) => derived,
            (None, Some(probed)) => (*probed).clone(),
            (None, None) => Vulnerability::new(
                id,
                VulnStatus::Unknown,
                "the active probes reported nothing for this check",
            ),
        })
        .collect()
}

/// A derived check with what an active probe added (LOGJAM's DH prime):
/// the worse status wins, both evidences are kept.
fn merge(derived: Vulnerability, probed: &Vulnerability) -> Vulnerability {
    let status = match (derived.status, probed.status) {
        (VulnStatus::Vulnerable, _) | (_, VulnStatus::Vulnerable) => VulnStatus::Vulnerable,
        (VulnStatus::Unknown, _) => VulnStatus::Unknown,
        (s, _) => s,
    };
    Vulnerability::new(
        derived.id,
        status,
        format!("{}; {}", derived.evidence, probed.evidence),
    )
}

/// What the protocol and suite scans established.
struct Facts<'a> {
    protocols: &'a [ProtocolResult],
    suites: &'a [SuiteResult],
    /// A note for clean results when some probes got no usable answer.
    incomplete: Option<String>,
}

/// Whether a protocol is offered, as the protocol scan saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Offered {
    Yes,
    No,
    Unknown(String),
}

impl<'a> Facts<'a> {
    fn new(o: &'a TargetObservation) -> Self {
        Facts {
            protocols: &o.protocols,
            suites: &o.cipher_suites,
            incomplete: o.stats.incomplete.as_ref().map(|i| {
                format!(
                    " (the scan was incomplete: {} unanswered, {} cut, {} skipped probes; a suite may have been missed)",
                    i.unanswered, i.truncated, i.skipped
                )
            }),
        }
    }

    fn offered(&self, v: ProtocolVersion) -> Offered {
        match self.protocols.iter().find(|p| p.version == v) {
            None => Offered::Unknown(format!("{} was not probed", v.name())),
            Some(p) => match p.offered {
                Some(true) => Offered::Yes,
                Some(false) => Offered::No,
                None => Offered::Unknown(format!("{} unknown: {}", v.name(), p.evidence)),
            },
        }
    }

    /// The accepted suites of `v` matching `pred`, or why that cannot be
    /// told (offered, yet enumeration found no suite at all for it).
    fn matching(
        &self,
        v: ProtocolVersion,
        pred: impl Fn(&SuiteResult) -> bool,
    ) -> Result<Vec<&'a SuiteResult>, String> {
        let of_v: Vec<&SuiteResult> = self.suites.iter().filter(|s| s.protocol == v).collect();
        if of_v.is_empty() {
            return Err(format!(
                "{} is offered but suite enumeration found no suite for it",
                v.name()
            ));
        }
        Ok(of_v.into_iter().filter(|s| pred(s)).collect())
    }

    /// Over `versions`: the matching suites per offered version, the
    /// reasons some could not be told, and the offered versions.
    fn scan(&self, versions: &[ProtocolVersion], pred: impl Fn(&SuiteResult) -> bool) -> Scan<'a> {
        let mut out = Scan::default();
        for &v in versions {
            match self.offered(v) {
                Offered::No => {}
                Offered::Unknown(why) => out.unknown.push(why),
                Offered::Yes => {
                    out.offered.push(v);
                    match self.matching(v, &pred) {
                        Ok(found) => out.found.extend(found),
                        Err(why) => out.unknown.push(why),
                    }
                }
            }
        }
        out
    }

    fn clean(&self, id: VulnId, evidence: impl Into<String>) -> Vulnerability {
        let mut evidence = evidence.into();
        if let Some(note) = &self.incomplete {
            evidence.push_str(note);
        }
        Vulnerability::new(id, VulnStatus::NotVulnerable, evidence)
    }
}

#[derive(Default)]
struct Scan<'a> {
    found: Vec<&'a SuiteResult>,
    unknown: Vec<String>,
    offered: Vec<ProtocolVersion>,
}

impl Scan<'_> {
    /// "TLS 1.0: A, B; TLS 1.2: C" (at most a handful of names per
    /// protocol, so forty weak suites stay one line).
    fn listed(&self) -> String {
        let mut by_protocol: Vec<(ProtocolVersion, Vec<&str>)> = Vec::new();
        for s in &self.found {
            let name = s.openssl.as_deref().unwrap_or(&s.iana);
            match by_protocol.iter_mut().find(|(p, _)| *p == s.protocol) {
                Some((_, names)) => names.push(name),
                None => by_protocol.push((s.protocol, vec![name])),
            }
        }
        by_protocol
            .iter()
            .map(|(p, names)| {
                let more = names.len().saturating_sub(4);
                let shown = names[..names.len().min(4)].join(", ");
                if more > 0 {
                    format!("{}: {shown} and {more} more", p.name())
                } else {
                    format!("{}: {shown}", p.name())
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The usual answer: vulnerable when found, unknown when a fact is
    /// missing, else clean with `clean`.
    fn verdict(&self, id: VulnId, facts: &Facts, what: &str, clean: &str) -> Vulnerability {
        if !self.found.is_empty() {
            return Vulnerability::new(
                id,
                VulnStatus::Vulnerable,
                format!("{what} accepted: {}", self.listed()),
            );
        }
        if !self.unknown.is_empty() {
            return Vulnerability::new(
                id,
                VulnStatus::Unknown,
                format!("cannot tell: {}", self.unknown.join("; ")),
            );
        }
        facts.clean(id, clean)
    }
}

/// Every protocol with TLS-style suites, SSLv2 first.
const ALL_PROTOCOLS: [ProtocolVersion; 6] = [
    ProtocolVersion::Ssl2,
    ProtocolVersion::Ssl3,
    ProtocolVersion::Tls10,
    ProtocolVersion::Tls11,
    ProtocolVersion::Tls12,
    ProtocolVersion::Tls13,
];

fn protocols_upto(max: ProtocolVersion) -> Vec<ProtocolVersion> {
    ALL_PROTOCOLS.into_iter().filter(|p| *p <= max).collect()
}

/// The symmetric cipher's name: the registry's for TLS suites, the cipher
/// kind's for SSLv2 (both upper-cased).
fn cipher_of(s: &SuiteResult) -> String {
    if s.protocol == ProtocolVersion::Ssl2 {
        return crate::registry::sslv2_cipher_kind(s.code)
            .map(|k| k.name.clone())
            .unwrap_or_else(|| s.iana.clone())
            .to_ascii_uppercase();
    }
    match s.registry_entry() {
        Some(c) => c.cipher.to_ascii_uppercase(),
        None => s.iana.to_ascii_uppercase(),
    }
}

fn is_cbc(s: &SuiteResult) -> bool {
    cipher_of(s).contains("CBC")
}

/// 64-bit block ciphers (SWEET32): 3DES, DES, IDEA, RC2.
fn is_64bit_block(s: &SuiteResult) -> bool {
    let c = cipher_of(s);
    c.contains("DES") || c.contains("IDEA") || c.contains("RC2")
}

fn is_rc4(s: &SuiteResult) -> bool {
    cipher_of(s).contains("RC4")
}

fn is_export(s: &SuiteResult) -> bool {
    s.registry_entry().is_some_and(|c| c.export)
}

fn is_dhe(s: &SuiteResult) -> bool {
    s.protocol != ProtocolVersion::Ssl2 && s.protocol != ProtocolVersion::Tls13 && {
        let kx = s.kx.to_ascii_uppercase();
        kx == "DHE" || kx == "DH"
    }
}

/// The derived checks; `None` for the active ones.
fn derive(id: VulnId, f: &Facts) -> Option<Vulnerability> {
    use ProtocolVersion::*;
    Some(match id {
        VulnId::PoodleSsl => match f.offered(Ssl3) {
            Offered::No => f.clean(id, "SSLv3 not offered"),
            Offered::Unknown(why) => {
                Vulnerability::new(id, VulnStatus::Unknown, format!("cannot tell: {why}"))
            }
            Offered::Yes => f.scan(&[Ssl3], is_cbc).verdict(
                id,
                f,
                "SSLv3 with CBC suites",
                "SSLv3 offered, but with no CBC suite",
            ),
        },
        VulnId::Sweet32 => f.scan(&protocols_upto(Tls13), is_64bit_block).verdict(
            id,
            f,
            "64-bit block cipher suites (3DES, DES, IDEA, RC2)",
            "no 64-bit block cipher suite accepted in any protocol",
        ),
        VulnId::Freak => f
            .scan(&protocols_upto(Tls12), |s| {
                s.protocol != Ssl2 && is_export(s) && s.kx.eq_ignore_ascii_case("RSA")
            })
            .verdict(
                id,
                f,
                "EXPORT RSA suites",
                "no EXPORT RSA suite accepted",
            ),
        VulnId::Logjam => logjam(f),
        VulnId::Drown => match f.offered(Ssl2) {
            Offered::Yes => Vulnerability::new(
                id,
                VulnStatus::Vulnerable,
                "SSLv2 offered on this target: its RSA key can decrypt recorded TLS sessions (DROWN)",
            ),
            Offered::No => f.clean(
                id,
                "SSLv2 not offered on this target (another server sharing this RSA key is not checked)",
            ),
            Offered::Unknown(why) => {
                Vulnerability::new(id, VulnStatus::Unknown, format!("cannot tell: {why}"))
            }
        },
        VulnId::Beast => beast(f),
        VulnId::Lucky13 => {
            let scan = f.scan(&protocols_upto(Tls12), |s| s.protocol != Ssl2 && is_cbc(s));
            let mut v = scan.verdict(
                id,
                f,
                "CBC suites in TLS ≤ 1.2",
                "no CBC suite accepted in TLS ≤ 1.2",
            );
            if v.status == VulnStatus::Vulnerable {
                v.evidence.push_str(
                    " (the precondition only: OpenSSL ≥ 1.0.1d and BoringSSL decode CBC in constant time; prefer AEAD suites)",
                );
            }
            v
        }
        VulnId::Rc4 => f.scan(&protocols_upto(Tls12), is_rc4).verdict(
            id,
            f,
            "RC4 suites",
            "no RC4 suite accepted in any protocol",
        ),
        _ => return None,
    })
}

fn logjam(f: &Facts) -> Vulnerability {
    let id = VulnId::Logjam;
    let scan = f.scan(&protocols_upto(ProtocolVersion::Tls12), is_dhe);
    if !scan.unknown.is_empty() && scan.found.is_empty() {
        return scan.verdict(id, f, "", "");
    }
    let export: Vec<&SuiteResult> = scan
        .found
        .iter()
        .copied()
        .filter(|s| is_export(s))
        .collect();
    let weak: Vec<&SuiteResult> = scan
        .found
        .iter()
        .copied()
        .filter(|s| !is_export(s) && s.dh_bits.is_some_and(|b| b < 1024))
        .collect();
    let no_size: Vec<&SuiteResult> = scan
        .found
        .iter()
        .copied()
        .filter(|s| !is_export(s) && s.dh_bits.is_none())
        .collect();
    let smallest = scan
        .found
        .iter()
        .filter(|s| !is_export(s))
        .filter_map(|s| s.dh_bits)
        .min();
    let names = |list: &[&SuiteResult]| {
        Scan {
            found: list.to_vec(),
            ..Scan::default()
        }
        .listed()
    };
    if !export.is_empty() {
        return Vulnerability::new(
            id,
            VulnStatus::Vulnerable,
            format!("EXPORT DHE suites accepted: {}", names(&export)),
        );
    }
    if !weak.is_empty() {
        return Vulnerability::new(
            id,
            VulnStatus::Vulnerable,
            format!(
                "DHE with a {}-bit prime (< 1024) accepted: {}",
                smallest.unwrap_or(0),
                names(&weak)
            ),
        );
    }
    if scan.found.is_empty() {
        return f.clean(
            id,
            "no DHE suite accepted (neither EXPORT nor ordinary DHE)",
        );
    }
    if !no_size.is_empty() {
        return Vulnerability::new(
            id,
            VulnStatus::Unknown,
            format!(
                "cannot tell: DHE suites accepted but the DH prime size was not seen: {}",
                names(&no_size)
            ),
        );
    }
    let bits = smallest.unwrap_or(0);
    let note = if bits < 2048 {
        format!("; DH prime of {bits} bits is below 2048 (RFC 9325 §4.1 / SSL Labs caps it)")
    } else {
        String::new()
    };
    f.clean(
        id,
        format!(
            "no EXPORT DHE suite; DHE suites use primes of ≥ {bits} bits{note}: {}",
            scan.listed()
        ),
    )
}

fn beast(f: &Facts) -> Vulnerability {
    use ProtocolVersion::*;
    let id = VulnId::Beast;
    let scan = f.scan(&[Ssl3, Tls10], is_cbc);
    if scan.found.is_empty() {
        let clean = if scan.offered.is_empty() {
            "neither SSLv3 nor TLS 1.0 offered"
        } else {
            "SSLv3 / TLS 1.0 offered with no CBC suite"
        };
        return scan.verdict(id, f, "", clean);
    }
    let higher: Vec<&str> = [Tls11, Tls12, Tls13]
        .into_iter()
        .filter(|v| f.offered(*v) == Offered::Yes)
        .map(|v| v.name())
        .collect();
    let context = if higher.is_empty() {
        format!("{BEAST_NO_HIGHER}, so every client uses a CBC suite there")
    } else {
        format!(
            "{} also offered: only clients that cannot do better are exposed, and they split records (1/n-1) since 2012",
            higher.join(", ")
        )
    };
    Vulnerability::new(
        id,
        VulnStatus::Vulnerable,
        format!(
            "CBC suites in SSLv3 / TLS 1.0: {}; {context}",
            scan.listed()
        ),
    )
}

/// How bad a vulnerable check is, its title and the remedy.
fn impact(v: &Vulnerability) -> (Severity, &'static str, &'static str) {
    match v.id {
        VulnId::Heartbleed => (
            Severity::Critical,
            "Heartbleed: the server answers heartbeats with memory beyond the request (CVE-2014-0160)",
            "upgrade the TLS stack (OpenSSL ≥ 1.0.1g) or disable heartbeats; then rotate the private key and revoke the certificate",
        ),
        VulnId::CcsInjection => (
            Severity::High,
            "CCS injection: the server accepts an early ChangeCipherSpec (CVE-2014-0224)",
            "upgrade the TLS stack (OpenSSL ≥ 1.0.1h / 1.0.0m / 0.9.8za)",
        ),
        VulnId::Ticketbleed => (
            Severity::High,
            "Ticketbleed: the server echoes a session ID longer than sent, leaking memory (CVE-2016-9244)",
            "upgrade the F5 BIG-IP front end or disable its session tickets",
        ),
        VulnId::Robot => (
            Severity::High,
            "ROBOT: the server is a Bleichenbacher RSA padding oracle (CVE-2017-13099)",
            "remove RSA key-transport suites (AES128-SHA, AES128-GCM-SHA256, DES-CBC3-SHA …) from tls.cipherSuites, and upgrade the front end",
        ),
        VulnId::SecureRenegotiation => (
            Severity::Medium,
            "secure renegotiation (RFC 5746) not supported",
            "upgrade the TLS stack to one that supports RFC 5746 renegotiation_info",
        ),
        VulnId::ClientRenegotiation => (
            Severity::Medium,
            "client-initiated renegotiation accepted (CPU denial of service)",
            "disable client-initiated renegotiation on the TLS front end",
        ),
        VulnId::Crime => (
            Severity::High,
            "CRIME: TLS compression enabled (CVE-2012-4929)",
            "disable TLS-level compression",
        ),
        VulnId::Breach => (
            Severity::Low,
            "BREACH: HTTP compression on a TLS route (CVE-2013-3587)",
            "disable compression for responses that mix secrets (CSRF tokens, cookies) with reflected input, or mask the secrets",
        ),
        VulnId::PoodleSsl => (
            Severity::High,
            "POODLE: SSLv3 offered with CBC suites (CVE-2014-3566)",
            "disable SSLv3",
        ),
        VulnId::FallbackScsv => (
            Severity::Low,
            "TLS_FALLBACK_SCSV (RFC 7507) not honoured: downgrades are not prevented",
            "upgrade the TLS stack, or offer a single protocol version",
        ),
        VulnId::Sweet32 => (
            Severity::Medium,
            "SWEET32: 64-bit block cipher suites accepted (CVE-2016-2183)",
            "remove DES-CBC3-SHA and other 3DES / DES / IDEA / RC2 suites from tls.cipherSuites",
        ),
        VulnId::Freak => (
            Severity::High,
            "FREAK: EXPORT RSA suites accepted (CVE-2015-0204)",
            "remove EXPORT suites from the cipher list",
        ),
        VulnId::Logjam => (
            Severity::High,
            "LOGJAM: EXPORT DHE, a DH prime under 1024 bits, or a well-known 1024-bit prime (CVE-2015-4000)",
            "remove EXPORT and DHE suites, or use a DH group of at least 2048 bits (ffdhe2048)",
        ),
        VulnId::Drown => (
            Severity::Critical,
            "DROWN: SSLv2 offered (CVE-2016-0800)",
            "disable SSLv2 everywhere this RSA key is used, and consider a new key",
        ),
        VulnId::Beast if v.evidence.contains(BEAST_NO_HIGHER) => (
            Severity::Medium,
            "BEAST: CBC suites in SSLv3 / TLS 1.0 and nothing newer offered (CVE-2011-3389)",
            "offer TLS 1.2 (and 1.3), and disable SSLv3 / TLS 1.0",
        ),
        VulnId::Beast => (
            Severity::Low,
            "BEAST: CBC suites in SSLv3 / TLS 1.0 (CVE-2011-3389)",
            "disable SSLv3 / TLS 1.0 (tls.minProtocolVersion: TLSV1_2)",
        ),
        VulnId::Lucky13 => (
            Severity::Info,
            "LUCKY13 precondition: CBC suites in TLS ≤ 1.2 (CVE-2013-0169)",
            "prefer AEAD suites (AES-GCM, ChaCha20-Poly1305); current OpenSSL and BoringSSL are not known vulnerable",
        ),
        VulnId::Rc4 => (
            Severity::High,
            "RC4 suites accepted (CVE-2013-2566, CVE-2015-2808)",
            "remove RC4 suites from the cipher list",
        ),
        VulnId::Opossum => (
            Severity::Medium,
            "Opossum: the server honours an in-band TLS upgrade over TLS (CVE-2025-49812)",
            "disable RFC 2817 TLS upgrade (Apache SSLEngine optional) on TLS listeners",
        ),
    }
}

/// One `vuln.<id>` finding per vulnerable check.
pub fn findings(vulnerabilities: &[Vulnerability]) -> Vec<Finding> {
    vulnerabilities
        .iter()
        .filter(|v| v.status == VulnStatus::Vulnerable)
        .map(|v| {
            let (severity, title, remedy) = impact(v);
            Finding {
                id: format!("vuln.{}", v.id.name()),
                severity,
                title: title.to_owned(),
                expected: json!(VulnStatus::NotVulnerable.name()),
                observed: json!(v.status.name()),
                evidence: v.evidence.clone(),
                remedy: remedy.to_owned(),
                location: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::Incomplete;
    use ProtocolVersion::*;

    fn suite(protocol: ProtocolVersion, name: &str) -> SuiteResult {
        let s = crate::registry::cipher_suite_by_name(name).unwrap_or_else(|| panic!("{name}"));
        SuiteResult::new(protocol, s)
    }

    fn sslv2(code: u32) -> SuiteResult {
        let k = crate::registry::sslv2_cipher_kind(code).unwrap();
        SuiteResult {
            protocol: Ssl2,
            code,
            iana: k.name.clone(),
            openssl: k.openssl.clone(),
            strength: crate::registry::Strength::Weak,
            kx: "RSA".into(),
            bits: k.bits,
            group: None,
            dh_bits: None,
        }
    }

    /// A target offering `offered` (the rest not offered) with `suites`,
    /// and active results for every non-derived check.
    fn target(offered: &[ProtocolVersion], suites: Vec<SuiteResult>) -> TargetObservation {
        let mut o = TargetObservation::new("t:443".into(), 443, None);
        o.reachable = true;
        o.protocols = [Ssl2, Ssl3, Tls10, Tls11, Tls12, Tls13]
            .into_iter()
            .map(|v| {
                if offered.contains(&v) {
                    ProtocolResult::offered(v, "ServerHello".into(), Some(v), None)
                } else {
                    ProtocolResult::not_offered(v, "alert handshake_failure".into())
                }
            })
            .collect();
        o.cipher_suites = suites;
        o.vulnerabilities = Some(
            VulnId::ALL
                .into_iter()
                .filter(|id| derive(*id, &Facts::new(&o)).is_none())
                .map(|id| Vulnerability::new(id, VulnStatus::NotVulnerable, "probed"))
                .collect(),
        );
        o
    }

    fn status(o: &TargetObservation, id: VulnId) -> (VulnStatus, String) {
        let v = assess(o).into_iter().find(|v| v.id == id).unwrap();
        (v.status, v.evidence)
    }

    fn modern() -> TargetObservation {
        target(
            &[Tls12, Tls13],
            vec![
                suite(Tls12, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
                suite(Tls12, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
                suite(Tls13, "TLS_AES_128_GCM_SHA256"),
            ],
        )
    }

    #[test]
    fn all_checks_in_order_and_none_without_the_battery() {
        let o = modern();
        let ids: Vec<VulnId> = assess(&o).iter().map(|v| v.id).collect();
        assert_eq!(ids, VulnId::ALL.to_vec());
        let mut off = modern();
        off.vulnerabilities = None;
        assert!(assess(&off).is_empty());
        // An active check the probes did not report is unknown, not clean.
        let mut missing = modern();
        missing.vulnerabilities = Some(Vec::new());
        let (s, e) = status(&missing, VulnId::Heartbleed);
        assert_eq!(s, VulnStatus::Unknown, "{e}");
    }

    #[test]
    fn a_modern_target_is_clean_on_every_derived_check() {
        let o = modern();
        for v in assess(&o) {
            assert_eq!(v.status, VulnStatus::NotVulnerable, "{v:?}");
        }
        assert!(findings(&assess(&o)).is_empty());
    }

    #[test]
    fn sweet32_sees_3des_des_idea_and_sslv2_kinds() {
        for s in [
            suite(Tls12, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
            suite(Tls12, "TLS_RSA_WITH_DES_CBC_SHA"),
            suite(Tls10, "TLS_RSA_WITH_IDEA_CBC_SHA"),
        ] {
            let mut o = modern();
            o.protocols[2] = ProtocolResult::offered(Tls10, "x".into(), None, None);
            o.cipher_suites.push(s.clone());
            o.cipher_suites
                .push(suite(Tls10, "TLS_RSA_WITH_AES_128_CBC_SHA"));
            let (st, ev) = status(&o, VulnId::Sweet32);
            assert_eq!(st, VulnStatus::Vulnerable, "{}: {ev}", s.iana);
        }
        let mut o = target(
            &[Ssl2, Tls12],
            vec![
                sslv2(0x0700C0),
                suite(Tls12, "TLS_RSA_WITH_AES_128_GCM_SHA256"),
            ],
        );
        let (st, ev) = status(&o, VulnId::Sweet32);
        assert_eq!(st, VulnStatus::Vulnerable);
        assert!(ev.contains("SSLv2"), "{ev}");
        assert_eq!(status(&o, VulnId::Drown).0, VulnStatus::Vulnerable);
        // RC4 in SSLv2 is RC4.
        o.cipher_suites[0] = sslv2(0x010080);
        assert_eq!(status(&o, VulnId::Rc4).0, VulnStatus::Vulnerable);
        assert_eq!(status(&o, VulnId::Sweet32).0, VulnStatus::NotVulnerable);
    }

    #[test]
    fn unknown_facts_make_unknown_checks_never_clean() {
        let mut o = modern();
        o.protocols[1] = ProtocolResult::unknown(Ssl3, "connection reset".into());
        let (st, ev) = status(&o, VulnId::PoodleSsl);
        assert_eq!(st, VulnStatus::Unknown);
        assert!(ev.contains("connection reset"), "{ev}");
        assert_eq!(status(&o, VulnId::Sweet32).0, VulnStatus::Unknown);
        assert_eq!(status(&o, VulnId::Beast).0, VulnStatus::Unknown);
        // Offered but no suite enumerated: unknown too.
        let mut o = modern();
        o.protocols[2] = ProtocolResult::offered(Tls10, "x".into(), None, None);
        let (st, ev) = status(&o, VulnId::Beast);
        assert_eq!(st, VulnStatus::Unknown);
        assert!(ev.contains("no suite for it"), "{ev}");
        // A protocol scan that never ran.
        let mut o = modern();
        o.protocols.clear();
        assert_eq!(status(&o, VulnId::Drown).0, VulnStatus::Unknown);
        // A found suite still makes it vulnerable despite an unknown elsewhere.
        let mut o = modern();
        o.protocols[1] = ProtocolResult::unknown(Ssl3, "reset".into());
        o.cipher_suites
            .push(suite(Tls12, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"));
        assert_eq!(status(&o, VulnId::Sweet32).0, VulnStatus::Vulnerable);
    }

    #[test]
    fn poodle_needs_sslv3_with_cbc() {
        let o = target(
            &[Ssl3, Tls12],
            vec![
                suite(Ssl3, "TLS_RSA_WITH_RC4_128_SHA"),
                suite(Tls12, "TLS_RSA_WITH_AES_128_GCM_SHA256"),
            ],
        );
        let (st, ev) = status(&o, VulnId::PoodleSsl);
        assert_eq!(st, VulnStatus::NotVulnerable, "{ev}");
        assert_eq!(status(&o, VulnId::Rc4).0, VulnStatus::Vulnerable);
        let o = target(&[Ssl3], vec![suite(Ssl3, "TLS_RSA_WITH_AES_128_CBC_SHA")]);
        assert_eq!(status(&o, VulnId::PoodleSsl).0, VulnStatus::Vulnerable);
        // BEAST with nothing newer: medium.
        let (st, ev) = status(&o, VulnId::Beast);
        assert_eq!(st, VulnStatus::Vulnerable);
        let f = findings(&assess(&o));
        let beast = f.iter().find(|f| f.id == "vuln.beast").unwrap();
        assert_eq!(beast.severity, Severity::Medium, "{ev}");
        let poodle = f.iter().find(|f| f.id == "vuln.poodle_ssl").unwrap();
        assert_eq!(poodle.severity, Severity::High);
    }

    #[test]
    fn beast_is_low_with_a_higher_protocol_and_lucky13_is_info() {
        let o = target(
            &[Tls10, Tls12],
            vec![
                suite(Tls10, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
                suite(Tls12, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
            ],
        );
        let (st, ev) = status(&o, VulnId::Beast);
        assert_eq!(st, VulnStatus::Vulnerable);
        assert!(
            ev.contains("TLS 1.2 also offered") || ev.contains("also offered"),
            "{ev}"
        );
        let f = findings(&assess(&o));
        assert_eq!(
            f.iter().find(|f| f.id == "vuln.beast").unwrap().severity,
            Severity::Low
        );
        let l = f.iter().find(|f| f.id == "vuln.lucky13").unwrap();
        assert_eq!(l.severity, Severity::Info);
        assert!(l.evidence.contains("constant time"), "{}", l.evidence);
        // AEAD only in TLS 1.2: no LUCKY13.
        assert_eq!(
            status(&modern(), VulnId::Lucky13).0,
            VulnStatus::NotVulnerable
        );
    }

    #[test]
    fn freak_and_logjam() {
        let o = target(
            &[Tls10],
            vec![
                suite(Tls10, "TLS_RSA_EXPORT_WITH_RC4_40_MD5"),
                suite(Tls10, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA"),
            ],
        );
        assert_eq!(status(&o, VulnId::Freak).0, VulnStatus::Vulnerable);
        let (st, ev) = status(&o, VulnId::Logjam);
        assert_eq!(st, VulnStatus::Vulnerable);
        assert!(ev.contains("EXPORT DHE"), "{ev}");

        let dhe = |bits: Option<u32>| {
            let mut s = suite(Tls12, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256");
            s.dh_bits = bits;
            target(&[Tls12], vec![s])
        };
        let (st, ev) = status(&dhe(Some(768)), VulnId::Logjam);
        assert_eq!(st, VulnStatus::Vulnerable, "{ev}");
        let (st, ev) = status(&dhe(Some(1024)), VulnId::Logjam);
        assert_eq!(st, VulnStatus::NotVulnerable, "{ev}");
        assert!(ev.contains("below 2048"), "{ev}");
        let (st, ev) = status(&dhe(Some(2048)), VulnId::Logjam);
        assert_eq!(st, VulnStatus::NotVulnerable);
        assert!(!ev.contains("below"), "{ev}");
        assert_eq!(status(&dhe(None), VulnId::Logjam).0, VulnStatus::Unknown);
        assert_eq!(
            status(&dhe(Some(2048)), VulnId::Freak).0,
            VulnStatus::NotVulnerable
        );
        // A probed common-prime note is merged into the derived evidence.
        let mut o = dhe(Some(2048));
        o.vulnerabilities.as_mut().unwrap().push(Vulnerability::new(
            VulnId::Logjam,
            VulnStatus::NotVulnerable,
            "DH prime is RFC 7919 ffdhe2048",
        ));
        let (st, ev) = status(&o, VulnId::Logjam);
        assert_eq!(st, VulnStatus::NotVulnerable);
        assert!(ev.contains("ffdhe2048") && ev.contains("≥ 2048"), "{ev}");
    }

    #[test]
    fn incomplete_scans_say_so_on_clean_results() {
        let mut o = modern();
        o.stats.incomplete = Some(Incomplete {
            unanswered: 2,
            ..Incomplete::default()
        });
        let (st, ev) = status(&o, VulnId::Sweet32);
        assert_eq!(st, VulnStatus::NotVulnerable);
        assert!(ev.contains("incomplete"), "{ev}");
    }

    #[test]
    fn findings_have_severity_remedy_and_evidence_per_vulnerable_check() {
        let vulns: Vec<Vulnerability> = VulnId::ALL
            .into_iter()
            .map(|id| Vulnerability::new(id, VulnStatus::Vulnerable, format!("seen {id}")))
            .collect();
        let f = findings(&vulns);
        assert_eq!(f.len(), VulnId::ALL.len());
        for (f, id) in f.iter().zip(VulnId::ALL) {
            assert_eq!(f.id, format!("vuln.{id}"));
            assert!(!f.remedy.is_empty() && !f.title.is_empty());
            assert_eq!(f.evidence, format!("seen {id}"));
        }
        let sev = |id: &str| f.iter().find(|f| f.id == id).unwrap().severity;
        assert_eq!(sev("vuln.heartbleed"), Severity::Critical);
        assert_eq!(sev("vuln.drown"), Severity::Critical);
        assert!(sev("vuln.robot") >= Severity::High && sev("vuln.ccs_injection") >= Severity::High);
        assert_eq!(sev("vuln.breach"), Severity::Low);
        assert_eq!(sev("vuln.lucky13"), Severity::Info);
        let clean = vec![Vulnerability::new(
            VulnId::Heartbleed,
            VulnStatus::Unknown,
            "x",
        )];
        assert!(findings(&clean).is_empty());
    }
}
