//! From observations to a [`Grade`]: the prerequisites, the three scores,
//! every cap and warning (each with its rule), then the letter.

use crate::clients;
use crate::observe::{
    CertRequest, CertificateResult, HeaderProbe, TargetObservation, VulnId, VulnStatus,
    Vulnerability,
};
use crate::registry::{self, CipherSuite};
use crate::wire::ProtocolVersion;

use super::super::ClientSimulation;
use super::{rules, score, Grade, GradeCap, GradeWarning, Letter};

/// HSTS max-age the rating asks for: 180 days (testssl.sh `HSTS_MIN`;
/// SSL Labs' "at least 6 months").
pub const HSTS_MIN_SECONDS: u64 = 180 * 86_400;

/// How many client names a reason lists before "…".
const NAMED_CLIENTS: usize = 3;

struct Builder {
    caps: Vec<GradeCap>,
    warnings: Vec<GradeWarning>,
    basis: Vec<String>,
    not_checked: Vec<String>,
}

impl Builder {
    fn cap(&mut self, grade: Letter, reason: impl Into<String>, rule: &str) {
        self.caps.push(GradeCap {
            grade,
            reason: reason.into(),
            rule: rule.to_owned(),
        });
    }

    fn warn(&mut self, reason: impl Into<String>, rule: &str) {
        self.warnings.push(GradeWarning {
            reason: reason.into(),
            rule: rule.to_owned(),
        });
    }
}

pub fn grade(
    observed: &TargetObservation,
    simulations: &[ClientSimulation],
    vulnerabilities: &[Vulnerability],
    trust_anchor: Option<&str>,
) -> Result<Grade, String> {
    if let Some(error) = &observed.error {
        return Err(format!("not scanned: {error}"));
    }
    if observed.protocols.is_empty() {
        return Err("the protocols were not checked".into());
    }
    let offered: Vec<ProtocolVersion> = ProtocolVersion::ALL
        .into_iter()
        .filter(|v| observed.offers(*v))
        .collect();
    let (Some(&worst), Some(&best)) = (offered.first(), offered.last()) else {
        return Err("no protocol version was seen offered".into());
    };
    if observed.cipher_suites.is_empty() {
        return Err(
            "no cipher suite was enumerated (the suites check did not run or found none)".into(),
        );
    }
    let certificates = graded_certificates(observed);
    if certificates.is_empty() {
        return Err(
            "no certificate was read (the certificates check did not run or failed)".into(),
        );
    }
    if observed.vulnerabilities.is_none() {
        return Err(
            "the vulnerability battery did not run (--checks vulns): its F and C caps are part of the rating"
                .into(),
        );
    }
    let mut b = Builder {
        caps: Vec::new(),
        warnings: Vec::new(),
        basis: Vec::new(),
        not_checked: Vec::new(),
    };
    for p in observed.protocols.iter().filter(|p| p.offered.is_none()) {
        b.not_checked.push(format!(
            "{}: whether it is offered is unknown ({})",
            p.version, p.evidence
        ));
    }
    if observed.stats.incomplete.is_some() {
        b.basis
            .push("some probes were incomplete: graded from what was seen".into());
    }

    let protocol_score = (score::protocol(best) + score::protocol(worst)) / 2;
    protocol_caps(observed, &offered, best, &mut b);
    let trusted_by = certificate_caps(&certificates, trust_anchor, &mut b);
    let key_exchange_score = key_exchange(observed, &certificates, &mut b);
    let cipher_score = cipher(observed, &mut b);
    client_caps(observed, simulations, &mut b);
    vulnerability_caps(vulnerabilities, &mut b);
    let hsts = hsts(&observed.http_headers, &mut b);

    let total = score::total(protocol_score, key_exchange_score, cipher_score);
    b.basis.push(format!("score: {}", rules::SCORE));
    let worst_cap = b.caps.iter().map(|c| c.grade).min_by_key(|l| l.rank());
    let certificate_decides = matches!(worst_cap, Some(Letter::T | Letter::M));
    let mut letter = score::letter(total);
    if let Some(cap) = worst_cap.filter(|c| c.rank() < letter.rank()) {
        letter = cap;
    }
    if letter == Letter::A {
        if !b.warnings.is_empty() {
            letter = Letter::AMinus;
            b.basis
                .push(format!("A with warnings is A- ({})", rules::A_MINUS));
        } else if hsts {
            letter = Letter::APlus;
            b.basis.push(format!(
                "A+: no warnings and HSTS max-age ≥ 180 days ({})",
                rules::A_PLUS
            ));
        } else {
            b.basis.push(format!(
                "A, not A+: HSTS with max-age ≥ 180 days was not seen ({})",
                rules::A_PLUS
            ));
        }
    }
    Ok(Grade {
        grade: letter,
        score: (!certificate_decides).then_some(total),
        caps: b.caps,
        warnings: b.warnings,
        protocol_score,
        key_exchange_score,
        cipher_score,
        trusted_by,
        basis: b.basis,
        not_checked: b.not_checked,
    })
}

