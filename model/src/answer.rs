//! Runs a case through the model and answers with every outcome the
//! standards allow.
//!
//! A case whose steps are all posts has exactly one: each post's
//! synchronous part runs in step order; each queued task then runs against
//! the target's document, which no step can replace. Tasks keep the order
//! they were queued in: the harness starts each step only after the
//! previous one returned, so every `postMessage` call happens-before the
//! next, and the spec's "queue a global task" appends to the target's
//! queue at call time. Messages to different windows may interleave, but
//! no page can observe that.
//!
//! A race case (navigations, removals, closes, creations, writes into a
//! posted SharedArrayBuffer...) is answered
//! by exploring every order the event loops allow ([`crate::event_loop`]).

use crate::case::Case;
use crate::contested::ContestedOutcome;
use crate::event_loop::{bfcache_senders, explore, received_by_document};
use crate::navigation::{plan_case, Plan};
use crate::outcome::{normalize_outcome_set, Delivery, Outcome};
use crate::post_message::{run_posted_message_task, Dropped};
use serde::Serialize;

/// The model's answer to a case.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// Every outcome the standards allow, sorted.
    pub allowed: Vec<Outcome>,
    /// Why: one line per decision the model made, for people reading a
    /// snapshot or a divergence.
    pub trace: Vec<String>,
    /// For a race case, one schedule per allowed outcome (same order) that
    /// produces it: the transitions the explorer took.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub schedules: Vec<Vec<String>>,
    /// Outcomes an open issue of the HTML Standard makes reachable, besides
    /// the allowed ones (sorted; none is also allowed), each naming its
    /// issue and the reason in one line ([`crate::contested`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contested: Vec<ContestedOutcome>,
    /// How many distinct event-loop states the explorer visited (1 for a
    /// case without races). Not part of snapshots: a better search may
    /// change it without changing the answer.
    #[serde(skip)]
    pub states_explored: usize,
    /// Whether agent clusters keyed by origin (whatwg/html#7617) allow a
    /// different set of outcomes than the standard's site keying (those
    /// only origin keying allows are contested). Not part of snapshots.
    #[serde(skip)]
    pub keyings_differ: bool,
}

/// The model's answer for `case`.
pub fn answer_case(case: &Case) -> Answer {
    let plan = plan_case(case);
    if case.is_race() {
        answer_race(case, plan)
    } else {
        answer_straight_line(case, plan)
    }
}

/// Explores every schedule (usable for any case; race cases use it).
pub fn answer_by_exploration(case: &Case) -> Answer {
    answer_race(case, plan_case(case))
}

fn answer_race(case: &Case, plan: Plan) -> Answer {
    let exploration = explore(case, &plan);
    let mut with_schedules = exploration.outcomes;
    with_schedules.sort_by_cached_key(|(o, _)| o.canonical_key());
    let mut trace = plan.trace.clone();
    // Which documents share an event loop, under each keying.
    let keyings = std::iter::once(&exploration.agents).chain(&exploration.origin_keyed_agents);
    for agents in keyings {
        if exploration.origin_keyed_agents.is_some() {
            trace.push(format!("agent clusters {}:", agents.keying));
        }
        for (a, key) in agents.keys.iter().enumerate() {
            let documents: Vec<&str> = plan
                .documents
                .iter()
                .enumerate()
                .filter(|(d, _)| agents.agent(*d) == a)
                .map(|(_, doc)| doc.label.as_str())
                .collect();
            trace.push(format!(
                "agent {a}, {key}: {} (one event loop)",
                documents.join(", ")
            ));
        }
    }
    for d in bfcache_senders(case, &plan) {
        trace.push(format!(
            "{} may go into the back/forward cache when its popup navigates: it keeps its browsing context, and its messages may name their sender after it is replaced (engine choice: destroyed or cached)",
            plan.documents[d].label
        ));
    }
    trace.push(format!(
        "explored {} event-loop states: {} allowed outcome{}",
        exploration.states_explored,
        with_schedules.len(),
        if with_schedules.len() == 1 { "" } else { "s" }
    ));
    let mut contested: Vec<ContestedOutcome> = exploration
        .contested
        .into_iter()
        .map(|(o, bits, schedule)| ContestedOutcome::new(o, bits, schedule))
        .collect();
    contested.sort_by_cached_key(|c| c.outcome.canonical_key());
    if !contested.is_empty() {
        trace.push(format!(
            "{} more outcome{} contested (reachable only through an open issue of the HTML Standard)",
            contested.len(),
            if contested.len() == 1 { " is" } else { "s are" }
        ));
    }
    let (allowed, schedules) = with_schedules.into_iter().unzip();
    Answer {
        allowed,
        trace,
        schedules,
        contested,
        states_explored: exploration.states_explored,
        keyings_differ: exploration.keyings_differ,
    }
}

/// The steps of a case without race steps whose message is delivered
/// (the posted message task fires a message event at the target), in
/// step order.
pub fn delivered_posts(case: &Case) -> Vec<usize> {
    let plan = plan_case(case);
    case.posts()
        .filter(|(i, p)| match &plan.posts[*i] {
            Some(Ok(task)) => {
                let document = plan.initial_document[p.to].expect("every window exists up front");
                run_posted_message_task(task, &plan.documents[document].origin).is_ok()
            }
            _ => false,
        })
        .map(|(i, _)| i)
        .collect()
}

fn answer_straight_line(case: &Case, plan: Plan) -> Answer {
    let mut trace = plan.trace.clone();
    let posts = plan.post_outcomes(case);
    let mut by_document: Vec<(String, Vec<Delivery>)> = plan
        .documents
        .iter()
        .map(|d| (d.label.clone(), Vec::new()))
        .collect();
    for (i, p) in case.posts() {
        let Some(Ok(task)) = &plan.posts[i] else {
            continue;
        };
        let document = plan.initial_document[p.to].expect("every window exists up front");
        let to = &case.windows[p.to].name;
        match run_posted_message_task(task, &plan.documents[document].origin) {
            Ok(()) => {
                trace.push(format!(
                    "step {i}: task runs: message event at {to} with origin {}",
                    task.origin
                ));
                by_document[document].1.push(plan.delivery(case, i, false));
            }
            Err(Dropped::OriginMismatch { target_origin, document_origin }) => trace.push(format!(
                "step {i}: task runs: dropped (step 8.1): targetOrigin {target_origin} is not same origin with {to}'s document ({document_origin})"
            )),
        }
    }
    // Each port's messages, as `port NAME` ([`crate::message_port`]).
    by_document.extend(plan.ports.received.iter().cloned());
    Answer {
        allowed: normalize_outcome_set(vec![Outcome {
            posts,
            received: received_by_document(case, &plan, by_document),
        }]),
        trace,
        schedules: Vec::new(),
        contested: Vec::new(),
        states_explored: 1,
        keyings_differ: false,
    }
}
