//! Cross-origin isolation, as far as `SharedArrayBuffer` messages see it.
//!
//! A case whose top window is `isolated: true` is served with COOP
//! `same-origin` and COEP `require-corp` on an https: page, so its
//! browsing context group's cross-origin isolation mode is not "none":
//! <https://html.spec.whatwg.org/multipage/document-sequences.html#bcg-cross-origin-isolation>
//!
//! Two things follow for the model:
//!
//! - Agent clusters are keyed by origin, not site: "To obtain a
//!   similar-origin window agent, given an origin origin, a browsing
//!   context group group [...]: 1. Let site be the result of obtaining a
//!   site with origin. 2. Let key be site. 3. If group's cross-origin
//!   isolation mode is not "none", then set key to origin."
//!   <https://html.spec.whatwg.org/multipage/webappapis.html#obtain-similar-origin-window-agent>
//! - A document's settings object has the cross-origin isolated
//!   capability when the group's mode is "concrete" and the document is
//!   "allowed to use" the `cross-origin-isolated` feature, whose default
//!   allowlist is `'self'`: the top document, and an iframe whose origin is
//!   same origin with its parent's when the parent has it (no case sets an
//!   `allow` attribute).
//!   <https://html.spec.whatwg.org/multipage/webappapis.html#concept-settings-object-cross-origin-isolated-capability>
//!   NOTE: the model takes "concrete" for every isolated case (an https:
//!   page served by pmconf with both headers); an engine that only reaches
//!   "logical" isolation, or none, shows it as a divergence.
//!
//! StructuredSerializeInternal throws for a SharedArrayBuffer unless the
//! sender has the capability ([`crate::message`]); StructuredDeserialize
//! throws when "targetRealm's corresponding agent cluster is not
//! serialized.[[AgentCluster]]", and the window post message steps then
//! fire `messageerror` (step 8.4).

//!
//! ## Popups: whether they keep their opener
//!
//! Every page of an isolated case is served with COOP `same-origin` and
//! COEP `require-corp`. A popup's first navigation enforces its response's
//! opener policy against its initial `about:blank`'s, and a browsing
//! context group switch puts it in a new top-level browsing context of a
//! new group, which has no opener ([`popup_keeps_its_opener`]). Posts
//! across the two groups are then impossible: `window.opener` is null in
//! the popup, and the opener's handle names the browsing context the
//! switch left behind.

use crate::case::{Case, Relation, WindowContent, WindowIndex};
use crate::mixed_content::is_origin_potentially_trustworthy;
use crate::origin::{same_origin, OpaqueOriginAllocator, Origin};

/// Whether window `w`'s document has the cross-origin isolated capability
/// (`origin_of(w)` is each window's document origin; non-race cases have
/// one document per window).
pub fn cross_origin_isolated_capability(
    case: &Case,
    w: WindowIndex,
    origin_of: &dyn Fn(WindowIndex) -> Origin,
) -> bool {
    if !case.is_isolated() {
        return false;
    }
    match case.windows[w].relation {
        Relation::Top => true,
        // The container policy's default allowlist 'self': the parent's
        // origin.
        Relation::Iframe { parent } => {
            same_origin(&origin_of(w), &origin_of(parent))
                && cross_origin_isolated_capability(case, parent, origin_of)
        }
        // A popup is a top-level document, allowed to use the feature by
        // its default allowlist; its group is cross-origin isolated when
        // it kept its opener (the case's group) or when the new group its
        // own `same-origin-plus-COEP` made is ("If navigationCOOP's value
        // is "same-origin-plus-COEP", then set newBrowsingContext's
        // group's cross-origin isolation mode to either "logical" or
        // "concrete"": NOTE, the model takes "concrete", as for the
        // case's top). Validation refuses a kept popup whose own policy
        // is `unsafe-none`, so both come to its served policy.
        Relation::Popup { .. } => {
            served_opener_policy(&origin_of(w)) == OpenerPolicyValue::SameOriginPlusCoep
        }
    }
}

/// An opener policy value, of those pmconf's isolated cases can produce
/// (no case serves `same-origin-allow-popups` or `noopener-allow-popups`).
/// <https://html.spec.whatwg.org/multipage/browsers.html#cross-origin-opener-policy-value>
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenerPolicyValue {
    /// `unsafe-none`: the default, and what a non-secure context gets.
    UnsafeNone,
    /// `same-origin-plus-COEP`: COOP `same-origin` with a COEP compatible
    /// with cross-origin isolation.
    SameOriginPlusCoep,
}

