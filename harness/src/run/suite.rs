//! A whole run: the server, one session per engine (all engines at once),
//! verdicts, snapshots, and the event stream the reports consume.

use super::attempts::Attempts;
use super::driver::{CaseRun, Pacing};
use super::events::{CaseResult, EngineInfo, OutcomeCount, Reporter, RunEvent, SnapshotStatus};
use super::plan::CasePlan;
use super::pool::{EngineContext, Pool, SlotEvent};
use super::snapshots::{
    compare_and_record_against, compare_and_record_race_against, compared_snapshot, snapshot_path,
    snapshot_text,
};
use super::state::RunState;
use super::verdict::{judge, Observation, Verdict};
use crate::case_files::LoadedCase;
use crate::engine::{EngineInstance, ProcessRegistry};
use crate::server::{Listen, OriginServer};
use pmconf_model::Outcome;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What to run and how.
#[derive(Debug, Clone)]
pub struct SuiteConfig {
    /// Engine instances to run in, all at the same time.
    pub engines: Vec<EngineInstance>,
    /// Where the origin server and proxy listen, and the address browsers
    /// are given (loopback by default).
    pub listen: Listen,
    /// The cases, each run once per engine.
    pub cases: Vec<LoadedCase>,
    /// How often each race case runs per engine (other cases run once).
    pub repeat: usize,
    /// Batching and timeouts.
    pub pacing: Pacing,
    /// Where accepted snapshots live (`snapshots/`); `None` skips snapshot
    /// comparison (benchmarks).
    pub snapshot_dir: Option<PathBuf>,
    /// Write observations as accepted snapshots. Refused under CI.
    pub accept_snapshots: bool,
    /// How often a case whose snapshot changed is run again (all its
    /// repeats) before its result stands; the first attempt that matches
    /// ends it, as wptrunner's `--retry-unexpected`.
    pub retry_unexpected: usize,
    /// Sessions of each engine at once, taking batches from one queue.
    pub sessions: usize,
    /// How long one WebDriver command may go unanswered before its
    /// session counts as hung (and is replaced).
    pub command_timeout: Duration,
    /// Sample the engines' process trees for a profile
    /// (`pmconf bench --profile`).
    pub profile: bool,
}

/// What a run ended with.
#[derive(Debug, Default)]
pub struct SuiteOutcome {
    /// Every case result.
    pub results: Vec<CaseResult>,
    /// Engines that could not start: (engine, error).
    pub setup_failures: Vec<(String, String)>,
    /// Seconds each engine spent running cases.
    pub engine_seconds: Vec<(String, f64)>,
    /// The server's log of refused requests (browser background traffic).
    pub refused_requests: usize,
    /// Where the time went, when asked for.
    pub profile: Option<super::profile::ProfileReport>,
}

impl SuiteOutcome {
    /// Whether anything unexpected happened (exit status 1).
    pub fn unexpected(&self) -> bool {
        self.results.iter().any(CaseResult::is_unexpected)
    }
}

/// A setup problem before any engine starts (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum SuiteSetupError {
    /// The local server could not start.
    #[error("the local origin server could not start: {0}")]
    Server(String),
}

enum EngineMessage {
    Started(EngineInfo),
    SetupFailed(String, String),
    Case(String, super::driver::CaseRun),
    /// The engine ran every case it was given and waits for a list of
    /// cases to run again (an empty list ends it).
    PassDone(String),
    /// A session died and is being replaced, or the engine was given up.
    Restart {
        engine: String,
        reason: String,
        given_up: bool,
    },
    Ended(String, usize, f64),
}

