//! `sab_write: {window, sab, offset?, bytes}`: a write into a
//! SharedArrayBuffer the window posted earlier ([`crate::shared_memory`]).

use super::super::raw::RawSabWrite;
use super::super::{Case, SabWrite, Step};
use super::Validator;
use crate::shared_memory::named_shared_buffer;

/// At most this many writes may run in a later task than the post whose
/// buffer they write. Each such write may or may not be seen by its
/// receiver, so the outcomes the model lists grow with them: one buffer
/// written in `n` later tasks has `n + 1`, but `n` buffers written once
/// each in the tasks between their posts have `2^n`, all allowed and all
/// listed in the answer (and explored: 16 such writes took the explorer
/// over a minute). Writes in the post's own task never branch.
const MAX_LATER_WRITES: usize = 6;

pub(super) fn check_sab_write(
    v: &mut Validator,
    case: &Case,
    step_path: &str,
    task: usize,
    w: &RawSabWrite,
) -> Option<Step> {
    let window = case.window_index(&w.window)?;
    let path = format!("{step_path}.sab_write");
    let mut bytes = Vec::with_capacity(w.bytes.len());
    for (i, b) in w.bytes.iter().enumerate() {
        match u8::try_from(*b) {
            Ok(b) => bytes.push(b),
            Err(_) => {
                v.error(
                    &format!("{path}.bytes[{i}]"),
                    format!("byte {b} is not 0 to 255"),
                    "write bytes as whole numbers from 0 to 255 (a Uint8Array's elements)",
                );
                return None;
            }
        }
    }
    if bytes.is_empty() {
        v.error(
            &format!("{path}.bytes"),
            "a write of no bytes",
            "list the bytes to write (`bytes: [9]`), or remove the step",
        );
        return None;
    }
    let offset = match w.offset.map(usize::try_from) {
        None => 0,
        Some(Ok(o)) => o,
        Some(Err(_)) => {
            v.error(
                &format!("{path}.offset"),
                format!("offset {} is negative", w.offset.unwrap_or_default()),
                "give the index of the first byte written, from 0",
            );
            return None;
        }
    };
    // The latest earlier post by `window` whose message names the buffer.
    let latest = case.steps.iter().enumerate().rev().find_map(|(i, s)| {
        let p = s.as_post().filter(|p| p.from == window)?;
        named_shared_buffer(&p.message, &w.sab).map(|sab| (i, sab))
    });
    let Some((post, sab)) = latest else {
        v.error(
            &format!("{path}.sab"),
            format!(
                "`{}` names no SharedArrayBuffer an earlier post from `{}` made",
                w.sab, w.window
            ),
            format!(
                "name the buffer in an earlier post's message from `{}`: `{{$id: {}, $sab: {{bytes: [0, 0]}}}}` (a write reaches the buffer in its writer's realm; a post from another window made another buffer)",
                w.window, w.sab
            ),
        );
        return None;
    };
    let len = sab.bytes.len();
    if offset + bytes.len() > len {
        v.error(
            &format!("{path}.bytes"),
            format!(
                "writing {} byte{} at offset {offset} overruns `{}`, which holds {len} (`set` would throw RangeError and write nothing)",
                bytes.len(),
                if bytes.len() == 1 { "" } else { "s" },
                w.sab
            ),
            format!("keep offset + the number of bytes at most {len}"),
        );
        return None;
    }
    // The buffer lives in the realm of the document that posted it: a
    // navigation or reload of `window` since then replaced that document.
    if let Some((i, s)) = case.steps[post + 1..].iter().enumerate().find(|(_, s)| {
        matches!(s, Step::Navigate(n) if n.window == window)
            || matches!(s, Step::Reload { window: r } if *r == window)
    }) {
        v.error(
            &path,
            format!(
                "step {} ({}) replaced `{}`'s document after step {post} posted `{}`: the buffer went with the old document's realm",
                post + 1 + i,
                s.kind(),
                w.window,
                w.sab
            ),
            "write before the navigation, or post a new buffer from the new document first",
        );
        return None;
    }
    let later = |i: usize, s: &Step| match s {
        Step::SabWrite(w) => case.task_of_step[i] != case.task_of_step[w.post],
        _ => false,
    };
    if task != case.task_of_step[post]
        && case
            .steps
            .iter()
            .enumerate()
            .filter(|(i, s)| later(*i, s))
            .count()
            >= MAX_LATER_WRITES
    {
        let too_many = format!("more than {MAX_LATER_WRITES} `sab_write` steps in later tasks than the posts whose buffers they write (this is the first beyond)");
        // Said once, at the first write beyond the cap.
        if v.errors.iter().any(|e| e.message == too_many) {
            return None;
        }
        v.error(
            &path,
            too_many,
            format!("each such write may or may not be seen, so it can double the outcomes the model lists (n buffers written once each between their posts: 2^n; NOTE: pmconf caps such writes at {MAX_LATER_WRITES}); move writes into their post's `same_task` group (always seen), or split the case"),
        );
        return None;
    }
    Some(Step::SabWrite(SabWrite {
        window,
        sab: w.sab.clone(),
        post,
        offset,
        bytes,
    }))
}
