//! Validation of `navigate` steps: who may navigate the window, and to
//! what URL.

use super::super::raw::RawNavigate;
use super::super::{Case, Navigate, NavigateVia, Relation, Step, Topology, WindowContent};
use super::tree::inside;
use super::windows::check_url;
use super::Validator;
use crate::document::DocumentUrl;
use crate::mixed_content::frame_load_blocker;
use url::Url;

/// A `navigate` step, checked against the tree as it stands before it.
pub(super) fn check_navigate(
    v: &mut Validator,
    case: &Case,
    topo: &Topology,
    step_path: &str,
    n: &RawNavigate,
) -> Option<Step> {
    let look = |n: &str| case.window_index(n).expect("names were checked");
    let name = |case: &Case, w: usize| case.windows[w].name.clone();
    let window = look(&n.window);
    let by = n.by.as_deref().map(look).unwrap_or(window);
    let path = format!("{step_path}.navigate");
    let via = match n.via.as_deref() {
        None | Some("location") => NavigateVia::Location,
        Some("src") => NavigateVia::Src,
        Some(other) => {
            v.error(
                &format!("{path}.via"),
                format!("unknown `via: {other}`"),
                "use `location` (the default) or `src`",
            );
            return None;
        }
    };
    let relation = case.windows[window].relation;
    let allowed_by = by == window || relation.creator() == Some(by);
    if !allowed_by {
        v.error(
            &format!("{path}.by"),
            format!(
                "`{}` cannot be navigated by `{}` in a case",
                n.window,
                name(case, by)
            ),
            "navigate a window from its own script, its parent or its opener",
        );
        return None;
    }
    if via == NavigateVia::Src && relation != (Relation::Iframe { parent: by }) {
        v.error(
            &format!("{path}.via"),
            "`via: src` sets an iframe's src, which only its parent can do",
            format!(
                "set `by` to `{}`'s parent, or use `via: location`",
                n.window
            ),
        );
        return None;
    }
    if by != window && topo.path(case, by, window).is_none() {
        v.error(
            &format!("{path}.window"),
            format!(
                "script in `{}` cannot reach `{}` at this step",
                name(case, by),
                n.window
            ),
            "it was removed, closed or its parent navigated away; navigate a window that exists",
        );
        return None;
    }
    let url = check_navigation_url(v, case, topo, &format!("{path}.url"), window, &n.url)?;
    // Navigate, step 13: a URL equal to the current one apart
    // from a non-null fragment navigates to a fragment, in the
    // same document. The harness serves each navigation from
    // its own path, so it could not reproduce that here.
    // <https://html.spec.whatwg.org/multipage/browsing-the-web.html#navigate>
    let same_but_fragment = matches!(&topo.current_url[window], DocumentUrl::Url(cur) if {
        let mut a = cur.clone();
        a.set_fragment(None);
        let mut b = url.clone();
        b.set_fragment(None);
        a == b && url.fragment().is_some()
    });
    if same_but_fragment {
        v.error(
                &format!("{path}.url"),
                format!("`{}` differs from `{}`'s current URL only in its fragment: that is a fragment navigation, in the same document", n.url, n.window),
                format!("use `- fragment: {{window: {}, fragment: ...}}`", n.window),
            );
        return None;
    }
    Some(Step::Navigate(Navigate {
        window,
        by,
        via,
        url,
        url_as_written: n.url.clone(),
    }))
}

/// A navigation target: an http(s) URL on an allowed host, not blocked as
/// mixed content.
fn check_navigation_url(
    v: &mut Validator,
    case: &Case,
    topo: &Topology,
    path: &str,
    window: usize,
    input: &str,
) -> Option<Url> {
    let name = case.windows[window].name.clone();
    let content = check_url(v, path, &name, input, true, false)?;
    let WindowContent::Url(url) = content else {
        return None;
    };
    if !matches!(url.scheme(), "http" | "https") {
        v.error(path, format!("`{input}` is not an http(s) URL"), "navigate to an http: or https: URL on a .test host or loopback, so pmconf's agent can run there");
        return None;
    }
    if let Some(blocker) = frame_load_blocker(case, topo, window, &DocumentUrl::Url(url.clone())) {
        v.error(
            path,
            format!(
                "`{input}` would be blocked as mixed content inside {}",
                inside(case, &blocker)
            ),
            if blocker.is_https() {
                "navigate frames under https to https URLs"
            } else {
                "navigate frames under a loopback page to https or loopback URLs"
            },
        );
        return None;
    }
    Some(url)
}