/// The opener policy of a top-level page of an isolated case with origin
/// `origin` (pmconf serves COOP `same-origin` and COEP `require-corp`).
///
/// "To obtain an opener policy given a response response and an
/// environment reservedEnvironment: 1. Let policy be a new opener policy.
/// 2. If reservedEnvironment is a non-secure context, then return policy.
/// [...] 4. If parsedItem is not null, then: 1. If parsedItem[0] is
/// "same-origin", then: 1. Let coep be the result of obtaining a
/// cross-origin embedder policy from response and reservedEnvironment.
/// 2. If coep's value is compatible with cross-origin isolation, then set
/// policy's value to "same-origin-plus-COEP"."
/// <https://html.spec.whatwg.org/multipage/browsers.html#obtain-coop>
///
/// A top-level document's reserved environment is a secure context when
/// its own URL is potentially trustworthy (its top-level creation URL);
/// for pmconf's http(s) pages that is the origin's trustworthiness
/// ([`is_origin_potentially_trustworthy`]: `https:`, and loopback `http:`).
pub fn served_opener_policy(origin: &Origin) -> OpenerPolicyValue {
    if is_origin_potentially_trustworthy(origin) {
        OpenerPolicyValue::SameOriginPlusCoep
    } else {
        OpenerPolicyValue::UnsafeNone
    }
}

/// "To match opener policy values, given an opener policy value
/// documentCOOP, an origin documentOrigin, an opener policy value
/// responseCOOP, and an origin responseOrigin: 1. If documentCOOP is
/// "unsafe-none" and responseCOOP is "unsafe-none", then return true. 2. If
/// documentCOOP is "unsafe-none" or responseCOOP is "unsafe-none", then
/// return false. 3. If documentCOOP is responseCOOP and documentOrigin is
/// same origin with responseOrigin, then return true. 4. Return false."
/// <https://html.spec.whatwg.org/multipage/browsers.html#matching-coop>
pub fn match_opener_policy_values(
    document_coop: OpenerPolicyValue,
    document_origin: &Origin,
    response_coop: OpenerPolicyValue,
    response_origin: &Origin,
) -> bool {
    use OpenerPolicyValue::UnsafeNone;
    // 1.
    if document_coop == UnsafeNone && response_coop == UnsafeNone {
        return true;
    }
    // 2.
    if document_coop == UnsafeNone || response_coop == UnsafeNone {
        return false;
    }
    // 3-4.
    document_coop == response_coop && same_origin(document_origin, response_origin)
}

/// "To check if popup COOP values require a browsing context group
/// switch, given two origins responseOrigin and
/// activeDocumentNavigationOrigin, and two opener policy values
/// responseCOOPValue and activeDocumentCOOPValue: 1. If responseCOOPValue
/// is "noopener-allow-popups", then return true. 2. If all of the following
/// are true: activeDocumentCOOPValue's value is "same-origin-allow-popups"
/// or "noopener-allow-popups"; and responseCOOPValue is "unsafe-none", then
/// return false. 3. If the result of matching activeDocumentCOOPValue,
/// activeDocumentNavigationOrigin, responseCOOPValue, and responseOrigin
/// is true, then return false. 4. Return true."
/// <https://html.spec.whatwg.org/multipage/browsers.html#check-browsing-context-group-switch-coop-value-popup>
///
/// Steps 1-2 name values pmconf never serves ([`OpenerPolicyValue`]).
/// "Check if COOP values require a browsing context group switch" comes
/// here for a popup's first navigation: "1. If isInitialAboutBlank is
/// true, then return the result of checking if popup COOP values requires
/// a browsing context group switch".
pub fn popup_coop_values_require_a_switch(
    response_origin: &Origin,
    active_document_navigation_origin: &Origin,
    response_coop: OpenerPolicyValue,
    active_document_coop: OpenerPolicyValue,
) -> bool {
    // 3-4.
    !match_opener_policy_values(
        active_document_coop,
        active_document_navigation_origin,
        response_coop,
        response_origin,
    )
}

/// The top-level window `w` is in: itself, or the top or popup above its
/// iframes.
fn top_level(case: &Case, mut w: WindowIndex) -> WindowIndex {
    while let Relation::Iframe { parent } = case.windows[w].relation {
        w = parent;
    }
    w
}

