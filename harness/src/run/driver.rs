//! Drives one engine's session through the cases: many cases share one
//! page load of the runner page, a batch at a time. How a task reaches
//! its window is an [`Executor`]'s job: over the channel, as page tasks
//! ([`super::via_channel`], the default), or as WebDriver script calls
//! ([`super::via_webdriver`], `--via webdriver`); everything else (what
//! runs when, what to wait for, what was observed) is here, once.

use super::plan::{CasePlan, Markers};
use super::profile::Phase;
use super::protocol::{AgentConfig, Path, StepResult};
use super::state::RunState;
use super::verdict::Observation;
use fantoccini::error::CmdError;
use fantoccini::Client;
use pmconf_model::case::{Step, WindowIndex};
use pmconf_model::event_loop::received_by_document;
use pmconf_model::{Outcome, PostOutcome};
use serde_json::{json, Value as Json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How a case's tasks reach its windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Via {
    /// Over each document's WebSocket, run as a task of the page.
    #[default]
    Channel,
    /// As WebDriver Execute Script calls (the way before the channel, kept
    /// to compare).
    Webdriver,
}

/// How a run is paced.
#[derive(Debug, Clone)]
pub struct Pacing {
    /// Cases mounted in the runner page at once.
    pub batch_size: usize,
    /// How long every window of a batch may take to load and run its
    /// agent (and a task its answer: a reply waits for its message).
    pub ready_timeout: Duration,
    /// How long, after the markers are sent, every window may take to
    /// report what it received.
    pub report_timeout: Duration,
    /// Whether plain cases may run in windows earlier cases of the session
    /// left (document reuse, [`super::reuse`]).
    pub reuse: bool,
    /// How tasks reach their windows.
    pub via: Via,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            batch_size: 12,
            ready_timeout: Duration::from_secs(15),
            report_timeout: Duration::from_secs(10),
            reuse: false,
            via: Via::Channel,
        }
    }
}

/// A case's observation and the time it took.
pub struct CaseRun {
    /// Index into the plans given.
    pub index: usize,
    /// What was observed.
    pub observation: Observation,
    /// Its share of the batch's wall time.
    pub duration: Duration,
}

/// One task of a case for an [`Executor`] to run.
pub(crate) struct Task<'a> {
    /// The window whose script runs it.
    pub actor: WindowIndex,
    /// The label of the actor's document it runs in.
    pub doc: String,
    /// Its first step.
    pub first: usize,
    /// Its steps.
    pub indices: &'a [usize],
    /// End-of-case markers to post at its end (hop paths), if any.
    pub markers: Option<Vec<Path>>,
}

/// What reaches into a session's pages for the batch driver.
pub(crate) trait Executor {
    /// Makes the runner page ready for batches.
    async fn open_runner(&mut self, state: &RunState) -> Result<(), CmdError>;
    /// Mounts top frames in the runner page (`[key, page path, URL as
    /// written, pool key or null]` each); returns per mount `[frame index,
    /// slot id, reused, key prefix it served last]`.
    async fn mount(&mut self, mounts: Json) -> Result<Json, CmdError>;
    /// Opens the top window of each isolated case as a top-level window.
    async fn open_top_levels(&mut self, running: &[Running]) -> Result<(), CmdError>;
    /// Every window of the batch ran its agent (or never will).
    async fn windows_ready(&mut self, running: &[Running]) -> Result<(), CmdError>;
    /// Runs one task; the agent's results (one per step, then a marker
    /// error if any), or what the case observed instead.
    async fn run_task(
        &mut self,
        state: &RunState,
        r: &Running,
        task: Task<'_>,
    ) -> Result<Result<Vec<StepResult>, Observation>, CmdError>;
    /// Resets window `w` of a reused slot for the case `r`.
    async fn reset(
        &mut self,
        r: &Running,
        w: WindowIndex,
        config: &AgentConfig,
        targets: &[Path],
    ) -> Result<Result<StepResult, Observation>, CmdError>;
    /// Where window `w` is, for a case that says it never loaded (`;
    /// `kid` is at ...`), or nothing.
    async fn where_is(&mut self, r: &Running, w: WindowIndex) -> String;
    /// Closes the batch's top-level windows and releases its slots, but
    /// `keep` (at most `pool_cap` idle slots stay).
    async fn cleanup(&mut self, running: &[Running], keep: &[&str], pool_cap: usize);
}

