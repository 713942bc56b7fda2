//! An operational model of the event loops a case's windows run on, explored
//! exhaustively: every order in which the standards let navigations commit,
//! new documents run their first script, message tasks run, closing
//! windows close and replaced documents are destroyed, between and after
//! the case's own tasks.
//!
//! <https://html.spec.whatwg.org/multipage/webappapis.html#event-loop-processing-model>
//!
//! State is small (which document each window shows, which navigation is
//! in flight, the queued posted message tasks, which documents are
//! destroyed, what each document received), so the explorer deduplicates
//! visited states rather than reducing partial orders; the largest race
//! case visits a few hundred.
//!
//! ## One event loop per agent, one task queue per task source
//!
//! Every document's Window is in a similar-origin window agent
//! ([`crate::agent`]), and "each similar-origin window agent has its own
//! event loop". "An event loop has one or more task queues", and "Per its
//! source field, each task is defined as coming from a specific task
//! source. For each event loop, every task source must be associated with
//! a specific task queue."
//! (<https://html.spec.whatwg.org/multipage/webappapis.html#task-source>)
//! So every posted message task an event loop holds is in one queue,
//! whatever its target window: the explorer keeps every queued task in one
//! list in queue order, tagged with its event loop, and an event loop's
//! queue is its part of that list. The processing model takes "the first
//! runnable task in taskQueue" (step 2), and "A task is runnable if its
//! document is either null or fully active": a task whose document is no
//! longer fully active is passed over (and, as no case ever makes such a
//! document fully active again, dropped at once), never retargeted.
//! <https://html.spec.whatwg.org/multipage/webappapis.html#concept-task-runnable>
//!
//! Its processing model runs one task at a time to completion, so a
//! `same_task` group blocks only its own agent: between two of its steps,
//! every transition that runs no task of the running agent may happen. The
//! group is taken by one window's script, so the running agent is that
//! window's document's agent. Transitions of the running agent never
//! interleave, so for same-agent windows a group stays atomic.
//! NOTE: the harness drives each task from outside the page, so across
//! tasks every agent's order is explored; within a task only other agents
//! move.
//!
//! ## The transitions, and where the standard says so
//!
//! - **Run the case's next task** (a `same_task` group, or one step), once
//!   the previous one finished: the harness starts each only after the
//!   previous returned. A `wait: loaded` is enabled only once the window's
//!   navigation committed and its new document ran its first script.
//!   Step 8 of the window post message steps *queues a global task* given
//!   the target window: "Let event loop be global's relevant agent's event
//!   loop. Let document be global's associated Document, if global is a
//!   Window; otherwise null. Queue a task given source, event loop,
//!   document, and steps." The task is bound to the document, and queued
//!   on the event loop, the target has *at call time*.
//!   <https://html.spec.whatwg.org/multipage/webappapis.html#queue-a-global-task>
//! - **Commit a navigation**: `navigate` fetches in parallel; *apply the
//!   history step* then queues "a global task on the navigation and
//!   traversal task source given navigable's active window", in which the
//!   old document is unloaded and the new one activated ("activate history
//!   entry targetEntry for navigable"). So the commit is a task of the
//!   navigated window's *old* document's event loop: it waits only when
//!   that agent is running a task, wherever the new document lives. A
//!   newer navigation of the same navigable cancels the ongoing one.
//!   <https://html.spec.whatwg.org/multipage/browsing-the-web.html#apply-the-history-step>
//!   Committing replaces the active document; the old one and every
//!   document of its iframes stop being *fully active* at once.
//!   <https://html.spec.whatwg.org/multipage/document-sequences.html#fully-active>
//! - **A new document runs its first script** (pmconf's agent adds its
//!   `message` listener there): a message dispatched to the new document
//!   before that fires an event nobody listens to.
//! - **Run the first runnable posted message task** of an event loop's
//!   queue.
//! - **Definitely close a popup**: `close()` sets *is closing* and queues a
//!   task to close it, so a message task queued earlier can still run.
//!   <https://html.spec.whatwg.org/multipage/nav-history-apis.html#dom-window-close>
//! - **Destroy a document** that is no longer fully active: "To destroy a
//!   Document document: 1. Assert: this is running as part of a task
//!   queued on document's relevant agent's event loop. [...] 8. Set
//!   document's browsing context to null." Unloading ends in it ("20. If
//!   oldDocument's salvageable state is false, then destroy oldDocument"),
//!   and so does removing an iframe ("destroy a document and its
//!   descendants" queues it). It is a task on the document's own event
//!   loop, in no fixed order with the message tasks of other task sources
//!   or agents, so the explorer lets it happen at any point after the
//!   document stopped being fully active, or never (below).
//!   <https://html.spec.whatwg.org/multipage/document-lifecycle.html#destroy-a-document>
//!
//! Removing an iframe is synchronous: the removing steps destroy the child
//! navigable in the same task, so its documents stop being fully active at
//! once. <https://html.spec.whatwg.org/multipage/document-sequences.html#destroy-a-child-navigable>
//! `history.pushState`, fragment navigations and `document.domain` keep the
//! document: nothing here changes for them (`document.domain` only decides
//! whether an initial `about:blank`'s Window is reused, below).
//!
//! ## `event.source` of a sender that is gone
//!
//! Step 8.3 of the window post message steps, in the queued task: "Let
//! source be the WindowProxy object corresponding to incumbentSettings's
//! global object (a Window object)." "A Window's browsing context is its
//! associated Document's browsing context. It is either null or a browsing
//! context." (<https://html.spec.whatwg.org/multipage/nav-history-apis.html#window-bc>)
//! Once the sender's document is destroyed its browsing context is null,
//! there is no WindowProxy, and engines answer `null`. Until then the
//! WindowProxy is the sender's, even after its document stopped being
//! fully active. So a message event names the sender until the sender's
//! document is destroyed, and has a null `event.source` from then on, for
//! every message after it: one sender's `null`s follow its names, across
//! all targets, in the order the tasks run.
//! NOTE: the spec's text has no null branch (the WindowProxy of a null
//! browsing context is left undefined); engines give `null`. This follows
//! the issue that reported it, pmconf's issue 9 ("Race oracle v2", item 3:
//! "`event.source` can be null. Step 8.3 takes the WindowProxy of the
//! incumbent's global *when the task runs*; a document that has been
//! destroyed [...] has a null browsing context"; `issues show 9`), and what
//! pages see in the wild: "When the iframe is removed, the source of the
//! event message is null" (Chrome, <https://github.com/auth0/auth0-spa-js/pull/410>),
//! "This can happen if the source was removed before our message event
//! handler was called" (<https://github.com/hypothesis/client/pull/5842>).
//!
//! **Destroyed or cached.** Whether an unloaded document is destroyed is
//! the user agent's choice: a document it keeps for the back/forward cache
//! stays *salvageable*, keeps its browsing context, and a message it sent
//! still names it. Only a top-level traversable's documents (a popup's, and
//! its iframes') can go into the cache, and only when a `navigate` (not a
//! `reload`, a removal or a `close`) replaces them: pmconf's race cases
//! reach it when a popup posts and then navigates
//! ([`bfcache_senders`] names the documents, the answer's trace says so).
//! The explorer allows both for every unloaded sender: "cached" is a
//! destruction that never comes, "destroyed" one that comes at any point.
//!
//! ## Contested transitions
//!
//! Some transitions follow open issues of the standard rather than its
//! text ([`crate::contested`]); outcomes reachable only through them are
//! *contested*, not allowed. Two happen when a navigation commits, and
//! move queued message tasks from the old document to the new one:
//! - whatwg/html#3267: the first load of a created window whose origin is
//!   *same origin-domain* with the initial `about:blank`'s reuses its
//!   Window; tasks queued for the `about:blank` may run in the loaded
//!   document.
//! - whatwg/html#3691: a message still queued when its target's navigation
//!   (any `navigate`, `reload` or first load) commits may land in the
//!   document that navigation commits (target Window resolved when the
//!   task runs, as Gecko does). The issue is about the cross-process access
//!   fixing the Window at call time needs, so it applies when the target
//!   was in another agent than the sender, or had a navigation under way
//!   (its next Window possibly in another agent); a message posted before
//!   a navigation of a window in the sender's own agent stays never moved.
//!
//! The third is the keying of agent clusters: whatwg/html#7617 (origin
//! keying by default). The explorer runs once per keying ([`explore`]);
//! an outcome only origin keying allows is contested.
//!
//! NOTE: a commit moves every movable task of the window or none.

