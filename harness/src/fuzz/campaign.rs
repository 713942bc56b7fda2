//! The origin campaign (`pmconf fuzz`): cases generated from a seed run in
//! every engine at once, each engine's divergences grouped by the rules
//! they break, one of each group whose rules are not saved yet shrunk in
//! the engine that showed it, and the minimal ones saved as findings.
//! What is printed, and the exit status, are `cli/fuzz.rs`'s.

use super::findings::{divergence_key, finding_keys, SavedFindings};
use super::save::{save_finding, Saved};
use super::shrink::{shrink, Shrunk};
use crate::engine::{EngineId, ProcessRegistry};
use crate::gen::{generate_with, to_case, GenCase, MessageFamily};
use crate::run::driver::Pacing;
use crate::run::state::RunState;
use crate::run::verdict::Observation;
use crate::run::worker::{rerun_unobserved, EngineWorker};
use crate::server::OriginServer;
use pmconf_model::{answer_case, Case, Outcome};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

/// What a campaign generates, runs and shrinks with.
#[derive(Debug, Clone)]
pub struct Campaign {
    /// The seed: the same seed and count generate the same cases.
    pub seed: u64,
    /// How many cases to generate.
    pub cases: usize,
    /// The messages posts carry.
    pub family: MessageFamily,
    /// Batching and timeouts of the engines' sessions.
    pub pacing: Pacing,
    /// Oracle runs allowed per shrink.
    pub shrink_tries: usize,
    /// At most this many distinct divergences are shrunk per engine.
    pub max_shrinks: usize,
}

/// The generated cases: those the model answers, each with its index and
/// generated form, and those it cannot, with why.
pub struct Generated {
    /// `(index, generated, case)` of every valid case.
    pub valid: Vec<(usize, GenCase, Case)>,
    /// `(index, errors)` of every case the model cannot answer.
    pub unanswerable: Vec<(usize, String)>,
}

impl Generated {
    /// The campaign's cases.
    pub fn of(campaign: &Campaign) -> Self {
        let trees = generate_with(campaign.seed, campaign.cases, campaign.family);
        let mut generated = Generated {
            valid: Vec::new(),
            unanswerable: Vec::new(),
        };
        for (i, tree) in trees.iter().enumerate() {
            let gen = tree.current();
            match to_case(&gen) {
                Ok(case) => generated.valid.push((i, gen, case)),
                Err(e) => generated.unanswerable.push((i, e)),
            }
        }
        generated
    }

    /// Every valid case as a YAML file (`case-0007.yaml`) whose
    /// description names `command`: what `--dry-run` writes.
    pub fn files(&self, command: &str) -> Vec<(String, String)> {
        self.valid
            .iter()
            .map(|(i, gen, _)| {
                let description = format!("case {i} of `{command}` ({})", gen.template.family);
                (format!("case-{i:04}.yaml"), gen.to_yaml(&description))
            })
            .collect()
    }
}

/// How far an engine's first pass is: `done` of `total` cases after
/// `seconds`.
pub struct PassProgress<'a> {
    /// The engine.
    pub engine: &'a str,
    /// Cases run so far.
    pub done: usize,
    /// Cases to run.
    pub total: usize,
    /// Seconds since the pass started.
    pub seconds: f64,
}

/// Told after each tenth (or so) of an engine's first pass.
pub type OnProgress = Rc<dyn Fn(&PassProgress)>;

/// One engine's findings.
pub struct EngineFindings {
    /// The engine.
    pub engine: &'static str,
    /// The browser version its session reported.
    pub browser_version: String,
    /// Cases run in the first pass.
    pub ran: usize,
    /// Seconds the first pass took.
    pub seconds: f64,
    /// Cases that observed nothing (after their second run).
    pub inconclusive: usize,
    /// Why, for the first five.
    pub inconclusive_reasons: Vec<String>,
    /// Cases whose outcome breaks a rule.
    pub diverging: usize,
    /// The minimal case of each new rule set (the divergence key, and
    /// what shrinking reached).
    pub minimal: Vec<(String, Shrunk)>,
    /// Divergences whose every rule key is already saved, with the files.
    pub already: Vec<(String, Vec<PathBuf>)>,
    /// Divergences with a new rule left unshrunk (over `max_shrinks`).
    pub not_shrunk: usize,
    /// Sessions replaced after a WebDriver failure (a crashed browser).
    pub restarts: usize,
    /// Cases that observed nothing in the first pass and ran once more.
    pub rerun: usize,
    /// Why the engine could not run at all.
    pub error: Option<String>,
}

impl EngineFindings {
    fn new(engine: EngineId) -> Self {
        EngineFindings {
            engine: engine.name(),
            browser_version: String::new(),
            ran: 0,
            seconds: 0.0,
            inconclusive: 0,
            inconclusive_reasons: Vec::new(),
            diverging: 0,
            minimal: Vec::new(),
            already: Vec::new(),
            not_shrunk: 0,
            restarts: 0,
            rerun: 0,
            error: None,
        }
    }
}

