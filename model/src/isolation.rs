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

use crate::case::{Case, Relation, WindowIndex};
use crate::origin::{same_origin, Origin};

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
        Relation::Popup { .. } => false,
    }
}

/// Whether two documents of an isolated case are in one agent cluster
/// (keyed by origin: opaque origins each have their own).
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

    const ISOLATED: &str = "  top: { url: 'https://a.test/', isolated: true }\n  same: { parent: top, url: 'https://a.test/' }\n  sub: { parent: top, url: 'https://sub.a.test/' }\n";

    #[test]
    fn shared_buffers_arrive_in_the_agent_cluster_and_fail_outside_it() {
        let o = answer(
            ISOLATED,
            "  - post: { from: top, to: same, message: {$sab: {bytes: [1]}}, target_origin: '*' }\n  - post: { from: top, to: sub, message: {$sab: {bytes: [2]}}, target_origin: '*' }\n",
        );
        assert!(o.posts.iter().all(|p| p.threw.is_none()));
        let got = |w: &str| {
            o.received.iter().find(|(l, _)| l == w).unwrap().1[0]
                .message
                .clone()
        };
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
    /// origin-keyed, so the setter never sets a domain (its step 6).
    #[test]
    fn an_isolated_case_may_set_document_domain_and_nothing_else_of_the_race_steps() {
        let windows = "  top: { url: 'https://a.test/', isolated: true }\n  kid: { parent: top, url: 'https://sub.a.test/' }\n";
        let o = answer(
            windows,
            "  - set_domain: { window: kid, domain: a.test }\n  - set_domain: { window: kid, domain: sub.a.test }\n  - post: { from: kid, to: top, message: {$sab: {bytes: [7]}}, target_origin: 'https://a.test' }\n",
        );
        // The kid is cross-origin: no capability, so the SAB throws.
        assert_eq!(o.posts[0].threw.as_deref(), Some("DataCloneError"));
        for (step, kind) in [
            ("  - reload: { window: kid }\n", "reload"),
            ("  - create: { window: kid }\n", "create"),
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

    #[test]
    fn isolation_is_refused_where_pmconf_cannot_serve_it() {
        for (windows, needle) in [
            ("  top: { url: 'http://a.test/', isolated: true }\n", "https"),
            ("  top: { url: 'https://a.test/' }\n  kid: { parent: top, url: 'https://a.test/', isolated: true }\n", "not the top window"),
            ("  top: { url: 'https://a.test/', isolated: true }\n  pop: { opener: top, url: 'https://a.test/' }\n", "popup"),
            ("  top: { url: 'https://a.test/', isolated: true }\n  kid: { parent: top, srcdoc: 'x' }\n", "http(s)"),
        ] {
            let e = parse_case("t.yaml", &format!("description: d\nwindows:\n{windows}steps:\n  - post: {{ from: top, to: top, message: 1 }}\n")).unwrap_err();
            assert!(e.iter().any(|e| e.message.contains(needle)), "{needle}: {:?}", e);
        }
    }
}