use crate::agent::{agent_clusters, AgentClusters, AgentIndex, Keying};
use crate::case::{Case, Relation, Step, WindowContent, WindowIndex};
use crate::contested::SpecIssue;
use crate::navigation::{DocumentIndex, Plan};
use crate::outcome::{Delivery, Outcome};
use crate::post_message::run_posted_message_task;
use crate::shared_memory::{writes_run, WritesSeen};
use std::collections::{BTreeSet, HashMap, HashSet};

/// A posted message task in an event loop's queue.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct QueuedTask {
    /// The document bound at queue time ("queue a global task"), or the
    /// one a contested commit moved it to.
    document: DocumentIndex,
    /// The post step.
    step: usize,
    /// The event loop whose posted message task queue holds it.
    event_loop: AgentIndex,
    /// whatwg/html#3691 applies to it: when it was posted, the target was
    /// in another agent than the sender, or its navigation was under way.
    movable: bool,
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
}

/// A delivered message: the post step, whether `event.source` was null,
/// and how many writes into its SharedArrayBuffers had run
/// ([`crate::shared_memory`]; 0 for a message without any).
type Received = (usize, bool, WritesSeen);

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
    /// Every queued posted message task, in queue order.
    queued: Vec<QueuedTask>,
    /// Per document: it ran its first script (its listener is there).
    listening: Vec<bool>,
    /// Per document: destroyed (its browsing context is null).
    destroyed: Vec<bool>,
    /// Per document: `document.domain` was set on its origin (the origin
    /// object's domain is non-null; see `origin_owners`).
    domain_set: Vec<bool>,
    /// Per document: the messages it received.
    received: Vec<Vec<Received>>,
    /// The contested transitions taken so far ([`SpecIssue::bit`]s).
    contested: u8,
}

