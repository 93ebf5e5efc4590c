//! What is wrong with a chain as a server sent it: order, duplicates, a
//! root that need not be sent, and (given the roots) a missing issuer.
//!
//! Linkage is by names (issuer DN of one = subject DN of the next), the
//! way path builders look for candidates; trust itself is
//! [`super::verify_trust`]'s business.

use x509_parser::prelude::X509Certificate;

use super::{is_ca, is_self_signed, parse, TrustRoots};

/// Problems with the order and content of `chain` (leaf first, as sent),
/// one sentence each; empty for a well-formed chain. Certificates are
/// numbered from 1.
///
/// Sending the leaf alone, or leaf + intermediates without the root, is
/// correct and gives no problem: whether an intermediate is missing depends
/// on the roots, see [`missing_issuer`].
pub fn chain_problems(chain: &[Vec<u8>]) -> Vec<String> {
    let mut problems = Vec::new();
    if chain.is_empty() {
        problems.push("no certificate sent".to_owned());
        return problems;
    }
    let parsed: Vec<Option<X509Certificate<'_>>> = chain
        .iter()
        .enumerate()
        .map(|(i, der)| match parse(der) {
            Ok(c) => Some(c),
            Err(e) => {
                problems.push(format!("certificate {} does not parse: {e}", i + 1));
                None
            }
        })
        .collect();

    for (j, der) in chain.iter().enumerate() {
        if let Some(i) = chain[..j].iter().position(|earlier| earlier == der) {
            problems.push(format!(
                "certificate {} is a duplicate of certificate {}",
                j + 1,
                i + 1
            ));
        }
    }

    if let Some(Some(first)) = parsed.first() {
        let leaf_at = parsed
            .iter()
            .position(|c| c.as_ref().is_some_and(|c| !is_ca(c)));
        if is_ca(first) && chain.len() > 1 {
            if let Some(k) = leaf_at {
                problems.push(format!(
                    "leaf not first: certificate 1 ({}) is a CA, the end-entity certificate is {} ({})",
                    first.subject(),
                    k + 1,
                    subject_of(&parsed, k)
                ));
            }
        }
    }

    for i in 0..parsed.len().saturating_sub(1) {
        let (Some(cert), Some(next)) = (&parsed[i], &parsed[i + 1]) else {
            continue;
        };
        if chain[i + 1] == chain[i] || cert.issuer().as_raw() == next.subject().as_raw() {
            continue;
        }
        if is_self_signed(cert) {
            problems.push(format!(
                "certificate {} ({}) is self-signed but more certificates follow it",
                i + 1,
                cert.subject()
            ));
            continue;
        }
        let issuer_at = parsed.iter().enumerate().position(|(j, c)| {
            j != i
                && c.as_ref()
                    .is_some_and(|c| c.subject().as_raw() == cert.issuer().as_raw())
        });
        match issuer_at {
            Some(j) => problems.push(format!(
                "out of order: the issuer of certificate {} ({}) is certificate {}, not {}",
                i + 1,
                cert.issuer(),
                j + 1,
                i + 2
            )),
            None => problems.push(format!(
                "certificate {} ({}) is not the issuer of certificate {} (issued by {})",
                i + 2,
                next.subject(),
                i + 1,
                cert.issuer()
            )),
        }
    }

    if chain.len() > 1 {
        if let Some(Some(last)) = parsed.last() {
            if is_self_signed(last) {
                problems.push(format!(
                    "self-signed root sent: certificate {} ({}) is useless to clients, which must \
                     already trust it",
                    chain.len(),
                    last.subject()
                ));
            }
        }
    }
    problems
}

/// `Some(problem)` when the last certificate of `chain` is not self-signed,
/// its issuer is not in the chain and is not one of `roots`: an
/// intermediate is missing (or the root is one the client does not trust —
/// the bytes alone cannot tell which).
pub fn missing_issuer(chain: &[Vec<u8>], roots: &TrustRoots) -> Option<String> {
    let last = parse(chain.last()?).ok()?;
    if is_self_signed(&last) {
        return None;
    }
    let issuer = last.issuer().as_raw();
    let in_chain = chain
        .iter()
        .filter_map(|der| parse(der).ok())
        .any(|c| c.subject().as_raw() == issuer);
    if in_chain || roots.has_subject(issuer) {
        return None;
    }
    Some(format!(
        "incomplete chain: the issuer of certificate {} ({}) was not sent and is not a trusted \
         root",
        chain.len(),
        last.issuer()
    ))
}

fn subject_of(parsed: &[Option<X509Certificate<'_>>], i: usize) -> String {
    parsed
        .get(i)
        .and_then(Option::as_ref)
        .map(|c| c.subject().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::test_certs::*;
    use super::*;

    #[test]
    fn a_well_ordered_chain_without_root_has_no_problem() {
        let root = root("Root");
        let inter = intermediate("Inter", &root);
        let leaf = leaf(&["a.test"], false, 30, &inter);
        assert!(chain_problems(&[leaf.clone(), inter.der.clone()]).is_empty());
        assert!(chain_problems(std::slice::from_ref(&leaf)).is_empty());
        let roots = TrustRoots::Custom(vec![root.der.clone()]);
        assert_eq!(
            missing_issuer(&[leaf.clone(), inter.der.clone()], &roots),
            None
        );
    }

    #[test]
    fn sent_root_duplicate_and_disorder_are_reported() {
        let root = root("Root");
        let inter = intermediate("Inter", &root);
        let leaf = leaf(&["a.test"], false, 30, &inter);

        let with_root = chain_problems(&[leaf.clone(), inter.der.clone(), root.der.clone()]);
        assert_eq!(with_root.len(), 1, "{with_root:?}");
        assert!(with_root[0].starts_with("self-signed root sent"));

        let dup = chain_problems(&[leaf.clone(), inter.der.clone(), inter.der.clone()]);
        assert!(dup.iter().any(|p| p.contains("duplicate")), "{dup:?}");

        let swapped = chain_problems(&[inter.der.clone(), leaf.clone()]);
        assert!(
            swapped.iter().any(|p| p.starts_with("leaf not first")),
            "{swapped:?}"
        );

        let disordered = chain_problems(&[leaf.clone(), root.der.clone(), inter.der.clone()]);
        assert!(
            disordered[0].starts_with("out of order: the issuer of certificate 1"),
            "{disordered:?}"
        );
    }

    #[test]
    fn missing_intermediate_is_found_against_the_roots() {
        let root = root("Root");
        let inter = intermediate("Inter", &root);
        let leaf = leaf(&["a.test"], false, 30, &inter);
        let roots = TrustRoots::Custom(vec![root.der.clone()]);
        let problem = missing_issuer(std::slice::from_ref(&leaf), &roots).unwrap();
        assert!(problem.starts_with("incomplete chain"), "{problem}");
        assert!(problem.contains("CN=Inter"), "{problem}");
        // An unrelated certificate in place of the intermediate.
        let stranger = intermediate("Stranger", &root);
        let wrong = chain_problems(&[leaf, stranger.der]);
        assert!(wrong[0].contains("is not the issuer"), "{wrong:?}");
    }

    #[test]
    fn garbage_and_empty_chains_are_problems_not_panics() {
        assert_eq!(chain_problems(&[]), ["no certificate sent"]);
        let p = chain_problems(&[b"junk".to_vec()]);
        assert!(p[0].contains("does not parse"), "{p:?}");
        assert_eq!(
            missing_issuer(&[b"junk".to_vec()], &TrustRoots::Public),
            None
        );
    }
}
