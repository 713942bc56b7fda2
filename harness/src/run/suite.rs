//! A whole run: the server, one session per engine (all engines at once),
//! verdicts, snapshots, and the event stream the reports consume.

use super::attempts::Attempts;
use super::driver::{run_cases, Pacing};
use super::events::{CaseResult, EngineInfo, OutcomeCount, Reporter, RunEvent, SnapshotStatus};
use super::plan::CasePlan;
use super::snapshots::{
    compare_and_record, compare_and_record_race_with, snapshot_path, snapshot_text,
};
use super::state::RunState;
use super::verdict::{judge, Observation, Verdict};
use super::worker::EngineWorker;
use crate::case_files::LoadedCase;
use crate::engine::{EngineId, ProcessRegistry};
use crate::server::OriginServer;
use fantoccini::error::CmdError;
use pmconf_model::Outcome;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What to run and how.
#[derive(Debug, Clone)]
pub struct SuiteConfig {
    /// Engines to run in, all at the same time.
    pub engines: Vec<EngineId>,
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
    let server = OriginServer::start(state.clone())
        .await
        .map_err(|e| SuiteSetupError::Server(e.to_string()))?;
    let proxy = server.proxy_address();

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
        engines: config.engines.iter().map(|e| e.name().to_owned()).collect(),
        cases: config.cases.len(),
    });
    let mut attempts = Attempts::new(plans_of_case, config.retry_unexpected);
    let mut rerun_senders: HashMap<String, mpsc::UnboundedSender<Vec<usize>>> = HashMap::new();

    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut tasks = Vec::new();
    for &engine in &config.engines {
        let (rerun_tx, rerun_rx) = mpsc::unbounded_channel();
        rerun_senders.insert(engine.name().to_owned(), rerun_tx);
        let tx = tx.clone();
        let plans = plans.clone();
        let state = state.clone();
        let registry = registry.clone();
        let proxy = proxy.clone();
        let pacing = config.pacing.clone();
        tasks.push(tokio::spawn(async move {
            let session = EngineSession {
                engine,
                state: &state,
                registry: &registry,
                proxy: &proxy,
                pacing: &pacing,
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
                    case_result(&engine, plan, runs, seen_earlier, &config)
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
    server.shutdown().await;
    reporter.on_event(&RunEvent::SuiteEnd {
        seconds: started.elapsed().as_secs_f64(),
    });
    Ok(outcome)
}

/// What an engine's task needs besides its plans.
struct EngineSession<'a> {
    engine: EngineId,
    state: &'a Arc<RunState>,
    registry: &'a ProcessRegistry,
    proxy: &'a str,
    pacing: &'a Pacing,
    tx: &'a mpsc::UnboundedSender<EngineMessage>,
}

async fn run_engine(
    session: EngineSession<'_>,
    plans: &[Arc<CasePlan>],
    mut reruns: mpsc::UnboundedReceiver<Vec<usize>>,
) {
    let EngineSession {
        engine,
        state,
        registry,
        proxy,
        pacing,
        tx,
    } = session;
    let name = engine.name().to_owned();
    let worker =
        match EngineWorker::start(engine, proxy, state.clone(), registry, pacing.clone()).await {
            Ok(w) => w,
            Err(e) => {
                let _ = tx.send(EngineMessage::SetupFailed(name, e.to_string()));
                return;
            }
        };
    let _ = tx.send(EngineMessage::Started(EngineInfo {
        engine: name.clone(),
        browser_version: worker.browser_version().to_owned(),
    }));
    let started = Instant::now();
    let mut count = 0;
    // An inconclusive case (a page that did not load in time on a loaded
    // machine) is run once more at the end, as wptrunner retries unexpected
    // results; if it is inconclusive again, that result stands.
    let mut retry: Vec<usize> = Vec::new();
    let mut result = run_cases(worker.client(), &name, plans, state, pacing, |run| {
        let can_run = plans[run.index].cannot_run.is_none();
        if can_run && matches!(run.observation, Observation::Inconclusive(_)) {
            retry.push(run.index);
        } else {
            count += 1;
            let _ = tx.send(EngineMessage::Case(name.clone(), run));
        }
    })
    .await;
    let rerun = Rerun {
        client: worker.client(),
        engine: &name,
        plans,
        state,
        pacing,
        tx,
    };
    if !retry.is_empty() {
        let note = " (inconclusive twice: retried once at the end of the run)";
        result = result.and(rerun.run(&retry, Some(note), &mut count).await);
    }
    // Then whatever the suite judged unexpected, for as long as it asks.
    loop {
        let _ = tx.send(EngineMessage::PassDone(name.clone()));
        match reruns.recv().await {
            Some(again) if !again.is_empty() => {
                result = result.and(rerun.run(&again, None, &mut count).await);
            }
            _ => break,
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    if let Err(e) = result {
        let _ = tx.send(EngineMessage::SetupFailed(
            name.clone(),
            format!("session failed: {e}"),
        ));
    }
    let _ = tx.send(EngineMessage::Ended(name, count, seconds));
    worker.close().await;
}

/// Runs some of an engine's plans again.
struct Rerun<'a> {
    client: &'a fantoccini::Client,
    engine: &'a str,
    plans: &'a [Arc<CasePlan>],
    state: &'a Arc<RunState>,
    pacing: &'a Pacing,
    tx: &'a mpsc::UnboundedSender<EngineMessage>,
}

impl Rerun<'_> {
    /// Runs the plans at `indices` and reports every one of them, even when
    /// the session fails part way (as an internal error). `note` is added
    /// to the reason of a run that is inconclusive again.
    async fn run(
        &self,
        indices: &[usize],
        note: Option<&str>,
        count: &mut usize,
    ) -> Result<(), CmdError> {
        let again: Vec<Arc<CasePlan>> = indices.iter().map(|&i| self.plans[i].clone()).collect();
        let mut reported = vec![false; again.len()];
        let name = self.engine.to_owned();
        let result = run_cases(
            self.client,
            self.engine,
            &again,
            self.state,
            self.pacing,
            |mut run| {
                *count += 1;
                reported[run.index] = true;
                run.index = indices[run.index];
                if let (Some(note), Observation::Inconclusive(reason)) =
                    (note, &mut run.observation)
                {
                    reason.push_str(note);
                }
                let _ = self.tx.send(EngineMessage::Case(name.clone(), run));
            },
        )
        .await;
        for (k, _) in reported.iter().enumerate().filter(|(_, done)| !**done) {
            *count += 1;
            let reason = format!(
                "run again, but the session failed: {}",
                result
                    .as_ref()
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default()
            );
            let _ = self.tx.send(EngineMessage::Case(
                name.clone(),
                super::driver::CaseRun {
                    index: indices[k],
                    observation: Observation::InternalError(reason),
                    duration: Duration::ZERO,
                },
            ));
        }
        result
    }
}

/// Judges every run of a case in one engine: conforms when every observed
/// outcome is allowed, diverges when one is not; inconclusive (or an
/// internal error) only when no run observed anything.
///
/// `seen_earlier` holds what earlier attempts at the case saw, for the
/// race snapshot's pending file; the result is this attempt's alone.
fn case_result(
    engine: &str,
    plan: &CasePlan,
    runs: Vec<(Observation, Duration)>,
    seen_earlier: &[Outcome],
    config: &SuiteConfig,
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
    let verdict = if observed.is_empty() {
        // Prefer an internal error's reason: it is the harness's fault.
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
        .all(|b| b.allowed || plan.contested.iter().any(|c| c.outcome == b.outcome))
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
    let snapshot = match (&config.snapshot_dir, &shown) {
        (Some(dir), Some(o))
            if !matches!(
                verdict,
                Verdict::Inconclusive { .. } | Verdict::InternalError { .. }
            ) =>
        {
            let path = snapshot_path(dir, engine, &plan.name);
            let recorded = if race {
                compare_and_record_race_with(
                    &path,
                    (&plan.name, &plan.case.description),
                    (&plan.allowed, &contested_outcomes),
                    &observed,
                    seen_earlier,
                    config.accept_snapshots,
                )
            } else {
                let text = snapshot_text(&plan.name, &plan.case.description, &verdict, o);
                compare_and_record(&path, &text, config.accept_snapshots)
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
        Observation::Inconclusive(r) | Observation::InternalError(r) => Some(r.clone()),
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
