//! The race campaign (`pmconf fuzz --races`): generated navigation race
//! cases, each run `repeat` times per engine through the same runner as
//! `pmconf run` (sessions, command deadlines, crash recovery), every
//! divergence (an outcome neither allowed nor contested) collected, then
//! settled one by one: known, shrunk and saved, or saved unshrunk. What
//! is printed, and the exit status, are `cli/fuzz_races.rs`'s.

use super::divergences::{divergences, tallies, Divergence, EngineTally};
use super::race_reducer::{one_line, RaceReducer, Reduced};
use super::race_shrink::RaceShrinkConfig;
use super::save::{save_unshrunk_race, Saved};
use crate::case_files::LoadedCase;
use crate::engine::{EngineInstance, ProcessRegistry};
use crate::gen::races::{draw_races, GeneratedRace, RefusedDraw};
use crate::run::driver::Pacing;
use crate::run::events::Reporter;
use crate::run::suite::{run_suite, SuiteConfig, SuiteOutcome, SuiteSetupError};
use crate::server::Listen;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

/// What a race campaign generates, runs, shrinks and saves with.
#[derive(Debug, Clone)]
pub struct RaceCampaign {
    /// The seed: the same seed and count draw the same cases.
    pub seed: u64,
    /// How many cases to draw.
    pub cases: usize,
    /// Runs of each case per engine.
    pub repeat: u32,
    /// Sessions of each engine at once.
    pub sessions: u32,
    /// Batching and timeouts, for the campaign and for shrinking.
    pub pacing: Pacing,
    /// How long a WebDriver command may go unanswered.
    pub command_timeout: Duration,
    /// Where findings are saved (and found already saved).
    pub out: PathBuf,
    /// Engine runs allowed per shrink; 0 saves divergent cases unshrunk.
    pub shrink_runs: usize,
    /// At most this many divergences are shrunk per engine.
    pub max_shrinks: usize,
    /// Save nothing (shrunk findings are still remembered, so the same
    /// rules are not shrunk twice).
    pub no_save: bool,
}

/// The drawn cases: the valid ones and those the validator refused (a
/// bug of the generator).
pub struct Drawn {
    /// Every valid case.
    pub races: Vec<GeneratedRace>,
    /// Every refused draw.
    pub refused: Vec<RefusedDraw>,
}

impl Drawn {
    /// The campaign's cases.
    pub fn of(campaign: &RaceCampaign) -> Self {
        let mut drawn = Drawn {
            races: Vec::new(),
            refused: Vec::new(),
        };
        for d in draw_races(campaign.seed, campaign.cases) {
            match d {
                Ok(r) => drawn.races.push(r),
                Err(r) => drawn.refused.push(r),
            }
        }
        drawn
    }

    /// Every valid case as a YAML file (`race-<seed>-<i>.yaml`): what
    /// `--dry-run` writes.
    pub fn files(&self) -> Vec<(String, String)> {
        self.races
            .iter()
            .map(|r| (format!("{}.yaml", r.name), r.yaml.clone()))
            .collect()
    }

    /// The case named `name`.
    pub fn race(&self, name: &str) -> Option<&GeneratedRace> {
        self.races.iter().find(|r| r.name == name)
    }
}

/// What the campaign's run found.
pub struct Ran {
    /// The runner's outcome (results, setup failures, timings).
    pub outcome: SuiteOutcome,
    /// Every divergence, with its histogram.
    pub found: Vec<Divergence>,
    /// Each engine's tally.
    pub tally: Vec<EngineTally>,
}

/// What became of one divergence once settled.
pub enum Fate {
    /// Every rule key it has is a saved finding's: these files.
    Known(Vec<PathBuf>),
    /// Shrunk and confirmed: its line, and where it was saved (`None`:
    /// not saved, as asked).
    Shrunk {
        /// The minimal finding in one line.
        line: String,
        /// Where it went, or why it could not be written.
        saved: Option<Result<Saved, String>>,
    },
    /// Not shrunk, and why; the generated case was saved as it is.
    NotShrunk {
        /// Why it was not shrunk.
        why: String,
        /// Where it went, or why it could not be written.
        saved: Option<Result<Saved, String>>,
    },
}

impl RaceCampaign {
    /// The command line that reproduces the campaign in `engines`.
    pub fn command(&self, engines: &[EngineInstance]) -> String {
        format!(
            "pmconf fuzz --races --seed {} --cases {} --repeat {} --engine {}",
            self.seed,
            self.cases,
            self.repeat,
            engines
                .iter()
                .map(|e| e.name.as_str())
                .collect::<Vec<_>>()
                .join(",")
        )
    }

