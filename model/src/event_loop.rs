//! An operational model of the event loops a case's windows run on, explored
//! exhaustively: every order in which the standards let navigations commit,
//! new documents run their first script, message tasks run and closing
//! windows close, between and after the case's own tasks.
//!
//! <https://html.spec.whatwg.org/multipage/webappapis.html#event-loop-processing-model>
//!
//! State is small (which document each window shows, which navigation is
//! in flight, each window's queue of posted message tasks, what each
//! document received), so the explorer deduplicates visited states rather
//! than reducing partial orders; the largest race case visits a few hundred.
//!
//! The transitions, and where the standard says so:
//! - **Run the case's next task** (a `same_task` group, or one step), once
//!   the previous one finished: the harness starts each only after the
//!   previous returned. A `wait: loaded` is enabled only once the window's
//!   navigation committed and its new document ran its first script.
//! - **Commit a navigation**: `navigate` fetches in parallel and commits in
//!   a later task; until then the old document stays active. A newer
//!   navigation of the same navigable cancels the ongoing one.
//!   <https://html.spec.whatwg.org/multipage/browsing-the-web.html#navigate>
//!   Committing replaces the active document; the old one and every
//!   document of its iframes stop being *fully active*.
//!   <https://html.spec.whatwg.org/multipage/document-sequences.html#fully-active>
//! - **A new document runs its first script** (pmconf's agent adds its
//!   `message` listener there): a message dispatched to the new document
//!   before that fires an event nobody listens to.
//! - **Run the first posted message task** of a window's queue. Step 8 of
//!   the window post message steps *queues a global task* given the target
//!   window, which binds the task to the window's associated Document *at
//!   queue time*; a task is runnable only while that document is fully
//!   active, so a task for a replaced document never runs, and is never
//!   retargeted to the new one.
//!   <https://html.spec.whatwg.org/multipage/webappapis.html#queue-a-global-task>
//!   Tasks of one task source on one event loop run in order, so each
//!   window's queue is FIFO.
//! - **Definitely close a popup**: `close()` sets *is closing* and queues a
//!   task to close it, so a message task queued earlier can still run.
//!   <https://html.spec.whatwg.org/multipage/nav-history-apis.html#dom-window-close>
//!
//! Removing an iframe is synchronous: the removing steps destroy the child
//! navigable in the same task, so its documents stop being fully active at
//! once. <https://html.spec.whatwg.org/multipage/document-sequences.html#destroy-a-child-navigable>
//! `history.pushState`, fragment navigations and `document.domain` keep the
//! document: nothing here changes for them.

use crate::case::{Case, Relation, Step, WindowIndex};
use crate::navigation::{DocumentIndex, Plan};
use crate::outcome::{Delivery, Outcome};
use crate::post_message::run_posted_message_task;
use std::collections::HashSet;

/// One window (navigable) in a state.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct WindowState {
    /// Created and not yet removed, closed or destroyed with its parent's
    /// document.
    exists: bool,
    /// The active document.
    document: Option<DocumentIndex>,
    /// The ongoing navigation: the document it will commit.
    ongoing_navigation: Option<DocumentIndex>,
    /// `close()` was called and the closing task has not run yet.
    is_closing: bool,
    /// Posted message tasks, in queue order: (the document bound at queue
    /// time, the post step).
    queue: Vec<(DocumentIndex, usize)>,
}

/// A state of the whole case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct State {
    /// The case's next task.
    next_task: usize,
    windows: Vec<WindowState>,
    /// Per document: it ran its first script (its listener is there).
    listening: Vec<bool>,
    /// Per document: the post steps whose message event it received.
    received: Vec<Vec<usize>>,
}

/// What the exploration found.
#[derive(Debug, Clone)]
pub struct Exploration {
    /// Every terminal outcome, each with one schedule that reaches it (the
    /// first the deterministic search found), unsorted.
    pub outcomes: Vec<(Outcome, Vec<String>)>,
    /// How many distinct states were visited.
    pub states_explored: usize,
}

