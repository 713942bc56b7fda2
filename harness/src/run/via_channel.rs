//! Running a batch's tasks over the channel (the default): every task is
//! a WebSocket message to its actor's document, run by the agent inside
//! that message event's task, in page script; the runner page mounts and
//! releases slots on request the same way. WebDriver, when there is one,
//! only loads the runner page (once per session), closes windows a case
//! left open if they did not close themselves, and probes a window that
//! never ran its agent (for the reason a case gives).

use super::channel::{CallError, PeerName};
use super::driver::{Executor, Running, Task};
use super::pages::{RUNNER_HOST, RUNNER_PATH};
use super::plan::WindowLocation;
use super::protocol::{AgentConfig, Path, StepResult};
use super::state::RunState;
use super::verdict::Observation;
use fantoccini::error::CmdError;
use fantoccini::Client;
use pmconf_model::case::{Relation, WindowIndex};
use serde::Deserialize;
use serde_json::{json, Value as Json};
use std::sync::Arc;
use std::time::Duration;

/// How long a runner page may take to answer (mount, release, open).
const RUNNER_DEADLINE: Duration = Duration::from_secs(30);

/// A session driven over the channel.
pub(crate) struct ChannelExecutor<'a> {
    state: Arc<RunState>,
    /// The runner page's id, once it is connected.
    runner: Option<String>,
    /// The WebDriver session, where there is one (`pmconf serve` has none).
    client: Option<&'a Client>,
    /// How long a task may take (a reply waits for its message).
    task_deadline: Duration,
}

impl<'a> ChannelExecutor<'a> {
    /// An executor for a WebDriver session: it loads the runner page.
    pub(crate) fn with_webdriver(
        state: Arc<RunState>,
        client: &'a Client,
        task_deadline: Duration,
    ) -> Self {
        ChannelExecutor {
            state,
            runner: None,
            client: Some(client),
            task_deadline,
        }
    }

    /// An executor for a runner page that is already connected as
    /// `runner` (opened by a person, `pmconf serve`).
    pub(crate) fn with_runner(
        state: Arc<RunState>,
        runner: String,
        task_deadline: Duration,
    ) -> Self {
        ChannelExecutor {
            state,
            runner: Some(runner),
            client: None,
            task_deadline,
        }
    }

    fn runner(&self) -> PeerName {
        PeerName::Runner(self.runner.clone().unwrap_or_default())
    }

    /// Calls the runner page; a runner that is gone ends the session's
    /// work (its browser crashed, or the page was closed) as a WebDriver
    /// failure would.
    async fn call_runner(&self, frame: Json) -> Result<Json, CmdError> {
        self.state
            .channels
            .call(&self.runner(), frame, RUNNER_DEADLINE)
            .await
            .map_err(|e| CmdError::NotW3C(json!(format!("the runner page: {e}"))))
    }
}

/// The URL of the runner page with id `runner` for the run whose channel
/// token is `token`.
pub fn runner_url(runner: &str, token: &str) -> String {
    format!("http://{RUNNER_HOST}{RUNNER_PATH}?runner={runner}&token={token}")
}

/// The runner id in a runner page's URL, if `url` is one of this run's.
fn runner_of(url: &str, token: &str) -> Option<String> {
    let query = url.strip_prefix(&format!("http://{RUNNER_HOST}{RUNNER_PATH}?"))?;
    match super::channel::peer_of_query(query, token).ok()? {
        PeerName::Runner(id) => Some(id),
        PeerName::Document { .. } => None,
    }
}

/// What a call's failure means for the case: its document went away or
/// never answered, so nothing can be concluded.
fn inconclusive(what: &str, e: CallError) -> Observation {
    Observation::Inconclusive(format!("{what}: {e}"))
}

