//! What changed between two nights: per engine how many results improved,
//! regressed or changed, then each change with its kind and its cause.

use super::order::{engine_rank, in_engine_order};
use super::results::ResultsFile;
use super::status::{model_answer, observation, CaseStatus, Status};
use crate::known::KnownDivergences;
use crate::run::events::SnapshotStatus;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The digest of each case file on a night, by case path (see
/// [`crate::nightly::history::case_digests`]).
pub type Digests = BTreeMap<String, String>;

/// Case file digests per engine: in a history each engine's results come
/// from the last night it took part in, which may differ between engines.
pub type EngineDigests = BTreeMap<String, Digests>;

/// What kind of change a result went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// Conformed or was contested, now diverges.
    Regression,
    /// Concluded, now does not (inconclusive, internal error...).
    Unconcluded,
    /// Same status, but the snapshot no longer matches the accepted one
    /// (the engine saw another outcome, or the accepted snapshot changed):
    /// not a regression, the verdict stayed.
    BecameUnexpected,
    /// Was not flaky, now is.
    BecameFlaky,
    /// Diverged, now conforms or is contested.
    Fix,
    /// Did not conclude, now does.
    Concluded,
    /// Same status, and the snapshot matches again.
    ExpectedAgain,
    /// Was flaky, now is not.
    StoppedFlaky,
    /// Diverges still, with other forbidden outcomes.
    ChangedDivergence,
    /// Conformed, now contested (saw an outcome an open issue of the HTML
    /// Standard leaves open): neither a regression nor a fix.
    BecameContested,
    /// Was contested, now conforms: neither a fix nor a regression.
    NoLongerContested,
    /// A result the old night did not have.
    Added,
    /// A result the new night does not have.
    Removed,
}

impl ChangeKind {
    /// Every kind, in report order.
    pub const ALL: [ChangeKind; 13] = [
        ChangeKind::Regression,
        ChangeKind::Unconcluded,
        ChangeKind::BecameUnexpected,
        ChangeKind::BecameFlaky,
        ChangeKind::Fix,
        ChangeKind::Concluded,
        ChangeKind::ExpectedAgain,
        ChangeKind::StoppedFlaky,
        ChangeKind::ChangedDivergence,
        ChangeKind::BecameContested,
        ChangeKind::NoLongerContested,
        ChangeKind::Added,
        ChangeKind::Removed,
    ];

    /// Its words, e.g. `regression`, `became flaky`.
    pub fn words(self) -> &'static str {
        match self {
            ChangeKind::Regression => "regression",
            ChangeKind::Unconcluded => "no longer concludes",
            ChangeKind::BecameUnexpected => "snapshot no longer matches",
            ChangeKind::ExpectedAgain => "snapshot matches again",
            ChangeKind::BecameFlaky => "became flaky",
            ChangeKind::Fix => "fix",
            ChangeKind::Concluded => "concludes again",
            ChangeKind::StoppedFlaky => "stopped being flaky",
            ChangeKind::ChangedDivergence => "changed divergence",
            ChangeKind::BecameContested => "became contested",
            ChangeKind::NoLongerContested => "no longer contested",
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
        }
    }

    /// Which of the per-engine counts it adds to.
    pub fn direction(self) -> Direction {
        match self {
            ChangeKind::Regression | ChangeKind::Unconcluded | ChangeKind::BecameFlaky => {
                Direction::Regressed
            }
            ChangeKind::Fix | ChangeKind::Concluded | ChangeKind::StoppedFlaky => {
                Direction::Improved
            }
            // The verdict stayed: only the comparison with the accepted
            // snapshot changed.
            ChangeKind::BecameUnexpected
            | ChangeKind::ExpectedAgain
            | ChangeKind::ChangedDivergence
            | ChangeKind::BecameContested
            | ChangeKind::NoLongerContested
            | ChangeKind::Added
            | ChangeKind::Removed => Direction::Changed,
        }
    }
}

/// Whether a change is for the better, the worse, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Fixes, conclusions, flakiness gone.
    Improved,
    /// Regressions, lost conclusions, new flakiness.
    Regressed,
    /// Neither: other divergences, conforms <-> contested, results added
    /// or removed, a snapshot that stopped or started matching while the
    /// verdict stayed.
    Changed,
}

