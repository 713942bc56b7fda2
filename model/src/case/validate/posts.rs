//! Validation of `post` steps: the target (`to` or `reply`), the call
//! form, the message and the transfer list; and of replies across the
//! case.

use super::super::raw::RawPost;
use super::flat::FlatStep;
use super::Validator;
use crate::call_args::ArgValue;
use crate::case::{CallForm, Case, Post, Topology};
use crate::message::{MessageValue, Transferable};

/// A post's target: `to`, or with `reply: true` the sender of the latest
/// earlier post to `from` (and that post's step).
fn post_target(
    v: &mut Validator,
    case: &Case,
    path: &str,
    from: usize,
    p: &RawPost,
) -> Option<(usize, Option<usize>)> {
    match (&p.to, p.reply) {
        (Some(to), false) => Some((case.window_index(to)?, None)),
        (Some(_), true) => {
            v.error(
                &format!("{path}.reply"),
                "a post has `to` and `reply: true`",
                "keep `to` to name the target, or `reply: true` to answer event.source",
            );
            None
        }
        (None, false) => {
            v.error(
                path,
                "a post without `to`",
                "add `to: WINDOW`, or `reply: true` to answer the last message this window received",
            );
            None
        }
        (None, true) => {
            let answered = case
                .steps
                .iter()
                .enumerate()
                .rev()
                .find_map(|(i, s)| s.as_post().filter(|q| q.to == from).map(|q| (i, q.from)));
            match answered {
                Some((step, sender)) => Some((sender, Some(step))),
                None => {
                    v.error(
                        &format!("{path}.reply"),
                        format!("`reply: true`, but no earlier post is to `{}`", p.from),
                        "a reply answers the latest earlier post to its `from`: post to it first, or name the target with `to`",
                    );
                    None
                }
            }
        }
    }
}

/// Replies are for cases without race steps, and answer a message that
/// is delivered (otherwise there is no `event.source` to reply to).
pub(super) fn check_replies(v: &mut Validator, case: &Case, flat: &[FlatStep]) {
    let replies: Vec<(usize, usize)> = case
        .steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.as_post().and_then(|p| p.reply_to).map(|n| (i, n)))
        .collect();
    if replies.is_empty() || !v.errors.is_empty() {
        return;
    }
    let path = |i: usize| format!("{}.post.reply", flat[i].path);
    if case.is_race() {
        for (i, _) in replies {
            v.error(
                &path(i),
                "`reply: true` in a race case",
                "NOTE: pmconf models replies only in cases whose steps are all posts (no document is replaced, so event.source is the sender's current Window); name the target with `to` here",
            );
        }
        return;
    }
    let delivered = crate::answer::delivered_posts(case);
    for (i, n) in replies {
        if !delivered.contains(&n) {
            v.error(
                &path(i),
                format!("`reply: true` answers step {n}, whose message is never delivered (it throws or its targetOrigin does not match), so there is no event.source"),
                format!("make step {n}'s message reach `{}`, or name the target with `to`", case.windows[case.steps[i].as_post().expect("a post").from].name),
            );
        }
    }
}

/// A `post` step, checked against the tree as it stands before it.
pub(super) fn check_post(
    v: &mut Validator,
    case: &Case,
    topo: &Topology,
    step_path: &str,
    p: &RawPost,
) -> Option<Post> {
    let path = format!("{step_path}.post");
    let from = case.window_index(&p.from)?;
    let function_of = super::realms::check_function_of(v, case, topo, &path, from, p);
    let (to, reply_to) = post_target(v, case, &path, from, p)?;
    let to_name = &case.windows[to].name;
    if case.windows[to].sandbox_flags.blocks_scripts() {
        v.error(
            &format!("{path}.to"),
            format!(
                "`{}` is sandboxed without allow-scripts, so it cannot listen for messages",
                case.windows[to].name
            ),
            "add allow-scripts to its sandbox attribute (or its ancestors')",
        );
    }
    if topo.exists[from] && topo.exists[to] && topo.path(case, from, to).is_none() {
        if let Some((why, fix)) = crate::isolation::severed_reach(case, from, to) {
            v.error(&format!("{path}.to"), why, fix);
        } else {
            v.error(
            &format!("{path}.to"),
            format!("script in `{}` has no way to reach `{to_name}`", p.from),
            "a window reaches its parent, its opener, frames[i] of any window it reaches, and popups it opened itself; pick a reachable target",
        );
        }
    }
    let form = check_call_form(v, &path, p);
    let message = match (&p.message, &form) {
        (_, Some(CallForm::Args(args))) => Some(
            args.first()
                .map_or(MessageValue::Undefined, ArgValue::message_value),
        ),
        (Some(message), _) => match MessageValue::from_yaml(message) {
            Ok(m) => Some(m),
            Err(e) => {
                v.error(&format!("{path}.message"), format!("bad message: {e}"), "see the tagged forms in docs/src/cases.md (`$undefined`, `$number`, `$utf16`, `$buffer`, `$function`, `$symbol`, and the structured-clone kinds `$map`, `$set`, `$date`, `$regexp`, `$bigint`, `$boxed`, `$error`, `$typed`, `$dataview`, `$array`, `$id`/`$ref`, `$port`, `$sab`...)");
                None
            }
        },
        // `args` with an error, already reported.
        (None, None) if p.args.is_some() => None,
        (None, _) => {
            v.error(
                &path,
                "a post without `message`",
                "add `message: ...` (or write the whole argument list as `args: [...]`)",
            );
            None
        }
    };
    let (target_origin, transfer_list) = match &p.options {
        Some(o) => (o.target_origin.clone(), o.transfer.as_ref()),
        None => (p.target_origin.clone(), p.transfer.as_ref()),
    };
    let transfer_path = match &p.options {
        Some(_) => format!("{path}.options.transfer"),
        None => format!("{path}.transfer"),
    };
    let transfer = transfer_list.map(|list| {
        check_transfer_list(
            v,
            case,
            &transfer_path,
            from,
            &p.from,
            message.as_ref(),
            list,
        )
    });
    Some(Post {
        from,
        to,
        message: message?,
        target_origin,
        reply_to,
        transfer,
        form: form?,
        function_of: function_of.ok()?,
    })
}

