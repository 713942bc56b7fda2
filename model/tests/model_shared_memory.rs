//! Writes into a posted SharedArrayBuffer (`sab_write`): which bytes the
//! receiver may see, written out by hand from the standards, not copied
//! from the model's output.
//!
//! The rules the expectations follow:
//! - The receiver's buffer is a new object over the sender's Shared Data
//!   Block (StructuredDeserialize 13), so the bytes it reads are whatever
//!   the writer wrote before the read; pmconf's agent reads them when the
//!   message event fires.
//! - It arrives only in the sender's agent cluster, which holds one agent
//!   (obtain a similar-origin window agent, step 6), so the writer's tasks
//!   and the receiver's message task share one event loop and never
//!   overlap.
//! - The message task is queued by the post (window post message steps,
//!   step 8) and runs after the whole task that posted; a later task of
//!   the writer comes from another task source, so the event loop may run
//!   it before or after the message task (processing model, step 1).
//! - Within one agent, writes are seen in program order: a later write's
//!   bytes never show without an earlier write's.

mod common;

use pmconf_model::{answer_case, parse_case, Case, CaseError};
use serde_json::{json, Value};
use std::collections::BTreeSet;

const ISOLATED: &str = "windows:\n  top: { url: \"https://a.test:8443/\", isolated: true }\n  child: { parent: top, url: \"https://a.test:8443/\" }\n";

fn parse(steps: &str) -> Result<Case, Vec<CaseError>> {
    parse_case(
        "inline.yaml",
        &format!("description: t\n{ISOLATED}steps:\n{steps}"),
    )
}

fn case(steps: &str) -> Case {
    parse(steps).unwrap_or_else(|errors| panic!("{}", common::errors_text(&errors)))
}

/// Every allowed outcome (as JSON text), as the list of bytes each of child's deliveries
/// shows (its `$sab`'s bytes, or the message itself when it is no buffer).
fn child_sees(steps: &str) -> BTreeSet<String> {
    let answer = answer_case(&case(steps));
    assert!(answer.contested.is_empty(), "nothing here is contested");
    answer
        .allowed
        .iter()
        .map(|o| {
            let (_, deliveries) = o
                .received
                .iter()
                .find(|(w, _)| w == "child")
                .expect("child is listed");
            deliveries
                .iter()
                .map(|d| {
                    d.message
                        .pointer("/$sab/bytes")
                        .cloned()
                        .unwrap_or_else(|| d.message.clone())
                })
                .collect::<Vec<Value>>()
        })
        .map(|seen| Value::Array(seen).to_string())
        .collect()
}

fn set(items: &[Vec<Value>]) -> BTreeSet<String> {
    items
        .iter()
        .map(|seen| Value::Array(seen.clone()).to_string())
        .collect()
}

const POST_S: &str =
    "post: { from: top, to: child, message: { $id: s, $sab: { bytes: [1, 2, 3] } }, target_origin: \"*\" }";

#[test]
fn a_write_in_the_posts_own_task_is_always_seen() {
    let steps = format!(
        "  - same_task:\n      - {POST_S}\n      - sab_write: {{ window: top, sab: s, offset: 1, bytes: [9] }}\n"
    );
    assert_eq!(child_sees(&steps), set(&[vec![json!([1, 9, 3])]]));
}

#[test]
fn a_write_in_a_later_task_may_or_may_not_be_seen() {
    let steps =
        format!("  - {POST_S}\n  - sab_write: {{ window: top, sab: s, offset: 1, bytes: [9] }}\n");
    assert_eq!(
        child_sees(&steps),
        set(&[vec![json!([1, 2, 3])], vec![json!([1, 9, 3])]])
    );
}

#[test]
fn two_later_writes_are_seen_in_program_order_only() {
    let steps = "  - post: { from: top, to: child, message: { $id: s, $sab: { bytes: [0, 0] } }, target_origin: \"*\" }\n  - sab_write: { window: top, sab: s, offset: 0, bytes: [1] }\n  - sab_write: { window: top, sab: s, offset: 1, bytes: [2] }\n";
    // Never [0, 2]: the second write's bytes without the first's.
    assert_eq!(
        child_sees(steps),
        set(&[
            vec![json!([0, 0])],
            vec![json!([1, 0])],
            vec![json!([1, 2])]
        ])
    );
}

