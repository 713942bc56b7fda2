//! Validation of `isolated: true` (cross-origin isolation).

use super::Validator;
use crate::case::{Case, Relation, WindowContent};

/// `isolated` is the top window's, on an `https:` URL (COOP and COEP
/// apply only in secure contexts), in a case with http(s) iframes only
/// and no popups or race steps.
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
    if case.is_race() {
        v.error(
            "steps",
            "race steps in an isolated case",
            "NOTE: pmconf models cross-origin isolation only in cases whose steps are posts, channels and port posts",
        );
    }
}
