//! What each result asks of the person reading a report: the one place
//! that sorts result kinds into "needs action", "shown apart" and "as
//! expected", so that every report groups, orders and colours them alike.
//!
//! A new kind of result (a verdict or snapshot status) gets its arm in
//! [`Attention::of`]: a result that fails the run becomes an [`Action`]; one
//! that does not fail it but deserves a look (a flaky result, an outcome
//! allowed only under an open spec issue) gets an [`Attention`] of its own,
//! shown in its own section, never as a failure.

use crate::run::events::{CaseResult, ModelSnapshotResult, SnapshotStatus};
use crate::run::verdict::Verdict;

/// What a result asks of the reader, most urgent first (the order of
/// sections in a report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Attention {
    /// It fails the run: someone must look and act.
    NeedsAction(Action),
    /// Unexpected at first, as expected when run again: it passes, and is
    /// listed with what the earlier attempts saw.
    Flaky,
    /// Only outcomes the model allows or holds contested (an open issue of
    /// the HTML Standard), at least one contested: shown apart with the
    /// issue, never as a failure.
    Contested,
    /// It diverges from the model, as its accepted snapshot says: an
    /// *accepted* divergence. (*Known* is kept for what
    /// `known-divergences.yaml` links to a filed bug.)
    AcceptedDivergence,
    /// It conforms, as its accepted snapshot says.
    Pass,
}

/// Why a result needs action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// The observation differs from the accepted snapshot, whatever the
    /// verdict: a conforming result whose snapshot changed needs action as
    /// much as a new divergence.
    SnapshotChanged,
    /// No snapshot was accepted yet: a new case, to review.
    NewSnapshot,
    /// Nothing could be concluded (a page did not load in time).
    Inconclusive,
    /// The harness itself failed.
    InternalError,
    /// The engine's session died under the case twice (browser or driver
    /// crashed or hung).
    Crashed,
}

impl Attention {
    /// What `result` asks of the reader. Agrees with
    /// [`CaseResult::is_unexpected`]: a result needs action exactly when
    /// it fails the run.
    pub fn of(result: &CaseResult) -> Self {
        match (&result.verdict, &result.snapshot) {
            (Verdict::Inconclusive { .. }, _) => Self::NeedsAction(Action::Inconclusive),
            (Verdict::InternalError { .. }, _) => Self::NeedsAction(Action::InternalError),
            (Verdict::Crashed { .. }, _) => Self::NeedsAction(Action::Crashed),
            (
                Verdict::Conforms | Verdict::Diverges | Verdict::Contested,
                SnapshotStatus::Changed { .. },
            ) => Self::NeedsAction(Action::SnapshotChanged),
            (
                Verdict::Conforms | Verdict::Diverges | Verdict::Contested,
                SnapshotStatus::New { .. },
            ) => Self::NeedsAction(Action::NewSnapshot),
            _ if result.is_flaky() => Self::Flaky,
            (Verdict::Contested, _) => Self::Contested,
            (Verdict::Diverges, _) => Self::AcceptedDivergence,
            (Verdict::Conforms, _) => Self::Pass,
        }
    }

    /// Whether the result fails the run.
    pub fn needs_action(self) -> bool {
        matches!(self, Self::NeedsAction(_))
    }

    /// The CSS classes of the result's cells: `x-<attention>`, and for an
    /// action `x-action a-<action>`.
    pub fn css_classes(self) -> String {
        match self {
            Self::NeedsAction(action) => format!("x-action a-{}", action.slug()),
            Self::Flaky => "x-flaky".to_owned(),
            Self::Contested => "x-contested".to_owned(),
            Self::AcceptedDivergence => "x-accepted".to_owned(),
            Self::Pass => "x-pass".to_owned(),
        }
    }

    /// A few words for a legend: what the colour means.
    pub fn legend(self) -> &'static str {
        match self {
            Self::NeedsAction(Action::NewSnapshot) => {
                "new snapshot: a new case to review (fails the run until accepted)"
            }
            Self::NeedsAction(_) => "needs action: fails the run",
            Self::Flaky => "flaky: unexpected at first, as expected when run again",
            Self::Contested => {
                "contested: an outcome an open issue of the HTML Standard leaves open"
            }
            Self::AcceptedDivergence => {
                "accepted divergence: diverges, as its accepted snapshot says"
            }
            Self::Pass => "conforms, as its accepted snapshot says",
        }
    }
}