/// Explores every order of the case's event loops.
pub fn explore(case: &Case, plan: &Plan) -> Exploration {
    let tasks = case.tasks();
    let initial = State {
        next_task: 0,
        windows: (0..case.windows.len())
            .map(|w| WindowState {
                exists: plan.initial_document[w].is_some(),
                document: plan.initial_document[w],
                ongoing_navigation: None,
                is_closing: false,
                queue: Vec::new(),
            })
            .collect(),
        listening: plan
            .documents
            .iter()
            .enumerate()
            .map(|(d, doc)| plan.initial_document[doc.window] == Some(d))
            .collect(),
        received: vec![Vec::new(); plan.documents.len()],
    };
    let explorer = Explorer {
        case,
        plan,
        tasks: &tasks,
    };
    let mut visited: HashSet<State> = HashSet::new();
    let mut found: Vec<(Outcome, Vec<String>)> = Vec::new();
    let mut seen_outcomes: HashSet<String> = HashSet::new();
    // Depth-first, with the schedule so far on an explicit stack.
    let mut stack: Vec<(State, Vec<String>)> = vec![(initial, Vec::new())];
    while let Some((state, schedule)) = stack.pop() {
        if !visited.insert(state.clone()) {
            continue;
        }
        let next = explorer.successors(&state);
        if next.is_empty() {
            let outcome = explorer.outcome(&state);
            if seen_outcomes.insert(outcome.canonical_key()) {
                found.push((outcome, schedule));
            }
            continue;
        }
        // Pushed in reverse so the first transition is explored first.
        for (label, s) in next.into_iter().rev() {
            if !visited.contains(&s) {
                let mut sched = schedule.clone();
                sched.push(label);
                stack.push((s, sched));
            }
        }
    }
    Exploration {
        outcomes: found,
        states_explored: visited.len(),
    }
}

struct Explorer<'a> {
    case: &'a Case,
    plan: &'a Plan,
    tasks: &'a [std::ops::Range<usize>],
}

