//! One engine's sessions in a run: `--sessions N` of them at once, each
//! taking batches from one shared queue, and each replaced when it dies.
//!
//! After a batch in which anything went wrong, the session is probed: its
//! driver process must still run, no WebDriver command may have gone
//! unanswered past the command timeout (a browser stopped with SIGSTOP),
//! and the session must still answer a command (a dead browser makes
//! chromedriver say `invalid session id`, a dead driver refuses the
//! connection). A dead session's processes are ended (by the PIDs the
//! registry started, never by name), a fresh driver and session are
//! started, and the batch is run once more in it, as wptrunner restarts
//! the browser after a CRASH. If the batch kills that session too, its
//! cases are `crashed`, with the reason and the driver's last log lines.
//! An engine that needs more than [`super::restarts::MAX_RESTARTS`]
//! restarts within a minute is given up for the rest of the run: its remaining
//! cases are `crashed` ("not run"), and the other engines go on.

use super::driver::{run_cases, CaseRun, Pacing};
use super::liveness::{probe, record_pids, watch};
use super::plan::CasePlan;
use super::restarts::RestartBudget;
use super::state::RunState;
use super::verdict::Observation;
use crate::engine::{children_of, EngineInstance, EngineSession, ProcessIdentity, ProcessRegistry};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Lines of the driver's log quoted in a crashed case's reason.
const LOG_LINES: usize = 12;

/// What the slots of an engine need, owned (each slot is a task).
#[derive(Clone)]
pub struct EngineContext {
    /// The engine instance (a system engine, a declared one, or one on a
    /// remote endpoint).
    pub engine: EngineInstance,
    /// Every plan of the run; work names them by index.
    pub plans: Arc<Vec<Arc<CasePlan>>>,
    /// The server's state.
    pub state: Arc<RunState>,
    /// Where every process goes.
    pub registry: ProcessRegistry,
    /// The forward proxy's address.
    pub proxy: String,
    /// Timeouts (the batch size is the queue's business).
    pub pacing: Pacing,
    /// The limit on each WebDriver command.
    pub command_timeout: Duration,
}

/// What a slot tells its engine.
pub enum SlotEvent {
    /// The slot's first session started (the browser version) or not.
    Started(Result<String, String>),
    /// A case ran (its index is into all plans).
    Case(CaseRun),
    /// Every case of a batch taken from the queue was reported.
    BatchDone,
    /// A session died and is being replaced (`given_up: false`), or the
    /// engine was given up.
    SessionDied {
        /// Why.
        reason: String,
        /// Whether the engine is given up.
        given_up: bool,
    },
}

/// The sessions of one engine and the queue they take batches from.
pub struct Pool {
    work: Option<mpsc::UnboundedSender<Vec<usize>>>,
    slots: Vec<tokio::task::JoinHandle<()>>,
}

impl Pool {
    /// Starts `sessions` slots; each starts its session and sends
    /// [`SlotEvent::Started`] on `events`, then takes batches.
    pub fn start(
        context: EngineContext,
        sessions: usize,
        events: mpsc::UnboundedSender<SlotEvent>,
    ) -> Self {
        let (work, queue) = mpsc::unbounded_channel();
        let queue = Arc::new(tokio::sync::Mutex::new(queue));
        let budget = Arc::new(Mutex::new(RestartBudget::default()));
        let starting = Arc::new(tokio::sync::Mutex::new(()));
        let slots = (0..sessions.max(1))
            .map(|number| {
                let slot = Slot {
                    context: context.clone(),
                    number,
                    generation: 0,
                    session: None,
                    browser: None,
                    budget: budget.clone(),
                    starting: starting.clone(),
                    events: events.clone(),
                };
                tokio::spawn(slot.run(queue.clone()))
            })
            .collect();
        Pool {
            work: Some(work),
            slots,
        }
    }

    /// Queues a batch (plan indices); one slot runs it and sends its
    /// cases, then [`SlotEvent::BatchDone`].
    pub fn queue(&self, batch: Vec<usize>) {
        if let Some(work) = &self.work {
            let _ = work.send(batch);
        }
    }