/// What the exploration found.
#[derive(Debug, Clone)]
pub struct Exploration {
    /// Every terminal outcome reachable through the standard's own
    /// transitions (agent clusters keyed by site), each with one schedule
    /// that reaches it (the first the deterministic search found),
    /// unsorted.
    pub outcomes: Vec<(Outcome, Vec<String>)>,
    /// Outcomes reachable only through contested transitions or origin
    /// keying: each with the issues ([`SpecIssue::bit`]s) of the first
    /// schedule found, and that schedule.
    pub contested: Vec<(Outcome, u8, Vec<String>)>,
    /// How many distinct states were visited (under both keyings).
    pub states_explored: usize,
    /// Every (post step, document) pair such that, in some schedule the
    /// standard's own transitions reach, step 8 of the window post message
    /// steps bound the step's task to that document ("queue a global task"
    /// given the target window binds it to the window's associated
    /// Document at queue time). Contested moves are not bindings.
    pub bindings: BTreeSet<(usize, DocumentIndex)>,
    /// The agents under the standard's site keying.
    pub agents: AgentClusters,
    /// The agents under origin keying (whatwg/html#7617), when they differ.
    pub origin_keyed_agents: Option<AgentClusters>,
    /// Whether origin keying answers otherwise: other allowed or contested
    /// outcomes.
    pub keyings_differ: bool,
}

