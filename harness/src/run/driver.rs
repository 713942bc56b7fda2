//! Drives one engine's WebDriver session through the cases: many cases share
//! one page load of the runner page, a batch at a time.

use super::frames::{move_to, At};
use super::pages::{RUNNER_HOST, RUNNER_PATH};
use super::plan::{CasePlan, Markers, WindowLocation};
use super::profile::Phase;
use super::state::RunState;
use super::verdict::Observation;
use fantoccini::error::CmdError;
use fantoccini::wd::WindowHandle;
use fantoccini::Client;
use pmconf_model::case::{Step, WindowIndex};
use pmconf_model::event_loop::received_by_document;
use pmconf_model::{Outcome, PostOutcome};
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How a run is paced.
#[derive(Debug, Clone)]
pub struct Pacing {
    /// Cases mounted in the runner page at once.
    pub batch_size: usize,
    /// How long every window of a batch may take to load and run its agent.
    pub ready_timeout: Duration,
    /// How long, after the markers are sent, every window may take to
    /// report what it received.
    pub report_timeout: Duration,
    /// Whether plain cases may run in windows earlier cases of the session
    /// left (document reuse, [`super::reuse`]).
    pub reuse: bool,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            batch_size: 12,
            ready_timeout: Duration::from_secs(15),
            report_timeout: Duration::from_secs(10),
            reuse: false,
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

/// Runs `plans` in the session `client` for `engine`, calling `on_case` as
/// each case finishes. Only a failure to reach the runner page at all is an
/// error; anything going wrong inside a case becomes that case's result.
pub async fn run_cases(
    client: &Client,
    engine: &str,
    plans: &[Arc<CasePlan>],
    state: &Arc<RunState>,
    pacing: &Pacing,
    mut on_case: impl FnMut(CaseRun),
) -> Result<(), CmdError> {
    let runner_url = format!("http://{RUNNER_HOST}{RUNNER_PATH}");
    // The runner page stays loaded between calls (a fuzzer's shrinking
    // runs one case at a time); load it only when the session is elsewhere.
    let mut at = client.current_url().await?;
    if at.as_str() != runner_url {
        client.goto(&runner_url).await?;
        at = client.current_url().await?;
    }
    if at.as_str() != runner_url {
        return Err(CmdError::NotW3C(json!(format!(
            "the runner page did not load: the browser is at {at} (is the proxy reachable?)"
        ))));
    }
    let runner = client.window().await?;
    for (batch_number, chunk) in plans.chunks(pacing.batch_size.max(1)).enumerate() {
        let started = Instant::now();
        let first = batch_number * pacing.batch_size.max(1);
        let results = run_batch(client, engine, chunk, state, pacing, &runner).await;
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
struct Running {
    plan: Arc<CasePlan>,
    key_prefix: String,
    slot: u16,
    /// The pool key of a case that may run in reused windows.
    reuse_key: Option<String>,
    /// The runner iframe's id, and whether an earlier case left it.
    slot_id: String,
    reused: bool,
    posts: Vec<PostOutcome>,
    failed: Option<Observation>,
    markers: Markers,
}

impl Running {
    fn key(&self, w: WindowIndex) -> String {
        format!("{}/{w}", self.key_prefix)
    }

    /// The engine's name (page keys start with it).
    fn engine(&self) -> &str {
        self.key_prefix.split('/').next().unwrap_or_default()
    }
}

async fn run_batch(
    client: &Client,
    engine: &str,
    plans: &[Arc<CasePlan>],
    state: &Arc<RunState>,
    pacing: &Pacing,
    runner: &WindowHandle,
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
            // own, opened by `open_top_level_cases` (an iframe of the
            // runner page cannot be cross-origin isolated).
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
            posts: Vec::new(),
            failed,
            markers: plan.markers(),
        });
    }

    state.profile.batch(engine, plans.len());
    let outcome = drive_batch(client, engine, state, pacing, runner, &mut running, mounts).await;
    if let Err(e) = &outcome {
        for r in running.iter_mut().filter(|r| r.failed.is_none()) {
            r.failed = Some(Observation::InternalError(format!("WebDriver: {e}")));
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
    cleanup(client, runner, &keep, pool_cap).await;
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
    client: &Client,
    engine: &str,
    state: &Arc<RunState>,
    pacing: &Pacing,
    runner: &WindowHandle,
    running: &mut [Running],
    mounts: Vec<(usize, Json)>,
) -> Result<(), CmdError> {
    let top_levels = open_top_level_cases(client, running).await?;
    if mounts.is_empty() && top_levels.is_empty() {
        return Ok(());
    }
    let trace = Trace::new(state, engine);
    client.switch_to_window(runner.clone()).await?;
    let slots = client
        .execute(
            "return window.__pmconfMountReusing(arguments[0]);",
            vec![Json::Array(mounts.iter().map(|m| m.1.clone()).collect())],
        )
        .await?;
    for ((r, _), slot) in mounts.iter().zip(slots.as_array().into_iter().flatten()) {
        let r = &mut running[*r];
        r.slot = slot[0].as_u64().unwrap_or_default() as u16;
        r.slot_id = slot[1].as_str().unwrap_or_default().to_owned();
        r.reused = slot[2].as_bool().unwrap_or(false);
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
                Some(w) => probe_location(client, runner, r, w).await,
                None => String::new(),
            };
            r.failed = Some(Observation::Inconclusive(format!("{problem}{at}")));
        }
    }

