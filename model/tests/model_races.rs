//! Race cases: the allowed outcome sets, written out by hand from the HTML
//! Standard (not copied from the model's output), one or more tests per
//! family of `cases/races/`.
//!
//! The rules the expectations follow:
//! - `postMessage` queues a global task given the target Window, so the
//!   task's document is the Window's associated Document *at call time*
//!   (<https://html.spec.whatwg.org/multipage/webappapis.html#queue-a-global-task>);
//!   a task whose document is not fully active never runs
//!   (<https://html.spec.whatwg.org/multipage/webappapis.html#concept-task-runnable>):
//!   a message is never retargeted to the document that replaced its own.
//! - A navigation (or reload) commits in a later task; until then the old
//!   document stays active, so a message task may run before the commit.
//! - Removing an iframe destroys its navigable in the same task; `close()`
//!   only queues a task to close the popup.
//! - Step 8.1 checks targetOrigin against the document current when the
//!   task runs, with *same origin* (so `document.domain` does not matter);
//!   `event.origin` serializes the caller's origin as it was at call time.
//! - `pushState` and fragment navigations keep the document.
//!
//! Each outcome is summarised as a map from document label to the messages
//! it received (documents that received nothing are left out), and the
//! allowed set is compared as a set of such maps.

mod common;

use pmconf_model::answer::answer_by_exploration;
use pmconf_model::{answer_case, parse_case, Answer, Case, Outcome};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One outcome: document label -> what it received, in order.
type Summary = BTreeMap<String, Vec<String>>;

fn case(yaml: &str) -> Case {
    common::parsed("inline.yaml", yaml)
}

fn answer(yaml: &str) -> Answer {
    let case = case(yaml);
    assert!(case.is_race(), "the case should be a race case");
    let answer = answer_case(&case);
    for outcome in &answer.allowed {
        assert!(
            outcome.posts.iter().all(|p| p.threw.is_none()),
            "no post in these cases throws"
        );
    }
    answer
}

/// The allowed set, each delivery as its message string.
fn allowed(yaml: &str) -> BTreeSet<Summary> {
    summarise(&answer(yaml).allowed, Show::Message)
}

/// The allowed set, each delivery as `message <- event.origin`.
fn allowed_with_origins(yaml: &str) -> BTreeSet<Summary> {
    summarise(&answer(yaml).allowed, Show::Origin)
}

/// The allowed set, each delivery as `message from <event.source>`
/// (`null` when null).
fn allowed_with_sources(yaml: &str) -> BTreeSet<Summary> {
    summarise(&answer(yaml).allowed, Show::Source)
}

/// The contested set, each delivery as its message string.
fn contested(answer: &Answer) -> BTreeSet<Summary> {
    let outcomes: Vec<Outcome> = answer.contested.iter().map(|c| c.outcome.clone()).collect();
    summarise(&outcomes, Show::Message)
}

/// What a summary shows of each delivery besides the message.
#[derive(Clone, Copy)]
enum Show {
    Message,
    Origin,
    Source,
}

fn summarise(outcomes: &[Outcome], show: Show) -> BTreeSet<Summary> {
    outcomes
        .iter()
        .map(|o| {
            o.received
                .iter()
                .filter(|(_, list)| !list.is_empty())
                .map(|(label, list)| {
                    let messages = list
                        .iter()
                        .map(|d| {
                            let m = d.message.as_str().expect("string messages").to_owned();
                            match show {
                                Show::Message => m,
                                Show::Origin => format!("{m} <- {}", d.origin),
                                Show::Source => {
                                    format!("{m} from {}", d.source.as_deref().unwrap_or("null"))
                                }
                            }
                        })
                        .collect();
                    (label.clone(), messages)
                })
                .collect()
        })
        .collect()
}

/// Builds an expected set: each outcome is a list of (label, messages).
fn set(outcomes: &[&[(&str, &[&str])]]) -> BTreeSet<Summary> {
    outcomes
        .iter()
        .map(|o| {
            o.iter()
                .map(|(label, messages)| {
                    (
                        label.to_string(),
                        messages.iter().map(|m| m.to_string()).collect(),
                    )
                })
                .collect()
        })
        .collect()
}

const FRAME: &str = r#"
description: t
windows:
  top: { url: "http://a.test:8000/" }
  child: { parent: top, url: "http://b.test:8001/" }
steps:
"#;

const POPUP: &str = r#"
description: t
windows:
  top: { url: "http://a.test:8000/" }
  pop: { opener: top, url: "http://d.test:8003/" }
steps:
"#;

// ---------------------------------------------------------------- post, then navigate