/// Explores every order of the case's event loops, under the standard's
/// site keying and, when it puts some documents in other agents, under
/// origin keying (whatwg/html#7617): what only the latter reaches is
/// contested.
pub fn explore(case: &Case, plan: &Plan) -> Exploration {
    let site = agent_clusters(case, plan, Keying::SiteKeyed);
    let origin = agent_clusters(case, plan, Keying::OriginKeyed);
    let mut out = explore_keyed(case, plan, &site);
    if site.same_partition(&origin) {
        return out;
    }
    let other = explore_keyed(case, plan, &origin);
    let allowed: HashSet<String> = out
        .outcomes
        .iter()
        .map(|(o, _)| o.canonical_key())
        .collect();
    let mut seen: HashSet<String> = allowed.clone();
    seen.extend(out.contested.iter().map(|(o, _, _)| o.canonical_key()));
    let keys = |e: &Exploration| -> (HashSet<String>, HashSet<String>) {
        (
            e.outcomes.iter().map(|(o, _)| o.canonical_key()).collect(),
            e.contested
                .iter()
                .map(|(o, _, _)| o.canonical_key())
                .collect(),
        )
    };
    out.keyings_differ = keys(&other) != keys(&out);
    let origin_bit = SpecIssue::OriginKeyedByDefault.bit();
    let found = other
        .outcomes
        .into_iter()
        .map(|(o, schedule)| (o, 0, schedule))
        .chain(other.contested);
    for (outcome, bits, schedule) in found {
        if seen.insert(outcome.canonical_key()) {
            out.contested.push((outcome, bits | origin_bit, schedule));
        }
    }
    out.states_explored += other.states_explored;
    out.origin_keyed_agents = Some(origin);
    out
}

/// Explores every order of the case's event loops with the documents in
/// `agents`.
fn explore_keyed(case: &Case, plan: &Plan, agents: &AgentClusters) -> Exploration {
    let tasks = case.tasks();
    let initial = initial_state(case, plan);
    let explorer = Explorer {
        case,
        plan,
        agents,
        tasks: &tasks,
        origin_owner: origin_owners(case, plan),
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
            bindings.extend(state.queued.iter().map(|t| (t.step, t.document)));
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
        agents: agents.clone(),
        origin_keyed_agents: None,
        keyings_differ: false,
    }
}

/// Before the first step: every window created up front shows its first
/// document, which runs the agent (its listener is there).
fn initial_state(case: &Case, plan: &Plan) -> State {
    let n = plan.documents.len();
    State {
        next_task: 0,
        steps_done: 0,
        running: None,
        windows: (0..case.windows.len())
            .map(|w| WindowState {
                exists: plan.initial_document[w].is_some(),
                document: plan.initial_document[w],
                ongoing_navigation: None,
                is_closing: false,
            })
            .collect(),
        queued: Vec::new(),
        listening: plan
            .documents
            .iter()
            .enumerate()
            .map(|(d, doc)| plan.initial_document[doc.window] == Some(d))
            .collect(),
        destroyed: vec![false; n],
        domain_set: vec![false; n],
        received: vec![Vec::new(); n],
        contested: 0,
    }
}

