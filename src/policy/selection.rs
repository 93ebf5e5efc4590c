//! Which AuthorizationPolicies and RequestAuthentications reach a gateway
//! workload, as istiod selects them. Decided here once: the predictor
//! (`plan::plan_authz`) and the lab (`lab::authz::http_policy`) both ask
//! this module, so the two cannot disagree about which policies exist.
//!
//! Istio's rules, read in istio/istio @86c9f01fd735 (see
//! docs/istio-rules.md §A.1 and §A.4):
//! - R-A1 (`pilot/pkg/model/authorization.go` `ListAuthorizationPolicies`):
//!   only policies in the root namespace (`istio-system` unless meshConfig
//!   says otherwise) and in the workload's own namespace are considered;
//!   unit test "namespace not match".
//! - R-A2 (`pilot/pkg/model/policyattachment.go` `ShouldAttachPolicy`): a
//!   classic `networking.istio.io` gateway ignores every policy with a
//!   `targetRef(s)`; otherwise `selector.matchLabels` must be a subset of
//!   the pod's labels (no selector: the whole namespace).
//! - R-A3 (same function): a Gateway API gateway takes a targetRef policy
//!   from its own namespace whose ref is `Gateway` of group
//!   `gateway.networking.k8s.io` named like it (ref namespace unset or
//!   equal); tests "targetRef is an exact match" / "is not a match".
//!   Without targetRefs the selector rule applies
//!   (`ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY`, on by default).
//! - R-A10 (`pilot/pkg/security/authz/builder/builder.go` `isDryRun`): a
//!   policy annotated `istio.io/dry-run: "true"` becomes shadow rules,
//!   which log and enforce nothing; tests `dry-run-allow`, `dry-run-mix`.
//!
//! What a black-box scan cannot know: the namespace the gateway pods of a
//! classic Gateway run in. They are taken to run in the root namespace
//! (where `istio-ingressgateway` is installed by default), and a policy
//! elsewhere is named in the notes, not guessed into effect.

use std::collections::BTreeMap;

use super::matching::selector_matches;
use super::model::{
    AuthorizationPolicyDecl, DeclaredPolicy, GatewayDecl, GatewayFlavor, RequestAuthenticationDecl,
    TargetRef,
};

/// Istio's default `meshConfig.rootNamespace`.
pub const ROOT_NAMESPACE: &str = "istio-system";

/// The label istiod's automated deployment puts on a Gateway API
/// gateway's pods, naming their Gateway.
pub const GATEWAY_NAME_LABEL: &str = "gateway.networking.k8s.io/gateway-name";

/// The gateway pods policies are selected for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    /// The pods' namespace.
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    /// A Gateway API gateway's name: targetRef policies can attach to it.
    pub gateway_api_name: Option<String>,
    /// The namespace is an assumption (a classic Gateway's pods), not read.
    pub namespace_assumed: bool,
}

impl Workload {
    /// The pods a declared Gateway configures: a classic Gateway's
    /// selector labels, in the root namespace (assumed); a Gateway API
    /// gateway's own deployment, in the Gateway's namespace.
    pub fn of(gateway: &GatewayDecl) -> Workload {
        match gateway.flavor {
            GatewayFlavor::Istio => Workload {
                namespace: ROOT_NAMESPACE.to_owned(),
                labels: gateway.selector.clone(),
                gateway_api_name: None,
                namespace_assumed: true,
            },
            GatewayFlavor::GatewayApi => {
                let mut labels = gateway.selector.clone();
                labels.insert(GATEWAY_NAME_LABEL.to_owned(), gateway.name.clone());
                Workload {
                    namespace: gateway
                        .namespace
                        .clone()
                        .unwrap_or_else(|| "default".to_owned()),
                    labels,
                    gateway_api_name: Some(gateway.name.clone()),
                    namespace_assumed: false,
                }
            }
        }
    }

    /// The workload of the Gateway named `qualified` (`ns/name`) in
    /// `policy`; `None` when no such Gateway is declared.
    pub fn named(policy: &DeclaredPolicy, qualified: &str) -> Option<Workload> {
        policy
            .gateways
            .iter()
            .find(|g| g.qualified_name() == qualified)
            .map(Workload::of)
    }
}

/// The policies of one kind that reach a workload, and why the others
/// do not.
#[derive(Debug, Clone)]
pub struct Selected<'p, T> {
    /// Enforced: what the gateway's filters are built from.
    pub applied: Vec<&'p T>,
    /// Selected, but dry-run: shadow rules only (AuthorizationPolicy).
    pub dry_run: Vec<&'p T>,
    /// One line per declared policy that does not reach the workload.
    pub notes: Vec<String>,
}