/// Why a result changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cause", rename_all = "kebab-case")]
pub enum Cause {
    /// The engine's version changed.
    EngineVersion {
        /// The old night's version.
        from: Option<String>,
        /// The new night's version.
        to: Option<String>,
    },
    /// The model's answer (the allowed outcomes) changed.
    ModelAnswer,
    /// The case file changed (its digest, or else its description), or
    /// the case was added or removed.
    CaseFile,
    /// The engine observed what it observed before, but the comparison
    /// with the accepted snapshot changed: the accepted snapshot was
    /// edited, accepted or rejected in between.
    AcceptedSnapshot,
    /// Same engine, model, case and accepted snapshot: nondeterminism or
    /// the environment.
    Unexplained,
}

impl Cause {
    /// Its words, e.g. `engine version 130.0 -> 131.0`.
    pub fn words(&self) -> String {
        match self {
            Cause::EngineVersion { from, to } => format!(
                "engine version {} -> {}",
                from.as_deref().unwrap_or("?"),
                to.as_deref().unwrap_or("?")
            ),
            Cause::ModelAnswer => "model answer changed".into(),
            Cause::CaseFile => "case file changed".into(),
            Cause::AcceptedSnapshot => {
                "accepted snapshot changed (the engine saw what it saw before)".into()
            }
            Cause::Unexplained => {
                "same engine, model and case (nondeterminism or environment)".into()
            }
        }
    }
}

/// One result's change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The engine.
    pub engine: String,
    /// The case.
    pub case: String,
    /// What changed.
    pub kind: ChangeKind,
    /// The old status, if the old night had the result.
    pub from: Option<CaseStatus>,
    /// The new status, if the new night has it.
    pub to: Option<CaseStatus>,
    /// Why, as far as can be told; at least one.
    pub causes: Vec<Cause>,
    /// The known-divergence link, when the metadata has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known: Option<String>,
    /// The new night's snapshot diff (accepted to observed), when its
    /// snapshot changed, as people read it ([`for_people`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_diff: Option<String>,
}

impl Change {
    /// `conforms -> diverges`, `(none) -> conforms`.
    pub fn transition(&self) -> String {
        let label = |s: &Option<CaseStatus>| s.as_ref().map_or("(none)".into(), CaseStatus::label);
        format!("{} -> {}", label(&self.from), label(&self.to))
    }
}

/// One engine's counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineDelta {
    /// The engine.
    pub engine: String,
    /// Its version on the old night.
    pub from_version: Option<String>,
    /// Its version on the new night.
    pub to_version: Option<String>,
    /// Changes for the better.
    pub improved: usize,
    /// Changes for the worse.
    pub regressed: usize,
    /// Other changes.
    pub changed: usize,
    /// Why its results are not compared: it took part on one side only
    /// (with the setup failure, or the reason it was absent). Its cases
    /// are then not listed one by one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_compared: Option<String>,
}

/// Two nights compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NightDiff {
    /// The old night (its path).
    pub old: String,
    /// The new night (its path).
    pub new: String,
    /// Per engine counts, in engine order.
    pub engines: Vec<EngineDelta>,
    /// Every change, regressions first, then in engine order and by case.
    pub changes: Vec<Change>,
}

impl NightDiff {
    /// Whether any change is a regression (counted as regressed).
    pub fn has_regression(&self) -> bool {
        self.engines.iter().any(|e| e.regressed > 0)
    }

    /// Whether anything changed at all.
    pub fn has_change(&self) -> bool {
        !self.changes.is_empty()
    }
}

/// The two sides, with the case digests when known.
pub struct Side<'a> {
    /// The results.
    pub results: &'a ResultsFile,
    /// Case file digests per engine, when known.
    pub digests: Option<&'a EngineDigests>,
    /// What to call it in reports (a path or a night id).
    pub name: String,
}

/// Compares `old` with `new`.
pub fn diff(old: &Side, new: &Side, known: &KnownDivergences) -> NightDiff {
    let engines = in_engine_order(
        new.results
            .engine_names()
            .into_iter()
            .chain(old.results.engine_names()),
    );
    let mut changes = Vec::new();
    let mut deltas = Vec::new();
    for engine in engines {
        let mut cases: Vec<&str> = old
            .results
            .results
            .iter()
            .chain(&new.results.results)
            .filter(|r| r.engine == engine)
            .map(|r| r.case.as_str())
            .collect();
        cases.sort_unstable();
        cases.dedup();
        let mut delta = EngineDelta {
            engine: engine.to_owned(),
            from_version: old.results.browser_version(engine).map(String::from),
            to_version: new.results.browser_version(engine).map(String::from),
            improved: 0,
            regressed: 0,
            changed: 0,
            not_compared: None,
        };
        let missing = [(old, "old"), (new, "new")]
            .into_iter()
            .find(|(side, _)| !side.results.engines_with_results().contains(&engine));
        if let Some((side, which)) = missing {
            let why = side
                .results
                .setup_failures
                .iter()
                .find(|f| f.engine == engine)
                .map_or(String::new(), |f| format!(": setup failed: {}", f.error));
            delta.not_compared = Some(format!("not run on the {which} night ({}){why}", side.name));
            deltas.push(delta);
            continue;
        }
        for case in cases {
            let Some(change) = classify(old, new, engine, case, known) else {
                continue;
            };
            match change.kind.direction() {
                Direction::Improved => delta.improved += 1,
                Direction::Regressed => delta.regressed += 1,
                Direction::Changed => delta.changed += 1,
            }
            changes.push(change);
        }
        deltas.push(delta);
    }
    changes.sort_by(|a, b| {
        (a.kind, engine_rank(&a.engine), &a.case).cmp(&(b.kind, engine_rank(&b.engine), &b.case))
    });
    NightDiff {
        old: old.name.clone(),
        new: new.name.clone(),
        engines: deltas,
        changes,
    }
}