/// Runs the suite, feeding `reporter` every event in order.
pub async fn run_suite(
    config: SuiteConfig,
    registry: &ProcessRegistry,
    reporter: &mut dyn Reporter,
) -> Result<SuiteOutcome, SuiteSetupError> {
    let started = Instant::now();
    // Marker messages start with a string no case message can contain by
    // accident; the process id keeps concurrent runs apart.
    let state = RunState::new(format!("\u{0}pmconf-marker:{}:", std::process::id()));
    let server = OriginServer::start_on(state.clone(), config.listen.bind)
        .await
        .map_err(|e| SuiteSetupError::Server(e.to_string()))?;
    let proxy = config.listen.proxy_address(server.port());
    let sampler = config
        .profile
        .then(|| super::profile::Sampler::start(state.clone()));

    // A race case is planned once per repeat; every plan has its own id
    // (and so its own pages), all pointing back at the case.
    let mut expanded: Vec<Arc<CasePlan>> = Vec::new();
    let mut plans_of_case: Vec<Vec<usize>> = Vec::new();
    for (ci, c) in config.cases.iter().enumerate() {
        let runs = if c.case.is_race() {
            config.repeat.max(1)
        } else {
            1
        };
        plans_of_case.push((expanded.len()..expanded.len() + runs).collect());
        for _ in 0..runs {
            expanded.push(Arc::new(CasePlan::new(expanded.len(), ci, c)));
        }
    }
    let plans: Arc<Vec<Arc<CasePlan>>> = Arc::new(expanded);
    reporter.on_event(&RunEvent::SuiteStart {
        engines: config.engines.iter().map(|e| e.name.clone()).collect(),
        cases: config.cases.len(),
    });
    let mut attempts = Attempts::new(plans_of_case, config.retry_unexpected);
    let mut rerun_senders: HashMap<String, mpsc::UnboundedSender<Vec<usize>>> = HashMap::new();

    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut tasks = Vec::new();
    for engine in &config.engines {
        let engine = engine.clone();
        let (rerun_tx, rerun_rx) = mpsc::unbounded_channel();
        rerun_senders.insert(engine.name.clone(), rerun_tx);
        let tx = tx.clone();
        let plans = plans.clone();
        let state = state.clone();
        let registry = registry.clone();
        let proxy = proxy.clone();
        let pacing = config.pacing.clone();
        let (sessions, command_timeout) = (config.sessions, config.command_timeout);
        tasks.push(tokio::spawn(async move {
            let session = EngineSession {
                engine: &engine,
                state: &state,
                registry: &registry,
                proxy: &proxy,
                pacing: &pacing,
                sessions,
                command_timeout,
                tx: &tx,
            };
            run_engine(session, &plans, rerun_rx).await;
        }));
    }
    drop(tx);

    let mut outcome = SuiteOutcome::default();
    while let Some(message) = rx.recv().await {
        match message {
            EngineMessage::Started(info) => reporter.on_event(&RunEvent::EngineStart(info)),
            EngineMessage::SetupFailed(engine, error) => {
                reporter.on_event(&RunEvent::EngineSetupFailed {
                    engine: engine.clone(),
                    error: error.clone(),
                });
                outcome.setup_failures.push((engine, error));
            }
            EngineMessage::Case(engine, run) => {
                let plan = &plans[run.index];
                let judge = |runs, seen_earlier: &[Outcome]| {
                    case_result(&engine, plan, runs, seen_earlier, Snapshots::of(&config))
                };
                let run = (run.observation, run.duration);
                let Some(mut result) = attempts.add(&engine, plan.case_index, run, judge) else {
                    continue;
                };
                // A race case's pending snapshot outlives a retry that
                // matched (see compare_and_record_race): say where it is.
                result.kept_pending = result
                    .earlier_attempts
                    .iter()
                    .filter_map(|a| match &a.snapshot {
                        SnapshotStatus::Changed { pending, .. } => Some(pending),
                        _ => None,
                    })
                    .find(|p| std::path::Path::new(p).exists())
                    .filter(|_| result.is_flaky())
                    .cloned();
                reporter.on_event(&RunEvent::CaseStart {
                    engine: engine.clone(),
                    case: plan.name.clone(),
                });
                reporter.on_event(&RunEvent::CaseEnd(result.clone()));
                outcome.results.push(result);
            }
            EngineMessage::PassDone(engine) => {
                let again = attempts.take_reruns(&engine);
                if let Some(sender) = rerun_senders.get(&engine) {
                    let _ = sender.send(again);
                }
            }
            EngineMessage::Restart {
                engine,
                reason,
                given_up,
            } => reporter.on_event(&RunEvent::EngineRestart {
                engine,
                reason,
                given_up,
            }),
            EngineMessage::Ended(engine, cases, seconds) => {
                reporter.on_event(&RunEvent::EngineEnd {
                    engine: engine.clone(),
                    cases,
                    seconds,
                });
                outcome.engine_seconds.push((engine, seconds));
            }
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    outcome.refused_requests = server.rejected().len();
    outcome.profile =
        sampler.map(|s| s.finish(&state, &outcome.engine_seconds, server.requests_served()));
    server.shutdown().await;
    reporter.on_event(&RunEvent::SuiteEnd {
        seconds: started.elapsed().as_secs_f64(),
    });
    Ok(outcome)
}

/// What an engine's task needs besides its plans.
struct EngineSession<'a> {
    engine: &'a EngineInstance,
    state: &'a Arc<RunState>,
    registry: &'a ProcessRegistry,
    proxy: &'a str,
    pacing: &'a Pacing,
    sessions: usize,
    command_timeout: Duration,
    tx: &'a mpsc::UnboundedSender<EngineMessage>,
}

/// Runs every plan in one engine through a [`Pool`] of its sessions: all
/// plans in batches, then the inconclusive ones once more, then whatever
/// the suite asks to run again.
async fn run_engine(
    session: EngineSession<'_>,
    plans: &Arc<Vec<Arc<CasePlan>>>,
    mut reruns: mpsc::UnboundedReceiver<Vec<usize>>,
) {
    let EngineSession {
        engine,
        state,
        registry,
        proxy,
        pacing,
        sessions,
        command_timeout,
        tx,
    } = session;
    let name = engine.name.clone();
    let context = EngineContext {
        engine: engine.clone(),
        plans: plans.clone(),
        state: state.clone(),
        registry: registry.clone(),
        proxy: proxy.to_owned(),
        pacing: pacing.clone(),
        command_timeout,
    };
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let pool = Pool::start(context, sessions, events_tx);
    let mut version = None;
    let mut failures = Vec::new();
    for _ in 0..sessions.max(1) {
        match events.recv().await {
            Some(SlotEvent::Started(Ok(v))) => version = version.or(Some(v)),
            Some(SlotEvent::Started(Err(e))) => failures.push(e),
            _ => {}
        }
    }
    let Some(browser_version) = version else {
        let error = failures.into_iter().next().unwrap_or_default();
        let _ = tx.send(EngineMessage::SetupFailed(name, error));
        pool.finish().await;
        return;
    };
    for failure in &failures {
        eprintln!(
            "warning: {name}: a session of {sessions} could not start; going on with the others: {}",
            failure.lines().next().unwrap_or("")
        );
    }
    let _ = tx.send(EngineMessage::Started(EngineInfo {
        engine: name.clone(),
        browser_version,
    }));
    let started = Instant::now();
    let mut pass = Pass {
        pool: &pool,
        events: &mut events,
        engine: &name,
        batch_size: pacing.batch_size.max(1),
        tx,
        reported: 0,
    };
    // An inconclusive case (a page that did not load in time on a loaded
    // machine) is run once more at the end, as wptrunner retries unexpected
    // results; if it is inconclusive again, that result stands.
    let mut retry: Vec<usize> = Vec::new();
    let all: Vec<usize> = (0..plans.len()).collect();
    pass.run(&all, |run| {
        let can_run = plans[run.index].cannot_run.is_none();
        if can_run && matches!(run.observation, Observation::Inconclusive(_)) {
            retry.push(run.index);
            None
        } else {
            Some(run)
        }
    })
    .await;
    retry.sort_unstable();
    let note = " (inconclusive twice: retried once at the end of the run)";
    pass.run(&retry, |mut run| {
        if let Observation::Inconclusive(reason) = &mut run.observation {
            reason.push_str(note);
        }
        Some(run)
    })
    .await;
    // Then whatever the suite judged unexpected, for as long as it asks.
    loop {
        let _ = tx.send(EngineMessage::PassDone(name.clone()));
        match reruns.recv().await {
            Some(again) if !again.is_empty() => pass.run(&again, Some).await,
            _ => break,
        }
    }
    let count = pass.reported;
    let seconds = started.elapsed().as_secs_f64();
    pool.finish().await;
    let _ = tx.send(EngineMessage::Ended(name, count, seconds));
}

/// Queues plans on an engine's pool in batches and reports each case as
/// the sessions finish it.
struct Pass<'a> {
    pool: &'a Pool,
    events: &'a mut mpsc::UnboundedReceiver<SlotEvent>,
    engine: &'a str,
    batch_size: usize,
    tx: &'a mpsc::UnboundedSender<EngineMessage>,
    /// Cases reported so far.
    reported: usize,
}

