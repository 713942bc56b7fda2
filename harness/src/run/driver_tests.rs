//! The batch driver against a scripted stand-in for a browser: an
//! [`Executor`] that, instead of pages, writes into the [`RunState`] the
//! reports a page would send. (A mock beside the real browsers: the same
//! driver runs every case of `harness/tests/e2e_*.rs` in all three engines;
//! here each way a case can go wrong is made to happen on purpose.)
//!
//! Expected observations are written from the case: `top` posts "m" to
//! its cross-site frame `kid`, so `kid` gets one message from `top` with
//! origin `http://a.test` and `top` gets nothing.

use super::*;
use crate::case_files::LoadedCase;
use pmconf_model::{Delivery, PostOutcome};

const CASE: &str = r#"
description: top posts to its frame
windows:
  top: { url: "http://a.test/" }
  kid: { parent: top, url: "http://b.test/" }
steps:
  - post: { from: top, to: kid, message: "m", target_origin: "*" }
"#;

/// What the stand-in browser does wrong, if anything.
#[derive(Default, Clone)]
struct Faults {
    /// Windows whose agent never reports `ready`.
    never_ready: Vec<&'static str>,
    /// `kid`'s last report (`bye`) says it got this many messages.
    bye_announces: Option<u64>,
    /// The message is never reported.
    lose_message: bool,
    /// No end-of-case marker arrives.
    no_markers: bool,
    /// The task's WebDriver command or channel fails outright.
    command_fails: bool,
    /// The agent answers the step with a harness error.
    harness_error: Option<&'static str>,
    /// The agent answers that the step threw.
    threw: Option<&'static str>,
}

struct Scripted {
    state: Arc<RunState>,
    windows: Vec<&'static str>,
    faults: Faults,
    /// Calls made, in order, to check the driver's sequence.
    calls: Vec<String>,
}

impl Scripted {
    fn report(&self, event: Json) {
        self.state.record_report(&event);
    }
}

impl Executor for Scripted {
    async fn open_runner(&mut self, _: &RunState) -> Result<(), CmdError> {
        self.calls.push("open_runner".into());
        Ok(())
    }

    async fn mount(&mut self, mounts: Json) -> Result<Json, CmdError> {
        self.calls.push("mount".into());
        let mut slots = Vec::new();
        for (i, m) in mounts.as_array().unwrap().iter().enumerate() {
            let prefix = m[0].as_str().unwrap();
            for (w, name) in self.windows.iter().enumerate() {
                if !self.faults.never_ready.contains(name) {
                    self.report(
                        json!({"kind": "ready", "key": format!("{prefix}/{w}"), "doc": name}),
                    );
                }
            }
            slots.push(json!([i, format!("slot{i}"), false, null]));
        }
        Ok(Json::Array(slots))
    }

    async fn open_top_levels(&mut self, _: &[Running]) -> Result<(), CmdError> {
        Ok(())
    }

    async fn windows_ready(&mut self, _: &[Running]) -> Result<(), CmdError> {
        self.calls.push("windows_ready".into());
        Ok(())
    }

    async fn run_task(
        &mut self,
        _: &RunState,
        r: &Running,
        task: Task<'_>,
    ) -> Result<Result<Vec<StepResult>, Observation>, CmdError> {
        self.calls
            .push(format!("task {:?} in {}", task.indices, task.doc));
        if self.faults.command_fails {
            return Err(CmdError::WaitTimeout);
        }
        let f = self.faults.clone();
        let delivered = !f.lose_message && f.threw.is_none();
        if delivered {
            self.report(json!({
                "kind": "message", "key": r.key(1), "doc": "kid", "seq": 0,
                "delivery": {"message": "m", "origin": "http://a.test", "source": "top"}
            }));
        }
        if let Some(n) = f.bye_announces {
            self.report(json!({
                "kind": "bye", "key": r.key(1), "doc": "kid",
                "counts": [[r.key(1), "kid", n]], "reports": []
            }));
        }
        if task.markers.is_some() && !f.no_markers {
            for (w, senders) in &r.markers.expect {
                for from in senders {
                    self.report(json!({
                        "kind": "marker", "key": r.key(*w), "doc": self.windows[*w],
                        "from": from, "seen": u64::from(*w == 1 && delivered)
                    }));
                }
            }
        }
        let result = json!({
            "threw": f.threw,
            "message": f.threw.map(|_| "the step threw"),
            "harnessError": f.harness_error,
        });
        Ok(Ok(StepResult::list(&json!([result])).unwrap()))
    }

    async fn reset(
        &mut self,
        _: &Running,
        _: WindowIndex,
        _: &AgentConfig,
        _: &[Path],
    ) -> Result<Result<StepResult, Observation>, CmdError> {
        unreachable!("no reuse in these tests")
    }

    async fn where_is(&mut self, _: &Running, w: WindowIndex) -> String {
        format!(
            "; `{}` is at chrome-error://chromewebdata/",
            self.windows[w]
        )
    }