impl Explorer<'_> {
    fn name(&self, w: WindowIndex) -> &str {
        &self.case.windows[w].name
    }

    fn label(&self, d: DocumentIndex) -> &str {
        &self.plan.documents[d].label
    }

    /// Whether document `d` is fully active: the active document of a
    /// navigable that still exists (a removed iframe's navigable, a closed
    /// popup's, and every navigable inside a replaced document are gone).
    fn fully_active(&self, s: &State, d: DocumentIndex) -> bool {
        let w = self.plan.documents[d].window;
        s.windows[w].exists && s.windows[w].document == Some(d)
    }

    /// Every transition enabled in `s`, in a fixed order.
    fn successors(&self, s: &State) -> Vec<(String, State)> {
        let mut out = Vec::new();
        // The case's next task.
        if let Some(range) = self.tasks.get(s.next_task) {
            if let Some(next) = self.run_task(s, range.clone()) {
                let steps: Vec<String> = range.clone().map(|i| i.to_string()).collect();
                out.push((format!("task: step {}", steps.join("+")), next));
            }
        }
        for (w, ws) in s.windows.iter().enumerate() {
            if !ws.exists {
                continue;
            }
            // A navigation commits.
            if let Some(d) = ws.ongoing_navigation {
                let mut next = s.clone();
                next.windows[w].ongoing_navigation = None;
                next.windows[w].document = Some(d);
                self.destroy_children(&mut next, w);
                out.push((format!("{} commits {}", self.name(w), self.label(d)), next));
            }
            // The active document runs its first script.
            if let Some(d) = ws.document {
                if !s.listening[d] {
                    let mut next = s.clone();
                    next.listening[d] = true;
                    out.push((format!("{} runs its first script", self.label(d)), next));
                }
            }
            // The popup closes.
            if ws.is_closing {
                let mut next = s.clone();
                next.windows[w].is_closing = false;
                self.destroy(&mut next, w);
                out.push((format!("{} closes", self.name(w)), next));
            }
        }
        // A posted message task runs (or, bound to a document that is no
        // longer fully active, is dropped from consideration: it never runs).
        for (w, ws) in s.windows.iter().enumerate() {
            let Some(&(d, step)) = ws.queue.first() else {
                continue;
            };
            let mut next = s.clone();
            next.windows[w].queue.remove(0);
            let label = if !self.fully_active(s, d) {
                format!(
                    "step {step}'s task for {} never runs (not fully active)",
                    self.label(d)
                )
            } else {
                let task = self.plan.queued_task(step);
                match run_posted_message_task(task, &self.plan.documents[d].origin) {
                    Err(_) => format!(
                        "step {step}'s task runs: dropped at {} (origin mismatch)",
                        self.label(d)
                    ),
                    Ok(()) if !s.listening[d] => {
                        format!(
                            "step {step}'s task runs: event at {} before its listener exists",
                            self.label(d)
                        )
                    }
                    Ok(()) => {
                        next.received[d].push(step);
                        format!(
                            "step {step}'s task runs: message event at {}",
                            self.label(d)
                        )
                    }
                }
            };
            out.push((label, next));
        }
        out
    }

    /// Runs the case's task made of steps `range`, or `None` when it cannot
    /// start yet (a `wait: loaded` whose window has not loaded).
    fn run_task(&self, s: &State, range: std::ops::Range<usize>) -> Option<State> {
        let mut next = s.clone();
        for i in range {
            match &self.case.steps[i] {
                Step::WaitLoaded { window } => {
                    let ws = &next.windows[*window];
                    let loaded = ws.ongoing_navigation.is_none()
                        && ws.document.is_some_and(|d| next.listening[d]);
                    if ws.exists && !loaded {
                        return None;
                    }
                }
                Step::Post(p) => {
                    // 8. Queue a global task given targetWindow: bound to
                    //    its associated Document now.
                    if let Some(Ok(_)) = &self.plan.posts[i] {
                        if let Some(d) = next.windows[p.to].document {
                            next.windows[p.to].queue.push((d, i));
                        }
                    }
                }
                Step::Navigate(nav) => {
                    // Navigate: a new navigation replaces the ongoing one.
                    next.windows[nav.window].ongoing_navigation = self.plan.loads[i];
                }
                Step::Reload { window } => {
                    next.windows[*window].ongoing_navigation = self.plan.loads[i];
                }
                Step::Remove { window } => self.destroy(&mut next, *window),
                Step::Close { window } => next.windows[*window].is_closing = true,
                Step::Create { window } => {
                    let (initial, first) = self.plan.created[i].expect("planned");
                    let ws = &mut next.windows[*window];
                    ws.exists = true;
                    ws.document = Some(initial);
                    ws.ongoing_navigation = first;
                    // The creator's agent adds a listener to the initial
                    // about:blank in the task that creates it.
                    next.listening[initial] = true;
                }
                Step::PushState { .. } | Step::Fragment { .. } | Step::SetDomain { .. } => {}
            }
        }
        next.next_task += 1;
        Some(next)
    }

    /// The navigable `w` goes away with every iframe below it.
    fn destroy(&self, s: &mut State, w: WindowIndex) {
        let ws = &mut s.windows[w];
        ws.exists = false;
        ws.ongoing_navigation = None;
        self.destroy_children(s, w);
    }

    /// The iframes of `w`'s previous document go with it.
    fn destroy_children(&self, s: &mut State, w: WindowIndex) {
        for c in 0..self.case.windows.len() {
            if self.case.windows[c].relation == (Relation::Iframe { parent: w })
                && s.windows[c].exists
            {
                self.destroy(s, c);
            }
        }
    }

    /// What a terminal state lets the pages observe.
    fn outcome(&self, s: &State) -> Outcome {
        let posts = self.plan.post_outcomes(self.case);
        let mut by_document = Vec::new();
        for (d, doc) in self.plan.documents.iter().enumerate() {
            let deliveries = s.received[d]
                .iter()
                .map(|&step| self.plan.delivery(self.case, step))
                .collect();
            by_document.push((doc.label.clone(), deliveries));
        }
        Outcome {
            posts,
            received: received_by_document(self.case, self.plan, by_document),
        }
    }
}

