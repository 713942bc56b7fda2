//! Writes to a SharedArrayBuffer after it was posted, and what the receiver
//! sees of them.
//!
//! A case's `sab_write` step runs `new Uint8Array(sab).set(bytes, offset)`
//! in the window that posted `sab` (a `$sab` named with `$id` in an earlier
//! post's message). What the receiver's `message` event shows of the
//! buffer is its bytes *when the event fires* (the agent reads them then),
//! so a write is seen by a receiver exactly when it happens before that
//! message task runs.
//!
//! ## Why the receiver shares the writer's memory, and its event loop
//!
//! StructuredSerializeInternal, step 13.2 for a SharedArrayBuffer: "Set
//! serialized to { [[Type]]: "SharedArrayBuffer", [[ArrayBufferData]]:
//! value.[[ArrayBufferData]], [[ArrayBufferByteLength]]:
//! value.[[ArrayBufferByteLength]], [[AgentCluster]]: the surrounding
//! agent's agent cluster }" (the data block itself, not a copy), and
//! StructuredDeserialize, step 13: "If targetRealm's corresponding agent
//! cluster is not serialized.[[AgentCluster]], then throw a
//! "DataCloneError" DOMException. Otherwise, set value to a new
//! SharedArrayBuffer object in targetRealm whose [[ArrayBufferData]]
//! internal slot value is serialized.[[ArrayBufferData]]". So the
//! receiver's buffer is another object over the same Shared Data Block.
//! <https://html.spec.whatwg.org/multipage/structured-data.html#structuredserializeinternal>
//! <https://html.spec.whatwg.org/multipage/structured-data.html#structureddeserialize>
//!
//! It arrives only in the sender's agent cluster, and a window agent
//! cluster holds one agent: obtain a similar-origin window agent, step 6,
//! "Return the single similar-origin window agent contained in group's
//! agent cluster map[key]". One agent has one event loop ("each
//! similar-origin window agent has its own event loop") and runs one task
//! at a time, so the writer's task and the receiver's message task never
//! overlap: every read is ordered after or before every write by the
//! ECMAScript memory model's agent-order, and no torn or partial value is
//! possible.
//! <https://html.spec.whatwg.org/multipage/webappapis.html#obtain-similar-origin-window-agent>
//! <https://tc39.es/ecma262/#sec-memory-model>
//!
//! ## So which writes a receiver sees
//!
//! - A write later in the *same task* as the post is always seen: the
//!   message task is queued by the post ("Queue a global task on the
//!   posted message task source", window post message steps, step 8) and
//!   the event loop takes it only after the whole running task.
//! - A write in a *later* task of the writer races the message task: the
//!   write's task comes from another task source (pmconf's channel, a
//!   WebSocket message), and the event loop picks "a task queue" (event
//!   loop processing model, step 1) of its choosing, so both the old and
//!   the new bytes are allowed. [`crate::event_loop`] explores both orders
//!   and records, per delivery, how many of the writes to its buffers had
//!   run ([`WritesSeen`]).
//!
//! NOTE: validation caps the writes in later tasks than their post at
//! six: each may or may not be seen, so `n` buffers written once each
//! between their posts give `2^n` allowed outcomes, all listed.
//!
//! NOTE: only buffers posted with `window.postMessage` can be written:
//! MessagePorts are modelled in cases without race steps, where the plan
//! knows every port message up front ([`crate::message_port`]), and a
//! write after a post makes the order of tasks matter.

use crate::case::{Case, SabWrite, Step};
use crate::message::{MessageValue, SharedBufferData};

/// How many of the writes to a delivery's buffers (in step order) had run
/// when its message event fired.
pub type WritesSeen = usize;

/// The shared buffer `message` names `id` (with `$id`), if it is one.
pub fn named_shared_buffer<'a>(
    message: &'a MessageValue,
    id: &str,
) -> Option<&'a SharedBufferData> {
    match crate::structured_clone::Names::of(message).get(id) {
        Some(MessageValue::SharedBuffer(data)) => Some(data),
        _ => None,
    }
}

/// The `sab_write` steps that write into a buffer post step `post` made,
/// in step order.
pub fn writes_to(case: &Case, post: usize) -> Vec<&SabWrite> {
    case.steps
        .iter()
        .filter_map(|s| match s {
            Step::SabWrite(w) if w.post == post => Some(w),
            _ => None,
        })
        .collect()
}

/// How many writes into post `post`'s buffers have run once steps
/// `0..progress` have.
pub fn writes_run(case: &Case, post: usize, progress: usize) -> WritesSeen {
    case.steps[..progress.min(case.steps.len())]
        .iter()
        .filter(|s| matches!(s, Step::SabWrite(w) if w.post == post))
        .count()
}

