//! What `pmconf fuzz --races` does with each divergence once the campaign
//! ran: classify it by the rule it breaks (the model's
//! [`pmconf_model::violation`]), skip it when every `(engine, rule, step
//! kinds)` key is already saved, otherwise shrink it in a fresh session of
//! the engine that diverged ([`super::race_shrink`]) and save the
//! confirmed minimal case ([`super::save::save_race_finding`]).

use super::divergences::Divergence;
use super::findings::{finding_keys, SavedFindings};
use super::race_shrink::{shrink_race, RaceShrinkConfig, RaceShrunk};
use super::save::{save_race_finding, Saved};
use crate::engine::{EngineInstance, ProcessRegistry};
use crate::gen::races::GeneratedRace;
use crate::run::driver::Pacing;
use crate::run::state::RunState;
use crate::run::worker::EngineWorker;
use crate::server::OriginServer;
use pmconf_model::violation::{classify, Rule};
use pmconf_model::Outcome;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What became of one divergence.
pub enum Reduced {
    /// Every rule key it has is a saved finding's: these files.
    Known(Vec<PathBuf>),
    /// Shrunk and confirmed.
    Shrunk(Box<RaceShrunk>),
    /// Not shrunk, and why (no session, over `--max-shrinks`, not
    /// confirmed at the end).
    NotShrunk(String),
}

/// The rule a divergence is shrunk for: the first rule its most frequent
/// unallowed outcome breaks, with the runs (of `d.runs`) that broke it.
pub fn rule_of(race: &GeneratedRace, d: &Divergence) -> Option<(Rule, usize)> {
    let (top, _) = d.unallowed.iter().max_by_key(|(_, n)| *n)?;
    let rule = classify(&race.case, top).into_iter().next()?.rule;
    let hits = d
        .unallowed
        .iter()
        .filter(|(o, _)| classify(&race.case, o).iter().any(|v| v.rule == rule))
        .map(|(_, n)| n)
        .sum();
    Some((rule, hits))
}

/// Shrinks and saves race findings, one engine session each, started on
/// first need.
pub struct RaceReducer {
    instances: Vec<EngineInstance>,
    registry: ProcessRegistry,
    server: Option<OriginServer>,
    state: Arc<RunState>,
    workers: BTreeMap<String, EngineWorker>,
    shrinks: BTreeMap<String, usize>,
    saved: SavedFindings,
    config: RaceShrinkConfig,
    max_shrinks: usize,
    pacing: Pacing,
}

impl RaceReducer {
    /// A reducer for the campaign's engines; findings already saved are
    /// read from `out` and `cases/found/`.
    pub fn new(
        instances: Vec<EngineInstance>,
        registry: &ProcessRegistry,
        out: &Path,
        config: RaceShrinkConfig,
        max_shrinks: usize,
    ) -> Self {
        let saved = SavedFindings::of_campaign(out);
        RaceReducer {
            instances,
            registry: registry.clone(),
            server: None,
            state: RunState::new(format!("\u{0}pmconf-marker:{}:", std::process::id())),
            workers: BTreeMap::new(),
            shrinks: BTreeMap::new(),
            saved,
            config,
            max_shrinks,
            pacing: Pacing::default(),
        }
    }

    /// Shrinking sessions pace cases as `pacing` says (the campaign's
    /// `--batch` and `--ready-timeout`).
    pub fn with_pacing(mut self, pacing: Pacing) -> Self {
        self.pacing = pacing;
        self
    }

    /// Classifies `d`, and shrinks it unless its rules are all saved.
    pub async fn reduce(&mut self, race: &GeneratedRace, d: &Divergence) -> Reduced {
        let unallowed: Vec<Outcome> = d.unallowed.iter().map(|(o, _)| o.clone()).collect();
        let keys = finding_keys(&d.engine, &race.case, &unallowed);
        if let Some(files) = self.saved.known(&keys) {
            return Reduced::Known(files);
        }
        let Some((rule, hits)) = rule_of(race, d) else {
            return Reduced::NotShrunk("no rule broken (the model allows it)".into());
        };
        if self.config.budget == 0 {
            return Reduced::NotShrunk("--shrink-runs 0".into());
        }
        let done = self.shrinks.entry(d.engine.clone()).or_default();
        if *done >= self.max_shrinks {
            return Reduced::NotShrunk(format!("over --max-shrinks {}", self.max_shrinks));
        }
        *done += 1;
        let config = self.config.clone();
        let worker = match self.worker(&d.engine).await {
            Ok(w) => w,
            Err(e) => return Reduced::NotShrunk(e),
        };
        match shrink_race(&race.yaml, &rule, (hits, d.runs), worker, &config).await {
            Ok(s) if s.confirmed.0 > 0 => Reduced::Shrunk(Box::new(s)),
            Ok(s) => Reduced::NotShrunk(format!(
                "no case kept while shrinking, the given one included, broke {} again in {} fresh runs ({} candidates, {} runs); its rate may be under 1 in {}",
                rule.key(),
                s.confirmed.1,
                s.candidates,
                s.runs,
                s.confirmed.1
            )),
            Err(e) => Reduced::NotShrunk(e),
        }
    }

    /// Saves a shrunk finding under `out`, unless its keys turned out to
    /// be saved already.
    pub fn save(
        &mut self,
        out: &Path,
        command: &str,
        engine: &str,
        shrunk: &RaceShrunk,
    ) -> std::io::Result<Saved> {
        save_race_finding(out, &mut self.saved, command, engine, shrunk, 20)
    }