/// Runs `valid` in every one of `engines` at once behind one local
/// origin server, and shrinks what diverged; findings already in `saved`
/// are not shrunk again. `Err` when the server could not start.
pub async fn run(
    campaign: &Campaign,
    engines: Vec<EngineId>,
    valid: &[(usize, GenCase, Case)],
    saved: &SavedFindings,
    registry: &ProcessRegistry,
    progress: OnProgress,
) -> Result<Vec<EngineFindings>, String> {
    let state = RunState::new(format!("\u{0}pmconf-marker:{}:", std::process::id()));
    let server = OriginServer::start(state.clone())
        .await
        .map_err(|e| format!("the local origin server could not start: {e}"))?;
    let proxy = server.proxy_address();
    // proptest's value trees are not Send: the engines run concurrently on
    // this thread (they spend their time waiting on the browsers).
    let local = tokio::task::LocalSet::new();
    let findings = local
        .run_until(async {
            let mut tasks = Vec::new();
            for engine in engines {
                let valid = valid.to_vec();
                let state = state.clone();
                let registry = registry.clone();
                let proxy = proxy.clone();
                let campaign = campaign.clone();
                let saved = saved.clone();
                let progress = progress.clone();
                tasks.push(tokio::task::spawn_local(async move {
                    let mut worker = match EngineWorker::start(
                        engine,
                        &proxy,
                        state,
                        &registry,
                        campaign.pacing.clone(),
                    )
                    .await
                    {
                        Ok(w) => w,
                        Err(e) => {
                            let mut findings = EngineFindings::new(engine);
                            findings.error = Some(e.to_string());
                            return findings;
                        }
                    };
                    let findings =
                        fuzz_engine(engine, &mut worker, &valid, &campaign, &saved, &progress)
                            .await;
                    worker.close().await;
                    findings
                }));
            }
            let mut findings = Vec::new();
            for t in tasks {
                if let Ok(f) = t.await {
                    findings.push(f);
                }
            }
            findings
        })
        .await;
    server.shutdown().await;
    Ok(findings)
}

/// One engine's part: the first pass, the divergences grouped, the new
/// groups shrunk.
async fn fuzz_engine(
    engine: EngineId,
    worker: &mut EngineWorker,
    cases: &[(usize, GenCase, Case)],
    campaign: &Campaign,
    saved: &SavedFindings,
    progress: &OnProgress,
) -> EngineFindings {
    let mut findings = EngineFindings::new(engine);
    findings.browser_version = worker.browser_version().to_owned();
    let observations = first_pass(worker, cases, campaign, &mut findings, progress).await;
    let groups = group_divergences(cases, observations, &mut findings);
    shrink_new_groups(worker, cases, groups, campaign, saved, &mut findings).await;
    findings.restarts = worker.restarts();
    findings
}

