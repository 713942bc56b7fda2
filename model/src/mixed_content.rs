//! Mixed content: whether a frame's document is blocked from loading by
//! the documents around it.
//!
//! Two W3C specifications, one question each:
//! - Secure Contexts: is a URL, or an origin, *potentially trustworthy*?
//!   <https://w3c.github.io/webappsec-secure-contexts/#algorithms>
//! - Mixed Content: does an environment *prohibit mixed security
//!   contexts* (§4.3), and so *should fetching a request be blocked as
//!   mixed content* (§4.4)?
//!   <https://w3c.github.io/webappsec-mixed-content/#algorithms>
//!
//! The case validator refuses a frame the standard blocks (the model has
//! no outcome for a document that never loads), at the moment the frame
//! loads: up front, at its `create` step, or at a navigation, each time
//! against the documents its ancestors hold *then*
//! ([`frame_load_blocker`]). The race generator asks the same question
//! before it places or navigates a frame.
//!
//! What the engines do (`harness/tests/mixed_content_in_browsers.rs`,
//! Chromium 156, Firefox 153 ESR, WebKitGTK 2.50): an http `*.test` frame
//! under https is blocked in all three, as here. Two departures of theirs
//! are not the model's:
//! - an http `*.test` frame under an http *loopback* page loads in all
//!   three (they let only https pages restrict mixed content); the
//!   standard blocks it (`http://127.0.0.1` is a potentially trustworthy
//!   origin, §4.3 step 1), so the validator refuses such a frame;
//! - an http loopback frame under https is blocked by WebKitGTK (and in
//!   Firefox pmconf's agent cannot reach the harness from it); the
//!   standard lets it load (§4.4 step 1.2), so the validator accepts it
//!   and the race generator steers around it by a policy of its own
//!   (`harness/src/gen/races/topology.rs`, `AVOIDED_FRAMES`).

use crate::case::{Case, Relation, Topology, WindowIndex};
use crate::document::{determine_the_origin, DocumentUrl};
use crate::origin::{OpaqueOriginAllocator, Origin};
use crate::sandbox::SandboxingFlags;
use crate::url_origin::origin_of_url;
use url::Url;

/// "Is origin potentially trustworthy?"
///
/// <https://w3c.github.io/webappsec-secure-contexts/#is-origin-trustworthy>
///
/// (pmconf's hosts are `*.test` names and loopback literals: never
/// `localhost` names (step 5) nor `file:` (step 6), and no scheme or
/// origin is configured as trustworthy (steps 7-8).)
pub fn is_origin_potentially_trustworthy(origin: &Origin) -> bool {
    match origin {
        // 1. If origin is an opaque origin, return "Not Trustworthy".
        Origin::Opaque(_) => false,
        // 2. Assert: origin is a tuple origin.
        Origin::Tuple { scheme, host, .. } => {
            // 3. If origin's scheme is either "https" or "wss", return
            //    "Potentially Trustworthy".
            scheme == "https"
                || scheme == "wss"
                // 4. If origin's host matches one of the CIDR notations
                //    127.0.0.0/8 or ::1/128, return "Potentially
                //    Trustworthy".
                || host
                    .parse::<std::net::Ipv4Addr>()
                    .is_ok_and(|a| a.is_loopback())
                || host == "[::1]"
            // 9. Return "Not Trustworthy".
        }
    }
}

/// "Is url potentially trustworthy?"
///
/// <https://w3c.github.io/webappsec-secure-contexts/#is-url-trustworthy>
pub fn is_url_potentially_trustworthy(url: &Url) -> bool {
    // 1. If url is "about:blank" or "about:srcdoc", return "Potentially
    //    Trustworthy". (NOTE: with any query or fragment too, as "matches
    //    about:blank" has it: such a document inherits its context all the
    //    same.)
    if url.scheme() == "about" && matches!(url.path(), "blank" | "srcdoc") {
        return true;
    }
    // 2. If url's scheme is "data", return "Potentially Trustworthy".
    if url.scheme() == "data" {
        return true;
    }
    // 3. Return the result of executing "Is origin potentially
    //    trustworthy?" on url's origin.
    is_origin_potentially_trustworthy(&origin_of_url(url, &mut OpaqueOriginAllocator::new()))
}

