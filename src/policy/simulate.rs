//! Offline what-if: what a client would negotiate with Envoy (BoringSSL)
//! configured from a declared server, without any network. The inputs are
//! the client's hello (as data) and an [`Expectation`]; the rules are
//! BoringSSL's server-side selection as Envoy configures it:
//!
//! - version: the highest the client offers (its `supported_versions`, else
//!   its legacy version and everything below) inside the server's range;
//! - TLS 1.3 suite: the client's order (BoringSSL picks from the client's
//!   list; `cipher_suites` does not apply to TLS 1.3);
//! - TLS ≤ 1.2 suite: the server's order, each `[a|b]` tier taking the one
//!   the client lists first (Envoy sets server preference);
//! - group: the server's order (server preference applies to groups too);
//!   in TLS 1.3 a group the client offered without a key share costs a
//!   HelloRetryRequest, which a TLS 1.3 client answers;
//! - a suite is usable only with a certificate of its kind and, for ECDHE,
//!   a shared group.

use serde::Serialize;

use super::effective::{CertKeyTypes, Expectation, TLS13_SUITES};
use crate::clients::ClientProfile;
use crate::registry;
use crate::wire::ProtocolVersion;

/// What the simulator needs to know about a client's hello.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SimClient {
    /// Versions the client can do, in any order (GREASE removed).
    pub versions: Vec<ProtocolVersion>,
    /// Cipher suites in the client's order (GREASE and SCSVs removed).
    pub suites: Vec<u16>,
    /// Supported groups in the client's order (GREASE removed).
    pub groups: Vec<u16>,
    /// Groups the first hello carries a key share for.
    pub key_shares: Vec<u16>,
    /// Certificate key types the client accepts (e.g. no ECDSA in IE 8/XP).
    pub accepts: CertKeyTypes,
    /// The smallest RSA key the client accepts.
    pub min_rsa_bits: Option<u32>,
    /// signature_algorithms in the client's order; empty when the client
    /// sends none (TLS ≤ 1.1 clients: SHA-1/MD5 RSA is implied).
    pub sigalgs: Vec<u16>,
    /// The client sends server_name (health checkers often do not).
    pub sends_sni: bool,
}

impl From<&ClientProfile> for SimClient {
    fn from(p: &ClientProfile) -> SimClient {
        let real = |list: &[u16]| -> Vec<u16> {
            list.iter()
                .copied()
                .filter(|c| !registry::is_grease(*c))
                .collect()
        };
        let accepts = if p.limits.cert_key_types.is_empty() {
            CertKeyTypes {
                rsa: true,
                ecdsa: true,
            }
        } else {
            CertKeyTypes {
                rsa: p.limits.cert_key_types.iter().any(|t| t == "RSA"),
                ecdsa: p.limits.cert_key_types.iter().any(|t| t == "ECDSA"),
            }
        };
        SimClient {
            versions: p.versions(),
            suites: p.real_suites().collect(),
            groups: real(&p.supported_groups),
            key_shares: real(&p.key_shares),
            accepts,
            min_rsa_bits: p.limits.min_rsa_bits,
            sigalgs: real(&p.signature_algorithms),
            sends_sni: p.sni,
        }
    }
}

/// Whether the client can verify a signature by a key of this type at
/// `version`: TLS 1.3 needs RSA-PSS (rsae) for RSA keys; TLS 1.2 any RSA
/// scheme (or no signature_algorithms extension, which implies SHA-1 RSA);
/// ECDSA needs an ECDSA scheme the server's P-256 key can make.
fn can_verify(client: &SimClient, version: ProtocolVersion, rsa: bool) -> bool {
    const RSA_PSS_RSAE: [u16; 3] = [0x0804, 0x0805, 0x0806];
    const RSA_ANY: [u16; 7] = [0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0201];
    // BoringSSL signs P-256 keys with ecdsa_secp256r1_sha256 only in TLS
    // 1.3; TLS 1.2 takes any ECDSA hash the client lists.
    const ECDSA_13: [u16; 1] = [0x0403];
    const ECDSA_12: [u16; 4] = [0x0403, 0x0503, 0x0603, 0x0203];
    if version < ProtocolVersion::Tls12 || client.sigalgs.is_empty() {
        return version < ProtocolVersion::Tls13;
    }
    let wanted: &[u16] = match (rsa, version == ProtocolVersion::Tls13) {
        (true, true) => &RSA_PSS_RSAE,
        (true, false) => &RSA_ANY,
        (false, true) => &ECDSA_13,
        (false, false) => &ECDSA_12,
    };
    client.sigalgs.iter().any(|s| wanted.contains(s))
}