    /// Closes the queue and waits until every slot has ended its session.
    pub async fn finish(mut self) {
        self.work = None;
        for slot in self.slots.drain(..) {
            let _ = slot.await;
        }
    }
}

/// One session's worth of work: a task that keeps a live session and
/// replaces it when it dies.
struct Slot {
    context: EngineContext,
    number: usize,
    generation: usize,
    session: Option<EngineSession>,
    /// The session's browser process (the driver's first child).
    browser: Option<ProcessIdentity>,
    budget: Arc<Mutex<RestartBudget>>,
    /// Held while a session of this engine starts: sessions start one at
    /// a time, so N browsers starting at once do not overload a small
    /// machine past the session-creation timeout.
    starting: Arc<tokio::sync::Mutex<()>>,
    events: mpsc::UnboundedSender<SlotEvent>,
}

impl Slot {
    async fn run(mut self, queue: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Vec<usize>>>>) {
        let started = self.start().await;
        let failed = started.is_err();
        let _ = self.events.send(SlotEvent::Started(started));
        if failed {
            return;
        }
        loop {
            let batch = queue.lock().await.recv().await;
            let Some(batch) = batch else { break };
            for run in self.run_batch(&batch).await {
                let _ = self.events.send(SlotEvent::Case(run));
            }
            let _ = self.events.send(SlotEvent::BatchDone);
        }
        self.end_session().await;
    }

    /// Starts a session; the browser version, or why not.
    async fn start(&mut self) -> Result<String, String> {
        let _one_at_a_time = self.starting.lock().await;
        let session = self
            .context
            .engine
            .start(&self.context.proxy, &self.context.registry)
            .await
            .map_err(|e| e.to_string())?;
        session
            .command_deadline()
            .set_limit(self.context.command_timeout);
        // A remote session (`--webdriver-url`) has no driver or browser here.
        self.browser = session
            .driver_process()
            .and_then(|driver| children_of(driver.pid()).first().copied());
        record_pids(&session, self.browser, self.number, self.generation);
        self.context.state.profile.session(
            &self.context.engine.name,
            self.context.engine.kind,
            &session,
        );
        self.generation += 1;
        let version = session.browser_version.clone();
        self.session = Some(session);
        Ok(version)
    }

    /// Ends the session, whatever state it is in.
    async fn end_session(&mut self) {
        if let Some(session) = self.session.take() {
            let _ = session.close().await;
        }
    }

    /// Starts a fresh session after one died of `why`, as long as the
    /// engine's budget allows; the reason it was given up otherwise.
    async fn restart(&mut self, why: &str) -> Result<(), String> {
        let mut why = why.to_owned();
        loop {
            let allowed = self.budget().restart(Instant::now(), &why);
            if let Err(refused) = allowed {
                return Err(self.refused(refused));
            }
            match self.start().await {
                Ok(_) => {
                    self.budget().started();
                    return Ok(());
                }
                Err(e) => {
                    why = format!("a new session could not start: {e}");
                    let failed = self.budget().start_failed(&why);
                    if let Err(refused) = failed {
                        return Err(self.refused(refused));
                    }
                }
            }
        }
    }

    /// The engine's restart budget, shared by its slots.
    fn budget(&self) -> std::sync::MutexGuard<'_, RestartBudget> {
        self.budget.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The reason a restart was refused; the slot that gave the engine up
    /// says so once.
    fn refused(&self, (reason, gave_up_now): (String, bool)) -> String {
        if gave_up_now {
            let _ = self.events.send(SlotEvent::SessionDied {
                reason: reason.clone(),
                given_up: true,
            });
        }
        reason
    }