/// "Does settings prohibit mixed security contexts?", for an environment
/// whose origin is `around[0]` and whose document's ancestor navigables'
/// active documents have the origins `around[1..]`, nearest first: the
/// index of the document that makes it prohibit, or `None` ("Does Not
/// Restrict Mixed Security Contexts").
///
/// <https://w3c.github.io/webappsec-mixed-content/#categorize-settings-object>
pub fn prohibiting_document(around: &[Origin]) -> Option<usize> {
    // 1. If settings' origin is a potentially trustworthy origin, then
    //    return "Prohibits Mixed Security Contexts".
    // 2. If settings' global object is a window, then: [...] 2. For each
    //    navigable navigable in document's ancestor navigables: 1. If
    //    navigable's active document's origin is a potentially trustworthy
    //    origin, then return "Prohibits Mixed Security Contexts".
    // 3. Return "Does Not Restrict Mixed Security Contexts".
    around.iter().position(is_origin_potentially_trustworthy)
}

/// "Should fetching request be blocked as mixed content?" for a frame's
/// navigation request to `url`, whose client's document and its ancestors
/// have the origins `client_and_ancestors` (nearest first; empty for a
/// top-level navigation): the index of the document that makes it blocked,
/// or `None` for "allowed".
///
/// <https://w3c.github.io/webappsec-mixed-content/#should-block-fetch>
///
/// NOTE(departs): the HTML Standard gives a navigation request the
/// *initiator's* environment as its client ("create navigation params by
/// fetching", step 3: "client: sourceSnapshotParams's fetch client"); pmconf
/// passes the frame's *container* document (its parent's active document)
/// and that document's ancestors, whoever navigates. The three engines do
/// that: an https frame under an http page that navigates itself to http
/// loads in all of them (`mixed_content_in_browsers`), where its own https
/// environment would prohibit it. For a frame's first load, and a
/// navigation its parent starts, the two readings agree.
pub fn should_fetching_be_blocked(url: &Url, client_and_ancestors: &[Origin]) -> Option<usize> {
    // 1. Return allowed if one or more of the following conditions are met:
    //    1. Does settings prohibit mixed security contexts? returns "Does
    //       Not Restrict Mixed Security Contexts" when applied to request's
    //       client.
    //    2. request's current URL is a potentially trustworthy URL.
    //    3. (The user agent has been instructed to allow mixed content: no
    //       engine pmconf drives is.)
    //    4. request's destination is "document", and request's target
    //       browsing context has no parent browsing context.
    if is_url_potentially_trustworthy(url) || client_and_ancestors.is_empty() {
        return None;
    }
    // 2. Return blocked.
    prohibiting_document(client_and_ancestors)
}

/// Whether frame `window` of `case` loading `document` is blocked as
/// mixed content by the documents around it in `topology` (their *current*
/// documents: a window that navigated from http to https blocks the http
/// frames created or navigated under it afterwards): the nearest window
/// whose document makes it blocked, or `None`.
///
/// Popups and the case's top window are never blocked: a popup is
/// top-level (step 1.4), and the top window's container is pmconf's
/// runner page, an http page that restricts nothing. Nor is a `srcdoc`
/// frame, which fetches nothing (and `about:srcdoc` is potentially
/// trustworthy).
pub fn frame_load_blocker(
    case: &Case,
    topology: &Topology,
    window: WindowIndex,
    document: &DocumentUrl,
) -> Option<FrameBlocker> {
    let DocumentUrl::Url(url) = document else {
        return None;
    };
    let mut alloc = OpaqueOriginAllocator::new();
    let mut around = Vec::new();
    let mut origins = Vec::new();
    let mut at = window;
    while let Relation::Iframe { parent } = case.windows[at].relation {
        origins.push(origin_for_mixed_content(case, topology, parent, &mut alloc));
        around.push(parent);
        at = parent;
    }
    should_fetching_be_blocked(url, &origins).map(|i| FrameBlocker {
        window: around[i],
        origin: origins.swap_remove(i),
    })
}

/// The window whose current document makes a frame's load blocked, and
/// that document's origin (potentially trustworthy: https, or http on a
/// loopback address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameBlocker {
    /// The window.
    pub window: WindowIndex,
    /// Its current document's origin, as the check counts it.
    pub origin: Origin,
}

impl FrameBlocker {
    /// Whether the document is https (rather than http on loopback).
    pub fn is_https(&self) -> bool {
        matches!(&self.origin, Origin::Tuple { scheme, .. } if scheme == "https")
    }
}