/// A post's call form: positional (`target_origin`, `transfer`), `options`
/// or `args`, one of them only. `args[0]` is read as a message (getters in
/// a message are message values), later arguments may hold getters.
fn check_call_form(v: &mut Validator, path: &str, p: &RawPost) -> Option<CallForm> {
    let positional: Vec<&str> = [
        ("target_origin", p.target_origin.is_some()),
        ("transfer", p.transfer.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, present)| present.then_some(k))
    .collect();
    if p.options.is_some() {
        if let Some(k) = positional.first() {
            v.error(
                &format!("{path}.{k}"),
                format!("a post has `options` and `{k}`"),
                "write targetOrigin and transfer either positionally (`target_origin`, `transfer`) or inside `options: {target_origin: ..., transfer: [...]}`, not both",
            );
            return None;
        }
    }
    let Some(args) = &p.args else {
        return Some(if p.options.is_some() {
            CallForm::Options
        } else {
            CallForm::Positional
        });
    };
    let others: Vec<&str> = positional
        .into_iter()
        .chain(p.message.is_some().then_some("message"))
        .chain(p.options.is_some().then_some("options"))
        .collect();
    if let Some(k) = others.first() {
        v.error(
            &format!("{path}.{k}"),
            format!("a post has `args` and `{k}`"),
            "`args` is the whole argument list (`args: [message, targetOrigin, transfer]`); move the other keys into it or drop `args`",
        );
        return None;
    }
    let mut out = Vec::new();
    for (j, item) in args.iter().enumerate() {
        let parsed = if j == 0 {
            MessageValue::from_yaml(item).map(ArgValue::Value)
        } else {
            ArgValue::from_yaml(item)
        };
        match parsed {
            Ok(a) => out.push(a),
            Err(e) => v.error(
                &format!("{path}.args[{j}]"),
                format!("bad argument: {e}"),
                "an argument is a value in the message syntax; after the first, objects may hold `{$throwing_getter: RangeError}` members",
            ),
        }
    }
    (out.len() == args.len()).then_some(CallForm::Args(out))
}

/// A transfer list: buffer ids `from` created (in this message or an
/// earlier one of its posts), or inline tagged values.
fn check_transfer_list(
    v: &mut Validator,
    case: &Case,
    path: &str,
    from: usize,
    from_name: &str,
    message: Option<&MessageValue>,
    list: &[serde_yaml::Value],
) -> Vec<Transferable> {
    let mut known_buffers: Vec<String> = message.map(|m| m.buffer_ids()).unwrap_or_default();
    for (_, earlier) in case.posts() {
        if earlier.from == from {
            known_buffers.extend(earlier.message.buffer_ids());
            if let Some(t) = &earlier.transfer {
                for item in t {
                    if let Transferable::Value(val) = item {
                        known_buffers.extend(val.buffer_ids());
                    }
                }
            }
            if let CallForm::Args(args) = &earlier.form {
                known_buffers.extend(args.iter().flat_map(|a| a.buffer_ids()));
            }
        }
    }
    let mut items = Vec::new();
    for (j, item) in list.iter().enumerate() {
        let item_path = format!("{path}[{j}]");
        match item {
            serde_yaml::Value::String(id) => {
                if !known_buffers.contains(id) {
                    v.error(
                        &item_path,
                        format!("transfer names buffer `{id}`, which `{from_name}` never created"),
                        format!("put {{$buffer: {{id: {id}, bytes: [...]}}}} in this or an earlier message from `{from_name}`, or write the buffer inline in the transfer list"),
                    );
                }
                items.push(Transferable::BufferId(id.clone()));
            }
            other => match MessageValue::from_yaml(other) {
                Ok(value) => items.push(Transferable::Value(value)),
                Err(e) => v.error(
                    &item_path,
                    format!("bad transfer entry: {e}"),
                    "a transfer entry is a buffer id or a tagged value",
                ),
            },
        }
    }
    items
}
