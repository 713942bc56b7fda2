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
        })
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
    /// failure makes every case an internal error.
    pub async fn run(&mut self, cases: &[Case]) -> Vec<Observation> {
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
