//! Validation of the steps that act on one window's document or element:
//! `reload`, `remove`, `close`, `push_state`, `fragment`, `set_domain` and
//! `create`, each against the tree as it stands before it.

use super::super::raw::{RawFragment, RawSetDomain, RawWindowRef};
use super::super::{Case, Relation, Step, Topology};
use super::Validator;
use crate::document::{document_domain_setter, DocumentUrl, DomainSetterError};
use crate::mixed_content::frame_load_blocker;

/// Whether `w`'s current document was loaded from an http(s) URL.
fn is_http_document(topo: &Topology, w: usize) -> bool {
    matches!(&topo.current_url[w], DocumentUrl::Url(u) if matches!(u.scheme(), "http" | "https"))
}

pub(super) fn check_reload(
    v: &mut Validator,
    case: &Case,
    topo: &Topology,
    step_path: &str,
    r: &RawWindowRef,
) -> Option<Step> {
    let window = case.window_index(&r.window)?;
    if !is_http_document(topo, window) {
        v.error(
            &format!("{step_path}.reload.window"),
            format!("`{}` is not an http(s) document: pmconf's agent would not run again after a reload", r.window),
            "reload windows loaded from http(s) URLs",
        );
        return None;
    }
    Some(Step::Reload { window })
}

pub(super) fn check_remove(
    v: &mut Validator,
    case: &Case,
    step_path: &str,
    r: &RawWindowRef,
) -> Option<Step> {
    let window = case.window_index(&r.window)?;
    if !matches!(case.windows[window].relation, Relation::Iframe { .. }) {
        v.error(
            &format!("{step_path}.remove.window"),
            format!("`{}` is not an iframe, so it cannot be removed", r.window),
            "remove an iframe (a window with `parent`); `close` a popup",
        );
        return None;
    }
    Some(Step::Remove { window })
}

pub(super) fn check_close(
    v: &mut Validator,
    case: &Case,
    topo: &Topology,
    step_path: &str,
    r: &RawWindowRef,
) -> Option<Step> {
    let window = case.window_index(&r.window)?;
    if !matches!(case.windows[window].relation, Relation::Popup { .. }) {
        v.error(
            &format!("{step_path}.close.window"),
            format!(
                "`{}` is not a popup, so its opener cannot close it",
                r.window
            ),
            "close a popup (a window with `opener`); `remove` an iframe",
        );
        return None;
    }
    if topo.exists[window] && !topo.handle_held[window] {
        v.error(
            &format!("{step_path}.close.window"),
            format!(
                "`{}`'s opener no longer holds its handle (it navigated since)",
                r.window
            ),
            "close the popup before its opener navigates",
        );
        return None;
    }
    Some(Step::Close { window })
}

pub(super) fn check_fragment(
    v: &mut Validator,
    case: &Case,
    step_path: &str,
    fr: &RawFragment,
) -> Option<Step> {
    if fr.fragment.contains('#') || fr.fragment.is_empty() {
        v.error(
            &format!("{step_path}.fragment.fragment"),
            "the fragment is empty or contains `#`",
            "give the fragment without `#`, such as `section-2`",
        );
        return None;
    }
    Some(Step::Fragment {
        window: case.window_index(&fr.window)?,
        fragment: fr.fragment.clone(),
    })
}

/// `push_state` and `fragment` change the URL of an http(s) document (run
/// once the step's windows are known to be able to take it).
pub(super) fn check_url_change(
    v: &mut Validator,
    case: &Case,
    topo: &Topology,
    step_path: &str,
    kind: &str,
    step: &Step,
) -> bool {
    let (Step::PushState { window } | Step::Fragment { window, .. }) = step else {
        return true;
    };
    if is_http_document(topo, *window) {
        return true;
    }
    v.error(
        &format!("{step_path}.{kind}.window"),
        format!(
            "`{}` is not an http(s) document, so it cannot change its URL",
            case.windows[*window].name
        ),
        "use push_state and fragment in windows loaded from http(s) URLs",
    );
    false
}

/// `set_domain`: the `document.domain` setter must not throw
/// ([`document_domain_setter`]; step 2, the sandbox flag, is checked here).
pub(super) fn check_set_domain(
    v: &mut Validator,
    case: &Case,
    topo: &Topology,
    step_path: &str,
    d: &RawSetDomain,
) -> Option<Step> {
    let window = case.window_index(&d.window)?;
    if case.windows[window].sandbox_flags.is_sandboxed() {
        v.error(
            &format!("{step_path}.set_domain.window"),
            format!("`{}` is sandboxed, so setting document.domain throws (the sandboxed document.domain browsing context flag)", d.window),
            "set document.domain in a window without a sandbox attribute",
        );
        return None;
    }
    let effective = topo.effective_domain(window);
    if let Err(e) = document_domain_setter(effective.as_ref(), &d.domain, case.is_isolated()) {
        let value = d.domain.to_ascii_lowercase();
        let why = match (e, &effective, &topo.domain[window]) {
            (DomainSetterError::NoEffectiveDomain, _, _) | (_, None, _) => {
                "the document's host is not a domain".to_owned()
            }
            (DomainSetterError::PublicSuffix, _, _) => format!("`{value}` is a public suffix"),
            (DomainSetterError::NotASuffix, Some(effective), Some(_)) => format!(
                "`{value}` is not `{effective}` (the document.domain this document set earlier, now its effective domain) or a parent domain of it"
            ),
            (DomainSetterError::NotASuffix, Some(host), None) => {
                format!("`{value}` is not `{host}` or a parent domain of it")
            }
        };
        v.error(&format!("{step_path}.set_domain.domain"), format!("`document.domain = \"{}\"` would throw: {why}", d.domain), "assign the document's effective domain (its host, or what it set document.domain to) or a parent domain of it with at least two labels (`a.test` for `sub.a.test`)");
        return None;
    }
    Some(Step::SetDomain {
        window,
        domain: d.domain.clone(),
    })
}

/// `create`: the frame must not be blocked as mixed content by the
/// documents around it now.
pub(super) fn check_create(
    v: &mut Validator,
    case: &Case,
    topo: &Topology,
    step_path: &str,
    r: &RawWindowRef,
) -> Option<Step> {
    let window = case.window_index(&r.window)?;
    if let Some(blocker) = frame_load_blocker(case, topo, window, &topo.current_url[window]) {
        let at = blocker.window;
        let now = match &topo.current_url[at] {
            DocumentUrl::Url(u) => u.to_string(),
            DocumentUrl::Srcdoc => "about:srcdoc".to_owned(),
        };
        v.error(
            &format!("{step_path}.create.window"),
            format!(
                "`{}` would be blocked as mixed content: it is http inside `{}`, whose document is now `{now}`",
                r.window, case.windows[at].name,
            ),
            if blocker.is_https() {
                "create the frame before that window navigates to https, or give the frame an https URL"
            } else {
                "create the frame before that window navigates to a loopback address, or give the frame an https (or loopback) URL"
            },
        );
        return None;
    }
    Some(Step::Create { window })
}
