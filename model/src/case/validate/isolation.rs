//! Validation of `isolated: true` (cross-origin isolation).

use super::flat::FlatStep;
use super::Validator;
use crate::case::{Case, Relation, Step, WindowContent};
use crate::isolation::{
    first_origin, popup_keeps_its_opener, served_opener_policy, OpenerPolicyValue,
};

/// `isolated` is the top window's, on an `https:` URL (COOP and COEP
/// apply only in secure contexts), in a case with http(s) iframes only
/// no sandboxed popups, and no race steps but `set_domain`, `sab_write`, `create` and `wait`.
pub(super) fn check_isolation(v: &mut Validator, case: &Case, flat: &[FlatStep]) {
    if !v.errors.is_empty() {
        return;
    }
    for w in &case.windows {
        let path = format!("windows.{}", w.name);
        if w.isolated && w.relation != Relation::Top {
            v.error(
                &format!("{path}.isolated"),
                format!("`isolated` on `{}`, which is not the top window", w.name),
                "put `isolated: true` on the top window: it isolates the whole case (every page gets COEP require-corp)",
            );
        }
    }
    if !case.is_isolated() {
        return;
    }
    for (i, w) in case.windows.iter().enumerate() {
        let path = format!("windows.{}", w.name);
        match (&w.content, w.relation) {
            // "If finalSandboxFlags is not empty and responseCOOP's value is
            // not "unsafe-none", then set response to an appropriate
            // network error": a sandboxed popup of an isolated page never
            // loads it.
            (_, Relation::Popup { .. }) if w.sandbox_flags.is_sandboxed() => v.error(
                &path,
                format!("`{}` is a sandboxed popup in an isolated case", w.name),
                "a popup that inherits sandboxing flags gets a network error for a page served with COOP (navigate, step \"finalSandboxFlags is not empty and responseCOOP's value is not unsafe-none\"); open it from a window without a sandbox attribute, or drop `isolated`",
            ),
            (WindowContent::Url(u), Relation::Popup { .. })
                if matches!(u.scheme(), "http" | "https")
                    && popup_keeps_its_opener(case, i, &|x| first_origin(case, x))
                    && served_opener_policy(&first_origin(case, i)) == OpenerPolicyValue::UnsafeNone =>
            {
                v.error(
                    &path,
                    format!("`{}` would stay in the isolated browsing context group without COOP and COEP of its own", w.name),
                    "NOTE: pmconf does not model a non-secure popup kept by an opener that is cross-origin with its top (both opener policies unsafe-none: no switch); give it an https URL or open it from the top window",
                )
            }
            (WindowContent::Url(u), Relation::Top) if u.scheme() != "https" => v.error(
                &format!("{path}.url"),
                "an isolated top window must be an https: page: COOP and COEP apply only in secure contexts",
                "use an https:// URL",
            ),
            (WindowContent::Url(u), _) if matches!(u.scheme(), "http" | "https") => {}
            _ => v.error(
                &path,
                format!("`{}` is not an http(s) page, in an isolated case", w.name),
                "NOTE: pmconf sends COEP only with the pages it serves; use http(s) URLs for every window of an isolated case",
            ),
        }
    }
    // `set_domain` keeps every document (the explorer only has to know that
    // the setter's step 6 returns in an origin-keyed cluster), and so does
    // `sab_write` (it only orders a write against message tasks). `create`
    // adds a window whose initial about:blank has its creator's origin,
    // then the document its first navigation commits (the capability is
    // its final document's, which every post of its own comes from once a
    // `wait` lets it run a step; a buffer's deserialization is decided by
    // the document the task runs in: `Plan::deserialize_fails_in`). The
    // other race steps replace documents of a window, and the plan decides
    // the cross-origin isolated capability from one document per window
    // ([`crate::navigation`]).
    for (i, step) in case.steps.iter().enumerate() {
        if matches!(
            step,
            Step::Post(_)
                | Step::Channel { .. }
                | Step::PortPost(_)
                | Step::PortCall { .. }
                | Step::SetDomain { .. }
                | Step::SabWrite(_)
                | Step::Create { .. }
                | Step::WaitLoaded { .. }
        ) {
            continue;
        }
        v.error(
            &format!("{}.{}", flat[i].path, flat[i].kind),
            format!("step {i} is a `{}` step, in an isolated case", step.kind()),
            "NOTE: pmconf models cross-origin isolation only in cases whose steps are posts, channels, port steps, `set_domain`, `sab_write`, `create` and `wait` (no window's document is replaced); drop the step or `isolated`",
        );
        break;
    }
}
