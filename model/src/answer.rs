//! Runs a case through the model and answers with every outcome the
//! standards allow.
//!
//! For cases without navigation (everything this version of the case format
//! can express) there is exactly one: each post's synchronous part runs in
//! step order; each queued task then runs against the target's document,
//! which no step can replace. Tasks keep the order they were queued in: the
//! harness starts each step only after the previous one returned, so every
//! `postMessage` call happens-before the next, and the spec's "queue a
//! global task" appends to the target's queue at call time.

use crate::case::{Case, Relation, Step, WindowContent};
use crate::document::{determine_the_origin, DocumentUrl};
use crate::message::RealmBuffers;
use crate::origin::{OpaqueOriginAllocator, Origin};
use crate::outcome::{normalize_outcome_set, observed_data, Delivery, Outcome, PostOutcome};
use crate::post_message::{
    run_posted_message_task, window_post_message_steps, PostMessageCall, PostedMessageTask,
};
use serde::Serialize;

/// The model's answer to a case.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// Every outcome the standards allow, sorted.
    pub allowed: Vec<Outcome>,
    /// Why: one line per decision the model made, for people reading a
    /// snapshot or a divergence.
    pub trace: Vec<String>,
}

/// The model's answer for `case`.
pub fn answer_case(case: &Case) -> Answer {
    let mut alloc = OpaqueOriginAllocator::new();
    let mut trace = Vec::new();

    // Create every window's document, in creation order.
    let mut origins: Vec<Origin> = Vec::new();
    for w in &case.windows {
        let url = match &w.content {
            WindowContent::Url(u) => DocumentUrl::Url(u.clone()),
            WindowContent::Srcdoc(_) => DocumentUrl::Srcdoc,
        };
        let source = w.relation.creator().map(|c| origins[c].clone());
        let origin = determine_the_origin(&url, &w.sandbox_flags, source.as_ref(), &mut alloc);
        let how = match w.relation {
            Relation::Top => "top window".to_owned(),
            Relation::Iframe { parent } => format!("iframe in {}", case.windows[parent].name),
            Relation::Popup { opener } => format!("popup opened by {}", case.windows[opener].name),
        };
        let sandboxed = if w.sandbox_flags.forces_opaque_origin() {
            ", sandboxed"
        } else {
            ""
        };
        trace.push(format!(
            "{}: {how}{sandboxed}, document origin {origin}",
            w.name
        ));
        origins.push(origin);
    }

    let mut realms: Vec<RealmBuffers> = vec![RealmBuffers::default(); case.windows.len()];
    let mut posts = Vec::new();
    let mut queue: Vec<(usize, usize, usize, PostedMessageTask)> = Vec::new();
    for (i, step) in case.steps.iter().enumerate() {
        let Step::Post(p) = step;
        let transfer = p.transfer.clone().unwrap_or_default();
        let call = PostMessageCall {
            incumbent_origin: &origins[p.from],
            message: &p.message,
            target_origin: p.target_origin.as_deref(),
            transfer: &transfer,
        };
        let from = &case.windows[p.from].name;
        let to = &case.windows[p.to].name;
        match window_post_message_steps(&call, &mut realms[p.from], &mut alloc) {
            Ok(task) => {
                trace.push(format!(
                    "step {i}: {from} -> {to}: returned; task queued (targetOrigin {})",
                    describe_target(&task)
                ));
                posts.push(PostOutcome::returned(i));
                queue.push((i, p.from, p.to, task));
            }
            Err(e) => {
                trace.push(format!(
                    "step {i}: {from} -> {to}: throws {} {}",
                    e.name(),
                    detail(&e)
                ));
                posts.push(PostOutcome::threw(i, e.name()));
            }
        }
    }

    let mut received: Vec<(String, Vec<Delivery>)> = case
        .windows
        .iter()
        .map(|w| (w.name.clone(), Vec::new()))
        .collect();
    for (i, from, to, task) in queue {
        match run_posted_message_task(&task, &origins[to]) {
            Ok(()) => {
                trace.push(format!("step {i}: task runs: message event at {} with origin {}", case.windows[to].name, task.origin));
                received[to].1.push(Delivery {
                    message: observed_data(&task.message),
                    origin: task.origin.clone(),
                    source: Some(case.windows[from].name.clone()),
                });
            }
            Err(crate::post_message::Dropped::OriginMismatch { target_origin, document_origin }) => trace.push(format!(
                "step {i}: task runs: dropped (step 8.1): targetOrigin {target_origin} is not same origin with {}'s document ({document_origin})",
                case.windows[to].name
            )),
        }
    }

    Answer {
        allowed: normalize_outcome_set(vec![Outcome { posts, received }]),
        trace,
    }
}

fn describe_target(task: &PostedMessageTask) -> String {
    match &task.target_origin {
        crate::target_origin::TargetOrigin::Wildcard => "*".into(),
        crate::target_origin::TargetOrigin::Origin(o) => o.to_string(),
    }
}

fn detail(e: &crate::post_message::PostMessageError) -> String {
    use crate::post_message::PostMessageError::*;
    match e {
        TypeError(why) | DataCloneError(why) => format!("({why})"),
        SyntaxError => "(targetOrigin does not parse as a URL)".into(),
    }
}