impl Pass<'_> {
    /// Runs the plans at `indices` and waits for all of them; `keep`
    /// decides which runs are reported now (`Some`), possibly changed.
    async fn run(&mut self, indices: &[usize], mut keep: impl FnMut(CaseRun) -> Option<CaseRun>) {
        let mut outstanding = 0;
        for batch in indices.chunks(self.batch_size) {
            self.pool.queue(batch.to_vec());
            outstanding += 1;
        }
        while outstanding > 0 {
            match self.events.recv().await {
                Some(SlotEvent::Case(run)) => {
                    if let Some(run) = keep(run) {
                        self.reported += 1;
                        let _ = self
                            .tx
                            .send(EngineMessage::Case(self.engine.to_owned(), run));
                    }
                }
                Some(SlotEvent::BatchDone) => outstanding -= 1,
                Some(SlotEvent::SessionDied { reason, given_up }) => {
                    let _ = self.tx.send(EngineMessage::Restart {
                        engine: self.engine.to_owned(),
                        reason,
                        given_up,
                    });
                }
                Some(SlotEvent::Started(_)) => {}
                // Every slot ended (none can take work): nothing more comes.
                None => break,
            }
        }
    }
}

/// Where a case's result is compared and recorded: the snapshot
/// directory (none: nothing is compared), whether to accept, and the
/// run's engine instances (an instance may compare with another engine's
/// snapshots).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Snapshots<'a> {
    /// The snapshot directory.
    pub dir: Option<&'a std::path::Path>,
    /// Whether what was observed is written as accepted.
    pub accept: bool,
    /// The run's engine instances.
    pub engines: &'a [crate::engine::EngineInstance],
}