/// Whether popup `popup` of an isolated case keeps its opener: its first
/// navigation needs no browsing context group switch.
///
/// The navigation's opener policy enforcement result starts from the
/// popup's initial `about:blank`: its origin is its creator's (the opener's
/// document's), and its opener policy is inherited only from a creator
/// same origin with its top: "If creator's origin is same origin with
/// creator's relevant settings object's top-level origin, then set
/// document's opener policy to creator's browsing context's top-level
/// browsing context's active document's opener policy" (creating a new
/// browsing context and document), else a new policy, `unsafe-none`. The
/// response's is [`served_opener_policy`]. On a switch, "Let
/// newBrowsingContext be the first return value of creating a new
/// top-level browsing context and document": a top-level browsing context
/// has no opener browsing context, so `window.opener` is null there.
/// <https://html.spec.whatwg.org/multipage/browsers.html#obtain-browsing-context-navigation>
///
/// `origin_of(w)` is window `w`'s document origin (one document a window:
/// validation keeps isolated cases so).
pub fn popup_keeps_its_opener(
    case: &Case,
    popup: WindowIndex,
    origin_of: &dyn Fn(WindowIndex) -> Origin,
) -> bool {
    let Relation::Popup { opener } = case.windows[popup].relation else {
        return true;
    };
    let creator_origin = origin_of(opener);
    let top = top_level(case, opener);
    let active_coop = if same_origin(&creator_origin, &origin_of(top)) {
        served_opener_policy(&origin_of(top))
    } else {
        OpenerPolicyValue::UnsafeNone
    };
    let response_origin = origin_of(popup);
    !popup_coop_values_require_a_switch(
        &response_origin,
        &creator_origin,
        served_opener_policy(&response_origin),
        active_coop,
    )
}

/// The browsing context group window `w` is in, named by its first
/// top-level window: the case's top for every window of its group, or a
/// popup that a browsing context group switch put in a group of its own.
/// Not isolated: every window is in the top's group.
pub fn browsing_context_group(case: &Case, w: WindowIndex) -> WindowIndex {
    let mut at = top_level(case, w);
    while let Relation::Popup { opener } = case.windows[at].relation {
        if case.is_isolated() && !popup_keeps_its_opener(case, at, &|w| first_origin(case, w)) {
            return at;
        }
        at = top_level(case, opener);
    }
    at
}

/// When script in `from` cannot reach `to` because they are in two
/// browsing context groups of an isolated case: why, and the fix, for the
/// validator's error.
pub fn severed_reach(case: &Case, from: WindowIndex, to: WindowIndex) -> Option<(String, String)> {
    if !case.is_isolated() {
        return None;
    }
    let (a, b) = (
        browsing_context_group(case, from),
        browsing_context_group(case, to),
    );
    if a == b {
        return None;
    }
    let popup = if matches!(case.windows[a].relation, Relation::Popup { .. }) {
        a
    } else {
        b
    };
    let opener = match case.windows[popup].relation {
        Relation::Popup { opener } => &case.windows[opener].name,
        _ => &case.windows[popup].name,
    };
    let name = |w: WindowIndex| &case.windows[w].name;
    Some((
        format!(
            "`{}` and `{}` are in two browsing context groups: popup `{}`'s first navigation needed a browsing context group switch (COOP: its opener policy and origin do not match its initial about:blank's, opened by `{opener}`), so its window.opener is null and `{opener}`'s handle names the browsing context left behind",
            name(from),
            name(to),
            name(popup)
        ),
        "post within one group: a popup keeps its opener in an isolated case only when it is https and same origin with an opener that is same origin with its top".to_owned(),
    ))
}

/// Window `w`'s first document's origin, from its URL (validation gives
/// every window of an isolated case an http(s) URL; anything else gets an
/// opaque origin, same origin with nothing).
pub fn first_origin(case: &Case, w: WindowIndex) -> Origin {
    match &case.windows[w].content {
        WindowContent::Url(u) if matches!(u.scheme(), "http" | "https") => {
            crate::url_origin::origin_of_url(u, &mut OpaqueOriginAllocator::new())
        }
        // One opaque origin a window: the w-th the allocator makes.
        _ => {
            let mut alloc = OpaqueOriginAllocator::new();
            (0..w).for_each(|_| {
                alloc.new_opaque_origin();
            });
            alloc.new_opaque_origin()
        }
    }
}

