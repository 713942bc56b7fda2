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
//!
//! ## One event loop per agent
//!
//! Every document's Window is in a similar-origin window agent keyed by
//! its site ([`crate::agent`]), and "each similar-origin window agent has
//! its own event loop" (<https://html.spec.whatwg.org/multipage/webappapis.html#event-loop>).
//! "An event loop has one or more task queues", and its processing model
//! runs one task at a time to completion
//! (<https://html.spec.whatwg.org/multipage/webappapis.html#event-loop-processing-model>),
//! so a `same_task` group blocks only its own agent: between two of its
//! steps, every transition that touches no document of the running agent
//! (a commit, a first script, a message task, a closing, in another
//! agent) may happen. The group is taken by one window's script, so the
//! running agent is that window's document's agent. Transitions of the
//! running agent never interleave, so for same-agent windows a group stays
//! atomic; so does `create` followed by `post`, because the new window's
//! initial `about:blank` is in its creator's agent and its first commit
//! touches it.
//! NOTE: the harness drives each task from outside the page, so across
//! tasks every agent's order is explored as before; within a task only
//! other agents move.
//!
//! ## `event.source` of a sender that is gone
//!
//! Step 8.3 of the window post message steps, in the queued task: "Let
//! source be the WindowProxy object corresponding to incumbentSettings's
//! global object (a Window object)." The task runs later; if the sender's
//! document is no longer fully active by then (navigated away, reloaded,
//! removed, closed), its Window's browsing context may be gone and
//! engines answer `null`. Both are allowed then: the sender's name, or
//! `null`. NOTE: the spec's text has no null branch; this follows the
//! issue that reported it (the Window of a destroyed document has a null
//! browsing context, <https://html.spec.whatwg.org/multipage/nav-history-apis.html#window-bc>).
//!
//! ## Contested transitions
//!
//! Two transitions follow open issues of the standard rather than its text
//! ([`crate::contested`]); outcomes reachable only through them are
//! *contested*, not allowed. Both happen when a navigation commits, and
//! move queued message tasks from the old document to the new one:
//! - whatwg/html#3267: the first load of a created window whose origin is
//!   the initial `about:blank`'s reuses its Window; tasks queued for the
//!   `about:blank` may run in the loaded document.
//! - whatwg/html#3691: a message posted while the target's navigation (a
//!   `navigate` or `reload` step) was under way may land in the document
//!   that navigation commits (target Window resolved late).
//!
//! A message posted before a navigation starts is never moved.
//! NOTE: a commit moves every eligible task of the window or none.

use crate::case::{Case, Relation, Step, WindowIndex};
use crate::contested::SpecIssue;
use crate::navigation::{AgentIndex, DocumentIndex, Plan};
use crate::outcome::{Delivery, Outcome};
use crate::post_message::run_posted_message_task;
use std::collections::{BTreeSet, HashMap, HashSet};

/// A posted message task in a window's queue.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct QueuedTask {
    /// The document bound at queue time ("queue a global task").
    document: DocumentIndex,
    /// The post step.
    step: usize,
    /// Where a contested commit may move it, and the issue that says so.
    moves_to: Option<(DocumentIndex, SpecIssue)>,
}

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
    /// Posted message tasks, in queue order.
    queue: Vec<QueuedTask>,
}

/// A delivered message: the post step, and whether `event.source` was
/// null.
type Received = (usize, bool);

/// A state of the whole case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct State {
    /// The case's next task.
    next_task: usize,
    /// How many steps of task `next_task` already ran (0: not started).
    steps_done: usize,
    /// While a task is part-way: the agent running it.
    running: Option<AgentIndex>,
    windows: Vec<WindowState>,
    /// Per document: it ran its first script (its listener is there).
    listening: Vec<bool>,
    /// Per document: the messages it received.
    received: Vec<Vec<Received>>,
    /// The contested transitions taken so far ([`SpecIssue::bit`]s).
    contested: u8,
}

/// What the exploration found.
#[derive(Debug, Clone)]
pub struct Exploration {
    /// Every terminal outcome reachable through the standard's own
    /// transitions, each with one schedule that reaches it (the first the
    /// deterministic search found), unsorted.
    pub outcomes: Vec<(Outcome, Vec<String>)>,
    /// Outcomes reachable only through contested transitions: each with
    /// the issues ([`SpecIssue::bit`]s) of the first schedule found, and
    /// that schedule.
    pub contested: Vec<(Outcome, u8, Vec<String>)>,
    /// How many distinct states were visited.
    pub states_explored: usize,
    /// Every (post step, document) pair such that, in some schedule the
    /// standard's own transitions reach, step 8 of the window post message
    /// steps bound the step's task to that document ("queue a global task"
    /// given the target window binds it to the window's associated
    /// Document at queue time). Contested moves are not bindings.
    pub bindings: BTreeSet<(usize, DocumentIndex)>,
}