/// The origin of `w`'s current document, as the mixed content check
/// counts it.
///
/// NOTE(departs): a sandboxed document's origin is opaque (determining the
/// origin, step 1), so the standard lets an http frame load under a
/// sandboxed https one (§4.3 step 1); the three engines block it all the
/// same (`mixed_content_in_browsers`): they judge the sandboxed document by
/// the origin its URL would give. So does pmconf, which then refuses a case
/// no engine could run rather than answer it.
fn origin_for_mixed_content(
    case: &Case,
    topology: &Topology,
    w: WindowIndex,
    alloc: &mut OpaqueOriginAllocator,
) -> Origin {
    let source = case.windows[w]
        .relation
        .creator()
        .map(|c| origin_for_mixed_content(case, topology, c, alloc));
    determine_the_origin(
        &topology.current_url[w],
        &SandboxingFlags::none(),
        source.as_ref(),
        alloc,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn origin(s: &str) -> Origin {
        origin_of_url(&url(s), &mut OpaqueOriginAllocator::new())
    }

    #[test]
    fn https_wss_and_loopback_origins_are_potentially_trustworthy() {
        // Step 3: https and wss; step 4: 127.0.0.0/8 and ::1/128, any port.
        for yes in [
            "https://a.test/",
            "wss://a.test/",
            "http://127.0.0.1:8001/",
            "http://127.200.3.4/",
            "http://[::1]:8443/",
        ] {
            assert!(is_origin_potentially_trustworthy(&origin(yes)), "{yes}");
        }
        // Step 9: http on a name, or on an address outside loopback.
        for no in ["http://a.test/", "ws://a.test/", "http://128.0.0.1/"] {
            assert!(!is_origin_potentially_trustworthy(&origin(no)), "{no}");
        }
        // Step 1: opaque, whatever URL made it.
        assert!(!is_origin_potentially_trustworthy(&origin(
            "data:text/html,x"
        )));
    }

    #[test]
    fn about_blank_srcdoc_and_data_urls_are_potentially_trustworthy() {
        // Steps 1-2: they inherit their context, so never mixed content.
        for yes in ["about:blank", "about:srcdoc", "data:text/html,x"] {
            assert!(is_url_potentially_trustworthy(&url(yes)), "{yes}");
        }
        assert!(!is_url_potentially_trustworthy(&url("about:other")));
        assert!(!is_url_potentially_trustworthy(&url("http://b.test/")));
        assert!(is_url_potentially_trustworthy(&url("http://127.0.0.1/")));
    }

    #[test]
    fn the_nearest_trustworthy_document_prohibits_mixed_security_contexts() {
        // Step 1: the environment's own origin.
        assert_eq!(prohibiting_document(&[origin("https://a.test/")]), Some(0));
        // Step 2: any ancestor's active document.
        let chain = [
            origin("http://a.test/"),
            origin("http://127.0.0.1:8001/"),
            origin("https://c.test/"),
        ];
        assert_eq!(prohibiting_document(&chain), Some(1));
        // Step 3.
        assert_eq!(
            prohibiting_document(&[origin("http://a.test/"), origin("http://b.test/")]),
            None
        );
    }

    #[test]
    fn a_frame_fetch_is_blocked_only_for_a_url_that_is_not_trustworthy_under_a_prohibiting_client()
    {
        let https = [origin("https://a.test/")];
        let loopback = [origin("http://127.0.0.1:8001/")];
        let http = [origin("http://a.test/")];
        // Blocked: an http name under https, or under an http loopback page
        // (its origin is potentially trustworthy: §4.3 step 1).
        assert_eq!(
            should_fetching_be_blocked(&url("http://b.test/"), &https),
            Some(0)
        );
        assert_eq!(
            should_fetching_be_blocked(&url("http://b.test/"), &loopback),
            Some(0)
        );
        // Allowed, step 1.2: the URL is potentially trustworthy.
        for u in [
            "http://127.0.0.1:8002/",
            "https://b.test/",
            "about:blank",
            "data:,x",
        ] {
            assert_eq!(should_fetching_be_blocked(&url(u), &https), None, "{u}");
        }
        // Allowed, step 1.1: nothing around restricts.
        assert_eq!(
            should_fetching_be_blocked(&url("http://b.test/"), &http),
            None
        );
        // Allowed, step 1.4: a top-level navigation.
        assert_eq!(
            should_fetching_be_blocked(&url("http://b.test/"), &[]),
            None
        );
    }
}