/// Whether two documents of an isolated case are in one agent cluster
/// (keyed by origin: opaque origins each have their own).
///
/// NOTE: two same-origin documents in two browsing context groups (a
/// severed popup's, the case's) are in two agent clusters, which this
/// does not tell apart: it is only asked about a sender and its target,
/// and validation keeps every post, and so every port, within one group
/// ([`severed_reach`]). [`crate::agent::agent_clusters`] keys them alike
/// too, which orders nothing observable: no task of one group touches a
/// document of the other.
pub fn same_agent_cluster(a: &Origin, b: &Origin) -> bool {
    same_origin(a, b)
}

#[cfg(test)]
mod tests {
    use crate::case::parse_case;
    use crate::{answer_case, Outcome};
    use serde_json::json;

    fn answer(windows: &str, steps: &str) -> Outcome {
        let case = parse_case(
            "t.yaml",
            &format!("description: d\nwindows:\n{windows}steps:\n{steps}"),
        )
        .unwrap_or_else(|e| panic!("{}", e[0]));
        answer_case(&case).allowed.remove(0)
    }

    /// The first message window `w` received in outcome `o`.
    fn first_message(o: &Outcome, w: &str) -> serde_json::Value {
        o.received.iter().find(|(l, _)| l == w).unwrap().1[0]
            .message
            .clone()
    }

    const ISOLATED: &str = "  top: { url: 'https://a.test/', isolated: true }\n  same: { parent: top, url: 'https://a.test/' }\n  sub: { parent: top, url: 'https://sub.a.test/' }\n";

    #[test]
    fn shared_buffers_arrive_in_the_agent_cluster_and_fail_outside_it() {
        let o = answer(
            ISOLATED,
            "  - post: { from: top, to: same, message: {$sab: {bytes: [1]}}, target_origin: '*' }\n  - post: { from: top, to: sub, message: {$sab: {bytes: [2]}}, target_origin: '*' }\n",
        );
        assert!(o.posts.iter().all(|p| p.threw.is_none()));
        let got = |w: &str| first_message(&o, w);
        assert_eq!(got("same"), json!({"$sab": {"bytes": [1]}}));
        // Same site, other origin: another agent cluster once isolated.
        assert_eq!(got("sub"), json!({"$messageerror": null}));
    }

    #[test]
    fn only_documents_with_the_capability_may_send_shared_buffers() {
        // A cross-origin iframe: 'self' allowlist, no capability.
        let o = answer(
            ISOLATED,
            "  - post: { from: sub, to: top, message: {$sab: {bytes: []}}, target_origin: '*' }\n  - post: { from: same, to: top, message: {$sab: {bytes: []}}, target_origin: '*' }\n",
        );
        assert_eq!(o.posts[0].threw.as_deref(), Some("DataCloneError"));
        assert_eq!(o.posts[1].threw, None);
        // Not isolated at all: nobody has it.
        let o = answer(
            "  top: { url: 'https://a.test/' }\n  same: { parent: top, url: 'https://a.test/' }\n",
            "  - post: { from: top, to: same, message: {$sab: {bytes: []}}, target_origin: '*' }\n",
        );
        assert_eq!(o.posts[0].threw.as_deref(), Some("DataCloneError"));
    }

    /// `set_domain` keeps every document, so an isolated case may hold it;
    /// the answer is the event loop explorer's, with every cluster
    /// origin-keyed, so the setter never sets a domain (its step 6). A step
    /// that replaces a document is refused (`create` adds a window, and is
    /// taken: below).
    #[test]
    fn an_isolated_case_may_set_document_domain_but_not_replace_a_document() {
        let windows = "  top: { url: 'https://a.test/', isolated: true }\n  kid: { parent: top, url: 'https://sub.a.test/' }\n";
        let o = answer(
            windows,
            "  - set_domain: { window: kid, domain: a.test }\n  - set_domain: { window: kid, domain: sub.a.test }\n  - post: { from: kid, to: top, message: {$sab: {bytes: [7]}}, target_origin: 'https://a.test' }\n",
        );
        // The kid is cross-origin: no capability, so the SAB throws.
        assert_eq!(o.posts[0].threw.as_deref(), Some("DataCloneError"));
        for (step, kind) in [
            ("  - reload: { window: kid }\n", "reload"),
            ("  - push_state: { window: kid }\n", "push_state"),
        ] {
            let e = parse_case(
                "t.yaml",
                &format!("description: d\nwindows:\n{windows}steps:\n{step}"),
            )
            .unwrap_err();
            assert!(
                e.iter().any(|e| e
                    .message
                    .contains(&format!("a `{kind}` step, in an isolated case"))),
                "{kind}: {e:?}"
            );
        }
    }