impl Action {
    /// A name usable in CSS classes and anchors.
    pub fn slug(self) -> &'static str {
        match self {
            Self::SnapshotChanged => "changed",
            Self::NewSnapshot => "new",
            Self::Inconclusive => "inconclusive",
            Self::InternalError => "internal-error",
            Self::Crashed => "crashed",
        }
    }

    /// What the result is, in words: `conforms, snapshot changed`,
    /// `new snapshot (review it)`...
    pub fn describe(self, result: &CaseResult) -> String {
        match self {
            Self::SnapshotChanged => format!("{}, snapshot changed", result.verdict.name()),
            Self::NewSnapshot if result.verdict == Verdict::Conforms => {
                "conforms, new snapshot (review it)".to_owned()
            }
            Self::NewSnapshot => format!("{}, new snapshot (review it)", result.verdict.name()),
            Self::Inconclusive => "inconclusive".to_owned(),
            Self::InternalError => "internal error".to_owned(),
            Self::Crashed => "crashed".to_owned(),
        }
    }

    /// What to do about it.
    pub fn what_to_do(self) -> &'static str {
        match self {
            Self::SnapshotChanged => {
                "the engine (or the model) changed: review the pending snapshot; accept it if the \
                 new behaviour is right, else report the regression"
            }
            Self::NewSnapshot => {
                "no accepted snapshot yet: review the pending one with `pmconf review`"
            }
            Self::Inconclusive => {
                "nothing was concluded: read the reason, then run the case again alone"
            }
            Self::InternalError => "the harness failed: read the reason and report it",
            Self::Crashed => {
                "the engine's session died under this case twice: read the reason and the engine's \
                 last log lines, then run the case alone"
            }
        }
    }
}

/// The words for a model snapshot that needs action (`model snapshot new
/// (review it)`), or `None` when it does not fail the run.
pub fn describe_model_snapshot(m: &ModelSnapshotResult) -> Option<&'static str> {
    match m.snapshot {
        SnapshotStatus::New { .. } => Some("model snapshot new (review it)"),
        SnapshotStatus::Changed { .. } => Some("model snapshot changed (review it)"),
        _ => None,
    }
}

/// What to do about a pending model snapshot.
pub const MODEL_SNAPSHOT_TODO: &str =
    "the model's answer is new or changed: review it with `pmconf review` (it is shown first for its case); accept it if the standards say so";

/// The model snapshots that need action, by case path.
pub fn pending_model_snapshots(
    record: &super::record::RunRecord,
) -> Vec<(&ModelSnapshotResult, &'static str)> {
    let mut out: Vec<_> = record
        .model_snapshots
        .iter()
        .filter_map(|m| describe_model_snapshot(m).map(|d| (m, d)))
        .collect();
    out.sort_by(|a, b| a.0.case.cmp(&b.0.case));
    out
}