impl<'a> Snapshots<'a> {
    /// A run's snapshots.
    pub fn of(config: &'a SuiteConfig) -> Self {
        Snapshots {
            dir: config.snapshot_dir.as_deref(),
            accept: config.accept_snapshots,
            engines: &config.engines,
        }
    }
}

/// Judges every run of a case in one engine: conforms when every observed
/// outcome is allowed, diverges when one is not; inconclusive (or an
/// internal error) only when no run observed anything.
///
/// `seen_earlier` holds what earlier attempts at the case saw, for the
/// race snapshot's pending file; the result is this attempt's alone.
pub(crate) fn case_result(
    engine: &str,
    plan: &CasePlan,
    runs: Vec<(Observation, Duration)>,
    seen_earlier: &[Outcome],
    config: Snapshots<'_>,
) -> CaseResult {
    let duration: Duration = runs.iter().map(|r| r.1).sum();
    let observed: Vec<Outcome> = runs
        .iter()
        .filter_map(|(o, _)| match o {
            Observation::Observed(o) => Some(o.clone()),
            _ => None,
        })
        .collect();
    let unobserved: Vec<&Observation> = runs
        .iter()
        .map(|r| &r.0)
        .filter(|o| !matches!(o, Observation::Observed(_)))
        .collect();
    let (histogram, not_seen) = OutcomeCount::histogram(&observed, &plan.allowed);
    let crashed = unobserved
        .iter()
        .find(|o| matches!(o, Observation::Crashed(_)));
    let verdict = if let Some(crash) = crashed {
        // A repeat whose session died twice under it is a crash of the
        // case, whatever the other repeats saw (kept in the histogram): it
        // fails the run, as a crash of a single run does.
        judge(crash, &plan.allowed, &plan.contested)
    } else if observed.is_empty() {
        // Prefer an internal error's reason: it is not the page's doing.
        let first = unobserved
            .iter()
            .find(|o| matches!(o, Observation::InternalError(_)))
            .or(unobserved.first())
            .expect("a case has at least one run");
        judge(first, &plan.allowed, &plan.contested)
    } else if histogram.iter().all(|b| b.allowed) {
        Verdict::Conforms
    } else if histogram
        .iter()
        .all(|b| b.allowed || plan.contested.iter().any(|c| b.outcome.matches(&c.outcome)))
    {
        // Only allowed and contested outcomes, at least one contested.
        Verdict::Contested
    } else {
        Verdict::Diverges
    };
    // The outcome shown as "observed": one the model does not allow, if
    // any, else the most frequent.
    let shown = histogram
        .iter()
        .find(|b| !b.allowed)
        .or_else(|| histogram.iter().max_by_key(|b| b.count))
        .map(|b| b.outcome.clone());
    let race = plan.case.is_race();
    let contested_outcomes: Vec<Outcome> =
        plan.contested.iter().map(|c| c.outcome.clone()).collect();
    let snapshot = match (&config.dir, &shown) {
        (Some(dir), Some(o))
            if !matches!(
                verdict,
                Verdict::Inconclusive { .. }
                    | Verdict::InternalError { .. }
                    | Verdict::Crashed { .. }
            ) =>
        {
            let path = snapshot_path(dir, engine, &plan.name);
            // Its own accepted snapshot, or its `compare_with` engine's.
            let accepted = compared_snapshot(dir, config.engines, engine, &plan.name);
            let recorded = if race {
                compare_and_record_race_against(
                    &accepted,
                    &path,
                    (&plan.name, &plan.case.description),
                    (&plan.allowed, &contested_outcomes),
                    &observed,
                    seen_earlier,
                    config.accept,
                )
            } else {
                let text = snapshot_text(&plan.name, &plan.case.description, &verdict, o);
                compare_and_record_against(&accepted, &path, &text, config.accept)
            };
            match recorded {
                Ok(s) => s,
                Err(e) => SnapshotStatus::Changed {
                    pending: path.display().to_string(),
                    diff: format!("could not write the snapshot: {e}"),
                },
            }
        }
        _ => SnapshotStatus::NotCompared,
    };
    let unobserved_reason = unobserved.first().and_then(|o| match o {
        Observation::Inconclusive(r) | Observation::InternalError(r) | Observation::Crashed(r) => {
            Some(r.clone())
        }
        Observation::Observed(_) => None,
    });
    CaseResult {
        engine: engine.to_owned(),
        case: plan.name.clone(),
        description: plan.case.description.clone(),
        verdict,
        observed: shown,
        allowed: plan.allowed.clone(),
        contested: plan.contested.clone(),
        snapshot,
        duration_ms: duration.as_millis() as u64,
        runs: runs.len(),
        histogram,
        not_seen,
        unobserved_runs: unobserved.len(),
        unobserved_reason,
        earlier_attempts: vec![],
        kept_pending: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pmconf_model::parse_case;

    /// A race case (top posts to its iframe, then reloads it) run five
    /// times; no snapshot directory, so only the verdict is judged.
    fn plan_and_config() -> (CasePlan, SuiteConfig) {
        let yaml = r#"
description: t
windows:
  top: { url: "http://a.test/" }
  child: { parent: top, url: "http://b.test/" }
steps:
  - post: { from: top, to: child, message: m, target_origin: "*" }
  - reload: { window: child }
"#;
        let loaded = LoadedCase {
            path: "t.yaml".into(),
            name: "races/t.yaml".into(),
            case: parse_case("t.yaml", yaml).unwrap(),
        };
        let plan = CasePlan::new(0, 0, &loaded);
        let config = SuiteConfig {
            engines: Vec::new(),
            listen: Listen::default(),
            cases: vec![loaded],
            repeat: 5,
            pacing: Pacing::default(),
            snapshot_dir: None,
            accept_snapshots: false,
            retry_unexpected: 0,
            sessions: 1,
            command_timeout: Duration::from_secs(30),
            profile: false,
        };
        (plan, config)
    }

    #[test]
    fn a_crashed_repeat_makes_the_case_crashed_whatever_the_others_saw() {
        let (plan, config) = plan_and_config();
        let allowed = plan.allowed[0].clone();
        let mut runs: Vec<(Observation, Duration)> = (0..4)
            .map(|_| (Observation::Observed(allowed.clone()), Duration::ZERO))
            .collect();
        runs.push((
            Observation::Crashed("the browser process is gone".into()),
            Duration::ZERO,
        ));
        let result = case_result("chromium", &plan, runs, &[], Snapshots::of(&config));
        assert_eq!(
            result.verdict,
            Verdict::Crashed {
                reason: "the browser process is gone".into()
            }
        );
        assert!(result.is_unexpected(), "a crash fails the run");
        // What the other repeats saw is kept.
        assert_eq!(result.histogram.iter().map(|b| b.count).sum::<usize>(), 4);
    }

    #[test]
    fn an_inconclusive_repeat_beside_observed_ones_does_not_decide() {
        let (plan, config) = plan_and_config();
        let allowed = plan.allowed[0].clone();
        let runs = vec![
            (Observation::Observed(allowed), Duration::ZERO),
            (
                Observation::Inconclusive("a report was lost".into()),
                Duration::ZERO,
            ),
        ];
        let result = case_result("chromium", &plan, runs, &[], Snapshots::of(&config));
        assert_eq!(result.verdict, Verdict::Conforms);
    }
}