/// Runs `plans` in the session `client` for `engine`, calling `on_case` as
/// each case finishes. Only a failure to reach the runner page at all is an
/// error; anything going wrong inside a case becomes that case's result.
pub async fn run_cases(
    client: &Client,
    engine: &str,
    plans: &[Arc<CasePlan>],
    state: &Arc<RunState>,
    pacing: &Pacing,
    on_case: impl FnMut(CaseRun),
) -> Result<(), CmdError> {
    match pacing.via {
        Via::Channel => {
            let executor = super::via_channel::ChannelExecutor::with_webdriver(
                state.clone(),
                client,
                pacing.ready_timeout,
            );
            run_batches(executor, engine, plans, state, pacing, on_case).await
        }
        Via::Webdriver => {
            let executor = super::via_webdriver::WebDriverExecutor::new(client);
            run_batches(executor, engine, plans, state, pacing, on_case).await
        }
    }
}

/// Runs `plans` through `executor`, a batch at a time.
pub(crate) async fn run_batches(
    mut executor: impl Executor,
    engine: &str,
    plans: &[Arc<CasePlan>],
    state: &Arc<RunState>,
    pacing: &Pacing,
    mut on_case: impl FnMut(CaseRun),
) -> Result<(), CmdError> {
    executor.open_runner(state).await?;
    for (batch_number, chunk) in plans.chunks(pacing.batch_size.max(1)).enumerate() {
        let started = Instant::now();
        let first = batch_number * pacing.batch_size.max(1);
        let results = run_batch(&mut executor, engine, chunk, state, pacing).await;
        let share = started.elapsed() / chunk.len() as u32;
        for (offset, observation) in results.into_iter().enumerate() {
            on_case(CaseRun {
                index: first + offset,
                observation,
                duration: share,
            });
        }
    }
    Ok(())
}

/// Per-case bookkeeping inside a batch.
pub(crate) struct Running {
    pub(crate) plan: Arc<CasePlan>,
    pub(crate) key_prefix: String,
    /// The runner frame index of the case's slot.
    pub(crate) slot: u16,
    /// The pool key of a case that may run in reused windows.
    reuse_key: Option<String>,
    /// The runner iframe's id, and whether an earlier case left it.
    slot_id: String,
    reused: bool,
    /// The key prefix of the case a reused slot served last.
    pub(crate) reused_from: Option<String>,
    posts: Vec<PostOutcome>,
    pub(crate) failed: Option<Observation>,
    markers: Markers,
}

impl Running {
    /// The page key of window `w` of this case.
    pub(crate) fn key(&self, w: WindowIndex) -> String {
        format!("{}/{w}", self.key_prefix)
    }

    /// A case about to run under `key_prefix`, for tests of executors.
    #[cfg(test)]
    pub(crate) fn for_test(plan: Arc<CasePlan>, key_prefix: &str) -> Self {
        let markers = plan.markers();
        Running {
            plan,
            key_prefix: key_prefix.to_owned(),
            slot: 0,
            reuse_key: None,
            slot_id: String::new(),
            reused: false,
            reused_from: None,
            posts: Vec::new(),
            failed: None,
            markers,
        }
    }

    /// The engine's name (page keys start with it).
    fn engine(&self) -> &str {
        self.key_prefix.split('/').next().unwrap_or_default()
    }
}

