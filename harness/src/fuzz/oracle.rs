//! What the shrinkers ask: run these cases, say what was observed. The
//! real engine answers through an [`EngineWorker`] (both adapters are
//! here); tests answer with stand-ins that plant a bug.

use crate::run::verdict::Observation;
use crate::run::worker::EngineWorker;
use pmconf_model::Case;
use std::future::Future;
use std::pin::Pin;

/// Something that runs cases and says what it observed (the origin-case
/// shrinker's oracle, [`super::shrink`]).
pub trait Oracle {
    /// Runs `cases`, one observation each, in order.
    fn observe<'a>(
        &'a mut self,
        cases: &'a [Case],
    ) -> Pin<Box<dyn Future<Output = Vec<Observation>> + 'a>>;
}

/// Runs a case several times in one engine (the race shrinker's oracle,
/// [`super::race_shrink`]).
pub trait RaceOracle {
    /// Runs `case` `runs` times; one observation per run.
    fn run_times<'a>(
        &'a mut self,
        case: &'a Case,
        runs: usize,
    ) -> Pin<Box<dyn Future<Output = Vec<Observation>> + 'a>>;
}

impl Oracle for EngineWorker {
    fn observe<'a>(
        &'a mut self,
        cases: &'a [Case],
    ) -> Pin<Box<dyn Future<Output = Vec<Observation>> + 'a>> {
        Box::pin(self.run(cases))
    }
}

impl RaceOracle for EngineWorker {
    fn run_times<'a>(
        &'a mut self,
        case: &'a Case,
        runs: usize,
    ) -> Pin<Box<dyn Future<Output = Vec<Observation>> + 'a>> {
        Box::pin(async move {
            let cases = vec![case.clone(); runs];
            self.run(&cases).await
        })
    }
}