/// The certificates the target serves for its own name (the requested
/// SNI, or none when none was sent); the default certificate served for an
/// unknown name is not this server's and does not count.
fn graded_certificates(observed: &TargetObservation) -> Vec<&CertificateResult> {
    let served = |c: &&CertificateResult| c.refused.is_none() && !c.chain.is_empty();
    let requested: Vec<&CertificateResult> = observed
        .certificates
        .iter()
        .filter(served)
        .filter(|c| c.request == CertRequest::Requested)
        .collect();
    if !requested.is_empty() {
        return requested;
    }
    observed
        .certificates
        .iter()
        .filter(served)
        .filter(|c| c.request == CertRequest::None)
        .collect()
}

fn protocol_caps(
    observed: &TargetObservation,
    offered: &[ProtocolVersion],
    best: ProtocolVersion,
    b: &mut Builder,
) {
    let has = |v| offered.contains(&v);
    if has(ProtocolVersion::Ssl2) {
        b.cap(Letter::F, "SSL 2.0 offered", rules::SSL2);
    }
    if best <= ProtocolVersion::Ssl3 {
        b.cap(
            Letter::F,
            "SSL 3.0 is the best protocol offered",
            rules::SSL3_BEST,
        );
    } else if has(ProtocolVersion::Ssl3) {
        b.cap(Letter::B, "SSL 3.0 offered", rules::SSL3);
    }
    for v in [ProtocolVersion::Tls10, ProtocolVersion::Tls11] {
        if has(v) {
            b.cap(Letter::B, format!("{v} offered"), rules::TLS10_11);
        }
    }
    if !has(ProtocolVersion::Tls12) && !has(ProtocolVersion::Tls13) {
        b.cap(
            Letter::C,
            "neither TLS 1.2 nor TLS 1.3 offered",
            rules::NO_TLS12,
        );
    }
    let tls13 = observed
        .protocols
        .iter()
        .find(|p| p.version == ProtocolVersion::Tls13)
        .and_then(|p| p.offered);
    if tls13 == Some(false) {
        b.warn("TLS 1.3 not offered", rules::NO_TLS13);
    }
    // POODLE is a fact of enumeration: SSL 3.0 with a CBC suite.
    let sslv3_cbc: Vec<&str> = observed
        .cipher_suites
        .iter()
        .filter(|s| s.protocol == ProtocolVersion::Ssl3)
        .filter(|s| s.registry_entry().is_some_and(|r| r.cipher.contains("CBC")))
        .map(suite_label)
        .collect();
    if !sslv3_cbc.is_empty() {
        b.cap(
            Letter::C,
            format!("POODLE: SSL 3.0 with CBC ({})", sslv3_cbc.join(", ")),
            rules::POODLE,
        );
    }
}

fn suite_label(s: &crate::observe::SuiteResult) -> &str {
    s.openssl.as_deref().unwrap_or(&s.iana)
}