/// Runs every case once, in about ten chunks of whole batches with
/// `progress` told after each (what a chunk runs is what one call of
/// `run` over all cases would, batch by batch); a case that observed
/// nothing (a window that never loaded, a session that failed) runs once
/// more.
async fn first_pass(
    worker: &mut EngineWorker,
    cases: &[(usize, GenCase, Case)],
    campaign: &Campaign,
    findings: &mut EngineFindings,
    progress: &OnProgress,
) -> Vec<Observation> {
    let started = Instant::now();
    let just_cases: Vec<Case> = cases.iter().map(|c| c.2.clone()).collect();
    let batch = campaign.pacing.batch_size.max(1);
    let chunk = just_cases.len().div_ceil(10).div_ceil(batch).max(1) * batch;
    let mut observations = Vec::with_capacity(just_cases.len());
    for part in just_cases.chunks(chunk) {
        observations.extend(worker.run(part).await);
        progress(&PassProgress {
            engine: findings.engine,
            done: observations.len(),
            total: just_cases.len(),
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    findings.rerun = rerun_unobserved(&just_cases, &mut observations, |again| async move {
        worker.run(&again).await
    })
    .await;
    findings.seconds = started.elapsed().as_secs_f64();
    findings.ran = observations.len();
    observations
}

/// Groups the divergences by the rules they break (computed by the model:
/// [`divergence_key`]), keeping the first case of each group with what it
/// observed; counts divergences and cases that observed nothing.
fn group_divergences(
    cases: &[(usize, GenCase, Case)],
    observations: Vec<Observation>,
    findings: &mut EngineFindings,
) -> BTreeMap<String, (usize, Outcome)> {
    let mut groups: BTreeMap<String, (usize, Outcome)> = BTreeMap::new();
    for (k, observation) in observations.into_iter().enumerate() {
        match observation {
            Observation::Observed(o) => {
                if let Some(key) = divergence_key(&cases[k].2, &o) {
                    findings.diverging += 1;
                    groups.entry(key).or_insert((k, o));
                }
            }
            Observation::Inconclusive(reason)
            | Observation::InternalError(reason)
            | Observation::Crashed(reason) => {
                findings.inconclusive += 1;
                if findings.inconclusive_reasons.len() < 5 {
                    findings
                        .inconclusive_reasons
                        .push(format!("case {}: {reason}", cases[k].0));
                }
            }
        }
    }
    groups
}

/// Shrinks one case of each group whose rules are not all saved (at most
/// `max_shrinks`), each from its own value tree, in the engine that
/// diverged; two groups that shrink to the same rules are one finding.
async fn shrink_new_groups(
    worker: &mut EngineWorker,
    cases: &[(usize, GenCase, Case)],
    groups: BTreeMap<String, (usize, Outcome)>,
    campaign: &Campaign,
    saved: &SavedFindings,
    findings: &mut EngineFindings,
) {
    let mut trees = generate_with(campaign.seed, campaign.cases, campaign.family);
    let mut shrunk_keys = BTreeSet::new();
    for (key, (k, observed)) in groups {
        let keys = finding_keys(
            findings.engine,
            &cases[k].2,
            std::slice::from_ref(&observed),
        );
        if let Some(files) = saved.known(&keys) {
            findings.already.push((key, files));
            continue;
        }
        if findings.minimal.len() >= campaign.max_shrinks {
            findings.not_shrunk += 1;
            continue;
        }
        let index = cases[k].0;
        let shrunk = shrink(
            trees[index].as_mut(),
            worker,
            &key,
            observed,
            campaign.shrink_tries,
        )
        .await;
        let case = to_case(&shrunk.case).expect("shrunk cases are valid");
        let keys = finding_keys(
            findings.engine,
            &case,
            std::slice::from_ref(&shrunk.observed),
        );
        if shrunk_keys.insert(keys) {
            findings.minimal.push((key, shrunk));
        }
    }
}

/// Saves every engine's minimal findings under `out` (see
/// [`save_finding`]), recording each in `saved`: per engine, per minimal
/// finding, where it went or why it could not be written.
pub fn save_all(
    findings: &[EngineFindings],
    out: &Path,
    command: &str,
    saved: &mut SavedFindings,
) -> Vec<Vec<std::io::Result<Saved>>> {
    findings
        .iter()
        .map(|f| {
            if f.error.is_some() {
                return Vec::new();
            }
            f.minimal
                .iter()
                .map(|(_, s)| save_finding(out, command, f.engine, s, saved))
                .collect()
        })
        .collect()
}

/// What the model says and what the engine did, in a few words.
fn describe(o: &Outcome) -> String {
    let posts: Vec<String> = o
        .posts
        .iter()
        .map(|p| p.threw.clone().unwrap_or_else(|| "returns".into()))
        .collect();
    let delivered: Vec<String> = o
        .received
        .iter()
        .filter(|(_, d)| !d.is_empty())
        .map(|(w, d)| {
            format!(
                "{w} gets {}",
                d.iter()
                    .map(|x| format!("origin {}", x.origin))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    let delivered = if delivered.is_empty() {
        "nothing delivered".to_owned()
    } else {
        delivered.join("; ")
    };
    format!("post {}; {delivered}", posts.join(", "))
}

/// One line for a minimal finding: its targetOrigins and target, the
/// model's outcome beside the engine's, its rules and tries.
pub fn one_line(engine: &str, shape: &str, s: &Shrunk) -> String {
    let case = to_case(&s.case).expect("shrunk cases are valid");
    let model = answer_case(&case).allowed.remove(0);
    let hosts: Vec<String> = s
        .case
        .template
        .windows
        .iter()
        .enumerate()
        .map(|(i, _)| s.case.origins[i].url())
        .collect();
    let targets: Vec<String> = s
        .case
        .posts
        .iter()
        .map(|p| format!("{:?}", p.target_origin.text))
        .collect();
    format!(
        "{engine}: targetOrigin {} to {} ({}): model: {}; engine: {} [{shape}; {} tries]",
        targets.join(", "),
        hosts[s.case.posts[0].to],
        s.case.template.family,
        describe(&model),
        describe(&s.observed),
        s.tries
    )
}

/// The `--results` summary of a campaign.
pub fn summary_json(
    campaign: &Campaign,
    generated: &Generated,
    findings: &[EngineFindings],
) -> Value {
    json!({
        "seed": campaign.seed,
        "generated": campaign.cases,
        "valid": generated.valid.len(),
        "unanswerable": generated.unanswerable.len(),
        "engines": findings.iter().map(|f| json!({
            "engine": f.engine,
            "browser_version": f.browser_version,
            "error": f.error,
            "ran": f.ran,
            "seconds": f.seconds,
            "diverged": f.diverging,
            "inconclusive": f.inconclusive,
            "inconclusive_reasons": f.inconclusive_reasons,
            "already_saved": f.already.iter().map(|(key, files)| json!({
                "rules": key,
                "files": files,
            })).collect::<Vec<_>>(),
            "not_shrunk": f.not_shrunk,
            "session_restarts": f.restarts,
            "rerun": f.rerun,
            "minimal": f.minimal.iter().map(|(shape, s)| json!({
                "rules": shape,
                "line": one_line(f.engine, shape, s),
                "tries": s.tries,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}
