//! Running a batch's tasks through WebDriver (`pmconf run --via
//! webdriver`): each task is an Execute Script call in its actor's
//! window, entered with Switch To Window / Switch To Frame; popups are
//! found by scanning window handles. Kept to compare with the channel
//! ([`super::via_channel`]), which is the default: a script call is not a
//! task of the page (in Firefox it runs from an IPC handler, in a
//! sandbox, and can run inside a nested event loop).

use super::driver::{Executor, Running, Task};
use super::frames::{move_to, At};
use super::pages::{RUNNER_HOST, RUNNER_PATH};
use super::plan::WindowLocation;
use super::protocol::{AgentConfig, Path, StepResult};
use super::state::RunState;
use super::verdict::Observation;
use fantoccini::error::CmdError;
use fantoccini::wd::WindowHandle;
use fantoccini::Client;
use pmconf_model::case::{Step, WindowIndex};
use serde::Deserialize;
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::time::Duration;

/// A session driven through WebDriver alone.
pub(crate) struct WebDriverExecutor<'a> {
    client: &'a Client,
    runner: Option<WindowHandle>,
    popups: HashMap<String, WindowHandle>,
    /// Where WebDriver's current browsing context is, when known.
    at: Option<At>,
}

impl<'a> WebDriverExecutor<'a> {
    /// An executor for the session `client`.
    pub(crate) fn new(client: &'a Client) -> Self {
        WebDriverExecutor {
            client,
            runner: None,
            popups: HashMap::new(),
            at: None,
        }
    }

    fn runner(&self) -> WindowHandle {
        self.runner.clone().expect("the runner page is open")
    }