fn classify(
    old: &Side,
    new: &Side,
    engine: &str,
    case: &str,
    known: &KnownDivergences,
) -> Option<Change> {
    let before = old.results.result(engine, case);
    let after = new.results.result(engine, case);
    let from = before.map(CaseStatus::of);
    let to = after.map(CaseStatus::of);
    let kind = match (&from, &to) {
        (None, None) => return None,
        (None, Some(_)) => ChangeKind::Added,
        (Some(_), None) => ChangeKind::Removed,
        (Some(f), Some(t)) => match (&f.status, &t.status) {
            (Status::Conforms | Status::Contested, Status::Diverges { .. }) => {
                ChangeKind::Regression
            }
            (Status::Diverges { .. }, Status::Conforms | Status::Contested) => ChangeKind::Fix,
            (Status::Conforms, Status::Contested) => ChangeKind::BecameContested,
            (Status::Contested, Status::Conforms) => ChangeKind::NoLongerContested,
            (Status::Diverges { divergence: a }, Status::Diverges { divergence: b }) if a != b => {
                ChangeKind::ChangedDivergence
            }
            (a, b) if a.concluded() && !b.concluded() => ChangeKind::Unconcluded,
            (a, b) if !a.concluded() && b.concluded() => ChangeKind::Concluded,
            (a, b) if a != b => ChangeKind::Unconcluded,
            _ if !f.unexpected && t.unexpected => ChangeKind::BecameUnexpected,
            _ if f.unexpected && !t.unexpected => ChangeKind::ExpectedAgain,
            _ if !f.flaky && t.flaky => ChangeKind::BecameFlaky,
            _ if f.flaky && !t.flaky => ChangeKind::StoppedFlaky,
            _ => return None,
        },
    };
    let mut causes = Vec::new();
    match (before, after) {
        (Some(b), Some(a)) => {
            let (vf, vt) = (
                old.results.browser_version(engine),
                new.results.browser_version(engine),
            );
            if vf != vt {
                causes.push(Cause::EngineVersion {
                    from: vf.map(String::from),
                    to: vt.map(String::from),
                });
            }
            if model_answer(b) != model_answer(a) {
                causes.push(Cause::ModelAnswer);
            }
            let digest_changed = match (
                old.digests.and_then(|d| d.get(engine)),
                new.digests.and_then(|d| d.get(engine)),
            ) {
                (Some(d1), Some(d2)) => d1.get(case) != d2.get(case),
                _ => b.description != a.description,
            };
            if digest_changed {
                causes.push(Cause::CaseFile);
            }
            let snapshot_only = matches!(
                kind,
                ChangeKind::BecameUnexpected | ChangeKind::ExpectedAgain
            );
            if snapshot_only && observation(b) == observation(a) {
                causes.push(Cause::AcceptedSnapshot);
            }
        }
        _ => causes.push(Cause::CaseFile),
    }
    if causes.is_empty() {
        causes.push(Cause::Unexplained);
    }
    Some(Change {
        engine: engine.to_owned(),
        case: case.to_owned(),
        kind,
        from,
        to,
        causes,
        known: known.lookup(engine, case).map(|k| k.link_text()),
        snapshot_diff: after.and_then(|a| match &a.snapshot {
            SnapshotStatus::Changed { diff, .. } => Some(for_people(diff)),
            _ => None,
        }),
    })
}

/// A unified diff as people read it: without the `\ No newline at end
/// of file` lines diff tools add (a snapshot's last line break says
/// nothing about the engine).
pub fn for_people(diff: &str) -> String {
    diff.lines()
        .filter(|line| !line.starts_with("\\ "))
        .map(|line| format!("{line}\n"))
        .collect()
}