    /// The runner's configuration: every drawn case, `repeat` times, no
    /// snapshots.
    fn suite_config(
        &self,
        engines: Vec<EngineInstance>,
        listen: Listen,
        drawn: &Drawn,
    ) -> SuiteConfig {
        let cases: Vec<LoadedCase> = drawn
            .races
            .iter()
            .map(|r| LoadedCase {
                path: PathBuf::from(format!("{}.yaml", r.name)),
                name: format!("{}.yaml", r.name),
                case: r.case.clone(),
            })
            .collect();
        SuiteConfig {
            engines,
            listen,
            cases,
            repeat: self.repeat as usize,
            pacing: self.pacing.clone(),
            // Nothing is compared with snapshots, so nothing is run again:
            // every repeat's outcome is kept in the histogram.
            snapshot_dir: None,
            accept_snapshots: false,
            retry_unexpected: 0,
            sessions: self.sessions as usize,
            command_timeout: self.command_timeout,
            profile: false,
        }
    }

    /// Runs every drawn case in `engines`, telling `reporter` the run's
    /// events, and collects the divergences and tallies.
    pub async fn run(
        &self,
        engines: Vec<EngineInstance>,
        listen: Listen,
        drawn: &Drawn,
        registry: &ProcessRegistry,
        reporter: &mut dyn Reporter,
    ) -> Result<Ran, SuiteSetupError> {
        let config = self.suite_config(engines, listen, drawn);
        let outcome = run_suite(config, registry, reporter).await?;
        let found = divergences(&outcome.results);
        let tally = tallies(&outcome.results, &outcome.engine_seconds);
        Ok(Ran {
            outcome,
            found,
            tally,
        })
    }

    /// The reducer that shrinks in fresh sessions of `instances`.
    pub fn reducer(
        &self,
        instances: Vec<EngineInstance>,
        registry: &ProcessRegistry,
    ) -> RaceReducer {
        RaceReducer::new(
            instances,
            registry,
            &self.out,
            RaceShrinkConfig {
                budget: self.shrink_runs,
                ..RaceShrinkConfig::default()
            },
            self.max_shrinks,
        )
        .with_pacing(self.pacing.clone())
    }

    /// Settles divergence `d` of `race`: known, or shrunk (and saved
    /// unless `no_save`), or saved as generated when it cannot be shrunk.
    /// Also what the `--results` summary records of it.
    pub async fn settle(
        &self,
        reducer: &mut RaceReducer,
        command: &str,
        race: &GeneratedRace,
        d: &Divergence,
    ) -> (Fate, Value) {
        match reducer.reduce(race, d).await {
            Reduced::Known(files) => {
                let record = json!({"case": d.case, "engine": d.engine, "already_saved": files});
                (Fate::Known(files), record)
            }
            Reduced::Shrunk(shrunk) => {
                let line = one_line(&d.engine, &shrunk);
                let record = json!({"case": d.case, "engine": d.engine, "line": line, "rule": shrunk.rule.key(), "confirmed": shrunk.confirmed, "minimal": shrunk.yaml});
                let saved = if self.no_save {
                    reducer.remember(&d.engine, &shrunk, &d.case);
                    None
                } else {
                    Some(
                        reducer
                            .save(&self.out, command, &d.engine, &shrunk)
                            .map_err(|e| e.to_string()),
                    )
                };
                (Fate::Shrunk { line, saved }, record)
            }
            Reduced::NotShrunk(why) => {
                let record = json!({"case": d.case, "engine": d.engine, "not_shrunk": why});
                let saved =
                    (!self.no_save).then(|| save_unshrunk_race(&self.out, command, d, &race.yaml));
                (Fate::NotShrunk { why, saved }, record)
            }
        }
    }

    /// The `--results` summary: the campaign, each engine's tally, the
    /// divergences and what became of each (`findings`).
    pub fn summary_json(
        &self,
        command: &str,
        drawn: &Drawn,
        ran: &Ran,
        findings: &[Value],
    ) -> Value {
        json!({
            "command": command,
            "seed": self.seed,
            "generated": self.cases,
            "valid": drawn.races.len(),
            "refused": drawn.refused.iter().map(|r| &r.name).collect::<Vec<_>>(),
            "repeat": self.repeat,
            "engines": ran.tally.iter().map(|t| json!({
                "tally": t,
                "runs_per_second": t.runs_per_second(),
                "faults": t.faults(),
            })).collect::<Vec<_>>(),
            "setup_failures": ran.outcome.setup_failures,
            "divergences": ran.found,
            "findings": findings,
        })
    }
}