    /// Switches WebDriver into the window at `location` in a case, from
    /// where it is unless `fresh`; popups not yet known (created by a
    /// step) are looked up once more.
    async fn enter(
        &mut self,
        r: &Running,
        location: &WindowLocation,
        fresh: bool,
    ) -> Result<Result<(), String>, CmdError> {
        let to = match location {
            WindowLocation::Runner { frames } => At {
                top: self.runner(),
                frames: std::iter::once(r.slot)
                    .chain(frames.iter().copied())
                    .collect(),
            },
            WindowLocation::Popup { popup, frames } => {
                if !self.popups.contains_key(&r.key(*popup)) {
                    self.at = None;
                    let found = scan_popups(self.client, &self.runner()).await?;
                    self.popups.extend(found);
                }
                let Some(handle) = self.popups.get(&r.key(*popup)) else {
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
        move_to(self.client, &mut self.at, to, fresh).await?;
        Ok(Ok(()))
    }
}

impl Executor for WebDriverExecutor<'_> {
    async fn open_runner(&mut self, _state: &RunState) -> Result<(), CmdError> {
        let runner_url = format!("http://{RUNNER_HOST}{RUNNER_PATH}");
        // The runner page stays loaded between calls (a fuzzer's shrinking
        // runs one case at a time); load it only when the session is
        // elsewhere.
        let mut at = self.client.current_url().await?;
        if at.as_str() != runner_url {
            self.client.goto(&runner_url).await?;
            at = self.client.current_url().await?;
        }
        if at.as_str() != runner_url {
            return Err(CmdError::NotW3C(json!(format!(
                "the runner page did not load: the browser is at {at} (is the proxy reachable?)"
            ))));
        }
        self.runner = Some(self.client.window().await?);
        Ok(())
    }

    async fn mount(&mut self, mounts: Json) -> Result<Json, CmdError> {
        self.client.switch_to_window(self.runner()).await?;
        self.at = None;
        self.client
            .execute(
                "return window.__pmconfMountReusing(arguments[0]);",
                vec![mounts],
            )
            .await
    }

    /// Opens the top window of each isolated case in a new top-level
    /// window (WebDriver's New Window, then a navigation), by its page key.
    async fn open_top_levels(&mut self, running: &[Running]) -> Result<(), CmdError> {
        for r in running
            .iter()
            .filter(|r| r.failed.is_none() && r.plan.case.is_isolated())
        {
            let window = self.client.new_window(false).await?;
            self.client.switch_to_window(window.handle.clone()).await?;
            self.at = None;
            self.client
                .goto(&r.plan.top_level_url(&r.key_prefix))
                .await?;
            self.popups.insert(r.key(0), window.handle);
        }
        Ok(())
    }

    async fn windows_ready(&mut self, running: &[Running]) -> Result<(), CmdError> {
        let wants_popups = running.iter().any(|r| {
            r.failed.is_none()
                && r.plan
                    .locations
                    .iter()
                    .any(|l| matches!(l, WindowLocation::Popup { .. }))
        });
        if wants_popups {
            self.at = None;
            let found = scan_popups(self.client, &self.runner()).await?;
            self.popups.extend(found);
        }
        // Probes and popup scans moved WebDriver: the first case enters
        // afresh.
        self.at = None;
        Ok(())
    }

    async fn run_task(
        &mut self,
        state: &RunState,
        r: &Running,
        task: Task<'_>,
    ) -> Result<Result<Vec<StepResult>, Observation>, CmdError> {
        let case = &r.plan.case;
        let location = r.plan.location_before(task.actor, task.first);
        // WebDriver stays in the window it entered last and moves from
        // there. In a race case the tree changes under it (frames removed
        // and renumbered, navigated), so every task enters afresh.
        if let Err(e) = self.enter(r, &location, case.is_race()).await? {
            return Ok(Err(Observation::InternalError(e)));
        }
        let indices = task.indices;
        let returned = self
            .client
            .execute(
                "return window.__pmconf.run(arguments[0], arguments[1]);",
                vec![json!(indices), json!(task.markers)],
            )
            .await;
        if case.is_race() {
            // A race case may have removed or navigated the frame WebDriver
            // is in.
            self.at = None;
        }
        // A task that navigates the window WebDriver is in can lose the
        // script's return value (or end in an error); the agent sent the
        // same results on its channel before navigating.
        let results = match returned {
            Ok(v) if v.is_array() => v,
            other => {
                let key = r.key(task.actor);
                let find = |s: &RunState| {
                    s.progress(&key)
                        .step_results
                        .iter()
                        .rev()
                        .find(|(i, _)| i.as_slice() == indices)
                        .map(|(_, v)| v.clone())
                };
                let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
                state.wait_until(deadline, |s| find(s).is_some()).await;
                let navigates_self = |i: usize| {
                    matches!(&case.steps[i], Step::Reload { .. })
                        || matches!(&case.steps[i], Step::Navigate(n) if n.window == task.actor && n.by == task.actor)
                };
                let recorded = find(state)
                    .or_else(|| self_navigation_results(state, &key, indices, navigates_self));
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
        Ok(StepResult::list(&results)
            .map_err(|e| Observation::InternalError(format!("steps {indices:?}: {e}"))))
    }

    async fn reset(
        &mut self,
        r: &Running,
        w: WindowIndex,
        config: &AgentConfig,
        targets: &[Path],
    ) -> Result<Result<StepResult, Observation>, CmdError> {
        let location = r.plan.location_before(w, 0);
        if let Err(e) = self.enter(r, &location, false).await? {
            return Ok(Err(Observation::InternalError(e)));
        }
        // As text: a WebDriver server may reorder an object's keys (and
        // the order of a message's properties is observable).
        let result = self
            .client
            .execute(
                "return window.__pmconf.reset(JSON.parse(arguments[0]), arguments[1]);",
                vec![
                    Json::String(
                        serde_json::to_string(config).expect("a configuration serializes"),
                    ),
                    json!(targets),
                ],
            )
            .await?;
        Ok(StepResult::deserialize(&result)
            .map_err(|e| Observation::InternalError(format!("resetting a reused window: {e}"))))
    }

    async fn where_is(&mut self, r: &Running, w: WindowIndex) -> String {
        let WindowLocation::Runner { frames } = &r.plan.locations[w] else {
            return String::new();
        };
        probe_location(self.client, &self.runner(), r, w, frames).await
    }

    /// Closes every window but the runner and unmounts the batch's frames,
    /// but for the slots `keep` (at most `pool_cap` idle slots stay).
    async fn cleanup(&mut self, _running: &[Running], keep: &[&str], pool_cap: usize) {
        let runner = self.runner();
        if let Ok(handles) = self.client.windows().await {
            for h in handles.into_iter().filter(|h| *h != runner) {
                if self.client.switch_to_window(h).await.is_ok() {
                    let _ = self.client.close_window().await;
                }
            }
        }
        self.popups.clear();
        self.at = None;
        if self.client.switch_to_window(runner).await.is_ok() {
            let _ = self
                .client
                .execute(
                    "window.__pmconfRelease(arguments[0], arguments[1]); return true;",
                    vec![json!(keep), json!(pool_cap)],
                )
                .await;
        }
    }
}

/// `location.href` of window `w` (at `frames` below its case's slot) as
/// WebDriver finds it, for diagnosis.
pub(crate) async fn probe_location(
    client: &Client,
    runner: &WindowHandle,
    r: &Running,
    w: WindowIndex,
    frames: &[u16],
) -> String {
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