impl<'p, T> Selected<'p, T> {
    /// Every selected policy, enforced first then dry-run: what istiod
    /// builds a workload's rules and shadow rules from (the builder splits
    /// them again by the annotation).
    pub fn built_from(&self) -> Vec<&'p T> {
        self.applied.iter().chain(&self.dry_run).copied().collect()
    }
}

impl<T> Default for Selected<'_, T> {
    fn default() -> Self {
        Selected {
            applied: Vec::new(),
            dry_run: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// The AuthorizationPolicies that reach any of `workloads` (a listener
/// several Gateways share takes the policies of each).
pub fn authorization_policies<'p>(
    policy: &'p DeclaredPolicy,
    workloads: &[Workload],
) -> Selected<'p, AuthorizationPolicyDecl> {
    let mut out = Selected::default();
    for p in &policy.authorization_policies {
        let name = qualified(&p.namespace, &p.name);
        match reaches(
            p.namespace.as_deref(),
            &p.target_refs,
            &p.selector,
            workloads,
        ) {
            Ok(()) if p.dry_run => {
                out.notes.push(format!(
                    "AuthorizationPolicy {name} is dry-run (istio.io/dry-run): istiod renders it \
                     as shadow rules, which enforce nothing"
                ));
                out.dry_run.push(p);
            }
            Ok(()) => out.applied.push(p),
            Err(why) => out
                .notes
                .push(format!("AuthorizationPolicy {name} does not apply: {why}")),
        }
    }
    out
}

/// The RequestAuthentications that reach any of `workloads`.
pub fn request_authentications<'p>(
    policy: &'p DeclaredPolicy,
    workloads: &[Workload],
) -> Selected<'p, RequestAuthenticationDecl> {
    let mut out = Selected::default();
    for r in &policy.request_authentications {
        match reaches(
            r.namespace.as_deref(),
            &r.target_refs,
            &r.selector,
            workloads,
        ) {
            Ok(()) => out.applied.push(r),
            Err(why) => out.notes.push(format!(
                "RequestAuthentication {} does not apply: {why}",
                qualified(&r.namespace, &r.name)
            )),
        }
    }
    out
}

/// Whether a policy in `namespace` with these refs and selector reaches
/// one of `workloads`; the reason for the first workload when none.
fn reaches(
    namespace: Option<&str>,
    refs: &[TargetRef],
    selector: &BTreeMap<String, String>,
    workloads: &[Workload],
) -> Result<(), String> {
    let mut first_reason = None;
    for w in workloads {
        match reaches_one(namespace, refs, selector, w) {
            Ok(()) => return Ok(()),
            Err(why) => {
                first_reason.get_or_insert(why);
            }
        }
    }
    Err(first_reason.unwrap_or_else(|| "no gateway workload is declared".to_owned()))
}

fn reaches_one(
    namespace: Option<&str>,
    refs: &[TargetRef],
    selector: &BTreeMap<String, String>,
    w: &Workload,
) -> Result<(), String> {
    // A policy written without a namespace lands where it is applied;
    // taken to be the workload's own, the one reading that makes it count.
    let ns = namespace.unwrap_or(&w.namespace);
    if ns != ROOT_NAMESPACE && ns != w.namespace {
        let assumed = if w.namespace_assumed {
            " (assumed: the pods a classic Gateway selects are taken to run there)"
        } else {
            ""
        };
        return Err(format!(
            "it is in namespace {ns}; Istio applies only policies of the root namespace \
             ({ROOT_NAMESPACE}) and of the gateway workload's own ({}){assumed}",
            w.namespace
        ));
    }
    if refs.is_empty() {
        return if selector_matches(selector, &w.labels) {
            Ok(())
        } else {
            Err("its selector does not match the gateway workload's labels".to_owned())
        };
    }
    let Some(gateway) = &w.gateway_api_name else {
        return Err(
            "it has a targetRef, which a classic (networking.istio.io) Gateway ignores".to_owned(),
        );
    };
    if ns != w.namespace {
        return Err(format!(
            "a targetRef policy attaches only to gateways in its own namespace ({ns}), and this \
             gateway is in {}",
            w.namespace
        ));
    }
    let names_it = |r: &TargetRef| {
        r.kind == "Gateway"
            && r.group == "gateway.networking.k8s.io"
            && r.name == *gateway
            && r.namespace.as_deref().is_none_or(|n| n == w.namespace)
    };
    if refs.iter().any(names_it) {
        Ok(())
    } else {
        Err(format!(
            "its targetRefs do not name Gateway {}/{gateway}",
            w.namespace
        ))
    }
}