    fn case_of(windows: &str, steps: &str) -> Result<crate::Case, Vec<crate::CaseError>> {
        parse_case(
            "t.yaml",
            &format!("description: d\nwindows:\n{windows}steps:\n{steps}"),
        )
    }

    /// Hand-derived from "check if popup COOP values require a browsing
    /// context group switch" (step 3: matching) with the initial
    /// about:blank's policy inherited from a creator same origin with its
    /// top, and "obtain an opener policy" (a non-secure page gets
    /// unsafe-none): only an https popup same origin with such an opener
    /// keeps it.
    #[test]
    fn a_popup_keeps_its_opener_only_when_both_policies_and_origins_match() {
        let top = "  top: { url: 'https://a.test/', isolated: true }\n  same: { parent: top, url: 'https://a.test/s' }\n  other: { parent: top, url: 'https://b.test/o' }\n";
        for (opener, url, keeps) in [
            // Both same-origin-plus-COEP, same origin: match, no switch.
            ("top", "https://a.test/p", true),
            // Same policy, another origin (same site included): switch.
            ("top", "https://b.test/p", false),
            ("top", "https://sub.a.test/p", false),
            ("top", "https://a.test:8443/p", false),
            // A non-secure popup gets unsafe-none: matching step 2, switch.
            ("top", "http://a.test/p", false),
            // An iframe same origin with its top passes the top's policy
            // on to the about:blank.
            ("same", "https://a.test/p", true),
            // A creator cross-origin with its top passes on unsafe-none:
            // matching step 2 against same-origin-plus-COEP, switch, even
            // to the creator's own origin.
            ("other", "https://b.test/p", false),
        ] {
            let case = case_of(
                &format!("{top}  pop: {{ opener: {opener}, url: '{url}' }}\n"),
                "  - post: { from: top, to: top, message: 1 }\n",
            )
            .unwrap_or_else(|e| panic!("{opener} {url}: {}", e[0]));
            let pop = case.window_index("pop").unwrap();
            assert_eq!(
                super::popup_keeps_its_opener(&case, pop, &|w| super::first_origin(&case, w)),
                keeps,
                "{opener} -> {url}"
            );
            let group = super::browsing_context_group(&case, pop);
            assert_eq!(group == 0, keeps, "{opener} -> {url}");
        }
    }

    /// A popup that kept its opener is a top-level document of the isolated
    /// group: it has the capability, and same origin with its opener it is
    /// in its agent cluster, so SharedArrayBuffers go both ways.
    #[test]
    fn a_kept_popup_shares_buffers_with_its_opener() {
        let o = answer(
            "  top: { url: 'https://a.test/', isolated: true }\n  pop: { opener: top, url: 'https://a.test/p' }\n",
            "  - post: { from: top, to: pop, message: {$sab: {bytes: [1], max_byte_length: 2}}, target_origin: '*' }\n  - post: { from: pop, to: top, message: {$sab: {bytes: [2]}}, target_origin: 'https://a.test' }\n",
        );
        assert!(o.posts.iter().all(|p| p.threw.is_none()), "{:?}", o.posts);
        let got = |w: &str| first_message(&o, w);
        assert_eq!(
            got("pop"),
            json!({"$sab": {"bytes": [1], "max_byte_length": 2}})
        );
        assert_eq!(got("top"), json!({"$sab": {"bytes": [2]}}));
        assert_eq!(
            o.received.iter().find(|(l, _)| l == "pop").unwrap().1[0]
                .source
                .as_deref(),
            Some("top")
        );
    }