/// Returns what the chains were trusted by.
fn certificate_caps(
    certificates: &[&CertificateResult],
    trust_anchor: Option<&str>,
    b: &mut Builder,
) -> Option<String> {
    let mut all_trusted = true;
    for cert in certificates {
        let leaf = &cert.chain[0];
        let name = cert.sni.as_deref().unwrap_or("no SNI");
        let which = match &cert.key_type {
            Some(k) => format!("{name} ({k})"),
            None => name.to_owned(),
        };
        match cert.hostname_match {
            Some(false) => b.cap(
                Letter::M,
                format!(
                    "{which}: the certificate is not valid for the name ({})",
                    leaf.subject
                ),
                rules::NAME_MISMATCH,
            ),
            Some(true) => {}
            None => b.not_checked.push(format!(
                "{which}: name match not checked (no server name to match)"
            )),
        }
        match cert.trusted {
            Some(false) => {
                all_trusted = false;
                let why = cert
                    .trust_error
                    .as_deref()
                    .unwrap_or("chain does not verify");
                let against = trust_anchor.map_or("the public roots".to_owned(), |a| a.to_owned());
                b.cap(
                    Letter::T,
                    format!("{which}: not trusted by {against}: {why}"),
                    rules::UNTRUSTED,
                );
            }
            Some(true) => {}
            None => {
                all_trusted = false;
                b.not_checked
                    .push(format!("{which}: chain trust not checked"));
            }
        }
        let days = cert.days_left.unwrap_or(leaf.days_left);
        if days < 0 {
            b.cap(
                Letter::T,
                format!("{which}: expired {} day(s) ago ({})", -days, leaf.not_after),
                rules::EXPIRED,
            );
        }
        // A self-signed leaf the user named as an anchor (`--ca`) is trusted
        // by choice; otherwise it is the classic T.
        if leaf.self_signed && cert.trusted != Some(true) {
            b.cap(
                Letter::T,
                format!("{which}: self-signed certificate"),
                rules::SELF_SIGNED,
            );
        }
        let sig = leaf.signature_algorithm.to_ascii_lowercase();
        if sig.contains("md5") || sig.contains("md2") {
            b.cap(
                Letter::F,
                format!(
                    "{which}: certificate signed with {}",
                    leaf.signature_algorithm
                ),
                rules::MD5_LEAF,
            );
        } else if sig.contains("sha1") && !leaf.self_signed {
            b.cap(
                Letter::T,
                format!(
                    "{which}: certificate signed with {}",
                    leaf.signature_algorithm
                ),
                rules::SHA1_LEAF,
            );
        }
    }
    all_trusted.then(|| match trust_anchor {
        Some(anchor) => anchor.to_owned(),
        None => "public roots".to_owned(),
    })
}

/// Category 2: the weakest of every certificate key and every DH group,
/// 0 with anonymous suites, at most 40 with export key exchange.
fn key_exchange(
    observed: &TargetObservation,
    certificates: &[&CertificateResult],
    b: &mut Builder,
) -> u32 {
    let mut lowest: Option<(u32, String)> = None;
    let mut consider = |s: u32, what: String| {
        if lowest.as_ref().is_none_or(|(l, _)| s < *l) {
            lowest = Some((s, what));
        }
    };
    for cert in certificates {
        let leaf = &cert.chain[0];
        let kind = leaf.key_type.as_str();
        let s = match kind {
            "RSA" | "RSA-PSS" | "DSA" => score::finite_field_key(leaf.key_bits),
            "ECDSA" | "Ed25519" | "Ed448" => score::elliptic_key(leaf.key_bits),
            k if k.starts_with("ML-DSA") => {
                if leaf.key_bits < 4032 {
                    90
                } else {
                    100
                }
            }
            other => {
                b.not_checked.push(format!(
                    "certificate key {other} is not scored by the rating guide"
                ));
                continue;
            }
        };
        consider(s, format!("{kind} {} certificate key", leaf.key_bits));
    }
    for s in &observed.cipher_suites {
        let entry = s.registry_entry();
        if entry.is_some_and(|e| e.auth == "anon") {
            consider(0, format!("anonymous key exchange ({})", suite_label(s)));
        } else if entry.is_some_and(|e| e.export) {
            consider(40, format!("export key exchange ({})", suite_label(s)));
        }
        if matches!(s.kx.as_str(), "DHE" | "DH") {
            if let Some(bits) = s.dh_bits {
                consider(
                    score::finite_field_key(bits),
                    format!("DH group of {bits} bits ({})", suite_label(s)),
                );
            }
        }
    }
    let (s, what) = lowest.unwrap_or((0, "no key seen".into()));
    b.basis
        .push(format!("key exchange {s}: weakest is the {what}"));
    if s <= 40 {
        b.cap(
            Letter::F,
            format!("insecure key exchange: {what}"),
            rules::KX_INSECURE,
        );
    } else if s <= 80 {
        b.cap(
            Letter::B,
            format!("weak key exchange: {what}"),
            rules::KX_WEAK,
        );
    }
    s
}

