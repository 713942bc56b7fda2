//! One engine's live session, for running cases on demand (the fuzzer's
//! first pass and every shrinking candidate use the same session).

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
    name: String,
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
            name: instance.name.clone(),
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
        &self.name
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
            &self.name,
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

impl crate::gen::shrink::Oracle for EngineWorker {
    fn observe<'a>(
        &'a mut self,
        cases: &'a [Case],
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Vec<Observation>> + 'a>> {
        Box::pin(self.run(cases))
    }
}