/// `message` as the receiver reads it after the first `seen` writes into
/// post `post`'s buffers: each write's bytes replace the buffer's from its
/// offset on (`%TypedArray%.prototype.set` with an array source, steps
/// "SetTypedArrayFromArrayLike": one element a byte, in order).
/// <https://tc39.es/ecma262/#sec-settypedarrayfromarraylike>
pub fn after_writes(
    case: &Case,
    post: usize,
    message: &MessageValue,
    seen: WritesSeen,
) -> MessageValue {
    let mut out = message.clone();
    for w in writes_to(case, post).into_iter().take(seen) {
        write_into(&mut out, w);
    }
    out
}

fn write_into(value: &mut MessageValue, w: &SabWrite) {
    match value {
        MessageValue::Identified { id, value: inner } if *id == w.sab => {
            if let MessageValue::SharedBuffer(data) = inner.as_mut() {
                // The validator keeps offset + bytes within the buffer
                // (otherwise `set` throws RangeError before writing).
                data.bytes[w.offset..w.offset + w.bytes.len()].copy_from_slice(&w.bytes);
            }
        }
        _ => {
            for child in children_mut(value) {
                write_into(child, w);
            }
        }
    }
}

/// The values directly inside `value`, mutably (the same walk as
/// [`crate::structured_clone::children`], order aside).
fn children_mut(value: &mut MessageValue) -> Vec<&mut MessageValue> {
    match value {
        MessageValue::Array(items) | MessageValue::Set(items) => items.iter_mut().collect(),
        MessageValue::ArrayWithProps { items, props } => items
            .iter_mut()
            .chain(props.iter_mut().map(|(_, v)| v))
            .collect(),
        MessageValue::Object(entries) => entries.iter_mut().map(|(_, v)| v).collect(),
        MessageValue::Map(entries) => entries.iter_mut().flat_map(|(k, v)| [k, v]).collect(),
        MessageValue::View { buffer, .. } => vec![buffer.as_mut()],
        MessageValue::Unlisted { value, .. }
        | MessageValue::Identified { value, .. }
        | MessageValue::Boxed(value) => vec![value.as_mut()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::parse_case;

    fn case(steps: &str) -> Case {
        let text = format!(
            "description: t\nwindows:\n  top: {{ url: \"https://a.test:8443/\", isolated: true }}\n  child: {{ parent: top, url: \"https://a.test:8443/\" }}\nsteps:\n{steps}"
        );
        parse_case("t.yaml", &text).unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn a_write_replaces_bytes_from_its_offset_in_the_named_buffer_only() {
        // Two buffers in one message; only `s` is written, bytes 1..3.
        let c = case(
            "  - post: { from: top, to: child, message: { a: { $id: s, $sab: { bytes: [1, 2, 3, 4] } }, b: { $sab: { bytes: [5, 6] } } }, target_origin: \"*\" }\n  - sab_write: { window: top, sab: s, offset: 1, bytes: [9, 8] }\n",
        );
        let message = &c.steps[0].as_post().unwrap().message;
        let before = after_writes(&c, 0, message, 0).observable_json();
        let after = after_writes(&c, 0, message, 1).observable_json();
        assert_eq!(
            before["a"]["$sab"]["bytes"],
            serde_json::json!([1, 2, 3, 4])
        );
        assert_eq!(after["a"]["$sab"]["bytes"], serde_json::json!([1, 9, 8, 4]));
        assert_eq!(after["b"]["$sab"]["bytes"], serde_json::json!([5, 6]));
    }

    #[test]
    fn writes_are_counted_per_post_in_step_order() {
        let c = case(
            "  - post: { from: top, to: child, message: { $id: s, $sab: { bytes: [0] } }, target_origin: \"*\" }\n  - post: { from: top, to: child, message: { $id: s, $sab: { bytes: [0] } }, target_origin: \"*\" }\n  - sab_write: { window: top, sab: s, bytes: [1] }\n  - sab_write: { window: top, sab: s, bytes: [2] }\n",
        );
        // Both writes name the latest post's buffer (step 1), none step 0's.
        assert_eq!(writes_to(&c, 0).len(), 0);
        assert_eq!(writes_to(&c, 1).len(), 2);
        assert_eq!(writes_run(&c, 1, 3), 1);
        assert_eq!(writes_run(&c, 1, 4), 2);
        let m = &c.steps[1].as_post().unwrap().message;
        // The later write wins: [2], not [1].
        assert_eq!(
            after_writes(&c, 1, m, 2).observable_json()["$sab"]["bytes"],
            serde_json::json!([2])
        );
    }
}