    /// Runs one batch, in a fresh session if the first one dies under it.
    async fn run_batch(&mut self, batch: &[usize]) -> Vec<CaseRun> {
        let engine = self.context.engine.name.clone();
        let mut died: Option<String> = None;
        for attempt in 1..=2 {
            if self.session.is_none() {
                let why = died.as_deref().unwrap_or("the last session died");
                if let Err(reason) = self.restart(why).await {
                    let reason = match &died {
                        Some(death) => format!("{death}\nno new session: {engine} was {reason}"),
                        None => format!("not run: {engine} was {reason}"),
                    };
                    return crashed(batch, &reason);
                }
            }
            let session = self.session.as_ref().expect("started above");
            // A safety net under the per-command limit: no batch may take
            // longer than all its waits and commands could.
            let limit = batch_limit(&self.context, batch);
            let ran = tokio::select! {
                ran = tokio::time::timeout(limit, run_plans(session, &self.context, batch)) => {
                    ran.map_err(|_| format!("the batch took longer than {} s", limit.as_secs()))
                }
                // A browser or driver that exits is noticed at once, not
                // only once the batch's waits run out.
                gone = watch(session, self.browser, &self.context.registry) => Err(gone),
            };
            let reason = match ran {
                Ok((runs, error)) => {
                    let troubled = error.is_some()
                        || runs
                            .iter()
                            .any(|r| !matches!(r.observation, Observation::Observed(_)));
                    if !troubled {
                        return runs;
                    }
                    match probe(session, &self.context.registry).await {
                        Ok(()) => return runs,
                        Err(reason) => reason,
                    }
                }
                Err(reason) => reason,
            };
            let log = session.log_tail(LOG_LINES);
            self.end_session().await;
            let what = if attempt == 1 {
                "starting a new one and running the batch in flight again"
            } else {
                "the batch in flight is crashed"
            };
            // After Ctrl-C the browsers die because pmconf ends them: no
            // "session died" line then, only the signal's.
            if crate::engine::signal_exit_status().is_none() {
                let _ = self.events.send(SlotEvent::SessionDied {
                    reason: format!("session {} died: {reason}; {what}", self.number + 1),
                    given_up: false,
                });
            }
            died = Some(format!(
                "the {engine} session died under this case's batch{}; last: {reason}\n\
                 last lines of the driver's log:\n{log}",
                if attempt == 2 { " twice" } else { "" }
            ));
        }
        crashed(batch, died.as_deref().unwrap_or("the session died"))
    }
}

/// The longest a batch could take with every wait and every command
/// taking as long as it may.
fn batch_limit(context: &EngineContext, batch: &[usize]) -> Duration {
    let (ready, command) = (context.pacing.ready_timeout, context.command_timeout);
    let per_plan: Duration = batch
        .iter()
        .map(|&i| {
            let case = &context.plans[i].case;
            let (steps, windows) = (case.steps.len() as u32, case.windows.len() as u32);
            ready * (steps + windows) + command * (2 * steps + windows + 2)
        })
        .sum();
    ready + context.pacing.report_timeout + Duration::from_secs(5) + command * 4 + per_plan
}

/// Every case of `batch` as crashed for `reason`.
fn crashed(batch: &[usize], reason: &str) -> Vec<CaseRun> {
    batch
        .iter()
        .map(|&index| CaseRun {
            index,
            observation: Observation::Crashed(reason.to_owned()),
            duration: Duration::ZERO,
        })
        .collect()
}

/// Runs the plans at `batch` in one page load; every one gets a run
/// (index into all plans), and the session's error, if it failed.
async fn run_plans(
    session: &EngineSession,
    context: &EngineContext,
    batch: &[usize],
) -> (Vec<CaseRun>, Option<String>) {
    let plans: Vec<Arc<CasePlan>> = batch.iter().map(|&i| context.plans[i].clone()).collect();
    let pacing = Pacing {
        batch_size: plans.len().max(1),
        ..context.pacing.clone()
    };
    let mut runs: Vec<Option<CaseRun>> = (0..plans.len()).map(|_| None).collect();
    let result = run_cases(
        &session.client,
        context.engine.name.as_str(),
        &plans,
        &context.state,
        &pacing,
        |mut run| {
            let k = run.index;
            run.index = batch[k];
            runs[k] = Some(run);
        },
    )
    .await;
    let error = result.err().map(|e| format!("WebDriver: {e}"));
    let runs = runs
        .into_iter()
        .enumerate()
        .map(|(k, run)| {
            run.unwrap_or_else(|| CaseRun {
                index: batch[k],
                observation: Observation::InternalError(
                    error
                        .clone()
                        .unwrap_or_else(|| "the case produced no result".into()),
                ),
                duration: Duration::ZERO,
            })
        })
        .collect();
    (runs, error)
}