    trace.mark(Phase::MountLoad);
    let mut popups = find_popups(client, runner, running).await?;
    popups.extend(top_levels);
    trace.mark(Phase::Popups);

    // Probes and popup scans moved WebDriver: the first case enters afresh.
    let mut at = None;
    for r in running.iter_mut().filter(|r| r.failed.is_none()) {
        if let Err(problem) =
            run_case(client, runner, &mut popups, state, pacing, r, &mut at).await?
        {
            r.failed = Some(problem);
        }
        // A race case may have removed or navigated the frame WebDriver is
        // in: the next case enters afresh.
        if r.plan.case.is_race() {
            at = None;
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
    // A report that could not go out synchronously (the document was being
    // replaced) falls back to sendBeacon and may come a little later: give
    // such gaps a moment to fill before judging. Wakes on every report.
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

/// `location.href` of window `w` as WebDriver finds it, for diagnosis.
async fn probe_location(
    client: &Client,
    runner: &WindowHandle,
    r: &Running,
    w: WindowIndex,
) -> String {
    let WindowLocation::Runner { frames } = &r.plan.locations[w] else {
        return String::new();
    };
    let name = &r.plan.case.windows[w].name;
    if client.switch_to_window(runner.clone()).await.is_err()
        || client.enter_frame(r.slot).await.is_err()
    {
        return format!("; `{name}`: its case's top frame cannot be entered");
    }
    for (depth, &f) in frames.iter().enumerate() {
        if client.enter_frame(f).await.is_err() {
            return format!(
                "; `{name}`: no frame at depth {} (its parent never created it)",
                depth + 1
            );
        }
    }
    match client
        .execute("return String(location.href);", vec![])
        .await
    {
        Ok(href) => format!("; `{name}` is at {}", href.as_str().unwrap_or("?")),
        Err(e) => format!("; `{name}`: location.href unreadable ({e})"),
    }
}

/// Opens the top window of each isolated case in a new top-level window
/// (WebDriver's New Window, then a navigation), by its page key.
async fn open_top_level_cases(
    client: &Client,
    running: &[Running],
) -> Result<HashMap<String, WindowHandle>, CmdError> {
    let mut opened = HashMap::new();
    for r in running
        .iter()
        .filter(|r| r.failed.is_none() && r.plan.case.is_isolated())
    {
        let window = client.new_window(false).await?;
        client.switch_to_window(window.handle.clone()).await?;
        client.goto(&r.plan.top_level_url(&r.key_prefix)).await?;
        opened.insert(r.key(0), window.handle);
    }
    Ok(opened)
}

/// Maps popup keys to WebDriver window handles.
async fn find_popups(
    client: &Client,
    runner: &WindowHandle,
    running: &[Running],
) -> Result<HashMap<String, WindowHandle>, CmdError> {
    let mut found = HashMap::new();
    let wants_popups = running.iter().any(|r| {
        r.failed.is_none()
            && r.plan
                .locations
                .iter()
                .any(|l| matches!(l, WindowLocation::Popup { .. }))
    });
    if !wants_popups {
        return Ok(found);
    }
    found.extend(scan_popups(client, runner).await?);
    Ok(found)
}

/// Every window but the runner, by the page key its agent reports (a
/// window whose document runs no agent yet is left out).
async fn scan_popups(
    client: &Client,
    runner: &WindowHandle,
) -> Result<HashMap<String, WindowHandle>, CmdError> {
    let mut found = HashMap::new();
    for handle in client.windows().await? {
        if &handle == runner {
            continue;
        }
        client.switch_to_window(handle.clone()).await?;
        let key = client
            .execute(
                "return window.__pmconf ? window.__pmconf.key : null;",
                vec![],
            )
            .await?;
        if let Some(key) = key.as_str() {
            found.insert(key.to_owned(), handle);
        }
    }
    Ok(found)
}

/// Switches WebDriver into the window at `location` in a case, from
/// where it is (`at`) unless `fresh`; popups not yet known (created by a
/// step) are looked up once more.
async fn enter(
    client: &Client,
    (runner, popups): (&WindowHandle, &mut HashMap<String, WindowHandle>),
    r: &Running,
    location: &WindowLocation,
    (at, fresh): (&mut Option<At>, bool),
) -> Result<Result<(), String>, CmdError> {
    let to = match location {
        WindowLocation::Runner { frames } => At {
            top: runner.clone(),
            frames: std::iter::once(r.slot)
                .chain(frames.iter().copied())
                .collect(),
        },
        WindowLocation::Popup { popup, frames } => {
            if !popups.contains_key(&r.key(*popup)) {
                *at = None;
                popups.extend(scan_popups(client, runner).await?);
            }
            let Some(handle) = popups.get(&r.key(*popup)) else {
                return Ok(Err(format!(
                    "popup `{}` has no WebDriver window handle",
                    r.plan.case.windows[*popup].name
                )));
            };
            At {
                top: handle.clone(),
                frames: frames.clone(),
            }
        }
    };
    move_to(client, at, to, fresh).await?;
    Ok(Ok(()))
}

/// Runs a case's tasks in order, each in its actor's window through
/// WebDriver (so each starts only after the previous one returned), then,
/// for a race case, waits for every navigation to settle and sends the
/// end-of-case markers.
async fn run_case(
    client: &Client,
    runner: &WindowHandle,
    popups: &mut HashMap<String, WindowHandle>,
    state: &RunState,
    pacing: &Pacing,
    r: &mut Running,
    at: &mut Option<At>,
) -> Result<Result<(), Observation>, CmdError> {
    let plan = r.plan.clone();
    let case = &plan.case;
    let race = case.is_race();
    if r.reused {
        if let Err(problem) = reset_windows(client, (runner, popups), state, r, at).await? {
            return Ok(Err(problem));
        }
    }
    // Without races, each sender's markers go out with its last step, in
    // the same script call: per-sender order is all the marker needs.
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
        let location = plan.location_before(actor, first);
        // WebDriver stays in the window it entered last and moves from
        // there. In a race case the tree changes under it (frames removed
        // and renumbered, navigated), so every task enters afresh.
        if let Err(e) = enter(client, (runner, popups), r, &location, (at, race)).await? {
            return Ok(Err(Observation::InternalError(e)));
        }
        let markers = if !race && last_task_of(actor) == Some(t) {
            r.markers
                .send
                .iter()
                .find(|(w, _)| *w == actor)
                .map(|(_, targets)| Json::Array(targets.clone()))
                .unwrap_or(Json::Null)
        } else {
            Json::Null
        };
        let indices: Vec<usize> = range.clone().collect();
        let returned = client
            .execute(
                "return window.__pmconf.run(arguments[0], arguments[1]);",
                vec![json!(indices), markers],
            )
            .await;
        // A task that navigates the window WebDriver is in can lose the
        // script's return value (or end in an error); the agent sent the
        // same results to the server before returning.
        let results = match returned {
            Ok(v) if v.is_array() => v,
            other => {
                let key = r.key(actor);
                let find = |s: &RunState| {
                    s.progress(&key)
                        .step_results
                        .iter()
                        .rev()
                        .find(|(i, _)| *i == indices)
                        .map(|(_, v)| v.clone())
                };
                // Its copy may still be on the way (sent by the fallback
                // path when the navigation aborted the synchronous one).
                let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
                state.wait_until(deadline, |s| find(s).is_some()).await;
                let recorded = find(state).or_else(|| {
                    self_navigation_results(state, &key, &indices, |i| {
                        matches!(&case.steps[i], Step::Reload { .. })
                            || matches!(&case.steps[i], Step::Navigate(n) if n.window == actor && n.by == actor)
                    })
                });
                match (recorded, other) {
                    (Some(v), _) => v,
                    (None, Err(e)) => {
                        return Ok(Err(Observation::InternalError(format!(
                            "steps {indices:?}: WebDriver: {e}"
                        ))))
                    }
                    (None, Ok(v)) => v,
                }
            }
        };
        let results = results.as_array().cloned().unwrap_or_default();
        for (k, i) in range.enumerate() {
            let Some(res) = results.get(k) else {
                return Ok(Err(Observation::InternalError(format!(
                    "step {i}: no result from the agent"
                ))));
            };
            if let Some(e) = res.get("harnessError") {
                return Ok(Err(Observation::InternalError(format!(
                    "step {i}: {}",
                    e.as_str().unwrap_or("?")
                ))));
            }
            let threw = res.get("threw").and_then(|t| t.as_str()).map(str::to_owned);
            match (&case.steps[i], threw) {
                (Step::Post(_) | Step::PortPost(_), threw) => {
                    r.posts.push(PostOutcome { step: i, threw })
                }
                (_, None) => {}
                (step, Some(name)) => {
                    return Ok(Err(Observation::Inconclusive(format!(
                        "step {i} ({}) threw {name}: {}",
                        step.kind(),
                        res.get("message").and_then(|m| m.as_str()).unwrap_or("")
                    ))))
                }
            }
        }
        if let Some(e) = results
            .get(indices.len())
            .and_then(|m| m.get("harnessError"))
        {
            return Ok(Err(Observation::InternalError(format!(
                "markers: {}",
                e.as_str().unwrap_or("?")
            ))));
        }
    }
    if !race {
        return Ok(Ok(()));
    }
    let settle_started = Instant::now();
    let settled = settle_and_send_markers(client, runner, popups, state, pacing, r, at).await;
    state
        .profile
        .phase(r.engine(), Phase::Markers, settle_started.elapsed());
    settled
}

/// Resets every scripted window of a reused slot for its new case (its
/// agent configuration, fresh per-case state, epoch markers), in window
/// order.
async fn reset_windows(
    client: &Client,
    (runner, popups): (&WindowHandle, &mut HashMap<String, WindowHandle>),
    state: &RunState,
    r: &Running,
    at: &mut Option<At>,
) -> Result<Result<(), Observation>, CmdError> {
    let plan = &r.plan;
    for w in plan.observer_windows() {
        let location = plan.location_before(w, 0);
        if let Err(e) = enter(client, (runner, popups), r, &location, (at, false)).await? {
            return Ok(Err(Observation::InternalError(e)));
        }
        let config = super::reuse::reset_config(plan, w, &r.key_prefix, state.marker_prefix());
        let targets = super::reuse::epoch_targets(plan, w);
        // As text: a WebDriver server may reorder an object's keys (and
        // the order of a message's properties is observable).
        let result = client
            .execute(
                "return window.__pmconf.reset(JSON.parse(arguments[0]), arguments[1]);",
                vec![Json::String(config.to_string()), Json::Array(targets)],
            )
            .await?;
        if let Some(e) = result.get("harnessError") {
            return Ok(Err(Observation::InternalError(format!(
                "resetting `{}` for reuse: {}",
                plan.case.windows[w].name,
                e.as_str().unwrap_or("?")
            ))));
        }
    }
    Ok(Ok(()))
}

/// A race case's end: waits until every surviving window's last
/// navigation has committed and its document runs the agent, then sends
/// the end-of-case markers.
async fn settle_and_send_markers(
    client: &Client,
    runner: &WindowHandle,
    popups: &mut HashMap<String, WindowHandle>,
    state: &RunState,
    pacing: &Pacing,
    r: &Running,
    at: &mut Option<At>,
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
        let location = plan.location_before(w, end);
        if let Err(e) = enter(client, (runner, popups), r, &location, (at, true)).await? {
            return Ok(Err(Observation::InternalError(e)));
        }
        let result = client
            .execute(
                "return window.__pmconf.run([], arguments[0]);",
                vec![Json::Array(targets)],
            )
            .await?;
        if let Some(e) = result.get(0).and_then(|m| m.get("harnessError")) {
            return Ok(Err(Observation::InternalError(format!(
                "markers from `{}`: {}",
                case.windows[w].name,
                e.as_str().unwrap_or("?")
            ))));
        }
    }
    Ok(Ok(()))
}

/// The results of a task whose last steps navigate the actor's own
/// document, from the partial report the agent sent just before them: those
/// steps are taken to have returned, which the wait for the new document
/// that follows every navigation then confirms (a navigation that threw
/// never loads its document, and the case ends inconclusive).
fn self_navigation_results(
    state: &RunState,
    key: &str,
    indices: &[usize],
    navigates_self: impl Fn(usize) -> bool,
) -> Option<Json> {
    // The window's latest report, sent just before the navigation.
    let progress = state.progress(key);
    let (done, results) = progress.step_results.last()?;
    let rest = indices.strip_prefix(done.as_slice())?;
    // Only the one step that navigated is missing.
    if rest.len() != 1 || !navigates_self(rest[0]) {
        return None;
    }
    let mut all = results.as_array()?.clone();
    all.push(json!({ "threw": null }));
    Some(Json::Array(all))
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

/// Closes every window but the runner and unmounts the batch's frames, but
/// for the slots `keep` (at most `pool_cap` idle slots stay).
async fn cleanup(client: &Client, runner: &WindowHandle, keep: &[&str], pool_cap: usize) {
    if let Ok(handles) = client.windows().await {
        for h in handles.into_iter().filter(|h| h != runner) {
            if client.switch_to_window(h).await.is_ok() {
                let _ = client.close_window().await;
            }
        }
    }
    if client.switch_to_window(runner.clone()).await.is_ok() {
        let _ = client
            .execute(
                "window.__pmconfRelease(arguments[0], arguments[1]); return true;",
                vec![json!(keep), json!(pool_cap)],
            )
            .await;
    }
}