#[test]
fn post_then_navigate_same_task_reaches_the_old_document_or_nobody() {
    // The task is bound to child's first document. It runs before the
    // commit (delivered there) or never; "after", posted once child@1
    // loaded, reaches child@1. Same for "*" and for the old origin.
    for target_origin in ["*", "http://b.test:8001"] {
        let yaml = format!(
            "{FRAME}  - same_task:
      - post: {{ from: top, to: child, message: m, target_origin: \"{target_origin}\" }}
      - navigate: {{ window: child, url: \"http://c.test:8002/\", by: top }}
  - wait: {{ loaded: child }}
  - post: {{ from: top, to: child, message: after, target_origin: \"http://c.test:8002\" }}
"
        );
        assert_eq!(
            allowed(&yaml),
            set(&[
                &[("child", &["m"]), ("child@1", &["after"])],
                &[("child@1", &["after"])],
            ]),
            "targetOrigin {target_origin}"
        );
    }
}

#[test]
fn post_then_navigate_with_the_new_origin_is_never_delivered() {
    // Before the commit the old document's origin does not match; after
    // it, the task (bound to the old document) never runs.
    let yaml = format!(
        "{FRAME}  - same_task:
      - post: {{ from: top, to: child, message: m, target_origin: \"http://c.test:8002\" }}
      - navigate: {{ window: child, url: \"http://c.test:8002/\", by: top }}
  - wait: {{ loaded: child }}
  - post: {{ from: top, to: child, message: after, target_origin: \"http://c.test:8002\" }}
"
    );
    assert_eq!(allowed(&yaml), set(&[&[("child@1", &["after"])]]));
}

#[test]
fn post_then_navigate_popup_and_same_origin_frame_are_never_retargeted() {
    let popup = format!(
        "{POPUP}  - same_task:
      - post: {{ from: top, to: pop, message: m, target_origin: \"*\" }}
      - navigate: {{ window: pop, url: \"http://e.test:8004/\", by: top }}
  - wait: {{ loaded: pop }}
  - post: {{ from: top, to: pop, message: after, target_origin: \"*\" }}
"
    );
    assert_eq!(
        allowed(&popup),
        set(&[
            &[("pop", &["m"]), ("pop@1", &["after"])],
            &[("pop@1", &["after"])],
        ])
    );
    // Same origin before and after, navigated by setting src: the new
    // document would match, but the task belongs to the old one.
    let same_origin = r#"
description: t
windows:
  top: { url: "http://a.test:8000/" }
  child: { parent: top, url: "http://a.test:8000/child" }
steps:
  - same_task:
      - post: { from: top, to: child, message: m, target_origin: "http://a.test:8000" }
      - navigate: { window: child, url: "http://a.test:8000/next", by: top, via: src }
  - wait: { loaded: child }
  - post: { from: top, to: child, message: after, target_origin: "http://a.test:8000" }
"#;
    assert_eq!(
        allowed(same_origin),
        set(&[
            &[("child", &["m"]), ("child@1", &["after"])],
            &[("child@1", &["after"])],
        ])
    );
}

// ---------------------------------------------------------------- navigate, then post

/// Cross-site navigate, then post, in one task: the navigated window's
/// documents (b.test, then c.test) are in other agents than top's
/// (a.test), whose task does not block them, so the commit may come
/// between the two steps ("each similar-origin window agent has its own
/// event loop"). Then the WindowProxy already forwards to the new Window,
/// and the task is bound to the new document.
#[test]
fn navigate_then_post_same_task_cross_site_may_reach_the_new_document() {
    // "*": the old document before the commit, or nobody; or, committed
    // first, the new one (if its listener is there by the time the task
    // runs: FIFO puts m before "after").
    let star = format!(
        "{FRAME}  - same_task:
      - navigate: {{ window: child, url: \"http://c.test:8002/\", by: top }}
      - post: {{ from: top, to: child, message: m, target_origin: \"*\" }}
  - wait: {{ loaded: child }}
  - post: {{ from: top, to: child, message: after, target_origin: \"http://c.test:8002\" }}
"
    );
    assert_eq!(
        allowed(&star),
        set(&[
            &[("child", &["m"]), ("child@0", &["after"])],
            &[("child@0", &["after"])],
            &[("child@0", &["m", "after"])],
        ])
    );
    // The old origin: the new document never matches it.
    let old = star.replace(
        "message: m, target_origin: \"*\"",
        "message: m, target_origin: \"http://b.test:8001\"",
    );
    assert_eq!(
        allowed(&old),
        set(&[
            &[("child", &["m"]), ("child@0", &["after"])],
            &[("child@0", &["after"])],
        ])
    );
    // The origin being navigated to: only the new document matches.
    let new_origin = format!(
        "{POPUP}  - same_task:
      - navigate: {{ window: pop, url: \"http://e.test:8004/\", by: top }}
      - post: {{ from: top, to: pop, message: m, target_origin: \"http://e.test:8004\" }}
  - wait: {{ loaded: pop }}
  - post: {{ from: top, to: pop, message: after, target_origin: \"http://e.test:8004\" }}
"
    );
    assert_eq!(
        allowed(&new_origin),
        set(&[&[("pop@0", &["after"])], &[("pop@0", &["m", "after"])]])
    );
}

/// Same-site navigate, then post, in one task: the child's documents are
/// in top's agent, which is busy running the task, so nothing commits
/// between the steps and the task is bound to the old document. Reaching
/// the new document is only contested (whatwg/html#3691: the target Window
/// fixed at call time).
#[test]
fn navigate_then_post_same_task_same_site_is_bound_to_the_old_document() {
    let yaml = r#"
description: t
windows:
  top: { url: "http://a.test:8000/" }
  child: { parent: top, url: "http://www.a.test:8001/" }
steps:
  - same_task:
      - navigate: { window: child, url: "http://a.test:8000/next", by: top }
      - post: { from: top, to: child, message: m, target_origin: "*" }
  - wait: { loaded: child }
  - post: { from: top, to: child, message: after, target_origin: "*" }
"#;
    let a = answer(yaml);
    assert_eq!(
        summarise(&a.allowed, Show::Message),
        set(&[
            &[("child", &["m"]), ("child@0", &["after"])],
            &[("child@0", &["after"])],
        ])
    );
    assert_eq!(contested(&a), set(&[&[("child@0", &["m", "after"])]]));
    assert!(a.contested.iter().all(
        |c| c.issues == ["https://github.com/whatwg/html/issues/3691"] && c.reasons.len() == 1
    ));
}

#[test]
fn navigate_then_post_in_a_later_task_has_three_outcomes() {
    // When top posts, the navigation may not have committed (old document:
    // delivered before the commit, or never) or may have (new document:
    // delivered, unless dispatched before its script added a listener).
    let yaml = format!(
        "{FRAME}  - navigate: {{ window: child, url: \"http://c.test:8002/\", by: top }}
  - post: {{ from: top, to: child, message: m, target_origin: \"*\" }}
  - wait: {{ loaded: child }}
  - post: {{ from: top, to: child, message: after, target_origin: \"*\" }}
"
    );
    assert_eq!(
        allowed(&yaml),
        set(&[
            &[("child", &["m"]), ("child@0", &["after"])],
            &[("child@0", &["m", "after"])],
            &[("child@0", &["after"])],
        ])
    );
}

// ---------------------------------------------------------------- navigate, wait, post

#[test]
fn after_the_load_the_old_origin_is_dropped_and_the_new_one_matches() {
    let frame = format!(
        "{FRAME}  - navigate: {{ window: child, url: \"http://c.test:8002/\", by: top }}
  - wait: {{ loaded: child }}
  - post: {{ from: top, to: child, message: old, target_origin: \"http://b.test:8001\" }}
  - post: {{ from: top, to: child, message: new, target_origin: \"http://c.test:8002\" }}
  - post: {{ from: top, to: child, message: star, target_origin: \"*\" }}
"
    );
    assert_eq!(allowed(&frame), set(&[&[("child@0", &["new", "star"])]]));
    // A popup navigating itself from http to https on the same host.
    let popup = format!(
        "{POPUP}  - navigate: {{ window: pop, url: \"https://d.test:8010/\" }}
  - wait: {{ loaded: pop }}
  - post: {{ from: top, to: pop, message: http, target_origin: \"http://d.test:8003\" }}
  - post: {{ from: top, to: pop, message: https, target_origin: \"https://d.test:8010\" }}
"
    );
    assert_eq!(allowed(&popup), set(&[&[("pop@0", &["https"])]]));
}

// ---------------------------------------------------------------- post, then remove

const TWO_FRAMES: &str = r#"
description: t
windows:
  top: { url: "http://a.test:8000/" }
  child: { parent: top, url: "http://b.test:8001/" }
  sib: { parent: top, url: "http://c.test:8002/" }
steps:
"#;

/// Post to a cross-site iframe, then remove it, in one task: the iframe's
/// agent (b.test) runs its own event loop, so it may run the message task
/// before top's task reaches `remove()`; after the removal the document is
/// not fully active and the task never runs.
#[test]
fn post_then_remove_in_the_same_task_cross_site_may_deliver() {
    let yaml = format!(
        "{TWO_FRAMES}  - same_task:
      - post: {{ from: top, to: child, message: m, target_origin: \"*\" }}
      - remove: {{ window: child }}
  - post: {{ from: top, to: sib, message: still here, target_origin: \"*\" }}
"
    );
    assert_eq!(
        allowed(&yaml),
        set(&[
            &[("child", &["m"]), ("sib", &["still here"])],
            &[("sib", &["still here"])],
        ])
    );
    // The same for a frame nested in the removed one (c.test: a third
    // agent).
    let nested = r#"
description: t
windows:
  top: { url: "http://a.test:8000/" }
  mid: { parent: top, url: "http://b.test:8001/" }
  inner: { parent: mid, url: "http://c.test:8002/" }
steps:
  - same_task:
      - post: { from: top, to: inner, message: m, target_origin: "*" }
      - remove: { window: mid }
  - post: { from: top, to: top, message: done, target_origin: "*" }
"#;
    assert_eq!(
        allowed(nested),
        set(&[
            &[("top", &["done"])],
            &[("top", &["done"]), ("inner", &["m"])]
        ])
    );
}

/// Post to a same-origin iframe, then remove it, in one task: both are in
/// top's agent, whose event loop is busy with the task until after the
/// removal, so the task never runs. Also for a same-site iframe (another
/// port, another subdomain: another origin, the same agent).
#[test]
fn post_then_remove_in_the_same_task_same_agent_is_never_delivered() {
    for child in ["http://a.test:8000/child", "http://www.a.test:8009/"] {
        let yaml = format!(
            r#"
description: t
windows:
  top: {{ url: "http://a.test:8000/" }}
  child: {{ parent: top, url: "{child}" }}
steps:
  - same_task:
      - post: {{ from: top, to: child, message: m, target_origin: "*" }}
      - remove: {{ window: child }}
  - post: {{ from: top, to: top, message: done, target_origin: "*" }}
"#
        );
        assert_eq!(allowed(&yaml), set(&[&[("top", &["done"])]]), "{child}");
    }
}

#[test]
fn post_then_remove_in_a_later_task_may_or_may_not_deliver() {
    let yaml = format!(
        "{TWO_FRAMES}  - post: {{ from: top, to: child, message: m, target_origin: \"http://b.test:8001\" }}
  - remove: {{ window: child }}
  - post: {{ from: top, to: sib, message: still here, target_origin: \"*\" }}
"
    );
    assert_eq!(
        allowed(&yaml),
        set(&[
            &[("child", &["m"]), ("sib", &["still here"])],
            &[("sib", &["still here"])],
        ])
    );
}

// ---------------------------------------------------------------- post, then close

#[test]
fn post_then_close_may_or_may_not_deliver() {
    // close() sets "is closing" and queues the closing: the message task
    // may run first, in the same task or in separate ones.
    for steps in [
        "  - same_task:
      - post: { from: top, to: pop, message: m, target_origin: \"http://d.test:8003\" }
      - close: { window: pop }
",
        "  - post: { from: top, to: pop, message: m, target_origin: \"*\" }
  - close: { window: pop }
",
    ] {
        assert_eq!(
            allowed(&format!("{POPUP}{steps}")),
            set(&[&[("pop", &["m"])], &[]]),
            "{steps}"
        );
    }
}

// ---------------------------------------------------------------- post, then reload

#[test]
fn post_then_reload_reaches_the_first_document_or_nobody() {
    let yaml = format!(
        "{FRAME}  - post: {{ from: top, to: child, message: m, target_origin: \"http://b.test:8001\" }}
  - reload: {{ window: child }}
  - wait: {{ loaded: child }}
  - post: {{ from: top, to: child, message: after, target_origin: \"http://b.test:8001\" }}
"
    );
    assert_eq!(
        allowed(&yaml),
        set(&[
            &[("child", &["m"]), ("child@1", &["after"])],
            &[("child@1", &["after"])],
        ])
    );
    // A window posting to itself and reloading in the same task.
    let self_post = format!(
        "{FRAME}  - same_task:
      - post: {{ from: child, to: child, message: m }}
      - reload: {{ window: child }}
  - wait: {{ loaded: child }}
  - post: {{ from: top, to: child, message: after, target_origin: \"*\" }}
"
    );
    assert_eq!(
        allowed_with_origins(&self_post),
        set(&[
            &[
                ("child", &["m <- http://b.test:8001"]),
                ("child@1", &["after <- http://a.test:8000"]),
            ],
            &[("child@1", &["after <- http://a.test:8000"])],
        ])
    );
}

// ---------------------------------------------------------------- create, then post

#[test]
fn create_then_post_star_reaches_the_initial_about_blank_or_nobody() {
    // The initial about:blank (origin of its creator) is the active
    // document until the first navigation commits.
    let frame = format!(
        "{FRAME}  - same_task:
      - create: {{ window: child }}
      - post: {{ from: top, to: child, message: early, target_origin: \"*\" }}
  - wait: {{ loaded: child }}
  - post: {{ from: top, to: child, message: after, target_origin: \"http://b.test:8001\" }}
"
    );
    assert_eq!(
        allowed(&frame),
        set(&[
            &[("child@blank", &["early"]), ("child", &["after"])],
            &[("child", &["after"])],
        ])
    );
    let popup = format!(
        "{POPUP}  - same_task:
      - create: {{ window: pop }}
      - post: {{ from: top, to: pop, message: early, target_origin: \"*\" }}
  - wait: {{ loaded: pop }}
  - post: {{ from: top, to: pop, message: after, target_origin: \"*\" }}
"
    );
    assert_eq!(
        allowed(&popup),
        set(&[
            &[("pop@blank", &["early"]), ("pop", &["after"])],
            &[("pop", &["after"])],
        ])
    );
}

#[test]
fn create_then_post_with_the_final_origin_is_never_delivered() {
    // The initial about:blank has top's origin: no match before the
    // commit, and the task never runs after it.
    let yaml = format!(
        "{FRAME}  - same_task:
      - create: {{ window: child }}
      - post: {{ from: top, to: child, message: early, target_origin: \"http://b.test:8001\" }}
  - wait: {{ loaded: child }}
  - post: {{ from: top, to: child, message: after, target_origin: \"http://b.test:8001\" }}
"
    );
    assert_eq!(allowed(&yaml), set(&[&[("child", &["after"])]]));
}

#[test]
fn create_an_about_blank_iframe_then_post_allows_exactly_one_outcome() {
    // No navigation follows: the initial about:blank stays, with top's
    // origin, so both messages are delivered whatever the timing.
    let yaml = r#"
description: t
windows:
  top: { url: "http://a.test:8000/" }
  child: { parent: top, url: "about:blank" }
steps:
  - same_task:
      - create: { window: child }
      - post: { from: top, to: child, message: early, target_origin: "http://a.test:8000" }
  - post: { from: top, to: child, message: after, target_origin: "/" }
"#;
    let a = answer(yaml);
    assert_eq!(a.allowed.len(), 1);
    assert_eq!(
        summarise(&a.allowed, Show::Message),
        set(&[&[("child", &["early", "after"])]])
    );
}

// ---------------------------------------------------------------- the sender navigates

#[test]
fn a_sender_that_navigates_away_keeps_its_old_event_origin() {
    // The task is queued on top, whose document stays; event.origin is the
    // caller's origin at call time. FIFO per target: "bye" before "hello".
    let frame = format!(
        "{FRAME}  - same_task:
      - post: {{ from: child, to: top, message: bye, target_origin: \"*\" }}
      - navigate: {{ window: child, url: \"http://c.test:8002/\" }}
  - wait: {{ loaded: child }}
  - post: {{ from: child, to: top, message: hello, target_origin: \"*\" }}
"
    );
    assert_eq!(
        allowed_with_origins(&frame),
        set(&[&[(
            "top",
            &["bye <- http://b.test:8001", "hello <- http://c.test:8002"]
        )]])
    );
    let popup = format!(
        "{POPUP}  - same_task:
      - post: {{ from: pop, to: top, message: bye, target_origin: \"http://a.test:8000\" }}
      - navigate: {{ window: pop, url: \"http://e.test:8004/\" }}
  - wait: {{ loaded: pop }}
  - post: {{ from: pop, to: top, message: hello, target_origin: \"http://a.test:8000\" }}
"
    );
    assert_eq!(
        allowed_with_origins(&popup),
        set(&[&[(
            "top",
            &["bye <- http://d.test:8003", "hello <- http://e.test:8004"]
        )]])
    );
}

/// 8.3 "Let source be the WindowProxy object corresponding to
/// incumbentSettings's global object": when the task runs after the
/// sender's document stopped being fully active (here: it navigated
/// away), the source may be null as well as the sender.
#[test]
fn a_sender_gone_before_delivery_may_be_a_null_source() {
    let yaml = format!(
        "{FRAME}  - same_task:
      - post: {{ from: child, to: top, message: bye, target_origin: \"*\" }}
      - navigate: {{ window: child, url: \"http://c.test:8002/\" }}
  - wait: {{ loaded: child }}
  - post: {{ from: child, to: top, message: hello, target_origin: \"*\" }}
"
    );
    assert_eq!(
        allowed_with_sources(&yaml),
        set(&[
            &[("top", &["bye from child", "hello from child"])],
            &[("top", &["bye from null", "hello from child"])],
        ])
    );
    // A sender that was removed before the task ran.
    let removed = format!(
        "{TWO_FRAMES}  - post: {{ from: child, to: sib, message: bye, target_origin: \"*\" }}
  - remove: {{ window: child }}
  - post: {{ from: top, to: sib, message: done, target_origin: \"*\" }}
"
    );
    assert_eq!(
        allowed_with_sources(&removed),
        set(&[
            &[("sib", &["bye from child", "done from top"])],
            &[("sib", &["bye from null", "done from top"])],
        ])
    );
}

/// Item 3 of pmconf issue 22: whatwg/html#3691 asks "if a navigation
/// matures while the postmessage task is queued [...] does the message
/// event fire on the old Window, the new Window, or neither?", and Gecko
/// resolves the target's current inner window when the task runs. So a
/// message posted *before* the navigation starts, still queued when it
/// commits, may land in the new document: contested, never allowed (step 8
/// bound the task to the old document, "queue a global task"). The issue
/// is about reaching a possibly cross-process Window synchronously: a
/// message to a window in the sender's own agent (same origin here) has
/// its Window at hand, so it stays never moved, not even contested.
#[test]
fn a_message_still_queued_when_its_target_navigates_is_contested_across_agents_only() {
    for (child, moved) in [
        ("http://b.test:8001/", true),
        ("http://a.test:8000/child", false),
    ] {
        // In one task, and with the navigation in a later task.
        for steps in [
            "  - same_task:\n      - post: { from: top, to: child, message: m, target_origin: \"*\" }\n      - navigate: { window: child, url: \"http://c.test:8002/\", by: top }\n",
            "  - post: { from: top, to: child, message: m, target_origin: \"*\" }\n  - navigate: { window: child, url: \"http://c.test:8002/\", by: top }\n",
        ] {
            let yaml = format!(
                r#"
description: t
windows:
  top: {{ url: "http://a.test:8000/" }}
  child: {{ parent: top, url: "{child}" }}
steps:
{steps}  - wait: {{ loaded: child }}
  - post: {{ from: top, to: child, message: after, target_origin: "*" }}
"#
            );
            let a = answer(&yaml);
            // The navigate is step 1 in both: its document is child@1.
            let last = "child@1";
            // Allowed: the old document before the commit, or nobody.
            assert_eq!(
                summarise(&a.allowed, Show::Message),
                set(&[
                    &[("child", &["m"]), (last, &["after"])],
                    &[(last, &["after"])],
                ]),
                "{child} {steps}"
            );
            if moved {
                assert_eq!(
                    contested(&a),
                    set(&[&[(last, &["m", "after"])]]),
                    "{child} {steps}"
                );
                assert!(a
                    .contested
                    .iter()
                    .all(|c| c.issues == ["https://github.com/whatwg/html/issues/3691"]));
            } else {
                assert!(a.contested.is_empty(), "{child} {steps}: {:?}", a.contested);
            }
        }
    }
}

/// A new document is a new realm: a buffer the first document transferred
/// (and so detached) is a fresh, attached one in the document a reload
/// makes.
#[test]
fn each_document_has_its_own_realm() {
    let yaml = r#"
description: t
windows:
  top: { url: "http://a.test:8000/" }
  child: { parent: top, url: "http://b.test:8001/" }
steps:
  - post: { from: child, to: top, message: { $buffer: { id: b, bytes: [1] } }, target_origin: "*", transfer: [b] }
  - reload: { window: child }
  - wait: { loaded: child }
  - post: { from: child, to: top, message: { $buffer: { id: b, bytes: [2] } }, target_origin: "*", transfer: [b] }
  - post: { from: child, to: top, message: { $buffer: { id: b, bytes: [3] } }, target_origin: "*", transfer: [b] }
"#;
    let a = answer_case(&case(yaml));
    for outcome in &a.allowed {
        let threw: Vec<Option<&str>> = outcome.posts.iter().map(|p| p.threw.as_deref()).collect();
        // The reloaded document's first transfer returns; its second
        // transfers a buffer it already detached.
        assert_eq!(threw, [None, None, Some("DataCloneError")]);
    }
}

/// whatwg/html#3267: a created window's first load, same origin as its
/// initial about:blank, reuses that Window. A message queued for the
/// about:blank document runs there or never (allowed); running it in the
/// loaded document is contested, and named so.
#[test]
fn a_message_for_a_reused_initial_about_blank_is_contested_in_the_loaded_document() {
    let yaml = r#"
description: t
windows:
  top: { url: "http://a.test:8000/" }
  child: { parent: top, url: "http://a.test:8000/child" }
steps:
  - same_task:
      - create: { window: child }
      - post: { from: top, to: child, message: early, target_origin: "http://a.test:8000" }
  - wait: { loaded: child }
  - post: { from: top, to: child, message: after, target_origin: "http://a.test:8000" }
"#;
    let a = answer(yaml);
    assert_eq!(
        summarise(&a.allowed, Show::Message),
        set(&[
            &[("child@blank", &["early"]), ("child", &["after"])],
            &[("child", &["after"])],
        ])
    );
    assert_eq!(contested(&a), set(&[&[("child", &["early", "after"])]]));
    assert_eq!(
        a.contested[0].issues,
        ["https://github.com/whatwg/html/issues/3267"]
    );
    // Cross-origin: no reuse, nothing contested.
    let cross = yaml.replace("http://a.test:8000/child", "http://b.test:8001/");
    assert!(answer(&cross).contested.is_empty());
}

// ---------------------------------------------------------------- agent keying (issue 22, item 1)

/// "Obtain a similar-origin window agent": "2. Let key be site. [...]
/// 5. Otherwise: 1. If requestsOAC is true, then set key to origin." With
/// no `Origin-Agent-Cluster` header the standard's requestsOAC is false:
/// one agent per site. whatwg/html PR #7617 (open; Chrome 115's default)
/// makes an absent header `?1`, and "If navigationParams's reserved
/// environment is a non-secure context, then set requestsOAC to false".
///
/// A popup (top level, https: a secure context) posts to its same-site,
/// cross-origin iframe and removes it in one task. Site-keyed, both are in
/// one agent, whose task runs to the end: the removal comes first and the
/// iframe's document is never fully active again, so "m" never arrives.
/// Origin-keyed, the iframe has its own event loop, which may run "m"
/// before the removal: contested, citing #7617.
///
/// The issue's own example, in pmconf's runner tree: top is an iframe of
/// the http runner page, so no document under it is in a secure context
/// and the PR's text keys them by site. Chromium origin-keys them anyway
/// (`pmconf doctor`: `originAgentCluster` is true in an https frame under
/// the runner, false in an http one), and the model's origin keying
/// follows it (a potentially trustworthy origin asks for an origin-keyed
/// cluster): contested for https windows, nothing contested for http ones.
#[test]
fn same_site_cross_origin_https_windows_are_contested_under_origin_keying() {
    let popup = r#"
description: t
windows:
  top: { url: "http://a.test:8000/" }
  pop: { opener: top, url: "https://a.test:8443/" }
  kid: { parent: pop, url: "https://www.a.test:8443/" }
steps:
  - same_task:
      - post: { from: pop, to: kid, message: m, target_origin: "*" }
      - remove: { window: kid }
  - post: { from: pop, to: pop, message: done, target_origin: "*" }
"#;
    let a = answer(popup);
    assert_eq!(
        summarise(&a.allowed, Show::Message),
        set(&[&[("pop", &["done"])]])
    );
    assert_eq!(
        contested(&a),
        set(&[&[("pop", &["done"]), ("kid", &["m"])]])
    );
    assert_eq!(
        a.contested[0].issues,
        ["https://github.com/whatwg/html/pull/7617"]
    );
    assert!(a.keyings_differ);
    // Another port of the same host: same site, another origin, too.
    let port = popup.replace("https://www.a.test:8443/", "https://a.test:9443/");
    assert_eq!(contested(&answer(&port)).len(), 1);
    // The issue's example in the runner tree.
    let runner = r#"
description: t
windows:
  top: { url: "https://a.test:8443/" }
  kid: { parent: top, url: "https://www.a.test:8443/" }
steps:
  - same_task:
      - post: { from: top, to: kid, message: m, target_origin: "*" }
      - remove: { window: kid }
  - post: { from: top, to: top, message: done, target_origin: "*" }
"#;
    let a = answer(runner);
    assert_eq!(
        summarise(&a.allowed, Show::Message),
        set(&[&[("top", &["done"])]])
    );
    assert_eq!(
        contested(&a),
        set(&[&[("top", &["done"]), ("kid", &["m"])]])
    );
    // http: neither a secure context nor a trustworthy origin.
    let http = runner
        .replace("https://a.test:8443/", "http://a.test:8000/")
        .replace("https://www.a.test:8443/", "http://www.a.test:8000/");
    let a = answer(&http);
    assert!(
        a.contested.is_empty() && !a.keyings_differ,
        "{:?}",
        a.contested
    );
}

// ---------------------------------------------------------------- one task queue per event loop (item 2)

/// "For each event loop, every task source must be associated with a
/// specific task queue": the posted message tasks for x and for y, both
/// b.test (one agent, one event loop), are in one queue, and the event
/// loop takes "the first runnable task in taskQueue": x's message first.
/// s (c.test) posts to x, then to y, then navigates itself, in one task.
/// event.source is s's WindowProxy until s's old document is destroyed
/// (its browsing context null), and null after: s's document is destroyed
/// once, so once x's message saw null, y's (later) sees null too.
/// Allowed: (s, s), (s, null), (null, null); never (null, s), which
/// per-window queues would allow.
#[test]
fn two_targets_in_one_event_loop_see_one_senders_destruction_in_queue_order() {
    let yaml = r#"
description: t
windows:
  top: { url: "http://a.test:8000/" }
  x: { parent: top, url: "http://b.test:8001/" }
  y: { parent: top, url: "http://b.test:8001/y" }
  s: { parent: top, url: "http://c.test:8002/" }
steps:
  - same_task:
      - post: { from: s, to: x, message: mx, target_origin: "*" }
      - post: { from: s, to: y, message: my, target_origin: "*" }
      - navigate: { window: s, url: "http://d.test:8003/" }
"#;
    assert_eq!(
        allowed_with_sources(yaml),
        set(&[
            &[("x", &["mx from s"]), ("y", &["my from s"])],
            &[("x", &["mx from s"]), ("y", &["my from null"])],
            &[("x", &["mx from null"]), ("y", &["my from null"])],
        ])
    );
    // x and y in two agents (d.test for y): two queues, any order.
    let two_loops = yaml.replace("http://b.test:8001/y", "http://e.test:8004/");
    assert_eq!(allowed_with_sources(&two_loops).len(), 4);
}

// ---------------------------------------------------------------- commits (item 4)

/// *Apply the history step* queues the commit ("queue a global task on
/// the navigation and traversal task source given navigable's active
/// window") on the navigated window's *old* document's event loop. top
/// (a.test) navigates its cross-site child (b.test) to a.test and posts to
/// it in one task: the commit is a task of b.test's event loop, which
/// top's task does not block, so it may come between the two steps, and
/// the post then binds to the new document (in top's agent: it runs once
/// top's task is over, before or after the new document's first script).
/// So child@0 getting "m" is allowed, not only contested.
#[test]
fn a_commit_waits_for_the_old_documents_event_loop_only() {
    let yaml = r#"
description: t
windows:
  top: { url: "http://a.test:8000/" }
  child: { parent: top, url: "http://b.test:8001/" }
steps:
  - same_task:
      - navigate: { window: child, url: "http://a.test:8000/next", by: top }
      - post: { from: top, to: child, message: m, target_origin: "*" }
  - wait: { loaded: child }
  - post: { from: top, to: child, message: after, target_origin: "*" }
"#;
    let a = answer(yaml);
    assert_eq!(
        summarise(&a.allowed, Show::Message),
        set(&[
            &[("child", &["m"]), ("child@0", &["after"])],
            &[("child@0", &["after"])],
            &[("child@0", &["m", "after"])],
        ])
    );
    assert!(a.contested.is_empty(), "{:?}", a.contested);
}

// ---------------------------------------------------------------- window reuse (item 5)

/// "Initialise the document object", step 6: the first load reuses the
/// initial about:blank's Window when "browsingContext's active document's
/// origin is same origin-domain with navigationParams's origin". The
/// about:blank's origin is its creator's origin *object* ("determining the
/// origin" returns sourceOrigin), so top's `document.domain = "a.test"`
/// gives it a domain, and "same origin-domain" needs both domains non-null
/// or both null: the new document's is null, so no reuse, and a message
/// for the about:blank reaching the loaded document is no longer
/// #3267's. It is still #3691's (the first navigation was under way when
/// top posted), so it stays contested, citing that issue alone.
#[test]
fn window_reuse_needs_same_origin_domain() {
    let reuse = r#"
description: t
windows:
  top: { url: "http://a.test:8000/" }
  child: { parent: top, url: "http://a.test:8000/child" }
steps:
  - same_task:
      - create: { window: child }
      - post: { from: top, to: child, message: early, target_origin: "http://a.test:8000" }
  - wait: { loaded: child }
  - post: { from: top, to: child, message: after, target_origin: "http://a.test:8000" }
"#;
    let allowed_set = set(&[
        &[("child@blank", &["early"]), ("child", &["after"])],
        &[("child", &["after"])],
    ]);
    let a = answer(reuse);
    assert_eq!(summarise(&a.allowed, Show::Message), allowed_set);
    assert_eq!(contested(&a), set(&[&[("child", &["early", "after"])]]));
    assert_eq!(
        a.contested[0].issues,
        ["https://github.com/whatwg/html/issues/3267"]
    );
    // document.domain set before the create, and between the create and
    // the commit (the same origin object): no reuse either way.
    for domain_at in ["before", "after"] {
        let set_domain = "  - set_domain: { window: top, domain: a.test }\n";
        let yaml = if domain_at == "before" {
            reuse.replace("steps:\n", &format!("steps:\n{set_domain}"))
        } else {
            reuse.replace(
                "  - wait: { loaded: child }\n",
                &format!("{set_domain}  - wait: {{ loaded: child }}\n"),
            )
        };
        let a = answer(&yaml);
        assert_eq!(
            summarise(&a.allowed, Show::Message),
            allowed_set,
            "{domain_at}"
        );
        assert_eq!(
            contested(&a),
            set(&[&[("child", &["early", "after"])]]),
            "{domain_at}"
        );
        // Before the create, the domain is set whatever the timing: no
        // outcome is #3267's. After it, a commit that comes before the
        // set_domain task still reuses the Window.
        let issues: BTreeSet<&str> = a
            .contested
            .iter()
            .flat_map(|c| c.issues.iter().map(String::as_str))
            .collect();
        if domain_at == "before" {
            assert_eq!(
                issues,
                BTreeSet::from(["https://github.com/whatwg/html/issues/3691"])
            );
        }
    }
}

// ---------------------------------------------------------------- destroyed or cached (item 6)

/// A popup's document replaced by a `navigate` may go into the back/forward
/// cache (a top-level traversable's; "salvageable" is the user agent's
/// call): it keeps its browsing context, so a message it sent still names
/// it however late it runs. Destroyed instead, the message after the
/// destruction has a null source. Both allowed; the trace names the
/// document. A reload, or a frame's navigation, is never cached (the
/// trace says nothing), with the same two outcomes (destroyed late or
/// early).
#[test]
fn a_sender_in_the_back_forward_cache_still_names_itself() {
    let popup = format!(
        "{POPUP}  - same_task:
      - post: {{ from: pop, to: top, message: bye, target_origin: \"*\" }}
      - navigate: {{ window: pop, url: \"http://e.test:8004/\" }}
"
    );
    let both = set(&[
        &[("top", &["bye from pop"])],
        &[("top", &["bye from null"])],
    ]);
    assert_eq!(allowed_with_sources(&popup), both);
    let cached = |yaml: &str| {
        answer(yaml)
            .trace
            .iter()
            .filter(|l| l.contains("back/forward cache"))
            .count()
    };
    assert_eq!(cached(&popup), 1);
    for other in [
        popup.replace(
            "      - navigate: { window: pop, url: \"http://e.test:8004/\" }\n",
            "      - reload: { window: pop }\n",
        ),
        format!(
            "{FRAME}  - same_task:
      - post: {{ from: child, to: top, message: bye, target_origin: \"*\" }}
      - navigate: {{ window: child, url: \"http://e.test:8004/\" }}
"
        ),
        // top is an iframe of pmconf's runner page, not top level.
        format!(
            "{FRAME}  - same_task:
      - post: {{ from: top, to: child, message: bye, target_origin: \"*\" }}
      - navigate: {{ window: top, url: \"http://e.test:8004/\" }}
"
        ),
    ] {
        let sources = allowed_with_sources(&other);
        assert_eq!(sources.len(), 2, "{other}");
        assert_eq!(cached(&other), 0, "{other}");
    }
}

// ---------------------------------------------------------------- push_state, fragment

#[test]
fn push_state_and_fragment_keep_the_document() {
    for change in [
        "  - push_state: { window: child }\n",
        "  - fragment: { window: child, fragment: section-2 }\n",
    ] {
        let yaml = format!(
            "{FRAME}  - post: {{ from: top, to: child, message: m1, target_origin: \"http://b.test:8001\" }}
{change}  - post: {{ from: top, to: child, message: m2, target_origin: \"http://b.test:8001\" }}
"
        );
        assert_eq!(
            allowed(&yaml),
            set(&[&[("child", &["m1", "m2"])]]),
            "{change}"
        );
    }
    let same_task = format!(
        "{POPUP}  - same_task:
      - post: {{ from: pop, to: pop, message: m, target_origin: \"/\" }}
      - fragment: {{ window: pop, fragment: x }}
      - push_state: {{ window: pop }}
"
    );
    assert_eq!(allowed(&same_task), set(&[&[("pop", &["m"])]]));
}

// ---------------------------------------------------------------- document.domain

#[test]
fn set_domain_changes_neither_event_origin_nor_target_origin_matching() {
    // document.domain sets the origin's domain; serialization and the
    // "same origin" check of step 8.1 ignore it.
    let yaml = r#"
description: t
windows:
  top: { url: "http://a.test:8000/" }
  child: { parent: top, url: "http://sub.a.test:8000/" }
steps:
  - set_domain: { window: top, domain: "a.test" }
  - set_domain: { window: child, domain: "a.test" }
  - post: { from: top, to: child, message: to-parent-domain, target_origin: "http://a.test:8000" }
  - post: { from: top, to: child, message: to-own-origin, target_origin: "http://sub.a.test:8000" }
  - post: { from: child, to: top, message: slash, target_origin: "/" }
  - post: { from: child, to: top, message: exact, target_origin: "http://a.test:8000" }
"#;
    assert_eq!(
        allowed_with_origins(yaml),
        set(&[&[
            ("top", &["exact <- http://sub.a.test:8000"]),
            ("child", &["to-own-origin <- http://a.test:8000"]),
        ]])
    );
}

// ---------------------------------------------------------------- the case files

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

fn cases_under(dir: &str) -> Vec<(PathBuf, Case)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    let mut files = Vec::new();
    yaml_files(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.display().to_string();
            let case = parse_case(&name, &text).unwrap_or_else(|e| panic!("{name}: {}", e[0]));
            (path, case)
        })
        .collect()
}

#[test]
fn non_race_cases_explore_to_the_straight_line_answer() {
    let mut checked = 0;
    for (path, case) in cases_under("cases") {
        if case.is_race() {
            continue;
        }
        let straight = answer_case(&case);
        let explored = answer_by_exploration(&case);
        assert_eq!(
            explored.allowed,
            straight.allowed,
            "{}: exploring every schedule differs from the straight-line answer",
            path.display()
        );
        assert_eq!(straight.allowed.len(), 1, "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 50, "only {checked} non-race cases found");
}

#[test]
fn race_case_files_are_races_with_tags_and_references() {
    let races = cases_under("cases/races");
    assert!(races.len() >= 34, "{} race cases", races.len());
    let mut families = BTreeSet::new();
    for (path, case) in &races {
        let name = path.display();
        assert!(case.is_race(), "{name} has only posts");
        assert_eq!(
            case.tags.first().map(String::as_str),
            Some("race"),
            "{name}"
        );
        assert_eq!(case.tags.len(), 2, "{name}: tags [race, <family>]");
        families.insert(case.tags[1].clone());
        assert!(!case.references.is_empty(), "{name} has no references");
        assert!(
            case.references.iter().all(|r| r.starts_with("https://")),
            "{name}"
        );
        assert!((2..=3).contains(&case.windows.len()), "{name}");
        let posts = case.posts().count();
        assert!((1..=5).contains(&posts), "{name}: {posts} posts");
    }
    assert_eq!(
        families.into_iter().collect::<Vec<_>>(),
        [
            "create-then-post",
            "navigate-then-post",
            "navigate-wait-post",
            "post-then-close",
            "post-then-navigate",
            "post-then-reload",
            "post-then-remove",
            "same-document",
            "sender-navigates",
            "set-domain",
        ]
    );
}

#[test]
fn two_frames_navigated_with_messages_in_flight_keep_a_prefix_each() {
    // Each old document receives a prefix of what was queued for it (the
    // posted message task source is FIFO, and the rest never runs once the
    // navigation commits): left gets nothing, l1, or l1 then l2; right
    // gets r1 or nothing, independently. l3 reaches left's new document;
    // r2 targets right's old origin and is dropped at right@4.
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../cases/races/two-frames-navigate-with-messages-in-flight.yaml"),
    )
    .unwrap();
    let mut want: Vec<Vec<(&str, &[&str])>> = Vec::new();
    let lefts: [&[&str]; 3] = [&[], &["l1"], &["l1", "l2"]];
    let rights: [&[&str]; 2] = [&[], &["r1"]];
    for l in lefts {
        for r in rights {
            let mut o: Vec<(&str, &[&str])> = vec![("left@3", &["l3"])];
            if !l.is_empty() {
                o.push(("left", l));
            }
            if !r.is_empty() {
                o.push(("right", r));
            }
            want.push(o);
        }
    }
    let want: Vec<&[(&str, &[&str])]> = want.iter().map(|o| o.as_slice()).collect();
    assert_eq!(allowed(&text), set(&want));
    // The explorer deduplicates states: this is the largest race case, and
    // it stays small.
    let a = answer(&text);
    assert!(a.states_explored < 1000, "{}", a.states_explored);
}
