//! Validation of a post's `function_of`: a cross-window call,
//! `other.postMessage.call(target, ...)` ([`crate::post_message`]).
//!
//! The caller must read `other`'s own `postMessage` function, which it
//! does only when it may see `other`: WindowProxy's [[GetOwnProperty]]
//! returns the real property when IsPlatformObjectSameOrigin(W), "true if
//! the current settings object's origin is same origin-domain with O's
//! relevant settings object's origin"; otherwise it gets a wrapper made in
//! its own realm, and the call would be an ordinary one.
//! <https://html.spec.whatwg.org/multipage/nav-history-apis.html#windowproxy-getownproperty>

use super::super::raw::RawPost;
use super::flat::FlatStep;
use super::Validator;
use crate::case::{Case, Topology, WindowIndex};
use crate::origin::same_origin_domain;

/// The window `function_of` names, checked against the tree before the
/// step: it exists, its document is settled, `from` reaches it. `Err`
/// when it is wrong (reported); `Ok(None)` without `function_of`.
pub(super) fn check_function_of(
    v: &mut Validator,
    case: &Case,
    topo: &Topology,
    path: &str,
    from: WindowIndex,
    p: &RawPost,
) -> Result<Option<WindowIndex>, ()> {
    let Some(name) = &p.function_of else {
        return Ok(None);
    };
    let path = format!("{path}.function_of");
    let f = case.window_index(name).ok_or(())?;
    if !topo.exists[f] {
        v.error(
            &path,
            format!("`{name}` does not exist at this step (not created yet, or removed, closed or gone with its parent's document), so there is no postMessage function of it to call"),
            "name a window that exists when the step runs",
        );
        return Err(());
    }
    if topo.loading[f] {
        v.error(
            &path,
            format!("`{name}` is loading a navigation here, so which document's postMessage function `{}` would read is not settled", p.from),
            format!("add `- wait: {{loaded: {name}}}` before this step"),
        );
        return Err(());
    }
    if topo.exists[from] && topo.path(case, from, f).is_none() {
        v.error(
            &path,
            format!("script in `{}` has no way to reach `{name}`, so it cannot read its postMessage function", p.from),
            "a window reaches its parent, its opener, frames[i] of any window it reaches, and popups it opened itself; pick a reachable window",
        );
        return Err(());
    }
    Ok(Some(f))
}

/// Every `function_of` names a window whose document is same
/// origin-domain with the caller's when the call runs (the origins come
/// from the model's plan, the domains from `document.domain` steps).
/// Runs only on a case that is otherwise valid.
pub(super) fn check_function_realms(v: &mut Validator, case: &Case, flat: &[FlatStep]) {
    if !v.errors.is_empty() || !case.posts().any(|(_, p)| p.function_of.is_some()) {
        return;
    }
    let plan = crate::navigation::plan_case(case);
    for (i, p) in case.posts() {
        let Some(f) = p.function_of else { continue };
        let (Some(caller), Some(function)) = (plan.senders[i], plan.functions[i]) else {
            continue;
        };
        let topo = Topology::before_step(case, i);
        let domain = |w: WindowIndex| topo.domain[w].as_ref().map(|h| h.to_string());
        let (a, b) = (&plan.documents[caller].origin, &plan.documents[function].origin);
        if !same_origin_domain(a, domain(p.from).as_deref(), b, domain(f).as_deref()) {
            let (from_name, f_name) = (&case.windows[p.from].name, &case.windows[f].name);
            let with_domain = |o: &crate::origin::Origin, d: Option<String>| match d {
                Some(d) => format!("{o}, document.domain {d}"),
                None => format!("{o}"),
            };
            v.error(
                &format!("{}.post.function_of", flat[i].path),
                format!(
                    "`{f_name}` ({}) is not same origin-domain with `{from_name}` ({}) at this step, so `{from_name}` cannot read `{f_name}`'s own postMessage function (it would get a cross-origin wrapper made in its own realm)",
                    with_domain(b, domain(f)),
                    with_domain(a, domain(p.from)),
                ),
                format!("name a window same origin with `{from_name}` (or have both set document.domain to one value first)"),
            );
        }
    }
}