/// The predicted outcome of one client against one declared server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimOutcome {
    pub connected: bool,
    pub protocol: Option<ProtocolVersion>,
    /// IANA name.
    pub cipher: Option<String>,
    /// IANA name.
    pub group: Option<String>,
    /// The group came from a HelloRetryRequest.
    pub hello_retry: bool,
    /// Why it fails, when it does.
    pub reason: Option<String>,
}

impl SimOutcome {
    fn failed(reason: impl Into<String>) -> SimOutcome {
        SimOutcome {
            connected: false,
            protocol: None,
            cipher: None,
            group: None,
            hello_retry: false,
            reason: Some(reason.into()),
        }
    }
}

/// The server's certificate as far as client limits care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerCert {
    pub types: CertKeyTypes,
    pub rsa_bits: u32,
}

impl Default for ServerCert {
    fn default() -> Self {
        ServerCert {
            types: CertKeyTypes::RSA,
            rsa_bits: 2048,
        }
    }
}

fn iana(code: u16) -> String {
    registry::cipher_suite(code)
        .map(|s| s.iana.clone())
        .unwrap_or_else(|| format!("0x{code:04X}"))
}

/// The first server group the client also supports (server preference).
fn shared_group(server: &[u16], client: &[u16]) -> Option<u16> {
    server.iter().copied().find(|g| client.contains(g))
}

/// Predicts the handshake of `client` with the server `exp` describes.
pub fn simulate(client: &SimClient, exp: &Expectation, cert: ServerCert) -> SimOutcome {
    if let Some(reason) = &exp.rejected {
        return SimOutcome::failed(format!("Envoy refuses the listener: {reason}"));
    }
    if !exp.mode.terminates() {
        return SimOutcome::failed(format!(
            "{}: the gateway passes TLS through; the backend decides",
            exp.mode
        ));
    }
    // A client without SNI reaches this server only if it is the port's
    // default (`hosts: '*'`); Envoy refuses it otherwise (no filter chain).
    if !client.sends_sni && !exp.serves(None) {
        return SimOutcome::failed(
            "sends no SNI, and this server only answers its hosts (no '*' server)",
        );
    }
    // The certificate types both sides can use. With both configured, Envoy
    // picks one per connection before BoringSSL sees the hello: ECDSA for a
    // client that can use it (an ECDSA P-256 signature scheme and P-256;
    // Envoy's `selectTlsContext`), else RSA.
    let usable_certs = CertKeyTypes {
        rsa: cert.types.rsa && client.accepts.rsa,
        ecdsa: cert.types.ecdsa && client.accepts.ecdsa,
    };
    if usable_certs.rsa && usable_certs.ecdsa {
        let ecdsa_capable = client.groups.contains(&0x0017)
            && (client.sigalgs.is_empty() || client.sigalgs.contains(&0x0403));
        let only = |rsa: bool| ServerCert {
            types: CertKeyTypes { rsa, ecdsa: !rsa },
            ..cert
        };
        if !ecdsa_capable {
            return simulate(client, exp, only(true));
        }
        // ECDSA first; when the declared suites leave it nothing to
        // negotiate, the handshake goes ahead with the RSA certificate (seen
        // on Envoy 1.40 with an RSA-only cipher list and both certificates).
        let ecdsa = simulate(client, exp, only(false));
        if ecdsa.connected {
            return ecdsa;
        }
        return simulate(client, exp, only(true));
    }
    let server_versions = exp.versions(cert.types);
    let Some(version) = server_versions
        .iter()
        .rev()
        .copied()
        .find(|v| client.versions.contains(v))
    else {
        let client: Vec<String> = client.versions.iter().map(|v| v.to_string()).collect();
        let server: Vec<String> = server_versions.iter().map(|v| v.to_string()).collect();
        return SimOutcome::failed(format!(
            "no shared protocol version: client {}, server {}",
            client.join(", "),
            server.join(", ")
        ));
    };
    let usable_certs = CertKeyTypes {
        rsa: usable_certs.rsa && can_verify(client, version, true),
        ecdsa: usable_certs.ecdsa && can_verify(client, version, false),
    };
    if version == ProtocolVersion::Tls13 {
        return tls13(client, exp, usable_certs);
    }
    tls12_or_older(client, exp, version, usable_certs, cert)
}