    async fn cleanup(&mut self, _: &[Running], keep: &[&str], _: usize) {
        self.calls.push(format!("cleanup keeping {}", keep.len()));
    }
}

fn pacing() -> Pacing {
    Pacing {
        ready_timeout: Duration::from_millis(300),
        report_timeout: Duration::from_millis(300),
        ..Pacing::default()
    }
}

async fn observe(faults: Faults) -> (Observation, Vec<String>) {
    let case = pmconf_model::parse_case("t.yaml", CASE).unwrap();
    let loaded = LoadedCase {
        path: "t.yaml".into(),
        name: "t.yaml".into(),
        case,
    };
    let plan = Arc::new(CasePlan::new(1, 0, &loaded));
    let state = RunState::new("m:".into());
    let mut browser = Scripted {
        state: state.clone(),
        windows: vec!["top", "kid"],
        faults,
        calls: Vec::new(),
    };
    let mut observed = run_batch(&mut browser, "chromium", &[plan], &state, &pacing()).await;
    assert_eq!(observed.len(), 1);
    (observed.remove(0), browser.calls)
}

fn inconclusive(o: Observation) -> String {
    match o {
        Observation::Inconclusive(why) => why,
        other => panic!("expected inconclusive, got {other:?}"),
    }
}

#[tokio::test]
async fn a_case_that_runs_is_observed_as_its_windows_reported_it() {
    let (o, calls) = observe(Faults::default()).await;
    let Observation::Observed(outcome) = o else {
        panic!("{o:?}");
    };
    assert_eq!(
        outcome.posts,
        vec![PostOutcome {
            step: 0,
            threw: None
        }]
    );
    let kid = Delivery {
        message: json!("m"),
        origin: "http://a.test".into(),
        source: Some("top".into()),
        ports: vec![],
    };
    assert_eq!(
        outcome.received,
        vec![("top".to_owned(), vec![]), ("kid".to_owned(), vec![kid])]
    );
    // Mounted, checked ready, one task in top's document, then cleaned up.
    assert_eq!(
        calls,
        [
            "mount",
            "windows_ready",
            "task [0] in top",
            "cleanup keeping 0"
        ]
    );
}

#[tokio::test]
async fn a_window_that_never_runs_the_agent_is_named_with_where_it_is() {
    let (o, calls) = observe(Faults {
        never_ready: vec!["kid"],
        ..Faults::default()
    })
    .await;
    assert_eq!(
        inconclusive(o),
        "window kid never ran pmconf's agent (page failed to load, or loaded an error page); \
         `kid` is at chrome-error://chromewebdata/"
    );
    assert!(!calls.iter().any(|c| c.starts_with("task")), "{calls:?}");
}

#[tokio::test]
async fn a_bye_announcing_more_messages_than_were_reported_is_a_lost_report() {
    let (o, _) = observe(Faults {
        bye_announces: Some(2),
        ..Faults::default()
    })
    .await;
    assert_eq!(
        inconclusive(o),
        "document kid: a message report was lost (got numbers [0])"
    );
}

#[tokio::test]
async fn a_bye_that_agrees_with_the_reports_changes_nothing() {
    let (o, _) = observe(Faults {
        bye_announces: Some(1),
        ..Faults::default()
    })
    .await;
    assert!(matches!(o, Observation::Observed(_)), "{o:?}");
}

#[tokio::test]
async fn missing_markers_mean_the_case_did_not_finish_never_nothing_received() {
    let (o, _) = observe(Faults {
        no_markers: true,
        lose_message: true,
        ..Faults::default()
    })
    .await;
    let why = inconclusive(o);
    assert!(
        why.starts_with("no end-of-case marker reached ") && why.contains("kid"),
        "{why}"
    );
}

#[tokio::test]
async fn a_failed_command_is_an_internal_error_naming_the_way_tasks_went() {
    let (o, calls) = observe(Faults {
        command_fails: true,
        ..Faults::default()
    })
    .await;
    match o {
        Observation::InternalError(why) => assert!(why.starts_with("Channel: "), "{why}"),
        other => panic!("{other:?}"),
    }
    // The batch's windows are still cleaned up.
    assert_eq!(calls.last().unwrap(), "cleanup keeping 0");
}

#[tokio::test]
async fn an_agent_harness_error_is_an_internal_error_of_that_step() {
    let (o, _) = observe(Faults {
        harness_error: Some("no window kid"),
        ..Faults::default()
    })
    .await;
    match o {
        Observation::InternalError(why) => assert_eq!(why, "step 0: no window kid"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_post_that_threw_is_observed_with_its_exception_and_no_message() {
    let (o, _) = observe(Faults {
        threw: Some("SyntaxError"),
        ..Faults::default()
    })
    .await;
    let Observation::Observed(outcome) = o else {
        panic!("{o:?}");
    };
    assert_eq!(outcome.posts[0].threw.as_deref(), Some("SyntaxError"));
    assert!(outcome.received.iter().all(|(_, d)| d.is_empty()));
}