    /// A severed popup: no post crosses the groups (window.opener is null,
    /// the handle names the browsing context left behind), and validation
    /// says why; inside its own group (an https page, so
    /// same-origin-plus-COEP: an isolated group of its own) it posts as
    /// any isolated top-level page does.
    #[test]
    fn a_severed_popup_is_reached_by_nobody_in_the_opener_group() {
        let windows = "  top: { url: 'https://a.test/', isolated: true }\n  pop: { opener: top, url: 'https://b.test/p' }\n  popkid: { parent: pop, url: 'https://b.test/k' }\n";
        for step in [
            "  - post: { from: top, to: pop, message: 1, target_origin: '*' }\n",
            "  - post: { from: pop, to: top, message: 1, target_origin: '*' }\n",
            "  - post: { from: popkid, to: top, message: 1, target_origin: '*' }\n",
        ] {
            let e = case_of(windows, step).unwrap_err();
            assert!(
                e.iter()
                    .any(|e| e.message.contains("two browsing context groups")
                        && e.message.contains("window.opener is null")),
                "{step}: {e:?}"
            );
        }
        let o = answer(
            windows,
            "  - post: { from: pop, to: popkid, message: {$sab: {bytes: [3]}}, target_origin: '*' }\n  - post: { from: popkid, to: pop, message: {$sab: {bytes: [4]}}, target_origin: '*' }\n",
        );
        assert!(o.posts.iter().all(|p| p.threw.is_none()), "{:?}", o.posts);
        let got = |w: &str| first_message(&o, w);
        assert_eq!(got("popkid"), json!({"$sab": {"bytes": [3]}}));
        assert_eq!(got("pop"), json!({"$sab": {"bytes": [4]}}));
        // An http popup is severed too, and its new group is not isolated
        // (a non-secure context gets unsafe-none): no capability.
        let o = answer(
            "  top: { url: 'https://a.test/', isolated: true }\n  pop: { opener: top, url: 'http://b.test/p' }\n",
            "  - post: { from: pop, to: pop, message: {$sab: {bytes: []}}, target_origin: '*' }\n",
        );
        assert_eq!(o.posts[0].threw.as_deref(), Some("DataCloneError"));
    }

    #[test]
    fn isolation_is_refused_where_pmconf_cannot_serve_it() {
        for (windows, needle) in [
            ("  top: { url: 'http://a.test/', isolated: true }\n", "https"),
            ("  top: { url: 'https://a.test/' }\n  kid: { parent: top, url: 'https://a.test/', isolated: true }\n", "not the top window"),
            ("  top: { url: 'https://a.test/', isolated: true }\n  kid: { parent: top, url: 'https://a.test/k', sandbox: 'allow-scripts allow-popups allow-same-origin' }\n  pop: { opener: kid, url: 'https://a.test/' }\n", "sandboxed popup"),
            ("  top: { url: 'https://a.test/', isolated: true }\n  kid: { parent: top, srcdoc: 'x' }\n", "http(s)"),
        ] {
            let e = parse_case("t.yaml", &format!("description: d\nwindows:\n{windows}steps:\n  - post: {{ from: top, to: top, message: 1 }}\n")).unwrap_err();
            assert!(e.iter().any(|e| e.message.contains(needle)), "{needle}: {:?}", e);
        }
    }

    /// A buffer posted in the task that creates a cross-site iframe is
    /// bound to the iframe's initial about:blank, which has its creator's
    /// origin and so is in its creator's (the sender's) agent cluster:
    /// StructuredDeserialize runs in the task's document's realm, so the
    /// buffer arrives there when the task runs before the navigation
    /// commits, and the task never runs after (its document is no longer
    /// fully active). Only the contested move to the committed cross-site
    /// document (whatwg/html#3691) fires messageerror there.
    #[test]
    fn a_buffer_posted_to_a_created_frames_about_blank_deserializes_there() {
        let case = parse_case(
            "t.yaml",
            "description: d\nwindows:\n  top: { url: \"https://a.test:8443/\", isolated: true }\n  other: { parent: top, url: \"https://b.test:8443/other\" }\nsteps:\n  - same_task:\n      - create: { window: other }\n      - post: { from: top, to: other, message: { $sab: { bytes: [1] } }, target_origin: \"*\" }\n  - wait: { loaded: other }\n  - post: { from: top, to: other, message: after, target_origin: \"*\" }\n",
        )
        .unwrap_or_else(|e| panic!("{}", e[0]));
        let answer = answer_case(&case);
        let got = |o: &Outcome| -> Vec<(String, Vec<serde_json::Value>)> {
            o.received
                .iter()
                .filter(|(_, l)| !l.is_empty())
                .map(|(w, l)| (w.clone(), l.iter().map(|d| d.message.clone()).collect()))
                .collect()
        };
        let allowed: Vec<_> = answer.allowed.iter().map(got).collect();
        assert_eq!(allowed.len(), 2, "{allowed:?}");
        assert!(allowed.contains(&vec![
            ("other".to_owned(), vec![json!("after")]),
            (
                "other@blank".to_owned(),
                vec![json!({"$sab": {"bytes": [1]}})]
            ),
        ]));
        assert!(allowed.contains(&vec![("other".to_owned(), vec![json!("after")])]));
        let contested: Vec<_> = answer.contested.iter().map(|c| got(&c.outcome)).collect();
        assert_eq!(
            contested,
            vec![vec![(
                "other".to_owned(),
                vec![json!({"$messageerror": null}), json!("after")]
            )]]
        );
    }
}