fn qualified(namespace: &Option<String>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn classic() -> Workload {
        Workload {
            namespace: ROOT_NAMESPACE.to_owned(),
            labels: labels(&[("istio", "ingressgateway")]),
            gateway_api_name: None,
            namespace_assumed: true,
        }
    }

    fn k8s(name: &str, ns: &str) -> Workload {
        Workload {
            namespace: ns.to_owned(),
            labels: labels(&[(GATEWAY_NAME_LABEL, name)]),
            gateway_api_name: Some(name.to_owned()),
            namespace_assumed: false,
        }
    }

    fn gateway_ref(name: &str) -> TargetRef {
        TargetRef {
            group: "gateway.networking.k8s.io".into(),
            kind: "Gateway".into(),
            name: name.into(),
            namespace: None,
        }
    }

    fn policy(
        ns: &str,
        selector: &[(&str, &str)],
        refs: Vec<TargetRef>,
    ) -> AuthorizationPolicyDecl {
        AuthorizationPolicyDecl {
            name: "p".into(),
            namespace: Some(ns.into()),
            selector: labels(selector),
            target_refs: refs,
            ..AuthorizationPolicyDecl::default()
        }
    }

    fn applied(p: AuthorizationPolicyDecl, w: Workload) -> (usize, usize, Vec<String>) {
        let declared = DeclaredPolicy {
            authorization_policies: vec![p],
            ..DeclaredPolicy::default()
        };
        let s = authorization_policies(&declared, &[w]);
        (s.applied.len(), s.dry_run.len(), s.notes)
    }

    /// R-A1, Istio's "namespace not match": a policy of another namespace
    /// never reaches the gateway, whatever its selector.
    #[test]
    fn only_the_root_and_the_workloads_own_namespace_count() {
        let sel = [("istio", "ingressgateway")];
        assert_eq!(
            applied(policy("istio-system", &sel, vec![]), classic()).0,
            1
        );
        let (n, _, notes) = applied(policy("foo", &sel, vec![]), classic());
        assert_eq!(n, 0);
        assert!(notes[0].contains("namespace foo"), "{notes:?}");
        // A Gateway API gateway's own namespace counts.
        let own = policy("apps", &[(GATEWAY_NAME_LABEL, "gw")], vec![]);
        assert_eq!(applied(own, k8s("gw", "apps")).0, 1);
    }

    /// R-A2: targetRef policies never reach a classic gateway; the selector
    /// must be a subset of its labels (none: the whole namespace).
    #[test]
    fn a_classic_gateway_takes_selector_policies_only() {
        let (n, _, notes) = applied(
            policy("istio-system", &[], vec![gateway_ref("gw")]),
            classic(),
        );
        assert_eq!(n, 0);
        assert!(notes[0].contains("targetRef"), "{notes:?}");
        assert_eq!(applied(policy("istio-system", &[], vec![]), classic()).0, 1);
        assert_eq!(
            applied(
                policy("istio-system", &[("app", "other")], vec![]),
                classic()
            )
            .0,
            0
        );
    }

    /// R-A3, Istio's "targetRef is an exact match" / "is not a match".
    #[test]
    fn a_gateway_api_gateway_takes_the_target_refs_naming_it() {
        let w = || k8s("gw", "apps");
        assert_eq!(
            applied(policy("apps", &[], vec![gateway_ref("gw")]), w()).0,
            1
        );
        assert_eq!(
            applied(policy("apps", &[], vec![gateway_ref("other")]), w()).0,
            0
        );
        let mut wrong_kind = gateway_ref("gw");
        wrong_kind.kind = "Service".into();
        assert_eq!(applied(policy("apps", &[], vec![wrong_kind]), w()).0, 0);
        let mut other_ns = gateway_ref("gw");
        other_ns.namespace = Some("elsewhere".into());
        assert_eq!(applied(policy("apps", &[], vec![other_ns]), w()).0, 0);
        // A root-namespace targetRef policy reaches only a gateway there.
        assert_eq!(
            applied(policy("istio-system", &[], vec![gateway_ref("gw")]), w()).0,
            0
        );
    }

    /// R-A10, Istio's `dry-run-allow` / `dry-run-mix`: selected, enforced
    /// nowhere.
    #[test]
    fn a_dry_run_policy_is_selected_but_not_applied() {
        let mut p = policy("istio-system", &[], vec![]);
        p.dry_run = true;
        let (n, dry, notes) = applied(p, classic());
        assert_eq!((n, dry), (0, 1));
        assert!(notes[0].contains("dry-run"), "{notes:?}");
    }
}
