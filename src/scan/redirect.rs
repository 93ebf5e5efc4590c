//! A declared plain-HTTP server: one HTTP/1.1 `GET /` over plain TCP per
//! `Host`, with hyper (the client of [`super::http`]). The answers are
//! observations ([`RedirectRequest`]); `verdict::redirect` judges them
//! against the declared `httpsRedirect`.

use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use super::http::{plain_http_exchange, HttpOutcome, HttpRequest};
use crate::observe::{HttpAnswer, ProtocolResult, RedirectRequest, Stats, TargetObservation};
use crate::target::TargetSpec;
use crate::wire::ProtocolVersion;

/// The path requested.
pub const REDIRECT_PATH: &str = "/";

/// Requests `GET /` with each of `hosts` as `Host`, one connection each.
/// A target that cannot be resolved or connected to at all is unreachable
/// (`error` set: exit 2). TLS is not probed: `protocols` lists the six
/// versions as undetermined.
pub async fn scan_plain_http(
    spec: &TargetSpec,
    hosts: &[String],
    timeout: Duration,
) -> TargetObservation {
    let started = Instant::now();
    let mut report = TargetObservation::new(spec.to_string(), spec.port, None);
    report.protocols = ProtocolVersion::ALL
        .iter()
        .map(|&version| {
            ProtocolResult::unknown(version, "not probed: declared plain-HTTP server".to_owned())
        })
        .collect();
    // The first address, as a client would; `resolve` refuses an empty
    // list, but that stays its promise, not an index here.
    let addr = match spec.resolve().await.map(|addrs| addrs.first().copied()) {
        Ok(Some(addr)) => addr,
        Ok(None) => {
            report.error = Some(format!("cannot resolve {spec}: no addresses"));
            return report;
        }
        Err(e) => {
            report.error = Some(e.to_string());
            return report;
        }
    };
    report.ip = Some(addr.ip());
    let mut connect_errors = Vec::new();
    for host in hosts {
        let request = HttpRequest {
            method: "GET".to_owned(),
            path: REDIRECT_PATH.to_owned(),
            host: host.clone(),
            headers: Vec::new(),
        };
        let outcome = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => plain_http_exchange(stream, &request, timeout).await,
            Ok(Err(e)) => {
                connect_errors.push(format!("cannot connect to {addr}: {e}"));
                continue;
            }
            Err(_) => {
                connect_errors.push(format!(
                    "cannot connect to {addr}: no answer within {} ms",
                    timeout.as_millis()
                ));
                continue;
            }
        };
        report.redirects.push(observed(&request, &outcome));
    }
    report.reachable = !report.redirects.is_empty();
    if !report.reachable {
        report.error = connect_errors.into_iter().next();
    }
    report.stats = Stats {
        handshakes: 0,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        ..Stats::default()
    };
    report
}

fn observed(request: &HttpRequest, outcome: &HttpOutcome) -> RedirectRequest {
    let fields = outcome.report_fields();
    // Plain HTTP has no TLS refusal; anything but an answer or a close is
    // an error.
    let kind = match fields.kind {
        HttpAnswer::Answered | HttpAnswer::Closed => fields.kind,
        HttpAnswer::Refused | HttpAnswer::Error => HttpAnswer::Error,
    };
    RedirectRequest {
        host: request.host.clone(),
        path: request.path.clone(),
        status: fields.status,
        location: fields.header("location").map(str::to_owned),
        outcome: kind,
        evidence: outcome.describe(),
    }
}