/// `results` in report order: those that need action first, then by case
/// path, then by engine in `engines` order (unknown engines last), so that
/// a report never depends on which engine finished first.
pub fn report_order<'a>(results: &[&'a CaseResult], engines: &[&str]) -> Vec<&'a CaseResult> {
    let mut sorted = results.to_vec();
    let engine_rank = |e: &str| engines.iter().position(|x| *x == e).unwrap_or(usize::MAX);
    sorted.sort_by(|a, b| {
        let key = |r: &CaseResult| (!Attention::of(r).needs_action(), engine_rank(&r.engine));
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0)
            .then_with(|| a.case.cmp(&b.case))
            .then(ka.1.cmp(&kb.1))
            .then_with(|| a.engine.cmp(&b.engine))
    });
    sorted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::events::EarlierAttempt;

    fn changed() -> SnapshotStatus {
        SnapshotStatus::Changed {
            pending: "p".into(),
            diff: "d".into(),
        }
    }

    fn new() -> SnapshotStatus {
        SnapshotStatus::New {
            pending: "p".into(),
        }
    }

    fn every_kind() -> Vec<CaseResult> {
        let mut all = Vec::new();
        let verdicts = [
            Verdict::Conforms,
            Verdict::Diverges,
            Verdict::Inconclusive { reason: "r".into() },
            Verdict::InternalError { reason: "r".into() },
        ];
        let statuses = [
            SnapshotStatus::Matched,
            new(),
            changed(),
            SnapshotStatus::Accepted,
            SnapshotStatus::NotCompared,
        ];
        for verdict in &verdicts {
            for status in &statuses {
                let result = CaseResult::bare("e", "c", verdict.clone(), status.clone());
                let mut retried = result.clone();
                retried.earlier_attempts = vec![EarlierAttempt {
                    verdict: verdict.clone(),
                    runs: 1,
                    histogram: vec![],
                    snapshot: changed(),
                }];
                all.push(result);
                all.push(retried);
            }
        }
        all
    }

    #[test]
    fn a_result_needs_action_exactly_when_it_fails_the_run() {
        for r in every_kind() {
            assert_eq!(
                Attention::of(&r).needs_action(),
                r.is_unexpected(),
                "{:?} {:?} retried: {}",
                r.verdict,
                r.snapshot,
                !r.earlier_attempts.is_empty()
            );
        }
    }

    #[test]
    fn a_conforming_result_whose_snapshot_changed_is_no_pass() {
        let r = CaseResult::bare("e", "c", Verdict::Conforms, changed());
        assert_eq!(
            Attention::of(&r),
            Attention::NeedsAction(Action::SnapshotChanged)
        );
        assert_eq!(
            Action::SnapshotChanged.describe(&r),
            "conforms, snapshot changed"
        );
        let fresh = CaseResult::bare("e", "c", Verdict::Conforms, new());
        assert_eq!(
            Action::NewSnapshot.describe(&fresh),
            "conforms, new snapshot (review it)"
        );
        let known = CaseResult::bare("e", "c", Verdict::Diverges, SnapshotStatus::Matched);
        assert_eq!(Attention::of(&known), Attention::AcceptedDivergence);
        assert_eq!(Attention::of(&known).css_classes(), "x-accepted");
        assert_eq!(
            Attention::of(&r).css_classes(),
            "x-action a-changed",
            "an unexpected conforming result has no pass colour"
        );
    }

    #[test]
    fn flaky_results_are_shown_apart_and_pass() {
        let mut r = CaseResult::bare("e", "c", Verdict::Conforms, SnapshotStatus::Matched);
        r.earlier_attempts = vec![EarlierAttempt {
            verdict: Verdict::Diverges,
            runs: 5,
            histogram: vec![],
            snapshot: changed(),
        }];
        assert_eq!(Attention::of(&r), Attention::Flaky);
        assert!(Attention::Flaky < Attention::AcceptedDivergence);
        assert!(Attention::NeedsAction(Action::InternalError) < Attention::Flaky);
    }

    #[test]
    fn report_order_puts_needs_action_first_then_case_then_engine() {
        let r = |engine: &str, case: &str, status: SnapshotStatus| {
            CaseResult::bare(engine, case, Verdict::Conforms, status)
        };
        // In the order engines happened to finish.
        let results = [
            r("firefox", "b.yaml", SnapshotStatus::Matched),
            r("chromium", "b.yaml", SnapshotStatus::Matched),
            r("firefox", "z.yaml", changed()),
            r("chromium", "a.yaml", SnapshotStatus::Matched),
            r("chromium", "z.yaml", new()),
            r("other", "a.yaml", SnapshotStatus::Matched),
        ];
        let refs: Vec<&CaseResult> = results.iter().collect();
        let order: Vec<(&str, &str)> = report_order(&refs, &["chromium", "firefox"])
            .into_iter()
            .map(|r| (r.engine.as_str(), r.case.as_str()))
            .collect();
        assert_eq!(
            order,
            [
                ("chromium", "z.yaml"),
                ("firefox", "z.yaml"),
                ("chromium", "a.yaml"),
                ("other", "a.yaml"),
                ("chromium", "b.yaml"),
                ("firefox", "b.yaml"),
            ]
        );
    }
}
