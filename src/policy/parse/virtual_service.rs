//! `networking.istio.io` `VirtualService`, read minimally: the hosts, the
//! gateways it binds to and its L4 routes, which decide whether istiod
//! builds a filter chain for a TCP or terminated-TLS gateway server (R-M5).
//! HTTP routes are not read: an HTTP server without one still gets its
//! chain (a virtual host answering 404).

use super::node::{Ctx, Node};
use super::{spec_of, Meta};
use crate::policy::model::*;
use crate::policy::PolicyError;

pub(super) fn read(
    ctx: &mut Ctx,
    doc: &Node,
    meta: &Meta,
    policy: &mut DeclaredPolicy,
) -> Result<(), PolicyError> {
    // Every other field (http, exportTo, …) is legitimate and unread.
    let spec = spec_of(ctx, doc, &[])?;
    let hosts = ctx.list(&spec, "hosts", false)?;
    let gateways = ctx.list(&spec, "gateways", false)?;
    let mut tcp = Vec::new();
    for (route, path) in ctx.items(&spec, "tcp")? {
        let fields = ctx.fields(Some(route), &path, &[])?;
        let mut matches = Vec::new();
        for (m, mpath) in ctx.items(&fields, "match")? {
            let m = ctx.fields(Some(m), &mpath, &[])?;
            let port = match m.get("port") {
                Some(p) => Some(ctx.port(p, &m.path_of("port"))?),
                None => None,
            };
            matches.push(L4MatchDecl {
                port,
                gateways: ctx.list(&m, "gateways", false)?,
            });
        }
        let has_destination = !ctx.items(&fields, "route")?.is_empty();
        tcp.push(L4RouteDecl {
            matches,
            has_destination,
            origin: ctx.origin(route, &path),
        });
    }
    let tls_routes = ctx.items(&spec, "tls")?.len();
    policy.virtual_services.push(VirtualServiceDecl {
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        origin: meta.origin.clone(),
        hosts,
        gateways,
        tcp,
        tls_routes,
    });
    Ok(())
}