/// Orders what documents received the way every outcome lists it: each
/// window in case order under its own name (its first document, listed even
/// when it received nothing), then its other documents that received
/// something, in the order the case can create them. Labels the plan does
/// not know (an engine loaded a document the model never creates) follow
/// their window's, by label, or come last.
pub fn received_by_document(
    case: &Case,
    plan: &Plan,
    mut deliveries: Vec<(String, Vec<Delivery>)>,
) -> Vec<(String, Vec<Delivery>)> {
    let rank = |label: &str| -> (usize, usize, String) {
        let window_name = label.split('@').next().unwrap_or(label);
        let w = case.window_index(window_name).unwrap_or(usize::MAX);
        let position = if label == window_name {
            0
        } else {
            plan.documents
                .iter()
                .position(|d| d.label == label)
                .map_or(usize::MAX, |p| p + 1)
        };
        (w, position, label.to_owned())
    };
    deliveries.retain(|(label, list)| !list.is_empty() || case.window_index(label).is_some());
    // Merge duplicates (a label reported in pieces).
    let mut merged: Vec<(String, Vec<Delivery>)> = Vec::new();
    for (label, list) in deliveries {
        match merged.iter_mut().find(|(l, _)| *l == label) {
            Some((_, existing)) => existing.extend(list),
            None => merged.push((label, list)),
        }
    }
    for w in &case.windows {
        if !merged.iter().any(|(l, _)| *l == w.name) {
            merged.push((w.name.clone(), Vec::new()));
        }
    }
    merged.sort_by_cached_key(|(label, _)| rank(label));
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::parse_case;
    use crate::navigation::plan_case;
    use serde_json::json;

    const CASE: &str = r#"
description: t
windows:
  top: { url: "http://a.test/" }
  kid: { parent: top, url: "http://b.test/" }
steps:
  - post: { from: top, to: kid, message: 1, target_origin: "*" }
  - navigate: { window: kid, by: top, url: "http://c.test/" }
  - wait: { loaded: kid }
  - reload: { window: kid }
"#;

    fn delivery(m: i64) -> Delivery {
        Delivery {
            message: json!(m),
            origin: "http://a.test".into(),
            source: Some("top".into()),
        }
    }

    #[test]
    fn documents_are_listed_per_window_in_creation_order() {
        let case = parse_case("t.yaml", CASE).unwrap();
        let plan = plan_case(&case);
        let labels: Vec<&str> = plan.documents.iter().map(|d| d.label.as_str()).collect();
        assert_eq!(labels, ["top", "kid", "kid@1", "kid@3"]);
        // Given out of order, with an empty later document and one the
        // plan does not know.
        let got = received_by_document(
            &case,
            &plan,
            vec![
                ("kid@3".into(), vec![delivery(3)]),
                ("kid@2".into(), vec![delivery(2)]),
                ("kid@1".into(), vec![]),
                ("kid".into(), vec![delivery(1)]),
            ],
        );
        let order: Vec<&str> = got.iter().map(|(l, _)| l.as_str()).collect();
        // kid@2 is no document the plan knows: after the known ones, even
        // though its label sorts first.
        assert_eq!(order, ["top", "kid", "kid@3", "kid@2"]);
    }

    #[test]
    fn a_task_bound_to_a_replaced_document_never_runs() {
        let case = parse_case("t.yaml", CASE).unwrap();
        let plan = plan_case(&case);
        let found = explore(&case, &plan);
        // Step 0's message reaches kid's first document only if it runs
        // before the navigation commits; never kid@1 or kid@3.
        let mut kid_got: Vec<bool> = found
            .outcomes
            .iter()
            .map(|(o, _)| {
                for (label, list) in &o.received {
                    if label != "kid" {
                        assert!(list.is_empty(), "{label} received {list:?}");
                    }
                }
                o.received
                    .iter()
                    .any(|(l, list)| l == "kid" && !list.is_empty())
            })
            .collect();
        kid_got.sort();
        assert_eq!(kid_got, [false, true]);
        assert!(found.states_explored > 2);
    }
}