/// Per document: the document whose origin *object* it has. "Determining
/// the origin" returns sourceOrigin itself for `about:blank` and
/// `about:srcdoc` ("If url matches about:blank and sourceOrigin is
/// non-null, then return sourceOrigin"), so an initial `about:blank` (and
/// a `srcdoc` or `about:blank` iframe created up front) shares its
/// creator's origin, and a `document.domain` set on either sets the
/// domain of both.
/// <https://html.spec.whatwg.org/multipage/document-sequences.html#determining-the-origin>
fn origin_owners(case: &Case, plan: &Plan) -> Vec<DocumentIndex> {
    let mut owner: Vec<DocumentIndex> = (0..plan.documents.len()).collect();
    for (d, doc) in plan.documents.iter().enumerate() {
        let window = &case.windows[doc.window];
        let Some(creator) = window.relation.creator() else {
            continue;
        };
        let inherits = doc.initial_about_blank
            || (plan.initial_document[doc.window] == Some(d)
                && match &window.content {
                    WindowContent::Srcdoc(_) => true,
                    WindowContent::Url(u) => crate::document::matches_about_blank(u),
                });
        // The creator's document when this one was made: its latest one
        // planned before it.
        let source = plan.documents[..d]
            .iter()
            .rposition(|p| p.window == creator);
        if let Some(source) = source.filter(|&s| {
            inherits && crate::origin::same_origin(&plan.documents[s].origin, &doc.origin)
        }) {
            owner[d] = owner[source];
        }
    }
    owner
}

/// The documents whose messages may still name their sender after a
/// `navigate` replaced them because the user agent may keep them in the
/// back/forward cache: a popup's (a top-level traversable) and its
/// iframes', when a `navigate` step of the popup follows a post they made
/// while they are still the popup's (no later document replaced them).
pub fn bfcache_senders(case: &Case, plan: &Plan) -> Vec<DocumentIndex> {
    // The step that made each document (`None`: created up front).
    let made_at = |d: DocumentIndex| {
        (0..case.steps.len()).find(|&i| {
            plan.loads[i] == Some(d) || plan.created[i].is_some_and(|(b, f)| b == d || f == Some(d))
        })
    };
    let mut out = BTreeSet::new();
    for (i, step) in case.steps.iter().enumerate() {
        let Step::Navigate(nav) = step else { continue };
        if !matches!(case.windows[nav.window].relation, Relation::Popup { .. }) {
            continue;
        }
        for (j, _) in case.posts().filter(|(j, _)| *j < i) {
            let Some(sender) = plan.senders[j] else {
                continue;
            };
            let window = plan.documents[sender].window;
            let mut top = window;
            while let Relation::Iframe { parent } = case.windows[top].relation {
                top = parent;
            }
            let replaced = (sender + 1..plan.documents.len()).any(|later| {
                plan.documents[later].window == window && made_at(later).is_some_and(|m| m < i)
            });
            if top == nav.window && !replaced {
                out.insert(sender);
            }
        }
    }
    out.into_iter().collect()
}

struct Explorer<'a> {
    case: &'a Case,
    plan: &'a Plan,
    agents: &'a AgentClusters,
    tasks: &'a [std::ops::Range<usize>],
    /// Per document: the document whose origin object it has.
    origin_owner: Vec<DocumentIndex>,
}

