//! Validation of `channel` and `port_post` steps, and of the ports a case
//! names (`$port: name`).

use super::super::raw::{RawChannel, RawPortCall, RawPortPost};
use super::flat::FlatStep;
use super::windows::is_valid_name;
use super::Validator;
use crate::case::{Case, PortPost, Step};
use crate::message::{MessageValue, Transferable};

/// The window whose `channel` step (before this point) made `port`.
fn channel_of(case: &Case, port: &str) -> Option<usize> {
    case.steps.iter().find_map(|s| match s {
        Step::Channel { window, ports, .. } if ports.iter().any(|p| p == port) => Some(*window),
        _ => None,
    })
}

/// `channel: {window, ports: [a, b]}`: two new, distinct, plain names.
pub(super) fn check_channel(
    v: &mut Validator,
    case: &Case,
    step_path: &str,
    c: &RawChannel,
) -> Option<[String; 2]> {
    let path = format!("{step_path}.channel.ports");
    let [a, b] = c.ports.as_slice() else {
        v.error(
            &path,
            format!("a channel has two ports, not {}", c.ports.len()),
            "name both ports: `ports: [p1, p2]` (port1, then port2)",
        );
        return None;
    };
    for name in [a, b] {
        if !is_valid_name(name) {
            v.error(
                &path,
                format!("port name `{name}` is not a plain name"),
                "use letters, digits, `_` and `-` only",
            );
            return None;
        }
        if channel_of(case, name).is_some() || case.window_index(name).is_some() {
            v.error(
                &path,
                format!(
                    "the name `{name}` is already taken (by an earlier channel's port or a window)"
                ),
                "give every port its own name",
            );
            return None;
        }
    }
    if a == b {
        v.error(
            &path,
            format!("both ports are named `{a}`"),
            "give the two ports different names",
        );
        return None;
    }
    Some([a.clone(), b.clone()])
}

/// `port_post: {port, from?, message, transfer?}`.
pub(super) fn check_port_post(
    v: &mut Validator,
    case: &Case,
    step_path: &str,
    p: &RawPortPost,
) -> Option<PortPost> {
    let path = format!("{step_path}.port_post");
    let Some(creator) = channel_of(case, &p.port) else {
        v.error(
            &format!("{path}.port"),
            format!("no earlier `channel` step makes a port named `{}`", p.port),
            "add `- channel: {window: W, ports: [p1, p2]}` before this step, or name one of its ports",
        );
        return None;
    };
    let from = match &p.from {
        Some(name) => case.window_index(name)?,
        None => creator,
    };
    let message = match MessageValue::from_yaml(&p.message) {
        Ok(m) => m,
        Err(e) => {
            v.error(
                &format!("{path}.message"),
                format!("bad message: {e}"),
                "see the tagged forms in docs/src/cases.md",
            );
            return None;
        }
    };
    if let (Some(_), Some(_)) = (&p.transfer, &p.options) {
        v.error(
            &format!("{path}.options"),
            "a port_post has `transfer` and `options`: one call has one second argument",
            "write `transfer: [...]` for postMessage(message, transfer), or `options: {transfer: [...]}` for postMessage(message, {transfer})",
        );
        return None;
    }
    let (list, list_path) = match &p.options {
        Some(o) => (o.transfer.as_ref(), format!("{path}.options.transfer")),
        None => (p.transfer.as_ref(), format!("{path}.transfer")),
    };
    let mut transfer = Vec::new();
    for (j, item) in list.into_iter().flatten().enumerate() {
        let item_path = format!("{list_path}[{j}]");
        if item.is_string() {
            v.error(
                &item_path,
                "a port_post's transfer list holds tagged values only",
                "write the entry as `{$port: NAME}` or an inline `{$buffer: {...}}`",
            );
            return None;
        }
        match MessageValue::from_yaml(item) {
            Ok(value) => transfer.push(Transferable::Value(value)),
            Err(e) => {
                v.error(
                    &item_path,
                    format!("bad transfer entry: {e}"),
                    "a transfer entry is a tagged value",
                );
                return None;
            }
        }
    }
    Some(PortPost {
        from,
        port: p.port.clone(),
        message,
        transfer,
        options: p.options.is_some(),
    })
}