/// Category 3 and the caps that come from what suites are offered.
fn cipher(observed: &TargetObservation, b: &mut Builder) -> u32 {
    let mut best = 0u32;
    let mut worst = u32::MAX;
    let mut weak = Vec::new();
    let mut export = Vec::new();
    let mut rc4 = Vec::new();
    let mut rc4_tls11 = false;
    for s in &observed.cipher_suites {
        let cipher_name = s.registry_entry().map_or("", |e| e.cipher.as_str());
        let bits = score::scored_bits(cipher_name, s.bits);
        best = best.max(bits);
        worst = worst.min(bits);
        if bits < 112 {
            weak.push(format!("{} ({bits} bits)", suite_label(s)));
        }
        if s.registry_entry().is_some_and(|e| e.export) {
            export.push(suite_label(s).to_owned());
        }
        if cipher_name.starts_with("RC4") {
            rc4.push(suite_label(s).to_owned());
            rc4_tls11 |= s.protocol >= ProtocolVersion::Tls11;
        }
    }
    let score = (score::cipher(best) + score::cipher(worst)) / 2;
    b.basis.push(format!(
        "cipher {score}: strongest {best} bits, weakest {worst} bits (3DES counted as 168, as OpenSSL and SSL Labs score it)"
    ));
    dedup(&mut weak);
    dedup(&mut export);
    dedup(&mut rc4);
    if !weak.is_empty() {
        b.cap(
            Letter::F,
            format!("suites weaker than 112 bits: {}", weak.join(", ")),
            rules::CIPHER_WEAK,
        );
    }
    if !export.is_empty() {
        b.cap(
            Letter::F,
            format!("export suites: {}", export.join(", ")),
            rules::EXPORT,
        );
    }
    if rc4_tls11 {
        b.cap(
            Letter::C,
            format!("RC4 with TLS 1.1 or later: {}", rc4.join(", ")),
            rules::RC4_TLS11,
        );
    } else if !rc4.is_empty() {
        b.cap(
            Letter::B,
            format!("RC4 offered: {}", rc4.join(", ")),
            rules::RC4,
        );
    }
    score
}

fn dedup(v: &mut Vec<String>) {
    let mut seen = std::collections::BTreeSet::new();
    v.retain(|x| seen.insert(x.clone()));
}

fn is_64bit_block(suite: &CipherSuite) -> bool {
    ["3DES", "DES", "IDEA", "RC2"]
        .iter()
        .any(|c| suite.cipher.starts_with(c))
}

/// What one simulated client negotiated, with its profile when known.
struct Negotiated<'a> {
    sim: &'a ClientSimulation,
    version: ProtocolVersion,
    suite: &'static CipherSuite,
    profile: Option<&'static clients::ClientProfile>,
}

impl Negotiated<'_> {
    /// Whether the client and the server share a suite with `property` at
    /// the version negotiated and the server picks by its own order: then
    /// the server's choice, not the client's, denied it. A server that
    /// follows the client's order, or a profile we do not know, cannot be
    /// blamed for what the client chose.
    fn could(&self, observed: &TargetObservation, property: impl Fn(&CipherSuite) -> bool) -> bool {
        let client_order = observed
            .server_preference
            .iter()
            .any(|p| p.protocol == self.version && p.server_enforces == Some(false));
        let offered = &observed.cipher_suites;
        !client_order
            && self.profile.is_some_and(|p| {
                offered
                    .iter()
                    .filter(|s| s.protocol == self.version)
                    .filter_map(|s| s.iana_code().zip(s.registry_entry()))
                    .any(|(code, s)| property(s) && p.cipher_suites.contains(&code))
            })
    }
}

