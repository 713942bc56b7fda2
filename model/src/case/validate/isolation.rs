//! Validation of `isolated: true` (cross-origin isolation).

use super::Validator;
use crate::case::{Case, Relation, Step, WindowContent};

/// `isolated` is the top window's, on an `https:` URL (COOP and COEP
/// apply only in secure contexts), in a case with http(s) iframes only
/// no popups, and no race steps but `set_domain`.
pub(super) fn check_isolation(v: &mut Validator, case: &Case) {
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
    for w in &case.windows {
        let path = format!("windows.{}", w.name);
        match (&w.content, w.relation) {
            (_, Relation::Popup { .. }) => v.error(
                &path,
                format!("`{}` is a popup in an isolated case", w.name),
                "NOTE: pmconf's isolated cases have no popups (COOP same-origin puts a cross-origin popup in another browsing context group); drop the popup or `isolated`",
            ),
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
    // the setter's step 6 returns in an origin-keyed cluster); the other
    // race steps replace or add documents, and the plan decides the
    // cross-origin isolated capability and SharedArrayBuffer agent
    // clusters from one document per window ([`crate::navigation`]).
    for (i, step) in case.steps.iter().enumerate() {
        if matches!(
            step,
            Step::Post(_)
                | Step::Channel { .. }
                | Step::PortPost(_)
                | Step::PortCall { .. }
                | Step::SetDomain { .. }
        ) {
            continue;
        }
        v.error(
            "steps",
            format!("step {i} is a `{}` step, in an isolated case", step.kind()),
            "NOTE: pmconf models cross-origin isolation only in cases whose steps are posts, channels, port steps and `set_domain` (every window keeps its one document); drop the step or `isolated`",
        );
        break;
    }
}