async fn run_batch(
    executor: &mut impl Executor,
    engine: &str,
    plans: &[Arc<CasePlan>],
    state: &Arc<RunState>,
    pacing: &Pacing,
) -> Vec<Observation> {
    let mut running: Vec<Running> = Vec::new();
    let mut mounts = Vec::new();
    for plan in plans {
        let key_prefix = format!("{engine}/{}.{}", plan.id, state.next_mount());
        let failed = plan.cannot_run.clone().map(Observation::Inconclusive);
        let reuse_key = super::reuse::reuse_key(plan).ok().filter(|_| pacing.reuse);
        if failed.is_none() {
            state.register(engine, plan.clone());
            // An isolated case's top window is a top-level window of its
            // own, opened by `open_top_levels` (an iframe of the runner
            // page cannot be cross-origin isolated).
            if !plan.case.is_isolated() {
                mounts.push((
                    running.len(),
                    json!([
                        key_prefix.clone(),
                        plan.page_path(0, &key_prefix),
                        plan.url_as_written(0),
                        reuse_key
                    ]),
                ));
            }
        }
        running.push(Running {
            plan: plan.clone(),
            key_prefix,
            slot: 0,
            reuse_key,
            slot_id: String::new(),
            reused: false,
            reused_from: None,
            posts: Vec::new(),
            failed,
            markers: plan.markers(),
        });
    }

    state.profile.batch(engine, plans.len());
    let outcome = drive_batch(executor, engine, state, pacing, &mut running, mounts).await;
    if let Err(e) = &outcome {
        for r in running.iter_mut().filter(|r| r.failed.is_none()) {
            r.failed = Some(Observation::InternalError(format!("{:?}: {e}", pacing.via)));
        }
    }
    let observations: Vec<Observation> = running
        .iter()
        .map(|r| match &r.failed {
            Some(f) => f.clone(),
            None => collect(state, r),
        })
        .collect();
    // Slots whose case ran to its end stay for later cases of their key.
    let keep: Vec<&str> = running
        .iter()
        .zip(&observations)
        .filter(|(r, o)| r.reuse_key.is_some() && matches!(o, Observation::Observed(_)))
        .map(|(r, _)| r.slot_id.as_str())
        .collect();
    // Idle slots kept: four batches' worth, so that a run cycling through
    // a few dozen window shapes (`bench`'s 6 plain directories have 26)
    // finds each one's slot still there on its next turn.
    let pool_cap = if pacing.reuse {
        4 * pacing.batch_size.max(1)
    } else {
        0
    };
    let cleanup_started = Instant::now();
    executor.cleanup(&running, &keep, pool_cap).await;
    state
        .profile
        .phase(engine, Phase::Cleanup, cleanup_started.elapsed());
    if std::env::var_os("PMCONF_TRACE").is_some() {
        eprintln!(
            "pmconf trace: cleanup {} ms",
            cleanup_started.elapsed().as_millis()
        );
    }

    for r in &running {
        state.forget(engine, &r.plan);
    }
    observations
}

async fn drive_batch(
    executor: &mut impl Executor,
    engine: &str,
    state: &Arc<RunState>,
    pacing: &Pacing,
    running: &mut [Running],
    mounts: Vec<(usize, Json)>,
) -> Result<(), CmdError> {
    executor.open_top_levels(running).await?;
    let top_levels = running
        .iter()
        .any(|r| r.failed.is_none() && r.plan.case.is_isolated());
    if mounts.is_empty() && !top_levels {
        return Ok(());
    }
    let trace = Trace::new(state, engine);
    if !mounts.is_empty() {
        let slots = executor
            .mount(Json::Array(mounts.iter().map(|m| m.1.clone()).collect()))
            .await?;
        for ((r, _), slot) in mounts.iter().zip(slots.as_array().into_iter().flatten()) {
            let r = &mut running[*r];
            r.slot = slot[0].as_u64().unwrap_or_default() as u16;
            r.slot_id = slot[1].as_str().unwrap_or_default().to_owned();
            r.reused = slot[2].as_bool().unwrap_or(false);
            r.reused_from = slot[3].as_str().map(str::to_owned).filter(|_| r.reused);
        }
    }

    // Every scripted window of every case must run its agent.
    let deadline = tokio::time::Instant::now() + pacing.ready_timeout;
    // A reused slot's windows run the agent already.
    let all_ready = |s: &RunState, r: &Running| {
        r.reused
            || r.plan.observer_windows().all(|w| {
                let p = s.progress(&r.key(w));
                p.document(&r.plan.case.windows[w].name).ready || p.failure.is_some()
            })
    };
    state
        .wait_until(deadline, |s| {
            running
                .iter()
                .filter(|r| r.failed.is_none())
                .all(|r| all_ready(s, r))
        })
        .await;
    for r in running
        .iter_mut()
        .filter(|r| r.failed.is_none() && !r.reused)
    {
        if let Some((first_missing, problem)) = readiness_problem(state, r) {
            // Where is that window really? A failed navigation does not
            // always raise: WebKit stays on about:blank with an error text,
            // Chromium shows chrome-error://chromewebdata/.
            let at = match first_missing {
                Some(w) => executor.where_is(r, w).await,
                None => String::new(),
            };
            r.failed = Some(Observation::Inconclusive(format!("{problem}{at}")));
        }
    }

    trace.mark(Phase::MountLoad);
    executor.windows_ready(running).await?;
    trace.mark(Phase::Popups);

    for r in running.iter_mut().filter(|r| r.failed.is_none()) {
        if let Err(problem) = run_case(executor, state, pacing, r).await? {
            r.failed = Some(problem);
        }
    }
    trace.mark(Phase::Steps);

    let deadline = tokio::time::Instant::now() + pacing.report_timeout;
    state
        .wait_until(deadline, |s| {
            running
                .iter()
                .filter(|r| r.failed.is_none())
                .all(|r| missing_markers(s, r).is_empty())
        })
        .await;
    // A report that the channel lost may come again in its document's
    // last report (`bye`, sent as it goes away), a little later: give such
    // gaps a moment to fill before judging. Wakes on every report.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    state
        .wait_until(deadline, |s| {
            running
                .iter()
                .filter(|r| r.failed.is_none())
                .all(|r| !has_report_gap(s, r))
        })
        .await;
    trace.mark(Phase::Reports);
    trace.print(running.len());
    Ok(())
}