impl Executor for ChannelExecutor<'_> {
    async fn open_runner(&mut self, state: &RunState) -> Result<(), CmdError> {
        let token = state.token().to_owned();
        if let Some(client) = self.client {
            // The runner page stays loaded between calls (a fuzzer's
            // shrinking runs one case at a time); it is loaded again only
            // when the session is elsewhere or its channel closed.
            let at = client.current_url().await?;
            let connected = runner_of(at.as_str(), &token)
                .filter(|id| state.channels.is_connected(&PeerName::Runner(id.clone())));
            let id = match connected {
                Some(id) => id,
                None => {
                    let id = format!("r{}", state.next_mount());
                    client.goto(&runner_url(&id, &token)).await?;
                    id
                }
            };
            self.runner = Some(id);
        }
        let name = self.runner();
        let deadline = tokio::time::Instant::now() + RUNNER_DEADLINE;
        if !state
            .wait_until(deadline, |s| s.channels.is_connected(&name))
            .await
        {
            let at = match self.client {
                Some(c) => c
                    .current_url()
                    .await
                    .map(|u| u.to_string())
                    .unwrap_or_default(),
                None => String::new(),
            };
            return Err(CmdError::NotW3C(json!(format!(
                "the runner page never connected to the channel (the browser is at {at}; is the proxy reachable?)"
            ))));
        }
        Ok(())
    }

    async fn mount(&mut self, mounts: Json) -> Result<Json, CmdError> {
        self.call_runner(json!({ "t": "mount", "mounts": mounts }))
            .await
    }

    /// Opens the top window of each isolated case as a top-level window of
    /// its own, from the runner page (`window.open`; its COOP severs the
    /// opener). It registers on the channel by itself.
    async fn open_top_levels(&mut self, running: &[Running]) -> Result<(), CmdError> {
        let urls: Vec<String> = running
            .iter()
            .filter(|r| r.failed.is_none() && r.plan.case.is_isolated())
            .map(|r| r.plan.top_level_url(&r.key_prefix))
            .collect();
        if urls.is_empty() {
            return Ok(());
        }
        let opened = self
            .call_runner(json!({ "t": "open", "urls": urls }))
            .await?;
        if opened
            .as_array()
            .is_some_and(|a| a.iter().all(|o| o == true))
        {
            Ok(())
        } else {
            Err(CmdError::NotW3C(json!(
                "the runner page could not open a top-level window (popups blocked?)"
            )))
        }
    }

    async fn windows_ready(&mut self, _running: &[Running]) -> Result<(), CmdError> {
        Ok(())
    }

    async fn run_task(
        &mut self,
        _state: &RunState,
        r: &Running,
        task: Task<'_>,
    ) -> Result<Result<Vec<StepResult>, Observation>, CmdError> {
        let to = PeerName::Document {
            key: r.key(task.actor),
            doc: task.doc.clone(),
        };
        let frame = json!({ "t": "task", "steps": task.indices, "markers": task.markers });
        let what = format!(
            "steps {:?} of `{}`",
            task.indices, r.plan.case.windows[task.actor].name
        );
        match self
            .state
            .channels
            .call(&to, frame, self.task_deadline)
            .await
        {
            Ok(results) => Ok(StepResult::list(&results)
                .map_err(|e| Observation::InternalError(format!("{what}: {e}")))),
            Err(e) => Ok(Err(inconclusive(&what, e))),
        }
    }

    async fn reset(
        &mut self,
        r: &Running,
        w: WindowIndex,
        config: &AgentConfig,
        targets: &[Path],
    ) -> Result<Result<StepResult, Observation>, CmdError> {
        // The window's document still carries the case it served last.
        let old_key = r
            .reused_from
            .as_ref()
            .map(|prefix| format!("{prefix}/{w}"))
            .unwrap_or_else(|| r.key(w));
        let Some(doc) = self.state.channels.latest_document(&old_key) else {
            return Ok(Err(Observation::Inconclusive(format!(
                "the reused window `{}` is no longer connected",
                r.plan.case.windows[w].name
            ))));
        };
        let to = PeerName::Document { key: old_key, doc };
        let frame = json!({ "t": "reset", "config": config, "targets": targets });
        match self
            .state
            .channels
            .call(&to, frame, self.task_deadline)
            .await
        {
            Ok(result) => Ok(StepResult::deserialize(&result).map_err(|e| {
                Observation::InternalError(format!("resetting a reused window: {e}"))
            })),
            Err(e) => Ok(Err(inconclusive("resetting a reused window", e))),
        }
    }

    async fn where_is(&mut self, r: &Running, w: WindowIndex) -> String {
        let (Some(client), WindowLocation::Runner { frames }) = (self.client, &r.plan.locations[w])
        else {
            return String::new();
        };
        let Ok(runner) = client.window().await else {
            return String::new();
        };
        super::via_webdriver::probe_location(client, &runner, r, w, frames).await
    }

    /// Asks every top-level window the batch opened (popups, isolated
    /// cases' tops) to close itself, then the runner page to release the
    /// slots but `keep`. Windows that stay open (a document that never ran
    /// the agent) are closed by WebDriver, where there is a session.
    async fn cleanup(&mut self, running: &[Running], keep: &[&str], pool_cap: usize) {
        let mut asked = Vec::new();
        for r in running {
            for (w, window) in r.plan.case.windows.iter().enumerate() {
                let top_level = matches!(window.relation, Relation::Popup { .. })
                    || (w == 0 && r.plan.case.is_isolated());
                if !top_level {
                    continue;
                }
                let key = r.key(w);
                if let Some(doc) = self.state.channels.latest_document(&key) {
                    self.state.channels.tell(
                        &PeerName::Document {
                            key: key.clone(),
                            doc,
                        },
                        &json!({ "t": "close" }),
                    );
                }
                asked.push(key);
            }
        }
        if !asked.is_empty() {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
            let closed = self
                .state
                .wait_until(deadline, |s| {
                    asked
                        .iter()
                        .all(|k| s.channels.latest_document(k).is_none())
                })
                .await;
            // A popup whose document never ran the agent cannot be asked;
            // WebDriver sees every window.
            if let Some(client) = self.client {
                if !closed || client.windows().await.is_ok_and(|w| w.len() > 1) {
                    close_other_windows(client).await;
                }
            }
        }
        let _ = self
            .call_runner(json!({ "t": "release", "keep": keep, "cap": pool_cap }))
            .await;
    }
}

