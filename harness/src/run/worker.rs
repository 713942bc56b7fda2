//! One engine's live session, for running cases on demand (the fuzzer's
//! first pass and every shrinking candidate use the same session; the
//! shrinkers reach it through `crate::fuzz::oracle`).

use super::driver::{run_cases, Pacing};
use super::plan::CasePlan;
use super::state::RunState;
use super::verdict::Observation;
use crate::case_files::LoadedCase;
use crate::engine::{EngineId, EngineInstance, EngineSession, ProcessRegistry, SetupError};
use pmconf_model::Case;
use std::sync::Arc;

/// A started engine that runs cases on request.
pub struct EngineWorker {
    session: EngineSession,
    state: Arc<RunState>,
    pacing: Pacing,
    next_id: usize,
    /// What started the session, to start it again.
    instance: EngineInstance,
    proxy: String,
    registry: ProcessRegistry,
    /// The last `run` ended in a WebDriver error: the session may be dead
    /// (a crashed browser) and is replaced before the next `run`.
    failed: bool,
    restarts: usize,
}

impl EngineWorker {
    /// Starts `engine` behind the proxy at `proxy`.
    pub async fn start(
        engine: EngineId,
        proxy: &str,
        state: Arc<RunState>,
        registry: &ProcessRegistry,
        pacing: Pacing,
    ) -> Result<Self, SetupError> {
        let instance = EngineInstance::system(engine);
        Self::start_instance(&instance, proxy, state, registry, pacing).await
    }

    /// Starts `instance` behind the proxy at `proxy` (an address the
    /// instance's machine reaches).
    pub async fn start_instance(
        instance: &EngineInstance,
        proxy: &str,
        state: Arc<RunState>,
        registry: &ProcessRegistry,
        pacing: Pacing,
    ) -> Result<Self, SetupError> {
        let session = instance.start(proxy, registry).await?;
        Ok(EngineWorker {
            session,
            state,
            pacing,
            next_id: 0,
            instance: instance.clone(),
            proxy: proxy.to_owned(),
            registry: registry.clone(),
            failed: false,
            restarts: 0,
        })
    }

    /// How often a failed session was replaced.
    pub fn restarts(&self) -> usize {
        self.restarts
    }

    /// Ends the session and starts a new one of the same instance.
    async fn restart(&mut self) -> Result<(), SetupError> {
        let fresh = self.instance.start(&self.proxy, &self.registry).await?;
        let old = std::mem::replace(&mut self.session, fresh);
        let _ = old.close().await;
        self.restarts += 1;
        self.failed = false;
        Ok(())
    }

    /// The instance's name (the engine's, for a system engine).
    pub fn engine(&self) -> &str {
        &self.instance.name
    }

    /// The WebDriver client, for callers that drive the session themselves.
    pub fn client(&self) -> &fantoccini::Client {
        &self.session.client
    }

    /// The browser version the session reported.
    pub fn browser_version(&self) -> &str {
        &self.session.browser_version
    }

    /// Runs `cases` and returns one observation each, in order. A session
    /// failure makes every case it left unrun an internal error.
    /// A session whose last `run` failed is replaced first; if it cannot
    /// be, every case is an internal error saying why.
    pub async fn run(&mut self, cases: &[Case]) -> Vec<Observation> {
        if self.failed {
            if let Err(e) = self.restart().await {
                let reason = format!("the failed session could not be replaced: {e}");
                return vec![Observation::InternalError(reason); cases.len()];
            }
        }
        let plans: Vec<Arc<CasePlan>> = cases
            .iter()
            .map(|case| {
                self.next_id += 1;
                let loaded = LoadedCase {
                    path: "generated.yaml".into(),
                    name: format!("generated/{}.yaml", self.next_id),
                    case: case.clone(),
                };
                Arc::new(CasePlan::new(self.next_id, self.next_id, &loaded))
            })
            .collect();
        let mut out: Vec<Option<Observation>> = vec![None; plans.len()];
        let result = run_cases(
            &self.session.client,
            &self.instance.name,
            &plans,
            &self.state,
            &self.pacing,
            |run| {
                out[run.index] = Some(run.observation);
            },
        )
        .await;
        self.failed = result.is_err();
        out.into_iter()
            .map(|o| {
                o.unwrap_or_else(|| {
                    Observation::InternalError(match &result {
                        Err(e) => format!("WebDriver: {e}"),
                        Ok(()) => "the case produced no result".into(),
                    })
                })
            })
            .collect()
    }

    /// Ends the session and its processes.
    pub async fn close(self) {
        let _ = self.session.close().await;
    }
}

/// Runs once more, through `run`, every case of `cases` whose observation
/// in `observations` (one per case, in order) is not an outcome, and puts
/// the new observations in their places; returns how many ran again. On a
/// loaded machine a window that never loaded is mostly the harness's miss,
/// not the engine's answer.
pub async fn rerun_unobserved<F, Fut>(
    cases: &[Case],
    observations: &mut [Observation],
    run: F,
) -> usize
where
    F: FnOnce(Vec<Case>) -> Fut,
    Fut: std::future::Future<Output = Vec<Observation>>,
{
    let missed: Vec<usize> = (0..observations.len())
        .filter(|&k| !matches!(observations[k], Observation::Observed(_)))
        .collect();
    if missed.is_empty() {
        return 0;
    }
    let again: Vec<Case> = missed.iter().map(|&k| cases[k].clone()).collect();
    for (&k, observation) in missed.iter().zip(run(again).await) {
        observations[k] = observation;
    }
    missed.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pmconf_model::{parse_case, Outcome};

    fn case(message: &str) -> Case {
        parse_case(
            "c.yaml",
            &format!(
                "description: c\nwindows:\n  top: {{ url: 'http://a.test/' }}\nsteps:\n  - post: {{ from: top, to: top, message: {message}, target_origin: '*' }}\n"
            ),
        )
        .unwrap()
    }

    fn current_thread() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    fn observed(tag: &str) -> Observation {
        Observation::Observed(Outcome {
            posts: Vec::new(),
            received: vec![(tag.to_owned(), Vec::new())],
        })
    }

    #[test]
    fn only_the_cases_that_observed_nothing_run_again_in_their_places() {
        let cases = vec![case("a"), case("b"), case("c"), case("d")];
        let mut observations = vec![
            observed("first"),
            Observation::Inconclusive("popup never loaded".into()),
            observed("third"),
            Observation::InternalError("session failed".into()),
        ];
        let mut asked = Vec::new();
        let n = current_thread().block_on(rerun_unobserved(&cases, &mut observations, |again| {
            asked = again.clone();
            async move {
                vec![
                    observed("second, again"),
                    Observation::Crashed("still nothing".into()),
                ]
            }
        }));
        assert_eq!(n, 2);
        let posted = |c: &Case| format!("{:?}", c.posts().next().unwrap().1.message);
        assert_eq!(
            asked.iter().map(posted).collect::<Vec<_>>(),
            [posted(&cases[1]), posted(&cases[3])]
        );
        let want = [
            observed("first"),
            observed("second, again"),
            observed("third"),
            Observation::Crashed("still nothing".into()),
        ];
        assert_eq!(format!("{observations:?}"), format!("{want:?}"));
    }

    #[test]
    fn nothing_runs_when_every_case_observed_something() {
        let cases = vec![case("a")];
        let mut observations = vec![observed("only")];
        let n = current_thread().block_on(rerun_unobserved(&cases, &mut observations, |_| async {
            panic!("nothing to run again")
        }));
        assert_eq!(n, 0);
        assert_eq!(
            format!("{observations:?}"),
            format!("{:?}", [observed("only")])
        );
    }
}