#[test]
fn a_message_queued_after_the_write_keeps_its_place_behind_the_buffer() {
    // Task 2 writes, then posts "second": the first message may run before
    // or after task 2, and always before "second" (one task queue).
    let steps = format!("  - {POST_S}\n  - same_task:\n      - sab_write: {{ window: top, sab: s, bytes: [7] }}\n      - post: {{ from: top, to: child, message: second, target_origin: \"*\" }}\n");
    assert_eq!(
        child_sees(&steps),
        set(&[
            vec![json!([1, 2, 3]), json!("second")],
            vec![json!([7, 2, 3]), json!("second")]
        ])
    );
}

#[test]
fn a_write_changes_nothing_a_receiver_in_another_cluster_gets() {
    // sub.a.test is another origin: an isolated case keys agent clusters
    // by origin, so deserializing throws and child gets messageerror.
    let text = "description: t\nwindows:\n  top: { url: \"https://a.test:8443/\", isolated: true }\n  child: { parent: top, url: \"https://sub.a.test:8443/\" }\nsteps:\n  - same_task:\n      - post: { from: top, to: child, message: { $id: s, $sab: { bytes: [4] } }, target_origin: \"*\" }\n      - sab_write: { window: top, sab: s, bytes: [6] }\n";
    let answer = answer_case(&parse_case("inline.yaml", text).expect("valid"));
    assert_eq!(answer.allowed.len(), 1);
    let (_, got) = &answer.allowed[0].received[1];
    assert_eq!(got[0].message, json!({"$messageerror": null}));
}

#[test]
fn a_write_the_window_cannot_make_is_refused_with_the_reason() {
    let errors = |steps: &str| common::errors_text(&parse(steps).expect_err("refused"));
    // No earlier post from top names `t`.
    let e = errors(&format!(
        "  - {POST_S}\n  - sab_write: {{ window: top, sab: t, bytes: [1] }}\n"
    ));
    assert!(
        e.contains("`t` names no SharedArrayBuffer an earlier post from `top` made"),
        "{e}"
    );
    // The buffer was posted by top, not child: child's realm has no `s`.
    let e = errors(&format!(
        "  - {POST_S}\n  - sab_write: {{ window: child, sab: s, bytes: [1] }}\n"
    ));
    assert!(e.contains("earlier post from `child`"), "{e}");
    // Three bytes hold no write of two at offset 2 (RangeError).
    let e = errors(&format!(
        "  - {POST_S}\n  - sab_write: {{ window: top, sab: s, offset: 2, bytes: [1, 1] }}\n"
    ));
    assert!(e.contains("overruns `s`, which holds 3"), "{e}");
    let e = errors(&format!(
        "  - {POST_S}\n  - sab_write: {{ window: top, sab: s, bytes: [256] }}\n"
    ));
    assert!(e.contains("byte 256 is not 0 to 255"), "{e}");
    let e = errors(&format!(
        "  - {POST_S}\n  - sab_write: {{ window: top, sab: s, bytes: [] }}\n"
    ));
    assert!(e.contains("a write of no bytes"), "{e}");
    // A `$id` on something else than a SharedArrayBuffer.
    let e = errors("  - post: { from: top, to: child, message: { $id: s, $array: [1] }, target_origin: \"*\" }\n  - sab_write: { window: top, sab: s, bytes: [1] }\n");
    assert!(e.contains("names no SharedArrayBuffer"), "{e}");
}

#[test]
fn a_write_after_the_writers_document_was_replaced_is_refused() {
    // Not isolated (isolated cases refuse navigations): the post throws
    // DataCloneError, but the buffer exists; after a reload it is gone.
    let text = "description: t\nwindows:\n  top: { url: \"http://a.test:8000/\" }\n  child: { parent: top, url: \"http://a.test:8000/\" }\nsteps:\n  - post: { from: child, to: top, message: { $id: s, $sab: { bytes: [4] } }, target_origin: \"*\" }\n  - reload: { window: child }\n  - wait: { loaded: child }\n  - sab_write: { window: child, sab: s, bytes: [6] }\n";
    let e = common::errors_text(&parse_case("inline.yaml", text).expect_err("refused"));
    assert!(
        e.contains("step 1 (reload) replaced `child`'s document"),
        "{e}"
    );
}
