//! Drives one engine's WebDriver session through the cases: many cases share
//! one page load of the runner page, a batch at a time.

use super::pages::{RUNNER_HOST, RUNNER_PATH};
use super::plan::{CasePlan, WindowLocation};
use super::state::RunState;
use super::verdict::Observation;
use fantoccini::error::CmdError;
use fantoccini::wd::WindowHandle;
use fantoccini::Client;
use pmconf_model::case::WindowIndex;
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
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            batch_size: 12,
            ready_timeout: Duration::from_secs(15),
            report_timeout: Duration::from_secs(10),
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
    posts: Vec<PostOutcome>,
    failed: Option<Observation>,
}

impl Running {
    fn key(&self, w: WindowIndex) -> String {
        format!("{}/{w}", self.key_prefix)
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
    let mut slot = 0u16;
    for plan in plans {
        let key_prefix = format!("{engine}/{}.{}", plan.id, state.next_mount());
        let failed = plan.cannot_run.clone().map(Observation::Inconclusive);
        let this_slot = slot;
        if failed.is_none() {
            state.register(engine, plan.clone());
            mounts.push(json!([
                key_prefix.clone(),
                plan.page_path(0, &key_prefix),
                plan.url_as_written(0)
            ]));
            slot += 1;
        }
        running.push(Running {
            plan: plan.clone(),
            key_prefix,
            slot: this_slot,
            posts: Vec::new(),
            failed,
        });
    }

    let outcome = drive_batch(client, state, pacing, runner, &mut running, mounts).await;
    if let Err(e) = &outcome {
        for r in running.iter_mut().filter(|r| r.failed.is_none()) {
            r.failed = Some(Observation::InternalError(format!("WebDriver: {e}")));
        }
    }
    let cleanup_started = Instant::now();
    cleanup(client, runner).await;
    if std::env::var_os("PMCONF_TRACE").is_some() {
        eprintln!(
            "pmconf trace: cleanup {} ms",
            cleanup_started.elapsed().as_millis()
        );
    }

    let observations = running
        .iter()
        .map(|r| match &r.failed {
            Some(f) => f.clone(),
            None => collect(state, r),
        })
        .collect();
    for r in &running {
        state.forget(engine, &r.plan);
    }
    observations
}

async fn drive_batch(
    client: &Client,
    state: &Arc<RunState>,
    pacing: &Pacing,
    runner: &WindowHandle,
    running: &mut [Running],
    mounts: Vec<Json>,
) -> Result<(), CmdError> {
    if mounts.is_empty() {
        return Ok(());
    }
    let trace = Trace::new();
    client.switch_to_window(runner.clone()).await?;
    client
        .execute(
            "for (const m of arguments[0]) window.__pmconfMount(m[0], m[1], m[2]); return true;",
            vec![Json::Array(mounts)],
        )
        .await?;

    // Every scripted window of every case must run its agent.
    let deadline = tokio::time::Instant::now() + pacing.ready_timeout;
    let all_ready = |s: &RunState, r: &Running| {
        r.plan.observer_windows().all(|w| {
            let p = s.progress(&r.key(w));
            p.ready || p.failure.is_some()
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
    for r in running.iter_mut().filter(|r| r.failed.is_none()) {
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

    trace.mark("mount+ready");
    let popups = find_popups(client, runner, running).await?;
    trace.mark("popups");

    for r in running.iter_mut().filter(|r| r.failed.is_none()) {
        if let Err(problem) = run_steps(client, runner, &popups, r).await? {
            r.failed = Some(Observation::InternalError(problem));
        }
    }
    trace.mark("steps+markers");

    let deadline = tokio::time::Instant::now() + pacing.report_timeout;
    state
        .wait_until(deadline, |s| {
            running.iter().filter(|r| r.failed.is_none()).all(|r| {
                r.plan.observer_windows().all(|w| {
                    let p = s.progress(&r.key(w));
                    p.report.is_some() || p.failure.is_some()
                })
            })
        })
        .await;
    trace.mark("reports");
    trace.print(running.len());
    Ok(())
}

/// Phase timings of a batch, printed to stderr when `PMCONF_TRACE` is set.
struct Trace {
    enabled: bool,
    last: Instant,
    phases: std::cell::RefCell<Vec<(&'static str, Duration)>>,
}

impl Trace {
    fn new() -> Self {
        Trace {
            enabled: std::env::var_os("PMCONF_TRACE").is_some(),
            last: Instant::now(),
            phases: Default::default(),
        }
    }

    fn mark(&self, phase: &'static str) {
        if self.enabled {
            let total: Duration = self.phases.borrow().iter().map(|p| p.1).sum();
            let now = self.last.elapsed();
            self.phases.borrow_mut().push((phase, now - total));
        }
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
        if !p.ready {
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

/// Switches WebDriver into window `w` of a case.
async fn enter(
    client: &Client,
    runner: &WindowHandle,
    popups: &HashMap<String, WindowHandle>,
    r: &Running,
    w: WindowIndex,
) -> Result<Result<(), String>, CmdError> {
    let frames = match &r.plan.locations[w] {
        WindowLocation::Runner { frames } => {
            client.switch_to_window(runner.clone()).await?;
            client.enter_frame(r.slot).await?;
            frames
        }
        WindowLocation::Popup { popup, frames } => {
            let Some(handle) = popups.get(&r.key(*popup)) else {
                return Ok(Err(format!(
                    "popup `{}` has no WebDriver window handle",
                    r.plan.case.windows[*popup].name
                )));
            };
            client.switch_to_window(handle.clone()).await?;
            frames
        }
    };
    for &f in frames {
        client.enter_frame(f).await?;
    }
    Ok(Ok(()))
}

async fn run_steps(
    client: &Client,
    runner: &WindowHandle,
    popups: &HashMap<String, WindowHandle>,
    r: &mut Running,
) -> Result<Result<(), String>, CmdError> {
    let steps: Vec<(usize, WindowIndex)> = r.plan.case.posts().map(|(i, p)| (i, p.from)).collect();
    // Each sender's markers go out with its last step, in the same script
    // call: per-sender order is all the marker needs.
    let last_step_of = |w: WindowIndex| steps.iter().rev().find(|s| s.1 == w).map(|s| s.0);
    // WebDriver stays in the window it entered last; entering it again
    // would cost a command per frame level.
    let mut entered: Option<WindowIndex> = None;
    for &(i, from) in &steps {
        if entered != Some(from) {
            if let Err(e) = enter(client, runner, popups, r, from).await? {
                return Ok(Err(e));
            }
            entered = Some(from);
        }
        let then_markers = last_step_of(from) == Some(i);
        let result = client
            .execute(
                "return window.__pmconf.step(arguments[0], arguments[1]);",
                vec![json!(i), json!(then_markers)],
            )
            .await?;
        if let Some(e) = result.get("harnessError") {
            return Ok(Err(format!("step {i}: {}", e.as_str().unwrap_or("?"))));
        }
        let threw = result
            .get("threw")
            .and_then(|t| t.as_str())
            .map(str::to_owned);
        r.posts.push(PostOutcome { step: i, threw });
    }
    Ok(Ok(()))
}

fn collect(state: &RunState, r: &Running) -> Observation {
    let mut received = Vec::new();
    let mut missing = Vec::new();
    for (w, window) in r.plan.case.windows.iter().enumerate() {
        if !r.plan.scripted[w] {
            received.push((window.name.clone(), Vec::new()));
            continue;
        }
        let p = state.progress(&r.key(w));
        if let Some(f) = p.failure {
            return Observation::Inconclusive(format!("window `{}`: {f}", window.name));
        }
        match p.report {
            Some(deliveries) => received.push((window.name.clone(), deliveries)),
            None => missing.push(window.name.clone()),
        }
    }
    if !missing.is_empty() {
        return Observation::Inconclusive(format!(
            "no end-of-case marker reached {} in time: the case did not finish",
            missing.join(", ")
        ));
    }
    Observation::Observed(Outcome {
        posts: r.posts.clone(),
        received,
    })
}

/// Closes every window but the runner and unmounts the batch's frames.
async fn cleanup(client: &Client, runner: &WindowHandle) {
    if let Ok(handles) = client.windows().await {
        for h in handles.into_iter().filter(|h| h != runner) {
            if client.switch_to_window(h).await.is_ok() {
                let _ = client.close_window().await;
            }
        }
    }
    if client.switch_to_window(runner.clone()).await.is_ok() {
        let _ = client
            .execute("window.__pmconfUnmountAll(); return true;", vec![])
            .await;
    }
}
