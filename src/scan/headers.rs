//! HTTP security headers per host (see `observe::HeaderProbe`): `GET /`
//! and `GET /<random path>`, each on its own TLS connection through the
//! prober (counted, under its limit), concurrently. The random path gets
//! the gateway's own answer (an Envoy local reply or a 404), which often
//! lacks the HSTS header the application adds (envoyproxy/envoy#7554);
//! testssl.sh's `run_hsts` looks only at the one URL it was given.

use crate::observe::HeaderProbe;
use crate::tls_client::HandshakeOptions;

use super::http::{http_exchange, HttpOutcome, HttpRequest};
use super::Prober;

/// GET `/` and a random path on `host` over TLS (SNI `sni`), with the
/// headers of each answer.
pub async fn probe_headers(prober: &Prober, sni: Option<&str>, host: &str) -> Vec<HeaderProbe> {
    let opts = HandshakeOptions {
        sni: sni.map(str::to_owned),
        ..HandshakeOptions::default()
    };
    let random = random_path();
    let paths = [("/".to_owned(), false), (random, true)];
    let runs = paths.iter().map(|(path, random_path)| {
        let opts = &opts;
        async move {
            let request = HttpRequest {
                method: "GET".to_owned(),
                path: path.clone(),
                host: host.to_owned(),
                headers: Vec::new(),
            };
            let outcome = match prober.connect().await {
                Ok((stream, _slot)) => {
                    http_exchange(stream, opts, None, &request, prober.timeouts().read).await
                }
                Err(e) => HttpOutcome::Failed {
                    reason: e.to_string(),
                },
            };
            observed(host, path, *random_path, &outcome)
        }
    });
    futures::future::join_all(runs).await
}

fn observed(host: &str, path: &str, random_path: bool, outcome: &HttpOutcome) -> HeaderProbe {
    match outcome {
        HttpOutcome::Response {
            status, headers, ..
        } => HeaderProbe::answered(host, path, random_path, *status, headers),
        other => HeaderProbe::failed(host, path, random_path, other.describe()),
    }
}

/// A path no application serves: fresh random hex under a name that says
/// who asked.
fn random_path() -> String {
    let random = crate::wire::fresh_random();
    let hex: String = random[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("/tlsposture-{hex}")
}