fn tls13(client: &SimClient, exp: &Expectation, certs: CertKeyTypes) -> SimOutcome {
    if !certs.rsa && !certs.ecdsa {
        return SimOutcome::failed("no certificate type both sides accept");
    }
    let Some(suite) = client
        .suites
        .iter()
        .copied()
        .find(|c| TLS13_SUITES.contains(c))
    else {
        return SimOutcome::failed("TLS 1.3: no shared cipher suite");
    };
    let Some(group) = shared_group(&exp.groups_tls13, &client.groups) else {
        return SimOutcome::failed("TLS 1.3: no shared group");
    };
    SimOutcome {
        connected: true,
        protocol: Some(ProtocolVersion::Tls13),
        cipher: Some(iana(suite)),
        group: Some(registry::group_name(group)),
        hello_retry: !client.key_shares.contains(&group),
        reason: None,
    }
}

fn tls12_or_older(
    client: &SimClient,
    exp: &Expectation,
    version: ProtocolVersion,
    certs: CertKeyTypes,
    cert: ServerCert,
) -> SimOutcome {
    let group = shared_group(&exp.groups_tls12, &client.groups);
    // The server's list at this version for the certificates both accept,
    // in server order; tiers are the declared `[a|b]` entries.
    let server_suites = exp.suites_at(version, certs);
    let usable = |code: u16| -> bool {
        let Some(suite) = registry::cipher_suite(code) else {
            return false;
        };
        let ecdhe = suite.kx == "ECDHE";
        client.suites.contains(&code) && (!ecdhe || group.is_some())
    };
    let mut chosen = None;
    for tier in tiers(exp, &server_suites) {
        chosen = client
            .suites
            .iter()
            .copied()
            .find(|c| tier.contains(c) && usable(*c));
        if chosen.is_some() {
            break;
        }
    }
    let Some(code) = chosen else {
        return SimOutcome::failed(format!("{version}: no shared cipher suite"));
    };
    let suite = registry::cipher_suite(code);
    if suite.is_some_and(|s| s.auth == "RSA") {
        if let Some(min) = client.min_rsa_bits {
            if cert.rsa_bits < min {
                return SimOutcome::failed(format!(
                    "the client refuses an RSA key of {} bits (needs {min})",
                    cert.rsa_bits
                ));
            }
        }
    }
    let ecdhe = suite.is_some_and(|s| s.kx == "ECDHE");
    SimOutcome {
        connected: true,
        protocol: Some(version),
        cipher: Some(iana(code)),
        group: if ecdhe {
            group.map(registry::group_name)
        } else {
            None
        },
        hello_retry: false,
        reason: None,
    }
}

/// Splits the server's suites into its preference tiers: one tier per
/// declared Envoy entry (`[a|b]` is one tier of two), keeping only suites in
/// `available`.
fn tiers(exp: &Expectation, available: &[u16]) -> Vec<Vec<u16>> {
    let entries: Vec<String> = if exp.params.cipher_suites.is_empty() {
        super::effective::ENVOY_DEFAULT_SERVER_CIPHERS
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        exp.params.cipher_suites.clone()
    };
    let mut out = Vec::new();
    for entry in &entries {
        let tier: Vec<u16> = super::effective::suites_in_entry(entry)
            .into_iter()
            .map(|s| s.code)
            .filter(|c| available.contains(c))
            .collect();
        if !tier.is_empty() {
            out.push(tier);
        }
    }
    out
}

/// The clients a policy change affects: each server of `after` is paired
/// with the server of `before` on the same port with the same hosts, else
/// the first on that port (a rename or re-host); a server new on its port
/// has nothing to compare. Per paired client: `breaks` (connected before,
/// not after), `fixed` (the reverse) or `changes` (another protocol or
/// cipher). Also returns how many client outcomes were compared.
pub fn diff(before: &[ServerRows], after: &[ServerRows]) -> (Vec<Change>, usize) {
    let mut changes = Vec::new();
    let mut compared = 0;
    for new in after {
        let old = before
            .iter()
            .find(|o| o.port == new.port && o.hosts == new.hosts)
            .or_else(|| before.iter().find(|o| o.port == new.port));
        let Some(old) = old else { continue };
        for (b, a) in old.clients.iter().zip(&new.clients) {
            compared += 1;
            let kind = match (b.outcome.connected, a.outcome.connected) {
                (true, false) => "breaks",
                (false, true) => "fixed",
                (true, true)
                    if (b.outcome.protocol, &b.outcome.cipher)
                        != (a.outcome.protocol, &a.outcome.cipher) =>
                {
                    "changes"
                }
                _ => continue,
            };
            changes.push(Change {
                server: new.server.clone(),
                client: a.client.clone(),
                kind: kind.into(),
                before: b.outcome.clone(),
                after: a.outcome.clone(),
            });
        }
    }
    (changes, compared)
}