/// Explores every order of the case's event loops.
pub fn explore(case: &Case, plan: &Plan) -> Exploration {
    let tasks = case.tasks();
    let initial = State {
        next_task: 0,
        steps_done: 0,
        running: None,
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
        contested: 0,
    };
    let explorer = Explorer {
        case,
        plan,
        tasks: &tasks,
    };
    let mut visited: HashSet<State> = HashSet::new();
    // Outcome key -> (outcome, fewest contested bits seen, a schedule).
    let mut found: HashMap<String, (Outcome, u8, Vec<String>)> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    // Depth-first, with the schedule so far on an explicit stack.
    let mut stack: Vec<(State, Vec<String>)> = vec![(initial, Vec::new())];
    let mut bindings = BTreeSet::new();
    while let Some((state, schedule)) = stack.pop() {
        if !visited.insert(state.clone()) {
            continue;
        }
        if state.contested == 0 {
            for ws in &state.windows {
                bindings.extend(ws.queue.iter().map(|t| (t.step, t.document)));
            }
        }
        let next = explorer.successors(&state);
        if next.is_empty() {
            let outcome = explorer.outcome(&state);
            let key = outcome.canonical_key();
            match found.get_mut(&key) {
                Some(entry) => {
                    if entry.1 != 0 && state.contested == 0 {
                        *entry = (outcome, 0, schedule);
                    }
                }
                None => {
                    order.push(key.clone());
                    found.insert(key, (outcome, state.contested, schedule));
                }
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
    let mut outcomes = Vec::new();
    let mut contested = Vec::new();
    for key in order {
        let (outcome, bits, schedule) = found.remove(&key).expect("recorded");
        if bits == 0 {
            outcomes.push((outcome, schedule));
        } else {
            contested.push((outcome, bits, schedule));
        }
    }
    Exploration {
        outcomes,
        contested,
        states_explored: visited.len(),
        bindings,
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

    /// Whether a transition touching `documents` must wait: a task of the
    /// running agent is part-way, and one of them is in that agent.
    fn blocked(&self, s: &State, documents: &[DocumentIndex]) -> bool {
        s.running
            .is_some_and(|a| documents.iter().any(|&d| self.plan.agent_of(d) == a))
    }

    /// The active documents of `w` and every iframe below it.
    fn documents_below(&self, s: &State, w: WindowIndex, out: &mut Vec<DocumentIndex>) {
        if !s.windows[w].exists {
            return;
        }
        out.extend(s.windows[w].document);
        for c in 0..self.case.windows.len() {
            if self.case.windows[c].relation == (Relation::Iframe { parent: w }) {
                self.documents_below(s, c, out);
            }
        }
    }

    /// Every transition enabled in `s`, in a fixed order.
    fn successors(&self, s: &State) -> Vec<(String, State)> {
        let mut out = Vec::new();
        // The case's next task, or the next step of the one under way.
        if let Some(range) = self.tasks.get(s.next_task) {
            let i = range.start + s.steps_done;
            if let Some(next) = self.run_step(s, range.clone()) {
                let label = if range.len() == 1 {
                    format!("task: step {i}")
                } else {
                    let steps: Vec<String> = range.clone().map(|i| i.to_string()).collect();
                    format!("task {}: step {i}", steps.join("+"))
                };
                out.push((label, next));
            }
        }
        for (w, ws) in s.windows.iter().enumerate() {
            if !ws.exists {
                continue;
            }
            // A navigation commits: it unloads the old document (and its
            // iframes' documents) and makes the new one active.
            if let Some(d) = ws.ongoing_navigation {
                let mut touched = vec![d];
                self.documents_below(s, w, &mut touched);
                if !self.blocked(s, &touched) {
                    out.extend(self.commit(s, w, d));
                }
            }
            // The active document runs its first script.
            if let Some(d) = ws.document {
                if !s.listening[d] && !self.blocked(s, &[d]) {
                    let mut next = s.clone();
                    next.listening[d] = true;
                    out.push((format!("{} runs its first script", self.label(d)), next));
                }
            }
            // The popup closes.
            if ws.is_closing {
                let mut touched = Vec::new();
                self.documents_below(s, w, &mut touched);
                if !self.blocked(s, &touched) {
                    let mut next = s.clone();
                    next.windows[w].is_closing = false;
                    self.destroy(&mut next, w);
                    out.push((format!("{} closes", self.name(w)), next));
                }
            }
        }
        // A posted message task runs (or, bound to a document that is no
        // longer fully active, is dropped from consideration: it never runs).
        for (w, ws) in s.windows.iter().enumerate() {
            let Some(task) = ws.queue.first() else {
                continue;
            };
            let (d, step) = (task.document, task.step);
            let mut next = s.clone();
            next.windows[w].queue.remove(0);
            if !self.fully_active(s, d) {
                out.push((
                    format!(
                        "step {step}'s task for {} never runs (not fully active)",
                        self.label(d)
                    ),
                    next,
                ));
                continue;
            }
            if self.blocked(s, &[d]) {
                continue;
            }
            let task = self.plan.queued_task(step);
            match run_posted_message_task(task, &self.plan.documents[d].origin) {
                Err(_) => out.push((
                    format!(
                        "step {step}'s task runs: dropped at {} (origin mismatch)",
                        self.label(d)
                    ),
                    next,
                )),
                Ok(()) if !s.listening[d] => out.push((
                    format!(
                        "step {step}'s task runs: event at {} before its listener exists",
                        self.label(d)
                    ),
                    next,
                )),
                Ok(()) => {
                    let sender = self.plan.senders[step].expect("a post's sender");
                    let mut with_source = next.clone();
                    with_source.received[d].push((step, false));
                    out.push((
                        format!(
                            "step {step}'s task runs: message event at {}",
                            self.label(d)
                        ),
                        with_source,
                    ));
                    // 8.3 Let source be the WindowProxy object corresponding
                    //     to incumbentSettings's global object: gone with
                    //     the sender's document, it may be null.
                    if !self.fully_active(s, sender) {
                        next.received[d].push((step, true));
                        out.push((
                            format!(
                                "step {step}'s task runs: message event at {}, event.source null ({} is no longer fully active)",
                                self.label(d),
                                self.label(sender)
                            ),
                            next,
                        ));
                    }
                }
            }
        }
        out
    }

    /// Window `w`'s navigation to `d` commits; with a contested variant
    /// when queued tasks may move to `d` (whatwg/html#3267, #3691).
    fn commit(&self, s: &State, w: WindowIndex, d: DocumentIndex) -> Vec<(String, State)> {
        let old = s.windows[w].document;
        let mut next = s.clone();
        next.windows[w].ongoing_navigation = None;
        next.windows[w].document = Some(d);
        self.destroy_children(&mut next, w);
        let mut out = Vec::new();
        // whatwg/html#3267. "Create and initialize a Document object":
        // "If browsingContext is still on its initial about:blank Document,
        // [...] and browsingContext's active document's origin is same
        // origin-domain with navigationParams's origin, then do nothing"
        // (the new Document gets the about:blank's Window).
        // <https://html.spec.whatwg.org/multipage/document-lifecycle.html#initialise-the-document-object>
        let reuse = old.filter(|&o| {
            self.plan.documents[o].initial_about_blank
                && crate::origin::same_origin(
                    &self.plan.documents[o].origin,
                    &self.plan.documents[d].origin,
                )
        });
        let mut moved = next.clone();
        let mut issues = 0u8;
        for task in &mut moved.windows[w].queue {
            if Some(task.document) == reuse {
                task.document = d;
                issues |= SpecIssue::WindowReuse.bit();
            } else if let Some((to, issue)) = task.moves_to {
                if to == d && Some(task.document) == old {
                    task.document = d;
                    issues |= issue.bit();
                }
            }
        }
        out.push((format!("{} commits {}", self.name(w), self.label(d)), next));
        if issues != 0 {
            moved.contested |= issues;
            let links: Vec<&str> = SpecIssue::in_bits(issues).map(|i| i.url()).collect();
            out.push((
                format!(
                    "{} commits {}; its queued message tasks move to it (contested: {})",
                    self.name(w),
                    self.label(d),
                    links.join(", ")
                ),
                moved,
            ));
        }
        out
    }

    /// Runs the next step of the case's task made of steps `range`, or
    /// `None` when it cannot start yet (a `wait: loaded` whose window has
    /// not loaded).
    fn run_step(&self, s: &State, range: std::ops::Range<usize>) -> Option<State> {
        let mut next = s.clone();
        let i = range.start + s.steps_done;
        if s.steps_done == 0 && range.len() > 1 {
            // The group runs in its script's agent.
            let actor = self.case.steps[i]
                .actor(self.case)
                .expect("a step with a script");
            let d = s.windows[actor]
                .document
                .expect("validation: the actor exists");
            next.running = Some(self.plan.agent_of(d));
        }
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
                // 8. Queue a global task given targetWindow: bound to its
                //    associated Document now.
                if let Some(Ok(_)) = &self.plan.posts[i] {
                    let target = &next.windows[p.to];
                    if let Some(d) = target.document {
                        // whatwg/html#3691: with a navigation under way,
                        // the new document may get it (contested).
                        let moves_to = target
                            .ongoing_navigation
                            .filter(|&n| self.plan.loads.contains(&Some(n)))
                            .map(|n| (n, SpecIssue::TargetWindowAtCallTime));
                        next.windows[p.to].queue.push(QueuedTask {
                            document: d,
                            step: i,
                            moves_to,
                        });
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
            // Validation keeps ports out of race cases ([`crate::message_port`]).
            Step::Channel { .. } | Step::PortPost(_) | Step::PortCall { .. } => {}
        }
        next.steps_done += 1;
        if next.steps_done == range.len() {
            next.next_task += 1;
            next.steps_done = 0;
            next.running = None;
        }
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
                .map(|&(step, source_null)| self.plan.delivery(self.case, step, source_null))
                .collect();
            by_document.push((doc.label.clone(), deliveries));
        }
        // Port messages: only in cases without race steps, where the plan
        // knows them up front ([`crate::message_port`]).
        by_document.extend(self.plan.ports.received.iter().cloned());
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
            ports: Vec::new(),
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