/// Whether some document of the case is missing a numbered message report.
fn has_report_gap(state: &RunState, r: &Running) -> bool {
    (0..r.plan.case.windows.len()).any(|w| {
        state
            .progress(&r.key(w))
            .documents
            .iter()
            .any(|(_, d)| d.received_in_order().is_err())
    })
}

/// The surviving windows whose final document still lacks an expected
/// end-of-case marker (or whose agent reported a failure: those are done).
fn missing_markers(state: &RunState, r: &Running) -> Vec<String> {
    let mut missing = Vec::new();
    for (w, expected) in &r.markers.expect {
        let p = state.progress(&r.key(*w));
        if p.failure.is_some() {
            continue;
        }
        let doc = p.document(&r.plan.final_document(*w));
        // Every marker, and every message report sent before one.
        let all_in = (doc.received.len() as u64) >= doc.messages_before_markers;
        if !all_in || !expected.iter().all(|e| doc.markers.contains(e)) {
            missing.push(r.plan.case.windows[*w].name.clone());
        }
    }
    missing
}

/// Phase timings of a batch, added to the run's profile and printed to
/// stderr when `PMCONF_TRACE` is set.
struct Trace<'a> {
    enabled: bool,
    state: &'a RunState,
    engine: &'a str,
    last: Instant,
    phases: std::cell::RefCell<Vec<(&'static str, Duration)>>,
}

impl<'a> Trace<'a> {
    fn new(state: &'a RunState, engine: &'a str) -> Self {
        Trace {
            enabled: std::env::var_os("PMCONF_TRACE").is_some(),
            state,
            engine,
            last: Instant::now(),
            phases: Default::default(),
        }
    }

    fn mark(&self, phase: Phase) {
        let total: Duration = self.phases.borrow().iter().map(|p| p.1).sum();
        let took = self.last.elapsed() - total;
        self.state.profile.phase(self.engine, phase, took);
        self.phases.borrow_mut().push((phase.label(), took));
    }

    fn print(&self, cases: usize) {
        if self.enabled {
            let parts: Vec<String> = self
                .phases
                .borrow()
                .iter()
                .map(|(p, d)| format!("{p} {} ms", d.as_millis()))
                .collect();
            eprintln!("pmconf trace: batch of {cases}: {}", parts.join(", "));
        }
    }
}