    /// Records a shrunk finding that is not saved (`--no-save`), so that
    /// the same rules are not shrunk again in this campaign.
    pub fn remember(&mut self, engine: &str, shrunk: &RaceShrunk, name: &str) {
        let keys = finding_keys(engine, &shrunk.case, &shrunk.observed);
        self.saved.add(Path::new(name), keys);
    }

    async fn worker(&mut self, engine: &str) -> Result<&mut EngineWorker, String> {
        if !self.workers.contains_key(engine) {
            let instance = self
                .instances
                .iter()
                .find(|i| i.name == engine)
                .ok_or_else(|| format!("no engine instance named {engine}"))?
                .clone();
            if self.server.is_none() {
                let server = OriginServer::start(self.state.clone())
                    .await
                    .map_err(|e| format!("the local origin server could not start: {e}"))?;
                self.server = Some(server);
            }
            let proxy = self.server.as_ref().expect("started").proxy_address();
            let worker = EngineWorker::start_instance(
                &instance,
                &proxy,
                self.state.clone(),
                &self.registry,
                self.pacing.clone(),
            )
            .await
            .map_err(|e| format!("{engine} did not start for shrinking: {e}"))?;
            self.workers.insert(engine.to_owned(), worker);
        }
        Ok(self.workers.get_mut(engine).expect("inserted"))
    }

    /// Ends every session and the server.
    pub async fn close(self) {
        for (_, w) in self.workers {
            w.close().await;
        }
        if let Some(s) = self.server {
            s.shutdown().await;
        }
    }
}

/// One line for a shrunk race finding: engine, rule, minimal schedule,
/// rate.
pub fn one_line(engine: &str, s: &RaceShrunk) -> String {
    let steps: Vec<String> = s
        .case
        .tasks()
        .into_iter()
        .map(|r| {
            let kinds: Vec<String> = r
                .map(|i| {
                    let step = &s.case.steps[i];
                    format!("{} {}", step.kind(), s.case.windows[step.subject()].name)
                })
                .collect();
            kinds.join(" + ")
        })
        .collect();
    let stepped_back = match s.stepped_back {
        0 => String::new(),
        n => format!(" (the last {n} changes undone: smaller cases did not confirm)"),
    };
    format!(
        "{engine}: {} ({}): minimal schedule [{}] with {} windows; rate {} of {} ({:.0}%); shrunk in {} candidates, {} runs{stepped_back}",
        s.rule,
        s.rule.key(),
        steps.join("; "),
        s.case.windows.len(),
        s.confirmed.0,
        s.confirmed.1,
        s.rate() * 100.0,
        s.candidates,
        s.runs
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::events::OutcomeCount;
    use pmconf_model::{answer_case, parse_case};

    // child is same-origin with top: one agent, so a message posted before
    // its navigation is never moved (whatwg/html#3691 leaves nothing open).
    const CASE: &str = "description: t\nwindows:\n  top: { url: \"http://a.test/\" }\n  child: { parent: top, url: \"http://a.test/child\" }\nsteps:\n  - same_task:\n      - post: { from: top, to: child, message: m, target_origin: \"*\" }\n      - navigate: { window: child, by: top, url: \"http://c.test/\" }\n";

    /// A run where "m" reached child@1 (the navigation's document), and
    /// the campaign's divergence: seen in `n` of 5 runs.
    fn divergence(n: usize) -> (GeneratedRace, Divergence) {
        let case = parse_case("t.yaml", CASE).unwrap();
        let mut o = answer_case(&case)
            .allowed
            .into_iter()
            .find(|o| !o.received[1].1.is_empty())
            .expect("an allowed outcome delivers m to child");
        let m = o.received[1].1.remove(0);
        o.received.push(("child@1".into(), vec![m]));
        let race = GeneratedRace {
            name: "race-1-0".into(),
            yaml: CASE.into(),
            case,
            families: vec![],
        };
        let d = Divergence {
            case: "race-1-0".into(),
            engine: "chromium".into(),
            runs: 5,
            histogram: vec![OutcomeCount {
                outcome: o.clone(),
                count: n,
                allowed: false,
            }],
            unallowed: vec![(o, n)],
        };
        (race, d)
    }

    #[test]
    fn the_rule_and_its_runs() {
        let (race, d) = divergence(2);
        assert_eq!(rule_of(&race, &d), Some((Rule::WrongDocument, 2)));
    }

    #[test]
    fn known_rules_are_not_shrunk_and_no_budget_shrinks_nothing() {
        let (race, d) = divergence(2);
        let dir = tempfile::tempdir().unwrap();
        let registry = ProcessRegistry::new();
        let none = RaceShrinkConfig {
            budget: 0,
            ..RaceShrinkConfig::default()
        };
        let mut reducer = RaceReducer::new(vec![], &registry, dir.path(), none, 4);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert!(matches!(
            rt.block_on(reducer.reduce(&race, &d)),
            Reduced::NotShrunk(why) if why == "--shrink-runs 0"
        ));
        let keys = finding_keys("chromium", &race.case, &[d.unallowed[0].0.clone()]);
        reducer.saved.add(Path::new("found/x.yaml"), keys);
        assert!(matches!(
            rt.block_on(reducer.reduce(&race, &d)),
            Reduced::Known(files) if files == [PathBuf::from("found/x.yaml")]
        ));
        // The same rule in another engine is not known.
        let mut other = d.clone();
        other.engine = "firefox".into();
        assert!(matches!(
            rt.block_on(reducer.reduce(&race, &other)),
            Reduced::NotShrunk(_)
        ));
        rt.block_on(reducer.close());
    }
}