/// One client's predicted outcome against one server.
#[derive(Debug, Clone, Serialize)]
pub struct ClientRow {
    pub client: String,
    pub category: String,
    #[serde(flatten)]
    pub outcome: SimOutcome,
}

/// Every client against one declared server.
#[derive(Debug, Clone, Serialize)]
pub struct ServerRows {
    /// `gateway default/gw servers[0] port 443`.
    pub server: String,
    /// The declared port: what pairs a server across two policies
    /// (`policy::simulate::diff`). Not in the JSON, which names it in
    /// `server`.
    #[serde(skip)]
    pub port: u16,
    pub hosts: Vec<String>,
    pub clients: Vec<ClientRow>,
}

/// A client whose outcome a change alters.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub server: String,
    pub client: String,
    /// `breaks`, `fixed`, `changes`.
    pub kind: String,
    pub before: SimOutcome,
    pub after: SimOutcome,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::effective::expectations;
    use crate::policy::load_str;
    use ProtocolVersion::{Tls10, Tls11, Tls12, Tls13};

    fn gateway(tls: &str) -> Expectation {
        let yaml = format!(
            "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: gw\nspec:\n  servers:\n  - port: {{number: 443, name: https, protocol: HTTPS}}\n    hosts: ['*']\n    tls:\n      mode: SIMPLE\n      credentialName: c\n{tls}"
        );
        let policy = load_str("gw.yaml", &yaml).expect("valid");
        expectations(&policy).remove(0)
    }

    fn modern() -> SimClient {
        SimClient {
            versions: vec![Tls13, Tls12],
            suites: vec![
                0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xCCA9, 0xCCA8, 0xC030,
            ],
            groups: vec![0x11EC, 0x001D, 0x0017, 0x0018],
            key_shares: vec![0x11EC, 0x001D],
            accepts: CertKeyTypes {
                rsa: true,
                ecdsa: true,
            },
            min_rsa_bits: Some(1024),
            sigalgs: vec![
                0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
            ],
            sends_sni: true,
        }
    }

    fn ie11_win7() -> SimClient {
        SimClient {
            versions: vec![Tls12, Tls11, Tls10],
            suites: vec![
                0xC028, 0xC027, 0xC014, 0xC013, 0x009F, 0x009E, 0x0039, 0x0033, 0x009D, 0x009C,
                0x003D, 0x003C, 0x0035, 0x002F, 0x000A,
            ],
            groups: vec![0x0017, 0x0018],
            key_shares: vec![],
            accepts: CertKeyTypes {
                rsa: true,
                ecdsa: true,
            },
            min_rsa_bits: None,
            sigalgs: vec![
                0x0401, 0x0501, 0x0201, 0x0403, 0x0503, 0x0203, 0x0202, 0x0601, 0x0603,
            ],
            sends_sni: true,
        }
    }

    #[test]
    fn a_modern_client_gets_tls13_with_the_hybrid_group() {
        let out = simulate(
            &modern(),
            &gateway("      minProtocolVersion: TLSV1_2\n"),
            ServerCert::default(),
        );
        assert_eq!(out.protocol, Some(Tls13));
        assert_eq!(out.cipher.as_deref(), Some("TLS_AES_128_GCM_SHA256"));
        assert_eq!(out.group.as_deref(), Some("X25519MLKEM768"));
        assert!(!out.hello_retry);
    }

    /// A listener Envoy refuses serves no client (server `ecdhCurves` from
    /// 1.32 reach Envoy as written; P-224 is gone from BoringSSL).
    #[test]
    fn a_refused_listener_connects_nobody() {
        let yaml = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: gw\nspec:\n  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ['*']\n    tls: {mode: SIMPLE, credentialName: c, ecdhCurves: [P-224]}\n";
        let policy = load_str("gw.yaml", yaml).expect("valid");
        let resolved = crate::policy::istiod::resolve(
            &policy,
            crate::policy::istiod::IstioVersion::new(1, 32),
        );
        let exp = crate::policy::effective::expectations_of(&policy, &resolved).remove(0);
        let out = simulate(&modern(), &exp, ServerCert::default());
        assert!(!out.connected);
        assert!(out.reason.unwrap().contains("Envoy refuses the listener"));
        // In 1.30 the field does not exist: the listener loads.
        let resolved = crate::policy::istiod::resolve(
            &policy,
            crate::policy::istiod::IstioVersion::new(1, 30),
        );
        let exp = crate::policy::effective::expectations_of(&policy, &resolved).remove(0);
        assert!(simulate(&modern(), &exp, ServerCert::default()).connected);
    }

    #[test]
    fn tls13_only_locks_out_ie11_on_windows_7() {
        let exp = gateway("      minProtocolVersion: TLSV1_3\n");
        let out = simulate(&ie11_win7(), &exp, ServerCert::default());
        assert!(!out.connected);
        assert!(out.reason.unwrap().contains("no shared protocol version"));
    }

    #[test]
    fn ie11_gets_no_suite_from_envoy_defaults_over_tls12() {
        // IE 11 / Win 7 has ECDHE-RSA only with CBC (0xC027/0xC028/0xC013/
        // 0xC014); Envoy's defaults are AEAD only, and its GCM suites are
        // DHE/static RSA: nothing in common.
        let out = simulate(&ie11_win7(), &gateway(""), ServerCert::default());
        assert!(!out.connected, "{out:?}");
        // With a CBC suite declared, it connects with it.
        let exp =
            gateway("      cipherSuites: [ECDHE-RSA-AES128-GCM-SHA256, ECDHE-RSA-AES128-SHA]\n");
        let out = simulate(&ie11_win7(), &exp, ServerCert::default());
        assert_eq!(out.protocol, Some(Tls12));
        assert_eq!(
            out.cipher.as_deref(),
            Some("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA")
        );
        assert_eq!(out.group.as_deref(), Some("secp256r1"));
    }

    #[test]
    fn server_order_with_equal_preference_tiers() {
        let mut client = modern();
        client.versions = vec![Tls12];
        // CCA8 listed before C02F by the client: inside Envoy's first RSA
        // tier [C02F|CCA8] the client's order decides.
        client.suites = vec![0xCCA8, 0xC030, 0xC02F];
        let out = simulate(&client, &gateway(""), ServerCert::default());
        assert_eq!(
            out.cipher.as_deref(),
            Some("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256")
        );
        // Outside a tier, the server's order wins.
        let exp = gateway(
            "      cipherSuites: [ECDHE-RSA-AES256-GCM-SHA384, ECDHE-RSA-AES128-GCM-SHA256]\n",
        );
        client.suites = vec![0xC02F, 0xC030];
        let out = simulate(&client, &exp, ServerCert::default());
        assert_eq!(
            out.cipher.as_deref(),
            Some("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")
        );
    }

    #[test]
    fn a_group_without_a_key_share_costs_a_hello_retry() {
        let mut client = modern();
        client.groups = vec![0x001D, 0x0017];
        client.key_shares = vec![0x0017];
        let out = simulate(&client, &gateway(""), ServerCert::default());
        assert_eq!(out.group.as_deref(), Some("x25519"));
        assert!(out.hello_retry);
    }

    #[test]
    fn client_key_limits_and_certificate_types() {
        let mut client = ie11_win7();
        client.suites.push(0xC02F);
        client.min_rsa_bits = Some(4096);
        let out = simulate(&client, &gateway(""), ServerCert::default());
        assert!(out.reason.unwrap().contains("4096"));
        let mut client = modern();
        client.accepts = CertKeyTypes {
            rsa: false,
            ecdsa: true,
        };
        let out = simulate(&client, &gateway(""), ServerCert::default());
        assert!(!out.connected);
    }

    #[test]
    fn the_diff_pairs_servers_by_port_and_hosts_not_by_label() {
        let row = |connected: bool| ClientRow {
            client: "c".into(),
            category: "browser".into(),
            outcome: SimOutcome {
                connected,
                protocol: connected.then_some(Tls13),
                cipher: None,
                group: None,
                hello_retry: false,
                reason: None,
            },
        };
        let server = |label: &str, port: u16, host: &str, connected: bool| ServerRows {
            server: label.into(),
            port,
            hosts: vec![host.into()],
            clients: vec![row(connected)],
        };
        let before = [
            server("gateway a servers[0] port 443", 443, "a.com", true),
            server("gateway a servers[1] port 443", 443, "b.com", false),
        ];
        // Renamed gateway, same port and hosts: b.com is fixed, a.com kept.
        let after = [
            server("gateway z servers[0] port 443", 443, "b.com", true),
            server("gateway z servers[1] port 443", 443, "a.com", true),
            server("gateway z servers[2] port 8443", 8443, "a.com", false),
        ];
        let (changes, compared) = diff(&before, &after);
        assert_eq!(compared, 2, "the port-8443 server has nothing to compare");
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].kind, "fixed");
        assert_eq!(changes[0].server, "gateway z servers[0] port 443");
        // Re-hosted on the same port: paired with that port's first server.
        let rehosted = [server("gateway a servers[0] port 443", 443, "c.com", false)];
        let (changes, _) = diff(&before, &rehosted);
        assert_eq!(changes[0].kind, "breaks");
    }
}