/// Why a case's windows are not all ready, and the first window that
/// never ran the agent (to probe), if any.
fn readiness_problem(state: &RunState, r: &Running) -> Option<(Option<WindowIndex>, String)> {
    let mut missing = Vec::new();
    for w in r.plan.observer_windows() {
        let p = state.progress(&r.key(w));
        if let Some(f) = p.failure {
            return Some((
                None,
                format!("window `{}`: {f}", r.plan.case.windows[w].name),
            ));
        }
        if !p.document(&r.plan.case.windows[w].name).ready {
            missing.push(w);
        }
    }
    let first = *missing.first()?;
    let names: Vec<&str> = missing
        .iter()
        .map(|&w| r.plan.case.windows[w].name.as_str())
        .collect();
    Some((
        Some(first),
        format!(
            "window{} {} never ran pmconf's agent (page failed to load, or loaded an error page)",
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        ),
    ))
}

/// Runs a case's tasks in order, each in its actor's window (so each
/// starts only after the previous one returned), then, for a race case,
/// waits for every navigation to settle and sends the end-of-case markers.
async fn run_case(
    executor: &mut impl Executor,
    state: &RunState,
    pacing: &Pacing,
    r: &mut Running,
) -> Result<Result<(), Observation>, CmdError> {
    let plan = r.plan.clone();
    let case = &plan.case;
    let race = case.is_race();
    if r.reused {
        if let Err(problem) = reset_windows(executor, state, r).await? {
            return Ok(Err(problem));
        }
    }
    // Without races, each sender's markers go out with its last step, in
    // the same task: per-sender order is all the marker needs.
    let tasks = super::script_calls::script_calls(case);
    let last_task_of = |w: WindowIndex| {
        tasks
            .iter()
            .rposition(|t| case.steps[t.start].actor(case) == Some(w))
    };
    for (t, range) in tasks.iter().cloned().enumerate() {
        let first = range.start;
        if let Step::WaitLoaded { window } = case.steps[first] {
            let label = plan.latest_document_before(window, first);
            if !wait_for_document(state, pacing, &r.key(window), &label).await {
                return Ok(Err(Observation::Inconclusive(format!(
                    "step {first}: `{}` never loaded document {label}; {}",
                    case.windows[window].name,
                    state.progress(&r.key(window)).documents_that_ran()
                ))));
            }
            continue;
        }
        let actor = case.steps[first]
            .actor(case)
            .expect("script steps have actors");
        for i in range.clone() {
            if let Step::Reload { window } = case.steps[i] {
                let d = plan.documents.loads[i].expect("planned");
                state.expect_reload(&r.key(window), d);
            }
        }
        let markers = if !race && last_task_of(actor) == Some(t) {
            r.markers
                .send
                .iter()
                .find(|(w, _)| *w == actor)
                .map(|(_, targets)| targets.clone())
        } else {
            None
        };
        let indices: Vec<usize> = range.clone().collect();
        let task = Task {
            actor,
            doc: plan.latest_document_before(actor, first),
            first,
            indices: &indices,
            markers,
        };
        let results = match executor.run_task(state, r, task).await? {
            Ok(results) => results,
            Err(problem) => return Ok(Err(problem)),
        };
        for (k, i) in range.enumerate() {
            let Some(res) = results.get(k) else {
                return Ok(Err(Observation::InternalError(format!(
                    "step {i}: no result from the agent"
                ))));
            };
            if let Some(e) = &res.harness_error {
                return Ok(Err(Observation::InternalError(format!("step {i}: {e}"))));
            }
            match (&case.steps[i], &res.threw) {
                (Step::Post(_) | Step::PortPost(_), threw) => r.posts.push(PostOutcome {
                    step: i,
                    threw: threw.clone(),
                }),
                (_, None) => {}
                (step, Some(name)) => {
                    return Ok(Err(Observation::Inconclusive(format!(
                        "step {i} ({}) threw {name}: {}",
                        step.kind(),
                        res.message.as_deref().unwrap_or("")
                    ))))
                }
            }
        }
        if let Some(e) = results
            .get(indices.len())
            .and_then(|m| m.harness_error.as_ref())
        {
            return Ok(Err(Observation::InternalError(format!("markers: {e}"))));
        }
    }
    if !race {
        return Ok(Ok(()));
    }
    let settle_started = Instant::now();
    let settled = settle_and_send_markers(executor, state, pacing, r).await;
    state
        .profile
        .phase(r.engine(), Phase::Markers, settle_started.elapsed());
    settled
}