/// `port_start: {port, from?}` and `port_close: {port, from?}`: the port
/// exists; returns the window that calls.
pub(super) fn check_port_call(
    v: &mut Validator,
    case: &Case,
    step_path: &str,
    kind: &str,
    p: &RawPortCall,
) -> Option<usize> {
    let Some(creator) = channel_of(case, &p.port) else {
        v.error(
            &format!("{step_path}.{kind}.port"),
            format!("no earlier `channel` step makes a port named `{}`", p.port),
            "add `- channel: {window: W, ports: [p1, p2]}` before this step, or name one of its ports",
        );
        return None;
    };
    match &p.from {
        Some(name) => case.window_index(name),
        None => Some(creator),
    }
}

/// The ports a step names in its message and transfer list.
fn named_ports(step: &Step) -> Vec<String> {
    let (message, transfer): (&MessageValue, &[Transferable]) = match step {
        Step::Post(p) => (&p.message, p.transfer.as_deref().unwrap_or_default()),
        Step::PortPost(p) => (&p.message, &p.transfer),
        Step::PortCall { port, .. } => return vec![port.clone()],
        _ => return Vec::new(),
    };
    let mut out = message.port_names();
    for t in transfer {
        if let Transferable::Value(v) = t {
            for name in v.port_names() {
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
    }
    out
}

/// After the steps are built: ports only in cases without race steps,
/// every `$port` names a port made earlier, and each window uses only the
/// port objects it has (the model's plan tracks who holds each port).
pub(super) fn check_ports(v: &mut Validator, case: &Case, flat: &[FlatStep]) {
    let has_ports = case.steps.iter().any(|s| matches!(s, Step::Channel { .. }));
    let mentions: Vec<(usize, Vec<String>)> = case
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (i, named_ports(s)))
        .filter(|(_, n)| !n.is_empty())
        .collect();
    if (!has_ports && mentions.is_empty()) || !v.errors.is_empty() {
        return;
    }
    if case.is_race() {
        // A `sab_write` alone makes a case a race case: say so.
        let why = case
            .steps
            .iter()
            .find(|s| {
                s.as_post().is_none()
                    && !matches!(
                        s,
                        Step::Channel { .. } | Step::PortPost(_) | Step::PortCall { .. }
                    )
            })
            .map_or(String::new(), |s| {
                format!(" (its `{}` step makes it one)", s.kind())
            });
        for (i, s) in case.steps.iter().enumerate() {
            if matches!(s, Step::Channel { .. }) {
                v.error(
                    &format!("{}.channel", flat[i].path),
                    format!("a `channel` step in a race case{why}"),
                    "NOTE: pmconf models MessagePorts only in cases whose steps are posts, channels and port posts (the port's holder must not depend on the event loop's order); move the ports to a case of their own",
                );
            }
        }
        return;
    }
    let mut bad = false;
    for (i, names) in &mentions {
        for name in names {
            let made_before = case.steps[..*i]
                .iter()
                .any(|s| matches!(s, Step::Channel { ports, .. } if ports.contains(name)));
            if !made_before {
                bad = true;
                v.error(
                    &format!("{}.{}", flat[*i].path, flat[*i].kind),
                    format!("`$port: {name}` names no port an earlier `channel` step made"),
                    "add `- channel: {window: W, ports: [p1, p2]}` before this step, or name one of its ports",
                );
            }
        }
    }
    if bad {
        return;
    }
    let plan = crate::navigation::plan_case(case);
    for problem in &plan.ports.problems {
        v.error(
            &format!("{}.{}", flat[problem.step].path, flat[problem.step].kind),
            problem.message.clone(),
            problem.fix.clone(),
        );
    }
}