fn names(list: &[&Negotiated<'_>]) -> String {
    let mut out: Vec<String> = list
        .iter()
        .take(NAMED_CLIENTS)
        .map(|n| format!("{} ({} {})", n.sim.client, n.version, n.suite.iana))
        .collect();
    if list.len() > NAMED_CLIENTS {
        out.push(format!("{} more", list.len() - NAMED_CLIENTS));
    }
    out.join(", ")
}

/// The caps SSL Labs decides from client behaviour (anchors-2 §2.4).
///
/// No FS / no AEAD (B): when no such suite is offered at all, every client
/// is denied it; otherwise only when a simulated client that shares an FS
/// suite (an FS+AEAD suite, for AEAD) with the server is given one without
/// it (the server's order denies it; with a server that follows the
/// client's order the client chose). A server that prefers ECDHE-CBC over
/// static-RSA-GCM for an old client chose FS over AEAD, which is not
/// capped. 3DES with TLS 1.1+ (C): when a simulated TLS 1.1+ client
/// negotiates it; without a simulation, when it is offered with TLS 1.1+
/// (testssl.sh's reading).
fn client_caps(observed: &TargetObservation, simulations: &[ClientSimulation], b: &mut Builder) {
    let suites = &observed.cipher_suites;
    let offered: Vec<&CipherSuite> = suites.iter().filter_map(|s| s.registry_entry()).collect();
    if !offered.iter().any(|s| s.forward_secrecy) {
        b.cap(
            Letter::B,
            "no forward-secret suite offered",
            rules::NO_FS_OFFERED,
        );
    }
    if !offered.iter().any(|s| s.aead) {
        b.cap(Letter::B, "no AEAD suite offered", rules::NO_AEAD_OFFERED);
    }
    let legacy_block = |s: &&crate::observe::SuiteResult| {
        s.protocol >= ProtocolVersion::Tls11 && s.registry_entry().is_some_and(is_64bit_block)
    };
    let negotiated: Vec<Negotiated<'_>> = simulations
        .iter()
        .filter(|s| s.connected)
        .filter_map(|sim| {
            Some(Negotiated {
                sim,
                version: sim.protocol?,
                suite: registry::cipher_suite_by_name(sim.cipher.as_deref()?)?,
                profile: clients::by_name(&sim.client),
            })
        })
        .collect();
    if negotiated.is_empty() {
        let why = if simulations.is_empty() {
            "the client simulation did not run"
        } else {
            "no simulated client connected"
        };
        b.not_checked.push(format!(
            "FS and AEAD for clients that support them (cap B): {why}; only \"none offered at all\" was checked"
        ));
        let listed: Vec<&str> = suites
            .iter()
            .filter(legacy_block)
            .map(suite_label)
            .collect();
        if !listed.is_empty() {
            b.basis
                .push(format!("3DES cap decided from the offered suites: {why}"));
            b.cap(
                Letter::C,
                format!(
                    "64-bit block suite with TLS 1.1 or later: {}",
                    listed.join(", ")
                ),
                rules::TRIPLE_DES_OFFERED,
            );
        }
        return;
    }
    let no_fs: Vec<&Negotiated<'_>> = negotiated
        .iter()
        .filter(|n| !n.suite.forward_secrecy && n.could(observed, |s| s.forward_secrecy))
        .collect();
    if !no_fs.is_empty() {
        b.cap(
            Letter::B,
            format!(
                "clients that share a forward-secret suite get none: {}",
                names(&no_fs)
            ),
            rules::NO_FS,
        );
    }
    let no_aead: Vec<&Negotiated<'_>> = negotiated
        .iter()
        .filter(|n| !n.suite.aead && n.could(observed, |s| s.aead && s.forward_secrecy))
        .collect();
    if !no_aead.is_empty() {
        b.cap(
            Letter::B,
            format!(
                "clients that share an AEAD suite get none: {}",
                names(&no_aead)
            ),
            rules::NO_AEAD,
        );
    }
    b.basis.push(format!(
        "FS and AEAD caps decided from the client simulation ({} clients connected, {} given less than they share with the server)",
        negotiated.len(),
        no_fs.len() + no_aead.len()
    ));
    let des: Vec<&Negotiated<'_>> = negotiated
        .iter()
        .filter(|n| n.version >= ProtocolVersion::Tls11 && is_64bit_block(n.suite))
        .collect();
    if !des.is_empty() {
        b.cap(
            Letter::C,
            format!(
                "64-bit block cipher negotiated with TLS 1.1 or later: {}",
                names(&des)
            ),
            rules::TRIPLE_DES,
        );
    } else if suites.iter().any(|s| legacy_block(&s)) {
        b.basis.push(
            "3DES cap decided from client simulation: 3DES is offered with TLS 1.1+, but no TLS 1.1+ client negotiates it, so no C cap (SSL Labs; testssl.sh would cap C)"
                .into(),
        );
    }
}

fn vulnerability_caps(vulnerabilities: &[Vulnerability], b: &mut Builder) {
    let status = |id: VulnId| vulnerabilities.iter().find(|v| v.id == id);
    let table: [(VulnId, Letter, &str, &str); 7] = [
        (
            VulnId::Heartbleed,
            Letter::F,
            "Heartbleed",
            rules::HEARTBLEED,
        ),
        (VulnId::CcsInjection, Letter::F, "CCS injection", rules::CCS),
        (
            VulnId::Ticketbleed,
            Letter::F,
            "Ticketbleed",
            rules::TICKETBLEED,
        ),
        (VulnId::Robot, Letter::F, "ROBOT", rules::ROBOT),
        (VulnId::Drown, Letter::F, "DROWN", rules::DROWN),
        (
            VulnId::Crime,
            Letter::C,
            "CRIME (TLS compression)",
            rules::CRIME,
        ),
        (VulnId::PoodleSsl, Letter::C, "POODLE", rules::POODLE),
    ];
    for (id, letter, title, rule) in table {
        match status(id) {
            Some(v) if v.status == VulnStatus::Vulnerable => {
                // POODLE from enumeration is already a cap; one is enough.
                let already =
                    id == VulnId::PoodleSsl && b.caps.iter().any(|c| c.rule == rules::POODLE);
                if !already {
                    b.cap(
                        letter,
                        format!("vulnerable to {title}: {}", v.evidence),
                        rule,
                    );
                }
            }
            Some(v) if v.status == VulnStatus::Unknown => b
                .not_checked
                .push(format!("{id} (cap {letter}): unknown: {}", v.evidence)),
            Some(_) => {}
            None if id == VulnId::PoodleSsl => {} // decided from enumeration
            None => b.not_checked.push(format!(
                "{id} (cap {letter}): not in the vulnerability battery's results"
            )),
        }
    }
    match status(VulnId::SecureRenegotiation) {
        Some(v) if v.status == VulnStatus::Vulnerable => {
            b.warn(
                format!(
                    "secure renegotiation (RFC 5746) not supported: {}",
                    v.evidence
                ),
                rules::SECURE_RENEGOTIATION,
            );
            if status(VulnId::ClientRenegotiation)
                .is_some_and(|c| c.status == VulnStatus::Vulnerable)
            {
                b.cap(
                    Letter::F,
                    "insecure renegotiation: no RFC 5746 and client-initiated renegotiation accepted",
                    rules::INSECURE_RENEGOTIATION,
                );
            }
        }
        Some(v) if v.status == VulnStatus::Unknown => b.not_checked.push(format!(
            "secure_renegotiation (warning): unknown: {}",
            v.evidence
        )),
        Some(_) => {}
        None => b.not_checked.push(
            "secure_renegotiation (warning): not in the vulnerability battery's results".into(),
        ),
    }
}

/// HSTS for A+: `true` when every HTTP answer carried HSTS with max-age ≥
/// 180 days. A short, zero or unreadable max-age is a warning (A-); no
/// header, or no answer, leaves the best grade at A.
fn hsts(probes: &[HeaderProbe], b: &mut Builder) -> bool {
    if probes.is_empty() {
        b.not_checked.push(
            "HSTS: the headers check did not run, so no A+ (it needs HSTS with max-age ≥ 180 days)"
                .into(),
        );
        return false;
    }
    let answered: Vec<&HeaderProbe> = probes.iter().filter(|p| p.status.is_some()).collect();
    if answered.is_empty() {
        let why = probes
            .iter()
            .find_map(|p| p.error.as_deref())
            .unwrap_or("no HTTP answer");
        b.not_checked
            .push(format!("HSTS: no HTTP answer ({why}), so no A+"));
        return false;
    }
    let mut valid = true;
    for p in &answered {
        let at = format!("{}{}", p.host, p.path);
        match &p.hsts {
            None => {
                valid = false;
                b.basis.push(format!("HSTS not sent on {at}"));
            }
            Some(h) => match h.max_age {
                Some(age) if age >= HSTS_MIN_SECONDS => {}
                Some(age) => {
                    valid = false;
                    b.warn(
                        format!("HSTS max-age={age} on {at} is under 180 days (15552000 s)"),
                        rules::HSTS_SHORT,
                    );
                }
                None => {
                    valid = false;
                    b.warn(
                        format!("HSTS on {at} has no valid max-age ({:?})", h.raw),
                        rules::HSTS_SHORT,
                    );
                }
            },
        }
    }
    valid
}