/// Closes every window but the current one (the runner page).
async fn close_other_windows(client: &Client) {
    let Ok(runner) = client.window().await else {
        return;
    };
    if let Ok(handles) = client.windows().await {
        for h in handles.into_iter().filter(|h| *h != runner) {
            if client.switch_to_window(h).await.is_ok() {
                let _ = client.close_window().await;
            }
        }
    }
    let _ = client.switch_to_window(runner).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case_files::LoadedCase;
    use crate::run::plan::CasePlan;

    fn running() -> Running {
        let case = pmconf_model::parse_case(
            "t.yaml",
            "description: t\nwindows:\n  top: { url: \"http://a.test/\" }\nsteps:\n  - post: { from: top, to: top, message: 1, target_origin: \"*\" }\n",
        )
        .unwrap();
        let loaded = LoadedCase {
            path: "t.yaml".into(),
            name: "t.yaml".into(),
            case,
        };
        Running::for_test(Arc::new(CasePlan::new(1, 0, &loaded)), "chromium/1.0")
    }

    fn task() -> Task<'static> {
        Task {
            actor: 0,
            doc: "top".into(),
            first: 0,
            indices: &[0],
            markers: None,
        }
    }

    /// A document whose socket closes while its task runs (it went away,
    /// its browser crashed): the case is inconclusive, saying so, at once.
    #[tokio::test]
    async fn a_channel_that_drops_mid_task_makes_the_case_inconclusive() {
        let state = RunState::new("m:".into());
        let mut top = state.channels.connect();
        state.channels.name(
            &top,
            PeerName::Document {
                key: "chromium/1.0/0".into(),
                doc: "top".into(),
            },
        );
        let mut executor =
            ChannelExecutor::with_runner(state.clone(), "r".into(), Duration::from_secs(600));
        let r = running();
        let drop_it = async {
            let sent = top.outgoing.recv().await.unwrap();
            assert!(sent.contains("\"t\":\"task\""), "{sent}");
            state.channels.disconnect(top.number);
        };
        let (result, ()) = tokio::join!(executor.run_task(&state, &r, task()), drop_it);
        match result.unwrap() {
            Err(Observation::Inconclusive(reason)) => assert_eq!(
                reason,
                "steps [0] of `top`: the channel of document top of chromium/1.0/0 closed before it answered"
            ),
            other => panic!("{other:?}"),
        }
    }

    /// A document that never answers (a task that never ends) holds the
    /// case up to the deadline only, never forever.
    #[tokio::test]
    async fn a_task_that_never_answers_ends_at_its_deadline() {
        let state = RunState::new("m:".into());
        let top = state.channels.connect();
        state.channels.name(
            &top,
            PeerName::Document {
                key: "chromium/1.0/0".into(),
                doc: "top".into(),
            },
        );
        let mut executor =
            ChannelExecutor::with_runner(state.clone(), "r".into(), Duration::from_millis(50));
        match executor.run_task(&state, &running(), task()).await.unwrap() {
            Err(Observation::Inconclusive(reason)) => {
                assert!(reason.contains("did not answer within 50ms"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        drop(top);
    }

    #[test]
    fn a_runner_url_is_known_again_only_with_this_runs_token() {
        let url = runner_url("r4", "tok");
        assert_eq!(runner_of(&url, "tok").as_deref(), Some("r4"));
        assert_eq!(runner_of(&url, "other"), None);
        assert_eq!(
            runner_of("http://a.test/__pmconf/runner?runner=r4&token=tok", "tok"),
            None
        );
    }
}