impl Explorer<'_> {
    fn name(&self, w: WindowIndex) -> &str {
        &self.case.windows[w].name
    }

    fn label(&self, d: DocumentIndex) -> &str {
        &self.plan.documents[d].label
    }

    fn agent(&self, d: DocumentIndex) -> AgentIndex {
        self.agents.agent(d)
    }

    /// Whether document `d` is fully active: the active document of a
    /// navigable that still exists (a removed iframe's navigable, a closed
    /// popup's, and every navigable inside a replaced document are gone).
    fn fully_active(&self, s: &State, d: DocumentIndex) -> bool {
        let w = self.plan.documents[d].window;
        s.windows[w].exists && s.windows[w].document == Some(d)
    }

    /// Whether a task of agent `a`'s event loop must wait: the running
    /// task is part-way in that agent.
    fn blocked(&self, s: &State, a: AgentIndex) -> bool {
        s.running == Some(a)
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

    /// A task whose document is no longer fully active is never runnable
    /// again (no case brings a document back): it leaves the queue.
    fn drop_unrunnable(&self, s: &mut State) {
        let keep: Vec<bool> = s
            .queued
            .iter()
            .map(|t| self.fully_active(s, t.document))
            .collect();
        let mut k = keep.into_iter();
        s.queued.retain(|_| k.next().unwrap_or(true));
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
            // A navigation commits, in a task of the navigated window's old
            // document's event loop: it unloads the old document (and its
            // iframes' documents) and makes the new one active.
            if let (Some(d), Some(old)) = (ws.ongoing_navigation, ws.document) {
                if !self.blocked(s, self.agent(old)) {
                    out.extend(self.commit(s, w, old, d));
                }
            }
            // The active document runs its first script.
            if let Some(d) = ws.document {
                if !s.listening[d] && !self.blocked(s, self.agent(d)) {
                    let mut next = s.clone();
                    next.listening[d] = true;
                    out.push((format!("{} runs its first script", self.label(d)), next));
                }
            }
            // The popup closes.
            if ws.is_closing {
                let mut touched = Vec::new();
                self.documents_below(s, w, &mut touched);
                if !touched.iter().any(|&d| self.blocked(s, self.agent(d))) {
                    let mut next = s.clone();
                    next.windows[w].is_closing = false;
                    self.destroy_navigable(&mut next, w);
                    self.drop_unrunnable(&mut next);
                    out.push((format!("{} closes", self.name(w)), next));
                }
            }
        }
        // Each event loop runs "the first runnable task" of its posted
        // message task queue (a task queued for a window that is gone is
        // the only one not runnable here: the others leave the queue as
        // soon as their document stops being fully active).
        let mut loops_seen: Vec<AgentIndex> = Vec::new();
        for (k, task) in s.queued.iter().enumerate() {
            if loops_seen.contains(&task.event_loop) || !self.fully_active(s, task.document) {
                continue;
            }
            loops_seen.push(task.event_loop);
            if self.blocked(s, task.event_loop) {
                continue;
            }
            out.push(self.run_message_task(s, k));
        }
        // A sender's document that is no longer fully active is destroyed
        // (only while a message it sent is queued: later it changes
        // nothing anyone observes).
        let mut senders: Vec<DocumentIndex> = s
            .queued
            .iter()
            .filter_map(|t| self.plan.senders[t.step])
            .collect();
        senders.sort_unstable();
        senders.dedup();
        for d in senders {
            if !s.destroyed[d] && !self.fully_active(s, d) && !self.blocked(s, self.agent(d)) {
                let mut next = s.clone();
                next.destroyed[d] = true;
                out.push((
                    format!(
                        "{} is destroyed (its browsing context is null)",
                        self.label(d)
                    ),
                    next,
                ));
            }
        }
        out
    }

    /// How many of the case's steps have run in state `s`.
    fn steps_run(&self, s: &State) -> usize {
        self.tasks
            .get(s.next_task)
            .map_or(self.case.steps.len(), |t| t.start + s.steps_done)
    }

    /// The event loop runs queued task `k`: step 8 of the window post
    /// message steps, against the document it is bound to.
    fn run_message_task(&self, s: &State, k: usize) -> (String, State) {
        let QueuedTask {
            document: d, step, ..
        } = s.queued[k];
        let mut next = s.clone();
        next.queued.remove(k);
        let task = self.plan.queued_task(step);
        match run_posted_message_task(task, &self.plan.documents[d].origin) {
            Err(_) => (
                format!(
                    "step {step}'s task runs: dropped at {} (origin mismatch)",
                    self.label(d)
                ),
                next,
            ),
            Ok(()) if !s.listening[d] => (
                format!(
                    "step {step}'s task runs: event at {} before its listener exists",
                    self.label(d)
                ),
                next,
            ),
            Ok(()) => {
                // 8.3 Let source be the WindowProxy object corresponding to
                //     incumbentSettings's global object: none once the
                //     sender's document is destroyed.
                let sender = self.plan.senders[step].expect("a post's sender");
                let null = s.destroyed[sender];
                // The receiver reads the buffer's bytes now: every write
                // the case's steps so far made into it is seen.
                let seen = writes_run(self.case, step, self.steps_run(s));
                next.received[d].push((step, null, seen));
                let label = if null {
                    format!(
                        "step {step}'s task runs: message event at {}, event.source null ({} is destroyed)",
                        self.label(d),
                        self.label(sender)
                    )
                } else {
                    format!(
                        "step {step}'s task runs: message event at {}",
                        self.label(d)
                    )
                };
                (label, next)
            }
        }
    }

    /// Window `w`'s navigation from `old` to `d` commits; with a contested
    /// variant when queued tasks may move to `d` (whatwg/html#3267, #3691).
    fn commit(
        &self,
        s: &State,
        w: WindowIndex,
        old: DocumentIndex,
        d: DocumentIndex,
    ) -> Vec<(String, State)> {
        let mut next = s.clone();
        next.windows[w].ongoing_navigation = None;
        next.windows[w].document = Some(d);
        self.destroy_children(&mut next, w);
        let mut out = Vec::new();
        // whatwg/html#3267. "Initialise the document object", step 6: "If
        // browsingContext's active document's is initial about:blank is
        // true, and browsingContext's active document's origin is same
        // origin-domain with navigationParams's origin, then set window to
        // browsingContext's active window." The new document's origin has a
        // null domain, so they are same origin-domain only while the
        // about:blank's origin (its creator's origin object) has none too.
        // <https://html.spec.whatwg.org/multipage/document-lifecycle.html#initialise-the-document-object>
        // <https://html.spec.whatwg.org/multipage/browsers.html#same-origin-domain>
        let old_doc = &self.plan.documents[old];
        let reuse = old_doc.initial_about_blank
            && !s.domain_set[self.origin_owner[old]]
            && crate::origin::same_origin(&old_doc.origin, &self.plan.documents[d].origin);
        let mut moved = next.clone();
        let mut issues = 0u8;
        for task in &mut moved.queued {
            if task.document != old {
                continue;
            }
            if reuse {
                issues |= SpecIssue::WindowReuse.bit();
            } else if task.movable {
                issues |= SpecIssue::TargetWindowAtCallTime.bit();
            } else {
                continue;
            }
            task.document = d;
            task.event_loop = self.agent(d);
        }
        self.drop_unrunnable(&mut next);
        self.drop_unrunnable(&mut moved);
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
            next.running = Some(self.agent(d));
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
                //    associated Document, on its agent's event loop, now.
                if let Some(Ok(_)) = &self.plan.posts[i] {
                    let target = &next.windows[p.to];
                    if let Some(d) = target.document {
                        let sender = self.plan.senders[i].expect("a post's sender");
                        // whatwg/html#3691 is about the Window fixed at call
                        // time across agents (processes), or while a
                        // navigation under way may replace it.
                        let movable = target.ongoing_navigation.is_some()
                            || self.agent(d) != self.agent(sender);
                        next.queued.push(QueuedTask {
                            document: d,
                            step: i,
                            event_loop: self.agent(d),
                            movable,
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
            Step::Remove { window } => {
                self.destroy_navigable(&mut next, *window);
                self.drop_unrunnable(&mut next);
            }
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
            Step::SetDomain { window, .. } => {
                // The document.domain setter: "If the surrounding agent's
                // agent cluster's is origin-keyed is true, then return."
                // Otherwise "set this's origin's domain" (the setter's
                // steps: [`crate::document::document_domain_setter`]; the
                // validator saw to it that steps 1-5 do not throw).
                // <https://html.spec.whatwg.org/multipage/browsers.html#dom-document-domain>
                if let Some(d) = next.windows[*window].document {
                    if !self.agents.is_origin_keyed(self.agent(d)) {
                        next.domain_set[self.origin_owner[d]] = true;
                    }
                }
            }
            // A write into a posted SharedArrayBuffer changes no document
            // and queues nothing: a message task that runs after it reads
            // its bytes ([`crate::shared_memory`]).
            Step::PushState { .. } | Step::Fragment { .. } | Step::SabWrite(_) => {}
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
    fn destroy_navigable(&self, s: &mut State, w: WindowIndex) {
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
                self.destroy_navigable(s, c);
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
                .map(|&(step, source_null, seen)| {
                    self.plan.delivery_in(self.case, step, d, source_null, seen)
                })
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

    /// Follows the transitions `labels` from the first state (site keying),
    /// each exactly as the explorer labels it; the outcome of the state
    /// reached once no transition is left, or the labels on offer where
    /// one is missing.
    fn follow(yaml: &str, labels: &[&str]) -> Result<Outcome, String> {
        let case = parse_case("t.yaml", yaml).unwrap_or_else(|e| panic!("{}", e[0]));
        let plan = plan_case(&case);
        let agents = agent_clusters(&case, &plan, Keying::SiteKeyed);
        let tasks = case.tasks();
        let explorer = Explorer {
            case: &case,
            plan: &plan,
            agents: &agents,
            tasks: &tasks,
            origin_owner: origin_owners(&case, &plan),
        };
        let mut state = initial_state(&case, &plan);
        for label in labels {
            let next = explorer.successors(&state);
            let offered: Vec<String> = next.iter().map(|(l, _)| l.clone()).collect();
            state = next
                .into_iter()
                .find(|(l, _)| l == label)
                .ok_or_else(|| format!("no {label:?} among {offered:?}"))?
                .1;
        }
        let left = explorer.successors(&state);
        if !left.is_empty() {
            let offered: Vec<String> = left.into_iter().map(|(l, _)| l).collect();
            return Err(format!("not terminal: {offered:?}"));
        }
        Ok(explorer.outcome(&state))
    }

    /// A popup posts "bye" to top and navigates itself in one task. Its
    /// old document, once replaced, may be kept in the back/forward cache
    /// (never destroyed: "bye" names pop even when it runs after the
    /// commit), or destroyed, before "bye" runs (null) or after (pop).
    /// "To destroy a Document [...] 8. Set document's browsing context to
    /// null"; it is a task of the document's own event loop, so it cannot
    /// come before the commit (pop's task, then the commit, run there).
    #[test]
    fn a_replaced_sender_names_itself_until_it_is_destroyed() {
        let yaml = "description: t\nwindows:\n  top: { url: 'http://a.test/' }\n  pop: { opener: top, url: 'http://d.test/' }\nsteps:\n  - same_task:\n      - post: { from: pop, to: top, message: bye, target_origin: '*' }\n      - navigate: { window: pop, url: 'http://e.test/' }\n";
        let source = |o: Outcome| o.received[0].1[0].source.clone();
        let start = ["task 0+1: step 0", "task 0+1: step 1", "pop commits pop@1"];
        let run = "step 0's task runs: message event at top";
        let run_null =
            "step 0's task runs: message event at top, event.source null (pop is destroyed)";
        let destroy = "pop is destroyed (its browsing context is null)";
        // Cached: committed, never destroyed, delivered late: named.
        let cached = [&start[..], &[run, "pop@1 runs its first script"]].concat();
        assert_eq!(follow(yaml, &cached).map(source), Ok(Some("pop".into())));
        // Destroyed first: null.
        let destroyed = [
            &start[..],
            &[destroy, run_null, "pop@1 runs its first script"],
        ]
        .concat();
        assert_eq!(follow(yaml, &destroyed).map(source), Ok(None));
        // Never destroyed while its own task runs, nor before the commit.
        assert!(follow(yaml, &["task 0+1: step 0", destroy]).is_err());
        assert!(follow(yaml, &["task 0+1: step 0", "task 0+1: step 1", destroy]).is_err());
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
