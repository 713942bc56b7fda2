//! Validation of the other realms a post uses: a cross-window call's
//! function (`function_of`, [`crate::post_message`]) and the Errors of a
//! message made by another window's constructors (`$error`'s `realm`).
//!
//! The caller must see that window to use its realm: WindowProxy's
//! [[GetOwnProperty]] returns the real property (`postMessage`, `TypeError`)
//! when IsPlatformObjectSameOrigin(W), "true if the current settings
//! object's origin is same origin-domain with O's relevant settings
//! object's origin"; otherwise `postMessage` is a cross-origin wrapper made
//! in the caller's own realm, and `TypeError` throws a SecurityError.
//! <https://html.spec.whatwg.org/multipage/nav-history-apis.html#windowproxy-getownproperty>

use super::super::raw::RawPost;
use super::flat::FlatStep;
use super::Validator;
use crate::case::{Case, PortPost, Post, Step, Topology, WindowIndex};
use crate::origin::same_origin_domain;

/// A window named `name` whose realm `from`'s script uses at this step
/// (`uses`: what of it, for messages): it is a window of the case, exists,
/// has settled and `from` reaches it. `None` when it is wrong (reported).
fn check_other_realm(
    v: &mut Validator,
    case: &Case,
    topo: &Topology,
    path: &str,
    from: WindowIndex,
    name: &str,
    uses: &str,
) -> Option<WindowIndex> {
    let from_name = &case.windows[from].name;
    let Some(w) = case.window_index(name) else {
        v.error(
            path,
            format!("unknown window `{name}`, whose {uses} `{from_name}` would use"),
            format!(
                "use one of the windows this case declares: {}",
                case.windows
                    .iter()
                    .map(|w| w.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        return None;
    };
    if !topo.exists[w] {
        v.error(
            path,
            format!("`{name}` does not exist at this step (not created yet, or removed, closed or gone with its parent's document), so there is no {uses} of it"),
            "name a window that exists when the step runs",
        );
        return None;
    }
    if topo.loading[w] {
        v.error(
            path,
            format!("`{name}` is loading a navigation here, so which document's {uses} `{from_name}` would use is not settled"),
            format!("add `- wait: {{loaded: {name}}}` before this step"),
        );
        return None;
    }
    if topo.exists[from] && topo.path(case, from, w).is_none() {
        v.error(
            path,
            format!("script in `{from_name}` has no way to reach `{name}`, so it cannot use its {uses}"),
            "a window reaches its parent, its opener, frames[i] of any window it reaches, and popups it opened itself; pick a reachable window",
        );
        return None;
    }
    Some(w)
}

/// A window whose realm a step uses, what of it, and the field naming it.
type RealmUse = (String, &'static str, &'static str);

/// What a post uses of `function_of`'s realm.
const FUNCTION: &str = "postMessage function";
/// What a post uses of an `$error`'s `realm`.
const CONSTRUCTORS: &str = "Error constructors";

/// The window `function_of` names, checked against the tree before the
/// step. `Err` when it is wrong (reported); `Ok(None)` without it.
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
    check_other_realm(
        v,
        case,
        topo,
        &format!("{path}.function_of"),
        from,
        name,
        FUNCTION,
    )
    .map(Some)
    .ok_or(())
}

/// Each `$error` realm of a post, checked against the tree before it.
pub(super) fn check_error_realms(
    v: &mut Validator,
    case: &Case,
    topo: &Topology,
    step_path: &str,
    p: &Post,
) {
    for name in p.error_realms() {
        check_other_realm(
            v,
            case,
            topo,
            &format!("{step_path}.post.message"),
            p.from,
            &name,
            CONSTRUCTORS,
        );
    }
}

/// Each `$error` realm of a port post, checked against the tree before
/// it: the port's holder must reach the window whose constructors it uses.
pub(super) fn check_port_post_error_realms(
    v: &mut Validator,
    case: &Case,
    topo: &Topology,
    step_path: &str,
    p: &PortPost,
) {
    for name in p.error_realms() {
        check_other_realm(
            v,
            case,
            topo,
            &format!("{step_path}.port_post.message"),
            p.from,
            &name,
            CONSTRUCTORS,
        );
    }
}

/// Every other realm a post uses is same origin-domain with the caller's
/// document when the call runs (the origins from the model's plan, the
/// domains from `document.domain` steps), for window and port posts.
/// Runs only on a case that is otherwise valid.
pub(super) fn check_realms_same_origin_domain(v: &mut Validator, case: &Case, flat: &[FlatStep]) {
    if !v.errors.is_empty() {
        return;
    }
    let uses = |p: &Post| -> Vec<RealmUse> {
        let mut out: Vec<RealmUse> = p
            .function_of
            .map(|f| (case.windows[f].name.clone(), FUNCTION, "function_of"))
            .into_iter()
            .collect();
        out.extend(
            p.error_realms()
                .into_iter()
                .map(|r| (r, CONSTRUCTORS, "message")),
        );
        out
    };
    // Every step that uses another realm: its caller, and what it uses.
    // A port post runs in a case without race steps, where every window
    // keeps the one document it starts with.
    let users: Vec<(usize, WindowIndex, Vec<RealmUse>)> = case
        .steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s {
            Step::Post(p) => Some((i, p.from, uses(p))),
            Step::PortPost(pp) => Some((
                i,
                pp.from,
                pp.error_realms()
                    .into_iter()
                    .map(|r| (r, CONSTRUCTORS, "message"))
                    .collect(),
            )),
            _ => None,
        })
        .filter(|(_, _, u)| !u.is_empty())
        .collect();
    if users.is_empty() {
        return;
    }
    let plan = crate::navigation::plan_case(case);
    for (i, from, used) in users {
        let (kind, caller, documents) = match &case.steps[i] {
            Step::Post(_) => match plan.senders[i] {
                Some(caller) => ("post", caller, plan.documents_at_post[i].clone()),
                None => continue,
            },
            _ => match plan.initial_document[from] {
                Some(caller) => ("port_post", caller, plan.initial_document.clone()),
                None => continue,
            },
        };
        let topo = Topology::before_step(case, i);
        let domain = |w: WindowIndex| topo.domain[w].as_ref().map(|h| h.to_string());
        let with_domain = |o: &crate::origin::Origin, d: Option<String>| match d {
            Some(d) => format!("{o}, document.domain {d}"),
            None => format!("{o}"),
        };
        let from_name = &case.windows[from].name;
        for (name, what, field) in used {
            let w = case.window_index(&name).expect("checked at the step");
            let Some(doc) = documents[w] else {
                continue;
            };
            let (a, b) = (&plan.documents[caller].origin, &plan.documents[doc].origin);
            if !same_origin_domain(a, domain(from).as_deref(), b, domain(w).as_deref()) {
                v.error(
                    &format!("{}.{kind}.{field}", flat[i].path),
                    format!(
                        "`{name}` ({}) is not same origin-domain with `{from_name}` ({}) at this step, so `{from_name}` cannot use `{name}`'s own {what} ({})",
                        with_domain(b, domain(w)),
                        with_domain(a, domain(from)),
                        if what == FUNCTION {
                            "it would get a cross-origin wrapper made in its own realm"
                        } else {
                            "reading them throws a SecurityError"
                        }
                    ),
                    format!("name a window same origin with `{from_name}` (or have both set document.domain to one value first)"),
                );
            }
        }
    }
}