/// Resets every scripted window of a reused slot for its new case (its
/// agent configuration, fresh per-case state, epoch markers), in window
/// order.
async fn reset_windows(
    executor: &mut impl Executor,
    state: &RunState,
    r: &Running,
) -> Result<Result<(), Observation>, CmdError> {
    let plan = &r.plan;
    for w in plan.observer_windows() {
        let config = super::reuse::reset_config(plan, w, &r.key_prefix, &state.page_run());
        let targets = super::reuse::epoch_targets(plan, w);
        let result = match executor.reset(r, w, &config, &targets).await? {
            Ok(result) => result,
            Err(problem) => return Ok(Err(problem)),
        };
        if let Some(e) = result.harness_error {
            return Ok(Err(Observation::InternalError(format!(
                "resetting `{}` for reuse: {e}",
                plan.case.windows[w].name,
            ))));
        }
    }
    Ok(Ok(()))
}

/// A race case's end: waits until every surviving window's last
/// navigation has committed and its document runs the agent, then sends
/// the end-of-case markers.
async fn settle_and_send_markers(
    executor: &mut impl Executor,
    state: &RunState,
    pacing: &Pacing,
    r: &Running,
) -> Result<Result<(), Observation>, CmdError> {
    let plan = r.plan.clone();
    let case = &plan.case;
    let end = case.steps.len();
    for (w, _) in &r.markers.expect {
        let label = plan.final_document(*w);
        if !wait_for_document(state, pacing, &r.key(*w), &label).await {
            return Ok(Err(Observation::Inconclusive(format!(
                "`{}` never loaded document {label} after the last step; {}",
                case.windows[*w].name,
                state.progress(&r.key(*w)).documents_that_ran()
            ))));
        }
    }
    for (w, targets) in r.markers.send.clone() {
        let task = Task {
            actor: w,
            doc: plan.final_document(w),
            first: end,
            indices: &[],
            markers: Some(targets),
        };
        let result = match executor.run_task(state, r, task).await? {
            Ok(result) => result,
            Err(problem) => return Ok(Err(problem)),
        };
        if let Some(e) = result.first().and_then(|m| m.harness_error.as_ref()) {
            return Ok(Err(Observation::InternalError(format!(
                "markers from `{}`: {e}",
                case.windows[w].name,
            ))));
        }
    }
    Ok(Ok(()))
}

/// Waits until document `label` of the window with page key `key` has run
/// its agent (or the window reported a failure).
async fn wait_for_document(state: &RunState, pacing: &Pacing, key: &str, label: &str) -> bool {
    let deadline = tokio::time::Instant::now() + pacing.ready_timeout;
    state
        .wait_until(deadline, |s| s.progress(key).document(label).ready)
        .await
}

fn collect(state: &RunState, r: &Running) -> Observation {
    let mut by_document: Vec<(String, Vec<pmconf_model::Delivery>)> = Vec::new();
    for (w, window) in r.plan.case.windows.iter().enumerate() {
        let p = state.progress(&r.key(w));
        if let Some(f) = p.failure {
            return Observation::Inconclusive(format!("window `{}`: {f}", window.name));
        }
        for (label, doc) in p.documents {
            match doc.received_in_order() {
                Ok(received) => by_document.push((label, received)),
                Err(numbers) => {
                    return Observation::Inconclusive(format!(
                        "document {label}: a message report was lost (got numbers {numbers:?})"
                    ))
                }
            }
        }
    }
    let missing = missing_markers(state, r);
    if !missing.is_empty() {
        return Observation::Inconclusive(format!(
            "no end-of-case marker reached {} in time: the case did not finish",
            missing.join(", ")
        ));
    }
    Observation::Observed(Outcome {
        posts: r.posts.clone(),
        received: received_by_document(&r.plan.case, &r.plan.documents, by_document),
    })
}

#[cfg(test)]
#[path = "driver_tests.rs"]
mod tests;
