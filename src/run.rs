//! Executes a plan: each planned server's probes through `scan`, and
//! nothing else. The seam between `plan` (what to probe, decided before
//! the first connection) and `scan` (how): `scan` never sees a plan type
//! beyond the requests it is handed, so the two do not import each other
//! in a loop.

use std::time::Instant;

use crate::observe::TargetObservation;
use crate::plan::{ProbeSettings, ServerKind, ServerPlan};
use crate::scan::{authz, redirect, scan_tls, stats};
use crate::target::TargetSpec;

/// Runs everything one planned server asks for and nothing else, on ONE
/// `scan::Prober` (one connection limit, one handshake count): the TLS scan,
/// then the identities' mTLS probes and the planned authorization and JWT
/// requests; or, for a declared plain-HTTP server, its `GET /` requests.
/// Observations only: a target that could not be scanned carries its
/// `error`, and `verdict` judges the rest.
pub async fn execute(
    spec: &TargetSpec,
    server: &ServerPlan,
    settings: &ProbeSettings,
) -> TargetObservation {
    let mut report = match &server.kind {
        ServerKind::PlainHttp(plain) => {
            redirect::scan_plain_http(spec, &plain.hosts, settings.timeouts.connect).await
        }
        ServerKind::Tls(tls) => {
            let started = Instant::now();
            let options = tls.scan_options(settings);
            let (mut report, prober, error) = scan_tls(spec, &options).await;
            match (&error, &prober) {
                (Some(e), _) => report.error = Some(e.to_string()),
                (None, Some(prober)) => match &tls.authz {
                    Some(plan) => {
                        let ctx = authz::AuthzContext {
                            sni: options.sni.as_deref(),
                            plan,
                            jwt: settings.jwt.as_ref(),
                            expired: settings.expired.as_ref(),
                        };
                        authz::scan_authorization(prober, &mut report, &ctx, &settings.identities)
                            .await;
                    }
                    None => {
                        authz::probe_identities(prober, &mut report, &settings.identities).await
                    }
                },
                (None, None) => {}
            }
            report.stats = stats(started, prober.as_deref());
            report
        }
    };
    report.label = server.label.clone();
    report
}
