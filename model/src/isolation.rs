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
